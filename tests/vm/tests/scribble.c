// SPDX-License-Identifier: GPL-2.0
/*
 * Lying participants: processes write garbage (random words, all-ones,
 * sequences going backwards, far-future sequences and rounds) into every
 * page they may map writable: a producer into the producer page (cursor,
 * claim), the avail[] words and the slots, a consumer into its own page,
 * while they keep calling the kernel (CLAIM, PUBLISH, WAIT, WAKE, read,
 * write, poll) on the same ring, and while other processes sleep on it
 * and two honest pairs move events through other rings.
 *
 * The kernel must not misbehave: every call returns a documented errno,
 * a WAIT or CLAIM with a deadline returns by it (plus slack), peers
 * asleep without a deadline wake with ESHUTDOWN when the ring halts,
 * the header stays as the kernel wrote it, STATS stays sane, the other
 * rings deliver exactly what was sent, and after everyone closes the
 * ring count and module refcount are back to their baseline (the runner
 * then unloads the module and checks the kernel log). One round with a
 * multi-producer victim ring, one with a single-producer one.
 */
#include <sys/time.h>
#include "harness.h"

#define SLOTS		64u
#define SS		64u
#define SCRIBBLE_MS	6000u
#define CTRL_EVENTS	20000u
#define SLACK_NS	3000000000ull	/* TCG under load */

struct shared {
	int stop;
	unsigned long calls, bad, late, scribbles;
	int bad_errno, bad_call;
};

static struct shared *g_sh;
static const char *g_victim, *g_ctrl_fast, *g_ctrl_rw;

static void on_sig(int sig)
{
	(void)sig;
}

static __u64 xr(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A lie about sequence cur: backwards, far ahead, all-ones, random. */
static __u64 lie64(__u64 *s, __u64 cur)
{
	switch (xr(s) % 8) {
	case 0: return ~0ull;
	case 1: return cur - 1 - xr(s) % 1000;
	case 2: return cur + (1ull << 40);
	case 3: return 0;
	case 4: return 1ull << 63;
	case 5: return cur + SLOTS * (1 + xr(s) % 4);
	case 6: return cur + 1;
	default: return xr(s);
	}
}

static __u32 lie32(__u64 *s, __u64 seq, __u32 shift)
{
	__u32 round = (__u32)(((seq >> shift) + 1) & BB_AVAIL_ROUND_MASK);

	switch (xr(s) % 7) {
	case 0: return 0xffffffffu;
	case 1: return round - 1;
	case 2: return round + 1 + (__u32)(xr(s) % 5);
	case 3: return round | BB_AVAIL_ABANDONED;
	case 4: return (round + 1000) | BB_AVAIL_ABANDONED;
	case 5: return 0;
	default: return (__u32)xr(s);
	}
}

/* A call returned: success or one of the documented errnos. */
static void check_rc(int call, long r, int e, const int *ok)
{
	__atomic_add_fetch(&g_sh->calls, 1, __ATOMIC_RELAXED);
	if (r >= 0)
		return;
	for (; *ok; ok++)
		if (*ok == e)
			return;
	if (__atomic_add_fetch(&g_sh->bad, 1, __ATOMIC_RELAXED) == 1) {
		g_sh->bad_errno = e;
		g_sh->bad_call = call;
	}
}

static const int ok_wait[] = { ETIMEDOUT, EINTR, ESHUTDOWN, 0 };
static const int ok_claim[] = { EAGAIN, ETIMEDOUT, EINTR, ESHUTDOWN, EBUSY,
				EINVAL, 0 };
static const int ok_publish[] = { EINVAL, EBUSY, EINTR, 0 };
static const int ok_rw[] = { EAGAIN, ESHUTDOWN, EINTR, 0 };
static const int ok_none[] = { 0 };

/* WAIT (consumer or producer) with a short deadline, timed. */
static void timed_wait(int fd, __u64 seq, __u64 *s)
{
	__u64 dl = t_now_ns() + 1000000ull * (xr(s) % 5);
	int r = t_wait_ioctl(fd, seq, dl, NULL);

	check_rc(1, r ? -1 : 0, -r, ok_wait);
	if (t_now_ns() > dl + SLACK_NS)
		__atomic_add_fetch(&g_sh->late, 1, __ATOMIC_RELAXED);
}

static int scribble_producer(void *arg)
{
	unsigned int k = (unsigned int)(uintptr_t)arg;
	__u64 s = 0x9e3779b97f4a7c15ull * (k + 1), seq, buf[SS / 8 * 4];
	struct t_ring p;
	struct bb_claim c;
	long r;
	__u32 i;

	if (t_join(&p, g_victim, BB_ROLE_PRODUCER, BB_ID_ANY, 0))
		return 2;
	fcntl(p.fd, F_SETFL, O_NONBLOCK);
	while (!__atomic_load_n(&g_sh->stop, __ATOMIC_RELAXED)) {
		__u64 cur = bb_load(&p.v.prod->claim);

		/* Lie through every writable word. */
		bb_store_release(&p.v.prod->cursor, lie64(&s, cur));
		if (xr(&s) % 2)
			bb_store_release(&p.v.prod->claim, lie64(&s, cur));
		if (p.v.multi)
			for (i = 0; i < 8; i++) {
				seq = cur + xr(&s) % (2 * SLOTS);
				bb_store_release(&p.v.avail[seq & p.v.mask],
						 lie32(&s, seq, p.v.shift));
			}
		memset(bb_slot(&p.v, xr(&s)), (int)(xr(&s) & 0xff), SS);
		__atomic_add_fetch(&g_sh->scribbles, 1, __ATOMIC_RELAXED);

		/* And keep using the kernel on top of the lies. */
		switch (xr(&s) % 6) {
		case 0:
			memset(&c, 0, sizeof(c));
			c.count = 1 + (__u32)(xr(&s) % SLOTS);
			c.flags = xr(&s) % 2 ? BB_CLAIMF_NONBLOCK :
					       BB_CLAIMF_DEADLINE;
			c.deadline_ns = t_now_ns() + 1000000ull * (xr(&s) % 4);
			r = ioctl(p.fd, BB_IOC_CLAIM, &c);
			check_rc(2, r, errno, ok_claim);
			if (c.flags & BB_CLAIMF_DEADLINE &&
			    t_now_ns() > c.deadline_ns + SLACK_NS)
				__atomic_add_fetch(&g_sh->late, 1,
						   __ATOMIC_RELAXED);
			if (!r && xr(&s) % 2) {
				r = t_publish_ioctl(p.fd, c.seq, c.count);
				check_rc(3, r ? -1 : 0, -(int)r, ok_publish);
			}
			break;
		case 1:
			r = t_publish_ioctl(p.fd, lie64(&s, cur),
					    1 + (__u32)(xr(&s) % SLOTS));
			check_rc(3, r ? -1 : 0, -(int)r, ok_publish);
			break;
		case 2:
			r = write(p.fd, buf, SS * (1 + xr(&s) % 4));
			check_rc(4, r, errno, ok_rw);
			break;
		case 3:
			timed_wait(p.fd, lie64(&s, cur), &s);
			break;
		case 4:
			r = ioctl(p.fd, BB_IOC_WAKE, BB_WAKE_ALL);
			check_rc(5, r, errno, ok_none);
			break;
		default: {
			struct pollfd pf = { .fd = p.fd, .events = POLLOUT };

			r = poll(&pf, 1, (int)(xr(&s) % 3));
			check_rc(6, r, errno, ok_wait);
			break;
		}
		}
	}
	t_ring_close(&p);
	return 0;
}

static int scribble_consumer(void *arg)
{
	unsigned int k = (unsigned int)(uintptr_t)arg;
	__u64 s = 0xc2b2ae3d27d4eb4full * (k + 1), buf[SS / 8 * 8];
	struct t_ring c;
	long r;

	/* Consumer 1 follows consumer 0: lies flow down the graph. */
	if (t_join(&c, g_victim, BB_ROLE_CONSUMER, k, k ? 1 : 0))
		return 2;
	fcntl(c.fd, F_SETFL, O_NONBLOCK);
	while (!__atomic_load_n(&g_sh->stop, __ATOMIC_RELAXED)) {
		__u64 cur = bb_load(c.self);

		bb_store_release(c.self, lie64(&s, cur));
		__atomic_add_fetch(&g_sh->scribbles, 1, __ATOMIC_RELAXED);
		switch (xr(&s) % 5) {
		case 0:
			r = read(c.fd, buf, sizeof(buf));
			check_rc(7, r, errno, ok_rw);
			break;
		case 1:
			timed_wait(c.fd, lie64(&s, cur), &s);
			break;
		case 2:
			r = ioctl(c.fd, BB_IOC_WAKE, xr(&s) % 8);
			check_rc(5, r, errno, ok_none);
			break;
		case 3: {
			struct pollfd pf = { .fd = c.fd, .events = POLLIN };

			r = poll(&pf, 1, (int)(xr(&s) % 3));
			check_rc(6, r, errno, ok_wait);
			break;
		}
		default:
			/* Consumer paths of the protocol over the lies. */
			(void)bb_consumer_limit(&c.v, c.id, bb_load(c.self),
						SLOTS);
			break;
		}
	}
	t_ring_close(&c);
	return 0;
}

/* Sleep without a deadline until the ring halts: ESHUTDOWN, promptly. */
static int sleeper(void *arg)
{
	int producer = arg != NULL;
	struct t_ring r;
	__u64 seq = 0;
	int e;

	if (t_join(&r, g_victim, producer ? BB_ROLE_PRODUCER :
		   BB_ROLE_CONSUMER, producer ? BB_ID_ANY : 2, 0))
		return 2;
	for (;;) {
		if (producer) {
			e = t_claim_ioctl(r.fd, SLOTS, 0, 0, &seq);
			if (!e)
				t_publish_ioctl(r.fd, seq, SLOTS);
		} else {
			e = t_wait_ioctl(r.fd, bb_load(r.self) + (1ull << 50),
					 0, NULL);
		}
		if (e == -ESHUTDOWN)
			break;
		if (e && e != -EBUSY && e != -EINTR) {
			t_diag("sleeper: %s", t_errname(-e));
			t_ring_close(&r);
			return 3;
		}
		/* Woken (or lied to): go back to sleep, gently. */
		t_sleep_ms(1);
	}
	t_ring_close(&r);
	return 0;
}

/* Honest pairs on other rings: every event arrives, intact, in order. */

/* Producers start once the consumer is there, or it would miss events. */
static int t_wait_nonzero_mask(struct t_ring *p)
{
	__u64 t0 = t_now_ns();

	while (!t_gating_mask(p)) {
		if (t_now_ns() - t0 > 20000000000ull)
			return -1;
		t_sleep_ms(1);
	}
	return 0;
}

static int wait_consumer(int fd)
{
	struct bb_stats st;
	__u64 t0 = t_now_ns();

	while (t_stats(fd, &st) || !st.nr_consumers) {
		if (t_now_ns() - t0 > 20000000000ull)
			return -1;
		t_sleep_ms(1);
	}
	return 0;
}

static int ctrl_fast_producer(void *arg)
{
	struct t_ring p;
	__u64 lo = 0, i, sent = 0;
	int n;

	if (t_join(&p, g_ctrl_fast, BB_ROLE_PRODUCER, BB_ID_ANY, 0))
		return 2;
	if (t_wait_nonzero_mask(&p))
		return 5;
	while (sent < CTRL_EVENTS) {
		n = t_fast_claim(&p, 8, &lo);
		if (n < 0)
			return 3;
		for (i = 0; i < (__u64)n; i++)
			t_fill(bb_slot(&p.v, lo + i), SS, lo + i);
		t_fast_publish(&p, lo, (__u32)n);
		sent += (__u64)n;
	}
	t_ring_close(&p);
	return 0;
}

static int ctrl_fast_consumer(void *arg)
{
	struct t_ring c;
	__u64 next = 0, limit;
	int err;

	if (t_join(&c, g_ctrl_fast, BB_ROLE_CONSUMER, 0, 0))
		return 2;
	while (next < CTRL_EVENTS) {
		limit = t_fast_avail(&c, next, &err);
		if (!limit)
			return 3;
		for (; next < limit; next++)
			if (t_check(bb_slot(&c.v, next), SS, next)) {
				t_diag("fast ring: event %llu corrupt",
				       (unsigned long long)next);
				return 4;
			}
		t_fast_advance(&c, next);
	}
	t_ring_close(&c);
	return 0;
}

static int ctrl_rw_producer(void *arg)
{
	unsigned char buf[SS * 16];
	__u64 sent = 0;
	unsigned int i;
	ssize_t n;
	int fd = t_open();

	if (t_attach(fd, BB_ROLE_PRODUCER, BB_ATTACH_NAME, -1, g_ctrl_rw,
		     BB_ID_ANY, 0, NULL))
		return 2;
	if (wait_consumer(fd))
		return 5;
	while (sent < CTRL_EVENTS) {
		for (i = 0; i < 16; i++)
			t_fill(buf + i * SS, SS, sent + i);
		n = write(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || n % SS) {
			t_diag("rw ring: write %zd %s", n, strerror(errno));
			return 3;
		}
		sent += (__u64)n / SS;
	}
	close(fd);
	return 0;
}

static int ctrl_rw_consumer(void *arg)
{
	unsigned char buf[SS * 16];
	__u64 got = 0;
	ssize_t n, i;
	int fd = t_open();

	if (t_attach(fd, BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, g_ctrl_rw, 0,
		     0, NULL))
		return 2;
	while (got < CTRL_EVENTS) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || n % SS) {
			t_diag("rw ring: read %zd %s", n, strerror(errno));
			return 3;
		}
		for (i = 0; i < n / (ssize_t)SS; i++, got++)
			if (t_check(buf + i * SS, SS, got)) {
				t_diag("rw ring: event %llu corrupt",
				       (unsigned long long)got);
				return 4;
			}
	}
	close(fd);
	return 0;
}

/*
 * A consumer that sets its own sequence at the very end of the sequence
 * space, where seq + max wraps, then reads blocking: the kernel must still
 * sleep or return, and a signal (or SIGKILL) must get it out. It used to
 * spin in read() forever, unkillable (a soft lockup).
 */
struct wrap_arg {
	const char *name;
	__u64 lie;
};

static int wrap_reader(void *arg)
{
	const struct wrap_arg *w = arg;
	struct sigaction sa;
	struct t_ring c;
	__u64 buf[SS / 8];
	unsigned int got = 0;
	ssize_t n;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;		/* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	if (t_join(&c, w->name, BB_ROLE_CONSUMER, 0, 0))
		return 2;
	bb_store_release(c.self, w->lie);
	/* What looks published below the end may be read, then it sleeps. */
	while ((n = read(c.fd, buf, sizeof(buf))) > 0 && ++got < 8)
		;
	if (n != -1 || errno != EINTR || got > ~0ull - w->lie) {
		t_diag("read = %zd %s after %u events", n, t_errname(errno),
		       got);
		return 3;
	}
	t_ring_close(&c);
	return 0;
}

static void test_self_wrap(__u32 flags, __u64 lie, int sig, const char *what)
{
	struct wrap_arg w = { t_name("wrap"), lie };
	struct t_ring v, p;
	pid_t pid;

	if (T_RC(t_ring_new(&v, flags, SLOTS, SS, 2, w.name), 0,
		 "%s: ring", what))
		return;
	/* A producer that lies its cursor up there too (single producer). */
	if (!flags && !T_RC(t_join(&p, w.name, BB_ROLE_PRODUCER, BB_ID_ANY, 0),
			    0, "%s: producer", what)) {
		bb_store_release(&p.v.prod->cursor, ~0ull);
	}
	pid = t_spawn("wrap-reader", 30, wrap_reader, &w);
	t_sleep_ms(300);
	kill(pid, sig);
	if (sig == SIGKILL)
		T_CHILD_SIG(pid, 5000, SIGKILL, "%s: SIGKILL ends the read", what);
	else
		T_CHILD(pid, 5000, "%s: a signal ends the read (EINTR)", what);
	if (!flags)
		t_ring_close(&p);
	t_ring_close(&v);
}

/* ------------------------------------------------------------------ */

static long read_long(const char *path)
{
	char buf[32] = "";
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f && fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static long rings_alive(void)
{
	struct bb_stats st;
	int fd = t_open();
	long n = -1;

	if (fd >= 0 && !t_create(fd, 0, 2, 8, 1, NULL, NULL) &&
	    !t_stats(fd, &st))
		n = (long)st.rings - 1;
	if (fd >= 0)
		close(fd);
	return n;
}

static void round_(__u32 flags, const char *what)
{
	struct t_ring v, cf, cr;
	struct bb_ring_header h0;
	struct bb_stats st;
	pid_t scr[4], slp[2], ctl[4];
	__u64 t0;
	int i, ok;

	memset(g_sh, 0, sizeof(*g_sh));
	g_victim = t_name(flags ? "victim-mp" : "victim-sp");
	g_ctrl_fast = t_name("ctrl-fast");
	g_ctrl_rw = t_name("ctrl-rw");
	if (T_RC(t_ring_new(&v, flags, SLOTS, SS, 4, g_victim), 0,
		 "%s: victim ring", what) ||
	    T_RC(t_ring_new(&cf, 0, 256, SS, 2, g_ctrl_fast), 0,
		 "%s: control ring (fast path)", what) ||
	    T_RC(t_ring_new(&cr, BB_RING_MULTI_PRODUCER, 128, SS, 2,
			    g_ctrl_rw), 0, "%s: control ring (read/write)",
		 what))
		return;
	memcpy(&h0, v.v.hdr, sizeof(h0));

	ctl[0] = t_spawn("ctrl-fast-c", 60, ctrl_fast_consumer, NULL);
	ctl[1] = t_spawn("ctrl-rw-c", 60, ctrl_rw_consumer, NULL);
	slp[0] = t_spawn("sleeper-c", 60, sleeper, NULL);
	/* Consumers first: the victim's consumer ids 0 and 1. */
	scr[0] = t_spawn("scribble-c0", 60, scribble_consumer, (void *)0);
	t_sleep_ms(50);
	scr[1] = t_spawn("scribble-c1", 60, scribble_consumer, (void *)1);
	scr[2] = t_spawn("scribble-p0", 60, scribble_producer, (void *)0);
	/* A single-producer ring takes one producer: the sleeper waits. */
	scr[3] = flags ? t_spawn("scribble-p1", 60, scribble_producer,
				 (void *)1) : -1;
	slp[1] = flags ? t_spawn("sleeper-p", 60, sleeper, (void *)1) : -1;
	ctl[2] = t_spawn("ctrl-fast-p", 60, ctrl_fast_producer, NULL);
	ctl[3] = t_spawn("ctrl-rw-p", 60, ctrl_rw_producer, NULL);

	t_sleep_ms(SCRIBBLE_MS / 2);
	ok = !t_stats(v.fd, &st);
	T_OK(ok && st.status == BB_STATUS_RUNNING &&
	     st.nr_producers == (flags ? 3u : 1u) && st.nr_consumers == 3 &&
	     st.waiters <= 6 && st.rings >= 3,
	     "%s: STATS mid-scribble: %u producers, %u consumers, %u waiters, %llu rings",
	     what, st.nr_producers, st.nr_consumers, st.waiters,
	     (unsigned long long)st.rings);
	t_sleep_ms(SCRIBBLE_MS / 2);

	for (i = 0; i < 4; i++)
		T_CHILD(ctl[i], 40000, "%s: honest pair %d on another ring: every event intact",
			what, i);
	T_SYS(ioctl(v.fd, BB_IOC_HALT), "%s: halt the victim ring", what);
	t0 = t_now_ns();
	T_CHILD(slp[0], 5000, "%s: a consumer asleep on the victim wakes with ESHUTDOWN",
		what);
	if (flags)
		T_CHILD(slp[1], 5000, "%s: a producer asleep in CLAIM wakes with ESHUTDOWN",
			what);
	t_diag("%s: sleepers out %llu ms after the halt", what,
	       (unsigned long long)(t_now_ns() - t0) / 1000000);
	g_sh->stop = 1;
	for (i = 0; i < 4; i++)
		if (scr[i] > 0)
			T_CHILD(scr[i], 10000, "%s: scribbler %d exits", what, i);
	t_diag("%s: %lu scribbles, %lu calls", what, g_sh->scribbles,
	       g_sh->calls);
	T_CHECK(!g_sh->bad, t_fmt("%lu bad, first call %d errno %s", g_sh->bad,
				  g_sh->bad_call, t_errname(g_sh->bad_errno)),
		"%s: every call over the lies returned a documented errno", what);
	T_EQ(g_sh->late, 0, "%s: every deadline was kept", what);
	T_OK(!memcmp(&h0, v.v.hdr, offsetof(struct bb_ring_header, status)),
	     "%s: the header's geometry is as the kernel wrote it", what);
	ok = !t_stats(v.fd, &st);
	T_OK(ok && st.status == BB_STATUS_HALTED && st.nr_producers == 0 &&
	     st.nr_consumers == 0 && st.waiters == 0,
	     "%s: STATS after: halted, nobody attached, nobody waiting (%u/%u/%u)",
	     what, st.nr_producers, st.nr_consumers, st.waiters);
	T_EQ(bb_load(&v.v.hdr->status), BB_STATUS_HALTED,
	     "%s: the header says halted", what);
	T_EQ(t_gating_mask(&v), 0, "%s: no gating consumer left", what);
	t_ring_close(&v);
	t_ring_close(&cf);
	t_ring_close(&cr);
}

int main(void)
{
	long base, ref, rings = -1, ref2 = -1;
	int i;

	t_init("scribble", 110);
	g_sh = t_shared(sizeof(*g_sh));
	signal(SIGUSR1, on_sig);
	base = rings_alive();
	ref = read_long("/sys/module/badbatch/refcnt");
	T_OK(base >= 0, "baseline: %ld rings, refcount %ld", base, ref);
	test_self_wrap(BB_RING_MULTI_PRODUCER, ~0ull, SIGUSR1,
		       "multi-producer, own sequence ~0");
	test_self_wrap(BB_RING_MULTI_PRODUCER, ~0ull - 3, SIGKILL,
		       "multi-producer, own sequence ~0 - 3");
	test_self_wrap(0, ~0ull - 3, SIGUSR1,
		       "single-producer, cursor ~0, own sequence ~0 - 3");
	round_(BB_RING_MULTI_PRODUCER, "multi-producer");
	round_(0, "single-producer");
	for (i = 0; i < 200; i++) {
		rings = rings_alive();
		ref2 = read_long("/sys/module/badbatch/refcnt");
		if (rings == base && ref2 == ref)
			break;
		t_sleep_ms(10);
	}
	T_EQ(rings, base, "every ring is gone after the last close");
	T_EQ(ref2, ref, "the module refcount is back to its baseline");
	return t_done();
}
