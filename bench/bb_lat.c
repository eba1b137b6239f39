// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * badbatch latency.
 *
 * pingpong: round trip over two rings, one side echoing what the other
 * publishes (closed loop; p50/p99/p99.9/max of the round trip).
 *
 * oneway: an open-loop sender publishes bursts of B events at planned
 * times (every period ns; 0 = as soon as the previous burst is out) with
 * the planned time in the event; the receiver records arrival - planned.
 * Because the plan never waits for the receiver, a stall shows up in
 * every event it delayed (no coordinated omission). With a blocking
 * strategy and a period of 1 ms or more the receiver is asleep when each
 * burst comes: that is the wakeup latency (-S wakeup), measured from
 * the moment the sender published rather than from the plan (a late
 * sender is not the consumer's wakeup).
 *
 *   bb-lat -k pingpong|oneway [-m mem|shm|kernel] [-x thread|proc] [-w WAIT]
 *          [-s SIZE] [-B BURST] [-P PERIOD_NS] [-L MIN/NS|off]
 *          [-T NS|off|default] [-n EVENTS] [-r REPS] [-S SUITE]
 *
 * -L: coalescing consumers, as bb-topo -L: the latency they add.
 * -T: trailing consumers, as bb-topo -T: likewise.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bb.h"

struct run {
	const char *kind, *where, *xproc, *waitname, *suite;
	enum badbatch_wait wait;
	uint32_t size, burst;
	uint64_t period, events, warm;
	struct badbatch *a, *b;
	struct bench_ctl *ctl;
	double *samples;	/* arrival - planned send time */
	double *sent;		/* arrival - send time (wakeup: publish) */
};

static void take(struct badbatch_consumer *c, uint64_t *limit)
{
	int rc = badbatch_wait_for(c, limit);

	if (rc)
		bench_die("wait_for: %s", strerror(-rc));
}

static void put(struct badbatch_producer *p, uint64_t v, uint32_t size)
{
	uint64_t seq;
	int rc = badbatch_claim(p, 1, &seq);

	if (rc)
		bench_die("claim: %s", strerror(-rc));
	*(uint64_t *)badbatch_slot(p, seq) = v;
	(void)size;
	rc = badbatch_publish(p, seq, 1);
	if (rc)
		bench_die("publish: %s", strerror(-rc));
}

/* Worker 0 of pingpong: echo every event of ring a into ring b. */
static void ponger(void *arg, int idx)
{
	struct run *r = arg;
	struct badbatch_consumer *c;
	struct badbatch_producer *p;
	uint64_t total = r->events + r->warm, limit, s;

	bench_pin(1);
	c = bb_bench_consumer(r->a, 0, 0, r->wait);
	p = bb_bench_producer(r->b, r->wait);
	bench_set_ready(r->ctl, idx);
	bench_wait_go(r->ctl);
	while (badbatch_consumer_seq(c) < total) {
		take(c, &limit);
		for (s = badbatch_consumer_seq(c); s < limit; s++)
			put(p, *(uint64_t *)badbatch_event(c, s), r->size);
		badbatch_advance(c, limit);
	}
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
}

/* Worker 1 of pingpong: send, wait for the echo, record the round trip. */
static void pinger(void *arg, int idx)
{
	struct run *r = arg;
	struct badbatch_consumer *c;
	struct badbatch_producer *p;
	uint64_t i, t, limit, total = r->events + r->warm;

	bench_pin(0);
	p = bb_bench_producer(r->a, r->wait);
	c = bb_bench_consumer(r->b, 0, 0, r->wait);
	bench_set_ready(r->ctl, idx);
	bench_wait_go(r->ctl);
	for (i = 0; i < total; i++) {
		t = bench_now_ns();
		put(p, t, r->size);
		do
			take(c, &limit);
		while (limit <= i);
		badbatch_advance(c, i + 1);
		if (i >= r->warm)
			r->samples[i - r->warm] = (double)(bench_now_ns() - t);
	}
	badbatch_consumer_close(c);
	badbatch_producer_close(p);
}

/* Worker 0 of oneway: record arrival - planned for every event. */
static void receiver(void *arg, int idx)
{
	struct run *r = arg;
	struct badbatch_consumer *c;
	uint64_t total = r->events + r->warm, limit, s, now;

	bench_pin(1);
	c = bb_bench_consumer(r->a, 0, 0, r->wait);
	bench_set_ready(r->ctl, idx);
	bench_wait_go(r->ctl);
	while (badbatch_consumer_seq(c) < total) {
		take(c, &limit);
		now = bench_now_ns();
		for (s = badbatch_consumer_seq(c); s < limit; s++) {
			const uint64_t *ev = badbatch_event(c, s);
			uint64_t planned = ev[0], sent = ev[1];

			if (s >= r->warm) {
				r->samples[s - r->warm] =
					(double)(now > planned ? now - planned : 0);
				r->sent[s - r->warm] =
					(double)(now > sent ? now - sent : 0);
			}
		}
		badbatch_advance(c, limit);
	}
	badbatch_consumer_close(c);
}

/* Worker 1 of oneway: bursts at planned times. */
static void sender(void *arg, int idx)
{
	struct run *r = arg;
	struct badbatch_producer *p;
	uint64_t total = r->events + r->warm, i = 0, planned, sent, seq, k;
	bool wakeup = !strcmp(r->suite, "wakeup");
	uint64_t woke;
	uint32_t b;
	int rc;

	bench_pin(0);
	p = bb_bench_producer(r->a, r->wait);
	bench_set_ready(r->ctl, idx);
	bench_wait_go(r->ctl);
	planned = bench_now_ns() + 1000000;
	while (i < total) {
		if (r->period)
			woke = bench_sleep_until(planned, true);
		else
			woke = planned = bench_now_ns();
		b = (uint32_t)(total - i < r->burst ? total - i : r->burst);
		rc = badbatch_claim(p, b, &seq);
		if (rc)
			bench_die("claim: %s", strerror(-rc));
		/*
		 * The wakeup suite times a sleeper from the publish; the
		 * latency suites do not put a clock read (25 ns with
		 * kvm-clock) between the send decision and the publish.
		 */
		sent = wakeup ? bench_now_ns() : woke;
		for (k = 0; k < b; k++) {
			uint64_t *ev = badbatch_slot(p, seq + k);

			ev[0] = planned;
			ev[1] = sent;
		}
		rc = badbatch_publish(p, seq, b);
		if (rc)
			bench_die("publish: %s", strerror(-rc));
		i += b;
		planned += r->period;
	}
	badbatch_producer_close(p);
}

int main(int argc, char **argv)
{
	struct run *r = bench_shared_alloc(sizeof(*r));
	int opt, reps = 3, rep;
	char params[512];

	r->kind = "pingpong";
	r->where = "mem";
	r->xproc = "thread";
	r->waitname = "spin";
	r->suite = "latency";
	r->size = 8;
	r->burst = 1;
	r->period = 10000;
	r->events = 100000;
	while ((opt = getopt(argc, argv, "k:m:x:w:s:B:P:L:T:n:r:S:")) != -1) {
		switch (opt) {
		case 'k': r->kind = optarg; break;
		case 'm': r->where = optarg; break;
		case 'x': r->xproc = optarg; break;
		case 'w': r->waitname = optarg; break;
		case 's': r->size = (uint32_t)atoi(optarg); break;
		case 'B': r->burst = (uint32_t)atoi(optarg); break;
		case 'P': r->period = strtoull(optarg, NULL, 0); break;
		case 'L': bb_bench_coalesce_parse(optarg); break;
		case 'T': bb_bench_trail_parse(optarg); break;
		case 'n': r->events = strtoull(optarg, NULL, 0); break;
		case 'r': reps = atoi(optarg); break;
		case 'S': r->suite = optarg; break;
		default:
			fprintf(stderr, "usage: bb-lat -k pingpong|oneway "
				"[-m mem|shm|kernel] [-x thread|proc] [-w WAIT] "
				"[-s SIZE] [-B BURST] [-P PERIOD_NS] "
				"[-L MIN/NS|off] [-T NS|off|default] [-n EVENTS] "
				"[-r REPS] [-S SUITE]\n");
			return 2;
		}
	}
	r->wait = bb_bench_wait(r->waitname);
	bb_bench_check_where(r->where, r->xproc);
	if (!r->burst)
		r->burst = 1;
	/* Warm up for a tenth (caches, page faults, the first wakeups). */
	r->warm = r->events / 10;
	r->warm -= r->warm % r->burst;
	r->samples = bench_shared_alloc(r->events * sizeof(double));
	r->sent = bench_shared_alloc(r->events * sizeof(double));
	if (r->size < 16 && strcmp(r->kind, "pingpong"))
		r->size = 16;	/* planned and actual send times */
	if (!strcmp(r->kind, "pingpong"))
		snprintf(params, sizeof(params),
			 "\"kind\":\"pingpong\",\"ring\":\"%s\",\"mode\":\"%s\","
			 "\"wait\":\"%s\",\"size\":%u,\"coalesce\":\"%s\","
			 "\"trail\":\"%s\"",
			 r->where, r->xproc, r->waitname, r->size,
			 bb_bench_coalesce.name, bb_bench_trail.name);
	else
		snprintf(params, sizeof(params),
			 "\"kind\":\"oneway\",\"ring\":\"%s\",\"mode\":\"%s\","
			 "\"wait\":\"%s\",\"size\":%u,\"burst\":%u,"
			 "\"period_ns\":%llu,\"coalesce\":\"%s\",\"trail\":\"%s\"",
			 r->where, r->xproc, r->waitname, r->size, r->burst,
			 (unsigned long long)r->period, bb_bench_coalesce.name,
			 bb_bench_trail.name);

	for (rep = 0; rep < reps; rep++) {
		struct bench_workers w = { .procs = !strcmp(r->xproc, "proc") };
		bool pp = !strcmp(r->kind, "pingpong");

		r->ctl = bench_ctl_new();
		r->a = bb_bench_create(r->where, 4096, r->size, false, 2, r->wait);
		r->b = pp ? bb_bench_create(r->where, 4096, r->size, false, 2,
					    r->wait) : NULL;
		bench_spawn(&w, pp ? ponger : receiver, r, 0, r->ctl, true);
		bench_spawn(&w, pp ? pinger : sender, r, 1, r->ctl, true);
		__atomic_store_n(&r->ctl->go, 1, __ATOMIC_RELEASE);
		bench_join(&w, r->ctl);
		if (r->ctl->failed)
			bench_die("a worker failed");
		bench_emit_latency(r->suite, BB_BENCH_IMPL, params,
				   strcmp(r->suite, "wakeup") ? r->samples : r->sent,
				   r->events);
		badbatch_close(r->a);
		if (r->b)
			badbatch_close(r->b);
		munmap(r->ctl, sizeof(*r->ctl));
	}
	return 0;
}
