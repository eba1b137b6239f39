// SPDX-License-Identifier: GPL-2.0
/*
 * Failures on memory rings: what the record holds, the first one wins,
 * argument checks, reading before a halt, and waiters released.
 */
#include <string.h>

#include "internal.h"
#include "libutil.h"

static void check_failure(const struct badbatch_failure *f, int error,
			  uint32_t id, uint64_t seq)
{
	CHECK_EQ(f->error, error);
	CHECK_EQ(f->consumer_id, id);
	CHECK_EQ(f->seq, seq);
}

/* The same record through every kind of handle. */
static void check_all(struct badbatch *ring, struct badbatch_consumer *c,
		      struct badbatch_producer *p, int error, uint32_t id,
		      uint64_t seq)
{
	struct badbatch_failure f;

	memset(&f, 0xa5, sizeof(f));
	CHECK_EQ(badbatch_get_failure(ring, &f), 0);
	check_failure(&f, error, id, seq);
	memset(&f, 0xa5, sizeof(f));
	CHECK_EQ(badbatch_consumer_get_failure(c, &f), 0);
	check_failure(&f, error, id, seq);
	memset(&f, 0xa5, sizeof(f));
	CHECK_EQ(badbatch_producer_get_failure(p, &f), 0);
	check_failure(&f, error, id, seq);
}

TEST(lib_fail_consumer_record_first_wins)
{
	struct badbatch *ring = mem_ring(8, 32, 0, 4);
	struct badbatch_consumer *c0 = mem_consumer(ring, 0, 0);
	struct badbatch_consumer *c1 = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);
	struct badbatch_failure f;

	CHECK_EQ(badbatch_consumer_id(c1), 1);
	CHECK_EQ(badbatch_get_failure(ring, &f), -EAGAIN);
	CHECK_EQ(badbatch_consumer_get_failure(c0, &f), -EAGAIN);
	CHECK_EQ(badbatch_producer_get_failure(p, &f), -EAGAIN);
	CHECK_EQ(badbatch_consumer_fail(c1, 0x123456789ULL, EIO), 0);
	CHECK(badbatch_is_halted(ring));
	check_all(ring, c0, p, EIO, 1, 0x123456789ULL);
	/* Later failures change nothing. */
	CHECK_EQ(badbatch_consumer_fail(c0, 7, EPIPE), -ESHUTDOWN);
	CHECK_EQ(badbatch_producer_fail(p, 8, ENOSPC), -ESHUTDOWN);
	CHECK_EQ(badbatch_halt(ring), 0);
	check_all(ring, c0, p, EIO, 1, 0x123456789ULL);
	badbatch_producer_close(p);
	badbatch_consumer_close(c1);
	badbatch_consumer_close(c0);
	badbatch_close(ring);
}

TEST(lib_fail_producer_record)
{
	struct badbatch *ring = mem_ring(8, 32, BADBATCH_MULTI_PRODUCER, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);

	CHECK_EQ(badbatch_producer_fail(p, 42, 4095), 0);
	check_all(ring, c, p, 4095, BADBATCH_NO_ID, 42);
	CHECK_EQ(badbatch_consumer_fail(c, 1, 1), -ESHUTDOWN);
	check_all(ring, c, p, 4095, BADBATCH_NO_ID, 42);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

/* Halted without a failure: error 0 and no participant. */
TEST(lib_fail_plain_halt_has_no_record)
{
	struct badbatch *ring = mem_ring(8, 32, 0, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);

	CHECK_EQ(badbatch_consumer_halt(c), 0);
	check_all(ring, c, p, 0, BADBATCH_NO_ID, 0);
	CHECK_EQ(badbatch_consumer_fail(c, 3, EIO), -ESHUTDOWN);
	check_all(ring, c, p, 0, BADBATCH_NO_ID, 0);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_fail_argument_checks)
{
	struct badbatch *ring = mem_ring(8, 32, 0, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);
	struct badbatch named = { .fd = -1 };	/* a name-only handle */
	struct badbatch_failure f;

	CHECK_EQ(badbatch_consumer_fail(c, 0, 0), -EINVAL);
	CHECK_EQ(badbatch_consumer_fail(c, 0, -EIO), -EINVAL);
	CHECK_EQ(badbatch_consumer_fail(c, 0, 4096), -EINVAL);
	CHECK_EQ(badbatch_producer_fail(p, 0, 0), -EINVAL);
	CHECK_EQ(badbatch_producer_fail(p, 0, 4096), -EINVAL);
	CHECK_EQ(badbatch_consumer_fail(NULL, 0, EIO), -EINVAL);
	CHECK_EQ(badbatch_producer_fail(NULL, 0, EIO), -EINVAL);
	CHECK(!badbatch_is_halted(ring));	/* nothing happened */
	CHECK_EQ(badbatch_get_failure(ring, NULL), -EINVAL);
	CHECK_EQ(badbatch_get_failure(NULL, &f), -EINVAL);
	CHECK_EQ(badbatch_consumer_get_failure(c, NULL), -EINVAL);
	CHECK_EQ(badbatch_producer_get_failure(NULL, &f), -EINVAL);
	CHECK_EQ(badbatch_get_failure(&named, &f), -EACCES);
	CHECK_EQ(badbatch_get_failure(ring, &f), -EAGAIN);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

struct waiter {
	struct badbatch_consumer *c;
	struct badbatch_producer *p;
	uint64_t got;
	int rc;
	unsigned int started;
};

static int count_event(void *ctx, void *event, uint64_t seq, bool eob)
{
	struct waiter *w = ctx;

	CHECK_EQ(((struct lev *)event)->seq, seq);
	bb_store(&w->got, bb_load(&w->got) + 1);
	return 0;
}

static void consume_until_error(void *arg)
{
	struct waiter *w = arg;
	int rc;

	bb_store_release(&w->started, 1);
	while ((rc = badbatch_consume(w->c, count_event, w, 0)) >= 0)
		;
	w->rc = rc;
}

static void claim_blocked(void *arg)
{
	struct waiter *w = arg;
	uint64_t seq;

	bb_store_release(&w->started, 1);
	w->rc = badbatch_claim(w->p, 1, &seq);
}

/*
 * A downstream stage fails: the producer waiting for capacity and the
 * other consumer waiting for events return -ESHUTDOWN (the consumer
 * after reading what was published), and both read who failed.
 */
TEST(lib_fail_releases_waiters)
{
	struct badbatch *ring = mem_ring(4, 32, 0, 0);
	struct badbatch_consumer *failing;
	struct waiter wc = { 0 }, wp = { 0 };
	struct ut_thread tc, tp;
	struct badbatch_failure f;
	uint64_t seq, k, t0;

	wc.c = mem_consumer(ring, 0, BADBATCH_WAIT_SLEEP);
	failing = mem_consumer(ring, 0, 0);
	wp.p = mem_producer(ring, BADBATCH_WAIT_SLEEP);
	ut_thread_start(&tc, consume_until_error, &wc);
	CHECK_EQ(badbatch_claim(wp.p, 4, &seq), 0);
	for (k = 0; k < 4; k++)
		lev_fill(badbatch_slot(wp.p, k), k, 0, k);
	CHECK_EQ(badbatch_publish(wp.p, 0, 4), 0);
	ut_thread_start(&tp, claim_blocked, &wp);	/* failing gates */
	while (!bb_load_acquire(&wp.started) || bb_load(&wc.got) < 4)
		ut_yield();
	t0 = ut_now_ns();
	while (ut_now_ns() - t0 < 20000000ULL)
		ut_yield();	/* both wait by now */
	CHECK_EQ(badbatch_consumer_fail(failing, 0, ECONNRESET), 0);
	ut_thread_join(&tc);
	ut_thread_join(&tp);
	CHECK_EQ(wc.rc, -ESHUTDOWN);
	CHECK_EQ(wc.got, 4);
	CHECK_EQ(wp.rc, -ESHUTDOWN);
	CHECK_EQ(badbatch_consumer_get_failure(wc.c, &f), 0);
	check_failure(&f, ECONNRESET, badbatch_consumer_id(failing), 0);
	CHECK_EQ(badbatch_producer_get_failure(wp.p, &f), 0);
	check_failure(&f, ECONNRESET, badbatch_consumer_id(failing), 0);
	badbatch_producer_close(wp.p);
	badbatch_consumer_close(failing);
	badbatch_consumer_close(wc.c);
	badbatch_close(ring);
}

struct racer {
	struct badbatch_consumer *c;
	unsigned int *go;
	int rc;
};

static void fail_racer(void *arg)
{
	struct racer *r = arg;

	while (!bb_load_acquire(r->go))
		;
	r->rc = badbatch_consumer_fail(r->c, badbatch_consumer_id(r->c),
				       100 + (int)badbatch_consumer_id(r->c));
}

/* Racing failures: exactly one wins, and the record is all its own. */
TEST(lib_fail_race_one_winner)
{
	unsigned int round;

	for (round = 0; round < 50; round++) {
		struct badbatch *ring = mem_ring(8, 32, 0, 0);
		struct racer r[2];
		struct ut_thread t[2];
		struct badbatch_failure f;
		unsigned int go = 0, i, wins = 0;

		for (i = 0; i < 2; i++) {
			r[i].c = mem_consumer(ring, 0, 0);
			r[i].go = &go;
			ut_thread_start(&t[i], fail_racer, &r[i]);
		}
		bb_store_release(&go, 1);
		for (i = 0; i < 2; i++)
			ut_thread_join(&t[i]);
		CHECK_EQ(badbatch_get_failure(ring, &f), 0);
		for (i = 0; i < 2; i++) {
			if (r[i].rc == 0) {
				wins++;
				check_failure(&f, 100 + (int)i, i, i);
			} else {
				CHECK_EQ(r[i].rc, -ESHUTDOWN);
			}
			badbatch_consumer_close(r[i].c);
		}
		CHECK_EQ(wins, 1);
		badbatch_close(ring);
	}
}
