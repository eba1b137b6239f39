// SPDX-License-Identifier: GPL-2.0
/*
 * Crash torture: a running multi-process topology on a multi-producer
 * ring (NPROD producers, a pipeline stage C1 followed by the checker C2,
 * and a work pool of NWORK workers) while a driver SIGKILLs random
 * producers, C1 and workers at random moments and respawns them, for
 * BB_TORTURE_SECS seconds (default 40). Then every producer closes, and
 * the checker, never killed, must reach the claim frontier: no hang;
 * every event it saw is in per-producer-incarnation order with no
 * duplicate (counters consecutive from 0); it saw every event a producer
 * reported published (and at most one batch more from a killed one);
 * holes + events = the frontier; STATS.abandoned = the library's count.
 * A ring failed with EOWNERDEAD (an in-flight claim the kernel could not
 * settle) ends the kills early and is reported, not counted as a hang.
 */
#include <badbatch.h>

#include "harness.h"

#define SLOTS		64
#define NPROD		3
#define NWORK		2
#define MAXGEN		1024	/* incarnations per producer slot */
#define MAXBATCH	4
#define C1_ID		1

struct event {
	__u32 slot;
	__u32 gen;
	__u64 counter;
};

struct shared {
	__u32 stop;		/* 1: producers close; 2: checker drains; */
				/* 3: everybody leaves */
	__u32 checker_ready;
	__u32 checker_done;
	__u32 c1_ready;
	__u64 published[NPROD][MAXGEN];	/* reported after each publish */
	__u64 seen[NPROD][MAXGEN];	/* by the checker */
	__u64 bad, total, abandoned, cseq, frontier, kabandoned;
	__s32 check_rc;
};

static struct shared *sh;
static struct badbatch *ring;

static __u64 rnd_state;

static __u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static const struct badbatch_wait_config timed_wait = {
	.strategy = BADBATCH_WAIT_TIMEOUT_BLOCK,
	.timeout_ns = 20000000,
};

static __u32 stop_now(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE);
}

struct prod_arg {
	__u32 slot, gen;
};

static int producer(void *arg)
{
	const struct prod_arg *a = arg;
	struct badbatch_producer_config cfg = { .wait = timed_wait };
	struct badbatch_producer *p;
	uint64_t counter = 0, seq;
	__u32 n, i, half;
	int rc;

	rnd_state = ((__u64)getpid() << 20) ^ t_now_ns() ^ 1;
	if (badbatch_producer_attach(ring, &cfg, &p))
		return badbatch_is_halted(ring) ? 0 : 3;
	while (!stop_now()) {
		n = 1 + (__u32)(rnd() % MAXBATCH);
		rc = badbatch_claim(p, n, &seq);
		if (rc == -ETIMEDOUT || rc == -EINTR)
			continue;
		if (rc)
			break;
		for (i = 0; i < n; i++) {
			struct event *e = badbatch_slot(p, seq + i);

			e->slot = a->slot;
			e->gen = a->gen;
			e->counter = counter + i;
		}
		/* Sometimes in two halves: a kill may land in between. */
		half = n > 1 && (rnd() & 1) ? n / 2 : n;
		badbatch_publish(p, seq, half);
		__atomic_store_n(&sh->published[a->slot][a->gen], counter + half,
				 __ATOMIC_RELEASE);
		if (half < n) {
			if (!(rnd() & 7))
				sched_yield();
			badbatch_publish(p, seq + half, n - half);
		}
		counter += n;
		__atomic_store_n(&sh->published[a->slot][a->gen], counter,
				 __ATOMIC_RELEASE);
		if (!(rnd() & 15))
			sched_yield();
	}
	badbatch_producer_close(p);
	return 0;
}

static int nop_event(void *ctx, void *event, uint64_t seq, bool end)
{
	(void)ctx;
	(void)event;
	(void)seq;
	(void)end;
	return 0;
}

/* C1: a pipeline stage that only passes events on. */
static int stage1(void *arg)
{
	struct badbatch_consumer_config cfg = { .wait = timed_wait };
	struct badbatch_consumer *c;
	int rc;

	/* The first one takes id C1_ID, which the checker follows. */
	cfg.want_id = arg != NULL;
	cfg.id = C1_ID;
	if (badbatch_consumer_attach(ring, &cfg, &c))
		return badbatch_is_halted(ring) ? 0 : 3;
	if (arg)
		__atomic_store_n(&sh->c1_ready, 1, __ATOMIC_RELEASE);
	while (stop_now() < 3) {
		rc = badbatch_consume(c, nop_event, NULL, 0);
		if (rc == -ESHUTDOWN)
			break;
	}
	badbatch_consumer_close(c);
	return 0;
}

static int worker(void *arg)
{
	struct badbatch_worker_config cfg = { .pool = 0, .max_batch = 4,
					      .wait = timed_wait };
	struct badbatch_worker *w;
	int rc;

	(void)arg;
	if (badbatch_worker_attach(ring, &cfg, &w))
		return badbatch_is_halted(ring) ? 0 : 3;
	while (stop_now() < 3) {
		rc = badbatch_work(w, nop_event, NULL);
		if (rc == -ESHUTDOWN || rc == -ECANCELED)
			break;
	}
	badbatch_worker_close(w);
	return 0;
}

static int check_event(void *ctx, void *event, uint64_t seq, bool end)
{
	const struct event *e = event;

	(void)ctx;
	(void)end;
	if (e->slot >= NPROD || e->gen >= MAXGEN ||
	    e->counter != sh->seen[e->slot][e->gen]) {
		if (sh->bad++ < 5)
			t_diag("event %llu: slot %u gen %u counter %llu, want %llu",
			       (unsigned long long)seq, e->slot, e->gen,
			       (unsigned long long)e->counter,
			       e->slot < NPROD && e->gen < MAXGEN ?
			       (unsigned long long)sh->seen[e->slot][e->gen] : 0ull);
		return 0;
	}
	sh->seen[e->slot][e->gen]++;
	sh->total++;
	return 0;
}

/* C2, the end consumer: checks every event; follows C1 (id c1). */
static int checker(void *arg)
{
	struct badbatch_consumer_config cfg = { .wait = timed_wait };
	struct badbatch_consumer *c;
	struct badbatch_stats st;
	__u64 end = 0;
	int rc = 0;

	(void)arg;
	cfg.deps = 1ull << C1_ID;
	if (badbatch_consumer_attach(ring, &cfg, &c))
		return 3;
	__atomic_store_n(&sh->checker_ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		rc = badbatch_consume(c, check_event, NULL, 0);
		if (rc == -ESHUTDOWN)
			break;
		if (rc < 0 && rc != -ETIMEDOUT && rc != -EINTR)
			break;
		rc = 0;
		if (stop_now() < 2)
			continue;
		if (!end)
			end = t_now_ns() + 20000000000ull;
		if (badbatch_get_stats(ring, &st) == 0 &&
		    badbatch_consumer_seq(c) == st.cursor)
			break;
		if (t_now_ns() > end) {
			rc = -ETIMEDOUT;
			break;
		}
	}
	badbatch_get_stats(ring, &st);
	sh->abandoned = badbatch_consumer_abandoned(c);
	sh->kabandoned = st.abandoned;
	sh->cseq = badbatch_consumer_seq(c);
	sh->frontier = st.cursor;
	sh->check_rc = rc;
	__atomic_store_n(&sh->checker_done, 1, __ATOMIC_RELEASE);
	while (stop_now() < 3)
		t_sleep_ms(5);
	badbatch_consumer_close(c);
	return 0;
}

struct role {
	pid_t pid;
	__u32 gen;
};

int main(void)
{
	struct badbatch_config cfg = {
		.slot_count = SLOTS,
		.slot_size = sizeof(struct event),
		.flags = BADBATCH_MULTI_PRODUCER,
		.max_consumers = 16,
		.wait = BADBATCH_WAIT_BLOCK,
	};
	struct role prods[NPROD], workers[NWORK], c1;
	struct prod_arg pargs[NPROD][MAXGEN];
	const char *env = getenv("BB_TORTURE_SECS");
	unsigned int secs = env ? (unsigned int)atoi(env) : 40;
	unsigned long kills[3] = { 0 }, ended_by_failure = 0;
	struct badbatch_failure f;
	__u32 s, g;
	__u64 end, missing = 0, extra = 0;
	pid_t chk;
	int status, i;

	if (!secs)
		secs = 40;
	t_init("torture", secs + 180);
	sh = t_shared(sizeof(*sh));
	rnd_state = t_now_ns() | 1;
	cfg.name = t_name("torture");
	if (badbatch_create(&cfg, &ring)) {
		T_OK(0, "create the ring");
		return t_done();
	}
	c1.gen = 0;
	c1.pid = t_spawn("c1", secs + 120, stage1, ring);
	T_EQ(t_wait_u32(&sh->c1_ready, 1, 10000), 0, "C1 attached");
	chk = t_spawn("checker", secs + 120, checker, NULL);
	T_EQ(t_wait_u32(&sh->checker_ready, 1, 10000), 0, "checker attached");
	for (i = 0; i < NWORK; i++)
		workers[i].pid = t_spawn("worker", secs + 120, worker, NULL);
	for (s = 0; s < NPROD; s++) {
		pargs[s][0].slot = s;
		pargs[s][0].gen = 0;
		prods[s].gen = 0;
		prods[s].pid = t_spawn("producer", secs + 120, producer,
				       &pargs[s][0]);
	}

	end = t_now_ns() + (__u64)secs * 1000000000ull;
	while (t_now_ns() < end) {
		__u64 r = rnd();
		struct role *victim;
		int kind;

		t_sleep_ms(1 + (unsigned int)(r % 40));
		if (badbatch_is_halted(ring)) {
			ended_by_failure = 1;
			break;
		}
		r >>= 8;
		kind = r % 10 < 7 ? 0 : r % 10 < 8 ? 1 : 2;
		if (kind == 0) {
			s = (__u32)((r >> 4) % NPROD);
			victim = &prods[s];
			if (victim->gen + 1 >= MAXGEN)
				continue;
		} else if (kind == 1) {
			victim = &c1;
		} else {
			victim = &workers[(r >> 4) % NWORK];
		}
		kill(victim->pid, SIGKILL);
		status = t_reap(victim->pid, 10000);
		if (!(status != -1 && WIFSIGNALED(status))) {
			/* It exited before the kill landed: fine, unless it failed. */
			if (status == -1 || !WIFEXITED(status) ||
			    WEXITSTATUS(status) != 0) {
				T_OK(0, "%s exits cleanly: %s",
				     kind ? "consumer" : "producer",
				     t_status_str(status));
				break;
			}
		}
		kills[kind]++;
		victim->gen++;
		if (kind == 0) {
			pargs[s][victim->gen].slot = s;
			pargs[s][victim->gen].gen = victim->gen;
			victim->pid = t_spawn("producer", secs + 120, producer,
					      &pargs[s][victim->gen]);
		} else if (kind == 1) {
			victim->pid = t_spawn("c1", secs + 120, stage1, NULL);
		} else {
			victim->pid = t_spawn("worker", secs + 120, worker, NULL);
		}
	}
	t_diag("kills: %lu producers, %lu C1, %lu workers (%lu in all)",
	       kills[0], kills[1], kills[2], kills[0] + kills[1] + kills[2]);
	printf("# torture: %lu kills in %u s\n", kills[0] + kills[1] + kills[2],
	       secs);

	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	for (s = 0; s < NPROD; s++)
		T_CHILD(prods[s].pid, 20000, "producer %u closes at the end", s);
	__atomic_store_n(&sh->stop, 2, __ATOMIC_RELEASE);
	T_EQ(t_wait_u32(&sh->checker_done, 1, 30000), 0,
	     "the checker reaches the frontier (no hang)");
	__atomic_store_n(&sh->stop, 3, __ATOMIC_RELEASE);
	T_CHILD(chk, 20000, "checker exits");
	T_CHILD(c1.pid, 20000, "C1 exits");
	for (i = 0; i < NWORK; i++)
		T_CHILD(workers[i].pid, 20000, "worker %d exits", i);

	if (ended_by_failure || badbatch_is_halted(ring)) {
		T_EQ(badbatch_get_failure(ring, &f), 0, "failure record");
		T_EQ(f.error, EOWNERDEAD, "the only failure is an unsettled claim (seq %llu)",
		     (unsigned long long)f.seq);
	} else {
		T_EQ(sh->check_rc, 0, "checker ran to the frontier");
		T_EQ(sh->cseq, sh->frontier, "checker at the frontier");
		T_EQ(sh->total + sh->abandoned, sh->frontier,
		     "events + holes = the frontier (%llu events, %llu holes)",
		     (unsigned long long)sh->total,
		     (unsigned long long)sh->abandoned);
		T_EQ(sh->abandoned, sh->kabandoned,
		     "the library skipped as many as STATS.abandoned");
	}
	T_EQ(sh->bad, 0, "every event once, in per-producer order");
	for (s = 0; s < NPROD; s++)
		for (g = 0; g <= prods[s].gen && g < MAXGEN; g++) {
			__u64 pub = sh->published[s][g], seen = sh->seen[s][g];

			if (seen < pub)
				missing += pub - seen;
			/* A killed one may have published a batch unreported. */
			if (seen > pub + MAXBATCH ||
			    (g == prods[s].gen && seen != pub))
				extra++;
		}
	if (!ended_by_failure && !badbatch_is_halted(ring)) {
		T_EQ(missing, 0, "no published event lost");
		T_EQ(extra, 0, "nothing seen that was not published");
	}
	T_OK(kills[0] + kills[1] + kills[2] > 0, "killed %lu processes",
	     kills[0] + kills[1] + kills[2]);
	badbatch_close(ring);
	return t_done();
}
