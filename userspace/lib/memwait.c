// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Sleeping on memory rings, which have no driver to keep wait queues: the
 * same need-wakeup counters as /dev/badbatch rings, and a futex word per
 * kind of sleeper (consumers, producers, dependents) that wakers bump. A
 * sleeper announces itself, reads its word, has every mover's CPU fence
 * (membarrier(2), as the kernel's bb_barrier_movers() does with IPIs),
 * re-checks, and only then waits for the word to change.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "memring.h"

/*
 * Movers have only a compiler barrier before they read the counters. A
 * sleeper that cannot have their CPUs fence (no membarrier somewhere)
 * looks again this often, so a wake lost to that costs at most this.
 */
#define BB_MEM_RECHECK_NS	1000000ULL

/* The process that registered, per kind of barrier: 0 for none yet. */
static pid_t bb_registered[2];

static long bb_membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

/*
 * Shared rings fence every process that registered (GLOBAL_EXPEDITED),
 * private ones only this process's threads. A child of fork() registers
 * again: the pid tells.
 */
int bb_mem_barrier_register(bool shared)
{
	pid_t pid = getpid();
	pid_t *done = &bb_registered[shared];
	int cmd = shared ? MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED :
			   MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;

	if (__atomic_load_n(done, __ATOMIC_ACQUIRE) == pid)
		return 0;
	if (bb_membarrier(cmd) < 0)
		return -errno;
	__atomic_store_n(done, pid, __ATOMIC_RELEASE);
	return 0;
}

static bool bb_mem_fence_movers(const struct bb_memring *m)
{
	if (!__atomic_load_n(&m->sh->barrier, __ATOMIC_ACQUIRE))
		return false;
	return bb_membarrier(m->shared ? MEMBARRIER_CMD_GLOBAL_EXPEDITED :
			     MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0;
}

static int bb_futex_op(const struct bb_memring *m, int op)
{
	return m->shared ? op : op | FUTEX_PRIVATE_FLAG;
}

/* May p use seq now? The kernel's bb_ready(), over the library's view. */
static bool bb_mem_ready(const struct bb_part *p, __u64 seq)
{
	const struct bb_view *v = &p->view;

	if (p->role == BB_ROLE_PRODUCER)
		return seq < bb_gating_min(v, seq) + v->size;
	return bb_consumer_limit(v, p->id, seq, 1) > seq;
}

/*
 * The need-wakeup counters a wait raises, as the kernel's bb_announce():
 * producers' and cursor consumers' in the header, a dependent's in the
 * entry of each consumer it follows. Returns the count; *cls is the
 * futex word's index.
 */
static unsigned int bb_mem_counters(struct bb_memring *m,
				    const struct bb_part *p, __u32 **ctr,
				    unsigned int *cls)
{
	struct bb_ring_header *h = m->hdr;
	unsigned int nr = 0, i;
	__u64 deps;

	if (p->role == BB_ROLE_PRODUCER) {
		*cls = bb_ctz64(BB_WAKE_PRODUCERS);
		ctr[nr++] = &h->producer_waiters;
		return nr;
	}
	deps = bb_load_acquire(&h->consumers[p->id].deps);
	if (!deps) {
		*cls = bb_ctz64(BB_WAKE_CONSUMERS);
		ctr[nr++] = &h->consumer_waiters;
		return nr;
	}
	*cls = bb_ctz64(BB_WAKE_DEPENDENTS);
	for (; deps; deps &= deps - 1) {
		i = bb_ctz64(deps);
		if (i >= h->max_consumers)
			break;
		ctr[nr++] = &h->consumers[i].waiters;
	}
	return nr;
}

/* Wait for *word to leave val, until deadline (0: none). */
static int bb_futex_wait(const struct bb_memring *m, __u32 *word, __u32 val,
			 __u64 deadline, bool fenced)
{
	__u64 until = deadline, recheck;
	struct timespec ts, *tp = NULL;

	if (!fenced) {
		recheck = bb_deadline(bb_now_ns(), BB_MEM_RECHECK_NS);
		if (!until || recheck < until)
			until = recheck;
	}
	if (until) {
		ts.tv_sec = (time_t)(until / 1000000000ULL);
		ts.tv_nsec = (long)(until % 1000000000ULL);
		tp = &ts;
	}
	/* An absolute CLOCK_MONOTONIC timeout, as bb_now_ns() reads. */
	if (!syscall(SYS_futex, word, bb_futex_op(m, FUTEX_WAIT_BITSET), val,
		     tp, NULL, FUTEX_BITSET_MATCH_ANY))
		return 0;
	/*
	 * A wake before we slept, or the deadline: the caller polls again,
	 * then bb_backoff() finds the deadline passed.
	 */
	if (errno == EAGAIN || errno == ETIMEDOUT)
		return 0;
	return -errno;
}

/*
 * Did the consumer graph change since topo was read (or was it changing)?
 * Then the counters announced may be the wrong ones: announce anew. The
 * acquire of the futex word before this orders it after a change whose
 * wake the sleeper would otherwise miss.
 */
static bool bb_mem_graph_moved(const struct bb_memring *m, __u32 topo)
{
	return (topo & 1) || bb_load_acquire(&m->hdr->topo_seq) != topo;
}

/*
 * One sleep of a memory ring's participant waiting for seq, until a wake,
 * the deadline (0: none), a signal or a halt; 0 when the caller should
 * poll again.
 */
int bb_mem_wait(const struct bb_part *p, __u64 seq, __u64 deadline)
{
	struct bb_memring *m = p->mem;
	struct bb_mem_shared *sh = m->sh;
	__u32 *ctr[BB_MAX_CONSUMERS + 1], epoch;
	__u32 topo = bb_load_acquire(&m->hdr->topo_seq);
	unsigned int nr, i, cls;
	bool fenced;
	int rc = 0;

	nr = bb_mem_counters(m, p, ctr, &cls);
	for (i = 0; i < nr; i++)
		__atomic_add_fetch(ctr[i], 1, __ATOMIC_SEQ_CST);
	/*
	 * After the announcement: a waker that bumps the word after seeing
	 * it makes the futex wait below return; one that bumped before has
	 * published before, and the re-check sees that.
	 */
	epoch = __atomic_load_n(&sh->wake[cls], __ATOMIC_ACQUIRE);
	/*
	 * Pairs with bb_mover_barrier() in bb_consumers_need_wake() and
	 * bb_consumer_advance(), a compiler barrier on memory rings: our
	 * announcement before our re-check (this fence), and a barrier on
	 * every mover's CPU. Either the mover sees our counter, or the
	 * re-check below sees its move; without membarrier, the timed
	 * re-check of bb_futex_wait() covers the rest.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	fenced = bb_mem_fence_movers(m);
	if (!bb_part_halted(p) && !bb_mem_ready(p, seq) &&
	    !bb_mem_graph_moved(m, topo)) {
		/* Before the futex reads the word: see bb_mem_wake(). */
		__atomic_add_fetch(&sh->asleep[cls], 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&sh->sleeps, 1, __ATOMIC_RELAXED);
		rc = bb_futex_wait(m, &sh->wake[cls], epoch, deadline, fenced);
		__atomic_sub_fetch(&sh->asleep[cls], 1, __ATOMIC_RELAXED);
	}
	for (i = 0; i < nr; i++)
		__atomic_sub_fetch(ctr[i], 1, __ATOMIC_RELEASE);
	return rc;
}

/*
 * Wake the sleepers of each BB_WAKE_* class in bits, after the caller's
 * move (publish, advance, halt, graph change). The bump is ordered after
 * the move and before the load of asleep (a locked instruction): a
 * sleeper not yet in its futex wait then finds the word changed.
 */
void bb_mem_wake(struct bb_memring *m, __u32 bits)
{
	struct bb_mem_shared *sh = m->sh;
	unsigned int k;

	for (; bits; bits &= bits - 1) {
		k = bb_ctz64(bits);
		if (k >= BB_MEM_WAKE_CLASSES)
			break;
		__atomic_add_fetch(&sh->wake[k], 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&sh->asleep[k], __ATOMIC_SEQ_CST))
			continue;
		syscall(SYS_futex, &sh->wake[k], bb_futex_op(m, FUTEX_WAKE),
			INT_MAX, NULL, NULL, 0);
		__atomic_add_fetch(&sh->wakeups, 1, __ATOMIC_RELAXED);
	}
}

void bb_mem_sleep_stats(const struct bb_memring *m, struct badbatch_stats *st)
{
	const struct bb_mem_shared *sh = m->sh;
	unsigned int k;

	st->waiters = 0;
	for (k = 0; k < BB_MEM_WAKE_CLASSES; k++)
		st->waiters += __atomic_load_n(&sh->asleep[k], __ATOMIC_RELAXED);
	st->sleeps = __atomic_load_n(&sh->sleeps, __ATOMIC_RELAXED);
	st->wakeups = __atomic_load_n(&sh->wakeups, __ATOMIC_RELAXED);
}
