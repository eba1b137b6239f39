// SPDX-License-Identifier: GPL-2.0
/*
 * Memory rings' blocking strategies: a waiter sleeps on the ring's futex
 * (stats count it asleep) and exactly the move it waits for wakes it: a
 * publish, a consumer's advance for the producer and for a dependent, a
 * halt, a gating consumer leaving.
 */
#include <errno.h>

#include "libutil.h"
#include "memring.h"

/* How long a sleeper gets to fall asleep before a test gives up. */
#define ASLEEP_WITHIN_NS	5000000000ULL

static struct badbatch *block_ring(uint32_t slots, uint32_t flags)
{
	struct badbatch_config cfg = {
		.slot_count = slots,
		.slot_size = sizeof(struct lev),
		.flags = flags,
		.wait = BADBATCH_WAIT_BLOCK,
	};
	struct badbatch *ring = NULL;

	CHECK_EQ(badbatch_memring_create(&cfg, &ring), 0);
	return ring;
}

static struct badbatch_stats ring_stats(const struct badbatch *ring)
{
	struct badbatch_stats st;

	CHECK_EQ(badbatch_get_stats(ring, &st), 0);
	return st;
}

/* Wait until n participants sleep on the ring's futexes. */
static void wait_asleep(const struct badbatch *ring, uint32_t n)
{
	uint64_t t0 = ut_now_ns();

	while (ring_stats(ring).waiters != n) {
		CHECKF(ut_now_ns() - t0 < ASLEEP_WITHIN_NS,
		       "%u sleepers expected", n);
		ut_yield();
	}
}

/* Wait until the ring counted n sleeps and one sleeper is asleep. */
static void wait_sleeps(const struct badbatch *ring, uint64_t n)
{
	uint64_t t0 = ut_now_ns();
	struct badbatch_stats st;

	for (;;) {
		st = ring_stats(ring);
		if (st.sleeps >= n && st.waiters == 1)
			return;
		CHECKF(ut_now_ns() - t0 < ASLEEP_WITHIN_NS,
		       "%llu sleeps expected", (unsigned long long)n);
		ut_yield();
	}
}

struct sleeper {
	struct badbatch_consumer *c;
	struct badbatch_producer *p;
	uint32_t claim;		/* producer: slots to claim */
	int rc;
	uint64_t out;		/* consumer: limit; producer: claimed seq */
};

/* Join a sleeper that must have been woken with out as its result. */
static void join_woken(struct ut_thread *t, const struct sleeper *s,
		       uint64_t out)
{
	ut_thread_join(t);
	CHECK_EQ(s->rc, 0);
	CHECK_EQ(s->out, out);
}

static void consumer_sleeper(void *arg)
{
	struct sleeper *s = arg;

	s->rc = badbatch_wait_for(s->c, &s->out);
}

static void producer_sleeper(void *arg)
{
	struct sleeper *s = arg;

	s->rc = badbatch_claim(s->p, s->claim, &s->out);
}

TEST(lib_memwait_publish_wakes_consumer)
{
	struct badbatch *ring = block_ring(8, 0);
	struct badbatch_producer *p = mem_producer(ring, BADBATCH_WAIT_BLOCK);
	struct sleeper s = { .c = mem_consumer(ring, 0, BADBATCH_WAIT_BLOCK),
			     .rc = 1 };
	struct badbatch_stats st;
	struct ut_thread t;

	ut_thread_start(&t, consumer_sleeper, &s);
	wait_asleep(ring, 1);
	lev_publish_n(p, 1);
	join_woken(&t, &s, 1);
	CHECK_EQ(lev_check(badbatch_event(s.c, 0)),
		 ((struct lev *)badbatch_event(s.c, 0))->check);
	st = ring_stats(ring);
	CHECK_EQ(st.waiters, 0);
	CHECK(st.sleeps >= 1);
	CHECK(st.wakeups >= 1);
	/* Nobody announced any more: the next publish enters no kernel. */
	CHECK_EQ(bb_load(&ring->hdr->consumer_waiters), 0);
	lev_publish_n(p, 1);
	CHECK_EQ(ring_stats(ring).wakeups, st.wakeups);
	badbatch_producer_close(p);
	badbatch_consumer_close(s.c);
	badbatch_close(ring);
}

static void check_full_ring_sleeps(uint32_t flags)
{
	struct badbatch *ring = block_ring(8, flags);
	struct badbatch_consumer *c = mem_consumer(ring, 0, BADBATCH_WAIT_BLOCK);
	struct sleeper s = { .p = mem_producer(ring, BADBATCH_WAIT_BLOCK),
			     .claim = 2, .rc = 1 };
	uint64_t limit;
	struct ut_thread t;

	lev_publish_n(s.p, 8);
	ut_thread_start(&t, producer_sleeper, &s);
	wait_asleep(ring, 1);
	CHECK_EQ(bb_load(&ring->hdr->producer_waiters), 1);
	/* One slot frees nothing a claim of two can use: back to sleep... */
	CHECK_EQ(badbatch_wait_for(c, &limit), 0);
	CHECK_EQ(limit, 8);
	CHECK_EQ(badbatch_advance(c, 1), 0);
	wait_sleeps(ring, 2);
	CHECK_EQ(__atomic_load_n(&s.rc, __ATOMIC_RELAXED), 1);
	/* ...the second is enough. */
	CHECK_EQ(badbatch_advance(c, 2), 0);
	join_woken(&t, &s, 8);
	CHECK_EQ(badbatch_publish(s.p, 8, 2), 0);
	CHECK_EQ(bb_load(&ring->hdr->producer_waiters), 0);
	badbatch_producer_close(s.p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_memwait_advance_wakes_producer)
{
	check_full_ring_sleeps(0);
	check_full_ring_sleeps(BADBATCH_MULTI_PRODUCER);
}

TEST(lib_memwait_advance_wakes_dependent)
{
	struct badbatch *ring = block_ring(8, 0);
	struct badbatch_producer *p = mem_producer(ring, BADBATCH_WAIT_BLOCK);
	struct badbatch_consumer *first = mem_consumer(ring, 0,
						       BADBATCH_WAIT_BLOCK);
	struct sleeper s = { .rc = 1 };
	uint64_t limit;
	struct ut_thread t;

	s.c = mem_consumer(ring, 1ULL << badbatch_consumer_id(first),
			   BADBATCH_WAIT_BLOCK);
	lev_publish_n(p, 3);
	ut_thread_start(&t, consumer_sleeper, &s);
	wait_asleep(ring, 1);
	/* It waits on its upstream, not on the cursor. */
	CHECK_EQ(bb_load(&ring->hdr->consumer_waiters), 0);
	CHECK_EQ(bb_load(&ring->hdr->consumers[badbatch_consumer_id(first)].waiters),
		 1);
	CHECK_EQ(badbatch_wait_for(first, &limit), 0);
	CHECK_EQ(badbatch_advance(first, 2), 0);
	join_woken(&t, &s, 2);
	badbatch_producer_close(p);
	badbatch_consumer_close(s.c);
	badbatch_consumer_close(first);
	badbatch_close(ring);
}

TEST(lib_memwait_halt_wakes_everyone)
{
	struct badbatch *ring = block_ring(8, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, BADBATCH_WAIT_BLOCK);
	struct sleeper ps = { .p = mem_producer(ring, BADBATCH_WAIT_BLOCK),
			      .claim = 1, .rc = 1 };
	struct sleeper cs = { .rc = 1 };
	struct ut_thread tc, tp;

	lev_publish_n(ps.p, 8);
	ut_thread_start(&tp, producer_sleeper, &ps);
	wait_asleep(ring, 1);
	/* Attached now, it starts at the frontier: nothing to read. */
	cs.c = mem_consumer(ring, 0, BADBATCH_WAIT_BLOCK);
	ut_thread_start(&tc, consumer_sleeper, &cs);
	wait_asleep(ring, 2);
	CHECK_EQ(badbatch_halt(ring), 0);
	ut_thread_join(&tc);
	ut_thread_join(&tp);
	CHECK_EQ(cs.rc, -ESHUTDOWN);
	CHECK_EQ(ps.rc, -ESHUTDOWN);
	CHECK_EQ(ring_stats(ring).waiters, 0);
	badbatch_producer_close(ps.p);
	badbatch_consumer_close(cs.c);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

/* The only gating consumer leaves: the full ring has room at once. */
TEST(lib_memwait_detach_wakes_producer)
{
	struct badbatch *ring = block_ring(8, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, BADBATCH_WAIT_BLOCK);
	struct sleeper s = { .p = mem_producer(ring, BADBATCH_WAIT_BLOCK),
			     .claim = 1, .rc = 1 };
	struct ut_thread t;

	lev_publish_n(s.p, 8);
	ut_thread_start(&t, producer_sleeper, &s);
	wait_asleep(ring, 1);
	badbatch_consumer_close(c);
	join_woken(&t, &s, 8);
	CHECK_EQ(badbatch_publish(s.p, 8, 1), 0);
	badbatch_producer_close(s.p);
	badbatch_close(ring);
}

/* A deadline ends the sleep: nothing else would. */
TEST(lib_memwait_timeout)
{
	struct badbatch *ring = block_ring(8, 0);
	struct badbatch_consumer_config cc = { .wait = {
		.strategy = BADBATCH_WAIT_TIMEOUT_BLOCK,
		.timeout_ns = 50000000 } };
	struct badbatch_consumer *c;
	uint64_t limit, t0, dt;

	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), 0);
	t0 = ut_now_ns();
	CHECK_EQ(badbatch_wait_for(c, &limit), -ETIMEDOUT);
	dt = ut_now_ns() - t0;
	CHECKF(dt >= 50000000, "woke after %llu ns", (unsigned long long)dt);
	CHECK(ring_stats(ring).sleeps >= 1);
	CHECK_EQ(bb_load(&ring->hdr->consumer_waiters), 0);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

/*
 * A dependent asleep on its upstream when the upstream leaves: it follows
 * the cursor from then on, so the next publish must wake it.
 */
TEST(lib_memwait_upstream_leaves)
{
	struct badbatch *ring = block_ring(8, 0);
	struct badbatch_producer *p = mem_producer(ring, BADBATCH_WAIT_BLOCK);
	struct badbatch_consumer *up = mem_consumer(ring, 0,
						    BADBATCH_WAIT_BLOCK);
	struct sleeper s = { .rc = 1 };
	struct ut_thread t;

	s.c = mem_consumer(ring, 1ULL << badbatch_consumer_id(up),
			   BADBATCH_WAIT_BLOCK);
	ut_thread_start(&t, consumer_sleeper, &s);
	wait_asleep(ring, 1);
	badbatch_consumer_close(up);
	/* Woken by the change, it sleeps again, now on the cursor. */
	wait_sleeps(ring, 2);
	CHECK_EQ(bb_load(&ring->hdr->consumer_waiters), 1);
	lev_publish_n(p, 1);
	join_woken(&t, &s, 1);
	badbatch_producer_close(p);
	badbatch_consumer_close(s.c);
	badbatch_close(ring);
}

/*
 * A gating consumer's advance that woke nobody (as when a follower's
 * attach made it non-gating just before it looked): the attach itself
 * must wake the producer, whose gating is now the follower.
 */
TEST(lib_memwait_attach_wakes_producer)
{
	struct badbatch *ring = block_ring(8, 0);
	struct badbatch_consumer *x = mem_consumer(ring, 0, BADBATCH_WAIT_BLOCK);
	struct sleeper s = { .p = mem_producer(ring, BADBATCH_WAIT_BLOCK),
			     .claim = 1, .rc = 1 };
	struct badbatch_consumer *z;
	uint64_t limit;
	struct ut_thread t;

	lev_publish_n(s.p, 8);
	ut_thread_start(&t, producer_sleeper, &s);
	wait_asleep(ring, 1);
	CHECK_EQ(badbatch_wait_for(x, &limit), 0);
	/* The advance's store without its wake. */
	bb_store_release(x->self, 8);
	z = mem_consumer(ring, 1ULL << badbatch_consumer_id(x),
			 BADBATCH_WAIT_BLOCK);
	join_woken(&t, &s, 8);
	CHECK_EQ(badbatch_publish(s.p, 8, 1), 0);
	badbatch_producer_close(s.p);
	badbatch_consumer_close(z);
	badbatch_consumer_close(x);
	badbatch_close(ring);
}

/*
 * Where membarrier(2) is missing somewhere, sleepers cannot have movers
 * fence: they re-check every millisecond, so a lost wake costs that much.
 */
TEST(lib_memwait_without_membarrier)
{
	struct badbatch *ring = block_ring(8, 0);
	struct badbatch_producer *p = mem_producer(ring, BADBATCH_WAIT_BLOCK);
	struct sleeper s = { .c = mem_consumer(ring, 0, BADBATCH_WAIT_BLOCK),
			     .rc = 1 };
	struct ut_thread t;
	uint64_t seq;

	__atomic_store_n(&ring->mem->sh->barrier, 0, __ATOMIC_SEQ_CST);
	ut_thread_start(&t, consumer_sleeper, &s);
	wait_sleeps(ring, 10);
	/* The publish's wake, dropped: only a re-check can find it. */
	CHECK_EQ(badbatch_claim(p, 1, &seq), 0);
	lev_fill(badbatch_slot(p, seq), seq, 0, seq);
	bb_store_release(&p->part.view.prod->cursor, 1);
	join_woken(&t, &s, 1);
	badbatch_producer_close(p);
	badbatch_consumer_close(s.c);
	badbatch_close(ring);
}
