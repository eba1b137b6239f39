// SPDX-License-Identifier: GPL-2.0
/*
 * The poller on memory rings: states IDLE, GATING and PROCESSING, batch
 * limits and end_of_batch, a handler stopping early, abandoned events,
 * a halted ring, and exactly-once across repeated polls with a producer
 * thread.
 */
#include <string.h>

#include "internal.h"
#include "libutil.h"

struct prec {
	uint64_t seqs[64];
	bool eob[64];
	uint32_t n;
	int64_t stop_at;	/* refuse this seq once, -1: never */
};

static int prec_fn(void *ctx, void *event, uint64_t seq, bool eob)
{
	struct prec *r = ctx;
	const struct lev *e = event;

	CHECK_EQ(e->seq, seq);
	CHECK_EQ(e->check, lev_check(e));
	if ((int64_t)seq == r->stop_at) {
		r->stop_at = -1;
		return -ECANCELED;
	}
	CHECK(r->n < ARRAY_SIZE(r->seqs));
	r->seqs[r->n] = seq;
	r->eob[r->n++] = eob;
	return 0;
}

TEST(lib_poll_states_and_batches)
{
	struct badbatch *ring = mem_ring(16, 32, 0, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);
	enum badbatch_poll_state st = BADBATCH_POLL_PROCESSING;
	struct prec r = { .stop_at = -1 };
	uint32_t i;

	CHECK_EQ(badbatch_poll(c, prec_fn, &r, 0, &st), 0);
	CHECK_EQ(st, BADBATCH_POLL_IDLE);
	CHECK_EQ(badbatch_poll(c, prec_fn, &r, 0, NULL), 0);

	lev_publish_n(p, 5);
	CHECK_EQ(badbatch_poll(c, prec_fn, &r, 0, &st), 5);
	CHECK_EQ(st, BADBATCH_POLL_PROCESSING);
	for (i = 0; i < 5; i++) {
		CHECK_EQ(r.seqs[i], i);
		CHECK_EQ(r.eob[i], i == 4);
	}
	CHECK_EQ(badbatch_consumer_seq(c), 5);
	CHECK_EQ(badbatch_poll(c, prec_fn, &r, 0, &st), 0);
	CHECK_EQ(st, BADBATCH_POLL_IDLE);

	/* max_batch 4 over 10 events: 4, 4, 2, then idle. */
	lev_publish_n(p, 10);
	CHECK_EQ(badbatch_poll(c, prec_fn, &r, 4, &st), 4);
	CHECK(r.eob[8] && !r.eob[7]);
	CHECK_EQ(badbatch_poll(c, prec_fn, &r, 4, &st), 4);
	CHECK_EQ(badbatch_poll(c, prec_fn, &r, 4, &st), 2);
	CHECK_EQ(st, BADBATCH_POLL_PROCESSING);
	CHECK_EQ(badbatch_poll(c, prec_fn, &r, 4, &st), 0);
	CHECK_EQ(st, BADBATCH_POLL_IDLE);
	CHECK_EQ(r.n, 15);
	for (i = 0; i < 15; i++)
		CHECK_EQ(r.seqs[i], i);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_poll_stop_early)
{
	struct badbatch *ring = mem_ring(16, 32, 0, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);
	enum badbatch_poll_state st;
	struct prec r = { .stop_at = 3 };

	lev_publish_n(p, 6);
	/* 0..2 handled, 3 refused and left unconsumed. */
	CHECK_EQ(badbatch_poll(c, prec_fn, &r, 0, &st), -ECANCELED);
	CHECK_EQ(st, BADBATCH_POLL_PROCESSING);
	CHECK_EQ(r.n, 3);
	CHECK_EQ(badbatch_consumer_seq(c), 3);
	CHECK_EQ(badbatch_remaining(p), 16 - 3);
	/* The next poll starts at the refused event. */
	CHECK_EQ(badbatch_poll(c, prec_fn, &r, 0, &st), 3);
	CHECK_EQ(r.n, 6);
	CHECK_EQ(r.seqs[3], 3);
	CHECK_EQ(r.seqs[5], 5);
	CHECK(r.eob[5]);
	CHECK_EQ(badbatch_poll(c, prec_fn, &r, 0, &st), 0);
	CHECK_EQ(st, BADBATCH_POLL_IDLE);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_poll_gating)
{
	struct badbatch *ring = mem_ring(16, 32, 0, 0);
	struct badbatch_consumer *a = mem_consumer(ring, 0, 0);
	struct badbatch_consumer *b =
		mem_consumer(ring, 1ULL << badbatch_consumer_id(a), 0);
	struct badbatch_producer *p = mem_producer(ring, 0);
	struct prec ra = { .stop_at = -1 }, rb = { .stop_at = -1 };
	enum badbatch_poll_state st;

	CHECK_EQ(badbatch_poll(b, prec_fn, &rb, 0, &st), 0);
	CHECK_EQ(st, BADBATCH_POLL_IDLE);
	lev_publish_n(p, 4);
	/* Published, but A has not handled them: B is gated. */
	CHECK_EQ(badbatch_poll(b, prec_fn, &rb, 0, &st), 0);
	CHECK_EQ(st, BADBATCH_POLL_GATING);
	CHECK_EQ(badbatch_poll(a, prec_fn, &ra, 2, &st), 2);
	CHECK_EQ(badbatch_poll(b, prec_fn, &rb, 0, &st), 2);
	CHECK_EQ(st, BADBATCH_POLL_PROCESSING);
	CHECK_EQ(badbatch_poll(b, prec_fn, &rb, 0, &st), 0);
	CHECK_EQ(st, BADBATCH_POLL_GATING);
	CHECK_EQ(badbatch_poll(a, prec_fn, &ra, 0, &st), 2);
	CHECK_EQ(badbatch_poll(b, prec_fn, &rb, 0, &st), 2);
	CHECK_EQ(badbatch_poll(b, prec_fn, &rb, 0, &st), 0);
	CHECK_EQ(st, BADBATCH_POLL_IDLE);
	CHECK_EQ(rb.n, 4);
	badbatch_producer_close(p);
	badbatch_consumer_close(b);
	badbatch_consumer_close(a);
	badbatch_close(ring);
}

static void abandon(struct badbatch_producer *p, uint64_t seq, uint32_t n)
{
	bb_publish_abandoned(&p->part.view, seq, n);
}

TEST(lib_poll_abandoned_and_halt)
{
	struct badbatch *ring = mem_ring(16, 32, BADBATCH_MULTI_PRODUCER, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);
	struct prec r = { .stop_at = -1 };
	enum badbatch_poll_state st;
	uint64_t seq;

	/* A batch of abandoned events only: skipped, the poll goes on. */
	CHECK_EQ(badbatch_claim(p, 3, &seq), 0);
	abandon(p, seq, 3);
	CHECK_EQ(badbatch_poll(c, prec_fn, &r, 3, &st), 0);
	CHECK_EQ(st, BADBATCH_POLL_IDLE);
	CHECK_EQ(badbatch_consumer_abandoned(c), 3);
	CHECK_EQ(badbatch_consumer_seq(c), 3);
	CHECK_EQ(badbatch_claim(p, 2, &seq), 0);
	abandon(p, seq, 2);
	lev_publish_n(p, 2);
	CHECK_EQ(badbatch_poll(c, prec_fn, &r, 2, &st), 2);
	CHECK_EQ(st, BADBATCH_POLL_PROCESSING);
	CHECK_EQ(r.seqs[0], 5);
	CHECK_EQ(badbatch_consumer_abandoned(c), 5);

	/* Halted: what was published still comes, then -ESHUTDOWN. */
	lev_publish_n(p, 3);
	CHECK_EQ(badbatch_halt(ring), 0);
	CHECK_EQ(badbatch_poll(c, prec_fn, &r, 0, &st), 3);
	CHECK_EQ(st, BADBATCH_POLL_PROCESSING);
	st = BADBATCH_POLL_PROCESSING;
	CHECK_EQ(badbatch_poll(c, prec_fn, &r, 0, &st), -ESHUTDOWN);
	CHECK_EQ(st, BADBATCH_POLL_IDLE);
	CHECK_EQ(badbatch_poll(c, prec_fn, &r, 0, NULL), -ESHUTDOWN);
	CHECK_EQ(r.n, 5);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

#define POLL_EVENTS	UT_N(200000)

static void poll_producer(void *arg)
{
	struct badbatch_producer *p = arg;
	uint64_t seq, s, sent = 0;
	uint32_t n;

	while (sent < POLL_EVENTS) {
		n = 1 + (uint32_t)(sent % 5);
		if (n > POLL_EVENTS - sent)
			n = (uint32_t)(POLL_EVENTS - sent);
		CHECK_EQ(badbatch_claim(p, n, &seq), 0);
		for (s = seq; s < seq + n; s++)
			lev_fill(badbatch_slot(p, s), s, 0, sent++);
		CHECK_EQ(badbatch_publish(p, seq, n), 0);
	}
}

struct pseen {
	uint64_t next;
	uint64_t refused;
};

/* Refuses every 1000th event once: it must come back, not be lost. */
static int pseen_fn(void *ctx, void *event, uint64_t seq, bool eob)
{
	struct pseen *s = ctx;
	const struct lev *e = event;

	CHECK_EQ(e->check, lev_check(e));
	CHECK_EQ(e->counter, s->next);
	if (seq % 1000 == 999 && s->refused != seq + 1) {
		s->refused = seq + 1;
		return -EAGAIN;
	}
	s->next++;
	return 0;
}

TEST(lib_poll_thread_exactly_once)
{
	struct badbatch *ring = mem_ring(64, 32, 0, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, BADBATCH_WAIT_YIELD);
	struct pseen s = { 0 };
	enum badbatch_poll_state st;
	struct ut_thread t;
	int rc;

	ut_thread_start(&t, poll_producer, p);
	while (s.next < POLL_EVENTS) {
		rc = badbatch_poll(c, pseen_fn, &s, 0, &st);
		CHECKF(rc >= 0 || rc == -EAGAIN, "rc %d", rc);
		if (rc == 0)
			CHECK_EQ(st, BADBATCH_POLL_IDLE);
		if (rc == 0)
			ut_yield();
	}
	ut_thread_join(&t);
	CHECK_EQ(badbatch_poll(c, pseen_fn, &s, 0, &st), 0);
	CHECK_EQ(st, BADBATCH_POLL_IDLE);
	CHECK_EQ(badbatch_consumer_seq(c), POLL_EVENTS);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}
