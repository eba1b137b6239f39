/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The handful of memory-ordering primitives the shared protocol needs,
 * spelled once for the kernel and once for user space so the protocol
 * code in this directory compiles unchanged on both sides.
 */
#ifndef _BADBATCH_ATOMIC_H
#define _BADBATCH_ATOMIC_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/processor.h>
#include <asm/barrier.h>
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/errno.h>

#define bb_ctz64(x)		__ffs64(x)

#define bb_load(p)		READ_ONCE(*(p))
#define bb_store(p, v)		WRITE_ONCE(*(p), (v))
/* Ordering primitives: each use site says what it pairs with. */
#define bb_load_acquire(p)	smp_load_acquire(p)
/* See above: the pairing is documented where it is used. */
#define bb_store_release(p, v)	smp_store_release((p), (v))
/* Strong compare-and-swap; *old is updated on failure like C11. */
#define bb_cas(p, old, new)						\
	({								\
		__typeof__(*(p)) __bb_prev = cmpxchg((p), *(old), (new)); \
		bool __bb_ok = __bb_prev == *(old);			\
		*(old) = __bb_prev;					\
		__bb_ok;						\
	})
/* A full fence; see bb_consumers_need_wake() for its pairing. */
#define bb_full_barrier()	smp_mb()
#define bb_compiler_barrier()	barrier()
#define bb_cpu_relax()		cpu_relax()
#define bb_likely(x)		likely(x)
#define bb_unlikely(x)		unlikely(x)
#else
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define bb_ctz64(x)		((unsigned int)__builtin_ctzll(x))

#define bb_load(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define bb_store(p, v)		__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define bb_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define bb_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define bb_cas(p, old, new)						\
	__atomic_compare_exchange_n((p), (old), (new), false,		\
				    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)
#define bb_full_barrier()	__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define bb_compiler_barrier()	__atomic_signal_fence(__ATOMIC_SEQ_CST)
static inline void bb_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}
#define bb_likely(x)		__builtin_expect(!!(x), 1)
#define bb_unlikely(x)		__builtin_expect(!!(x), 0)
#endif

#endif /* _BADBATCH_ATOMIC_H */
