// SPDX-License-Identifier: GPL-2.0
/*
 * libbadbatch event processors against the real device: the exception
 * handler and failures.
 *
 *   - on_error CONTINUE: the failed event counts done, later events are
 *     handled, stats count the errors, the stage after sees every event;
 *   - on_event failing with HALT (or no on_error): the ring halts with a
 *     failure record (the stage's consumer id, the seq, the errno); a
 *     producer blocked on the full ring gets -ESHUTDOWN promptly; the
 *     stage after stops before the failed event; join returns the error;
 *     a consumer in another process gets -ESHUTDOWN and the same record;
 *   - on_start failing: the same, with seq = the stage's start.
 *
 * Each subtest runs in its own process (tsub()).
 */
#include "procs.h"

#define SLOTS	256

static uint64_t stage_id(struct badbatch_topology *t, int stage)
{
	return (uint64_t)tfirst_id(badbatch_topology_consumer_ids(t, stage));
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

int main(void)
{
	t_init("lib_proc_errors", 100);
	tsub("on_error CONTINUE", 20, sub_continue, NULL);
	tsub("on_event fails, no on_error: ring halted with the failure", 20,
	     sub_halt_on_error, NULL);
	tsub("on_event fails, on_error HALT: ring halted with the failure", 20,
	     sub_halt_on_error, (void *)1);
	tsub("on_start fails: ring halted with the failure", 15,
	     sub_start_fails, NULL);
	return t_done();
}
