// SPDX-License-Identifier: GPL-2.0
/*
 * libbadbatch work pools across processes.
 *
 *   - workers in three processes, found by the ring's name, share one
 *     pool: every event handled exactly once, each worker sees rising
 *     sequences, contents intact; badbatch_pool_halt() from a fourth
 *     process stops every worker with -ECANCELED;
 *   - a worker that leaves mid-stream (closes between calls) loses
 *     nothing, and a worker joining late starts where the pool is;
 *   - a worker process killed with SIGKILL no longer gates the
 *     producers: the rest of the stream still arrives exactly once;
 *   - a worker killed inside its handler: the pool goes on, and exactly
 *     the events it claimed and never finished (the one its handler was
 *     on onwards) are missing, counted in badbatch_pool_lost() and STATS
 *     pool_lost and seen unhandled by the consumer after the pool; a
 *     worker killed while holding nothing counts none;
 *   - two pools on one ring each see every event once, and a consumer
 *     following every worker sees each event only after pool 0 finished
 *     it (marks written by its workers);
 *   - a refused event is handed over again first, skip drops it, and
 *     closing a worker that still holds one fails the ring with a record
 *     (-ECANCELED, the worker's id, the event) instead of losing it;
 *   - bad pool ids and memory rings are refused.
 */
#include <signal.h>

#include "procs.h"

#define SLOTS		128
#define N_EVENTS	20000ULL
#define WORKERS		3

struct shared {
	uint32_t cnt[2][N_EVENTS];	/* per pool: times seq was handled */
	uint64_t handled[2][WORKERS + 2];
	uint64_t bad_order, bad_check, bad_mark;
	uint64_t done[2];		/* events handled per pool */
	uint32_t quit_after;		/* worker 0 of pool 0 leaves after it */
	uint32_t ready;
	uint64_t dying_seq;		/* the event a worker dies on */
	uint64_t dying;
	int rc[8];
};

static struct shared *g;
static char g_name[64];

struct wctx {
	int pool, idx;
	uint64_t last;		/* seq + 1 of the previous event */
	struct badbatch_worker *w;
};

static int w_on_event(void *arg, void *event, uint64_t seq, bool eob)
{
	struct wctx *x = arg;
	struct tev *e = event;

	(void)eob;
	if (seq >= N_EVENTS)
		return -ERANGE;
	if (x->last && seq < x->last)
		__atomic_add_fetch(&g->bad_order, 1, __ATOMIC_RELAXED);
	x->last = seq + 1;
	if (e->check != tev_check(e) || e->counter != seq)
		__atomic_add_fetch(&g->bad_check, 1, __ATOMIC_RELAXED);
	/* Pool 0 marks what it handled for the consumer that follows it. */
	if (x->pool == 0)
		e->marks[0] = tev_mark(e, 0);
	__atomic_add_fetch(&g->cnt[x->pool][seq], 1, __ATOMIC_RELAXED);
	g->handled[x->pool][x->idx]++;
	__atomic_add_fetch(&g->done[x->pool], 1, __ATOMIC_RELEASE);
	return 0;
}

static int worker_attach(struct badbatch **ring, int pool, uint32_t batch,
			 struct badbatch_worker **w)
{
	struct badbatch_worker_config cfg = {
		.pool = (uint32_t)pool,
		.max_batch = batch,
		.wait = { .strategy = BADBATCH_WAIT_BLOCK },
	};
	int rc = badbatch_open(g_name, ring);

	if (rc)
		return rc;
	rc = badbatch_worker_attach(*ring, &cfg, w);
	if (rc)
		badbatch_close(*ring);
	return rc;
}

/* A worker process: work until the pool halts; leave early if told. */
static int worker_proc(void *arg)
{
	struct wctx x = { .pool = (int)((uintptr_t)arg >> 8),
			  .idx = (int)((uintptr_t)arg & 0xff) };
	struct badbatch *ring;
	int rc;

	rc = worker_attach(&ring, x.pool, 1 + (uint32_t)x.idx * 3, &x.w);
	if (rc)
		return 10 - rc;
	__atomic_add_fetch(&g->ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		rc = badbatch_work(x.w, w_on_event, &x);
		if (rc < 0)
			break;
		/* Leave between calls: nothing held, nothing lost. */
		if (x.pool == 0 && x.idx == 0 && g->quit_after &&
		    g->handled[0][0] >= g->quit_after) {
			rc = 0;
			break;
		}
	}
	badbatch_worker_close(x.w);
	badbatch_close(ring);
	if (rc == -ECANCELED || rc == 0)
		return 0;
	return 20;
}

/* Handle 50 events, then stop inside the handler of the 51st for good. */
static int dying_on_event(void *arg, void *event, uint64_t seq, bool eob)
{
	struct wctx *x = arg;

	if (g->handled[0][x->idx] == 50) {
		g->dying_seq = seq;
		__atomic_store_n(&g->dying, 1ULL, __ATOMIC_RELEASE);
		for (;;)
			pause();
	}
	return w_on_event(arg, event, seq, eob);
}

/* A worker with a batch of 8 that gets killed in its handler. */
static int dying_worker_proc(void *arg)
{
	struct wctx x = { .pool = 0, .idx = WORKERS + 1 };
	struct badbatch *ring;

	(void)arg;
	if (worker_attach(&ring, 0, 8, &x.w))
		return 2;
	__atomic_add_fetch(&g->ready, 1, __ATOMIC_RELEASE);
	while (badbatch_work(x.w, dying_on_event, &x) >= 0)
		;
	return 3;
}

/* A worker that joins and never works: it gates until it is killed. */
static int idle_worker_proc(void *arg)
{
	struct badbatch_worker *w;
	struct badbatch *ring;

	(void)arg;
	if (worker_attach(&ring, 0, 1, &w))
		return 2;
	__atomic_add_fetch(&g->ready, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
	return 0;
}

/* A consumer after every worker of pool 0: marks must be there. */
static int follower_proc(void *arg)
{
	struct badbatch_consumer_config cfg = {
		.deps = (uint64_t)(uintptr_t)arg,
		.wait = { .strategy = BADBATCH_WAIT_BLOCK },
	};
	struct badbatch_consumer *c;
	struct badbatch *ring;
	uint64_t seq = 0, avail;

	if (badbatch_open(g_name, &ring))
		return 2;
	if (badbatch_consumer_attach(ring, &cfg, &c))
		return 3;
	__atomic_add_fetch(&g->ready, 1, __ATOMIC_RELEASE);
	while (seq < N_EVENTS) {
		int rc = badbatch_wait_for(c, &avail);

		if (rc)
			return 4;
		for (; seq < avail && seq < N_EVENTS; seq++) {
			struct tev *e = badbatch_event(c, seq);

			if (e->marks[0] != tev_mark(e, 0) ||
			    !__atomic_load_n(&g->cnt[0][seq], __ATOMIC_RELAXED))
				__atomic_add_fetch(&g->bad_mark, 1,
						   __ATOMIC_RELAXED);
		}
		if (badbatch_advance(c, seq))
			return 5;
	}
	badbatch_consumer_close(c);
	badbatch_close(ring);
	return 0;
}

static int producer_proc(void *arg)
{
	struct badbatch *ring;
	struct tprod tp;

	(void)arg;
	if (badbatch_open(g_name, &ring))
		return 2;
	if (tprod_start(&tp, ring, 0, N_EVENTS, 7, NULL))
		return 3;
	if (tprod_join(&tp, 100000))
		return 4;
	badbatch_close(ring);
	return tp.rc ? 5 : 0;
}

static void wait_ready(uint32_t n, const char *what)
{
	uint64_t end = t_now_ns() + 20000000000ULL;

	while (__atomic_load_n(&g->ready, __ATOMIC_ACQUIRE) < n &&
	       t_now_ns() < end)
		t_sleep_ms(2);
	T_EQ(__atomic_load_n(&g->ready, __ATOMIC_ACQUIRE), n, "%s attached",
	     what);
}

static void wait_done(int pool, const char *what)
{
	T_RC(twait_ge(&g->done[pool], N_EVENTS, 60000), 0,
	     "%s: every event handled", what);
}

/* Halt pool p from this process: a worker that joins after the work. */
static void halt_pool(int pool, const char *what)
{
	struct badbatch_worker *w;
	struct badbatch *ring;

	if (T_RC(worker_attach(&ring, pool, 1, &w), 0,
		 "%s: a late worker joins pool %d", what, pool))
		return;
	T_RC(badbatch_pool_halt(w), 0, "%s: halt pool %d", what, pool);
	badbatch_worker_close(w);
	badbatch_close(ring);
}

static void check_once(int pool, const char *what)
{
	uint64_t seq, zero = 0, many = 0;

	for (seq = 0; seq < N_EVENTS; seq++) {
		zero += g->cnt[pool][seq] == 0;
		many += g->cnt[pool][seq] > 1;
	}
	T_EQ(zero, 0, "%s: no event lost", what);
	T_EQ(many, 0, "%s: no event handled twice", what);
}

static void reset(void)
{
	memset(g, 0, sizeof(*g));
}

static struct badbatch *new_ring(void)
{
	struct badbatch *ring;

	snprintf(g_name, sizeof(g_name), "%s", t_name("pool"));
	if (T_RC(tring(SLOTS, BADBATCH_MULTI_PRODUCER |
		       BADBATCH_MUTABLE_CONSUMERS, g_name, &ring), 0,
		 "create %s", g_name))
		return NULL;
	return ring;
}

static void test_processes(void)
{
	struct badbatch *ring = new_ring();
	pid_t w[WORKERS], p;
	uint64_t busy = 0;
	int i;

	if (!ring)
		return;
	reset();
	for (i = 0; i < WORKERS; i++)
		w[i] = t_spawn("worker", 100, worker_proc, (void *)(uintptr_t)i);
	wait_ready(WORKERS, "3 worker processes");
	p = t_spawn("producer", 100, producer_proc, NULL);
	T_CHILD(p, 110000, "producer process published %llu events",
		(unsigned long long)N_EVENTS);
	wait_done(0, "3 processes");
	halt_pool(0, "3 processes");
	for (i = 0; i < WORKERS; i++) {
		T_CHILD(w[i], 20000, "worker %d stopped with -ECANCELED", i);
		busy += g->handled[0][i] > 0;
		t_diag("worker %d handled %llu", i,
		       (unsigned long long)g->handled[0][i]);
	}
	T_OK(busy >= 2, "work spread over the workers (%llu busy)",
	     (unsigned long long)busy);
	check_once(0, "3 processes");
	T_EQ(g->bad_order, 0, "each worker saw rising sequences");
	T_EQ(g->bad_check, 0, "contents intact");
	badbatch_close(ring);
}

static void test_leave_and_join(void)
{
	struct badbatch *ring = new_ring();
	pid_t w[WORKERS + 1], p;
	int i;

	if (!ring)
		return;
	reset();
	g->quit_after = 500;
	for (i = 0; i < 2; i++)
		w[i] = t_spawn("worker", 100, worker_proc, (void *)(uintptr_t)i);
	wait_ready(2, "2 workers");
	p = t_spawn("producer", 100, producer_proc, NULL);
	T_CHILD(w[0], 60000, "worker 0 left after %u events", g->quit_after);
	w[2] = t_spawn("worker", 100, worker_proc, (void *)(uintptr_t)2);
	T_CHILD(p, 110000, "producer done");
	wait_done(0, "leave and join");
	T_OK(g->handled[0][0] >= 500 && g->handled[0][0] < N_EVENTS,
	     "the leaver handled %llu", (unsigned long long)g->handled[0][0]);
	halt_pool(0, "leave and join");
	T_CHILD(w[1], 20000, "worker 1 stopped");
	T_CHILD(w[2], 20000, "late worker stopped");
	check_once(0, "leave and join");
	T_EQ(g->bad_check + g->bad_order, 0, "contents and order");
	badbatch_close(ring);
}

static uint64_t pool_lost_stat(struct badbatch *ring)
{
	struct badbatch_stats st;

	if (T_RC(badbatch_get_stats(ring, &st), 0, "stats"))
		return ~0ULL;
	return st.pool_lost;
}

static void test_killed_worker(void)
{
	struct badbatch *ring = new_ring();
	pid_t w[2], idle, p;
	int i;

	if (!ring)
		return;
	reset();
	for (i = 0; i < 2; i++)
		w[i] = t_spawn("worker", 100, worker_proc, (void *)(uintptr_t)i);
	idle = t_spawn("idle worker", 100, idle_worker_proc, NULL);
	wait_ready(3, "2 workers and an idle one");
	p = t_spawn("producer", 100, producer_proc, NULL);
	/* The idle worker gates: the producer stops a ring's length in. */
	t_sleep_ms(500);
	T_OK(__atomic_load_n(&g->done[0], __ATOMIC_ACQUIRE) <= SLOTS,
	     "an idle worker holds the producers back (%llu done)",
	     (unsigned long long)g->done[0]);
	kill(idle, SIGKILL);
	T_CHILD_SIG(idle, 10000, SIGKILL, "idle worker killed");
	T_EQ(pool_lost_stat(ring), 0, "a worker killed holding nothing lost nothing");
	T_CHILD(p, 110000, "the producer goes on after the kill");
	wait_done(0, "after the kill");
	halt_pool(0, "after the kill");
	for (i = 0; i < 2; i++)
		T_CHILD(w[i], 20000, "worker %d stopped", i);
	check_once(0, "after the kill");
	badbatch_close(ring);
}

/* The events nobody handled: one run [from, from + n), none twice. */
static void check_lost_run(uint64_t from, uint64_t n)
{
	uint64_t seq, zero = 0, outside = 0, many = 0;

	for (seq = 0; seq < N_EVENTS; seq++) {
		uint32_t c = g->cnt[0][seq];

		zero += c == 0;
		outside += c == 0 && (seq < from || seq >= from + n);
		many += c > 1;
	}
	T_EQ(zero, n, "exactly the %llu lost events were never handled",
	     (unsigned long long)n);
	T_EQ(outside, 0, "all of them from event %llu on",
	     (unsigned long long)from);
	T_EQ(many, 0, "no event handled twice");
}

static void test_killed_in_handler(void)
{
	struct badbatch *ring = new_ring();
	struct badbatch_worker *w0;
	struct badbatch *r0;
	uint64_t lost;
	pid_t w[2], d, f, p;
	int i;

	if (!ring)
		return;
	reset();
	for (i = 0; i < 2; i++)
		w[i] = t_spawn("worker", 100, worker_proc,
			       (void *)(uintptr_t)(i + 1));
	d = t_spawn("dying worker", 100, dying_worker_proc, NULL);
	wait_ready(3, "2 workers and one that dies in its handler");
	/* The three workers are consumers 0..2 of the new ring. */
	f = t_spawn("follower", 100, follower_proc, (void *)(uintptr_t)7);
	wait_ready(4, "a consumer after the pool");
	p = t_spawn("producer", 100, producer_proc, NULL);
	T_RC(twait_ge(&g->dying, 1, 60000), 0,
	     "a worker is inside its handler of event %llu for good",
	     (unsigned long long)g->dying_seq);
	T_EQ(pool_lost_stat(ring), 0, "nothing lost while it lives");
	kill(d, SIGKILL);
	T_CHILD_SIG(d, 10000, SIGKILL, "the worker was killed in its handler");
	lost = pool_lost_stat(ring);
	T_OK(lost >= 1 && lost <= 8,
	     "STATS pool_lost: %llu, from the event in the handler to the end of its claim of at most 8",
	     (unsigned long long)lost);
	T_CHILD(p, 110000, "the producer goes on after the kill");
	T_RC(twait_ge(&g->done[0], N_EVENTS - lost, 60000), 0,
	     "the other workers handled all the rest");
	T_CHILD(f, 60000, "the consumer after the pool saw every event");
	T_EQ(g->bad_mark, lost, "it saw exactly the lost events unhandled");
	if (!T_RC(worker_attach(&r0, 0, 1, &w0), 0, "a worker joins late")) {
		T_EQ(badbatch_pool_lost(w0), lost,
		     "badbatch_pool_lost() says the same");
		T_RC(badbatch_pool_halt(w0), 0, "halt the pool");
		badbatch_worker_close(w0);
		badbatch_close(r0);
	}
	for (i = 0; i < 2; i++)
		T_CHILD(w[i], 20000, "worker %d stopped", i);
	check_lost_run(g->dying_seq, lost);
	T_EQ(g->bad_check + g->bad_order, 0, "contents and order");
	T_EQ(pool_lost_stat(ring), lost,
	     "workers that closed holding nothing lost nothing");
	badbatch_close(ring);
}

static void test_two_pools(void)
{
	struct badbatch *ring = new_ring();
	struct badbatch_stats st;
	pid_t w[4], f, p;
	uint64_t deps;
	int i;

	if (!ring)
		return;
	reset();
	for (i = 0; i < 4; i++)
		w[i] = t_spawn("worker", 100, worker_proc,
			       (void *)(uintptr_t)((i / 2) << 8 | (i % 2)));
	wait_ready(4, "2 pools of 2 workers");
	/* Pool 0's workers: consumers that attached with it (ids 0..3). */
	T_RC(badbatch_get_stats(ring, &st), 0, "stats");
	T_EQ(st.nr_consumers, 4, "4 workers are 4 consumers");
	deps = 0;
	for (i = 0; i < 4; i++)
		deps |= 1ULL << i;
	/* Follow all four: pool 0's marks are there before it moves. */
	f = t_spawn("follower", 100, follower_proc, (void *)(uintptr_t)deps);
	wait_ready(5, "the follower");
	p = t_spawn("producer", 100, producer_proc, NULL);
	T_CHILD(p, 110000, "producer done");
	wait_done(0, "pool 0");
	wait_done(1, "pool 1");
	T_CHILD(f, 60000, "the follower saw every event after pool 0");
	T_EQ(g->bad_mark, 0, "no event reached the follower unmarked");
	halt_pool(0, "two pools");
	halt_pool(1, "two pools");
	for (i = 0; i < 4; i++)
		T_CHILD(w[i], 20000, "worker %d stopped", i);
	check_once(0, "pool 0");
	check_once(1, "pool 1");
	badbatch_close(ring);
}

/* ---- refusals, skip, close with a held event, bad arguments ------------ */

struct refuse {
	uint64_t refuse_seq;
	int refusals;
	uint64_t seen[64];
	int nseen;
};

static int refuse_on_event(void *arg, void *event, uint64_t seq, bool eob)
{
	struct refuse *r = arg;

	(void)event;
	(void)eob;
	if (seq == r->refuse_seq && r->refusals) {
		r->refusals--;
		return -EIO;
	}
	if (r->nseen < 64)
		r->seen[r->nseen++] = seq;
	return 0;
}

static int publish_n(struct badbatch *ring, uint64_t n)
{
	struct tprod tp;

	if (tprod_start(&tp, ring, 0, n, 1, NULL))
		return -1;
	if (tprod_join(&tp, 20000))
		return -1;
	return tp.rc;
}

static int sub_refuse(void *arg)
{
	struct badbatch_worker_config cfg = { .max_batch = 4 };
	struct refuse r = { .refuse_seq = 2, .refusals = 2 };
	struct badbatch_failure f;
	struct badbatch_worker *w;
	struct badbatch *ring;
	int rc;

	(void)arg;
	if (T_RC(tring(16, 0, NULL, &ring), 0, "create") ||
	    T_RC(badbatch_worker_attach(ring, &cfg, &w), 0, "worker"))
		return 1;
	T_RC(publish_n(ring, 10), 0, "publish 10");
	T_RC(badbatch_work(w, refuse_on_event, &r), -EIO,
	     "work: fn refuses event 2 -> its error");
	T_EQ(r.nseen, 2, "events 0 and 1 handled before it");
	rc = badbatch_work(w, refuse_on_event, &r);
	T_RC(rc, -EIO, "work again: event 2 first, refused again");
	T_EQ(r.nseen, 2, "nothing handled before the held event");
	T_RC(badbatch_worker_skip(w), 0, "skip event 2");
	rc = badbatch_work(w, refuse_on_event, &r);
	T_RC(rc, 1, "work: the rest of the claim (event 3)");
	T_OK(r.nseen == 3 && r.seen[2] == 3, "event 3 next, 2 not again");
	T_RC(badbatch_worker_skip(w), -ENOENT, "skip with nothing held -> ENOENT");
	r.refuse_seq = 5;
	r.refusals = 1;
	T_RC(badbatch_work(w, refuse_on_event, &r), -EIO, "refuse event 5");
	badbatch_worker_close(w);
	T_OK(badbatch_is_halted(ring),
	     "closing a worker that holds an event halts the ring");
	if (!T_RC(badbatch_get_failure(ring, &f), 0, "failure record")) {
		T_EQ(f.error, ECANCELED, "record: ECANCELED");
		T_EQ(f.seq, 5, "record: the held event");
		T_EQ(f.consumer_id, 0, "record: the worker's id");
	}
	badbatch_close(ring);
	return 0;
}

static int sub_bad_args(void *arg)
{
	struct badbatch_worker_config cfg = { .pool = BADBATCH_MAX_POOLS };
	struct badbatch_config mc = { .slot_count = 16, .slot_size = 64 };
	struct badbatch_worker *w = NULL;
	struct badbatch *ring;

	(void)arg;
	if (T_RC(tring(16, 0, NULL, &ring), 0, "create"))
		return 1;
	T_RC(badbatch_worker_attach(ring, &cfg, &w), -EINVAL,
	     "pool id 64 -> EINVAL");
	T_OK(!w, "nothing returned");
	badbatch_close(ring);
	cfg.pool = 0;
	if (T_RC(badbatch_memring_create(&mc, &ring), 0, "memory ring"))
		return 1;
	T_RC(badbatch_worker_attach(ring, &cfg, &w), -EOPNOTSUPP,
	     "a memory ring has no pools -> EOPNOTSUPP");
	badbatch_close(ring);
	return 0;
}

int main(void)
{
	t_init("lib_workpool", 600);
	g = t_shared(sizeof(*g));
	test_processes();
	test_leave_and_join();
	test_killed_worker();
	test_killed_in_handler();
	test_two_pools();
	tsub("refused events", 30, sub_refuse, NULL);
	tsub("bad arguments", 30, sub_bad_args, NULL);
	return t_done();
}
