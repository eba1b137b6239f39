// SPDX-License-Identifier: GPL-2.0
/*
 * Waiting strategies, one thread: which values create, memring_create and
 * attach accept and what they map to in the ABI, and the phases of the
 * phased strategies, timed step by step through bb_backoff().
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"
#include "libutil.h"

/* Every strategy by name, with the ABI value it must become. */
static const struct {
	enum badbatch_wait lib;
	__u32 abi;
} wait_map[] = {
	{ BADBATCH_WAIT_BUSY_SPIN, BB_WAIT_BUSY_SPIN },
	{ BADBATCH_WAIT_YIELD, BB_WAIT_YIELD },
	{ BADBATCH_WAIT_SLEEP, BB_WAIT_SLEEP },
	{ BADBATCH_WAIT_BLOCK, BB_WAIT_BLOCK },
	{ BADBATCH_WAIT_LITE_BLOCK, BB_WAIT_BLOCK },
	{ BADBATCH_WAIT_TIMEOUT_BLOCK, BB_WAIT_TIMEOUT_BLOCK },
	{ BADBATCH_WAIT_BUSY_SPIN_PAUSE, BB_WAIT_BUSY_SPIN_PAUSE },
	{ BADBATCH_WAIT_PHASED_BACKOFF, BB_WAIT_PHASED_BACKOFF },
};

TEST(lib_wait_values_map_to_abi)
{
	struct badbatch_config cfg = { .slot_count = 8, .slot_size = 8 };
	struct badbatch_consumer_config cc = { .wait.timeout_ns = 1000000 };
	struct badbatch_producer_config pc = { .wait = cc.wait };
	struct badbatch_consumer *c;
	struct badbatch_producer *p;
	struct badbatch_info info;
	struct badbatch *ring;
	unsigned int i;

	CHECK_EQ(BADBATCH_WAIT_BUSY_SPIN_PAUSE, 6);
	CHECK_EQ(BADBATCH_WAIT_PHASED_BACKOFF, 7);
	for (i = 0; i < ARRAY_SIZE(wait_map); i++) {
		/* The ring records it... */
		cfg.wait = wait_map[i].lib;
		CHECK_EQ(badbatch_memring_create(&cfg, &ring), 0);
		CHECK_EQ(ring->hdr->wait_strategy, wait_map[i].abi);
		CHECK_EQ(badbatch_get_info(ring, &info), 0);
		CHECK_EQ(info.wait, wait_map[i].lib);
		/* ...participants inherit it... */
		CHECK_EQ(badbatch_consumer_attach(ring, NULL, &c), 0);
		CHECK_EQ(c->part.wait.strategy, wait_map[i].abi);
		badbatch_consumer_close(c);
		/* ...or ask for it. */
		cc.wait.strategy = wait_map[i].lib;
		CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), 0);
		CHECK_EQ(c->part.wait.strategy, wait_map[i].abi);
		pc.wait.strategy = wait_map[i].lib;
		CHECK_EQ(badbatch_producer_attach(ring, &pc, &p), 0);
		CHECK_EQ(p->part.wait.strategy, wait_map[i].abi);
		badbatch_producer_close(p);
		badbatch_consumer_close(c);
		badbatch_close(ring);
	}
}

TEST(lib_wait_values_beyond_max_rejected)
{
	struct badbatch_config cfg = {
		.slot_count = 8, .slot_size = 8,
		.wait = BADBATCH_WAIT_PHASED_BACKOFF + 1,
	};
	struct badbatch_consumer_config cc = { 0 };
	struct badbatch_producer_config pc = { 0 };
	struct badbatch_consumer *c;
	struct badbatch_producer *p;
	struct badbatch *ring;

	CHECK_EQ(badbatch_memring_create(&cfg, &ring), -EINVAL);
	/* Before any system call: no device needed to see it. */
	setenv("BADBATCH_DEVICE", "/nonexistent/badbatch", 1);
	CHECK_EQ(badbatch_create(&cfg, &ring), -EINVAL);
	cfg.wait = BADBATCH_WAIT_PHASED_BACKOFF;
	CHECK_EQ(badbatch_create(&cfg, &ring), -ENOENT);
	CHECK_EQ(badbatch_memring_create(&cfg, &ring), 0);
	cc.wait.strategy = BADBATCH_WAIT_PHASED_BACKOFF + 1;
	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), -EINVAL);
	pc.wait.strategy = BADBATCH_WAIT_PHASED_BACKOFF + 1;
	CHECK_EQ(badbatch_producer_attach(ring, &pc, &p), -EINVAL);
	pc.wait.strategy = (enum badbatch_wait)-1;
	CHECK_EQ(badbatch_producer_attach(ring, &pc, &p), -EINVAL);
	badbatch_close(ring);
}

#define NAP_NS		200000000ULL	/* a nap no yield comes close to */

/*
 * The first quick steps (SLEEP and PHASED_BACKOFF: spin polls, then yield
 * yields; BLOCK: spin polls) return at once. After them SLEEP naps
 * NAP_NS per step, and the blocking strategies sleep on the ring's futex
 * with nothing to wake them, until the deadline (NAP_NS).
 */
static void check_phases(enum badbatch_wait strategy, uint32_t spin,
			 uint32_t yield, uint32_t quick)
{
	bool blocks = strategy != BADBATCH_WAIT_SLEEP;
	struct badbatch *ring = mem_ring(8, 32, 0, 0);
	struct badbatch_consumer_config cc = { .wait = {
		.strategy = strategy, .spin = spin, .yield = yield,
		.sleep_ns = NAP_NS, .timeout_ns = blocks ? NAP_NS : 0 } };
	struct badbatch_consumer *c;
	struct badbatch_stats st;
	struct bb_backoff b;
	uint64_t t0, dt;
	uint32_t i;

	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), 0);
	bb_backoff_init(&b);
	t0 = ut_now_ns();
	for (i = 0; i < quick; i++)
		CHECK_EQ(bb_backoff(&c->part, &b, 0), 0);
	dt = ut_now_ns() - t0;
	CHECKF(dt < NAP_NS / 2, "%u quick steps took %llu ns", quick,
	       (unsigned long long)dt);
	for (i = 0; i < 2 && !blocks; i++) {
		t0 = ut_now_ns();
		CHECK_EQ(bb_backoff(&c->part, &b, 0), 0);
		dt = ut_now_ns() - t0;
		CHECKF(dt >= NAP_NS, "step %u after the yields took %llu ns",
		       quick + i, (unsigned long long)dt);
	}
	if (blocks) {
		/* The sleep ends at the deadline; the next step says so. */
		CHECK_EQ(bb_backoff(&c->part, &b, 0), 0);
		dt = ut_now_ns() - t0;
		CHECKF(dt >= NAP_NS, "the sleep ended after %llu ns",
		       (unsigned long long)dt);
		CHECK_EQ(bb_backoff(&c->part, &b, 0), -ETIMEDOUT);
	}
	CHECK_EQ(badbatch_get_stats(ring, &st), 0);
	CHECK_EQ(st.sleeps, blocks ? 1 : 0);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_wait_phases)
{
	check_phases(BADBATCH_WAIT_SLEEP, 20, 10, 30);
	check_phases(BADBATCH_WAIT_PHASED_BACKOFF, 50, 5, 55);
	check_phases(BADBATCH_WAIT_PHASED_BACKOFF, 1, 30, 31);
	check_phases(BADBATCH_WAIT_BLOCK, 20, 10, 20);
	check_phases(BADBATCH_WAIT_TIMEOUT_BLOCK, 20, 10, 20);
}

/* Spinners never nap or yield, however long they wait. */
TEST(lib_wait_spinners_never_sleep)
{
	enum badbatch_wait s[] = {
		BADBATCH_WAIT_BUSY_SPIN, BADBATCH_WAIT_BUSY_SPIN_PAUSE,
	};
	struct badbatch *ring = mem_ring(8, 32, 0, 0);
	struct badbatch_consumer *c;
	struct bb_backoff b;
	uint64_t t0, dt;
	unsigned int i, k;

	for (k = 0; k < ARRAY_SIZE(s); k++) {
		struct badbatch_consumer_config cc = { .wait = {
			.strategy = s[k], .spin = 1, .yield = 1,
			.sleep_ns = NAP_NS } };

		CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), 0);
		bb_backoff_init(&b);
		t0 = ut_now_ns();
		for (i = 0; i < 1000; i++)
			CHECK_EQ(bb_backoff(&c->part, &b, 0), 0);
		dt = ut_now_ns() - t0;
		CHECKF(dt < NAP_NS / 2, "1000 steps took %llu ns",
		       (unsigned long long)dt);
		badbatch_consumer_close(c);
	}
	badbatch_close(ring);
}

/*
 * A producer napping on a full ring (SLEEP: no kernel to tell it) while
 * the ring halts and room appears: its claim must fail with -ESHUTDOWN
 * and give the slots back, so consumers drain and stop at once instead
 * of waiting for a claim nobody will publish.
 */
struct halt_claim {
	struct badbatch_producer *p;
	int rc;
	uint64_t seq;
};

static void halt_claim_thread(void *arg)
{
	struct halt_claim *h = arg;

	h->rc = badbatch_claim(h->p, 2, &h->seq);
}

static void check_claim_after_halt(uint32_t flags)
{
	struct badbatch *ring = mem_ring(8, 32, flags, 0);
	struct badbatch_consumer *c = mem_consumer(ring, 0, 0);
	struct badbatch_producer_config pc = { .wait = {
		.strategy = BADBATCH_WAIT_SLEEP, .spin = 1, .yield = 1,
		.sleep_ns = NAP_NS } };
	struct halt_claim h = { .rc = 1 };
	uint64_t seq, limit, t0;
	struct ut_thread t;

	CHECK_EQ(badbatch_producer_attach(ring, &pc, &h.p), 0);
	CHECK_EQ(badbatch_claim(h.p, 8, &seq), 0);
	CHECK_EQ(badbatch_publish(h.p, seq, 8), 0);
	ut_thread_start(&t, halt_claim_thread, &h);
	/* Well into its first nap: halt, then make room. */
	t0 = ut_now_ns();
	while (ut_now_ns() - t0 < NAP_NS / 4)
		ut_yield();
	CHECK_EQ(badbatch_halt(ring), 0);
	CHECK_EQ(badbatch_try_wait_for(c, &limit), 0);
	CHECK_EQ(badbatch_advance(c, limit), 0);
	ut_thread_join(&t);
	CHECK_EQ(h.rc, -ESHUTDOWN);
	/* Given back: nothing pending, the consumer stops without grace. */
	CHECK_EQ(bb_load(&h.p->part.view.prod->claim), 8);
	t0 = ut_now_ns();
	CHECK_EQ(badbatch_wait_for(c, &limit), -ESHUTDOWN);
	CHECK(ut_now_ns() - t0 < NAP_NS);
	CHECK_EQ(badbatch_consumer_seq(c), 8);
	badbatch_producer_close(h.p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
}

TEST(lib_claim_wait_halted_meanwhile)
{
	check_claim_after_halt(0);
	check_claim_after_halt(BADBATCH_MULTI_PRODUCER);
}
