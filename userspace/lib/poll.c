// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The poller: the consumer drives its own loop (the Disruptor's
 * EventPoller). badbatch_poll() never waits; an event loop waits for
 * EPOLLIN on badbatch_consumer_fd() between calls.
 */
#include <errno.h>

#include "internal.h"

/*
 * Nothing readable: are events published that a consumer this one
 * follows has not finished (GATING), or none at all (IDLE)?
 */
static enum badbatch_poll_state bb_poll_why(const struct badbatch_consumer *c)
{
	const struct bb_view *v = &c->part.view;

	if (bb_load(&v->hdr->consumers[c->id].deps) &&
	    bb_published_limit(v, c->seq, 1) > c->seq)
		return BADBATCH_POLL_GATING;
	return BADBATCH_POLL_IDLE;
}

int badbatch_poll(struct badbatch_consumer *c, badbatch_handler_fn fn,
		  void *ctx, uint32_t max_batch,
		  enum badbatch_poll_state *state)
{
	enum badbatch_poll_state st;
	__u64 limit;
	int rc;

	if (!max_batch)
		max_batch = c->max_batch;
	for (;;) {
		rc = bb_consumer_readable(c, max_batch, &limit, false);
		if (rc) {
			/* -EAGAIN: nothing now (halted: more may come). */
			st = bb_poll_why(c);
			if (rc == -EAGAIN)
				rc = 0;
			break;
		}
		st = BADBATCH_POLL_PROCESSING;
		rc = bb_consumer_hand_out(c, limit, fn, ctx);
		/* A batch of abandoned events only: look further. */
		if (rc != 0)
			break;
	}
	if (state)
		*state = st;
	return rc;
}
