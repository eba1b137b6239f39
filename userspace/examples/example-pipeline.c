// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Pipeline: three stages, each after the previous one, built with the
 * topology builder (one thread per stage).
 *
 *	producer -> decode -> compute -> sink
 *
 * The ring is BADBATCH_MUTABLE_CONSUMERS so that stages can pass results
 * down the pipeline inside the event itself, with no copy and no queue
 * between stages: decode writes "decoded", compute reads it and writes
 * "result", sink reads "result". The dependency graph, not a lock, makes
 * that safe: a stage sees an event only after the stage before has
 * advanced past it.
 */
#include <stdbool.h>
#include <stdint.h>

#include "example.h"

#define EVENTS	50000ULL
#define SLOTS	1024

struct event {
	uint64_t input;		/* producer */
	uint64_t decoded;	/* decode: input * 3 */
	uint64_t result;	/* compute: decoded + 7 */
};

struct sink {
	uint64_t count;
	uint64_t sum;
	uint64_t next;		/* the sequence expected next */
};

static int decode(void *ctx, void *slot, uint64_t seq, bool end_of_batch)
{
	struct event *e = slot;

	e->decoded = e->input * 3;
	return 0;
}

static int compute(void *ctx, void *slot, uint64_t seq, bool end_of_batch)
{
	struct event *e = slot;

	/* A negative errno halts the ring with a recorded failure. */
	if (e->decoded != e->input * 3)
		return -EPROTO;
	e->result = e->decoded + 7;
	return 0;
}

static int sink(void *ctx, void *slot, uint64_t seq, bool end_of_batch)
{
	const struct event *e = slot;
	struct sink *s = ctx;

	if (seq != s->next++ || e->result != e->input * 3 + 7)
		return -EPROTO;
	s->count++;
	s->sum += e->result;
	return 0;
}

int main(void)
{
	struct badbatch_config cfg = {
		.slot_count = SLOTS,
		.slot_size = sizeof(struct event),
		.flags = BADBATCH_MUTABLE_CONSUMERS,
	};
	struct sink out = { 0 };
	struct badbatch_topology *t;
	struct badbatch_producer *p;
	struct badbatch_stage_stats st;
	struct badbatch *ring;
	struct badbatch_failure f;
	uint64_t i, seq, want_sum = 0;
	int s_decode, s_compute, s_sink, s, rc;

	CHECK(badbatch_create(&cfg, &ring));
	CHECK(badbatch_topology_create(ring, &t));

	/* after = 0: follow the producers. Stage numbers chain the rest. */
	s_decode = badbatch_topology_add(t, &(struct badbatch_handler){
		.name = "decode", .on_event = decode }, 0);
	CHECK(s_decode);
	s_compute = badbatch_topology_add(t, &(struct badbatch_handler){
		.name = "compute", .on_event = compute },
		BADBATCH_STAGE(s_decode));
	CHECK(s_compute);
	s_sink = badbatch_topology_add(t, &(struct badbatch_handler){
		.name = "sink", .ctx = &out, .on_event = sink },
		BADBATCH_STAGE(s_compute));
	CHECK(s_sink);

	/* Every stage is attached: nothing published from now on is missed. */
	CHECK(badbatch_topology_start(t));
	CHECK(badbatch_producer_attach(ring, NULL, &p));
	for (i = 0; i < EVENTS; i++) {
		struct event *e;

		rc = badbatch_claim(p, 1, &seq);
		if (rc == -ESHUTDOWN)
			break;		/* a stage failed: see below */
		CHECK(rc);
		e = badbatch_slot(p, seq);
		/* Slots are reused: clear what the stages write. */
		*e = (struct event){ .input = i };
		CHECK(badbatch_publish(p, seq, 1));
		want_sum += i * 3 + 7;
	}

	/*
	 * Drain: every stage handles everything published, then joins. A
	 * stage that failed halted the ring and left the reason in it.
	 */
	rc = badbatch_topology_shutdown(t, 0);
	if (rc && !badbatch_get_failure(ring, &f) && f.error)
		die("consumer %u failed on event %llu: %s", f.consumer_id,
		    (unsigned long long)f.seq, strerror(f.error));
	if (rc)
		die("a stage stopped: %s", strerror(-rc));

	for (s = s_decode; s <= s_sink; s++) {
		CHECK(badbatch_topology_stage_stats(t, s, &st));
		if (st.events != EVENTS || st.errors)
			die("stage %d handled %llu events, %llu errors", s,
			    (unsigned long long)st.events,
			    (unsigned long long)st.errors);
	}
	if (out.count != EVENTS || out.sum != want_sum)
		die("sink got %llu events summing to %llu, expected %llu, %llu",
		    (unsigned long long)out.count, (unsigned long long)out.sum,
		    (unsigned long long)EVENTS, (unsigned long long)want_sum);
	say("ok: %llu events through decode -> compute -> sink, sum %llu",
	    (unsigned long long)out.count, (unsigned long long)out.sum);

	badbatch_topology_destroy(t);
	badbatch_producer_close(p);
	badbatch_close(ring);
	return 0;
}
