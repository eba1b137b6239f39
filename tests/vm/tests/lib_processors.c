// SPDX-License-Identifier: GPL-2.0
/*
 * libbadbatch event processors (badbatch_topology_*) against the real
 * device: the life of a processor and what its handler is told.
 *
 *   - lifecycle: add, start (twice: -EALREADY), publish N, shutdown(0):
 *     every stage handles exactly N, in order, on_start once before the
 *     first event and on_shutdown once after the last; stage stats agree;
 *     destroy detaches every consumer;
 *   - halt: abrupt, join returns promptly while events remain, the ring
 *     is not halted;
 *   - shutdown with a timeout over a slow and over a stuck handler:
 *     -ETIMEDOUT at the timeout, then join waits for the batch in hand;
 *   - shutdown while a producer thread keeps publishing terminates, having
 *     handled everything published when it was called;
 *   - destroy without start, argument errors, the 64-stage limit;
 *   - on_batch_start: sizes sum to N, each <= max_batch, exact backlog
 *     when everything was published first, plausible while live;
 *   - on_timeout on an idle ring with the awaited seq;
 *   - (the exception handler and failures: lib_proc_errors.c);
 *   - threads: names in /proc/self/task/N/comm, pinning, a CPU that does
 *     not exist (-EINVAL, no thread left).
 *
 * Each subtest runs in its own process (tsub()).
 */
#include "procs.h"

#define SLOTS	256

static uint32_t nr_consumers(struct badbatch *ring)
{
	struct badbatch_stats st;

	if (badbatch_get_stats(ring, &st))
		return 999;
	return st.nr_consumers;
}

/* ---- lifecycle ---------------------------------------------------------- */

static int sub_lifecycle(void *arg)
{
	const uint64_t n = 20000;
	struct badbatch_topology *t;
	struct badbatch *ring;
	struct tstage s[2];
	struct trec r[2];
	struct badbatch_handler h;
	struct tprod tp;
	uint64_t t0;
	int k;

	(void)arg;
	if (T_RC(tring(SLOTS, BADBATCH_MUTABLE_CONSUMERS, NULL, &ring), 0,
		 "create") || T_RC(badbatch_topology_create(ring, &t), 0, "topology"))
		return 1;
	for (k = 0; k < 2; k++) {
		tstage_init(&s[k], &r[k], 1, SLOTS);
		s[k].mark = k;
		s[k].need = k ? 1 : 0;
		h = thandler(&s[k], NULL, false);
		T_RC(badbatch_topology_add(t, &h, k ? BADBATCH_STAGE(0) : 0), k,
		     "add stage %d", k);
	}
	T_EQ(nr_consumers(ring), 2, "a consumer per stage attached at add");
	T_RC(badbatch_topology_start(t), 0, "start");
	T_RC(badbatch_topology_start(t), -EALREADY, "start again");
	h = thandler(&s[0], NULL, false);
	T_RC(badbatch_topology_add(t, &h, 0), -EINVAL, "add after start");
	T_RC(tprod_start(&tp, ring, 0, n, 8, NULL), 0, "producer");
	T_RC(tprod_join(&tp, 30000), 0, "producer finished");
	T_RC(tp.rc, 0, "producer published %llu", (unsigned long long)n);
	t0 = t_now_ns();
	T_RC(badbatch_topology_shutdown(t, 0), 0, "shutdown(0)");
	t_diag("shutdown took %.1f ms", tms(t0));
	for (k = 0; k < 2; k++)
		check_stage("lifecycle", t, k, &r[k], n);
	t0 = t_now_ns();
	T_RC(badbatch_topology_join(t), 0, "join after shutdown");
	T_OK(tms(t0) < 1000, "... returns at once");
	T_OK(!badbatch_is_halted(ring), "shutdown does not halt the ring");
	badbatch_topology_destroy(t);
	T_EQ(nr_consumers(ring), 0, "destroy detached the stages");
	badbatch_close(ring);
	return 0;
}

/* ---- halt ---------------------------------------------------------------- */

static int sub_halt(void *arg)
{
	const uint64_t n = 200;
	struct badbatch_topology *t;
	struct badbatch_stage_stats st;
	struct badbatch *ring;
	struct badbatch_handler h;
	struct tstage s[2];
	struct trec r[2];
	struct tprod tp;
	uint64_t t0;
	int k;

	(void)arg;
	if (T_RC(tring(SLOTS, BADBATCH_MUTABLE_CONSUMERS, NULL, &ring), 0,
		 "create") || T_RC(badbatch_topology_create(ring, &t), 0, "topology"))
		return 1;
	for (k = 0; k < 2; k++) {
		tstage_init(&s[k], &r[k], 1, SLOTS);
		s[k].delay_us = 2000;
		s[k].max_batch = 4;
		s[k].mark = k;
		s[k].need = k ? 1 : 0;
		h = thandler(&s[k], NULL, false);
		T_RC(badbatch_topology_add(t, &h, k ? BADBATCH_STAGE(0) : 0), k,
		     "add stage %d", k);
	}
	T_RC(tprod_start(&tp, ring, 0, n, 16, NULL), 0, "producer");
	T_RC(tprod_join(&tp, 10000), 0, "producer published %llu first",
	     (unsigned long long)n);
	T_RC(badbatch_topology_start(t), 0, "start");
	T_RC(twait_ge(&r[1].events, 10, 10000), 0, "the stages got going");
	t0 = t_now_ns();
	badbatch_topology_halt(t);
	T_OK(tms(t0) < 100, "halt returns at once (%.1f ms)", tms(t0));
	T_RC(badbatch_topology_join(t), 0, "join after halt");
	T_OK(tms(t0) < 1000, "... promptly (%.1f ms)", tms(t0));
	T_OK(r[0].events < n, "stage 0 stopped with events left (%llu of %llu)",
	     (unsigned long long)r[0].events, (unsigned long long)n);
	T_OK(r[1].events <= r[0].events, "stage 1 behind stage 0 (%llu)",
	     (unsigned long long)r[1].events);
	for (k = 0; k < 2; k++) {
		T_EQ(r[k].shutdowns, 1, "stage %d: on_shutdown once", k);
		T_EQ(r[k].ev_after_shutdown, 0, "stage %d: nothing after it", k);
		T_EQ(r[k].bad_order + r[k].bad_check + r[k].bad_marks, 0,
		     "stage %d: events in order, intact", k);
		if (T_RC(badbatch_topology_stage_stats(t, k, &st), 0, "stats"))
			continue;
		T_EQ(st.seq, r[k].events, "stage %d: its seq is where it stopped", k);
		T_EQ(st.events, r[k].events, "stage %d: stats events", k);
	}
	T_OK(!badbatch_is_halted(ring), "topology halt does not halt the ring");
	badbatch_topology_destroy(t);
	badbatch_close(ring);
	return 0;
}

/* ---- shutdown with a timeout ---------------------------------------------- */

struct release {
	volatile uint32_t gate;
	unsigned int after_ms;
};

static void *release_thread(void *arg)
{
	struct release *rl = arg;

	t_sleep_ms(rl->after_ms);
	__atomic_store_n(&rl->gate, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* stuck: the handler is stuck on its first event for 600 ms. */
static int sub_shutdown_timeout(void *arg)
{
	bool stuck = arg != NULL;
	const uint64_t n = 200;
	struct release rl = { .gate = 0, .after_ms = 600 };
	struct badbatch_topology *t;
	struct badbatch *ring;
	struct badbatch_handler h;
	struct tstage s;
	struct trec r;
	struct tprod tp;
	pthread_t th;
	uint64_t t0;
	double ms;
	int rc;

	if (T_RC(tring(SLOTS, 0, NULL, &ring), 0, "create") ||
	    T_RC(badbatch_topology_create(ring, &t), 0, "topology"))
		return 1;
	tstage_init(&s, &r, 1, SLOTS);
	s.max_batch = 2;
	if (stuck)
		s.gate = &rl.gate;
	else
		s.delay_us = 5000;	/* 200 events: 1 s of work */
	h = thandler(&s, "bbt-slow", false);
	T_RC(badbatch_topology_add(t, &h, 0), 0, "add");
	T_RC(tprod_start(&tp, ring, 0, n, 16, NULL), 0, "producer");
	T_RC(tprod_join(&tp, 10000), 0, "published %llu", (unsigned long long)n);
	T_RC(badbatch_topology_start(t), 0, "start");
	if (stuck) {
		T_RC(twait_ge(&r.calls, 1, 5000), 0,
		     "the handler is stuck in its first event");
		T_RC(-pthread_create(&th, NULL, release_thread, &rl), 0,
		     "release thread");
	}
	t0 = t_now_ns();
	rc = badbatch_topology_shutdown(t, 100000000ULL);
	ms = tms(t0);
	T_RC(rc, -ETIMEDOUT, "%s handler: shutdown(100 ms)", stuck ? "stuck" : "slow");
	/* Documented: on a timeout it halts and returns at once, unjoined. */
	T_OK(ms >= 90 && ms < 450, "returns after ~100 ms (%.0f ms)", ms);
	T_RC(badbatch_topology_join(t), 0, "join afterwards");
	ms = tms(t0);
	if (stuck) {
		pthread_join(th, NULL);
		T_OK(ms >= 500 && ms < 2000,
		     "join waits for the stuck event (%.0f ms)", ms);
		T_OK(r.events <= 2, "then stops: the batch in hand only (%llu)",
		     (unsigned long long)r.events);
	} else {
		T_OK(ms < 1000, "join waits for the batch in hand only (%.0f ms)", ms);
	}
	T_OK(r.events < n, "halted before draining (%llu of %llu)",
	     (unsigned long long)r.events, (unsigned long long)n);
	T_EQ(r.shutdowns, 1, "on_shutdown once, by the end of join");
	T_EQ(r.ev_after_shutdown, 0, "no event after it");
	T_EQ(r.bad_order + r.bad_check, 0, "events in order");
	badbatch_topology_destroy(t);
	badbatch_close(ring);
	return 0;
}

/* ---- shutdown while producing ---------------------------------------------- */

static int sub_shutdown_live(void *arg)
{
	struct badbatch_topology *t;
	struct badbatch *ring;
	struct badbatch_handler h;
	struct tstage s[2];
	struct trec r[2];
	struct tprod tp;
	uint64_t t0, before, after;
	int k, rc;

	(void)arg;
	if (T_RC(tring(SLOTS, BADBATCH_MUTABLE_CONSUMERS, NULL, &ring), 0,
		 "create") || T_RC(badbatch_topology_create(ring, &t), 0, "topology"))
		return 1;
	for (k = 0; k < 2; k++) {
		tstage_init(&s[k], &r[k], 1, SLOTS);
		s[k].mark = k;
		s[k].need = k ? 1 : 0;
		h = thandler(&s[k], NULL, false);
		T_RC(badbatch_topology_add(t, &h, k ? BADBATCH_STAGE(0) : 0), k,
		     "add stage %d", k);
	}
	T_RC(badbatch_topology_start(t), 0, "start");
	T_RC(tprod_start(&tp, ring, 0, UINT64_MAX, 4, NULL), 0,
	     "a producer publishing without end");
	T_RC(twait_ge(&r[1].events, 5000, 20000), 0, "events flow");
	before = tload(&tp.published);
	t0 = t_now_ns();
	rc = badbatch_topology_shutdown(t, 0);
	T_RC(rc, 0, "shutdown(0) while publishing returns (%.0f ms)", tms(t0));
	after = tload(&tp.published);
	t_diag("published %llu before shutdown, %llu after",
	       (unsigned long long)before, (unsigned long long)after);
	for (k = 0; k < 2; k++) {
		T_OK(r[k].events >= before && r[k].events <= after,
		     "stage %d handled all published before the call (%llu)", k,
		     (unsigned long long)r[k].events);
		T_EQ(r[k].bad_order + r[k].bad_check + r[k].bad_marks, 0,
		     "stage %d: order and contents", k);
		T_EQ(r[k].shutdowns, 1, "stage %d: on_shutdown once", k);
		T_EQ(r[k].ev_after_shutdown, 0, "stage %d: nothing after it", k);
	}
	T_SYS(badbatch_halt(ring), "halt the ring");
	T_RC(tprod_join(&tp, 3000), 0, "the producer returned");
	T_RC(tp.rc, -ESHUTDOWN, "... with -ESHUTDOWN");
	badbatch_topology_destroy(t);
	badbatch_close(ring);
	return 0;
}

/* ---- destroy without start, argument errors ------------------------------- */

static int sub_unstarted(void *arg)
{
	struct badbatch_topology *t;
	struct badbatch_stage_stats st;
	struct badbatch_handler h;
	struct badbatch *ring;
	struct tstage s[3];
	struct trec r[3];
	uint64_t all = 0, ids;
	int k;

	(void)arg;
	if (T_RC(tring(SLOTS, 0, NULL, &ring), 0, "create") ||
	    T_RC(badbatch_topology_create(ring, &t), 0, "topology"))
		return 1;
	for (k = 0; k < 3; k++) {
		tstage_init(&s[k], &r[k], 1, SLOTS);
		h = thandler(&s[k], NULL, false);
		T_RC(badbatch_topology_add(t, &h, k ? BADBATCH_STAGE(k - 1) : 0),
		     k, "add stage %d", k);
		ids = badbatch_topology_consumer_ids(t, k);
		T_OK(ids && !(ids & (ids - 1)) && !(ids & all),
		     "stage %d has one consumer id of its own (0x%llx)", k,
		     (unsigned long long)ids);
		all |= ids;
	}
	h = thandler(&s[0], NULL, false);
	h.on_event = NULL;
	T_RC(badbatch_topology_add(t, &h, 0), -EINVAL, "add without on_event");
	h = thandler(&s[0], NULL, false);
	T_RC(badbatch_topology_add(t, &h, BADBATCH_STAGE(5)), -EINVAL,
	     "add after an unknown stage");
	T_EQ(badbatch_topology_consumer_ids(t, 7), 0, "no ids for stage 7");
	T_RC(badbatch_topology_stage_stats(t, 7, &st), -EINVAL, "no stats for stage 7");
	T_EQ(nr_consumers(ring), 3, "3 consumers attached");
	badbatch_topology_destroy(t);
	T_EQ(nr_consumers(ring), 0, "destroy without start detached them");
	for (k = 0; k < 3; k++)
		T_EQ(r[k].starts + r[k].shutdowns + r[k].calls, 0,
		     "stage %d: no callback ran", k);
	badbatch_topology_destroy(NULL);

	/* 64 stages, no more. */
	if (!T_RC(badbatch_topology_create(ring, &t), 0, "topology of 64")) {
		int rc = 0;

		h = thandler(&s[0], NULL, false);
		for (k = 0; k < 64 && rc >= 0; k++)
			rc = badbatch_topology_add(t, &h, 0);
		T_RC(rc, 63, "64 stages added");
		T_RC(badbatch_topology_add(t, &h, 0), -ENOSPC, "the 65th");
		badbatch_topology_destroy(t);
		T_EQ(nr_consumers(ring), 0, "all 64 detached");
	}
	badbatch_close(ring);
	return 0;
}

/* ---- on_batch_start ------------------------------------------------------- */

/* live: the producer runs while the stages do. */
static int sub_batches(void *arg)
{
	bool live = arg != NULL;
	const uint32_t slots = live ? SLOTS : 4096;
	const uint64_t n = live ? 20000 : 4000;
	static const uint32_t maxb[3] = { 100, 0, 1 };
	struct badbatch_topology *t;
	struct badbatch *ring;
	struct badbatch_handler h;
	struct tstage s[3];
	struct trec r[3];
	struct tprod tp;
	int k;

	if (T_RC(tring(slots, 0, NULL, &ring), 0, "create") ||
	    T_RC(badbatch_topology_create(ring, &t), 0, "topology"))
		return 1;
	for (k = 0; k < 3; k++) {
		tstage_init(&s[k], &r[k], 1, slots);
		s[k].max_batch = maxb[k];
		s[k].total = live ? 0 : n;
		h = thandler(&s[k], NULL, false);
		T_RC(badbatch_topology_add(t, &h, 0), k, "add stage %d (max_batch %u)",
		     k, maxb[k]);
	}
	T_RC(tprod_start(&tp, ring, 0, n, 7, NULL), 0, "producer");
	if (!live)
		T_RC(tprod_join(&tp, 20000), 0, "published %llu first",
		     (unsigned long long)n);
	T_RC(badbatch_topology_start(t), 0, "start");
	if (live)
		T_RC(tprod_join(&tp, 30000), 0, "published %llu", (unsigned long long)n);
	T_RC(badbatch_topology_shutdown(t, 0), 0, "shutdown");
	for (k = 0; k < 3; k++) {
		uint32_t lim = maxb[k] ? maxb[k] : slots;

		check_stage(live ? "live" : "published first", t, k, &r[k], n);
		T_EQ(r[k].batch_sum, n, "stage %d: batch sizes sum to N", k);
		T_OK(r[k].batch_max <= lim && !r[k].batch_over && !r[k].batch_zero,
		     "stage %d: every batch 1..%u (max %llu, min %llu)", k, lim,
		     (unsigned long long)r[k].batch_max,
		     (unsigned long long)r[k].batch_min);
		T_OK(r[k].batches >= (n + lim - 1) / lim,
		     "stage %d: %llu batches", k, (unsigned long long)r[k].batches);
		T_EQ(r[k].eob, r[k].batches, "stage %d: one end_of_batch per batch", k);
		T_EQ(r[k].eob_bad, 0, "stage %d: end_of_batch on each batch's last event", k);
		T_EQ(r[k].depth_bad, 0, "stage %d: queue_depth %s", k,
		     live ? "within the ring" : "is the exact backlog");
		if (!live)
			T_EQ(r[k].first_depth, n - (maxb[k] ? maxb[k] : n),
			     "stage %d: first queue_depth", k);
	}
	if (!live)
		T_EQ(r[2].batches, n, "max_batch 1: one event per batch");
	badbatch_topology_destroy(t);
	badbatch_close(ring);
	return 0;
}

/* ---- on_timeout ----------------------------------------------------------- */

static int sub_timeout(void *arg)
{
	struct badbatch_topology *t;
	struct badbatch *ring;
	struct badbatch_handler h;
	struct tstage s[3];
	struct trec r[3];
	struct tprod tp;
	int k;

	(void)arg;
	if (T_RC(tring(SLOTS, 0, NULL, &ring), 0, "create") ||
	    T_RC(badbatch_topology_create(ring, &t), 0, "topology"))
		return 1;
	for (k = 0; k < 3; k++) {
		tstage_init(&s[k], &r[k], 1, SLOTS);
		h = thandler(&s[k], NULL, false);
		if (k == 0) {
			h.wait.strategy = BADBATCH_WAIT_BLOCK;
			h.wait.timeout_ns = 50000000ULL;
		} else if (k == 1) {
			h.wait.strategy = BADBATCH_WAIT_TIMEOUT_BLOCK;
			h.wait.timeout_ns = 30000000ULL;
		}	/* stage 2: no timeout */
		T_RC(badbatch_topology_add(t, &h, 0), k, "add stage %d", k);
	}
	T_RC(badbatch_topology_start(t), 0, "start");
	t_sleep_ms(400);
	T_RC(tprod_start(&tp, ring, 0, 5, 1, NULL), 0, "producer");
	T_RC(tprod_join(&tp, 5000), 0, "5 events published after 400 ms idle");
	for (k = 0; k < 3; k++)
		T_RC(twait_ge(&r[k].events, 5, 5000), 0, "stage %d handled them", k);
	t_sleep_ms(300);
	T_RC(badbatch_topology_shutdown(t, 0), 0, "shutdown");
	for (k = 0; k < 2; k++) {
		T_OK(r[k].timeouts >= 6 && r[k].timeouts <= 40,
		     "stage %d: on_timeout every %s while idle (%llu calls)", k,
		     k ? "30 ms" : "50 ms", (unsigned long long)r[k].timeouts);
		T_EQ(r[k].timeout_bad, 0, "stage %d: on_timeout given the awaited seq", k);
		T_EQ(r[k].last_timeout_seq, 5, "stage %d: ... 5 after the events", k);
		T_EQ(r[k].events, 5, "stage %d: the events handled", k);
	}
	T_EQ(r[2].timeouts, 0, "no timeout_ns: no on_timeout");
	T_RC(badbatch_topology_join(t), 0, "timeouts are no failure");
	badbatch_topology_destroy(t);
	badbatch_close(ring);
	return 0;
}

/* ---- threads -------------------------------------------------------------- */

static int sub_threads(void *arg)
{
	static const char *const names[3] = {
		"bbt-alpha", NULL, "bbt-0123456789abcdef",
	};
	static const char *const comm[3] = {
		"bbt-alpha", "bb-1", "bbt-0123456789a",
	};
	const uint64_t n = 3000;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct badbatch_topology *t;
	struct badbatch *ring;
	struct badbatch_handler h;
	struct tstage s[3];
	struct trec r[3];
	struct tprod tp;
	int k;

	(void)arg;
	if (ncpu < 2) {
		t_diag("skip: one CPU");
		return 0;
	}
	if (T_RC(tring(SLOTS, 0, NULL, &ring), 0, "create") ||
	    T_RC(badbatch_topology_create(ring, &t), 0, "topology"))
		return 1;
	for (k = 0; k < 3; k++) {
		tstage_init(&s[k], &r[k], 1, SLOTS);
		if (k == 0) {
			s[k].pin = true;
			s[k].cpu = 1;
		}
		h = thandler(&s[k], names[k], false);
		T_RC(badbatch_topology_add(t, &h, 0), k, "add stage %d", k);
	}
	T_RC(badbatch_topology_start(t), 0, "start");
	for (k = 0; k < 3; k++) {
		T_RC(twait_ge(&r[k].starts, 1, 5000), 0, "stage %d started", k);
		T_OK(ttask_named(comm[k]), "a task named \"%s\" in /proc/self/task",
		     comm[k]);
	}
	T_RC(tprod_start(&tp, ring, 0, n, 8, NULL), 0, "producer");
	T_RC(tprod_join(&tp, 20000), 0, "producer finished");
	T_RC(badbatch_topology_shutdown(t, 0), 0, "shutdown");
	for (k = 0; k < 3; k++) {
		T_OK(!strcmp(r[k].comm, comm[k]) && !strcmp(r[k].comm_event, comm[k]),
		     "stage %d runs as \"%s\" (on_start \"%s\", on_event \"%s\")",
		     k, comm[k], r[k].comm, r[k].comm_event);
		T_EQ(r[k].events, n, "stage %d handled every event", k);
	}
	T_EQ(r[0].bad_affinity, 0, "pinned stage: affinity is CPU 1 alone");
	T_EQ(r[0].wrong_cpu, 0, "pinned stage: sched_getcpu() == 1 on every event");
	T_OK(ttask_gone("bbt-alpha", 2000), "its thread is gone after shutdown");
	badbatch_topology_destroy(t);
	badbatch_close(ring);
	return 0;
}

static int sub_bad_cpu(void *arg)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	struct badbatch_topology *t;
	struct badbatch *ring;
	struct badbatch_handler h;
	struct tstage s[3];
	struct trec r[3];
	int k, base, now;

	(void)arg;
	if (T_RC(tring(SLOTS, 0, NULL, &ring), 0, "create") ||
	    T_RC(badbatch_topology_create(ring, &t), 0, "topology"))
		return 1;
	for (k = 0; k < 3; k++) {
		tstage_init(&s[k], &r[k], 1, SLOTS);
		if (k == 2) {
			s[k].pin = true;
			s[k].cpu = (int)ncpu + 3;
		}
		h = thandler(&s[k], "bbt-cpu", false);
		T_RC(badbatch_topology_add(t, &h, k ? BADBATCH_STAGE(k - 1) : 0), k,
		     "add stage %d", k);
	}
	base = ttasks();
	T_RC(badbatch_topology_start(t), -EINVAL, "start pinning to CPU %ld", ncpu + 3);
	now = ttasks_settle(base, 1000);
	T_EQ(now, base, "no processor thread left (tasks %d, before %d)", now, base);
	T_OK(!ttask_named("bbt-cpu"), "no task named bbt-cpu");
	T_EQ(r[0].calls + r[1].calls + r[2].calls, 0, "no event handled");
	t_diag("on_start calls %llu %llu %llu, on_shutdown %llu %llu %llu",
	       (unsigned long long)r[0].starts, (unsigned long long)r[1].starts,
	       (unsigned long long)r[2].starts, (unsigned long long)r[0].shutdowns,
	       (unsigned long long)r[1].shutdowns, (unsigned long long)r[2].shutdowns);
	T_OK(!badbatch_is_halted(ring), "the ring is not halted");
	badbatch_topology_destroy(t);
	T_EQ(nr_consumers(ring), 0, "destroyed cleanly");
	T_EQ(ttasks(), base, "still no thread");
	badbatch_close(ring);
	return 0;
}

int main(void)
{
	t_init("lib_processors", 170);
	tsub("lifecycle: start, publish, shutdown(0), exactly N per stage", 20,
	     sub_lifecycle, NULL);
	tsub("halt: abrupt, join returns promptly", 15, sub_halt, NULL);
	tsub("shutdown(timeout) over a slow handler: -ETIMEDOUT", 15,
	     sub_shutdown_timeout, NULL);
	tsub("shutdown(timeout) over a stuck handler: -ETIMEDOUT", 15,
	     sub_shutdown_timeout, (void *)1);
	tsub("shutdown while a producer keeps publishing terminates", 30,
	     sub_shutdown_live, NULL);
	tsub("destroy without start, bad arguments, 64 stages", 15,
	     sub_unstarted, NULL);
	tsub("on_batch_start: all published first", 20, sub_batches, NULL);
	tsub("on_batch_start: live producer", 30, sub_batches, (void *)1);
	tsub("on_timeout while idle", 15, sub_timeout, NULL);
	tsub("threads: names and pinning", 20, sub_threads, NULL);
	tsub("pin to a CPU that does not exist: -EINVAL, no thread", 15,
	     sub_bad_cpu, NULL);
	return t_done();
}
