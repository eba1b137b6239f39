// SPDX-License-Identifier: GPL-2.0
/*
 * badbatch_consume_runs() on memory rings: runs split where the ring
 * wraps and around abandoned events, lie back to back in memory, carry
 * end_of_batch on the last run only; a handler taking part of a run, or
 * failing, leaves the rest unconsumed.
 */
#include <string.h>

#include "internal.h"
#include "libutil.h"

#define MAX_RUNS 16

/* Every run the handler got, and how much of each it takes. */
struct runs {
	uint64_t seq[MAX_RUNS];
	uint32_t n[MAX_RUNS];
	bool eob[MAX_RUNS];
	unsigned int count;
	int take;		/* >= 0: take this many of the next run */
	int fail;		/* < 0: return it for the next run */
};

static int run_handler(void *ctx, void *first, uint64_t seq, uint32_t n,
		       bool eob)
{
	struct runs *r = ctx;
	const struct lev *e = first;
	uint32_t i;

	CHECK(r->count < MAX_RUNS);
	CHECK(n > 0);
	r->seq[r->count] = seq;
	r->n[r->count] = n;
	r->eob[r->count] = eob;
	r->count++;
	if (r->fail < 0) {
		int rc = r->fail;

		r->fail = 0;
		return rc;
	}
	/* Back to back in memory: a lev per 32-byte slot. */
	for (i = 0; i < n; i++) {
		CHECKF(e[i].seq == seq + i, "run at %llu: slot %u holds %llu",
		       (unsigned long long)seq, i,
		       (unsigned long long)e[i].seq);
		CHECK_EQ(e[i].check, lev_check(&e[i]));
	}
	if (r->take >= 0) {
		int take = r->take;

		r->take = -1;
		return take;
	}
	return (int)n;
}

static void publish_range(struct badbatch_producer *p, uint32_t n,
			  uint64_t *counter)
{
	uint64_t seq, s;

	CHECK_EQ(badbatch_claim(p, n, &seq), 0);
	for (s = seq; s < seq + n; s++)
		lev_fill(badbatch_slot(p, s), s, 0, (*counter)++);
	CHECK_EQ(badbatch_publish(p, seq, n), 0);
}

static void runs_reset(struct runs *r)
{
	memset(r, 0, sizeof(*r));
	r->take = -1;
}

TEST(lib_runs_split_at_wrap)
{
	struct badbatch *ring = mem_ring(8, 32, 0, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);
	uint64_t counter = 0;
	struct runs r;

	/* 0..5 in one run. */
	publish_range(p, 6, &counter);
	runs_reset(&r);
	CHECK_EQ(badbatch_consume_runs(c, run_handler, &r, 0), 6);
	CHECK_EQ(r.count, 1);
	CHECK_EQ(r.seq[0], 0);
	CHECK_EQ(r.n[0], 6);
	CHECK(r.eob[0]);

	/* 6..12 wraps after 7: runs 6-7 and 8-12, end_of_batch on the last. */
	publish_range(p, 7, &counter);
	runs_reset(&r);
	CHECK_EQ(badbatch_consume_runs(c, run_handler, &r, 0), 7);
	CHECK_EQ(r.count, 2);
	CHECK_EQ(r.seq[0], 6);
	CHECK_EQ(r.n[0], 2);
	CHECK(!r.eob[0]);
	CHECK_EQ(r.seq[1], 8);
	CHECK_EQ(r.n[1], 5);
	CHECK(r.eob[1]);
	CHECK_EQ(badbatch_consumer_seq(c), 13);

	/* max_batch bounds the batch as with badbatch_consume(). */
	publish_range(p, 5, &counter);
	runs_reset(&r);
	CHECK_EQ(badbatch_consume_runs(c, run_handler, &r, 2), 2);
	CHECK_EQ(r.count, 1);
	CHECK_EQ(r.seq[0], 13);
	CHECK_EQ(r.n[0], 2);
	CHECK(r.eob[0]);
	CHECK_EQ(badbatch_consume_runs(c, run_handler, &r, 0), 3);
	CHECK_EQ(badbatch_consumer_seq(c), 18);
	CHECK_EQ(badbatch_consume_runs(c, NULL, &r, 0), -EINVAL);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_runs_partial_and_failure)
{
	struct badbatch *ring = mem_ring(8, 32, 0, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);
	uint64_t counter = 0, limit;
	struct runs r;

	publish_range(p, 6, &counter);

	/* The handler takes 2 of 6: the consumer stops after them. */
	runs_reset(&r);
	r.take = 2;
	CHECK_EQ(badbatch_consume_runs(c, run_handler, &r, 0), 2);
	CHECK_EQ(badbatch_consumer_seq(c), 2);

	/* It fails: nothing of the run is taken, its error comes back. */
	runs_reset(&r);
	r.fail = -42;
	CHECK_EQ(badbatch_consume_runs(c, run_handler, &r, 0), -42);
	CHECK_EQ(badbatch_consumer_seq(c), 2);

	/* Taking none is not an error: 0, and the events stay. */
	runs_reset(&r);
	r.take = 0;
	CHECK_EQ(badbatch_consume_runs(c, run_handler, &r, 0), 0);
	CHECK_EQ(badbatch_consumer_seq(c), 2);

	/* The rest, 2..5, in one run; then nothing is left to read. */
	runs_reset(&r);
	CHECK_EQ(badbatch_consume_runs(c, run_handler, &r, 0), 4);
	CHECK_EQ(r.seq[0], 2);
	CHECK_EQ(r.n[0], 4);
	CHECK_EQ(badbatch_try_wait_for(c, &limit), -EAGAIN);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_runs_skip_abandoned)
{
	struct badbatch *ring = mem_ring(8, 32, BADBATCH_MULTI_PRODUCER, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);
	uint64_t seq, s;
	struct runs r;

	/* 0 1 x 3 4 x x: runs 0-1 and 3-4, end_of_batch on 3-4. */
	CHECK_EQ(badbatch_claim(p, 7, &seq), 0);
	for (s = 0; s < 7; s++)
		lev_fill(badbatch_slot(p, s), s, 0, s);
	for (s = 0; s < 7; s++) {
		if (s == 2 || s >= 5)
			lev_abandon(p, s);
		else
			CHECK_EQ(badbatch_publish(p, s, 1), 0);
	}
	runs_reset(&r);
	CHECK_EQ(badbatch_consume_runs(c, run_handler, &r, 0), 4);
	CHECK_EQ(r.count, 2);
	CHECK_EQ(r.seq[0], 0);
	CHECK_EQ(r.n[0], 2);
	CHECK(!r.eob[0]);
	CHECK_EQ(r.seq[1], 3);
	CHECK_EQ(r.n[1], 2);
	CHECK(r.eob[1]);
	CHECK_EQ(badbatch_consumer_abandoned(c), 3);
	CHECK_EQ(badbatch_consumer_seq(c), 7);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}
