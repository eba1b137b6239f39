/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by lib_processors.c and lib_topologies.c: events with a checksum
 * and per-stage marks, producer threads over libbadbatch, one checking
 * handler (struct tstage) that records what a stage saw for the test to
 * assert after join, and subtests run each in its own child process so
 * that one hang or crash fails that subtest only.
 *
 * Handlers only record (they run on processor threads); the T_* checks
 * are made by the test's thread after badbatch_topology_join() or
 * shutdown, whose thread joins order the records before the reads.
 */
#ifndef BB_VM_TEST_PROCS_H
#define BB_VM_TEST_PROCS_H

#include <dirent.h>
#include <pthread.h>
#include <sched.h>

#include <badbatch.h>

#include "harness.h"

#define TEV_MARKS	5
#define TEV_PRODUCERS	4

/* One event: 64 bytes. */
struct tev {
	uint64_t producer;
	uint64_t counter;	/* per producer, from 0 */
	uint64_t check;
	uint64_t marks[TEV_MARKS]; /* marks[k]: written by stage k */
};

static inline uint64_t tev_check(const struct tev *e)
{
	return t_mix(e->producer * 1000003 + e->counter);
}

static inline uint64_t tev_mark(const struct tev *e, int k)
{
	return e->check ^ t_mix(0x6d61726bULL + (uint64_t)k);
}

static inline uint64_t tload(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void tstore(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Wait until *p >= want, up to timeout_ms; 0 or -1. */
static inline int twait_ge(const uint64_t *p, uint64_t want,
			   unsigned int timeout_ms)
{
	uint64_t end = t_now_ns() + (uint64_t)timeout_ms * 1000000ULL;

	while (tload(p) < want) {
		if (t_now_ns() > end)
			return -1;
		t_sleep_ms(1);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* What a stage (or a pool worker) saw                                 */

struct trec {
	uint64_t events;	/* on_event returned 0 (tload() it) */
	uint64_t calls;		/* on_event calls */
	uint64_t next_seq;	/* the seq expected next */
	uint64_t last_seq;
	uint64_t bad_order, bad_check, bad_marks, bad_own, bad_pnext;
	uint64_t first_bad;	/* seq + 1 of the first bad event */
	uint64_t pnext[TEV_PRODUCERS];
	uint64_t starts, shutdowns, ev_before_start, ev_after_shutdown;
	uint64_t start_seq_calls; /* on_event calls when on_start ran */
	/* on_batch_start */
	uint64_t batches, batch_sum, batch_max, batch_min, batch_over;
	uint64_t batch_zero, depth_bad, first_depth, eob, eob_bad;
	uint64_t in_batch, cur_batch;
	/* on_timeout */
	uint64_t timeouts, timeout_bad, last_timeout_seq;
	/* on_error */
	uint64_t errors, error_bad, fails;
	int last_err;
	uint64_t last_err_seq;
	uint64_t fail_ns;	/* when the injected failure was returned */
	/* threads */
	uint64_t wrong_cpu, bad_affinity;
	char comm[16];
	char comm_event[16];
};

struct tstage {
	struct trec *r;
	int mark;		/* marks[] index written, or -1 */
	uint64_t need;		/* marks[] that must be set already */
	bool ordered;		/* sees every seq, in order (not a worker) */
	uint32_t nprod;		/* producers writing events */
	uint32_t slots;		/* ring size */
	uint32_t max_batch;	/* expected limit (0: none checked) */
	uint64_t total;		/* all published before start: backlog */
				/* is exact (0: not) */
	uint32_t *cnt;		/* pool: handled count per seq, or NULL */
	uint64_t cnt_len;
	uint32_t delay_us;	/* per event */
	uint64_t fail_seq;	/* inject: fail event fail_seq + 1 - 1 ... */
	bool fail_on;		/* ... when fail_on */
	uint32_t fail_mod;	/* inject: fail seq % fail_mod == fail_rem */
	uint32_t fail_rem;
	int fail_err;		/* negative errno to return */
	int start_err;		/* on_start returns it */
	enum badbatch_error_action action;
	bool pin;
	int cpu;
	volatile uint32_t *gate;	/* on_event waits while *gate == 0 */
};

static inline void tsleep_us(uint32_t us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static inline void trec_bad(struct trec *r, uint64_t seq)
{
	if (!r->first_bad)
		r->first_bad = seq + 1;
}

static int tst_on_event(void *ctx, void *event, uint64_t seq,
			bool end_of_batch)
{
	struct tstage *s = ctx;
	struct trec *r = s->r;
	struct tev *e = event;
	int k;

	r->calls++;
	if (!r->starts)
		r->ev_before_start++;
	if (r->shutdowns)
		r->ev_after_shutdown++;
	if (s->ordered ? seq != r->next_seq :
	    (r->calls > 1 && seq < r->next_seq)) {
		r->bad_order++;
		trec_bad(r, seq);
	}
	r->next_seq = seq + 1;
	r->last_seq = seq;
	if (e->producer >= s->nprod || e->producer >= TEV_PRODUCERS ||
	    e->check != tev_check(e)) {
		r->bad_check++;
		trec_bad(r, seq);
	} else {
		uint64_t *pn = &r->pnext[e->producer];

		if (s->ordered ? e->counter != *pn : e->counter < *pn) {
			r->bad_pnext++;
			trec_bad(r, seq);
		}
		*pn = e->counter + 1;
		if (s->nprod == 1 && e->counter != seq) {
			r->bad_pnext++;
			trec_bad(r, seq);
		}
	}
	for (k = 0; k < TEV_MARKS; k++)
		if ((s->need >> k & 1) && e->marks[k] != tev_mark(e, k)) {
			r->bad_marks++;
			trec_bad(r, seq);
		}
	if (s->mark >= 0) {
		if (e->marks[s->mark] != 0) {
			r->bad_own++;
			trec_bad(r, seq);
		}
		e->marks[s->mark] = tev_mark(e, s->mark);
	}
	if (s->cnt && seq < s->cnt_len)
		__atomic_add_fetch(&s->cnt[seq], 1, __ATOMIC_RELAXED);
	r->in_batch++;
	if (end_of_batch) {
		r->eob++;
		if (r->batches && r->in_batch != r->cur_batch)
			r->eob_bad++;
		r->in_batch = 0;
	}
	if (s->pin && sched_getcpu() != s->cpu)
		r->wrong_cpu++;
	if (r->calls == 1)
		prctl(PR_GET_NAME, r->comm_event);
	while (s->gate && !__atomic_load_n(s->gate, __ATOMIC_ACQUIRE))
		tsleep_us(1000);
	if (s->delay_us)
		tsleep_us(s->delay_us);
	if ((s->fail_on && seq == s->fail_seq) ||
	    (s->fail_mod && seq % s->fail_mod == s->fail_rem)) {
		r->fails++;
		r->fail_ns = t_now_ns();
		return s->fail_err;
	}
	tstore(&r->events, r->events + 1);
	return 0;
}

static int tst_on_start(void *ctx)
{
	struct tstage *s = ctx;
	struct trec *r = s->r;

	r->starts++;
	r->start_seq_calls = r->calls;
	prctl(PR_GET_NAME, r->comm);
	if (s->pin) {
		cpu_set_t set;

		if (sched_getaffinity(0, sizeof(set), &set) != 0 ||
		    CPU_COUNT(&set) != 1 || !CPU_ISSET(s->cpu, &set))
			r->bad_affinity++;
	}
	return s->start_err;
}

static void tst_on_shutdown(void *ctx)
{
	struct tstage *s = ctx;

	s->r->shutdowns++;
}

static void tst_on_batch_start(void *ctx, uint64_t size, uint64_t depth)
{
	struct tstage *s = ctx;
	struct trec *r = s->r;

	if (r->in_batch)	/* the previous batch had no end_of_batch */
		r->eob_bad++;
	r->in_batch = 0;
	if (!r->batches) {
		r->first_depth = depth;
		r->batch_min = size;
	}
	r->batches++;
	r->cur_batch = size;
	r->batch_sum += size;
	if (size > r->batch_max)
		r->batch_max = size;
	if (size < r->batch_min)
		r->batch_min = size;
	if (!size)
		r->batch_zero++;
	if (s->max_batch && size > s->max_batch)
		r->batch_over++;
	if (s->total) {
		/* Everything was published first: the backlog is exact. */
		if (r->batch_sum > s->total ||
		    depth != s->total - r->batch_sum)
			r->depth_bad++;
	} else if (size + depth > s->slots) {
		r->depth_bad++;
	}
}

static void tst_on_timeout(void *ctx, uint64_t seq)
{
	struct tstage *s = ctx;
	struct trec *r = s->r;

	r->timeouts++;
	r->last_timeout_seq = seq;
	if (seq != r->next_seq)
		r->timeout_bad++;
}

static enum badbatch_error_action tst_on_error(void *ctx, int err,
					       void *event, uint64_t seq)
{
	struct tstage *s = ctx;
	struct trec *r = s->r;
	const struct tev *e = event;

	r->errors++;
	r->last_err = err;
	r->last_err_seq = seq;
	/* The event handed over is the one that failed. */
	if (!e || e->check != tev_check(e) || (s->nprod == 1 && e->counter != seq))
		r->error_bad++;
	return s->action;
}

/* A handler over stage s; with_error: install on_error. */
static inline struct badbatch_handler thandler(struct tstage *s,
					       const char *name,
					       bool with_error)
{
	struct badbatch_handler h = {
		.name = name,
		.ctx = s,
		.on_event = tst_on_event,
		.on_start = tst_on_start,
		.on_shutdown = tst_on_shutdown,
		.on_batch_start = tst_on_batch_start,
		.on_timeout = tst_on_timeout,
		.on_error = with_error ? tst_on_error : NULL,
		.max_batch = s->max_batch,
		.pin = s->pin,
		.cpu = (uint32_t)s->cpu,
	};
	return h;
}

/* A stage that checks everything, in order, from nprod producers. */
static inline void tstage_init(struct tstage *s, struct trec *r,
			       uint32_t nprod, uint32_t slots)
{
	memset(s, 0, sizeof(*s));
	memset(r, 0, sizeof(*r));
	s->r = r;
	s->mark = -1;
	s->ordered = true;
	s->nprod = nprod;
	s->slots = slots;
}

/* ------------------------------------------------------------------ */
/* Producers                                                           */

struct tprod {
	struct badbatch_producer *p;
	uint32_t id;		/* producer index in events */
	uint64_t n;		/* events to publish; UINT64_MAX: until stop */
	uint32_t max_claim;	/* claims of 1..max_claim events */
	volatile uint32_t stop;
	uint64_t published;	/* tload() it */
	int rc;			/* first claim/publish error */
	uint64_t end_ns;	/* when it returned */
	pthread_t th;
	bool running;
};

/* Publish the producer's next k events (counters from published). */
static inline int tprod_step(struct tprod *tp, uint32_t k)
{
	uint64_t seq, s, c = tp->published;
	int rc = badbatch_claim(tp->p, k, &seq);

	if (rc)
		return rc;
	for (s = seq; s < seq + k; s++) {
		struct tev *e = badbatch_slot(tp->p, s);

		memset(e, 0, sizeof(*e));
		e->producer = tp->id;
		e->counter = c++;
		e->check = tev_check(e);
	}
	rc = badbatch_publish(tp->p, seq, k);
	if (rc)
		return rc;
	tstore(&tp->published, c);
	return 0;
}

static inline int tprod_run(struct tprod *tp)
{
	uint32_t max = tp->max_claim ? tp->max_claim : 1;

	while (tp->published < tp->n &&
	       !__atomic_load_n(&tp->stop, __ATOMIC_ACQUIRE)) {
		uint64_t k = 1 + tp->published % max;
		int rc;

		if (k > tp->n - tp->published)
			k = tp->n - tp->published;
		rc = tprod_step(tp, (uint32_t)k);
		if (rc) {
			tp->rc = rc;
			break;
		}
	}
	tp->end_ns = t_now_ns();
	return tp->rc;
}

static void *tprod_thread(void *arg)
{
	tprod_run(arg);
	return NULL;
}

/* Attach a producer to ring and start its thread; 0 or -errno. */
static inline int tprod_start(struct tprod *tp, struct badbatch *ring,
			      uint32_t id, uint64_t n, uint32_t max_claim,
			      const struct badbatch_wait_config *w)
{
	struct badbatch_producer_config pc = { 0 };
	int rc;

	memset(tp, 0, sizeof(*tp));
	tp->id = id;
	tp->n = n;
	tp->max_claim = max_claim;
	if (w)
		pc.wait = *w;
	rc = badbatch_producer_attach(ring, w ? &pc : NULL, &tp->p);
	if (rc)
		return rc;
	rc = -pthread_create(&tp->th, NULL, tprod_thread, tp);
	if (rc) {
		badbatch_producer_close(tp->p);
		tp->p = NULL;
		return rc;
	}
	tp->running = true;
	return 0;
}

/* Join the producer's thread (up to timeout_ms: -1 if it hangs). */
static inline int tprod_join(struct tprod *tp, unsigned int timeout_ms)
{
	struct timespec ts;
	uint64_t end;

	if (!tp->running)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	end = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec +
	      (uint64_t)timeout_ms * 1000000ULL;
	ts.tv_sec = (time_t)(end / 1000000000ULL);
	ts.tv_nsec = (long)(end % 1000000000ULL);
	if (pthread_timedjoin_np(tp->th, NULL, &ts) != 0)
		return -1;
	tp->running = false;
	badbatch_producer_close(tp->p);
	tp->p = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Rings, threads, subtests                                            */

static inline int tring(uint32_t slots, uint32_t flags, const char *name,
			struct badbatch **ringp)
{
	struct badbatch_config cfg = {
		.slot_count = slots,
		.slot_size = sizeof(struct tev),
		.flags = flags,
		.max_consumers = 64,
		.name = name,
	};
	return badbatch_create(&cfg, ringp);
}

/* Tasks in this process (/proc/self/task). */
static inline int ttasks(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Does a task of this process have comm name? */
static inline bool ttask_named(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		char path[300], comm[32] = "";
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = 0;
			found = !strcmp(comm, name);
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/*
 * Wait up to timeout_ms for no task named name: pthread_join() returns
 * once the thread cleared its tid, a moment before the kernel releases
 * its task and /proc/self/task forgets it (long enough to see under a
 * KCSAN kernel in TCG).
 */
static inline bool ttask_gone(const char *name, unsigned int timeout_ms)
{
	uint64_t end = t_now_ns() + (uint64_t)timeout_ms * 1000000ULL;

	while (ttask_named(name)) {
		if (t_now_ns() > end)
			return false;
		t_sleep_ms(1);
	}
	return true;
}

/* Wait until this process has at most n tasks; the count at the end. */
static inline int ttasks_settle(int n, unsigned int timeout_ms)
{
	uint64_t end = t_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	int c;

	while ((c = ttasks()) > n && t_now_ns() < end)
		t_sleep_ms(5);
	return c;
}

/* The lowest id in a consumer-id mask, or -1. */
static inline int tfirst_id(uint64_t mask)
{
	return mask ? __builtin_ctzll(mask) : -1;
}

/* The stage handled exactly n events, in order, and saw nothing wrong. */
static inline void check_stage(const char *what, struct badbatch_topology *t,
			int stage, const struct trec *r, uint64_t n)
{
	struct badbatch_stage_stats st;

	T_EQ(r->events, n, "%s: stage %d handled every event", what, stage);
	T_EQ(r->calls, n, "%s: stage %d: each once", what, stage);
	T_EQ(r->bad_order + r->bad_check + r->bad_pnext + r->bad_marks +
	     r->bad_own, 0, "%s: stage %d: order, contents, marks (first bad %llu)",
	     what, stage, (unsigned long long)r->first_bad);
	T_EQ(r->starts, 1, "%s: stage %d: on_start once", what, stage);
	T_EQ(r->ev_before_start + r->start_seq_calls, 0,
	     "%s: stage %d: on_start before any event", what, stage);
	T_EQ(r->shutdowns, 1, "%s: stage %d: on_shutdown once", what, stage);
	T_EQ(r->ev_after_shutdown, 0, "%s: stage %d: no event after on_shutdown",
	     what, stage);
	if (!T_RC(badbatch_topology_stage_stats(t, stage, &st), 0,
		 "%s: stage %d stats", what, stage)) {
		T_EQ(st.events, n, "%s: stage %d stats: events", what, stage);
		T_EQ(st.errors, 0, "%s: stage %d stats: errors", what, stage);
		T_EQ(st.seq, n, "%s: stage %d stats: seq", what, stage);
		T_EQ(st.batches, r->batches,
		     "%s: stage %d stats: batches = on_batch_start calls", what, stage);
		T_RC(st.error, 0, "%s: stage %d stats: error", what, stage);
	}
}

/* badbatch_topology_join() on a thread, to bound how long it may take. */
struct tjoiner {
	struct badbatch_topology *t;
	int rc;
	uint32_t done;
	pthread_t th;
};

static void *tjoin_thread(void *arg)
{
	struct tjoiner *j = arg;

	j->rc = badbatch_topology_join(j->t);
	__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static inline int tjoin_start(struct tjoiner *j, struct badbatch_topology *t)
{
	memset(j, 0, sizeof(*j));
	j->t = t;
	return -pthread_create(&j->th, NULL, tjoin_thread, j);
}

/* Has the join returned within timeout_ms? (Then j->rc is its value.) */
static inline bool tjoin_wait(struct tjoiner *j, unsigned int timeout_ms)
{
	if (t_wait_nonzero(&j->done, timeout_ms))
		return false;
	pthread_join(j->th, NULL);
	return true;
}

/*
 * Join within timeout_ms; when it hangs, say so (a failure), halt the
 * ring to release the processors and wait again. Returns join's value,
 * or -ETIME if it still hangs.
 */
static inline int tjoin_bounded(struct badbatch_topology *t,
				struct badbatch *ring, unsigned int timeout_ms,
				uint64_t *took_ns)
{
	uint64_t t0 = t_now_ns();
	struct tjoiner j;

	if (tjoin_start(&j, t))
		return -ETIME;
	if (!T_OK(tjoin_wait(&j, timeout_ms), "join returned within %u ms",
		  timeout_ms)) {
		t_diag("join hangs: halting the ring to release the processors");
		badbatch_halt(ring);
		if (!tjoin_wait(&j, 5000))
			return -ETIME;
	}
	if (took_ns)
		*took_ns = t_now_ns() - t0;
	return j.rc;
}

/* Run fn in its own process within timeout_s; one result. */
static inline void tsub(const char *name, unsigned int timeout_s,
			t_child_fn fn, void *arg)
{
	uint64_t t0 = t_now_ns();
	pid_t pid = t_spawn(name, timeout_s, fn, arg);

	T_CHILD(pid, (timeout_s + 5) * 1000, "%s (%.0f ms)", name,
		(double)(t_now_ns() - t0) / 1e6);
}

/* Milliseconds since t0. */
static inline double tms(uint64_t t0)
{
	return (double)(t_now_ns() - t0) / 1e6;
}

#endif /* BB_VM_TEST_PROCS_H */
