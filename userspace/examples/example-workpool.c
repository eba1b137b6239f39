// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Work pool: WORKERS threads share the events, each event handled by
 * exactly one of them, then a collector stage after the whole pool.
 *
 *	producer -> pool { worker 0 .. worker N-1 } -> collector
 *
 * A pool is for work that does not care about order but about spreading
 * load (unlike a multicast, where every stage sees every event). Workers
 * claim events from the pool's own sequence, so a slow event holds only
 * its worker. The collector follows every worker: it sees an event only
 * when the worker that took it is done, and it sees events in order.
 *
 * Work pools need a module with pool support: an older one refuses the
 * attach with EINVAL.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "example.h"

#define EVENTS	20000ULL
#define SLOTS	256
#define WORKERS	3

struct event {
	uint64_t value;
	uint32_t worker;	/* who handled it, plus one */
	uint32_t pad;
};

struct worker {
	uint32_t index;
	uint64_t count;
	_Atomic uint32_t *seen;	/* per event: times any worker had it */
};

struct collector {
	uint64_t count;
	uint64_t sum;
	uint64_t per_worker[WORKERS];
	uint64_t bad;
};

static int work(void *ctx, void *slot, uint64_t seq, bool end_of_batch)
{
	struct worker *w = ctx;
	struct event *e = slot;

	atomic_fetch_add_explicit(&w->seen[e->value], 1,
				  memory_order_relaxed);
	e->worker = w->index + 1;
	w->count++;
	return 0;
}

static int collect(void *ctx, void *slot, uint64_t seq, bool end_of_batch)
{
	const struct event *e = slot;
	struct collector *c = ctx;

	/* Every event reaches the collector after exactly one worker. */
	if (e->value != seq || !e->worker || e->worker > WORKERS) {
		c->bad++;
		return 0;
	}
	c->per_worker[e->worker - 1]++;
	c->count++;
	c->sum += e->value;
	return 0;
}

int main(void)
{
	struct badbatch_config cfg = {
		.slot_count = SLOTS,
		.slot_size = sizeof(struct event),
		.flags = BADBATCH_MUTABLE_CONSUMERS,
	};
	struct badbatch_handler wh[WORKERS];
	struct worker w[WORKERS];
	struct collector out = { 0 };
	struct badbatch_topology *t;
	struct badbatch_producer *p;
	struct badbatch *ring;
	_Atomic uint32_t *seen;
	uint64_t i, seq, handled = 0;
	int pool, coll, rc;

	seen = calloc(EVENTS, sizeof(*seen));
	if (!seen)
		die("out of memory");
	CHECK(badbatch_create(&cfg, &ring));
	CHECK(badbatch_topology_create(ring, &t));

	/* One handler per worker: each has its own ctx, so no sharing. */
	for (i = 0; i < WORKERS; i++) {
		w[i] = (struct worker){ .index = (uint32_t)i, .seen = seen };
		wh[i] = (struct badbatch_handler){ .ctx = &w[i],
						   .on_event = work };
	}
	/* Pool id 0 of this ring; workers in other processes could join. */
	pool = badbatch_topology_add_pool(t, wh, WORKERS, 0, 0);
	if (pool == -EINVAL)
		die("badbatch_topology_add_pool: EINVAL: does the module support work pools?");
	CHECK(pool);
	coll = badbatch_topology_add(t, &(struct badbatch_handler){
		.name = "collector", .ctx = &out, .on_event = collect },
		BADBATCH_STAGE(pool));
	CHECK(coll);
	CHECK(badbatch_topology_start(t));

	CHECK(badbatch_producer_attach(ring, NULL, &p));
	for (i = 0; i < EVENTS; i++) {
		/* -ESHUTDOWN: a stage failed; shutdown below says why. */
		rc = badbatch_claim(p, 1, &seq);
		if (rc == -ESHUTDOWN)
			break;
		CHECK(rc);
		*(struct event *)badbatch_slot(p, seq) =
			(struct event){ .value = i };
		CHECK(badbatch_publish(p, seq, 1));
	}
	CHECK(badbatch_topology_shutdown(t, 0));

	for (i = 0; i < EVENTS; i++)
		if (seen[i] != 1)
			die("event %llu handled %u times",
			    (unsigned long long)i, (unsigned int)seen[i]);
	for (i = 0; i < WORKERS; i++) {
		handled += w[i].count;
		if (w[i].count != out.per_worker[i])
			die("worker %llu handled %llu, collector saw %llu",
			    (unsigned long long)i,
			    (unsigned long long)w[i].count,
			    (unsigned long long)out.per_worker[i]);
	}
	if (handled != EVENTS || out.count != EVENTS || out.bad ||
	    out.sum != EVENTS * (EVENTS - 1) / 2)
		die("workers %llu, collector %llu (%llu bad), sum %llu",
		    (unsigned long long)handled, (unsigned long long)out.count,
		    (unsigned long long)out.bad, (unsigned long long)out.sum);
	say("ok: %llu events, each once, split %llu/%llu/%llu",
	    (unsigned long long)handled, (unsigned long long)w[0].count,
	    (unsigned long long)w[1].count, (unsigned long long)w[2].count);

	badbatch_topology_destroy(t);
	badbatch_producer_close(p);
	badbatch_close(ring);
	free(seen);
	return 0;
}
