// SPDX-License-Identifier: GPL-2.0
/*
 * libbadbatch on memory rings, one thread: batch claim and publish,
 * end_of_batch, max batch, try-claim and remaining capacity, argument
 * validation, abandoned events, handler errors, topology bookkeeping,
 * and the kernel-less errors of the device calls.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "libutil.h"

/* Records every call the consumer's handler gets. */
struct rec {
	uint64_t seqs[256];
	bool eob[256];
	unsigned int n;
	unsigned int batches;
	int fail_at;		/* return -42 for this seq once, -1: never */
};

static int rec_handler(void *ctx, void *event, uint64_t seq, bool eob)
{
	struct rec *r = ctx;
	struct lev *e = event;

	if (r->fail_at >= 0 && seq == (uint64_t)r->fail_at) {
		r->fail_at = -1;
		return -42;
	}
	CHECKF(e->seq == seq, "event %llu holds %llu",
	       (unsigned long long)seq, (unsigned long long)e->seq);
	CHECKF(e->check == lev_check(e), "event %llu corrupt",
	       (unsigned long long)seq);
	CHECK(r->n < 256);
	r->seqs[r->n] = seq;
	r->eob[r->n] = eob;
	r->n++;
	r->batches += eob;
	return 0;
}

static void publish_n(struct badbatch_producer *p, uint32_t n,
		      uint64_t *counter)
{
	uint64_t seq, s;

	CHECK_EQ(badbatch_claim(p, n, &seq), 0);
	for (s = seq; s < seq + n; s++)
		lev_fill(badbatch_slot(p, s), s, 0, (*counter)++);
	CHECK_EQ(badbatch_publish(p, seq, n), 0);
}

TEST(lib_batch_claim_publish_wraps)
{
	struct badbatch *ring = mem_ring(16, 32, 0, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);
	uint64_t counter = 0, expect = 0, seq;
	uint64_t rnd = 7;
	struct rec r;
	unsigned int i, k;

	for (i = 0; i < 3000; i++) {
		uint32_t n = 1 + ut_rand(&rnd) % 16;

		while (badbatch_remaining(p) < n) {
			memset(&r, 0, sizeof(r));
			r.fail_at = -1;
			CHECK(badbatch_consume(c, rec_handler, &r, 0) > 0);
			for (k = 0; k < r.n; k++)
				CHECK_EQ(r.seqs[k], expect++);
			CHECK_EQ(r.batches, 1);
			CHECK(r.eob[r.n - 1]);
		}
		CHECK_EQ(badbatch_try_claim(p, n, &seq), 0);
		CHECK_EQ(seq, counter);
		for (k = 0; k < n; k++)
			lev_fill(badbatch_slot(p, seq + k), seq + k, 0,
				 counter++);
		CHECK_EQ(badbatch_publish(p, seq, n), 0);
	}
	CHECK(counter > 16 * 100);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_end_of_batch_and_max_batch)
{
	struct badbatch *ring = mem_ring(16, 32, 0, 0);
	struct badbatch_consumer_config cc = { .max_batch = 3 };
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0), *c3;
	struct badbatch_producer *p;
	uint64_t counter = 0;
	struct rec r;
	unsigned int k;

	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c3), 0);
	p = mem_producer(ring, 0);
	publish_n(p, 5, &counter);

	/* One batch of all five: end_of_batch only on the last. */
	memset(&r, 0, sizeof(r));
	r.fail_at = -1;
	CHECK_EQ(badbatch_consume(c, rec_handler, &r, 0), 5);
	CHECK_EQ(r.n, 5);
	for (k = 0; k < 5; k++) {
		CHECK_EQ(r.seqs[k], k);
		CHECK_EQ(r.eob[k], k == 4);
	}
	CHECK_EQ(badbatch_consumer_seq(c), 5);

	/* The consumer's own limit of 3: batches of 3 and 2. */
	memset(&r, 0, sizeof(r));
	r.fail_at = -1;
	CHECK_EQ(badbatch_consume(c3, rec_handler, &r, 0), 3);
	CHECK_EQ(badbatch_consume(c3, rec_handler, &r, 0), 2);
	CHECK_EQ(r.n, 5);
	CHECK_EQ(r.batches, 2);
	CHECK(r.eob[2] && r.eob[4] && !r.eob[0] && !r.eob[1] && !r.eob[3]);

	/* An explicit max of 2 per call: 2, 2, 1. */
	publish_n(p, 5, &counter);
	memset(&r, 0, sizeof(r));
	r.fail_at = -1;
	CHECK_EQ(badbatch_consume(c, rec_handler, &r, 2), 2);
	CHECK_EQ(badbatch_consume(c, rec_handler, &r, 2), 2);
	CHECK_EQ(badbatch_consume(c, rec_handler, &r, 2), 1);
	CHECK_EQ(r.batches, 3);
	for (k = 0; k < 5; k++) {
		CHECK_EQ(r.seqs[k], 5 + k);
		CHECK_EQ(r.eob[k], k == 1 || k == 3 || k == 4);
	}
	CHECK_EQ(badbatch_try_wait_for(c, &counter), -EAGAIN);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_consumer_close(c3);
	badbatch_close(ring);
}

TEST(lib_try_claim_eagain_and_remaining)
{
	struct badbatch *ring = mem_ring(8, 32, 0, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);
	uint64_t seq = 99, limit;

	CHECK_EQ(badbatch_remaining(p), 8);
	CHECK_EQ(badbatch_try_claim(p, 3, &seq), 0);
	CHECK_EQ(seq, 0);
	CHECK_EQ(badbatch_remaining(p), 5);
	CHECK_EQ(badbatch_try_claim(p, 6, &seq), -EAGAIN);
	CHECK_EQ(badbatch_remaining(p), 5);
	CHECK_EQ(badbatch_try_claim(p, 5, &seq), 0);
	CHECK_EQ(seq, 3);
	CHECK_EQ(badbatch_remaining(p), 0);
	CHECK_EQ(badbatch_try_claim(p, 1, &seq), -EAGAIN);
	CHECK_EQ(badbatch_try_claim(p, 9, &seq), -EINVAL);
	CHECK_EQ(badbatch_claim(p, 9, &seq), -EINVAL);
	CHECK_EQ(badbatch_claim(p, 0, &seq), -EINVAL);
	CHECK_EQ(seq, 3);
	CHECK_EQ(badbatch_publish(p, 0, 8), 0);
	CHECK_EQ(badbatch_wait_for(c, &limit), 0);
	CHECK_EQ(limit, 8);
	CHECK_EQ(badbatch_advance(c, 6), 0);
	CHECK_EQ(badbatch_remaining(p), 6);
	CHECK_EQ(badbatch_try_claim(p, 6, &seq), 0);
	CHECK_EQ(seq, 8);
	CHECK_EQ(badbatch_remaining(p), 0);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_publish_and_advance_validation)
{
	struct badbatch *ring = mem_ring(16, 32, 0, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);
	struct badbatch *mring = mem_ring(16, 32, BADBATCH_MULTI_PRODUCER, 0);
	struct badbatch_producer *mp = mem_producer(mring, 0);
	uint64_t a, b, limit;

	CHECK_EQ(badbatch_publish(p, 0, 1), -EINVAL);	/* nothing claimed */
	CHECK_EQ(badbatch_claim(p, 4, &a), 0);
	CHECK_EQ(badbatch_claim(p, 2, &b), 0);
	CHECK_EQ(b, 4);
	CHECK_EQ(badbatch_publish(p, b, 2), -EINVAL);	/* leaves a gap */
	CHECK_EQ(badbatch_publish(p, a, 0), -EINVAL);
	CHECK_EQ(badbatch_publish(p, a, 4), 0);
	CHECK_EQ(badbatch_publish(p, a, 4), -EINVAL);	/* backwards */
	CHECK_EQ(badbatch_publish(p, b, 3), -EINVAL);	/* beyond the claim */
	CHECK_EQ(badbatch_publish(p, b, 2), 0);

	CHECK_EQ(badbatch_advance(c, 1), -EINVAL);	/* not readable yet */
	CHECK_EQ(badbatch_wait_for(c, &limit), 0);
	CHECK_EQ(limit, 6);
	CHECK_EQ(badbatch_advance(c, 7), -EINVAL);
	CHECK_EQ(badbatch_advance(c, 5), 0);
	CHECK_EQ(badbatch_advance(c, 4), -EINVAL);	/* backwards */
	CHECK_EQ(badbatch_advance(c, 5), 0);
	CHECK_EQ(badbatch_advance(c, 6), 0);
	CHECK_EQ(badbatch_consumer_seq(c), 6);

	/* Multi-producer: any order inside the claims, nothing outside. */
	CHECK_EQ(badbatch_claim(mp, 4, &a), 0);
	CHECK_EQ(badbatch_publish(mp, a + 2, 2), 0);
	CHECK_EQ(badbatch_publish(mp, a, 2), 0);
	CHECK_EQ(badbatch_publish(mp, a + 3, 2), -EINVAL);
	/* A stale sequence, a ring behind the furthest claim. */
	CHECK_EQ(badbatch_claim(mp, 16, &b), 0);
	CHECK_EQ(badbatch_publish(mp, a, 1), -EINVAL);
	CHECK_EQ(badbatch_publish(mp, b, 16), 0);
	badbatch_producer_close(mp);
	badbatch_close(mring);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

/*
 * After a halt a stage still drains what was published before it, even
 * while the stage it follows has not got there yet.
 */
TEST(lib_halt_drains_pipeline_in_order)
{
	struct badbatch *ring = mem_ring(16, 32, 0, 0);
	struct badbatch_consumer *up = mem_consumer(ring, 0, 0), *down;
	struct badbatch_producer *p = mem_producer(ring, 0);
	struct badbatch_consumer_config dc = { .wait = {
		.strategy = BADBATCH_WAIT_YIELD, .timeout_ns = 20000000 } };
	uint64_t counter = 0, limit;

	dc.deps = 1ULL << badbatch_consumer_id(up);
	CHECK_EQ(badbatch_consumer_attach(ring, &dc, &down), 0);
	publish_n(p, 5, &counter);
	CHECK_EQ(badbatch_halt(ring), 0);
	/* Upstream holds all five: downstream is not done, only waiting. */
	CHECK_EQ(badbatch_try_wait_for(down, &limit), -EAGAIN);
	CHECK_EQ(badbatch_wait_for(down, &limit), -ETIMEDOUT);
	CHECK_EQ(badbatch_wait_for(up, &limit), 0);
	CHECK_EQ(limit, 5);
	CHECK_EQ(badbatch_advance(up, 3), 0);
	CHECK_EQ(badbatch_wait_for(down, &limit), 0);
	CHECK_EQ(limit, 3);
	CHECK_EQ(badbatch_advance(down, 3), 0);
	CHECK_EQ(badbatch_advance(up, 5), 0);
	CHECK_EQ(badbatch_wait_for(up, &limit), -ESHUTDOWN);
	CHECK_EQ(badbatch_wait_for(down, &limit), 0);
	CHECK_EQ(limit, 5);
	CHECK_EQ(badbatch_advance(down, 5), 0);
	CHECK_EQ(badbatch_wait_for(down, &limit), -ESHUTDOWN);
	CHECK_EQ(badbatch_try_wait_for(down, &limit), -ESHUTDOWN);
	badbatch_producer_close(p);
	badbatch_consumer_close(down);
	badbatch_consumer_close(up);
	badbatch_close(ring);
}

/*
 * Halted with events nobody will hand on (an input that stopped, a claim
 * never published): consumers give up after the grace period, not hang.
 */
TEST(lib_halt_gives_up_on_stranded_events)
{
	struct badbatch *ring = mem_ring(16, 32, 0, 0);
	struct badbatch_consumer *up = mem_consumer(ring, 0, 0), *down;
	struct badbatch_producer *p = mem_producer(ring, 0);
	struct badbatch_consumer_config dc = { .wait = {
		.strategy = BADBATCH_WAIT_YIELD } };
	uint64_t counter = 0, limit, seq, t0, took;

	dc.deps = 1ULL << badbatch_consumer_id(up);
	CHECK_EQ(badbatch_consumer_attach(ring, &dc, &down), 0);
	publish_n(p, 2, &counter);
	CHECK_EQ(badbatch_claim(p, 1, &seq), 0);	/* never published */
	CHECK_EQ(badbatch_halt(ring), 0);
	CHECK_EQ(badbatch_wait_for(up, &limit), 0);
	CHECK_EQ(limit, 2);
	CHECK_EQ(badbatch_advance(up, 2), 0);
	/* The cursor's consumer waits for the claim, then gives up. */
	t0 = ut_now_ns();
	CHECK_EQ(badbatch_wait_for(up, &limit), -ESHUTDOWN);
	took = ut_now_ns() - t0;
	CHECKF(took >= 900000000ULL && took < 10000000000ULL, "took %llu ns",
	       (unsigned long long)took);
	/* The join got both events, then nothing more comes from its input. */
	CHECK_EQ(badbatch_wait_for(down, &limit), 0);
	CHECK_EQ(limit, 2);
	CHECK_EQ(badbatch_advance(down, 2), 0);
	CHECK_EQ(badbatch_wait_for(down, &limit), -ESHUTDOWN);
	badbatch_producer_close(p);
	badbatch_consumer_close(down);
	badbatch_consumer_close(up);
	badbatch_close(ring);
}

TEST(lib_abandoned_skipped)
{
	struct badbatch *ring = mem_ring(8, 32, BADBATCH_MULTI_PRODUCER, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);
	uint64_t seq, limit;
	struct rec r;

	CHECK_EQ(badbatch_claim(p, 4, &seq), 0);
	lev_fill(badbatch_slot(p, 0), 0, 0, 0);
	lev_fill(badbatch_slot(p, 2), 2, 0, 1);
	CHECK_EQ(badbatch_publish(p, 0, 1), 0);
	lev_abandon(p, 1);
	CHECK_EQ(badbatch_publish(p, 2, 1), 0);
	lev_abandon(p, 3);
	CHECK_EQ(badbatch_wait_for(c, &limit), 0);
	CHECK_EQ(limit, 4);
	CHECK(!badbatch_is_abandoned(c, 0));
	CHECK(badbatch_is_abandoned(c, 1));
	CHECK(badbatch_is_abandoned(c, 3));

	/* Two events handed over, end_of_batch on 2 as 3 is abandoned. */
	memset(&r, 0, sizeof(r));
	r.fail_at = -1;
	CHECK_EQ(badbatch_consume(c, rec_handler, &r, 0), 2);
	CHECK_EQ(r.n, 2);
	CHECK_EQ(r.seqs[0], 0);
	CHECK_EQ(r.seqs[1], 2);
	CHECK(!r.eob[0] && r.eob[1]);
	CHECK_EQ(badbatch_consumer_abandoned(c), 2);
	CHECK_EQ(badbatch_consumer_seq(c), 4);

	/* A batch that is all abandoned: nothing handed over, moved past. */
	CHECK_EQ(badbatch_claim(p, 2, &seq), 0);
	lev_abandon(p, 4);
	lev_abandon(p, 5);
	CHECK_EQ(badbatch_consume(c, rec_handler, &r, 0), 0);
	CHECK_EQ(r.n, 2);
	CHECK_EQ(badbatch_consumer_abandoned(c), 4);
	CHECK_EQ(badbatch_consumer_seq(c), 6);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_handler_error_stops_batch)
{
	struct badbatch *ring = mem_ring(16, 32, 0, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer *p = mem_producer(ring, 0);
	uint64_t counter = 0;
	struct rec r;

	publish_n(p, 6, &counter);
	memset(&r, 0, sizeof(r));
	r.fail_at = 3;
	CHECK_EQ(badbatch_consume(c, rec_handler, &r, 0), -42);
	CHECK_EQ(r.n, 3);
	CHECK_EQ(badbatch_consumer_seq(c), 3);	/* 3 stays unconsumed */
	CHECK_EQ(badbatch_consume(c, rec_handler, &r, 0), 3);
	CHECK_EQ(r.n, 6);
	CHECK_EQ(r.seqs[3], 3);
	CHECK(r.eob[5]);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_topology_bookkeeping)
{
	struct badbatch *ring = mem_ring(16, 32, 0, 4);
	struct badbatch_consumer_config cc = { .want_id = true, .id = 0 };
	struct badbatch_consumer *c0, *c1, *c2, *c3, *x;
	struct badbatch_producer *p, *p2;
	struct badbatch_stats st;
	struct badbatch_info info;

	CHECK_EQ(badbatch_get_info(ring, &info), 0);
	CHECK_EQ(info.slot_count, 16);
	CHECK_EQ(info.slot_size, 32);
	CHECK_EQ(info.max_consumers, 4);
	CHECK_EQ(info.wait, BADBATCH_WAIT_YIELD);
	CHECK_EQ(badbatch_fd(ring), -1);

	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c0), 0);
	CHECK_EQ(badbatch_consumer_id(c0), 0);
	c1 = mem_consumer(ring, 1ULL << 0, 0);
	c2 = mem_consumer(ring, 1ULL << 1, 0);
	CHECK_EQ(badbatch_consumer_id(c1), 1);
	CHECK_EQ(badbatch_consumer_id(c2), 2);
	CHECK_EQ(badbatch_get_stats(ring, &st), 0);
	CHECK_EQ(st.gating_mask, 1ULL << 2);
	CHECK_EQ(st.nr_consumers, 3);

	cc.deps = 1ULL << 3;			/* not attached */
	cc.want_id = false;
	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &x), -ENOENT);
	cc.deps = 1ULL << 5;			/* beyond max_consumers */
	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &x), -EINVAL);
	cc.deps = 0;
	cc.want_id = true;
	cc.id = 1;				/* taken */
	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &x), -EBUSY);
	cc.id = 3;
	cc.deps = 1ULL << 3;			/* itself */
	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &x), -EINVAL);
	cc.id = 64;
	cc.deps = 0;
	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &x), -EINVAL);
	c3 = mem_consumer(ring, 0, 0);
	CHECK_EQ(badbatch_consumer_id(c3), 3);
	CHECK_EQ(badbatch_consumer_attach(ring, NULL, &x), -ENOSPC);
	CHECK_EQ(badbatch_get_stats(ring, &st), 0);
	CHECK_EQ(st.gating_mask, (1ULL << 2) | (1ULL << 3));

	/* 1 leaves: 2 follows 0 instead; 2 and 3 still gate. */
	badbatch_consumer_close(c1);
	CHECK_EQ(c2->part.view.hdr->consumers[2].deps, 1ULL << 0);
	CHECK_EQ(badbatch_get_stats(ring, &st), 0);
	CHECK_EQ(st.gating_mask, (1ULL << 2) | (1ULL << 3));
	CHECK_EQ(st.nr_consumers, 3);
	/* 2 leaves: nobody follows 0 any more, so it gates. */
	badbatch_consumer_close(c2);
	CHECK_EQ(badbatch_get_stats(ring, &st), 0);
	CHECK_EQ(st.gating_mask, (1ULL << 0) | (1ULL << 3));
	CHECK_EQ(c0->part.view.hdr->topo_seq % 2, 0);

	p = mem_producer(ring, 0);
	CHECK_EQ(badbatch_producer_attach(ring, NULL, &p2), -EBUSY);
	badbatch_producer_close(p);
	p = mem_producer(ring, 0);		/* the slot is free again */
	badbatch_producer_close(p);
	badbatch_consumer_close(c0);
	badbatch_consumer_close(c3);
	badbatch_close(ring);

	ring = mem_ring(16, 32, BADBATCH_MULTI_PRODUCER, 0);
	p = mem_producer(ring, 0);
	p2 = mem_producer(ring, 0);
	CHECK_EQ(badbatch_get_stats(ring, &st), 0);
	CHECK_EQ(st.nr_producers, 2);
	/* Handles outlive the ring handle. */
	badbatch_close(ring);
	CHECK_EQ(badbatch_remaining(p), 16);
	badbatch_producer_close(p);
	badbatch_producer_close(p2);
}

TEST(lib_config_validation)
{
	struct badbatch_config bad[] = {
		{ .slot_count = 12, .slot_size = 8 },
		{ .slot_count = 1, .slot_size = 8 },
		{ .slot_count = 1U << 25, .slot_size = 8 },
		{ .slot_count = 8, .slot_size = 12 },
		{ .slot_count = 8, .slot_size = 0 },
		{ .slot_count = 8, .slot_size = 8, .flags = 1U << 7 },
		{ .slot_count = 8, .slot_size = 8, .max_consumers = 65 },
		{ .slot_count = 8, .slot_size = 8, .wait = 42 },
	};
	struct badbatch_config tb = {
		.slot_count = 8, .slot_size = 8,
		.wait = BADBATCH_WAIT_TIMEOUT_BLOCK,
	};
	struct badbatch_consumer_config cc = { 0 };
	struct badbatch_producer_config pc = { 0 };
	struct badbatch_consumer *c;
	struct badbatch_producer *p;
	struct badbatch *ring;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CHECKF(badbatch_memring_create(&bad[i], &ring) == -EINVAL,
		       "config %u accepted", i);
	CHECK_EQ(badbatch_memring_create(NULL, &ring), -EINVAL);

	CHECK_EQ(badbatch_memring_create(&tb, &ring), 0);
	/* Named explicitly, TIMEOUT_BLOCK needs its timeout. */
	cc.wait.strategy = BADBATCH_WAIT_TIMEOUT_BLOCK;
	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), -EINVAL);
	pc.wait.strategy = BADBATCH_WAIT_TIMEOUT_BLOCK;
	CHECK_EQ(badbatch_producer_attach(ring, &pc, &p), -EINVAL);
	pc.wait.strategy = 17;
	CHECK_EQ(badbatch_producer_attach(ring, &pc, &p), -EINVAL);
	/* Inherited from the ring, it gets a default timeout. */
	CHECK_EQ(badbatch_consumer_attach(ring, NULL, &c), 0);
	CHECK_EQ(c->part.wait.strategy, BB_WAIT_TIMEOUT_BLOCK);
	CHECK(c->part.wait.timeout_ns > 0);
	CHECK_EQ(badbatch_get_stats(ring, &(struct badbatch_stats){ 0 }), 0);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

/* Without the module, the device calls fail cleanly. */
TEST(lib_device_errors)
{
	struct badbatch_config cfg = { .slot_count = 8, .slot_size = 8 };
	struct badbatch *ring = NULL;
	int fd;

	setenv("BADBATCH_DEVICE", "/nonexistent/badbatch", 1);
	CHECK_EQ(badbatch_create(&cfg, &ring), -ENOENT);
	CHECK_EQ(badbatch_open("ring", &ring), -ENOENT);
	CHECK_EQ(badbatch_open("", &ring), -EINVAL);
	CHECK(ring == NULL);
	CHECK_EQ(badbatch_from_fd(-1, &ring), -EBADF);
	fd = open("/dev/null", O_RDWR);
	CHECK(fd >= 0);
	CHECK_EQ(badbatch_from_fd(fd, &ring), -ENOTTY);
	close(fd);
	/* Not a badbatch device: the ioctl is refused, nothing leaks. */
	setenv("BADBATCH_DEVICE", "/dev/null", 1);
	CHECK_EQ(badbatch_create(&cfg, &ring), -ENOTTY);
	CHECK(ring == NULL);
	badbatch_close(NULL);
	badbatch_producer_close(NULL);
	badbatch_consumer_close(NULL);
}
