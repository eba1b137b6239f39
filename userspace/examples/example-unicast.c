// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unicast: one producer, one consumer, the raw claim/publish/consume API.
 *
 * The main thread creates a ring in the kernel, attaches a consumer (before
 * anything is published, so it sees every event) and hands it to a
 * consumer thread, then publishes EVENTS events in batches. The consumer
 * knows how many to expect; it checks order and payload, and the program
 * checks the count and the sum.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "example.h"

#define EVENTS	100000ULL
#define SLOTS	1024		/* a power of two */
#define BATCH	64		/* events claimed and published at once */

/* What travels in a slot: written by the producer, read in place. */
struct event {
	uint64_t value;
};

struct totals {
	struct badbatch_consumer *c;
	uint64_t count;
	uint64_t sum;
	uint64_t bad;		/* events with an unexpected value */
	int rc;
};

/* Called for each event in order, in the consumer's thread. */
static int on_event(void *ctx, void *slot, uint64_t seq, bool end_of_batch)
{
	struct totals *t = ctx;
	const struct event *e = slot;

	/* A single producer publishes event seq as value seq + 1. */
	if (e->value != seq + 1)
		t->bad++;
	t->count++;
	t->sum += e->value;
	return 0;
}

static void *consumer_thread(void *arg)
{
	struct totals *t = arg;

	/* Each call waits (blocking in the kernel) and hands over a batch. */
	while (t->count < EVENTS) {
		int rc = badbatch_consume(t->c, on_event, t, 0);

		if (rc < 0) {
			/* Halt, or the producer waits for us forever. */
			t->rc = rc;
			badbatch_consumer_halt(t->c);
			break;
		}
	}
	return NULL;
}

int main(void)
{
	struct badbatch_config cfg = {
		.slot_count = SLOTS,
		.slot_size = sizeof(struct event),
		.wait = BADBATCH_WAIT_BLOCK,	/* sleep when idle */
	};
	struct totals t = { 0 };
	struct badbatch_producer *p;
	struct badbatch *ring;
	pthread_t thread;
	uint64_t next, seq;
	uint32_t n, i;
	int rc;

	CHECK(badbatch_create(&cfg, &ring));
	CHECK(badbatch_consumer_attach(ring, NULL, &t.c));
	CHECK(badbatch_producer_attach(ring, NULL, &p));
	if (pthread_create(&thread, NULL, consumer_thread, &t))
		die("pthread_create");

	for (next = 0; next < EVENTS; next += n) {
		n = EVENTS - next < BATCH ? (uint32_t)(EVENTS - next) : BATCH;
		/* Waits only when the consumer is a whole ring behind. */
		rc = badbatch_claim(p, n, &seq);
		if (rc == -ESHUTDOWN)
			break;		/* the consumer gave up: see t.rc */
		CHECK(rc);
		for (i = 0; i < n; i++) {
			struct event *e = badbatch_slot(p, seq + i);

			e->value = seq + i + 1;
		}
		/* One release store; a system call only if the consumer sleeps. */
		CHECK(badbatch_publish(p, seq, n));
	}

	pthread_join(thread, NULL);
	CHECK(t.rc);
	if (t.count != EVENTS || t.bad)
		die("received %llu events, %llu bad; expected %llu",
		    (unsigned long long)t.count, (unsigned long long)t.bad,
		    (unsigned long long)EVENTS);
	if (t.sum != EVENTS * (EVENTS + 1) / 2)
		die("sum %llu, expected %llu", (unsigned long long)t.sum,
		    (unsigned long long)(EVENTS * (EVENTS + 1) / 2));
	say("ok: %llu events in order, sum %llu", (unsigned long long)t.count,
	    (unsigned long long)t.sum);

	badbatch_producer_close(p);
	badbatch_consumer_close(t.c);
	badbatch_close(ring);
	return 0;
}
