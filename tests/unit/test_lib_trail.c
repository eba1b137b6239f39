// SPDX-License-Identifier: GPL-2.0
/*
 * Trailing consumers (trail_ns): which configurations attach and what
 * they resolve to, that a waiting call trails only after a batch of
 * BADBATCH_TRAIL_BATCH events or more and then for at least trail_ns,
 * that calls which must not wait never trail, and that processors get
 * the setting while pools refuse it.
 */
#include <errno.h>
#include <sched.h>

#include "internal.h"
#include "libutil.h"
#include "topology.h"

static struct badbatch_consumer *trailing(struct badbatch *ring,
					  enum badbatch_wait strategy,
					  uint32_t trail_ns)
{
	struct badbatch_consumer_config cc = {
		.wait = { .strategy = strategy },
		.trail_ns = trail_ns,
	};
	struct badbatch_consumer *c = NULL;

	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), 0);
	return c;
}

/* What trail_ns resolves to for this strategy and setting. */
static uint32_t resolved(struct badbatch *ring, enum badbatch_wait strategy,
			 uint32_t trail_ns)
{
	struct badbatch_consumer *c = trailing(ring, strategy, trail_ns);
	uint32_t ns = c->trail_ns;

	badbatch_consumer_close(c);
	return ns;
}

TEST(lib_trail_config_checked)
{
	struct badbatch *ring = mem_ring(64, 32, 0, 2);
	struct badbatch_consumer_config cc = {
		.want_id = true, .id = 0,
		.trail_ns = BADBATCH_TRAIL_MAX_NS + 1,
	};
	struct badbatch_consumer *c = NULL;

	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), -EINVAL);
	cc.trail_ns = BADBATCH_TRAIL_OFF - 1;
	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), -EINVAL);
	/* Nothing was attached: id 0 is still free. */
	cc.trail_ns = BADBATCH_TRAIL_MAX_NS;
	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), 0);
	CHECK_EQ(badbatch_consumer_id(c), 0);
	CHECK_EQ(c->trail_ns, BADBATCH_TRAIL_MAX_NS);
	badbatch_consumer_close(c);

	/* The default: trailing, but not for the busy spins. */
	CHECK_EQ(resolved(ring, BADBATCH_WAIT_DEFAULT, 0),
		 BADBATCH_TRAIL_DEFAULT_NS);
	CHECK_EQ(resolved(ring, BADBATCH_WAIT_YIELD, 0),
		 BADBATCH_TRAIL_DEFAULT_NS);
	CHECK_EQ(resolved(ring, BADBATCH_WAIT_SLEEP, 0),
		 BADBATCH_TRAIL_DEFAULT_NS);
	CHECK_EQ(resolved(ring, BADBATCH_WAIT_BLOCK, 0),
		 BADBATCH_TRAIL_DEFAULT_NS);
	CHECK_EQ(resolved(ring, BADBATCH_WAIT_PHASED_BACKOFF, 0),
		 BADBATCH_TRAIL_DEFAULT_NS);
	CHECK_EQ(resolved(ring, BADBATCH_WAIT_BUSY_SPIN, 0), 0);
	CHECK_EQ(resolved(ring, BADBATCH_WAIT_BUSY_SPIN_PAUSE, 0), 0);
	/* Asked for, a busy spin trails too; off is off everywhere. */
	CHECK_EQ(resolved(ring, BADBATCH_WAIT_BUSY_SPIN, 1000), 1000);
	CHECK_EQ(resolved(ring, BADBATCH_WAIT_YIELD, BADBATCH_TRAIL_OFF), 0);

	/* A coalescing consumer keeps its distance already. */
	cc.want_id = false;
	cc.min_batch = 8;
	cc.linger_ns = 1000;
	cc.trail_ns = 0;
	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), 0);
	CHECK_EQ(c->trail_ns, 0);
	badbatch_consumer_close(c);
	cc.trail_ns = 2000;
	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), 0);
	CHECK_EQ(c->trail_ns, 2000);
	badbatch_consumer_close(c);

	/* A trail never outlasts the wait's timeout. */
	cc.min_batch = cc.linger_ns = 0;
	cc.trail_ns = 0;
	cc.wait.timeout_ns = 200;
	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), 0);
	CHECK_EQ(c->trail_ns, 200);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_trail_only_after_a_batch)
{
	struct badbatch *ring = mem_ring(64, 32, 0, 1);
	struct badbatch_consumer *c = trailing(ring, BADBATCH_WAIT_YIELD,
					       BADBATCH_TRAIL_MAX_NS);
	struct badbatch_producer *p = mem_producer(ring, 0);
	uint64_t t0, dt, limit;

	/* The first look follows no batch. */
	lev_publish_n(p, BADBATCH_TRAIL_BATCH);
	CHECK_EQ(badbatch_wait_for(c, &limit), 0);
	CHECK_EQ(limit, BADBATCH_TRAIL_BATCH);
	CHECK_EQ(c->trails, 0);
	CHECK_EQ(badbatch_advance(c, limit), 0);

	/* A whole batch taken: the next look waits trail_ns first. */
	lev_publish_n(p, 1);
	t0 = ut_now_ns();
	CHECK_EQ(badbatch_wait_for(c, &limit), 0);
	dt = ut_now_ns() - t0;
	CHECK_EQ(c->trails, 1);
	CHECKF(dt >= BADBATCH_TRAIL_MAX_NS, "trailed %llu ns for %u",
	       (unsigned long long)dt, BADBATCH_TRAIL_MAX_NS);
	CHECK_EQ(limit, BADBATCH_TRAIL_BATCH + 1);
	CHECK_EQ(badbatch_advance(c, limit), 0);

	/* One event since the last look, then one short of a batch. */
	lev_publish_n(p, 1);
	CHECK_EQ(badbatch_wait_for(c, &limit), 0);
	CHECK_EQ(badbatch_advance(c, limit), 0);
	lev_publish_n(p, BADBATCH_TRAIL_BATCH - 1);
	CHECK_EQ(badbatch_wait_for(c, &limit), 0);
	CHECK_EQ(c->trails, 1);
	CHECK_EQ(limit, 2 * BADBATCH_TRAIL_BATCH + 1);

	CHECK_EQ(badbatch_advance(c, limit), 0);

	/*
	 * Part of what a look found taken: the rest is readable already,
	 * so the next look does not trail, however much was taken.
	 */
	lev_publish_n(p, 2 * BADBATCH_TRAIL_BATCH);
	CHECK_EQ(badbatch_wait_for(c, &limit), 0);
	CHECK_EQ(limit, 4 * BADBATCH_TRAIL_BATCH + 1);
	CHECK_EQ(badbatch_advance(c, limit - 3), 0);
	CHECK_EQ(badbatch_wait_for(c, &limit), 0);
	CHECK_EQ(c->trails, 1);
	CHECK_EQ(badbatch_advance(c, limit), 0);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

/* Take what one wait finds; return where the consumer is now. */
static uint64_t take_all(struct badbatch_consumer *c)
{
	uint64_t limit;

	CHECK_EQ(badbatch_wait_for(c, &limit), 0);
	CHECK_EQ(badbatch_advance(c, limit), 0);
	return limit;
}

TEST(lib_trail_not_when_the_ring_fills)
{
	struct badbatch *ring = mem_ring(64, 32, 0, 2);
	struct badbatch_consumer_config cc = {
		.wait = { .strategy = BADBATCH_WAIT_YIELD },
		.trail_ns = BADBATCH_TRAIL_MAX_NS,
		.max_batch = 8,
	};
	struct badbatch_consumer *capped = NULL;
	struct badbatch_consumer *c = trailing(ring, BADBATCH_WAIT_YIELD,
					       BADBATCH_TRAIL_MAX_NS);
	struct badbatch_producer *p = mem_producer(ring, 0);

	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &capped), 0);
	/*
	 * A quarter of the ring found at once: the producer could run out
	 * of room while the consumer trails, so it does not.
	 */
	lev_publish_n(p, 16);
	CHECK_EQ(take_all(c), 16);
	/* max_batch found: more may be readable already. */
	CHECK_EQ(take_all(capped), 8);
	lev_publish_n(p, 1);
	CHECK_EQ(take_all(c), 17);
	CHECK_EQ(take_all(capped), 16);
	CHECK_EQ(c->trails, 0);
	CHECK_EQ(capped->trails, 0);
	/* Just under both: the next look trails. */
	CHECK_EQ(take_all(capped), 17);
	lev_publish_n(p, 15);
	CHECK_EQ(take_all(c), 32);
	lev_publish_n(p, 1);
	CHECK_EQ(take_all(c), 33);
	CHECK_EQ(c->trails, 1);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_consumer_close(capped);
	badbatch_close(ring);
}

/*
 * A consumer that follows another finds only what the other passed: the
 * producer may be much further ahead, and then it must not trail.
 */
TEST(lib_trail_follower_looks_at_the_producer)
{
	struct badbatch *ring = mem_ring(64, 32, 0, 2);
	struct badbatch_consumer *up = trailing(ring, BADBATCH_WAIT_YIELD,
						BADBATCH_TRAIL_OFF);
	struct badbatch_consumer_config cc = {
		.deps = 1ULL << badbatch_consumer_id(up),
		.wait = { .strategy = BADBATCH_WAIT_YIELD },
		.trail_ns = BADBATCH_TRAIL_MAX_NS,
	};
	struct badbatch_producer *p = mem_producer(ring, 0);
	struct badbatch_consumer *down = NULL;

	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &down), 0);
	/* The producer no further than the upstream: it trails. */
	lev_publish_n(p, 8);
	CHECK_EQ(take_all(up), 8);
	CHECK_EQ(take_all(down), 8);
	lev_publish_n(p, 1);
	CHECK_EQ(take_all(up), 9);
	CHECK_EQ(take_all(down), 9);
	CHECK_EQ(down->trails, 1);
	/* Four behind the upstream, but 24 behind the producer: not. */
	lev_publish_n(p, 4);
	CHECK_EQ(take_all(up), 13);
	lev_publish_n(p, 20);
	CHECK_EQ(take_all(down), 13);
	CHECK_EQ(take_all(up), 33);
	CHECK_EQ(take_all(down), 33);
	CHECK_EQ(down->trails, 1);
	badbatch_producer_close(p);
	badbatch_consumer_close(down);
	badbatch_consumer_close(up);
	badbatch_close(ring);
}

/* Several producers: a hole hides how far the others are ahead. */
TEST(lib_trail_hole_looks_at_the_claims)
{
	struct badbatch *ring = mem_ring(64, 32, BADBATCH_MULTI_PRODUCER, 1);
	struct badbatch_consumer *c = trailing(ring, BADBATCH_WAIT_YIELD,
					       BADBATCH_TRAIL_MAX_NS);
	struct badbatch_producer *slow = mem_producer(ring, 0);
	struct badbatch_producer *fast = mem_producer(ring, 0);
	uint64_t hole;

	lev_publish_n(fast, 4);
	CHECK_EQ(badbatch_claim(slow, 1, &hole), 0);
	CHECK_EQ(hole, 4);
	lev_publish_n(fast, 20);
	/* Four readable up to the hole, 25 claimed: no trail after them. */
	CHECK_EQ(take_all(c), 4);
	lev_fill(badbatch_slot(slow, hole), hole, 0, hole);
	CHECK_EQ(badbatch_publish(slow, hole, 1), 0);
	CHECK_EQ(take_all(c), 25);
	CHECK_EQ(c->trails, 0);
	badbatch_producer_close(slow);
	badbatch_producer_close(fast);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_trail_never_without_waiting)
{
	struct badbatch *ring = mem_ring(64, 32, 0, 2);
	struct badbatch_consumer *tries = trailing(ring, BADBATCH_WAIT_YIELD,
						   BADBATCH_TRAIL_MAX_NS);
	struct badbatch_consumer *off = trailing(ring, BADBATCH_WAIT_YIELD,
						 BADBATCH_TRAIL_OFF);
	struct badbatch_producer *p = mem_producer(ring, 0);
	uint64_t limit;
	int round;

	for (round = 0; round < 3; round++) {
		lev_publish_n(p, 2 * BADBATCH_TRAIL_BATCH);
		CHECK_EQ(badbatch_try_wait_for(tries, &limit), 0);
		CHECK_EQ(badbatch_advance(tries, limit), 0);
		CHECK_EQ(badbatch_wait_for(off, &limit), 0);
		CHECK_EQ(badbatch_advance(off, limit), 0);
	}
	CHECK_EQ(tries->trails, 0);
	CHECK_EQ(off->trails, 0);
	CHECK_EQ(badbatch_try_wait_for(tries, &limit), -EAGAIN);
	/* A try resets the count: the next wait follows no batch. */
	lev_publish_n(p, 1);
	CHECK_EQ(badbatch_wait_for(tries, &limit), 0);
	CHECK_EQ(tries->trails, 0);
	badbatch_producer_close(p);
	badbatch_consumer_close(tries);
	badbatch_consumer_close(off);
	badbatch_close(ring);
}

struct seen {
	uint64_t next, n;
};

/* Wait (at most 10 s) until the processor handled n events. */
static void wait_seen(const struct seen *k, uint64_t n)
{
	uint64_t until = ut_now_ns() + 10000000000ULL;

	while (__atomic_load_n(&k->n, __ATOMIC_ACQUIRE) < n &&
	       ut_now_ns() < until)
		sched_yield();
	CHECK_EQ(__atomic_load_n(&k->n, __ATOMIC_ACQUIRE), n);
}

static int see(void *ctx, void *event, uint64_t seq, bool eob)
{
	struct seen *k = ctx;
	const struct lev *e = event;

	CHECK_EQ(seq, k->next);
	CHECK_EQ(e->seq, seq);
	CHECK_EQ(e->check, lev_check(e));
	k->next++;
	/* Pairs with the acquire in wait_seen(). */
	__atomic_store_n(&k->n, k->n + 1, __ATOMIC_RELEASE);
	return 0;
}

TEST(lib_trail_processors_and_pools)
{
	struct badbatch *ring = mem_ring(256, 32, 0, 2);
	struct seen k = { 0 };
	struct badbatch_handler h = {
		.ctx = &k, .on_event = see,
		.trail_ns = BADBATCH_TRAIL_MAX_NS + 1,
	};
	struct badbatch_consumer *c;
	struct badbatch_producer *p;
	struct badbatch_topology *t;
	uint32_t i;

	CHECK_EQ(badbatch_topology_create(ring, &t), 0);
	CHECK_EQ(badbatch_topology_add(t, &h, 0), -EINVAL);
	/* Workers claim their own batches: nothing to trail. */
	h.trail_ns = 1000;
	CHECK_EQ(badbatch_topology_add_pool(t, &h, 1, 0, 0), -EINVAL);
	/* Off passes that check; the next: memory rings have no pools. */
	h.trail_ns = BADBATCH_TRAIL_OFF;
	CHECK_EQ(badbatch_topology_add_pool(t, &h, 1, 0, 0), -EOPNOTSUPP);
	badbatch_topology_destroy(t);

	CHECK_EQ(badbatch_topology_create(ring, &t), 0);
	h.trail_ns = 1000;
	CHECK_EQ(badbatch_topology_add(t, &h, 0), 0);
	c = t->stages[0].procs[0].c;
	CHECK_EQ(c->trail_ns, 1000);
	p = mem_producer(ring, 0);
	CHECK_EQ(badbatch_topology_start(t), 0);
	/* Eight at once, all handled: the processor's next look trails. */
	lev_publish_n(p, 8);
	wait_seen(&k, 8);
	lev_publish_n(p, 1);
	wait_seen(&k, 9);
	for (i = 0; i < 2000; i++)
		lev_publish_n(p, 1 + i % 16);
	CHECK_EQ(badbatch_topology_shutdown(t, 0), 0);
	CHECK(c->trails >= 1);
	CHECK_EQ(k.n, k.next);
	CHECK_EQ(k.n, 9 + 2000 + 2000 / 16 * (15 * 16 / 2));
	badbatch_producer_close(p);
	badbatch_topology_destroy(t);
	badbatch_close(ring);
}
