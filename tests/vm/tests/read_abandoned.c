// SPDX-License-Identifier: GPL-2.0
/*
 * read() over abandoned events: a producer that publishes only abandoned
 * slots (through its own mapping, as a dying or lying producer may) must
 * not keep a reader in the kernel:
 *   - O_NONBLOCK: the reader skips what is there, advances past it and
 *     gets EAGAIN once nothing readable remains;
 *   - blocking: a signal without SA_RESTART ends the read with EINTR, and
 *     SIGKILL ends the reader promptly, while a lying producer keeps the
 *     reader's next events published-and-abandoned the whole time (the
 *     kernel used to loop skipping them until the producer stopped);
 *   - real events after abandoned ones are read.
 */
#include <pthread.h>
#include "harness.h"

#define SLOTS 4096u
#define SS 8u
#define READ_EVENTS (SLOTS / 4)	/* a quarter ring per pass */

static volatile int g_stop;

static void on_usr1(int sig)
{
	(void)sig;
}

/*
 * A lying producer: without claiming anything, keep the availability
 * words of the reader's next ring of events marked published and
 * abandoned, so that the reader never runs out of events to skip.
 */
static void *liar(void *arg)
{
	struct t_ring *p = arg;
	unsigned long rounds = 0;
	__u64 hi = 0;

	while (!g_stop) {
		__u64 s = t_cons_seq(p, 1);

		if (hi < s)
			hi = s;
		for (; hi < s + SLOTS; hi++)
			bb_store_release(&p->v.avail[hi & p->v.mask],
					 bb_avail_round(&p->v, hi) |
					 BB_AVAIL_ABANDONED);
		if (bb_consumers_need_wake(&p->v))
			ioctl(p->fd, BB_IOC_WAKE, BB_WAKE_CONSUMERS);
		rounds++;
	}
	t_diag("liar: %lu rounds, reader at %llu", rounds,
	       (unsigned long long)t_cons_seq(p, 1));
	return NULL;
}

static int blocking_reader(void *arg)
{
	const char *name = arg;
	struct sigaction sa;
	static __u64 buf[READ_EVENTS];
	ssize_t n;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;	/* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	fd = t_open();
	if (t_attach(fd, BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, name, 1, 0,
		     NULL))
		return 2;
	n = read(fd, buf, sizeof(buf));
	if (n != -1 || errno != EINTR) {
		t_diag("read = %zd errno %s", n, t_errname(errno));
		return 3;
	}
	return 0;
}

static void test_nonblock(void)
{
	struct t_ring c, p, k;
	const char *name = t_name("nb");
	__u64 lo, buf[16];
	int fl;

	if (T_RC(t_ring_new(&c, BB_RING_MULTI_PRODUCER, 64, SS, 4, name), 0,
		 "multi-producer ring"))
		return;
	T_RC(t_join(&k, name, BB_ROLE_CONSUMER, 0, 0), 0, "consumer");
	T_RC(t_join(&p, name, BB_ROLE_PRODUCER, BB_ID_ANY, 0), 0, "producer");
	fl = fcntl(k.fd, F_GETFL);
	fcntl(k.fd, F_SETFL, fl | O_NONBLOCK);
	T_RC(bb_try_claim(&p.v, &p.pc, 64, &lo), 0, "claim the whole ring");
	bb_publish_abandoned(&p.v, lo, 64);
	T_ERR(read(k.fd, buf, sizeof(buf)), EAGAIN,
	      "a ring full of abandoned events: EAGAIN");
	T_EQ(t_cons_seq(&k, 0), 64, "the reader advanced past all of them");
	T_RC(bb_try_claim(&p.v, &p.pc, 3, &lo), 0, "claim 3 more");
	bb_publish_abandoned(&p.v, lo, 1);
	*(__u64 *)bb_slot(&p.v, lo + 1) = 0x1111;
	*(__u64 *)bb_slot(&p.v, lo + 2) = 0x2222;
	bb_publish(&p.v, lo + 1, 2);
	T_EQ(read(k.fd, buf, sizeof(buf)), 2 * SS,
	     "abandoned then two events: the two are read");
	T_OK(buf[0] == 0x1111 && buf[1] == 0x2222, "with their contents");
	T_ERR(read(k.fd, buf, sizeof(buf)), EAGAIN, "then EAGAIN");
	t_ring_close(&p);
	t_ring_close(&k);
	t_ring_close(&c);
}

static void test_blocking(int sig)
{
	struct t_ring c, p;
	const char *name = t_name(sig == SIGKILL ? "kill" : "intr");
	pthread_t th;
	__u64 t0;
	pid_t pid;

	if (T_RC(t_ring_new(&c, BB_RING_MULTI_PRODUCER, SLOTS, SS, 4, name), 0,
		 "ring of %u slots", SLOTS))
		return;
	T_RC(t_join(&p, name, BB_ROLE_PRODUCER, BB_ID_ANY, 0), 0, "producer");
	pid = t_spawn("reader", 20, blocking_reader, (void *)name);
	/* Wait for the reader to attach (it gates the producer from then). */
	t0 = t_now_ns();
	while (!(t_gating_mask(&c) & 2) && t_now_ns() - t0 < 5000000000ull)
		t_sleep_ms(1);
	T_OK(t_gating_mask(&c) & 2, "the reader attached");
	g_stop = 0;
	pthread_create(&th, NULL, liar, &p);
	t_sleep_ms(500);
	t0 = t_now_ns();
	kill(pid, sig);
	if (sig == SIGKILL)
		T_CHILD_SIG(pid, 5000, SIGKILL,
			    "SIGKILL ends a reader skipping abandoned events");
	else
		T_CHILD(pid, 5000,
			"a signal ends a reader skipping abandoned events (EINTR)");
	t_diag("the reader ended %llu us after the signal",
	       (unsigned long long)(t_now_ns() - t0) / 1000);
	g_stop = 1;
	pthread_join(th, NULL);
	t_ring_close(&p);
	t_ring_close(&c);
}

int main(void)
{
	t_init("read_abandoned", 60);
	test_nonblock();
	test_blocking(SIGUSR1);
	test_blocking(SIGKILL);
	return t_done();
}
