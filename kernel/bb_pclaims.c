// SPDX-License-Identifier: GPL-2.0
/*
 * Claim records of multi-producer producers (struct bb_claim_record, in
 * the producer region after avail[]): one per producer fd, handed out on
 * attach, read when the fd is released. The library claims through the
 * mapping by compare-and-swap on the claim frontier and keeps its record
 * current; a dead producer's recorded claims are published abandoned, and
 * an intent it left in flight (did its CAS win?) is settled from the
 * other records and from avail[], at once or from a work item that looks
 * again a few times. When nothing but the dead producer's own CAS can
 * have moved the frontier past the intent, that CAS won: its claim is
 * published abandoned. The ring fails only when that stays unclear.
 *
 * Records are written by producers and trusted for nothing: every value
 * is bounded (at most BB_RECORD_RANGES entries of at most a ring each),
 * only events in [claim - size, claim) of the current frontier are ever
 * touched and only while their slot shows the previous lap. A producer
 * that lies in its record, or in another producer's (all producers map
 * the region writable, as they do avail[] and claim, with which they can
 * stall or corrupt the ring anyway), hurts only this ring.
 */
#include <linux/delay.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include "bb_internal.h"

/* How long an in-flight intent may stay unsettled: tries * delay. */
#define BB_INTENT_TRIES		125
#define BB_INTENT_DELAY_US	4000

static struct workqueue_struct *bb_prec_wq;

struct bb_intent_work {
	struct work_struct work;
	struct list_head node;		/* in ring->intents, under its lock */
	struct bb_ring *ring;		/* referenced */
	u64 lo;
	u32 n;
};

/* Byte offset of the records in the producer region (0: none). */
size_t bb_records_off(u32 flags, u32 slot_count)
{
	if (!(flags & BB_RING_MULTI_PRODUCER))
		return 0;
	return ALIGN(sizeof(struct bb_producer_page) +
		     (size_t)slot_count * sizeof(u32), BB_CACHELINE);
}

/*
 * Check the record of a dead producer against frontier (read with
 * acquire before the record): 0 when its entries can be abandoned,
 * -EOVERFLOW when it lost track of claims, -EPROTO when it is garbage.
 * Empty entries are skipped; entries may overlap (a split in progress).
 */
int bb_prec_validate(const struct bb_claim_record *c, u64 frontier, u32 size)
{
	u32 i, nr = c->nr;

	if (c->flags & ~(BB_RECORD_OVERFLOW | BB_RECORD_KEPT) ||
	    nr > BB_RECORD_RANGES)
		return -EPROTO;
	if (c->intent_n && (c->intent_n > size || c->intent_lo > frontier))
		return -EPROTO;
	for (i = 0; i < nr; i++) {
		u64 lo = c->r[i].lo, end = c->r[i].end;

		if (bb_range_empty(lo, end))
			continue;
		/* Claims never pass the frontier nor exceed a ring. */
		if (end > frontier || end - lo > size)
			return -EPROTO;
	}
	return c->flags & BB_RECORD_OVERFLOW ? -EOVERFLOW : 0;
}

/*
 * Publish as abandoned the events of [lo, end) still unpublished, end at
 * most frontier; only the last ring's worth can be (see bb_claims.c).
 * Returns how many were flagged.
 */
u64 bb_prec_abandon_range(const struct bb_view *v, u64 frontier, u64 lo,
			  u64 end)
{
	if (frontier > v->size)
		lo = max(lo, frontier - v->size);
	return bb_abandon_unpublished(v, lo, end);
}

/* Abandon every entry of a validated dead record. */
u64 bb_prec_abandon(const struct bb_view *v, const struct bb_claim_record *c,
		    u64 frontier)
{
	u64 abandoned = 0;
	u32 i;

	for (i = 0; i < c->nr; i++)
		if (!bb_range_empty(c->r[i].lo, c->r[i].end))
			abandoned += bb_prec_abandon_range(v, frontier,
							   c->r[i].lo,
							   c->r[i].end);
	return abandoned;
}

/* Does an entry of rec start at lo: did its producer win the CAS from lo? */
static bool bb_prec_won_from(const struct bb_claim_record *rec, u64 lo)
{
	u32 i;

	/*
	 * Every entry, in use or not: an entry once started at lo says its
	 * producer won from lo (no frontier lies strictly inside a claim,
	 * and sequences never repeat). A half-written entry reads empty.
	 */
	for (i = 0; i < BB_RECORD_RANGES; i++) {
		u64 a = READ_ONCE(rec->r[i].lo);

		if (a == lo && !bb_range_empty(a, READ_ONCE(rec->r[i].end)))
			return true;
	}
	return false;
}

/*
 * Did a dead producer's CAS from lo (intent lo, n) lose, or is there
 * nothing of it left to release? True when: the frontier never passed lo;
 * lo is more than a ring behind it (an unpublished lo would have held it
 * there); lo's slot shows lo's lap (someone published or abandoned it);
 * or another producer's record won from lo. False: it may have won.
 * records/used: the ring's records and which are handed out; skip: the
 * dead producer's own (BB_ID_ANY once released).
 */
bool bb_prec_intent_settled(const struct bb_view *v,
			    const struct bb_claim_record *records, u64 used,
			    u32 skip, u64 lo)
{
	/* Pairs with the producers' CAS on claim (see bb_try_claim_rec()). */
	u64 frontier = smp_load_acquire(&v->prod->claim);
	u32 id;

	if (frontier <= lo || frontier - lo > v->size)
		return true;
	/* Pairs with bb_publish()'s release store; see bb_is_published(). */
	if ((smp_load_acquire(&v->avail[lo & v->mask]) & BB_AVAIL_ROUND_MASK) ==
	    bb_avail_round(v, lo))
		return true;
	for (id = 0; id < BB_MAX_RECORDS; id++)
		if (id != skip && (used & BIT_ULL(id)) &&
		    bb_prec_won_from(&records[id], lo))
			return true;
	return false;
}

/*
 * Did a dead producer's CAS from lo for n events win? Yes when nothing
 * else explains the frontier having passed lo + n: every live producer
 * keeps its record (BB_RECORD_KEPT) and has not overflowed it, none has
 * an intent at lo (each stores one before its CAS and keeps it until its
 * entry is recorded) or an entry starting at lo, and lo's slot still
 * shows the lap before lo's. Read in that order, the reverse of a live
 * winner's stores (release stores in record.h), so that a winner moving
 * on between two reads still shows in the next one. skip: the dead
 * producer's own record while it is still handed out. The caller also
 * rules out a halted ring, claims made through the kernel and other dead
 * intents at lo.
 */
bool bb_prec_intent_won(const struct bb_view *v,
			const struct bb_claim_record *records, u64 used,
			u32 skip, u64 lo, u32 n)
{
	/* Pairs with the winner's CAS on claim, as in bb_prec_release(). */
	u64 frontier = smp_load_acquire(&v->prod->claim);
	u32 id, round, flags;

	if (frontier < lo + n || frontier - lo > v->size)
		return false;
	for (id = 0; id < BB_MAX_RECORDS; id++) {
		const struct bb_claim_record *c = &records[id];

		if (id == skip || !(used & BIT_ULL(id)))
			continue;
		/* Pairs with the release stores of intent_n (record.h). */
		if (smp_load_acquire(&c->intent_n) &&
		    READ_ONCE(c->intent_lo) == lo)
			return false;
		/*
		 * Not kept (a producer claiming without a record may have
		 * won anything), or overflowed (it may hold a claim it has
		 * no entry for).
		 */
		flags = READ_ONCE(c->flags);
		if (!(flags & BB_RECORD_KEPT) || (flags & BB_RECORD_OVERFLOW) ||
		    READ_ONCE(c->nr) > BB_RECORD_RANGES)
			return false;
	}
	for (id = 0; id < BB_MAX_RECORDS; id++)
		if (id != skip && (used & BIT_ULL(id)) &&
		    bb_prec_won_from(&records[id], lo))
			return false;
	/* Entries before the slot: pairs with bb_record_published(). */
	smp_rmb();
	/* Pairs with bb_publish()'s release store; see bb_is_published(). */
	round = smp_load_acquire(&v->avail[lo & v->mask]);
	/* Unpublished is the lap before lo's, nothing else (not a later one). */
	if ((round & BB_AVAIL_ROUND_MASK) !=
	    ((u32)(lo >> v->shift) & BB_AVAIL_ROUND_MASK))
		return false;
	/*
	 * ... and read while lo was still within a ring of the frontier:
	 * after the slot, by its acquire. An unpublished lo holds every
	 * producer within a ring of it.
	 */
	frontier = READ_ONCE(v->prod->claim);
	return frontier - lo <= v->size;
}

static void bb_prec_fail(struct bb_ring *r, u64 seq)
{
	struct bb_fail f = { .seq = seq, .error = EOWNERDEAD };

	/* -ESHUTDOWN: halted already, its status stands. */
	bb_ring_halt(r, &f, BB_ID_ANY);
}

/*
 * A dead producer's intent (lo, n), r->lock held: true when nothing is
 * left to wait for, with *abandoned the events of its claim published
 * abandoned if its CAS won. skip: its record while still handed out;
 * self: its work item once queued.
 */
static bool bb_intent_resolve(struct bb_ring *r, u32 skip, u64 lo, u32 n,
			      const struct bb_intent_work *self,
			      u64 *abandoned)
{
	const struct bb_view *v = &r->view;
	const struct bb_intent_work *w;
	u64 frontier;

	*abandoned = 0;
	if (bb_prec_intent_settled(v, r->records, r->records_used, skip, lo))
		return true;
	if (!bb_prec_intent_won(v, r->records, r->records_used, skip, lo, n))
		return false;
	/* Read after the frontier: pairs with bb_kclaim_locked(). */
	if (READ_ONCE(r->kclaimed))
		return false;
	/* Halted: bb_claim_undo() may move the frontier back. */
	if (READ_ONCE(r->halted))
		return false;
	/* Two dead intents from lo for different counts: which one won? */
	list_for_each_entry(w, &r->intents, node)
		if (w != self && w->lo == lo && w->n != n)
			return false;
	/* Pairs with the producers' CAS on claim, as in bb_prec_release(). */
	frontier = smp_load_acquire(&v->prod->claim);
	*abandoned = bb_prec_abandon_range(v, frontier, lo, lo + n);
	return true;
}

static void bb_intent_done(struct bb_ring *r, u64 abandoned)
{
	if (abandoned) {
		atomic64_add(abandoned, &r->abandoned);
		bb_wake(r, BB_WAKE_CONSUMERS);
	}
}

/* Look again a few times, off the closing task; fail the ring if unsure. */
static void bb_intent_work_fn(struct work_struct *work)
{
	struct bb_intent_work *w = container_of(work, struct bb_intent_work,
						work);
	struct bb_ring *r = w->ring;
	unsigned int tries;
	u64 abandoned = 0;
	bool done = false;

	for (tries = 0; tries < BB_INTENT_TRIES && !done; tries++) {
		if (READ_ONCE(r->halted))
			break;
		if (tries)
			usleep_range(BB_INTENT_DELAY_US, 2 * BB_INTENT_DELAY_US);
		mutex_lock(&r->lock);
		done = bb_intent_resolve(r, BB_ID_ANY, w->lo, w->n, w,
					 &abandoned);
		mutex_unlock(&r->lock);
	}
	if (!done && !READ_ONCE(r->halted))
		bb_prec_fail(r, w->lo);
	mutex_lock(&r->lock);
	list_del(&w->node);
	mutex_unlock(&r->lock);
	bb_intent_done(r, abandoned);
	bb_ring_put(r);
	kfree(w);
}

static void bb_intent_later(struct bb_ring *r, u64 lo, u32 n)
{
	struct bb_intent_work *w = kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);

	if (!w || !bb_prec_wq) {
		kfree(w);
		bb_prec_fail(r, lo);
		return;
	}
	INIT_WORK(&w->work, bb_intent_work_fn);
	/* The ring outlives the work; bb_prec_exit() waits for the work. */
	kref_get(&r->ref);
	w->ring = r;
	w->lo = lo;
	w->n = n;
	/* Listed before the record is released: never out of sight. */
	mutex_lock(&r->lock);
	list_add(&w->node, &r->intents);
	mutex_unlock(&r->lock);
	queue_work(bb_prec_wq, &w->work);
}

/* A multi-producer producer attaches (r->lock held): its record, zeroed. */
int bb_prec_attach(struct bb_ring *r, u32 *id)
{
	u64 free = ~r->records_used;

	if (!free)
		return -ENOSPC;
	*id = __ffs64(free);
	memset(&r->records[*id], 0, sizeof(r->records[*id]));
	r->records_used |= BIT_ULL(*id);
	return 0;
}

/*
 * Producer bf is gone (death or close; bf->lock is not needed, nothing
 * else uses bf now): release what its record holds, keep its intent for
 * later if unsure, and free the record. Never sleeps for long.
 */
void bb_prec_release(struct bb_file *bf)
{
	struct bb_ring *r = bf->ring;
	const struct bb_view *v = &r->view;
	struct bb_claim_record c;
	u64 frontier, n = 0, won = 0;
	bool pending = false;
	u32 i;
	int ret;

	if (bf->record_id >= BB_MAX_RECORDS)
		return;
	/*
	 * Pairs with the producers' CAS on claim: the dead producer's last
	 * CAS is seen, and so is its intent stored before it.
	 */
	frontier = smp_load_acquire(&v->prod->claim);
	/* Nobody writes it any more (a liar might): one copy, then checks. */
	mutex_lock(&r->lock);
	memcpy(&c, &r->records[bf->record_id], sizeof(c));
	ret = bb_prec_validate(&c, frontier, v->size);
	mutex_unlock(&r->lock);
	if (ret) {
		bb_prec_fail(r, c.intent_n ? c.intent_lo : frontier);
		goto out;
	}
	n = bb_prec_abandon(v, &c, frontier);
	if (c.intent_n) {
		pending = true;
		for (i = 0; i < c.nr; i++)
			if (c.r[i].lo == c.intent_lo &&
			    !bb_range_empty(c.r[i].lo, c.r[i].end))
				pending = false;	/* recorded: released */
		if (pending) {
			mutex_lock(&r->lock);
			pending = !bb_intent_resolve(r, bf->record_id,
						     c.intent_lo, c.intent_n,
						     NULL, &won);
			mutex_unlock(&r->lock);
		}
	}
	if (pending)
		bb_intent_later(r, c.intent_lo, c.intent_n);
out:
	bb_intent_done(r, n + won);
	mutex_lock(&r->lock);
	r->records_used &= ~BIT_ULL(bf->record_id);
	mutex_unlock(&r->lock);
	bf->record_id = BB_ID_ANY;
}

/* Is the workqueue for late intent checks there (bb_prec_init())? */
bool bb_prec_ready(void)
{
	return bb_prec_wq;
}

int bb_prec_init(void)
{
	bb_prec_wq = alloc_workqueue("badbatch", WQ_UNBOUND, 0);
	return bb_prec_wq ? 0 : -ENOMEM;
}

/* Module exit: every pending work item finishes and drops its ring. */
void bb_prec_exit(void)
{
	destroy_workqueue(bb_prec_wq);
	bb_prec_wq = NULL;
}
