/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What every benchmark program shares: the clock, pinning, workers that
 * are threads or processes over one shared control block, sample
 * statistics, and the one output format (a JSON object per line, one line
 * per repetition of one measurement; bench/report.py aggregates them).
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_MAX_WORKERS	8

#include <time.h>

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread, ns. */
uint64_t bench_thread_cpu_ns(void);

static inline void bench_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* Pin the calling thread to cpu % online CPUs; -1 leaves it alone. */
void bench_pin(int cpu);
int bench_ncpus(void);

/* Fatal error: print and exit 1. */
void bench_die(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));
#define BENCH_CHECK(expr)						\
	do {								\
		long __rc = (long)(expr);				\
		if (__rc < 0)						\
			bench_die("%s:%d: %s = %ld", __FILE__, __LINE__, \
				  #expr, __rc);				\
	} while (0)

/* Shared anonymous memory: seen by threads and by forked children. */
void *bench_shared_alloc(size_t len);

/*
 * Workers: n functions run as threads of this process or as forked
 * child processes (fork happens in order; each worker may wait for the
 * ones before it with bench_wait_ready()). The control block lives in
 * shared memory either way.
 */
typedef void (*bench_worker_fn)(void *arg, int index);

struct bench_ctl {
	volatile int ready[BENCH_MAX_WORKERS];
	volatile int go;
	volatile int stop;
	volatile int failed;
	uint64_t t_start, t_end[BENCH_MAX_WORKERS];
	uint64_t count[BENCH_MAX_WORKERS];
	uint64_t cpu_ns[BENCH_MAX_WORKERS];
	uint64_t aux[BENCH_MAX_WORKERS][4];
};

struct bench_workers {
	bool procs;
	int n;
	int pids[BENCH_MAX_WORKERS];
	void *threads;		/* pthread_t[n] */
};

struct bench_ctl *bench_ctl_new(void);
/* Start worker i; with wait_ready the caller waits until it set ready. */
void bench_spawn(struct bench_workers *w, bench_worker_fn fn, void *arg,
		 int index, struct bench_ctl *ctl, bool wait_ready);
/* Join every worker; a failed child marks ctl->failed. */
void bench_join(struct bench_workers *w, struct bench_ctl *ctl);
void bench_set_ready(struct bench_ctl *ctl, int index);
void bench_wait_go(struct bench_ctl *ctl);

/* Samples and statistics. */
int bench_cmp_u64(const void *a, const void *b);
int bench_cmp_double(const void *a, const void *b);
/* Sorts v in place; q in [0,1]. */
double bench_quantile(double *v, size_t n, double q);

/*
 * Output: one JSON line per repetition.
 *   bench_emit(suite, impl, params, metric, value, unit)
 * params is a JSON object body without braces, e.g. "\"wait\":\"yield\"".
 * The host and the mode (vm or native) come from the environment
 * (BENCH_ENV, default "native").
 */
void bench_emit(const char *suite, const char *impl, const char *params,
		const char *metric, double value, const char *unit);
/* Latency samples in ns: emits p50, p99, p99.9, max (and mean). */
void bench_emit_latency(const char *suite, const char *impl,
			const char *params, double *ns, size_t n);

/* Options shared by the programs. */
struct bench_opts {
	uint64_t events;	/* -n */
	int reps;		/* -r */
	const char *params;	/* -P extra params, JSON body */
};

/* A simple xorshift for jitter-free pseudo random sizes. */
static inline uint64_t bench_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/*
 * Sleep until absolute CLOCK_MONOTONIC time t (ns), then spin the rest
 * (spin) and return the clock read that ended the spin: a sender can
 * stamp its event with it instead of reading the clock once more.
 */
uint64_t bench_sleep_until(uint64_t t, bool spin);

#endif /* BENCH_COMMON_H */
