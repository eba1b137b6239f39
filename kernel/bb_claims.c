// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel-mediated claims of one multi-producer fd that are not yet
 * published. They are what the kernel can give back when the producer
 * dies: on a multi-producer ring a claim cannot be taken back once a
 * later one exists, so the dead producer's slots are published flagged
 * abandoned and consumers skip them instead of waiting forever.
 */
#include "bb_internal.h"

/* Room for one more claim (a publish may also need one to split). */
bool bb_kclaims_full(const struct bb_kclaims *k)
{
	return k->nr == BB_KCLAIMS_MAX;
}

void bb_kclaims_add(struct bb_kclaims *k, u64 lo, u32 n)
{
	unsigned int i;

	/* Back-to-back claims, the common case, extend one entry. */
	for (i = 0; i < k->nr; i++) {
		if (k->r[i].end == lo) {
			k->r[i].end = lo + n;
			return;
		}
	}
	if (WARN_ON_ONCE(bb_kclaims_full(k)))
		return;
	k->r[k->nr].lo = lo;
	k->r[k->nr].end = lo + n;
	k->nr++;
}

static void bb_kclaims_remove(struct bb_kclaims *k, unsigned int i)
{
	k->r[i] = k->r[--k->nr];
}

/*
 * [lo, end) is being published: it must lie within one outstanding claim
 * (-EINVAL), which then shrinks or splits; a split with no room left is
 * refused (-EBUSY) and changes nothing.
 */
int bb_kclaims_take(struct bb_kclaims *k, u64 lo, u64 end)
{
	unsigned int i;

	for (i = 0; i < k->nr; i++) {
		struct bb_kclaim *c = &k->r[i];

		if (lo < c->lo || end > c->end)
			continue;
		if (lo == c->lo && end == c->end) {
			bb_kclaims_remove(k, i);
		} else if (lo == c->lo) {
			c->lo = end;
		} else if (end == c->end) {
			c->end = lo;
		} else {
			if (bb_kclaims_full(k))
				return -EBUSY;
			k->r[k->nr].lo = end;
			k->r[k->nr].end = c->end;
			k->nr++;
			c->end = lo;
		}
		return 0;
	}
	return -EINVAL;
}

/*
 * The producer is gone: publish what it still held as abandoned. A slot
 * its owner published through its mapping instead of BB_IOC_PUBLISH may
 * already carry a later lap, so only a slot still showing the lap before
 * seq is flagged, and with a compare-and-swap. Returns how many were.
 */
u64 bb_kclaims_abandon(const struct bb_view *v, struct bb_kclaims *k)
{
	u64 seq, abandoned = 0;
	unsigned int i;

	for (i = 0; i < k->nr; i++) {
		for (seq = k->r[i].lo; seq < k->r[i].end; seq++) {
			u32 *word = &v->avail[seq & v->mask];
			u32 before = (u32)(seq >> v->shift) & BB_AVAIL_ROUND_MASK;
			u32 now = READ_ONCE(*word);

			if ((now & BB_AVAIL_ROUND_MASK) != before)
				continue;
			/*
			 * Release: pairs with the consumers' acquire in
			 * bb_is_published(), like bb_publish().
			 */
			if (cmpxchg_release(word, now, bb_avail_round(v, seq) |
					    BB_AVAIL_ABANDONED) == now)
				abandoned++;
		}
	}
	k->nr = 0;
	return abandoned;
}
