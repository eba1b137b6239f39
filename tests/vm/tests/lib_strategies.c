// SPDX-License-Identifier: GPL-2.0
/*
 * libbadbatch against the real device, across processes, for every wait
 * strategy:
 *   - producer processes publish through badbatch_claim()/publish()
 *     (batches of 1..7) into a named ring; consumer A follows the cursor
 *     and B follows A, each in its own process, attached by name, both
 *     through badbatch_consume(). Each checks every event's content,
 *     per-producer order and that it saw each exactly once; B also that
 *     A had stamped the event first (the ring lets consumers write).
 *     Single- and multi-producer.
 *   - a consumer waiting on an idle ring and a producer waiting on a
 *     full one return -ETIMEDOUT after their timeout;
 *   - a consumer process blocked with the strategy drains what was
 *     published and returns -ESHUTDOWN when the ring is halted.
 */
#include <badbatch.h>

#include "harness.h"

#define EVENTS		20000
#define SLOTS		64
#define EVENT_SIZE	64
#define MAX_PRODUCERS	2

struct event {
	uint64_t producer;
	uint64_t counter;
	uint64_t check;
	uint64_t stamp;		/* written by consumer A, checked by B */
	uint64_t pad[4];
};

struct result {
	uint64_t seen;
	uint64_t bad;
	uint64_t batches;
	int rc;
};

struct flow {
	const char *name;
	enum badbatch_wait wait;
	uint64_t timeout_ns;
	uint32_t producers;
	struct result res[2];		/* A, B */
	uint64_t next[2][MAX_PRODUCERS];
	struct t_chan ready;
};

static struct flow *g_flow;		/* shared between the processes */

static const char *const wait_names[] = {
	[BADBATCH_WAIT_BUSY_SPIN] = "busy-spin",
	[BADBATCH_WAIT_YIELD] = "yield",
	[BADBATCH_WAIT_SLEEP] = "sleep",
	[BADBATCH_WAIT_BLOCK] = "block",
	[BADBATCH_WAIT_TIMEOUT_BLOCK] = "timeout-block",
};

static uint64_t event_check(const struct event *e)
{
	return t_mix(e->producer * 1000003 + e->counter);
}

static struct badbatch_wait_config wait_cfg(void)
{
	struct badbatch_wait_config w = {
		.strategy = g_flow->wait,
		.timeout_ns = g_flow->timeout_ns,
	};
	return w;
}

static int on_event(void *ctx, void *slot, uint64_t seq, bool end_of_batch)
{
	int stage = (int)(intptr_t)ctx;
	struct result *r = &g_flow->res[stage];
	struct event *e = slot;
	uint64_t *next;

	(void)seq;
	r->batches += end_of_batch;
	if (e->producer >= g_flow->producers || e->check != event_check(e)) {
		r->bad++;
		return 0;
	}
	next = &g_flow->next[stage][e->producer];
	if (e->counter != *next)
		r->bad++;
	*next = e->counter + 1;
	if (stage == 0)
		e->stamp = e->check ^ 0xa5a5a5a5a5a5a5a5ull;
	else if (e->stamp != (e->check ^ 0xa5a5a5a5a5a5a5a5ull))
		r->bad++;
	r->seen++;
	return 0;
}

static int consumer_main(void *arg)
{
	int stage = (int)(intptr_t)arg;
	struct badbatch_consumer_config cfg = {
		.want_id = true,
		.id = (uint32_t)stage,
		.deps = stage ? 1 : 0,
		.wait = wait_cfg(),
	};
	struct result *r = &g_flow->res[stage];
	uint64_t want = (uint64_t)EVENTS * g_flow->producers;
	struct badbatch_consumer *c;
	struct badbatch *ring;
	int rc;

	rc = badbatch_open(g_flow->name, &ring);
	if (!rc)
		rc = badbatch_consumer_attach(ring, &cfg, &c);
	t_chan_send(&g_flow->ready, rc ? 'x' : 'r');
	if (rc)
		return 2;
	while (r->seen < want) {
		rc = badbatch_consume(c, on_event, arg, 0);
		if (rc < 0) {
			r->rc = rc;
			break;
		}
	}
	badbatch_consumer_close(c);
	badbatch_close(ring);
	return 0;
}

static int producer_main(void *arg)
{
	uint64_t id = (uint64_t)(intptr_t)arg, counter = 0, seq, s;
	struct badbatch_producer_config cfg = { .wait = wait_cfg() };
	struct badbatch_producer *p;
	struct badbatch *ring;
	uint32_t n;

	if (badbatch_open(g_flow->name, &ring) ||
	    badbatch_producer_attach(ring, &cfg, &p))
		return 2;
	while (counter < EVENTS) {
		n = 1 + (uint32_t)(counter % 7);
		if (n > EVENTS - counter)
			n = (uint32_t)(EVENTS - counter);
		if (badbatch_claim(p, n, &seq))
			return 3;
		for (s = seq; s < seq + n; s++) {
			struct event *e = badbatch_slot(p, s);

			e->producer = id;
			e->counter = counter++;
			e->check = event_check(e);
			e->stamp = 0;
		}
		if (badbatch_publish(p, seq, n))
			return 4;
	}
	badbatch_producer_close(p);
	badbatch_close(ring);
	return 0;
}

static void test_flow(enum badbatch_wait wait, uint32_t producers)
{
	const char *wn = wait_names[wait];
	struct badbatch_config cfg = {
		.slot_count = SLOTS,
		.slot_size = EVENT_SIZE,
		/* A stamps events for B to check: consumers may write. */
		.flags = BADBATCH_MUTABLE_CONSUMERS |
			 (producers > 1 ? BADBATCH_MULTI_PRODUCER : 0),
		.max_consumers = 2,
		.wait = wait,
	};
	uint64_t want = (uint64_t)EVENTS * producers;
	pid_t cons[2], prod[MAX_PRODUCERS];
	struct badbatch *ring;
	uint32_t i;
	int k;

	memset(g_flow, 0, sizeof(*g_flow));
	t_chan_init(&g_flow->ready);
	g_flow->name = t_name(producers > 1 ? "libmp" : "libsp");
	g_flow->wait = wait;
	g_flow->timeout_ns = wait == BADBATCH_WAIT_TIMEOUT_BLOCK ?
			     10000000000ull : 0;
	g_flow->producers = producers;
	cfg.name = g_flow->name;
	if (badbatch_create(&cfg, &ring)) {
		T_OK(0, "%s: create", wn);
		return;
	}
	for (k = 0; k < 2; k++) {
		cons[k] = t_spawn(k ? "consumer B" : "consumer A", 60,
				  consumer_main, (void *)(intptr_t)k);
		T_OK(t_chan_recv(&g_flow->ready, 10000) == 'r',
		     "%s: consumer %c attached by name", wn, 'A' + k);
	}
	for (i = 0; i < producers; i++)
		prod[i] = t_spawn("producer", 60, producer_main,
				  (void *)(intptr_t)i);
	for (i = 0; i < producers; i++)
		T_CHILD(prod[i], 60000, "%s: producer %u published %d events",
			wn, i, EVENTS);
	for (k = 0; k < 2; k++) {
		struct result *r = &g_flow->res[k];

		T_CHILD(cons[k], 60000, "%s: consumer %c exited", wn, 'A' + k);
		T_RC(r->rc, 0, "%s: consumer %c saw no error", wn, 'A' + k);
		T_EQ(r->seen, want, "%s: consumer %c saw every event once", wn,
		     'A' + k);
		T_EQ(r->bad, 0, "%s: consumer %c: contents, per-producer order%s",
		     wn, 'A' + k, k ? " and A's stamp" : "");
		T_OK(r->batches > 0 && r->batches <= r->seen,
		     "%s: consumer %c got %llu batches", wn, 'A' + k,
		     (unsigned long long)r->batches);
	}
	badbatch_close(ring);
}

/* Drain what is published, then wait with the strategy until halted. */
static int drain_until_halt(void *arg)
{
	struct badbatch_consumer *c = arg;
	struct result *r = &g_flow->res[0];
	int rc;

	do {
		rc = badbatch_consume(c, on_event, (void *)0, 0);
	} while (rc >= 0 || rc == -ETIMEDOUT);
	r->rc = rc;
	return 0;
}

static void test_timeouts_and_halt(enum badbatch_wait wait)
{
	const char *wn = wait_names[wait];
	struct badbatch_config cfg = {
		.slot_count = SLOTS, .slot_size = EVENT_SIZE, .wait = wait,
		.flags = BADBATCH_MUTABLE_CONSUMERS,
	};
	struct badbatch_wait_config w = {
		.strategy = wait, .timeout_ns = 100000000ull,
	};
	struct badbatch_consumer_config cc = { .wait = w };
	struct badbatch_producer_config pc = { .wait = w };
	struct badbatch_consumer *c;
	struct badbatch_producer *p;
	struct badbatch *ring;
	uint64_t t0, took, seq, limit, s;
	pid_t pid;

	memset(g_flow, 0, sizeof(*g_flow));
	g_flow->producers = 1;
	g_flow->wait = wait;
	if (badbatch_create(&cfg, &ring) ||
	    badbatch_consumer_attach(ring, &cc, &c) ||
	    badbatch_producer_attach(ring, &pc, &p)) {
		T_OK(0, "%s: set up", wn);
		return;
	}
	t0 = t_now_ns();
	T_RC(badbatch_wait_for(c, &limit), -ETIMEDOUT, "%s: consumer on an idle ring", wn);
	took = t_now_ns() - t0;
	T_OK(took >= 100000000ull && took < 3000000000ull,
	     "%s: ... after its 100 ms timeout (%.1f ms)", wn, took / 1e6);

	T_RC(badbatch_claim(p, SLOTS, &seq), 0, "%s: claim the whole ring", wn);
	for (s = seq; s < seq + SLOTS; s++) {
		struct event *e = badbatch_slot(p, s);

		e->producer = 0;
		e->counter = s;
		e->check = event_check(e);
		e->stamp = e->check ^ 0xa5a5a5a5a5a5a5a5ull;
	}
	T_RC(badbatch_publish(p, seq, SLOTS), 0, "%s: publish it", wn);
	t0 = t_now_ns();
	T_RC(badbatch_claim(p, 1, &seq), -ETIMEDOUT, "%s: producer on a full ring", wn);
	took = t_now_ns() - t0;
	T_OK(took >= 100000000ull && took < 3000000000ull,
	     "%s: ... after its 100 ms timeout (%.1f ms)", wn, took / 1e6);
	T_RC(badbatch_try_claim(p, 1, &seq), -EAGAIN, "%s: try_claim on a full ring", wn);
	T_EQ(badbatch_remaining(p), 0, "%s: remaining 0", wn);

	/* The child inherits c; the parent does not touch it meanwhile. */
	pid = t_spawn("drainer", 30, drain_until_halt, c);
	for (s = 0; s < 2000 && g_flow->res[0].seen < SLOTS; s++)
		t_sleep_ms(1);
	T_EQ(g_flow->res[0].seen, SLOTS, "%s: the consumer process drained %d events", wn, SLOTS);
	t_sleep_ms(150);
	T_SYS(badbatch_halt(ring), "%s: halt", wn);
	T_CHILD(pid, 10000, "%s: the waiting consumer process returned", wn);
	T_RC(g_flow->res[0].rc, -ESHUTDOWN,
	     "%s: ... with -ESHUTDOWN (not a timeout: it waited again each 100 ms)", wn);
	T_RC(badbatch_claim(p, 1, &seq), -ESHUTDOWN, "%s: claims after the halt", wn);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

int main(void)
{
	enum badbatch_wait w;

	t_init("lib_strategies", 400);
	g_flow = t_shared(sizeof(*g_flow));
	for (w = BADBATCH_WAIT_BUSY_SPIN; w <= BADBATCH_WAIT_TIMEOUT_BLOCK; w++) {
		t_diag("--- %s", wait_names[w]);
		test_flow(w, 1);
		test_flow(w, 2);
		test_timeouts_and_halt(w);
	}
	/*
	 * The other need-wakeup protocol (movers fence, sleepers do not
	 * IPI): rings created with sleeper_barrier=0, the blocking flows.
	 */
	if (!T_RC(t_param_write("sleeper_barrier", "0"), 0,
		  "sleeper_barrier=0: movers fence")) {
		for (w = BADBATCH_WAIT_BLOCK; w <= BADBATCH_WAIT_TIMEOUT_BLOCK;
		     w++) {
			t_diag("--- %s, movers fence", wait_names[w]);
			test_flow(w, 1);
			test_flow(w, 2);
		}
		T_RC(t_param_write("sleeper_barrier", "1"), 0,
		     "sleeper_barrier=1 again");
	}
	return t_done();
}
