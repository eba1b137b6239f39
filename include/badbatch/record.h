/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A multi-producer producer's claim record (struct bb_claim_record in the
 * uapi header): what it is about to claim and what it claimed and has not
 * published, kept in shared memory so that the kernel can release it as
 * abandoned when the producer dies. Only the record's own producer writes
 * it (the kernel zeroes it on attach); the state the record shows after
 * any prefix of these stores is one the kernel can act on: entries are
 * empty (lo >= end) or a subset of an unpublished claim of this
 * producer, never a mix of two. The stores that end a claim's intent and
 * shrink an entry are releases (plain stores on x86): the kernel reads
 * intent, entries and avail[] in that order to tell whether a dead
 * producer's CAS won (bb_prec_intent_won()).
 */
#ifndef _BADBATCH_RECORD_H
#define _BADBATCH_RECORD_H

#include "claim.h"

/* Is entry e free? A half-written entry (new lo, old end) is empty too. */
static inline bool bb_range_empty(__u64 lo, __u64 end)
{
	return lo >= end;
}

/*
 * Record the claim [lo, end) just won, then drop the intent. An entry is
 * filled lo first: until end is stored it reads as empty, since an older
 * entry's end is at most the new lo. With no entry left, the record says
 * it overflowed and the kernel will fail the ring if the producer dies
 * before bb_record_reset().
 */
static inline void bb_record_claimed(struct bb_claim_record *rec, __u64 lo,
				     __u64 end)
{
	__u32 nr = bb_load(&rec->nr);
	__u32 i;

	for (i = 0; i < nr && i < BB_RECORD_RANGES; i++)
		if (bb_range_empty(bb_load(&rec->r[i].lo),
				   bb_load(&rec->r[i].end)))
			break;
	if (bb_likely(i < BB_RECORD_RANGES)) {
		bb_store(&rec->r[i].lo, lo);
		bb_store(&rec->r[i].end, end);
		if (i == nr)
			bb_store(&rec->nr, nr + 1);
	} else {
		bb_store(&rec->flags, bb_load(&rec->flags) |
			 BB_RECORD_OVERFLOW);
	}
	/* The entry before the intent goes: pairs with the kernel's acquire. */
	bb_store_release(&rec->intent_n, 0);
}

/*
 * [lo, end) was published (avail[] stored before this call): take it out
 * of the entries. Each change is one store that leaves a subset of what
 * is still unpublished, except a split, which first adds the upper part
 * (two entries overlap for a moment: the kernel abandons a slot once).
 */
static inline void bb_record_published(struct bb_claim_record *rec,
				       __u64 lo, __u64 end)
{
	__u32 nr = bb_load(&rec->nr);
	__u32 i;

	if (nr > BB_RECORD_RANGES)
		nr = BB_RECORD_RANGES;
	for (i = 0; i < nr; i++) {
		__u64 a = bb_load(&rec->r[i].lo);
		__u64 b = bb_load(&rec->r[i].end);

		if (bb_range_empty(a, b) || end <= a || lo >= b)
			continue;
		/* Releases: avail[] before the entry shrinks (see top). */
		if (lo <= a && end >= b) {
			bb_store_release(&rec->r[i].end, a);	/* now empty */
		} else if (lo <= a) {
			bb_store_release(&rec->r[i].lo, end);
		} else if (end >= b) {
			bb_store_release(&rec->r[i].end, lo);
		} else {
			__u32 n0 = bb_load(&rec->nr);

			/* The middle: [end, b) goes to an entry of its own. */
			bb_record_claimed(rec, end, b);
			if (bb_load(&rec->flags) & BB_RECORD_OVERFLOW &&
			    bb_load(&rec->nr) == n0)
				return;	/* no room: keep the whole entry */
			bb_store_release(&rec->r[i].end, lo);
		}
	}
}

/* Nothing is outstanding any more: start afresh (clears overflow). */
static inline void bb_record_reset(struct bb_claim_record *rec)
{
	/* Releases: every publish before (bb_prec_intent_won()). */
	bb_store_release(&rec->nr, 0);
	bb_store_release(&rec->flags, bb_load(&rec->flags) & BB_RECORD_KEPT);
}

/*
 * Say, before the first claim, that this producer keeps its record: the
 * kernel may then rely on it when another producer dies with a CAS in
 * flight (BB_FEAT_RECORD_WON).
 */
static inline void bb_record_keep(struct bb_claim_record *rec)
{
	bb_store_release(&rec->flags, bb_load(&rec->flags) | BB_RECORD_KEPT);
}

/*
 * bb_try_claim() for a multi-producer ring, keeping rec: the intent is
 * stored before every compare-and-swap and cleared when the call gives
 * up. The CAS is sequentially consistent, hence a release: the kernel's
 * acquire load of claim in bb_prec_release(), reading this CAS's value
 * or a later one, sees the intent stored before it.
 */
static inline int bb_try_claim_rec(const struct bb_view *v,
				   struct bb_producer_cache *pc,
				   struct bb_claim_record *rec,
				   __u32 n, __u64 *lo)
{
	__u64 cur, end;
	int tries;

	if (bb_unlikely(n == 0 || n > v->size))
		return -EINVAL;
	cur = bb_load(&v->prod->claim);
	end = cur + n;
	if (!bb_has_room(v, pc, cur, end))
		return -EAGAIN;
	bb_store(&rec->intent_lo, cur);
	/* intent_n's stores are releases: the kernel acquires it first. */
	bb_store_release(&rec->intent_n, n);
	for (tries = 0; tries < BB_CLAIM_RETRIES; tries++) {
		if (bb_cas(&v->prod->claim, &cur, end)) {
			*lo = cur;
			bb_record_claimed(rec, cur, end);
			return 0;
		}
		/* cur was reloaded: recheck room, then a new intent. */
		end = cur + n;
		if (!bb_has_room(v, pc, cur, end))
			break;
		bb_store(&rec->intent_lo, cur);
	}
	bb_store_release(&rec->intent_n, 0);
	return tries < BB_CLAIM_RETRIES ? -EAGAIN : -EBUSY;
}

#endif /* _BADBATCH_RECORD_H */
