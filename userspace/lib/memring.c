// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Memory rings, for tests and benchmarks: a ring in this process's memory
 * (or in a shared mapping that processes forked later use too) laid out
 * like the kernel's mapping, with the library doing the kernel's
 * bookkeeping (consumer ids, topology and gating under the topo_seq
 * seqlock, producer count, halt and its failure record). Producers and
 * consumers of a memory ring run exactly the code they run on a kernel
 * ring; only attach, detach, failing and sleeping (memwait.c) differ.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "memring.h"

#define BB_MEM_PAGE		4096UL
#define BB_MEM_STRIDE		((size_t)2 * BB_CACHELINE)

static size_t bb_page_up(size_t n)
{
	return (n + BB_MEM_PAGE - 1) & ~(BB_MEM_PAGE - 1);
}

static __u64 bb_id_mask(__u32 n)
{
	return n >= 64 ? ~0ULL : (1ULL << n) - 1;
}

static __u64 *bb_mem_seq(struct bb_memring *m, unsigned int id)
{
	return (__u64 *)(m->cons + (size_t)id * BB_MEM_STRIDE);
}

static int bb_mem_check(const struct badbatch_config *cfg)
{
	__u32 n = cfg->slot_count;

	if (n < BB_MIN_SLOTS || n > BB_MAX_SLOTS || (n & (n - 1)) ||
	    cfg->slot_size < 8 || cfg->slot_size > BB_MAX_SLOT_SIZE ||
	    cfg->slot_size % 8 || cfg->max_consumers > BB_MAX_CONSUMERS ||
	    (cfg->flags & ~BB_RING_FLAGS_ALL) ||
	    (__u32)cfg->wait > BB_LIB_WAIT_MAX)
		return -EINVAL;
	return 0;
}

static void bb_mem_init_header(struct bb_ring_header *h,
			       const struct badbatch_config *cfg)
{
	static __u64 next_id;

	h->magic = BB_MAGIC;
	h->version = BB_ABI_VERSION;
	h->flags = cfg->flags;
	h->slot_count = cfg->slot_count;
	h->slot_size = cfg->slot_size;
	h->slot_shift = bb_ctz64(cfg->slot_count);
	h->max_consumers = cfg->max_consumers ? cfg->max_consumers : 16;
	h->wait_strategy = cfg->wait == BADBATCH_WAIT_DEFAULT ?
			   BB_WAIT_BLOCK : (__u32)cfg->wait - 1;
	h->ring_id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
	h->status = BB_STATUS_RUNNING;
	h->fail_by = BB_ID_ANY;
}

/* The bookkeeping page: a mutex the ring's processes can share. */
static int bb_mem_shared_init(struct bb_memring *m)
{
	pthread_mutexattr_t attr;
	int rc;

	rc = pthread_mutexattr_init(&attr);
	if (rc)
		return -rc;
	if (m->shared)
		rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (!rc)
		rc = pthread_mutex_init(&m->sh->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (rc)
		return -rc;
	/* Else sleepers re-check on a timer (memwait.c). */
	m->sh->barrier = !bb_mem_barrier_register(m->shared);
	return 0;
}

static int bb_memring_new(const struct badbatch_config *cfg, bool shared,
			  struct badbatch **ringp)
{
	size_t sh_len, hdr_len, prod_len, cons_len, slots_len;
	struct badbatch *ring;
	struct bb_memring *m;
	void *base;
	int rc;

	if (!cfg || !ringp)
		return -EINVAL;
	rc = bb_mem_check(cfg);
	if (rc)
		return rc;
	sh_len = bb_page_up(sizeof(struct bb_mem_shared));
	hdr_len = bb_page_up(sizeof(struct bb_ring_header));
	prod_len = bb_page_up(sizeof(struct bb_producer_page) +
			      (size_t)cfg->slot_count * sizeof(__u32));
	cons_len = bb_page_up((size_t)BB_MAX_CONSUMERS * BB_MEM_STRIDE);
	slots_len = bb_page_up((size_t)cfg->slot_count * cfg->slot_size);

	ring = calloc(1, sizeof(*ring));
	m = calloc(1, sizeof(*m));
	if (!ring || !m)
		goto nomem;
	m->len = sh_len + hdr_len + prod_len + cons_len + slots_len;
	base = mmap(NULL, m->len, PROT_READ | PROT_WRITE,
		    (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		goto nomem;
	m->shared = shared;
	m->refs = 1;
	m->base = base;
	m->sh = base;
	m->hdr = (struct bb_ring_header *)(m->base + sh_len);
	m->prod = (struct bb_producer_page *)(m->base + sh_len + hdr_len);
	m->avail = (__u32 *)(m->prod + 1);
	m->cons = (unsigned char *)m->prod + prod_len;
	m->slots = m->cons + cons_len;
	rc = bb_mem_shared_init(m);
	if (rc) {
		munmap(base, m->len);
		free(m);
		free(ring);
		return rc;
	}
	bb_mem_init_header(m->hdr, cfg);

	ring->fd = -1;
	ring->hdr = m->hdr;
	ring->mem = m;
	ring->info.ring_id = m->hdr->ring_id;
	ring->info.flags = m->hdr->flags;
	ring->info.slot_count = m->hdr->slot_count;
	ring->info.slot_size = m->hdr->slot_size;
	ring->info.max_consumers = m->hdr->max_consumers;
	ring->info.wait_strategy = m->hdr->wait_strategy;
	ring->info.role = BB_ROLE_NONE;
	ring->info.consumer_id = BB_ID_ANY;
	*ringp = ring;
	return 0;
nomem:
	free(m);
	free(ring);
	return -ENOMEM;
}

int badbatch_memring_create(const struct badbatch_config *cfg,
			    struct badbatch **ringp)
{
	return bb_memring_new(cfg, false, ringp);
}

int badbatch_memring_create_shared(const struct badbatch_config *cfg,
				   struct badbatch **ringp)
{
	return bb_memring_new(cfg, true, ringp);
}

void bb_mem_put(struct bb_memring *m)
{
	if (__atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL))
		return;
	/* Other processes may still use a shared ring's mutex. */
	if (!m->shared)
		pthread_mutex_destroy(&m->sh->lock);
	munmap(m->base, m->len);
	free(m);
}

/*
 * Status changes under the lock, so a failure record is written only
 * while the ring runs and never changes once status says HALTED.
 */
void bb_mem_halt(struct bb_memring *m)
{
	pthread_mutex_lock(&m->sh->lock);
	/* Pairs with the acquire in bb_drain_or_shutdown(). */
	bb_store_release(&m->hdr->status, BB_STATUS_HALTED);
	pthread_mutex_unlock(&m->sh->lock);
	bb_mem_wake(m, BB_WAKE_ALL);
}

/* The kernel's BB_IOC_FAIL: the first failure is kept, then halt. */
int bb_mem_fail(struct bb_memring *m, __u64 seq, int error, __u32 by)
{
	struct bb_ring_header *h = m->hdr;
	int rc = 0;

	pthread_mutex_lock(&m->sh->lock);
	if (bb_load(&h->status) == BB_STATUS_HALTED) {
		rc = -ESHUTDOWN;
	} else {
		bb_store(&h->fail_seq, seq);
		bb_store(&h->fail_error, error);
		bb_store(&h->fail_by, by);
		/*
		 * The record before the status: pairs with the acquire of
		 * status in bb_failure_read() (and bb_drain_or_shutdown()).
		 */
		bb_store_release(&h->status, BB_STATUS_HALTED);
	}
	pthread_mutex_unlock(&m->sh->lock);
	if (!rc)
		bb_mem_wake(m, BB_WAKE_ALL);
	return rc;
}

/*
 * The kernel's topology write section: topo_seq is odd while consumer
 * entries and the gating mask change, and bb_gating_min() retries.
 */
static __u32 bb_mem_topo_begin(struct bb_ring_header *h)
{
	__u32 seq = bb_load(&h->topo_seq);

	bb_store(&h->topo_seq, seq + 1);
	/*
	 * Odd before any entry changes: pairs with the acquire loads of the
	 * entries and of topo_seq in bb_gating_min(). A full barrier, as an
	 * attach then reads the claim frontier: pairs with the one before a
	 * producer's gating snapshot in bb_has_room().
	 */
	bb_full_barrier();
	return seq;
}

/* Recompute flags and gating (active consumers nobody follows); close. */
static void bb_mem_topo_end(struct bb_memring *m, __u32 seq)
{
	struct bb_ring_header *h = m->hdr;
	__u64 followed = 0, gating;
	unsigned int i;

	for (i = 0; i < h->max_consumers; i++)
		if (m->sh->active & (1ULL << i))
			followed |= bb_load(&h->consumers[i].deps);
	gating = m->sh->active & ~followed;
	for (i = 0; i < h->max_consumers; i++) {
		__u32 flags = 0;

		if (m->sh->active & (1ULL << i))
			flags = BB_CONSUMER_ACTIVE |
				((gating & (1ULL << i)) ? BB_CONSUMER_GATING : 0);
		bb_store(&h->consumers[i].flags, flags);
	}
	bb_store(&h->gating_mask, gating);
	/* Even again: pairs with the second acquire of topo_seq. */
	bb_store_release(&h->topo_seq, seq + 2);
}

/*
 * A single producer continues from what was published, as with the
 * kernel: what a predecessor claimed and never published is reused.
 */
static void bb_mem_sp_resume(struct bb_memring *m)
{
	if (!(m->hdr->flags & BB_RING_MULTI_PRODUCER))
		bb_store(&m->prod->claim, bb_load(&m->prod->cursor));
}

static void bb_mem_add_producer(struct bb_memring *m)
{
	bb_mem_sp_resume(m);
	bb_store(&m->hdr->nr_producers, ++m->sh->producers);
}

static int bb_mem_add_consumer(struct bb_memring *m, struct bb_attach *a)
{
	struct bb_ring_header *h = m->hdr;
	__u64 deps = a->deps, ids = bb_id_mask(h->max_consumers);
	__u64 start, seq, d;
	unsigned int id;
	__u32 topo;

	if (deps & ~ids)
		return -EINVAL;
	if (a->consumer_id != BB_ID_ANY) {
		id = a->consumer_id;
		if (id >= h->max_consumers || (deps & (1ULL << id)))
			return -EINVAL;
	}
	if (deps & ~m->sh->active)
		return -ENOENT;
	if (a->consumer_id == BB_ID_ANY) {
		if (!(~m->sh->active & ids))
			return -ENOSPC;
		id = bb_ctz64(~m->sh->active & ids);
	} else if (m->sh->active & (1ULL << id)) {
		return -EBUSY;
	}
	/*
	 * Start at the claim frontier or at the slowest dependency, read
	 * inside the change: a producer's gating snapshot taken before it
	 * opened used a bound at or behind the frontier read here (see
	 * bb_has_room()), so it cannot overwrite what this consumer reads.
	 */
	topo = bb_mem_topo_begin(h);
	start = bb_load(&m->prod->claim);
	for (d = deps; d; d &= d - 1) {
		seq = bb_load_acquire(bb_mem_seq(m, bb_ctz64(d)));
		if (seq < start)
			start = seq;
	}
	/* Published by the topo_seq release, before anyone gates on it. */
	bb_store(bb_mem_seq(m, id), start);
	bb_store(&h->consumers[id].deps, deps);
	m->sh->active |= 1ULL << id;
	bb_mem_topo_end(m, topo);
	bb_store(&h->nr_consumers, bb_load(&h->nr_consumers) + 1);
	a->consumer_id = id;
	return 0;
}

int bb_mem_attach(struct bb_memring *m, struct bb_attach *a,
		  struct bb_part *p, __u64 **self)
{
	struct bb_ring_header *h = m->hdr;
	int rc = 0;

	/*
	 * This process's movers must get the sleepers' barrier too. If they
	 * cannot, sleepers fall back to timed re-checks from now on: wake
	 * those already asleep without one.
	 */
	if (__atomic_load_n(&m->sh->barrier, __ATOMIC_ACQUIRE) &&
	    bb_mem_barrier_register(m->shared)) {
		__atomic_store_n(&m->sh->barrier, 0, __ATOMIC_SEQ_CST);
		bb_mem_wake(m, BB_WAKE_ALL);
	}
	pthread_mutex_lock(&m->sh->lock);
	if (bb_load(&h->status) == BB_STATUS_HALTED) {
		rc = -ESHUTDOWN;
	} else if (a->role == BB_ROLE_PRODUCER) {
		if (!(h->flags & BB_RING_MULTI_PRODUCER) && m->sh->producers)
			rc = -EBUSY;
		else
			bb_mem_add_producer(m);
	} else if (a->role == BB_ROLE_CONSUMER) {
		rc = bb_mem_add_consumer(m, a);
	} else {
		rc = -EINVAL;
	}
	pthread_mutex_unlock(&m->sh->lock);
	if (rc)
		return rc;
	/*
	 * A consumer that now follows a gating one takes its place: that one
	 * may have advanced, seen itself no longer gating and woken nobody,
	 * though its move is what a sleeping producer waits for.
	 */
	if (a->role == BB_ROLE_CONSUMER)
		bb_mem_wake(m, BB_WAKE_PRODUCERS);

	__atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
	p->mem = m;
	p->fd = -1;
	p->role = (__u16)a->role;
	p->id = a->role == BB_ROLE_CONSUMER ? (__u16)a->consumer_id : 0;
	bb_view_init(&p->view, h, m->prod,
		     (h->flags & BB_RING_MULTI_PRODUCER) ? m->avail : NULL,
		     m->cons, BB_MEM_STRIDE, m->slots);
	/*
	 * Movers never fence: a sleeper has their CPUs fence for it, or
	 * (no membarrier) re-checks on a timer (memwait.c).
	 */
	p->view.sleeper_barrier = true;
	if (self)
		*self = bb_mem_seq(m, a->consumer_id);
	return 0;
}

void bb_mem_detach(struct bb_memring *m, const struct bb_part *p, __u32 role,
		   __u32 id)
{
	struct bb_ring_header *h = m->hdr;
	__u64 bit, deps, d;
	unsigned int i;
	__u32 topo;

	pthread_mutex_lock(&m->sh->lock);
	if (role == BB_ROLE_PRODUCER) {
		bb_store(&h->nr_producers, --m->sh->producers);
		bb_mem_sp_resume(m);
	} else if (id < h->max_consumers && (m->sh->active & (1ULL << id))) {
		bit = 1ULL << id;
		topo = bb_mem_topo_begin(h);
		/* Followers of the leaver follow what it followed. */
		deps = bb_load(&h->consumers[id].deps);
		m->sh->active &= ~bit;
		for (i = 0; i < h->max_consumers; i++) {
			d = bb_load(&h->consumers[i].deps);
			if ((m->sh->active & (1ULL << i)) && (d & bit))
				bb_store(&h->consumers[i].deps,
					 (d & ~bit) | deps);
		}
		bb_store(&h->consumers[id].deps, 0);
		bb_mem_topo_end(m, topo);
		bb_store(&h->nr_consumers, bb_load(&h->nr_consumers) - 1);
	}
	pthread_mutex_unlock(&m->sh->lock);
	/*
	 * Producers it gated, consumers that followed it: the kernel wakes
	 * everyone on a graph change, and so do we.
	 */
	bb_mem_wake(m, BB_WAKE_ALL);
	bb_mem_put(m);
}
