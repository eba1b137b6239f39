// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The producer's hot path: claim slots (waiting for capacity with the
 * producer's strategy), hand out their memory, publish them. No system
 * call unless a strategy sleeps in the kernel or a consumer announced
 * that it sleeps.
 */
#include <errno.h>

#include "internal.h"

static inline bool bb_bad_count(const struct bb_view *v, __u32 n)
{
	return n == 0 || n > v->size;
}

static inline int bb_claim_now(struct badbatch_producer *p, __u32 n,
			       __u64 *lo)
{
	int rc;

	/* Kernel rings: the record lets the kernel release it if we die. */
	if (p->rec) {
		rc = bb_try_claim_rec(&p->part.view, &p->pc, p->rec, n, lo);
		if (bb_likely(!rc))
			p->unpublished += n;
	} else {
		rc = bb_try_claim(&p->part.view, &p->pc, n, lo);
	}
	if (bb_likely(!rc) && *lo + n > p->claim_end)
		p->claim_end = *lo + n;
	return rc;
}

/*
 * The fast path of a single producer: the room is known from the cached
 * gating minimum, so the claim touches no line another CPU writes. Kept
 * free of calls, so the hot loop does not spill registers to the stack:
 * every store counts when the cursor's line is away at the consumer and
 * stores drain in order.
 */
static inline bool bb_claim_single_fast(struct badbatch_producer *p,
					__u32 n, __u64 *lo)
{
	const struct bb_view *v = &p->part.view;
	__u64 cur = p->pc.next, end = cur + n;

	if (bb_unlikely(v->multi || bb_bad_count(v, n) ||
			!bb_room_cached(v, &p->pc, end) ||
			bb_part_halted(&p->part)))
		return false;
	bb_single_take(v, &p->pc, end);
	p->claim_end = end;
	*lo = cur;
	return true;
}

static int bb_try_claim_checked(struct badbatch_producer *p, __u32 n,
				__u64 *lo)
{
	if (bb_unlikely(bb_bad_count(&p->part.view, n)))
		return -EINVAL;
	if (bb_unlikely(bb_part_halted(&p->part)))
		return -ESHUTDOWN;
	return bb_claim_now(p, n, lo);
}

/* Out of line, so the fast path's caller keeps nothing on the stack. */
static __attribute__((noinline)) int bb_try_claim_slow(
	struct badbatch_producer *p, __u32 n, uint64_t *seq)
{
	__u64 lo;
	int rc = bb_try_claim_checked(p, n, &lo);

	if (!rc)
		*seq = lo;
	return rc;
}

int badbatch_try_claim(struct badbatch_producer *p, uint32_t n,
		       uint64_t *seq)
{
	__u64 lo;

	if (bb_likely(bb_claim_single_fast(p, n, &lo))) {
		*seq = lo;
		return 0;
	}
	return bb_try_claim_slow(p, n, seq);
}

/*
 * A claim the wait won after the ring halted: give it back. A single
 * producer owns the frontier and just moves it back. A multi-producer
 * one moves it back only while no later claim exists (the CAS); else
 * the slots are published abandoned, so consumers skip them instead of
 * waiting at a hole that would never be published.
 */
static void bb_claim_undo(struct badbatch_producer *p, __u64 lo, __u32 n,
			  __u64 old_end)
{
	const struct bb_view *v = &p->part.view;
	__u64 end = lo + n;

	if (!v->multi) {
		bb_single_take(v, &p->pc, lo);
		p->claim_end = old_end;
		return;
	}
	if (bb_cas(&v->prod->claim, &end, lo)) {
		p->claim_end = old_end;
		return;
	}
	bb_publish_abandoned(v, lo, n);
	if (bb_consumers_need_wake(v))
		bb_part_wake(&p->part, BB_WAKE_CONSUMERS);
}

/*
 * The slow path: no room (or lost races); wait with the strategy. A
 * step that does not enter the kernel (a spin, a yield, a nap) cannot
 * notice a halt that comes during it: the claim after it is checked
 * against the status once more and given back if the ring halted.
 */
static int bb_claim_wait(struct badbatch_producer *p, __u32 n, __u64 *lo,
			 int rc)
{
	const struct bb_view *v = &p->part.view;
	__u64 frontier, old_end;
	struct bb_backoff b;

	bb_backoff_init(&b);
	for (;;) {
		if (rc != -EAGAIN && rc != -EBUSY)
			return rc;
		/*
		 * Wait until the last slot of a claim starting at the
		 * frontier is free; another producer may take it first, then
		 * the claim just tries again. Lost races (-EBUSY) back off
		 * the same way, so the strategy and the timeout still hold.
		 */
		frontier = v->multi ? bb_load(&v->prod->claim) : p->pc.next;
		rc = bb_backoff(&p->part, &b, frontier + n - 1);
		if (rc)
			return rc;
		old_end = p->claim_end;
		rc = bb_claim_now(p, n, lo);
		if (rc)
			continue;
		/*
		 * The claim before the status load: pairs with the acquire
		 * of the status in bb_drain_or_shutdown() on consumers that
		 * then read the frontier (bb_halt_pending()), so either we
		 * see the halt or they see our claim and wait for it.
		 */
		bb_full_barrier();
		if (bb_likely(!bb_part_halted(&p->part)))
			return 0;
		bb_claim_undo(p, *lo, n, old_end);
		return -ESHUTDOWN;
	}
}

/* Claim now if possible, else wait with the producer's strategy. */
static __attribute__((noinline)) int bb_claim_slow(struct badbatch_producer *p,
						   __u32 n, uint64_t *seq)
{
	__u64 lo;
	int rc = bb_try_claim_checked(p, n, &lo);

	if (rc == -EAGAIN || rc == -EBUSY)
		rc = bb_claim_wait(p, n, &lo, rc);
	if (!rc)
		*seq = lo;
	return rc;
}

int badbatch_claim(struct badbatch_producer *p, uint32_t n, uint64_t *seq)
{
	__u64 lo;

	if (bb_likely(bb_claim_single_fast(p, n, &lo))) {
		*seq = lo;
		return 0;
	}
	return bb_claim_slow(p, n, seq);
}

uint64_t badbatch_remaining(struct badbatch_producer *p)
{
	if (bb_part_halted(&p->part))
		return 0;
	return bb_remaining(&p->part.view, &p->pc);
}

void *badbatch_slot(const struct badbatch_producer *p, uint64_t seq)
{
	return bb_slot(&p->part.view, seq);
}

/* Publish [seq, end): every case but a single producer's next run. */
static __attribute__((noinline)) int bb_publish_slow(
	struct badbatch_producer *p, __u64 seq, __u32 n)
{
	const struct bb_view *v = &p->part.view;
	__u64 end = seq + n;

	/* No claim of ours is more than a ring behind our furthest one. */
	if (bb_unlikely(bb_bad_count(v, n) || end > p->claim_end ||
			end < seq || p->claim_end - seq > v->size))
		return -EINVAL;
	if (!v->multi) {
		/* The cursor publishes everything below it: no gaps. */
		if (bb_unlikely(seq > p->published || end <= p->published))
			return -EINVAL;
		p->published = end;
	}
	bb_publish(v, seq, n);
	if (p->rec) {
		/* After the avail[] stores: a crash between leaves both. */
		bb_record_published(p->rec, seq, end);
		p->unpublished = p->unpublished > n ? p->unpublished - n : 0;
		/* Overflowed, and now every claim is out: start afresh. */
		if (bb_unlikely(!p->unpublished &&
				(bb_load(&p->rec->flags) & BB_RECORD_OVERFLOW)))
			bb_record_reset(p->rec);
	}
	if (bb_consumers_need_wake(v))
		return bb_part_wake(&p->part, BB_WAKE_CONSUMERS);
	return 0;
}

int badbatch_publish(struct badbatch_producer *p, uint64_t seq, uint32_t n)
{
	const struct bb_view *v = &p->part.view;
	__u64 end = seq + n;

	/*
	 * A single producer publishing the run right after its last one:
	 * the checks of bb_publish_slow() reduce to these (end cannot wrap
	 * past seq, which is the cursor).
	 */
	if (bb_unlikely(v->multi || seq != p->published || bb_bad_count(v, n) ||
			end > p->claim_end || p->claim_end - seq > v->size))
		return bb_publish_slow(p, seq, n);
	p->published = end;
	/* Pairs with the acquire in bb_published_limit(), as bb_publish(). */
	bb_store_release(&v->prod->cursor, end);
	if (bb_likely(!bb_consumers_need_wake(v)))
		return 0;
	return bb_part_wake(&p->part, BB_WAKE_CONSUMERS);
}
