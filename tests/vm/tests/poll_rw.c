// SPDX-License-Identifier: GPL-2.0
/*
 * poll/epoll and the kernel-mediated data path:
 *   - a consumer fd is not readable when empty, readable after a publish
 *     (write(), or a fast-path publish + BB_IOC_WAKE); epoll_wait in another
 *     process wakes; a producer fd is writable while there is room, not
 *     when full, and epoll in another process wakes when a consumer reads;
 *   - write() takes whole events (EINVAL otherwise), EAGAIN when full with
 *     O_NONBLOCK, EFAULT with nothing published, a short count when a fault
 *     hits after some events;
 *   - read() returns whole events with their contents and advances the
 *     consumer, EINVAL for buffers smaller than an event, EAGAIN when empty
 *     with O_NONBLOCK, EFAULT/short counts like write(); wrong roles EPERM;
 *   - after HALT: POLLHUP, write() -> ESHUTDOWN, read() drains what was
 *     published and then says ESHUTDOWN;
 *   - BB_IOC_CLAIM/BB_IOC_PUBLISH and write() batches from one process are
 *     seen, in order and intact, by a fast-path consumer in another, which
 *     the kernel wakes by itself (no BB_IOC_WAKE from the producer).
 */
#include "harness.h"

#include <sys/epoll.h>

#define SS 64u	/* slot size */

static long g_page;
static void *volatile g_null;	/* NULL the compiler cannot see */

static short revents(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	if (poll(&p, 1, 0) < 0)
		return -1;
	return p.revents;
}

static void fill_events(unsigned char *buf, __u64 first, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		t_fill(buf + (size_t)i * SS, SS, first + i);
}

/* Do n events in buf match keys first..? Returns the bad index + 1. */
static unsigned int check_events(const unsigned char *buf, __u64 first, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (t_check(buf + (size_t)i * SS, SS, first + i))
			return i + 1;
	return 0;
}

static void set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* ------------------------------------------------------------------ */
/* Cross-process epoll                                                 */

struct ep_res {
	int n, ready;
	__u32 events;
	__u64 ns;
};

static struct ep_res *g_ep;
static const char *g_epname;
static struct t_chan g_epready;

static int ep_child(void *arg)
{
	int role = (int)(intptr_t)arg, fd, ep;
	struct epoll_event ev = { 0 }, out;
	unsigned char buf[SS * 4];
	__u64 t0;

	fd = t_open();
	if (fd < 0 || t_attach(fd, (__u32)role, BB_ATTACH_NAME, -1, g_epname,
			       BB_ID_ANY, 0, NULL))
		return 2;
	if (role == BB_ROLE_PRODUCER) {
		/* Fill the 4-slot ring. */
		fill_events(buf, 0, 4);
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			return 3;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = role == BB_ROLE_PRODUCER ? EPOLLOUT : EPOLLIN;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		return 4;
	/* Nothing is ready yet. */
	g_ep->ready = epoll_wait(ep, &out, 1, 0);
	t_chan_send(&g_epready, 'r');
	t0 = t_now_ns();
	g_ep->n = epoll_wait(ep, &out, 1, 10000);
	g_ep->ns = t_now_ns() - t0;
	g_ep->events = g_ep->n == 1 ? out.events : 0;
	close(ep);
	close(fd);
	return 0;
}

static void test_epoll(void)
{
	struct t_ring c, p, k;
	unsigned char buf[SS];
	pid_t pid;
	int i;

	t_diag("--- epoll across processes");
	g_ep = t_shared(sizeof(*g_ep));
	t_chan_init(&g_epready);
	for (i = 0; i < 2; i++) {
		const char *how = i ? "fast-path publish + WAKE" : "write()";

		g_epname = t_name(i ? "ep1" : "ep0");
		if (t_ring_new(&c, 0, 8, SS, 2, g_epname) ||
		    t_join(&p, g_epname, BB_ROLE_PRODUCER, BB_ID_ANY, 0)) {
			T_OK(0, "set up");
			return;
		}
		memset(g_ep, 0, sizeof(*g_ep));
		pid = t_spawn("epoll-consumer", 20, ep_child, (void *)(intptr_t)BB_ROLE_CONSUMER);
		T_OK(t_chan_recv(&g_epready, 10000) == 'r', "the epoll consumer is ready");
		T_EQ(g_ep->ready, 0, "its fd is not readable on an empty ring");
		t_sleep_ms(200);
		T_OK(bb_load(&c.v.hdr->consumer_waiters) >= 1,
		     "a consumer blocked in epoll_wait is announced in consumer_waiters (%u)",
		     bb_load(&c.v.hdr->consumer_waiters));
		if (i == 0) {
			fill_events(buf, 0, 1);
			T_EQ(write(p.fd, buf, SS), SS, "write() one event");
		} else {
			__u64 lo = 0;
			int need;

			T_EQ(t_fast_claim(&p, 1, &lo), 1, "fast-path claim");
			t_fill(bb_slot(&p.v, lo), SS, lo);
			bb_publish(&p.v, lo, 1);
			/* The protocol: WAKE only when need-wakeup says so. */
			need = bb_consumers_need_wake(&p.v);
			T_OK(need, "bb_consumers_need_wake() sees the epoll waiter");
			if (need)
				T_SYS(ioctl(p.fd, BB_IOC_WAKE, BB_WAKE_CONSUMERS), "WAKE(CONSUMERS)");
		}
		T_CHILD(pid, 15000, "the epoll consumer process (%s)", how);
		T_EQ(g_ep->n, 1, "epoll_wait in the other process returned 1 after a %s", how);
		T_OK(g_ep->events & EPOLLIN, "with EPOLLIN (0x%x)", g_ep->events);
		T_OK(g_ep->ns >= 100000000ull, "after blocking (%.1f ms)", g_ep->ns / 1e6);
		T_EQ(bb_load(&c.v.hdr->consumer_waiters), 0,
		     "consumer_waiters back to 0 once the epoll consumer is gone");
		t_ring_close(&p);
		t_ring_close(&c);
	}

	/* A producer's epoll wakes when the consumer reads or advances. */
	for (i = 0; i < 2; i++) {
		const char *how = i ? "fast-path advance + WAKE" : "read()";

		g_epname = t_name(i ? "ep3" : "ep2");
		if (t_ring_new(&c, 0, 4, SS, 2, g_epname) ||
		    t_join(&k, g_epname, BB_ROLE_CONSUMER, BB_ID_ANY, 0)) {
			T_OK(0, "set up");
			return;
		}
		memset(g_ep, 0, sizeof(*g_ep));
		pid = t_spawn("epoll-producer", 20, ep_child, (void *)(intptr_t)BB_ROLE_PRODUCER);
		T_OK(t_chan_recv(&g_epready, 10000) == 'r', "the epoll producer filled the ring");
		T_EQ(g_ep->ready, 0, "its fd is not writable on a full ring");
		T_EQ(revents(k.fd, POLLIN), POLLIN, "the consumer fd is readable");
		t_sleep_ms(200);
		T_OK(bb_load(&c.v.hdr->producer_waiters) >= 1,
		     "a producer blocked in epoll_wait is announced in producer_waiters (%u)",
		     bb_load(&c.v.hdr->producer_waiters));
		if (i == 0) {
			T_EQ(read(k.fd, buf, SS), SS, "the consumer read()s one event");
			T_OK(check_events(buf, 0, 1) == 0, "event 0's content");
		} else {
			__u32 wake;

			T_OK(t_check(bb_slot(&k.v, 0), SS, 0) == 0, "event 0's content (fast path)");
			wake = bb_consumer_advance(&k.v, k.self, k.id, 1);
			T_OK(wake & BB_WAKE_PRODUCERS,
			     "bb_consumer_advance() sees the epoll producer (0x%x)", wake);
			if (wake)
				T_SYS(ioctl(k.fd, BB_IOC_WAKE, (unsigned long)wake), "WAKE(0x%x)", wake);
		}
		T_CHILD(pid, 15000, "the epoll producer process (%s)", how);
		T_EQ(g_ep->n, 1, "the producer's epoll_wait returned 1 after a %s", how);
		T_OK(g_ep->events & EPOLLOUT, "with EPOLLOUT (0x%x)", g_ep->events);
		T_OK(g_ep->ns >= 100000000ull, "after blocking (%.1f ms)", g_ep->ns / 1e6);
		T_EQ(bb_load(&c.v.hdr->producer_waiters), 0,
		     "producer_waiters back to 0 once the epoll producer is gone");
		t_ring_close(&k);
		t_ring_close(&c);
	}
}

/* ------------------------------------------------------------------ */
/* poll, write(), read() in one process                                 */

static void test_rw(void)
{
	const char *name = t_name("rw");
	struct t_ring c, p, k, o;
	unsigned char buf[SS * 10], *edge;
	int u = t_open();
	__u64 cur;
	ssize_t r;

	t_diag("--- poll, write(), read()");
	if (t_ring_new(&c, 0, 8, SS, 2, name) ||
	    t_join(&k, name, BB_ROLE_CONSUMER, BB_ID_ANY, 0) ||
	    t_join(&o, name, BB_ROLE_OBSERVER, BB_ID_ANY, 0) ||
	    t_join(&p, name, BB_ROLE_PRODUCER, BB_ID_ANY, 0)) {
		T_OK(0, "set up");
		return;
	}
	edge = mmap(NULL, (size_t)g_page * 2, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* A no-access page, not an unmapped one a later mmap could reuse. */
	mprotect(edge + g_page, (size_t)g_page, PROT_NONE);

	/* Roles. */
	T_ERR(read(u, buf, SS), EBADFD, "read() on an unbound fd -> EBADFD");
	T_ERR(write(u, buf, SS), EBADFD, "write() on an unbound fd -> EBADFD");
	T_ERR(read(p.fd, buf, SS), EPERM, "read() by the producer -> EPERM");
	T_ERR(read(o.fd, buf, SS), EPERM, "read() by an observer -> EPERM");
	T_ERR(read(c.fd, buf, SS), EPERM, "read() by the creator (NONE) -> EPERM");
	T_ERR(write(k.fd, buf, SS), EPERM, "write() by a consumer -> EPERM");
	T_ERR(write(o.fd, buf, SS), EPERM, "write() by an observer -> EPERM");
	T_ERR(write(c.fd, buf, SS), EPERM, "write() by the creator (NONE) -> EPERM");

	/* poll on an empty ring. */
	T_EQ(revents(k.fd, POLLIN | POLLOUT), 0, "consumer: no POLLIN on an empty ring");
	T_EQ(revents(p.fd, POLLIN | POLLOUT), POLLOUT, "producer: POLLOUT with room");

	/* write() sizes. */
	fill_events(buf, 0, 10);
	T_ERR(write(p.fd, buf, 0), EINVAL, "write() 0 bytes -> EINVAL");
	T_ERR(write(p.fd, buf, SS - 1), EINVAL, "write() slot_size - 1 -> EINVAL");
	T_ERR(write(p.fd, buf, SS + 1), EINVAL, "write() slot_size + 1 -> EINVAL");
	T_ERR(write(p.fd, buf, SS * 2 + 8), EINVAL, "write() 2.125 events -> EINVAL");
	T_ERR(write(p.fd, g_null, SS), EFAULT, "write() from NULL -> EFAULT");
	T_ERR(write(p.fd, edge + g_page, SS), EFAULT, "write() from an unmapped page -> EFAULT");
	T_EQ(bb_load(&c.v.prod->cursor), 0, "nothing was published by the failed writes");
	T_EQ(bb_load(&c.v.prod->claim), 0, "nothing was claimed by the failed writes");
	T_EQ(revents(k.fd, POLLIN), 0, "the consumer still sees nothing");

	T_EQ(write(p.fd, buf, SS), SS, "write() one event");
	T_EQ(bb_load(&c.v.prod->cursor), 1, "cursor 1");
	T_EQ(revents(k.fd, POLLIN), POLLIN, "consumer: POLLIN after a write");
	T_EQ(write(p.fd, buf + SS, SS * 3), SS * 3, "write() three events at once");
	T_EQ(bb_load(&c.v.prod->cursor), 4, "cursor 4");
	/* A fault after two events: a short count. */
	fill_events(edge + g_page - 2 * SS, 4, 2);
	r = write(p.fd, edge + g_page - 2 * SS, SS * 3);
	T_CHECK(r == 2 * SS, t_fmt("got %zd errno %s", r, t_errname(r < 0 ? errno : 0)),
		"write() of 3 events whose third faults -> 2 events (short count)");
	T_EQ(bb_load(&c.v.prod->cursor), 6, "cursor 6: only the copied events were published");
	/* Full: 8 slots, consumer at 0. */
	set_nonblock(p.fd, 1);
	r = write(p.fd, buf + 6 * SS, SS * 4);
	T_CHECK(r == 2 * SS || (r == -1 && errno == EAGAIN),
		t_fmt("got %zd errno %s", r, t_errname(r < 0 ? errno : 0)),
		"O_NONBLOCK write() of 4 events with room for 2 -> 2 (short) or EAGAIN");
	if (r == -1) {
		T_EQ(write(p.fd, buf + 6 * SS, SS * 2), SS * 2, "write() the 2 that fit");
	}
	T_EQ(bb_load(&c.v.prod->cursor), 8, "cursor 8: the ring is full");
	T_ERR(write(p.fd, buf, SS), EAGAIN, "O_NONBLOCK write() on a full ring -> EAGAIN");
	T_EQ(revents(p.fd, POLLOUT), 0, "producer: no POLLOUT on a full ring");
	T_EQ(bb_load(&c.v.prod->cursor), 8, "the failed write published nothing");

	/* read() */
	T_ERR(read(k.fd, buf, 0), EINVAL, "read() into 0 bytes -> EINVAL");
	T_ERR(read(k.fd, buf, SS - 1), EINVAL, "read() into slot_size - 1 bytes -> EINVAL");
	T_ERR(read(k.fd, g_null, SS), EFAULT, "read() into NULL -> EFAULT");
	T_ERR(read(k.fd, edge + g_page, SS), EFAULT,
	      "read() into an unmapped page -> EFAULT");
	T_EQ(t_cons_seq(&k, k.id), 0, "failed reads consumed nothing");
	memset(buf, 0, sizeof(buf));
	T_EQ(read(k.fd, buf, SS * 3 + 10), SS * 3, "read() with room for 3.15 events -> 3 events");
	T_OK(check_events(buf, 0, 3) == 0, "events 0-2 intact and in order");
	T_EQ(t_cons_seq(&k, k.id), 3, "read() advanced the consumer's sequence to 3");
	T_EQ(revents(p.fd, POLLOUT), POLLOUT, "producer: POLLOUT again once the consumer read");
	/* A fault on the second event: a short read of one. */
	r = read(k.fd, edge + g_page - SS, SS * 2);
	T_CHECK(r == SS, t_fmt("got %zd errno %s", r, t_errname(r < 0 ? errno : 0)),
		"read() of 2 events whose second faults -> 1 event (short count)");
	T_OK(check_events(edge + g_page - SS, 3, 1) == 0, "event 3 intact");
	T_EQ(t_cons_seq(&k, k.id), 4, "consumer sequence 4: only the copied event was consumed");
	memset(buf, 0, sizeof(buf));
	T_EQ(read(k.fd, buf, sizeof(buf)), SS * 4, "read() the remaining 4 events");
	T_OK(check_events(buf, 4, 4) == 0, "events 4-7 intact and in order");
	T_EQ(revents(k.fd, POLLIN), 0, "consumer: no POLLIN once drained");
	set_nonblock(k.fd, 1);
	T_ERR(read(k.fd, buf, SS), EAGAIN, "O_NONBLOCK read() on an empty ring -> EAGAIN");
	set_nonblock(k.fd, 0);

	/* Halt. */
	set_nonblock(p.fd, 0);
	fill_events(buf, 8, 2);
	T_EQ(write(p.fd, buf, SS * 2), SS * 2, "write() events 8-9");
	T_SYS(ioctl(c.fd, BB_IOC_HALT, 0), "HALT");
	T_OK(revents(p.fd, POLLOUT) & POLLHUP, "producer: POLLHUP after HALT");
	T_OK(revents(k.fd, POLLIN) & POLLHUP, "consumer: POLLHUP after HALT");
	T_OK(revents(k.fd, POLLIN) & POLLIN, "consumer: still POLLIN while events remain");
	T_ERR(write(p.fd, buf, SS), ESHUTDOWN, "write() after HALT -> ESHUTDOWN");
	cur = bb_load(&c.v.prod->cursor);
	T_EQ(cur, 10, "cursor 10");
	memset(buf, 0, sizeof(buf));
	T_EQ(read(k.fd, buf, sizeof(buf)), SS * 2, "read() after HALT drains events 8-9");
	T_OK(check_events(buf, 8, 2) == 0, "events 8-9 intact");
	T_ERR(read(k.fd, buf, SS), ESHUTDOWN,
	      "blocking read() after HALT with nothing left -> ESHUTDOWN (does not block)");
	munmap(edge, (size_t)g_page * 2);
	close(u);
	t_ring_close(&p);
	t_ring_close(&o);
	t_ring_close(&k);
	t_ring_close(&c);
}

/* ------------------------------------------------------------------ */
/* Kernel-mediated batches seen by a fast-path consumer elsewhere       */

#define KM_EVENTS 20000ull

struct km_res {
	__u64 consumed, bad, first_bad, waits, wakes;
};

static struct km_res *g_km;
static const char *g_kmname;
static struct t_chan g_kmready;

static int km_consumer(void *arg)
{
	struct t_ring r;
	__u64 next = 0;
	int err = 0;

	(void)arg;
	if (t_join(&r, g_kmname, BB_ROLE_CONSUMER, BB_ID_ANY, 0))
		return 2;
	t_chan_send(&g_kmready, 'r');
	while (next < KM_EVENTS) {
		__u64 limit = t_fast_avail(&r, next, &err), s;

		if (!limit) {
			T_RC(err, 0, "wait at %llu", (unsigned long long)next);
			break;
		}
		for (s = next; s < limit; s++)
			if (t_check(bb_slot(&r.v, s), SS, s) && !g_km->bad++)
				g_km->first_bad = s;
		g_km->consumed += limit - next;
		next = limit;
		t_fast_advance(&r, next);
	}
	g_km->waits = r.waits;
	g_km->wakes = r.wakes;
	t_ring_close(&r);
	return 0;
}

static void test_kernel_mediated(void)
{
	struct t_ring c, p;
	unsigned char buf[SS * 16];
	__u64 sent = 0, rnd = 12345, t0;
	pid_t pid;
	int bad = 0;

	t_diag("--- BB_IOC_CLAIM/PUBLISH and write() batches, fast-path consumer");
	g_km = t_shared(sizeof(*g_km));
	g_kmname = t_name("km");
	t_chan_init(&g_kmready);
	if (t_ring_new(&c, 0, 64, SS, 2, g_kmname) ||
	    t_join(&p, g_kmname, BB_ROLE_PRODUCER, BB_ID_ANY, 0)) {
		T_OK(0, "set up");
		return;
	}
	pid = t_spawn("fast-consumer", 60, km_consumer, NULL);
	T_OK(t_chan_recv(&g_kmready, 10000) == 'r', "the fast-path consumer attached");
	t0 = t_now_ns();
	while (sent < KM_EVENTS && !bad) {
		__u32 n = 1 + (__u32)((rnd = t_mix(rnd)) % 16);
		__u64 seq = 0, s;
		int e;

		if (n > KM_EVENTS - sent)
			n = (__u32)(KM_EVENTS - sent);
		if (rnd & (1ull << 40)) {
			fill_events(buf, sent, n);
			if (write(p.fd, buf, (size_t)n * SS) != (ssize_t)(n * SS)) {
				T_OK(0, "write() %u events at %llu: %s", n,
				     (unsigned long long)sent, strerror(errno));
				bad = 1;
			}
		} else {
			e = t_claim_ioctl(p.fd, n, 0, 0, &seq);
			if (e || seq != sent) {
				T_CHECK(0, t_fmt("rc %s seq %llu", t_errname(-e),
						 (unsigned long long)seq),
					"CLAIM %u at %llu", n, (unsigned long long)sent);
				bad = 1;
				break;
			}
			for (s = seq; s < seq + n; s++)
				t_fill(bb_slot(&p.v, s), SS, s);
			e = t_publish_ioctl(p.fd, seq, n);
			if (e) {
				T_RC(e, 0, "PUBLISH [%llu, +%u)", (unsigned long long)seq, n);
				bad = 1;
			}
		}
		sent += n;
	}
	T_OK(!bad, "published %llu events in kernel-mediated batches of 1-16",
	     (unsigned long long)sent);
	T_CHILD(pid, 60000, "the fast-path consumer process (woken by the kernel alone)");
	t_diag("%.1f ms; consumer %llu waits, %llu wakes", (t_now_ns() - t0) / 1e6,
	       (unsigned long long)g_km->waits, (unsigned long long)g_km->wakes);
	T_EQ(g_km->consumed, KM_EVENTS, "the fast-path consumer saw every event");
	T_CHECK(g_km->bad == 0, t_fmt("%llu bad, first %llu", (unsigned long long)g_km->bad,
				      (unsigned long long)g_km->first_bad),
		"every event intact and in order");
	T_EQ(bb_load(&c.v.prod->cursor), KM_EVENTS, "the cursor");
	t_ring_close(&p);
	t_ring_close(&c);
}

int main(void)
{
	t_init("poll_rw", 120);
	g_page = sysconf(_SC_PAGESIZE);
	test_rw();
	test_epoll();
	test_kernel_mediated();
	return t_done();
}
