// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Multi-process: a named ring and a graph split across three processes.
 *
 *	[produce] --> [journal: consumer id 0] --> [apply: id 1, deps {0}]
 *
 * The parent creates the ring "example-mp-<pid>" and starts each role as
 * its own program (fork + exec of this binary with the role in argv), as
 * unrelated services would be started. Nothing is inherited: every
 * process finds the ring by name and declares its place in the graph.
 * journal asks for consumer id 0 and follows the producers; apply asks
 * for id 1 and declares deps = 1 << 0, so the kernel lets it read an
 * event only after journal has finished it. Fixed ids are how processes
 * that start independently agree on the graph.
 *
 * The ring is mutable: journal stamps each event, apply checks the stamp.
 * If a process fails it halts the ring with a recorded failure, so that
 * nobody waits forever for it; the parent does the same for a child that
 * died.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "example.h"

#define EVENTS		50000ULL
#define SLOTS		1024
#define JOURNAL_ID	0
#define APPLY_ID	1
#define ATTACH_WAIT_S	20

struct event {
	uint64_t value;
	uint64_t journaled;	/* journal: value + 1 */
};

struct state {
	struct badbatch_consumer *c;
	bool apply;
	uint64_t count;
	uint64_t sum;
	uint64_t expect;	/* value of the next event */
};

static int on_event(void *ctx, void *slot, uint64_t seq, bool end_of_batch)
{
	struct event *e = slot;
	struct state *s = ctx;

	if (e->value != s->expect)
		return -EPROTO;
	if (s->apply && e->journaled != e->value + 1)
		return -EPROTO;		/* journal has not seen it */
	if (!s->apply)
		e->journaled = e->value + 1;
	s->expect++;
	s->count++;
	s->sum += e->value;
	return 0;
}

/* journal and apply: attach by name with a fixed id and dependencies. */
static int run_consumer(const char *name, bool apply)
{
	struct badbatch_consumer_config cc = {
		.want_id = true,
		.id = apply ? APPLY_ID : JOURNAL_ID,
		.deps = apply ? 1ULL << JOURNAL_ID : 0,
	};
	struct state s = { .apply = apply };
	struct badbatch *ring;
	int rc;

	CHECK(badbatch_open(name, &ring));
	CHECK(badbatch_consumer_attach(ring, &cc, &s.c));
	while (s.count < EVENTS) {
		rc = badbatch_consume(s.c, on_event, &s, 0);
		if (rc == -EPROTO) {
			/* Tell everyone why, and stop the whole graph; */
			/* halt at least when the reason cannot be recorded. */
			if (badbatch_consumer_fail(s.c, badbatch_consumer_seq(s.c),
						   EPROTO) < 0)
				badbatch_consumer_halt(s.c);
			die("%s: event %llu out of order or not journaled",
			    apply ? "apply" : "journal",
			    (unsigned long long)badbatch_consumer_seq(s.c));
		}
		if (rc < 0)
			die("%s: %s", apply ? "apply" : "journal",
			    strerror(-rc));
	}
	if (s.sum != EVENTS * (EVENTS - 1) / 2)
		die("%s: sum %llu", apply ? "apply" : "journal",
		    (unsigned long long)s.sum);
	say("ok: %s (consumer %u) handled %llu events",
	    apply ? "apply" : "journal", badbatch_consumer_id(s.c),
	    (unsigned long long)s.count);
	badbatch_consumer_close(s.c);
	badbatch_close(ring);
	return 0;
}

static int run_producer(const char *name)
{
	struct badbatch_producer *p;
	struct badbatch_failure f;
	struct badbatch *ring;
	uint64_t i, seq;
	int rc;

	CHECK(badbatch_open(name, &ring));
	CHECK(badbatch_producer_attach(ring, NULL, &p));
	for (i = 0; i < EVENTS; i++) {
		rc = badbatch_claim(p, 1, &seq);
		/* Another process halted the ring: it may have said why. */
		if (rc == -ESHUTDOWN && !badbatch_producer_get_failure(p, &f) &&
		    f.error)
			die("produce: consumer %u failed on event %llu: %s",
			    f.consumer_id, (unsigned long long)f.seq,
			    strerror(f.error));
		if (rc < 0)
			die("produce: claim: %s", strerror(-rc));
		*(struct event *)badbatch_slot(p, seq) =
			(struct event){ .value = i };
		CHECK(badbatch_publish(p, seq, 1));
	}
	badbatch_producer_close(p);
	badbatch_close(ring);
	return 0;
}

static pid_t spawn(const char *role, const char *name)
{
	pid_t pid;

	fflush(stdout);		/* or the child repeats our buffer */
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		execl("/proc/self/exe", program_invocation_name, role, name,
		      (char *)NULL);
		say("exec: %s", strerror(errno));
		_exit(127);
	}
	return pid;
}

/*
 * A consumer must be attached before the first publish to see every
 * event, and apply can only declare a dependency on an attached journal:
 * watch the ring's consumer count, and the child, until it is there.
 */
static void wait_consumers(struct badbatch *ring, uint32_t n, pid_t child)
{
	struct timespec nap = { 0, 5000000 };
	struct badbatch_stats st;
	int i, status;

	for (i = 0; i < ATTACH_WAIT_S * 200; i++) {
		CHECK(badbatch_get_stats(ring, &st));
		if (st.nr_consumers >= n)
			return;
		if (waitpid(child, &status, WNOHANG) == child)
			break;
		nanosleep(&nap, NULL);
	}
	/* Halting sends the consumers already attached home. */
	badbatch_halt(ring);
	die("consumers did not attach");
}

int main(int argc, char **argv)
{
	struct badbatch_config cfg = {
		.slot_count = SLOTS,
		.slot_size = sizeof(struct event),
		.flags = BADBATCH_MUTABLE_CONSUMERS,
		.mode = 0600,		/* this user's processes only */
	};
	char name[BADBATCH_NAME_MAX];
	struct badbatch *ring;
	pid_t pid[3];
	int i, status, failed = 0;

	if (argc == 3 && !strcmp(argv[1], "journal"))
		return run_consumer(argv[2], false);
	if (argc == 3 && !strcmp(argv[1], "apply"))
		return run_consumer(argv[2], true);
	if (argc == 3 && !strcmp(argv[1], "produce"))
		return run_producer(argv[2]);

	/* The creator's handle keeps the ring alive until we close it. */
	snprintf(name, sizeof(name), "example-mp-%d", (int)getpid());
	cfg.name = name;
	CHECK(badbatch_create(&cfg, &ring));

	pid[0] = spawn("journal", name);
	wait_consumers(ring, 1, pid[0]);
	pid[1] = spawn("apply", name);
	wait_consumers(ring, 2, pid[1]);
	pid[2] = spawn("produce", name);

	/* Any child failing halts the ring so that the others stop too. */
	for (i = 0; i < 3; i++) {
		pid_t who = wait(&status);

		if (who < 0)
			die("wait: %s", strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			say("process %d failed (status 0x%x)", (int)who, status);
			badbatch_halt(ring);
			failed = 1;
		}
	}
	badbatch_close(ring);
	if (failed)
		die("a process failed");
	say("ok: 3 processes, %llu events through journal then apply",
	    (unsigned long long)EVENTS);
	return 0;
}
