// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of badbatch's kernel side: the shared sequencing protocol of
 * include/badbatch/ over rings built in kernel memory, on one and two
 * CPUs; the module's pure functions (argument checks, layout, consumer
 * graph); and rings, participants and sleepers in the module's own
 * memory. Run by tests/kunit/run.sh (make test-kunit).
 */
#include <kunit/test.h>
#include <linux/capability.h>
#include <linux/completion.h>
#include <linux/cred.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/prandom.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "bb_internal.h"

/* A ring in kmalloc'ed pieces of the exact size, so KASAN sees overruns. */
struct bb_fixture {
	struct bb_ring_header *hdr;
	struct bb_producer_page *prod;
	unsigned char *cons;
	struct bb_view v;
	struct bb_producer_cache pc;
};

/* Consumer pages further apart than one struct, as the module maps them. */
#define BB_TEST_STRIDE	128

static struct bb_fixture *bb_fixture_new(struct kunit *test, u32 slots,
					 u32 slot_size, u32 max_consumers,
					 bool multi)
{
	struct bb_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f);
	f->hdr = kunit_kzalloc(test, sizeof(*f->hdr), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f->hdr);
	f->prod = kunit_kzalloc(test, sizeof(*f->prod), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f->prod);
	f->cons = kunit_kzalloc(test, max_consumers * BB_TEST_STRIDE,
				GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f->cons);
	f->v.slots = kunit_kzalloc(test, (size_t)slots * slot_size,
				   GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f->v.slots);
	if (multi) {
		f->v.avail = kunit_kcalloc(test, slots, sizeof(u32),
					   GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f->v.avail);
	}

	f->hdr->magic = BB_MAGIC;
	f->hdr->version = BB_ABI_VERSION;
	f->hdr->flags = multi ? BB_RING_MULTI_PRODUCER : 0;
	f->hdr->slot_count = slots;
	f->hdr->slot_size = slot_size;
	f->hdr->slot_shift = ilog2(slots);
	f->hdr->max_consumers = max_consumers;

	f->v.hdr = f->hdr;
	f->v.prod = f->prod;
	f->v.consumers = f->cons;
	f->v.cons_stride = BB_TEST_STRIDE;
	f->v.mask = slots - 1;
	f->v.size = slots;
	f->v.shift = ilog2(slots);
	f->v.slot_size = slot_size;
	f->v.max_consumers = max_consumers;
	f->v.multi = multi;
	return f;
}

static u64 *bb_cons(struct bb_fixture *f, unsigned int id)
{
	return (u64 *)(f->cons + (size_t)id * BB_TEST_STRIDE);
}

/* Consumer id follows deps (0: the cursor); gating if producers wait. */
static void bb_add_consumer(struct bb_fixture *f, unsigned int id, u64 deps,
			    bool gating)
{
	f->hdr->consumers[id].deps = deps;
	f->hdr->consumers[id].flags = BB_CONSUMER_ACTIVE |
				      (gating ? BB_CONSUMER_GATING : 0);
	if (gating)
		f->hdr->gating_mask |= BIT_ULL(id);
	f->hdr->nr_consumers++;
}

/* Move the ring's whole state to sequence seq (all consumers there). */
static void bb_fixture_start_at(struct bb_fixture *f, u64 seq)
{
	unsigned int id;

	f->prod->cursor = seq;
	f->prod->claim = seq;
	f->pc.next = seq;
	f->pc.gating = seq;
	for (id = 0; id < f->v.max_consumers; id++)
		*bb_cons(f, id) = seq;
}

static void bb_view_indexes_slots_and_consumers(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 8, 16, 4, false);

	KUNIT_EXPECT_PTR_EQ(test, bb_slot(&f->v, 0), (void *)f->v.slots);
	KUNIT_EXPECT_PTR_EQ(test, bb_slot(&f->v, 3),
			    (void *)(f->v.slots + 3 * 16));
	KUNIT_EXPECT_PTR_EQ(test, bb_slot(&f->v, 8), (void *)f->v.slots);
	KUNIT_EXPECT_PTR_EQ(test, bb_slot(&f->v, 8 * 1000 + 7),
			    (void *)(f->v.slots + 7 * 16));
	KUNIT_EXPECT_PTR_EQ(test, bb_slot(&f->v, U64_MAX),
			    (void *)(f->v.slots + 7 * 16));
	KUNIT_EXPECT_PTR_EQ(test, bb_consumer_seq(&f->v, 0),
			    (const u64 *)bb_cons(f, 0));
	KUNIT_EXPECT_PTR_EQ(test, bb_consumer_seq(&f->v, 3),
			    (const u64 *)(f->cons + 3 * BB_TEST_STRIDE));
}

static void bb_avail_round_counts_laps_from_one(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 4, 8, 1, true);
	u64 last_lap = (u64)BB_AVAIL_ROUND_MASK - 1;

	KUNIT_EXPECT_EQ(test, bb_avail_round(&f->v, 0), 1U);
	KUNIT_EXPECT_EQ(test, bb_avail_round(&f->v, 3), 1U);
	KUNIT_EXPECT_EQ(test, bb_avail_round(&f->v, 4), 2U);
	KUNIT_EXPECT_EQ(test, bb_avail_round(&f->v, 4 * 1000 + 1), 1001U);
	/* 31 bits of laps, then round 0: distinct from the lap before. */
	KUNIT_EXPECT_EQ(test, bb_avail_round(&f->v, last_lap << 2),
			BB_AVAIL_ROUND_MASK);
	KUNIT_EXPECT_EQ(test, bb_avail_round(&f->v, (last_lap + 1) << 2), 0U);
	KUNIT_EXPECT_EQ(test, bb_avail_round(&f->v, (last_lap + 2) << 2), 1U);
	KUNIT_EXPECT_EQ(test, bb_avail_round(&f->v, U64_MAX) &
			~BB_AVAIL_ROUND_MASK, 0U);
}

static void bb_sp_claim_publish_moves_cursor(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 8, 8, 1, false);
	u64 lo = U64_MAX;

	bb_add_consumer(f, 0, 0, true);
	KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &f->pc, 3, &lo), 0);
	KUNIT_EXPECT_EQ(test, lo, 0ULL);
	KUNIT_EXPECT_EQ(test, f->prod->claim, 3ULL);
	/* Claimed is not published. */
	KUNIT_EXPECT_EQ(test, f->prod->cursor, 0ULL);
	KUNIT_EXPECT_FALSE(test, bb_is_published(&f->v, 0));
	KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, 0, 8), 0ULL);

	bb_publish(&f->v, lo, 3);
	KUNIT_EXPECT_EQ(test, f->prod->cursor, 3ULL);
	KUNIT_EXPECT_TRUE(test, bb_is_published(&f->v, 2));
	KUNIT_EXPECT_FALSE(test, bb_is_published(&f->v, 3));
	KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, 0, 8), 3ULL);
	KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, 0, 2), 2ULL);
	KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, 5, 8), 5ULL);

	KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &f->pc, 2, &lo), 0);
	KUNIT_EXPECT_EQ(test, lo, 3ULL);
	bb_publish(&f->v, lo, 2);
	KUNIT_EXPECT_EQ(test, f->prod->cursor, 5ULL);
	KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, 3, 8), 5ULL);
}

static void bb_sp_claim_is_eagain_when_full(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 8, 8, 1, false);
	u64 lo = 0;

	bb_add_consumer(f, 0, 0, true);
	KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &f->pc, 8, &lo), 0);
	bb_publish(&f->v, lo, 8);
	KUNIT_EXPECT_EQ(test, bb_try_claim(&f->v, &f->pc, 1, &lo), -EAGAIN);
	KUNIT_EXPECT_EQ(test, bb_remaining(&f->v, &f->pc), 0ULL);
	/* A failed claim leaves no trace. */
	KUNIT_EXPECT_EQ(test, f->prod->claim, 8ULL);
	KUNIT_EXPECT_EQ(test, f->pc.next, 8ULL);

	*bb_cons(f, 0) = 3;
	KUNIT_EXPECT_EQ(test, bb_remaining(&f->v, &f->pc), 3ULL);
	KUNIT_EXPECT_EQ(test, bb_try_claim(&f->v, &f->pc, 4, &lo), -EAGAIN);
	KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &f->pc, 3, &lo), 0);
	KUNIT_EXPECT_EQ(test, lo, 8ULL);
	KUNIT_EXPECT_EQ(test, bb_try_claim(&f->v, &f->pc, 1, &lo), -EAGAIN);
}

static void bb_mp_claim_is_eagain_when_full(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 4, 8, 2, true);
	struct bb_producer_cache other = {};
	u64 lo = 0;

	bb_add_consumer(f, 0, 0, true);
	bb_add_consumer(f, 1, 0, true);
	KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &f->pc, 3, &lo), 0);
	KUNIT_EXPECT_EQ(test, lo, 0ULL);
	KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &other, 1, &lo), 0);
	KUNIT_EXPECT_EQ(test, lo, 3ULL);
	KUNIT_EXPECT_EQ(test, bb_try_claim(&f->v, &other, 1, &lo), -EAGAIN);
	KUNIT_EXPECT_EQ(test, bb_try_claim(&f->v, &f->pc, 1, &lo), -EAGAIN);
	KUNIT_EXPECT_EQ(test, f->prod->claim, 4ULL);

	/* The slowest gating consumer decides. */
	*bb_cons(f, 0) = 2;
	KUNIT_EXPECT_EQ(test, bb_try_claim(&f->v, &f->pc, 1, &lo), -EAGAIN);
	*bb_cons(f, 1) = 1;
	KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &f->pc, 1, &lo), 0);
	KUNIT_EXPECT_EQ(test, lo, 4ULL);
	KUNIT_EXPECT_EQ(test, bb_try_claim(&f->v, &other, 1, &lo), -EAGAIN);
}

static void bb_check_claim_einval(struct kunit *test, bool multi)
{
	struct bb_fixture *f = bb_fixture_new(test, 8, 8, 1, multi);
	u64 lo = 77;

	bb_add_consumer(f, 0, 0, true);
	KUNIT_EXPECT_EQ(test, bb_try_claim(&f->v, &f->pc, 0, &lo), -EINVAL);
	KUNIT_EXPECT_EQ(test, bb_try_claim(&f->v, &f->pc, 9, &lo), -EINVAL);
	KUNIT_EXPECT_EQ(test, bb_try_claim(&f->v, &f->pc, U32_MAX, &lo),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, lo, 77ULL);
	KUNIT_EXPECT_EQ(test, f->prod->claim, 0ULL);
	/* The whole ring at once is fine... */
	KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &f->pc, 8, &lo), 0);
	KUNIT_EXPECT_EQ(test, lo, 0ULL);
	/* ...and too large stays -EINVAL on a full ring, never -EAGAIN. */
	KUNIT_EXPECT_EQ(test, bb_try_claim(&f->v, &f->pc, 9, &lo), -EINVAL);
}

static void bb_claim_outside_ring_is_einval(struct kunit *test)
{
	bb_check_claim_einval(test, false);
	bb_check_claim_einval(test, true);
}

static void bb_check_remaining_lie(struct kunit *test, bool multi)
{
	struct bb_fixture *f = bb_fixture_new(test, 8, 8, 1, multi);
	u64 lo = 0;

	bb_add_consumer(f, 0, 0, true);
	bb_fixture_start_at(f, 100);
	KUNIT_EXPECT_EQ(test, bb_remaining(&f->v, &f->pc), 8ULL);
	*bb_cons(f, 0) = 97;
	KUNIT_EXPECT_EQ(test, bb_remaining(&f->v, &f->pc), 5ULL);
	/* More than a ring behind the frontier cannot be true. */
	*bb_cons(f, 0) = 3;
	KUNIT_EXPECT_EQ(test, bb_remaining(&f->v, &f->pc), 0ULL);
	KUNIT_EXPECT_EQ(test, bb_try_claim(&f->v, &f->pc, 1, &lo), -EAGAIN);
}

static void bb_remaining_is_zero_behind_lying_consumer(struct kunit *test)
{
	bb_check_remaining_lie(test, false);
	bb_check_remaining_lie(test, true);
}

static void bb_mp_publish_out_of_order_waits_for_gap(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 8, 8, 1, true);
	struct bb_producer_cache b = {};
	u64 lo_a = 0, lo_b = 0;

	bb_add_consumer(f, 0, 0, true);
	KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &f->pc, 2, &lo_a), 0);
	KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &b, 3, &lo_b), 0);
	KUNIT_EXPECT_EQ(test, lo_a, 0ULL);
	KUNIT_EXPECT_EQ(test, lo_b, 2ULL);

	bb_publish(&f->v, lo_b, 3);
	KUNIT_EXPECT_FALSE(test, bb_is_published(&f->v, 0));
	KUNIT_EXPECT_TRUE(test, bb_is_published(&f->v, 2));
	KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, 0, 8), 0ULL);
	KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, 2, 8), 5ULL);

	bb_publish(&f->v, lo_a, 1);
	KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, 0, 8), 1ULL);
	bb_publish(&f->v, lo_a + 1, 1);
	KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, 0, 8), 5ULL);
	KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, 0, 4), 4ULL);
	/* The single-producer cursor is not used by multi-producer rings. */
	KUNIT_EXPECT_EQ(test, f->prod->cursor, 0ULL);
}

/* Several laps of claim/publish/consume; stale rounds never count. */
static void bb_mp_rounds_survive_wrap_around(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 4, 8, 1, true);
	struct bb_producer_cache b = {};
	u64 lo_a = 0, lo_b = 0, base;
	int lap;

	bb_add_consumer(f, 0, 0, true);
	for (lap = 0; lap < 6; lap++) {
		base = (u64)lap * 4;
		/* The previous lap's words are all there, and all stale. */
		KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, base, 4), base);
		KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &f->pc, 1, &lo_a), 0);
		KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &b, 3, &lo_b), 0);
		KUNIT_EXPECT_EQ(test, lo_a, base);
		KUNIT_EXPECT_EQ(test, lo_b, base + 1);
		KUNIT_EXPECT_EQ(test, bb_try_claim(&f->v, &f->pc, 1, &lo_a),
				-EAGAIN);
		bb_publish(&f->v, lo_b, 3);
		KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, base, 4), base);
		bb_publish(&f->v, base, 1);
		KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, base, 4),
				base + 4);
		KUNIT_EXPECT_EQ(test, f->v.avail[0], (u32)lap + 1);
		/* Not the next lap's events. */
		KUNIT_EXPECT_FALSE(test, bb_is_published(&f->v, base + 4));
		bb_consumer_advance(&f->v, bb_cons(f, 0), 0, base + 4);
	}
}

/* After 2^31 laps the round word wraps to 0, which is not "unpublished". */
static void bb_mp_rounds_survive_31_bit_wrap(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 2, 8, 1, true);
	u64 lo = 0, seq = ((u64)BB_AVAIL_ROUND_MASK - 1) << 1;
	int i;

	bb_add_consumer(f, 0, 0, true);
	bb_fixture_start_at(f, seq);
	f->v.avail[0] = BB_AVAIL_ROUND_MASK - 1;
	f->v.avail[1] = BB_AVAIL_ROUND_MASK - 1;
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, seq, 2), seq);
		KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &f->pc, 2, &lo), 0);
		KUNIT_EXPECT_EQ(test, lo, seq);
		bb_publish(&f->v, lo, 1);
		KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, seq, 2),
				seq + 1);
		bb_publish(&f->v, lo + 1, 1);
		KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, seq, 2),
				seq + 2);
		seq += 2;
		bb_consumer_advance(&f->v, bb_cons(f, 0), 0, seq);
	}
}

static void bb_gating_min_uses_only_gating_consumers(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 8, 8, 4, false);

	KUNIT_EXPECT_EQ(test, bb_gating_min(&f->v, 100), 100ULL);
	bb_add_consumer(f, 0, 0, false);
	bb_add_consumer(f, 1, 0, true);
	bb_add_consumer(f, 2, BIT_ULL(0), true);
	*bb_cons(f, 0) = 5;
	*bb_cons(f, 1) = 40;
	*bb_cons(f, 2) = 30;
	/* Consumer 0 is not gating: consumer 2 follows it. */
	KUNIT_EXPECT_EQ(test, bb_gating_min(&f->v, 100), 30ULL);
	*bb_cons(f, 1) = 20;
	KUNIT_EXPECT_EQ(test, bb_gating_min(&f->v, 100), 20ULL);
	/* Ids beyond the mapped consumer pages are never read. */
	f->hdr->gating_mask |= BIT_ULL(4) | BIT_ULL(63);
	KUNIT_EXPECT_EQ(test, bb_gating_min(&f->v, 100), 20ULL);
	f->hdr->gating_mask = BIT_ULL(63);
	KUNIT_EXPECT_EQ(test, bb_gating_min(&f->v, 100), 100ULL);
}

static void bb_gating_min_clamps_lying_consumers(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 8, 8, 2, false);
	u64 lo = 0;

	bb_add_consumer(f, 0, 0, true);
	bb_add_consumer(f, 1, 0, true);
	*bb_cons(f, 0) = U64_MAX;
	*bb_cons(f, 1) = 1000;
	KUNIT_EXPECT_EQ(test, bb_gating_min(&f->v, 10), 10ULL);
	KUNIT_EXPECT_EQ(test, bb_gating_min(&f->v, 0), 0ULL);
	/* A producer never claims more than a ring past its own frontier. */
	KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &f->pc, 8, &lo), 0);
	KUNIT_EXPECT_LE(test, f->pc.gating, 8ULL);
	KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &f->pc, 8, &lo), 0);
	KUNIT_EXPECT_EQ(test, lo, 8ULL);
	KUNIT_EXPECT_LE(test, f->pc.gating, 16ULL);
	KUNIT_EXPECT_LE(test, bb_remaining(&f->v, &f->pc), 8ULL);
}

struct bb_topo_reader {
	struct bb_fixture *f;
	struct completion done;
	u64 result;
};

static int bb_topo_reader_fn(void *data)
{
	struct bb_topo_reader *r = data;

	r->result = bb_gating_min(&r->f->v, 1000);
	complete(&r->done);
	return 0;
}

/* A reader never returns a snapshot taken while the topology changes. */
static void bb_gating_min_waits_out_topology_change(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 8, 8, 2, false);
	struct bb_topo_reader *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct task_struct *t;
	bool early;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, r);
	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs: the reader spins");
	bb_add_consumer(f, 0, 0, true);
	*bb_cons(f, 0) = 7;
	r->f = f;
	init_completion(&r->done);

	/* The kernel's writer side: odd, change, even. */
	WRITE_ONCE(f->hdr->topo_seq, 1);
	t = kthread_create(bb_topo_reader_fn, r, "bb_kunit_topo");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	kthread_bind(t, (raw_smp_processor_id() + 1) % num_online_cpus());
	wake_up_process(t);
	msleep(50);
	early = completion_done(&r->done);
	WRITE_ONCE(f->hdr->gating_mask, BIT_ULL(1));
	*bb_cons(f, 1) = 3;
	/* Pairs with the acquire loads of topo_seq in bb_gating_min(). */
	smp_store_release(&f->hdr->topo_seq, 2);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&r->done, 10 * HZ));
	KUNIT_EXPECT_FALSE(test, early);
	KUNIT_EXPECT_EQ(test, r->result, 3ULL);
}

static void bb_cursor_consumer_limit_is_published_limit(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 8, 8, 1, false);

	bb_add_consumer(f, 0, 0, true);
	KUNIT_EXPECT_EQ(test, bb_consumer_limit(&f->v, 0, 0, 8), 0ULL);
	f->prod->cursor = 5;
	KUNIT_EXPECT_EQ(test, bb_consumer_limit(&f->v, 0, 0, 8), 5ULL);
	KUNIT_EXPECT_EQ(test, bb_consumer_limit(&f->v, 0, 2, 2), 4ULL);
	/* Never more than a ring ahead, even if asked or lied to. */
	f->prod->cursor = 1000;
	KUNIT_EXPECT_EQ(test, bb_consumer_limit(&f->v, 0, 10, U32_MAX), 18ULL);
	/* A cursor behind the consumer never moves it back. */
	f->prod->cursor = 4;
	KUNIT_EXPECT_EQ(test, bb_consumer_limit(&f->v, 0, 10, 8), 10ULL);
}

static void bb_mp_consumer_limit_stops_at_unpublished(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 8, 8, 1, true);
	u64 lo = 0;

	bb_add_consumer(f, 0, 0, true);
	KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &f->pc, 6, &lo), 0);
	bb_publish(&f->v, 0, 2);
	bb_publish(&f->v, 3, 3);
	KUNIT_EXPECT_EQ(test, bb_consumer_limit(&f->v, 0, 0, 8), 2ULL);
	KUNIT_EXPECT_EQ(test, bb_consumer_limit(&f->v, 0, 3, 8), 6ULL);
	KUNIT_EXPECT_EQ(test, bb_consumer_limit(&f->v, 0, 3, 1), 4ULL);
}

static void bb_dependent_consumer_limit_is_slowest_dep(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 8, 8, 4, false);

	f->prod->cursor = 20;
	bb_add_consumer(f, 0, 0, false);
	bb_add_consumer(f, 1, 0, false);
	bb_add_consumer(f, 2, BIT_ULL(0) | BIT_ULL(1), true);
	bb_add_consumer(f, 3, BIT_ULL(0), true);
	*bb_cons(f, 0) = 15;
	*bb_cons(f, 1) = 12;
	KUNIT_EXPECT_EQ(test, bb_consumer_limit(&f->v, 2, 10, 8), 12ULL);
	KUNIT_EXPECT_EQ(test, bb_consumer_limit(&f->v, 3, 10, 8), 15ULL);
	KUNIT_EXPECT_EQ(test, bb_consumer_limit(&f->v, 2, 10, 1), 11ULL);
	/* Not the producers' cursor: a dependent waits for its upstreams. */
	*bb_cons(f, 1) = 10;
	KUNIT_EXPECT_EQ(test, bb_consumer_limit(&f->v, 2, 10, 8), 10ULL);
	/* An upstream behind (or lying) never moves a dependent back. */
	*bb_cons(f, 1) = 3;
	KUNIT_EXPECT_EQ(test, bb_consumer_limit(&f->v, 2, 10, 8), 10ULL);
	/* An upstream far ahead (or lying) gives at most one ring. */
	*bb_cons(f, 0) = U64_MAX;
	KUNIT_EXPECT_EQ(test, bb_consumer_limit(&f->v, 3, 10, U32_MAX), 18ULL);
	/* Deps are re-read: the kernel rewrote them when consumer 1 left. */
	f->hdr->consumers[2].deps = BIT_ULL(0);
	KUNIT_EXPECT_EQ(test, bb_consumer_limit(&f->v, 2, 10, 4), 14ULL);
}

static void bb_deps_min_ignores_unmapped_ids(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 8, 8, 2, false);

	*bb_cons(f, 0) = 6;
	*bb_cons(f, 1) = 9;
	KUNIT_EXPECT_EQ(test, bb_deps_min(&f->v, 0, 50), 50ULL);
	KUNIT_EXPECT_EQ(test, bb_deps_min(&f->v, BIT_ULL(1), 50), 9ULL);
	KUNIT_EXPECT_EQ(test, bb_deps_min(&f->v, BIT_ULL(1) | BIT_ULL(2), 50),
			9ULL);
	KUNIT_EXPECT_EQ(test, bb_deps_min(&f->v, GENMASK_ULL(63, 0), 50),
			6ULL);
	KUNIT_EXPECT_EQ(test, bb_deps_min(&f->v, BIT_ULL(63), 50), 50ULL);
	KUNIT_EXPECT_EQ(test, bb_deps_min(&f->v, BIT_ULL(1), 4), 4ULL);
}

static void bb_abandoned_slot_is_published_and_flagged(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 4, 8, 1, true);
	struct bb_fixture *sp = bb_fixture_new(test, 4, 8, 1, false);
	u64 lo = 0;

	bb_add_consumer(f, 0, 0, true);
	KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &f->pc, 3, &lo), 0);
	bb_publish(&f->v, 0, 1);
	/* What the kernel does with a dead producer's claimed slot. */
	bb_publish_abandoned(&f->v, 1, 1);
	KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, 0, 4), 2ULL);
	bb_publish(&f->v, 2, 1);
	KUNIT_EXPECT_TRUE(test, bb_is_published(&f->v, 1));
	KUNIT_EXPECT_TRUE(test, bb_is_abandoned(&f->v, 1));
	KUNIT_EXPECT_FALSE(test, bb_is_abandoned(&f->v, 0));
	KUNIT_EXPECT_FALSE(test, bb_is_abandoned(&f->v, 2));
	KUNIT_EXPECT_EQ(test, bb_published_limit(&f->v, 0, 4), 3ULL);

	/* The next lap publishes over it normally. */
	bb_consumer_advance(&f->v, bb_cons(f, 0), 0, 3);
	KUNIT_ASSERT_EQ(test, bb_try_claim(&f->v, &f->pc, 3, &lo), 0);
	bb_publish(&f->v, lo, 3);
	KUNIT_EXPECT_TRUE(test, bb_is_published(&f->v, 5));
	KUNIT_EXPECT_FALSE(test, bb_is_abandoned(&f->v, 5));
	/* A stale abandoned word from an older lap is not published. */
	f->v.avail[2] = bb_avail_round(&f->v, 2) | BB_AVAIL_ABANDONED;
	KUNIT_EXPECT_FALSE(test, bb_is_published(&f->v, 6));

	sp->prod->cursor = 2;
	KUNIT_EXPECT_FALSE(test, bb_is_abandoned(&sp->v, 1));
}

static void bb_consumer_advance_reports_needed_wakeups(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 8, 8, 2, false);
	struct bb_ring_header *h = f->hdr;

	bb_add_consumer(f, 0, 0, false);
	bb_add_consumer(f, 1, BIT_ULL(0), true);
	KUNIT_EXPECT_EQ(test, bb_consumer_advance(&f->v, bb_cons(f, 0), 0, 4),
			0U);
	KUNIT_EXPECT_EQ(test, *bb_cons(f, 0), 4ULL);

	/* Producers wait, but consumer 0 does not gate them. */
	h->producer_waiters = 1;
	KUNIT_EXPECT_EQ(test, bb_consumer_advance(&f->v, bb_cons(f, 0), 0, 5),
			0U);
	KUNIT_EXPECT_EQ(test, bb_consumer_advance(&f->v, bb_cons(f, 1), 1, 2),
			(u32)BB_WAKE_PRODUCERS);
	KUNIT_EXPECT_EQ(test, *bb_cons(f, 1), 2ULL);

	h->consumers[0].waiters = 1;
	KUNIT_EXPECT_EQ(test, bb_consumer_advance(&f->v, bb_cons(f, 0), 0, 6),
			(u32)BB_WAKE_DEPENDENTS);
	h->consumers[1].waiters = 2;
	KUNIT_EXPECT_EQ(test, bb_consumer_advance(&f->v, bb_cons(f, 1), 1, 3),
			(u32)(BB_WAKE_PRODUCERS | BB_WAKE_DEPENDENTS));
	h->producer_waiters = 0;
	KUNIT_EXPECT_EQ(test, bb_consumer_advance(&f->v, bb_cons(f, 1), 1, 4),
			(u32)BB_WAKE_DEPENDENTS);
}

static void bb_consumers_need_wake_reads_announcement(struct kunit *test)
{
	struct bb_fixture *f = bb_fixture_new(test, 8, 8, 1, false);

	KUNIT_EXPECT_FALSE(test, bb_consumers_need_wake(&f->v));
	f->hdr->consumer_waiters = 1;
	KUNIT_EXPECT_TRUE(test, bb_consumers_need_wake(&f->v));
	/* Producer waiters are woken by consumers, not by publishers. */
	f->hdr->consumer_waiters = 0;
	f->hdr->producer_waiters = 3;
	KUNIT_EXPECT_FALSE(test, bb_consumers_need_wake(&f->v));
}

/*
 * Two CPUs at once: producers stamp each event with (producer, count,
 * seq); the consumer checks every sequence once, in per-producer order.
 */
struct bb_stamp {
	u64 seq;
	u32 producer;
	u32 count;
};

#define BB_STRESS_PRODUCERS	2
#define BB_STRESS_EVENTS	20000

struct bb_stress {
	struct bb_fixture *f;
	unsigned long deadline;
	int stop;
	struct bb_stress_producer {
		struct bb_stress *s;
		struct completion done;
		u32 id;
		u32 sent;
		int err;
	} p[BB_STRESS_PRODUCERS];
};

static int bb_stress_producer_fn(void *data)
{
	struct bb_stress_producer *p = data;
	struct bb_stress *s = p->s;
	const struct bb_view *v = &s->f->v;
	struct bb_producer_cache pc = {};
	u64 lo;
	u32 n, i;
	int ret;

	if (!v->multi)
		pc = s->f->pc;
	while (p->sent < BB_STRESS_EVENTS && !READ_ONCE(s->stop)) {
		n = min_t(u32, 1 + p->sent % 5, BB_STRESS_EVENTS - p->sent);
		ret = bb_try_claim(v, &pc, n, &lo);
		if (ret == -EAGAIN || ret == -EBUSY) {
			if (time_after(jiffies, s->deadline)) {
				p->err = -ETIMEDOUT;
				break;
			}
			cond_resched();
			continue;
		}
		if (ret) {
			p->err = ret;
			break;
		}
		for (i = 0; i < n; i++) {
			struct bb_stamp *st = bb_slot(v, lo + i);

			st->seq = lo + i;
			st->producer = p->id;
			st->count = p->sent + i;
		}
		bb_publish(v, lo, n);
		p->sent += n;
	}
	complete(&p->done);
	return 0;
}

/* Consume everything; returns the first inconsistency or 0. */
static int bb_stress_consume(struct bb_stress *s, int producers,
			     u64 *consumed)
{
	const struct bb_view *v = &s->f->v;
	u32 expect[BB_STRESS_PRODUCERS] = {};
	u64 next = 0, total = (u64)producers * BB_STRESS_EVENTS, seq, limit;

	while (next < total) {
		limit = bb_consumer_limit(v, 0, next, v->size);
		if (limit == next) {
			if (time_after(jiffies, s->deadline))
				break;
			cond_resched();
			continue;
		}
		for (seq = next; seq < limit; seq++) {
			const struct bb_stamp *st = bb_slot(v, seq);

			if (st->seq != seq || st->producer >= producers ||
			    st->count != expect[st->producer]++) {
				*consumed = seq;
				return -EPROTO;
			}
		}
		bb_consumer_advance(v, bb_cons(s->f, 0), 0, limit);
		next = limit;
	}
	*consumed = next;
	return next == total ? 0 : -ETIMEDOUT;
}

static void bb_stress_run(struct kunit *test, bool multi, int producers)
{
	struct bb_stress *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	u64 consumed = 0;
	int i, ret;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	s->f = bb_fixture_new(test, 64, sizeof(struct bb_stamp), 1, multi);
	bb_add_consumer(s->f, 0, 0, true);
	s->deadline = jiffies + 60 * HZ;
	for (i = 0; i < producers; i++) {
		struct task_struct *t;

		s->p[i].s = s;
		s->p[i].id = i;
		init_completion(&s->p[i].done);
		t = kthread_run(bb_stress_producer_fn, &s->p[i],
				"bb_kunit_p%d", i);
		if (IS_ERR(t)) {
			WRITE_ONCE(s->stop, 1);
			while (--i >= 0)
				wait_for_completion(&s->p[i].done);
			KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(t));
			return;
		}
	}
	ret = bb_stress_consume(s, producers, &consumed);
	WRITE_ONCE(s->stop, 1);
	for (i = 0; i < producers; i++) {
		wait_for_completion(&s->p[i].done);
		KUNIT_EXPECT_EQ(test, s->p[i].err, 0);
		KUNIT_EXPECT_EQ(test, s->p[i].sent, (u32)BB_STRESS_EVENTS);
	}
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "consumed %llu of %u", consumed,
			    producers * BB_STRESS_EVENTS);
	KUNIT_EXPECT_EQ(test, multi ? s->f->prod->claim : s->f->prod->cursor,
			(u64)producers * BB_STRESS_EVENTS);
}

static void bb_sp_stream_arrives_whole_and_in_order(struct kunit *test)
{
	bb_stress_run(test, false, 1);
}

static void bb_mp_concurrent_claims_never_overlap(struct kunit *test)
{
	bb_stress_run(test, true, BB_STRESS_PRODUCERS);
}


/* Creation arguments: bb_create_validate() field by field. */
static void bb_create_default(struct bb_create *c)
{
	memset(c, 0, sizeof(*c));
	c->slot_count = 1024;
	c->slot_size = 64;
}

struct bb_create_case {
	const char *what;
	size_t off;
	size_t size;
	u64 value;
	int expect;
};

#define BB_CREATE_FIELD(f, v, e) {					\
	.what = #f " = " #v, .off = offsetof(struct bb_create, f),	\
	.size = sizeof(((struct bb_create *)NULL)->f), .value = (v),	\
	.expect = (e) }

static const struct bb_create_case bb_create_cases[] = {
	BB_CREATE_FIELD(flags, BB_RING_FLAGS_ALL, 0),
	BB_CREATE_FIELD(flags, BB_RING_MULTI_PRODUCER, 0),
	BB_CREATE_FIELD(flags, 1U << 2, -EINVAL),
	BB_CREATE_FIELD(flags, 1U << 31, -EINVAL),
	BB_CREATE_FIELD(slot_count, BB_MIN_SLOTS, 0),
	BB_CREATE_FIELD(slot_count, BB_MAX_SLOTS, 0),
	BB_CREATE_FIELD(slot_count, 0, -EINVAL),
	BB_CREATE_FIELD(slot_count, 1, -EINVAL),
	BB_CREATE_FIELD(slot_count, 3, -EINVAL),
	BB_CREATE_FIELD(slot_count, 1000, -EINVAL),
	BB_CREATE_FIELD(slot_count, BB_MAX_SLOTS * 2, -EINVAL),
	BB_CREATE_FIELD(slot_count, 1U << 31, -EINVAL),
	BB_CREATE_FIELD(slot_size, 8, 0),
	BB_CREATE_FIELD(slot_size, BB_MAX_SLOT_SIZE, 0),
	BB_CREATE_FIELD(slot_size, 0, -EINVAL),
	BB_CREATE_FIELD(slot_size, 4, -EINVAL),
	BB_CREATE_FIELD(slot_size, 12, -EINVAL),
	BB_CREATE_FIELD(slot_size, BB_MAX_SLOT_SIZE + 8, -EINVAL),
	BB_CREATE_FIELD(slot_size, U32_MAX - 7, -EINVAL),
	BB_CREATE_FIELD(max_consumers, 0, 0),
	BB_CREATE_FIELD(max_consumers, 1, 0),
	BB_CREATE_FIELD(max_consumers, BB_MAX_CONSUMERS, 0),
	BB_CREATE_FIELD(max_consumers, BB_MAX_CONSUMERS + 1, -EINVAL),
	BB_CREATE_FIELD(max_consumers, U32_MAX, -EINVAL),
	BB_CREATE_FIELD(wait_strategy, BB_WAIT_STRATEGY_MAX, 0),
	BB_CREATE_FIELD(wait_strategy, BB_WAIT_STRATEGY_MAX + 1, -EINVAL),
	BB_CREATE_FIELD(wait_strategy, U32_MAX, -EINVAL),
	BB_CREATE_FIELD(mode, 0, 0),
	BB_CREATE_FIELD(mode, 0777, 0),
	BB_CREATE_FIELD(mode, 01000, -EINVAL),
	BB_CREATE_FIELD(mode, 04755, -EINVAL),
	BB_CREATE_FIELD(ring_id, 1, -EINVAL),
	BB_CREATE_FIELD(reserved[0], 1, -EINVAL),
	BB_CREATE_FIELD(reserved[3], 1ULL << 63, -EINVAL),
	BB_CREATE_FIELD(name[0], '/', -EINVAL),
	BB_CREATE_FIELD(name[0], 'r', 0),
};

static void bb_create_case_desc(const struct bb_create_case *t, char *desc)
{
	strscpy(desc, t->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bb_create, bb_create_cases, bb_create_case_desc);

static void bb_create_validate_checks_each_field(struct kunit *test)
{
	const struct bb_create_case *t = test->param_value;
	struct bb_create c;
	u32 v32 = t->value;

	bb_create_default(&c);
	KUNIT_ASSERT_EQ(test, bb_create_validate(&c), 0);
	switch (t->size) {
	case 1:
		*((char *)&c + t->off) = (char)t->value;
		break;
	case 4:
		memcpy((char *)&c + t->off, &v32, 4);
		break;
	case 8:
		memcpy((char *)&c + t->off, &t->value, 8);
		break;
	default:
		KUNIT_FAIL(test, "field size %zu", t->size);
		return;
	}
	KUNIT_EXPECT_EQ(test, bb_create_validate(&c), t->expect);
}

/* Names: [A-Za-z0-9._-], NUL-terminated inside the field, zero after. */
struct bb_name_case {
	const char *what;
	const char *name;	/* NULL: fill with 'x' */
	int fill;
	int expect;
};

static const struct bb_name_case bb_name_cases[] = {
	{ "empty means unnamed", "", 0, 0 },
	{ "letters digits dot dash underscore", "Ring-1.a_Z9", 0, 0 },
	{ "63 characters", NULL, BB_NAME_MAX - 1, 0 },
	{ "64 characters without NUL", NULL, BB_NAME_MAX, -EINVAL },
	{ "space", "a b", 0, -EINVAL },
	{ "slash", "a/b", 0, -EINVAL },
	{ "newline", "ring\n", 0, -EINVAL },
	{ "control character", "ring\x01", 0, -EINVAL },
	{ "DEL", "ring\x7f", 0, -EINVAL },
	{ "Latin-1 letter", "caf\xe9", 0, -EINVAL },
	{ "UTF-8 letter", "caf\xc3\xa9", 0, -EINVAL },
	{ "high byte", "\xff", 0, -EINVAL },
};

static void bb_name_case_desc(const struct bb_name_case *t, char *desc)
{
	strscpy(desc, t->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bb_name, bb_name_cases, bb_name_case_desc);

static void bb_name_validate_accepts_only_portable_names(struct kunit *test)
{
	const struct bb_name_case *t = test->param_value;
	char name[BB_NAME_MAX] = {};

	if (t->name)
		strscpy(name, t->name, sizeof(name));
	else
		memset(name, 'x', t->fill);
	KUNIT_EXPECT_EQ(test, bb_name_validate(name), t->expect);
}

static void bb_name_validate_rejects_bytes_after_nul(struct kunit *test)
{
	char name[BB_NAME_MAX] = "ring";

	KUNIT_EXPECT_EQ(test, bb_name_validate(name), 0);
	name[BB_NAME_MAX - 1] = 'x';
	KUNIT_EXPECT_EQ(test, bb_name_validate(name), -EINVAL);
	name[BB_NAME_MAX - 1] = 0;
	name[5] = 'x';
	KUNIT_EXPECT_EQ(test, bb_name_validate(name), -EINVAL);
}

/* Layout: every region big enough, none overlapping, offsets unique. */
struct bb_layout_case {
	const char *what;
	u32 flags;
	u32 slot_count;
	u32 slot_size;
	u32 max_consumers;
};

static const struct bb_layout_case bb_layout_cases[] = {
	{ "smallest", 0, BB_MIN_SLOTS, 8, 1 },
	{ "default consumers", 0, 1024, 64, 0 },
	{ "multi-producer, avail spills", BB_RING_MULTI_PRODUCER, 4096, 8,
	  BB_MAX_CONSUMERS },
	{ "slot not dividing a page", BB_RING_MULTI_PRODUCER, 8, 24, 3 },
	{ "one slot larger than a page", 0, 4, 3 * 4096 + 8, 2 },
	{ "largest", BB_RING_FLAGS_ALL, BB_MAX_SLOTS, BB_MAX_SLOT_SIZE,
	  BB_MAX_CONSUMERS },
};

static void bb_layout_case_desc(const struct bb_layout_case *t, char *desc)
{
	strscpy(desc, t->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bb_layout, bb_layout_cases, bb_layout_case_desc);

static void bb_check_region_sizes(struct kunit *test,
				  const struct bb_layout_case *t,
				  const struct bb_layout *l)
{
	const struct bb_region *r = l->region;
	u64 prod = sizeof(struct bb_producer_page);
	u64 slots = (u64)t->slot_count * t->slot_size;

	/* Multi-producer: avail[], then the producers' claim records. */
	if (t->flags & BB_RING_MULTI_PRODUCER)
		prod = bb_records_off(t->flags, t->slot_count) +
		       BB_MAX_RECORDS * sizeof(struct bb_claim_record);
	KUNIT_EXPECT_GE(test, (u64)r[BB_REGION_HEADER].pages << PAGE_SHIFT,
			(u64)sizeof(struct bb_ring_header));
	KUNIT_EXPECT_GE(test, (u64)r[BB_REGION_PRODUCER].pages << PAGE_SHIFT,
			prod);
	KUNIT_EXPECT_LT(test, (u64)(r[BB_REGION_PRODUCER].pages - 1)
			<< PAGE_SHIFT, prod);
	/* One page per consumer: each maps only its own writable. */
	KUNIT_EXPECT_EQ(test, (u64)r[BB_REGION_CONSUMERS].pages,
			(u64)l->max_consumers);
	KUNIT_EXPECT_EQ(test, (u64)r[BB_REGION_SELF].pages, 1ULL);
	KUNIT_EXPECT_EQ(test, r[BB_REGION_SELF].mem_pgoff,
			r[BB_REGION_CONSUMERS].mem_pgoff);
	KUNIT_EXPECT_GE(test, (u64)r[BB_REGION_SLOTS].pages << PAGE_SHIFT,
			slots);
	KUNIT_EXPECT_LT(test, (u64)(r[BB_REGION_SLOTS].pages - 1)
			<< PAGE_SHIFT, slots);
	/* The work pools: one page of entries, after the slots. */
	KUNIT_EXPECT_EQ(test, (u64)r[BB_REGION_POOLS].pages << PAGE_SHIFT,
			(u64)PAGE_SIZE);
	KUNIT_EXPECT_GE(test, (u64)PAGE_SIZE,
			(u64)BB_MAX_POOLS * sizeof(struct bb_pool_entry));
	KUNIT_EXPECT_EQ(test, r[BB_REGION_POOLS].mem_pgoff,
			r[BB_REGION_SLOTS].mem_pgoff + r[BB_REGION_SLOTS].pages);
}

static void bb_check_region_places(struct kunit *test,
				   const struct bb_layout *l)
{
	const struct bb_region *r = l->region;
	unsigned long mem = 0, off = 0;
	int k, j;

	for (k = 0; k < BB_NR_REGIONS; k++) {
		KUNIT_EXPECT_GE(test, r[k].pages, 1UL);
		/* The mmap offsets tile the space in order. */
		KUNIT_EXPECT_EQ(test, r[k].pgoff, off);
		off += r[k].pages;
		for (j = 0; j < k; j++)
			KUNIT_EXPECT_NE(test, r[j].pgoff, r[k].pgoff);
		if (k == BB_REGION_SELF)
			continue;
		/* Memory too, without the self alias. */
		KUNIT_EXPECT_EQ(test, r[k].mem_pgoff, mem);
		mem += r[k].pages;
	}
	KUNIT_EXPECT_EQ(test, l->nr_pages, mem);
	KUNIT_EXPECT_EQ(test, (u64)bb_layout_bytes(l), (u64)mem << PAGE_SHIFT);
}

static void bb_layout_compute_fits_every_region(struct kunit *test)
{
	const struct bb_layout_case *t = test->param_value;
	struct bb_create c;
	struct bb_layout *l = kunit_kzalloc(test, sizeof(*l), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, l);
	bb_create_default(&c);
	c.flags = t->flags;
	c.slot_count = t->slot_count;
	c.slot_size = t->slot_size;
	c.max_consumers = t->max_consumers;
	c.wait_strategy = BB_WAIT_BLOCK;
	KUNIT_ASSERT_EQ(test, bb_create_validate(&c), 0);
	bb_layout_compute(&c, l);

	KUNIT_EXPECT_EQ(test, l->flags, t->flags);
	KUNIT_EXPECT_EQ(test, l->slot_count, t->slot_count);
	KUNIT_EXPECT_EQ(test, l->slot_size, t->slot_size);
	KUNIT_EXPECT_EQ(test, 1ULL << l->shift, (u64)t->slot_count);
	KUNIT_EXPECT_EQ(test, l->max_consumers,
			t->max_consumers ? t->max_consumers : 16U);
	KUNIT_EXPECT_EQ(test, l->wait_strategy, (u32)BB_WAIT_BLOCK);
	bb_check_region_sizes(test, t, l);
	bb_check_region_places(test, l);
}

/* Topology: gating mask and healing, on tables and on random graphs. */
struct bb_gating_case {
	const char *what;
	u64 active;
	u64 deps[8];
	u64 gating;
};

static const struct bb_gating_case bb_gating_cases[] = {
	{ "no consumers", 0, {}, 0 },
	{ "one consumer", BIT(0), {}, BIT(0) },
	{ "fan-out", 0x7, {}, 0x7 },
	{ "pipeline 0-1-2", 0x7, { [1] = BIT(0), [2] = BIT(1) }, BIT(2) },
	{ "diamond", 0xf, { [1] = BIT(0), [2] = BIT(0), [3] = 0x6 }, BIT(3) },
	{ "two chains", 0xf, { [1] = BIT(0), [3] = BIT(2) }, 0xa },
	{ "follower of a higher id", 0x3, { [0] = BIT(1) }, BIT(0) },
	{ "inactive follower hides nothing", BIT(0), { [1] = BIT(0) },
	  BIT(0) },
	{ "sparse ids", BIT(2) | BIT(7), { [7] = BIT(2) }, BIT(7) },
};

static void bb_gating_case_desc(const struct bb_gating_case *t, char *desc)
{
	strscpy(desc, t->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bb_gating, bb_gating_cases, bb_gating_case_desc);

static void bb_topology_gating_is_unfollowed_consumers(struct kunit *test)
{
	const struct bb_gating_case *t = test->param_value;

	KUNIT_EXPECT_EQ(test, bb_topology_gating(t->active, t->deps, 8),
			t->gating);
}

static void bb_topology_gating_handles_id_63(struct kunit *test)
{
	u64 *deps = kunit_kcalloc(test, BB_MAX_CONSUMERS, sizeof(u64),
				  GFP_KERNEL);
	u64 active = BIT_ULL(0) | BIT_ULL(63);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, deps);
	deps[63] = BIT_ULL(0);
	KUNIT_EXPECT_EQ(test, bb_topology_gating(active, deps,
						 BB_MAX_CONSUMERS),
			BIT_ULL(63));
	deps[63] = 0;
	deps[0] = BIT_ULL(63);
	KUNIT_EXPECT_EQ(test, bb_topology_gating(active, deps,
						 BB_MAX_CONSUMERS),
			BIT_ULL(0));
}

static void bb_topology_forget_pipeline(struct kunit *test)
{
	u64 deps[8] = { [1] = BIT(0), [2] = BIT(1), [3] = BIT(2) };
	u64 active = 0xf;

	/* The middle: its follower follows its upstream. */
	bb_topology_forget(&active, deps, 8, 1);
	KUNIT_EXPECT_EQ(test, active, 0xdULL);
	KUNIT_EXPECT_EQ(test, deps[1], 0ULL);
	KUNIT_EXPECT_EQ(test, deps[2], (u64)BIT(0));
	KUNIT_EXPECT_EQ(test, deps[3], (u64)BIT(2));
	KUNIT_EXPECT_EQ(test, bb_topology_gating(active, deps, 8), (u64)BIT(3));
	/* The head: its follower now follows the cursor. */
	bb_topology_forget(&active, deps, 8, 0);
	KUNIT_EXPECT_EQ(test, deps[2], 0ULL);
	/* The tail: the producers gate on the one before. */
	bb_topology_forget(&active, deps, 8, 3);
	KUNIT_EXPECT_EQ(test, active, (u64)BIT(2));
	KUNIT_EXPECT_EQ(test, bb_topology_gating(active, deps, 8), (u64)BIT(2));
	bb_topology_forget(&active, deps, 8, 2);
	KUNIT_EXPECT_EQ(test, active, 0ULL);
	KUNIT_EXPECT_EQ(test, bb_topology_gating(active, deps, 8), 0ULL);
}

static void bb_topology_forget_diamond(struct kunit *test)
{
	u64 deps[8] = { [1] = BIT(0), [2] = BIT(0), [3] = BIT(1) | BIT(2),
			[5] = BIT(1) };
	u64 active = 0xf;

	bb_topology_forget(&active, deps, 8, 1);
	KUNIT_EXPECT_EQ(test, deps[3], (u64)(BIT(0) | BIT(2)));
	KUNIT_EXPECT_EQ(test, bb_topology_gating(active, deps, 8), (u64)BIT(3));
	/* An inactive id's stale entry is left alone. */
	KUNIT_EXPECT_EQ(test, deps[5], (u64)BIT(1));
	bb_topology_forget(&active, deps, 8, 2);
	KUNIT_EXPECT_EQ(test, deps[3], (u64)BIT(0));
	bb_topology_forget(&active, deps, 8, 0);
	KUNIT_EXPECT_EQ(test, deps[3], 0ULL);
	KUNIT_EXPECT_EQ(test, bb_topology_gating(active, deps, 8), (u64)BIT(3));
}

/*
 * Every active consumer's transitive upstreams. One pass in id order:
 * the random graphs below only follow lower ids, and healing keeps it so.
 */
static void bb_upstreams(u64 active, const u64 *deps, u64 *up)
{
	unsigned int i, j;
	u64 d;

	for (i = 0; i < BB_MAX_CONSUMERS; i++) {
		up[i] = 0;
		if (!(active & BIT_ULL(i)))
			continue;
		for (d = deps[i]; d; d &= d - 1) {
			j = __ffs64(d);
			up[i] |= BIT_ULL(j) | up[j];
		}
	}
}

/*
 * Random DAGs of 64 consumers, members leaving in random order: each
 * survivor keeps exactly its surviving transitive upstreams, follows only
 * active consumers, never itself, and the gating set stays the consumers
 * nobody follows.
 */
static void bb_topology_forget_keeps_surviving_order(struct kunit *test)
{
	u64 *deps = kunit_kcalloc(test, 3 * BB_MAX_CONSUMERS, sizeof(u64),
				  GFP_KERNEL);
	u64 *before, *after, active, followed;
	struct rnd_state rnd;
	unsigned int round, i, j, gone;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, deps);
	before = deps + BB_MAX_CONSUMERS;
	after = before + BB_MAX_CONSUMERS;
	prandom_seed_state(&rnd, 0xbadba7c4);
	for (round = 0; round < 10; round++) {
		active = ~0ULL;
		for (i = 0; i < BB_MAX_CONSUMERS; i++) {
			/* Follow a few lower ids: acyclic by construction. */
			deps[i] = 0;
			for (j = 0; j < i; j++)
				if (prandom_u32_state(&rnd) % 16 == 0)
					deps[i] |= BIT_ULL(j);
		}
		while (active) {
			do {
				gone = prandom_u32_state(&rnd) % 64;
			} while (!(active & BIT_ULL(gone)));
			bb_upstreams(active, deps, before);
			bb_topology_forget(&active, deps, BB_MAX_CONSUMERS,
					   gone);
			bb_upstreams(active, deps, after);
			followed = 0;
			for (i = 0; i < BB_MAX_CONSUMERS; i++) {
				if (!(active & BIT_ULL(i)))
					continue;
				followed |= deps[i];
				KUNIT_ASSERT_EQ(test, deps[i] & ~active, 0ULL);
				KUNIT_ASSERT_EQ(test, after[i],
						before[i] & ~BIT_ULL(gone));
			}
			KUNIT_ASSERT_EQ(test, deps[gone], 0ULL);
			KUNIT_ASSERT_EQ(test, bb_topology_gating(active, deps,
							BB_MAX_CONSUMERS),
					active & ~followed);
		}
	}
}

/*
 * Rings in real module memory: creation, the kernel's view, the name
 * table and accounting. Names carry a "kunit." prefix: nothing else
 * in a test kernel creates rings.
 */
static struct bb_ring *bb_test_ring(struct kunit *test, u32 flags,
				    u32 slots, u32 slot_size, u32 consumers,
				    const char *name)
{
	struct bb_create c;
	struct bb_ring *r = NULL;

	bb_create_default(&c);
	c.flags = flags;
	c.slot_count = slots;
	c.slot_size = slot_size;
	c.max_consumers = consumers;
	if (name)
		strscpy(c.name, name, sizeof(c.name));
	KUNIT_ASSERT_EQ(test, bb_ring_create(&c, &r), 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, r);
	return r;
}

static void bb_ring_create_maps_view_over_layout(struct kunit *test)
{
	u64 alive = bb_rings_alive();
	struct bb_ring *r = bb_test_ring(test, BB_RING_MULTI_PRODUCER, 2048,
					 24, 5, NULL);
	const struct bb_layout *l = &r->layout;
	const struct bb_view *v = &r->view;
	unsigned char *base = r->base;
	unsigned int id;

	KUNIT_EXPECT_EQ(test, bb_rings_alive(), alive + 1);
	KUNIT_EXPECT_EQ(test, r->hdr->magic, BB_MAGIC);
	KUNIT_EXPECT_EQ(test, r->hdr->version, BB_ABI_VERSION);
	KUNIT_EXPECT_EQ(test, r->hdr->slot_count, 2048U);
	KUNIT_EXPECT_EQ(test, r->hdr->slot_shift, 11U);
	KUNIT_EXPECT_EQ(test, r->hdr->max_consumers, 5U);
	KUNIT_EXPECT_EQ(test, r->hdr->ring_id, r->id);
	KUNIT_EXPECT_PTR_EQ(test, (void *)v->hdr, (void *)base);
	KUNIT_EXPECT_PTR_EQ(test, (void *)v->prod, (void *)(base +
		(l->region[BB_REGION_PRODUCER].mem_pgoff << PAGE_SHIFT)));
	KUNIT_EXPECT_PTR_EQ(test, (void *)v->avail, (void *)(v->prod + 1));
	KUNIT_EXPECT_EQ(test, v->cons_stride, (u64)PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, v->multi);
	KUNIT_EXPECT_EQ(test, v->size, 2048U);
	KUNIT_EXPECT_EQ(test, v->max_consumers, 5U);

	/* Every byte of every region is there (KASAN and the vmap guard). */
	memset(v->slots, 0x5a, (size_t)v->size * v->slot_size);
	memset(v->avail, 0, v->size * sizeof(u32));
	for (id = 0; id < v->max_consumers; id++)
		*(u64 *)bb_consumer_seq(v, id) = 0;
	KUNIT_EXPECT_EQ(test, r->hdr->magic, BB_MAGIC);
	KUNIT_EXPECT_EQ(test, READ_ONCE(v->prod->claim), 0ULL);
	KUNIT_EXPECT_EQ(test, ((u8 *)v->slots)[0], 0x5a);

	bb_ring_put(r);
	KUNIT_EXPECT_EQ(test, bb_rings_alive(), alive);
}

static void bb_ring_runs_protocol_over_its_pages(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, BB_RING_MULTI_PRODUCER, 512,
					 64, 2, NULL);
	struct bb_view *v = &r->view;
	struct bb_producer_cache pc = {};
	u64 lo = 0, seq;
	int lap;

	/* No consumer yet: nothing gates, laps go round freely. */
	for (lap = 0; lap < 3; lap++) {
		KUNIT_ASSERT_EQ(test, bb_try_claim(v, &pc, 512, &lo), 0);
		KUNIT_EXPECT_EQ(test, lo, (u64)lap * 512);
		for (seq = lo; seq < lo + 512; seq++)
			memset(bb_slot(v, seq), (u8)seq, 64);
		bb_publish(v, lo, 512);
		KUNIT_EXPECT_EQ(test, bb_published_limit(v, lo, 512), lo + 512);
		KUNIT_EXPECT_EQ(test, v->avail[511], (u32)lap + 1);
	}
	bb_ring_put(r);
}

static void bb_ring_names_are_unique_while_alive(struct kunit *test)
{
	u64 alive = bb_rings_alive();
	struct bb_ring *r = bb_test_ring(test, 0, 8, 8, 1, "kunit.names");
	struct bb_ring *u = bb_test_ring(test, 0, 8, 8, 1, NULL);
	struct bb_ring *dup = NULL, *found;
	struct bb_create c;

	found = bb_names_lookup("kunit.names");
	KUNIT_EXPECT_PTR_EQ(test, found, r);
	if (found)
		bb_ring_put(found);
	/* Unnamed rings are never found, not even by "". */
	KUNIT_EXPECT_NULL(test, bb_names_lookup(""));
	KUNIT_EXPECT_NULL(test, bb_names_lookup("kunit.nameless"));

	bb_create_default(&c);
	strscpy(c.name, "kunit.names", sizeof(c.name));
	KUNIT_EXPECT_EQ(test, bb_ring_create(&c, &dup), -EEXIST);
	KUNIT_EXPECT_EQ(test, bb_rings_alive(), alive + 2);

	/* The name is free again once the last reference is gone. */
	bb_ring_put(r);
	KUNIT_EXPECT_NULL(test, bb_names_lookup("kunit.names"));
	KUNIT_ASSERT_EQ(test, bb_ring_create(&c, &dup), 0);
	found = bb_names_lookup("kunit.names");
	KUNIT_EXPECT_PTR_EQ(test, found, dup);
	if (found)
		bb_ring_put(found);
	bb_ring_put(dup);
	bb_ring_put(u);
	KUNIT_EXPECT_EQ(test, bb_rings_alive(), alive);
}

static void bb_ring_create_refuses_oversized_ring(struct kunit *test)
{
	u64 alive = bb_rings_alive();
	struct bb_ring *r = NULL;
	struct bb_create c;

	bb_create_default(&c);
	c.slot_count = BB_MAX_SLOTS;
	c.slot_size = BB_MAX_SLOT_SIZE;
	KUNIT_EXPECT_EQ(test, bb_ring_create(&c, &r), -E2BIG);
	KUNIT_EXPECT_NULL(test, r);
	c.slot_count = 3;
	KUNIT_EXPECT_EQ(test, bb_ring_create(&c, &r), -EINVAL);
	KUNIT_EXPECT_EQ(test, bb_rings_alive(), alive);
}

static void bb_topology_end_mirrors_graph_in_header(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, 0, 8, 8, 4, NULL);
	struct bb_ring_header *h = r->hdr;
	u32 seq0 = h->topo_seq, odd;

	mutex_lock(&r->lock);
	bb_topology_begin(r);
	odd = READ_ONCE(h->topo_seq);
	r->active = 0x7;
	r->deps[1] = BIT_ULL(0);
	r->deps[2] = BIT_ULL(0);
	bb_topology_end(r);
	mutex_unlock(&r->lock);

	/* Odd while it changed, even and moved on once done. */
	KUNIT_EXPECT_EQ(test, odd, seq0 + 1);
	KUNIT_EXPECT_EQ(test, h->topo_seq, seq0 + 2);
	KUNIT_EXPECT_EQ(test, h->gating_mask, 0x6ULL);
	KUNIT_EXPECT_EQ(test, h->nr_consumers, 3U);
	KUNIT_EXPECT_EQ(test, h->consumers[0].flags, BB_CONSUMER_ACTIVE);
	KUNIT_EXPECT_EQ(test, h->consumers[1].flags,
			BB_CONSUMER_ACTIVE | BB_CONSUMER_GATING);
	KUNIT_EXPECT_EQ(test, h->consumers[1].deps, BIT_ULL(0));
	KUNIT_EXPECT_EQ(test, h->consumers[3].flags, 0U);
	/* What producers compute from it. */
	*(u64 *)bb_consumer_seq(&r->view, 0) = 2;
	*(u64 *)bb_consumer_seq(&r->view, 1) = 9;
	*(u64 *)bb_consumer_seq(&r->view, 2) = 7;
	KUNIT_EXPECT_EQ(test, bb_gating_min(&r->view, 100), 7ULL);
	bb_ring_put(r);
}

/*
 * Permissions: owner, group and other bits of the ring's mode, checked
 * as a task with no capabilities (CAP_IPC_OWNER would bypass them).
 */
struct bb_perm_case {
	const char *what;
	u32 uid;
	u32 gid;
	umode_t mode;
	u32 flags;
	int producer;
	int consumer;
	int observer;
};

#define DENY (-EACCES)
static const struct bb_perm_case bb_perm_cases[] = {
	{ "owner rw", 0, 1000, 0600, 0, 0, 0, 0 },
	{ "owner read-only", 0, 1000, 0400, 0, DENY, 0, 0 },
	{ "owner write-only", 0, 1000, 0200, 0, 0, DENY, DENY },
	{ "owner ignores group bits", 0, 0, 0066, 0, DENY, DENY, DENY },
	{ "group rw", 1000, 0, 0060, 0, 0, 0, 0 },
	{ "group read", 1000, 0, 0640, 0, DENY, 0, 0 },
	{ "group ignores other bits", 1000, 0, 0607, 0, DENY, DENY, DENY },
	{ "other read", 1000, 1000, 0664, 0, DENY, 0, 0 },
	{ "other nothing", 1000, 1000, 0660, 0, DENY, DENY, DENY },
	{ "other rw", 1000, 1000, 0606, 0, 0, 0, 0 },
	{ "mutable consumer needs write", 1000, 1000, 0604,
	  BB_RING_MUTABLE_CONSUMERS, DENY, DENY, 0 },
	{ "mutable consumer with rw", 1000, 1000, 0606,
	  BB_RING_MUTABLE_CONSUMERS, 0, 0, 0 },
};
#undef DENY

static void bb_perm_case_desc(const struct bb_perm_case *t, char *desc)
{
	strscpy(desc, t->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bb_perm, bb_perm_cases, bb_perm_case_desc);

static void bb_permission_follows_mode_bits(struct kunit *test)
{
	const struct bb_perm_case *t = test->param_value;
	struct bb_ring *r = bb_test_ring(test, t->flags, 8, 8, 1, NULL);
	const struct cred *old;
	struct cred *cred;
	int producer, consumer, observer;

	/* The ring belongs to uid 0, gid 0: the test runs as root. */
	KUNIT_EXPECT_TRUE(test, uid_eq(r->uid, GLOBAL_ROOT_UID));
	KUNIT_EXPECT_TRUE(test, gid_eq(r->gid, GLOBAL_ROOT_GID));
	r->mode = t->mode;
	cred = prepare_creds();
	if (!cred) {
		bb_ring_put(r);
		KUNIT_FAIL(test, "prepare_creds");
		return;
	}
	cred->euid = KUIDT_INIT(t->uid);
	cred->fsuid = cred->euid;
	cred->egid = KGIDT_INIT(t->gid);
	cred->fsgid = cred->egid;
	cap_clear(cred->cap_effective);
	old = override_creds(cred);
	producer = bb_permission(r, BB_ROLE_PRODUCER);
	consumer = bb_permission(r, BB_ROLE_CONSUMER);
	observer = bb_permission(r, BB_ROLE_OBSERVER);
	revert_creds(old);
	put_cred(cred);

	KUNIT_EXPECT_EQ(test, producer, t->producer);
	KUNIT_EXPECT_EQ(test, consumer, t->consumer);
	KUNIT_EXPECT_EQ(test, observer, t->observer);
	/* Root keeps its override: CAP_IPC_OWNER. */
	KUNIT_EXPECT_EQ(test, bb_permission(r, BB_ROLE_PRODUCER), 0);
	bb_ring_put(r);
}

/* Participants: a struct bb_file per fd, as bb_open() makes them. */
static struct bb_file *bb_test_file(struct kunit *test)
{
	struct bb_file *bf = kunit_kzalloc(test, sizeof(*bf), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, bf);
	mutex_init(&bf->lock);
	spin_lock_init(&bf->poll_lock);
	bf->role = BB_ROLE_NONE;
	bf->consumer_id = BB_ID_ANY;
	return bf;
}

/* Attach bf by name; the ring reference then belongs to bf. */
static int bb_test_attach(struct bb_file *bf, const char *name, u32 role,
			  u32 id, u64 deps)
{
	struct bb_attach a = {
		.role = role, .flags = BB_ATTACH_NAME, .ring_fd = -1,
		.consumer_id = id, .deps = deps,
	};
	int ret;

	strscpy(a.name, name, sizeof(a.name));
	mutex_lock(&bf->lock);
	ret = bb_attach(bf, NULL, &a);
	mutex_unlock(&bf->lock);
	return ret;
}

/* What bb_release() does. */
static void bb_test_release(struct bb_file *bf)
{
	struct bb_ring *r = bf->ring;

	if (!r)
		return;
	bb_detach(bf);
	bf->ring = NULL;
	bb_ring_put(r);
}

static void bb_attach_builds_consumer_graph(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, 0, 8, 8, 4, "kunit.graph");
	struct bb_file *c[4], *p = bb_test_file(test);
	struct bb_ring_header *h = r->hdr;
	int i;

	for (i = 0; i < 4; i++)
		c[i] = bb_test_file(test);
	/* 0 follows the cursor, 1 and 2 follow 0, 3 joins both. */
	KUNIT_ASSERT_EQ(test, bb_test_attach(c[0], "kunit.graph",
					     BB_ROLE_CONSUMER, BB_ID_ANY, 0), 0);
	KUNIT_ASSERT_EQ(test, bb_test_attach(c[1], "kunit.graph",
					     BB_ROLE_CONSUMER, BB_ID_ANY,
					     BIT_ULL(0)), 0);
	KUNIT_ASSERT_EQ(test, bb_test_attach(c[2], "kunit.graph",
					     BB_ROLE_CONSUMER, 2,
					     BIT_ULL(0)), 0);
	KUNIT_ASSERT_EQ(test, bb_test_attach(c[3], "kunit.graph",
					     BB_ROLE_CONSUMER, BB_ID_ANY,
					     BIT_ULL(1) | BIT_ULL(2)), 0);
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_EQ(test, c[i]->role, (u32)BB_ROLE_CONSUMER);
		KUNIT_EXPECT_EQ(test, c[i]->consumer_id, (u32)i);
		KUNIT_EXPECT_PTR_EQ(test, c[i]->ring, r);
	}
	KUNIT_EXPECT_EQ(test, h->nr_consumers, 4U);
	KUNIT_EXPECT_EQ(test, h->gating_mask, BIT_ULL(3));
	KUNIT_EXPECT_EQ(test, h->consumers[3].deps, BIT_ULL(1) | BIT_ULL(2));
	KUNIT_EXPECT_EQ(test, h->topo_seq & 1, 0U);

	KUNIT_ASSERT_EQ(test, bb_test_attach(p, "kunit.graph",
					     BB_ROLE_PRODUCER, BB_ID_ANY, 0), 0);
	KUNIT_EXPECT_EQ(test, h->nr_producers, 1U);

	/* The middle of the diamond leaves: 3 now follows 2 and 0. */
	bb_test_release(c[1]);
	KUNIT_EXPECT_EQ(test, h->nr_consumers, 3U);
	KUNIT_EXPECT_EQ(test, h->consumers[3].deps, BIT_ULL(0) | BIT_ULL(2));
	KUNIT_EXPECT_EQ(test, h->consumers[1].flags, 0U);
	KUNIT_EXPECT_EQ(test, h->gating_mask, BIT_ULL(3));
	/* The gating tail leaves: producers now wait for 2 only. */
	bb_test_release(c[3]);
	KUNIT_EXPECT_EQ(test, h->gating_mask, BIT_ULL(2));
	KUNIT_EXPECT_EQ(test, h->consumers[2].flags,
			BB_CONSUMER_ACTIVE | BB_CONSUMER_GATING);
	bb_test_release(p);
	KUNIT_EXPECT_EQ(test, h->nr_producers, 0U);
	bb_test_release(c[0]);
	bb_test_release(c[2]);
	KUNIT_EXPECT_EQ(test, h->gating_mask, 0ULL);
	KUNIT_EXPECT_EQ(test, h->nr_consumers, 0U);
	bb_ring_put(r);
}

static void bb_attach_refuses_bad_consumers(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, 0, 8, 8, 4, "kunit.refuse");
	struct bb_file *a = bb_test_file(test), *b = bb_test_file(test);
	struct bb_file *p = bb_test_file(test), *q = bb_test_file(test);
	const char *n = "kunit.refuse";

	KUNIT_ASSERT_EQ(test, bb_test_attach(a, n, BB_ROLE_CONSUMER, 1, 0), 0);
	/* Taken id, unknown or inactive upstreams, ids past the ring's. */
	KUNIT_EXPECT_EQ(test, bb_test_attach(b, n, BB_ROLE_CONSUMER, 1, 0),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, bb_test_attach(b, n, BB_ROLE_CONSUMER,
					     BB_ID_ANY, BIT_ULL(0)), -ENOENT);
	KUNIT_EXPECT_EQ(test, bb_test_attach(b, n, BB_ROLE_CONSUMER, 4, 0),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, bb_test_attach(b, n, BB_ROLE_CONSUMER,
					     BB_ID_ANY, BIT_ULL(4)), -EINVAL);
	KUNIT_EXPECT_EQ(test, bb_test_attach(b, n, BB_ROLE_CONSUMER,
					     BB_MAX_CONSUMERS, 0), -EINVAL);
	/* Following oneself. */
	KUNIT_EXPECT_EQ(test, bb_test_attach(b, n, BB_ROLE_CONSUMER, 2,
					     BIT_ULL(2)), -EINVAL);
	/* Producers and observers follow nobody. */
	KUNIT_EXPECT_EQ(test, bb_test_attach(b, n, BB_ROLE_PRODUCER,
					     BB_ID_ANY, BIT_ULL(1)), -EINVAL);
	KUNIT_EXPECT_EQ(test, bb_test_attach(b, n, BB_ROLE_NONE, BB_ID_ANY, 0),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, bb_test_attach(b, "kunit.nosuch",
					     BB_ROLE_CONSUMER, BB_ID_ANY, 0),
			-ENOENT);
	/* Nothing failed half-way. */
	KUNIT_EXPECT_EQ(test, b->role, (u32)BB_ROLE_NONE);
	KUNIT_EXPECT_NULL(test, b->ring);
	KUNIT_EXPECT_EQ(test, r->hdr->nr_consumers, 1U);
	KUNIT_EXPECT_EQ(test, r->active, BIT_ULL(1));
	/* An fd attaches once; a single-producer ring has one producer. */
	KUNIT_EXPECT_EQ(test, bb_test_attach(a, n, BB_ROLE_CONSUMER,
					     BB_ID_ANY, 0), -EISCONN);
	KUNIT_ASSERT_EQ(test, bb_test_attach(p, n, BB_ROLE_PRODUCER,
					     BB_ID_ANY, 0), 0);
	KUNIT_EXPECT_EQ(test, bb_test_attach(q, n, BB_ROLE_PRODUCER,
					     BB_ID_ANY, 0), -EBUSY);
	bb_test_release(p);
	KUNIT_EXPECT_EQ(test, bb_test_attach(q, n, BB_ROLE_PRODUCER,
					     BB_ID_ANY, 0), 0);
	bb_test_release(q);
	bb_test_release(a);
	bb_ring_put(r);
}

static void bb_attach_starts_late_consumer_safely(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, 0, 8, 8, 4, "kunit.late");
	struct bb_file *p = bb_test_file(test), *c[3];
	struct bb_view *v = &r->view;
	const char *n = "kunit.late";
	u64 lo = 0;
	int i;

	for (i = 0; i < 3; i++)
		c[i] = bb_test_file(test);
	KUNIT_ASSERT_EQ(test, bb_test_attach(c[0], n, BB_ROLE_CONSUMER, 0, 0),
			0);
	KUNIT_ASSERT_EQ(test, bb_test_attach(p, n, BB_ROLE_PRODUCER,
					     BB_ID_ANY, 0), 0);
	KUNIT_ASSERT_EQ(test, bb_try_claim(v, &p->pc, 6, &lo), 0);
	bb_publish(v, lo, 5);
	bb_consumer_advance(v, (u64 *)bb_consumer_seq(v, 0), 0, 3);

	/* Following the cursor: from the claim frontier, not 0. */
	KUNIT_ASSERT_EQ(test, bb_test_attach(c[1], n, BB_ROLE_CONSUMER, 1, 0),
			0);
	KUNIT_EXPECT_EQ(test, *bb_consumer_seq(v, 1), 6ULL);
	/* Following consumer 0: from where consumer 0 stands. */
	KUNIT_ASSERT_EQ(test, bb_test_attach(c[2], n, BB_ROLE_CONSUMER, 2,
					     BIT_ULL(0)), 0);
	KUNIT_EXPECT_EQ(test, *bb_consumer_seq(v, 2), 3ULL);
	/* And the producers may not lap either of them. */
	KUNIT_EXPECT_EQ(test, bb_gating_min(v, 6), 3ULL);
	for (i = 0; i < 3; i++)
		bb_test_release(c[i]);
	bb_test_release(p);
	bb_ring_put(r);
}

/*
 * Sleeping in the kernel: a helper thread blocks in bb_wait() or
 * bb_kclaim() while the test thread moves the ring; a missed wakeup shows
 * as -ETIMEDOUT after the helper's deadline instead of a hang.
 */
struct bb_sleeper {
	struct bb_file *bf;
	bool claim;
	u64 seq;
	u64 out;
	int ret;
	struct completion done;
};

static int bb_sleeper_fn(void *data)
{
	struct bb_sleeper *s = data;
	ktime_t deadline = ktime_add_ms(ktime_get(), 10000);

	if (s->claim) {
		mutex_lock(&s->bf->lock);
		s->ret = bb_kclaim(s->bf, 1, false, &deadline, &s->out);
		mutex_unlock(&s->bf->lock);
	} else {
		s->ret = bb_wait(s->bf, s->seq, &deadline, &s->out);
	}
	complete(&s->done);
	return 0;
}

static struct bb_sleeper *bb_sleeper_start(struct kunit *test,
					   struct bb_file *bf, bool claim,
					   u64 seq, const u32 *announced)
{
	struct bb_sleeper *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	struct task_struct *t;
	int i;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	s->bf = bf;
	s->claim = claim;
	s->seq = seq;
	s->ret = 1;
	init_completion(&s->done);
	t = kthread_run(bb_sleeper_fn, s, "bb_kunit_sleep");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	/*
	 * Wait for its announcement, which comes right before it sleeps,
	 * then give it time to reach schedule(): the wakeup is under test,
	 * not only the re-check after announcing.
	 */
	for (i = 0; i < 5000 && !READ_ONCE(*announced); i++)
		usleep_range(1000, 2000);
	msleep(20);
	KUNIT_EXPECT_NE_MSG(test, READ_ONCE(*announced), 0U,
			    "sleeper never announced itself");
	KUNIT_EXPECT_FALSE(test, completion_done(&s->done));
	return s;
}

/* The sleeper must return promptly, long before its own deadline. */
static int bb_sleeper_finish(struct kunit *test, struct bb_sleeper *s)
{
	if (!wait_for_completion_timeout(&s->done, 5 * HZ)) {
		KUNIT_FAIL(test, "sleeper not woken within 5 s");
		wait_for_completion(&s->done);
	}
	return s->ret;
}

static void bb_wait_wakes_consumer_on_publish(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, 0, 8, 8, 2, "kunit.wake");
	struct bb_file *c = bb_test_file(test), *p = bb_test_file(test);
	struct bb_view *v = &r->view;
	struct bb_sleeper *s;
	u64 lo = 0;

	KUNIT_ASSERT_EQ(test, bb_test_attach(c, "kunit.wake", BB_ROLE_CONSUMER,
					     BB_ID_ANY, 0), 0);
	KUNIT_ASSERT_EQ(test, bb_test_attach(p, "kunit.wake", BB_ROLE_PRODUCER,
					     BB_ID_ANY, 0), 0);
	s = bb_sleeper_start(test, c, false, 0, &r->hdr->consumer_waiters);
	KUNIT_ASSERT_EQ(test, bb_try_claim(v, &p->pc, 2, &lo), 0);
	bb_publish(v, lo, 2);
	KUNIT_EXPECT_TRUE(test, bb_consumers_need_wake(v));
	bb_wake(r, BB_WAKE_CONSUMERS);
	/*
	 * The wake itself withdraws the announcement, before the sleeper
	 * runs: the next publishes do not call in again for it.
	 */
	KUNIT_EXPECT_EQ(test, r->hdr->consumer_waiters, 0U);
	KUNIT_EXPECT_FALSE(test, bb_consumers_need_wake(v));
	KUNIT_EXPECT_EQ(test, bb_sleeper_finish(test, s), 0);
	KUNIT_EXPECT_EQ(test, s->out, 2ULL);
	/* Announcements are withdrawn: publishers stop calling in. */
	KUNIT_EXPECT_EQ(test, r->hdr->consumer_waiters, 0U);
	KUNIT_EXPECT_FALSE(test, bb_consumers_need_wake(v));
	bb_test_release(c);
	bb_test_release(p);
	bb_ring_put(r);
}

static void bb_wait_wakes_dependent_on_upstream_move(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, 0, 8, 8, 2, "kunit.dep");
	struct bb_file *up = bb_test_file(test), *down = bb_test_file(test);
	struct bb_view *v = &r->view;
	struct bb_sleeper *s;
	u32 wake;

	KUNIT_ASSERT_EQ(test, bb_test_attach(up, "kunit.dep", BB_ROLE_CONSUMER,
					     0, 0), 0);
	KUNIT_ASSERT_EQ(test, bb_test_attach(down, "kunit.dep",
					     BB_ROLE_CONSUMER, 1, BIT_ULL(0)),
			0);
	r->view.prod->cursor = 4;
	s = bb_sleeper_start(test, down, false, 0, &r->hdr->consumers[0].waiters);
	wake = bb_consumer_advance(v, (u64 *)bb_consumer_seq(v, 0), 0, 3);
	KUNIT_EXPECT_TRUE(test, wake & BB_WAKE_DEPENDENTS);
	bb_wake(r, wake);
	KUNIT_EXPECT_EQ(test, bb_sleeper_finish(test, s), 0);
	KUNIT_EXPECT_EQ(test, s->out, 3ULL);
	KUNIT_EXPECT_EQ(test, r->hdr->consumers[0].waiters, 0U);
	bb_test_release(down);
	bb_test_release(up);
	bb_ring_put(r);
}

/*
 * A diamond's join waits on the slowest of the consumers it follows:
 * those already past its sequence are not asked to wake it, and one that
 * passes it while another still holds it stops being asked.
 */
static void bb_wait_dependent_announces_only_blocking_deps(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, 0, 16, 8, 3, "kunit.join");
	struct bb_file *a = bb_test_file(test), *b = bb_test_file(test);
	struct bb_file *c = bb_test_file(test);
	struct bb_view *v = &r->view;
	struct bb_consumer_entry *e = r->hdr->consumers;
	u64 *sa = (u64 *)bb_consumer_seq(v, 0), *sb = (u64 *)bb_consumer_seq(v, 1);
	struct bb_sleeper *s;
	u32 wake;

	KUNIT_ASSERT_EQ(test, bb_test_attach(a, "kunit.join", BB_ROLE_CONSUMER,
					     0, 0), 0);
	KUNIT_ASSERT_EQ(test, bb_test_attach(b, "kunit.join", BB_ROLE_CONSUMER,
					     1, 0), 0);
	KUNIT_ASSERT_EQ(test, bb_test_attach(c, "kunit.join", BB_ROLE_CONSUMER,
					     2, BIT_ULL(0) | BIT_ULL(1)), 0);
	v->prod->cursor = 12;
	*sa = 5;
	*sb = 2;
	s = bb_sleeper_start(test, c, false, 3, &e[1].waiters);
	KUNIT_EXPECT_EQ(test, e[0].waiters, 0U);	/* A is past 3 */
	wake = bb_consumer_advance(v, sb, 1, 4);
	KUNIT_EXPECT_TRUE(test, wake & BB_WAKE_DEPENDENTS);
	bb_wake(r, wake);
	KUNIT_EXPECT_EQ(test, bb_sleeper_finish(test, s), 0);
	KUNIT_EXPECT_EQ(test, s->out, 4ULL);

	/* Both hold 4; A moves on, B does not: only B is asked to wake. */
	*sa = 4;
	s = bb_sleeper_start(test, c, false, 4, &e[1].waiters);
	KUNIT_EXPECT_EQ(test, e[0].waiters, 1U);
	wake = bb_consumer_advance(v, sa, 0, 9);
	KUNIT_EXPECT_TRUE(test, wake & BB_WAKE_DEPENDENTS);
	bb_wake(r, wake);
	KUNIT_EXPECT_EQ(test, e[0].waiters, 0U);
	KUNIT_EXPECT_EQ(test, e[1].waiters, 1U);
	KUNIT_EXPECT_EQ(test, bb_consumer_advance(v, sa, 0, 10), 0U);
	wake = bb_consumer_advance(v, sb, 1, 7);
	KUNIT_EXPECT_TRUE(test, wake & BB_WAKE_DEPENDENTS);
	bb_wake(r, wake);
	KUNIT_EXPECT_EQ(test, bb_sleeper_finish(test, s), 0);
	KUNIT_EXPECT_EQ(test, s->out, 7ULL);
	KUNIT_EXPECT_EQ(test, e[1].waiters, 0U);
	bb_test_release(c);
	bb_test_release(b);
	bb_test_release(a);
	bb_ring_put(r);
}

/* A full ring; the kernel-mediated claim sleeps until room appears. */
static struct bb_sleeper *bb_full_ring_claimer(struct kunit *test,
					       struct bb_ring *r,
					       const char *n,
					       struct bb_file *c,
					       struct bb_file *p)
{
	u64 lo = 0;

	KUNIT_ASSERT_EQ(test, bb_test_attach(c, n, BB_ROLE_CONSUMER, 0, 0), 0);
	KUNIT_ASSERT_EQ(test, bb_test_attach(p, n, BB_ROLE_PRODUCER,
					     BB_ID_ANY, 0), 0);
	mutex_lock(&p->lock);
	KUNIT_EXPECT_EQ(test, bb_kclaim(p, 4, true, NULL, &lo), 0);
	KUNIT_EXPECT_EQ(test, bb_kpublish(p, lo, 4), 0);
	KUNIT_EXPECT_EQ(test, bb_kclaim(p, 1, true, NULL, &lo), -EAGAIN);
	mutex_unlock(&p->lock);
	return bb_sleeper_start(test, p, true, 0, &r->hdr->producer_waiters);
}

static void bb_kclaim_wakes_when_consumer_advances(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, 0, 4, 8, 1, "kunit.room");
	struct bb_file *c = bb_test_file(test), *p = bb_test_file(test);
	struct bb_view *v = &r->view;
	struct bb_sleeper *s;
	u32 wake;

	s = bb_full_ring_claimer(test, r, "kunit.room", c, p);
	wake = bb_consumer_advance(v, (u64 *)bb_consumer_seq(v, 0), 0, 1);
	KUNIT_EXPECT_EQ(test, wake, (u32)BB_WAKE_PRODUCERS);
	bb_wake(r, wake);
	KUNIT_EXPECT_EQ(test, bb_sleeper_finish(test, s), 0);
	KUNIT_EXPECT_EQ(test, s->out, 4ULL);
	KUNIT_EXPECT_EQ(test, r->hdr->producer_waiters, 0U);
	bb_test_release(c);
	bb_test_release(p);
	bb_ring_put(r);
}

/* A consumer that dies must not leave a producer blocked forever. */
static void bb_kclaim_wakes_when_gating_consumer_leaves(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, 0, 4, 8, 1, "kunit.leave");
	struct bb_file *c = bb_test_file(test), *p = bb_test_file(test);
	struct bb_sleeper *s;

	s = bb_full_ring_claimer(test, r, "kunit.leave", c, p);
	bb_test_release(c);
	KUNIT_EXPECT_EQ(test, bb_sleeper_finish(test, s), 0);
	KUNIT_EXPECT_EQ(test, s->out, 4ULL);
	bb_test_release(p);
	bb_ring_put(r);
}

/* What BB_IOC_HALT does. */
static void bb_test_halt(struct bb_ring *r)
{
	bb_ring_halt(r, NULL, BB_ID_ANY);
}

static void bb_halt_releases_sleepers_with_eshutdown(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, 0, 4, 8, 1, "kunit.halt");
	struct bb_file *c = bb_test_file(test), *p = bb_test_file(test);
	struct bb_file *late = bb_test_file(test);
	struct bb_sleeper *s;
	u64 lo;

	s = bb_full_ring_claimer(test, r, "kunit.halt", c, p);
	bb_test_halt(r);
	KUNIT_EXPECT_EQ(test, bb_sleeper_finish(test, s), -ESHUTDOWN);
	mutex_lock(&p->lock);
	KUNIT_EXPECT_EQ(test, bb_kclaim(p, 1, true, NULL, &lo), -ESHUTDOWN);
	mutex_unlock(&p->lock);
	KUNIT_EXPECT_EQ(test, bb_test_attach(late, "kunit.halt",
					     BB_ROLE_CONSUMER, BB_ID_ANY, 0),
			-ESHUTDOWN);
	bb_test_release(c);
	bb_test_release(p);
	bb_ring_put(r);
}

/* Attach arguments: the pool modifier and the reserved fields. */
struct bb_attach_case {
	const char *what;
	u32 role;
	u32 flags;
	u32 pool;
	u32 reserved32;
	u64 reserved;
	int expect;
};

#define BB_NM	BB_ATTACH_NAME
#define BB_PL	BB_ATTACH_POOL
static const struct bb_attach_case bb_attach_cases[] = {
	{ "plain consumer", BB_ROLE_CONSUMER, BB_NM, 0, 0, 0, 0 },
	{ "pool 0", BB_ROLE_CONSUMER, BB_NM | BB_PL, 0, 0, 0, 0 },
	{ "pool 63", BB_ROLE_CONSUMER, BB_NM | BB_PL, 63, 0, 0, 0 },
	{ "pool 64", BB_ROLE_CONSUMER, BB_NM | BB_PL, 64, 0, 0, -EINVAL },
	{ "pool ~0", BB_ROLE_CONSUMER, BB_NM | BB_PL, ~0U, 0, 0, -EINVAL },
	{ "pool without the flag", BB_ROLE_CONSUMER, BB_NM, 1, 0, 0,
	  -EINVAL },
	{ "POOL alone", BB_ROLE_CONSUMER, BB_PL, 0, 0, 0, -EINVAL },
	{ "POOL with two sources", BB_ROLE_CONSUMER,
	  BB_NM | BB_ATTACH_SELF | BB_PL, 0, 0, 0, -EINVAL },
	{ "POOL for a producer", BB_ROLE_PRODUCER, BB_NM | BB_PL, 0, 0, 0,
	  -EINVAL },
	{ "POOL for an observer", BB_ROLE_OBSERVER, BB_NM | BB_PL, 0, 0, 0,
	  -EINVAL },
	{ "producer pool without the flag", BB_ROLE_PRODUCER, BB_NM, 5, 0, 0,
	  -EINVAL },
	{ "unknown flag 1<<4", BB_ROLE_CONSUMER, BB_NM | BIT(4), 0, 0, 0,
	  -EINVAL },
	{ "reserved32", BB_ROLE_CONSUMER, BB_NM, 0, 1, 0, -EINVAL },
	{ "reserved32 with a pool", BB_ROLE_CONSUMER, BB_NM | BB_PL, 1,
	  BIT(31), 0, -EINVAL },
	{ "reserved[0]", BB_ROLE_CONSUMER, BB_NM | BB_PL, 1, 0, BIT_ULL(63),
	  -EINVAL },
};
#undef BB_NM
#undef BB_PL

static void bb_attach_case_desc(const struct bb_attach_case *t, char *desc)
{
	strscpy(desc, t->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bb_attach_args, bb_attach_cases, bb_attach_case_desc);

static void bb_attach_validate_checks_pool_and_reserved(struct kunit *test)
{
	const struct bb_attach_case *t = test->param_value;
	struct bb_attach a = {
		.role = t->role, .flags = t->flags, .ring_fd = -1,
		.consumer_id = BB_ID_ANY, .name = "ring", .pool = t->pool,
		.reserved32 = t->reserved32, .reserved = { t->reserved },
	};

	KUNIT_EXPECT_EQ(test, bb_attach_validate(&a), t->expect);
}

/* BB_IOC_FAIL arguments: a positive errno, reserved zero. */
static void bb_fail_validate_checks_error_range(struct kunit *test)
{
	static const s32 good[] = { 1, EIO, ESHUTDOWN, 4095 };
	static const s32 bad[] = { 0, -1, -EIO, 4096, S32_MAX, S32_MIN };
	struct bb_fail f = {};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		f.error = good[i];
		KUNIT_EXPECT_EQ_MSG(test, bb_fail_validate(&f), 0, "error %d",
				    good[i]);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		f.error = bad[i];
		KUNIT_EXPECT_EQ_MSG(test, bb_fail_validate(&f), -EINVAL,
				    "error %d", bad[i]);
	}
	f.error = EIO;
	f.seq = U64_MAX;
	KUNIT_EXPECT_EQ(test, bb_fail_validate(&f), 0);
	f.reserved = 1;
	KUNIT_EXPECT_EQ(test, bb_fail_validate(&f), -EINVAL);
}

static void bb_expect_record(struct kunit *test, struct bb_ring *r, u64 seq,
			     s32 error, u32 by)
{
	const struct bb_ring_header *h = r->hdr;

	/* Pairs with the release of status in bb_ring_halt(). */
	KUNIT_EXPECT_EQ(test, smp_load_acquire(&h->status), BB_STATUS_HALTED);
	KUNIT_EXPECT_TRUE(test, r->halted);
	KUNIT_EXPECT_EQ(test, h->fail_seq, seq);
	KUNIT_EXPECT_EQ(test, h->fail_error, error);
	KUNIT_EXPECT_EQ(test, h->fail_by, by);
	KUNIT_EXPECT_EQ(test, r->fail.seq, seq);
	KUNIT_EXPECT_EQ(test, r->fail.error, error);
	KUNIT_EXPECT_EQ(test, r->fail_by, by);
}

/* Only the first failure is kept; a halted ring takes none. */
static void bb_ring_halt_keeps_first_failure(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, 0, 8, 8, 4, NULL);
	struct bb_fail f1 = { .seq = 41, .error = EIO };
	struct bb_fail f2 = { .seq = 99, .error = ENOMEM };

	KUNIT_EXPECT_EQ(test, r->hdr->fail_error, 0);
	KUNIT_EXPECT_EQ(test, r->hdr->fail_by, BB_ID_ANY);
	KUNIT_EXPECT_EQ(test, r->hdr->status, BB_STATUS_RUNNING);
	KUNIT_EXPECT_EQ(test, bb_ring_halt(r, &f1, 3), 0);
	bb_expect_record(test, r, 41, EIO, 3);
	KUNIT_EXPECT_EQ(test, bb_ring_halt(r, &f2, BB_ID_ANY), -ESHUTDOWN);
	bb_expect_record(test, r, 41, EIO, 3);
	/* A plain halt of a halted ring succeeds and changes nothing. */
	KUNIT_EXPECT_EQ(test, bb_ring_halt(r, NULL, BB_ID_ANY), 0);
	bb_expect_record(test, r, 41, EIO, 3);
	bb_ring_put(r);

	r = bb_test_ring(test, 0, 8, 8, 4, NULL);
	KUNIT_EXPECT_EQ(test, bb_ring_halt(r, NULL, BB_ID_ANY), 0);
	KUNIT_EXPECT_EQ(test, bb_ring_halt(r, &f1, 2), -ESHUTDOWN);
	bb_expect_record(test, r, 0, 0, BB_ID_ANY);
	bb_ring_put(r);
}

/* Two threads fail one ring at once: one wins, with its whole record. */
struct bb_fail_racer {
	struct bb_ring *r;
	struct completion *go;
	struct bb_fail f;
	u32 by;
	int ret;
	struct completion done;
};

static int bb_fail_racer_fn(void *arg)
{
	struct bb_fail_racer *t = arg;

	wait_for_completion(t->go);
	t->ret = bb_ring_halt(t->r, &t->f, t->by);
	complete(&t->done);
	return 0;
}

static void bb_ring_halt_racing_failures_leave_one_record(struct kunit *test)
{
	struct bb_fail_racer *t = kunit_kcalloc(test, 2, sizeof(*t),
						 GFP_KERNEL);
	struct completion go;
	int round, i;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	for (round = 0; round < 20; round++) {
		struct bb_ring *r = bb_test_ring(test, 0, 8, 8, 4, NULL);
		struct task_struct *task;
		int winner;

		init_completion(&go);
		for (i = 0; i < 2; i++) {
			t[i].r = r;
			t[i].go = &go;
			t[i].f.seq = 100 + i;
			t[i].f.error = 10 + i;
			t[i].by = i ? BB_ID_ANY : 1;
			t[i].ret = 1;
			init_completion(&t[i].done);
			task = kthread_run(bb_fail_racer_fn, &t[i],
					   "bb-fail-%d", i);
			KUNIT_ASSERT_FALSE(test, IS_ERR(task));
		}
		complete_all(&go);
		for (i = 0; i < 2; i++)
			wait_for_completion(&t[i].done);
		KUNIT_EXPECT_TRUE(test, (t[0].ret == 0) != (t[1].ret == 0));
		winner = t[0].ret == 0 ? 0 : 1;
		KUNIT_EXPECT_EQ(test, t[!winner].ret, -ESHUTDOWN);
		bb_expect_record(test, r, t[winner].f.seq, t[winner].f.error,
				 t[winner].by);
		bb_ring_put(r);
	}
}

/* Attach bf by name to pool. */
static int bb_test_attach_pool(struct bb_file *bf, const char *name,
			       u32 pool)
{
	struct bb_attach a = {
		.role = BB_ROLE_CONSUMER,
		.flags = BB_ATTACH_NAME | BB_ATTACH_POOL, .ring_fd = -1,
		.consumer_id = BB_ID_ANY, .pool = pool,
	};
	int ret;

	strscpy(a.name, name, sizeof(a.name));
	mutex_lock(&bf->lock);
	ret = bb_attach(bf, NULL, &a);
	mutex_unlock(&bf->lock);
	return ret;
}

/* What a departed worker's page says it never finished, bounded. */
static const struct {
	const char *what;
	u64 seq, held, done, want;
} bb_unfinished_cases[] = {
	{ "nothing held", 40, 0, 0, 0 },
	{ "claim finished", 48, 48, 47, 0 },
	{ "whole claim, done stale", 40, 48, 12, 8 },
	{ "part done", 40, 48, 45, 3 },
	{ "done past held", 40, 48, 60, 0 },
	{ "one ring exactly", 0, 16, 0, 16 },
	{ "over a ring: scribbled", 0, 17, 0, 0 },
	{ "huge held: scribbled", 5, ~0ULL, 0, 0 },
	{ "seq past held", 50, 48, 0, 0 },
};

static void bb_pool_unfinished_bounds_the_page(struct kunit *test)
{
	struct bb_consumer_page pg = { 0 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bb_unfinished_cases); i++) {
		pg.seq = bb_unfinished_cases[i].seq;
		pg.held = bb_unfinished_cases[i].held;
		pg.done = bb_unfinished_cases[i].done;
		KUNIT_EXPECT_EQ_MSG(test, bb_pool_unfinished(&pg, 16),
				    bb_unfinished_cases[i].want, "%s",
				    bb_unfinished_cases[i].what);
	}
}

/*
 * A pooled consumer leaving counts what its page says it held into its
 * pool's lost and the ring's; a plain consumer's page counts nothing,
 * a new holder of the id starts with nothing held, and the count in the
 * page is only a mirror.
 */
static void bb_pool_leave_counts_lost(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, 0, 16, 8, 8, "kunit.lost");
	struct bb_file *a = bb_test_file(test), *n = bb_test_file(test);
	struct bb_consumer_page *pg;
	const char *nm = "kunit.lost";

	r->view.prod->cursor = 40;
	r->view.prod->claim = 40;
	KUNIT_ASSERT_EQ(test, bb_test_attach_pool(a, nm, 3), 0);
	KUNIT_ASSERT_EQ(test, bb_test_attach(n, nm, BB_ROLE_CONSUMER,
					     BB_ID_ANY, 0), 0);
	pg = (struct bb_consumer_page *)bb_consumer_seq(&r->view,
							  n->consumer_id);
	pg->held = 48;
	bb_test_release(n);
	mutex_lock(&r->lock);
	KUNIT_EXPECT_EQ(test, bb_pools_lost(r), 0ULL);
	mutex_unlock(&r->lock);
	pg = (struct bb_consumer_page *)bb_consumer_seq(&r->view,
							  a->consumer_id);
	pg->held = 46;
	pg->done = 43;
	bb_test_release(a);
	KUNIT_EXPECT_EQ(test, r->pools[3].lost, 3ULL);
	mutex_lock(&r->lock);
	KUNIT_EXPECT_EQ(test, bb_pools_lost(r), 3ULL);
	mutex_unlock(&r->lock);
	KUNIT_EXPECT_EQ(test, r->pools[3].members, 0U);
	a = bb_test_file(test);
	KUNIT_ASSERT_EQ(test, bb_test_attach_pool(a, nm, 3), 0);
	pg = (struct bb_consumer_page *)bb_consumer_seq(&r->view,
							  a->consumer_id);
	KUNIT_EXPECT_EQ(test, pg->held, 0ULL);
	KUNIT_EXPECT_EQ(test, pg->done, 0ULL);
	bb_test_release(a);
	KUNIT_EXPECT_EQ(test, r->pools[3].lost, 3ULL);
	/* A scribbled count is overwritten from the kernel's, not added to. */
	a = bb_test_file(test);
	KUNIT_ASSERT_EQ(test, bb_test_attach_pool(a, nm, 3), 0);
	pg = (struct bb_consumer_page *)bb_consumer_seq(&r->view,
							  a->consumer_id);
	pg->held = pg->seq + 1;
	WRITE_ONCE(r->pools[3].lost, 999);
	bb_test_release(a);
	KUNIT_EXPECT_EQ(test, r->pools[3].lost, 4ULL);
}

/*
 * Members count attaches and detaches; the first member of an empty pool
 * starts it at 1 + its own start; the kernel never reads next or halted.
 */
static void bb_pool_members_and_start(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, 0, 16, 8, 8, "kunit.pool");
	struct bb_file *a = bb_test_file(test), *b = bb_test_file(test);
	struct bb_file *c = bb_test_file(test), *n = bb_test_file(test);
	struct bb_pool_entry *e = &r->pools[9];
	const char *nm = "kunit.pool";

	KUNIT_EXPECT_PTR_EQ(test, (void *)r->pools,
			    r->base + (r->layout.region[BB_REGION_POOLS].mem_pgoff
				       << PAGE_SHIFT));
	/* Six events published and gone: consumers start at 6. */
	r->view.prod->cursor = 6;
	r->view.prod->claim = 6;
	KUNIT_ASSERT_EQ(test, bb_test_attach_pool(a, nm, 9), 0);
	KUNIT_EXPECT_TRUE(test, a->pooled);
	KUNIT_EXPECT_EQ(test, a->pool, 9U);
	KUNIT_EXPECT_EQ(test, *bb_consumer_seq(&r->view, a->consumer_id), 6ULL);
	KUNIT_EXPECT_EQ(test, e->members, 1U);
	/* Pairs with the release of next in bb_pool_join(). */
	KUNIT_EXPECT_EQ(test, smp_load_acquire(&e->next), 7ULL);
	KUNIT_EXPECT_EQ(test, e->halted, 0U);
	/* User space scribbles; a second member changes only the count. */
	WRITE_ONCE(e->next, 1234);
	WRITE_ONCE(e->halted, 1);
	WRITE_ONCE(e->members, 77);
	KUNIT_ASSERT_EQ(test, bb_test_attach_pool(b, nm, 9), 0);
	KUNIT_EXPECT_EQ(test, e->members, 2U);
	KUNIT_EXPECT_EQ(test, e->next, 1234ULL);
	KUNIT_EXPECT_EQ(test, e->halted, 1U);
	/* Pools are independent; a plain consumer is in none. */
	KUNIT_ASSERT_EQ(test, bb_test_attach_pool(c, nm, 0), 0);
	KUNIT_EXPECT_EQ(test, r->pools[0].members, 1U);
	KUNIT_EXPECT_EQ(test, r->pools[0].next, 7ULL);
	KUNIT_ASSERT_EQ(test, bb_test_attach(n, nm, BB_ROLE_CONSUMER,
					     BB_ID_ANY, 0), 0);
	KUNIT_EXPECT_FALSE(test, n->pooled);
	KUNIT_EXPECT_EQ(test, e->members, 2U);
	bb_test_release(n);
	KUNIT_EXPECT_EQ(test, e->members, 2U);
	bb_test_release(a);
	KUNIT_EXPECT_EQ(test, e->members, 1U);
	bb_test_release(b);
	KUNIT_EXPECT_EQ(test, e->members, 0U);
	KUNIT_EXPECT_EQ(test, e->next, 1234ULL);
	KUNIT_EXPECT_EQ(test, r->pools[0].members, 1U);
	/* Empty again: the next first member restarts it. */
	r->view.prod->cursor = 11;
	r->view.prod->claim = 11;
	a = bb_test_file(test);
	KUNIT_ASSERT_EQ(test, bb_test_attach_pool(a, nm, 9), 0);
	KUNIT_EXPECT_EQ(test, e->members, 1U);
	KUNIT_EXPECT_EQ(test, e->next, 12ULL);
	KUNIT_EXPECT_EQ(test, e->halted, 0U);
	/* A refused attach counts nobody. */
	b = bb_test_file(test);
	KUNIT_EXPECT_EQ(test, bb_test_attach_pool(b, nm, BB_MAX_POOLS),
			-EINVAL);
	bb_ring_halt(r, NULL, BB_ID_ANY);
	KUNIT_EXPECT_EQ(test, bb_test_attach_pool(b, nm, 9), -ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, e->members, 1U);
	bb_test_release(a);
	bb_test_release(c);
	KUNIT_EXPECT_EQ(test, e->members, 0U);
	KUNIT_EXPECT_EQ(test, r->pools[0].members, 0U);
	bb_ring_put(r);
}

static void bb_wait_times_out_at_deadline(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, 0, 8, 8, 1, "kunit.timeout");
	struct bb_file *c = bb_test_file(test);
	ktime_t start = ktime_get();
	ktime_t deadline = ktime_add_ms(start, 30);
	u64 limit = 0;

	KUNIT_ASSERT_EQ(test, bb_test_attach(c, "kunit.timeout",
					     BB_ROLE_CONSUMER, BB_ID_ANY, 0), 0);
	KUNIT_EXPECT_EQ(test, bb_wait(c, 0, &deadline, &limit), -ETIMEDOUT);
	KUNIT_EXPECT_GE(test, ktime_ms_delta(ktime_get(), start), 30LL);
	KUNIT_EXPECT_EQ(test, r->hdr->consumer_waiters, 0U);
	/* Already published: no sleep at all. */
	r->view.prod->cursor = 1;
	KUNIT_EXPECT_EQ(test, bb_wait(c, 0, &deadline, &limit), 0);
	KUNIT_EXPECT_EQ(test, limit, 1ULL);
	bb_test_release(c);
	bb_ring_put(r);
}

static void bb_kpublish_refuses_unclaimed_ranges(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, 0, 8, 8, 1, "kunit.publish");
	struct bb_file *p = bb_test_file(test);
	u64 lo = 0;

	KUNIT_ASSERT_EQ(test, bb_test_attach(p, "kunit.publish",
					     BB_ROLE_PRODUCER, BB_ID_ANY, 0), 0);
	mutex_lock(&p->lock);
	KUNIT_EXPECT_EQ(test, bb_kclaim(p, 0, true, NULL, &lo), -EINVAL);
	KUNIT_EXPECT_EQ(test, bb_kclaim(p, 9, true, NULL, &lo), -EINVAL);
	KUNIT_ASSERT_EQ(test, bb_kclaim(p, 3, true, NULL, &lo), 0);
	KUNIT_EXPECT_EQ(test, bb_kpublish(p, lo, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, bb_kpublish(p, lo, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, bb_kpublish(p, lo + 1, 3), -EINVAL);
	KUNIT_EXPECT_EQ(test, bb_kpublish(p, U64_MAX, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, r->view.prod->cursor, 0ULL);
	KUNIT_EXPECT_EQ(test, bb_kpublish(p, lo, 3), 0);
	KUNIT_EXPECT_EQ(test, r->view.prod->cursor, 3ULL);
	/* Published once, never again. */
	KUNIT_EXPECT_EQ(test, bb_kpublish(p, lo, 3), -EINVAL);
	mutex_unlock(&p->lock);
	bb_test_release(p);
	bb_ring_put(r);
}

/* Kernel-mediated calls under the fd's lock, one at a time. */
static int bb_test_kclaim(struct bb_file *bf, u32 n, u64 *lo)
{
	int ret;

	mutex_lock(&bf->lock);
	ret = bb_kclaim_held(bf, n, true, NULL, lo);
	mutex_unlock(&bf->lock);
	return ret;
}

static int bb_test_kpublish(struct bb_file *bf, u64 lo, u32 n)
{
	int ret;

	mutex_lock(&bf->lock);
	ret = bb_kpublish(bf, lo, n);
	mutex_unlock(&bf->lock);
	return ret;
}

static void bb_test_unclaim(struct bb_file *bf, u64 lo, u32 done, u32 n)
{
	mutex_lock(&bf->lock);
	if (bf->ring->view.multi)
		bb_kclaims_take(&bf->kclaims, lo + done, lo + n);
	bb_unclaim(bf, lo, done, n);
	mutex_unlock(&bf->lock);
}

static void bb_unclaim_takes_back_last_claim_or_abandons(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, BB_RING_MULTI_PRODUCER, 8, 8, 1,
					 "kunit.unclaim");
	struct bb_file *p = bb_test_file(test), *q = bb_test_file(test);
	struct bb_view *v = &r->view;
	u64 lo = 0, lo2 = 0, seq;

	KUNIT_ASSERT_EQ(test, bb_test_attach(p, "kunit.unclaim",
					     BB_ROLE_PRODUCER, BB_ID_ANY, 0), 0);
	KUNIT_ASSERT_EQ(test, bb_test_attach(q, "kunit.unclaim",
					     BB_ROLE_PRODUCER, BB_ID_ANY, 0), 0);
	/* Nobody claimed after it: the claim shrinks to what was filled. */
	KUNIT_ASSERT_EQ(test, bb_test_kclaim(p, 4, &lo), 0);
	bb_test_unclaim(p, lo, 1, 4);
	KUNIT_EXPECT_EQ(test, v->prod->claim, 1ULL);
	bb_publish(v, lo, 1);
	KUNIT_EXPECT_FALSE(test, bb_is_published(v, 1));

	/* Another claim came after it: the rest is published abandoned. */
	KUNIT_ASSERT_EQ(test, bb_test_kclaim(p, 3, &lo), 0);
	KUNIT_EXPECT_EQ(test, lo, 1ULL);
	KUNIT_ASSERT_EQ(test, bb_test_kclaim(q, 2, &lo2), 0);
	KUNIT_EXPECT_EQ(test, lo2, 4ULL);
	bb_test_unclaim(p, lo, 1, 3);
	KUNIT_EXPECT_EQ(test, v->prod->claim, 6ULL);
	bb_publish(v, lo, 1);
	for (seq = 2; seq < 4; seq++) {
		KUNIT_EXPECT_TRUE(test, bb_is_published(v, seq));
		KUNIT_EXPECT_TRUE(test, bb_is_abandoned(v, seq));
	}
	KUNIT_EXPECT_FALSE(test, bb_is_abandoned(v, 1));
	KUNIT_EXPECT_EQ(test, bb_published_limit(v, 0, 8), 4ULL);
	KUNIT_EXPECT_EQ(test, bb_test_kpublish(q, lo2, 2), 0);
	KUNIT_EXPECT_EQ(test, bb_published_limit(v, 0, 8), 6ULL);
	bb_test_release(q);
	bb_test_release(p);
	bb_ring_put(r);
}

static void bb_unclaim_rolls_back_single_producer(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, 0, 8, 8, 1, "kunit.unclaim1");
	struct bb_file *p = bb_test_file(test);
	u64 lo = 0;

	KUNIT_ASSERT_EQ(test, bb_test_attach(p, "kunit.unclaim1",
					     BB_ROLE_PRODUCER, BB_ID_ANY, 0), 0);
	KUNIT_ASSERT_EQ(test, bb_test_kclaim(p, 5, &lo), 0);
	bb_test_unclaim(p, lo, 2, 5);
	KUNIT_EXPECT_EQ(test, r->view.prod->claim, 2ULL);
	KUNIT_EXPECT_EQ(test, bb_test_kpublish(p, lo, 2), 0);
	/* The next claim reuses the slots given back. */
	KUNIT_ASSERT_EQ(test, bb_test_kclaim(p, 1, &lo), 0);
	KUNIT_EXPECT_EQ(test, lo, 2ULL);
	bb_test_release(p);
	bb_ring_put(r);
}

static void bb_kclaims_track_shrink_and_split(struct kunit *test)
{
	struct bb_kclaims k = {};
	unsigned int i;

	bb_kclaims_add(&k, 10, 4, 1024);
	bb_kclaims_add(&k, 14, 2, 1024);	/* back to back: one entry */
	KUNIT_EXPECT_EQ(test, k.nr, 1U);
	KUNIT_EXPECT_EQ(test, k.r[0].end, 16ULL);
	/* Only ranges inside one claim. */
	KUNIT_EXPECT_EQ(test, bb_kclaims_take(&k, 9, 11), -EINVAL);
	KUNIT_EXPECT_EQ(test, bb_kclaims_take(&k, 15, 17), -EINVAL);
	KUNIT_EXPECT_EQ(test, bb_kclaims_take(&k, 10, 11), 0);
	KUNIT_EXPECT_EQ(test, k.r[0].lo, 11ULL);
	KUNIT_EXPECT_EQ(test, bb_kclaims_take(&k, 15, 16), 0);
	KUNIT_EXPECT_EQ(test, k.r[0].end, 15ULL);
	KUNIT_EXPECT_EQ(test, bb_kclaims_take(&k, 12, 13), 0);	/* split */
	KUNIT_EXPECT_EQ(test, k.nr, 2U);
	KUNIT_EXPECT_EQ(test, bb_kclaims_take(&k, 12, 13), -EINVAL);
	KUNIT_EXPECT_EQ(test, bb_kclaims_take(&k, 11, 12), 0);
	KUNIT_EXPECT_EQ(test, bb_kclaims_take(&k, 13, 15), 0);
	KUNIT_EXPECT_EQ(test, k.nr, 0U);

	/* A split with no room left is refused and changes nothing. */
	for (i = 0; i < BB_KCLAIMS_MAX; i++)
		bb_kclaims_add(&k, 100 * i, 3, 1024);
	KUNIT_EXPECT_TRUE(test, bb_kclaims_full(&k));
	KUNIT_EXPECT_EQ(test, bb_kclaims_take(&k, 1, 2), -EBUSY);
	KUNIT_EXPECT_EQ(test, k.r[0].lo, 0ULL);
	KUNIT_EXPECT_EQ(test, k.r[0].end, 3ULL);
	KUNIT_EXPECT_EQ(test, bb_kclaims_take(&k, 0, 1), 0);

	/* A record never spans more than a ring: older events are published. */
	k.nr = 0;
	bb_kclaims_add(&k, 0, 4, 4);
	bb_kclaims_add(&k, 4, 3, 4);
	KUNIT_EXPECT_EQ(test, k.nr, 1U);
	KUNIT_EXPECT_EQ(test, k.r[0].lo, 3ULL);
	KUNIT_EXPECT_EQ(test, k.r[0].end, 7ULL);
}

static void bb_kclaims_abandon_flags_only_unpublished(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, BB_RING_MULTI_PRODUCER, 4, 8, 1,
					 NULL);
	struct bb_view *v = &r->view;
	struct bb_kclaims k = {};

	/* 0 published; 1 still held; 2 published and its slot lapped. */
	bb_kclaims_add(&k, 0, 3, v->size);
	bb_publish(v, 0, 1);
	bb_publish(v, 2, 1);
	bb_publish(v, 6, 1);
	KUNIT_EXPECT_EQ(test, bb_kclaims_abandon(v, &k), 1ULL);
	KUNIT_EXPECT_EQ(test, k.nr, 0U);
	KUNIT_EXPECT_FALSE(test, bb_is_abandoned(v, 0));
	KUNIT_EXPECT_TRUE(test, bb_is_published(v, 1));
	KUNIT_EXPECT_TRUE(test, bb_is_abandoned(v, 1));
	KUNIT_EXPECT_TRUE(test, bb_is_published(v, 6));
	KUNIT_EXPECT_FALSE(test, bb_is_abandoned(v, 6));
	bb_ring_put(r);
}

static void bb_kclaims_make_room_forgets_published(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, BB_RING_MULTI_PRODUCER, 64, 8, 1,
					 NULL);
	struct bb_view *v = &r->view;
	struct bb_kclaims k = {};
	unsigned int i;

	/* 16 disjoint claims (every other slot), as interleaved producers. */
	for (i = 0; i < BB_KCLAIMS_MAX; i++)
		bb_kclaims_add(&k, 2 * i, 1, v->size);
	v->prod->claim = 2 * BB_KCLAIMS_MAX;
	KUNIT_EXPECT_FALSE(test, bb_kclaims_make_room(v, &k));
	/* Published through the mapping, behind the kernel's back. */
	bb_publish(v, 4, 1);
	bb_publish(v, 10, 1);
	KUNIT_EXPECT_TRUE(test, bb_kclaims_make_room(v, &k));
	KUNIT_EXPECT_EQ(test, k.nr, BB_KCLAIMS_MAX - 2);
	for (i = 0; i < k.nr; i++) {
		KUNIT_EXPECT_NE(test, k.r[i].lo, 4ULL);
		KUNIT_EXPECT_NE(test, k.r[i].lo, 10ULL);
	}
	/* Far behind the frontier: published for sure, whatever slots say. */
	v->prod->claim = 1000;
	for (i = k.nr; i < BB_KCLAIMS_MAX; i++)
		bb_kclaims_add(&k, 960 + 2 * i, 1, v->size);
	KUNIT_EXPECT_TRUE(test, bb_kclaims_make_room(v, &k));
	KUNIT_EXPECT_EQ(test, k.nr, 2U);
	bb_ring_put(r);
}

/* Claim records (bb_pclaims.c, include/badbatch/record.h). */
static void bb_prec_validate_rejects_garbage(struct kunit *test)
{
	struct bb_claim_record c = {};

	KUNIT_EXPECT_EQ(test, bb_prec_validate(&c, 0, 8), 0);
	c.nr = 2;
	c.r[0].lo = 10;
	c.r[0].end = 14;
	c.r[1].lo = 12;		/* overlapping: a split in progress */
	c.r[1].end = 14;
	KUNIT_EXPECT_EQ(test, bb_prec_validate(&c, 20, 8), 0);
	c.r[1].lo = 30;		/* half-written: reads empty */
	KUNIT_EXPECT_EQ(test, bb_prec_validate(&c, 20, 8), 0);
	c.r[1].lo = 12;
	c.r[1].end = 21;	/* beyond the frontier */
	KUNIT_EXPECT_EQ(test, bb_prec_validate(&c, 20, 8), -EPROTO);
	c.r[1].lo = 2;
	c.r[1].end = 11;	/* larger than a ring */
	KUNIT_EXPECT_EQ(test, bb_prec_validate(&c, 20, 8), -EPROTO);
	c.r[1].end = 3;
	c.nr = BB_RECORD_RANGES + 1;
	KUNIT_EXPECT_EQ(test, bb_prec_validate(&c, 20, 8), -EPROTO);
	c.nr = 0xffffffff;
	KUNIT_EXPECT_EQ(test, bb_prec_validate(&c, 20, 8), -EPROTO);
	c.nr = 2;
	c.flags = 4;
	KUNIT_EXPECT_EQ(test, bb_prec_validate(&c, 20, 8), -EPROTO);
	c.flags = BB_RECORD_OVERFLOW | BB_RECORD_KEPT;
	KUNIT_EXPECT_EQ(test, bb_prec_validate(&c, 20, 8), -EOVERFLOW);
	c.flags = BB_RECORD_KEPT;
	KUNIT_EXPECT_EQ(test, bb_prec_validate(&c, 20, 8), 0);
	c.flags = 0;
	c.intent_n = 9;		/* more than a ring */
	KUNIT_EXPECT_EQ(test, bb_prec_validate(&c, 20, 8), -EPROTO);
	c.intent_n = 3;
	c.intent_lo = 21;	/* a frontier never seen */
	KUNIT_EXPECT_EQ(test, bb_prec_validate(&c, 20, 8), -EPROTO);
	c.intent_lo = 20;
	KUNIT_EXPECT_EQ(test, bb_prec_validate(&c, 20, 8), 0);
}

static void bb_prec_abandon_flags_only_window_and_unpublished(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, BB_RING_MULTI_PRODUCER, 8, 8, 1,
					 NULL);
	struct bb_view *v = &r->view;
	struct bb_claim_record c = {};
	u64 seq;

	/* Events 0..19 claimed; everything below 12 was published. */
	for (seq = 0; seq < 12; seq++)
		bb_publish(v, seq, 1);
	v->prod->claim = 20;
	c.nr = 3;
	c.r[0].lo = 10;		/* partly more than a ring behind */
	c.r[0].end = 14;
	c.r[1].lo = 14;
	c.r[1].end = 17;
	c.r[2].lo = 15;		/* overlaps: flagged once */
	c.r[2].end = 17;
	bb_publish(v, 15, 1);	/* published before the producer died */
	KUNIT_ASSERT_EQ(test, bb_prec_validate(&c, 20, v->size), 0);
	KUNIT_EXPECT_EQ(test, bb_prec_abandon(v, &c, 20), 4ULL);
	KUNIT_EXPECT_FALSE(test, bb_is_abandoned(v, 10));
	KUNIT_EXPECT_FALSE(test, bb_is_abandoned(v, 11));
	for (seq = 12; seq < 17; seq++) {
		KUNIT_EXPECT_TRUE(test, bb_is_published(v, seq));
		KUNIT_EXPECT_EQ(test, bb_is_abandoned(v, seq), seq != 15);
	}
	KUNIT_EXPECT_FALSE(test, bb_is_published(v, 17));
	/* Twice: nothing more. */
	KUNIT_EXPECT_EQ(test, bb_prec_abandon(v, &c, 20), 0ULL);
	bb_ring_put(r);
}

static void bb_record_follows_claims_and_publishes(struct kunit *test)
{
	struct bb_claim_record *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, c);
	c->intent_n = 4;
	bb_record_claimed(c, 0, 4);
	KUNIT_EXPECT_EQ(test, c->intent_n, 0U);
	KUNIT_EXPECT_EQ(test, c->nr, 1U);
	bb_record_claimed(c, 4, 10);
	KUNIT_EXPECT_EQ(test, c->nr, 2U);
	bb_record_published(c, 0, 2);		/* front */
	KUNIT_EXPECT_EQ(test, c->r[0].lo, 2ULL);
	bb_record_published(c, 2, 6);		/* spans two entries */
	KUNIT_EXPECT_TRUE(test, bb_range_empty(c->r[0].lo, c->r[0].end));
	KUNIT_EXPECT_EQ(test, c->r[1].lo, 6ULL);
	bb_record_published(c, 7, 8);		/* split */
	KUNIT_EXPECT_EQ(test, c->r[1].end, 7ULL);
	KUNIT_EXPECT_EQ(test, c->r[0].lo, 8ULL);	/* the free entry */
	KUNIT_EXPECT_EQ(test, c->r[0].end, 10ULL);
	KUNIT_EXPECT_EQ(test, bb_prec_validate(c, 10, 16), 0);
	bb_record_published(c, 6, 7);
	bb_record_published(c, 8, 10);
	for (i = 0; i < c->nr; i++)
		KUNIT_EXPECT_TRUE(test, bb_range_empty(c->r[i].lo, c->r[i].end));
	/* More outstanding claims than entries: overflow, then reset. */
	for (i = 0; i <= BB_RECORD_RANGES; i++)
		bb_record_claimed(c, 100 + 2 * i, 101 + 2 * i);
	KUNIT_EXPECT_EQ(test, c->nr, (u32)BB_RECORD_RANGES);
	KUNIT_EXPECT_EQ(test, c->flags, BB_RECORD_OVERFLOW);
	KUNIT_EXPECT_EQ(test, bb_prec_validate(c, 200, 16), -EOVERFLOW);
	bb_record_reset(c);
	KUNIT_EXPECT_EQ(test, bb_prec_validate(c, 200, 16), 0);
}

static void bb_prec_intent_settles_only_on_proof(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, BB_RING_MULTI_PRODUCER, 8, 8, 1,
					 NULL);
	struct bb_view *v = &r->view;
	struct bb_claim_record *recs = r->records;

	/* Nobody moved the frontier past 5: the CAS from 5 never won. */
	v->prod->claim = 5;
	KUNIT_EXPECT_TRUE(test, bb_prec_intent_settled(v, recs, 3, 0, 5));
	/* It moved, nobody says who: maybe the dead one. */
	v->prod->claim = 8;
	KUNIT_EXPECT_FALSE(test, bb_prec_intent_settled(v, recs, 3, 0, 5));
	/* The dead one's own record does not count (skip). */
	bb_record_claimed(&recs[0], 5, 8);
	KUNIT_EXPECT_FALSE(test, bb_prec_intent_settled(v, recs, 3, 0, 5));
	/* Another producer's entry starting at 5: it won. */
	bb_record_claimed(&recs[1], 5, 8);
	KUNIT_EXPECT_TRUE(test, bb_prec_intent_settled(v, recs, 3, 0, 5));
	/* ... and not if its record is not handed out. */
	KUNIT_EXPECT_FALSE(test, bb_prec_intent_settled(v, recs, 1, 0, 5));
	/* An entry only covering 5 is no proof (no frontier inside). */
	memset(&recs[1], 0, sizeof(recs[1]));
	bb_record_claimed(&recs[1], 4, 8);
	KUNIT_EXPECT_FALSE(test, bb_prec_intent_settled(v, recs, 3, 0, 5));
	/* Event 5 published: whoever won, nothing of it is left. */
	bb_publish(v, 5, 1);
	KUNIT_EXPECT_TRUE(test, bb_prec_intent_settled(v, recs, 3, 0, 5));
	/* More than a ring behind the frontier. */
	v->prod->claim = 14;
	KUNIT_EXPECT_TRUE(test, bb_prec_intent_settled(v, recs, 3, 0, 4));
	bb_ring_put(r);
}

static void bb_prec_intent_won_only_if_nothing_else_explains(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, BB_RING_MULTI_PRODUCER, 8, 8, 1,
					 NULL);
	struct bb_view *v = &r->view;
	struct bb_claim_record *recs = r->records;

	/* The frontier passed 3 + 2 and nothing else says why: it won. */
	v->prod->claim = 5;
	KUNIT_EXPECT_TRUE(test, bb_prec_intent_won(v, recs, 0, BB_ID_ANY, 3, 2));
	/* A claim of 2 from 3 would have moved it to 5 at least. */
	v->prod->claim = 4;
	KUNIT_EXPECT_FALSE(test, bb_prec_intent_won(v, recs, 0, BB_ID_ANY, 3, 2));
	v->prod->claim = 5;
	/* A live producer that does not keep its record may have won. */
	KUNIT_EXPECT_FALSE(test, bb_prec_intent_won(v, recs, 2, BB_ID_ANY, 3, 2));
	bb_record_keep(&recs[1]);
	KUNIT_EXPECT_TRUE(test, bb_prec_intent_won(v, recs, 2, BB_ID_ANY, 3, 2));
	/* A live producer between its CAS from 3 and its entry. */
	recs[1].intent_lo = 3;
	recs[1].intent_n = 1;
	KUNIT_EXPECT_FALSE(test, bb_prec_intent_won(v, recs, 2, BB_ID_ANY, 3, 2));
	/* ... unless that record is the dead one's own, or not handed out. */
	KUNIT_EXPECT_TRUE(test, bb_prec_intent_won(v, recs, 2, 1, 3, 2));
	KUNIT_EXPECT_TRUE(test, bb_prec_intent_won(v, recs, 0, BB_ID_ANY, 3, 2));
	/* An intent elsewhere is no explanation. */
	recs[1].intent_lo = 5;
	KUNIT_EXPECT_TRUE(test, bb_prec_intent_won(v, recs, 2, BB_ID_ANY, 3, 2));
	recs[1].intent_n = 0;
	/* Overflowed: it may hold a claim from 3 with no entry. */
	recs[1].flags |= BB_RECORD_OVERFLOW;
	KUNIT_EXPECT_FALSE(test, bb_prec_intent_won(v, recs, 2, BB_ID_ANY, 3, 2));
	bb_record_reset(&recs[1]);
	KUNIT_EXPECT_EQ(test, recs[1].flags, BB_RECORD_KEPT);
	KUNIT_EXPECT_TRUE(test, bb_prec_intent_won(v, recs, 2, BB_ID_ANY, 3, 2));
	/* More entries than a record has: garbage, no alibi for anyone. */
	recs[1].nr = BB_RECORD_RANGES + 1;
	KUNIT_EXPECT_FALSE(test, bb_prec_intent_won(v, recs, 2, BB_ID_ANY, 3, 2));
	recs[1].nr = 0;
	/* A live entry starting at 3: that producer won. */
	bb_record_claimed(&recs[1], 3, 4);
	KUNIT_EXPECT_FALSE(test, bb_prec_intent_won(v, recs, 2, BB_ID_ANY, 3, 2));
	memset(&recs[1], 0, sizeof(recs[1]));
	/* Slot 3 published: somebody else's, or nothing left of it. */
	bb_publish(v, 3, 1);
	KUNIT_EXPECT_FALSE(test, bb_prec_intent_won(v, recs, 0, BB_ID_ANY, 3, 2));
	/* ... or published a lap later: not the lap before 3 either. */
	bb_publish(v, 11, 1);
	KUNIT_EXPECT_FALSE(test, bb_prec_intent_won(v, recs, 0, BB_ID_ANY, 3, 2));
	/* More than a ring behind the frontier. */
	v->prod->claim = 12;
	KUNIT_EXPECT_FALSE(test, bb_prec_intent_won(v, recs, 0, BB_ID_ANY, 2, 2));
	bb_ring_put(r);
}

/* Release a producer whose record shows only the intent (lo, n). */
static void bb_release_with_intent(struct kunit *test, struct bb_file *bf,
				   u64 lo, u32 n)
{
	struct bb_ring *r = bf->ring;
	u32 id;

	mutex_lock(&r->lock);
	KUNIT_ASSERT_EQ(test, bb_prec_attach(r, &id), 0);
	mutex_unlock(&r->lock);
	KUNIT_EXPECT_EQ(test, r->records[id].intent_n, 0U);	/* zeroed */
	bf->record_id = id;
	r->records[id].intent_lo = lo;
	r->records[id].intent_n = n;
	bb_prec_release(bf);
}

/* A live producer that keeps its record, with an intent (lo, n). */
static u32 bb_live_intent(struct kunit *test, struct bb_ring *r, u64 lo,
			  u32 n)
{
	u32 id;

	mutex_lock(&r->lock);
	KUNIT_ASSERT_EQ(test, bb_prec_attach(r, &id), 0);
	mutex_unlock(&r->lock);
	bb_record_keep(&r->records[id]);
	r->records[id].intent_lo = lo;
	r->records[id].intent_n = n;
	return id;
}

/* Wait for a work item to fail the ring, then for its reference. */
static void bb_expect_failed_later(struct kunit *test, struct bb_ring *r,
				   u64 seq)
{
	int i;

	KUNIT_EXPECT_FALSE(test, r->halted);	/* not at once */
	for (i = 0; i < 250 && !READ_ONCE(r->halted); i++)
		msleep(20);
	KUNIT_EXPECT_TRUE(test, r->halted);
	KUNIT_EXPECT_EQ(test, r->hdr->fail_error, EOWNERDEAD);
	KUNIT_EXPECT_EQ(test, r->hdr->fail_seq, seq);
	KUNIT_EXPECT_EQ(test, r->hdr->fail_by, BB_ID_ANY);
	/* The work item drops its reference: ours is the last. */
	for (i = 0; i < 50 && kref_read(&r->ref) > 1; i++)
		msleep(20);
	KUNIT_EXPECT_EQ(test, kref_read(&r->ref), 1U);
	KUNIT_EXPECT_TRUE(test, list_empty(&r->intents));
}

static void bb_prec_release_abandons_or_fails(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, BB_RING_MULTI_PRODUCER, 8, 8, 1,
					 NULL);
	struct bb_file *bf = kunit_kzalloc(test, sizeof(*bf), GFP_KERNEL);
	struct bb_view *v = &r->view;
	struct bb_claim_record *c;
	u32 id;
	int i;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, bf);
	bf->ring = r;
	bf->role = BB_ROLE_PRODUCER;
	/* A recorded claim [0, 3): abandoned, counted. */
	mutex_lock(&r->lock);
	KUNIT_ASSERT_EQ(test, bb_prec_attach(r, &id), 0);
	mutex_unlock(&r->lock);
	bf->record_id = id;
	c = &r->records[id];
	v->prod->claim = 3;
	bb_record_claimed(c, 0, 3);
	bb_prec_release(bf);
	KUNIT_EXPECT_EQ(test, atomic64_read(&r->abandoned), 3LL);
	KUNIT_EXPECT_TRUE(test, bb_is_abandoned(v, 2));
	KUNIT_EXPECT_EQ(test, r->records_used, 0ULL);
	KUNIT_EXPECT_FALSE(test, r->halted);

	/* A CAS won and never recorded, nobody else can have: abandoned. */
	v->prod->claim = 5;
	bb_release_with_intent(test, bf, 3, 2);
	KUNIT_EXPECT_FALSE(test, r->halted);
	KUNIT_EXPECT_EQ(test, atomic64_read(&r->abandoned), 5LL);
	KUNIT_EXPECT_TRUE(test, bb_is_abandoned(v, 3));
	KUNIT_EXPECT_TRUE(test, bb_is_abandoned(v, 4));
	KUNIT_EXPECT_EQ(test, r->records_used, 0ULL);
	KUNIT_EXPECT_TRUE(test, list_empty(&r->intents));
	bb_ring_put(r);

	/* A live producer shows an intent at the same frontier and stays
	 * there (stopped?): either may have won. Failed after re-checks.
	 */
	r = bb_test_ring(test, BB_RING_MULTI_PRODUCER, 8, 8, 1, NULL);
	bf->ring = r;
	id = bb_live_intent(test, r, 3, 1);
	r->view.prod->claim = 5;
	bb_release_with_intent(test, bf, 3, 2);
	bb_expect_failed_later(test, r, 3);
	KUNIT_EXPECT_FALSE(test, bb_is_abandoned(&r->view, 3));
	bb_ring_put(r);

	/*
	 * Halted: a producer may undo its claim and move the frontier
	 * back, so nothing is inferred; the ring stays halted as it was.
	 */
	r = bb_test_ring(test, BB_RING_MULTI_PRODUCER, 8, 8, 1, NULL);
	bf->ring = r;
	r->view.prod->claim = 5;
	KUNIT_ASSERT_EQ(test, bb_ring_halt(r, NULL, BB_ID_ANY), 0);
	bb_release_with_intent(test, bf, 3, 2);
	for (i = 0; i < 50 && kref_read(&r->ref) > 1; i++)
		msleep(20);
	KUNIT_EXPECT_EQ(test, kref_read(&r->ref), 1U);
	KUNIT_EXPECT_FALSE(test, bb_is_abandoned(&r->view, 3));
	KUNIT_EXPECT_EQ(test, atomic64_read(&r->abandoned), 0LL);
	KUNIT_EXPECT_EQ(test, r->hdr->fail_error, 0U);
	bb_ring_put(r);

	/* Claims went through the kernel, which records no intent. */
	r = bb_test_ring(test, BB_RING_MULTI_PRODUCER, 8, 8, 1, NULL);
	bf->ring = r;
	r->kclaimed = true;
	r->view.prod->claim = 5;
	bb_release_with_intent(test, bf, 3, 2);
	bb_expect_failed_later(test, r, 3);
	bb_ring_put(r);

	/* Two producers die with intents from 3 for 2 and for 1: which won? */
	r = bb_test_ring(test, BB_RING_MULTI_PRODUCER, 8, 8, 1, NULL);
	bf->ring = r;
	id = bb_live_intent(test, r, 3, 1);
	r->view.prod->claim = 5;
	bb_release_with_intent(test, bf, 3, 2);	/* in doubt: queued */
	bf->record_id = id;
	bb_prec_release(bf);			/* the other one dies */
	bb_expect_failed_later(test, r, 3);
	bb_ring_put(r);

	/* Garbage fails the ring at once. */
	r = bb_test_ring(test, BB_RING_MULTI_PRODUCER, 8, 8, 1, NULL);
	bf->ring = r;
	mutex_lock(&r->lock);
	KUNIT_ASSERT_EQ(test, bb_prec_attach(r, &id), 0);
	mutex_unlock(&r->lock);
	bf->record_id = id;
	r->records[id].nr = 1000;
	bb_prec_release(bf);
	KUNIT_EXPECT_TRUE(test, r->halted);
	KUNIT_EXPECT_EQ(test, r->hdr->fail_error, EOWNERDEAD);
	bb_ring_put(r);
}

static void bb_prec_attach_hands_out_each_record_once(struct kunit *test)
{
	struct bb_ring *r = bb_test_ring(test, BB_RING_MULTI_PRODUCER, 8, 8, 1,
					 NULL);
	unsigned char *prod = (unsigned char *)r->view.prod;
	u32 id, i;

	KUNIT_EXPECT_PTR_EQ(test, (void *)r->records,
			    (void *)(prod + bb_records_off(r->layout.flags, 8)));
	KUNIT_EXPECT_GE(test, (size_t)r->layout.region[BB_REGION_PRODUCER].pages
			<< PAGE_SHIFT, bb_records_off(r->layout.flags, 8) +
			BB_MAX_RECORDS * sizeof(struct bb_claim_record));
	KUNIT_EXPECT_EQ(test, sizeof(struct bb_claim_record), (size_t)256);
	mutex_lock(&r->lock);
	for (i = 0; i < BB_MAX_RECORDS; i++) {
		KUNIT_EXPECT_EQ(test, bb_prec_attach(r, &id), 0);
		KUNIT_EXPECT_EQ(test, id, i);
	}
	KUNIT_EXPECT_EQ(test, bb_prec_attach(r, &id), -ENOSPC);
	mutex_unlock(&r->lock);
	bb_ring_put(r);
}

static struct kunit_case bb_cases[] = {
	/* The shared protocol, include/badbatch/. */
	KUNIT_CASE(bb_view_indexes_slots_and_consumers),
	KUNIT_CASE(bb_avail_round_counts_laps_from_one),
	KUNIT_CASE(bb_sp_claim_publish_moves_cursor),
	KUNIT_CASE(bb_sp_claim_is_eagain_when_full),
	KUNIT_CASE(bb_mp_claim_is_eagain_when_full),
	KUNIT_CASE(bb_claim_outside_ring_is_einval),
	KUNIT_CASE(bb_remaining_is_zero_behind_lying_consumer),
	KUNIT_CASE(bb_mp_publish_out_of_order_waits_for_gap),
	KUNIT_CASE(bb_mp_rounds_survive_wrap_around),
	KUNIT_CASE(bb_mp_rounds_survive_31_bit_wrap),
	KUNIT_CASE(bb_gating_min_uses_only_gating_consumers),
	KUNIT_CASE(bb_gating_min_clamps_lying_consumers),
	KUNIT_CASE(bb_gating_min_waits_out_topology_change),
	KUNIT_CASE(bb_cursor_consumer_limit_is_published_limit),
	KUNIT_CASE(bb_mp_consumer_limit_stops_at_unpublished),
	KUNIT_CASE(bb_dependent_consumer_limit_is_slowest_dep),
	KUNIT_CASE(bb_deps_min_ignores_unmapped_ids),
	KUNIT_CASE(bb_abandoned_slot_is_published_and_flagged),
	KUNIT_CASE(bb_consumer_advance_reports_needed_wakeups),
	KUNIT_CASE(bb_consumers_need_wake_reads_announcement),
	KUNIT_CASE(bb_sp_stream_arrives_whole_and_in_order),
	KUNIT_CASE(bb_mp_concurrent_claims_never_overlap),
	/* Pure kernel functions. */
	KUNIT_CASE_PARAM(bb_create_validate_checks_each_field,
			 bb_create_gen_params),
	KUNIT_CASE_PARAM(bb_name_validate_accepts_only_portable_names,
			 bb_name_gen_params),
	KUNIT_CASE(bb_name_validate_rejects_bytes_after_nul),
	KUNIT_CASE_PARAM(bb_layout_compute_fits_every_region,
			 bb_layout_gen_params),
	KUNIT_CASE_PARAM(bb_topology_gating_is_unfollowed_consumers,
			 bb_gating_gen_params),
	KUNIT_CASE(bb_topology_gating_handles_id_63),
	KUNIT_CASE(bb_topology_forget_pipeline),
	KUNIT_CASE(bb_topology_forget_diamond),
	KUNIT_CASE(bb_topology_forget_keeps_surviving_order),
	/* Rings, participants and sleepers in module memory. */
	KUNIT_CASE(bb_ring_create_maps_view_over_layout),
	KUNIT_CASE(bb_ring_runs_protocol_over_its_pages),
	KUNIT_CASE(bb_ring_names_are_unique_while_alive),
	KUNIT_CASE(bb_ring_create_refuses_oversized_ring),
	KUNIT_CASE_PARAM(bb_permission_follows_mode_bits, bb_perm_gen_params),
	KUNIT_CASE(bb_topology_end_mirrors_graph_in_header),
	KUNIT_CASE(bb_attach_builds_consumer_graph),
	KUNIT_CASE(bb_attach_refuses_bad_consumers),
	KUNIT_CASE(bb_attach_starts_late_consumer_safely),
	KUNIT_CASE(bb_wait_wakes_consumer_on_publish),
	KUNIT_CASE(bb_wait_wakes_dependent_on_upstream_move),
	KUNIT_CASE(bb_wait_dependent_announces_only_blocking_deps),
	KUNIT_CASE(bb_kclaim_wakes_when_consumer_advances),
	KUNIT_CASE(bb_kclaim_wakes_when_gating_consumer_leaves),
	KUNIT_CASE(bb_halt_releases_sleepers_with_eshutdown),
	KUNIT_CASE_PARAM(bb_attach_validate_checks_pool_and_reserved,
			 bb_attach_args_gen_params),
	KUNIT_CASE(bb_fail_validate_checks_error_range),
	KUNIT_CASE(bb_ring_halt_keeps_first_failure),
	KUNIT_CASE(bb_ring_halt_racing_failures_leave_one_record),
	KUNIT_CASE(bb_pool_members_and_start),
	KUNIT_CASE(bb_pool_unfinished_bounds_the_page),
	KUNIT_CASE(bb_pool_leave_counts_lost),
	KUNIT_CASE(bb_wait_times_out_at_deadline),
	KUNIT_CASE(bb_kpublish_refuses_unclaimed_ranges),
	KUNIT_CASE(bb_unclaim_takes_back_last_claim_or_abandons),
	KUNIT_CASE(bb_unclaim_rolls_back_single_producer),
	KUNIT_CASE(bb_kclaims_track_shrink_and_split),
	KUNIT_CASE(bb_kclaims_abandon_flags_only_unpublished),
	KUNIT_CASE(bb_kclaims_make_room_forgets_published),
	KUNIT_CASE(bb_prec_validate_rejects_garbage),
	KUNIT_CASE(bb_prec_abandon_flags_only_window_and_unpublished),
	KUNIT_CASE(bb_record_follows_claims_and_publishes),
	KUNIT_CASE(bb_prec_intent_settles_only_on_proof),
	KUNIT_CASE(bb_prec_intent_won_only_if_nothing_else_explains),
	KUNIT_CASE(bb_prec_release_abandons_or_fails),
	KUNIT_CASE(bb_prec_attach_hands_out_each_record_once),
	{}
};

/*
 * Built in, the suite runs after bb_init(); in the module, kunit runs it
 * as the module is coming, before bb_init(): make the claim-record
 * workqueue the tests need, and take it down again for bb_init().
 */
static bool bb_kunit_made_wq;

static int bb_kunit_suite_init(struct kunit_suite *suite)
{
	int ret = 0;

	if (!bb_prec_ready()) {
		ret = bb_prec_init();
		bb_kunit_made_wq = !ret;
	}
	return ret;
}

static void bb_kunit_suite_exit(struct kunit_suite *suite)
{
	if (bb_kunit_made_wq)
		bb_prec_exit();
	bb_kunit_made_wq = false;
}

static struct kunit_suite bb_suite = {
	.name = "badbatch",
	.suite_init = bb_kunit_suite_init,
	.suite_exit = bb_kunit_suite_exit,
	.test_cases = bb_cases,
};
kunit_test_suite(bb_suite);
