// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel-mediated claims of one multi-producer fd that are not yet
 * published. They are what the kernel can give back when the producer
 * dies: on a multi-producer ring a claim cannot be taken back once a
 * later one exists, so the dead producer's slots are published flagged
 * abandoned and consumers skip them instead of waiting forever.
 *
 * An unpublished event s holds every consumer at or below s, so nobody
 * can have claimed s + size yet: all unpublished events lie in the last
 * ring's worth below the claim frontier. Within that window a slot shows
 * either the lap of s (published) or the one before (not yet): the lap
 * check below is exact there, and nothing outside it needs looking at.
 */
#include <linux/sched.h>
#include "bb_internal.h"

/* The first event that may still be unpublished, given claims up to end. */
static u64 bb_kclaims_window(const struct bb_view *v, u64 end)
{
	u64 frontier = max_t(u64, READ_ONCE(v->prod->claim), end);

	return frontier > v->size ? frontier - v->size : 0;
}

static void bb_kclaims_remove(struct bb_kclaims *k, unsigned int i)
{
	k->r[i] = k->r[--k->nr];
}

bool bb_kclaims_full(const struct bb_kclaims *k)
{
	return k->nr == BB_KCLAIMS_MAX;
}

/*
 * Room for one more claim record: when full, forget the claims whose
 * events were all published, through BB_IOC_PUBLISH or the mapping.
 */
bool bb_kclaims_make_room(const struct bb_view *v, struct bb_kclaims *k)
{
	unsigned int i = 0;
	u64 seq, from;

	if (!bb_kclaims_full(k))
		return true;
	while (i < k->nr) {
		from = max(k->r[i].lo, bb_kclaims_window(v, k->r[i].end));
		for (seq = from; seq < k->r[i].end; seq++) {
			if (!(seq & 1023))
				cond_resched();
			if (!bb_is_published(v, seq))
				break;
		}
		if (seq >= k->r[i].end)
			bb_kclaims_remove(k, i);
		else
			i++;
	}
	return !bb_kclaims_full(k);
}

/* Remember [lo, lo + n); the caller made room. */
void bb_kclaims_add(struct bb_kclaims *k, u64 lo, u32 n, u32 size)
{
	struct bb_kclaim *c = NULL;
	unsigned int i;

	/* Back-to-back claims, the common case, extend one record. */
	for (i = 0; i < k->nr; i++)
		if (k->r[i].end == lo)
			c = &k->r[i];
	if (!c) {
		if (WARN_ON_ONCE(bb_kclaims_full(k)))
			return;
		c = &k->r[k->nr++];
		c->lo = lo;
	}
	c->end = lo + n;
	/* Older events of the record cannot be unpublished (see above). */
	if (c->end - c->lo > size)
		c->lo = c->end - size;
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
 * The producer is gone: publish what it still held as abandoned, and
 * only what is still unpublished (it may have published through its
 * mapping), with a compare-and-swap. Returns how many were flagged.
 */
u64 bb_kclaims_abandon(const struct bb_view *v, struct bb_kclaims *k)
{
	u64 from, abandoned = 0;
	unsigned int i;

	for (i = 0; i < k->nr; i++) {
		from = max(k->r[i].lo, bb_kclaims_window(v, k->r[i].end));
		abandoned += bb_abandon_unpublished(v, from, k->r[i].end);
	}
	k->nr = 0;
	return abandoned;
}

/*
 * Flag every event of [lo, end) that is still unpublished as abandoned,
 * by compare-and-swap (its producer may have published it through its
 * mapping). lo must be within a ring of the claim frontier. Returns how
 * many were flagged.
 */
u64 bb_abandon_unpublished(const struct bb_view *v, u64 lo, u64 end)
{
	u64 seq, abandoned = 0;

	for (seq = lo; seq < end; seq++) {
		u32 *word = &v->avail[seq & v->mask];
		u32 before = (u32)(seq >> v->shift) & BB_AVAIL_ROUND_MASK;
		u32 now = READ_ONCE(*word);

		if (!(seq & 1023))
			cond_resched();
		if ((now & BB_AVAIL_ROUND_MASK) != before)
			continue;
		/*
		 * Claimed a lap further since lo was chosen: seq was
		 * published, whatever the round now looks like (the rounds
		 * wrap after 2^31 laps).
		 */
		if (READ_ONCE(v->prod->claim) > seq + v->size)
			continue;
		/*
		 * Release: pairs with the consumers' acquire in
		 * bb_is_published(), like bb_publish().
		 */
		if (cmpxchg_release(word, now, bb_avail_round(v, seq) |
				    BB_AVAIL_ABANDONED) == now)
			abandoned++;
	}
	return abandoned;
}
