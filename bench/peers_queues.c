// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * In-process queues from Debian's packages, 1P-1C between two pinned
 * threads, busy-polling (what they offer: none of them blocks):
 *
 *   ck      Concurrency Kit ck_ring, SPSC (ck_ring_enqueue_spsc)
 *   dpdk    DPDK rte_ring, single producer / single consumer, burst
 *           dequeue (enqueue in bursts of -b), on plain memory (no EAL)
 *   urcu    liburcu wfcqueue (wait-free concurrent queue, linked nodes
 *           from a recycled pool)
 *
 * throughput: 8-byte events per second; pingpong: round trip.
 *
 * -x proc forks the two sides instead: every queue, its buffer and its
 * nodes live in one shared mapping made before the fork, so the pointers
 * urcu links and ck and rte_ring carry mean the same in both processes.
 *
 *   peers-queues -i ck|dpdk|urcu [-k throughput|pingpong] [-x thread|proc]
 *                [-b BATCH] [-n N] [-r REPS]
 *
 * Each peer is compiled in only when its headers were found; the others
 * exit 77 (skipped).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

#ifdef HAVE_CK
#include <ck_ring.h>
#endif
#ifdef HAVE_DPDK
#include <rte_ring.h>
#endif
#ifdef HAVE_URCU
#define _LGPL_SOURCE
#include <urcu/wfcqueue.h>
#endif

#define QSIZE	65536U

struct node {
#ifdef HAVE_URCU
	struct cds_wfcq_node n;
#endif
	uint64_t v;
};

/* One direction of a queue. */
struct q {
#ifdef HAVE_CK
	ck_ring_t ck;
	ck_ring_buffer_t *ckbuf;
#endif
#ifdef HAVE_DPDK
	struct rte_ring *rte;
#endif
#ifdef HAVE_URCU
	struct __cds_wfcq_head head;
	struct cds_wfcq_tail tail;
	struct node *pool;
	uint64_t consumed __attribute__((aligned(64)));
#endif
	uint64_t produced __attribute__((aligned(64)));
};

struct run {
	const char *impl, *kind, *xproc;
	uint32_t batch;
	uint64_t events, warm;
	struct q ab, ba;
	struct bench_ctl *ctl;
	double *samples;
};

static int impl_id(const char *s)
{
	if (!strcmp(s, "ck"))
		return 0;
	if (!strcmp(s, "dpdk"))
		return 1;
	if (!strcmp(s, "urcu"))
		return 2;
	bench_die("unknown queue %s", s);
	return -1;
}

static int g_impl;

/* Bytes of the buffer (ck), ring (dpdk) or node pool (urcu) of a queue. */
static size_t q_store_len(void)
{
	switch (g_impl) {
#ifdef HAVE_CK
	case 0:
		return QSIZE * sizeof(ck_ring_buffer_t);
#endif
#ifdef HAVE_DPDK
	case 1:
		return (size_t)rte_ring_get_memsize(QSIZE);
#endif
	default:
		return QSIZE * sizeof(struct node);
	}
}

/* Shared, page-aligned and zeroed: fit for threads and forked processes. */
static void q_init(struct q *q)
{
	void *store = bench_shared_alloc(q_store_len());

	memset(q, 0, sizeof(*q));
	switch (g_impl) {
#ifdef HAVE_CK
	case 0:
		q->ckbuf = store;
		ck_ring_init(&q->ck, QSIZE);
		return;
#endif
#ifdef HAVE_DPDK
	case 1:
		q->rte = store;
		if (rte_ring_init(q->rte, "bench", QSIZE,
				  RING_F_SP_ENQ | RING_F_SC_DEQ))
			bench_die("rte_ring_init");
		return;
#endif
#ifdef HAVE_URCU
	case 2:
		__cds_wfcq_init(&q->head, &q->tail);
		q->pool = store;
		return;
#endif
	default:
		(void)store;
		printf("# peer not built in: skipped\n");
		exit(77);
	}
}

static void q_fini(struct q *q)
{
	void *store = NULL;

#ifdef HAVE_CK
	if (g_impl == 0)
		store = q->ckbuf;
#endif
#ifdef HAVE_DPDK
	if (g_impl == 1)
		store = q->rte;
#endif
#ifdef HAVE_URCU
	if (g_impl == 2)
		store = q->pool;
#endif
	if (store)
		munmap(store, q_store_len());
}

/* Enqueue n values starting at v; spins while full. */
static inline void q_put(struct q *q, uint64_t v, uint32_t n)
{
	uint32_t k;

	switch (g_impl) {
#ifdef HAVE_CK
	case 0:
		for (k = 0; k < n; k++)
			while (!ck_ring_enqueue_spsc(&q->ck, q->ckbuf,
						     (void *)(uintptr_t)(v + k + 1)))
				bench_relax();
		return;
#endif
#ifdef HAVE_DPDK
	case 1: {
		void *objs[256];
		unsigned int done = 0;

		for (k = 0; k < n; k++)
			objs[k] = (void *)(uintptr_t)(v + k + 1);
		while (done < n) {
			done += rte_ring_sp_enqueue_burst(q->rte, objs + done,
							  n - done, NULL);
			if (done < n)
				bench_relax();
		}
		return;
	}
#endif
#ifdef HAVE_URCU
	case 2:
		for (k = 0; k < n; k++) {
			uint64_t i = q->produced++;
			struct node *nd = &q->pool[i % QSIZE];

			while (i - __atomic_load_n(&q->consumed, __ATOMIC_ACQUIRE) >=
			       QSIZE)
				bench_relax();
			cds_wfcq_node_init(&nd->n);
			nd->v = v + k + 1;
			cds_wfcq_enqueue(&q->head, &q->tail, &nd->n);
		}
		return;
#endif
	default:
		(void)k;
		return;
	}
}

/* Dequeue up to max values; returns how many (0: empty). */
static inline uint32_t q_get(struct q *q, uint64_t *out, uint32_t max)
{
	switch (g_impl) {
#ifdef HAVE_CK
	case 0: {
		void *p;
		uint32_t k = 0;

		while (k < max && ck_ring_dequeue_spsc(&q->ck, q->ckbuf, &p))
			out[k++] = (uintptr_t)p;
		return k;
	}
#endif
#ifdef HAVE_DPDK
	case 1: {
		void *objs[256];
		unsigned int k, got;

		got = rte_ring_sc_dequeue_burst(q->rte, objs,
						max < 256 ? max : 256, NULL);
		for (k = 0; k < got; k++)
			out[k] = (uintptr_t)objs[k];
		return got;
	}
#endif
#ifdef HAVE_URCU
	case 2: {
		uint32_t k = 0;
		struct cds_wfcq_node *n;

		while (k < max &&
		       (n = __cds_wfcq_dequeue_blocking(&q->head, &q->tail))) {
			out[k++] = caa_container_of(n, struct node, n)->v;
			__atomic_store_n(&q->consumed, q->consumed + 1,
					 __ATOMIC_RELEASE);
		}
		return k;
	}
#endif
	default:
		(void)out;
		(void)max;
		return 0;
	}
}

static void consumer(void *arg, int idx)
{
	struct run *r = arg;
	uint64_t got = 0, sum = 0, buf[256];

	bench_pin(1);
	bench_set_ready(r->ctl, idx);
	bench_wait_go(r->ctl);
	while (got < r->events) {
		uint32_t k = q_get(&r->ab, buf, 256), j;

		if (!k) {
			bench_relax();
			continue;
		}
		for (j = 0; j < k; j++)
			sum += buf[j];
		got += k;
	}
	r->ctl->t_end[idx] = bench_now_ns();
	r->ctl->aux[idx][0] = sum;
}

static void producer(void *arg, int idx)
{
	struct run *r = arg;
	uint64_t i = 0;
	uint32_t b;

	bench_pin(0);
	bench_set_ready(r->ctl, idx);
	bench_wait_go(r->ctl);
	while (i < r->events) {
		b = (uint32_t)(r->events - i < r->batch ? r->events - i : r->batch);
		q_put(&r->ab, i, b);
		i += b;
	}
}

static void ponger(void *arg, int idx)
{
	struct run *r = arg;
	uint64_t i, v;

	bench_pin(1);
	bench_set_ready(r->ctl, idx);
	bench_wait_go(r->ctl);
	for (i = 0; i < r->events + r->warm; i++) {
		while (!q_get(&r->ab, &v, 1))
			;
		q_put(&r->ba, v, 1);
	}
}

static void pinger(void *arg, int idx)
{
	struct run *r = arg;
	uint64_t i, t, v;

	bench_pin(0);
	bench_set_ready(r->ctl, idx);
	bench_wait_go(r->ctl);
	for (i = 0; i < r->events + r->warm; i++) {
		t = bench_now_ns();
		q_put(&r->ab, t, 1);
		while (!q_get(&r->ba, &v, 1))
			;
		if (i >= r->warm)
			r->samples[i - r->warm] = (double)(bench_now_ns() - t);
	}
}

int main(int argc, char **argv)
{
	struct run *r = bench_shared_alloc(sizeof(*r));
	int opt, reps = 3, rep;
	char params[256];

	r->impl = "ck";
	r->kind = "throughput";
	r->xproc = "thread";
	r->batch = 1;
	r->events = 10000000;
	while ((opt = getopt(argc, argv, "i:k:x:b:n:r:")) != -1) {
		switch (opt) {
		case 'i': r->impl = optarg; break;
		case 'k': r->kind = optarg; break;
		case 'x': r->xproc = optarg; break;
		case 'b': r->batch = (uint32_t)atoi(optarg); break;
		case 'n': r->events = strtoull(optarg, NULL, 0); break;
		case 'r': reps = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: peers-queues -i ck|dpdk|urcu "
				"[-k throughput|pingpong] [-x thread|proc] "
				"[-b BATCH] [-n N] [-r REPS]\n");
			return 2;
		}
	}
	g_impl = impl_id(r->impl);
	if (strcmp(r->xproc, "thread") && strcmp(r->xproc, "proc"))
		bench_die("-x thread or proc");
	if (!r->batch || r->batch > 256)
		r->batch = 1;
	r->warm = r->events / 10;
	if (!strcmp(r->kind, "pingpong")) {
		/* The pinger may be a child: its samples must be shared. */
		r->samples = bench_shared_alloc(r->events * sizeof(double));
		snprintf(params, sizeof(params),
			 "\"kind\":\"pingpong\",\"ring\":\"%s\",\"mode\":\"%s\","
			 "\"wait\":\"spin\",\"size\":8", r->impl, r->xproc);
	} else {
		snprintf(params, sizeof(params),
			 "\"topology\":\"unicast\",\"ring\":\"%s\",\"mode\":\"%s\","
			 "\"wait\":\"spin\",\"size\":8,\"slots\":%u,\"batch\":%u,"
			 "\"path\":\"fast\",\"events\":%llu",
			 r->impl, r->xproc, QSIZE, r->batch, (unsigned long long)r->events);
	}
	for (rep = 0; rep < reps; rep++) {
		struct bench_workers w = {
			.procs = !strcmp(r->xproc, "proc"),
		};
		bool pp = !strcmp(r->kind, "pingpong");

		r->ctl = bench_ctl_new();
		q_init(&r->ab);
		q_init(&r->ba);
		bench_spawn(&w, pp ? ponger : consumer, r, 0, r->ctl, true);
		bench_spawn(&w, pp ? pinger : producer, r, 1, r->ctl, true);
		r->ctl->t_start = bench_now_ns();
		__atomic_store_n(&r->ctl->go, 1, __ATOMIC_RELEASE);
		bench_join(&w, r->ctl);
		if (pp)
			bench_emit_latency("latency", r->impl, params,
					   r->samples, r->events);
		else
			bench_emit("throughput", r->impl, params, "ops",
				   (double)r->events /
				   ((double)(r->ctl->t_end[0] - r->ctl->t_start) / 1e9),
				   "ops/s");
		munmap(r->ctl, sizeof(*r->ctl));
		q_fini(&r->ab);
		q_fini(&r->ba);
	}
	return 0;
}
