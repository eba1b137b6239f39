/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One producer process and a graph of consumer processes over the fast
 * path, for the multicast, pipeline and diamond tests: the parent creates
 * the ring, starts the consumers in order (each attaches by name with a
 * wanted id and its deps), checks the topology the kernel wrote in the
 * header, starts the producer, and checks what every process counted.
 */
#ifndef BB_VM_TEST_FLOW_H
#define BB_VM_TEST_FLOW_H

#include "harness.h"

#define FLOW_MAX 8

struct flow_res {
	__u64 consumed, bad, first_bad, final_seq, waits, wakes, ns;
};

struct flow {
	const char *name;
	__u32 flags, slots, slot_size;
	__u64 n;			/* events */
	__u32 batch;			/* producer batch (max) */
	int ncons;
	unsigned int ids[FLOW_MAX];	/* wanted consumer ids */
	__u64 deps[FLOW_MAX];
	__u64 gating;			/* expected gating mask */
	/* Producer: write event seq into its slot. */
	void (*fill)(void *slot, __u64 seq);
	/* Consumer i: check (and maybe stamp) event seq; 0 if good. */
	int (*stage)(int i, const struct t_ring *r, __u64 seq, void *slot);
	/* shared with the children */
	struct flow_res *res;		/* [ncons] consumers, [FLOW_MAX] producer */
	struct t_chan ready, go;
	struct t_ring c;
	int cur;			/* the child's stage */
};

static struct flow *flow_g T_UNUSED;

static inline int flow_consumer(void *arg)
{
	struct flow *f = flow_g;
	int i = (int)(intptr_t)arg;
	struct flow_res *res = &f->res[i];
	struct t_ring r;
	__u64 next = 0, t0;
	int err = 0;

	if (t_join(&r, f->name, BB_ROLE_CONSUMER, f->ids[i], f->deps[i]))
		return 2;
	T_EQ(r.id, f->ids[i], "consumer %d got its wanted id", i);
	t_chan_send(&f->ready, 'c');
	t0 = t_now_ns();
	while (next < f->n) {
		__u64 limit = t_fast_avail(&r, next, &err), s;

		if (!limit) {
			T_RC(err, 0, "consumer %d wait at %llu", i, (unsigned long long)next);
			break;
		}
		if (limit > f->n) {
			T_OK(0, "consumer %d: limit %llu beyond the %llu events published", i,
			     (unsigned long long)limit, (unsigned long long)f->n);
			limit = f->n;
		}
		for (s = next; s < limit; s++)
			if (f->stage(i, &r, s, bb_slot(&r.v, s)) && !res->bad++)
				res->first_bad = s;
		res->consumed += limit - next;
		next = limit;
		t_fast_advance(&r, next);
	}
	res->ns = t_now_ns() - t0;
	res->final_seq = bb_load(r.self);
	res->waits = r.waits;
	res->wakes = r.wakes;
	t_ring_close(&r);
	return 0;
}

static inline int flow_producer(void *arg)
{
	struct flow *f = flow_g;
	struct flow_res *res = &f->res[FLOW_MAX];
	struct t_ring r;
	__u64 sent = 0, t0;

	(void)arg;
	if (t_join(&r, f->name, BB_ROLE_PRODUCER, BB_ID_ANY, 0))
		return 2;
	if (t_chan_recv(&f->go, 10000) != 'g')
		return 3;
	t0 = t_now_ns();
	while (sent < f->n) {
		__u32 want = f->n - sent < f->batch ? (__u32)(f->n - sent) : f->batch;
		__u64 lo = 0, s;
		int k = t_fast_claim(&r, want, &lo);

		if (k <= 0) {
			T_RC(k, 1, "producer claim at %llu", (unsigned long long)sent);
			break;
		}
		if (lo != sent) {
			T_EQ(lo, sent, "claims are contiguous");
			break;
		}
		for (s = lo; s < lo + (__u64)k; s++)
			f->fill(bb_slot(&r.v, s), s);
		t_fast_publish(&r, lo, (__u32)k);
		sent += (__u64)k;
	}
	res->ns = t_now_ns() - t0;
	res->consumed = sent;
	res->waits = r.waits;
	res->wakes = r.wakes;
	t_ring_close(&r);
	return 0;
}

static inline void flow_dump(void)
{
	struct flow *f = flow_g;
	int i;

	t_diag("state: cursor %llu consumer_waiters %u producer_waiters %u",
	       (unsigned long long)bb_load(&f->c.v.prod->cursor),
	       bb_load(&f->c.v.hdr->consumer_waiters),
	       bb_load(&f->c.v.hdr->producer_waiters));
	for (i = 0; i < f->ncons; i++)
		t_diag("  consumer %u: seq %llu deps 0x%llx waiters %u", f->ids[i],
		       (unsigned long long)t_cons_seq(&f->c, f->ids[i]),
		       (unsigned long long)t_cons_deps(&f->c, f->ids[i]),
		       bb_load(&f->c.v.hdr->consumers[f->ids[i]].waiters));
}

/* Run the flow, asserting the topology and the counts. */
static inline void flow_run(struct flow *f)
{
	pid_t pc[FLOW_MAX], pp;
	struct bb_stats st0, st1;
	__u64 wakes = 0, t0;
	int i;

	flow_g = f;
	f->res = t_shared(sizeof(struct flow_res) * (FLOW_MAX + 1));
	t_chan_init(&f->ready);
	t_chan_init(&f->go);
	if (t_ring_new(&f->c, f->flags, f->slots, f->slot_size, FLOW_MAX, f->name)) {
		T_OK(0, "create ring %s", f->name);
		return;
	}
	t_st.on_timeout = flow_dump;
	T_RC(t_stats(f->c.fd, &st0), 0, "STATS before");
	for (i = 0; i < f->ncons; i++) {
		pc[i] = t_spawn("consumer", 150, flow_consumer, (void *)(intptr_t)i);
		T_OK(t_chan_recv(&f->ready, 10000) == 'c', "consumer %d (id %u, deps 0x%llx) attached",
		     i, f->ids[i], (unsigned long long)f->deps[i]);
	}
	for (i = 0; i < f->ncons; i++) {
		T_OK(bb_load(&f->c.v.hdr->consumers[f->ids[i]].flags) & BB_CONSUMER_ACTIVE,
		     "header: consumer %u ACTIVE", f->ids[i]);
		T_EQ(t_cons_deps(&f->c, f->ids[i]), f->deps[i], "header: consumer %u deps", f->ids[i]);
		T_EQ(!!(bb_load(&f->c.v.hdr->consumers[f->ids[i]].flags) & BB_CONSUMER_GATING),
		     !!(f->gating & (1ull << f->ids[i])), "header: consumer %u GATING flag", f->ids[i]);
	}
	T_EQ(t_gating_mask(&f->c), f->gating, "header: gating_mask");
	T_EQ(bb_load(&f->c.v.hdr->nr_consumers), f->ncons, "header: nr_consumers");
	pp = t_spawn("producer", 150, flow_producer, NULL);
	t0 = t_now_ns();
	t_chan_send(&f->go, 'g');
	T_CHILD(pp, 150000, "producer process");
	for (i = 0; i < f->ncons; i++)
		T_CHILD(pc[i], 150000, "consumer %d process", i);
	t_diag("%llu events in %.1f ms; producer %llu waits %llu wakes",
	       (unsigned long long)f->n, (t_now_ns() - t0) / 1e6,
	       (unsigned long long)f->res[FLOW_MAX].waits,
	       (unsigned long long)f->res[FLOW_MAX].wakes);
	T_EQ(f->res[FLOW_MAX].consumed, f->n, "the producer published every event");
	wakes = f->res[FLOW_MAX].wakes;
	for (i = 0; i < f->ncons; i++) {
		struct flow_res *r = &f->res[i];

		t_diag("consumer %d: %.1f ms, %llu waits, %llu wakes", i, r->ns / 1e6,
		       (unsigned long long)r->waits, (unsigned long long)r->wakes);
		T_EQ(r->consumed, f->n, "consumer %d saw every event", i);
		T_CHECK(r->bad == 0, t_fmt("%llu bad, first at seq %llu",
					   (unsigned long long)r->bad,
					   (unsigned long long)r->first_bad),
			"consumer %d: every event right", i);
		T_EQ(r->final_seq, f->n, "consumer %d final sequence", i);
		wakes += r->wakes;
	}
	T_RC(t_stats(f->c.fd, &st1), 0, "STATS after");
	T_EQ(st1.wakeups - st0.wakeups, wakes, "STATS wakeups = the WAKE calls made");
	T_EQ(bb_load(&f->c.v.hdr->consumer_waiters), 0, "consumer_waiters back to 0");
	T_EQ(bb_load(&f->c.v.hdr->producer_waiters), 0, "producer_waiters back to 0");
	T_EQ(bb_load(&f->c.v.hdr->nr_consumers), 0, "every consumer left");
	T_EQ(t_gating_mask(&f->c), 0, "gating mask empty");
	t_ring_close(&f->c);
}

#endif /* BB_VM_TEST_FLOW_H */
