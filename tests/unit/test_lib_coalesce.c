// SPDX-License-Identifier: GPL-2.0
/*
 * Coalescing consumers (min_batch, linger_ns): which configurations
 * attach, that a waiting call lingers for min_batch events but no longer
 * than linger_ns, returns as soon as min_batch are readable or the ring
 * halts, never lingers when it must not wait, and that processors get
 * the setting while pools refuse it.
 */
#include <errno.h>
#include <time.h>

#include "internal.h"
#include "libutil.h"

#define LONG_LINGER_NS	4000000000U	/* never waited out by a test */
#define SHORT_LINGER_NS	50000000U	/* waited out: 50 ms */
#define PROMPT_NS	400000000ULL	/* "at once", on a loaded machine */

static void nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static struct badbatch_consumer *
coalescing(struct badbatch *ring, uint32_t min_batch, uint32_t linger_ns)
{
	struct badbatch_consumer_config cc = {
		.min_batch = min_batch,
		.linger_ns = linger_ns,
	};
	struct badbatch_consumer *c = NULL;

	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), 0);
	return c;
}

/* Every readable event before limit is the one published there. */
static void check_events(struct badbatch_consumer *c, uint64_t limit)
{
	uint64_t s;

	for (s = badbatch_consumer_seq(c); s < limit; s++) {
		const struct lev *e = badbatch_event(c, s);

		CHECK_EQ(e->seq, s);
		CHECK_EQ(e->check, lev_check(e));
	}
}

TEST(lib_coalesce_config_checked)
{
	static const struct {
		uint32_t min_batch, linger_ns, max_batch;
	} bad[] = {
		{ 8, 0, 0 },		/* a batch size with no time */
		{ 0, 1000, 0 },		/* a time with no batch size */
		{ 1, 1000, 0 },		/* every batch has one event */
		{ 9, 1000, 8 },		/* more than a batch may hold */
	};
	struct badbatch *ring = mem_ring(64, 32, 0, 2);
	struct badbatch_consumer_config cc = { .want_id = true, .id = 0 };
	struct badbatch_consumer *c = NULL;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		cc.min_batch = bad[i].min_batch;
		cc.linger_ns = bad[i].linger_ns;
		cc.max_batch = bad[i].max_batch;
		CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), -EINVAL);
	}
	/* Nothing was attached: id 0 is still free. */
	cc.min_batch = 8;
	cc.linger_ns = 1000;
	cc.max_batch = 8;
	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), 0);
	CHECK_EQ(badbatch_consumer_id(c), 0);
	CHECK_EQ(c->min_batch, 8);
	badbatch_consumer_close(c);
	/* Beyond the ring, a full ring is the most there can be. */
	cc.min_batch = 1000;
	cc.max_batch = 0;
	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), 0);
	CHECK_EQ(c->min_batch, 64);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_coalesce_lingers_then_hands_out)
{
	struct badbatch *ring = mem_ring(64, 32, 0, 2);
	struct badbatch_consumer *waits = coalescing(ring, 8, SHORT_LINGER_NS);
	struct badbatch_consumer *tries = coalescing(ring, 8, LONG_LINGER_NS);
	struct badbatch_producer *p = mem_producer(ring, 0);
	uint64_t t0, dt, limit;

	lev_publish_n(p, 3);
	/* Three of eight: the whole linger, then the three. */
	t0 = ut_now_ns();
	CHECK_EQ(badbatch_wait_for(waits, &limit), 0);
	dt = ut_now_ns() - t0;
	CHECK_EQ(limit, 3);
	CHECKF(dt >= SHORT_LINGER_NS && dt < PROMPT_NS,
	       "lingered %llu ns for %u", (unsigned long long)dt,
	       SHORT_LINGER_NS);
	check_events(waits, limit);
	CHECK_EQ(badbatch_advance(waits, limit), 0);
	/* Not waiting means not lingering either. */
	t0 = ut_now_ns();
	CHECK_EQ(badbatch_try_wait_for(tries, &limit), 0);
	CHECK_EQ(limit, 3);
	CHECK(ut_now_ns() - t0 < PROMPT_NS);
	CHECK_EQ(badbatch_advance(tries, limit), 0);
	CHECK_EQ(badbatch_try_wait_for(tries, &limit), -EAGAIN);
	/* Eight or more: no linger at all. */
	lev_publish_n(p, 9);
	t0 = ut_now_ns();
	CHECK_EQ(badbatch_wait_for(tries, &limit), 0);
	CHECK(ut_now_ns() - t0 < PROMPT_NS);
	CHECK_EQ(limit, 12);
	check_events(tries, limit);
	badbatch_producer_close(p);
	badbatch_consumer_close(waits);
	badbatch_consumer_close(tries);
	badbatch_close(ring);
}

struct trickle {
	struct badbatch_producer *p;
	struct badbatch *ring;
	uint32_t first, second;	/* events before and after the nap */
	bool halt;		/* then halt the ring */
};

static void trickle(void *arg)
{
	struct trickle *t = arg;

	lev_publish_n(t->p, t->first);
	nap_ms(50);
	if (t->second)
		lev_publish_n(t->p, t->second);
	if (t->halt)
		CHECK_EQ(badbatch_halt(t->ring), 0);
}

struct taken {
	uint64_t next, n;
	bool eob;
};

static int take(void *ctx, void *event, uint64_t seq, bool eob)
{
	struct taken *k = ctx;
	const struct lev *e = event;

	CHECK_EQ(seq, k->next);
	CHECK_EQ(e->seq, seq);
	CHECK_EQ(e->check, lev_check(e));
	k->next++;
	k->n++;
	k->eob = eob;
	return 0;
}

TEST(lib_coalesce_returns_at_min_batch)
{
	struct badbatch *ring = mem_ring(64, 32, 0, 1);
	struct badbatch_consumer *c = coalescing(ring, 4, LONG_LINGER_NS);
	struct trickle t = { .p = mem_producer(ring, 0), .ring = ring,
			     .first = 2, .second = 2 };
	struct taken k = { 0 };
	struct ut_thread th;
	uint64_t t0;

	/* Two, a pause, two more: one batch of four, long before the linger. */
	t0 = ut_now_ns();
	ut_thread_start(&th, trickle, &t);
	CHECK_EQ(badbatch_consume(c, take, &k, 0), 4);
	CHECK(ut_now_ns() - t0 < PROMPT_NS);
	CHECK_EQ(k.n, 4);
	CHECK(k.eob);
	ut_thread_join(&th);
	/* A smaller batch asked for is also the smaller minimum. */
	lev_publish_n(t.p, 3);
	t0 = ut_now_ns();
	CHECK_EQ(badbatch_consume(c, take, &k, 2), 2);
	CHECK(ut_now_ns() - t0 < PROMPT_NS);
	CHECK_EQ(k.n, 6);
	badbatch_producer_close(t.p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_coalesce_halt_ends_linger)
{
	struct badbatch *ring = mem_ring(64, 32, 0, 1);
	struct badbatch_consumer *c = coalescing(ring, 8, LONG_LINGER_NS);
	struct trickle t = { .p = mem_producer(ring, 0), .ring = ring,
			     .first = 1, .halt = true };
	struct taken k = { 0 };
	struct ut_thread th;
	uint64_t t0;

	t0 = ut_now_ns();
	ut_thread_start(&th, trickle, &t);
	CHECK_EQ(badbatch_consume(c, take, &k, 0), 1);
	CHECK(ut_now_ns() - t0 < PROMPT_NS);
	ut_thread_join(&th);
	CHECK_EQ(badbatch_consume(c, take, &k, 0), -ESHUTDOWN);
	CHECK_EQ(k.n, 1);
	badbatch_producer_close(t.p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_coalesce_processors_and_pools)
{
	struct badbatch *ring = mem_ring(256, 32, 0, 2);
	struct taken k = { 0 };
	struct badbatch_handler h = {
		.ctx = &k, .on_event = take,
		.min_batch = 16, .linger_ns = 100000,
	};
	struct badbatch_producer *p;
	struct badbatch_topology *t;
	uint32_t i;

	CHECK_EQ(badbatch_topology_create(ring, &t), 0);
	/* Workers claim their own batches: nothing to coalesce. */
	CHECK_EQ(badbatch_topology_add_pool(t, &h, 1, 0, 0), -EINVAL);
	h.min_batch = 1;
	CHECK_EQ(badbatch_topology_add(t, &h, 0), -EINVAL);
	h.min_batch = 16;
	CHECK_EQ(badbatch_topology_add(t, &h, 0), 0);
	p = mem_producer(ring, 0);
	CHECK_EQ(badbatch_topology_start(t), 0);
	for (i = 0; i < 1000; i++)
		lev_publish_n(p, 1);
	CHECK_EQ(badbatch_topology_shutdown(t, 0), 0);
	CHECK_EQ(k.n, 1000);
	CHECK_EQ(k.next, 1000);
	badbatch_producer_close(p);
	badbatch_topology_destroy(t);
	badbatch_close(ring);
}
