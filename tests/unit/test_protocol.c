// SPDX-License-Identifier: GPL-2.0
/*
 * The shared protocol (include/badbatch/) on plain memory, one thread:
 * claim bounds, full rings, remaining capacity, multi-producer
 * availability, abandoned slots, lying consumers, consumer limits and the
 * need-wakeup checks.
 */
#include <string.h>

#include "harness.h"
#include "plain.h"

static const __u64 no_deps[BB_MAX_CONSUMERS];

/* One consumer (id 0) following the cursor, gating the producers. */
static void one_consumer(struct plain_ring *r)
{
	plain_topology(r, 1, no_deps);
}

/* Single producer: claim, fill, publish, read back across many wraps. */
TEST(proto_sp_wrap_contents)
{
	struct bb_producer_cache pc = { 0 };
	struct plain_ring r;
	__u64 lo, seq, limit, next = 0, read = 0;
	uint64_t rnd = 42;
	unsigned int round, w;

	plain_init(&r, 8, 32, false, 4);
	one_consumer(&r);
	for (round = 0; round < 2000; round++) {
		__u32 n = 1 + ut_rand(&rnd) % 8;

		if (bb_remaining(&r.v, &pc) < n) {
			/* Consume everything, checking contents. */
			limit = bb_consumer_limit(&r.v, 0, read, 8);
			CHECK_EQ(limit, next);
			for (seq = read; seq < limit; seq++) {
				__u64 *ev = bb_slot(&r.v, seq);

				for (w = 0; w < 4; w++)
					CHECK_EQ(ev[w], ut_pattern(seq, w));
			}
			bb_consumer_advance(&r.v, plain_seq(&r, 0), 0, limit);
			read = limit;
		}
		CHECK_EQ(bb_try_claim(&r.v, &pc, n, &lo), 0);
		CHECK_EQ(lo, next);
		CHECK_EQ(bb_load(&r.prod->claim), next + n);
		/* Not visible before publication. */
		CHECK_EQ(bb_published_limit(&r.v, read, 8), next);
		for (seq = lo; seq < lo + n; seq++) {
			__u64 *ev = bb_slot(&r.v, seq);

			CHECK(ev == (__u64 *)(r.slots + (seq % 8) * 32));
			for (w = 0; w < 4; w++)
				ev[w] = ut_pattern(seq, w);
		}
		bb_publish(&r.v, lo, n);
		next += n;
		CHECK_EQ(bb_load(&r.prod->cursor), next);
		CHECK_EQ(bb_published_limit(&r.v, read, 8), next);
	}
	CHECK(next > 8 * 500);
	plain_free(&r);
}

static void check_claim_bounds(bool multi)
{
	struct bb_producer_cache pc = { 0 };
	struct plain_ring r;
	__u64 lo = 12345;

	plain_init(&r, 16, 8, multi, 4);
	one_consumer(&r);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 0, &lo), -EINVAL);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 17, &lo), -EINVAL);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 1U << 31, &lo), -EINVAL);
	CHECK_EQ(lo, 12345);
	CHECK_EQ(bb_load(&r.prod->claim), 0);
	/* A whole ring fits an empty ring, exactly once. */
	CHECK_EQ(bb_try_claim(&r.v, &pc, 16, &lo), 0);
	CHECK_EQ(lo, 0);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 16, &lo), -EAGAIN);
	/* Too large stays -EINVAL on a full ring, never -EAGAIN. */
	CHECK_EQ(bb_try_claim(&r.v, &pc, 17, &lo), -EINVAL);
	plain_free(&r);
}

TEST(proto_claim_larger_than_ring_einval)
{
	check_claim_bounds(false);
	check_claim_bounds(true);
}

static void check_full_ring(bool multi)
{
	struct bb_producer_cache pc = { 0 };
	struct plain_ring r;
	__u64 lo;

	plain_init(&r, 8, 8, multi, 4);
	one_consumer(&r);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 8, &lo), 0);
	bb_publish(&r.v, lo, 8);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 1, &lo), -EAGAIN);
	CHECK_EQ(bb_load(&r.prod->claim), 8);
	/* The consumer frees three slots: three fit, four do not. */
	bb_consumer_advance(&r.v, plain_seq(&r, 0), 0, 3);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 4, &lo), -EAGAIN);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 3, &lo), 0);
	CHECK_EQ(lo, 8);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 1, &lo), -EAGAIN);
	CHECK_EQ(bb_load(&r.prod->claim), 11);
	plain_free(&r);
}

TEST(proto_full_ring_eagain)
{
	check_full_ring(false);
	check_full_ring(true);
}

static void check_remaining(bool multi)
{
	struct bb_producer_cache pc = { 0 };
	struct plain_ring r;
	__u64 lo;

	plain_init(&r, 8, 8, multi, 4);
	/* No consumer: nothing gates, the ring is always free. */
	CHECK_EQ(bb_remaining(&r.v, &pc), 8);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 8, &lo), 0);
	CHECK_EQ(bb_remaining(&r.v, &pc), 8);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 8, &lo), 0);
	CHECK_EQ(lo, 8);

	/* A consumer joins at the frontier (16). */
	bb_store(plain_seq(&r, 0), 16);
	one_consumer(&r);
	CHECK_EQ(bb_remaining(&r.v, &pc), 8);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 3, &lo), 0);
	CHECK_EQ(bb_remaining(&r.v, &pc), 5);
	bb_consumer_advance(&r.v, plain_seq(&r, 0), 0, 18);
	CHECK_EQ(bb_remaining(&r.v, &pc), 7);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 7, &lo), 0);
	CHECK_EQ(bb_remaining(&r.v, &pc), 0);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 1, &lo), -EAGAIN);
	/* A consumer lying below the ring reads as full, not as 2^64. */
	bb_store(plain_seq(&r, 0), 2);
	CHECK_EQ(bb_remaining(&r.v, &pc), 0);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 1, &lo), -EAGAIN);
	plain_free(&r);
}

TEST(proto_remaining_capacity)
{
	check_remaining(false);
	check_remaining(true);
}

/* Out-of-order multi-producer publication and stale rounds. */
TEST(proto_mp_availability_rounds)
{
	struct bb_producer_cache pc = { 0 };
	struct plain_ring r;
	__u64 lo, seq;

	plain_init(&r, 8, 8, true, 4);
	one_consumer(&r);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 4, &lo), 0);
	CHECK_EQ(bb_published_limit(&r.v, 0, 8), 0);
	bb_publish(&r.v, 0, 1);
	bb_publish(&r.v, 1, 1);
	bb_publish(&r.v, 3, 1);
	CHECK_EQ(bb_published_limit(&r.v, 0, 8), 2);
	CHECK(bb_is_published(&r.v, 3));
	CHECK(!bb_is_published(&r.v, 2));
	bb_publish(&r.v, 2, 1);
	CHECK_EQ(bb_published_limit(&r.v, 0, 8), 4);
	CHECK_EQ(bb_published_limit(&r.v, 0, 3), 3);
	CHECK_EQ(bb_published_limit(&r.v, 2, 100), 4);
	CHECK_EQ(r.avail[0], 1);

	/* Later rounds: slot 0 holds round 2 for seq 8, round 3 for 16. */
	bb_consumer_advance(&r.v, plain_seq(&r, 0), 0, 4);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 8, &lo), 0);
	CHECK_EQ(lo, 4);
	bb_publish(&r.v, 4, 8);
	CHECK_EQ(r.avail[0], 2);
	CHECK_EQ(bb_published_limit(&r.v, 4, 8), 12);
	CHECK(!bb_is_published(&r.v, 0));	/* overwritten round */
	CHECK(!bb_is_published(&r.v, 16));	/* future round */
	CHECK(!bb_is_published(&r.v, 12));	/* slot 4 has seq 4's round */
	for (seq = 4; seq < 12; seq++)
		CHECK(bb_is_published(&r.v, seq));
	plain_free(&r);
}

/* Availability rounds wrap at 31 bits without confusing seq 0 and 2^31. */
TEST(proto_mp_round_wrap)
{
	struct plain_ring r;
	__u64 big = (__u64)BB_AVAIL_ROUND_MASK << 1;	/* round 2^31 - 1 */

	plain_init(&r, 2, 8, true, 1);
	CHECK_EQ(bb_avail_round(&r.v, 0), 1);
	CHECK_EQ(bb_avail_round(&r.v, big), 0);
	CHECK_EQ(bb_avail_round(&r.v, big + 2), 1);
	bb_publish(&r.v, big, 1);
	CHECK(bb_is_published(&r.v, big));
	CHECK(!bb_is_published(&r.v, 0));
	plain_free(&r);
}

TEST(proto_abandoned_flag)
{
	struct plain_ring r, sp;
	__u64 lo;
	struct bb_producer_cache pc = { 0 };

	plain_init(&r, 8, 8, true, 4);
	one_consumer(&r);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 3, &lo), 0);
	bb_publish(&r.v, 0, 1);
	/* What the kernel stores for a dead producer's slot. */
	bb_store_release(&r.avail[1],
			 bb_avail_round(&r.v, 1) | BB_AVAIL_ABANDONED);
	CHECK_EQ(bb_published_limit(&r.v, 0, 8), 2);
	bb_publish(&r.v, 2, 1);
	CHECK_EQ(bb_published_limit(&r.v, 0, 8), 3);
	CHECK(!bb_is_abandoned(&r.v, 0));
	CHECK(bb_is_abandoned(&r.v, 1));
	CHECK(!bb_is_abandoned(&r.v, 2));
	/* An abandoned old round does not publish the next one. */
	CHECK(!bb_is_published(&r.v, 9));

	plain_init(&sp, 8, 8, false, 4);
	bb_store(&sp.prod->cursor, 3);
	CHECK(!bb_is_abandoned(&sp.v, 1));
	plain_free(&sp);
	plain_free(&r);
}

/* Values from a user-writable page are clamped, never trusted. */
TEST(proto_lying_consumer_ignored)
{
	struct bb_producer_cache pc = { 0 };
	__u64 deps[BB_MAX_CONSUMERS] = { 0 };
	struct plain_ring r;
	__u64 lo;

	plain_init(&r, 8, 8, false, 4);
	plain_topology(&r, 0x3, deps);	/* 0 and 1 gate */
	bb_store(plain_seq(&r, 0), 1ULL << 40);	/* the liar */
	bb_store(plain_seq(&r, 1), 2);
	CHECK_EQ(bb_gating_min(&r.v, 100), 2);
	bb_store(plain_seq(&r, 1), 500);	/* also above the bound */
	CHECK_EQ(bb_gating_min(&r.v, 100), 100);
	CHECK_EQ(bb_gating_min(&r.v, 0), 0);

	/* Only the liar gates: the producer runs one ring past its own. */
	plain_topology(&r, 0x1, deps);
	CHECK_EQ(bb_remaining(&r.v, &pc), 8);
	CHECK_EQ(bb_try_claim(&r.v, &pc, 8, &lo), 0);
	CHECK_EQ(bb_remaining(&r.v, &pc), 8);
	CHECK_EQ(pc.gating, 8);

	/* Ids at or beyond max_consumers are never read. */
	bb_store(plain_seq(&r, 5), 0);
	r.hdr->gating_mask = (1ULL << 5) | 1;
	CHECK_EQ(bb_gating_min(&r.v, 50), 50);
	CHECK_EQ(bb_deps_min(&r.v, 1ULL << 5, 50), 50);
	plain_free(&r);
}

/* A consumer's limit: the cursor, or the slowest consumer it follows. */
TEST(proto_consumer_limits)
{
	__u64 deps[BB_MAX_CONSUMERS] = { 0, 0, 0x3 };
	struct plain_ring r;

	plain_init(&r, 16, 8, false, 4);
	plain_topology(&r, 0x7, deps);
	CHECK_EQ(r.hdr->gating_mask, 0x4);
	bb_store(&r.prod->cursor, 10);
	bb_store(plain_seq(&r, 0), 5);
	bb_store(plain_seq(&r, 1), 3);
	CHECK_EQ(bb_consumer_limit(&r.v, 0, 5, 16), 10);
	CHECK_EQ(bb_consumer_limit(&r.v, 0, 5, 2), 7);
	CHECK_EQ(bb_consumer_limit(&r.v, 0, 12, 16), 12);
	CHECK_EQ(bb_consumer_limit(&r.v, 2, 1, 16), 3);
	CHECK_EQ(bb_consumer_limit(&r.v, 2, 1, 1), 2);
	CHECK_EQ(bb_consumer_limit(&r.v, 2, 3, 16), 3);
	CHECK_EQ(bb_consumer_limit(&r.v, 2, 4, 16), 4);
	/* Never more than a ring ahead, whatever max says. */
	bb_store(&r.prod->cursor, 100);
	CHECK_EQ(bb_consumer_limit(&r.v, 0, 5, 1000), 21);
	plain_free(&r);
}

TEST(proto_need_wakeup_checks)
{
	__u64 deps[BB_MAX_CONSUMERS] = { 0, 0x1 };
	struct plain_ring r;

	plain_init(&r, 8, 8, false, 4);
	plain_topology(&r, 0x3, deps);	/* 1 follows 0; 1 gates */
	CHECK(!bb_consumers_need_wake(&r.v));
	r.hdr->consumer_waiters = 1;
	CHECK(bb_consumers_need_wake(&r.v));
	r.hdr->consumer_waiters = 0;

	CHECK_EQ(bb_consumer_advance(&r.v, plain_seq(&r, 0), 0, 1), 0);
	CHECK_EQ(*plain_seq(&r, 0), 1);
	r.hdr->producer_waiters = 1;
	/* 0 does not gate: producers do not care that it moved. */
	CHECK_EQ(bb_consumer_advance(&r.v, plain_seq(&r, 0), 0, 2), 0);
	CHECK_EQ(bb_consumer_advance(&r.v, plain_seq(&r, 1), 1, 1),
		 BB_WAKE_PRODUCERS);
	r.hdr->consumers[0].waiters = 1;	/* 1 sleeps waiting on 0 */
	CHECK_EQ(bb_consumer_advance(&r.v, plain_seq(&r, 0), 0, 3),
		 BB_WAKE_DEPENDENTS);
	r.hdr->producer_waiters = 0;
	CHECK_EQ(bb_consumer_advance(&r.v, plain_seq(&r, 1), 1, 2), 0);
	CHECK_EQ(*plain_seq(&r, 1), 2);
	plain_free(&r);
}
