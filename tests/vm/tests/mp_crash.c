// SPDX-License-Identifier: GPL-2.0
/*
 * Multi-producer producers that die at any instant (kernel/bb_pclaims.c,
 * include/badbatch/record.h): a victim process is SIGKILLed
 *   (a) right after badbatch_claim() returns,
 *   (b) mid-batch: claimed 5, published 2,
 *   (c) blocked in the library waiting for capacity on a full ring,
 *   (d) inside BB_IOC_CLAIM, holding a kernel-mediated claim,
 *   (e) with its claim record in flight, built with the raw ABI: an intent
 *       whose CAS never ran; a CAS won and never recorded (nothing else
 *       explains the frontier: released as abandoned), also with an idle
 *       library producer attached (it keeps its record: released) or an
 *       idle raw one (it keeps none: the ring fails with EOWNERDEAD), or
 *       while a live producer shows an intent from the same frontier
 *       (either may have won: the ring fails); an intent whose CAS
 *       another live producer won and recorded at once, or 30 ms later
 *       (settled by the kernel's delayed re-check); a garbage record (the
 *       ring fails);
 *   (f) holding more claims than its record has entries (the ring fails),
 *   (g) and a producer closing with claims outstanding.
 * A survivor then produces in another process: nobody hangs (every wait
 * is bounded), the consumer sees every event live producers published
 * exactly once and in per-producer order, the dead producer's holes are
 * skipped, and the library's count of them agrees with STATS.abandoned;
 * or the ring reports the failure record.
 */
#include <badbatch.h>

#include "harness.h"

#define SLOTS		16
#define SURVIVOR_EVENTS	2000
#define NPROD		4	/* producer ids in event keys */
#define P_VICTIM	1
#define P_SURVIVOR	2
#define P_WINNER	3
/*
 * The live winner's claim: more than the victim's 3, so the frontier
 * alone cannot tell the kernel that the victim lost.
 */
#define WINNER_N	4

struct event {
	uint64_t key;		/* producer << 32 | counter */
	uint64_t pad;
};

struct shared {
	__u32 step;		/* victim/winner progress, for the parent */
	__u32 go;		/* parent to winner, bystander, idle producer */
	__u32 idle_ready;	/* the idle producer is attached */
	__u64 lo;		/* the frontier the raw victim used */
};

static struct shared *sh;

struct seen {
	uint64_t next[NPROD];
	uint64_t bad;
};

static int on_event(void *ctx, void *event, uint64_t seq, bool end)
{
	struct seen *s = ctx;
	const struct event *e = event;
	uint64_t p = e->key >> 32, n = e->key & 0xffffffffu;

	(void)seq;
	(void)end;
	if (p >= NPROD || n != s->next[p]) {
		if (s->bad++ < 5)
			t_diag("event %llu: key 0x%llx, want counter %llu",
			       (unsigned long long)seq,
			       (unsigned long long)e->key,
			       (unsigned long long)(p < NPROD ? s->next[p] :
						    0));
		return 0;
	}
	s->next[p]++;
	return 0;
}

static struct badbatch *make_ring(const char *tag)
{
	struct badbatch_config cfg = {
		.slot_count = SLOTS,
		.slot_size = sizeof(struct event),
		.flags = BADBATCH_MULTI_PRODUCER,
		.max_consumers = 4,
		.wait = BADBATCH_WAIT_BLOCK,
		.name = t_name(tag),
	};
	struct badbatch *ring = NULL;
	int rc = badbatch_create(&cfg, &ring);

	T_EQ(rc, 0, "%s: create a multi-producer ring", tag);
	return rc ? NULL : ring;
}

static struct badbatch_consumer *make_consumer(struct badbatch *ring)
{
	struct badbatch_consumer_config cfg = {
		.wait = { .strategy = BADBATCH_WAIT_TIMEOUT_BLOCK,
			  .timeout_ns = 20000000 },
	};
	struct badbatch_consumer *c = NULL;

	if (badbatch_consumer_attach(ring, &cfg, &c))
		return NULL;
	return c;
}

static struct badbatch_producer *make_producer(struct badbatch *ring)
{
	struct badbatch_producer_config cfg = {
		.wait = { .strategy = BADBATCH_WAIT_BLOCK },
	};
	struct badbatch_producer *p = NULL;

	if (badbatch_producer_attach(ring, &cfg, &p))
		return NULL;
	return p;
}

static void fill(struct badbatch_producer *p, uint64_t seq, uint32_t n,
		 unsigned int id, uint64_t *counter)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct event *e = badbatch_slot(p, seq + i);

		e->key = (uint64_t)id << 32 | (*counter)++;
		e->pad = 0;
	}
}

/* Child: SURVIVOR_EVENTS events in batches of 1..3, then close. */
static int survivor(void *arg)
{
	struct badbatch_producer *p = make_producer(arg);
	uint64_t counter = 0, seq;
	uint32_t n;
	int rc;

	if (!p)	/* a failed ring refuses new producers */
		return badbatch_is_halted(arg) ? 0 : 3;
	while (counter < SURVIVOR_EVENTS) {
		n = 1 + counter % 3;
		if (n > SURVIVOR_EVENTS - counter)
			n = (uint32_t)(SURVIVOR_EVENTS - counter);
		rc = badbatch_claim(p, n, &seq);
		if (rc == -ESHUTDOWN)
			break;
		if (rc)
			return 4;
		fill(p, seq, n, P_SURVIVOR, &counter);
		badbatch_publish(p, seq, n);
	}
	badbatch_producer_close(p);
	return 0;
}

/* (a) */
static int victim_after_claim(void *arg)
{
	struct badbatch_producer *p = make_producer(arg);
	uint64_t counter = 0, seq;

	if (!p || badbatch_claim(p, 3, &seq))
		return 3;
	fill(p, seq, 3, P_VICTIM, &counter);
	raise(SIGKILL);
	return 5;
}

/* (b) */
static int victim_mid_batch(void *arg)
{
	struct badbatch_producer *p = make_producer(arg);
	uint64_t counter = 0, seq;

	if (!p || badbatch_claim(p, 5, &seq))
		return 3;
	fill(p, seq, 5, P_VICTIM, &counter);
	badbatch_publish(p, seq, 2);
	raise(SIGKILL);
	return 5;
}

/* (c): fill the ring, then block for one more slot. */
static int victim_blocked(void *arg)
{
	struct badbatch_producer *p = make_producer(arg);
	uint64_t counter = 0, seq;

	if (!p || badbatch_claim(p, SLOTS, &seq))
		return 3;
	fill(p, seq, SLOTS, P_VICTIM, &counter);
	badbatch_publish(p, seq, SLOTS);
	__atomic_store_n(&sh->step, 1, __ATOMIC_RELEASE);
	badbatch_claim(p, 1, &seq);
	return 5;
}

/* (d): a kernel-mediated claim held, then blocked inside BB_IOC_CLAIM. */
static int victim_in_ioctl(void *arg)
{
	struct badbatch_producer *p = make_producer(arg);
	__u64 seq;

	if (!p || t_claim_ioctl(badbatch_producer_fd(p), 2, 0, 0, &seq))
		return 3;
	__atomic_store_n(&sh->step, 1, __ATOMIC_RELEASE);
	t_claim_ioctl(badbatch_producer_fd(p), SLOTS, 0, 0, &seq);
	return 5;
}

/* (f): more outstanding claims than the record has entries. */
static int victim_overflow(void *arg)
{
	struct badbatch_producer *p = make_producer(arg);
	uint64_t seq;
	int i;

	if (!p)
		return 3;
	for (i = 0; i < BB_RECORD_RANGES + 1; i++)
		if (badbatch_claim(p, 1, &seq))
			return 4;
	sh->lo = seq + 1;	/* the frontier: the failure's seq */
	raise(SIGKILL);
	return 5;
}

/* (g): claims left unpublished at close are released, not a failure. */
static int closer(void *arg)
{
	struct badbatch_producer *p = make_producer(arg);
	uint64_t counter = 0, seq;

	if (!p || badbatch_claim(p, 3, &seq))
		return 3;
	fill(p, seq, 3, P_VICTIM, &counter);
	badbatch_producer_close(p);
	return 0;
}

/* ---- raw ABI victims: the record in states the library passes through */

static struct bb_claim_record *raw_record(struct t_ring *r)
{
	if (r->info.records_off == 0 || r->info.record_id >= BB_MAX_RECORDS)
		return NULL;
	return (struct bb_claim_record *)((unsigned char *)r->prod_m +
					  r->info.records_off) +
	       r->info.record_id;
}

enum raw_mode { RAW_INTENT_ONLY, RAW_WON_UNRECORDED, RAW_INTENT_LOST,
		RAW_GARBAGE, RAW_WON_CONTESTED };

struct raw_arg {
	const char *name;
	enum raw_mode mode;
};

static int raw_victim(void *arg)
{
	const struct raw_arg *a = arg;
	struct bb_claim_record *rec;
	struct t_ring r;
	__u64 f;

	if (t_join(&r, a->name, BB_ROLE_PRODUCER, BB_ID_ANY, 0))
		return 3;
	rec = raw_record(&r);
	if (!rec)
		return 4;
	f = bb_load(&r.v.prod->claim);
	sh->lo = f;
	switch (a->mode) {
	case RAW_INTENT_ONLY:
		bb_store(&rec->intent_lo, f);
		bb_store(&rec->intent_n, 3);
		break;
	case RAW_WON_UNRECORDED:
		bb_store(&rec->intent_lo, f);
		bb_store(&rec->intent_n, 3);
		if (!bb_cas(&r.v.prod->claim, &f, f + 3))
			return 6;
		break;
	case RAW_WON_CONTESTED:
		bb_store(&rec->intent_lo, f);
		bb_store(&rec->intent_n, 3);
		if (!bb_cas(&r.v.prod->claim, &f, f + 3))
			return 6;
		/* A bystander shows an intent from f too, then we die. */
		__atomic_store_n(&sh->step, 1, __ATOMIC_RELEASE);
		if (t_wait_u32(&sh->step, 2, 5000))
			return 7;
		break;
	case RAW_INTENT_LOST:
		bb_store(&rec->intent_lo, f);
		bb_store(&rec->intent_n, 3);
		/* The winner takes the CAS from f, then we die. */
		__atomic_store_n(&sh->step, 1, __ATOMIC_RELEASE);
		if (t_wait_u32(&sh->step, 2, 5000))
			return 7;
		break;
	case RAW_GARBAGE:
		bb_store(&rec->nr, 1000);
		break;
	}
	raise(SIGKILL);
	return 5;
}

/*
 * A live raw producer that shows an intent from sh->lo and sits on it,
 * as one stopped between its CAS and its record would.
 */
static int raw_bystander(void *arg)
{
	struct bb_claim_record *rec;
	struct t_ring r;

	if (t_join(&r, arg, BB_ROLE_PRODUCER, BB_ID_ANY, 0))
		return 3;
	rec = raw_record(&r);
	if (!rec || t_wait_u32(&sh->step, 1, 5000))
		return 4;
	bb_record_keep(rec);	/* it keeps its record, as the library does */
	bb_store(&rec->intent_lo, sh->lo);
	bb_store(&rec->intent_n, 1);
	__atomic_store_n(&sh->step, 2, __ATOMIC_RELEASE);
	if (t_wait_u32(&sh->go, 1, 10000))
		return 5;
	bb_store(&rec->intent_n, 0);
	t_ring_close(&r);
	return 0;
}

/* A live raw producer that wins the CAS from sh->lo; records after delay. */
struct winner_arg {
	const char *name;
	unsigned int record_delay_ms;
};

static int raw_winner(void *arg)
{
	const struct winner_arg *a = arg;
	struct bb_claim_record *rec;
	struct t_ring r;
	struct event *e;
	__u64 f;
	int i;

	if (t_join(&r, a->name, BB_ROLE_PRODUCER, BB_ID_ANY, 0))
		return 3;
	rec = raw_record(&r);
	if (!rec || t_wait_u32(&sh->step, 1, 5000))
		return 4;
	bb_record_keep(rec);
	f = sh->lo;
	bb_store(&rec->intent_lo, f);
	bb_store(&rec->intent_n, WINNER_N);
	if (!bb_cas(&r.v.prod->claim, &f, f + WINNER_N))
		return 6;
	if (!a->record_delay_ms)
		bb_record_claimed(rec, f, f + WINNER_N);
	__atomic_store_n(&sh->step, 2, __ATOMIC_RELEASE);
	if (a->record_delay_ms) {
		t_sleep_ms(a->record_delay_ms);
		bb_record_claimed(rec, f, f + WINNER_N);
	}
	if (t_wait_u32(&sh->go, 1, 10000))
		return 7;
	for (i = 0; i < WINNER_N; i++) {
		e = bb_slot(&r.v, f + i);
		e->key = (uint64_t)P_WINNER << 32 | (uint64_t)i;
	}
	t_fast_publish(&r, f, WINNER_N);
	bb_record_published(rec, f, f + WINNER_N);
	t_ring_close(&r);
	return 0;
}

/*
 * A producer that attaches, claims nothing and stays until told: through
 * the library (which keeps its record) or raw (which does not).
 */
struct idle_arg {
	struct badbatch *ring;
	const char *name;
	bool library;
};

static int idle_producer(void *arg)
{
	const struct idle_arg *a = arg;
	struct badbatch_producer *p = NULL;
	struct t_ring r;

	if (a->library ? !(p = make_producer(a->ring)) :
			 t_join(&r, a->name, BB_ROLE_PRODUCER, BB_ID_ANY, 0))
		return 3;
	__atomic_store_n(&sh->idle_ready, 1, __ATOMIC_RELEASE);
	t_wait_u32(&sh->go, 1, 30000);
	if (p)
		badbatch_producer_close(p);
	else
		t_ring_close(&r);
	return 0;
}

/* ---- the parent's side */

/*
 * Consume until every producer in want[] was seen that often and the
 * consumer reached the claim frontier, or the ring halted and drained.
 * Bounded: 20 s.
 */
static int drain(struct badbatch *ring, struct badbatch_consumer *c,
		 struct seen *s, const uint64_t *want)
{
	uint64_t end = t_now_ns() + 20000000000ull;
	struct badbatch_stats st;
	int rc, p;

	while (t_now_ns() < end) {
		rc = badbatch_consume(c, on_event, s, 0);
		if (rc == -ESHUTDOWN)
			return rc;
		if (rc < 0 && rc != -ETIMEDOUT && rc != -EINTR)
			return rc;
		for (p = 0; p < NPROD; p++)
			if (s->next[p] < want[p])
				break;
		if (p < NPROD)
			continue;
		if (badbatch_get_stats(ring, &st))
			return -EIO;
		if (badbatch_consumer_seq(c) == st.cursor)
			return 0;
	}
	return -ETIMEDOUT;
}

struct expect {
	uint64_t victim;	/* victim events the consumer must see */
	uint64_t abandoned;
	bool fail;		/* the ring fails with EOWNERDEAD */
};

/*
 * Check the end state after the victim died: the survivor ran (or was
 * stopped by the failure), the consumer saw what it must, the counts.
 */
static void check_after(const char *tag, struct badbatch *ring,
			struct badbatch_consumer *c, const struct expect *x,
			const uint64_t *extra)
{
	uint64_t want[NPROD] = { 0 };
	struct badbatch_failure f;
	struct badbatch_stats st;
	struct seen s;
	pid_t surv;
	int rc, p;

	memset(&s, 0, sizeof(s));
	want[P_VICTIM] = x->victim;
	want[P_SURVIVOR] = x->fail ? 0 : SURVIVOR_EVENTS;
	for (p = 0; extra && p < NPROD; p++)
		want[p] += extra[p];
	surv = t_spawn("survivor", 30, survivor, ring);
	rc = drain(ring, c, &s, want);
	if (x->fail) {
		T_EQ(rc, -ESHUTDOWN, "%s: the consumer drains, then sees the failure", tag);
		T_EQ(badbatch_get_failure(ring, &f), 0, "%s: get the failure", tag);
		T_EQ(f.error, EOWNERDEAD, "%s: fail_error EOWNERDEAD", tag);
		T_EQ(f.consumer_id, BADBATCH_NO_ID, "%s: fail_by BB_ID_ANY", tag);
		T_EQ(f.seq, sh->lo, "%s: fail_seq is the dead intent's frontier", tag);
	} else {
		T_EQ(rc, 0, "%s: the consumer reaches the frontier (no hang)", tag);
		T_OK(!badbatch_is_halted(ring), "%s: the ring runs on", tag);
	}
	T_CHILD(surv, 30000, "%s: the survivor producer finishes", tag);
	T_EQ(s.bad, 0, "%s: every event once, in per-producer order", tag);
	for (p = 0; p < NPROD; p++)
		if (want[p])
			T_EQ(s.next[p], want[p], "%s: producer %d's events all seen", tag, p);
	T_EQ(badbatch_get_stats(ring, &st), 0, "%s: stats", tag);
	if (!x->fail) {
		T_EQ(st.abandoned, x->abandoned, "%s: STATS.abandoned", tag);
		T_EQ(badbatch_consumer_abandoned(c), st.abandoned,
		     "%s: the library skipped as many as the kernel flagged", tag);
		T_EQ(badbatch_consumer_seq(c),
		     x->victim + x->abandoned + SURVIVOR_EVENTS +
		     (extra ? extra[P_WINNER] : 0),
		     "%s: holes + events = the frontier", tag);
	}
}

/* A fresh ring with the checking consumer attached and sh cleared. */
static struct badbatch *ring_and_consumer(const char *tag,
					  struct badbatch_consumer **cp)
{
	struct badbatch *ring = make_ring(tag);

	*cp = NULL;
	if (!ring)
		return NULL;
	*cp = make_consumer(ring);
	T_OK(*cp != NULL, "%s: consumer attached", tag);
	if (!*cp) {
		badbatch_close(ring);
		return NULL;
	}
	memset(sh, 0, sizeof(*sh));
	return ring;
}

static void scenario(const char *tag, t_child_fn victim, bool parent_kills,
		     const struct expect *x)
{
	struct badbatch_consumer *c;
	struct badbatch *ring = ring_and_consumer(tag, &c);
	pid_t v;

	if (!ring)
		return;
	v = t_spawn("victim", 20, victim, ring);
	if (parent_kills) {
		T_EQ(t_wait_u32(&sh->step, 1, 10000), 0, "%s: victim ready", tag);
		t_sleep_ms(100);	/* let it block */
		kill(v, SIGKILL);
	}
	if (victim == closer)
		T_CHILD(v, 10000, "%s: the producer closed", tag);
	else
		T_CHILD_SIG(v, 10000, SIGKILL, "%s: victim SIGKILLed", tag);
	check_after(tag, ring, c, x, NULL);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

static void raw_scenario(const char *tag, enum raw_mode mode,
			 int winner_delay_ms, const struct expect *x)
{
	struct raw_arg ra = { .mode = mode };
	struct winner_arg wa = { .record_delay_ms = (unsigned)winner_delay_ms };
	uint64_t extra[NPROD] = { 0 };
	struct badbatch_consumer *c;
	struct badbatch *ring = ring_and_consumer(tag, &c);
	pid_t v, w = -1;
	uint64_t t0;

	if (!ring)
		return;
	ra.name = wa.name = t_name(tag);
	if (winner_delay_ms >= 0)
		w = t_spawn("winner", 20, raw_winner, &wa);
	v = t_spawn("raw-victim", 20, raw_victim, &ra);
	T_CHILD_SIG(v, 10000, SIGKILL, "%s: victim SIGKILLed", tag);
	t0 = t_now_ns();
	if (w > 0) {
		/* The winner publishes after the kernel looked. */
		t_sleep_ms(60 + winner_delay_ms);
		T_OK(!badbatch_is_halted(ring),
		     "%s: a CAS won by a live producer is not the dead one's", tag);
		__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
		extra[P_WINNER] = WINNER_N;
	}
	check_after(tag, ring, c, x, extra);
	if (w > 0)
		T_CHILD(w, 10000, "%s: the winner publishes and closes", tag);
	if (x->fail)
		T_OK(t_now_ns() - t0 < 5000000000ull,
		     "%s: failed within 5 s (%llu ms)", tag,
		     (unsigned long long)((t_now_ns() - t0) / 1000000));
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

/*
 * The dead producer won its CAS from lo and recorded nothing while an
 * idle producer is attached: one through the library keeps its record,
 * so the win is released; a raw one that keeps none could have won
 * anything, so the kernel must not guess and the ring fails.
 */
static void idle_scenario(const char *tag, bool library,
			  const struct expect *x)
{
	struct raw_arg ra = { .mode = RAW_WON_UNRECORDED };
	struct badbatch_consumer *c;
	struct badbatch *ring = ring_and_consumer(tag, &c);
	struct idle_arg ia = { .ring = ring, .library = library };
	pid_t v, idle;

	if (!ring)
		return;
	ra.name = ia.name = t_name(tag);
	idle = t_spawn("idle", 60, idle_producer, &ia);
	T_EQ(t_wait_u32(&sh->idle_ready, 1, 10000), 0,
	     "%s: an idle producer attached", tag);
	v = t_spawn("raw-victim", 20, raw_victim, &ra);
	T_CHILD_SIG(v, 10000, SIGKILL, "%s: victim SIGKILLed", tag);
	check_after(tag, ring, c, x, NULL);
	__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
	T_CHILD(idle, 10000, "%s: the idle producer leaves", tag);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

/*
 * The dead producer won its CAS from lo and recorded nothing, while a
 * live one shows an intent from lo as well and stays: either may have
 * won, so the kernel must not guess. The ring fails, nothing abandoned.
 */
static void contested_scenario(const char *tag)
{
	struct badbatch *ring = make_ring(tag);
	struct raw_arg ra = { .mode = RAW_WON_CONTESTED };
	struct badbatch_failure f;
	struct badbatch_stats st;
	pid_t v, b;
	uint64_t t0;

	if (!ring)
		return;
	ra.name = t_name(tag);
	memset(sh, 0, sizeof(*sh));
	b = t_spawn("bystander", 20, raw_bystander, (void *)ra.name);
	v = t_spawn("raw-victim", 20, raw_victim, &ra);
	T_CHILD_SIG(v, 10000, SIGKILL, "%s: victim SIGKILLed", tag);
	t0 = t_now_ns();
	while (!badbatch_is_halted(ring) && t_now_ns() - t0 < 5000000000ull)
		t_sleep_ms(10);
	T_OK(badbatch_is_halted(ring), "%s: failed within 5 s (%llu ms)", tag,
	     (unsigned long long)((t_now_ns() - t0) / 1000000));
	T_EQ(badbatch_get_failure(ring, &f), 0, "%s: get the failure", tag);
	T_EQ(f.error, EOWNERDEAD, "%s: fail_error EOWNERDEAD", tag);
	T_EQ(f.seq, sh->lo, "%s: fail_seq is the dead intent's frontier", tag);
	T_EQ(badbatch_get_stats(ring, &st), 0, "%s: stats", tag);
	T_EQ(st.abandoned, 0, "%s: nothing abandoned on a guess", tag);
	__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
	T_CHILD(b, 10000, "%s: the bystander leaves", tag);
	badbatch_close(ring);
}

int main(void)
{
	static const struct expect a = { .victim = 0, .abandoned = 3 };
	static const struct expect b = { .victim = 2, .abandoned = 3 };
	static const struct expect cc = { .victim = SLOTS, .abandoned = 0 };
	static const struct expect d = { .victim = 0, .abandoned = 2 };
	static const struct expect none = { 0 };
	static const struct expect fail = { .fail = true };
	struct bb_info in;
	struct t_ring probe;

	t_init("mp_crash", 240);
	sh = t_shared(sizeof(*sh));

	/* Does this module have claim records at all? */
	if (t_ring_new(&probe, BB_RING_MULTI_PRODUCER, SLOTS, 16, 1,
		       t_name("probe")) == 0) {
		struct t_ring pr;

		if (t_join(&pr, t_name("probe"), BB_ROLE_PRODUCER, BB_ID_ANY, 0) == 0) {
			in = pr.info;
			T_OK(in.records_off >= in.avail_off + 4ull * SLOTS &&
			     in.record_id < BB_MAX_RECORDS &&
			     in.records_off + (in.record_id + 1ull) *
			     sizeof(struct bb_claim_record) <= in.producer_len,
			     "INFO gives a multi-producer producer its record (off %llu id %u)",
			     (unsigned long long)in.records_off, in.record_id);
			t_ring_close(&pr);
		}
		t_ring_close(&probe);
	}

	scenario("after-claim", victim_after_claim, false, &a);
	scenario("mid-batch", victim_mid_batch, false, &b);
	scenario("blocked", victim_blocked, true, &cc);
	scenario("in-ioctl", victim_in_ioctl, true, &d);
	scenario("close", closer, false, &a);
	raw_scenario("intent-only", RAW_INTENT_ONLY, -1, &none);
	raw_scenario("intent-lost", RAW_INTENT_LOST, 0, &none);
	raw_scenario("intent-late", RAW_INTENT_LOST, 30, &none);
	/* Nothing but its own CAS explains the frontier: released. */
	raw_scenario("won-unrecorded", RAW_WON_UNRECORDED, -1, &a);
	idle_scenario("won-idle-kept", true, &a);
	idle_scenario("won-idle-raw", false, &fail);
	contested_scenario("won-contested");
	sh->lo = 0;
	raw_scenario("garbage", RAW_GARBAGE, -1, &fail);
	scenario("overflow", victim_overflow, false, &fail);
	return t_done();
}
