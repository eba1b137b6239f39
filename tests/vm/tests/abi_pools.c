// SPDX-License-Identifier: GPL-2.0
/*
 * The two ABI features of docs/abi.md added after the first version:
 *
 *  - work pools: BB_ATTACH_POOL with each of SELF/FD/NAME, its argument
 *    checks (EINVAL), the pools region in BB_IOC_INFO (consumers only),
 *    its mapping (consumers writable, others EINVAL), its memory in STATS,
 *    the kernel-kept member counts (attach, close, SIGKILL) and the start
 *    of an empty pool at 1 + the first member's start sequence;
 *  - BB_IOC_FAIL: argument and role checks with their errnos, the record
 *    in the mapped header and in STATS, first record wins (FAIL after
 *    FAIL or HALT: ESHUTDOWN), blocked producers and consumers woken with
 *    ESHUTDOWN, and racing FAILs leaving one consistent record.
 */
#include "harness.h"

static long g_page;

static int xopen(void)
{
	int fd = t_open();

	if (fd < 0) {
		printf("Bail out! open %s: %s\n", BB_DEVICE_PATH, strerror(errno));
		exit(1);
	}
	return fd;
}

/* BB_IOC_ATTACH with everything spelled out: 0 or -errno. */
static int pattach(int fd, __u32 role, __u32 flags, int ring_fd,
		   const char *name, __u32 pool, __u32 *id)
{
	struct bb_attach a;

	t_attach_args(&a, role, flags, ring_fd,
		      (flags & BB_ATTACH_NAME) ? name : NULL, BB_ID_ANY, 0);
	a.pool = pool;
	if (ioctl(fd, BB_IOC_ATTACH, &a) != 0)
		return -errno;
	if (id)
		*id = a.consumer_id;
	return 0;
}

/* Open and attach a pool worker by name. fd or -errno. */
static int worker(const char *name, __u32 pool)
{
	int fd = xopen();
	int e = pattach(fd, BB_ROLE_CONSUMER, BB_ATTACH_NAME | BB_ATTACH_POOL,
			-1, name, pool, NULL);

	if (e) {
		close(fd);
		return e;
	}
	return fd;
}

/* The pools page of consumer fd, mapped read-write. */
static struct bb_pool_entry *map_pools(int fd)
{
	struct bb_info in;

	if (t_info(fd, &in) || !in.pools_len)
		return NULL;
	return t_map_region(fd, in.pools_off, in.pools_len,
			    PROT_READ | PROT_WRITE);
}

static __u32 members(const struct bb_pool_entry *p, int pool)
{
	return __atomic_load_n(&p[pool].members, __ATOMIC_ACQUIRE);
}

static int members_settle(const struct bb_pool_entry *p, int pool,
			  __u32 want)
{
	int i;

	for (i = 0; i < 200 && members(p, pool) != want; i++)
		t_sleep_ms(10);
	return members(p, pool) == want;
}

/* Publish n events through the kernel (producer fd). */
static int publish(int pfd, __u32 n)
{
	__u64 seq = 0;
	int e = t_claim_ioctl(pfd, n, BB_CLAIMF_NONBLOCK, 0, &seq);

	return e ? e : t_publish_ioctl(pfd, seq, n);
}

/* ------------------------------------------------------------------ */
/* Pools: arguments                                                     */

static void test_pool_args(void)
{
	const char *name = t_name("pargs");
	struct bb_stats st0, st;
	struct bb_attach a;
	struct t_ring c;
	__u32 id = 0;
	int fd, self;

	t_diag("--- BB_ATTACH_POOL: arguments");
	if (t_ring_new(&c, 0, 16, 64, 8, name)) {
		T_OK(0, "create the pool ring");
		return;
	}
	T_SYS(t_stats(c.fd, &st0), "STATS before");
	fd = xopen();
	T_RC(pattach(fd, BB_ROLE_CONSUMER, BB_ATTACH_POOL, -1, NULL, 0, NULL),
	     -EINVAL, "ATTACH flags POOL alone -> EINVAL");
	T_RC(pattach(fd, BB_ROLE_CONSUMER, BB_ATTACH_POOL | BB_ATTACH_NAME |
		     BB_ATTACH_FD, c.fd, name, 0, NULL),
	     -EINVAL, "ATTACH POOL|NAME|FD -> EINVAL");
	T_RC(pattach(fd, BB_ROLE_PRODUCER, BB_ATTACH_POOL | BB_ATTACH_NAME, -1,
		     name, 0, NULL),
	     -EINVAL, "ATTACH POOL for a producer -> EINVAL");
	T_RC(pattach(fd, BB_ROLE_OBSERVER, BB_ATTACH_POOL | BB_ATTACH_NAME, -1,
		     name, 0, NULL),
	     -EINVAL, "ATTACH POOL for an observer -> EINVAL");
	T_RC(pattach(fd, BB_ROLE_CONSUMER, BB_ATTACH_POOL | BB_ATTACH_NAME, -1,
		     name, BB_MAX_POOLS, NULL),
	     -EINVAL, "ATTACH POOL pool=64 -> EINVAL");
	T_RC(pattach(fd, BB_ROLE_CONSUMER, BB_ATTACH_POOL | BB_ATTACH_NAME, -1,
		     name, 0xffffffffu, NULL),
	     -EINVAL, "ATTACH POOL pool=0xffffffff -> EINVAL");
	T_RC(pattach(fd, BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, name, 1, NULL),
	     -EINVAL, "ATTACH consumer pool=1 without POOL -> EINVAL");
	T_RC(pattach(fd, BB_ROLE_PRODUCER, BB_ATTACH_NAME, -1, name, 63, NULL),
	     -EINVAL, "ATTACH producer pool=63 without POOL -> EINVAL");
	t_attach_args(&a, BB_ROLE_CONSUMER, BB_ATTACH_NAME | BB_ATTACH_POOL, -1,
		      name, BB_ID_ANY, 0);
	a.reserved32 = 1;
	T_ERR(ioctl(fd, BB_IOC_ATTACH, &a), EINVAL,
	      "ATTACH POOL with reserved32 nonzero -> EINVAL");
	a.reserved32 = 0;
	a.reserved[0] = 1;
	T_ERR(ioctl(fd, BB_IOC_ATTACH, &a), EINVAL,
	      "ATTACH POOL with reserved[0] nonzero -> EINVAL");
	T_SYS(t_stats(c.fd, &st), "STATS after the refused attaches");
	T_EQ(st.nr_consumers, st0.nr_consumers, "no consumer was added");
	T_EQ(st.gating_mask, st0.gating_mask, "gating mask unchanged");
	T_ERR(ioctl(fd, BB_IOC_INFO, &c.info), EBADFD, "the fd is still unbound");

	/* Each source with POOL works. */
	T_RC(pattach(fd, BB_ROLE_CONSUMER, BB_ATTACH_POOL | BB_ATTACH_NAME, -1,
		     name, 63, &id), 0, "ATTACH POOL|NAME pool 63");
	close(fd);
	fd = xopen();
	T_RC(pattach(fd, BB_ROLE_CONSUMER, BB_ATTACH_POOL | BB_ATTACH_FD, c.fd,
		     NULL, 0, &id), 0, "ATTACH POOL|FD pool 0");
	close(fd);
	self = xopen();
	T_RC(t_create(self, 0, 8, 8, 2, NULL, NULL), 0, "create an unnamed ring");
	T_RC(pattach(self, BB_ROLE_CONSUMER, BB_ATTACH_POOL | BB_ATTACH_SELF, -1,
		     NULL, 7, &id), 0, "ATTACH POOL|SELF pool 7 on the creator's fd");
	{
		struct bb_pool_entry *p = map_pools(self);

		T_OK(p != NULL, "the self-attached worker maps its pools page");
		if (p) {
			T_EQ(members(p, 7), 1, "pool 7 has the creator as member");
			T_EQ(p[7].next, 1, "pool 7 next = 1 + start 0");
			munmap(p, (size_t)g_page);
		}
	}
	close(self);
	t_ring_close(&c);
}

/* ------------------------------------------------------------------ */
/* Pools: the region                                                     */

static void test_pool_region(void)
{
	const char *name = t_name("preg");
	struct t_ring c, p, o, k;
	struct bb_info in;
	struct bb_stats st;
	struct bb_pool_entry *m1, *m2;
	__u64 off, len;
	int w;
	void *x;

	t_diag("--- the pools region: INFO, mmap, memory");
	if (t_ring_new(&c, 0, 8, 64, 4, name) ||
	    t_join(&p, name, BB_ROLE_PRODUCER, BB_ID_ANY, 0) ||
	    t_join(&o, name, BB_ROLE_OBSERVER, BB_ID_ANY, 0) ||
	    t_join(&k, name, BB_ROLE_CONSUMER, BB_ID_ANY, 0)) {
		T_OK(0, "set up the region ring");
		return;
	}
	w = worker(name, 2);
	T_OK(w >= 0, "a worker of pool 2 attaches");
	T_SYS(t_info(w, &in), "INFO of the worker");
	off = in.pools_off;
	len = in.pools_len;
	T_EQ(len, (__u64)g_page, "worker: pools_len is one page");
	T_OK(len >= BB_MAX_POOLS * sizeof(struct bb_pool_entry),
	     "pools_len holds BB_MAX_POOLS entries");
	T_OK(off && off % (__u64)g_page == 0, "pools_off page-aligned (0x%llx)",
	     (unsigned long long)off);
	T_OK(off >= in.slots_off + in.slots_len, "the pools region is after the slots");
	T_EQ(k.info.pools_off, off, "a consumer outside any pool: same pools_off");
	T_EQ(k.info.pools_len, len, "a consumer outside any pool: same pools_len");
	T_EQ(p.info.pools_off, 0, "producer: pools_off 0");
	T_EQ(p.info.pools_len, 0, "producer: pools_len 0");
	T_EQ(o.info.pools_off + o.info.pools_len, 0, "observer: pools 0/0");
	T_EQ(c.info.pools_off + c.info.pools_len, 0, "creator: pools 0/0");

	/* Mapping it. */
	m1 = t_map_region(w, off, len, PROT_READ | PROT_WRITE);
	T_OK(m1 != NULL, "worker maps the pools region read-write, shared");
	m2 = t_map_region(k.fd, off, len, PROT_READ | PROT_WRITE);
	T_OK(m2 != NULL, "a plain consumer maps it read-write too");
	if (m1 && m2) {
		T_EQ(members(m2, 2), 1, "pool 2 members 1, seen by the other consumer");
		T_EQ(m2[2].next, 1, "pool 2 next 1 (empty ring)");
		__atomic_store_n(&m1[9].halted, 0x5a5a, __ATOMIC_RELEASE);
		T_EQ(__atomic_load_n(&m2[9].halted, __ATOMIC_ACQUIRE), 0x5a5a,
		     "a write through one mapping is seen through the other");
		__atomic_store_n(&m1[9].halted, 0, __ATOMIC_RELEASE);
	}
	T_MAPERR(mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, p.fd, (off_t)off),
		 EINVAL, "producer maps the pools region read-only -> EINVAL");
	T_MAPERR(mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, p.fd,
		      (off_t)off), EINVAL,
		 "producer maps the pools region read-write -> EINVAL");
	T_MAPERR(mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, o.fd, (off_t)off),
		 EINVAL, "observer maps the pools region -> EINVAL");
	T_MAPERR(mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, c.fd, (off_t)off),
		 EINVAL, "creator maps the pools region -> EINVAL");
	T_MAPERR(mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_PRIVATE, w,
		      (off_t)off), EINVAL, "worker maps it MAP_PRIVATE -> EINVAL");
	T_MAPERR(mmap(NULL, (size_t)len + (size_t)g_page, PROT_READ, MAP_SHARED, w,
		      (off_t)off), EINVAL, "worker maps it one page too long -> EINVAL");
	T_MAPERR(mmap(NULL, (size_t)len, PROT_READ | PROT_EXEC, MAP_SHARED, w,
		      (off_t)off), EPERM, "worker maps it executable -> EPERM");
	x = t_map_region(w, off, len, PROT_READ);
	T_OK(x != NULL, "worker maps it read-only too");
	if (x) {
		T_SYS(mprotect(x, (size_t)len, PROT_READ | PROT_WRITE),
		      "... and may mprotect it writable");
		munmap(x, (size_t)len);
	}

	/* One more page of memory: [hdr][prod][4 consumers][slots][pools]. */
	T_SYS(t_stats(c.fd, &st), "STATS");
	T_EQ(st.bytes, 8 * (__u64)g_page,
	     "STATS bytes = 8 pages (header, producer, 4 consumers, slots, pools)");
	if (m1)
		munmap(m1, (size_t)len);
	if (m2)
		munmap(m2, (size_t)len);
	close(w);
	t_ring_close(&k);
	t_ring_close(&o);
	t_ring_close(&p);
	t_ring_close(&c);
}

/* ------------------------------------------------------------------ */
/* Pools: members and the start                                          */

static const char *g_kill_name;
static struct t_chan g_kill_chan;

static int kill_child(void *arg)
{
	int fd = worker(g_kill_name, 7);

	(void)arg;
	if (fd < 0) {
		t_diag("worker attach: %s", strerror(-fd));
		return 1;
	}
	t_chan_send(&g_kill_chan, 'a');
	for (;;)
		pause();
	return 0;
}

static void test_pool_members(void)
{
	const char *name = t_name("pmem");
	struct t_ring c, p, k, wt;
	struct bb_pool_entry *pl, *ma;
	int a, b, x, d;
	pid_t pid;

	t_diag("--- pool members and start");
	if (t_ring_new(&c, 0, 16, 64, 8, name) ||
	    t_join(&p, name, BB_ROLE_PRODUCER, BB_ID_ANY, 0) ||
	    t_join(&k, name, BB_ROLE_CONSUMER, BB_ID_ANY, 0)) {
		T_OK(0, "set up the members ring");
		return;
	}
	/* 10 events published and consumed: a new consumer starts at 10. */
	T_RC(publish(p.fd, 10), 0, "publish 10 events");
	bb_consumer_advance(&k.v, k.self, k.id, 10);
	if (t_join(&wt, name, BB_ROLE_CONSUMER, BB_ID_ANY, 0)) {
		T_OK(0, "a watching consumer");
		return;
	}
	T_EQ(*wt.self, 10, "a consumer attached now starts at 10");
	pl = map_pools(wt.fd);
	if (!T_OK(pl != NULL, "the watcher maps the pools page"))
		return;
	T_EQ(members(pl, 3), 0, "pool 3 starts empty");
	T_EQ(pl[3].next, 0, "pool 3 next 0 before any member");

	a = worker(name, 3);
	T_OK(a >= 0, "worker A joins pool 3");
	T_EQ(members(pl, 3), 1, "pool 3 members 1");
	T_EQ(__atomic_load_n(&pl[3].next, __ATOMIC_ACQUIRE), 11,
	     "the first member set next = 1 + its start 10");
	T_EQ(pl[3].halted, 0, "halted 0");
	ma = map_pools(a);
	T_OK(ma != NULL, "A maps the pools page");

	/* User space owns next and halted: the kernel leaves them alone. */
	__atomic_store_n(&pl[3].next, 999, __ATOMIC_RELEASE);
	__atomic_store_n(&pl[3].halted, 1, __ATOMIC_RELEASE);
	b = worker(name, 3);
	T_OK(b >= 0, "worker B joins pool 3");
	T_EQ(members(pl, 3), 2, "pool 3 members 2");
	T_EQ(pl[3].next, 999, "a second member leaves next alone");
	T_EQ(pl[3].halted, 1, "a second member leaves halted alone");
	x = worker(name, 5);
	T_OK(x >= 0, "worker X joins pool 5");
	T_EQ(members(pl, 5), 1, "pool 5 members 1");
	T_EQ(members(pl, 3), 2, "pool 3 still 2");
	/* A scribbled count is not the kernel's: the next change rewrites it. */
	__atomic_store_n(&pl[5].members, 77, __ATOMIC_RELEASE);
	close(x);
	T_OK(members_settle(pl, 5, 0), "X closed: pool 5 members 0 (kernel count, not 77-1)");

	close(b);
	T_OK(members_settle(pl, 3, 1), "B closed: pool 3 members 1");
	if (ma)
		munmap(ma, (size_t)g_page);
	close(a);
	T_OK(members_settle(pl, 3, 0), "A closed: pool 3 members 0");
	T_EQ(pl[3].next, 999, "leaving does not touch next");

	/* Empty again: the next first member restarts the pool. */
	T_RC(publish(p.fd, 2), 0, "publish 2 more (cursor 12)");
	bb_consumer_advance(&k.v, k.self, k.id, 12);
	bb_consumer_advance(&wt.v, wt.self, wt.id, 12);
	d = worker(name, 3);
	T_OK(d >= 0, "worker D joins the empty pool 3");
	T_EQ(members(pl, 3), 1, "pool 3 members 1");
	T_EQ(__atomic_load_n(&pl[3].next, __ATOMIC_ACQUIRE), 13,
	     "next = 1 + D's start 12");
	T_EQ(pl[3].halted, 0, "the first member cleared halted");

	/* A worker process killed by SIGKILL leaves its pool. */
	g_kill_name = name;
	t_chan_init(&g_kill_chan);
	pid = t_spawn("pool-worker", 30, kill_child, NULL);
	T_EQ(t_chan_recv(&g_kill_chan, 10000), 'a', "a worker process joined pool 7");
	T_EQ(members(pl, 7), 1, "pool 7 members 1");
	T_EQ(pl[7].next, 13, "pool 7 next = 1 + 12");
	kill(pid, SIGKILL);
	T_CHILD_SIG(pid, 10000, SIGKILL, "the worker process died by SIGKILL");
	T_OK(members_settle(pl, 7, 0), "its death left pool 7 with 0 members");
	T_EQ(members(pl, 3), 1, "pool 3 keeps D");
	close(g_kill_chan.r);
	close(g_kill_chan.w);

	close(d);
	T_OK(members_settle(pl, 3, 0), "D closed: pool 3 members 0");
	munmap(pl, (size_t)g_page);
	t_ring_close(&wt);
	t_ring_close(&k);
	t_ring_close(&p);
	t_ring_close(&c);
}

/* ------------------------------------------------------------------ */
/* BB_IOC_FAIL                                                           */

static int do_fail(int fd, __u64 seq, __s32 error)
{
	struct bb_fail f;

	memset(&f, 0, sizeof(f));
	f.seq = seq;
	f.error = error;
	return ioctl(fd, BB_IOC_FAIL, &f) ? -errno : 0;
}

/* The record in the header (status acquired first) and in STATS. */
static void check_record(const struct t_ring *r, int fd, __u64 seq,
			 __s32 error, __u32 by, const char *what)
{
	const struct bb_ring_header *h = r->v.hdr;
	struct bb_stats st;

	T_EQ(__atomic_load_n(&h->status, __ATOMIC_ACQUIRE), BB_STATUS_HALTED,
	     "%s: header status HALTED", what);
	T_EQ(h->fail_seq, seq, "%s: header fail_seq", what);
	T_EQ(h->fail_error, error, "%s: header fail_error", what);
	T_EQ(h->fail_by, by, "%s: header fail_by", what);
	T_SYS(t_stats(fd, &st), "%s: STATS", what);
	T_EQ(st.status, BB_STATUS_HALTED, "%s: STATS status", what);
	T_EQ(st.fail_seq, seq, "%s: STATS fail_seq", what);
	T_EQ(st.fail_error, error, "%s: STATS fail_error", what);
	T_EQ(st.fail_by, by, "%s: STATS fail_by", what);
}

static int g_block_fd;

static int blocked_claim(void *arg)
{
	__u64 seq = 0;
	int e = t_claim_ioctl(g_block_fd, 1, 0, 0, &seq);

	(void)arg;
	return e == -ESHUTDOWN ? 0 : 10 + (e < 0 ? -e : e);
}

static int blocked_wait(void *arg)
{
	int e = t_wait_ioctl(g_block_fd, 100, 0, NULL);

	(void)arg;
	return e == -ESHUTDOWN ? 0 : 10 + (e < 0 ? -e : e);
}

static void test_fail(void)
{
	const char *name = t_name("fail");
	struct t_ring c, p, k, o;
	struct bb_stats st;
	struct bb_fail f;
	__u64 fseq = 0;
	pid_t pc, pw;
	int u, i;

	t_diag("--- BB_IOC_FAIL");
	T_EQ(BB_IOC_FAIL, _IOC(_IOC_WRITE, 0xBB, 0x0a, sizeof(struct bb_fail)),
	     "BB_IOC_FAIL is _IOW(0xBB, 0x0a, struct bb_fail)");
	if (t_ring_new(&c, 0, 4, 8, 4, name) ||
	    t_join(&p, name, BB_ROLE_PRODUCER, BB_ID_ANY, 0) ||
	    t_join(&k, name, BB_ROLE_CONSUMER, 2, 0) ||
	    t_join(&o, name, BB_ROLE_OBSERVER, BB_ID_ANY, 0)) {
		T_OK(0, "set up the FAIL ring");
		return;
	}
	T_EQ(c.v.hdr->fail_error, 0, "no failure recorded at creation");
	T_EQ(c.v.hdr->fail_by, BB_ID_ANY, "header fail_by BB_ID_ANY at creation");
	T_SYS(t_stats(c.fd, &st), "STATS");
	T_EQ(st.fail_error, 0, "STATS fail_error 0");
	T_EQ(st.fail_by, BB_ID_ANY, "STATS fail_by BB_ID_ANY");

	u = xopen();
	T_RC(do_fail(u, 1, EIO), -EBADFD, "FAIL on an unbound fd -> EBADFD");
	T_RC(do_fail(o.fd, 1, EIO), -EPERM, "FAIL by an observer -> EPERM");
	T_RC(do_fail(o.fd, 1, 0), -EPERM, "FAIL by an observer, error 0 -> EPERM (role first)");
	T_ERR(ioctl(k.fd, BB_IOC_FAIL, NULL), EFAULT, "FAIL NULL -> EFAULT");
	T_ERR(ioctl(k.fd, _IOC(_IOC_WRITE, BB_IOC_MAGIC, 0x0a, 8), &f), ENOTTY,
	      "FAIL with size 8 -> ENOTTY");
	T_ERR(ioctl(k.fd, _IO(BB_IOC_MAGIC, 0x0a), 0), ENOTTY,
	      "FAIL without an argument -> ENOTTY");
	{
		static const __s32 bad[] = { 0, -1, -EIO, 4096, 0x7fffffff,
					     (__s32)0x80000000 };

		for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++)
			T_RC(do_fail(k.fd, 1, bad[i]), -EINVAL,
			     "FAIL error %d -> EINVAL", bad[i]);
	}
	memset(&f, 0, sizeof(f));
	f.error = EIO;
	f.reserved = 1;
	T_ERR(ioctl(p.fd, BB_IOC_FAIL, &f), EINVAL, "FAIL reserved nonzero -> EINVAL");
	T_EQ(c.v.hdr->status, BB_STATUS_RUNNING, "after the refused FAILs: RUNNING");
	T_EQ(c.v.hdr->fail_error, 0, "... and no record");
	T_SYS(t_stats(c.fd, &st), "STATS");
	T_EQ(st.status, BB_STATUS_RUNNING, "STATS RUNNING");

	/* Fill the ring; block a producer in CLAIM and the consumer in WAIT. */
	T_RC(publish(p.fd, 4), 0, "publish 4 (the ring is full)");
	g_block_fd = p.fd;
	pc = t_spawn("blocked-claim", 30, blocked_claim, NULL);
	pw = -1;
	{
		int consumer = t_open();

		if (consumer >= 0 &&
		    t_attach(consumer, BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, name,
			     BB_ID_ANY, 0, NULL) == 0) {
			g_block_fd = consumer;
			pw = t_spawn("blocked-wait", 30, blocked_wait, NULL);
		}
		if (consumer >= 0)
			close(consumer);
	}
	/* Both asleep in the kernel (STATS waiters), or at least given time. */
	for (i = 0; i < 300; i++) {
		if (t_stats(c.fd, &st) == 0 && st.waiters >= 2)
			break;
		t_sleep_ms(10);
	}
	T_EQ(st.waiters, 2, "a producer and a consumer sleep in the kernel");
	T_RC(do_fail(k.fd, 3, 4095), 0, "FAIL by consumer 2 at seq 3, error 4095");
	T_CHILD(pc, 10000, "the blocked producer's CLAIM returned ESHUTDOWN");
	if (pw > 0)
		T_CHILD(pw, 10000, "the blocked consumer's WAIT returned ESHUTDOWN");
	else
		T_OK(0, "start the blocked consumer");
	check_record(&c, o.fd, 3, 4095, 2, "FAIL by consumer 2");
	T_RC(do_fail(p.fd, 9, EIO), -ESHUTDOWN, "a second FAIL -> ESHUTDOWN");
	T_RC(do_fail(c.fd, 9, 1), -ESHUTDOWN, "a FAIL by the creator -> ESHUTDOWN");
	T_RC(do_fail(o.fd, 9, 1), -EPERM, "an observer's FAIL is still EPERM");
	T_RC(do_fail(k.fd, 9, 0), -EINVAL, "a bad FAIL is still EINVAL");
	T_SYS(ioctl(p.fd, BB_IOC_HALT, 0), "HALT after FAIL succeeds");
	check_record(&c, c.fd, 3, 4095, 2, "after FAIL, FAIL, HALT");
	T_RC(t_claim_ioctl(p.fd, 1, BB_CLAIMF_NONBLOCK, 0, &fseq), -ESHUTDOWN,
	     "CLAIM on the failed ring -> ESHUTDOWN");
	close(u);
	t_ring_close(&o);
	t_ring_close(&k);
	t_ring_close(&p);
	t_ring_close(&c);

	/* FAIL after HALT: ESHUTDOWN, no record. */
	if (t_ring_new(&c, 0, 4, 8, 1, name) == 0) {
		T_SYS(ioctl(c.fd, BB_IOC_HALT, 0), "HALT a fresh ring");
		T_RC(do_fail(c.fd, 1, EIO), -ESHUTDOWN, "FAIL after HALT -> ESHUTDOWN");
		T_EQ(c.v.hdr->fail_error, 0, "no record after HALT");
		T_SYS(t_stats(c.fd, &st), "STATS");
		T_EQ(st.fail_error, 0, "STATS fail_error 0 after HALT");
		T_EQ(st.fail_by, BB_ID_ANY, "STATS fail_by BB_ID_ANY after HALT");
		t_ring_close(&c);
	} else {
		T_OK(0, "create the HALT ring");
	}
	/* Who: a producer and the creator are BB_ID_ANY; a self consumer its id. */
	if (t_ring_new(&c, 0, 4, 8, 4, name) == 0 &&
	    t_join(&p, name, BB_ROLE_PRODUCER, BB_ID_ANY, 0) == 0) {
		T_RC(do_fail(p.fd, 0xffffffffffffull, 1), 0, "FAIL by a producer");
		check_record(&c, c.fd, 0xffffffffffffull, 1, BB_ID_ANY, "producer's FAIL");
		t_ring_close(&p);
		t_ring_close(&c);
	} else {
		T_OK(0, "set up the producer FAIL ring");
	}
	if (t_ring_new(&c, 0, 4, 8, 4, name) == 0) {
		T_RC(do_fail(c.fd, 7, EPIPE), 0, "FAIL by the creator's handle");
		check_record(&c, c.fd, 7, EPIPE, BB_ID_ANY, "creator's FAIL");
		t_ring_close(&c);
	} else {
		T_OK(0, "set up the creator FAIL ring");
	}
	{
		struct bb_create cr;

		t_create_args(&cr, 0, 4, 8, 4, name);
		if (t_ring_setup(&c, &cr, BB_ROLE_CONSUMER, 3, 0) == 0) {
			T_RC(do_fail(c.fd, 0, ENOMEM), 0,
			     "FAIL by the creator's fd attached as consumer 3");
			check_record(&c, c.fd, 0, ENOMEM, 3, "self consumer's FAIL");
			t_ring_close(&c);
		} else {
			T_OK(0, "set up the self-consumer FAIL ring");
		}
	}
}

/* Two processes FAIL the same ring at once: one wins, one record. */
struct race {
	volatile __u32 go;
	volatile __s32 rc[2];
};

static struct race *g_race;
static int g_race_fd[2];

static int racer(void *arg)
{
	int i = (int)(long)arg;

	while (!__atomic_load_n(&g_race->go, __ATOMIC_ACQUIRE))
		;
	if (i == 1 && (g_race->go & 1))
		g_race->rc[i] = ioctl(g_race_fd[i], BB_IOC_HALT, 0) ? -errno : 0;
	else
		g_race->rc[i] = do_fail(g_race_fd[i], 100 + (unsigned int)i,
					10 + i);
	return 0;
}

static void test_fail_race(void)
{
	const char *name = t_name("race");
	int round, bad = 0, wins[3] = { 0, 0, 0 };

	t_diag("--- racing FAILs (and FAIL against HALT)");
	g_race = t_shared(sizeof(*g_race));
	for (round = 0; round < 40; round++) {
		struct t_ring c, k;
		struct bb_stats st;
		pid_t a, b;
		int halt = round & 1;

		memset((void *)g_race, 0, sizeof(*g_race));
		if (t_ring_new(&c, 0, 4, 8, 4, name) ||
		    t_join(&k, name, BB_ROLE_CONSUMER, 1, 0)) {
			bad++;
			break;
		}
		g_race_fd[0] = k.fd;	/* FAIL as consumer 1 */
		g_race_fd[1] = c.fd;	/* FAIL (BB_ID_ANY) or HALT */
		a = t_spawn("racer-0", 10, racer, (void *)0L);
		b = t_spawn("racer-1", 10, racer, (void *)1L);
		t_sleep_ms(1);
		__atomic_store_n(&g_race->go, halt ? 3 : 2, __ATOMIC_RELEASE);
		if (t_reap(a, 5000) != 0 || t_reap(b, 5000) != 0) {
			bad++;
		} else if (t_stats(c.fd, &st) != 0) {
			bad++;
		} else if (g_race->rc[0] == 0 &&
			   (g_race->rc[1] == -ESHUTDOWN || (halt && g_race->rc[1] == 0))) {
			/* Consumer 1's FAIL came first (HALT after it is fine). */
			wins[0]++;
			if (st.fail_seq != 100 || st.fail_error != 10 || st.fail_by != 1 ||
			    c.v.hdr->fail_seq != 100 || c.v.hdr->fail_error != 10 ||
			    c.v.hdr->fail_by != 1)
				bad++;
		} else if (g_race->rc[0] == -ESHUTDOWN && g_race->rc[1] == 0) {
			wins[halt ? 2 : 1]++;
			if (halt ? (st.fail_error != 0 || c.v.hdr->fail_error != 0) :
				   (st.fail_seq != 101 || st.fail_error != 11 ||
				    st.fail_by != BB_ID_ANY || c.v.hdr->fail_seq != 101 ||
				    c.v.hdr->fail_error != 11 ||
				    c.v.hdr->fail_by != BB_ID_ANY))
				bad++;
		} else {
			t_diag("round %d: rc %d %d", round, g_race->rc[0], g_race->rc[1]);
			bad++;
		}
		t_ring_close(&k);
		t_ring_close(&c);
	}
	t_diag("winners: consumer FAIL %d, creator FAIL %d, HALT %d", wins[0],
	       wins[1], wins[2]);
	T_EQ(bad, 0, "40 races: exactly one record, the winner's, consistent");
}

/* ------------------------------------------------------------------ */
/* Pools: every member has the same deps                                */

static void test_pool_deps(void)
{
	const char *name = t_name("pdeps");
	struct bb_attach a;
	struct bb_stats st0, st1;
	struct t_ring c;
	int x, w1, w2;
	__u32 xid = 0;

	t_diag("--- pool members share their deps");
	if (t_ring_new(&c, 0, 16, 64, 8, name)) {
		T_OK(0, "set up the deps ring");
		return;
	}
	x = xopen();
	T_RC(pattach(x, BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, name, 0, &xid), 0,
	     "a plain consumer");
	w1 = worker(name, 3);
	T_OK(w1 >= 0, "worker 1 joins pool 3 following the cursor");
	w2 = xopen();
	T_RC(t_stats(c.fd, &st0), 0, "STATS before");
	t_attach_args(&a, BB_ROLE_CONSUMER, BB_ATTACH_NAME | BB_ATTACH_POOL, -1,
		      name, BB_ID_ANY, 1ull << xid);
	a.pool = 3;
	T_ERR(ioctl(w2, BB_IOC_ATTACH, &a), EINVAL,
	      "worker 2 following the consumer instead -> EINVAL");
	T_RC(t_stats(c.fd, &st1), 0, "STATS after");
	T_EQ(st1.nr_consumers, st0.nr_consumers, "nothing attached");
	a.pool = 4;
	a.consumer_id = BB_ID_ANY;
	T_SYS(ioctl(w2, BB_IOC_ATTACH, &a), "the same deps in another pool: ok");
	close(w1);
	w1 = xopen();
	a.pool = 3;
	a.consumer_id = BB_ID_ANY;
	T_SYS(ioctl(w1, BB_IOC_ATTACH, &a),
	      "pool 3 empty again: a member with new deps starts it");
	close(w1);
	close(w2);
	close(x);
	t_ring_close(&c);
}

int main(void)
{
	t_init("abi_pools", 120);
	g_page = sysconf(_SC_PAGESIZE);
	test_pool_args();
	test_pool_region();
	test_pool_members();
	test_pool_deps();
	test_fail();
	test_fail_race();
	return t_done();
}
