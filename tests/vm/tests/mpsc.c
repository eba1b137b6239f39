// SPDX-License-Identifier: GPL-2.0
/*
 * Three producer processes on a BB_RING_MULTI_PRODUCER ring, one consumer
 * process, all over the fast path (CAS claims, per-slot availability).
 * Each producer publishes M events {producer id, per-producer counter,
 * check words} in batches of 1..16. The consumer checks that every event
 * arrives exactly once, that each producer's events arrive in counter
 * order, the check words, that nothing is flagged abandoned, and the total.
 */
#include "harness.h"

#define NPROD		3
#define M_EVENTS	300000ull
#define SLOTS		512u
#define SLOT_SIZE	32u

struct ev {
	__u64 producer;
	__u64 counter;
	__u64 check[2];
};

struct result {
	__u64 produced[NPROD], p_waits[NPROD], p_wakes[NPROD], p_busy[NPROD];
	__u64 consumed, per[NPROD], bad_order, bad_check, bad_producer, abandoned;
	__u64 first_bad_seq, c_waits, c_wakes, final_seq;
};

static const char *g_name;
static struct result *g_res;
static struct t_chan g_ready, g_go;

static __u64 check_word(__u64 p, __u64 c, int i)
{
	return t_mix((p << 40) ^ (c << 2) ^ (__u64)i);
}

static int consumer(void *arg)
{
	struct t_ring r;
	__u64 next = 0, expect[NPROD] = { 0 }, total = NPROD * M_EVENTS;
	int err = 0;

	(void)arg;
	if (t_join(&r, g_name, BB_ROLE_CONSUMER, BB_ID_ANY, 0))
		return 2;
	t_chan_send(&g_ready, 'c');
	while (next < total) {
		__u64 limit = t_fast_avail(&r, next, &err), s;

		if (!limit) {
			T_RC(err, 0, "consumer wait at %llu", (unsigned long long)next);
			break;
		}
		for (s = next; s < limit; s++) {
			const struct ev *e = bb_slot(&r.v, s);
			__u64 p = e->producer;
			int bad = 0;

			if (bb_is_abandoned(&r.v, s)) {
				g_res->abandoned++;
				continue;
			}
			if (p >= NPROD) {
				g_res->bad_producer++;
				bad = 1;
			} else {
				if (e->counter != expect[p]) {
					g_res->bad_order++;
					bad = 1;
				}
				if (e->check[0] != check_word(p, e->counter, 0) ||
				    e->check[1] != check_word(p, e->counter, 1)) {
					g_res->bad_check++;
					bad = 1;
				}
				expect[p] = e->counter + 1;
				g_res->per[p]++;
			}
			if (bad && !g_res->first_bad_seq)
				g_res->first_bad_seq = s + 1;
		}
		g_res->consumed += limit - next;
		next = limit;
		t_fast_advance(&r, next);
	}
	g_res->final_seq = bb_load(r.self);
	g_res->c_waits = r.waits;
	g_res->c_wakes = r.wakes;
	t_ring_close(&r);
	return 0;
}

static int producer(void *arg)
{
	int me = (int)(intptr_t)arg;
	struct t_ring r;
	__u64 sent = 0, rnd = t_mix((__u64)me + 99);

	if (t_join(&r, g_name, BB_ROLE_PRODUCER, BB_ID_ANY, 0))
		return 2;
	t_chan_send(&g_ready, 'p');
	if (t_chan_recv(&g_go, 10000) != 'g')
		return 3;
	while (sent < M_EVENTS) {
		__u32 want = 1 + (__u32)((rnd = t_mix(rnd)) % 16), i;
		__u64 lo = 0;
		int n;

		if (want > M_EVENTS - sent)
			want = (__u32)(M_EVENTS - sent);
		n = t_fast_claim(&r, want, &lo);
		if (n <= 0) {
			T_RC(n, 1, "producer %d claim", me);
			break;
		}
		for (i = 0; i < (__u32)n; i++) {
			struct ev *e = bb_slot(&r.v, lo + i);
			__u64 c = sent + i;

			e->producer = (__u64)me;
			e->counter = c;
			e->check[0] = check_word((__u64)me, c, 0);
			e->check[1] = check_word((__u64)me, c, 1);
		}
		t_fast_publish(&r, lo, (__u32)n);
		sent += (__u64)n;
	}
	g_res->produced[me] = sent;
	g_res->p_waits[me] = r.waits;
	g_res->p_wakes[me] = r.wakes;
	t_ring_close(&r);
	return 0;
}

static struct t_ring g_c;

static void dump(void)
{
	t_diag("state: claim %llu consumer0 %llu consumer_waiters %u producer_waiters %u",
	       (unsigned long long)bb_load(&g_c.v.prod->claim),
	       (unsigned long long)t_cons_seq(&g_c, 0),
	       bb_load(&g_c.v.hdr->consumer_waiters), bb_load(&g_c.v.hdr->producer_waiters));
}

int main(void)
{
	pid_t pc, pp[NPROD];
	struct bb_stats st;
	__u64 t0;
	int i;

	t_init("mpsc", 180);
	g_name = t_name("mpsc");
	g_res = t_shared(sizeof(*g_res));
	t_chan_init(&g_ready);
	t_chan_init(&g_go);
	if (t_ring_new(&g_c, BB_RING_MULTI_PRODUCER, SLOTS, SLOT_SIZE, 1, g_name)) {
		printf("Bail out! create ring\n");
		return 1;
	}
	t_st.on_timeout = dump;
	T_OK(g_c.v.multi && g_c.info.avail_off != 0, "multi-producer ring with an avail[] array");
	pc = t_spawn("consumer", 150, consumer, NULL);
	T_OK(t_chan_recv(&g_ready, 10000) == 'c', "the consumer attached");
	for (i = 0; i < NPROD; i++) {
		pp[i] = t_spawn("producer", 150, producer, (void *)(intptr_t)i);
		T_OK(t_chan_recv(&g_ready, 10000) == 'p', "producer %d attached", i);
	}
	T_EQ(bb_load(&g_c.v.hdr->nr_producers), NPROD, "header: %d producers", NPROD);
	T_RC(t_stats(g_c.fd, &st), 0, "STATS");
	T_EQ(st.nr_producers, NPROD, "STATS nr_producers");
	t0 = t_now_ns();
	for (i = 0; i < NPROD; i++)
		t_chan_send(&g_go, 'g');
	for (i = 0; i < NPROD; i++)
		T_CHILD(pp[i], 150000, "producer %d process", i);
	T_CHILD(pc, 150000, "consumer process");
	t_diag("%llu events in %.1f ms; consumer %llu waits %llu wakes",
	       NPROD * M_EVENTS, (t_now_ns() - t0) / 1e6,
	       (unsigned long long)g_res->c_waits, (unsigned long long)g_res->c_wakes);
	for (i = 0; i < NPROD; i++) {
		T_EQ(g_res->produced[i], M_EVENTS, "producer %d published all its events", i);
		T_EQ(g_res->per[i], M_EVENTS, "the consumer saw each of producer %d's events once", i);
		t_diag("producer %d: %llu waits %llu wakes", i,
		       (unsigned long long)g_res->p_waits[i], (unsigned long long)g_res->p_wakes[i]);
	}
	T_EQ(g_res->consumed, NPROD * M_EVENTS, "total events consumed");
	T_EQ(g_res->bad_order, 0, "events out of per-producer order (duplicates or losses)");
	T_EQ(g_res->bad_check, 0, "events with wrong check words");
	T_EQ(g_res->bad_producer, 0, "events with an unknown producer id");
	T_EQ(g_res->abandoned, 0, "events flagged abandoned");
	T_EQ(g_res->first_bad_seq, 0, "first bad sequence (+1)");
	T_EQ(g_res->final_seq, NPROD * M_EVENTS, "the consumer's final sequence");
	T_EQ(bb_load(&g_c.v.prod->claim), NPROD * M_EVENTS, "the claim frontier");
	T_EQ(bb_load(&g_c.v.hdr->consumer_waiters), 0, "consumer_waiters back to 0");
	T_EQ(bb_load(&g_c.v.hdr->producer_waiters), 0, "producer_waiters back to 0");
	T_EQ(bb_load(&g_c.v.hdr->nr_producers), 0, "header: the producers left");
	t_ring_close(&g_c);
	return t_done();
}
