// SPDX-License-Identifier: GPL-2.0
/*
 * Translators on memory rings: publish one event or a batch through a
 * fill callback, the try-variants on a full ring (no change to the ring,
 * callback not called), capacity before and after, and two threads
 * through the blocking batch call, each event exactly once in order.
 */
#include <string.h>

#include "internal.h"
#include "libutil.h"

struct fill {
	uint64_t producer;
	uint64_t counter;	/* next event's counter */
	uint32_t calls;
	uint32_t bad_index;	/* index not 0, 1, ... in one call */
	uint32_t expect_index;
};

static void fill_fn(void *arg, void *slot, uint64_t seq, uint32_t index)
{
	struct fill *f = arg;

	if (index != f->expect_index)
		f->bad_index++;
	f->expect_index = index + 1;
	lev_fill(slot, seq, f->producer, f->counter++);
	f->calls++;
}

/* Start of one translator call: indexes count from 0 again. */
static struct fill *fill_reset(struct fill *f)
{
	f->expect_index = 0;
	return f;
}

static void check_event(struct badbatch_consumer *c, uint64_t seq,
			uint64_t counter)
{
	const struct lev *e = badbatch_event(c, seq);

	CHECK_EQ(e->seq, seq);
	CHECK_EQ(e->counter, counter);
	CHECK_EQ(e->check, lev_check(e));
}

TEST(lib_translate_publish_event_and_events)
{
	struct badbatch *ring = mem_ring(8, 32, 0, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);
	struct fill f = { 0 };
	uint64_t limit, s;

	CHECK_EQ(badbatch_remaining(p), 8);
	CHECK(badbatch_has_capacity(p, 8));
	CHECK_EQ(badbatch_publish_event(p, fill_fn, fill_reset(&f)), 0);
	CHECK_EQ(f.calls, 1);
	CHECK_EQ(badbatch_remaining(p), 7);
	CHECK_EQ(badbatch_publish_events(p, 5, fill_fn, fill_reset(&f)), 0);
	CHECK_EQ(f.calls, 6);
	CHECK_EQ(f.bad_index, 0);
	CHECK_EQ(badbatch_remaining(p), 2);
	CHECK(badbatch_has_capacity(p, 2));
	CHECK(!badbatch_has_capacity(p, 3));

	CHECK_EQ(badbatch_try_wait_for(c, &limit), 0);
	CHECK_EQ(limit, 6);
	for (s = 0; s < 6; s++)
		check_event(c, s, s);
	CHECK_EQ(badbatch_advance(c, limit), 0);
	CHECK_EQ(badbatch_remaining(p), 8);

	/* Bad counts: nothing claimed, fn not called. */
	CHECK_EQ(badbatch_publish_events(p, 0, fill_fn, &f), -EINVAL);
	CHECK_EQ(badbatch_publish_events(p, 9, fill_fn, &f), -EINVAL);
	CHECK_EQ(badbatch_try_publish_events(p, 0, fill_fn, &f), -EINVAL);
	CHECK_EQ(badbatch_try_publish_events(p, 9, fill_fn, &f), -EINVAL);
	CHECK(!badbatch_has_capacity(p, 0));
	CHECK(!badbatch_has_capacity(p, 9));
	CHECK_EQ(f.calls, 6);
	CHECK_EQ(badbatch_remaining(p), 8);

	/* A whole ring in one call, wrapping around. */
	CHECK_EQ(badbatch_publish_events(p, 8, fill_fn, fill_reset(&f)), 0);
	CHECK_EQ(f.bad_index, 0);
	CHECK_EQ(badbatch_try_wait_for(c, &limit), 0);
	CHECK_EQ(limit, 14);
	for (s = 6; s < 14; s++)
		check_event(c, s, s);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

static void try_full_ring(uint32_t flags)
{
	struct badbatch *ring = mem_ring(8, 32, flags, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);
	const struct bb_view *v = &p->part.view;
	struct fill f = { 0 };
	uint64_t claim, limit;

	CHECK_EQ(badbatch_try_publish_events(p, 6, fill_fn, fill_reset(&f)), 0);
	CHECK_EQ(badbatch_remaining(p), 2);
	/* Room for 2, not 3: -EAGAIN, nothing claimed, fn not called. */
	claim = bb_load(&v->prod->claim);
	CHECK_EQ(badbatch_try_publish_events(p, 3, fill_fn, &f), -EAGAIN);
	CHECK_EQ(f.calls, 6);
	CHECK_EQ(bb_load(&v->prod->claim), claim);
	CHECK_EQ(badbatch_remaining(p), 2);
	CHECK_EQ(badbatch_try_publish_events(p, 2, fill_fn, fill_reset(&f)), 0);
	CHECK_EQ(badbatch_remaining(p), 0);
	CHECK(!badbatch_has_capacity(p, 1));
	claim = bb_load(&v->prod->claim);
	CHECK_EQ(badbatch_try_publish_event(p, fill_fn, &f), -EAGAIN);
	CHECK_EQ(f.calls, 8);
	CHECK_EQ(bb_load(&v->prod->claim), claim);
	CHECK_EQ(badbatch_try_wait_for(c, &limit), 0);
	CHECK_EQ(limit, 8);

	/* Consumed: room again, and the try succeeds. */
	CHECK_EQ(badbatch_advance(c, 3), 0);
	CHECK_EQ(badbatch_remaining(p), 3);
	CHECK(badbatch_has_capacity(p, 3));
	CHECK_EQ(badbatch_try_publish_event(p, fill_fn, fill_reset(&f)), 0);
	CHECK_EQ(badbatch_remaining(p), 2);

	/* Halted: no capacity, every call -ESHUTDOWN, fn not called. */
	CHECK_EQ(badbatch_halt(ring), 0);
	CHECK_EQ(badbatch_remaining(p), 0);
	CHECK(!badbatch_has_capacity(p, 1));
	CHECK_EQ(badbatch_try_publish_event(p, fill_fn, &f), -ESHUTDOWN);
	CHECK_EQ(badbatch_publish_event(p, fill_fn, &f), -ESHUTDOWN);
	CHECK_EQ(badbatch_publish_events(p, 2, fill_fn, &f), -ESHUTDOWN);
	CHECK_EQ(f.calls, 9);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_translate_try_on_full_ring)
{
	try_full_ring(0);
	try_full_ring(BADBATCH_MULTI_PRODUCER);
}

#define XLATE_EVENTS	UT_N(200000)
#define XLATE_PRODUCERS	2

struct xlate_producer {
	struct badbatch *ring;
	struct fill f;
};

/* Batches of 1..7 through the blocking batch call, singles through try. */
static void xlate_produce(void *arg)
{
	struct xlate_producer *xp = arg;
	struct badbatch_producer *p = mem_producer(xp->ring,
						   BADBATCH_WAIT_YIELD);
	uint32_t n;
	int rc;

	while (xp->f.counter < XLATE_EVENTS) {
		n = 1 + (uint32_t)(xp->f.counter % 7);
		if (n > XLATE_EVENTS - xp->f.counter)
			n = (uint32_t)(XLATE_EVENTS - xp->f.counter);
		if (n == 1) {
			rc = badbatch_try_publish_event(p, fill_fn,
							fill_reset(&xp->f));
			CHECKF(rc == 0 || rc == -EAGAIN || rc == -EBUSY,
			       "rc %d", rc);
			if (rc)
				ut_yield();
			continue;
		}
		CHECK_EQ(badbatch_publish_events(p, n, fill_fn,
						 fill_reset(&xp->f)), 0);
	}
	CHECK_EQ(xp->f.bad_index, 0);
	badbatch_producer_close(p);
}

struct xlate_seen {
	uint64_t next[XLATE_PRODUCERS];
	uint64_t count;
};

static int xlate_check(void *ctx, void *event, uint64_t seq, bool eob)
{
	struct xlate_seen *s = ctx;
	const struct lev *e = event;

	CHECK_EQ(e->seq, seq);
	CHECK_EQ(e->check, lev_check(e));
	CHECK(e->producer < XLATE_PRODUCERS);
	CHECK_EQ(e->counter, s->next[e->producer]);
	s->next[e->producer]++;
	s->count++;
	return 0;
}

static void xlate_threads(uint32_t producers)
{
	struct badbatch *ring = mem_ring(64, 32, producers > 1 ?
					 BADBATCH_MULTI_PRODUCER : 0, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0,
						   BADBATCH_WAIT_YIELD);
	struct xlate_producer xp[XLATE_PRODUCERS];
	struct ut_thread t[XLATE_PRODUCERS];
	struct xlate_seen seen;
	uint32_t i;
	int rc;

	memset(xp, 0, sizeof(xp));
	memset(&seen, 0, sizeof(seen));
	for (i = 0; i < producers; i++) {
		xp[i].ring = ring;
		xp[i].f.producer = i;
		ut_thread_start(&t[i], xlate_produce, &xp[i]);
	}
	while (seen.count < (uint64_t)XLATE_EVENTS * producers) {
		rc = badbatch_consume(c, xlate_check, &seen, 0);
		CHECKF(rc >= 0, "rc %d", rc);
	}
	for (i = 0; i < producers; i++) {
		ut_thread_join(&t[i]);
		CHECK_EQ(seen.next[i], XLATE_EVENTS);
	}
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_translate_threads_exactly_once)
{
	xlate_threads(1);
	xlate_threads(XLATE_PRODUCERS);
}
