// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Diamond: stages A and B both follow the producer and run in parallel on
 * every event; C runs after both (a join).
 *
 *	           +-> A (double) -+
 *	producer --+               +--> C (combine)
 *	           +-> B (square) -+
 *
 * A and B write different fields of the same event, C reads both. C's
 * "after" mask names A and B, so it never sees an event before both have
 * advanced past it: the join needs no counter or lock of its own.
 */
#include <stdbool.h>
#include <stdint.h>

#include "example.h"

#define EVENTS	50000ULL
#define SLOTS	512

struct event {
	uint64_t value;
	uint64_t doubled;	/* A */
	uint64_t squared;	/* B */
};

struct combine {
	uint64_t count;
	uint64_t sum;
	uint64_t bad;
};

static int stage_a(void *ctx, void *slot, uint64_t seq, bool end_of_batch)
{
	struct event *e = slot;

	e->doubled = 2 * e->value;
	return 0;
}

static int stage_b(void *ctx, void *slot, uint64_t seq, bool end_of_batch)
{
	struct event *e = slot;

	e->squared = e->value * e->value;
	return 0;
}

static int stage_c(void *ctx, void *slot, uint64_t seq, bool end_of_batch)
{
	const struct event *e = slot;
	struct combine *c = ctx;

	/* Both inputs must be there: that is what the join guarantees. */
	if (e->doubled != 2 * e->value || e->squared != e->value * e->value)
		c->bad++;
	c->count++;
	c->sum += e->doubled + e->squared;
	return 0;
}

int main(void)
{
	struct badbatch_config cfg = {
		.slot_count = SLOTS,
		.slot_size = sizeof(struct event),
		.flags = BADBATCH_MUTABLE_CONSUMERS,
	};
	struct combine out = { 0 };
	struct badbatch_topology *t;
	struct badbatch_producer *p;
	struct badbatch *ring;
	uint64_t i, seq, want_sum = 0;
	int a, b, c, rc;

	CHECK(badbatch_create(&cfg, &ring));
	CHECK(badbatch_topology_create(ring, &t));
	a = badbatch_topology_add(t, &(struct badbatch_handler){
		.name = "double", .on_event = stage_a }, 0);
	CHECK(a);
	b = badbatch_topology_add(t, &(struct badbatch_handler){
		.name = "square", .on_event = stage_b }, 0);
	CHECK(b);
	c = badbatch_topology_add(t, &(struct badbatch_handler){
		.name = "combine", .ctx = &out, .on_event = stage_c },
		BADBATCH_STAGE(a) | BADBATCH_STAGE(b));
	CHECK(c);
	CHECK(badbatch_topology_start(t));

	CHECK(badbatch_producer_attach(ring, NULL, &p));
	for (i = 0; i < EVENTS; i++) {
		/* -ESHUTDOWN: a stage failed; shutdown below says why. */
		rc = badbatch_claim(p, 1, &seq);
		if (rc == -ESHUTDOWN)
			break;
		CHECK(rc);
		*(struct event *)badbatch_slot(p, seq) =
			(struct event){ .value = i };
		CHECK(badbatch_publish(p, seq, 1));
		want_sum += 2 * i + i * i;
	}
	CHECK(badbatch_topology_shutdown(t, 0));

	if (out.count != EVENTS || out.bad || out.sum != want_sum)
		die("combine: %llu events, %llu incomplete, sum %llu; expected %llu, 0, %llu",
		    (unsigned long long)out.count, (unsigned long long)out.bad,
		    (unsigned long long)out.sum, (unsigned long long)EVENTS,
		    (unsigned long long)want_sum);
	say("ok: %llu events joined after A and B, sum %llu",
	    (unsigned long long)out.count, (unsigned long long)out.sum);

	badbatch_topology_destroy(t);
	badbatch_producer_close(p);
	badbatch_close(ring);
	return 0;
}
