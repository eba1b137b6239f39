// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl dispatch. Each handler copies its whole argument, validates all
 * of it, and only then changes state; results go back to user space
 * through a buffer already proven writable, so a bad pointer never
 * leaves a half-done change behind.
 */
#include <linux/ktime.h>
#include <linux/uaccess.h>
#include "bb_internal.h"

/* Unbound: -EBADFD; a role not in the allowed mask: -EPERM. */
static struct bb_ring *bb_bound(struct bb_file *bf, u32 roles, int *err)
{
	struct bb_ring *r = bb_file_ring(bf);

	if (!r)
		*err = -EBADFD;
	else if (!(roles & BIT(bb_file_role(bf))))
		*err = -EPERM;
	return *err ? NULL : r;
}

#define BB_PARTICIPANTS	(BIT(BB_ROLE_PRODUCER) | BIT(BB_ROLE_CONSUMER))
#define BB_ANY_ROLE	(BIT(BB_ROLE_NONE) | BIT(BB_ROLE_OBSERVER) | \
			 BB_PARTICIPANTS)

static int bb_ioc_create(struct bb_file *bf, struct bb_create __user *uarg)
{
	struct bb_create c;
	struct bb_ring *r;
	int ret;

	if (copy_from_user(&c, uarg, sizeof(c)))
		return -EFAULT;
	/* Prove the result can be written before creating anything. */
	if (copy_to_user(uarg, &c, sizeof(c)))
		return -EFAULT;
	mutex_lock(&bf->lock);
	if (bf->ring) {
		ret = -EISCONN;
		goto out;
	}
	ret = bb_ring_create(&c, &r);
	if (ret)
		goto out;
	if (put_user(r->id, &uarg->ring_id)) {
		bb_ring_put(r);
		ret = -EFAULT;
		goto out;
	}
	bf->role = BB_ROLE_NONE;
	/* Pairs with smp_load_acquire() in bb_file_ring(). */
	smp_store_release(&bf->ring, r);
out:
	mutex_unlock(&bf->lock);
	return ret;
}

static int bb_ioc_attach(struct bb_file *bf, struct bb_attach __user *uarg)
{
	struct bb_attach a;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (copy_to_user(uarg, &a, sizeof(a)))
		return -EFAULT;
	mutex_lock(&bf->lock);
	ret = bb_attach(bf, bf->ring, &a);
	mutex_unlock(&bf->lock);
	/* Only fails if the caller unmapped it meanwhile: INFO still tells. */
	if (!ret && put_user(a.consumer_id, &uarg->consumer_id))
		ret = 0;
	return ret;
}

static int bb_ioc_info(struct bb_file *bf, struct bb_info __user *uarg)
{
	const struct bb_region *reg;
	const struct bb_layout *l;
	struct bb_info info = {};
	struct bb_ring *r;
	int ret = 0;

	r = bb_bound(bf, BB_ANY_ROLE, &ret);
	if (!r)
		return ret;
	l = &r->layout;
	reg = l->region;
	info.ring_id = r->id;
	info.flags = l->flags;
	info.features = (r->sleeper_barrier ? BB_FEAT_SLEEPER_BARRIER : 0) |
			BB_FEAT_RECORD_WON;
	info.slot_count = l->slot_count;
	info.slot_size = l->slot_size;
	info.max_consumers = l->max_consumers;
	info.wait_strategy = l->wait_strategy;
	info.role = bf->role;
	info.consumer_id = bf->consumer_id;
	info.page_size = PAGE_SIZE;
	info.header_off = reg[BB_REGION_HEADER].pgoff << PAGE_SHIFT;
	info.header_len = reg[BB_REGION_HEADER].pages << PAGE_SHIFT;
	info.producer_off = reg[BB_REGION_PRODUCER].pgoff << PAGE_SHIFT;
	info.producer_len = reg[BB_REGION_PRODUCER].pages << PAGE_SHIFT;
	if (l->flags & BB_RING_MULTI_PRODUCER)
		info.avail_off = sizeof(struct bb_producer_page);
	info.record_id = BB_ID_ANY;
	if (bf->role == BB_ROLE_PRODUCER && bf->record_id < BB_MAX_RECORDS) {
		info.records_off = bb_records_off(l->flags, l->slot_count);
		info.record_id = bf->record_id;
	}
	info.consumers_off = reg[BB_REGION_CONSUMERS].pgoff << PAGE_SHIFT;
	info.consumers_len = reg[BB_REGION_CONSUMERS].pages << PAGE_SHIFT;
	info.consumer_stride = PAGE_SIZE;
	if (bf->role == BB_ROLE_CONSUMER) {
		info.self_off = reg[BB_REGION_SELF].pgoff << PAGE_SHIFT;
		info.self_len = PAGE_SIZE;
	}
	info.slots_off = reg[BB_REGION_SLOTS].pgoff << PAGE_SHIFT;
	info.slots_len = (u64)l->slot_count * l->slot_size;
	if (bf->role == BB_ROLE_CONSUMER) {
		info.pools_off = reg[BB_REGION_POOLS].pgoff << PAGE_SHIFT;
		info.pools_len = reg[BB_REGION_POOLS].pages << PAGE_SHIFT;
	}
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static int bb_ioc_stats(struct bb_file *bf, struct bb_stats __user *uarg)
{
	struct bb_stats st = {};
	struct bb_ring *r;
	int ret = 0;

	r = bb_bound(bf, BB_ANY_ROLE, &ret);
	if (!r)
		return ret;
	mutex_lock(&r->lock);
	st.gating_mask = r->hdr->gating_mask;
	st.nr_producers = r->nr_producers;
	st.nr_consumers = hweight64(r->active);
	st.status = r->halted ? BB_STATUS_HALTED : BB_STATUS_RUNNING;
	st.fail_seq = r->fail.seq;
	st.fail_error = r->fail.error;
	st.fail_by = r->fail_by;
	st.pool_lost = bb_pools_lost(r);
	mutex_unlock(&r->lock);
	st.ring_id = r->id;
	st.cursor = READ_ONCE(r->view.prod->claim);
	st.waiters = atomic_read(&r->sleepers);
	st.wakeups = atomic64_read(&r->wakeups);
	st.sleeps = atomic64_read(&r->sleeps);
	st.abandoned = atomic64_read(&r->abandoned);
	st.bytes = bb_layout_bytes(&r->layout);
	st.rings = bb_rings_alive();
	return copy_to_user(uarg, &st, sizeof(st)) ? -EFAULT : 0;
}

static int bb_ioc_wait(struct bb_file *bf, struct bb_wait __user *uarg)
{
	struct bb_wait w;
	struct bb_ring *r;
	ktime_t deadline;
	int ret = 0;

	r = bb_bound(bf, BB_PARTICIPANTS, &ret);
	if (!r)
		return ret;
	if (copy_from_user(&w, uarg, sizeof(w)))
		return -EFAULT;
	if ((w.flags & ~BB_WAITF_ALL) || w.reserved)
		return -EINVAL;
	deadline = ns_to_ktime(w.deadline_ns);
	ret = bb_wait(bf, w.seq, (w.flags & BB_WAITF_DEADLINE) ? &deadline :
				 NULL, &w.limit);
	if (!ret && put_user(w.limit, &uarg->limit))
		ret = -EFAULT;
	return ret;
}

static int bb_ioc_claim(struct bb_file *bf, struct bb_claim __user *uarg)
{
	struct bb_claim c;
	struct bb_ring *r;
	ktime_t deadline;
	int ret = 0;

	r = bb_bound(bf, BIT(BB_ROLE_PRODUCER), &ret);
	if (!r)
		return ret;
	if (copy_from_user(&c, uarg, sizeof(c)))
		return -EFAULT;
	if (c.flags & ~BB_CLAIMF_ALL)
		return -EINVAL;
	if (copy_to_user(uarg, &c, sizeof(c)))
		return -EFAULT;
	deadline = ns_to_ktime(c.deadline_ns);
	if (mutex_lock_interruptible(&bf->lock))
		return -ERESTARTSYS;
	ret = bb_kclaim_held(bf, c.count, c.flags & BB_CLAIMF_NONBLOCK,
			     (c.flags & BB_CLAIMF_DEADLINE) ? &deadline : NULL,
			     &c.seq);
	/* A claim nobody can publish would stall every consumer. */
	if (!ret && put_user(c.seq, &uarg->seq)) {
		if (r->view.multi)
			bb_kclaims_take(&bf->kclaims, c.seq, c.seq + c.count);
		bb_unclaim(bf, c.seq, 0, c.count);
		ret = -EFAULT;
	}
	mutex_unlock(&bf->lock);
	return ret;
}

static int bb_ioc_publish(struct bb_file *bf, struct bb_publish __user *uarg)
{
	struct bb_publish p;
	struct bb_ring *r;
	int ret = 0;

	r = bb_bound(bf, BIT(BB_ROLE_PRODUCER), &ret);
	if (!r)
		return ret;
	if (copy_from_user(&p, uarg, sizeof(p)))
		return -EFAULT;
	if (p.reserved)
		return -EINVAL;
	if (mutex_lock_interruptible(&bf->lock))
		return -ERESTARTSYS;
	ret = bb_kpublish(bf, p.seq, p.count);
	mutex_unlock(&bf->lock);
	return ret;
}

static int bb_ioc_wake(struct bb_file *bf, unsigned long what)
{
	struct bb_ring *r;
	int ret = 0;

	r = bb_bound(bf, BB_ANY_ROLE, &ret);
	if (!r)
		return ret;
	if (what & ~(unsigned long)BB_WAKE_ALL)
		return -EINVAL;
	bb_wake(r, what);
	return 0;
}

/* Who may halt or fail a ring: anyone bound to it but an observer. */
#define BB_HALTERS	(BB_ANY_ROLE & ~BIT(BB_ROLE_OBSERVER))

/* Stop the ring: no new claims or attaches, every sleeper returns. */
static int bb_ioc_halt(struct bb_file *bf)
{
	struct bb_ring *r;
	int ret = 0;

	r = bb_bound(bf, BB_HALTERS, &ret);
	if (!r)
		return ret;
	return bb_ring_halt(r, NULL, BB_ID_ANY);
}

/* Halt the ring, recording why; only the first failure is kept. */
static int bb_ioc_fail(struct bb_file *bf, struct bb_fail __user *uarg)
{
	struct bb_ring *r;
	struct bb_fail f;
	int ret = 0;

	r = bb_bound(bf, BB_HALTERS, &ret);
	if (!r)
		return ret;
	if (copy_from_user(&f, uarg, sizeof(f)))
		return -EFAULT;
	ret = bb_fail_validate(&f);
	if (ret)
		return ret;
	return bb_ring_halt(r, &f, bb_file_role(bf) == BB_ROLE_CONSUMER ?
				   bf->consumer_id : BB_ID_ANY);
}

long bb_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct bb_file *bf = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case BB_IOC_CREATE:
		return bb_ioc_create(bf, uarg);
	case BB_IOC_ATTACH:
		return bb_ioc_attach(bf, uarg);
	case BB_IOC_INFO:
		return bb_ioc_info(bf, uarg);
	case BB_IOC_WAIT:
		return bb_ioc_wait(bf, uarg);
	case BB_IOC_WAKE:
		return bb_ioc_wake(bf, arg);
	case BB_IOC_CLAIM:
		return bb_ioc_claim(bf, uarg);
	case BB_IOC_PUBLISH:
		return bb_ioc_publish(bf, uarg);
	case BB_IOC_HALT:
		return bb_ioc_halt(bf);
	case BB_IOC_STATS:
		return bb_ioc_stats(bf, uarg);
	case BB_IOC_FAIL:
		return bb_ioc_fail(bf, uarg);
	default:
		return -ENOTTY;
	}
}
