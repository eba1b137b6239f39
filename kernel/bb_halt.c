// SPDX-License-Identifier: GPL-2.0
/*
 * Halting a ring (BB_IOC_HALT) and failing it (BB_IOC_FAIL): the status
 * every waiter checks, and the first failure's record in the header.
 */
#include "bb_internal.h"

/* The largest error BB_IOC_FAIL records: the kernel's errno range. */
#define BB_FAIL_ERROR_MAX	4095

/* A failure to record: a positive errno, reserved zero. */
int bb_fail_validate(const struct bb_fail *f)
{
	if (f->error < 1 || f->error > BB_FAIL_ERROR_MAX || f->reserved)
		return -EINVAL;
	return 0;
}

/*
 * Halt r: no new claims or attaches, every sleeper returns -ESHUTDOWN.
 * Without f, halting a halted ring is a no-op. With f (validated), the
 * failure is recorded, by consumer by (BB_ID_ANY for other roles), unless
 * the ring is halted already: -ESHUTDOWN, and the record it has stays.
 * Under r->lock, so of concurrent halts and failures exactly one wins
 * and a record is never a mix of two.
 */
int bb_ring_halt(struct bb_ring *r, const struct bb_fail *f, u32 by)
{
	struct bb_ring_header *h = r->hdr;

	mutex_lock(&r->lock);
	if (f) {
		if (r->halted) {
			mutex_unlock(&r->lock);
			return -ESHUTDOWN;
		}
		r->fail.seq = f->seq;
		r->fail.error = f->error;
		r->fail_by = by;
		WRITE_ONCE(h->fail_seq, f->seq);
		WRITE_ONCE(h->fail_error, f->error);
		WRITE_ONCE(h->fail_by, by);
	}
	WRITE_ONCE(r->halted, true);
	/*
	 * Pairs with the load-acquire of status in user space (the
	 * library's bb_failure_read()): whoever sees HALTED sees the
	 * record written before it.
	 */
	smp_store_release(&h->status, BB_STATUS_HALTED);
	mutex_unlock(&r->lock);
	/* The wait-queue locks order the flag before every waiter's check. */
	bb_wake_all(r);
	return 0;
}
