// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Work pools: each event handled by exactly one worker, in any process.
 *
 * A worker is an ordinary consumer (its own sequence gates the producers
 * and its dependents) that is also a member of pool p. Entry p of the
 * ring's pools page holds next, 1 + the first event no worker claimed.
 * A worker claims a run of *published* events [w, w + n) with one
 * compare-and-swap of next, and only after its own sequence is at most w.
 * So every claimed, unfinished event is covered by its owner's sequence,
 * every unclaimed one by any member's (each is at most next - 1), and the
 * producers, which wait for the slowest member, never overwrite either.
 * Claiming only published events means a worker never holds an event it
 * cannot finish: halting or closing it between calls loses nothing.
 *
 * A worker that dies inside its handler cannot hand its claim back, and
 * the other workers' sequences are already past it: those events would
 * vanish silently. So the worker keeps held (its claim's end) and done
 * (its progress in it) in its own page, and the kernel, when the worker's
 * fd goes away, counts what it never finished as the pool's lost events.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "internal.h"

struct badbatch_worker {
	struct badbatch_consumer *c;
	struct bb_pool_entry *pool;
	__u64 lo, hi;		/* claimed, not handled yet: [lo, hi) */
	__u64 user_timeout;	/* the caller's timeout_ns, 0: none */
	__u32 batch;
};

struct badbatch_consumer *bb_worker_consumer(const struct badbatch_worker *w)
{
	return w->c;
}

int badbatch_worker_attach(struct badbatch *ring,
			   const struct badbatch_worker_config *cfg,
			   struct badbatch_worker **wp)
{
	struct badbatch_consumer_config cc = { 0 };
	struct badbatch_worker *w;
	int rc;

	if (!ring || !cfg || !wp || cfg->pool >= BADBATCH_MAX_POOLS)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	cc.deps = cfg->deps;
	cc.want_id = cfg->want_id;
	cc.id = cfg->id;
	cc.wait = cfg->wait;
	/* Sleep in slices to notice a pool halted by another process. */
	w->user_timeout = cfg->wait.timeout_ns;
	if (!cc.wait.timeout_ns || cc.wait.timeout_ns > BB_SLICE_NS)
		cc.wait.timeout_ns = BB_SLICE_NS;
	rc = bb_consumer_new(ring, &cc, (int)cfg->pool, &w->c);
	if (rc) {
		free(w);
		return rc;
	}
	w->pool = &w->c->pools[cfg->pool];
	w->batch = cfg->max_batch ? cfg->max_batch : 1;
	if (w->batch > w->c->part.view.size)
		w->batch = w->c->part.view.size;
	*wp = w;
	return 0;
}

void badbatch_worker_close(struct badbatch_worker *w)
{
	if (!w)
		return;
	/*
	 * A held claim is past the pool's next: no other worker can take
	 * it, and once we detach nothing gates on it. Fail loudly instead.
	 */
	if (w->lo < w->hi)
		badbatch_consumer_fail(w->c, w->lo, ECANCELED);
	badbatch_consumer_close(w->c);
	free(w);
}

uint32_t badbatch_worker_id(const struct badbatch_worker *w)
{
	return w->c->id;
}

uint64_t badbatch_worker_abandoned(const struct badbatch_worker *w)
{
	return w->c->abandoned;
}

uint64_t badbatch_pool_lost(const struct badbatch_worker *w)
{
	return bb_load(&w->pool->lost);
}

int badbatch_worker_fd(const struct badbatch_worker *w)
{
	return w->c->part.fd;
}

int badbatch_pool_halt(struct badbatch_worker *w)
{
	/* Workers read it before each claim; sleepers within a slice. */
	bb_store_release(&w->pool->halted, 1U);
	return 0;
}

/*
 * Move our sequence to seq and wake whoever the shared memory says waits
 * on us. Backwards only when joining a pool that is behind where the
 * kernel started us: the other members' sequences cover those events.
 */
static int bb_worker_set_seq(struct badbatch_worker *w, __u64 seq)
{
	struct badbatch_consumer *c = w->c;
	__u32 wake;

	if (seq == c->seq)
		return 0;
	c->seq = seq;
	c->limit = seq;
	wake = bb_consumer_advance(&c->part.view, c->self, c->id, seq);
	if (bb_unlikely(wake))
		return bb_part_wake(&c->part, wake);
	return 0;
}

/*
 * Nothing to claim at w (the pool's next): one step of the strategy, or
 * the halted ring's drain rule. 0: look again.
 */
static int bb_worker_wait(struct badbatch_worker *w, struct bb_backoff *b,
			  __u64 *idle_since, bool sliced)
{
	struct badbatch_consumer *c = w->c;
	__u64 limit, now;
	int rc;

	rc = bb_backoff(&c->part, b, c->seq);
	if (rc == -ESHUTDOWN) {
		rc = bb_drain_or_shutdown(c, 1, &limit);
		if (rc == -EAGAIN) {
			sched_yield();
			rc = 0;
		}
		return rc;
	}
	if (rc != -ETIMEDOUT)
		return rc;
	/* A slice ended: the caller's timeout, or just look again. */
	now = bb_now_ns();
	if (w->user_timeout && now - *idle_since >= w->user_timeout)
		return -ETIMEDOUT;
	if (sliced)
		return -EAGAIN;
	bb_backoff_init(b);
	return 0;
}

int bb_worker_claim(struct badbatch_worker *w, __u64 *lo, __u64 *hi,
		    bool sliced)
{
	struct badbatch_consumer *c = w->c;
	const struct bb_view *v = &c->part.view;
	__u64 next, seq, limit, idle_since = 0;
	struct bb_backoff b;
	int rc;

	if (w->lo < w->hi)
		goto out;
	bb_backoff_init(&b);
	for (;;) {
		if (bb_load_acquire(&w->pool->halted))
			return -ECANCELED;
		next = bb_load_acquire(&w->pool->next);
		if (bb_unlikely(!next))
			return -EPROTO;	/* the kernel sets it on attach */
		seq = next - 1;
		/* Cover [seq, ...) before claiming any of it. */
		rc = bb_worker_set_seq(w, seq);
		if (rc)
			return rc;
		limit = bb_consumer_limit(v, c->id, seq, w->batch);
		if (limit > seq) {
			/* Pairs with the other workers' CAS of next. */
			if (bb_cas(&w->pool->next, &next, limit + 1)) {
				w->lo = seq;
				w->hi = limit;
				/* Read by the kernel only once we are dead. */
				bb_store(&bb_consumer_page(c)->held, limit);
				break;
			}
			bb_cpu_relax();
			continue;
		}
		if (!idle_since)
			idle_since = bb_now_ns();
		rc = bb_worker_wait(w, &b, &idle_since, sliced);
		if (rc)
			return rc;
	}
out:
	*lo = w->lo;
	*hi = w->hi;
	return 0;
}

/* Events before seq are handled; the whole claim done: advance. */
struct bb_pool_entry *bb_worker_pool(const struct badbatch_worker *w)
{
	return w->pool;
}

/*
 * Holding nothing, a worker's sequence only has to stay at or below the
 * events nobody claimed: move it to next - 1, so that an idle or stopped
 * worker never holds back the stages after the pool (the other workers'
 * sequences cover what they claimed).
 */
int bb_worker_park(struct badbatch_worker *w)
{
	__u64 next, to = w->hi;

	if (w->lo < w->hi)
		return 0;
	/* Pairs with the CAS of next by whoever claimed below it. */
	next = bb_load_acquire(&w->pool->next);
	if (next && next - 1 > to)
		to = next - 1;
	if (to <= w->c->seq)
		return 0;
	return bb_worker_set_seq(w, to);
}

int bb_worker_done(struct badbatch_worker *w, __u64 seq)
{
	w->lo = seq;
	bb_worker_progress(w->c, seq);
	if (w->lo < w->hi)
		return 0;
	return bb_worker_park(w);
}

int badbatch_worker_skip(struct badbatch_worker *w)
{
	if (w->lo == w->hi)
		return -ENOENT;
	return bb_worker_done(w, w->lo + 1);
}

int badbatch_work(struct badbatch_worker *w, badbatch_handler_fn fn,
		  void *ctx)
{
	const struct bb_view *v = &w->c->part.view;
	__u64 lo, hi, last, seq;
	int handled = 0, rc;

	rc = bb_worker_claim(w, &lo, &hi, false);
	if (rc)
		return rc;
	last = hi - 1;
	while (last > lo && bb_is_abandoned(v, last))
		last--;
	for (seq = lo; seq < hi; seq++) {
		bb_worker_progress(w->c, seq);
		if (bb_unlikely(bb_is_abandoned(v, seq))) {
			w->c->abandoned++;
			continue;
		}
		rc = fn(ctx, bb_slot(v, seq), seq, seq == last);
		if (bb_unlikely(rc < 0)) {
			bb_worker_done(w, seq);
			return rc;
		}
		handled++;
	}
	rc = bb_worker_done(w, hi);
	return rc ? rc : handled;
}
