/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Topology internals, shared by topology.c (building), processor.c (the
 * thread of one processor) and lifecycle.c (start, halt, shutdown, join).
 */
#ifndef _BADBATCH_LIB_TOPOLOGY_H
#define _BADBATCH_LIB_TOPOLOGY_H

#include <pthread.h>

#include "internal.h"

#define BB_TOPO_MAX_STAGES	64
#define BB_THREAD_NAME_MAX	16	/* including the NUL (TASK_COMM_LEN) */

/* What the processors are asked to do (badbatch_topology.state). */
enum {
	BB_TOPO_RUN = 0,
	BB_TOPO_HALT,		/* stop after the batch in hand */
	BB_TOPO_SHUTDOWN,	/* stop once at or past target */
};

struct bb_stage;

/* One processor: a thread, its handler and its consumer or worker. */
struct bb_proc {
	struct badbatch_topology *t;
	struct bb_stage *stage;
	struct badbatch_handler h;
	char name[BB_THREAD_NAME_MAX];
	uint32_t worker;		/* index in a pool stage */
	struct badbatch_consumer *c;	/* a plain stage */
	struct badbatch_worker *w;	/* a pool stage */
	pthread_t thread;
	bool created;			/* a thread to join (t->lock) */
	int setup_error;		/* naming/pinning, before the gate */
	/* Written by the processor, read by anyone (relaxed atomics). */
	__u64 events;
	__u64 batches;
	__u64 errors;
	__u64 abandoned;
	int error;
};

struct bb_stage {
	int index;
	bool pool;
	uint32_t nprocs;
	struct bb_proc *procs;
	__u64 ids;			/* consumer ids of its processors */
};

struct badbatch_topology {
	struct badbatch *ring;
	struct bb_stage stages[BB_TOPO_MAX_STAGES];
	int nstages;

	__u32 state;			/* BB_TOPO_*, release/acquire */
	__u64 target;			/* shutdown: drain up to here */

	/* Start gate and thread accounting, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* on CLOCK_MONOTONIC */
	bool started;
	bool go;
	bool abort;
	uint32_t ready;			/* threads past their setup */
	uint32_t running;		/* threads not finished */
	int first_error;
};

static inline bool bb_topo_started(struct badbatch_topology *t)
{
	bool started;

	pthread_mutex_lock(&t->lock);
	started = t->started;
	pthread_mutex_unlock(&t->lock);
	return started;
}

/* lifecycle.c */
BB_HIDDEN void bb_topo_sync_init(struct badbatch_topology *t);
BB_HIDDEN void bb_topo_sync_destroy(struct badbatch_topology *t);
BB_HIDDEN void bb_topo_record_error(struct badbatch_topology *t, int err);

/* processor.c */
BB_HIDDEN void *bb_proc_main(void *arg);
BB_HIDDEN void bb_proc_name(struct bb_proc *p);
BB_HIDDEN void bb_proc_wait_config(struct badbatch_wait_config *out,
				   const struct badbatch_wait_config *in);
BB_HIDDEN __u64 bb_stage_seq(const struct bb_stage *s);

#endif /* _BADBATCH_LIB_TOPOLOGY_H */
