// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Translators: claim, let a callback fill the slots, publish, in one
 * call (the Disruptor's publishEvent/tryPublishEvent), and the capacity
 * question a caller asks before trying.
 */
#include <errno.h>

#include "internal.h"

/* Fill [seq, seq + n) through fn and publish it: the claim is ours. */
static int bb_fill_publish(struct badbatch_producer *p, __u64 seq, __u32 n,
			   badbatch_translator_fn fn, void *arg)
{
	__u32 i;

	for (i = 0; i < n; i++)
		fn(arg, badbatch_slot(p, seq + i), seq + i, i);
	return badbatch_publish(p, seq, n);
}

int badbatch_publish_events(struct badbatch_producer *p, uint32_t n,
			    badbatch_translator_fn fn, void *arg)
{
	uint64_t seq;
	int rc = badbatch_claim(p, n, &seq);

	if (rc)
		return rc;
	return bb_fill_publish(p, seq, n, fn, arg);
}

int badbatch_publish_event(struct badbatch_producer *p,
			   badbatch_translator_fn fn, void *arg)
{
	return badbatch_publish_events(p, 1, fn, arg);
}

int badbatch_try_publish_events(struct badbatch_producer *p, uint32_t n,
				badbatch_translator_fn fn, void *arg)
{
	uint64_t seq;
	int rc = badbatch_try_claim(p, n, &seq);

	if (rc)
		return rc;
	return bb_fill_publish(p, seq, n, fn, arg);
}

int badbatch_try_publish_event(struct badbatch_producer *p,
			       badbatch_translator_fn fn, void *arg)
{
	return badbatch_try_publish_events(p, 1, fn, arg);
}

bool badbatch_has_capacity(struct badbatch_producer *p, uint32_t n)
{
	if (n == 0 || n > p->part.view.size)
		return false;
	return badbatch_remaining(p) >= n;
}
