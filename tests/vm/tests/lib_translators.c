// SPDX-License-Identifier: GPL-2.0
/*
 * libbadbatch translators against the real device, across processes:
 *   - producer processes publish through badbatch_publish_event(),
 *     badbatch_publish_events() (batches of 2..7) and the try-variants
 *     (retrying on -EAGAIN) into a named ring; a consumer process checks
 *     every event's content, the translator's index, per-producer order
 *     and that it saw each exactly once. Single- and multi-producer.
 *   - on a full ring the try-variants return -EAGAIN without calling the
 *     translator or moving the claim frontier; badbatch_remaining() and
 *     badbatch_has_capacity() before and after a consumer process frees
 *     slots; a blocking badbatch_publish_event() on the full ring returns
 *     once the consumer process reads; after a halt everything says
 *     -ESHUTDOWN (no capacity).
 */
#include <badbatch.h>

#include "harness.h"

#define EVENTS		20000
#define SLOTS		64
#define EVENT_SIZE	64
#define MAX_PRODUCERS	2
#define SMALL		16	/* the full-ring test's ring */

struct event {
	uint64_t producer;
	uint64_t counter;
	uint64_t seq;
	uint32_t index;		/* the translator's index in its call */
	uint32_t n;		/* events in that call */
	uint64_t check;
	uint64_t pad[3];
};

struct shared {
	char name[BB_NAME_MAX];
	uint32_t producers;
	struct t_chan ready;	/* children attached */
	struct t_chan to_prod;
	struct t_chan to_cons;
	/* consumer results */
	uint64_t seen;
	uint64_t bad;
	uint64_t next[MAX_PRODUCERS];
	int rc;
	/* producer results */
	uint64_t eagain[MAX_PRODUCERS];
	uint64_t calls[MAX_PRODUCERS];
};

static struct shared *g;

static uint64_t event_check(const struct event *e)
{
	return t_mix(e->producer * 1000003 + e->counter * 7 + e->index +
		     ((uint64_t)e->n << 40));
}

struct fill {
	uint64_t producer;
	uint64_t counter;
	uint32_t n;
	uint64_t calls;
};

static void fill_fn(void *arg, void *slot, uint64_t seq, uint32_t index)
{
	struct fill *f = arg;
	struct event *e = slot;

	e->producer = f->producer;
	e->counter = f->counter++;
	e->seq = seq;
	e->index = index;
	e->n = f->n;
	e->check = event_check(e);
	f->calls++;
}

static int on_event(void *ctx, void *slot, uint64_t seq, bool end_of_batch)
{
	const struct event *e = slot;

	(void)ctx;
	(void)end_of_batch;
	if (e->producer >= g->producers || e->check != event_check(e) ||
	    e->seq != seq || e->index >= e->n ||
	    e->counter != g->next[e->producer]) {
		if (g->bad++ < 5)
			t_diag("bad event %llu: producer %llu counter %llu index %u/%u",
			       (unsigned long long)seq,
			       (unsigned long long)e->producer,
			       (unsigned long long)e->counter, e->index, e->n);
	}
	if (e->producer < g->producers)
		g->next[e->producer] = e->counter + 1;
	g->seen++;
	return 0;
}

static int flow_consumer(void *arg)
{
	struct badbatch_consumer *c;
	struct badbatch *ring;
	uint64_t want = (uint64_t)EVENTS * g->producers;
	int rc;

	(void)arg;
	rc = badbatch_open(g->name, &ring);
	if (!rc)
		rc = badbatch_consumer_attach(ring, NULL, &c);
	t_chan_send(&g->ready, rc ? 'x' : 'r');
	if (rc)
		return 2;
	while (g->seen < want) {
		rc = badbatch_consume(c, on_event, NULL, 0);
		if (rc < 0) {
			g->rc = rc;
			break;
		}
	}
	badbatch_consumer_close(c);
	badbatch_close(ring);
	return 0;
}

/* Every fourth call tries without waiting; the rest wait. */
static int flow_producer(void *arg)
{
	struct fill f = { .producer = (uint64_t)(intptr_t)arg };
	struct badbatch_producer *p;
	struct badbatch *ring;
	uint64_t k = 0;
	int rc;

	if (badbatch_open(g->name, &ring) ||
	    badbatch_producer_attach(ring, NULL, &p))
		return 2;
	while (f.counter < EVENTS) {
		f.n = 1 + (uint32_t)(k % 7);
		if (f.n > EVENTS - f.counter)
			f.n = (uint32_t)(EVENTS - f.counter);
		if (k++ % 4 == 3) {
			rc = f.n == 1 ?
			     badbatch_try_publish_event(p, fill_fn, &f) :
			     badbatch_try_publish_events(p, f.n, fill_fn, &f);
			if (rc == -EAGAIN || rc == -EBUSY) {
				g->eagain[f.producer]++;
				sched_yield();
				continue;
			}
		} else {
			rc = f.n == 1 ?
			     badbatch_publish_event(p, fill_fn, &f) :
			     badbatch_publish_events(p, f.n, fill_fn, &f);
		}
		if (rc)
			return 3;
	}
	g->calls[f.producer] = f.calls;
	badbatch_producer_close(p);
	badbatch_close(ring);
	return 0;
}

static void test_flow(uint32_t producers)
{
	const char *what = producers > 1 ? "multi-producer" : "single producer";
	struct badbatch_config cfg = {
		.slot_count = SLOTS,
		.slot_size = EVENT_SIZE,
		.flags = producers > 1 ? BADBATCH_MULTI_PRODUCER : 0,
		.wait = BADBATCH_WAIT_BLOCK,
	};
	pid_t cons, prod[MAX_PRODUCERS];
	struct badbatch *ring;
	uint32_t i;

	memset(g, 0, sizeof(*g));
	t_chan_init(&g->ready);
	snprintf(g->name, sizeof(g->name), "%s",
		 t_name(producers > 1 ? "xlmp" : "xlsp"));
	g->producers = producers;
	cfg.name = g->name;
	if (badbatch_create(&cfg, &ring)) {
		T_OK(0, "%s: create", what);
		return;
	}
	cons = t_spawn("consumer", 60, flow_consumer, NULL);
	T_OK(t_chan_recv(&g->ready, 10000) == 'r',
	     "%s: consumer process attached by name", what);
	for (i = 0; i < producers; i++)
		prod[i] = t_spawn("producer", 60, flow_producer,
				  (void *)(intptr_t)i);
	for (i = 0; i < producers; i++) {
		T_CHILD(prod[i], 60000,
			"%s: producer %u published %d events through translators",
			what, i, EVENTS);
		T_EQ(g->calls[i], EVENTS,
		     "%s: producer %u: the translator ran once per event",
		     what, i);
		t_diag("%s: producer %u: %llu try calls found no room", what,
		       i, (unsigned long long)g->eagain[i]);
	}
	T_CHILD(cons, 60000, "%s: consumer exited", what);
	T_RC(g->rc, 0, "%s: consumer saw no error", what);
	T_EQ(g->seen, (uint64_t)EVENTS * producers,
	     "%s: consumer saw every event once", what);
	T_EQ(g->bad, 0, "%s: contents, indexes and per-producer order", what);
	badbatch_close(ring);
}

/* ---- Full ring: try-variants, capacity ------------------------------ */

static uint64_t claim_frontier(struct badbatch *ring)
{
	struct badbatch_stats st;

	if (badbatch_get_stats(ring, &st))
		return UINT64_MAX;
	return st.cursor;
}

/* Reads n events on request, reports 'd' each time; 'q' quits. */
static int full_consumer(void *arg)
{
	struct badbatch_consumer *c;
	struct badbatch *ring;
	int cmd, rc;

	(void)arg;
	rc = badbatch_open(g->name, &ring);
	if (!rc)
		rc = badbatch_consumer_attach(ring, NULL, &c);
	t_chan_send(&g->ready, rc ? 'x' : 'r');
	if (rc)
		return 2;
	while ((cmd = t_chan_recv(&g->to_cons, 20000)) > 0 && cmd != 'q') {
		uint64_t target = g->seen + (uint64_t)(cmd - '0');

		while (g->seen < target) {
			rc = badbatch_consume(c, on_event, NULL,
					      (uint32_t)(target - g->seen));
			if (rc < 0) {
				g->rc = rc;
				break;
			}
		}
		t_chan_send(&g->ready, 'd');
	}
	/* Halted: drained, then -ESHUTDOWN. */
	while ((rc = badbatch_consume(c, on_event, NULL, 0)) >= 0)
		;
	g->rc = rc;
	badbatch_consumer_close(c);
	badbatch_close(ring);
	return 0;
}

static void test_full_ring(uint32_t flags)
{
	const char *what = flags ? "multi-producer" : "single producer";
	struct badbatch_config cfg = {
		.slot_count = SMALL, .slot_size = EVENT_SIZE, .flags = flags,
	};
	struct badbatch_producer *p;
	struct fill f = { .n = SMALL };
	struct badbatch *ring;
	uint64_t frontier;
	pid_t cons;

	memset(g, 0, sizeof(*g));
	t_chan_init(&g->ready);
	t_chan_init(&g->to_cons);
	snprintf(g->name, sizeof(g->name), "%s",
		 t_name(flags ? "xlfullmp" : "xlfullsp"));
	g->producers = 1;
	cfg.name = g->name;
	if (badbatch_create(&cfg, &ring)) {
		T_OK(0, "%s: create", what);
		return;
	}
	cons = t_spawn("consumer", 60, full_consumer, NULL);
	if (!T_OK(t_chan_recv(&g->ready, 10000) == 'r',
		  "%s: consumer process attached", what) ||
	    badbatch_producer_attach(ring, NULL, &p)) {
		badbatch_close(ring);
		return;
	}
	T_EQ(badbatch_remaining(p), SMALL, "%s: empty ring: remaining %d", what, SMALL);
	T_OK(badbatch_has_capacity(p, SMALL) && !badbatch_has_capacity(p, SMALL + 1) &&
	     !badbatch_has_capacity(p, 0),
	     "%s: has_capacity(%d), not %d, not 0", what, SMALL, SMALL + 1);
	T_RC(badbatch_try_publish_events(p, SMALL + 1, fill_fn, &f), -EINVAL,
	     "%s: a batch larger than the ring", what);
	T_RC(badbatch_publish_events(p, SMALL, fill_fn, &f), 0,
	     "%s: publish a whole ring in one call", what);
	T_EQ(badbatch_remaining(p), 0, "%s: full: remaining 0", what);
	T_OK(!badbatch_has_capacity(p, 1), "%s: full: no capacity for 1", what);

	frontier = claim_frontier(ring);
	T_RC(badbatch_try_publish_event(p, fill_fn, &f), -EAGAIN,
	     "%s: try_publish_event on a full ring", what);
	T_RC(badbatch_try_publish_events(p, 3, fill_fn, &f), -EAGAIN,
	     "%s: try_publish_events on a full ring", what);
	T_EQ(f.calls, SMALL, "%s: ... the translator was not called", what);
	T_EQ(claim_frontier(ring), frontier,
	     "%s: ... the claim frontier did not move (%llu)", what,
	     (unsigned long long)frontier);
	T_EQ(badbatch_remaining(p), 0, "%s: ... still full", what);

	/* The consumer process reads 5: room for 5, not 6. */
	t_chan_send(&g->to_cons, '5');
	T_OK(t_chan_recv(&g->ready, 10000) == 'd', "%s: consumer read 5", what);
	T_EQ(badbatch_remaining(p), 5, "%s: remaining 5 after the consumer read 5", what);
	T_OK(badbatch_has_capacity(p, 5) && !badbatch_has_capacity(p, 6),
	     "%s: has_capacity(5), not 6", what);
	f.n = 6;
	T_RC(badbatch_try_publish_events(p, 6, fill_fn, &f), -EAGAIN,
	     "%s: try_publish_events(6) with room for 5", what);
	T_EQ(claim_frontier(ring), frontier, "%s: ... frontier unchanged", what);
	f.n = 5;
	T_RC(badbatch_try_publish_events(p, 5, fill_fn, &f), 0,
	     "%s: try_publish_events(5) with room for 5", what);
	T_EQ(claim_frontier(ring), frontier + 5, "%s: ... frontier + 5", what);
	T_EQ(badbatch_remaining(p), 0, "%s: full again", what);

	/* A blocking publish on the full ring returns once 1 is read. */
	f.n = 1;
	t_chan_send(&g->to_cons, '1');
	T_RC(badbatch_publish_event(p, fill_fn, &f), 0,
	     "%s: publish_event waited for the consumer process", what);
	T_OK(t_chan_recv(&g->ready, 10000) == 'd', "%s: consumer read 1", what);
	T_EQ(f.calls, SMALL + 6, "%s: translator calls", what);

	T_SYS(badbatch_halt(ring), "%s: halt", what);
	T_EQ(badbatch_remaining(p), 0, "%s: halted: remaining 0", what);
	T_OK(!badbatch_has_capacity(p, 1), "%s: halted: no capacity", what);
	T_RC(badbatch_try_publish_event(p, fill_fn, &f), -ESHUTDOWN,
	     "%s: halted: try_publish_event", what);
	T_RC(badbatch_publish_events(p, 2, fill_fn, &f), -ESHUTDOWN,
	     "%s: halted: publish_events", what);
	T_EQ(f.calls, SMALL + 6, "%s: halted: translator not called", what);
	t_chan_send(&g->to_cons, 'q');
	T_CHILD(cons, 20000, "%s: consumer exited", what);
	T_RC(g->rc, -ESHUTDOWN, "%s: consumer drained, then -ESHUTDOWN", what);
	T_EQ(g->seen, SMALL + 6, "%s: consumer saw every event once", what);
	T_EQ(g->bad, 0, "%s: contents and order", what);
	badbatch_producer_close(p);
	badbatch_close(ring);
}

int main(void)
{
	t_init("lib_translators", 200);
	g = t_shared(sizeof(*g));
	test_flow(1);
	test_flow(2);
	test_full_ring(0);
	test_full_ring(BADBATCH_MULTI_PRODUCER);
	return t_done();
}
