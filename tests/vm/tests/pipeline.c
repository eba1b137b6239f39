// SPDX-License-Identifier: GPL-2.0
/*
 * A three-stage pipeline across processes on a BB_RING_MUTABLE_CONSUMERS
 * ring: C1 follows the cursor, C2 follows C1, C3 follows C2. Each stage
 * checks the event's key, that the stages before it stamped it (and the
 * ones after it did not yet), that its upstream's sequence is past the
 * event, and stamps its own word in the slot. Only C3 gates the producer,
 * so an early overwrite or an out-of-order stage shows as a bad stamp.
 */
#include "flow.h"

struct ev {
	__u64 key, a, b, c;
};

static void fill(void *slot, __u64 seq)
{
	struct ev *e = slot;

	e->key = t_mix(seq);
	e->a = 0;
	e->b = 0;
	e->c = 0;
}

static int stage(int i, const struct t_ring *r, __u64 seq, void *slot)
{
	struct ev *e = slot;
	__u64 key = t_mix(seq);
	__u64 a = t_mix(key + 1), b = t_mix(a + 2);

	if (e->key != key)
		return 1;
	switch (i) {
	case 0:
		if (e->a || e->b || e->c)
			return 1;
		e->a = a;
		return 0;
	case 1:
		if (t_cons_seq(r, 0) <= seq || e->a != a || e->b || e->c)
			return 1;
		e->b = b;
		return 0;
	default:
		if (t_cons_seq(r, 1) <= seq || t_cons_seq(r, 0) <= seq ||
		    e->a != a || e->b != b || e->c)
			return 1;
		e->c = 1;
		return 0;
	}
}

int main(void)
{
	static struct flow f = {
		.flags = BB_RING_MUTABLE_CONSUMERS,
		.slots = 256,
		.slot_size = sizeof(struct ev),
		.n = 200000,
		.batch = 32,
		.ncons = 3,
		.ids = { 0, 1, 2 },
		.deps = { 0, 1ull << 0, 1ull << 1 },
		.gating = 1ull << 2,
		.fill = fill,
		.stage = stage,
	};

	t_init("pipeline", 180);
	f.name = t_name("pipe");
	flow_run(&f);
	return t_done();
}
