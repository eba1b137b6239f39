// SPDX-License-Identifier: GPL-2.0
/*
 * libbadbatch's poller against the real device, across processes:
 *   - a consumer process runs an epoll loop on badbatch_consumer_fd():
 *     EPOLLIN, then badbatch_poll() until IDLE, while a producer process
 *     publishes in bursts with pauses (so the loop really sleeps in
 *     epoll_wait). Its handler refuses some events once ("stop early"):
 *     each comes back first on the next poll, every event is seen exactly
 *     once, in order, intact. Then the ring is halted: EPOLLHUP, and
 *     badbatch_poll() returns -ESHUTDOWN with state IDLE once drained.
 *     Single- and multi-producer.
 *   - GATING: a consumer following a consumer of another process reports
 *     GATING (and its fd is not readable) while events are published
 *     but not yet handled upstream, PROCESSING once they are, then IDLE.
 */
#include <badbatch.h>
#include <sys/epoll.h>

#include "harness.h"

#define EVENTS		20000
#define BURST		100
#define SLOTS		64
#define EVENT_SIZE	64
#define REFUSE_EVERY	997	/* the handler refuses these once */

struct event {
	uint64_t counter;
	uint64_t check;
	uint64_t pad[6];
};

struct shared {
	char name[BB_NAME_MAX];
	struct t_chan ready;
	struct t_chan go;
	/* the consumer's results */
	uint64_t seen;
	uint64_t bad;
	uint64_t refused;
	uint64_t refusals_back;	/* refused events that came back first */
	uint64_t epoll_waits;	/* epoll_wait calls that found the fd ready */
	uint64_t epoll_timeouts;
	uint64_t polls_idle;
	uint64_t polls_gating;
	uint32_t last_events;	/* epoll events when it stopped */
	int rc;
	int state;
};

static struct shared *g;

static uint64_t event_check(uint64_t counter)
{
	return t_mix(counter * 31 + 5);
}

struct seen {
	uint64_t next;
	uint64_t refused_seq;	/* + 1; 0: none outstanding */
	bool first;		/* first event of this poll */
};

static int on_event(void *ctx, void *slot, uint64_t seq, bool end_of_batch)
{
	struct seen *s = ctx;
	const struct event *e = slot;
	bool first = s->first;

	(void)end_of_batch;
	s->first = false;
	if (s->refused_seq) {
		/* The refused event comes back, first in the next poll. */
		if (first && seq + 1 == s->refused_seq)
			g->refusals_back++;
		s->refused_seq = 0;
	} else if (seq % REFUSE_EVERY == REFUSE_EVERY - 1) {
		s->refused_seq = seq + 1;
		g->refused++;
		return -EAGAIN;
	}
	if (e->counter != s->next || e->check != event_check(e->counter)) {
		if (g->bad++ < 5)
			t_diag("event %llu: counter %llu, want %llu",
			       (unsigned long long)seq,
			       (unsigned long long)e->counter,
			       (unsigned long long)s->next);
	}
	s->next = e->counter + 1;
	g->seen++;
	return 0;
}

static int epoll_consumer(void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	enum badbatch_poll_state st = BADBATCH_POLL_PROCESSING;
	struct seen s = { 0 };
	struct badbatch_consumer *c;
	struct badbatch *ring;
	int rc, ep, n;

	(void)arg;
	rc = badbatch_open(g->name, &ring);
	if (!rc)
		rc = badbatch_consumer_attach(ring, NULL, &c);
	t_chan_send(&g->ready, rc ? 'x' : 'r');
	if (rc)
		return 2;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, badbatch_consumer_fd(c),
				&ev) < 0)
		return 3;
	for (;;) {
		n = epoll_wait(ep, &out, 1, 10000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			g->epoll_timeouts++;
			if (g->epoll_timeouts > 2)
				break;
			continue;
		}
		g->epoll_waits++;
		g->last_events = out.events;
		/* Poll until nothing is readable; refusals poll again. */
		do {
			s.first = true;
			rc = badbatch_poll(c, on_event, &s, 0, &st);
		} while (rc > 0 || rc == -EAGAIN);
		if (rc < 0)
			break;
		if (st == BADBATCH_POLL_IDLE)
			g->polls_idle++;
		else
			g->polls_gating++;
	}
	g->rc = rc;
	g->state = st;
	close(ep);
	badbatch_consumer_close(c);
	badbatch_close(ring);
	return 0;
}

static int burst_producer(void *arg)
{
	struct badbatch_producer *p;
	struct badbatch *ring;
	uint64_t counter = 0, seq, s;
	uint32_t n;

	(void)arg;
	if (badbatch_open(g->name, &ring) ||
	    badbatch_producer_attach(ring, NULL, &p))
		return 2;
	while (counter < EVENTS) {
		n = 1 + (uint32_t)(counter % 5);
		if (n > EVENTS - counter)
			n = (uint32_t)(EVENTS - counter);
		if (badbatch_claim(p, n, &seq))
			return 3;
		for (s = seq; s < seq + n; s++) {
			struct event *e = badbatch_slot(p, s);

			e->counter = counter;
			e->check = event_check(counter++);
		}
		if (badbatch_publish(p, seq, n))
			return 4;
		/* A pause after each burst: the consumer goes idle. */
		if (counter % BURST < n)
			t_sleep_ms(2);
	}
	badbatch_producer_close(p);
	badbatch_close(ring);
	return 0;
}

static void test_epoll_loop(uint32_t flags)
{
	const char *what = flags ? "multi-producer" : "single producer";
	struct badbatch_config cfg = {
		.slot_count = SLOTS, .slot_size = EVENT_SIZE, .flags = flags,
	};
	struct badbatch *ring;
	pid_t cons, prod;
	uint64_t t0;

	memset(g, 0, sizeof(*g));
	t_chan_init(&g->ready);
	snprintf(g->name, sizeof(g->name), "%s",
		 t_name(flags ? "pollmp" : "pollsp"));
	cfg.name = g->name;
	if (badbatch_create(&cfg, &ring)) {
		T_OK(0, "%s: create", what);
		return;
	}
	cons = t_spawn("epoll consumer", 90, epoll_consumer, NULL);
	T_OK(t_chan_recv(&g->ready, 10000) == 'r',
	     "%s: consumer process attached by name", what);
	prod = t_spawn("producer", 90, burst_producer, NULL);
	T_CHILD(prod, 80000, "%s: producer published %d events in bursts",
		what, EVENTS);
	t0 = t_now_ns();
	while (__atomic_load_n(&g->seen, __ATOMIC_ACQUIRE) < EVENTS &&
	       t_now_ns() - t0 < 20000000000ull)
		t_sleep_ms(5);
	T_EQ(__atomic_load_n(&g->seen, __ATOMIC_ACQUIRE), EVENTS,
	     "%s: the epoll loop handled every event before the halt", what);
	T_SYS(badbatch_halt(ring), "%s: halt", what);
	T_CHILD(cons, 20000, "%s: consumer process exited", what);
	T_RC(g->rc, -ESHUTDOWN, "%s: poll on the halted, drained ring", what);
	T_EQ(g->state, BADBATCH_POLL_IDLE, "%s: ... with state IDLE", what);
	T_OK(g->last_events & EPOLLHUP,
	     "%s: epoll reported EPOLLHUP (events 0x%x)", what, g->last_events);
	T_EQ(g->seen, EVENTS, "%s: every event exactly once", what);
	T_EQ(g->bad, 0, "%s: contents and order", what);
	T_EQ(g->refused, EVENTS / REFUSE_EVERY,
	     "%s: the handler stopped early %d times", what,
	     EVENTS / REFUSE_EVERY);
	T_EQ(g->refusals_back, g->refused,
	     "%s: ... each refused event came back first", what);
	T_OK(g->epoll_waits > 1 && g->polls_idle > 1,
	     "%s: the loop slept in epoll_wait (%llu wakeups, %llu idle)",
	     what, (unsigned long long)g->epoll_waits,
	     (unsigned long long)g->polls_idle);
	T_EQ(g->epoll_timeouts, 0, "%s: no epoll_wait timed out", what);
	T_EQ(g->polls_gating, 0, "%s: a consumer of the cursor never gates", what);
	badbatch_close(ring);
}

/* ---- GATING ---------------------------------------------------------- */

/* Consumer A of the cursor, in its own process: polls once per 'p'. */
static int upstream(void *arg)
{
	struct badbatch_consumer_config cc = { .want_id = true, .id = 0 };
	enum badbatch_poll_state st;
	struct seen s = { 0 };
	struct badbatch_consumer *c;
	struct badbatch *ring;
	int cmd, rc;

	(void)arg;
	rc = badbatch_open(g->name, &ring);
	if (!rc)
		rc = badbatch_consumer_attach(ring, &cc, &c);
	t_chan_send(&g->ready, rc ? 'x' : 'r');
	if (rc)
		return 2;
	while ((cmd = t_chan_recv(&g->go, 20000)) == 'p') {
		rc = badbatch_poll(c, on_event, &s, 0, &st);
		t_chan_send(&g->ready, rc == 10 ? 'd' : 'e');
	}
	badbatch_consumer_close(c);
	badbatch_close(ring);
	return 0;
}

static short readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 ? pfd.revents : 0;
}

static int count_fn(void *ctx, void *event, uint64_t seq, bool eob)
{
	(*(uint64_t *)ctx)++;
	return 0;
}

static void test_gating(void)
{
	struct badbatch_config cfg = { .slot_count = SLOTS,
				       .slot_size = EVENT_SIZE };
	struct badbatch_consumer_config cc = { .deps = 1 };
	enum badbatch_poll_state st;
	struct badbatch_consumer *b;
	struct badbatch_producer *p;
	struct badbatch *ring;
	uint64_t seq, s, handled = 0;
	pid_t up;

	memset(g, 0, sizeof(*g));
	t_chan_init(&g->ready);
	t_chan_init(&g->go);
	snprintf(g->name, sizeof(g->name), "%s", t_name("pollgate"));
	cfg.name = g->name;
	if (badbatch_create(&cfg, &ring)) {
		T_OK(0, "gating: create");
		return;
	}
	up = t_spawn("upstream", 60, upstream, NULL);
	if (!T_OK(t_chan_recv(&g->ready, 10000) == 'r',
		  "gating: upstream consumer process attached as id 0") ||
	    badbatch_consumer_attach(ring, &cc, &b) ||
	    badbatch_producer_attach(ring, NULL, &p)) {
		badbatch_close(ring);
		return;
	}
	T_RC(badbatch_poll(b, count_fn, &handled, 0, &st), 0, "gating: empty ring");
	T_EQ(st, BADBATCH_POLL_IDLE, "gating: ... IDLE");
	T_RC(badbatch_claim(p, 10, &seq), 0, "gating: claim 10");
	for (s = seq; s < seq + 10; s++) {
		struct event *e = badbatch_slot(p, s);

		e->counter = s;
		e->check = event_check(s);
	}
	T_RC(badbatch_publish(p, seq, 10), 0, "gating: publish 10");
	T_RC(badbatch_poll(b, count_fn, &handled, 0, &st), 0,
	     "gating: downstream polls before upstream handled them");
	T_EQ(st, BADBATCH_POLL_GATING, "gating: ... GATING");
	T_EQ(readable(badbatch_consumer_fd(b)) & POLLIN, 0,
	     "gating: ... its fd is not readable");
	t_chan_send(&g->go, 'p');
	T_OK(t_chan_recv(&g->ready, 10000) == 'd',
	     "gating: the upstream process polled 10 events");
	T_OK(readable(badbatch_consumer_fd(b)) & POLLIN,
	     "gating: downstream fd readable now");
	T_RC(badbatch_poll(b, count_fn, &handled, 0, &st), 10,
	     "gating: downstream polls 10");
	T_EQ(st, BADBATCH_POLL_PROCESSING, "gating: ... PROCESSING");
	T_RC(badbatch_poll(b, count_fn, &handled, 0, &st), 0,
	     "gating: downstream polls again");
	T_EQ(st, BADBATCH_POLL_IDLE, "gating: ... IDLE");
	T_EQ(handled, 10, "gating: each event once");
	t_chan_send(&g->go, 'q');
	T_CHILD(up, 10000, "gating: upstream process exited");
	T_SYS(badbatch_halt(ring), "gating: halt");
	st = BADBATCH_POLL_PROCESSING;
	T_RC(badbatch_poll(b, count_fn, &handled, 0, &st), -ESHUTDOWN,
	     "gating: halted and drained");
	T_EQ(st, BADBATCH_POLL_IDLE, "gating: ... IDLE");
	badbatch_producer_close(p);
	badbatch_consumer_close(b);
	badbatch_close(ring);
}

int main(void)
{
	t_init("lib_poller", 250);
	g = t_shared(sizeof(*g));
	test_epoll_loop(0);
	test_epoll_loop(BADBATCH_MULTI_PRODUCER);
	test_gating();
	return t_done();
}
