// SPDX-License-Identifier: GPL-2.0
/*
 * One producer process, one consumer process, each with its own fd
 * attached by name: N events over the fast path (claim/publish/consume
 * in the mmapped regions through include/badbatch/protocol.h), payload a
 * function of the sequence, batches of up to 64. The consumer checks every
 * byte of every event and the order. Syscalls happen only when the
 * protocol asks for them (BB_IOC_WAIT before sleeping, BB_IOC_WAKE when a
 * sleeper is announced); the kernel's STATS wakeups must equal the WAKE
 * calls both sides made, and the syscall count stays far below N.
 */
#include "harness.h"

#define N_EVENTS	1000000ull
#define SLOTS		1024u
#define SLOT_SIZE	64u
#define BATCH		64u

struct result {
	__u64 consumed, bad, first_bad, first_bad_word, final_seq;
	__u64 c_waits, c_wakes, p_waits, p_wakes, produced;
	__u64 c_ns, p_ns;
};

static const char *g_name;
static struct result *g_res;
static struct t_chan g_ready, g_go;

static int consumer(void *arg)
{
	struct t_ring r;
	__u64 next = 0, t0;
	int err = 0;

	(void)arg;
	if (t_join(&r, g_name, BB_ROLE_CONSUMER, BB_ID_ANY, 0))
		return 2;
	T_EQ(bb_load_acquire(r.self), 0, "a consumer joining an empty ring starts at 0");
	t_chan_send(&g_ready, 'c');
	t0 = t_now_ns();
	while (next < N_EVENTS) {
		__u64 limit = t_fast_avail(&r, next, &err), s;

		if (!limit) {
			T_RC(err, 0, "consumer wait at %llu", (unsigned long long)next);
			break;
		}
		if (limit > N_EVENTS)
			limit = N_EVENTS;	/* never happens: the producer stops */
		for (s = next; s < limit; s++) {
			__u32 bad = t_check(bb_slot(&r.v, s), SLOT_SIZE, s);

			if (bad && !g_res->bad++) {
				g_res->first_bad = s;
				g_res->first_bad_word = bad - 1;
			}
		}
		g_res->consumed += limit - next;
		next = limit;
		t_fast_advance(&r, next);
	}
	g_res->c_ns = t_now_ns() - t0;
	g_res->final_seq = bb_load(r.self);
	g_res->c_waits = r.waits;
	g_res->c_wakes = r.wakes;
	T_EQ(g_res->bad, 0, "every event's content is f(seq) (first bad seq %llu word %llu)",
	     (unsigned long long)g_res->first_bad, (unsigned long long)g_res->first_bad_word);
	t_ring_close(&r);
	return 0;
}

static int producer(void *arg)
{
	struct t_ring r;
	__u64 sent = 0, t0;

	(void)arg;
	if (t_join(&r, g_name, BB_ROLE_PRODUCER, BB_ID_ANY, 0))
		return 2;
	t_chan_send(&g_ready, 'p');
	if (t_chan_recv(&g_go, 10000) != 'g')
		return 3;
	t0 = t_now_ns();
	while (sent < N_EVENTS) {
		__u32 want = N_EVENTS - sent < BATCH ? (__u32)(N_EVENTS - sent) : BATCH;
		__u64 lo = 0, s;
		int n = t_fast_claim(&r, want, &lo);

		if (n <= 0) {
			T_RC(n, 1, "producer claim at %llu", (unsigned long long)sent);
			break;
		}
		if (lo != sent) {
			T_EQ(lo, sent, "claims are contiguous");
			break;
		}
		for (s = lo; s < lo + (__u64)n; s++)
			t_fill(bb_slot(&r.v, s), SLOT_SIZE, s);
		t_fast_publish(&r, lo, (__u32)n);
		sent += (__u64)n;
	}
	g_res->p_ns = t_now_ns() - t0;
	g_res->produced = sent;
	g_res->p_waits = r.waits;
	g_res->p_wakes = r.wakes;
	t_ring_close(&r);
	return 0;
}

static struct t_ring g_c;

static void dump(void)
{
	t_diag("state: cursor %llu claim %llu consumer0 %llu consumer_waiters %u producer_waiters %u",
	       (unsigned long long)bb_load(&g_c.v.prod->cursor),
	       (unsigned long long)bb_load(&g_c.v.prod->claim),
	       (unsigned long long)t_cons_seq(&g_c, 0),
	       bb_load(&g_c.v.hdr->consumer_waiters), bb_load(&g_c.v.hdr->producer_waiters));
}

int main(void)
{
	struct bb_stats st0, st1;
	pid_t pc, pp;
	__u64 syscalls;

	t_init("spsc", 180);
	g_name = t_name("spsc");
	g_res = t_shared(sizeof(*g_res));
	t_chan_init(&g_ready);
	t_chan_init(&g_go);
	if (t_ring_new(&g_c, 0, SLOTS, SLOT_SIZE, 1, g_name)) {
		printf("Bail out! create ring\n");
		return 1;
	}
	t_st.on_timeout = dump;
	T_RC(t_stats(g_c.fd, &st0), 0, "STATS before");

	pc = t_spawn("consumer", 150, consumer, NULL);
	T_OK(t_chan_recv(&g_ready, 10000) == 'c', "the consumer attached");
	pp = t_spawn("producer", 150, producer, NULL);
	T_OK(t_chan_recv(&g_ready, 10000) == 'p', "the producer attached");
	T_EQ(bb_load(&g_c.v.hdr->nr_producers), 1, "header: 1 producer");
	T_EQ(bb_load(&g_c.v.hdr->nr_consumers), 1, "header: 1 consumer");
	T_EQ(t_gating_mask(&g_c), 1, "header: the consumer (id 0) gates the producer");
	t_chan_send(&g_go, 'g');

	T_CHILD(pp, 150000, "producer process");
	T_CHILD(pc, 150000, "consumer process");
	T_EQ(g_res->produced, N_EVENTS, "events produced");
	T_EQ(g_res->consumed, N_EVENTS, "events consumed");
	T_EQ(g_res->bad, 0, "events with wrong content or order");
	T_EQ(g_res->final_seq, N_EVENTS, "the consumer's final sequence");
	T_EQ(bb_load(&g_c.v.prod->cursor), N_EVENTS, "the cursor in the producer page");
	T_RC(t_stats(g_c.fd, &st1), 0, "STATS after");
	T_EQ(st1.wakeups - st0.wakeups, g_res->p_wakes + g_res->c_wakes,
	     "STATS wakeups = the WAKE calls the processes made");
	t_diag("STATS sleeps %llu, WAIT calls %llu",
	       (unsigned long long)(st1.sleeps - st0.sleeps),
	       (unsigned long long)(g_res->p_waits + g_res->c_waits));
	syscalls = g_res->p_waits + g_res->p_wakes + g_res->c_waits + g_res->c_wakes;
	t_diag("%llu events: producer %.1f ms (%llu waits, %llu wakes), consumer %.1f ms "
	       "(%llu waits, %llu wakes)", N_EVENTS, g_res->p_ns / 1e6,
	       (unsigned long long)g_res->p_waits, (unsigned long long)g_res->p_wakes,
	       g_res->c_ns / 1e6, (unsigned long long)g_res->c_waits,
	       (unsigned long long)g_res->c_wakes);
	T_OK(syscalls < N_EVENTS / 8, "hot-path syscalls (%llu) well below one per event",
	     (unsigned long long)syscalls);
	T_EQ(st1.waiters, 0, "no waiters left");
	T_EQ(bb_load(&g_c.v.hdr->consumer_waiters), 0, "header consumer_waiters back to 0");
	T_EQ(bb_load(&g_c.v.hdr->producer_waiters), 0, "header producer_waiters back to 0");
	T_EQ(bb_load(&g_c.v.hdr->nr_producers), 0, "header: the producer left");
	T_EQ(bb_load(&g_c.v.hdr->nr_consumers), 0, "header: the consumer left");
	t_ring_close(&g_c);
	return t_done();
}
