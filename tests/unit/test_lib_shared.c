// SPDX-License-Identifier: GPL-2.0
/*
 * Shared memory rings: a pipeline of three processes (a producer and two
 * consumers, the second following the first) on one ring created before
 * fork(). Every event arrives once, in order and intact, at both; the
 * consumers sleep on the shared futexes while the producer pauses; the
 * bookkeeping (ids, counts) is the same in every process.
 */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libutil.h"

#define SHARED_EVENTS	UT_N(200000)
#define SHARED_PAUSE_NS	20000000ULL	/* long enough for both to sleep */

struct shared_check {
	uint64_t next;
};

static int check_event(void *ctx, void *event, uint64_t seq, bool end)
{
	struct shared_check *k = ctx;
	struct lev *e = event;

	CHECK_EQ(seq, k->next);
	CHECK_EQ(e->seq, seq);
	CHECK_EQ(e->counter, seq);
	CHECK_EQ(e->check, lev_check(e));
	k->next++;
	return 0;
}

/* A consumer process: read everything, then report its id. */
static void consumer_process(struct badbatch *ring, uint64_t deps, int out)
{
	struct badbatch_consumer_config cc = {
		.deps = deps, .wait = { .strategy = BADBATCH_WAIT_BLOCK },
	};
	struct shared_check k = { 0 };
	struct badbatch_consumer *c;
	uint32_t id;
	int rc;

	CHECK_EQ(badbatch_consumer_attach(ring, &cc, &c), 0);
	id = badbatch_consumer_id(c);
	CHECK_EQ(write(out, &id, sizeof(id)), sizeof(id));
	while (k.next < SHARED_EVENTS) {
		rc = badbatch_consume(c, check_event, &k, 0);
		CHECK(rc > 0);
	}
	/* Halted once the producer is done: nothing more, nothing twice. */
	CHECK_EQ(badbatch_consume(c, check_event, &k, 0), -ESHUTDOWN);
	CHECK_EQ(k.next, SHARED_EVENTS);
	badbatch_consumer_close(c);
	badbatch_close(ring);
	_exit(0);
}

static pid_t start_consumer(struct badbatch *ring, uint64_t deps,
			    uint32_t *id)
{
	int fds[2];
	pid_t pid;

	CHECK_EQ(pipe(fds), 0);
	pid = fork();
	CHECK(pid >= 0);
	if (!pid) {
		/* A parent that fails must not leave it asleep for good. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fds[0]);
		consumer_process(ring, deps, fds[1]);
	}
	close(fds[1]);
	CHECK_EQ(read(fds[0], id, sizeof(*id)), sizeof(*id));
	close(fds[0]);
	return pid;
}

static void check_exit(pid_t pid)
{
	int status;

	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "consumer process status %#x", status);
}

TEST(lib_shared_ring_pipeline_across_processes)
{
	struct badbatch_config cfg = {
		.slot_count = 256, .slot_size = sizeof(struct lev),
		.wait = BADBATCH_WAIT_BLOCK,
	};
	struct badbatch_producer *p;
	struct badbatch_stats st;
	struct badbatch *ring;
	uint32_t first, second, n;
	uint64_t seq, s, sent = 0, rnd = 42;
	pid_t a, b;

	CHECK_EQ(badbatch_memring_create_shared(&cfg, &ring), 0);
	a = start_consumer(ring, 0, &first);
	b = start_consumer(ring, 1ULL << first, &second);
	/* Ids come from the shared bookkeeping: no two alike. */
	CHECK(first != second);
	CHECK_EQ(badbatch_get_stats(ring, &st), 0);
	CHECK_EQ(st.nr_consumers, 2);
	p = mem_producer(ring, BADBATCH_WAIT_BLOCK);
	while (sent < SHARED_EVENTS) {
		n = (uint32_t)(ut_rand(&rnd) % 16) + 1;
		if (n > SHARED_EVENTS - sent)
			n = (uint32_t)(SHARED_EVENTS - sent);
		CHECK_EQ(badbatch_claim(p, n, &seq), 0);
		for (s = seq; s < seq + n; s++)
			lev_fill(badbatch_slot(p, s), s, 0, s);
		CHECK_EQ(badbatch_publish(p, seq, n), 0);
		/* Halfway: pause until both consumers sleep. */
		if (sent < SHARED_EVENTS / 2 && sent + n >= SHARED_EVENTS / 2) {
			uint64_t t0 = ut_now_ns();

			do {
				CHECK_EQ(badbatch_get_stats(ring, &st), 0);
				CHECK(ut_now_ns() - t0 < 5000000000ULL);
				ut_yield();
			} while (st.waiters != 2);
		}
		sent += n;
	}
	CHECK_EQ(badbatch_halt(ring), 0);
	check_exit(a);
	check_exit(b);
	CHECK_EQ(badbatch_get_stats(ring, &st), 0);
	CHECK(st.sleeps >= 2);
	/* The producer woke the first, the first the second. */
	CHECK(st.wakeups >= 2);
	CHECK_EQ(st.waiters, 0);
	CHECK_EQ(st.nr_consumers, 0);
	CHECK_EQ(st.nr_producers, 1);
	badbatch_producer_close(p);
	badbatch_close(ring);
}

/* What a private ring does not share: a child's attach stays its own. */
TEST(lib_private_ring_is_not_shared)
{
	struct badbatch *ring = mem_ring(8, 32, 0, 0);
	struct badbatch_stats st;
	int status;
	pid_t pid;

	pid = fork();
	CHECK(pid >= 0);
	if (!pid) {
		struct badbatch_consumer *c = mem_consumer(ring, 0, 0);

		badbatch_consumer_close(c);
		c = mem_consumer(ring, 0, 0);
		_exit(badbatch_consumer_id(c) == 0 ? 0 : 1);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ(badbatch_get_stats(ring, &st), 0);
	CHECK_EQ(st.nr_consumers, 0);
	badbatch_close(ring);
}

TEST(lib_shared_ring_bad_config)
{
	struct badbatch_config cfg = { .slot_count = 6, .slot_size = 8 };
	struct badbatch *ring = NULL;

	CHECK_EQ(badbatch_memring_create_shared(&cfg, &ring), -EINVAL);
	CHECK(ring == NULL);
	CHECK_EQ(badbatch_memring_create_shared(NULL, &ring), -EINVAL);
}
