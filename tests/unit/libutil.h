/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers for the library tests: memory rings and checked events. */
#ifndef _BADBATCH_UNIT_LIBUTIL_H
#define _BADBATCH_UNIT_LIBUTIL_H

#include <badbatch.h>

#include "harness.h"
#include "internal.h"

/* A test event: 32 bytes, its sequence stamp and a checkable payload. */
struct lev {
	uint64_t seq;
	uint64_t producer;
	uint64_t counter;
	uint64_t check;
};

static inline uint64_t lev_check(const struct lev *e)
{
	return ut_pattern(e->seq + (e->producer << 48) + (e->counter << 1), 3);
}

static inline void lev_fill(void *slot, uint64_t seq, uint64_t producer,
			    uint64_t counter)
{
	struct lev *e = slot;

	e->seq = seq;
	e->producer = producer;
	e->counter = counter;
	e->check = lev_check(e);
}

static inline struct badbatch *mem_ring(uint32_t slots, uint32_t size,
					uint32_t flags, uint32_t max_consumers)
{
	struct badbatch_config cfg = {
		.slot_count = slots,
		.slot_size = size,
		.flags = flags,
		.max_consumers = max_consumers,
		.wait = BADBATCH_WAIT_YIELD,
	};
	struct badbatch *ring = NULL;

	CHECK_EQ(badbatch_memring_create(&cfg, &ring), 0);
	CHECK(ring != NULL);
	return ring;
}

static inline struct badbatch_producer *
mem_producer(struct badbatch *ring, enum badbatch_wait strategy)
{
	struct badbatch_producer_config cfg = {
		.wait = { .strategy = strategy },
	};
	struct badbatch_producer *p = NULL;

	CHECK_EQ(badbatch_producer_attach(ring, &cfg, &p), 0);
	return p;
}

static inline struct badbatch_consumer *
mem_consumer(struct badbatch *ring, uint64_t deps,
	     enum badbatch_wait strategy)
{
	struct badbatch_consumer_config cfg = {
		.deps = deps,
		.wait = { .strategy = strategy },
	};
	struct badbatch_consumer *c = NULL;

	CHECK_EQ(badbatch_consumer_attach(ring, &cfg, &c), 0);
	return c;
}

/* Claim and publish n checked events in one batch, counter = seq. */
static inline void lev_publish_n(struct badbatch_producer *p, uint32_t n)
{
	uint64_t seq, s;

	CHECK_EQ(badbatch_claim(p, n, &seq), 0);
	for (s = seq; s < seq + n; s++)
		lev_fill(badbatch_slot(p, s), s, 0, s);
	CHECK_EQ(badbatch_publish(p, seq, n), 0);
}

/* What the kernel stores for the slot of a producer that died. */
static inline void lev_abandon(struct badbatch_producer *p, uint64_t seq)
{
	bb_publish_abandoned(&p->part.view, seq, 1);
}

#endif /* _BADBATCH_UNIT_LIBUTIL_H */
