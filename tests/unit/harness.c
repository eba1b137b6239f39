// SPDX-License-Identifier: GPL-2.0
/*
 * The harness's runner: forks one child per registered case, kills it
 * after a timeout, prints "ok N - [variant] name (ms)" or "not ok ...",
 * and a closing "# variant: N passed, N failed". Usage:
 *	badbatch-unit [substring]	run the cases whose name contains it
 * UT_TIMEOUT (seconds, default 60) bounds each case.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#ifndef UT_VARIANT
#define UT_VARIANT "plain"
#endif

#define UT_MAX_TESTS	128

static struct {
	const char *name;
	ut_fn fn;
} ut_tests[UT_MAX_TESTS];
static int ut_count;

void ut_register(const char *name, ut_fn fn)
{
	if (ut_count == UT_MAX_TESTS) {
		fprintf(stderr, "too many tests\n");
		abort();
	}
	ut_tests[ut_count].name = name;
	ut_tests[ut_count].fn = fn;
	ut_count++;
}

void ut_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stdout, "#   FAIL %s:%d: %s\n", file, line, msg);
	fflush(stdout);
	_exit(1);
}

static void *ut_trampoline(void *arg)
{
	struct ut_thread *t = arg;

	t->fn(t->arg);
	return NULL;
}

void ut_thread_start(struct ut_thread *t, void (*fn)(void *), void *arg)
{
	int rc;

	t->fn = fn;
	t->arg = arg;
	rc = pthread_create(&t->tid, NULL, ut_trampoline, t);
	if (rc)
		ut_fail(__FILE__, __LINE__, "pthread_create: %s", strerror(rc));
}

void ut_thread_join(struct ut_thread *t)
{
	int rc = pthread_join(t->tid, NULL);

	if (rc)
		ut_fail(__FILE__, __LINE__, "pthread_join: %s", strerror(rc));
}

uint64_t ut_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void ut_yield(void)
{
	sched_yield();
}

/* Run one case in a child; 0 when it passed. */
static int ut_run_one(int i, unsigned int timeout, char *why, size_t len)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		alarm(timeout);
		ut_tests[i].fn();
		fflush(stdout);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			snprintf(why, len, "waitpid: %s", strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		snprintf(why, len, "timed out after %u s", timeout);
	else if (WIFSIGNALED(status))
		snprintf(why, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(why, len, "exit status %d", WEXITSTATUS(status));
	return -1;
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	const char *env = getenv("UT_TIMEOUT");
	unsigned int timeout = env ? (unsigned int)atoi(env) : 60;
	int i, n = 0, passed = 0, failed = 0;
	char why[128];

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < ut_count; i++)
		if (!filter || strstr(ut_tests[i].name, filter))
			n++;
	printf("1..%d\n", n);
	n = 0;
	for (i = 0; i < ut_count; i++) {
		uint64_t t0;
		int rc;

		if (filter && !strstr(ut_tests[i].name, filter))
			continue;
		n++;
		why[0] = 0;
		t0 = ut_now_ns();
		rc = ut_run_one(i, timeout ? timeout : 60, why, sizeof(why));
		t0 = (ut_now_ns() - t0) / 1000000;
		if (!rc) {
			passed++;
			printf("ok %d - [%s] %s (%llu ms)\n", n, UT_VARIANT,
			       ut_tests[i].name, (unsigned long long)t0);
		} else {
			failed++;
			printf("not ok %d - [%s] %s (%llu ms) %s\n", n,
			       UT_VARIANT, ut_tests[i].name,
			       (unsigned long long)t0, why);
		}
	}
	printf("# %s: %d passed, %d failed\n", UT_VARIANT, passed, failed);
	return failed ? 1 : 0;
}
