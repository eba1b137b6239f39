// SPDX-License-Identifier: GPL-2.0
/*
 * The shared protocol on plain memory with threads: single and multi
 * producer streams checked event by event, consumer graphs (pipeline,
 * diamond), gating proven with sequence stamps, and the topology seqlock
 * against a writer thread playing the kernel.
 */
#include <string.h>

#include "harness.h"
#include "plain.h"

#define MAX_PRODUCERS	4
#define MAX_STAGES	3

/* What every test event carries (64-byte slots). */
struct ev {
	__u64 seq;		/* the event's own sequence: its stamp */
	__u64 producer;
	__u64 counter;		/* per-producer order */
	__u64 check;
	__u64 stage[MAX_STAGES];	/* seq + 1 once stage i handled it */
	__u64 pad;
};

static __u64 ev_check(const struct ev *e)
{
	return ut_pattern(e->seq ^ (e->producer << 56) ^ (e->counter << 8), 7);
}

struct world {
	struct plain_ring r;
	unsigned int producers;
	__u64 per_producer;	/* events each producer publishes */
	__u64 total;
	__u64 gating;		/* consumers the producers wait for */
	bool shuffle;		/* publish a batch's events in reverse */
	unsigned int max_batch;
};

struct producer_arg {
	struct world *w;
	unsigned int id;
};

struct consumer_arg {
	struct world *w;
	unsigned int id;
	__u64 deps;		/* 0: the cursor */
	bool stamps;		/* re-read a batch after yielding */
	__u64 seen;
	__u64 next[MAX_PRODUCERS];
};

/*
 * Before writing slot seq, every gating consumer must have finished the
 * event one ring earlier: its sequence is above seq - size, and (for
 * graphs) the last stage stamped it.
 */
static void check_gated(struct world *w, __u64 seq)
{
	__u64 g = w->gating;

	while (g) {
		unsigned int id = bb_ctz64(g);
		__u64 done = bb_load_acquire(plain_seq(&w->r, id));

		g &= g - 1;
		CHECKF(done + w->r.v.size > seq,
		       "producer at %llu overwrites: consumer %u at %llu",
		       (unsigned long long)seq, id, (unsigned long long)done);
	}
}

static void producer_body(void *arg)
{
	struct producer_arg *pa = arg;
	struct world *w = pa->w;
	struct bb_producer_cache pc = { 0 };
	uint64_t rnd = 0x1234567ULL * (pa->id + 1);
	__u64 counter = 0;

	while (counter < w->per_producer) {
		__u64 left = w->per_producer - counter, lo, seq;
		__u32 n = 1 + ut_rand(&rnd) % w->max_batch;

		if (n > left)
			n = left;
		lo = plain_claim(&w->r, &pc, n);
		for (seq = lo; seq < lo + n; seq++) {
			struct ev *e = bb_slot(&w->r.v, seq);

			check_gated(w, seq);
			e->seq = seq;
			e->producer = pa->id;
			e->counter = counter++;
			e->check = ev_check(e);
			memset(e->stage, 0, sizeof(e->stage));
		}
		if (w->shuffle && (ut_rand(&rnd) & 1)) {
			for (seq = lo + n; seq-- > lo;)
				bb_publish(&w->r.v, seq, 1);
		} else {
			bb_publish(&w->r.v, lo, n);
		}
	}
}

static void check_event(struct consumer_arg *ca, const struct ev *e,
			__u64 seq)
{
	struct world *w = ca->w;
	unsigned int i;

	CHECKF(e->seq == seq, "consumer %u: slot of %llu holds %llu", ca->id,
	       (unsigned long long)seq, (unsigned long long)e->seq);
	CHECKF(e->producer < w->producers, "producer %llu",
	       (unsigned long long)e->producer);
	CHECKF(e->check == ev_check(e), "consumer %u: event %llu corrupt",
	       ca->id, (unsigned long long)seq);
	CHECKF(e->counter == ca->next[e->producer],
	       "consumer %u: producer %llu counter %llu, expected %llu",
	       ca->id, (unsigned long long)e->producer,
	       (unsigned long long)e->counter,
	       (unsigned long long)ca->next[e->producer]);
	ca->next[e->producer]++;
	/* Every stage this consumer follows has handled the event. */
	for (i = 0; i < MAX_STAGES; i++)
		if (ca->deps & (1ULL << i))
			CHECKF(bb_load(&e->stage[i]) == seq + 1,
			       "consumer %u ran before stage %u on %llu",
			       ca->id, i, (unsigned long long)seq);
}

static void consumer_body(void *arg)
{
	struct consumer_arg *ca = arg;
	struct world *w = ca->w;
	__u64 seq = bb_load(plain_seq(&w->r, ca->id)), limit, s;

	while (ca->seen < w->total) {
		limit = plain_wait(&w->r, ca->id, seq, w->r.v.size);
		for (s = seq; s < limit; s++)
			check_event(ca, bb_slot(&w->r.v, s), s);
		if (ca->stamps) {
			/* Nobody may overwrite what we have not released. */
			ut_yield();
			for (s = seq; s < limit; s++) {
				struct ev *e = bb_slot(&w->r.v, s);

				CHECKF(bb_load(&e->seq) == s,
				       "slot of %llu overwritten by %llu",
				       (unsigned long long)s,
				       (unsigned long long)e->seq);
			}
		}
		for (s = seq; s < limit && ca->id < MAX_STAGES; s++) {
			struct ev *e = bb_slot(&w->r.v, s);

			bb_store(&e->stage[ca->id], s + 1);
		}
		ca->seen += limit - seq;
		bb_consumer_advance(&w->r.v, plain_seq(&w->r, ca->id), ca->id,
				    limit);
		seq = limit;
	}
	CHECK_EQ(ca->seen, w->total);
}

/*
 * Run producers and consumers over a fresh ring. deps[i] is consumer i's
 * dependency mask; every consumer checks every event's stamp, content,
 * per-producer order and the stages it follows.
 */
static void run_world(__u32 slots, bool multi, unsigned int producers,
		      __u64 per_producer, unsigned int consumers,
		      const __u64 *deps, bool stamps, unsigned int max_batch)
{
	__u64 depv[BB_MAX_CONSUMERS] = { 0 };
	struct ut_thread pt[MAX_PRODUCERS], ct[MAX_STAGES];
	struct producer_arg pa[MAX_PRODUCERS];
	struct consumer_arg ca[MAX_STAGES];
	struct world w;
	unsigned int i, p;

	memset(&w, 0, sizeof(w));
	memset(ca, 0, sizeof(ca));
	plain_init(&w.r, slots, sizeof(struct ev), multi, 8);
	w.producers = producers;
	w.per_producer = per_producer;
	w.total = per_producer * producers;
	w.shuffle = multi;
	w.max_batch = max_batch;
	for (i = 0; i < consumers; i++)
		depv[i] = deps[i];
	plain_topology(&w.r, (1ULL << consumers) - 1, depv);
	w.gating = w.r.hdr->gating_mask;
	CHECK(w.gating != 0);

	for (i = 0; i < consumers; i++) {
		ca[i].w = &w;
		ca[i].id = i;
		ca[i].deps = deps[i];
		ca[i].stamps = stamps;
		ut_thread_start(&ct[i], consumer_body, &ca[i]);
	}
	for (p = 0; p < producers; p++) {
		pa[p].w = &w;
		pa[p].id = p;
		ut_thread_start(&pt[p], producer_body, &pa[p]);
	}
	for (p = 0; p < producers; p++)
		ut_thread_join(&pt[p]);
	for (i = 0; i < consumers; i++) {
		ut_thread_join(&ct[i]);
		CHECK_EQ(ca[i].seen, w.total);
		for (p = 0; p < producers; p++)
			CHECK_EQ(ca[i].next[p], per_producer);
	}
	CHECK_EQ(bb_load(&w.r.prod->claim), w.total);
	if (!multi)
		CHECK_EQ(bb_load(&w.r.prod->cursor), w.total);
	plain_free(&w.r);
}

static const __u64 fanout[MAX_STAGES];

TEST(conc_sp_stream_wraps)
{
	run_world(64, false, 1, UT_N(300000), 1, fanout, false, 16);
}

TEST(conc_mp_2_producers)
{
	run_world(16, true, 2, UT_N(60000), 1, fanout, false, 4);
}

TEST(conc_mp_3_producers)
{
	run_world(16, true, 3, UT_N(40000), 2, fanout, false, 3);
}

TEST(conc_mp_4_producers)
{
	run_world(8, true, 4, UT_N(30000), 2, fanout, false, 2);
}

/* 0 follows the cursor, 1 follows 0, 2 follows 1; only 2 gates. */
TEST(conc_pipeline_3_stages)
{
	static const __u64 deps[MAX_STAGES] = { 0, 1ULL << 0, 1ULL << 1 };

	run_world(32, false, 1, UT_N(150000), 3, deps, false, 8);
	run_world(16, true, 2, UT_N(40000), 3, deps, false, 4);
}

/* 0 and 1 follow the cursor, 2 follows both; only 2 gates. */
TEST(conc_diamond)
{
	static const __u64 deps[MAX_STAGES] = { 0, 0, 0x3 };

	run_world(32, false, 1, UT_N(150000), 3, deps, false, 8);
	run_world(16, true, 3, UT_N(30000), 3, deps, false, 3);
}

/*
 * Tiny ring, consumers that hold a batch across a yield and re-read every
 * stamp, and a producer checking the gating consumers before each write.
 */
TEST(conc_gating_never_overwrites)
{
	run_world(4, false, 1, UT_N(100000), 2, fanout, true, 4);
	run_world(4, true, 2, UT_N(30000), 2, fanout, true, 2);
}

/*
 * The topology seqlock: a writer thread (the kernel) briefly adds a slow
 * consumer to the gating mask inside each write section and takes it out
 * again. A reader that ignored topo_seq would see its sequence (5); a
 * correct one only ever sees the stable answer (1000).
 */
struct seqlock_arg {
	struct plain_ring *r;
	unsigned int rounds;
	unsigned int done;
};

static void seqlock_writer(void *arg)
{
	struct seqlock_arg *sa = arg;
	struct bb_ring_header *h = sa->r->hdr;
	unsigned int i, spin;

	for (i = 0; i < sa->rounds; i++) {
		__u32 seq = bb_load(&h->topo_seq);

		bb_store(&h->topo_seq, seq + 1);
		/* Pairs with the acquire loads in bb_gating_min(). */
		__atomic_thread_fence(__ATOMIC_RELEASE);
		bb_store(&h->gating_mask, 0x3ULL);
		bb_store(&h->consumers[1].flags,
			 BB_CONSUMER_ACTIVE | BB_CONSUMER_GATING);
		/* A wide window, but never preempted here (the kernel's is not). */
		for (spin = 0; spin < 64; spin++)
			bb_cpu_relax();
		bb_store(&h->gating_mask, 0x1ULL);
		bb_store(&h->consumers[1].flags, BB_CONSUMER_ACTIVE);
		bb_store_release(&h->topo_seq, seq + 2);
		if (i % 16 == 0)
			ut_yield();
	}
	bb_store_release(&sa->done, 1);
}

static void seqlock_reader(void *arg)
{
	struct seqlock_arg *sa = arg;
	unsigned long calls = 0;

	while (!bb_load_acquire(&sa->done) || calls < 1000) {
		__u64 min = bb_gating_min(&sa->r->v, 2000);

		CHECKF(min == 1000, "gating minimum %llu from a torn topology",
		       (unsigned long long)min);
		calls++;
	}
}

TEST(conc_topology_seqlock_retry)
{
	__u64 deps[BB_MAX_CONSUMERS] = { 0, 0x1 };
	struct seqlock_arg sa = { 0 };
	struct ut_thread wt, rt;
	struct plain_ring r;

	plain_init(&r, 16, 8, false, 4);
	plain_topology(&r, 0x3, deps);	/* 1 follows 0: only 0 gates */
	CHECK_EQ(r.hdr->gating_mask, 0x2);
	deps[1] = 0;
	plain_topology(&r, 0x1, deps);
	CHECK_EQ(r.hdr->gating_mask, 0x1);
	bb_store(plain_seq(&r, 0), 1000);
	bb_store(plain_seq(&r, 1), 5);
	sa.r = &r;
	sa.rounds = UT_N(100000);
	ut_thread_start(&rt, seqlock_reader, &sa);
	ut_thread_start(&wt, seqlock_writer, &sa);
	ut_thread_join(&wt);
	ut_thread_join(&rt);
	plain_free(&r);
}

/* A reader facing an odd topo_seq waits for the writer to finish. */
struct odd_arg {
	struct plain_ring *r;
	__u64 result;
	unsigned int done;
};

static void odd_reader(void *arg)
{
	struct odd_arg *oa = arg;

	oa->result = bb_gating_min(&oa->r->v, 2000);
	bb_store_release(&oa->done, 1);
}

TEST(conc_topology_seqlock_odd_waits)
{
	__u64 deps[BB_MAX_CONSUMERS] = { 0 };
	struct odd_arg oa = { 0 };
	struct ut_thread t;
	struct plain_ring r;
	__u64 t0;

	plain_init(&r, 16, 8, false, 4);
	plain_topology(&r, 0x1, deps);
	bb_store(plain_seq(&r, 0), 1000);
	bb_store(plain_seq(&r, 1), 7);
	bb_store(&r.hdr->topo_seq, r.hdr->topo_seq + 1);	/* writer in */
	oa.r = &r;
	ut_thread_start(&t, odd_reader, &oa);
	t0 = ut_now_ns();
	while (ut_now_ns() - t0 < 30000000ULL) {
		CHECK(!bb_load_acquire(&oa.done));
		ut_yield();
	}
	bb_store(&r.hdr->gating_mask, 0x3ULL);
	bb_store_release(&r.hdr->topo_seq, r.hdr->topo_seq + 1);
	ut_thread_join(&t);
	CHECK(oa.done);
	CHECK_EQ(oa.result, 7);
	plain_free(&r);
}
