// SPDX-License-Identifier: GPL-2.0
/*
 * Sleeping and waking. A waiter announces itself in the read-only header
 * (the need-wakeup counters), issues a full barrier and re-checks before
 * it sleeps; publishers and consumers issue a full barrier after moving
 * a sequence and read those counters, entering the kernel only when one
 * is set. The wake function lets a wakeup through only to waiters whose
 * condition holds, so a publish does not stampede unrelated sleepers.
 */
#include <linux/hrtimer.h>
#include <linux/moduleparam.h>
#include <linux/sched/signal.h>
#include <linux/smp.h>
#include "bb_internal.h"

/* Wake key that every waiter lets through: halt and graph changes. */
#define BB_KEY_ALL	(EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM | \
			 EPOLLHUP)
/* How far a returned consumer limit looks ahead: a hint, kept cheap. */
#define BB_LIMIT_SCAN	1024U

struct bb_waiter {
	struct wait_queue_entry wq;
	struct bb_announce *an;		/* dropped by the waker, under wq lock */
	struct bb_ring *ring;
	u32 role;
	u32 id;
	u64 seq;
};

/*
 * May the participant use sequence seq? A consumer may read it, a
 * producer may write it. Everything read here comes from shared pages:
 * a lie changes only the answer for those who trust the liar.
 */
bool bb_ready(struct bb_ring *r, u32 role, u32 id, u64 seq, u64 *limit)
{
	const struct bb_view *v = &r->view;
	u64 deps, min, end;

	if (role == BB_ROLE_PRODUCER) {
		min = bb_gating_min(v, seq);
		if (limit)
			*limit = min + v->size;
		return seq < min + v->size;
	}
	deps = READ_ONCE(r->hdr->consumers[id].deps);
	if (!deps) {
		/*
		 * The same test as read() and the library make, so that a
		 * waiter never returns ready for what they cannot read (a
		 * sequence at the very end of the space, say).
		 */
		end = bb_published_limit(v, seq, limit ? BB_LIMIT_SCAN : 1);
		if (end == seq)
			return false;
		if (limit)
			*limit = end;
		return true;
	}
	min = bb_deps_min(v, deps, bb_seq_end(seq, BB_LIMIT_SCAN));
	if (limit)
		*limit = min;
	return min > seq;
}

static wait_queue_head_t *bb_queue(struct bb_ring *r, u32 role, u32 id)
{
	if (role == BB_ROLE_PRODUCER)
		return &r->producer_wq;
	if (READ_ONCE(r->hdr->consumers[id].deps))
		return &r->dependent_wq;
	return &r->consumer_wq;
}

/*
 * The consumers among deps that still hold a dependent waiting for seq:
 * those at or behind it. Sequences only move forward, so the others need
 * not wake it; if a liar's sequence makes it look like none, all of them.
 */
static u64 bb_blocking_deps(const struct bb_view *v, u64 deps, u64 seq)
{
	u64 left = deps, blocking = 0;
	unsigned int i;

	while (left) {
		i = __ffs64(left);
		left &= left - 1;
		if (READ_ONCE(*bb_consumer_seq(v, i)) <= seq)
			blocking |= BIT_ULL(i);
	}
	return blocking ? blocking : deps;
}

/*
 * Raise the need-wakeup counters this waiter for seq depends on, for the
 * graph as of an->topo_seq (read before the dependencies, so a change
 * after it is noticed). The counters live in the header, which only the
 * kernel writes.
 */
static void bb_announce(struct bb_ring *r, u32 role, u32 id, u64 seq,
			struct bb_announce *an)
{
	struct bb_ring_header *h = r->hdr;
	unsigned int i;
	u64 deps;

	an->nr = 0;
	if (role == BB_ROLE_PRODUCER) {
		an->counters[an->nr++] = &h->producer_waiters;
	} else {
		deps = READ_ONCE(h->consumers[id].deps);
		if (!deps)
			an->counters[an->nr++] = &h->consumer_waiters;
		else
			deps = bb_blocking_deps(&r->view, deps, seq);
		while (deps) {
			i = __ffs64(deps);
			deps &= deps - 1;
			an->dep[an->nr] = i;
			an->counters[an->nr++] = &h->consumers[i].waiters;
		}
	}
	for (i = 0; i < an->nr; i++)
		atomic_inc((atomic_t *)an->counters[i]);
	/*
	 * Pairs with bb_mover_barrier() in bb_consumers_need_wake() and
	 * bb_consumer_advance() where movers fence (the kernel's own): either
	 * the mover sees our counter and wakes us, or our re-check after
	 * this sees its move. Movers that do not fence are ordered by
	 * bb_barrier_movers(), which the caller runs before the re-check.
	 */
	smp_mb__after_atomic();
}

/*
 * Rings created while this is set use BB_FEAT_SLEEPER_BARRIER. Clear it
 * where busy-spinning participants own isolated CPUs that must not take
 * an interrupt whenever someone sleeps: movers then pay a full barrier.
 */
static bool sleeper_barrier = true;
module_param(sleeper_barrier, bool, 0644);
MODULE_PARM_DESC(sleeper_barrier,
		 "New rings: sleepers fence every CPU, movers do not (default Y)");

bool bb_sleeper_barrier_default(void)
{
	return READ_ONCE(sleeper_barrier);
}

static void bb_ipi_barrier(void *unused)
{
	/*
	 * Pairs with bb_mover_barrier() (a compiler barrier) on whatever
	 * this CPU was running: see bb_barrier_movers().
	 */
	smp_mb();
}

/*
 * After announcing, before re-checking, on rings with
 * BB_FEAT_SLEEPER_BARRIER: a full barrier on every CPU, so that a mover
 * that only has a compiler barrier between its store and its load of our
 * counter (bb_mover_barrier()) has either loaded after this, seeing the
 * counter, or has its store drained by this, so our re-check sees it. A
 * context switch is a full barrier too, which covers movers not running
 * now. Sleeps are rare under load (a few per ten thousand events), so
 * the interrupts are too. Interrupts must be enabled: on_each_cpu()
 * waits for the other CPUs.
 */
static void bb_barrier_movers(const struct bb_ring *r)
{
	if (r->sleeper_barrier)
		on_each_cpu(bb_ipi_barrier, NULL, 1);
}

static void bb_unannounce(struct bb_announce *an)
{
	unsigned int i;

	for (i = 0; i < an->nr; i++)
		atomic_dec((atomic_t *)an->counters[i]);
	WRITE_ONCE(an->nr, 0);
}

/*
 * A dependent waiter not ready yet: the consumers it follows that have
 * passed its sequence stop calling in for it; the slowest still will.
 */
static void bb_announce_prune(struct bb_waiter *w)
{
	struct bb_announce *an = w->an;
	unsigned int i = 0;

	while (i < an->nr && an->nr > 1) {
		if (READ_ONCE(*bb_consumer_seq(&w->ring->view, an->dep[i])) <=
		    w->seq) {
			i++;
			continue;
		}
		atomic_dec((atomic_t *)an->counters[i]);
		an->nr--;
		an->counters[i] = an->counters[an->nr];
		an->dep[i] = an->dep[an->nr];
	}
}

static int bb_wake_fn(struct wait_queue_entry *wq, unsigned int mode,
		      int sync, void *key)
{
	struct bb_waiter *w = container_of(wq, struct bb_waiter, wq);

	if (!(key_to_poll(key) & EPOLLHUP) &&
	    !bb_ready(w->ring, w->role, w->id, w->seq, NULL)) {
		if (w->role == BB_ROLE_CONSUMER && w->an->nr > 1)
			bb_announce_prune(w);
		return 0;
	}
	/*
	 * It is on its way: stop announcing it now, or every publish until
	 * it runs would enter the kernel to wake it again. Should it have
	 * to sleep once more, it announces itself anew first.
	 */
	bb_unannounce(w->an);
	return default_wake_function(wq, mode, sync, key);
}

/*
 * One announced sleep: 0 when ready, -EAGAIN when the consumer graph
 * changed (re-announce on the new dependencies), else the error to
 * return.
 */
static int bb_wait_announced(struct bb_waiter *w, struct bb_announce *an,
			     const ktime_t *deadline)
{
	struct bb_ring *r = w->ring;
	bool expired = false;
	ktime_t until;

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (w->role == BB_ROLE_PRODUCER && READ_ONCE(r->halted))
			return -ESHUTDOWN;
		if (bb_ready(r, w->role, w->id, w->seq, NULL))
			return 0;
		if (READ_ONCE(r->halted))
			return -ESHUTDOWN;
		if (READ_ONCE(r->hdr->topo_seq) != an->topo_seq)
			return -EAGAIN;
		if (expired)
			return -ETIMEDOUT;
		if (signal_pending(current))
			return deadline ? -EINTR : -ERESTARTSYS;
		/* A waker dropped our announcement: announce before sleeping. */
		if (!READ_ONCE(an->nr))
			return -EAGAIN;
		atomic64_inc(&r->sleeps);
		if (deadline) {
			until = *deadline;
			expired = !schedule_hrtimeout_range_clock(&until,
					50 * NSEC_PER_USEC, HRTIMER_MODE_ABS,
					CLOCK_MONOTONIC);
		} else {
			schedule();
		}
	}
}

/* Sleep until seq is usable by bf's participant (see struct bb_wait). */
int bb_wait(struct bb_file *bf, u64 seq, const ktime_t *deadline,
	    u64 *limit)
{
	struct bb_ring *r = bf->ring;
	struct bb_announce an = {};
	struct bb_waiter w = {
		.an = &an, .ring = r, .role = bf->role, .id = bf->consumer_id,
		.seq = seq,
	};
	wait_queue_head_t *wq;
	unsigned long flags;
	int ret;

	if (w.role == BB_ROLE_PRODUCER && READ_ONCE(r->halted))
		return -ESHUTDOWN;
	init_waitqueue_func_entry(&w.wq, bb_wake_fn);
	w.wq.private = current;
	atomic_inc(&r->sleepers);
	do {
		/* Pairs with the smp_wmb()s in bb_topology_begin/end(). */
		an.topo_seq = smp_load_acquire(&r->hdr->topo_seq);
		wq = bb_queue(r, w.role, w.id);
		/*
		 * Queued before announcing (a waker that sees the counter
		 * finds us), and both under the queue's lock, which the wake
		 * function holds when it drops the announcement.
		 */
		spin_lock_irqsave(&wq->lock, flags);
		__add_wait_queue(wq, &w.wq);
		bb_announce(r, w.role, w.id, w.seq, &an);
		spin_unlock_irqrestore(&wq->lock, flags);
		bb_barrier_movers(r);
		ret = bb_wait_announced(&w, &an, deadline);
		__set_current_state(TASK_RUNNING);
		remove_wait_queue(wq, &w.wq);
		bb_unannounce(&an);
	} while (ret == -EAGAIN);
	atomic_dec(&r->sleepers);
	if (!ret && limit)
		bb_ready(r, w.role, w.id, seq, limit);
	return ret;
}

void bb_wake(struct bb_ring *r, u32 what)
{
	atomic64_inc(&r->wakeups);
	if (what & BB_WAKE_CONSUMERS)
		wake_up_interruptible_poll(&r->consumer_wq,
					   EPOLLIN | EPOLLRDNORM);
	if (what & BB_WAKE_PRODUCERS)
		wake_up_interruptible_poll(&r->producer_wq,
					   EPOLLOUT | EPOLLWRNORM);
	if (what & BB_WAKE_DEPENDENTS)
		wake_up_interruptible_poll(&r->dependent_wq,
					   EPOLLIN | EPOLLRDNORM);
}

/*
 * After a consumer attached: producers whose gating moved to it re-check.
 * Not a WAKE call or a publish, so not counted in the ring's wakeups.
 */
void bb_wake_producers(struct bb_ring *r)
{
	wake_up_interruptible_poll(&r->producer_wq, EPOLLOUT | EPOLLWRNORM);
}

/* Everyone re-evaluates: after a halt or a change of the graph. */
void bb_wake_all(struct bb_ring *r)
{
	wake_up_interruptible_poll(&r->consumer_wq, BB_KEY_ALL);
	wake_up_interruptible_poll(&r->producer_wq, BB_KEY_ALL);
	wake_up_interruptible_poll(&r->dependent_wq, BB_KEY_ALL);
}

static __poll_t bb_poll_mask(struct bb_ring *r, struct bb_file *bf)
{
	__poll_t mask = READ_ONCE(r->halted) ? EPOLLHUP : 0;
	u64 seq;

	if (bf->role == BB_ROLE_CONSUMER) {
		seq = READ_ONCE(*bb_consumer_seq(&r->view, bf->consumer_id));
		if (bb_ready(r, bf->role, bf->consumer_id, seq, NULL))
			mask |= EPOLLIN | EPOLLRDNORM;
	} else if (bf->role == BB_ROLE_PRODUCER && !READ_ONCE(r->halted)) {
		seq = READ_ONCE(r->view.prod->claim);
		if (bb_ready(r, bf->role, 0, seq, NULL))
			mask |= EPOLLOUT | EPOLLWRNORM;
	}
	return mask;
}

/*
 * poll/epoll: a participant that is not ready stays announced (armed)
 * until a poll finds it ready or its fd is released, so publishers keep
 * waking it without it ever blocking in BB_IOC_WAIT.
 */
__poll_t bb_poll(struct file *file, struct poll_table_struct *pt)
{
	struct bb_file *bf = file->private_data;
	struct bb_ring *r = bb_file_ring(bf);
	__poll_t mask;
	u32 topo, role;

	if (!r)
		return EPOLLERR;
	role = bb_file_role(bf);
	if (role == BB_ROLE_CONSUMER) {
		poll_wait(file, &r->consumer_wq, pt);
		poll_wait(file, &r->dependent_wq, pt);
	} else if (role == BB_ROLE_PRODUCER) {
		poll_wait(file, &r->producer_wq, pt);
	} else {
		return READ_ONCE(r->halted) ? EPOLLHUP : 0;
	}

	mask = bb_poll_mask(r, bf);
	spin_lock(&bf->poll_lock);
	if (bf->poll_announce.nr &&
	    (mask || READ_ONCE(r->hdr->topo_seq) != bf->poll_announce.topo_seq))
		bb_unannounce(&bf->poll_announce);
	if (!mask && !bf->poll_announce.nr) {
		/* Pairs with the smp_wmb()s in bb_topology_begin/end(). */
		topo = smp_load_acquire(&r->hdr->topo_seq);
		bf->poll_announce.topo_seq = topo;
		/*
		 * Armed across the consumer's own moves: on every
		 * dependency, not only those blocking its sequence now.
		 */
		bb_announce(r, bf->role, bf->consumer_id, U64_MAX,
			    &bf->poll_announce);
		/* poll_lock leaves interrupts on: the IPIs can be waited for. */
		bb_barrier_movers(r);
		/* Re-check after the barriers. */
		mask = bb_poll_mask(r, bf);
		if (mask)
			bb_unannounce(&bf->poll_announce);
	}
	spin_unlock(&bf->poll_lock);
	return mask;
}

void bb_poll_disarm(struct bb_file *bf)
{
	spin_lock(&bf->poll_lock);
	bb_unannounce(&bf->poll_announce);
	spin_unlock(&bf->poll_lock);
}
