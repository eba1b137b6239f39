// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Waiting strategies, shared by consumers waiting for events and producers
 * waiting for capacity. The caller polls its condition and, each time it
 * does not hold, calls bb_backoff() for one step of waiting: a pause, a
 * yield, a nap, or a sleep in the kernel (BB_IOC_WAIT; memory rings: on a
 * futex, memwait.c). Every step checks for a halted ring and an expired
 * deadline first.
 *
 * The library's enum badbatch_wait is the kernel's enum bb_wait_strategy
 * plus one (zero is "the ring's default"); past the resolve step only the
 * kernel's values are used.
 */
#include <errno.h>
#include <sched.h>
#include <time.h>

#include "internal.h"

/* How often a spinning waiter reads the clock. */
#define BB_CLOCK_EVERY	64U
/* Where the step count stops: a multiple of BB_CLOCK_EVERY, so a busy
 * spinner still reads the clock once it got there. */
#define BB_ITER_MAX	(UINT32_MAX & ~(BB_CLOCK_EVERY - 1))

/* Waiting for capacity or events with no timeout given by the user. */
#define BB_TIMEOUT_DEFAULT_NS	1000000000ULL

/*
 * BUSY_SPIN polls with nothing between the polls but this: the loads are
 * atomic already, the barrier only keeps the compiler from merging the
 * loop's iterations. No pause hint (that is BUSY_SPIN_PAUSE).
 */
static inline void bb_spin_only(void)
{
	__asm__ __volatile__("" ::: "memory");
}

/* The strategies that may sleep in the kernel (memory rings: a futex). */
static bool bb_wait_enters_kernel(__u32 strategy)
{
	return strategy == BB_WAIT_BLOCK || strategy == BB_WAIT_TIMEOUT_BLOCK ||
	       strategy == BB_WAIT_PHASED_BACKOFF;
}

/* Spinners read the clock only every BB_CLOCK_EVERY steps. */
static bool bb_wait_spins(__u32 strategy)
{
	return strategy == BB_WAIT_BUSY_SPIN ||
	       strategy == BB_WAIT_BUSY_SPIN_PAUSE;
}

int bb_waitcfg_resolve(struct bb_waitcfg *out,
		       const struct badbatch_wait_config *in,
		       __u32 ring_default)
{
	bool inherited = in->strategy == BADBATCH_WAIT_DEFAULT;

	if ((__u32)in->strategy > BB_LIB_WAIT_MAX)
		return -EINVAL;
	if (ring_default > BB_WAIT_STRATEGY_MAX)
		ring_default = BB_WAIT_BLOCK;
	out->strategy = inherited ? ring_default : (__u32)in->strategy - 1;
	out->timeout_ns = in->timeout_ns;
	if (out->strategy == BB_WAIT_TIMEOUT_BLOCK && !out->timeout_ns) {
		/* Asked for by name, it needs its timeout. */
		if (!inherited)
			return -EINVAL;
		out->timeout_ns = BB_TIMEOUT_DEFAULT_NS;
	}
	out->spin = in->spin;
	if (!out->spin)
		out->spin = bb_wait_enters_kernel(out->strategy) ?
			    BB_BLOCK_SPIN_DEFAULT : BB_SPIN_DEFAULT;
	out->yield = in->yield ? in->yield : BB_YIELD_DEFAULT;
	out->sleep_ns = in->sleep_ns ? in->sleep_ns : BB_SLEEP_NS_DEFAULT;
	return 0;
}

static void bb_nap(__u32 ns)
{
	struct timespec ts = {
		.tv_sec = ns / 1000000000U,
		.tv_nsec = ns % 1000000000U,
	};

	nanosleep(&ts, NULL);
}

/* SLEEP's phases: spin, yield, then nap between polls. */
static int bb_sleep_phase(const struct bb_waitcfg *w, __u32 iter)
{
	if (iter < w->spin)
		bb_cpu_relax();
	else if (iter < (__u64)w->spin + w->yield)
		sched_yield();
	else
		bb_nap(w->sleep_ns);
	return 0;
}

/*
 * Sleep until seq is usable, the deadline, or a halt: in the kernel, or
 * on a memory ring's futex.
 */
static int bb_block(const struct bb_part *p, __u64 seq, __u64 deadline)
{
	struct bb_wait w = {
		.seq = seq,
		.deadline_ns = deadline,
		.flags = deadline ? BB_WAITF_DEADLINE : 0,
	};

	if (p->mem)
		return bb_mem_wait(p, seq, deadline);
	return bb_sys_ioctl(p->fd, BB_IOC_WAIT, &w);
}

/*
 * One step of waiting for sequence seq (for a consumer: the event it
 * wants to read; for a producer: the last slot it wants to claim) after
 * the caller found it not usable. Returns 0 when the caller should poll
 * again, -ESHUTDOWN, -ETIMEDOUT or -EINTR when it should give up.
 */
int bb_backoff(const struct bb_part *p, struct bb_backoff *b, __u64 seq)
{
	const struct bb_waitcfg *w = &p->wait;
	__u32 iter = b->iter;

	if (bb_part_halted(p))
		return -ESHUTDOWN;
	if (w->timeout_ns) {
		if (iter == 0) {
			b->deadline = bb_deadline(bb_now_ns(), w->timeout_ns);
		} else if (iter % BB_CLOCK_EVERY == 0 ||
			   (iter >= w->spin && !bb_wait_spins(w->strategy))) {
			if (bb_now_ns() >= b->deadline)
				return -ETIMEDOUT;
		}
	}
	if (iter != BB_ITER_MAX)
		b->iter = iter + 1;

	switch (w->strategy) {
	case BB_WAIT_BUSY_SPIN:
		bb_spin_only();
		return 0;
	case BB_WAIT_BUSY_SPIN_PAUSE:
		bb_cpu_relax();
		return 0;
	case BB_WAIT_YIELD:
		if (iter < w->spin)
			bb_cpu_relax();
		else
			sched_yield();
		return 0;
	case BB_WAIT_BLOCK:
	case BB_WAIT_TIMEOUT_BLOCK:
		if (iter < w->spin) {
			bb_cpu_relax();
			return 0;
		}
		return bb_block(p, seq, b->deadline);
	case BB_WAIT_PHASED_BACKOFF:
		/* Spin, yield, then block as BLOCK. */
		if (iter >= (__u64)w->spin + w->yield)
			return bb_block(p, seq, b->deadline);
		return bb_sleep_phase(w, iter);
	default:	/* BB_WAIT_SLEEP */
		return bb_sleep_phase(w, iter);
	}
}
