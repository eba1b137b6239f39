/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small test harness: TEST() registers a case, each case runs in a
 * forked child under a timeout, and the parent prints one TAP line per
 * case. CHECK*() may fail from any thread: it reports and ends the child
 * at once, so a failure never leaves a peer thread hanging.
 */
#ifndef _BADBATCH_UNIT_HARNESS_H
#define _BADBATCH_UNIT_HARNESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

typedef void (*ut_fn)(void);

void ut_register(const char *name, ut_fn fn);
__attribute__((noreturn, format(printf, 3, 4)))
void ut_fail(const char *file, int line, const char *fmt, ...);

#define TEST(name)							\
	static void ut_test_##name(void);				\
	__attribute__((constructor)) static void ut_reg_##name(void)	\
	{								\
		ut_register(#name, ut_test_##name);			\
	}								\
	static void ut_test_##name(void)

#define CHECK(cond)							\
	do {								\
		if (!(cond))						\
			ut_fail(__FILE__, __LINE__, "%s", #cond);	\
	} while (0)

#define CHECKF(cond, fmt, ...)						\
	do {								\
		if (!(cond))						\
			ut_fail(__FILE__, __LINE__, "%s: " fmt, #cond,	\
				__VA_ARGS__);				\
	} while (0)

/* Compare two integers, printing both on failure. */
#define CHECK_EQ(a, b)							\
	do {								\
		unsigned long long __a = (unsigned long long)(a);	\
		unsigned long long __b = (unsigned long long)(b);	\
		if (__a != __b)						\
			ut_fail(__FILE__, __LINE__,			\
				"%s == %s: %llu != %llu (%lld, %lld)",	\
				#a, #b, __a, __b, (long long)__a,	\
				(long long)__b);			\
	} while (0)

/*
 * Event counts for threaded tests: full size normally, smaller under the
 * sanitizers (UT_SCALE_DIV, set by the build) so all variants stay quick.
 */
#ifndef UT_SCALE_DIV
#define UT_SCALE_DIV 1
#endif
#define UT_N(n)	((n) / UT_SCALE_DIV > 0 ? (n) / UT_SCALE_DIV : 1)

/* Threads whose body is a void function (CHECK ends the process). */
struct ut_thread {
	pthread_t tid;
	void (*fn)(void *arg);
	void *arg;
};

void ut_thread_start(struct ut_thread *t, void (*fn)(void *), void *arg);
void ut_thread_join(struct ut_thread *t);

/* A small deterministic PRNG (xorshift64*), one state per thread. */
static inline uint64_t ut_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* The value a test writes for (seq, word) and checks when reading. */
static inline uint64_t ut_pattern(uint64_t seq, unsigned int word)
{
	uint64_t x = seq * 0x9E3779B97F4A7C15ULL + word + 1;

	x ^= x >> 31;
	return x * 0xBF58476D1CE4E5B9ULL;
}

uint64_t ut_now_ns(void);
void ut_yield(void);

#endif /* _BADBATCH_UNIT_HARNESS_H */
