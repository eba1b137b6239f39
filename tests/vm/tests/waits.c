// SPDX-License-Identifier: GPL-2.0
/*
 * Blocking waits through BB_IOC_WAIT (and blocking BB_IOC_CLAIM) with real
 * sleeps, across processes:
 *   - a consumer sleeps (the header's consumer_waiters and STATS waiters
 *     say so) until a fast-path publish + need-wakeup BB_IOC_WAKE; the
 *     announcement returns to 0 after;
 *   - a waiter is not released before its own condition holds;
 *   - deadlines: in the past -> ETIMEDOUT at once; 200 ms -> ETIMEDOUT
 *     after >= 200 ms (consumer WAIT, producer WAIT, CLAIM);
 *   - signals: a handler without SA_RESTART -> EINTR (with or without a
 *     deadline); with SA_RESTART and no deadline the wait restarts and
 *     completes; with SA_RESTART and a deadline -> EINTR (docs/abi.md);
 *   - a producer waiting for capacity (WAIT and blocking CLAIM) on a full
 *     ring is woken when the gating consumer advances (BB_WAKE_PRODUCERS
 *     from bb_consumer_advance());
 *   - a consumer waiting on the consumer it follows announces itself in
 *     that consumer's entry and is woken via BB_WAKE_DEPENDENTS;
 *   - a consumer attaching behind the gating one wakes a producer whose
 *     wake that one's advance skipped;
 *   - BB_IOC_HALT wakes every kind of waiter with ESHUTDOWN; afterwards
 *     CLAIM -> ESHUTDOWN and consumers can still drain what was published.
 */
#include <pthread.h>

#include "harness.h"

enum { OP_WAIT, OP_CLAIM };
enum { SIG_NONE, SIG_HANDLER, SIG_RESTART };

struct wspec {
	const char *name;
	__u32 role, id;
	__u64 deps;
	int op;
	__u64 seq;		/* OP_WAIT */
	__u32 count;		/* OP_CLAIM */
	int deadline_ms;	/* 0: none, <0: in the past */
	int sig;
	__u32 prefill;		/* producer: publish this many events first */
};

struct wres {
	int rc, done, sigs, attached;
	__u64 limit, seq, ns, start_seq;
};

static struct wres *g_res;	/* shared, one per child slot */
static volatile sig_atomic_t g_sigs;

static void on_usr1(int sig)
{
	(void)sig;
	g_sigs++;
}

static struct wspec g_spec[8];

static int waiter(void *arg)
{
	int slot = (int)(intptr_t)arg;
	const struct wspec *s = &g_spec[slot];
	struct wres *res = &g_res[slot];
	struct t_ring r;
	__u64 deadline = 0, t0, v = 0;
	__u32 i;
	int e;

	if (s->sig != SIG_NONE) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_usr1;
		sa.sa_flags = s->sig == SIG_RESTART ? SA_RESTART : 0;
		sigaction(SIGUSR1, &sa, NULL);
	}
	if (t_join(&r, s->name, s->role, s->id, s->deps))
		return 2;
	if (r.self)
		res->start_seq = bb_load(r.self);
	for (i = 0; i < s->prefill; i++) {
		__u64 lo = 0;

		if (t_claim_ioctl(r.fd, 1, BB_CLAIMF_NONBLOCK, 0, &lo) ||
		    t_publish_ioctl(r.fd, lo, 1))
			return 4;
	}
	__atomic_store_n(&res->attached, 1, __ATOMIC_RELEASE);
	if (s->deadline_ms > 0)
		deadline = t_now_ns() + (__u64)s->deadline_ms * 1000000ull;
	else if (s->deadline_ms < 0)
		deadline = 1;
	t0 = t_now_ns();
	if (s->op == OP_WAIT)
		e = t_wait_ioctl(r.fd, s->seq, deadline, &v);
	else
		e = t_claim_ioctl(r.fd, s->count, 0, deadline, &v);
	res->ns = t_now_ns() - t0;
	res->rc = e;
	if (s->op == OP_WAIT)
		res->limit = v;
	else
		res->seq = v;
	res->sigs = g_sigs;
	__atomic_store_n(&res->done, 1, __ATOMIC_RELEASE);
	t_ring_close(&r);
	return 0;
}

static pid_t start(int slot, const struct wspec *s)
{
	pid_t pid;

	g_spec[slot] = *s;
	memset(&g_res[slot], 0, sizeof(g_res[slot]));
	pid = t_spawn("waiter", 30, waiter, (void *)(intptr_t)slot);
	if (t_wait_u32((const volatile __u32 *)&g_res[slot].attached, 1, 10000))
		t_diag("waiter %d did not attach", slot);
	return pid;
}

/* Wait up to timeout_ms for *p >= min. */
static int announced(const __u32 *p, __u32 min, unsigned int timeout_ms)
{
	uint64_t end = t_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	while (bb_load_acquire(p) < min) {
		if (t_now_ns() > end)
			return 0;
		t_sleep_ms(1);
	}
	return 1;
}

static int done(int slot)
{
	return __atomic_load_n(&g_res[slot].done, __ATOMIC_ACQUIRE);
}

static __u32 stat_waiters(int fd)
{
	struct bb_stats st;

	return t_stats(fd, &st) ? ~0u : st.waiters;
}

static void publish_fast(struct t_ring *p, __u32 n, int do_wake)
{
	__u64 lo = 0, s;
	int k = t_fast_claim(p, n, &lo);

	T_EQ(k, n, "the producer claims %u (fast path)", n);
	for (s = lo; s < lo + (__u64)n; s++)
		t_fill(bb_slot(&p->v, s), p->v.slot_size, s);
	bb_publish(&p->v, lo, n);
	if (do_wake) {
		T_OK(bb_consumers_need_wake(&p->v),
		     "bb_consumers_need_wake() after publishing sees the sleeper");
		T_SYS(ioctl(p->fd, BB_IOC_WAKE, BB_WAKE_CONSUMERS), "WAKE(CONSUMERS)");
	}
}

/* A. A consumer sleeps until a publish + WAKE; announcements. */
static void test_wake_by_publish(void)
{
	const char *name = t_name("wa");
	struct t_ring c, p;
	struct bb_stats st0, st1;
	struct wspec s = { .name = name, .role = BB_ROLE_CONSUMER, .id = 0,
			   .op = OP_WAIT, .seq = 0 };
	pid_t pid;

	t_diag("--- a consumer sleeps until a publish wakes it");
	if (t_ring_new(&c, 0, 8, 64, 2, name) ||
	    t_join(&p, name, BB_ROLE_PRODUCER, BB_ID_ANY, 0)) {
		T_OK(0, "set up");
		return;
	}
	T_RC(t_stats(c.fd, &st0), 0, "STATS");
	pid = start(0, &s);
	T_OK(announced(&c.v.hdr->consumer_waiters, 1, 5000),
	     "header consumer_waiters becomes non-zero while the consumer sleeps");
	t_sleep_ms(200);
	T_OK(!done(0), "the consumer is still waiting after 200 ms");
	T_EQ(bb_load(&c.v.hdr->consumer_waiters), 1, "consumer_waiters is 1");
	T_EQ(stat_waiters(c.fd), 1, "STATS waiters is 1");
	T_EQ(bb_load(&c.v.hdr->producer_waiters), 0, "producer_waiters is 0");
	publish_fast(&p, 1, 1);
	T_CHILD(pid, 5000, "the consumer process");
	T_RC(g_res[0].rc, 0, "the consumer's WAIT returned 0");
	T_EQ(g_res[0].limit, 1, "with limit 1");
	T_OK(g_res[0].ns >= 200000000ull, "after sleeping >= 200 ms (%.1f ms)", g_res[0].ns / 1e6);
	T_EQ(bb_load(&c.v.hdr->consumer_waiters), 0, "consumer_waiters back to 0");
	T_EQ(stat_waiters(c.fd), 0, "STATS waiters back to 0");
	T_RC(t_stats(c.fd, &st1), 0, "STATS");
	T_OK(st1.sleeps > st0.sleeps, "STATS sleeps counted the sleep (%llu -> %llu)",
	     (unsigned long long)st0.sleeps, (unsigned long long)st1.sleeps);
	T_OK(!bb_consumers_need_wake(&p.v), "no wakeup needed any more");

	/* B. Woken only when its own condition holds. */
	t_diag("--- a waiter is not released before its condition holds");
	s.seq = 5;
	s.id = BB_ID_ANY;
	pid = start(1, &s);
	T_OK(announced(&c.v.hdr->consumer_waiters, 1, 5000), "a consumer waits for event 5");
	T_EQ(g_res[1].start_seq, 1, "it joined at the claim frontier 1");
	publish_fast(&p, 2, 1);
	t_sleep_ms(150);
	T_OK(!done(1), "publishing events 1-2 (+WAKE) does not end a wait for event 5");
	publish_fast(&p, 2, 0);
	T_SYS(ioctl(p.fd, BB_IOC_WAKE, BB_WAKE_CONSUMERS), "WAKE(CONSUMERS) after events 3-4");
	t_sleep_ms(150);
	T_OK(!done(1), "nor does publishing events 3-4");
	publish_fast(&p, 2, 1);
	T_CHILD(pid, 5000, "the consumer process");
	T_RC(g_res[1].rc, 0, "its WAIT returned 0 once event 5 was published");
	T_EQ(g_res[1].limit, 7, "limit 7");
	T_EQ(bb_load(&c.v.hdr->consumer_waiters), 0, "consumer_waiters back to 0");
	t_ring_close(&p);
	t_ring_close(&c);
}

/* C. Deadlines. */
static void test_deadlines(void)
{
	const char *name = t_name("wd");
	struct t_ring c, k, p;
	__u64 t0, lim = 0, seq = 0, el;
	int e;

	t_diag("--- deadlines");
	if (t_ring_new(&c, 0, 4, 8, 2, name) ||
	    t_join(&k, name, BB_ROLE_CONSUMER, 0, 0) ||
	    t_join(&p, name, BB_ROLE_PRODUCER, BB_ID_ANY, 0)) {
		T_OK(0, "set up");
		return;
	}
	t0 = t_now_ns();
	e = t_wait_ioctl(k.fd, 0, 1, &lim);
	el = t_now_ns() - t0;
	T_RC(e, -ETIMEDOUT, "consumer WAIT, deadline in the past -> ETIMEDOUT");
	T_OK(el < 150000000ull, "promptly (%.2f ms)", el / 1e6);
	t0 = t_now_ns();
	e = t_wait_ioctl(k.fd, 0, t0 - 1000, &lim);
	el = t_now_ns() - t0;
	T_RC(e, -ETIMEDOUT, "consumer WAIT, deadline 1 us ago -> ETIMEDOUT");
	T_OK(el < 150000000ull, "promptly (%.2f ms)", el / 1e6);
	t0 = t_now_ns();
	e = t_wait_ioctl(k.fd, 0, t0 + 200000000ull, &lim);
	el = t_now_ns() - t0;
	T_RC(e, -ETIMEDOUT, "consumer WAIT, deadline +200 ms -> ETIMEDOUT");
	T_OK(el >= 200000000ull && el < 2000000000ull, "after 200 ms..2 s (%.1f ms)", el / 1e6);
	T_EQ(bb_load(&c.v.hdr->consumer_waiters), 0, "consumer_waiters back to 0 after a timeout");

	/* Fill the ring; the producer then times out too. */
	publish_fast(&p, 4, 0);
	t0 = t_now_ns();
	e = t_wait_ioctl(p.fd, 4, t0 + 200000000ull, &lim);
	el = t_now_ns() - t0;
	T_RC(e, -ETIMEDOUT, "producer WAIT for slot 4 on a full ring, +200 ms -> ETIMEDOUT");
	T_OK(el >= 200000000ull && el < 2000000000ull, "after 200 ms..2 s (%.1f ms)", el / 1e6);
	t0 = t_now_ns();
	e = t_claim_ioctl(p.fd, 1, 0, t0 + 200000000ull, &seq);
	el = t_now_ns() - t0;
	T_RC(e, -ETIMEDOUT, "CLAIM on a full ring, +200 ms -> ETIMEDOUT");
	T_OK(el >= 200000000ull && el < 2000000000ull, "after 200 ms..2 s (%.1f ms)", el / 1e6);
	T_EQ(bb_load(&c.v.hdr->producer_waiters), 0, "producer_waiters back to 0 after timeouts");
	T_EQ(bb_load(&c.v.prod->claim), 4, "timed-out CLAIMs claimed nothing");
	/* A condition that holds returns at once, deadline or not. */
	e = t_wait_ioctl(k.fd, 3, 1, &lim);
	T_RC(e, 0, "consumer WAIT for a published event with a past deadline -> 0");
	T_EQ(lim, 4, "limit 4");
	e = t_wait_ioctl(p.fd, 3, 0, &lim);
	T_RC(e, 0, "producer WAIT for a free slot -> 0");
	T_EQ(lim, 4, "limit 4 (consumer at 0 + 4 slots)");
	t_ring_close(&p);
	t_ring_close(&k);
	t_ring_close(&c);
}

/* D. Signals. */
static void test_signals(void)
{
	const char *name = t_name("ws");
	struct t_ring c, p;
	struct wspec s = { .name = name, .role = BB_ROLE_CONSUMER, .id = BB_ID_ANY,
			   .op = OP_WAIT, .seq = 0 };
	static const struct { int sig, deadline_ms; const char *what; int want; } cases[] = {
		{ SIG_HANDLER, 0, "handler without SA_RESTART, no deadline", -EINTR },
		{ SIG_HANDLER, 10000, "handler without SA_RESTART, deadline +10 s", -EINTR },
		{ SIG_RESTART, 10000, "SA_RESTART handler, deadline +10 s", -EINTR },
	};
	pid_t pid;
	int i;

	t_diag("--- signals");
	if (t_ring_new(&c, 0, 8, 64, 4, name) ||
	    t_join(&p, name, BB_ROLE_PRODUCER, BB_ID_ANY, 0)) {
		T_OK(0, "set up");
		return;
	}
	for (i = 0; i < 3; i++) {
		s.sig = cases[i].sig;
		s.deadline_ms = cases[i].deadline_ms;
		s.seq = bb_load(&c.v.prod->cursor);
		pid = start(i, &s);
		T_OK(announced(&c.v.hdr->consumer_waiters, 1, 5000), "%s: the consumer sleeps",
		     cases[i].what);
		t_sleep_ms(50);
		kill(pid, SIGUSR1);
		T_CHILD(pid, 5000, "%s: the consumer process", cases[i].what);
		T_RC(g_res[i].rc, cases[i].want, "%s: SIGUSR1 -> %s", cases[i].what,
		     t_errname(-cases[i].want));
		T_EQ(g_res[i].sigs, 1, "%s: the handler ran once", cases[i].what);
		T_OK(g_res[i].ns < 5000000000ull, "%s: returned promptly (%.1f ms)",
		     cases[i].what, g_res[i].ns / 1e6);
		T_EQ(bb_load(&c.v.hdr->consumer_waiters), 0,
		     "%s: consumer_waiters back to 0", cases[i].what);
	}

	/* SA_RESTART, no deadline: the wait restarts, then completes. */
	s.sig = SIG_RESTART;
	s.deadline_ms = 0;
	s.seq = bb_load(&c.v.prod->cursor);
	pid = start(3, &s);
	T_OK(announced(&c.v.hdr->consumer_waiters, 1, 5000), "SA_RESTART, no deadline: the consumer sleeps");
	t_sleep_ms(50);
	kill(pid, SIGUSR1);
	t_sleep_ms(200);
	T_OK(!done(3), "after SIGUSR1 the wait was restarted, not ended");
	T_OK(announced(&c.v.hdr->consumer_waiters, 1, 5000), "and the consumer sleeps again");
	kill(pid, SIGUSR1);
	t_sleep_ms(100);
	T_OK(!done(3), "a second SIGUSR1 restarts it again");
	publish_fast(&p, 1, 1);
	T_CHILD(pid, 5000, "the restarted consumer process");
	T_RC(g_res[3].rc, 0, "the restarted WAIT completed with 0 after the publish");
	T_EQ(g_res[3].limit, s.seq + 1, "limit");
	T_EQ(g_res[3].sigs, 2, "the handler ran twice");
	T_EQ(bb_load(&c.v.hdr->consumer_waiters), 0, "consumer_waiters back to 0");
	t_ring_close(&p);
	t_ring_close(&c);
}

/* E. Producers wait for capacity; F. dependents wait for upstream. */
static void test_capacity(void)
{
	const char *name = t_name("wc");
	struct t_ring c, k;
	struct wspec s = { .name = name, .role = BB_ROLE_PRODUCER, .id = BB_ID_ANY };
	__u32 wake;
	pid_t pid;
	int i;

	t_diag("--- producers wait for capacity");
	for (i = 0; i < 2; i++) {
		const char *what = i ? "blocking CLAIM" : "producer WAIT";

		name = t_name(i ? "wc1" : "wc0");
		s.name = name;
		if (t_ring_new(&c, 0, 4, 8, 2, name) ||
		    t_join(&k, name, BB_ROLE_CONSUMER, 0, 0)) {
			T_OK(0, "set up");
			return;
		}
		s.op = i ? OP_CLAIM : OP_WAIT;
		s.seq = 4;
		s.count = 1;
		s.prefill = 4;
		pid = start(i, &s);
		T_OK(announced(&c.v.hdr->producer_waiters, 1, 5000),
		     "%s: producer_waiters non-zero while the producer waits on a full ring", what);
		T_EQ(stat_waiters(c.fd), 1, "%s: STATS waiters 1", what);
		t_sleep_ms(100);
		T_OK(!done(i), "%s: still waiting", what);
		T_OK(bb_consumer_limit(&k.v, k.id, 0, 4) == 4, "%s: 4 events are readable", what);
		wake = bb_consumer_advance(&k.v, k.self, k.id, 1);
		T_OK(wake & BB_WAKE_PRODUCERS,
		     "%s: bb_consumer_advance() asks to wake producers (0x%x)", what, wake);
		T_SYS(ioctl(k.fd, BB_IOC_WAKE, (unsigned long)wake), "%s: WAKE(0x%x)", what, wake);
		T_CHILD(pid, 5000, "%s: the producer process", what);
		T_RC(g_res[i].rc, 0, "%s returned 0", what);
		if (i)
			T_EQ(g_res[i].seq, 4, "CLAIM got slot 4");
		else
			T_EQ(g_res[i].limit, 5, "WAIT limit 5");
		T_OK(g_res[i].ns >= 100000000ull, "%s: it slept (%.1f ms)", what, g_res[i].ns / 1e6);
		T_EQ(bb_load(&c.v.hdr->producer_waiters), 0, "%s: producer_waiters back to 0", what);
		t_ring_close(&k);
		t_ring_close(&c);
	}

	t_diag("--- a consumer waits for the consumer it follows");
	name = t_name("wcd");
	s.name = name;
	if (t_ring_new(&c, 0, 8, 8, 2, name) ||
	    t_join(&k, name, BB_ROLE_CONSUMER, 0, 0)) {
		T_OK(0, "set up");
		return;
	}
	{
		struct t_ring p;

		if (t_join(&p, name, BB_ROLE_PRODUCER, BB_ID_ANY, 0) == 0) {
			publish_fast(&p, 3, 0);
			t_ring_close(&p);
		}
	}
	s.role = BB_ROLE_CONSUMER;
	s.id = 1;
	s.deps = 1ull << 0;
	s.op = OP_WAIT;
	s.seq = 0;
	s.prefill = 0;
	pid = start(2, &s);
	T_OK(announced(&c.v.hdr->consumers[0].waiters, 1, 5000),
	     "consumers[0].waiters non-zero while consumer 1 waits on consumer 0");
	T_EQ(bb_load(&c.v.hdr->consumer_waiters), 0,
	     "consumer_waiters stays 0 (consumer 1 does not wait for the cursor)");
	t_sleep_ms(100);
	T_OK(!done(2), "consumer 1 still waits although events 0-2 are published");
	wake = bb_consumer_advance(&k.v, k.self, k.id, 2);
	T_OK(wake & BB_WAKE_DEPENDENTS, "bb_consumer_advance() asks to wake dependents (0x%x)", wake);
	T_SYS(ioctl(k.fd, BB_IOC_WAKE, (unsigned long)wake), "WAKE(0x%x)", wake);
	T_CHILD(pid, 5000, "consumer 1's process");
	T_RC(g_res[2].rc, 0, "consumer 1's WAIT returned 0");
	T_EQ(g_res[2].limit, 2, "limit 2 (consumer 0's sequence)");
	T_EQ(bb_load(&c.v.hdr->consumers[0].waiters), 0, "consumers[0].waiters back to 0");
	t_ring_close(&k);
	t_ring_close(&c);
}

/*
 * A consumer that starts to follow the gating one takes its place. If the
 * gating one advanced, then saw itself no longer gating and woke nobody,
 * the attach must wake the producer waiting for that advance.
 */
static void test_attach_wakes_producer(void)
{
	const char *name = t_name("wa");
	struct wspec s = { .name = name, .role = BB_ROLE_PRODUCER, .id = BB_ID_ANY,
			   .op = OP_WAIT, .seq = 4, .prefill = 4 };
	struct t_ring c, k, z;
	pid_t pid;

	t_diag("--- a follower's attach wakes a producer");
	if (t_ring_new(&c, 0, 4, 8, 2, name) ||
	    t_join(&k, name, BB_ROLE_CONSUMER, 0, 0)) {
		T_OK(0, "set up");
		return;
	}
	pid = start(3, &s);
	T_OK(announced(&c.v.hdr->producer_waiters, 1, 5000),
	     "the producer waits on a full ring");
	/* Announced, then re-checked: give it time to be asleep. */
	t_sleep_ms(100);
	/* Consumer 0 reads all four and moves without asking for a wake. */
	bb_store_release(k.self, 4);
	t_sleep_ms(100);
	T_OK(!done(3), "nobody woke the producer yet");
	T_RC(t_join(&z, name, BB_ROLE_CONSUMER, 1, 1ull << 0), 0,
	     "consumer 1 attaches following consumer 0");
	T_CHILD(pid, 5000, "the producer process");
	T_RC(g_res[3].rc, 0, "the producer's WAIT returned 0 after the attach");
	T_EQ(g_res[3].limit, 8, "limit 8: consumer 1 starts at 4");
	t_ring_close(&z);
	t_ring_close(&k);
	t_ring_close(&c);
}

/*
 * One producer fd, two threads: a blocking CLAIM sleeping on a full ring
 * must not keep the other thread from publishing through the same fd.
 */
struct same_fd_claim {
	int fd;
	int rc;
	__u64 seq;
};

static void *same_fd_claimer(void *arg)
{
	struct same_fd_claim *s = arg;

	s->rc = t_claim_ioctl(s->fd, 1, BB_CLAIMF_DEADLINE, t_now_ns() + 10000000000ull,
			      &s->seq);
	return NULL;
}

static void test_same_fd_threads(int flags)
{
	const char *name = t_name(flags ? "wsm" : "wss");
	struct same_fd_claim s = { .rc = 1 };
	struct t_ring c, k, p;
	uint64_t t0, took;
	pthread_t th;
	__u64 lo = 0;
	__u32 wake;

	t_diag("--- %s: a blocking CLAIM and a PUBLISH on one fd from two threads",
	       flags ? "multi-producer" : "single producer");
	if (t_ring_new(&c, flags, 4, 8, 1, name) ||
	    t_join(&k, name, BB_ROLE_CONSUMER, 0, 0) ||
	    t_join(&p, name, BB_ROLE_PRODUCER, BB_ID_ANY, 0)) {
		T_OK(0, "set up");
		return;
	}
	T_RC(t_claim_ioctl(p.fd, 4, BB_CLAIMF_NONBLOCK, 0, &lo), 0, "CLAIM the whole ring");
	s.fd = p.fd;
	if (pthread_create(&th, NULL, same_fd_claimer, &s)) {
		T_OK(0, "pthread_create");
		return;
	}
	T_OK(announced(&c.v.hdr->producer_waiters, 1, 5000), "the second thread sleeps in CLAIM");
	t0 = t_now_ns();
	T_RC(t_publish_ioctl(p.fd, lo, 4), 0, "the first thread publishes through the same fd");
	took = t_now_ns() - t0;
	T_OK(took < 2000000000ull, "without waiting for the sleeper (%.1f ms)", took / 1e6);
	T_EQ(bb_consumer_limit(&k.v, k.id, 0, 4), 4, "4 events are readable");
	wake = bb_consumer_advance(&k.v, k.self, k.id, 4);
	if (wake)
		ioctl(k.fd, BB_IOC_WAKE, (unsigned long)wake);
	pthread_join(th, NULL);
	T_RC(s.rc, 0, "the sleeping CLAIM then returns 0");
	T_EQ(s.seq, 4, "with slot 4");
	T_RC(t_publish_ioctl(p.fd, s.seq, 1), 0, "and publishes it");
	t_ring_close(&p);
	t_ring_close(&k);
	t_ring_close(&c);
}

/* G. Halt wakes every waiter. */
static void test_halt(void)
{
	const char *name = t_name("wh");
	struct t_ring c, p, b;
	struct wspec sa = { .name = name, .role = BB_ROLE_CONSUMER, .id = 0,
			    .op = OP_WAIT, .seq = 4 };
	struct wspec sc = { .name = name, .role = BB_ROLE_CONSUMER, .id = 2,
			    .deps = 1ull << 1, .op = OP_WAIT, .seq = 0 };
	struct wspec sp1 = { .name = name, .role = BB_ROLE_PRODUCER, .id = BB_ID_ANY,
			     .op = OP_WAIT, .seq = 4 };
	struct wspec sp2 = { .name = name, .role = BB_ROLE_PRODUCER, .id = BB_ID_ANY,
			     .op = OP_CLAIM, .count = 1 };
	pid_t pid[4];
	__u64 lim = 0, seq = 0;
	int i;

	t_diag("--- HALT wakes every waiter with ESHUTDOWN");
	if (t_ring_new(&c, BB_RING_MULTI_PRODUCER, 4, 64, 4, name) ||
	    t_join(&b, name, BB_ROLE_CONSUMER, 1, 0) ||
	    t_join(&p, name, BB_ROLE_PRODUCER, BB_ID_ANY, 0)) {
		T_OK(0, "set up");
		return;
	}
	publish_fast(&p, 4, 0);
	pid[0] = start(0, &sa);	/* joins at 4, waits for event 4 */
	pid[1] = start(1, &sc);	/* follows consumer 1 (at 0) */
	pid[2] = start(2, &sp1);	/* waits for slot 4: consumer 1 at 0 */
	pid[3] = start(3, &sp2);	/* blocking CLAIM */
	T_OK(announced(&c.v.hdr->consumer_waiters, 1, 5000), "a consumer waits for the cursor");
	T_OK(announced(&c.v.hdr->consumers[1].waiters, 1, 5000), "a consumer waits on consumer 1");
	T_OK(announced(&c.v.hdr->producer_waiters, 2, 5000), "two producers wait for capacity");
	t_sleep_ms(50);
	T_EQ(stat_waiters(c.fd), 4, "STATS waiters 4");
	for (i = 0; i < 4; i++)
		T_OK(!done(i), "waiter %d still waiting", i);
	T_SYS(ioctl(c.fd, BB_IOC_HALT, 0), "HALT by the creator");
	for (i = 0; i < 4; i++) {
		T_CHILD(pid[i], 5000, "waiter %d's process", i);
		T_RC(g_res[i].rc, -ESHUTDOWN, "waiter %d woke with ESHUTDOWN", i);
	}
	T_EQ(bb_load(&c.v.hdr->status), BB_STATUS_HALTED, "header status HALTED");
	T_EQ(stat_waiters(c.fd), 0, "STATS waiters 0");
	T_EQ(bb_load(&c.v.hdr->consumer_waiters), 0, "consumer_waiters 0");
	T_EQ(bb_load(&c.v.hdr->producer_waiters), 0, "producer_waiters 0");
	T_EQ(bb_load(&c.v.hdr->consumers[1].waiters), 0, "consumers[1].waiters 0");
	T_RC(t_claim_ioctl(p.fd, 1, BB_CLAIMF_NONBLOCK, 0, &seq), -ESHUTDOWN,
	     "CLAIM after HALT -> ESHUTDOWN");
	T_RC(t_claim_ioctl(p.fd, 1, 0, 0, &seq), -ESHUTDOWN, "blocking CLAIM after HALT -> ESHUTDOWN");
	T_RC(t_wait_ioctl(p.fd, 4, 0, &lim), -ESHUTDOWN, "producer WAIT after HALT -> ESHUTDOWN");
	T_RC(t_wait_ioctl(b.fd, 4, 0, &lim), -ESHUTDOWN,
	     "consumer WAIT for an unpublished event after HALT -> ESHUTDOWN");
	T_RC(t_wait_ioctl(b.fd, 0, 0, &lim), 0,
	     "consumer WAIT for a published event after HALT -> 0 (it may drain)");
	T_EQ(lim, 4, "limit 4");
	T_OK(bb_consumer_limit(&b.v, b.id, 0, 4) == 4 && t_check(bb_slot(&b.v, 3), 64, 3) == 0,
	     "the published events are still readable");
	t_ring_close(&p);
	t_ring_close(&b);
	t_ring_close(&c);
}

int main(void)
{
	t_init("waits", 120);
	g_res = t_shared(sizeof(struct wres) * 8);
	test_wake_by_publish();
	test_deadlines();
	test_signals();
	test_capacity();
	test_attach_wakes_producer();
	test_same_fd_threads(0);
	test_same_fd_threads(BB_RING_MULTI_PRODUCER);
	test_halt();
	return t_done();
}
