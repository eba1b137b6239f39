// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Failures: a participant halts the ring and records why (BB_IOC_FAIL, or
 * the memory ring's stand-in), and anyone holding the ring reads the
 * record from the header once the ring is halted.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

_Static_assert(BADBATCH_NO_ID == BB_ID_ANY, "no consumer id is the ABI's");

/* What BB_IOC_FAIL accepts: a positive errno that fits the error range. */
#define BB_FAIL_ERROR_MAX	4095

static int bb_fail(const struct bb_part *p, __u64 seq, int error, __u32 by)
{
	struct bb_fail f;

	if (error < 1 || error > BB_FAIL_ERROR_MAX)
		return -EINVAL;
	if (p->mem)
		return bb_mem_fail(p->mem, seq, error, by);
	memset(&f, 0, sizeof(f));
	f.seq = seq;
	f.error = error;
	/* The kernel knows who we are from the descriptor. */
	return bb_sys_ioctl(p->fd, BB_IOC_FAIL, &f);
}

int badbatch_consumer_fail(struct badbatch_consumer *c, uint64_t seq,
			   int error)
{
	if (!c)
		return -EINVAL;
	return bb_fail(&c->part, seq, error, c->id);
}

int badbatch_producer_fail(struct badbatch_producer *p, uint64_t seq,
			   int error)
{
	if (!p)
		return -EINVAL;
	return bb_fail(&p->part, seq, error, BB_ID_ANY);
}

/*
 * The record is written before status becomes HALTED and never changes
 * after: the acquire pairs with the release of status in the kernel's
 * fail (bb_mem_fail() for memory rings), so one read of each field after
 * it is a consistent record.
 */
static int bb_failure_read(const struct bb_ring_header *hdr,
			   struct badbatch_failure *f)
{
	int error;

	if (bb_load_acquire(&hdr->status) != BB_STATUS_HALTED)
		return -EAGAIN;
	memset(f, 0, sizeof(*f));
	f->consumer_id = BADBATCH_NO_ID;
	error = bb_load(&hdr->fail_error);
	/* Halted without a failure: nothing else is meaningful. */
	if (error <= 0)
		return 0;
	f->error = error;
	f->consumer_id = bb_load(&hdr->fail_by);
	f->seq = bb_load(&hdr->fail_seq);
	return 0;
}

int badbatch_get_failure(const struct badbatch *ring,
			 struct badbatch_failure *f)
{
	if (!ring || !f)
		return -EINVAL;
	if (!ring->hdr)
		return -EACCES;
	return bb_failure_read(ring->hdr, f);
}

int badbatch_consumer_get_failure(const struct badbatch_consumer *c,
				  struct badbatch_failure *f)
{
	if (!c || !f)
		return -EINVAL;
	return bb_failure_read(c->part.view.hdr, f);
}

int badbatch_producer_get_failure(const struct badbatch_producer *p,
				  struct badbatch_failure *f)
{
	if (!p || !f)
		return -EINVAL;
	return bb_failure_read(p->part.view.hdr, f);
}
