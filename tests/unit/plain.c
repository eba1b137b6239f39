// SPDX-License-Identifier: GPL-2.0
/* Plain rings for the protocol tests: allocation and the kernel's part. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "plain.h"

static void *plain_alloc(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, len ? len : 1))
		ut_fail(__FILE__, __LINE__, "out of memory (%zu)", len);
	memset(p, 0, len);
	return p;
}

void plain_init(struct plain_ring *r, __u32 slot_count, __u32 slot_size,
		bool multi, __u32 max_consumers)
{
	struct bb_ring_header *h;

	memset(r, 0, sizeof(*r));
	h = plain_alloc(sizeof(*h));
	h->magic = BB_MAGIC;
	h->version = BB_ABI_VERSION;
	h->flags = multi ? BB_RING_MULTI_PRODUCER : 0;
	h->slot_count = slot_count;
	h->slot_size = slot_size;
	h->slot_shift = bb_ctz64(slot_count);
	h->max_consumers = max_consumers;
	r->hdr = h;
	r->prod = plain_alloc(sizeof(*r->prod) + slot_count * sizeof(__u32));
	r->avail = (__u32 *)(r->prod + 1);
	r->cons = plain_alloc((size_t)BB_MAX_CONSUMERS * PLAIN_STRIDE);
	r->slots = plain_alloc((size_t)slot_count * slot_size);

	r->v.hdr = h;
	r->v.prod = r->prod;
	r->v.avail = multi ? r->avail : NULL;
	r->v.consumers = r->cons;
	r->v.slots = r->slots;
	r->v.cons_stride = PLAIN_STRIDE;
	r->v.mask = slot_count - 1;
	r->v.size = slot_count;
	r->v.shift = h->slot_shift;
	r->v.slot_size = slot_size;
	r->v.max_consumers = max_consumers;
	r->v.multi = multi;
}

void plain_free(struct plain_ring *r)
{
	free(r->hdr);
	free(r->prod);
	free(r->cons);
	free(r->slots);
	memset(r, 0, sizeof(*r));
}

void plain_topology(struct plain_ring *r, __u64 active, const __u64 *deps)
{
	struct bb_ring_header *h = r->hdr;
	__u32 seq = bb_load(&h->topo_seq);
	__u64 followed = 0, gating;
	unsigned int i;

	bb_store(&h->topo_seq, seq + 1);
	/* Odd first: pairs with the acquire loads in bb_gating_min(). */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (i = 0; i < BB_MAX_CONSUMERS; i++) {
		__u64 d = (active & (1ULL << i)) ? deps[i] : 0;

		bb_store(&h->consumers[i].deps, d);
		followed |= d;
	}
	gating = active & ~followed;
	for (i = 0; i < BB_MAX_CONSUMERS; i++) {
		__u32 flags = 0;

		if (active & (1ULL << i))
			flags = BB_CONSUMER_ACTIVE |
				((gating >> i) & 1 ? BB_CONSUMER_GATING : 0);
		bb_store(&h->consumers[i].flags, flags);
	}
	bb_store(&h->gating_mask, gating);
	bb_store_release(&h->topo_seq, seq + 2);
}

__u64 plain_claim(struct plain_ring *r, struct bb_producer_cache *pc, __u32 n)
{
	unsigned int spins = 0;
	__u64 lo;
	int rc;

	while ((rc = bb_try_claim(&r->v, pc, n, &lo)) != 0) {
		CHECKF(rc == -EAGAIN || rc == -EBUSY, "rc %d", rc);
		if (++spins % 16 == 0)
			ut_yield();
		else
			bb_cpu_relax();
	}
	return lo;
}

__u64 plain_wait(struct plain_ring *r, unsigned int id, __u64 from, __u32 max)
{
	unsigned int spins = 0;
	__u64 limit;

	while ((limit = bb_consumer_limit(&r->v, id, from, max)) <= from) {
		CHECKF(limit == from, "limit %llu below from %llu",
		       (unsigned long long)limit, (unsigned long long)from);
		if (++spins % 16 == 0)
			ut_yield();
		else
			bb_cpu_relax();
	}
	CHECKF(limit - from <= max && limit - from <= r->v.size,
	       "limit %llu from %llu max %u", (unsigned long long)limit,
	       (unsigned long long)from, max);
	return limit;
}
