// SPDX-License-Identifier: GPL-2.0
/*
 * Participants die, rings go away:
 *   - a consumer SIGKILLed while the producer sleeps on a full ring (in
 *     BB_IOC_WAIT via the fast path, or in a blocking BB_IOC_CLAIM): the
 *     producer is released and finishes; the gating mask, nr_consumers and
 *     the consumer's entry drop the dead consumer;
 *   - the middle stage of a 3-stage pipeline is SIGKILLed: the last stage's
 *     deps become the dead stage's deps and it goes on to see every event;
 *   - a multi-producer producer SIGKILLed while holding a kernel-mediated
 *     claim: its slots are published as abandoned, consumers skip them and
 *     see the other producer's events;
 *   - a ring lives exactly while an fd or a mapping holds it (its creator's,
 *     a participant's, a forked child's, a killed process's): its name is
 *     taken until the last fd and mapping are gone, then free, and
 *     BB_IOC_STATS rings returns to its start value.
 */
#include "harness.h"

static const char *g_name;
static struct t_chan g_ready;

static int sleeper(void *arg)
{
	struct t_ring r;
	__u64 deps = (__u64)(uintptr_t)arg;
	__u32 id = deps == 1 ? 1 : 0;

	if (t_join(&r, g_name, BB_ROLE_CONSUMER, id, deps))
		return 2;
	t_chan_send(&g_ready, 's');
	for (;;)
		pause();
	return 0;
}

struct prod_res {
	__u64 sent, ns, claim_seq;
	int rc, blocked;
};

static struct prod_res *g_pr;

/* Publish n events over the fast path (waiting for capacity as needed). */
static int fast_producer(void *arg)
{
	__u64 n = (__u64)(uintptr_t)arg, t0, sent = 0;
	struct t_ring r;

	if (t_join(&r, g_name, BB_ROLE_PRODUCER, BB_ID_ANY, 0))
		return 2;
	t_chan_send(&g_ready, 'p');
	t0 = t_now_ns();
	while (sent < n) {
		__u64 lo = 0;
		int k = t_fast_claim(&r, 1, &lo);

		if (k != 1) {
			g_pr->rc = k;
			break;
		}
		t_fill(bb_slot(&r.v, lo), r.v.slot_size, lo);
		t_fast_publish(&r, lo, 1);
		sent++;
	}
	g_pr->sent = sent;
	g_pr->ns = t_now_ns() - t0;
	t_ring_close(&r);
	return 0;
}

/* Fill the ring through BB_IOC_CLAIM/PUBLISH, then block in one more CLAIM. */
static int claim_producer(void *arg)
{
	struct t_ring r;
	__u64 lo = 0, t0;
	__u32 i;

	(void)arg;
	if (t_join(&r, g_name, BB_ROLE_PRODUCER, BB_ID_ANY, 0))
		return 2;
	for (i = 0; i < r.v.size; i++) {
		if (t_claim_ioctl(r.fd, 1, BB_CLAIMF_NONBLOCK, 0, &lo))
			return 3;
		t_fill(bb_slot(&r.v, lo), r.v.slot_size, lo);
		if (t_publish_ioctl(r.fd, lo, 1))
			return 4;
	}
	t_chan_send(&g_ready, 'p');
	t0 = t_now_ns();
	g_pr->rc = t_claim_ioctl(r.fd, 1, 0, 0, &lo);
	g_pr->ns = t_now_ns() - t0;
	g_pr->claim_seq = lo;
	t_ring_close(&r);
	return 0;
}

static void test_dead_consumer(void)
{
	struct t_ring c;
	pid_t ps, pp;
	int v;

	for (v = 0; v < 2; v++) {
		const char *how = v ? "blocking CLAIM" : "fast path + WAIT";

		t_diag("--- a consumer dies while the producer waits (%s)", how);
		g_name = t_name(v ? "dc1" : "dc0");
		memset(g_pr, 0, sizeof(*g_pr));
		if (t_ring_new(&c, 0, 8, 64, 2, g_name)) {
			T_OK(0, "create ring");
			return;
		}
		ps = t_spawn("sleeping-consumer", 30, sleeper, (void *)(uintptr_t)0);
		T_OK(t_chan_recv(&g_ready, 10000) == 's', "the consumer attached");
		T_EQ(t_gating_mask(&c), 1, "gating mask {0}");
		if (v)
			pp = t_spawn("claim-producer", 30, claim_producer, NULL);
		else
			pp = t_spawn("producer", 30, fast_producer, (void *)(uintptr_t)100);
		T_OK(t_chan_recv(&g_ready, 10000) == 'p', "the producer attached");
		T_OK(t_wait_nonzero(&c.v.hdr->producer_waiters, 10000) == 0,
		     "the producer sleeps on the full ring (producer_waiters %u)",
		     bb_load(&c.v.hdr->producer_waiters));
		T_EQ(bb_load(&c.v.prod->cursor), 8, "8 events published");
		t_sleep_ms(100);
		kill(ps, SIGKILL);
		T_CHILD_SIG(ps, 5000, SIGKILL, "the consumer was SIGKILLed");
		T_CHILD(pp, 10000, "the producer was released and finished");
		if (v) {
			T_RC(g_pr->rc, 0, "its blocking CLAIM returned 0");
			T_EQ(g_pr->claim_seq, 8, "with slot 8");
		} else {
			T_RC(g_pr->rc, 0, "its claims succeeded");
			T_EQ(g_pr->sent, 100, "it published all 100 events");
		}
		T_EQ(t_gating_mask(&c), 0, "gating mask empty");
		T_EQ(bb_load(&c.v.hdr->nr_consumers), 0, "nr_consumers 0");
		T_OK(!(bb_load(&c.v.hdr->consumers[0].flags) & BB_CONSUMER_ACTIVE),
		     "consumer 0's entry is no longer ACTIVE");
		T_EQ(bb_load(&c.v.hdr->producer_waiters), 0, "producer_waiters 0");
		t_ring_close(&c);
	}
}

/* ------------------------------------------------------------------ */

#define PIPE_N 3000ull

struct stage_res {
	__u64 consumed, bad, first_bad;
};

static struct stage_res *g_sr;

static int stage(void *arg)
{
	int i = (int)(intptr_t)arg;	/* 0: C1 (id 0), 2: C3 (id 2 follows 1) */
	struct t_ring r;
	__u64 next = 0;
	int err = 0;

	if (t_join(&r, g_name, BB_ROLE_CONSUMER, (__u32)i, i ? 1ull << 1 : 0))
		return 2;
	t_chan_send(&g_ready, 'c');
	while (next < PIPE_N) {
		__u64 limit = t_fast_avail(&r, next, &err), s;

		if (!limit) {
			T_RC(err, 0, "stage %d wait at %llu", i, (unsigned long long)next);
			break;
		}
		for (s = next; s < limit; s++)
			if (t_check(bb_slot(&r.v, s), r.v.slot_size, s) && !g_sr[i].bad++)
				g_sr[i].first_bad = s;
		g_sr[i].consumed += limit - next;
		next = limit;
		t_fast_advance(&r, next);
	}
	t_ring_close(&r);
	return 0;
}

static void test_dead_middle(void)
{
	struct t_ring c;
	pid_t p1, p2, p3, pp;
	int i;

	t_diag("--- the middle stage of a pipeline dies");
	g_name = t_name("mid");
	g_sr = t_shared(sizeof(*g_sr) * 3);
	memset(g_pr, 0, sizeof(*g_pr));
	if (t_ring_new(&c, 0, 16, 64, 4, g_name)) {
		T_OK(0, "create ring");
		return;
	}
	p1 = t_spawn("C1", 60, stage, (void *)(intptr_t)0);
	T_OK(t_chan_recv(&g_ready, 10000) == 'c', "C1 (id 0, follows the cursor) attached");
	p2 = t_spawn("C2", 60, sleeper, (void *)(uintptr_t)1);
	T_OK(t_chan_recv(&g_ready, 10000) == 's', "C2 (id 1, follows C1, never advances) attached");
	p3 = t_spawn("C3", 60, stage, (void *)(intptr_t)2);
	T_OK(t_chan_recv(&g_ready, 10000) == 'c', "C3 (id 2, follows C2) attached");
	T_EQ(t_cons_deps(&c, 2), 1ull << 1, "C3's deps {1}");
	T_EQ(t_gating_mask(&c), 1ull << 2, "gating mask {2}");
	pp = t_spawn("producer", 60, fast_producer, (void *)(uintptr_t)PIPE_N);
	T_OK(t_chan_recv(&g_ready, 10000) == 'p', "the producer attached");
	T_OK(t_wait_nonzero(&c.v.hdr->producer_waiters, 10000) == 0,
	     "the producer waits: C3 is stuck behind C2");
	T_EQ(t_cons_seq(&c, 2), 0, "C3 has consumed nothing");
	for (i = 0; i < 5000 && t_cons_seq(&c, 0) < 16; i++)
		t_sleep_ms(1);
	T_EQ(t_cons_seq(&c, 0), 16, "C1 consumed the 16 published events");
	T_EQ(t_cons_seq(&c, 2), 0, "C3 still has consumed nothing");
	kill(p2, SIGKILL);
	T_CHILD_SIG(p2, 5000, SIGKILL, "C2 was SIGKILLed");
	for (i = 0; i < 2000 && t_cons_deps(&c, 2) != 1ull; i++)
		t_sleep_ms(1);
	T_EQ(t_cons_deps(&c, 2), 1ull << 0, "C3's deps are now C2's deps: {0}");
	T_OK(!(bb_load(&c.v.hdr->consumers[1].flags) & BB_CONSUMER_ACTIVE), "C2's entry inactive");
	T_CHILD(pp, 30000, "the producer finished");
	T_EQ(g_pr->sent, PIPE_N, "it published every event");
	T_CHILD(p1, 30000, "C1 finished");
	T_CHILD(p3, 30000, "C3 finished");
	T_EQ(g_sr[0].consumed, PIPE_N, "C1 saw every event");
	T_EQ(g_sr[2].consumed, PIPE_N, "C3 saw every event");
	T_EQ(g_sr[0].bad + g_sr[2].bad, 0, "all intact and in order");
	t_ring_close(&c);
}

/* ------------------------------------------------------------------ */

/* Attach as (role, id, deps) and sleep in BB_IOC_WAIT for seq. */
struct ksleep {
	__u32 role, id;
	__u64 deps, seq;
};

static int wait_forever(void *arg)
{
	const struct ksleep *k = arg;
	struct t_ring r;
	__u64 lim;

	if (t_join(&r, g_name, k->role, k->id, k->deps))
		return 2;
	t_chan_send(&g_ready, 'w');
	t_wait_ioctl(r.fd, k->seq, 0, &lim);
	return 3;	/* woken: unexpected */
}

static void test_dead_sleepers(void)
{
	static const struct ksleep ks[3] = {
		{ BB_ROLE_CONSUMER, 1, 0, 8 },			/* waits for the cursor */
		{ BB_ROLE_CONSUMER, 2, 1ull << 0, 0 },		/* waits on consumer 0 */
		{ BB_ROLE_PRODUCER, BB_ID_ANY, 0, 8 },		/* waits for capacity */
	};
	struct t_ring c, k, p;
	struct bb_stats st;
	pid_t pid[3];
	int i;

	t_diag("--- sleepers SIGKILLed in BB_IOC_WAIT leave no announcement behind");
	g_name = t_name("ks");
	if (t_ring_new(&c, BB_RING_MULTI_PRODUCER, 8, 8, 4, g_name) ||
	    t_join(&k, g_name, BB_ROLE_CONSUMER, 0, 0) ||
	    t_join(&p, g_name, BB_ROLE_PRODUCER, BB_ID_ANY, 0)) {
		T_OK(0, "set up");
		return;
	}
	T_EQ(t_fast_claim(&p, 8, &(__u64){ 0 }), 8, "fill the ring");
	bb_publish(&p.v, 0, 8);
	for (i = 0; i < 3; i++) {
		pid[i] = t_spawn("sleeper", 30, wait_forever, (void *)&ks[i]);
		T_OK(t_chan_recv(&g_ready, 10000) == 'w', "sleeper %d attached", i);
	}
	T_OK(t_wait_nonzero(&c.v.hdr->consumer_waiters, 5000) == 0, "consumer_waiters non-zero");
	T_OK(t_wait_nonzero(&c.v.hdr->consumers[0].waiters, 5000) == 0,
	     "consumers[0].waiters non-zero");
	T_OK(t_wait_nonzero(&c.v.hdr->producer_waiters, 5000) == 0, "producer_waiters non-zero");
	t_sleep_ms(50);
	T_RC(t_stats(c.fd, &st), 0, "STATS");
	T_EQ(st.waiters, 3, "STATS waiters 3");
	for (i = 0; i < 3; i++) {
		kill(pid[i], SIGKILL);
		T_CHILD_SIG(pid[i], 5000, SIGKILL, "sleeper %d SIGKILLed in its wait", i);
	}
	T_EQ(bb_load(&c.v.hdr->consumer_waiters), 0, "consumer_waiters back to 0");
	T_EQ(bb_load(&c.v.hdr->consumers[0].waiters), 0, "consumers[0].waiters back to 0");
	T_EQ(bb_load(&c.v.hdr->producer_waiters), 0, "producer_waiters back to 0");
	T_RC(t_stats(c.fd, &st), 0, "STATS");
	T_EQ(st.waiters, 0, "STATS waiters 0");
	T_OK(!bb_consumers_need_wake(&p.v), "publishers see no sleeper any more");
	T_EQ(bb_load(&c.v.hdr->nr_consumers), 1, "only consumer 0 is left");
	T_EQ(t_gating_mask(&c), 1, "gating mask {0}");
	t_ring_close(&p);
	t_ring_close(&k);
	t_ring_close(&c);
}

/* ------------------------------------------------------------------ */

static int claim_and_hang(void *arg)
{
	struct t_ring r;
	__u64 seq = 0;

	(void)arg;
	if (t_join(&r, g_name, BB_ROLE_PRODUCER, BB_ID_ANY, 0))
		return 2;
	if (t_claim_ioctl(r.fd, 2, BB_CLAIMF_NONBLOCK, 0, &seq))
		return 3;
	g_pr->claim_seq = seq;
	t_chan_send(&g_ready, 'h');
	for (;;)
		pause();
	return 0;
}

static void test_dead_producer(void)
{
	struct t_ring c, k, p;
	__u64 lo = 0, s, lim = 0;
	pid_t ph;
	int i, e;

	t_diag("--- a multi-producer producer dies holding a kernel-mediated claim");
	g_name = t_name("abandon");
	memset(g_pr, 0, sizeof(*g_pr));
	if (t_ring_new(&c, BB_RING_MULTI_PRODUCER, 16, 64, 2, g_name) ||
	    t_join(&k, g_name, BB_ROLE_CONSUMER, 0, 0) ||
	    t_join(&p, g_name, BB_ROLE_PRODUCER, BB_ID_ANY, 0)) {
		T_OK(0, "set up");
		return;
	}
	ph = t_spawn("claim-and-hang", 30, claim_and_hang, NULL);
	T_OK(t_chan_recv(&g_ready, 10000) == 'h', "producer A claimed 2 slots with BB_IOC_CLAIM");
	T_EQ(g_pr->claim_seq, 0, "slots 0-1");
	T_EQ(t_fast_claim(&p, 3, &lo), 3, "producer B claims 3 (fast path)");
	T_EQ(lo, 2, "slots 2-4");
	for (s = lo; s < lo + 3; s++)
		t_fill(bb_slot(&p.v, s), 64, s);
	t_fast_publish(&p, lo, 3);
	T_EQ(bb_consumer_limit(&k.v, k.id, 0, 16), 0, "the consumer is held at A's unpublished slot 0");
	e = t_wait_ioctl(k.fd, 0, 1, &lim);
	T_RC(e, -ETIMEDOUT, "consumer WAIT for event 0 times out while A lives");
	kill(ph, SIGKILL);
	T_CHILD_SIG(ph, 5000, SIGKILL, "producer A was SIGKILLed");
	e = t_wait_ioctl(k.fd, 0, t_now_ns() + 2000000000ull, &lim);
	T_RC(e, 0, "consumer WAIT for event 0 returns once A is gone");
	for (i = 0; i < 2000 && bb_consumer_limit(&k.v, k.id, 0, 16) < 5; i++)
		t_sleep_ms(1);
	T_EQ(bb_consumer_limit(&k.v, k.id, 0, 16), 5, "events 0-4 are readable");
	T_OK(bb_is_published(&k.v, 0) && bb_is_abandoned(&k.v, 0), "event 0 is flagged abandoned");
	T_OK(bb_is_published(&k.v, 1) && bb_is_abandoned(&k.v, 1), "event 1 is flagged abandoned");
	for (s = 2; s < 5; s++)
		T_OK(!bb_is_abandoned(&k.v, s) && t_check(bb_slot(&k.v, s), 64, s) == 0,
		     "event %llu is B's, intact", (unsigned long long)s);
	T_EQ(bb_load(&c.v.hdr->nr_producers), 1, "nr_producers 1");
	/* The ring goes on. */
	bb_consumer_advance(&k.v, k.self, k.id, 5);
	T_EQ(t_fast_claim(&p, 16, &lo), 16, "producer B claims a whole ring's worth");
	T_EQ(lo, 5, "from 5");
	for (s = lo; s < lo + 16; s++)
		t_fill(bb_slot(&p.v, s), 64, s);
	t_fast_publish(&p, lo, 16);
	T_EQ(bb_consumer_limit(&k.v, k.id, 5, 16), 21, "the consumer reads on to 21");
	T_OK(t_check(bb_slot(&k.v, 16), 64, 16) == 0 && !bb_is_abandoned(&k.v, 16),
	     "event 16 (slot 0 again) is intact and not abandoned");
	t_ring_close(&p);
	t_ring_close(&k);
	t_ring_close(&c);
}

/* ------------------------------------------------------------------ */

static int name_taken(const char *name)
{
	int fd = t_open(), e;

	e = t_create(fd, 0, 8, 8, 1, name, NULL);
	close(fd);	/* frees the ring we may just have created */
	return e == -EEXIST;
}

/* Wait up to 2 s for the name to be free (release may be deferred). */
static int name_frees(const char *name)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (!name_taken(name))
			return 1;
		t_sleep_ms(10);
	}
	return 0;
}

static __u64 rings(int fd)
{
	struct bb_stats st;

	return t_stats(fd, &st) ? ~0ull : st.rings;
}

static __u64 rings_settle(int fd, __u64 want)
{
	__u64 r = rings(fd);
	int i;

	for (i = 0; i < 200 && r != want; i++) {
		t_sleep_ms(10);
		r = rings(fd);
	}
	return r;
}

struct hold_arg {
	void *map;
	size_t len;
	int fd;
	int keep_fd;
};

static struct t_chan g_go;

static int holder(void *arg)
{
	struct hold_arg *h = arg;

	if (!h->keep_fd)
		close(h->fd);	/* keep only the inherited mapping */
	t_chan_send(&g_ready, 'h');
	if (h->map && *(volatile __u32 *)h->map != BB_MAGIC)
		return 5;
	if (t_chan_recv(&g_go, 20000) != 'g')
		return 6;
	return 0;
}

static void test_ring_lifetime(int mon, __u64 rings0)
{
	const char *name = t_name("life");
	struct bb_info in;
	struct bb_create cr;
	__u64 id_old = 0;
	void *hdr;
	int a, b, k, p, o, i;
	pid_t pid;

	t_diag("--- a ring lives while an fd or a mapping holds it");
	/* Mapping alone keeps it alive. */
	a = t_open();
	T_RC(t_create(a, 0, 8, 8, 2, name, &id_old), 0, "create \"%s\"", name);
	T_EQ(rings(mon), rings0 + 1, "STATS rings +1");
	T_RC(t_info(a, &in), 0, "INFO");
	hdr = mmap(NULL, in.header_len, PROT_READ, MAP_SHARED, a, (off_t)in.header_off);
	T_OK(hdr != MAP_FAILED, "map its header");
	close(a);
	T_OK(name_taken(name), "after closing the fd, the mapping keeps the ring: its name is taken");
	T_EQ(rings(mon), rings0 + 1, "and STATS rings still counts it");
	T_EQ(((const struct bb_ring_header *)hdr)->magic, BB_MAGIC, "the mapping still reads the header");
	munmap(hdr, in.header_len);
	T_OK(name_frees(name), "after munmap the name is free");
	T_EQ(rings_settle(mon, rings0), rings0, "and STATS rings is back");
	b = t_open();
	t_create_args(&cr, 0, 8, 8, 2, name);
	T_SYS(ioctl(b, BB_IOC_CREATE, &cr), "create \"%s\" again", name);
	T_OK(cr.ring_id != id_old, "a new ring (id %llu, was %llu)", (unsigned long long)cr.ring_id,
	     (unsigned long long)id_old);

	/* Participants keep it alive after the creator closes. */
	k = t_open();
	p = t_open();
	T_RC(t_attach(k, BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, name, BB_ID_ANY, 0, NULL), 0,
	     "a consumer attaches");
	T_RC(t_attach(p, BB_ROLE_PRODUCER, BB_ATTACH_FD, b, NULL, BB_ID_ANY, 0, NULL), 0,
	     "a producer attaches");
	close(b);
	o = t_open();
	T_RC(t_attach(o, BB_ROLE_OBSERVER, BB_ATTACH_NAME, -1, name, BB_ID_ANY, 0, NULL), 0,
	     "after the creator closed, the name still finds the ring");
	T_RC(t_info(o, &in), 0, "INFO");
	T_EQ(in.ring_id, cr.ring_id, "the same ring");
	close(o);
	close(k);
	T_OK(name_taken(name), "the producer alone keeps it");
	close(p);
	T_OK(name_frees(name), "after the last participant closes the name is free");
	T_EQ(rings_settle(mon, rings0), rings0, "STATS rings is back");

	/* A forked child's fd, then a forked child's mapping. */
	t_chan_init(&g_go);
	for (i = 0; i < 2; i++) {
		struct hold_arg h = { NULL, 0, -1, !i };
		const char *what = i ? "a forked child's inherited mapping" : "a forked child's fd";

		a = t_open();
		T_RC(t_create(a, 0, 8, 8, 2, name, NULL), 0, "create \"%s\"", name);
		T_RC(t_info(a, &in), 0, "INFO");
		h.fd = a;
		if (i) {
			h.map = mmap(NULL, in.header_len, PROT_READ, MAP_SHARED, a,
				     (off_t)in.header_off);
			h.len = in.header_len;
		}
		pid = t_spawn("holder", 30, holder, &h);
		T_OK(t_chan_recv(&g_ready, 10000) == 'h', "the child holds it");
		if (h.map)
			munmap(h.map, h.len);
		close(a);
		T_OK(name_taken(name), "%s keeps the ring", what);
		t_chan_send(&g_go, 'g');
		T_CHILD(pid, 10000, "the holder exited");
		T_OK(name_frees(name), "after the child exits the name is free");
	}

	/* A SIGKILLed process's fd and mapping. */
	{
		struct t_ring r;

		g_name = name;
		if (t_ring_new(&r, 0, 8, 8, 2, name) == 0) {
			pid = t_spawn("sleeping-consumer", 30, sleeper, (void *)(uintptr_t)0);
			T_OK(t_chan_recv(&g_ready, 10000) == 's', "a consumer process attached and mapped");
			t_ring_close(&r);
			T_OK(name_taken(name), "the consumer process keeps the ring");
			kill(pid, SIGKILL);
			T_CHILD_SIG(pid, 5000, SIGKILL, "the consumer was SIGKILLed");
			T_OK(name_frees(name), "the killed process's fd and mappings released it");
		} else {
			T_OK(0, "create ring");
		}
	}
	T_EQ(rings_settle(mon, rings0), rings0, "STATS rings is back to its start value");
}

int main(void)
{
	struct t_ring mon;
	__u64 rings0;

	t_init("lifetime", 120);
	g_pr = t_shared(sizeof(*g_pr));
	t_chan_init(&g_ready);
	if (t_ring_new(&mon, 0, 2, 8, 1, NULL)) {
		printf("Bail out! cannot create a ring\n");
		return 1;
	}
	rings0 = rings(mon.fd);
	T_OK(rings0 >= 1 && rings0 != ~0ull, "STATS rings at start: %llu", (unsigned long long)rings0);
	test_dead_consumer();
	test_dead_middle();
	test_dead_sleepers();
	test_dead_producer();
	test_ring_lifetime(mon.fd, rings0);
	T_EQ(rings_settle(mon.fd, rings0), rings0, "STATS rings equals its start value at the end");
	t_ring_close(&mon);
	return t_done();
}
