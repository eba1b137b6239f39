// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Topologies: stages of event processors over one ring, in one process.
 * Building one attaches a consumer (or a pool of workers) per stage, with
 * the consumer ids of the stages it comes after as its dependencies, so
 * the kernel gates producers and stages exactly as for hand-made
 * consumers; starting one runs a thread per processor.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "topology.h"

int badbatch_topology_create(struct badbatch *ring,
			     struct badbatch_topology **tp)
{
	struct badbatch_topology *t;

	if (!ring || !tp)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->ring = ring;
	bb_topo_sync_init(t);
	*tp = t;
	return 0;
}

/* Consumer ids of the stages in after, or -EINVAL for an unknown one. */
static int bb_after_ids(const struct badbatch_topology *t, uint64_t after,
			__u64 *ids)
{
	__u64 mask = 0;

	if (t->nstages < BB_TOPO_MAX_STAGES &&
	    (after >> t->nstages))
		return -EINVAL;
	while (after) {
		unsigned int i = bb_ctz64(after);

		after &= after - 1;
		mask |= t->stages[i].ids;
	}
	*ids = mask;
	return 0;
}

static int bb_stage_check(struct badbatch_topology *t,
			  const struct badbatch_handler *h, uint32_t n,
			  bool pool, uint64_t after, __u64 *deps)
{
	uint32_t i;
	int rc;

	if (!t || !h || !n || bb_topo_started(t))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!h[i].on_event)
			return -EINVAL;
		/* Workers claim their own batches: no coalescing, trailing. */
		if (pool && (h[i].min_batch || h[i].linger_ns ||
			     (h[i].trail_ns &&
			      h[i].trail_ns != BADBATCH_TRAIL_OFF)))
			return -EINVAL;
	}
	if (t->nstages == BB_TOPO_MAX_STAGES)
		return -ENOSPC;
	rc = bb_after_ids(t, after, deps);
	if (!rc)
		*deps |= h[0].deps;
	return rc;
}

static struct bb_stage *bb_stage_new(struct badbatch_topology *t, uint32_t n)
{
	struct bb_stage *s = &t->stages[t->nstages];

	s->procs = calloc(n, sizeof(*s->procs));
	if (!s->procs)
		return NULL;
	s->nprocs = n;
	s->index = t->nstages;
	return s;
}

static void bb_stage_free(struct bb_stage *s)
{
	uint32_t i;

	for (i = 0; i < s->nprocs; i++) {
		badbatch_worker_close(s->procs[i].w);
		badbatch_consumer_close(s->procs[i].c);
	}
	free(s->procs);
	memset(s, 0, sizeof(*s));
}

static void bb_proc_init(struct bb_proc *p, struct badbatch_topology *t,
			 struct bb_stage *s, const struct badbatch_handler *h,
			 uint32_t worker)
{
	p->t = t;
	p->stage = s;
	p->h = *h;
	p->worker = worker;
	/* The caller's name is kept in the proc: h->name may not live on. */
	bb_proc_name(p);
}

int badbatch_topology_add(struct badbatch_topology *t,
			  const struct badbatch_handler *h, uint64_t after)
{
	struct badbatch_consumer_config cc = { 0 };
	struct bb_stage *s;
	__u64 deps;
	int rc;

	rc = bb_stage_check(t, h, 1, false, after, &deps);
	if (rc)
		return rc;
	s = bb_stage_new(t, 1);
	if (!s)
		return -ENOMEM;
	cc.deps = deps;
	cc.want_id = h->want_id;
	cc.id = h->id;
	cc.max_batch = h->max_batch;
	cc.min_batch = h->min_batch;
	cc.linger_ns = h->linger_ns;
	cc.trail_ns = h->trail_ns;
	bb_proc_wait_config(&cc.wait, &h->wait);
	rc = badbatch_consumer_attach(t->ring, &cc, &s->procs[0].c);
	if (rc) {
		bb_stage_free(s);
		return rc;
	}
	bb_proc_init(&s->procs[0], t, s, h, 0);
	s->ids = 1ULL << badbatch_consumer_id(s->procs[0].c);
	return t->nstages++;
}

int badbatch_topology_add_pool(struct badbatch_topology *t,
			       const struct badbatch_handler *handlers,
			       uint32_t nworkers, uint32_t pool,
			       uint64_t after)
{
	struct badbatch_worker_config wc = { 0 };
	struct bb_stage *s;
	__u64 deps;
	uint32_t i;
	int rc;

	if (pool >= BADBATCH_MAX_POOLS || nworkers > BADBATCH_MAX_CONSUMERS)
		return -EINVAL;
	rc = bb_stage_check(t, handlers, nworkers, true, after, &deps);
	if (rc)
		return rc;
	s = bb_stage_new(t, nworkers);
	if (!s)
		return -ENOMEM;
	s->pool = true;
	wc.pool = pool;
	wc.deps = deps;
	for (i = 0; i < nworkers; i++) {
		wc.max_batch = handlers[i].max_batch;
		wc.wait = handlers[i].wait;
		rc = badbatch_worker_attach(t->ring, &wc, &s->procs[i].w);
		if (rc) {
			bb_stage_free(s);
			return rc;
		}
		bb_proc_init(&s->procs[i], t, s, &handlers[i], i);
		s->ids |= 1ULL << badbatch_worker_id(s->procs[i].w);
	}
	return t->nstages++;
}

uint64_t badbatch_topology_consumer_ids(const struct badbatch_topology *t,
					int stage)
{
	if (!t || stage < 0 || stage >= t->nstages)
		return 0;
	return t->stages[stage].ids;
}

int badbatch_topology_stage_stats(const struct badbatch_topology *t,
				  int stage, struct badbatch_stage_stats *st)
{
	const struct bb_stage *s;
	uint32_t i;

	if (!t || !st || stage < 0 || stage >= t->nstages)
		return -EINVAL;
	s = &t->stages[stage];
	memset(st, 0, sizeof(*st));
	for (i = 0; i < s->nprocs; i++) {
		const struct bb_proc *p = &s->procs[i];

		st->events += bb_load(&p->events);
		st->batches += bb_load(&p->batches);
		st->errors += bb_load(&p->errors);
		st->abandoned += bb_load(&p->abandoned);
		if (!st->error)
			st->error = bb_load(&p->error);
	}
	st->seq = bb_stage_seq(s);
	return 0;
}

void badbatch_topology_destroy(struct badbatch_topology *t)
{
	int i;

	if (!t)
		return;
	badbatch_topology_halt(t);
	badbatch_topology_join(t);
	for (i = 0; i < t->nstages; i++)
		bb_stage_free(&t->stages[i]);
	bb_topo_sync_destroy(t);
	free(t);
}
