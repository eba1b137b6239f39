// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The consumer's hot path: find how far it may read (waiting with its
 * strategy), hand out events, advance its sequence, and the batch loop
 * with end_of_batch. No system call unless a strategy sleeps in the
 * kernel or someone announced that it sleeps on this consumer.
 */
#include <errno.h>
#include <sched.h>

#include "internal.h"

static inline __u64 bb_limit_now(const struct badbatch_consumer *c,
				 __u32 max)
{
	return bb_consumer_limit(&c->part.view, c->id, c->seq, max);
}

/* How long a halted consumer waits for events nobody hands on. */
#define BB_HALT_GRACE_NS	1000000000ULL

/*
 * Once halted, the consumer still gets what was published before: look
 * again after reading the status. The acquire pairs with the kernel's
 * halt (ordered after every publication the halting task saw). -EAGAIN:
 * not done yet, because the consumers this one follows still hold
 * published events, or (following the cursor) claims taken before the
 * halt may still be published. Those may never come (a dead producer, an
 * input that already returned): after BB_HALT_GRACE_NS without a
 * readable event, -ESHUTDOWN all the same.
 */
int bb_drain_or_shutdown(struct badbatch_consumer *c, __u32 max,
			 __u64 *limit)
{
	const struct bb_view *v = &c->part.view;
	__u64 now;

	(void)bb_load_acquire(&v->hdr->status);
	*limit = bb_limit_now(c, max);
	if (*limit > c->seq) {
		c->halt_wait_since = 0;
		return 0;
	}
	if (!bb_halt_pending(v, c->id, c->seq))
		return -ESHUTDOWN;
	now = bb_now_ns();
	if (!c->halt_wait_since)
		c->halt_wait_since = now;
	else if (now - c->halt_wait_since >= BB_HALT_GRACE_NS)
		return -ESHUTDOWN;
	return -EAGAIN;
}

/* Halted, events still pending: yield, within the timeout. */
static int bb_drain_wait(const struct badbatch_consumer *c,
			 struct bb_backoff *b)
{
	__u64 timeout = c->part.wait.timeout_ns, now;

	if (timeout) {
		now = bb_now_ns();
		/* Halted before the first step: the clock starts now. */
		if (!b->deadline)
			b->deadline = bb_deadline(now, timeout);
		if (now >= b->deadline)
			return -ETIMEDOUT;
	}
	sched_yield();
	return 0;
}

/* The slow path: nothing readable; wait with the strategy. */
static int bb_wait_limit(struct badbatch_consumer *c, __u32 max,
			 __u64 *limit)
{
	struct bb_backoff b;
	int rc;

	bb_backoff_init(&b);
	for (;;) {
		rc = bb_backoff(&c->part, &b, c->seq);
		if (rc == -ESHUTDOWN) {
			rc = bb_drain_or_shutdown(c, max, limit);
			if (rc == -EAGAIN)
				rc = bb_drain_wait(c, &b);
			if (rc)
				return rc;
			if (*limit > c->seq)
				return 0;
			continue;
		}
		if (rc)
			return rc;
		*limit = bb_limit_now(c, max);
		if (*limit > c->seq)
			return 0;
	}
}

/*
 * A lingering consumer looks every linger_ns / BB_LINGER_LOOKS, and at
 * least every BB_LINGER_STEP_NS so that min_batch is noticed promptly.
 */
#define BB_LINGER_LOOKS		8U
#define BB_LINGER_STEP_NS	1000U

/* Spin, without looking at the ring, until t; return the time reached. */
static __u64 bb_relax_until(__u64 t)
{
	__u64 now;

	do {
		bb_cpu_relax();
		now = bb_now_ns();
	} while (now < t);
	return now;
}

/*
 * Coalescing: fewer than min_batch events are readable up to limit. Look
 * again until they are, linger_ns have passed or the ring halts. Spaced
 * looks, not a tight poll: each look that finds the cursor moved pulls
 * its line from the producer, the traffic coalescing is there to save.
 */
static __attribute__((noinline)) __u64 bb_linger(struct badbatch_consumer *c,
						 __u32 max, __u64 limit)
{
	__u64 want = c->seq + (c->min_batch < max ? c->min_batch : max);
	__u64 now = bb_now_ns(), until = now + c->linger_ns, next, l;
	__u64 step = c->linger_ns / BB_LINGER_LOOKS;

	if (step > BB_LINGER_STEP_NS)
		step = BB_LINGER_STEP_NS;

	while (limit < want && now < until && !bb_part_halted(&c->part)) {
		next = now + step < until ? now + step : until;
		now = bb_relax_until(next);
		l = bb_limit_now(c, max);
		if (l > limit)
			limit = l;
	}
	return limit;
}

/*
 * Trailing: the last look found the ring mostly empty, and the batch it
 * found (BADBATCH_TRAIL_BATCH events or more) was all taken: the producer
 * streams. Let it get ahead before looking: the cursor's line and the
 * slot lines it is filling would each cost it a transfer, and a consumer
 * that looks right away keeps to the lines still being written. Bounded
 * by BADBATCH_TRAIL_MAX_NS and the timeout, so no halt check.
 */
static __attribute__((noinline)) void bb_trail(struct badbatch_consumer *c)
{
	c->trails++;
	bb_relax_until(bb_now_ns() + c->trail_ns);
}

/* The producers may use the ring up to this share while c trails. */
#define BB_TRAIL_RING_SHARE	4U

/*
 * May c trail after taking what this look found? Not if it found max
 * events (more may be readable already), nor if the producers are a
 * quarter of the ring ahead: they could run out of room meanwhile. What
 * was found is their distance only for a consumer of a single producer's
 * cursor; others (following consumers, or a hole left by one of several
 * producers) look at the claim frontier once.
 */
static bool bb_trail_room(const struct badbatch_consumer *c, __u64 found,
			  __u32 max)
{
	const struct bb_view *v = &c->part.view;
	__u64 share = v->size / BB_TRAIL_RING_SHARE;

	if (found >= max || found >= share)
		return false;
	if (v->multi || bb_load(&v->hdr->consumers[c->id].deps))
		return bb_load(&v->prod->claim) - c->seq < share;
	return true;
}

/*
 * How far c may read now (wait: trailing, then with its strategy, then
 * coalescing): 0 and *out beyond c->seq, or -EAGAIN (not waiting,
 * nothing readable), -ESHUTDOWN, ...
 */
int bb_consumer_readable(struct badbatch_consumer *c, __u32 max, __u64 *out,
			 bool wait)
{
	__u64 limit;
	int rc = 0;

	if (wait && c->may_trail && c->seq == c->limit &&
	    c->seq - c->taken_from >= BADBATCH_TRAIL_BATCH)
		bb_trail(c);
	c->taken_from = c->seq;
	c->may_trail = false;
	limit = bb_limit_now(c, max);

	if (bb_unlikely(limit <= c->seq)) {
		if (wait)
			rc = bb_wait_limit(c, max, &limit);
		else if (bb_part_halted(&c->part))
			rc = bb_drain_or_shutdown(c, max, &limit);
		else
			rc = -EAGAIN;
		if (rc)
			return rc;
	}
	if (wait && bb_unlikely(limit - c->seq < c->min_batch))
		limit = bb_linger(c, max, limit);
	c->may_trail = c->trail_ns && bb_trail_room(c, limit - c->seq, max);
	if (limit > c->limit)
		c->limit = limit;
	*out = limit;
	return 0;
}

int badbatch_wait_for(struct badbatch_consumer *c, uint64_t *limit)
{
	__u64 l;
	int rc = bb_consumer_readable(c, c->max_batch, &l, true);

	if (!rc)
		*limit = l;
	return rc;
}

int badbatch_try_wait_for(struct badbatch_consumer *c, uint64_t *limit)
{
	__u64 l;
	int rc = bb_consumer_readable(c, c->max_batch, &l, false);

	if (!rc)
		*limit = l;
	return rc;
}

void *badbatch_event(const struct badbatch_consumer *c, uint64_t seq)
{
	return bb_slot(&c->part.view, seq);
}

bool badbatch_is_abandoned(const struct badbatch_consumer *c, uint64_t seq)
{
	return bb_is_abandoned(&c->part.view, seq);
}

uint64_t badbatch_consumer_seq(const struct badbatch_consumer *c)
{
	return c->seq;
}

uint64_t badbatch_consumer_abandoned(const struct badbatch_consumer *c)
{
	return c->abandoned;
}

int badbatch_advance(struct badbatch_consumer *c, uint64_t seq)
{
	__u32 wake;

	if (bb_unlikely(seq < c->seq || seq > c->limit))
		return -EINVAL;
	if (seq == c->seq)
		return 0;
	c->seq = seq;
	wake = bb_consumer_advance(&c->part.view, c->self, c->id, seq);
	if (bb_unlikely(wake))
		return bb_part_wake(&c->part, wake);
	return 0;
}

/* How many events ahead to prefetch: about eight cache lines. */
static inline __u64 bb_prefetch_ahead(__u32 slot_size)
{
	return slot_size >= 512 ? 1 : 512 / slot_size;
}

/*
 * Hand [lo, limit) of a single-producer ring to fn: nothing is ever
 * abandoned there. The geometry sits in locals, since fn may write any
 * memory as far as the compiler knows and would force reloads. Return:
 * events handed over, or fn's negative value with *stop where it stopped.
 */
static int bb_hand_out_all(const struct bb_view *v, __u64 lo, __u64 limit,
			   badbatch_handler_fn fn, void *ctx, __u64 *stop)
{
	unsigned char *slots = v->slots;
	__u64 mask = v->mask, last = limit - 1, seq;
	__u32 slot_size = v->slot_size;
	__u64 ahead = bb_prefetch_ahead(slot_size);
	int rc;

	for (seq = lo; seq < limit; seq++) {
		if (seq + ahead < limit)
			__builtin_prefetch(slots + ((seq + ahead) & mask) *
					   slot_size, 0, 3);
		rc = fn(ctx, slots + (seq & mask) * slot_size, seq,
			seq == last);
		if (bb_unlikely(rc < 0)) {
			*stop = seq;
			return rc;
		}
	}
	return (int)(limit - lo);
}

/* end_of_batch goes to the last event of [lo, limit) not abandoned. */
static __u64 bb_last_handed(const struct bb_view *v, __u64 lo, __u64 limit)
{
	__u64 last = limit - 1;

	while (last > lo && bb_is_abandoned(v, last))
		last--;
	return last;
}

/* As bb_hand_out_all(), skipping events a dead producer abandoned. */
static int bb_hand_out_multi(struct badbatch_consumer *c, __u64 lo,
			     __u64 limit, badbatch_handler_fn fn, void *ctx,
			     __u64 *stop)
{
	const struct bb_view *v = &c->part.view;
	__u64 last = bb_last_handed(v, lo, limit), seq;
	int handled = 0, rc;

	for (seq = lo; seq < limit; seq++) {
		if (bb_unlikely(bb_is_abandoned(v, seq))) {
			c->abandoned++;
			continue;
		}
		rc = fn(ctx, bb_slot(v, seq), seq, seq == last);
		if (bb_unlikely(rc < 0)) {
			*stop = seq;
			return rc;
		}
		handled++;
	}
	return handled;
}

/*
 * Hand [c->seq, limit) to fn, skipping abandoned events, then advance past
 * what fn took. Return: events handed over, fn's negative value, or the
 * wakeup error of badbatch_advance().
 */
int bb_consumer_hand_out(struct badbatch_consumer *c, __u64 limit,
			 badbatch_handler_fn fn, void *ctx)
{
	__u64 stop = limit;
	int handled, rc;

	if (c->part.view.multi)
		handled = bb_hand_out_multi(c, c->seq, limit, fn, ctx, &stop);
	else
		handled = bb_hand_out_all(&c->part.view, c->seq, limit, fn,
					  ctx, &stop);
	rc = badbatch_advance(c, stop);
	if (bb_unlikely(handled < 0))
		return handled;
	return rc ? rc : handled;
}

int badbatch_consume(struct badbatch_consumer *c, badbatch_handler_fn fn,
		     void *ctx, uint32_t max_batch)
{
	__u64 limit;
	int rc;

	if (!max_batch)
		max_batch = c->max_batch;
	rc = bb_consumer_readable(c, max_batch, &limit, true);
	if (rc)
		return rc;
	return bb_consumer_hand_out(c, limit, fn, ctx);
}

/*
 * The end of the run starting at seq (not abandoned): where the ring
 * wraps, the limit, or the next abandoned event, whichever comes first.
 */
static __u64 bb_run_end(const struct bb_view *v, __u64 seq, __u64 limit)
{
	__u64 wrap = (seq | v->mask) + 1, end = limit < wrap ? limit : wrap;
	__u64 next;

	if (v->multi)
		for (next = seq + 1; next < end; next++)
			if (bb_is_abandoned(v, next))
				return next;
	return end;
}

/* Hand [c->seq, limit) to fn a run at a time; *stop: where fn stopped. */
static int bb_hand_out_runs(struct badbatch_consumer *c, __u64 limit,
			    badbatch_run_fn fn, void *ctx, __u64 *stop)
{
	const struct bb_view *v = &c->part.view;
	__u64 seq = c->seq, last = bb_last_handed(v, seq, limit), end;
	int taken = 0, rc;

	while (seq < limit) {
		if (bb_unlikely(bb_is_abandoned(v, seq))) {
			c->abandoned++;
			seq++;
			continue;
		}
		end = bb_run_end(v, seq, limit);
		rc = fn(ctx, bb_slot(v, seq), seq, (__u32)(end - seq),
			end > last);
		if (bb_unlikely(rc < 0)) {
			*stop = seq;
			return rc;
		}
		if (bb_unlikely((__u64)rc < end - seq)) {
			*stop = seq + (__u64)rc;
			return taken + rc;
		}
		taken += (int)(end - seq);
		seq = end;
	}
	*stop = limit;
	return taken;
}

int badbatch_consume_runs(struct badbatch_consumer *c, badbatch_run_fn fn,
			  void *ctx, uint32_t max_batch)
{
	__u64 limit, stop;
	int taken, rc;

	if (!fn)
		return -EINVAL;
	if (!max_batch)
		max_batch = c->max_batch;
	rc = bb_consumer_readable(c, max_batch, &limit, true);
	if (rc)
		return rc;
	taken = bb_hand_out_runs(c, limit, fn, ctx, &stop);
	rc = badbatch_advance(c, stop);
	if (taken < 0)
		return taken;
	return rc ? rc : taken;
}
