// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * epoll: a consumer inside an event loop.
 *
 * A server that already waits on sockets and timers with epoll cannot
 * also block in badbatch_wait_for(). Instead it adds the consumer's
 * descriptor to its epoll set: the descriptor is readable (EPOLLIN) when
 * an event is readable and hangs up (EPOLLHUP) when the ring is halted.
 * On each wakeup the loop takes everything readable without waiting
 * (badbatch_try_wait_for() until -EAGAIN) and goes back to epoll_wait().
 * The kernel arms the wakeup while the loop sleeps in epoll, so the
 * publisher enters the kernel only when the loop is really asleep.
 *
 * The publisher is a child process that inherits the ring handle over
 * fork(), publishes bursts with pauses between them (so the loop really
 * goes idle), then halts the ring: that is the end of the stream.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "example.h"

#define EVENTS		20000ULL
#define BURST		500
#define SLOTS		1024
#define IDLE_LIMIT_MS	30000	/* no wakeup for this long: give up */

struct event {
	uint64_t value;
};

static int publisher(struct badbatch *ring)
{
	struct timespec pause = { 0, 2000000 };
	struct badbatch_producer *p;
	uint64_t i, seq;

	CHECK(badbatch_producer_attach(ring, NULL, &p));
	for (i = 0; i < EVENTS; i++) {
		CHECK(badbatch_claim(p, 1, &seq));
		((struct event *)badbatch_slot(p, seq))->value = i;
		CHECK(badbatch_publish(p, seq, 1));
		if (i % BURST == BURST - 1)
			nanosleep(&pause, NULL);
	}
	/* Consumers still read everything published before the halt. */
	CHECK(badbatch_producer_halt(p));
	badbatch_producer_close(p);
	return 0;
}

struct totals {
	uint64_t count;
	uint64_t sum;
	uint64_t bad;
	uint64_t wakeups;	/* epoll_wait() returns with our fd ready */
};

/* Take everything readable now. Return false once the stream ended. */
static bool drain(struct badbatch_consumer *c, struct totals *t)
{
	uint64_t seq, limit;
	int rc;

	for (;;) {
		rc = badbatch_try_wait_for(c, &limit);
		if (rc == -EAGAIN)
			return true;	/* back to epoll */
		if (rc == -ESHUTDOWN)
			return false;	/* halted and fully read */
		CHECK(rc);
		for (seq = badbatch_consumer_seq(c); seq < limit; seq++) {
			const struct event *e = badbatch_event(c, seq);

			if (e->value != seq)
				t->bad++;
			t->count++;
			t->sum += e->value;
		}
		/* Frees the slots for the publisher (and wakes it if asleep). */
		CHECK(badbatch_advance(c, limit));
	}
}

int main(void)
{
	struct badbatch_config cfg = {
		.slot_count = SLOTS,
		.slot_size = sizeof(struct event),
	};
	struct epoll_event ev = { .events = EPOLLIN };
	struct badbatch_consumer *c;
	struct badbatch_failure f;
	struct badbatch *ring;
	struct totals t = { 0 };
	bool more = true;
	int ep, n, status = 0;
	pid_t pid;

	CHECK(badbatch_create(&cfg, &ring));
	/* Attach before the publisher starts, to see every event. */
	CHECK(badbatch_consumer_attach(ring, NULL, &c));

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		/*
		 * fork() copied the consumer's descriptor: drop it, or the
		 * consumer would outlive the parent and hold the producer.
		 */
		badbatch_consumer_close(c);
		_exit(publisher(ring));
	}

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1: %s", strerror(errno));
	/* Level-triggered: ready again as long as events are readable. */
	if (epoll_ctl(ep, EPOLL_CTL_ADD, badbatch_consumer_fd(c), &ev))
		die("epoll_ctl: %s", strerror(errno));

	while (more) {
		/* A real server would have sockets and timers here too. */
		n = epoll_wait(ep, &ev, 1, IDLE_LIMIT_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait: %s", strerror(errno));
		if (!n) {
			badbatch_consumer_halt(c);
			die("no event for %d ms", IDLE_LIMIT_MS);
		}
		t.wakeups++;
		/* EPOLLIN and EPOLLHUP alike: drain tells which. */
		more = drain(c, &t);
	}
	close(ep);

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		die("publisher failed (status 0x%x)", status);
	/* A plain halt records no failure: error 0 means a clean end. */
	CHECK(badbatch_get_failure(ring, &f));
	if (f.error)
		die("ring failed: %s on event %llu", strerror(f.error),
		    (unsigned long long)f.seq);
	if (t.count != EVENTS || t.bad || t.sum != EVENTS * (EVENTS - 1) / 2)
		die("%llu events (%llu bad), sum %llu",
		    (unsigned long long)t.count, (unsigned long long)t.bad,
		    (unsigned long long)t.sum);
	say("ok: %llu events in %llu epoll wakeups", (unsigned long long)t.count,
	    (unsigned long long)t.wakeups);

	badbatch_consumer_close(c);
	badbatch_close(ring);
	return 0;
}
