// SPDX-License-Identifier: GPL-2.0
/*
 * libbadbatch on memory rings with threads: every waiting strategy on
 * both sides (producers waiting for capacity, consumers for events),
 * timeouts and halt for each, a consumer leaving under a blocked
 * producer, and a multi-producer pipeline through badbatch_consume().
 */
#include <string.h>

#include "internal.h"
#include "libutil.h"

#define MAXP	4

struct stream {
	struct badbatch *ring;
	struct badbatch_producer *p[MAXP];
	struct badbatch_consumer *c[2];
	unsigned int producers;
	uint64_t per_producer;
	uint32_t max_claim;
	uint32_t max_batch;	/* asked of badbatch_consume() */
};

struct prod_arg {
	struct stream *s;
	unsigned int id;
};

static void stream_producer(void *arg)
{
	struct prod_arg *pa = arg;
	struct badbatch_producer *p = pa->s->p[pa->id];
	uint64_t rnd = 99 + pa->id, counter = 0, seq, k;

	while (counter < pa->s->per_producer) {
		uint64_t left = pa->s->per_producer - counter;
		uint32_t n = 1 + ut_rand(&rnd) % pa->s->max_claim;

		if (n > left)
			n = (uint32_t)left;
		CHECK_EQ(badbatch_claim(p, n, &seq), 0);
		for (k = seq; k < seq + n; k++)
			lev_fill(badbatch_slot(p, k), k, pa->id, counter++);
		CHECK_EQ(badbatch_publish(p, seq, n), 0);
	}
}

struct cons_state {
	struct stream *s;
	unsigned int idx;
	uint64_t seen;
	uint64_t next_seq;
	uint64_t next[MAXP];
	uint64_t batches;
	uint64_t in_batch;
	uint64_t max_seen_batch;
	bool stamp;		/* mutable ring: stage 0 stamps, 1 checks */
};

static int stream_handler(void *ctx, void *event, uint64_t seq, bool eob)
{
	struct cons_state *cs = ctx;
	struct lev *e = event;

	CHECKF(seq == cs->next_seq, "got %llu, expected %llu",
	       (unsigned long long)seq, (unsigned long long)cs->next_seq);
	CHECKF(e->seq == seq, "event %llu holds %llu",
	       (unsigned long long)seq, (unsigned long long)e->seq);
	CHECK(e->producer < cs->s->producers);
	CHECKF(e->check == lev_check(e) ||
	       (cs->stamp && cs->idx == 1 && e->check == ~lev_check(e)),
	       "event %llu corrupt", (unsigned long long)seq);
	CHECK_EQ(e->counter, cs->next[e->producer]);
	if (cs->stamp) {
		if (cs->idx == 0)
			e->check = ~e->check;	/* stage 0 was here */
		else
			CHECKF(e->check == ~lev_check(e),
			       "stage 1 before stage 0 on %llu",
			       (unsigned long long)seq);
	}
	cs->next[e->producer]++;
	cs->next_seq++;
	cs->seen++;
	cs->in_batch++;
	if (eob) {
		cs->batches++;
		if (cs->in_batch > cs->max_seen_batch)
			cs->max_seen_batch = cs->in_batch;
		cs->in_batch = 0;
	}
	return 0;
}

static void stream_consumer(void *arg)
{
	struct cons_state *cs = arg;
	struct badbatch_consumer *c = cs->s->c[cs->idx];
	uint64_t total = cs->s->per_producer * cs->s->producers;
	int rc;

	while (cs->seen < total) {
		rc = badbatch_consume(c, stream_handler, cs, cs->s->max_batch);
		CHECKF(rc > 0, "consume: %d", rc);
	}
	CHECK_EQ(cs->in_batch, 0);	/* every batch ended with eob */
	if (cs->s->max_batch)
		CHECK(cs->max_seen_batch <= cs->s->max_batch);
}

/*
 * Producers and one or two consumers (fan-out, or a pipeline on a mutable
 * ring) with one strategy for everybody, over a small ring so both sides
 * wait. Busy-spinning needs no more threads than CPUs (2 here).
 */
static void run_stream(enum badbatch_wait strategy, uint64_t timeout_ns,
		       unsigned int producers, uint64_t per_producer,
		       unsigned int consumers, uint32_t slots, bool pipeline,
		       uint32_t max_batch)
{
	struct badbatch_config cfg = {
		.slot_count = slots,
		.slot_size = sizeof(struct lev),
		.flags = (producers > 1 ? BADBATCH_MULTI_PRODUCER : 0) |
			 (pipeline ? BADBATCH_MUTABLE_CONSUMERS : 0),
		.wait = strategy,
	};
	struct badbatch_consumer_config cc = {
		.wait = { .timeout_ns = timeout_ns, .sleep_ns = 2000 },
	};
	struct badbatch_producer_config pc = { .wait = cc.wait };
	struct ut_thread pt[MAXP], ct[2];
	struct prod_arg pa[MAXP];
	struct cons_state cs[2];
	struct stream s;
	unsigned int i;

	memset(&s, 0, sizeof(s));
	memset(cs, 0, sizeof(cs));
	CHECK_EQ(badbatch_memring_create(&cfg, &s.ring), 0);
	s.producers = producers;
	s.per_producer = per_producer;
	s.max_claim = slots / 2;
	s.max_batch = max_batch;
	for (i = 0; i < consumers; i++) {
		cc.deps = pipeline && i ? 1ULL << badbatch_consumer_id(s.c[0]) :
					  0;
		CHECK_EQ(badbatch_consumer_attach(s.ring, &cc, &s.c[i]), 0);
		CHECK_EQ(s.c[i]->part.wait.strategy, strategy - 1);
		cs[i].s = &s;
		cs[i].idx = i;
		cs[i].stamp = pipeline;
		ut_thread_start(&ct[i], stream_consumer, &cs[i]);
	}
	for (i = 0; i < producers; i++) {
		CHECK_EQ(badbatch_producer_attach(s.ring, &pc, &s.p[i]), 0);
		pa[i].s = &s;
		pa[i].id = i;
		ut_thread_start(&pt[i], stream_producer, &pa[i]);
	}
	for (i = 0; i < producers; i++)
		ut_thread_join(&pt[i]);
	for (i = 0; i < consumers; i++) {
		ut_thread_join(&ct[i]);
		CHECK_EQ(cs[i].seen, per_producer * producers);
		CHECK(cs[i].batches > 0 && cs[i].batches <= cs[i].seen);
	}
	for (i = 0; i < producers; i++)
		badbatch_producer_close(s.p[i]);
	for (i = 0; i < consumers; i++)
		badbatch_consumer_close(s.c[i]);
	badbatch_close(s.ring);
}

TEST(lib_wait_busy_spin)
{
	run_stream(BADBATCH_WAIT_BUSY_SPIN, 0, 1, UT_N(40000), 1, 8, false, 0);
}

TEST(lib_wait_yield)
{
	run_stream(BADBATCH_WAIT_YIELD, 0, 2, UT_N(40000), 2, 8, false, 3);
}

TEST(lib_wait_sleep)
{
	run_stream(BADBATCH_WAIT_SLEEP, 0, 1, UT_N(40000), 2, 8, false, 0);
}

/* Memory rings: the blocking strategies sleep on futexes. */
TEST(lib_wait_block_on_futexes)
{
	run_stream(BADBATCH_WAIT_BLOCK, 0, 1, UT_N(30000), 2, 8, true, 0);
	run_stream(BADBATCH_WAIT_TIMEOUT_BLOCK, 10000000000ULL, 2,
		   UT_N(20000), 2, 8, false, 5);
}

TEST(lib_wait_busy_spin_pause)
{
	run_stream(BADBATCH_WAIT_BUSY_SPIN_PAUSE, 0, 1, UT_N(40000), 1, 8,
		   false, 0);
}

/* Phased back-off with its default phases, a futex sleep last. */
TEST(lib_wait_phased_backoff)
{
	run_stream(BADBATCH_WAIT_PHASED_BACKOFF, 0, 2, UT_N(30000), 2, 8,
		   true, 0);
	run_stream(BADBATCH_WAIT_PHASED_BACKOFF, 10000000000ULL, 1,
		   UT_N(30000), 1, 8, false, 3);
}

TEST(lib_wait_lite_block_is_block)
{
	CHECK_EQ(BADBATCH_WAIT_LITE_BLOCK, BADBATCH_WAIT_BLOCK);
	run_stream(BADBATCH_WAIT_LITE_BLOCK, 0, 1, UT_N(20000), 1, 8, false, 0);
}

TEST(lib_mp_pipeline_consume)
{
	run_stream(BADBATCH_WAIT_YIELD, 0, 3, UT_N(30000), 2, 16, true, 7);
}

static void check_timeout(enum badbatch_wait strategy, uint64_t ns)
{
	struct badbatch *ring = mem_ring(4, 32, 0, 0);
	struct badbatch_consumer_config cc = {
		.wait = { .strategy = strategy, .timeout_ns = ns },
	};
	struct badbatch_producer_config pc = { .wait = cc.wait };
	struct badbatch_consumer *c;
	struct badbatch_producer *p;
	uint64_t t0, dt, limit, seq;

	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), 0);
	CHECK_EQ(badbatch_producer_attach(ring, &pc, &p), 0);
	t0 = ut_now_ns();
	CHECK_EQ(badbatch_wait_for(c, &limit), -ETIMEDOUT);
	dt = ut_now_ns() - t0;
	CHECKF(dt >= ns && dt < ns + 2000000000ULL, "waited %llu ns",
	       (unsigned long long)dt);
	CHECK_EQ(badbatch_claim(p, 4, &seq), 0);
	t0 = ut_now_ns();
	CHECK_EQ(badbatch_claim(p, 1, &seq), -ETIMEDOUT);
	dt = ut_now_ns() - t0;
	CHECKF(dt >= ns && dt < ns + 2000000000ULL, "waited %llu ns",
	       (unsigned long long)dt);
	CHECK_EQ(badbatch_publish(p, 0, 4), 0);
	CHECK_EQ(badbatch_wait_for(c, &limit), 0);
	CHECK_EQ(limit, 4);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_timeouts)
{
	check_timeout(BADBATCH_WAIT_BUSY_SPIN, 5000000);
	check_timeout(BADBATCH_WAIT_YIELD, 10000000);
	check_timeout(BADBATCH_WAIT_SLEEP, 20000000);
	check_timeout(BADBATCH_WAIT_BLOCK, 20000000);
	check_timeout(BADBATCH_WAIT_TIMEOUT_BLOCK, 20000000);
	check_timeout(BADBATCH_WAIT_BUSY_SPIN_PAUSE, 5000000);
	check_timeout(BADBATCH_WAIT_PHASED_BACKOFF, 20000000);
}

struct halt_arg {
	struct badbatch_consumer *c;
	struct badbatch_producer *p;
	uint64_t got;
	int rc;
	unsigned int started;
};

static int count_handler(void *ctx, void *event, uint64_t seq, bool eob)
{
	struct halt_arg *ha = ctx;

	CHECK_EQ(((struct lev *)event)->seq, seq);
	bb_store(&ha->got, bb_load(&ha->got) + 1);
	return 0;
}

static void halt_consumer(void *arg)
{
	struct halt_arg *ha = arg;
	int rc;

	bb_store_release(&ha->started, 1);
	while ((rc = badbatch_consume(ha->c, count_handler, ha, 0)) >= 0)
		;
	ha->rc = rc;
}

static void halt_producer(void *arg)
{
	struct halt_arg *ha = arg;
	uint64_t seq;

	bb_store_release(&ha->started, 1);
	ha->rc = badbatch_claim(ha->p, 2, &seq);
}

/*
 * A consumer waiting for events and a producer waiting for capacity, both
 * with strategy (and a timeout far away), are released by a halt: the
 * consumer after reading what was published, both with -ESHUTDOWN.
 */
static void check_halt(enum badbatch_wait strategy)
{
	struct badbatch_wait_config wc = {
		.strategy = strategy, .timeout_ns = 30000000000ULL,
		.sleep_ns = 100000,
	};
	struct badbatch_consumer_config cc = { .wait = wc };
	struct badbatch_producer_config pc = { .wait = wc };
	struct badbatch *ring = mem_ring(4, 32, 0, 0);
	struct halt_arg hc = { 0 }, hp = { 0 };
	struct badbatch_consumer *late_c, *idle;
	struct badbatch_producer *late_p;
	struct ut_thread tc, tp;
	uint64_t seq, limit, t0;

	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &hc.c), 0);
	idle = mem_consumer(ring, 0, 0);	/* gates, never reads */
	CHECK_EQ(badbatch_producer_attach(ring, &pc, &hp.p), 0);
	hc.p = hp.p;
	ut_thread_start(&tc, halt_consumer, &hc);
	while (!bb_load_acquire(&hc.started))
		ut_yield();
	/*
	 * Three events: the consumer reads them and waits for more; the
	 * producer wants two more slots, which idle never frees.
	 */
	CHECK_EQ(badbatch_claim(hp.p, 3, &seq), 0);
	lev_fill(badbatch_slot(hp.p, 0), 0, 0, 0);
	lev_fill(badbatch_slot(hp.p, 1), 1, 0, 1);
	lev_fill(badbatch_slot(hp.p, 2), 2, 0, 2);
	CHECK_EQ(badbatch_publish(hp.p, 0, 3), 0);
	ut_thread_start(&tp, halt_producer, &hp);
	while (!bb_load_acquire(&hp.started) || bb_load(&hc.got) < 3)
		ut_yield();
	t0 = ut_now_ns();
	while (ut_now_ns() - t0 < 20000000ULL)
		ut_yield();	/* both are waiting now */
	CHECK(!badbatch_is_halted(ring));
	CHECK_EQ(badbatch_halt(ring), 0);
	CHECK(badbatch_is_halted(ring));
	ut_thread_join(&tc);
	ut_thread_join(&tp);
	CHECK_EQ(hc.rc, -ESHUTDOWN);
	CHECK_EQ(hc.got, 3);		/* published before the halt: read */
	CHECK_EQ(hp.rc, -ESHUTDOWN);

	CHECK_EQ(badbatch_claim(hp.p, 1, &seq), -ESHUTDOWN);
	CHECK_EQ(badbatch_try_claim(hp.p, 1, &seq), -ESHUTDOWN);
	CHECK_EQ(badbatch_remaining(hp.p), 0);
	CHECK_EQ(badbatch_wait_for(hc.c, &limit), -ESHUTDOWN);
	CHECK_EQ(badbatch_try_wait_for(hc.c, &limit), -ESHUTDOWN);
	CHECK_EQ(badbatch_consumer_attach(ring, NULL, &late_c), -ESHUTDOWN);
	CHECK_EQ(badbatch_producer_attach(ring, NULL, &late_p), -ESHUTDOWN);
	CHECK_EQ(badbatch_producer_halt(hp.p), 0);	/* idempotent */
	badbatch_producer_close(hp.p);
	badbatch_consumer_close(idle);
	badbatch_consumer_close(hc.c);
	badbatch_close(ring);
}

TEST(lib_halt_wakes_and_drains)
{
	enum badbatch_wait w;

	for (w = BADBATCH_WAIT_BUSY_SPIN; w <= BADBATCH_WAIT_PHASED_BACKOFF; w++)
		check_halt(w);
}

/* A try-consumer on a halted ring still drains what was published. */
TEST(lib_halt_try_wait_drains)
{
	struct badbatch *ring = mem_ring(8, 32, 0, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);
	uint64_t seq, limit;

	CHECK_EQ(badbatch_claim(p, 2, &seq), 0);
	CHECK_EQ(badbatch_publish(p, seq, 2), 0);
	CHECK_EQ(badbatch_consumer_halt(c), 0);
	CHECK_EQ(badbatch_try_wait_for(c, &limit), 0);
	CHECK_EQ(limit, 2);
	CHECK_EQ(badbatch_advance(c, 2), 0);
	CHECK_EQ(badbatch_try_wait_for(c, &limit), -ESHUTDOWN);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

struct blocked_arg {
	struct badbatch_producer *p;
	unsigned int done;
	int rc;
};

static void blocked_producer(void *arg)
{
	struct blocked_arg *ba = arg;
	uint64_t seq;

	ba->rc = badbatch_claim(ba->p, 1, &seq);
	bb_store_release(&ba->done, 1);
}

/* A consumer leaving the gating set lets a waiting producer go on. */
TEST(lib_leaving_consumer_unblocks_producer)
{
	struct badbatch *ring = mem_ring(4, 32, 0, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct blocked_arg ba = { 0 };
	struct ut_thread t;
	uint64_t seq, t0;

	ba.p = mem_producer(ring, BADBATCH_WAIT_YIELD);
	CHECK_EQ(badbatch_claim(ba.p, 4, &seq), 0);
	CHECK_EQ(badbatch_publish(ba.p, seq, 4), 0);
	ut_thread_start(&t, blocked_producer, &ba);
	t0 = ut_now_ns();
	while (ut_now_ns() - t0 < 20000000ULL) {
		CHECK(!bb_load_acquire(&ba.done));
		ut_yield();
	}
	badbatch_consumer_close(c);
	ut_thread_join(&t);
	CHECK_EQ(ba.rc, 0);
	badbatch_producer_close(ba.p);
	badbatch_close(ring);
}

/*
 * Publish and halt back to back while the consumer naps: whichever it
 * notices first, it must still deliver the events published before the
 * halt, then report -ESHUTDOWN. Five rounds, fresh rings.
 */
TEST(lib_halt_right_after_publish_drains)
{
	unsigned int round;

	for (round = 0; round < 5; round++) {
		struct badbatch *ring = mem_ring(8, 32, 0, 0);
		struct halt_arg hc = { 0 };
		struct ut_thread tc;
		uint64_t seq, t0, k;

		hc.c = mem_consumer(ring, 0, BADBATCH_WAIT_SLEEP);
		hc.p = mem_producer(ring, 0);
		ut_thread_start(&tc, halt_consumer, &hc);
		while (!bb_load_acquire(&hc.started))
			ut_yield();
		t0 = ut_now_ns();
		while (ut_now_ns() - t0 < 5000000ULL)
			ut_yield();	/* it naps by now */
		CHECK_EQ(badbatch_claim(hc.p, 3, &seq), 0);
		for (k = 0; k < 3; k++)
			lev_fill(badbatch_slot(hc.p, k), k, 0, k);
		CHECK_EQ(badbatch_publish(hc.p, 0, 3), 0);
		CHECK_EQ(badbatch_halt(ring), 0);
		ut_thread_join(&tc);
		CHECK_EQ(hc.rc, -ESHUTDOWN);
		CHECK_EQ(hc.got, 3);
		badbatch_consumer_close(hc.c);
		badbatch_producer_close(hc.p);
		badbatch_close(ring);
	}
}
