// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * An event processor: the thread that runs one handler over one consumer
 * (or one worker of a pool). It waits with the handler's strategy, hands
 * each batch to the handler, applies the exception handler's decision and
 * stops when the topology is halted, shut down and drained, or the ring
 * halts. A failure it halts on halts the ring with a failure record, so
 * producers and stages in every process are released with the reason.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "topology.h"

void bb_proc_name(struct bb_proc *p)
{
	if (p->h.name && p->h.name[0])
		snprintf(p->name, sizeof(p->name), "%s", p->h.name);
	else if (p->stage->pool)
		snprintf(p->name, sizeof(p->name), "bb-%d.%u",
			 p->stage->index, p->worker);
	else
		snprintf(p->name, sizeof(p->name), "bb-%d", p->stage->index);
	p->h.name = NULL;	/* p->name is the one kept */
}

/* Sleep in slices so that a halt or shutdown is seen while idle. */
void bb_proc_wait_config(struct badbatch_wait_config *out,
			 const struct badbatch_wait_config *in)
{
	*out = *in;
	if (!out->timeout_ns || out->timeout_ns > BB_SLICE_NS)
		out->timeout_ns = BB_SLICE_NS;
}

__u64 bb_stage_seq(const struct bb_stage *s)
{
	const struct badbatch_consumer *c;

	if (s->pool)
		return bb_load_acquire(&bb_worker_pool(s->procs[0].w)->next) - 1;
	c = s->procs[0].c;
	return bb_load_acquire(c->self);
}

static struct badbatch_consumer *bb_proc_consumer(const struct bb_proc *p)
{
	return p->w ? bb_worker_consumer(p->w) : p->c;
}

/*
 * Stop on err (a negative errno): remember it as the topology's first
 * error before halting the ring, so that every join (ours, and the other
 * processors' -ESHUTDOWN) reports the cause rather than the effect.
 */
static void bb_proc_fail(struct bb_proc *p, __u64 seq, int err)
{
	int e = -err, rc;

	bb_store(&p->error, err);
	bb_topo_record_error(p->t, err);
	if (e < 1 || e > 4095)
		e = EIO;
	rc = badbatch_consumer_fail(bb_proc_consumer(p), seq, e);
	/* Whatever kept the record out, the ring must halt: never a hang. */
	if (rc && rc != -ESHUTDOWN)
		badbatch_consumer_halt(bb_proc_consumer(p));
}

/* Events published (multi-producer: claimed) beyond the batch. */
static __u64 bb_backlog(const struct bb_view *v, __u64 end)
{
	__u64 front = v->multi ? bb_load(&v->prod->claim) :
				 bb_load_acquire(&v->prod->cursor);

	return front > end ? front - end : 0;
}

/* Everything before seq is done: advance the consumer or the worker. */
static int bb_proc_done(struct bb_proc *p, __u64 seq)
{
	return p->w ? bb_worker_done(p->w, seq) : badbatch_advance(p->c, seq);
}

/* Hand [lo, hi) to the handler. 0, or the error the processor stops on. */
static int bb_proc_batch(struct bb_proc *p, __u64 lo, __u64 hi)
{
	const struct bb_view *v = &bb_proc_consumer(p)->part.view;
	const struct badbatch_handler *h = &p->h;
	__u64 seq, last = hi - 1, events = 0, abandoned = 0;
	enum badbatch_error_action act;
	int rc;

	if (h->on_batch_start)
		h->on_batch_start(h->ctx, hi - lo, bb_backlog(v, hi));
	while (last > lo && bb_is_abandoned(v, last))
		last--;
	for (seq = lo; seq < hi; seq++) {
		void *event = bb_slot(v, seq);

		if (p->w)
			bb_worker_progress(bb_proc_consumer(p), seq);
		if (bb_unlikely(bb_is_abandoned(v, seq))) {
			abandoned++;
			continue;
		}
		rc = h->on_event(h->ctx, event, seq, seq == last);
		if (bb_likely(rc >= 0)) {
			events++;
			continue;
		}
		bb_store(&p->errors, p->errors + 1);
		act = h->on_error ? h->on_error(h->ctx, rc, event, seq) :
				    BADBATCH_ERROR_HALT;
		if (act == BADBATCH_ERROR_CONTINUE) {
			events++;
			continue;
		}
		bb_proc_done(p, seq);
		bb_store(&p->events, p->events + events);
		bb_proc_fail(p, seq, rc);
		return rc;
	}
	bb_store(&p->events, p->events + events);
	bb_store(&p->abandoned, p->abandoned + abandoned);
	bb_store(&p->batches, p->batches + 1);
	/* A wakeup error: the batch is done all the same. */
	bb_proc_done(p, hi);
	return 0;
}

/* Should the processor stop before waiting for more? */
static bool bb_proc_stopping(const struct bb_proc *p, __u64 next)
{
	__u32 state = bb_load_acquire(&p->t->state);

	/* The acquire pairs with the release store of target with state. */
	return state == BB_TOPO_HALT ||
	       (state == BB_TOPO_SHUTDOWN && next >= bb_load(&p->t->target));
}

/* Where the processor is: the next event it (or its pool) would take. */
static __u64 bb_proc_next(const struct bb_proc *p)
{
	if (p->w)
		return bb_load_acquire(&bb_worker_pool(p->w)->next) - 1;
	return badbatch_consumer_seq(p->c);
}

/* Wait for the next batch: 0 and [*lo, *hi), -EAGAIN, or an error. */
static int bb_proc_wait(struct bb_proc *p, __u64 *lo, __u64 *hi)
{
	uint64_t limit;
	int rc;

	if (p->w)
		return bb_worker_claim(p->w, lo, hi, true);
	*lo = badbatch_consumer_seq(p->c);
	rc = badbatch_wait_for(p->c, &limit);
	*hi = limit;
	/* A slice of the timeout ended; the caller looks at the clock. */
	return rc == -ETIMEDOUT ? -EAGAIN : rc;
}

static void bb_proc_loop(struct bb_proc *p)
{
	const struct badbatch_handler *h = &p->h;
	__u64 lo, hi, idle_since = bb_now_ns(), now;
	int rc;

	while (!bb_proc_stopping(p, bb_proc_next(p))) {
		rc = bb_proc_wait(p, &lo, &hi);
		if (rc == -EAGAIN || rc == -ETIMEDOUT || rc == -EINTR) {
			now = bb_now_ns();
			if (h->wait.timeout_ns &&
			    now - idle_since >= h->wait.timeout_ns) {
				if (h->on_timeout)
					h->on_timeout(h->ctx, bb_proc_next(p));
				idle_since = now;
			}
			continue;
		}
		if (rc) {
			/* Halted ring, halted pool: stopped from outside. */
			if (bb_load_acquire(&p->t->state) != BB_TOPO_HALT) {
				bb_store(&p->error, rc);
				bb_topo_record_error(p->t, rc);
			}
			return;
		}
		if (bb_proc_batch(p, lo, hi))
			return;
		idle_since = bb_now_ns();
	}
	/* A worker stopping between claims must not hold the stages after. */
	if (p->w)
		bb_worker_park(p->w);
}

/* Name and pin the thread: before the start gate, so start can fail. */
static int bb_proc_setup(struct bb_proc *p)
{
	cpu_set_t set;
	int rc;

	rc = pthread_setname_np(pthread_self(), p->name);
	if (rc)
		return -rc;
	if (!p->h.pin)
		return 0;
	if (p->h.cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(p->h.cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

void *bb_proc_main(void *arg)
{
	struct bb_proc *p = arg;
	struct badbatch_topology *t = p->t;
	const struct badbatch_handler *h = &p->h;
	bool go;
	int rc;

	p->setup_error = bb_proc_setup(p);
	pthread_mutex_lock(&t->lock);
	t->ready++;
	pthread_cond_broadcast(&t->cond);
	while (!t->go && !t->abort)
		pthread_cond_wait(&t->cond, &t->lock);
	go = t->go;
	pthread_mutex_unlock(&t->lock);

	if (go) {
		rc = h->on_start ? h->on_start(h->ctx) : 0;
		if (rc < 0)
			bb_proc_fail(p, bb_proc_next(p), rc);
		else
			bb_proc_loop(p);
		if (h->on_shutdown)
			h->on_shutdown(h->ctx);
	}

	pthread_mutex_lock(&t->lock);
	t->running--;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	return NULL;
}
