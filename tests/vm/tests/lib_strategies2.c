// SPDX-License-Identifier: GPL-2.0
/*
 * Every wait strategy of badbatch.h as the waiting side of a two-process
 * hand-off, for the wakeups lib_strategies.c (throughput flows of the
 * first five strategies, timeouts, halt) does not look at:
 *   - consumer wait: a consumer process waits on an empty ring while the
 *     other process publishes one event every PAUSE_MS, ROUNDS times;
 *   - producer wait: a producer process waits for capacity on a full
 *     ring while the other process frees one slot every PAUSE_MS.
 * Each wait must return after (never before) the event or the room it
 * waited for, within a bound, with the data intact; the strategies that
 * sleep in the kernel (BLOCK = LITE_BLOCK, TIMEOUT_BLOCK, PHASED_BACKOFF)
 * must have slept there (the ring's sleep count), the others never.
 */
#include <badbatch.h>

#include "harness.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define SLOTS		8
#define EVENT_SIZE	64
#define ROUNDS		5
#define PAUSE_MS	30
#define LATENCY_MAX_NS	1000000000ull	/* generous: TCG, 2 vCPUs shared */

static const struct {
	const char *name;
	enum badbatch_wait wait;
	bool sleeps;		/* sleeps in the kernel */
} strategies[] = {
	{ "busy-spin", BADBATCH_WAIT_BUSY_SPIN, false },
	{ "busy-spin-pause", BADBATCH_WAIT_BUSY_SPIN_PAUSE, false },
	{ "yield", BADBATCH_WAIT_YIELD, false },
	{ "sleep", BADBATCH_WAIT_SLEEP, false },
	{ "block", BADBATCH_WAIT_BLOCK, true },
	{ "lite-block", BADBATCH_WAIT_LITE_BLOCK, true },
	{ "timeout-block", BADBATCH_WAIT_TIMEOUT_BLOCK, true },
	{ "phased-backoff", BADBATCH_WAIT_PHASED_BACKOFF, true },
};

struct shared {
	char name[BB_NAME_MAX];
	enum badbatch_wait wait;
	struct t_chan ready;	/* waiter -> parent: 'r', then 'd' per round */
	uint64_t t_ret[ROUNDS];	/* when the waiter's wait returned */
	int rc[ROUNDS];
	uint64_t bad;
};

static struct shared *g;

static uint64_t key(uint64_t seq)
{
	return t_mix(seq * 1009 + 17);
}

static struct badbatch_wait_config wait_cfg(void)
{
	struct badbatch_wait_config w = { .strategy = g->wait };

	/* A timeout no wait here comes near. */
	if (g->wait == BADBATCH_WAIT_TIMEOUT_BLOCK)
		w.timeout_ns = 10000000000ull;
	return w;
}

static void fill(struct badbatch_producer *p, uint64_t seq)
{
	uint64_t *e = badbatch_slot(p, seq);

	e[0] = seq;
	e[1] = key(seq);
}

static bool good(struct badbatch_consumer *c, uint64_t seq)
{
	const uint64_t *e = badbatch_event(c, seq);

	return e[0] == seq && e[1] == key(seq);
}

static uint64_t kernel_sleeps(struct badbatch *ring)
{
	struct badbatch_stats st;

	return badbatch_get_stats(ring, &st) ? UINT64_MAX : st.sleeps;
}

static struct badbatch *new_ring(const char *tag)
{
	struct badbatch_config cfg = {
		.slot_count = SLOTS, .slot_size = EVENT_SIZE,
	};
	struct badbatch *ring;

	snprintf(g->name, sizeof(g->name), "%s", t_name(tag));
	cfg.name = g->name;
	return badbatch_create(&cfg, &ring) ? NULL : ring;
}

/* Was each wait returned after its trigger and soon enough? */
static void check_rounds(const char *wn, const char *what,
			 const uint64_t *t_trig)
{
	uint64_t worst = 0, lat;
	int early = 0, failed = 0, i;

	for (i = 0; i < ROUNDS; i++) {
		if (g->rc[i])
			failed++;
		if (g->t_ret[i] < t_trig[i])
			early++;
		lat = g->t_ret[i] - t_trig[i];
		if (g->t_ret[i] >= t_trig[i] && lat > worst)
			worst = lat;
	}
	T_EQ(failed, 0, "%s: %s: every wait returned 0 (first rc %d)", wn,
	     what, g->rc[0]);
	T_EQ(early, 0, "%s: %s: no wait returned before its trigger", wn, what);
	T_OK(worst < LATENCY_MAX_NS, "%s: %s: worst wake latency %.3f ms", wn,
	     what, worst / 1e6);
}

/* ---- A consumer waiting on an empty ring ----------------------------- */

static int consumer_waiter(void *arg)
{
	struct badbatch_consumer_config cc = { .wait = wait_cfg() };
	struct badbatch_consumer *c;
	struct badbatch *ring;
	uint64_t limit;
	int i, rc;

	(void)arg;
	rc = badbatch_open(g->name, &ring);
	if (!rc)
		rc = badbatch_consumer_attach(ring, &cc, &c);
	t_chan_send(&g->ready, rc ? 'x' : 'r');
	if (rc)
		return 2;
	for (i = 0; i < ROUNDS; i++) {
		g->rc[i] = badbatch_wait_for(c, &limit);
		g->t_ret[i] = t_now_ns();
		if (g->rc[i])
			break;
		if (limit != (uint64_t)i + 1 || !good(c, (uint64_t)i))
			g->bad++;
		badbatch_advance(c, limit);
		t_chan_send(&g->ready, 'd');
	}
	badbatch_consumer_close(c);
	badbatch_close(ring);
	return 0;
}

static void test_consumer_wait(int k)
{
	const char *wn = strategies[k].name;
	uint64_t t_pub[ROUNDS], sleeps, seq;
	struct badbatch_producer *p;
	struct badbatch *ring;
	pid_t pid;
	int i;

	ring = new_ring("s2c");
	if (!T_OK(ring, "%s: consumer wait: create", wn))
		return;
	/* Before the waiter can sleep a first time. */
	sleeps = kernel_sleeps(ring);
	pid = t_spawn("consumer waiter", 60, consumer_waiter, NULL);
	if (!T_OK(t_chan_recv(&g->ready, 10000) == 'r',
		  "%s: consumer process attached", wn) ||
	    badbatch_producer_attach(ring, NULL, &p)) {
		badbatch_close(ring);
		return;
	}
	for (i = 0; i < ROUNDS; i++) {
		t_sleep_ms(PAUSE_MS);
		if (badbatch_claim(p, 1, &seq))
			break;
		fill(p, seq);
		t_pub[i] = t_now_ns();
		badbatch_publish(p, seq, 1);
		if (t_chan_recv(&g->ready, 10000) != 'd')
			break;
	}
	T_EQ(i, ROUNDS, "%s: consumer process got %d events, one at a time",
	     wn, ROUNDS);
	T_CHILD(pid, 10000, "%s: consumer process exited", wn);
	if (i == ROUNDS)
		check_rounds(wn, "consumer wait", t_pub);
	T_EQ(g->bad, 0, "%s: consumer wait: limits and contents", wn);
	sleeps = kernel_sleeps(ring) - sleeps;
	if (strategies[k].sleeps)
		T_OK(sleeps >= ROUNDS,
		     "%s: consumer slept in the kernel (%llu sleeps)", wn,
		     (unsigned long long)sleeps);
	else
		T_EQ(sleeps, 0, "%s: consumer never slept in the kernel", wn);
	badbatch_producer_close(p);
	badbatch_close(ring);
}

/* ---- A producer waiting on a full ring -------------------------------- */

static int producer_waiter(void *arg)
{
	struct badbatch_producer_config pc = { .wait = wait_cfg() };
	struct badbatch_producer *p;
	struct badbatch *ring;
	uint64_t seq;
	int i, rc;

	(void)arg;
	rc = badbatch_open(g->name, &ring);
	if (!rc)
		rc = badbatch_producer_attach(ring, &pc, &p);
	if (!rc)
		rc = badbatch_claim(p, SLOTS, &seq);
	if (!rc) {
		for (i = 0; i < SLOTS; i++)
			fill(p, seq + (uint64_t)i);
		rc = badbatch_publish(p, seq, SLOTS);
	}
	t_chan_send(&g->ready, rc ? 'x' : 'r');
	if (rc)
		return 2;
	for (i = 0; i < ROUNDS; i++) {
		g->rc[i] = badbatch_claim(p, 1, &seq);
		g->t_ret[i] = t_now_ns();
		if (g->rc[i])
			break;
		if (seq != SLOTS + (uint64_t)i)
			g->bad++;
		fill(p, seq);
		badbatch_publish(p, seq, 1);
		t_chan_send(&g->ready, 'd');
	}
	badbatch_producer_close(p);
	badbatch_close(ring);
	return 0;
}

static void test_producer_wait(int k)
{
	const char *wn = strategies[k].name;
	uint64_t t_adv[ROUNDS], sleeps, limit, s;
	struct badbatch_consumer *c;
	struct badbatch *ring;
	uint64_t bad = 0;
	pid_t pid;
	int i;

	ring = new_ring("s2p");
	if (!T_OK(ring, "%s: producer wait: create", wn))
		return;
	if (badbatch_consumer_attach(ring, NULL, &c)) {
		T_OK(0, "%s: producer wait: consumer attach", wn);
		badbatch_close(ring);
		return;
	}
	sleeps = kernel_sleeps(ring);
	pid = t_spawn("producer waiter", 60, producer_waiter, NULL);
	if (!T_OK(t_chan_recv(&g->ready, 10000) == 'r',
		  "%s: producer process filled the ring", wn)) {
		badbatch_consumer_close(c);
		badbatch_close(ring);
		return;
	}
	for (i = 0; i < ROUNDS; i++) {
		t_sleep_ms(PAUSE_MS);
		if (badbatch_try_wait_for(c, &limit))
			break;
		if (!good(c, (uint64_t)i))
			bad++;
		t_adv[i] = t_now_ns();
		badbatch_advance(c, (uint64_t)i + 1);
		if (t_chan_recv(&g->ready, 10000) != 'd')
			break;
	}
	T_EQ(i, ROUNDS, "%s: producer process claimed %d slots, one at a time",
	     wn, ROUNDS);
	T_CHILD(pid, 10000, "%s: producer process exited", wn);
	if (i == ROUNDS)
		check_rounds(wn, "producer wait", t_adv);
	sleeps = kernel_sleeps(ring) - sleeps;
	if (strategies[k].sleeps)
		T_OK(sleeps >= ROUNDS,
		     "%s: producer slept in the kernel (%llu sleeps)", wn,
		     (unsigned long long)sleeps);
	else
		T_EQ(sleeps, 0, "%s: producer never slept in the kernel", wn);
	/* Everything it published, in order and intact. */
	while (!badbatch_try_wait_for(c, &limit)) {
		for (s = badbatch_consumer_seq(c); s < limit; s++)
			if (!good(c, s))
				bad++;
		badbatch_advance(c, limit);
	}
	T_EQ(badbatch_consumer_seq(c), SLOTS + ROUNDS,
	     "%s: producer wait: every event arrived", wn);
	T_EQ(bad + g->bad, 0, "%s: producer wait: claims and contents", wn);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

int main(void)
{
	unsigned int k;

	t_init("lib_strategies2", 250);
	g = t_shared(sizeof(*g));
	T_EQ(BADBATCH_WAIT_LITE_BLOCK, BADBATCH_WAIT_BLOCK,
	     "LITE_BLOCK names BLOCK (lite-blocking already)");
	for (k = 0; k < ARRAY_SIZE(strategies); k++) {
		t_diag("--- %s", strategies[k].name);
		memset(g, 0, sizeof(*g));
		t_chan_init(&g->ready);
		g->wait = strategies[k].wait;
		test_consumer_wait((int)k);
		memset(g->rc, 0, sizeof(g->rc));
		memset(g->t_ret, 0, sizeof(g->t_ret));
		g->bad = 0;
		test_producer_wait((int)k);
		close(g->ready.r);
		close(g->ready.w);
	}
	return t_done();
}
