// SPDX-License-Identifier: GPL-2.0
/*
 * Work pools: the kernel counts each pool's members and, when the first
 * member of an empty pool attaches, starts the pool at that member's
 * sequence. Everything else in the pools page (next after that, halted)
 * belongs to the workers: the kernel writes the page and never reads it.
 * When a worker goes away holding events it has not finished, the kernel
 * counts them (from what the worker's own page says) as the pool's lost.
 */
#include "bb_internal.h"

/*
 * Every worker of a pool claims from one next, so all must sit at the
 * same place in the graph: a worker with other deps could claim events
 * its own dependencies have not finished (r->lock held).
 */
int bb_pool_check(const struct bb_ring *r, u32 pool, u64 deps)
{
	lockdep_assert_held(&r->lock);
	if (r->pool_members[pool] && r->pool_deps[pool] != deps)
		return -EINVAL;
	return 0;
}

/*
 * A consumer starting at sequence start joined pool (r->lock held, after
 * the consumer entered the topology, so it gates producers before any
 * worker can claim an event from next).
 */
void bb_pool_join(struct bb_ring *r, u32 pool, u64 start, u64 deps)
{
	struct bb_pool_entry *e = &r->pools[pool];
	u32 n;

	lockdep_assert_held(&r->lock);
	n = ++r->pool_members[pool];
	if (n == 1) {
		r->pool_deps[pool] = deps;
		WRITE_ONCE(e->halted, 0);
		/*
		 * Pairs with the workers' load-acquire of next
		 * (bb_worker_claim() in userspace/lib/workpool.c): whoever
		 * sees this next also sees halted cleared, the new
		 * consumer's sequence and the topology that makes it gate.
		 */
		smp_store_release(&e->next, start + 1);
	}
	/*
	 * Pairs with a load-acquire of members: a reader that sees this
	 * count also sees the next and halted written above.
	 */
	smp_store_release(&e->members, n);
}

/*
 * Events a departed worker claimed and did not finish, from its page:
 * [max(seq, done), held). The worker wrote these words and may have
 * scribbled them, so anything but a run of at most one ring is none;
 * a bad value can only misreport its own pool's count.
 */
u64 bb_pool_unfinished(const struct bb_consumer_page *page, u64 size)
{
	u64 from = max(READ_ONCE(page->seq), READ_ONCE(page->done));
	u64 held = READ_ONCE(page->held);

	if (held <= from || held - from > size)
		return 0;
	return held - from;
}

/* A member of pool detached, leaving lost events behind (r->lock held). */
void bb_pool_leave(struct bb_ring *r, u32 pool, u64 lost)
{
	struct bb_pool_entry *e = &r->pools[pool];

	lockdep_assert_held(&r->lock);
	if (WARN_ON_ONCE(!r->pool_members[pool]))
		return;
	/* The page is the workers' to scribble on: count here, mirror it. */
	if (lost) {
		r->pool_lost[pool] += lost;
		WRITE_ONCE(e->lost, r->pool_lost[pool]);
	}
	/* Nothing is published with it: a count only, as a plain store. */
	WRITE_ONCE(e->members, --r->pool_members[pool]);
}

/* Events lost by every pool of the ring, for STATS (r->lock held). */
u64 bb_pools_lost(const struct bb_ring *r)
{
	u64 lost = 0;
	u32 pool;

	lockdep_assert_held(&r->lock);
	for (pool = 0; pool < BB_MAX_POOLS; pool++)
		lost += r->pool_lost[pool];
	return lost;
}
