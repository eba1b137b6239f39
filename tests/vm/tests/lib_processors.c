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
 *   - the exception handler: CONTINUE counts and goes on; HALT (or no
 *     on_error) halts the ring with a failure record (consumer id, seq,
 *     errno) that a blocked producer, downstream stages, join and a
 *     consumer in another process all see; on_start failing does the same;
 *   - threads: names in /proc/self/task/N/comm, pinning, a CPU that does
 *     not exist (-EINVAL, no thread left).
 *
 * Each subtest runs in its own process (tsub()).
 */
#include "procs.h"

#define SLOTS	256

static uint64_t stage_id(struct badbatch_topology *t, int stage)
{
	return (uint64_t)tfirst_id(badbatch_topology_consumer_ids(t, stage));
}

/* The stage handled exactly n events, in order, and saw nothing wrong. */
static void check_stage(const char *what, struct badbatch_topology *t,
			int stage, const struct trec *r, uint64_t n)
{
	struct badbatch_stage_stats st;

	T_EQ(r->events, n, "%s: stage %d handled every event", what, stage);
	T_EQ(r->calls, n, "%s: stage %d: each once", what, stage);
	T_EQ(r->bad_order + r->bad_check + r->bad_pnext + r->bad_marks +
	     r->bad_own, 0, "%s: stage %d: order, contents, marks (first bad %llu)",
	     what, stage, (unsigned long long)r->first_bad);
	T_EQ(r->starts, 1, "%s: stage %d: on_start once", what, stage);
	T_EQ(r->ev_before_start + r->start_seq_calls, 0,
	     "%s: stage %d: on_start before any event", what, stage);
	T_EQ(r->shutdowns, 1, "%s: stage %d: on_shutdown once", what, stage);
	T_EQ(r->ev_after_shutdown, 0, "%s: stage %d: no event after on_shutdown",
	     what, stage);
	if (!T_RC(badbatch_topology_stage_stats(t, stage, &st), 0,
		 "%s: stage %d stats", what, stage)) {
		T_EQ(st.events, n, "%s: stage %d stats: events", what, stage);
		T_EQ(st.errors, 0, "%s: stage %d stats: errors", what, stage);
		T_EQ(st.seq, n, "%s: stage %d stats: seq", what, stage);
		T_EQ(st.batches, r->batches,
		     "%s: stage %d stats: batches = on_batch_start calls", what, stage);
		T_RC(st.error, 0, "%s: stage %d stats: error", what, stage);
	}
}

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

/* ---- the exception handler: CONTINUE -------------------------------------- */

static int sub_continue(void *arg)
{
	const uint64_t n = 5000;
	struct badbatch_topology *t;
	struct badbatch_stage_stats st;
	struct badbatch *ring;
	struct badbatch_handler h;
	struct tstage s[2];
	struct trec r[2];
	struct tprod tp;
	int k;

	(void)arg;
	if (T_RC(tring(SLOTS, BADBATCH_MUTABLE_CONSUMERS, NULL, &ring), 0,
		 "create") || T_RC(badbatch_topology_create(ring, &t), 0, "topology"))
		return 1;
	for (k = 0; k < 2; k++) {
		tstage_init(&s[k], &r[k], 1, SLOTS);
		s[k].mark = k;
		s[k].need = k ? 1 : 0;
	}
	s[0].fail_mod = 100;
	s[0].fail_rem = 7;
	s[0].fail_err = -EIO;
	s[0].action = BADBATCH_ERROR_CONTINUE;
	h = thandler(&s[0], NULL, true);
	T_RC(badbatch_topology_add(t, &h, 0), 0, "add failing stage");
	h = thandler(&s[1], NULL, false);
	T_RC(badbatch_topology_add(t, &h, BADBATCH_STAGE(0)), 1, "add stage after it");
	T_RC(badbatch_topology_start(t), 0, "start");
	T_RC(tprod_start(&tp, ring, 0, n, 8, NULL), 0, "producer");
	T_RC(tprod_join(&tp, 30000), 0, "producer finished");
	T_RC(tp.rc, 0, "published %llu", (unsigned long long)n);
	T_RC(badbatch_topology_shutdown(t, 0), 0, "shutdown: failures continued are no failure");
	T_EQ(r[0].fails, n / 100, "on_event failed on every 100th event");
	T_EQ(r[0].errors, n / 100, "on_error called for each");
	T_EQ(r[0].error_bad, 0, "on_error given the failed event");
	T_RC(r[0].last_err, -EIO, "on_error given on_event's value");
	T_EQ(r[0].last_err_seq, n - 100 + 7, "on_error given its seq");
	T_EQ(r[0].calls, n, "stage 0 got every event once");
	T_EQ(r[0].bad_order + r[0].bad_check, 0, "stage 0: order and contents");
	if (!T_RC(badbatch_topology_stage_stats(t, 0, &st), 0, "stage 0 stats")) {
		T_EQ(st.events, n, "stage 0 stats: the failed events count done");
		T_EQ(st.errors, n / 100, "stage 0 stats: errors");
		T_EQ(st.seq, n, "stage 0 stats: seq");
		T_RC(st.error, 0, "stage 0 stats: error");
	}
	check_stage("continue", t, 1, &r[1], n);
	T_OK(!badbatch_is_halted(ring), "the ring is not halted");
	badbatch_topology_destroy(t);
	badbatch_close(ring);
	return 0;
}

/* ---- the exception handler: HALT, and on_start failing ---------------------- */

struct ext {
	struct t_chan ready;
	const char *name;
	uint64_t seen, bad;
	int rc, frc, crc;
	struct badbatch_failure f, cf;
};

static int ext_on_event(void *ctx, void *event, uint64_t seq, bool eob)
{
	struct ext *x = ctx;
	const struct tev *e = event;

	if (e->check != tev_check(e) || e->counter != seq)
		x->bad++;
	x->seen++;
	return 0;
}

/* A consumer of the cursor in another process: until the ring halts. */
static int ext_consumer(void *arg)
{
	struct ext *x = arg;
	struct badbatch_consumer *c;
	struct badbatch *ring;
	int rc;

	rc = badbatch_open(x->name, &ring);
	if (!rc)
		rc = badbatch_consumer_attach(ring, NULL, &c);
	t_chan_send(&x->ready, rc ? 'x' : 'r');
	if (rc)
		return 2;
	do
		rc = badbatch_consume(c, ext_on_event, x, 0);
	while (rc >= 0 || rc == -ETIMEDOUT || rc == -EINTR);
	x->rc = rc;
	x->frc = badbatch_get_failure(ring, &x->f);
	x->crc = badbatch_consumer_get_failure(c, &x->cf);
	badbatch_consumer_close(c);
	badbatch_close(ring);
	return 0;
}

/* arg: 0 no on_error, 1 on_error says HALT. */
static int sub_halt_on_error(void *arg)
{
	bool with_error = arg != NULL;
	const uint64_t n = 5000, bad = 777;
	struct ext *x = t_shared(sizeof(*x));
	struct badbatch_topology *t;
	struct badbatch_failure f;
	struct badbatch_stage_stats st;
	struct badbatch *ring;
	struct badbatch_handler h;
	struct tstage s[2];
	struct trec r[2];
	struct tprod tp;
	uint64_t t0, id0;
	pid_t pid;
	int k, rc;

	x->name = t_name(with_error ? "halt-err" : "halt-noerr");
	t_chan_init(&x->ready);
	if (T_RC(tring(SLOTS, BADBATCH_MUTABLE_CONSUMERS, x->name, &ring), 0,
		 "create") || T_RC(badbatch_topology_create(ring, &t), 0, "topology"))
		return 1;
	pid = t_spawn("ext consumer", 30, ext_consumer, x);
	T_OK(t_chan_recv(&x->ready, 10000) == 'r', "a consumer in another process");
	for (k = 0; k < 2; k++) {
		tstage_init(&s[k], &r[k], 1, SLOTS);
		s[k].mark = k;
		s[k].need = k ? 1 : 0;
	}
	s[0].fail_on = true;
	s[0].fail_seq = bad;
	s[0].fail_err = -EPROTO;
	s[0].action = BADBATCH_ERROR_HALT;
	h = thandler(&s[0], NULL, with_error);
	T_RC(badbatch_topology_add(t, &h, 0), 0, "add failing stage");
	h = thandler(&s[1], NULL, false);
	T_RC(badbatch_topology_add(t, &h, BADBATCH_STAGE(0)), 1, "add stage after it");
	id0 = stage_id(t, 0);
	T_RC(badbatch_topology_start(t), 0, "start");
	T_RC(tprod_start(&tp, ring, 0, n, 1, NULL), 0, "producer of %llu (> ring)",
	     (unsigned long long)n);
	rc = tjoin_bounded(t, ring, 8000, &t0);
	T_RC(rc, -EPROTO, "join returns on_event's error (%.0f ms)", t0 / 1e6);
	T_OK(badbatch_is_halted(ring), "the ring is halted");
	if (!T_RC(badbatch_get_failure(ring, &f), 0, "failure record")) {
		T_EQ(f.error, EPROTO, "failure: errno");
		T_EQ(f.consumer_id, id0, "failure: stage 0's consumer id");
		T_EQ(f.seq, bad, "failure: seq");
	}
	T_RC(tprod_join(&tp, 5000), 0, "the blocked producer returned");
	T_RC(tp.rc, -ESHUTDOWN, "... with -ESHUTDOWN");
	T_OK(tp.end_ns > r[0].fail_ns && tp.end_ns - r[0].fail_ns < 2000000000ULL,
	     "... within 2 s of the failure (%.0f ms)",
	     (double)(tp.end_ns - r[0].fail_ns) / 1e6);
	T_OK(tp.published > bad && tp.published < n,
	     "it had published %llu", (unsigned long long)tp.published);
	T_EQ(r[0].events, bad, "stage 0 handled the events before");
	T_EQ(r[0].calls, bad + 1, "... and stopped at the failed one");
	T_EQ(r[0].errors, with_error ? 1 : 0, "on_error called %s",
	     with_error ? "once" : "never (none)");
	if (with_error) {
		T_RC(r[0].last_err, -EPROTO, "on_error given on_event's value");
		T_EQ(r[0].last_err_seq, bad, "on_error given the seq");
		T_EQ(r[0].error_bad, 0, "on_error given the event");
	}
	if (!T_RC(badbatch_topology_stage_stats(t, 0, &st), 0, "stage 0 stats")) {
		T_EQ(st.errors, 1, "stage 0 stats: 1 error");
		T_RC(st.error, -EPROTO, "stage 0 stats: stopped by it");
		T_EQ(st.seq, bad, "stage 0 stats: seq at the failed event");
		T_EQ(st.events, bad, "stage 0 stats: events");
	}
	T_OK(r[1].events <= bad && (r[1].calls == 0 || r[1].last_seq < bad),
	     "the downstream stage stopped before the failed event (%llu)",
	     (unsigned long long)r[1].events);
	T_EQ(r[1].bad_marks + r[1].bad_order, 0, "... having seen stage 0's marks");
	for (k = 0; k < 2; k++)
		T_EQ(r[k].shutdowns, 1, "stage %d: on_shutdown once", k);
	T_CHILD(pid, 10000, "the other process's consumer returned");
	T_RC(x->rc, -ESHUTDOWN, "... with -ESHUTDOWN");
	T_OK(x->seen > bad && x->seen <= tp.published && !x->bad,
	     "... after the events published (%llu)", (unsigned long long)x->seen);
	T_RC(x->frc, 0, "... read the failure record");
	T_OK(x->f.error == EPROTO && x->f.consumer_id == id0 && x->f.seq == bad,
	     "... the same (%d, %u, %llu)", x->f.error, x->f.consumer_id,
	     (unsigned long long)x->f.seq);
	T_OK(!x->crc && x->cf.error == EPROTO && x->cf.consumer_id == id0 &&
	     x->cf.seq == bad, "... also through its consumer");
	badbatch_topology_destroy(t);
	badbatch_close(ring);
	return 0;
}

static int sub_start_fails(void *arg)
{
	struct badbatch_topology *t;
	struct badbatch_failure f;
	struct badbatch *ring;
	struct badbatch_handler h;
	struct tstage s[3];
	struct trec r[3];
	struct tprod tp;
	uint64_t t0, id0;
	int k;

	(void)arg;
	if (T_RC(tring(SLOTS, 0, NULL, &ring), 0, "create") ||
	    T_RC(badbatch_topology_create(ring, &t), 0, "topology"))
		return 1;
	for (k = 0; k < 3; k++) {
		tstage_init(&s[k], &r[k], 1, SLOTS);
		h = thandler(&s[k], NULL, false);
		T_RC(badbatch_topology_add(t, &h, k == 1 ? BADBATCH_STAGE(0) : 0), k,
		     "add stage %d", k);
	}
	s[0].start_err = -EMLINK;
	id0 = stage_id(t, 0);
	T_RC(tprod_start(&tp, ring, 0, 10, 1, NULL), 0, "producer");
	T_RC(tprod_join(&tp, 5000), 0, "10 events published");
	T_RC(badbatch_topology_start(t), 0, "start");
	T_RC(tjoin_bounded(t, ring, 5000, &t0), -EMLINK,
	     "join returns on_start's error (%.0f ms)", t0 / 1e6);
	T_OK(badbatch_is_halted(ring), "the ring is halted");
	if (!T_RC(badbatch_get_failure(ring, &f), 0, "failure record")) {
		T_EQ(f.error, EMLINK, "failure: errno");
		T_EQ(f.consumer_id, id0, "failure: stage 0's id");
		T_EQ(f.seq, 0, "failure: seq = its start");
	}
	T_EQ(r[0].starts, 1, "on_start ran once");
	T_EQ(r[0].calls, 0, "no event for the failed stage");
	T_EQ(r[1].calls, 0, "nor for the stage after it");
	T_EQ(r[2].bad_order + r[2].bad_check, 0, "the parallel stage: intact events");
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
	T_OK(!ttask_named("bbt-alpha"), "its thread is gone after shutdown");
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
	tsub("on_error CONTINUE", 20, sub_continue, NULL);
	tsub("on_event fails, no on_error: ring halted with the failure", 20,
	     sub_halt_on_error, NULL);
	tsub("on_event fails, on_error HALT: ring halted with the failure", 20,
	     sub_halt_on_error, (void *)1);
	tsub("on_start fails: ring halted with the failure", 15,
	     sub_start_fails, NULL);
	tsub("threads: names and pinning", 20, sub_threads, NULL);
	tsub("pin to a CPU that does not exist: -EINVAL, no thread", 15,
	     sub_bad_cpu, NULL);
	return t_done();
}
