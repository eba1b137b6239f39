// SPDX-License-Identifier: GPL-2.0
/*
 * A diamond across processes on a BB_RING_MUTABLE_CONSUMERS ring: C1 and
 * C2 follow the cursor, C3 follows both. C1 and C2 stamp their own words
 * of each event; for every event C3 sees, it reads C1's and C2's
 * sequences from the consumers region and checks both have passed it, and
 * that both stamps are there. Only C3 gates the producer.
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

	if (e->key != key)
		return 1;
	switch (i) {
	case 0:
		if (e->a || e->c)
			return 1;
		e->a = t_mix(key + 1);
		return 0;
	case 1:
		if (e->b || e->c)
			return 1;
		e->b = t_mix(key + 2);
		return 0;
	default:
		if (t_cons_seq(r, 0) <= seq || t_cons_seq(r, 1) <= seq)
			return 1;
		if (e->a != t_mix(key + 1) || e->b != t_mix(key + 2) || e->c)
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
		.deps = { 0, 0, (1ull << 0) | (1ull << 1) },
		.gating = 1ull << 2,
		.fill = fill,
		.stage = stage,
	};

	t_init("diamond", 180);
	f.name = t_name("diamond");
	flow_run(&f);
	return t_done();
}
