// SPDX-License-Identifier: GPL-2.0
/*
 * Blocked waiters cost no CPU: with BLOCK, LITE_BLOCK and PHASED_BACKOFF,
 *   - a consumer process waiting ~2 s on an empty ring, and
 *   - a producer process waiting ~2 s for capacity on a full ring
 * use less than CPU_MAX_NS of CPU time (CLOCK_THREAD_CPUTIME_ID around
 * the one wait; getrusage() for the record), and still return with the
 * event or the slot once the other process publishes or reads.
 */
#include <badbatch.h>
#include <sys/resource.h>

#include "harness.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define SLOTS		8
#define EVENT_SIZE	64
#define IDLE_MS		2000
#define CPU_MAX_NS	20000000ull

static const struct {
	const char *name;
	enum badbatch_wait wait;
} strategies[] = {
	{ "block", BADBATCH_WAIT_BLOCK },
	{ "lite-block", BADBATCH_WAIT_LITE_BLOCK },
	{ "phased-backoff", BADBATCH_WAIT_PHASED_BACKOFF },
};

struct shared {
	char name[BB_NAME_MAX];
	enum badbatch_wait wait;
	struct t_chan ready;
	int rc;
	uint64_t cpu_ns;	/* the waiting thread's CPU time in the wait */
	uint64_t rusage_ns;	/* the process's, user + system */
	uint64_t wall_ns;
	uint64_t got;		/* the limit or the claimed sequence */
};

static struct shared *g;

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rusage_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
		       1000000000ull +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

/* Start measuring: the caller waits right after. */
struct meter {
	uint64_t cpu, ru, wall;
};

static void meter_start(struct meter *m)
{
	m->wall = t_now_ns();
	m->ru = rusage_ns();
	m->cpu = thread_cpu_ns();
}

static void meter_stop(const struct meter *m)
{
	g->cpu_ns = thread_cpu_ns() - m->cpu;
	g->rusage_ns = rusage_ns() - m->ru;
	g->wall_ns = t_now_ns() - m->wall;
}

static int idle_consumer(void *arg)
{
	struct badbatch_consumer_config cc = { .wait.strategy = g->wait };
	struct badbatch_consumer *c;
	struct badbatch *ring;
	struct meter m;
	int rc;

	(void)arg;
	rc = badbatch_open(g->name, &ring);
	if (!rc)
		rc = badbatch_consumer_attach(ring, &cc, &c);
	t_chan_send(&g->ready, rc ? 'x' : 'r');
	if (rc)
		return 2;
	meter_start(&m);
	g->rc = badbatch_wait_for(c, &g->got);
	meter_stop(&m);
	badbatch_consumer_close(c);
	badbatch_close(ring);
	return 0;
}

static int idle_producer(void *arg)
{
	struct badbatch_producer_config pc = { .wait.strategy = g->wait };
	struct badbatch_producer *p;
	struct badbatch *ring;
	struct meter m;
	uint64_t seq;
	int rc;

	(void)arg;
	rc = badbatch_open(g->name, &ring);
	if (!rc)
		rc = badbatch_producer_attach(ring, &pc, &p);
	if (!rc)
		rc = badbatch_claim(p, SLOTS, &seq);
	if (!rc)
		rc = badbatch_publish(p, seq, SLOTS);
	t_chan_send(&g->ready, rc ? 'x' : 'r');
	if (rc)
		return 2;
	meter_start(&m);
	g->rc = badbatch_claim(p, 1, &g->got);
	meter_stop(&m);
	if (!g->rc)
		badbatch_publish(p, g->got, 1);
	badbatch_producer_close(p);
	badbatch_close(ring);
	return 0;
}

static void check(const char *wn, const char *who, uint64_t want)
{
	T_RC(g->rc, 0, "%s: the %s's wait returned 0", wn, who);
	T_EQ(g->got, want, "%s: ... with what it waited for", wn);
	T_OK(g->wall_ns >= (IDLE_MS - 100) * 1000000ull,
	     "%s: ... after waiting %.0f ms", wn, g->wall_ns / 1e6);
	T_OK(g->cpu_ns < CPU_MAX_NS,
	     "%s: a blocked %s used %.3f ms of CPU (< %llu ms; process %.3f ms)",
	     wn, who, g->cpu_ns / 1e6, CPU_MAX_NS / 1000000, g->rusage_ns / 1e6);
}

static void test_idle(int k, bool producer)
{
	const char *wn = strategies[k].name;
	struct badbatch_config cfg = { .slot_count = SLOTS,
				       .slot_size = EVENT_SIZE };
	struct badbatch_consumer *c = NULL;
	struct badbatch_producer *p = NULL;
	struct badbatch *ring;
	uint64_t seq, limit;
	pid_t pid;

	memset(g, 0, sizeof(*g));
	t_chan_init(&g->ready);
	g->wait = strategies[k].wait;
	snprintf(g->name, sizeof(g->name), "%s",
		 t_name(producer ? "idlep" : "idlec"));
	cfg.name = g->name;
	if (!T_OK(!badbatch_create(&cfg, &ring), "%s: create", wn))
		return;
	if (producer ? badbatch_consumer_attach(ring, NULL, &c) :
		       badbatch_producer_attach(ring, NULL, &p)) {
		T_OK(0, "%s: attach the other side", wn);
		badbatch_close(ring);
		return;
	}
	pid = t_spawn(producer ? "producer" : "consumer", 30,
		      producer ? idle_producer : idle_consumer, NULL);
	if (T_OK(t_chan_recv(&g->ready, 10000) == 'r',
		 "%s: the %s process is about to wait", wn,
		 producer ? "producer" : "consumer")) {
		t_sleep_ms(IDLE_MS);
		if (producer) {
			/* Free one slot. */
			if (!badbatch_try_wait_for(c, &limit))
				badbatch_advance(c, 1);
		} else if (!badbatch_claim(p, 1, &seq)) {
			badbatch_publish(p, seq, 1);
		}
	}
	T_CHILD(pid, 20000, "%s: the %s process exited", wn,
		producer ? "producer" : "consumer");
	check(wn, producer ? "producer" : "consumer", producer ? SLOTS : 1);
	badbatch_producer_close(p);
	badbatch_consumer_close(c);
	badbatch_close(ring);
	close(g->ready.r);
	close(g->ready.w);
}

int main(void)
{
	unsigned int k;

	t_init("lib_idle", 120);
	g = t_shared(sizeof(*g));
	for (k = 0; k < ARRAY_SIZE(strategies); k++) {
		test_idle((int)k, false);
		test_idle((int)k, true);
	}
	return t_done();
}
