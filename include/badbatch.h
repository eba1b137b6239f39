/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libbadbatch: the thin C library over /dev/badbatch.
 *
 * A ring is a Disruptor ring buffer in kernel memory. Processes attach to
 * it as producers or consumers; the library maps the shared pages and runs
 * the hot path (claim, write, publish, wait by polling, read, advance)
 * entirely in shared memory with no system call. It enters the kernel only
 * to set up, to sleep (the blocking strategies) and to wake a sleeper the
 * shared memory says may exist.
 *
 *	struct badbatch *ring;
 *	struct badbatch_producer *p;
 *	uint64_t seq;
 *
 *	badbatch_create(&(struct badbatch_config){ .slot_count = 4096,
 *			.slot_size = 64 }, &ring);
 *	badbatch_producer_attach(ring, NULL, &p);
 *	badbatch_claim(p, 1, &seq);
 *	memcpy(badbatch_slot(p, seq), data, 64);
 *	badbatch_publish(p, seq, 1);
 *
 * Conventions: every function returning int returns 0 (or a count) on
 * success and a negative errno value on failure; nothing sets errno for
 * the caller. Sequences are 64-bit event numbers from 0; event seq lives
 * in slot seq % slot_count. A producer or consumer handle belongs to one
 * thread at a time; distinct handles may be used concurrently. Handles
 * stay valid after the ring handle they were attached through is closed.
 */
#ifndef BADBATCH_H
#define BADBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BADBATCH_API __attribute__((visibility("default")))

struct badbatch;		/* a ring handle */
struct badbatch_producer;	/* a producer attached to a ring */
struct badbatch_consumer;	/* a consumer attached to a ring */

/* Ring flags (struct badbatch_config.flags, struct badbatch_info.flags). */
#define BADBATCH_MULTI_PRODUCER		(1U << 0)
#define BADBATCH_MUTABLE_CONSUMERS	(1U << 1)	/* consumers may write */

#define BADBATCH_MAX_CONSUMERS	64	/* consumer ids are 0..63 */
#define BADBATCH_NAME_MAX	64	/* ring name, including the NUL */

/*
 * How a producer waits for capacity and a consumer (or worker) waits for
 * events. Zero (DEFAULT) takes the ring's default; a ring created with
 * DEFAULT records BLOCK. The same strategies, with the same meaning, serve
 * threads of one process and processes sharing a ring.
 *
 * BUSY_SPIN	poll in a tight loop, lowest latency, burns a CPU.
 * BUSY_SPIN_PAUSE  as BUSY_SPIN with the CPU's pause hint between polls
 *		(kinder to a hyperthread sibling and to the memory bus).
 * YIELD	poll spin times, then sched_yield() between polls.
 * SLEEP	poll spin times, then sched_yield() as often as the
 *		yield field says, then nap sleep_ns between polls.
 * BLOCK	poll spin times, then sleep in the kernel until woken. This is
 *		lite-blocking: publishers and consumers enter the kernel to
 *		wake only when a sleeper announced itself in shared memory
 *		(the NEED_WAKEUP protocol), so under load a publish costs no
 *		system call. LITE_BLOCK names the same strategy.
 * TIMEOUT_BLOCK BLOCK with a mandatory timeout_ns.
 * PHASED_BACKOFF  poll spin times, then sched_yield() yield times, then
 *		block in the kernel as BLOCK does.
 *
 * Every strategy honours timeout_ns (0 = wait forever) with -ETIMEDOUT
 * and returns -ESHUTDOWN once the ring is halted. Memory rings (see the
 * end of this file) have no kernel: BLOCK, TIMEOUT_BLOCK and the last
 * phase of PHASED_BACKOFF act as SLEEP.
 */
enum badbatch_wait {
	BADBATCH_WAIT_DEFAULT = 0,
	BADBATCH_WAIT_BUSY_SPIN,
	BADBATCH_WAIT_YIELD,
	BADBATCH_WAIT_SLEEP,
	BADBATCH_WAIT_BLOCK,
	BADBATCH_WAIT_TIMEOUT_BLOCK,
	BADBATCH_WAIT_BUSY_SPIN_PAUSE,
	BADBATCH_WAIT_PHASED_BACKOFF,
	BADBATCH_WAIT_LITE_BLOCK = BADBATCH_WAIT_BLOCK,
};

/* Ring geometry for badbatch_create() and badbatch_memring_create(). */
struct badbatch_config {
	uint32_t slot_count;	/* power of two, 2..2^24 */
	uint32_t slot_size;	/* bytes, multiple of 8, 8..2^20 */
	uint32_t flags;		/* BADBATCH_MULTI_PRODUCER, ..._MUTABLE_... */
	uint32_t max_consumers;	/* 1..64; 0 means 16 */
	enum badbatch_wait wait; /* default strategy recorded in the ring */
	uint32_t mode;		/* attach permission bits, 0..0777; 0 = 0600 */
	const char *name;	/* [A-Za-z0-9._-]; NULL or "" = unnamed */
};

/* Waiting parameters; all-zero means the ring's strategy and defaults. */
struct badbatch_wait_config {
	enum badbatch_wait strategy;
	uint32_t spin;		/* polls before yielding/napping/blocking */
	uint32_t yield;		/* SLEEP: yields before napping; */
				/* PHASED_BACKOFF: yields before blocking */
	uint32_t sleep_ns;	/* SLEEP: length of one nap */
	uint64_t timeout_ns;	/* per wait; 0 = none (TIMEOUT_BLOCK needs one) */
};

struct badbatch_producer_config {
	struct badbatch_wait_config wait;
};

struct badbatch_consumer_config {
	uint64_t deps;		/* consumer ids followed (bit i = id i); */
				/* 0: follow the producers' cursor */
	bool want_id;		/* ask for the id below, else any */
	uint32_t id;
	uint32_t max_batch;	/* events per batch at most; 0 = slot_count */
	struct badbatch_wait_config wait;
	/*
	 * Coalescing, off when both are 0: while fewer than min_batch
	 * events are readable, a waiting call (badbatch_wait_for(),
	 * badbatch_consume*()) looks again for up to linger_ns before it
	 * hands out what there is. Fewer, larger batches and fewer cache
	 * lines pulled from under a running producer, for up to linger_ns
	 * of added latency per batch, spent polling. Both or neither, with
	 * min_batch >= 2 and no more than a non-zero max_batch, else
	 * -EINVAL; above slot_count it counts as slot_count.
	 */
	uint32_t min_batch;
	uint32_t linger_ns;
	/*
	 * Trailing: after taking all of a batch of BADBATCH_TRAIL_BATCH
	 * events or more (the producer is streaming), a waiting call lets
	 * trail_ns pass before it looks for more. The consumer then reads
	 * lines the producer has finished rather than the ones it is
	 * writing: each of those costs the producer a cache-line transfer,
	 * and a consumer right behind a streaming producer can slow it
	 * several times over. Not when the look found as many events as
	 * the call allowed (max_batch), or the producers were a quarter of
	 * the ring ahead: the consumer is behind, or the producers could
	 * run out of room meanwhile (so rings of 16 slots or fewer never
	 * trail). Events published just after such a batch wait up to
	 * trail_ns longer, at each stage of a pipeline; events that come
	 * alone never do. Never longer than wait.timeout_ns. 0: the
	 * default, BADBATCH_TRAIL_DEFAULT_NS, but none for the busy spins
	 * and for coalescing consumers; BADBATCH_TRAIL_OFF: never; above
	 * BADBATCH_TRAIL_MAX_NS: -EINVAL.
	 */
	uint32_t trail_ns;
};

#define BADBATCH_TRAIL_BATCH		4U
#define BADBATCH_TRAIL_DEFAULT_NS	500U
#define BADBATCH_TRAIL_MAX_NS		100000U
#define BADBATCH_TRAIL_OFF		UINT32_MAX

/* What a ring is (badbatch_get_info()). */
struct badbatch_info {
	uint64_t ring_id;
	uint32_t flags;		/* BADBATCH_MULTI_PRODUCER, ... */
	uint32_t slot_count;
	uint32_t slot_size;
	uint32_t max_consumers;
	enum badbatch_wait wait;
};

/* What the kernel counted for a ring (badbatch_get_stats()). */
struct badbatch_stats {
	uint64_t ring_id;
	uint64_t cursor;	/* the producers' claim frontier */
	uint64_t gating_mask;	/* consumers the producers wait for */
	uint32_t nr_producers;
	uint32_t nr_consumers;
	uint32_t waiters;	/* tasks asleep on the ring now */
	bool halted;
	uint64_t wakeups;	/* wake calls and kernel publishes */
	uint64_t sleeps;	/* times a waiter went to sleep */
	uint64_t bytes;		/* memory held by the ring */
	uint64_t rings;		/* rings alive in the whole module */
	uint64_t abandoned;	/* slots dead producers left, flagged */
	uint64_t pool_lost;	/* badbatch_pool_lost(), over every pool */
};

#define BADBATCH_NO_ID	0xffffffffU	/* failure not from a consumer */

/*
 * Why a ring halted (badbatch_get_failure()): the first failure reported
 * with badbatch_consumer_fail() or badbatch_producer_fail(), which also
 * halted the ring. error is 0 when the ring was halted without one
 * (badbatch_halt() and friends).
 */
struct badbatch_failure {
	int error;		/* positive errno the participant reported */
	uint32_t consumer_id;	/* the failing consumer or worker, or */
				/* BADBATCH_NO_ID (a producer, the creator) */
	uint64_t seq;		/* the event it failed on */
};

/*
 * Consumer callback for badbatch_consume(): event is the slot of event seq
 * (writable only on BADBATCH_MUTABLE_CONSUMERS rings) and end_of_batch is
 * true for the last event handed over in this batch. Return 0 (or any
 * non-negative value) when done with the event; a negative value stops
 * the batch before this event, which stays unconsumed, and is returned by
 * badbatch_consume().
 */
typedef int (*badbatch_handler_fn)(void *ctx, void *event, uint64_t seq,
				   bool end_of_batch);

/*
 * Consumer callback for badbatch_consume_runs(): n readable events, seq to
 * seq + n - 1, lying back to back in memory from first (event seq + i at
 * (char *)first + i * slot_size). end_of_batch is true for the last run
 * of the batch. Return how many of the n it took: n (or more) for all of
 * them; fewer stops the batch there, the rest staying unconsumed; a
 * negative value takes none of the run and is returned by
 * badbatch_consume_runs().
 */
typedef int (*badbatch_run_fn)(void *ctx, void *first, uint64_t seq,
			       uint32_t n, bool end_of_batch);

/* ---- Rings ------------------------------------------------------------ */

/*
 * badbatch_create() - create a ring in the kernel.
 * @cfg: geometry and options; slot_count and slot_size are required.
 * @ringp: receives the ring handle.
 *
 * The handle holds the creator's descriptor: it keeps the ring alive, may
 * halt it, and is inherited by fork() (so children can attach through
 * badbatch_from_fd(badbatch_fd(ring)) or simply by using the handle).
 *
 * Return: 0, or -EINVAL (bad geometry, flags, mode or name), -EEXIST (name
 * taken), -E2BIG, -ENOSPC, -ENOMEM, -ENOENT (no /dev/badbatch: is the
 * module loaded?), -EACCES, or another errno of open(2), ioctl(2), mmap(2).
 * -EPROTO when the module speaks another ABI version.
 */
BADBATCH_API int badbatch_create(const struct badbatch_config *cfg,
				 struct badbatch **ringp);

/*
 * badbatch_open() - find a named ring.
 * @name: the ring's name.
 * @ringp: receives the ring handle.
 *
 * The handle is a read-only observer of the ring and keeps it alive. When
 * the ring's mode does not allow this user to observe it (a write-only
 * producer), the handle only remembers the name, badbatch_get_info() and
 * badbatch_is_halted() report -EACCES/false, and attaches go by name.
 *
 * Return: 0, -ENOENT (no such ring), -ESHUTDOWN (halted), -EINVAL (bad
 * name), -ENOMEM, or an errno of open(2), ioctl(2), mmap(2).
 */
BADBATCH_API int badbatch_open(const char *name, struct badbatch **ringp);

/*
 * badbatch_from_fd() - wrap a descriptor bound to a ring.
 * @fd: a /dev/badbatch descriptor bound to a ring (the creator's handle
 *      inherited over fork() or received over a UNIX socket, or any
 *      participant's). The caller keeps @fd: the handle uses a duplicate.
 * @ringp: receives the ring handle.
 *
 * Return: 0, -EBADF, -EBADFD (not bound), -ENOTTY (not /dev/badbatch),
 * -ENOMEM, -EPROTO, or an errno of fcntl(2) or mmap(2).
 */
BADBATCH_API int badbatch_from_fd(int fd, struct badbatch **ringp);

/*
 * badbatch_close() - release a ring handle (NULL is ignored).
 *
 * The ring itself lives on while any producer, consumer or other handle
 * is bound to it; attached producers and consumers stay usable.
 */
BADBATCH_API void badbatch_close(struct badbatch *ring);

/*
 * badbatch_fd() - the handle's descriptor, for fd passing and poll(2):
 * EPOLLHUP once the ring is halted. -1 for memory and name-only handles.
 */
BADBATCH_API int badbatch_fd(const struct badbatch *ring);

/*
 * badbatch_halt() - halt the ring: every waiter and every later claim,
 * wait or attach fails with -ESHUTDOWN; consumers still read whatever was
 * published before. Idempotent.
 *
 * Return: 0, -EPERM (an observer handle from badbatch_open()), or
 * -EBADFD.
 */
BADBATCH_API int badbatch_halt(struct badbatch *ring);

/* badbatch_is_halted() - has the ring been halted? (one shared load) */
BADBATCH_API bool badbatch_is_halted(const struct badbatch *ring);

/* badbatch_get_info() - geometry of the ring. Return: 0 or -EACCES. */
BADBATCH_API int badbatch_get_info(const struct badbatch *ring,
				   struct badbatch_info *info);

/*
 * badbatch_get_stats() - the kernel's counters for the ring (a system
 * call). Memory rings fill what they know and zero the rest.
 * Return: 0, -EACCES (name-only handle), or -errno of ioctl(2).
 */
BADBATCH_API int badbatch_get_stats(const struct badbatch *ring,
				    struct badbatch_stats *stats);

/* ---- Producers -------------------------------------------------------- */

/*
 * badbatch_producer_attach() - attach a producer to the ring.
 * @ring: the ring handle.
 * @cfg: wait strategy and timeouts; NULL for the ring's defaults.
 * @pp: receives the producer.
 *
 * Return: 0, -EBUSY (a single-producer ring already has its producer),
 * -ENOSPC (a multi-producer ring already has 64 producers),
 * -EACCES (mode denies writing), -ESHUTDOWN, -EINVAL (bad wait config:
 * unknown strategy, TIMEOUT_BLOCK without timeout_ns), -ENOMEM, -EPROTO,
 * or an errno of open(2), ioctl(2), mmap(2).
 */
BADBATCH_API int
badbatch_producer_attach(struct badbatch *ring,
			 const struct badbatch_producer_config *cfg,
			 struct badbatch_producer **pp);

/*
 * badbatch_producer_close() - detach (NULL is ignored). Publish every
 * claim first. On a single-producer ring the next producer reuses slots
 * left unpublished. On a multi-producer kernel ring, claims left
 * unpublished at close or death (SIGKILL at any point, even between a
 * claim and its publish) are published abandoned by the kernel:
 * consumers skip and count them (badbatch_consumer_abandoned(),
 * badbatch_stats.abandoned). The producer's claim record (docs/abi.md)
 * tells the kernel what it held; when the kernel cannot tell (a claim
 * in flight it cannot settle, or more than 14 claims outstanding at
 * once), the ring fails instead: badbatch_get_failure() gives
 * EOWNERDEAD. A multi-producer memory ring has no kernel: there an
 * unpublished claim still holds every consumer.
 */
BADBATCH_API void badbatch_producer_close(struct badbatch_producer *p);

/*
 * badbatch_claim() - claim n consecutive slots, waiting for capacity with
 * the producer's strategy.
 * @p: the producer.
 * @n: 1..slot_count.
 * @seq: receives the first claimed sequence; the claim is [*seq, *seq + n).
 *
 * No system call unless the strategy blocks. Every claimed slot must be
 * published (by badbatch_publish()) before consumers see later events.
 * On a multi-producer kernel ring the claim is recorded in the
 * producer's claim record (a few plain stores), so that the kernel can
 * release it as abandoned if the producer dies; keep at most 14 claims
 * unpublished at once, or its death fails the ring.
 *
 * Return: 0, -EINVAL (n is 0 or larger than the ring: it could never
 * fit), -ESHUTDOWN (halted), -ETIMEDOUT, -EINTR (a signal interrupted a
 * kernel sleep). A claim won after the ring halted (a halt during a
 * spin, yield or nap of the wait) is given back and -ESHUTDOWN
 * returned; on a multi-producer ring where another producer claimed
 * beyond it meanwhile, its slots are published abandoned instead, so
 * consumers skip them rather than wait at a hole.
 */
BADBATCH_API int badbatch_claim(struct badbatch_producer *p, uint32_t n,
				uint64_t *seq);

/*
 * badbatch_try_claim() - claim n slots if there is room now, never wait.
 *
 * Return: 0 and *seq, -EAGAIN (not enough free slots: see
 * badbatch_remaining()), -EBUSY (multi-producer: other producers kept
 * winning the race; retry), -EINVAL, -ESHUTDOWN.
 */
BADBATCH_API int badbatch_try_claim(struct badbatch_producer *p, uint32_t n,
				    uint64_t *seq);

/*
 * badbatch_remaining() - free slots right now: how many events a claim
 * could take without waiting (a hint on multi-producer rings, where other
 * producers compete for them). 0 on a halted ring.
 */
BADBATCH_API uint64_t badbatch_remaining(struct badbatch_producer *p);

/*
 * badbatch_slot() - the slot of claimed event seq, slot_size bytes, to
 * fill before publishing. The pointer stays valid while p is attached.
 * Slots of consecutive events lie back to back in memory except where
 * the ring wraps (seq a multiple of slot_count): a batch can be filled
 * by stepping slot_size bytes, asking again at the wrap.
 */
BADBATCH_API void *badbatch_slot(const struct badbatch_producer *p,
				 uint64_t seq);

/*
 * badbatch_publish() - make [seq, seq + n) visible to consumers.
 *
 * The range must lie in this producer's claims. On a single-producer
 * ring the cursor moves only forward: publish in claim order (one range
 * may cover several claims). Wakes sleeping consumers only when shared
 * memory says one may sleep (a full barrier and a load otherwise).
 *
 * Return: 0, -EINVAL (beyond this producer's furthest claim or more than
 * a ring behind it, or out of order on a single-producer ring; nothing
 * published), or the -errno of the wakeup call (the events are published
 * nonetheless).
 */
BADBATCH_API int badbatch_publish(struct badbatch_producer *p, uint64_t seq,
				  uint32_t n);

/* badbatch_producer_fd() - its descriptor (poll(2): EPOLLOUT), or -1. */
BADBATCH_API int badbatch_producer_fd(const struct badbatch_producer *p);

/* badbatch_producer_halt() - halt the ring, as badbatch_halt(). */
BADBATCH_API int badbatch_producer_halt(struct badbatch_producer *p);

/* ---- Consumers -------------------------------------------------------- */

/*
 * badbatch_consumer_attach() - attach a consumer to the ring.
 * @ring: the ring handle.
 * @cfg: dependencies, wanted id, batch limit and wait strategy; NULL for
 *       a consumer of the cursor with any id and the ring's strategy.
 * @cp: receives the consumer.
 *
 * A consumer following the cursor starts at the producers' claim
 * frontier; one following other consumers starts at the slowest of them.
 * Attach consumers before producing when they must see every event.
 *
 * Return: 0, -ENOENT (a dependency is not attached), -EBUSY (wanted id
 * taken), -ENOSPC (no id left), -EACCES, -ESHUTDOWN, -EINVAL (deps name
 * the consumer itself or ids beyond max_consumers, bad wait config,
 * coalescing or trail_ns),
 * -ENOMEM, -EPROTO, or an errno of open(2), ioctl(2), mmap(2).
 */
BADBATCH_API int
badbatch_consumer_attach(struct badbatch *ring,
			 const struct badbatch_consumer_config *cfg,
			 struct badbatch_consumer **cp);

/*
 * badbatch_consumer_close() - detach (NULL is ignored). Consumers that
 * followed this one follow its own dependencies from then on.
 */
BADBATCH_API void badbatch_consumer_close(struct badbatch_consumer *c);

/* badbatch_consumer_id() - the consumer's id (0..63), for others' deps. */
BADBATCH_API uint32_t badbatch_consumer_id(const struct badbatch_consumer *c);

/* badbatch_consumer_seq() - the next event this consumer will read. */
BADBATCH_API uint64_t badbatch_consumer_seq(const struct badbatch_consumer *c);

/*
 * badbatch_wait_for() - wait, with the consumer's strategy, until at least
 * one event is readable.
 * @c: the consumer.
 * @limit: receives the first event not readable yet: the consumer may read
 *         [badbatch_consumer_seq(c), *limit), at most max_batch events.
 *
 * A trailing consumer that took all of the BADBATCH_TRAIL_BATCH events or
 * more its last look found first lets trail_ns pass (see struct
 * badbatch_consumer_config). A coalescing consumer then
 * waits, polling, until min_batch events are readable, linger_ns have
 * passed or the ring halts.
 *
 * Return: 0, -ESHUTDOWN (halted and everything published was read),
 * -ETIMEDOUT, -EINTR.
 */
BADBATCH_API int badbatch_wait_for(struct badbatch_consumer *c,
				   uint64_t *limit);

/*
 * badbatch_try_wait_for() - as badbatch_wait_for() without waiting and
 * without a system call.
 *
 * Return: 0 and *limit, -EAGAIN when nothing is readable, -ESHUTDOWN when
 * the ring is halted and everything published was read.
 */
BADBATCH_API int badbatch_try_wait_for(struct badbatch_consumer *c,
				       uint64_t *limit);

/*
 * badbatch_event() - the slot of readable event seq, slot_size bytes.
 * Writable only on BADBATCH_MUTABLE_CONSUMERS rings.
 */
BADBATCH_API void *badbatch_event(const struct badbatch_consumer *c,
				  uint64_t seq);

/*
 * badbatch_is_abandoned() - was readable event seq abandoned by a producer
 * that died before filling it? Its slot holds garbage: skip it.
 */
BADBATCH_API bool badbatch_is_abandoned(const struct badbatch_consumer *c,
					uint64_t seq);

/*
 * badbatch_advance() - finish every event before seq: producers may reuse
 * their slots and consumers that follow this one may read them. Wakes
 * sleepers only when shared memory says one waits on this consumer.
 *
 * Return: 0, -EINVAL (seq behind the consumer or beyond the last limit
 * returned), or the -errno of the wakeup call (advanced nonetheless).
 */
BADBATCH_API int badbatch_advance(struct badbatch_consumer *c, uint64_t seq);

/*
 * badbatch_consume() - wait for events and hand one batch to fn.
 * @c: the consumer.
 * @fn: called for each event in order; end_of_batch on the last one.
 * @ctx: passed to fn.
 * @max_batch: events per batch at most; 0 = the consumer's max_batch.
 *
 * Abandoned events are skipped (badbatch_consumer_abandoned() counts
 * them) and end_of_batch marks the last event actually handed over. The
 * consumer advances past the batch afterwards, or past the events before
 * the one fn refused.
 *
 * Return: the number of events handed to fn (0 if the whole batch was
 * abandoned), fn's negative value, a badbatch_wait_for() error, or the
 * wakeup error of badbatch_advance() (the batch is consumed nonetheless).
 */
BADBATCH_API int badbatch_consume(struct badbatch_consumer *c,
				  badbatch_handler_fn fn, void *ctx,
				  uint32_t max_batch);

/**
 * badbatch_consume_runs() - badbatch_consume() a run of events at a time.
 * @c: the consumer.
 * @fn: called for each run of events that lie back to back in memory.
 * @ctx: passed to fn.
 * @max_batch: events per batch at most; 0 = the consumer's max_batch.
 *
 * For handlers that work on many events at once (copy them out, sum
 * them, write them to a socket): one call per run instead of one per
 * event. A batch splits into runs only where the ring wraps around and
 * around abandoned events, which are skipped and counted as with
 * badbatch_consume(). The consumer advances past what fn took.
 *
 * Return: the number of events fn took, fn's negative value, a
 * badbatch_wait_for() error, or the wakeup error of badbatch_advance()
 * (the events fn took are consumed nonetheless).
 */
BADBATCH_API int badbatch_consume_runs(struct badbatch_consumer *c,
				       badbatch_run_fn fn, void *ctx,
				       uint32_t max_batch);

/* badbatch_consumer_abandoned() - abandoned events badbatch_consume() skipped. */
BADBATCH_API uint64_t
badbatch_consumer_abandoned(const struct badbatch_consumer *c);

/* badbatch_consumer_fd() - its descriptor (poll(2): EPOLLIN), or -1. */
BADBATCH_API int badbatch_consumer_fd(const struct badbatch_consumer *c);

/* badbatch_consumer_halt() - halt the ring, as badbatch_halt(). */
BADBATCH_API int badbatch_consumer_halt(struct badbatch_consumer *c);

/* ---- Failures ---------------------------------------------------------- */

/*
 * badbatch_consumer_fail() - halt the ring because this consumer cannot
 * go on, recording why: its id, the event seq it failed on and a positive
 * errno. Producers waiting for capacity and every consumer then get
 * -ESHUTDOWN (consumers after draining what was published) and read the
 * record with badbatch_get_failure(). The first failure wins.
 *
 * Return: 0, -EINVAL (error not in 1..4095), -ESHUTDOWN (already halted:
 * nothing recorded).
 */
BADBATCH_API int badbatch_consumer_fail(struct badbatch_consumer *c,
					uint64_t seq, int error);

/* badbatch_producer_fail() - as badbatch_consumer_fail(), for a producer. */
BADBATCH_API int badbatch_producer_fail(struct badbatch_producer *p,
					uint64_t seq, int error);

/*
 * badbatch_get_failure() - why the ring halted (one read of shared memory).
 * Return: 0 and *f (f->error 0: halted without a failure), -EAGAIN (not
 * halted), -EACCES (name-only handle).
 */
BADBATCH_API int badbatch_get_failure(const struct badbatch *ring,
				      struct badbatch_failure *f);
BADBATCH_API int
badbatch_consumer_get_failure(const struct badbatch_consumer *c,
			      struct badbatch_failure *f);
BADBATCH_API int
badbatch_producer_get_failure(const struct badbatch_producer *p,
			      struct badbatch_failure *f);

/* ---- Translators: claim, fill, publish in one call --------------------- */

/*
 * Fills the slot of event seq; index counts the events of one call from 0.
 * The slot is published whatever the translator does.
 */
typedef void (*badbatch_translator_fn)(void *arg, void *slot, uint64_t seq,
				       uint32_t index);

/*
 * badbatch_publish_event() - claim one slot (waiting with the producer's
 * strategy), let fn fill it, publish it.
 * Return: 0 or a badbatch_claim() error (nothing claimed, fn not called),
 * or the wakeup error of badbatch_publish() (published nonetheless).
 */
BADBATCH_API int badbatch_publish_event(struct badbatch_producer *p,
					badbatch_translator_fn fn, void *arg);

/*
 * badbatch_publish_events() - claim n consecutive slots at once, call fn
 * for each (index 0..n-1), publish them together.
 * Return: as badbatch_publish_event(); -EINVAL when n is 0 or larger
 * than the ring.
 */
BADBATCH_API int badbatch_publish_events(struct badbatch_producer *p,
					 uint32_t n, badbatch_translator_fn fn,
					 void *arg);

/*
 * badbatch_try_publish_event(), badbatch_try_publish_events() - the same
 * without waiting: -EAGAIN when the ring has no room for all n now (fn not
 * called, nothing claimed), -EBUSY when other producers kept winning the
 * race; otherwise as badbatch_try_claim() (-EINVAL, -ESHUTDOWN) and
 * badbatch_publish_event().
 */
BADBATCH_API int badbatch_try_publish_event(struct badbatch_producer *p,
					    badbatch_translator_fn fn,
					    void *arg);
BADBATCH_API int badbatch_try_publish_events(struct badbatch_producer *p,
					     uint32_t n,
					     badbatch_translator_fn fn,
					     void *arg);

/*
 * badbatch_has_capacity() - could a claim of n slots succeed now without
 * waiting? (A hint on multi-producer rings.) badbatch_remaining() >= n;
 * false on a halted ring and when n is 0 or larger than the ring.
 */
BADBATCH_API bool badbatch_has_capacity(struct badbatch_producer *p,
					uint32_t n);

/* ---- Poller: the consumer drives its own loop -------------------------- */

/* What badbatch_poll() found. */
enum badbatch_poll_state {
	BADBATCH_POLL_PROCESSING,	/* handed events to the handler */
	BADBATCH_POLL_GATING,	/* published, but a consumer followed is behind */
	BADBATCH_POLL_IDLE,	/* nothing published beyond this consumer */
};

/*
 * badbatch_poll() - hand every event readable now (at most max_batch, 0 =
 * the consumer's) to fn, without waiting and without a system call unless
 * a sleeper must be woken. For event loops: wait for EPOLLIN on
 * badbatch_consumer_fd() (or on nothing), then poll until IDLE or GATING.
 * @state: receives what was found (may be NULL).
 *
 * Handler return values, abandoned events and advancing are as in
 * badbatch_consume(); a batch of abandoned events only is skipped and
 * the poll looks further, so 0 always means IDLE or GATING. GATING only
 * for a consumer following other consumers. On a halted ring, events
 * published before the halt are still handed out, and 0 (IDLE or
 * GATING) comes while more may still arrive: claims taken before the
 * halt, or events the consumers followed have not handled yet.
 *
 * Return: events handed to fn (0 with state IDLE or GATING), fn's
 * negative value (state PROCESSING; that event stays unconsumed),
 * -ESHUTDOWN (halted and drained; state IDLE), or the wakeup error of
 * badbatch_advance(). A halted ring's descriptor reports EPOLLHUP for
 * good: poll until -ESHUTDOWN, then stop waiting on it.
 */
BADBATCH_API int badbatch_poll(struct badbatch_consumer *c,
			       badbatch_handler_fn fn, void *ctx,
			       uint32_t max_batch,
			       enum badbatch_poll_state *state);

/* ---- Work pools: each event to exactly one of N workers ---------------- */

struct badbatch_worker;		/* a worker of a work pool */

#define BADBATCH_MAX_POOLS	64	/* pool ids are 0..63 per ring */

struct badbatch_worker_config {
	uint32_t pool;		/* pool id 0..63: workers that give the */
				/* same id (in any process) share events */
	uint64_t deps;		/* as for a consumer; the same for every */
				/* worker of a pool */
	bool want_id;		/* the worker is a consumer too: its id */
	uint32_t id;
	uint32_t max_batch;	/* events claimed at once; 0 = 1 */
	struct badbatch_wait_config wait;
};

/*
 * badbatch_worker_attach() - join work pool cfg->pool of the ring as a new
 * worker. The worker is a consumer with its own id (downstream consumers
 * follow a pool by naming every worker's id in their deps). The first
 * worker of a pool starts it where a consumer with the same deps would
 * start; later ones join where the pool is.
 *
 * Return: as badbatch_consumer_attach(), and -EINVAL (pool id out of
 * range, or deps unlike those of the pool's other workers; also what a
 * module older than work pools says), -EOPNOTSUPP (a memory ring).
 */
BADBATCH_API int
badbatch_worker_attach(struct badbatch *ring,
		       const struct badbatch_worker_config *cfg,
		       struct badbatch_worker **wp);

/*
 * badbatch_worker_close() - leave the pool (NULL is ignored). Events this
 * worker claimed are handled before it returns from badbatch_work(), so
 * between calls it holds none and leaving loses nothing, unless fn
 * refused one and it was neither handed over again nor skipped: nobody
 * else may take such an event, so closing then fails the ring
 * (-ECANCELED at the first held event, by this worker) rather than let
 * it vanish; badbatch_get_failure() says which.
 */
BADBATCH_API void badbatch_worker_close(struct badbatch_worker *w);

/* badbatch_worker_id() - the worker's consumer id. */
BADBATCH_API uint32_t badbatch_worker_id(const struct badbatch_worker *w);

/*
 * badbatch_work() - wait for events no other worker of the pool took,
 * claim up to max_batch of them and hand each to fn (end_of_batch on the
 * last one handed over); abandoned events are skipped and counted.
 *
 * When fn returns a negative value, the event stays claimed by this
 * worker and is handed over again, first, by the next call: a worker's
 * claim never goes back to the pool, so nothing is lost or handled twice
 * by two workers.
 *
 * Return: events handed to fn, fn's negative value, -ECANCELED (the pool
 * was halted and this worker holds no claim), -ESHUTDOWN (the ring halted
 * and nothing is left for the pool), -ETIMEDOUT, -EINTR.
 */
BADBATCH_API int badbatch_work(struct badbatch_worker *w,
			       badbatch_handler_fn fn, void *ctx);

/*
 * badbatch_worker_skip() - drop the first event this worker holds after
 * fn refused it (count it as handled). Return: 0, or -ENOENT (none held).
 */
BADBATCH_API int badbatch_worker_skip(struct badbatch_worker *w);

/*
 * badbatch_pool_halt() - halt the worker's pool in every process: each of
 * its workers finishes the events it claimed, then badbatch_work()
 * returns -ECANCELED. Events no worker claimed stay in the ring.
 */
BADBATCH_API int badbatch_pool_halt(struct badbatch_worker *w);

/*
 * badbatch_pool_lost() - events of the worker's pool that a worker took
 * to its end: claimed, then its process died (or closed the fd under a
 * running handler) before finishing them, counting the one its handler
 * was on. The pool does not hand these out again (the dead handler may
 * have acted on part of them); the kernel counts them when the worker's
 * fd goes away, here for the pool and in badbatch_stats.pool_lost for
 * the ring. A worker killed between its claim's compare-and-swap and the
 * store that follows it is not counted (a window of one instruction).
 */
BADBATCH_API uint64_t badbatch_pool_lost(const struct badbatch_worker *w);

/* badbatch_worker_abandoned() - abandoned events this worker skipped. */
BADBATCH_API uint64_t
badbatch_worker_abandoned(const struct badbatch_worker *w);

/* badbatch_worker_fd() - its descriptor (poll(2): EPOLLIN), or -1. */
BADBATCH_API int badbatch_worker_fd(const struct badbatch_worker *w);

/* ---- Event processors and topologies ---------------------------------- */

/* What an exception handler decides about a failed event. */
enum badbatch_error_action {
	BADBATCH_ERROR_HALT = 0,	/* stop; halt the ring with a failure */
	BADBATCH_ERROR_CONTINUE,	/* count the event done, go on */
};

/*
 * One handler, run by its own thread (an event processor) or, for a work
 * pool stage, by each of its workers. Only on_event is required; ctx is
 * the handler's own state, passed to every callback.
 */
struct badbatch_handler {
	const char *name;	/* thread name (15 bytes kept); NULL: "bb-<stage>" */
	void *ctx;
	/* Return 0 when done with the event, a negative errno on failure. */
	int (*on_event)(void *ctx, void *event, uint64_t seq,
			bool end_of_batch);
	/* Before the first event; a negative errno stops the processor */
	/* and halts the ring with that failure (seq = its start). */
	int (*on_start)(void *ctx);
	/* After the last event, whatever stopped the processor. */
	void (*on_shutdown)(void *ctx);
	/* Before each batch: its size and how many more events are */
	/* published beyond it (the processor's backlog). */
	void (*on_batch_start)(void *ctx, uint64_t batch_size,
			       uint64_t queue_depth);
	/* No event for wait.timeout_ns; seq is the one awaited. */
	void (*on_timeout)(void *ctx, uint64_t seq);
	/* The exception handler: on_event failed with err on event seq. */
	/* NULL: BADBATCH_ERROR_HALT. */
	enum badbatch_error_action (*on_error)(void *ctx, int err,
					       void *event, uint64_t seq);
	uint32_t max_batch;	/* events per batch at most; 0: slot_count */
	bool pin;		/* pin the thread to CPU cpu */
	uint32_t cpu;
	bool want_id;		/* ask for consumer id id (for other */
	uint32_t id;		/* processes' deps); ignored by pools */
	uint64_t deps;		/* consumer ids of other processes (or */
				/* attached directly) this stage also follows */
	struct badbatch_wait_config wait; /* timeout_ns: on_timeout period */
	uint32_t min_batch;	/* coalescing, as in struct */
	uint32_t linger_ns;	/* badbatch_consumer_config; pools: -EINVAL */
	uint32_t trail_ns;	/* trailing, likewise; pools: only 0 or */
				/* BADBATCH_TRAIL_OFF, else -EINVAL */
};

struct badbatch_topology;	/* processors over one ring, in one process */

/* BADBATCH_STAGE(i) - the bit of stage i in an "after" mask. */
#define BADBATCH_STAGE(i)	(1ULL << (i))

/*
 * badbatch_topology_create() - an empty topology over the ring. Stages
 * attach their consumers as they are added, so add them all before
 * producing; threads start with badbatch_topology_start().
 * Return: 0, -ENOMEM.
 */
BADBATCH_API int badbatch_topology_create(struct badbatch *ring,
					  struct badbatch_topology **tp);

/*
 * badbatch_topology_add() - add a stage run by one processor thread.
 * @h: the handler (copied).
 * @after: BADBATCH_STAGE() bits of earlier stages it follows; 0 (and no
 *         h->deps): it follows the producers. Stages with the same
 *         "after" run in parallel on every event (multicast); a stage
 *         after one stage is a pipeline step; after several, a join.
 *
 * Return: the stage number (0, 1, ...), or -EINVAL (no on_event, an
 * unknown stage in after, started already), -ENOSPC (64 stages), or a
 * badbatch_consumer_attach() error.
 */
BADBATCH_API int badbatch_topology_add(struct badbatch_topology *t,
				       const struct badbatch_handler *h,
				       uint64_t after);

/*
 * badbatch_topology_add_pool() - add a work pool stage: nworkers threads,
 * each event handled by exactly one of them. handlers[i] is worker i's
 * (each has its own ctx, name and pin). Later stages that follow the
 * stage follow every worker. @pool: the ring's pool id to use (0..63),
 * which workers in other processes may join too.
 *
 * Return: the stage number, or as badbatch_topology_add() and
 * badbatch_worker_attach().
 */
BADBATCH_API int
badbatch_topology_add_pool(struct badbatch_topology *t,
			   const struct badbatch_handler *handlers,
			   uint32_t nworkers, uint32_t pool, uint64_t after);

/*
 * badbatch_topology_consumer_ids() - the consumer ids of a stage (one, or
 * one per worker), as a mask for consumers attached elsewhere to follow.
 * 0 for an unknown stage.
 */
BADBATCH_API uint64_t
badbatch_topology_consumer_ids(const struct badbatch_topology *t, int stage);

/*
 * badbatch_topology_start() - start every stage's threads (named, pinned
 * as asked), each calling on_start and then handling events.
 * Return: 0, -EALREADY, or the errno of pthread_create(),
 * pthread_setaffinity_np() (-EINVAL: no such CPU), in which case no
 * thread is left running and the topology may be started again.
 */
BADBATCH_API int badbatch_topology_start(struct badbatch_topology *t);

/*
 * badbatch_topology_halt() - stop every processor abruptly: each finishes
 * the batch in hand (a worker, its claim), calls on_shutdown and exits.
 * Does not halt the ring. Returns at once; badbatch_topology_join()
 * waits.
 */
BADBATCH_API void badbatch_topology_halt(struct badbatch_topology *t);

/*
 * badbatch_topology_shutdown() - drain, then stop: every event published
 * when it is called is handled by every stage that must see it, then the
 * processors stop (events published later may be handled or not), and
 * it joins them. With a timeout_ns (0: none), when the time is up it
 * halts the processors instead and returns at once: a handler that never
 * returns cannot hold the caller; badbatch_topology_join() then waits
 * for the batches in hand.
 * Return: 0, -ETIMEDOUT (halted before draining, not joined), or as
 * badbatch_topology_join().
 */
BADBATCH_API int badbatch_topology_shutdown(struct badbatch_topology *t,
					    uint64_t timeout_ns);

/*
 * badbatch_topology_join() - wait until every processor has stopped (by
 * halt, shutdown, a failure or a halted ring).
 * Return: 0, or the first failure: the negative errno an on_event or
 * on_start returned and on_error chose to halt on, or -ESHUTDOWN when
 * the ring was halted by someone else before the processors were done.
 */
BADBATCH_API int badbatch_topology_join(struct badbatch_topology *t);

/* What a stage did (badbatch_topology_stage_stats()). */
struct badbatch_stage_stats {
	uint64_t events;	/* handed to on_event and done */
	uint64_t batches;
	uint64_t errors;	/* on_event failures (continued or not) */
	uint64_t abandoned;	/* events dead producers left, skipped */
	uint64_t seq;		/* next event (for a pool: the pool's) */
	int error;		/* why it stopped: 0 or a negative errno */
};

/* Return: 0, or -EINVAL (no such stage). Sums a pool's workers. */
BADBATCH_API int
badbatch_topology_stage_stats(const struct badbatch_topology *t, int stage,
			      struct badbatch_stage_stats *st);

/*
 * badbatch_topology_destroy() - halt, join, detach every stage and free
 * (NULL is ignored). The ring handle stays the caller's.
 */
BADBATCH_API void badbatch_topology_destroy(struct badbatch_topology *t);

/* ---- Memory rings: for tests and benchmarks --------------------------- */

/*
 * badbatch_memring_create() - a ring in this process's memory, laid out
 * like the kernel's mapping and driven by the same protocol code, with
 * the library standing in for the kernel's bookkeeping (consumer ids,
 * topology and gating, halt). For threads of one process; no descriptor,
 * no name, no death detection, no work pools. The blocking strategies
 * sleep on futexes with the kernel ring's need-wakeup protocol (a sleeper
 * has every mover's CPU fence through membarrier(2); where that is not
 * available, sleepers look again every millisecond). Meant for native
 * tests and benchmarks of the library's logic; @cfg->name and @cfg->mode
 * are ignored.
 *
 * Return: 0, -EINVAL (bad geometry or flags), -ENOMEM.
 */
BADBATCH_API int badbatch_memring_create(const struct badbatch_config *cfg,
					 struct badbatch **ringp);

/*
 * badbatch_memring_create_shared() - the same in a shared anonymous
 * mapping: processes fork()ed after this call attach producers and
 * consumers with the handle they inherit, and each closes its own copy.
 * The stand-in for /dev/badbatch across processes where the module cannot
 * load; a process that dies attached (or inside an attach) is not
 * noticed, and its claims and sequences hold the others.
 *
 * Return: as badbatch_memring_create(), or a pthread_mutex_init() error.
 */
BADBATCH_API int
badbatch_memring_create_shared(const struct badbatch_config *cfg,
			       struct badbatch **ringp);

#ifdef __cplusplus
}
#endif

#endif /* BADBATCH_H */
