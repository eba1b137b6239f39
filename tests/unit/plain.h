/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Plain rings: the shared layout of include/uapi/linux/badbatch.h in
 * ordinary heap memory, with a bb_view over it, so tests run the protocol
 * headers directly. The test plays the kernel (topology, gating mask,
 * waiter announcements) through the helpers below.
 */
#ifndef _BADBATCH_UNIT_PLAIN_H
#define _BADBATCH_UNIT_PLAIN_H

#include <badbatch/protocol.h>

#define PLAIN_STRIDE	128

struct plain_ring {
	struct bb_ring_header *hdr;	/* writable: the test is the kernel */
	struct bb_producer_page *prod;
	__u32 *avail;
	unsigned char *cons;
	unsigned char *slots;
	struct bb_view v;
};

void plain_init(struct plain_ring *r, __u32 slot_count, __u32 slot_size,
		bool multi, __u32 max_consumers);
void plain_free(struct plain_ring *r);

/* Consumer id's sequence word (what bb_consumer_advance() writes). */
static inline __u64 *plain_seq(struct plain_ring *r, unsigned int id)
{
	return (__u64 *)(r->cons + (size_t)id * PLAIN_STRIDE);
}

/*
 * Set the topology as the kernel would, inside a topo_seq write section:
 * deps[i] for each id in active, gating = active consumers nobody follows.
 */
void plain_topology(struct plain_ring *r, __u64 active, const __u64 *deps);

/* Claim n slots, yielding while the ring is full or contended. */
__u64 plain_claim(struct plain_ring *r, struct bb_producer_cache *pc, __u32 n);

/* Wait (yielding) until consumer id may read from, return its limit. */
__u64 plain_wait(struct plain_ring *r, unsigned int id, __u64 from, __u32 max);

#endif /* _BADBATCH_UNIT_PLAIN_H */
