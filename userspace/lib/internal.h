/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libbadbatch internals: the handle structs and the helpers the library's
 * files share. Nothing here is part of the public API.
 */
#ifndef _BADBATCH_LIB_INTERNAL_H
#define _BADBATCH_LIB_INTERNAL_H

#include <badbatch.h>
#include <badbatch/protocol.h>

#define BB_HIDDEN	__attribute__((visibility("hidden")))

/* Default polls before the next phase of a waiting strategy. */
#define BB_SPIN_DEFAULT		100U
#define BB_BLOCK_SPIN_DEFAULT	200U
#define BB_YIELD_DEFAULT	100U
#define BB_SLEEP_NS_DEFAULT	50000U

struct bb_memring;

/* One mmap'ed region. */
struct bb_region {
	void *addr;
	size_t len;
};

/* A waiting strategy, resolved against the ring's default. */
struct bb_waitcfg {
	__u32 strategy;		/* enum bb_wait_strategy */
	__u32 spin;
	__u32 yield;
	__u32 sleep_ns;
	__u64 timeout_ns;	/* 0: none */
};

/* Where one wait is: reset at the start of every slow path. */
struct bb_backoff {
	__u32 iter;
	__u64 deadline;		/* absolute CLOCK_MONOTONIC ns, 0: none */
};

struct badbatch {
	int fd;			/* bound to the ring, -1: memory or by name */
	const struct bb_ring_header *hdr;	/* NULL: name-only handle */
	struct bb_region hdr_map;
	struct bb_info info;
	struct bb_memring *mem;
	char name[BB_NAME_MAX];	/* name-only handles attach by name */
};

/* What producers and consumers share: their view of the ring. */
#define BB_PART_MAPS	6

struct bb_part {
	struct bb_view view;
	struct bb_waitcfg wait;
	int fd;			/* own participant descriptor, -1: memory */
	/* For a memory ring's sleeps; in the hole before mem. */
	__u16 role;		/* BB_ROLE_* */
	__u16 id;		/* consumer id */
	struct bb_memring *mem;
	struct bb_region maps[BB_PART_MAPS];
	struct bb_claim_record *record;	/* multi-producer producer, or NULL */
};

struct badbatch_producer {
	struct bb_part part;
	struct bb_producer_cache pc;
	__u64 claim_end;	/* end of this producer's furthest claim */
	__u64 published;	/* single producer: the cursor it stored */
	/* Multi-producer with a kernel: its claim record, kept current. */
	struct bb_claim_record *rec;
	__u64 unpublished;	/* events claimed minus published (rec only) */
};

struct badbatch_consumer {
	struct bb_part part;
	__u64 *self;		/* own shared sequence (the only word written) */
	__u64 seq;		/* next event to read */
	__u64 limit;		/* first event not known to be readable */
	__u64 abandoned;
	__u64 halt_wait_since;	/* halted, waiting for pending events: ns */
	__u32 id;
	__u32 max_batch;
	__u32 min_batch;	/* coalescing: 0 = off */
	__u32 linger_ns;
	__u32 trail_ns;		/* trailing: 0 = off */
	bool may_trail;		/* the last look found the ring nearly empty */
	__u64 taken_from;	/* c->seq at the last look */
	__u64 trails;		/* times it trailed (tests) */
	struct bb_pool_entry *pools;	/* pool members: the pools page */
};

/* Fill a view from the geometry and where each region sits. */
static inline void bb_view_init(struct bb_view *v,
				const struct bb_ring_header *hdr,
				void *prod, __u32 *avail,
				const void *consumers, __u64 stride,
				void *slots)
{
	v->hdr = hdr;
	v->prod = prod;
	v->avail = avail;
	v->consumers = consumers;
	v->slots = slots;
	v->cons_stride = stride;
	v->size = hdr->slot_count;
	v->mask = (__u64)hdr->slot_count - 1;
	v->shift = hdr->slot_shift;
	v->slot_size = hdr->slot_size;
	v->max_consumers = hdr->max_consumers;
	v->multi = hdr->flags & BB_RING_MULTI_PRODUCER;
}

static inline bool bb_part_halted(const struct bb_part *p)
{
	return bb_load(&p->view.hdr->status) == BB_STATUS_HALTED;
}

/* sys.c: the device, ioctls and mappings; -errno on failure. */
BB_HIDDEN int bb_sys_open(void);
BB_HIDDEN int bb_sys_ioctl(int fd, unsigned long req, void *arg);
BB_HIDDEN int bb_sys_wake(int fd, __u32 bits);
BB_HIDDEN int bb_sys_map(int fd, __u64 off, __u64 len, bool writable,
			 struct bb_region *r);
BB_HIDDEN void bb_sys_unmap(struct bb_region *r);
BB_HIDDEN int bb_sys_check_info(const struct bb_info *info);
BB_HIDDEN int bb_sys_check_header(const struct bb_ring_header *hdr,
				  const struct bb_info *info);
BB_HIDDEN __u64 bb_now_ns(void);

/* attach.c: participants of kernel rings. */
BB_HIDDEN int bb_part_attach(struct badbatch *ring, struct bb_attach *a,
			     struct bb_part *p);
BB_HIDDEN void bb_part_detach(struct bb_part *p);
BB_HIDDEN int bb_part_halt(struct bb_part *p);
/* A consumer; pool >= 0 makes it a member of that work pool. */
BB_HIDDEN int bb_consumer_new(struct badbatch *ring,
			      const struct badbatch_consumer_config *cfg,
			      int pool, struct badbatch_consumer **cp);

/* consume.c: the halted consumer's drain rule (-EAGAIN: not yet). */
BB_HIDDEN int bb_drain_or_shutdown(struct badbatch_consumer *c, __u32 max,
				   __u64 *limit);

/*
 * workpool.c: a worker's claim, for the topology's processors. sliced:
 * return -EAGAIN whenever a sleep slice ends with nothing claimed.
 */
BB_HIDDEN int bb_worker_claim(struct badbatch_worker *w, __u64 *lo,
			      __u64 *hi, bool sliced);
BB_HIDDEN struct bb_pool_entry *
bb_worker_pool(const struct badbatch_worker *w);
BB_HIDDEN int bb_worker_done(struct badbatch_worker *w, __u64 seq);

/* A pool worker's page: seq (where self points), then held and done. */
static inline struct bb_consumer_page *
bb_consumer_page(const struct badbatch_consumer *c)
{
	return (struct bb_consumer_page *)c->self;
}

/* Events before seq of the held run are finished (for a worker's death). */
static inline void bb_worker_progress(const struct badbatch_consumer *c,
				      __u64 seq)
{
	bb_store(&bb_consumer_page(c)->done, seq);
}
BB_HIDDEN int bb_worker_park(struct badbatch_worker *w);
BB_HIDDEN struct badbatch_consumer *
bb_worker_consumer(const struct badbatch_worker *w);

/*
 * Longest a library-run loop (pool workers, event processors) sleeps
 * before it looks again at flags no kernel wake covers: a pool halted
 * in another process, a topology halted or shutting down.
 */
#define BB_SLICE_NS	50000000ULL

/* wait.c: waiting strategies. */
BB_HIDDEN int bb_waitcfg_resolve(struct bb_waitcfg *out,
				 const struct badbatch_wait_config *in,
				 __u32 ring_default);
BB_HIDDEN int bb_backoff(const struct bb_part *p, struct bb_backoff *b,
			 __u64 seq);

/* now + timeout, saturated: the kernel takes signed nanoseconds. */
static inline __u64 bb_deadline(__u64 now, __u64 timeout)
{
	return timeout > (__u64)INT64_MAX - now ? (__u64)INT64_MAX :
						  now + timeout;
}

static inline void bb_backoff_init(struct bb_backoff *b)
{
	b->iter = 0;
	b->deadline = 0;
}

/* memring.c: the library standing in for the kernel. */
BB_HIDDEN int bb_mem_attach(struct bb_memring *m, struct bb_attach *a,
			    struct bb_part *p, __u64 **self);
BB_HIDDEN void bb_mem_detach(struct bb_memring *m, const struct bb_part *p,
			     __u32 role, __u32 id);
BB_HIDDEN void bb_mem_halt(struct bb_memring *m);
BB_HIDDEN void bb_mem_put(struct bb_memring *m);

/* memwait.c: sleeping and waking on memory rings (futexes). */
BB_HIDDEN int bb_mem_wait(const struct bb_part *p, __u64 seq, __u64 deadline);
BB_HIDDEN void bb_mem_wake(struct bb_memring *m, __u32 bits);
BB_HIDDEN void bb_mem_sleep_stats(const struct bb_memring *m,
				  struct badbatch_stats *st);

/* Tell sleepers that may now run: the kernel, or a memory ring's futexes. */
static inline int bb_part_wake(const struct bb_part *p, __u32 bits)
{
	if (p->mem) {
		bb_mem_wake(p->mem, bits);
		return 0;
	}
	return bb_sys_wake(p->fd, bits);
}

/*
 * ---- Wait strategies, failures, translators, poller (lib branch) ----
 * The highest enum badbatch_wait the library accepts; the hand-out loop
 * badbatch_consume() and badbatch_poll() share (consume.c); the failure
 * record of memory rings (memring.c).
 */
#define BB_LIB_WAIT_MAX		BADBATCH_WAIT_PHASED_BACKOFF

BB_HIDDEN int bb_consumer_readable(struct badbatch_consumer *c, __u32 max,
				   __u64 *limit, bool wait);
BB_HIDDEN int bb_consumer_hand_out(struct badbatch_consumer *c, __u64 limit,
				   badbatch_handler_fn fn, void *ctx);
BB_HIDDEN int bb_mem_fail(struct bb_memring *m, __u64 seq, int error,
			  __u32 by);
/* ---- end of the lib branch block ---- */

#endif /* _BADBATCH_LIB_INTERNAL_H */
