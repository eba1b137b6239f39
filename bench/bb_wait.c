// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The cost of waiting: CPU time idle consumers burn per strategy.
 *
 * Consumers attach (one following the cursor, or a pipeline of three:
 * the dependent ones wait on consumers, not on the producers: LMAX issue
 * 222), then nothing is published for 50 ms (to settle: spin phases end,
 * sleepers fall asleep) plus IDLE_MS; one event ends the wait. The
 * parent reads each consumer's CPU clock (thread or process) at the
 * start and the end of IDLE_MS: the figure is the mean CPU share of one
 * idle consumer (percent of a CPU), without the attach and the final
 * wakeup.
 * On memory rings BLOCK acts as SLEEP (no kernel to sleep in).
 *
 * System calls per event under load, and the wakeup latency of a
 * blocked consumer, come from bb-topo (kernel rings) and bb-lat -S
 * wakeup.
 *
 *   bb-wait [-m mem|shm|kernel] [-x thread|proc] [-w WAIT] [-c 1|3]
 *           [-t IDLE_MS] [-r REPS]
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bb.h"

struct run {
	const char *where, *xproc, *waitname;
	enum badbatch_wait wait;
	int ncons;
	uint64_t idle_ms;
	struct badbatch *ring;
	struct bench_ctl *ctl;
};

static void consumer(void *arg, int i)
{
	struct run *r = arg;
	struct badbatch_consumer *c;
	uint64_t limit;
	int rc;

	bench_pin(i + 1);
	c = bb_bench_consumer(r->ring, (uint32_t)i,
			      i ? 1ULL << (i - 1) : 0, r->wait);
	bench_set_ready(r->ctl, i);
	bench_wait_go(r->ctl);
	rc = badbatch_wait_for(c, &limit);
	if (rc)
		bench_die("wait_for: %s", strerror(-rc));
	r->ctl->t_end[i] = bench_now_ns();
	badbatch_advance(c, limit);
	badbatch_consumer_close(c);
}

static uint64_t cpu_clock(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts))
		bench_die("clock_gettime(cpu clock): %s", strerror(errno));
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct run *r = bench_shared_alloc(sizeof(*r));
	int opt, reps = 3, rep, i;
	char params[256];

	r->where = "mem";
	r->xproc = "thread";
	r->waitname = "block";
	r->ncons = 1;
	r->idle_ms = 500;
	while ((opt = getopt(argc, argv, "m:x:w:c:t:r:")) != -1) {
		switch (opt) {
		case 'm': r->where = optarg; break;
		case 'x': r->xproc = optarg; break;
		case 'w': r->waitname = optarg; break;
		case 'c': r->ncons = atoi(optarg) == 3 ? 3 : 1; break;
		case 't': r->idle_ms = strtoull(optarg, NULL, 0); break;
		case 'r': reps = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bb-wait [-m mem|shm|kernel] "
				"[-x thread|proc] [-w WAIT] [-c 1|3] "
				"[-t IDLE_MS] [-r REPS]\n");
			return 2;
		}
	}
	r->wait = bb_bench_wait(r->waitname);
	bb_bench_check_where(r->where, r->xproc);
	snprintf(params, sizeof(params),
		 "\"kind\":\"idle\",\"ring\":\"%s\",\"mode\":\"%s\","
		 "\"wait\":\"%s\",\"consumers\":%d,\"idle_ms\":%llu",
		 r->where, r->xproc, r->waitname, r->ncons,
		 (unsigned long long)r->idle_ms);
	for (rep = 0; rep < reps; rep++) {
		struct bench_workers w = { .procs = !strcmp(r->xproc, "proc") };
		struct badbatch_producer *p;
		uint64_t seq, t0, cpu = 0, c0[BENCH_MAX_WORKERS];
		clockid_t clk[BENCH_MAX_WORKERS];
		int rc;

		r->ctl = bench_ctl_new();
		r->ring = bb_bench_create(r->where, 1024, 8, false, 4, r->wait);
		for (i = 0; i < r->ncons; i++)
			bench_spawn(&w, consumer, r, i, r->ctl, true);
		p = bb_bench_producer(r->ring, r->wait);
		bench_pin(0);
		for (i = 0; i < r->ncons; i++) {
			rc = w.procs ? clock_getcpuclockid(w.pids[i], &clk[i]) :
				pthread_getcpuclockid(((pthread_t *)w.threads)[i],
						      &clk[i]);
			if (rc)
				bench_die("cpu clock of consumer %d: %s", i,
					  strerror(rc));
		}
		__atomic_store_n(&r->ctl->go, 1, __ATOMIC_RELEASE);
		t0 = bench_now_ns() + 50000000ULL;
		bench_sleep_until(t0, false);
		for (i = 0; i < r->ncons; i++)
			c0[i] = cpu_clock(clk[i]);
		bench_sleep_until(t0 + r->idle_ms * 1000000ULL, false);
		for (i = 0; i < r->ncons; i++)
			cpu += cpu_clock(clk[i]) - c0[i];
		rc = badbatch_claim(p, 1, &seq);
		if (rc)
			bench_die("claim: %s", strerror(-rc));
		*(uint64_t *)badbatch_slot(p, seq) = 1;
		badbatch_publish(p, seq, 1);
		bench_join(&w, r->ctl);
		if (r->ctl->failed)
			bench_die("a worker failed");
		bench_emit("idle", "badbatch", params, "cpu",
			   100.0 * (double)cpu / (double)r->ncons /
			   ((double)r->idle_ms * 1e6), "%cpu");
		badbatch_producer_close(p);
		badbatch_close(r->ring);
		munmap(r->ctl, sizeof(*r->ctl));
	}
	return 0;
}
