// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The shared helpers of the benchmark programs: see common.h. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

uint64_t bench_thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void bench_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

int bench_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

void bench_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || getenv("BENCH_NOPIN"))
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu % bench_ncpus(), &set);
	/* Not fatal: a cgroup may forbid it; the report says pinned. */
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

void *bench_shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		bench_die("mmap %zu: %s", len, strerror(errno));
	return p;
}

struct bench_ctl *bench_ctl_new(void)
{
	return bench_shared_alloc(sizeof(struct bench_ctl));
}

void bench_set_ready(struct bench_ctl *ctl, int index)
{
	__atomic_store_n(&ctl->ready[index], 1, __ATOMIC_RELEASE);
}

void bench_wait_go(struct bench_ctl *ctl)
{
	while (!__atomic_load_n(&ctl->go, __ATOMIC_ACQUIRE))
		sched_yield();
}

struct bench_thread_arg {
	bench_worker_fn fn;
	void *arg;
	int index;
};

static void *bench_thread(void *p)
{
	struct bench_thread_arg *a = p;

	a->fn(a->arg, a->index);
	free(a);
	return NULL;
}

void bench_spawn(struct bench_workers *w, bench_worker_fn fn, void *arg,
		 int index, struct bench_ctl *ctl, bool wait_ready)
{
	if (index >= BENCH_MAX_WORKERS)
		bench_die("too many workers");
	if (w->procs) {
		pid_t pid;

		fflush(NULL);
		pid = fork();
		if (pid < 0)
			bench_die("fork: %s", strerror(errno));
		if (pid == 0) {
			fn(arg, index);
			fflush(NULL);
			_exit(0);
		}
		w->pids[index] = pid;
	} else {
		struct bench_thread_arg *a = malloc(sizeof(*a));
		pthread_t *t;

		if (!w->threads)
			w->threads = calloc(BENCH_MAX_WORKERS, sizeof(pthread_t));
		t = w->threads;
		if (!a || !t)
			bench_die("oom");
		a->fn = fn;
		a->arg = arg;
		a->index = index;
		if (pthread_create(&t[index], NULL, bench_thread, a))
			bench_die("pthread_create");
	}
	if (index + 1 > w->n)
		w->n = index + 1;
	if (wait_ready)
		while (!__atomic_load_n(&ctl->ready[index], __ATOMIC_ACQUIRE)) {
			int st;

			/* A child that died before it was ready fails the run. */
			if (w->procs && waitpid(w->pids[index], &st, WNOHANG) > 0) {
				w->pids[index] = 0;
				bench_die("worker %d died before it was ready",
					  index);
			}
			if (__atomic_load_n(&ctl->failed, __ATOMIC_RELAXED))
				bench_die("worker %d failed to start", index);
			sched_yield();
		}
}

void bench_join(struct bench_workers *w, struct bench_ctl *ctl)
{
	int i, st;

	for (i = 0; i < w->n; i++) {
		if (w->procs) {
			if (!w->pids[i])
				continue;
			if (waitpid(w->pids[i], &st, 0) < 0 ||
			    !WIFEXITED(st) || WEXITSTATUS(st))
				ctl->failed = 1;
			w->pids[i] = 0;
		} else if (w->threads) {
			pthread_join(((pthread_t *)w->threads)[i], NULL);
		}
	}
	free(w->threads);
	w->threads = NULL;
	w->n = 0;
}

int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bench_quantile(double *v, size_t n, double q)
{
	size_t i;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp_double);
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

void bench_emit(const char *suite, const char *impl, const char *params,
		const char *metric, double value, const char *unit)
{
	const char *env = getenv("BENCH_ENV");

	printf("{\"suite\":\"%s\",\"impl\":\"%s\",\"env\":\"%s\","
	       "\"params\":{%s},\"metric\":\"%s\",\"value\":%.6g,"
	       "\"unit\":\"%s\"}\n",
	       suite, impl, env ? env : "native", params ? params : "",
	       metric, value, unit);
	fflush(stdout);
}

void bench_emit_latency(const char *suite, const char *impl,
			const char *params, double *ns, size_t n)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += ns[i];
	bench_emit(suite, impl, params, "p50", bench_quantile(ns, n, 0.50), "ns");
	bench_emit(suite, impl, params, "p99", bench_quantile(ns, n, 0.99), "ns");
	bench_emit(suite, impl, params, "p99.9", bench_quantile(ns, n, 0.999), "ns");
	bench_emit(suite, impl, params, "max", n ? ns[n - 1] : 0, "ns");
	bench_emit(suite, impl, params, "mean", n ? sum / (double)n : 0, "ns");
}

uint64_t bench_sleep_until(uint64_t t, bool spin)
{
	uint64_t now = bench_now_ns();

	/* Sleep while far away, spin the last 60 us for precision. */
	if (t > now + 60000) {
		uint64_t wake = t - 60000;
		struct timespec ts = { .tv_sec = (time_t)(wake / 1000000000ULL),
				       .tv_nsec = (long)(wake % 1000000000ULL) };

		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	if (!spin)
		return now;
	while ((now = bench_now_ns()) < t)
		bench_relax();
	return now;
}
