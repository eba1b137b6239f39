// SPDX-License-Identifier: GPL-2.0
/*
 * Participants joining and leaving a ring: argument checks, permission
 * checks, producer and consumer bookkeeping, and the start sequence of a
 * consumer that joins a running ring.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include "bb_internal.h"

/* SysV-style owner/group/other check against the ring's mode. */
int bb_permission(const struct bb_ring *r, u32 role)
{
	umode_t need = role == BB_ROLE_PRODUCER ? 2 : 4;
	umode_t granted;

	if (role == BB_ROLE_CONSUMER &&
	    (r->layout.flags & BB_RING_MUTABLE_CONSUMERS))
		need |= 2;
	if (uid_eq(current_euid(), r->uid))
		granted = r->mode >> 6;
	else if (in_egroup_p(r->gid))
		granted = r->mode >> 3;
	else
		granted = r->mode;
	if (!(need & ~granted & 7))
		return 0;
	return capable(CAP_IPC_OWNER) ? 0 : -EACCES;
}

/* Checks that need no ring: the errors a bad struct gets first. */
int bb_attach_validate(const struct bb_attach *a)
{
	size_t i;

	if (a->role != BB_ROLE_PRODUCER && a->role != BB_ROLE_CONSUMER &&
	    a->role != BB_ROLE_OBSERVER)
		return -EINVAL;
	/* Exactly one source; POOL only modifies it. */
	if (hweight32(a->flags & BB_ATTACH_FLAGS_ALL) != 1 ||
	    (a->flags & ~(BB_ATTACH_FLAGS_ALL | BB_ATTACH_POOL)))
		return -EINVAL;
	if (a->flags & BB_ATTACH_POOL) {
		if (a->role != BB_ROLE_CONSUMER || a->pool >= BB_MAX_POOLS)
			return -EINVAL;
	} else if (a->pool) {
		return -EINVAL;
	}
	if (a->reserved32)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(a->reserved); i++)
		if (a->reserved[i])
			return -EINVAL;
	if (a->role != BB_ROLE_CONSUMER && (a->deps ||
	    (a->consumer_id != BB_ID_ANY && a->consumer_id != 0)))
		return -EINVAL;
	if (a->consumer_id != BB_ID_ANY &&
	    (a->consumer_id >= BB_MAX_CONSUMERS ||
	     (a->deps & BIT_ULL(a->consumer_id))))
		return -EINVAL;
	if (!(a->flags & BB_ATTACH_FD) && a->ring_fd != -1)
		return -EINVAL;
	if (a->flags & BB_ATTACH_NAME)
		return a->name[0] ? bb_name_validate(a->name) : -EINVAL;
	for (i = 0; i < BB_NAME_MAX; i++)
		if (a->name[i])
			return -EINVAL;
	return 0;
}

/* A new reference to the ring bound to descriptor fd. */
static int bb_ring_from_fd(int fd, struct bb_ring **ringp)
{
	struct fd f = fdget(fd);
	struct bb_ring *r;

	if (!f.file)
		return -EBADF;
	r = f.file->f_op == &bb_fops ? bb_file_ring(f.file->private_data) :
				       NULL;
	if (r)
		kref_get(&r->ref);
	fdput(f);
	if (!r)
		return -EINVAL;
	*ringp = r;
	return 0;
}

static int bb_attach_producer(struct bb_ring *r, u32 *record_id)
{
	struct bb_producer_page *p = r->view.prod;
	int ret;

	if (!(r->layout.flags & BB_RING_MULTI_PRODUCER) && r->nr_producers)
		return -EBUSY;
	*record_id = BB_ID_ANY;
	if (r->layout.flags & BB_RING_MULTI_PRODUCER) {
		ret = bb_prec_attach(r, record_id);
		if (ret)
			return ret;
	}
	/*
	 * A single producer continues from what was published: slots its
	 * predecessor claimed but never published are simply reused.
	 */
	if (!(r->layout.flags & BB_RING_MULTI_PRODUCER))
		WRITE_ONCE(p->claim, READ_ONCE(p->cursor));
	r->nr_producers++;
	WRITE_ONCE(r->hdr->nr_producers, r->nr_producers);
	return 0;
}

static int bb_attach_consumer(struct bb_ring *r, struct bb_attach *a)
{
	unsigned int max = r->layout.max_consumers;
	u64 free_ids = ~r->active & GENMASK_ULL(max - 1, 0);
	struct bb_consumer_page *page;
	unsigned int id;
	u64 frontier, start;

	if (a->deps & ~GENMASK_ULL(max - 1, 0))
		return -EINVAL;
	if (a->consumer_id != BB_ID_ANY && a->consumer_id >= max)
		return -EINVAL;
	if (a->deps & ~r->active)
		return -ENOENT;
	if (a->flags & BB_ATTACH_POOL) {
		int ret = bb_pool_check(r, a->pool, a->deps);

		if (ret)
			return ret;
	}
	if (a->consumer_id == BB_ID_ANY) {
		if (!free_ids)
			return -ENOSPC;
		id = __ffs64(free_ids);
	} else {
		id = a->consumer_id;
		if (r->active & BIT_ULL(id))
			return -EBUSY;
	}

	page = (struct bb_consumer_page *)bb_consumer_seq(&r->view, id);
	bb_topology_begin(r);
	/*
	 * Start at or after every sequence a producer may have used for its
	 * gating minimum before this change (it only read consumers at or
	 * behind the claim frontier, or behind our dependencies), so no
	 * producer can overwrite an event this consumer has not seen.
	 */
	frontier = READ_ONCE(r->view.prod->claim);
	start = a->deps ? bb_deps_min(&r->view, a->deps, frontier) : frontier;
	WRITE_ONCE(page->seq, start);
	/* Whatever a previous holder of the id left: nothing held. */
	WRITE_ONCE(page->held, 0);
	WRITE_ONCE(page->done, 0);
	r->active |= BIT_ULL(id);
	r->deps[id] = a->deps;
	bb_topology_end(r);
	if (a->flags & BB_ATTACH_POOL)
		bb_pool_join(r, a->pool, start, a->deps);
	a->consumer_id = id;
	return 0;
}

/* Bind bf (bf->lock held) to a ring as a participant. */
int bb_attach(struct bb_file *bf, struct bb_ring *self, struct bb_attach *a)
{
	u32 record_id = BB_ID_ANY;
	struct bb_ring *r;
	int ret;

	if (bf->role != BB_ROLE_NONE || (self && !(a->flags & BB_ATTACH_SELF)))
		return -EISCONN;
	ret = bb_attach_validate(a);
	if (ret)
		return ret;

	if (a->flags & BB_ATTACH_SELF) {
		if (!self)
			return -EINVAL;
		r = self;
	} else if (a->flags & BB_ATTACH_FD) {
		ret = bb_ring_from_fd(a->ring_fd, &r);
		if (ret)
			return ret;
	} else {
		r = bb_names_lookup(a->name);
		if (!r)
			return -ENOENT;
	}

	ret = bb_permission(r, a->role);
	if (ret)
		goto out;
	mutex_lock(&r->lock);
	if (r->halted)
		ret = -ESHUTDOWN;
	else if (a->role == BB_ROLE_PRODUCER)
		ret = bb_attach_producer(r, &record_id);
	else if (a->role == BB_ROLE_CONSUMER)
		ret = bb_attach_consumer(r, a);
	mutex_unlock(&r->lock);
	if (ret)
		goto out;
	/*
	 * A consumer that follows a gating one takes its place: that one may
	 * have advanced, then seen itself no longer gating and woken nobody,
	 * though its move is what a sleeping producer waits for.
	 */
	if (a->role == BB_ROLE_CONSUMER)
		bb_wake_producers(r);

	bf->consumer_id = a->role == BB_ROLE_CONSUMER ? a->consumer_id :
							 BB_ID_ANY;
	bf->record_id = record_id;
	bf->pooled = a->flags & BB_ATTACH_POOL;
	bf->pool = a->pool;
	bf->pc.gating = 0;
	if (self) {
		/* The ring is visible already: the role publishes the id. */
		smp_store_release(&bf->role, a->role);
	} else {
		bf->role = a->role;
		/* Pairs with smp_load_acquire() in bb_file_ring(). */
		smp_store_release(&bf->ring, r);
	}
	return 0;
out:
	if (!self)
		bb_ring_put(r);
	return ret;
}

/* A dead producer's claims would stall consumers: hand them on flagged. */
static void bb_detach_claims(struct bb_file *bf)
{
	struct bb_ring *r = bf->ring;
	u64 n = bb_kclaims_abandon(&r->view, &bf->kclaims);

	if (n) {
		atomic64_add(n, &r->abandoned);
		bb_wake(r, BB_WAKE_CONSUMERS);
	}
}

/* The participant behind bf is gone: keep every survivor moving. */
void bb_detach(struct bb_file *bf)
{
	struct bb_ring *r = bf->ring;
	struct bb_producer_page *p = r->view.prod;
	const struct bb_consumer_page *page = NULL;

	if (bf->role == BB_ROLE_CONSUMER)
		page = (const struct bb_consumer_page *)
		       bb_consumer_seq(&r->view, bf->consumer_id);
	bb_poll_disarm(bf);
	mutex_lock(&r->lock);
	if (bf->role == BB_ROLE_PRODUCER) {
		r->nr_producers--;
		if (!(r->layout.flags & BB_RING_MULTI_PRODUCER))
			WRITE_ONCE(p->claim, READ_ONCE(p->cursor));
		WRITE_ONCE(r->hdr->nr_producers, r->nr_producers);
	} else if (bf->role == BB_ROLE_CONSUMER) {
		bb_topology_begin(r);
		bb_topology_forget(&r->active, r->deps,
				   r->layout.max_consumers, bf->consumer_id);
		bb_topology_end(r);
		if (bf->pooled)
			bb_pool_leave(r, bf->pool,
				      bb_pool_unfinished(page,
							 r->layout.slot_count));
	}
	mutex_unlock(&r->lock);
	/* Sleepers re-evaluate against the healed graph. */
	if (bf->role == BB_ROLE_CONSUMER)
		bb_wake_all(r);
	if (bf->role == BB_ROLE_PRODUCER && r->view.multi) {
		bb_detach_claims(bf);
		bb_prec_release(bf);
	}
}
