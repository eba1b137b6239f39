// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel-mediated data path: claim and publish on behalf of a
 * producer (BB_IOC_CLAIM, BB_IOC_PUBLISH), and whole events through
 * write() and read(). The same protocol code as the library's fast path
 * runs here over the kernel's own mapping of the ring.
 */
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include "bb_internal.h"

static void bb_wake_consumers_if_needed(struct bb_ring *r)
{
	if (bb_consumers_need_wake(&r->view))
		bb_wake(r, BB_WAKE_CONSUMERS);
}

static u64 bb_frontier(struct bb_file *bf)
{
	const struct bb_view *v = &bf->ring->view;

	return v->multi ? READ_ONCE(v->prod->claim) : bf->pc.next;
}

/*
 * Claim count slots for producer bf (bf->lock held), waiting for room
 * with the lock dropped, so that another thread of the same fd can
 * publish meanwhile. With hold (BB_IOC_CLAIM), a multi-producer claim is
 * remembered so that it can be abandoned if the producer dies; -EBUSY
 * when too many are outstanding.
 */
static int bb_kclaim_locked(struct bb_file *bf, u32 count, bool nonblock,
			    const ktime_t *deadline, u64 *seq, bool hold)
{
	struct bb_ring *r = bf->ring;
	const struct bb_view *v = &r->view;
	bool track = hold && v->multi;
	u64 want;
	int ret;

	if (!count || count > v->size)
		return -EINVAL;
	for (;;) {
		if (READ_ONCE(r->halted))
			return -ESHUTDOWN;
		if (track && !bb_kclaims_make_room(v, &bf->kclaims))
			return -EBUSY;
		/* The shared frontier: the library's fast path writes it too. */
		if (!v->multi)
			bf->pc.next = READ_ONCE(v->prod->claim);
		/*
		 * Claims made here leave no intent in a record: say so before
		 * the first one. The winning CAS is fully ordered, so whoever
		 * reads a frontier past it sees the flag (bb_intent_resolve()).
		 */
		else if (!READ_ONCE(r->kclaimed))
			WRITE_ONCE(r->kclaimed, true);
		ret = bb_try_claim(v, &bf->pc, count, seq);
		if (!ret && track)
			bb_kclaims_add(&bf->kclaims, *seq, count, v->size);
		if (ret != -EAGAIN || nonblock)
			return ret;
		want = bb_frontier(bf) + count - 1;
		mutex_unlock(&bf->lock);
		ret = bb_wait(bf, want, deadline, NULL);
		/*
		 * Ready, yet the claim may fail again: the pages it reads
		 * are shared and a liar can keep flipping them. Stay
		 * killable and preemptible however long that goes on.
		 */
		if (!ret && signal_pending(current))
			ret = deadline ? -EINTR : -ERESTARTSYS;
		cond_resched();
		mutex_lock(&bf->lock);
		if (ret)
			return ret;
	}
}

int bb_kclaim(struct bb_file *bf, u32 count, bool nonblock,
	      const ktime_t *deadline, u64 *seq)
{
	return bb_kclaim_locked(bf, count, nonblock, deadline, seq, false);
}

int bb_kclaim_held(struct bb_file *bf, u32 count, bool nonblock,
		   const ktime_t *deadline, u64 *seq)
{
	return bb_kclaim_locked(bf, count, nonblock, deadline, seq, true);
}

/*
 * Publish [seq, seq + count) (bf->lock held): within the last claims, and
 * on a multi-producer ring within one of this fd's BB_IOC_CLAIMs.
 */
int bb_kpublish(struct bb_file *bf, u64 seq, u32 count)
{
	struct bb_ring *r = bf->ring;
	const struct bb_view *v = &r->view;
	u64 frontier = READ_ONCE(v->prod->claim);
	u64 end = seq + count;

	if (!count || count > v->size || end < seq || end > frontier ||
	    frontier - seq > v->size)
		return -EINVAL;
	/* A single producer's cursor only moves forward. */
	if (!v->multi && end <= READ_ONCE(v->prod->cursor))
		return -EINVAL;
	/* Another producer's slots are not ours to publish. */
	if (v->multi) {
		int ret = bb_kclaims_take(&bf->kclaims, seq, end);

		if (ret)
			return ret;
	}
	bb_publish(v, seq, count);
	bb_wake_consumers_if_needed(r);
	return 0;
}

/*
 * A write() that faulted after claiming [lo + done, lo + n): take the
 * claim back when nobody claimed after it, else publish it abandoned.
 */
void bb_unclaim(struct bb_file *bf, u64 lo, u32 done, u32 n)
{
	const struct bb_view *v = &bf->ring->view;

	if (!v->multi) {
		WRITE_ONCE(v->prod->claim, lo + done);
		return;
	}
	if (cmpxchg(&v->prod->claim, lo + n, lo + done) == lo + n)
		return;
	bb_publish_abandoned(v, lo + done, n - done);
	atomic64_add(n - done, &bf->ring->abandoned);
	/* Consumers may sleep at lo + done: nobody else would wake them. */
	bb_wake_consumers_if_needed(bf->ring);
}

/* Claim up to want slots: all of them, or (nonblock) as many as fit. */
static int bb_write_claim(struct bb_file *bf, u32 want, bool nonblock,
			  u64 *lo, u32 *got)
{
	const struct bb_view *v = &bf->ring->view;
	u64 room;
	int ret;

	if (nonblock) {
		if (!v->multi)
			bf->pc.next = READ_ONCE(v->prod->claim);
		room = bb_remaining(v, &bf->pc);
		if (!room)
			return READ_ONCE(bf->ring->halted) ? -ESHUTDOWN :
							       -EAGAIN;
		want = min_t(u64, want, room);
	}
	ret = bb_kclaim(bf, want, nonblock, NULL, lo);
	*got = want;
	return ret;
}

ssize_t bb_write(struct file *file, const char __user *buf, size_t len,
		 loff_t *ppos)
{
	struct bb_file *bf = file->private_data;
	struct bb_ring *r = bb_file_ring(bf);
	bool nonblock = file->f_flags & O_NONBLOCK;
	size_t ss, total, done = 0;
	u32 i, n;
	u64 lo;
	int ret = 0;

	if (!r)
		return -EBADFD;
	if (bb_file_role(bf) != BB_ROLE_PRODUCER)
		return -EPERM;
	ss = r->view.slot_size;
	if (!len || len % ss)
		return -EINVAL;
	total = len / ss;
	if (mutex_lock_interruptible(&bf->lock))
		return -ERESTARTSYS;
	while (done < total) {
		/* After a partial write, return it rather than block. */
		ret = bb_write_claim(bf, min_t(size_t, total - done,
					       r->view.size),
				     nonblock || done, &lo, &n);
		if (ret)
			break;
		for (i = 0; i < n; i++)
			if (copy_from_user(bb_slot(&r->view, lo + i),
					   buf + (done + i) * ss, ss))
				break;
		if (i < n)
			bb_unclaim(bf, lo, i, n);
		if (i)
			bb_publish(&r->view, lo, i);
		done += i;
		if (i < n) {
			ret = -EFAULT;
			break;
		}
	}
	mutex_unlock(&bf->lock);
	if (done)
		bb_wake_consumers_if_needed(r);
	return done ? done * ss : ret;
}

/*
 * Copy readable events [seq, limit) out, skipping abandoned ones; return
 * how many were copied and set *end to where the consumer now stands.
 */
static size_t bb_read_copy(struct bb_ring *r, char __user *buf, u64 seq,
			   u64 limit, u64 *end, bool *fault)
{
	const struct bb_view *v = &r->view;
	size_t copied = 0;

	for (; seq < limit; seq++) {
		if (bb_is_abandoned(v, seq))
			continue;
		if (copy_to_user(buf + copied * v->slot_size,
				 bb_slot(v, seq), v->slot_size)) {
			*fault = true;
			break;
		}
		copied++;
	}
	*end = seq;
	return copied;
}

ssize_t bb_read(struct file *file, char __user *buf, size_t len,
		loff_t *ppos)
{
	struct bb_file *bf = file->private_data;
	struct bb_ring *r = bb_file_ring(bf);
	bool fault = false;
	size_t copied = 0;
	u64 *self, seq, limit, end;
	u32 max, wake;
	int ret = 0;

	if (!r)
		return -EBADFD;
	if (bb_file_role(bf) != BB_ROLE_CONSUMER)
		return -EPERM;
	if (len < r->view.slot_size)
		return -EINVAL;
	max = min_t(size_t, len / r->view.slot_size, r->view.size);
	self = (u64 *)bb_consumer_seq(&r->view, bf->consumer_id);
	if (mutex_lock_interruptible(&bf->lock))
		return -ERESTARTSYS;
	for (;;) {
		seq = READ_ONCE(*self);
		limit = bb_consumer_limit(&r->view, bf->consumer_id, seq, max);
		if (limit <= seq) {
			if (READ_ONCE(r->halted))
				ret = -ESHUTDOWN;
			else if (file->f_flags & O_NONBLOCK)
				ret = -EAGAIN;
			else
				ret = bb_wait(bf, seq, NULL, NULL);
			if (ret)
				break;
		} else {
			copied = bb_read_copy(r, buf, seq, limit, &end, &fault);
			if (end != seq) {
				wake = bb_consumer_advance(&r->view, self,
							   bf->consumer_id,
							   end);
				if (wake)
					bb_wake(r, wake);
			}
			if (copied || fault)
				break;
		}
		/*
		 * Nothing copied: everything was abandoned, or the shared
		 * pages changed under us. Liars (a producer page, our own
		 * sequence) can keep that up forever, so stay killable and
		 * preemptible as bb_wait() is; without a deadline a signal
		 * restarts the read.
		 */
		if (signal_pending(current)) {
			ret = -ERESTARTSYS;
			break;
		}
		cond_resched();
	}
	mutex_unlock(&bf->lock);
	if (copied)
		return copied * r->view.slot_size;
	return fault ? -EFAULT : ret;
}
