/* SPDX-License-Identifier: GPL-2.0 */
/*
 * badbatch internals shared by the module's files: the ring, the per-fd
 * state, and the functions each file exports to the others.
 */
#ifndef _BB_INTERNAL_H
#define _BB_INTERNAL_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/badbatch.h>
#include <badbatch/protocol.h>

/* Where each mapping region sits: in the mmap offset space and in memory. */
enum bb_region_kind {
	BB_REGION_HEADER,
	BB_REGION_PRODUCER,
	BB_REGION_CONSUMERS,
	BB_REGION_SELF,
	BB_REGION_SLOTS,
	BB_REGION_POOLS,
	BB_NR_REGIONS,
};

struct bb_region {
	unsigned long pgoff;	/* in the mmap offset space */
	unsigned long pages;
	unsigned long mem_pgoff; /* in the ring's memory (SELF: consumers) */
};

/* Ring geometry and layout, derived from validated creation arguments. */
struct bb_layout {
	u32 flags;
	u32 slot_count;
	u32 slot_size;
	u32 shift;
	u32 max_consumers;
	u32 wait_strategy;
	unsigned long nr_pages;	/* memory pages backing the ring */
	struct bb_region region[BB_NR_REGIONS];
};

struct bb_account;

struct bb_ring {
	struct kref ref;		/* one per bound fd */
	struct mutex lock;		/* attach, detach, halt */
	struct list_head node;		/* bb_rings, under bb_rings_lock */
	u64 id;
	char name[BB_NAME_MAX];
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
	struct bb_account *acct;

	struct bb_layout layout;
	struct page **pages;
	void *base;			/* vmap of pages */
	struct bb_ring_header *hdr;	/* kernel-written, read-only to users */
	struct bb_view view;
	struct bb_pool_entry *pools;	/* BB_MAX_POOLS, writable by consumers */
	struct bb_claim_record *records; /* multi-producer: BB_MAX_RECORDS */

	/* Kernel truth, under lock: the header mirrors it for users. */
	u32 nr_producers;
	u64 active;			/* consumer ids attached */
	u64 deps[BB_MAX_CONSUMERS];
	u32 pool_members[BB_MAX_POOLS];	/* the pools page only mirrors it */
	u64 pool_deps[BB_MAX_POOLS];	/* deps every member of a pool has */
	u64 pool_lost[BB_MAX_POOLS];	/* the pools page only mirrors it */
	u64 records_used;		/* claim records handed out */
	struct list_head intents;	/* dead producers' intents in doubt */
	bool kclaimed;			/* a claim through the kernel was made */
	bool halted;
	bool sleeper_barrier;		/* BB_FEAT_SLEEPER_BARRIER, fixed */
	struct bb_fail fail;		/* the first BB_IOC_FAIL; error 0: none */
	u32 fail_by;

	wait_queue_head_t consumer_wq;	/* consumers waiting for the cursor */
	wait_queue_head_t producer_wq;	/* producers waiting for room */
	wait_queue_head_t dependent_wq;	/* consumers waiting for consumers */

	atomic_t sleepers;
	atomic64_t wakeups;
	atomic64_t sleeps;
	atomic64_t abandoned;		/* slots of dead producers */
};

/*
 * What a sleeper (a blocked wait or an armed poll) announced in the
 * header, so that the same counters are dropped when it stops waiting.
 */
struct bb_announce {
	u32 *counters[BB_MAX_CONSUMERS];
	u8 dep[BB_MAX_CONSUMERS];	/* counters[i] is consumer dep[i]'s */
	unsigned int nr;
	u32 topo_seq;
};

/* Kernel-mediated claims of one multi-producer fd, not yet published. */
#define BB_KCLAIMS_MAX	16

struct bb_kclaim {
	u64 lo;
	u64 end;
};

struct bb_kclaims {
	unsigned int nr;
	struct bb_kclaim r[BB_KCLAIMS_MAX];
};

/* Per open file of /dev/badbatch. */
struct bb_file {
	struct mutex lock;		/* binding; kernel-mediated I/O */
	struct bb_ring *ring;		/* set once, under lock */
	u32 role;
	u32 consumer_id;
	bool pooled;			/* a member of work pool "pool" */
	u32 pool;
	struct bb_producer_cache pc;	/* kernel-mediated claims */
	struct bb_kclaims kclaims;	/* under lock; multi-producer only */
	u32 record_id;			/* claim record, or BB_ID_ANY */
	spinlock_t poll_lock;		/* poll_announce */
	struct bb_announce poll_announce;
};

/* bb_main.c */
extern const struct file_operations bb_fops;
struct bb_ring *bb_file_ring(struct bb_file *bf);
u32 bb_file_role(struct bb_file *bf);

/* bb_limits.c: module parameters and per-user memory accounting */
int bb_account_charge(kuid_t uid, size_t bytes, struct bb_account **acct);
void bb_account_uncharge(struct bb_account *acct, size_t bytes);
u64 bb_rings_alive(void);

/* bb_ring.c: creation arguments, layout, memory, lifetime */
int bb_create_validate(const struct bb_create *c);
int bb_name_validate(const char *name);
void bb_layout_compute(const struct bb_create *c, struct bb_layout *l);
size_t bb_layout_bytes(const struct bb_layout *l);
int bb_ring_create(const struct bb_create *c, struct bb_ring **ringp);
void bb_ring_destroy(struct bb_ring *r);

/* bb_names.c: the table of live rings, by name and in total */
int bb_names_insert(struct bb_ring *r);
struct bb_ring *bb_names_lookup(const char *name);
void bb_ring_put(struct bb_ring *r);

/* bb_topology.c: consumer graph, gating mask, header mirror */
u64 bb_topology_gating(u64 active, const u64 *deps, unsigned int max);
void bb_topology_forget(u64 *active, u64 *deps, unsigned int max,
			unsigned int id);
void bb_topology_begin(struct bb_ring *r);
void bb_topology_end(struct bb_ring *r);

/* bb_attach.c: attach and detach of participants */
int bb_attach_validate(const struct bb_attach *a);
int bb_attach(struct bb_file *bf, struct bb_ring *self,
	      struct bb_attach *a);
void bb_detach(struct bb_file *bf);
int bb_permission(const struct bb_ring *r, u32 role);

/* bb_pools.c: work pool membership, mirrored in the pools page */
int bb_pool_check(const struct bb_ring *r, u32 pool, u64 deps);
void bb_pool_join(struct bb_ring *r, u32 pool, u64 start, u64 deps);
u64 bb_pool_unfinished(const struct bb_consumer_page *page, u64 size);
void bb_pool_leave(struct bb_ring *r, u32 pool, u64 lost);
u64 bb_pools_lost(const struct bb_ring *r);

/* bb_halt.c: halting a ring, with or without a failure record */
int bb_fail_validate(const struct bb_fail *f);
int bb_ring_halt(struct bb_ring *r, const struct bb_fail *f, u32 by);

/* bb_mmap.c */
int bb_mmap(struct file *file, struct vm_area_struct *vma);

/* bb_wait.c: sleeping, waking, poll */
bool bb_sleeper_barrier_default(void);
int bb_wait(struct bb_file *bf, u64 seq, const ktime_t *deadline,
	    u64 *limit);
void bb_wake(struct bb_ring *r, u32 what);
void bb_wake_producers(struct bb_ring *r);
void bb_wake_all(struct bb_ring *r);
__poll_t bb_poll(struct file *file, struct poll_table_struct *pt);
void bb_poll_disarm(struct bb_file *bf);
bool bb_ready(struct bb_ring *r, u32 role, u32 id, u64 seq, u64 *limit);

/* bb_io.c: kernel-mediated claim/publish, read(), write() */
int bb_kclaim(struct bb_file *bf, u32 count, bool nonblock,
	      const ktime_t *deadline, u64 *seq);
int bb_kclaim_held(struct bb_file *bf, u32 count, bool nonblock,
		   const ktime_t *deadline, u64 *seq);
int bb_kpublish(struct bb_file *bf, u64 seq, u32 count);
void bb_unclaim(struct bb_file *bf, u64 lo, u32 done, u32 n);
/* bb_claims.c: a producer fd's outstanding kernel-mediated claims */
bool bb_kclaims_full(const struct bb_kclaims *k);
bool bb_kclaims_make_room(const struct bb_view *v, struct bb_kclaims *k);
void bb_kclaims_add(struct bb_kclaims *k, u64 lo, u32 n, u32 size);
int bb_kclaims_take(struct bb_kclaims *k, u64 lo, u64 end);
u64 bb_kclaims_abandon(const struct bb_view *v, struct bb_kclaims *k);
u64 bb_abandon_unpublished(const struct bb_view *v, u64 lo, u64 end);

/* bb_pclaims.c: claim records of the producers' fast path */
size_t bb_records_off(u32 flags, u32 slot_count);
int bb_prec_validate(const struct bb_claim_record *c, u64 frontier, u32 size);
u64 bb_prec_abandon_range(const struct bb_view *v, u64 frontier, u64 lo,
			  u64 end);
u64 bb_prec_abandon(const struct bb_view *v, const struct bb_claim_record *c,
		    u64 frontier);
bool bb_prec_intent_won(const struct bb_view *v,
			const struct bb_claim_record *records, u64 used,
			u32 skip, u64 lo, u32 n);
bool bb_prec_intent_settled(const struct bb_view *v,
			    const struct bb_claim_record *records, u64 used,
			    u32 skip, u64 lo);
int bb_prec_attach(struct bb_ring *r, u32 *id);
void bb_prec_release(struct bb_file *bf);
bool bb_prec_ready(void);
int bb_prec_init(void);
void bb_prec_exit(void);

ssize_t bb_read(struct file *file, char __user *buf, size_t len,
		loff_t *ppos);
ssize_t bb_write(struct file *file, const char __user *buf, size_t len,
		 loff_t *ppos);

/* bb_ioctl.c */
long bb_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

#endif /* _BB_INTERNAL_H */
