// SPDX-License-Identifier: GPL-2.0
/*
 * badbatch-demo: the project's main job. It creates a ring in the kernel,
 * forks consumer processes in a pipeline, diamond or fan-out and one or
 * more publisher processes; every process attaches itself (through the
 * inherited descriptor or by the ring's name). Publishers write N events
 * with a checkable payload; consumers verify every event's content, order
 * and per-publisher sequence, and that the consumers they follow handled
 * it first (they stamp the slots they pass on a mutable ring). The parent
 * prints a summary and exits 0 only if every check passed.
 *
 *	badbatch-demo [-n events] [-s slots] [-z slot_size] [-b claim_batch]
 *		      [-t pipeline|diamond|fanout] [-P publishers]
 *		      [-w spin|spin-pause|yield|sleep|block|lite-block|
 *			  phased|timeout] [-a fd|name]
 *		      [-T timeout_s] [-R]
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <badbatch.h>

#define MAX_CONSUMERS	3
#define MAX_PUBLISHERS	16
#define MAX_ERRORS	5	/* reported per process */
#define EVENT_HEAD	32	/* bytes of struct demo_event before filler */

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* The first 32 bytes of every slot; filler words follow. */
struct demo_event {
	uint64_t seq;
	uint64_t counter;	/* per publisher, from 0 */
	uint64_t check;
	uint32_t publisher;
	uint8_t stamp[4];	/* stamp[i]: consumer i handled it */
};

_Static_assert(sizeof(struct demo_event) == EVENT_HEAD, "event head");

enum role { ROLE_CONSUMER, ROLE_PUBLISHER };

/* What a child reports to the parent through its pipe. */
struct result {
	uint32_t role;
	uint32_t index;
	int32_t rc;		/* last library error, 0 if none */
	uint32_t consumer_id;
	uint64_t count;
	uint64_t first;
	uint64_t last;
	uint64_t errors;
	uint64_t batches;
	uint64_t abandoned;
	uint64_t t_first;	/* CLOCK_MONOTONIC ns */
	uint64_t t_last;
};

struct consumer_spec {
	const char *name;
	uint64_t deps;		/* consumer indexes followed (= ids) */
	bool stamps;		/* writes its stamp for followers */
};

struct opts {
	uint64_t events;
	uint32_t slots;
	uint32_t slot_size;
	uint32_t batch;
	uint32_t publishers;
	enum badbatch_wait wait;
	const char *wait_name;
	const char *topology;
	bool by_name;
	bool read_only;
	unsigned int timeout_s;
	unsigned int nr_consumers;
	struct consumer_spec cons[MAX_CONSUMERS];
	char ring_name[BADBATCH_NAME_MAX];
	int ring_fd;		/* the creator's, inherited by children */
};

static struct opts o = {
	.events = 1000000,
	.slots = 4096,
	.slot_size = 64,
	.batch = 1,
	.publishers = 1,
	.wait = BADBATCH_WAIT_BLOCK,
	.wait_name = "block",
	.topology = "pipeline",
	.timeout_s = 120,
};

static const char *me = "badbatch-demo";

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stdout, "%s: ", me);
	/* clang-analyzer 14 loses va_start here: NOLINTNEXTLINE */
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static uint64_t event_check(uint64_t seq, uint64_t counter, uint32_t pub)
{
	return mix(seq ^ mix(counter + ((uint64_t)pub << 40)));
}

static uint64_t filler(uint64_t seq, unsigned int word)
{
	return mix(seq * 31 + word);
}

static uint8_t stamp_of(uint64_t seq, unsigned int consumer)
{
	return (uint8_t)(seq * 7 + consumer + 1) | 1;	/* never 0 */
}

/* ---- children --------------------------------------------------------- */

static int attach_ring(struct badbatch **ring)
{
	int rc;

	if (o.by_name)
		rc = badbatch_open(o.ring_name, ring);
	else
		rc = badbatch_from_fd(o.ring_fd, ring);
	if (rc)
		say("%d: cannot attach ring %s: %s", (int)getpid(),
		    o.by_name ? "by name" : "by descriptor", strerror(-rc));
	return rc;
}

static void send_result(int fd, const struct result *r)
{
	ssize_t n = write(fd, r, sizeof(*r));

	if (n != (ssize_t)sizeof(*r))
		say("%d: cannot report: %s", (int)getpid(),
		    n < 0 ? strerror(errno) : "short write");
}

struct checker {
	struct result *res;
	const struct consumer_spec *spec;
	unsigned int index;
	uint64_t expect;	/* next sequence */
	uint64_t next[MAX_PUBLISHERS];
	uint32_t words;		/* filler words per slot */
};

static void bad_event(struct checker *ck, uint64_t seq, const char *what,
		      uint64_t got, uint64_t want)
{
	if (ck->res->errors++ < MAX_ERRORS)
		say("consumer %s: event %llu: %s is %llu, expected %llu",
		    ck->spec->name, (unsigned long long)seq, what,
		    (unsigned long long)got, (unsigned long long)want);
}

static int check_event(void *ctx, void *slot, uint64_t seq, bool eob)
{
	struct checker *ck = ctx;
	struct demo_event *e = slot;
	const uint64_t *fill = (const uint64_t *)(e + 1);
	struct result *r = ck->res;
	unsigned int i;

	if (!r->count) {
		r->first = seq;
		r->t_first = now_ns();
	}
	if (seq != ck->expect)
		bad_event(ck, seq, "delivery order", seq, ck->expect);
	ck->expect = seq + 1;
	if (e->seq != seq)
		bad_event(ck, seq, "sequence stamp", e->seq, seq);
	if (e->publisher >= o.publishers) {
		bad_event(ck, seq, "publisher", e->publisher, o.publishers);
	} else {
		if (e->counter != ck->next[e->publisher])
			bad_event(ck, seq, "publisher's counter", e->counter,
				  ck->next[e->publisher]);
		ck->next[e->publisher] = e->counter + 1;
	}
	if (e->check != event_check(e->seq, e->counter, e->publisher))
		bad_event(ck, seq, "checksum", e->check,
			  event_check(e->seq, e->counter, e->publisher));
	for (i = 0; i < ck->words; i++)
		if (fill[i] != filler(seq, i))
			bad_event(ck, seq, "filler word", i, i);
	/* Whoever we follow has been here (and stamped, if writable). */
	for (i = 0; i < o.nr_consumers; i++)
		if ((ck->spec->deps & (1ULL << i)) && o.cons[i].stamps &&
		    e->stamp[i] != stamp_of(seq, i))
			bad_event(ck, seq, "upstream stamp", e->stamp[i],
				  stamp_of(seq, i));
	if (ck->spec->stamps)
		e->stamp[ck->index] = stamp_of(seq, ck->index);
	r->last = seq;
	r->count++;
	r->batches += eob;
	return 0;
}

static int run_consumer(unsigned int index, int out)
{
	const struct consumer_spec *spec = &o.cons[index];
	struct badbatch_consumer_config cc = {
		.deps = spec->deps,
		.want_id = true,
		.id = index,
	};
	struct result res = { .role = ROLE_CONSUMER, .index = index };
	struct checker ck = {
		.res = &res,
		.spec = spec,
		.index = index,
		.words = (o.slot_size - EVENT_HEAD) / 8,
	};
	struct badbatch_consumer *c;
	struct badbatch *ring;
	char ready = 'r';
	int rc;

	if (attach_ring(&ring))
		return 2;
	rc = badbatch_consumer_attach(ring, &cc, &c);
	badbatch_close(ring);
	if (rc) {
		say("consumer %s: attach: %s", spec->name, strerror(-rc));
		return 2;
	}
	res.consumer_id = badbatch_consumer_id(c);
	ck.expect = badbatch_consumer_seq(c);
	if (write(out, &ready, 1) != 1)
		return 2;

	while (res.count + badbatch_consumer_abandoned(c) < o.events) {
		rc = badbatch_consume(c, check_event, &ck, 0);
		if (rc < 0) {
			say("consumer %s: stopped after %llu events: %s",
			    spec->name, (unsigned long long)res.count,
			    strerror(-rc));
			res.rc = rc;
			break;
		}
	}
	res.t_last = now_ns();
	res.abandoned = badbatch_consumer_abandoned(c);
	badbatch_consumer_close(c);
	send_result(out, &res);
	return res.rc || res.errors || res.count != o.events ? 1 : 0;
}

static void fill_event(void *slot, uint64_t seq, uint32_t pub,
		       uint64_t counter)
{
	struct demo_event *e = slot;
	uint64_t *fill = (uint64_t *)(e + 1);
	unsigned int i, words = (o.slot_size - EVENT_HEAD) / 8;

	e->seq = seq;
	e->counter = counter;
	e->publisher = pub;
	e->check = event_check(seq, counter, pub);
	memset(e->stamp, 0, sizeof(e->stamp));
	for (i = 0; i < words; i++)
		fill[i] = filler(seq, i);
}

static int run_publisher(unsigned int index, uint64_t count, int out)
{
	struct result res = { .role = ROLE_PUBLISHER, .index = index };
	struct badbatch_producer *p;
	struct badbatch *ring;
	uint64_t counter = 0, seq, s;
	int rc;

	if (attach_ring(&ring))
		return 2;
	rc = badbatch_producer_attach(ring, NULL, &p);
	badbatch_close(ring);
	if (rc) {
		say("publisher %u: attach: %s", index, strerror(-rc));
		return 2;
	}
	res.t_first = now_ns();
	res.first = UINT64_MAX;
	while (counter < count) {
		uint32_t n = o.batch;

		if (n > count - counter)
			n = (uint32_t)(count - counter);
		rc = badbatch_claim(p, n, &seq);
		if (rc) {
			say("publisher %u: claim after %llu events: %s", index,
			    (unsigned long long)counter, strerror(-rc));
			res.rc = rc;
			break;
		}
		for (s = seq; s < seq + n; s++)
			fill_event(badbatch_slot(p, s), s, index, counter++);
		rc = badbatch_publish(p, seq, n);
		if (rc) {
			say("publisher %u: publish %llu: %s", index,
			    (unsigned long long)seq, strerror(-rc));
			res.rc = rc;
			break;
		}
		if (res.first == UINT64_MAX)
			res.first = seq;
		res.last = seq + n - 1;
		res.batches++;
	}
	res.t_last = now_ns();
	res.count = counter;
	badbatch_producer_close(p);
	send_result(out, &res);
	return res.rc || counter != count ? 1 : 0;
}

/* ---- parent ----------------------------------------------------------- */

struct child {
	pid_t pid;
	int fd;			/* read end of its pipe */
	int status;
	bool exited;
	bool reported;
	struct result res;
	char label[32];
};

static struct child kids[MAX_CONSUMERS + MAX_PUBLISHERS];
static unsigned int nkids;
static uint64_t deadline;	/* CLOCK_MONOTONIC ns: give up then */

static int spawn(unsigned int index, uint64_t count, enum role role)
{
	struct child *k = &kids[nkids];
	int pfd[2];
	pid_t pid;

	if (pipe(pfd)) {
		say("pipe: %s", strerror(errno));
		return -1;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		say("fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		if (role == ROLE_CONSUMER)
			_exit(run_consumer(index, pfd[1]));
		_exit(run_publisher(index, count, pfd[1]));
	}
	close(pfd[1]);
	k->pid = pid;
	k->fd = pfd[0];
	if (role == ROLE_CONSUMER)
		snprintf(k->label, sizeof(k->label), "consumer %s",
			 o.cons[index].name);
	else
		snprintf(k->label, sizeof(k->label), "publisher %u", index);
	nkids++;
	return 0;
}

/* A consumer's first byte says it is attached (deps need earlier ids). */
static int wait_ready(struct child *k)
{
	struct pollfd pfd = { .fd = k->fd, .events = POLLIN };
	uint64_t now;
	char c;
	int n;

	for (;;) {
		now = now_ns();
		if (now >= deadline)
			return -1;
		n = poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1);
		if (n > 0)
			return read(k->fd, &c, 1) == 1 ? 0 : -1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * Wait for every child. A child that fails, or the deadline, halts the
 * ring so nobody waits for a peer that will not come; five seconds after
 * the deadline whoever is left is killed.
 */
static void reap_all(struct badbatch *ring)
{
	unsigned int left = nkids, i;
	bool halted = false, killed = false;
	int status;
	pid_t pid;

	while (left) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			say("waitpid: %s", strerror(errno));
			break;
		}
		if (pid == 0) {
			if (!halted && now_ns() >= deadline) {
				say("timed out after %u s: halting the ring",
				    o.timeout_s);
				badbatch_halt(ring);
				halted = true;
			} else if (halted && !killed &&
				   now_ns() >= deadline + 5000000000ULL) {
				say("children still running: killing them");
				for (i = 0; i < nkids; i++)
					if (!kids[i].exited)
						kill(kids[i].pid, SIGKILL);
				killed = true;
			}
			usleep(10000);
			continue;
		}
		for (i = 0; i < nkids; i++) {
			if (kids[i].pid != pid)
				continue;
			kids[i].exited = true;
			kids[i].status = status;
			left--;
			if ((!WIFEXITED(status) || WEXITSTATUS(status)) &&
			    !halted) {
				say("%s (pid %d) failed: halting the ring",
				    kids[i].label, (int)pid);
				badbatch_halt(ring);
				halted = true;
				if (deadline > now_ns())
					deadline = now_ns();
			}
		}
	}
}

static void read_results(void)
{
	unsigned int i;
	ssize_t n;

	for (i = 0; i < nkids; i++) {
		n = read(kids[i].fd, &kids[i].res, sizeof(kids[i].res));
		kids[i].reported = n == (ssize_t)sizeof(kids[i].res);
		close(kids[i].fd);
	}
}

static double rate(uint64_t count, uint64_t ns)
{
	return ns ? (double)count * 1e3 / (double)ns : 0.0;	/* M/s */
}

/* Print every child's result and check it; true when all is well. */
static bool summarize(uint64_t t_start)
{
	uint64_t t_end = t_start, published = 0, delivered = UINT64_MAX;
	bool ok = true;
	unsigned int i;

	for (i = 0; i < nkids; i++) {
		struct child *k = &kids[i];
		struct result *r = &k->res;
		bool good = k->exited && WIFEXITED(k->status) &&
			    WEXITSTATUS(k->status) == 0 && k->reported;

		if (!k->reported) {
			say("%s: no report (%s %d)", k->label,
			    WIFSIGNALED(k->status) ? "signal" : "exit",
			    WIFSIGNALED(k->status) ? WTERMSIG(k->status) :
						     WEXITSTATUS(k->status));
			ok = false;
			continue;
		}
		if (r->t_last > t_end)
			t_end = r->t_last;
		if (r->role == ROLE_PUBLISHER) {
			published += r->count;
			say("%s: %llu events in %.3f s (%.2f M/s), %llu claims%s",
			    k->label, (unsigned long long)r->count,
			    (r->t_last - r->t_first) / 1e9,
			    rate(r->count, r->t_last - r->t_first),
			    (unsigned long long)r->batches,
			    good ? "" : " FAILED");
		} else {
			if (r->count < delivered)
				delivered = r->count;
			good = good && r->count == o.events &&
			       r->first == 0 && r->last == o.events - 1 &&
			       !r->errors && !r->rc;
			say("%s (id %u): %llu events, seq %llu..%llu, %llu batches (avg %.1f), %llu abandoned, %llu errors, %.2f M/s%s",
			    k->label,
			    r->consumer_id, (unsigned long long)r->count,
			    (unsigned long long)r->first,
			    (unsigned long long)r->last,
			    (unsigned long long)r->batches,
			    r->batches ? (double)r->count / r->batches : 0.0,
			    (unsigned long long)r->abandoned,
			    (unsigned long long)r->errors,
			    rate(r->count, r->t_last - r->t_first),
			    good ? "" : " FAILED");
		}
		ok = ok && good;
	}
	if (published != o.events) {
		say("published %llu of %llu events",
		    (unsigned long long)published,
		    (unsigned long long)o.events);
		ok = false;
	}
	if (delivered == UINT64_MAX)
		delivered = 0;
	say("end to end: %llu events through every consumer in %.3f s (%.2f M/s)",
	    (unsigned long long)delivered, (t_end - t_start) / 1e9,
	    rate(delivered, t_end - t_start));
	return ok;
}

static int setup_topology(void)
{
	static const struct consumer_spec pipeline[] = {
		{ "A", 0, true }, { "B", 1ULL << 0, false },
	};
	static const struct consumer_spec diamond[] = {
		{ "A", 0, true }, { "B", 0, true },
		{ "C", (1ULL << 0) | (1ULL << 1), false },
	};
	static const struct consumer_spec fanout[] = {
		{ "A", 0, false }, { "B", 0, false },
	};
	const struct consumer_spec *t;
	unsigned int i;

	if (!strcmp(o.topology, "pipeline")) {
		t = pipeline;
		o.nr_consumers = 2;
	} else if (!strcmp(o.topology, "diamond")) {
		t = diamond;
		o.nr_consumers = 3;
	} else if (!strcmp(o.topology, "fanout")) {
		t = fanout;
		o.nr_consumers = 2;
	} else {
		return -1;
	}
	for (i = 0; i < o.nr_consumers; i++) {
		o.cons[i] = t[i];
		if (o.read_only)
			o.cons[i].stamps = false;
	}
	return 0;
}

static int parse_wait(const char *s)
{
	static const struct {
		const char *name;
		enum badbatch_wait wait;
	} waits[] = {
		{ "spin", BADBATCH_WAIT_BUSY_SPIN },
		{ "spin-pause", BADBATCH_WAIT_BUSY_SPIN_PAUSE },
		{ "yield", BADBATCH_WAIT_YIELD },
		{ "sleep", BADBATCH_WAIT_SLEEP },
		{ "block", BADBATCH_WAIT_BLOCK },
		/* The same strategy: BLOCK is lite-blocking already. */
		{ "lite-block", BADBATCH_WAIT_LITE_BLOCK },
		{ "phased", BADBATCH_WAIT_PHASED_BACKOFF },
		{ "timeout", BADBATCH_WAIT_TIMEOUT_BLOCK },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(waits); i++) {
		if (!strcmp(s, waits[i].name)) {
			o.wait = waits[i].wait;
			o.wait_name = waits[i].name;
			return 0;
		}
	}
	return -1;
}

static void usage(int status)
{
	static const char text[] =
		"usage: badbatch-demo [options]\n"
		"  -n events   events to publish in all (default 1000000)\n"
		"  -s slots    slots in the ring, a power of two (default 4096)\n"
		"  -z bytes    slot size, a multiple of 8, >= 32 (default 64)\n"
		"  -b slots    slots per claim (default 1)\n"
		"  -t graph    pipeline (B follows A, default), diamond\n"
		"              (C follows A and B) or fanout (A, B)\n"
		"  -P count    publisher processes; > 1: multi-producer ring\n"
		"  -w wait     spin, spin-pause, yield, sleep, block (default),\n"
		"              lite-block (= block), phased, timeout\n"
		"  -a how      children attach by inherited fd (default) or name\n"
		"  -T seconds  give up after this long (default 120)\n"
		"  -R          read-only consumers: no stamps for followers\n";

	fputs(text, status ? stderr : stdout);
	exit(status);
}

static uint64_t parse_num(const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "%s: bad number '%s' (%llu..%llu)\n", me, s,
			(unsigned long long)min, (unsigned long long)max);
		usage(2);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "n:s:z:b:t:P:w:a:T:Rh")) != -1) {
		switch (opt) {
		case 'n':
			o.events = parse_num(optarg, 1, 1ULL << 40);
			break;
		case 's':
			o.slots = parse_num(optarg, 2, 1U << 24);
			break;
		case 'z':
			o.slot_size = parse_num(optarg, EVENT_HEAD, 1U << 20);
			break;
		case 'b':
			o.batch = parse_num(optarg, 1, 1U << 24);
			break;
		case 't':
			o.topology = optarg;
			break;
		case 'P':
			o.publishers = parse_num(optarg, 1, MAX_PUBLISHERS);
			break;
		case 'w':
			if (parse_wait(optarg))
				usage(2);
			break;
		case 'a':
			if (strcmp(optarg, "fd") != 0 &&
			    strcmp(optarg, "name") != 0)
				usage(2);
			o.by_name = !strcmp(optarg, "name");
			break;
		case 'T':
			o.timeout_s = parse_num(optarg, 1, 86400);
			break;
		case 'R':
			o.read_only = true;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc || setup_topology())
		usage(2);
	if (o.slots & (o.slots - 1) || o.slot_size % 8 || o.batch > o.slots) {
		fprintf(stderr, "%s: slots must be a power of two, slot size a multiple of 8, batch at most the slots\n",
			me);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct badbatch_config cfg = { 0 };
	struct badbatch_stats st;
	struct badbatch_info info;
	struct badbatch *ring;
	uint64_t t_start, share;
	unsigned int i;
	bool ok = true;
	int rc;

	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(o.ring_name, sizeof(o.ring_name), "badbatch-demo.%d",
		 (int)getpid());
	cfg.slot_count = o.slots;
	cfg.slot_size = o.slot_size;
	cfg.max_consumers = MAX_CONSUMERS;
	cfg.wait = o.wait;
	cfg.name = o.ring_name;
	if (o.publishers > 1)
		cfg.flags |= BADBATCH_MULTI_PRODUCER;
	for (i = 0; i < o.nr_consumers; i++)
		if (o.cons[i].stamps)
			cfg.flags |= BADBATCH_MUTABLE_CONSUMERS;
	if (o.wait == BADBATCH_WAIT_TIMEOUT_BLOCK)
		cfg.wait = BADBATCH_WAIT_TIMEOUT_BLOCK;	/* 1 s default */

	rc = badbatch_create(&cfg, &ring);
	if (rc) {
		say("cannot create the ring: %s%s", strerror(-rc),
		    rc == -ENOENT ? " (is badbatch.ko loaded?)" : "");
		return 2;
	}
	o.ring_fd = badbatch_fd(ring);
	badbatch_get_info(ring, &info);
	say("ring \"%s\" id %llu: %u slots x %u B, %s, wait %s, %s graph, %llu events, claims of %u, attach by %s",
	    o.ring_name,
	    (unsigned long long)info.ring_id, info.slot_count,
	    info.slot_size, o.publishers > 1 ? "multi-producer" :
	    "single producer", o.wait_name, o.topology,
	    (unsigned long long)o.events, o.batch,
	    o.by_name ? "name" : "descriptor");

	deadline = now_ns() + o.timeout_s * 1000000000ULL;

	/* Consumers first, in order: followers need their upstream's id. */
	for (i = 0; i < o.nr_consumers && ok; i++) {
		if (spawn(i, 0, ROLE_CONSUMER) ||
		    wait_ready(&kids[nkids - 1])) {
			say("consumer %s did not attach", o.cons[i].name);
			ok = false;
		}
	}
	t_start = now_ns();
	share = o.events / o.publishers;
	for (i = 0; i < o.publishers && ok; i++)
		if (spawn(i, share + (i == 0 ? o.events % o.publishers : 0),
			  ROLE_PUBLISHER))
			ok = false;
	if (!ok)
		badbatch_halt(ring);
	reap_all(ring);
	read_results();
	ok = summarize(t_start) && ok;

	if (!badbatch_get_stats(ring, &st)) {
		say("kernel: %llu sleeps, %llu wakeups, %u waiters now, %llu bytes, %s",
		    (unsigned long long)st.sleeps,
		    (unsigned long long)st.wakeups, st.waiters,
		    (unsigned long long)st.bytes,
		    st.halted ? "halted" : "running");
		/*
		 * Need-wakeup: a wake call per sleeper, give or take races
		 * with sleepers that found their events on the re-check.
		 * Not with several publishers: a consumer asleep at an event
		 * another publisher has yet to fill rightly stays announced
		 * while the others publish.
		 */
		if (o.publishers == 1 && st.wakeups > 4 * st.sleeps + 1000) {
			say("FAILED: %llu wake calls for %llu sleeps: publishers enter the kernel without sleepers",
			    (unsigned long long)st.wakeups,
			    (unsigned long long)st.sleeps);
			ok = false;
		}
	}
	badbatch_halt(ring);
	badbatch_close(ring);
	say("%s", ok ? "PASS" : "FAIL");
	return ok ? 0 : 1;
}
