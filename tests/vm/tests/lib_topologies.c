// SPDX-License-Identifier: GPL-2.0
/*
 * libbadbatch topologies against the real device: graphs of event
 * processors over one ring (BADBATCH_MUTABLE_CONSUMERS), where stage k
 * checks that every stage it comes after (transitively) has written its
 * mark into the event before it writes its own:
 *
 *   - multicast (3 stages on the cursor), a pipeline of 3, a diamond,
 *     a 5-stage DAG, a work pool of 3 workers between two stages
 *     (exactly once, the union is every event, the stage after it sees
 *     the worker's mark);
 *   - every wait strategy, single- and multi-producer rings, several
 *     producer threads (per-producer order);
 *   - the same topology split across processes: A runs stage 1 with a
 *     wanted id, B follows it through handler.deps, C runs a pool after
 *     B; the parent publishes, then halts the ring and every join
 *     returns -ESHUTDOWN.
 *
 * Each subtest runs in its own process (tsub()).
 */
#include "procs.h"

#define MAX_STAGES	TEV_MARKS
#define MAX_WORKERS	3

static const char *const wait_names[] = {
	[BADBATCH_WAIT_DEFAULT] = "default",
	[BADBATCH_WAIT_BUSY_SPIN] = "busy-spin",
	[BADBATCH_WAIT_YIELD] = "yield",
	[BADBATCH_WAIT_SLEEP] = "sleep",
	[BADBATCH_WAIT_BLOCK] = "block",
	[BADBATCH_WAIT_TIMEOUT_BLOCK] = "timeout-block",
	[BADBATCH_WAIT_BUSY_SPIN_PAUSE] = "busy-spin-pause",
	[BADBATCH_WAIT_PHASED_BACKOFF] = "phased-backoff",
};

/* A graph of stages in one process. */
struct gspec {
	const char *name;
	int nstages;
	uint64_t after[MAX_STAGES];	/* BADBATCH_STAGE() bits */
	int pool;			/* the pool stage, or -1 */
	uint32_t workers;
	enum badbatch_wait wait;	/* every processor and producer */
	uint32_t nprod;			/* > 1: multi-producer ring */
	uint64_t per_prod;
	uint32_t slots;
	uint32_t max_claim;
};

static struct badbatch_wait_config gwait(enum badbatch_wait w)
{
	struct badbatch_wait_config c = { .strategy = w };

	if (w == BADBATCH_WAIT_TIMEOUT_BLOCK)
		c.timeout_ns = 50000000ULL;
	if (w == BADBATCH_WAIT_SLEEP || w == BADBATCH_WAIT_PHASED_BACKOFF) {
		c.spin = 100;
		c.yield = 10;
		c.sleep_ns = 50000;
	}
	return c;
}

/* The marks stage k must find: every stage it comes after, transitively. */
static void closure(const struct gspec *g, uint64_t *need)
{
	int k, j;

	for (k = 0; k < g->nstages; k++) {
		need[k] = g->after[k];
		for (j = 0; j < k; j++)
			if (g->after[k] >> j & 1)
				need[k] |= need[j];
	}
}

static int run_graph(void *arg)
{
	const struct gspec *g = arg;
	const char *wn = wait_names[g->wait];
	const uint64_t total = g->per_prod * g->nprod;
	struct badbatch_wait_config w = gwait(g->wait), pw;
	struct tstage s[MAX_STAGES], ws[MAX_WORKERS];
	struct trec r[MAX_STAGES], wr[MAX_WORKERS];
	struct badbatch_handler h, wh[MAX_WORKERS];
	struct tprod tp[TEV_PRODUCERS];
	struct badbatch_stage_stats st;
	struct badbatch_topology *t;
	struct badbatch *ring;
	uint64_t need[MAX_STAGES], t0, ids, bad_cnt = 0, sum = 0, i;
	uint32_t *cnt;
	int k, rc;

	closure(g, need);
	cnt = calloc(total, sizeof(*cnt));
	if (!cnt)
		return 2;
	if (T_RC(tring(g->slots, BADBATCH_MUTABLE_CONSUMERS |
		       (g->nprod > 1 ? BADBATCH_MULTI_PRODUCER : 0), NULL, &ring),
		 0, "%s: create", g->name) ||
	    T_RC(badbatch_topology_create(ring, &t), 0, "topology"))
		return 1;
	for (k = 0; k < g->nstages; k++) {
		if (k == g->pool) {
			uint32_t j;

			for (j = 0; j < g->workers; j++) {
				static char names[MAX_WORKERS][16];

				tstage_init(&ws[j], &wr[j], g->nprod, g->slots);
				ws[j].ordered = false;
				ws[j].mark = k;
				ws[j].need = need[k];
				ws[j].cnt = cnt;
				ws[j].cnt_len = total;
				snprintf(names[j], sizeof(names[j]), "bbt-w%u", j);
				wh[j] = thandler(&ws[j], names[j], false);
				wh[j].wait = w;
			}
			rc = badbatch_topology_add_pool(t, wh, g->workers, 1,
							g->after[k]);
			if (T_RC(rc, k, "%s: add pool stage %d of %u workers",
				 g->name, k, g->workers) != k)
				goto out;
			ids = badbatch_topology_consumer_ids(t, k);
			T_EQ(__builtin_popcountll(ids), g->workers,
			     "%s: a consumer id per worker (0x%llx)", g->name,
			     (unsigned long long)ids);
			continue;
		}
		tstage_init(&s[k], &r[k], g->nprod, g->slots);
		s[k].mark = k;
		s[k].need = need[k];
		h = thandler(&s[k], NULL, false);
		h.wait = w;
		if (T_RC(badbatch_topology_add(t, &h, g->after[k]), k,
			 "%s: add stage %d after 0x%llx", g->name, k,
			 (unsigned long long)g->after[k]) != k)
			goto out;
	}
	T_RC(badbatch_topology_start(t), 0, "%s: start", g->name);
	t0 = t_now_ns();
	/*
	 * Producers wait as the stages do, but a full ring may stall past
	 * the stages' 50 ms timeout in an emulated VM: not a failure.
	 */
	pw = w;
	if (pw.timeout_ns)
		pw.timeout_ns = 10000000000ULL;
	for (i = 0; i < g->nprod; i++)
		T_RC(tprod_start(&tp[i], ring, (uint32_t)i, g->per_prod,
				 g->max_claim, &pw), 0, "%s: producer %llu",
		     g->name, (unsigned long long)i);
	for (i = 0; i < g->nprod; i++) {
		T_RC(tprod_join(&tp[i], 40000), 0, "%s: producer %llu finished",
		     g->name, (unsigned long long)i);
		T_RC(tp[i].rc, 0, "%s: producer %llu published", g->name,
		     (unsigned long long)i);
	}
	T_RC(badbatch_topology_shutdown(t, 0), 0, "%s: shutdown(0)", g->name);
	t_diag("%s (%s, %u producer%s): %llu events in %.0f ms", g->name, wn,
	       g->nprod, g->nprod > 1 ? "s" : "", (unsigned long long)total,
	       tms(t0));
	for (k = 0; k < g->nstages; k++) {
		if (k == g->pool)
			continue;
		T_EQ(r[k].events, total, "%s: stage %d handled every event", g->name, k);
		T_EQ(r[k].calls, total, "%s: stage %d: each once", g->name, k);
		T_EQ(r[k].bad_order + r[k].bad_check + r[k].bad_pnext, 0,
		     "%s: stage %d: in order, intact (first bad %llu)", g->name, k,
		     (unsigned long long)r[k].first_bad);
		T_EQ(r[k].bad_marks, 0, "%s: stage %d: after stages 0x%llx marked it",
		     g->name, k, (unsigned long long)need[k]);
		T_EQ(r[k].bad_own, 0, "%s: stage %d: nobody else wrote its mark",
		     g->name, k);
		for (i = 0; i < g->nprod; i++)
			T_EQ(r[k].pnext[i], g->per_prod,
			     "%s: stage %d: producer %llu's events, all", g->name, k,
			     (unsigned long long)i);
		T_OK(r[k].starts == 1 && r[k].shutdowns == 1 &&
		     !r[k].ev_before_start && !r[k].ev_after_shutdown,
		     "%s: stage %d: on_start, events, on_shutdown", g->name, k);
	}
	if (g->pool >= 0) {
		uint32_t j;

		for (i = 0; i < total; i++)
			bad_cnt += cnt[i] != 1;
		for (j = 0; j < g->workers; j++) {
			sum += wr[j].events;
			T_EQ(wr[j].bad_order + wr[j].bad_check + wr[j].bad_pnext +
			     wr[j].bad_marks + wr[j].bad_own, 0,
			     "%s: worker %u: its events in order, marked before, "
			     "not twice (first bad %llu)", g->name, j,
			     (unsigned long long)wr[j].first_bad);
			T_OK(wr[j].starts == 1 && wr[j].shutdowns == 1,
			     "%s: worker %u: on_start, on_shutdown", g->name, j);
			T_OK(!strcmp(wr[j].comm, wh[j].name),
			     "%s: worker %u named %s (%s)",
			     g->name, j, wh[j].name, wr[j].comm);
		}
		t_diag("%s: workers handled %llu %llu %llu", g->name,
		       (unsigned long long)wr[0].events,
		       (unsigned long long)(g->workers > 1 ? wr[1].events : 0),
		       (unsigned long long)(g->workers > 2 ? wr[2].events : 0));
		T_EQ(sum, total, "%s: the pool handled every event", g->name);
		T_EQ(bad_cnt, 0, "%s: ... each exactly once", g->name);
		if (!T_RC(badbatch_topology_stage_stats(t, g->pool, &st), 0,
			 "%s: pool stats", g->name)) {
			T_EQ(st.events, total, "%s: pool stats: events", g->name);
			T_EQ(st.seq, total, "%s: pool stats: seq", g->name);
		}
	}
	for (k = 0; k < g->nstages; k++)
		if (k != g->pool &&
		    !T_RC(badbatch_topology_stage_stats(t, k, &st), 0, "stats")) {
			T_EQ(st.events, total, "%s: stage %d stats: events", g->name, k);
			T_EQ(st.seq, total, "%s: stage %d stats: seq", g->name, k);
		}
out:
	badbatch_topology_destroy(t);
	badbatch_close(ring);
	free(cnt);
	return 0;
}

#define S(i)	BADBATCH_STAGE(i)

static struct gspec graphs[] = {
	{ .name = "multicast", .nstages = 3, .after = { 0, 0, 0 }, .pool = -1,
	  .wait = BADBATCH_WAIT_BUSY_SPIN, .nprod = 1, .per_prod = 10000,
	  .slots = 1024, .max_claim = 8 },
	{ .name = "pipeline", .nstages = 3, .after = { 0, S(0), S(1) }, .pool = -1,
	  .wait = BADBATCH_WAIT_YIELD, .nprod = 1, .per_prod = 8000,
	  .slots = 256, .max_claim = 8 },
	{ .name = "diamond", .nstages = 3, .after = { 0, 0, S(0) | S(1) },
	  .pool = -1, .wait = BADBATCH_WAIT_SLEEP, .nprod = 1, .per_prod = 20000,
	  .slots = 256, .max_claim = 8 },
	{ .name = "dag5", .nstages = 5,
	  .after = { 0, S(0), S(0), S(1), S(2) | S(3) }, .pool = -1,
	  .wait = BADBATCH_WAIT_BLOCK, .nprod = 1, .per_prod = 20000,
	  .slots = 256, .max_claim = 8 },
	{ .name = "pool", .nstages = 3, .after = { 0, S(0), S(1) }, .pool = 1,
	  .workers = 3, .wait = BADBATCH_WAIT_TIMEOUT_BLOCK, .nprod = 1,
	  .per_prod = 20000, .slots = 256, .max_claim = 8 },
	{ .name = "pipeline", .nstages = 3, .after = { 0, S(0), S(1) }, .pool = -1,
	  .wait = BADBATCH_WAIT_BUSY_SPIN_PAUSE, .nprod = 1, .per_prod = 10000,
	  .slots = 1024, .max_claim = 8 },
	{ .name = "diamond", .nstages = 3, .after = { 0, 0, S(0) | S(1) },
	  .pool = -1, .wait = BADBATCH_WAIT_PHASED_BACKOFF, .nprod = 1,
	  .per_prod = 20000, .slots = 256, .max_claim = 8 },
	/* Several producer threads on multi-producer rings. */
	{ .name = "mp diamond", .nstages = 3, .after = { 0, 0, S(0) | S(1) },
	  .pool = -1, .wait = BADBATCH_WAIT_BLOCK, .nprod = 3, .per_prod = 7000,
	  .slots = 256, .max_claim = 5 },
	{ .name = "mp dag5", .nstages = 5,
	  .after = { 0, S(0), S(0), S(1), S(2) | S(3) }, .pool = -1,
	  .wait = BADBATCH_WAIT_PHASED_BACKOFF, .nprod = 4, .per_prod = 5000,
	  .slots = 512, .max_claim = 3 },
	{ .name = "mp pool", .nstages = 3, .after = { 0, 0, S(0) | S(1) }, .pool = 1,
	  .workers = 3, .wait = BADBATCH_WAIT_BLOCK, .nprod = 2,
	  .per_prod = 10000, .slots = 256, .max_claim = 4 },
};

/* A pipeline of 2 on a multi-producer ring, for each strategy. */
static struct gspec strategy_graph(enum badbatch_wait w)
{
	struct gspec g = {
		.name = "mp pipeline", .nstages = 2, .after = { 0, S(0) },
		.pool = -1, .wait = w, .nprod = 2, .per_prod = 3000,
		.slots = 128, .max_claim = 4,
	};
	return g;
}

/* ---- one topology across processes --------------------------------------- */

#define X_EVENTS	20000
#define X_ID_A		5
#define X_ID_B		6
#define X_POOL		2

struct xshared {
	const char *name;
	struct t_chan ready;
	struct trec a, b, c[MAX_WORKERS];
	struct tstage sa, sb, sc[MAX_WORKERS];
	int rc[3];		/* join of A, B, C */
	int frc[3];
	struct badbatch_failure f[3];
	uint64_t ids[3];	/* consumer ids of each process's stage */
	uint32_t cnt[X_EVENTS];
};

static struct xshared *xs;

/* Process which (0 A, 1 B, 2 C): build, start, report, join. */
static int xproc(void *arg)
{
	int which = (int)(intptr_t)arg, rc;
	struct badbatch_handler h, wh[MAX_WORKERS];
	struct badbatch_topology *t;
	struct badbatch *ring;
	uint32_t j;

	rc = badbatch_open(xs->name, &ring);
	if (!rc)
		rc = badbatch_topology_create(ring, &t);
	if (rc) {
		t_chan_send(&xs->ready, 'x');
		return 2;
	}
	if (which == 0) {
		tstage_init(&xs->sa, &xs->a, 1, 256);
		xs->sa.mark = 0;
		h = thandler(&xs->sa, "bbt-A", false);
		h.want_id = true;
		h.id = X_ID_A;
		rc = badbatch_topology_add(t, &h, 0);
	} else if (which == 1) {
		tstage_init(&xs->sb, &xs->b, 1, 256);
		xs->sb.mark = 1;
		xs->sb.need = 1;
		h = thandler(&xs->sb, "bbt-B", false);
		h.want_id = true;
		h.id = X_ID_B;
		h.deps = 1ULL << X_ID_A;
		rc = badbatch_topology_add(t, &h, 0);
	} else {
		for (j = 0; j < MAX_WORKERS; j++) {
			tstage_init(&xs->sc[j], &xs->c[j], 1, 256);
			xs->sc[j].ordered = false;
			xs->sc[j].mark = 2;
			xs->sc[j].need = 3;
			xs->sc[j].cnt = xs->cnt;
			xs->sc[j].cnt_len = X_EVENTS;
			wh[j] = thandler(&xs->sc[j], "bbt-C", false);
			wh[j].deps = 1ULL << X_ID_B;
		}
		rc = badbatch_topology_add_pool(t, wh, MAX_WORKERS, X_POOL, 0);
	}
	T_RC(rc, 0, "process %c: add its stage", 'A' + which);
	xs->ids[which] = badbatch_topology_consumer_ids(t, 0);
	if (!rc)
		rc = badbatch_topology_start(t);
	T_RC(rc, 0, "process %c: start", 'A' + which);
	t_chan_send(&xs->ready, rc ? 'x' : 'r');
	if (rc)
		return 2;
	xs->rc[which] = badbatch_topology_join(t);
	xs->frc[which] = badbatch_get_failure(ring, &xs->f[which]);
	badbatch_topology_destroy(t);
	badbatch_close(ring);
	return 0;
}

static uint64_t xpool_events(void)
{
	uint64_t n = 0;
	int j;

	for (j = 0; j < MAX_WORKERS; j++)
		n += tload(&xs->c[j].events);
	return n;
}

static int sub_processes(void *arg)
{
	struct badbatch *ring;
	struct tprod tp;
	pid_t pid[3];
	uint64_t bad_cnt = 0, i, sum = 0, t0;
	int k, j;

	(void)arg;
	xs = t_shared(sizeof(*xs));
	xs->name = t_name("topo-x");
	t_chan_init(&xs->ready);
	if (T_RC(tring(256, BADBATCH_MUTABLE_CONSUMERS, xs->name, &ring), 0,
		 "create a named ring"))
		return 1;
	for (k = 0; k < 3; k++)
		pid[k] = -1;
	for (k = 0; k < 3; k++) {
		pid[k] = t_spawn(k == 0 ? "A" : k == 1 ? "B" : "C", 40, xproc,
				 (void *)(intptr_t)k);
		if (!T_OK(t_chan_recv(&xs->ready, 10000) == 'r',
			  "process %c started its stage", 'A' + k)) {
			badbatch_halt(ring);
			for (k = 0; k < 3; k++)
				t_reap(pid[k], 5000);
			return 1;
		}
	}
	T_EQ(xs->ids[0], 1ULL << X_ID_A, "A's stage has the wanted id");
	T_EQ(xs->ids[1], 1ULL << X_ID_B, "B's stage has the wanted id");
	T_EQ(__builtin_popcountll(xs->ids[2]), MAX_WORKERS, "C's pool: an id per worker");
	T_RC(tprod_start(&tp, ring, 0, X_EVENTS, 8, NULL), 0, "the parent produces");
	T_RC(tprod_join(&tp, 30000), 0, "published %d events", X_EVENTS);
	T_RC(tp.rc, 0, "without error");
	t0 = t_now_ns();
	while (xpool_events() < X_EVENTS && tms(t0) < 20000)
		t_sleep_ms(1);
	T_EQ(xpool_events(), X_EVENTS, "C's pool handled every event");
	T_SYS(badbatch_halt(ring), "the parent halts the ring");
	for (k = 0; k < 3; k++) {
		T_CHILD(pid[k], 10000, "process %c exited", 'A' + k);
		T_RC(xs->rc[k], -ESHUTDOWN, "process %c: join returned -ESHUTDOWN", 'A' + k);
		T_RC(xs->frc[k], 0, "process %c: the ring's failure record", 'A' + k);
		T_EQ(xs->f[k].error, 0, "process %c: ... halted without failure", 'A' + k);
	}
	T_EQ(xs->a.events, X_EVENTS, "A handled every event");
	T_EQ(xs->a.bad_order + xs->a.bad_check + xs->a.bad_pnext + xs->a.bad_own, 0,
	     "A: in order, intact");
	T_EQ(xs->b.events, X_EVENTS, "B handled every event");
	T_EQ(xs->b.bad_order + xs->b.bad_check + xs->b.bad_pnext + xs->b.bad_own, 0,
	     "B: in order, intact");
	T_EQ(xs->b.bad_marks, 0, "B: after A marked each");
	for (j = 0; j < MAX_WORKERS; j++) {
		sum += xs->c[j].events;
		T_EQ(xs->c[j].bad_order + xs->c[j].bad_check + xs->c[j].bad_own, 0,
		     "C worker %d: in order, intact, not twice", j);
		T_EQ(xs->c[j].bad_marks, 0, "C worker %d: after A and B marked each", j);
		T_OK(xs->c[j].starts == 1 && xs->c[j].shutdowns == 1,
		     "C worker %d: on_start, on_shutdown", j);
	}
	for (i = 0; i < X_EVENTS; i++)
		bad_cnt += xs->cnt[i] != 1;
	T_EQ(sum, X_EVENTS, "C: the pool's sum");
	T_EQ(bad_cnt, 0, "C: each event exactly once");
	T_OK(xs->a.shutdowns == 1 && xs->b.shutdowns == 1, "A, B: on_shutdown once");
	badbatch_close(ring);
	return 0;
}

int main(void)
{
	enum badbatch_wait w;
	struct gspec sg[8];
	char desc[128];
	size_t i;

	t_init("lib_topologies", 290);
	for (i = 0; i < sizeof(graphs) / sizeof(graphs[0]); i++) {
		snprintf(desc, sizeof(desc), "%s, %s, %u producer%s", graphs[i].name,
			 wait_names[graphs[i].wait], graphs[i].nprod,
			 graphs[i].nprod > 1 ? "s" : "");
		tsub(desc, 40, run_graph, &graphs[i]);
	}
	for (w = BADBATCH_WAIT_DEFAULT; w <= BADBATCH_WAIT_PHASED_BACKOFF; w++) {
		sg[w] = strategy_graph(w);
		snprintf(desc, sizeof(desc), "%s, %s, 2 producers", sg[w].name,
			 wait_names[w]);
		tsub(desc, 30, run_graph, &sg[w]);
	}
	tsub("one topology across 3 processes, then halt", 60, sub_processes, NULL);
	return t_done();
}
