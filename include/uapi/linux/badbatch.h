/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * badbatch: Disruptor ring buffers in kernel memory, shared between
 * processes through /dev/badbatch.
 *
 * This header is the whole user/kernel contract: ioctl numbers and their
 * argument structs, the layout of the shared pages and the flags found in
 * them. Every struct uses fixed-size types with explicit padding; every
 * reserved field must be zero. Mapping offsets are returned by
 * BB_IOC_INFO and must never be hard-coded.
 *
 * Sequences are 64-bit event counts that start at 0 and never wrap in
 * practice: the producer cursor is the number of events published, a
 * consumer sequence is the number of events that consumer has finished.
 * Event number s lives in slot (s & (slot_count - 1)).
 */
#ifndef _UAPI_LINUX_BADBATCH_H
#define _UAPI_LINUX_BADBATCH_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define BB_DEVICE_PATH		"/dev/badbatch"
#define BB_MAGIC		0xBADBA7C4U
#define BB_ABI_VERSION		2U

#define BB_NAME_MAX		64	/* including the terminating NUL */
#define BB_MAX_CONSUMERS	64	/* consumer ids fit a __u64 bitmask */
#define BB_MIN_SLOTS		2U
#define BB_MAX_SLOTS		(1U << 24)
#define BB_MAX_SLOT_SIZE	(1U << 20)
#define BB_ID_ANY		0xffffffffU

/* bb_create.flags and bb_ring_header.flags */
#define BB_RING_MULTI_PRODUCER		(1U << 0)
#define BB_RING_MUTABLE_CONSUMERS	(1U << 1)	/* consumers may write slots */
#define BB_RING_FLAGS_ALL		(BB_RING_MULTI_PRODUCER | \
					 BB_RING_MUTABLE_CONSUMERS)

/* Default wait strategy recorded in the ring for the library's use. */
enum bb_wait_strategy {
	BB_WAIT_BUSY_SPIN = 0,
	BB_WAIT_YIELD = 1,
	BB_WAIT_SLEEP = 2,
	BB_WAIT_BLOCK = 3,
	BB_WAIT_TIMEOUT_BLOCK = 4,
	BB_WAIT_BUSY_SPIN_PAUSE = 5,
	BB_WAIT_PHASED_BACKOFF = 6,
	BB_WAIT_STRATEGY_MAX = BB_WAIT_PHASED_BACKOFF
};

enum bb_role {
	BB_ROLE_NONE = 0,	/* unbound, or the creator's handle */
	BB_ROLE_PRODUCER = 1,
	BB_ROLE_CONSUMER = 2,
	BB_ROLE_OBSERVER = 3	/* read-only view, e.g. for monitoring */
};

/* bb_ring_header.status */
#define BB_STATUS_RUNNING	0U
#define BB_STATUS_HALTED	1U

/*
 * BB_IOC_CREATE: create a ring and bind this fd to it (role NONE). The fd
 * keeps the ring alive, can halt it, can be passed to other processes as
 * bb_attach.ring_fd, and can itself attach once with BB_ATTACH_SELF.
 */
struct bb_create {
	__u32 flags;		/* BB_RING_* */
	__u32 slot_count;	/* power of two, BB_MIN_SLOTS..BB_MAX_SLOTS */
	__u32 slot_size;	/* multiple of 8, 8..BB_MAX_SLOT_SIZE */
	__u32 max_consumers;	/* 1..BB_MAX_CONSUMERS; 0 means 16 */
	__u32 wait_strategy;	/* enum bb_wait_strategy */
	__u32 mode;		/* 0..0777 permission bits for attach; 0 = 0600 */
	char name[BB_NAME_MAX];	/* [A-Za-z0-9._-], NUL-terminated; "" = unnamed */
	__u64 ring_id;		/* out: unique id of the new ring */
	__u64 reserved[4];
};

/* bb_attach.flags: where the ring comes from (exactly one). */
#define BB_ATTACH_SELF		(1U << 0)	/* the ring this fd created */
#define BB_ATTACH_FD		(1U << 1)	/* the ring ring_fd is bound to */
#define BB_ATTACH_NAME		(1U << 2)	/* the ring called name */
#define BB_ATTACH_FLAGS_ALL	(BB_ATTACH_SELF | BB_ATTACH_FD | BB_ATTACH_NAME)
/* Modifier, with one of the above: the consumer joins work pool "pool". */
#define BB_ATTACH_POOL		(1U << 3)

#define BB_MAX_POOLS		64	/* work pool ids per ring */

/*
 * BB_IOC_ATTACH: bind this fd to a ring as a participant. A consumer
 * depends on the producers' cursor when deps is 0, otherwise on every
 * consumer whose id bit is set in deps (pipelines, diamonds, any DAG).
 */
struct bb_attach {
	__u32 role;		/* enum bb_role, not NONE */
	__u32 flags;		/* BB_ATTACH_* */
	__s32 ring_fd;		/* for BB_ATTACH_FD, else -1 */
	__u32 consumer_id;	/* in: BB_ID_ANY or a wanted id; out: given id */
	__u64 deps;		/* consumer ids this consumer follows */
	char name[BB_NAME_MAX];	/* for BB_ATTACH_NAME */
	__u32 pool;		/* for BB_ATTACH_POOL: 0..BB_MAX_POOLS-1 */
	__u32 reserved32;
	__u64 reserved[1];
};

/* BB_IOC_INFO: geometry, role and the mmap offsets of every region. */
struct bb_info {
	__u64 ring_id;
	__u32 flags;
	__u32 slot_count;
	__u32 slot_size;
	__u32 max_consumers;
	__u32 wait_strategy;
	__u32 role;
	__u32 consumer_id;	/* BB_ID_ANY unless a consumer */
	__u32 page_size;
	__u64 header_off;	/* struct bb_ring_header, read-only */
	__u64 header_len;
	__u64 producer_off;	/* struct bb_producer_page + availability */
	__u64 producer_len;
	__u64 avail_off;	/* byte offset of __u32 avail[] in that region */
	__u64 consumers_off;	/* every consumer page, read-only */
	__u64 consumers_len;
	__u64 consumer_stride;	/* bytes between consumer pages */
	__u64 self_off;		/* this consumer's own page, writable */
	__u64 self_len;
	__u64 slots_off;	/* slot_count * slot_size bytes */
	__u64 slots_len;
	__u64 pools_off;	/* struct bb_pool_entry[BB_MAX_POOLS]: */
	__u64 pools_len;	/* consumers only, writable; else 0 */
	/*
	 * Multi-producer producers: byte offset, in the producer region, of
	 * struct bb_claim_record[BB_MAX_RECORDS], and the index of this
	 * producer's own record in it. 0 and BB_ID_ANY otherwise (and from
	 * a module without claim records).
	 */
	__u64 records_off;
	__u32 record_id;
	__u32 features;		/* BB_FEAT_*: what this module does */
};

/*
 * bb_info.features. SLEEPER_BARRIER: after a sleeper raises its
 * need-wakeup counters (BB_IOC_WAIT, poll) and before it re-checks, the
 * kernel makes every CPU execute a full barrier. A mover (publish,
 * consumer advance) then needs only a compiler barrier between its
 * store and its load of the counters: either that load runs after the
 * sleeper's barrier and sees the counter, or the mover's store was
 * drained by it and the sleeper's re-check sees the store.
 */
#define BB_FEAT_SLEEPER_BARRIER	(1U << 0)
/*
 * RECORD_WON: producers may set BB_RECORD_KEPT in their claim record
 * (older modules reject it as garbage). When a producer dies between
 * winning its CAS and recording the claim, the kernel may then find out
 * from the other records, all kept, that its CAS won, and release the
 * claim instead of failing the ring; the conditions are in docs/abi.md,
 * "Claim records".
 */
#define BB_FEAT_RECORD_WON	(1U << 1)

/* bb_wait.flags */
#define BB_WAITF_DEADLINE	(1U << 0)	/* deadline_ns is valid */
#define BB_WAITF_ALL		BB_WAITF_DEADLINE

/*
 * BB_IOC_WAIT: sleep until sequence seq is usable by this participant: for
 * a consumer, readable (published and passed by every dependency); for a
 * producer, writable (every gating consumer has passed seq - slot_count).
 * deadline_ns is absolute CLOCK_MONOTONIC, so a restarted wait keeps it.
 * Returns 0 and limit (the first unusable sequence), or -ETIMEDOUT,
 * -EINTR/-ERESTARTSYS on a signal, -ESHUTDOWN once the ring is halted.
 */
struct bb_wait {
	__u64 seq;
	__u64 deadline_ns;
	__u32 flags;		/* BB_WAITF_* */
	__u32 reserved;
	__u64 limit;		/* out */
};

/* BB_IOC_WAKE argument: which sleepers to consider (a bitmask). */
#define BB_WAKE_CONSUMERS	(1U << 0)	/* after publishing */
#define BB_WAKE_PRODUCERS	(1U << 1)	/* after a gating consumer moved */
#define BB_WAKE_DEPENDENTS	(1U << 2)	/* after any consumer moved */
#define BB_WAKE_ALL		(BB_WAKE_CONSUMERS | BB_WAKE_PRODUCERS | \
				 BB_WAKE_DEPENDENTS)

/* bb_claim.flags */
#define BB_CLAIMF_NONBLOCK	(1U << 0)	/* -EAGAIN instead of waiting */
#define BB_CLAIMF_DEADLINE	(1U << 1)	/* deadline_ns is valid */
#define BB_CLAIMF_ALL		(BB_CLAIMF_NONBLOCK | BB_CLAIMF_DEADLINE)

/*
 * BB_IOC_CLAIM: the kernel claims count slots (waiting for capacity unless
 * NONBLOCK) and returns the first sequence. The caller fills the slots
 * through its mapping and hands them back with BB_IOC_PUBLISH.
 */
struct bb_claim {
	__u32 count;		/* 1..slot_count */
	__u32 flags;		/* BB_CLAIMF_* */
	__u64 deadline_ns;	/* absolute CLOCK_MONOTONIC */
	__u64 seq;		/* out */
};

/* BB_IOC_PUBLISH: publish [seq, seq + count) claimed by this producer. */
struct bb_publish {
	__u64 seq;
	__u32 count;
	__u32 reserved;
};

/* BB_IOC_STATS: what the kernel counted for this ring. */
struct bb_stats {
	__u64 ring_id;
	__u64 cursor;		/* producers' claim frontier, as last seen */
	__u64 gating_mask;
	__u32 nr_producers;
	__u32 nr_consumers;
	__u32 status;
	__u32 waiters;		/* tasks asleep on this ring now */
	__u64 wakeups;		/* BB_IOC_WAKE calls and kernel publishes */
	__u64 sleeps;		/* times a waiter went to sleep */
	__u64 bytes;		/* memory held by the ring */
	__u64 rings;		/* rings alive in the whole module */
	__u64 abandoned;	/* slots dead producers left, flagged */
	__u64 fail_seq;		/* the failure recorded by BB_IOC_FAIL */
	__s32 fail_error;	/* 0: none */
	__u32 fail_by;		/* consumer id, or BB_ID_ANY */
	__u64 pool_lost;	/* events pool workers took to their end */
};

/*
 * BB_IOC_FAIL: halt the ring as BB_IOC_HALT does, recording why: the
 * caller's consumer id (BB_ID_ANY for producers and the creator's
 * handle), the event it failed on and a positive errno. Only the first
 * failure is kept; on a ring already halted it fails with -ESHUTDOWN.
 */
struct bb_fail {
	__u64 seq;
	__s32 error;		/* 1..4095 */
	__u32 reserved;
};

#define BB_IOC_MAGIC	0xBB
#define BB_IOC_CREATE	_IOWR(BB_IOC_MAGIC, 0x01, struct bb_create)
#define BB_IOC_ATTACH	_IOWR(BB_IOC_MAGIC, 0x02, struct bb_attach)
#define BB_IOC_INFO	_IOR(BB_IOC_MAGIC, 0x03, struct bb_info)
#define BB_IOC_WAIT	_IOWR(BB_IOC_MAGIC, 0x04, struct bb_wait)
#define BB_IOC_WAKE	_IO(BB_IOC_MAGIC, 0x05)
#define BB_IOC_CLAIM	_IOWR(BB_IOC_MAGIC, 0x06, struct bb_claim)
#define BB_IOC_PUBLISH	_IOW(BB_IOC_MAGIC, 0x07, struct bb_publish)
#define BB_IOC_HALT	_IO(BB_IOC_MAGIC, 0x08)
#define BB_IOC_STATS	_IOR(BB_IOC_MAGIC, 0x09, struct bb_stats)
#define BB_IOC_FAIL	_IOW(BB_IOC_MAGIC, 0x0a, struct bb_fail)

/*
 * Shared pages. Everything below is written either by the kernel only
 * (the header, mapped read-only) or by one role only (producer page,
 * each consumer's page), and the kernel never trusts the latter.
 */

#define BB_CACHELINE	64

/* Per-consumer topology entry in the header (kernel-written). */
#define BB_CONSUMER_ACTIVE	(1U << 0)
#define BB_CONSUMER_GATING	(1U << 1)	/* producers wait for it */

struct bb_consumer_entry {
	__u64 deps;		/* 0: follows the cursor */
	__u32 flags;		/* BB_CONSUMER_* */
	__u32 waiters;		/* dependents asleep waiting for this one */
};

struct bb_ring_header {
	/* Geometry: written once at creation. */
	__u32 magic;
	__u32 version;
	__u32 flags;
	__u32 slot_count;
	__u32 slot_size;
	__u32 slot_shift;	/* log2(slot_count) */
	__u32 max_consumers;
	__u32 wait_strategy;
	__u64 ring_id;
	__u8 pad0[BB_CACHELINE - 40];

	/* Lifecycle: changes rarely. */
	__u32 status;		/* BB_STATUS_* */
	__u32 nr_producers;
	__u32 nr_consumers;
	/*
	 * Topology seqlock: odd while gating_mask or a consumer entry
	 * changes. Readers retry when it moved or is odd.
	 */
	__u32 topo_seq;
	__u64 gating_mask;	/* consumers producers gate on */
	/*
	 * Why the ring halted (BB_IOC_FAIL): written before status becomes
	 * HALTED with release ordering; read after an acquire of status.
	 */
	__u64 fail_seq;
	__s32 fail_error;	/* positive errno; 0: halted without one */
	__u32 fail_by;		/* consumer id, or BB_ID_ANY */
	__u8 pad1[BB_CACHELINE - 40];

	/*
	 * Need-wakeup announcements: the count of tasks asleep (or about to
	 * sleep) in the kernel. Publishers read them after a full barrier
	 * and enter the kernel only when non-zero.
	 */
	__u32 consumer_waiters;	/* consumers waiting for the cursor */
	__u32 producer_waiters;	/* producers waiting for capacity */
	__u8 pad2[BB_CACHELINE - 8];

	struct bb_consumer_entry consumers[BB_MAX_CONSUMERS];
};

/*
 * The producers' page, followed (multi-producer) by avail[slot_count].
 * cursor and claim do not start the page: with the cursor at offset 0
 * (ABI 1) the native benchmarks ran 1.3-2.8x slower (bench/FINDINGS.md),
 * and they stay clear of the header's status (64) and need-wakeup
 * counters (128), which a producer loads right after storing them.
 */
struct bb_producer_page {
	__u8 lead[3 * BB_CACHELINE];
	__u64 cursor;		/* single producer: events published */
	__u8 pad0[BB_CACHELINE - 8];
	__u64 claim;		/* events claimed (the claim frontier) */
	__u8 pad1[BB_CACHELINE - 8];
};

/*
 * Multi-producer availability word of a slot: the round of the event last
 * published there, plus one (so zero means never), in the low 31 bits;
 * BB_AVAIL_ABANDONED marks an event whose producer died before filling it.
 */
#define BB_AVAIL_ROUND_MASK	0x7fffffffU
#define BB_AVAIL_ABANDONED	0x80000000U

/*
 * Claim records (multi-producer rings): one per attached producer, in the
 * producer region after avail[] (BB_IOC_INFO records_off, record_id). A
 * producer claiming through its mapping keeps its own record current so
 * that the kernel can abandon what it claimed and never published when
 * its fd is released (death or close):
 *
 *  - with BB_FEAT_RECORD_WON, before its first claim: flags =
 *    BB_RECORD_KEPT (it keeps its record as below; kept from then on);
 *  - before each compare-and-swap of claim from frontier f for n events:
 *    intent_lo = f, then intent_n = n as a release;
 *  - after winning: a free entry r[i] = {f, f + n}, nr covering it, then
 *    intent_n = 0 as a release; after losing for good: the same;
 *  - after publishing (avail[] stored first), the published part leaves
 *    its entry with release stores (shrunk, split or emptied);
 *  - with more outstanding claims than entries: BB_RECORD_OVERFLOW.
 *
 * The kernel zeroes a record when a producer attaches and reads it, as
 * untrusted data, only when that producer's fd is released, and, to tell
 * (then and for up to a second after) whether another, dead producer's
 * in-flight intent won its CAS, the intents,
 * flags and entries of every other record (an intent from f, or an entry
 * starting at f, says that its producer may have won or won the CAS from
 * f). A record it cannot make sense of fails the ring with fail_error
 * EOWNERDEAD (see docs/abi.md).
 */
#define BB_MAX_RECORDS		64	/* multi-producer producers per ring */
#define BB_RECORD_RANGES	14
#define BB_RECORD_OVERFLOW	(1U << 0)	/* bb_claim_record.flags */
#define BB_RECORD_KEPT		(1U << 1)	/* its producer keeps it */

struct bb_claim_range {
	__u64 lo;		/* first event claimed, not yet published */
	__u64 end;		/* one past the last */
};

struct bb_claim_record {
	__u64 intent_lo;	/* frontier read before the CAS */
	__u32 intent_n;		/* events asked for; 0: no CAS in flight */
	__u32 nr;		/* entries of r[] in use */
	__u32 flags;		/* BB_RECORD_* */
	__u32 pad;
	struct bb_claim_range r[BB_RECORD_RANGES];
	__u64 reserved[1];
};

/*
 * Work pools: one page of entries, mapped writable by every consumer of
 * the ring (BB_IOC_INFO pools_off/pools_len). Workers of pool p claim
 * events by compare-and-swap on entry p's next. The kernel sets next
 * (and clears halted) when the first member of an empty pool attaches
 * and never reads either: they are the workers' business.
 */
struct bb_pool_entry {
	__u64 next;		/* 1 + the first event no worker claimed */
	__u32 halted;		/* non-zero: the pool's workers stop */
	__u32 members;		/* kernel-written: workers attached now */
	__u64 lost;		/* kernel-written: claimed, never finished */
	__u8 pad0[BB_CACHELINE - 24];
};

/*
 * Each consumer's own page. A pool worker also says which events it
 * holds: it claimed [seq, held) and finished those before done. When
 * its fd goes away (close, exit, SIGKILL) the kernel counts the events
 * from max(seq, done) to held, at most one ring's worth, as lost in its
 * pool's entry and in STATS pool_lost.
 */
struct bb_consumer_page {
	__u64 seq;		/* events this consumer has finished */
	__u64 held;		/* pool workers: end of the claimed run */
	__u64 done;		/* pool workers: first unfinished of that run */
	__u8 pad0[BB_CACHELINE - 24];
};

#endif /* _UAPI_LINUX_BADBATCH_H */
