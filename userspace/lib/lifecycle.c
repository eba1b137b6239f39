// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A topology's lifecycle: start (every thread set up, named and pinned
 * before any handler runs, so a failure leaves nothing running), halt,
 * shutdown (drain what is published, then stop; optionally bounded) and
 * join.
 */
#include <errno.h>
#include <time.h>

#include "topology.h"

void bb_topo_sync_init(struct badbatch_topology *t)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
}

void bb_topo_sync_destroy(struct badbatch_topology *t)
{
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
}

void bb_topo_record_error(struct badbatch_topology *t, int err)
{
	pthread_mutex_lock(&t->lock);
	if (!t->first_error)
		t->first_error = err;
	pthread_mutex_unlock(&t->lock);
}

#define bb_topo_for_each_proc(t, s, p)					\
	for ((s) = (t)->stages; (s) < (t)->stages + (t)->nstages; (s)++) \
		for ((p) = (s)->procs; (p) < (s)->procs + (s)->nprocs; (p)++)

/* Join every thread created (called without the lock, by one caller). */
static void bb_topo_reap(struct badbatch_topology *t)
{
	struct bb_stage *s;
	struct bb_proc *p;

	bb_topo_for_each_proc(t, s, p) {
		if (p->created)
			pthread_join(p->thread, NULL);
		p->created = false;
	}
}

/* Create the threads; they wait at the gate after their setup. */
static int bb_topo_spawn(struct badbatch_topology *t, uint32_t *created)
{
	struct bb_stage *s;
	struct bb_proc *p;
	int rc;

	*created = 0;
	bb_topo_for_each_proc(t, s, p) {
		pthread_mutex_lock(&t->lock);
		t->running++;
		pthread_mutex_unlock(&t->lock);
		rc = pthread_create(&p->thread, NULL, bb_proc_main, p);
		if (rc) {
			pthread_mutex_lock(&t->lock);
			t->running--;
			pthread_mutex_unlock(&t->lock);
			return -rc;
		}
		p->created = true;
		(*created)++;
	}
	return 0;
}

/* The first setup error of the threads that reached the gate. */
static int bb_topo_setup_error(struct badbatch_topology *t)
{
	struct bb_stage *s;
	struct bb_proc *p;

	bb_topo_for_each_proc(t, s, p)
		if (p->created && p->setup_error)
			return p->setup_error;
	return 0;
}

int badbatch_topology_start(struct badbatch_topology *t)
{
	uint32_t created;
	int rc;

	if (!t)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	if (t->started) {
		pthread_mutex_unlock(&t->lock);
		return -EALREADY;
	}
	t->started = true;
	t->go = false;
	t->abort = false;
	t->ready = 0;
	t->first_error = 0;
	pthread_mutex_unlock(&t->lock);
	bb_store_release(&t->state, (__u32)BB_TOPO_RUN);

	rc = bb_topo_spawn(t, &created);
	pthread_mutex_lock(&t->lock);
	while (t->ready < created)
		pthread_cond_wait(&t->cond, &t->lock);
	if (!rc)
		rc = bb_topo_setup_error(t);
	if (rc)
		t->abort = true;
	else
		t->go = true;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	if (rc) {
		/* Nobody ran a handler: undo, so start may be tried again. */
		bb_topo_reap(t);
		pthread_mutex_lock(&t->lock);
		t->started = false;
		pthread_mutex_unlock(&t->lock);
	}
	return rc;
}

void badbatch_topology_halt(struct badbatch_topology *t)
{
	if (t)
		bb_store_release(&t->state, (__u32)BB_TOPO_HALT);
}

/*
 * The drain target: the end of what is published now, contiguously from
 * where the slowest gating consumer is (multi-producer rings may have
 * holes; events past a hole are not published yet).
 */
static __u64 bb_topo_published(const struct badbatch_topology *t)
{
	const struct bb_stage *s = &t->stages[0];
	const struct badbatch_consumer *c;
	const struct bb_view *v;
	__u64 from;

	c = s->pool ? bb_worker_consumer(s->procs[0].w) : s->procs[0].c;
	v = &c->part.view;
	if (!v->multi)
		return bb_load_acquire(&v->prod->cursor);
	from = bb_gating_min(v, bb_load(&v->prod->claim));
	return bb_published_limit(v, from, v->size);
}

static void bb_deadline_ts(__u64 deadline, struct timespec *ts)
{
	ts->tv_sec = (time_t)(deadline / 1000000000ULL);
	ts->tv_nsec = (long)(deadline % 1000000000ULL);
}

int badbatch_topology_shutdown(struct badbatch_topology *t,
			       uint64_t timeout_ns)
{
	struct timespec ts;
	int rc = 0;

	if (!t)
		return -EINVAL;
	if (!bb_topo_started(t) || !t->nstages)
		return 0;
	bb_store(&t->target, bb_topo_published(t));
	/* Pairs with the acquire of state in bb_proc_stopping(). */
	if (bb_load(&t->state) == BB_TOPO_RUN)
		bb_store_release(&t->state, (__u32)BB_TOPO_SHUTDOWN);
	bb_deadline_ts(bb_deadline(bb_now_ns(), timeout_ns), &ts);
	pthread_mutex_lock(&t->lock);
	while (t->running && !rc) {
		if (timeout_ns)
			rc = -pthread_cond_timedwait(&t->cond, &t->lock, &ts);
		else
			pthread_cond_wait(&t->cond, &t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	if (rc) {
		/* Out of time: stop them; join waits for the last batches. */
		badbatch_topology_halt(t);
		return -ETIMEDOUT;
	}
	return badbatch_topology_join(t);
}

int badbatch_topology_join(struct badbatch_topology *t)
{
	int rc;

	if (!t)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	while (t->running)
		pthread_cond_wait(&t->cond, &t->lock);
	rc = t->first_error;
	pthread_mutex_unlock(&t->lock);
	bb_topo_reap(t);
	pthread_mutex_lock(&t->lock);
	t->started = false;
	pthread_mutex_unlock(&t->lock);
	return rc;
}
