// SPDX-License-Identifier: GPL-2.0
/*
 * Multicast: one producer process, three consumer processes that all
 * follow the cursor (deps 0). Every consumer sees every event, in order,
 * with the right content; the producer gates on all three (the header's
 * gating mask and GATING flags say so), so none is ever overrun.
 */
#include "flow.h"

#define SLOT_SIZE 64u

static void fill(void *slot, __u64 seq)
{
	t_fill(slot, SLOT_SIZE, seq);
}

static int stage(int i, const struct t_ring *r, __u64 seq, void *slot)
{
	(void)i;
	(void)r;
	return t_check(slot, SLOT_SIZE, seq) != 0;
}

int main(void)
{
	static struct flow f = {
		.flags = 0,
		.slots = 256,
		.slot_size = SLOT_SIZE,
		.n = 200000,
		.batch = 32,
		.ncons = 3,
		.ids = { 0, 1, 2 },
		.deps = { 0, 0, 0 },
		.gating = 0x7,
		.fill = fill,
		.stage = stage,
	};

	t_init("multicast", 180);
	f.name = t_name("mcast");
	flow_run(&f);
	return t_done();
}
