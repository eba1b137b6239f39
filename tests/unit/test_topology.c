// SPDX-License-Identifier: GPL-2.0
/*
 * Event processors and topologies on memory rings (threads of this
 * process): a diamond with mutable events, callbacks and their order,
 * batches, shutdown while producing, shutdown timeout, halt, timeouts,
 * the exception handler both ways, start failures. Work pools need the
 * kernel and are tested in the VM.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "libutil.h"

/* A mutable event: stages write their marks, the join checks them. */
struct tev {
	uint64_t seq;
	uint64_t a;
	uint64_t b;
	uint64_t pad;
};

struct tstage {
	int role;		/* 0: writes a, 1: writes b, 2: checks both */
	uint64_t next;
	uint64_t seen;
	uint64_t bad;
	uint64_t batch_sum;
	uint64_t batch_max;
	uint64_t last_eob;	/* end_of_batch seen on seq last_eob - 1 */
	int starts;
	int shutdowns;
	int timeouts;
	int fail_at;		/* on_event fails on this seq (-1: never) */
	int slow_ms;		/* on_event sleeps that long */
	enum badbatch_error_action action;
};

static void nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int t_on_event(void *ctx, void *event, uint64_t seq, bool eob)
{
	struct tstage *s = ctx;
	struct tev *e = event;

	if (s->shutdowns || !s->starts || e->seq != seq || seq != s->next)
		s->bad++;
	s->next = seq + 1;
	if (s->slow_ms)
		nap_ms(s->slow_ms);
	if ((int64_t)seq == s->fail_at)
		return -EBADMSG;
	if (s->role == 0)
		e->a = seq * 3;
	else if (s->role == 1)
		e->b = seq * 5;
	else if (e->a != seq * 3 || e->b != seq * 5)
		s->bad++;
	if (eob)
		s->last_eob = seq + 1;
	s->seen++;
	return 0;
}

static int t_on_start(void *ctx)
{
	struct tstage *s = ctx;

	s->starts++;
	return s->fail_at == -2 ? -ENOKEY : 0;
}

static void t_on_shutdown(void *ctx)
{
	((struct tstage *)ctx)->shutdowns++;
}

static void t_on_batch(void *ctx, uint64_t n, uint64_t depth)
{
	struct tstage *s = ctx;

	(void)depth;
	s->batch_sum += n;
	if (n > s->batch_max)
		s->batch_max = n;
}

static void t_on_timeout(void *ctx, uint64_t seq)
{
	(void)seq;
	((struct tstage *)ctx)->timeouts++;
}

static enum badbatch_error_action t_on_error(void *ctx, int err, void *ev,
					     uint64_t seq)
{
	(void)err;
	(void)ev;
	(void)seq;
	return ((struct tstage *)ctx)->action;
}

static struct badbatch_handler handler(struct tstage *s, int role,
				       enum badbatch_wait strategy)
{
	struct badbatch_handler h = {
		.ctx = s,
		.on_event = t_on_event,
		.on_start = t_on_start,
		.on_shutdown = t_on_shutdown,
		.on_batch_start = t_on_batch,
		.on_timeout = t_on_timeout,
		.on_error = t_on_error,
		.max_batch = 16,
		.wait = { .strategy = strategy },
	};

	memset(s, 0, sizeof(*s));
	s->role = role;
	s->fail_at = -1;
	return h;
}

static int publish_n(struct badbatch_producer *p, uint64_t n)
{
	uint64_t i, seq;
	int rc;

	for (i = 0; i < n; i++) {
		rc = badbatch_claim(p, 1, &seq);
		if (rc)
			return rc;
		((struct tev *)badbatch_slot(p, seq))->seq = seq;
		CHECK_EQ(badbatch_publish(p, seq, 1), 0);
	}
	return 0;
}

struct diamond {
	struct badbatch *ring;
	struct badbatch_producer *p;
	struct badbatch_topology *t;
	struct tstage s[3];
	int stage[3];
};

static void diamond_build(struct diamond *d, enum badbatch_wait strategy,
			  uint32_t slots)
{
	struct badbatch_handler h;

	d->ring = mem_ring(slots, sizeof(struct tev),
			   BADBATCH_MUTABLE_CONSUMERS, 8);
	d->p = mem_producer(d->ring, BADBATCH_WAIT_YIELD);
	CHECK_EQ(badbatch_topology_create(d->ring, &d->t), 0);
	h = handler(&d->s[0], 0, strategy);
	d->stage[0] = badbatch_topology_add(d->t, &h, 0);
	h = handler(&d->s[1], 1, strategy);
	d->stage[1] = badbatch_topology_add(d->t, &h, 0);
	h = handler(&d->s[2], 2, strategy);
	d->stage[2] = badbatch_topology_add(d->t, &h,
					    BADBATCH_STAGE(d->stage[0]) |
					    BADBATCH_STAGE(d->stage[1]));
	CHECK_EQ(d->stage[0], 0);
	CHECK_EQ(d->stage[1], 1);
	CHECK_EQ(d->stage[2], 2);
}

static void diamond_free(struct diamond *d)
{
	badbatch_topology_destroy(d->t);
	badbatch_producer_close(d->p);
	badbatch_close(d->ring);
}

static void diamond_run(enum badbatch_wait strategy)
{
	struct badbatch_stage_stats st;
	uint64_t n = UT_N(100000);
	struct diamond d;
	int i;

	diamond_build(&d, strategy, 256);
	CHECK_EQ(badbatch_topology_start(d.t), 0);
	CHECK_EQ(badbatch_topology_start(d.t), -EALREADY);
	CHECK_EQ(publish_n(d.p, n), 0);
	CHECK_EQ(badbatch_topology_shutdown(d.t, 0), 0);
	for (i = 0; i < 3; i++) {
		CHECK_EQ(d.s[i].seen, n);
		CHECK_EQ(d.s[i].bad, 0);
		CHECK_EQ(d.s[i].starts, 1);
		CHECK_EQ(d.s[i].shutdowns, 1);
		CHECK_EQ(d.s[i].batch_sum, n);
		CHECK(d.s[i].batch_max <= 16);
		CHECK_EQ(d.s[i].last_eob, n);
		CHECK_EQ(badbatch_topology_stage_stats(d.t, i, &st), 0);
		CHECK_EQ(st.events, n);
		CHECK_EQ(st.seq, n);
		CHECK_EQ(st.error, 0);
	}
	CHECK_EQ(badbatch_topology_stage_stats(d.t, 3, &st), -EINVAL);
	diamond_free(&d);
}

TEST(topology_diamond_yield)
{
	diamond_run(BADBATCH_WAIT_YIELD);
}

TEST(topology_diamond_block_without_kernel)
{
	diamond_run(BADBATCH_WAIT_BLOCK);
}

TEST(topology_bad_adds)
{
	struct badbatch_handler h;
	struct tstage s;
	struct diamond d;

	diamond_build(&d, BADBATCH_WAIT_YIELD, 64);
	h = handler(&s, 0, BADBATCH_WAIT_YIELD);
	CHECK_EQ(badbatch_topology_add(d.t, &h, BADBATCH_STAGE(3)), -EINVAL);
	CHECK_EQ(badbatch_topology_add(d.t, &h, BADBATCH_STAGE(63)), -EINVAL);
	h.on_event = NULL;
	CHECK_EQ(badbatch_topology_add(d.t, &h, 0), -EINVAL);
	h = handler(&s, 0, BADBATCH_WAIT_YIELD);
	/* Memory rings have no kernel to count a pool's members. */
	CHECK_EQ(badbatch_topology_add_pool(d.t, &h, 1, 0, 0), -EOPNOTSUPP);
	CHECK_EQ(badbatch_topology_consumer_ids(d.t, 2), 1ULL << 2);
	CHECK_EQ(badbatch_topology_consumer_ids(d.t, 5), 0);
	diamond_free(&d);
}

struct endless {
	struct badbatch_producer *p;
	int rc;
	uint64_t published;
};

static void endless_producer(void *arg)
{
	struct endless *e = arg;
	uint64_t seq;

	for (;;) {
		e->rc = badbatch_claim(e->p, 1, &seq);
		if (e->rc)
			return;
		((struct tev *)badbatch_slot(e->p, seq))->seq = seq;
		badbatch_publish(e->p, seq, 1);
		__atomic_store_n(&e->published, seq + 1, __ATOMIC_RELEASE);
	}
}

TEST(topology_shutdown_while_producing)
{
	struct ut_thread th;
	struct endless e = { 0 };
	struct diamond d;
	int i;

	diamond_build(&d, BADBATCH_WAIT_YIELD, 64);
	e.p = d.p;
	CHECK_EQ(badbatch_topology_start(d.t), 0);
	ut_thread_start(&th, endless_producer, &e);
	while (__atomic_load_n(&e.published, __ATOMIC_ACQUIRE) < 1000)
		sched_yield();
	CHECK_EQ(badbatch_topology_shutdown(d.t, 0), 0);
	for (i = 0; i < 3; i++) {
		CHECK(d.s[i].seen >= 1000);
		CHECK_EQ(d.s[i].bad, 0);
		CHECK_EQ(d.s[i].shutdowns, 1);
	}
	/* The producer now waits for the stopped stages: release it. */
	badbatch_halt(d.ring);
	ut_thread_join(&th);
	CHECK_EQ(e.rc, -ESHUTDOWN);
	diamond_free(&d);
}

TEST(topology_shutdown_timeout_and_halt)
{
	struct badbatch_handler h;
	struct diamond d;
	struct tstage s;
	__u64 t0;

	d.ring = mem_ring(64, sizeof(struct tev), 0, 4);
	d.p = mem_producer(d.ring, BADBATCH_WAIT_YIELD);
	CHECK_EQ(badbatch_topology_create(d.ring, &d.t), 0);
	h = handler(&s, 0, BADBATCH_WAIT_SLEEP);
	s.slow_ms = 20;
	h.max_batch = 1;
	CHECK_EQ(badbatch_topology_add(d.t, &h, 0), 0);
	CHECK_EQ(badbatch_topology_start(d.t), 0);
	CHECK_EQ(publish_n(d.p, 50), 0);
	t0 = bb_now_ns();
	CHECK_EQ(badbatch_topology_shutdown(d.t, 100000000ULL), -ETIMEDOUT);
	CHECK(bb_now_ns() - t0 < 500000000ULL);
	CHECK_EQ(badbatch_topology_join(d.t), 0);
	CHECK(s.seen > 0 && s.seen < 50);
	CHECK_EQ(s.shutdowns, 1);
	CHECK_EQ(s.bad, 0);
	diamond_free(&d);
}

TEST(topology_on_timeout)
{
	struct badbatch_handler h;
	struct diamond d;
	struct tstage s;

	d.ring = mem_ring(64, sizeof(struct tev), 0, 4);
	d.p = mem_producer(d.ring, BADBATCH_WAIT_YIELD);
	CHECK_EQ(badbatch_topology_create(d.ring, &d.t), 0);
	h = handler(&s, 0, BADBATCH_WAIT_SLEEP);
	h.wait.timeout_ns = 20000000ULL;
	CHECK_EQ(badbatch_topology_add(d.t, &h, 0), 0);
	CHECK_EQ(badbatch_topology_start(d.t), 0);
	nap_ms(200);
	badbatch_topology_halt(d.t);
	CHECK_EQ(badbatch_topology_join(d.t), 0);
	CHECK(s.timeouts >= 3 && s.timeouts <= 11);
	CHECK_EQ(s.seen, 0);
	diamond_free(&d);
}

static void error_run(enum badbatch_error_action action)
{
	struct badbatch_stage_stats st;
	struct badbatch_failure f;
	struct diamond d;
	uint64_t n = 500;

	diamond_build(&d, BADBATCH_WAIT_YIELD, 64);
	d.s[0].fail_at = 100;
	d.s[0].action = action;
	CHECK_EQ(badbatch_topology_start(d.t), 0);
	if (action == BADBATCH_ERROR_CONTINUE) {
		CHECK_EQ(publish_n(d.p, n), 0);
		CHECK_EQ(badbatch_topology_shutdown(d.t, 0), 0);
		CHECK_EQ(badbatch_topology_stage_stats(d.t, 0, &st), 0);
		CHECK_EQ(st.errors, 1);
		CHECK_EQ(st.events, n);
		/* Stage 0 never wrote a on event 100: the join noticed. */
		CHECK_EQ(d.s[2].bad, 1);
		CHECK_EQ(d.s[2].seen, n);
		CHECK_EQ(badbatch_get_failure(d.ring, &f), -EAGAIN);
	} else {
		/* The producer is released when the stage halts the ring. */
		CHECK_EQ(publish_n(d.p, n), -ESHUTDOWN);
		CHECK_EQ(badbatch_topology_join(d.t), -EBADMSG);
		CHECK_EQ(badbatch_get_failure(d.ring, &f), 0);
		CHECK_EQ(f.error, EBADMSG);
		CHECK_EQ(f.seq, 100);
		CHECK_EQ(f.consumer_id,
			 bb_ctz64(badbatch_topology_consumer_ids(d.t, 0)));
		CHECK_EQ(d.s[0].seen, 100);
		CHECK_EQ(d.s[2].seen, 100);
		CHECK_EQ(badbatch_topology_stage_stats(d.t, 0, &st), 0);
		CHECK_EQ(st.error, -EBADMSG);
		CHECK_EQ(st.seq, 100);
	}
	diamond_free(&d);
}

TEST(topology_error_continue)
{
	error_run(BADBATCH_ERROR_CONTINUE);
}

TEST(topology_error_halt)
{
	error_run(BADBATCH_ERROR_HALT);
}

TEST(topology_start_failures)
{
	struct badbatch_failure f;
	struct badbatch_handler h;
	struct diamond d;
	struct tstage s;

	d.ring = mem_ring(64, sizeof(struct tev), 0, 4);
	d.p = mem_producer(d.ring, BADBATCH_WAIT_YIELD);
	CHECK_EQ(badbatch_topology_create(d.ring, &d.t), 0);
	h = handler(&s, 0, BADBATCH_WAIT_YIELD);
	h.pin = true;
	h.cpu = CPU_SETSIZE + 1;
	CHECK_EQ(badbatch_topology_add(d.t, &h, 0), 0);
	CHECK_EQ(badbatch_topology_start(d.t), -EINVAL);
	CHECK_EQ(s.starts, 0);
	CHECK_EQ(s.shutdowns, 0);
	badbatch_topology_destroy(d.t);

	/* on_start failing halts the ring with its error. */
	CHECK_EQ(badbatch_topology_create(d.ring, &d.t), 0);
	h = handler(&s, 0, BADBATCH_WAIT_YIELD);
	s.fail_at = -2;
	CHECK_EQ(badbatch_topology_add(d.t, &h, 0), 0);
	CHECK_EQ(badbatch_topology_start(d.t), 0);
	CHECK_EQ(badbatch_topology_join(d.t), -ENOKEY);
	CHECK_EQ(badbatch_get_failure(d.ring, &f), 0);
	CHECK_EQ(f.error, ENOKEY);
	CHECK_EQ(s.shutdowns, 1);
	diamond_free(&d);
}
