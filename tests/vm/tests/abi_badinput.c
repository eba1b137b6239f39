// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl bad-input matrix of docs/abi.md: for every ioctl, wrong
 * command sizes and directions (ENOTTY), unknown flags, nonzero reserved
 * fields, NULL/unmapped/read-only argument pointers (EFAULT), out-of-range
 * values, wrong roles (EPERM), unbound fds (EBADFD), already-bound fds
 * (EISCONN), bad ring_fds (EBADF/EINVAL), name clashes and misses
 * (EEXIST/ENOENT), producer and consumer-id exhaustion (EBUSY/ENOSPC),
 * mode denials (EACCES) and halted rings (ESHUTDOWN), including the
 * documented checking order. After failed calls it checks that nothing
 * changed: the fd is still unbound, the ring's counts, topology, cursor
 * and the module's ring count are as before, and a valid call still works.
 */
#include "harness.h"

#include <grp.h>

static long g_page;

/* ------------------------------------------------------------------ */
/* Bad argument memory                                                 */

/*
 * "Unmapped" pages are PROT_NONE reservations: really unmapping them would
 * let a later mmap (a ring region) reuse the address.
 */
static char *g_unmapped;	/* a page no access is allowed to */
static char *g_edge;		/* a RW page followed by such a page */
static char *g_ro;		/* a page we keep read-only */

static void mem_init(void)
{
	char *p = mmap(NULL, (size_t)g_page * 4, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	/* [0] RW edge, [1] no access, [2] read-only, [3] no access */
	g_edge = p;
	g_unmapped = p + g_page;
	g_ro = p + 2 * g_page;
	mprotect(g_unmapped, (size_t)g_page, PROT_NONE);
	mprotect(p + 3 * g_page, (size_t)g_page, PROT_NONE);
	mprotect(g_ro, (size_t)g_page, PROT_READ);
}

/* A copy of src that starts in a mapped page and ends in an unmapped one. */
static void *straddle(const void *src, size_t n)
{
	char *dst = g_edge + g_page - n / 2;

	memcpy(dst, src, n / 2);
	return dst;
}

/* A copy of src in read-only memory (copy_from_user works, copy_to_user not). */
static void *ro_copy(const void *src, size_t n)
{
	mprotect(g_ro, (size_t)g_page, PROT_READ | PROT_WRITE);
	memset(g_ro, 0, (size_t)g_page);
	memcpy(g_ro, src, n);
	mprotect(g_ro, (size_t)g_page, PROT_READ);
	return g_ro;
}

/* ------------------------------------------------------------------ */
/* "Nothing changed" snapshots of a ring (through its creator's handle) */

enum {
	S_ST_NP, S_ST_NC, S_ST_GM, S_ST_STATUS, S_ST_RINGS, S_ST_BYTES,
	S_ST_CURSOR, S_H_NP, S_H_NC, S_H_GM, S_H_STATUS, S_H_TOPO, S_CURSOR,
	S_CLAIM, S_NR
};
static const char *const snap_names[S_NR] = {
	"stats.nr_producers", "stats.nr_consumers", "stats.gating_mask",
	"stats.status", "stats.rings", "stats.bytes", "stats.cursor",
	"hdr.nr_producers", "hdr.nr_consumers", "hdr.gating_mask",
	"hdr.status", "hdr.topo_seq", "prod.cursor", "prod.claim",
};

struct snap {
	__u64 v[S_NR];
};

static void snap_take(const struct t_ring *c, struct snap *s)
{
	struct bb_stats st;

	memset(s, 0, sizeof(*s));
	if (t_stats(c->fd, &st) != 0) {
		t_diag("snapshot: BB_IOC_STATS: %s", strerror(errno));
		memset(&st, 0xff, sizeof(st));
	}
	s->v[S_ST_NP] = st.nr_producers;
	s->v[S_ST_NC] = st.nr_consumers;
	s->v[S_ST_GM] = st.gating_mask;
	s->v[S_ST_STATUS] = st.status;
	s->v[S_ST_RINGS] = st.rings;
	s->v[S_ST_BYTES] = st.bytes;
	s->v[S_ST_CURSOR] = st.cursor;
	s->v[S_H_NP] = bb_load_acquire(&c->v.hdr->nr_producers);
	s->v[S_H_NC] = bb_load_acquire(&c->v.hdr->nr_consumers);
	s->v[S_H_GM] = t_gating_mask(c);
	s->v[S_H_STATUS] = bb_load_acquire(&c->v.hdr->status);
	s->v[S_H_TOPO] = bb_load_acquire(&c->v.hdr->topo_seq);
	s->v[S_CURSOR] = bb_load_acquire(&c->v.prod->cursor);
	s->v[S_CLAIM] = bb_load_acquire(&c->v.prod->claim);
}

static int snap_same(const struct t_ring *c, const struct snap *before,
		     const char *file, int line, const char *what)
{
	struct snap now;
	char d[512] = "";
	size_t len = 0;
	int i, ok = 1;

	snap_take(c, &now);
	for (i = 0; i < S_NR; i++) {
		if (now.v[i] == before->v[i])
			continue;
		ok = 0;
		len += (size_t)snprintf(d + len, len < sizeof(d) ? sizeof(d) - len : 0,
				"%s %llu->%llu ", snap_names[i],
				(unsigned long long)before->v[i],
				(unsigned long long)now.v[i]);
		if (len >= sizeof(d))
			break;
	}
	return t_report(ok, file, line, d, "%s: nothing changed", what);
}
#define T_SAME(c, before, what) snap_same((c), (before), __FILE__, __LINE__, (what))

/* ------------------------------------------------------------------ */

static int xopen(void)
{
	int fd = t_open();

	if (fd < 0) {
		printf("Bail out! open %s: %s\n", BB_DEVICE_PATH, strerror(errno));
		exit(1);
	}
	return fd;
}

/* Is fd unbound? (INFO and STATS say EBADFD) */
static int unbound(int fd)
{
	struct bb_info in;
	struct bb_stats st;

	return ioctl(fd, BB_IOC_INFO, &in) == -1 && errno == EBADFD &&
	       ioctl(fd, BB_IOC_STATS, &st) == -1 && errno == EBADFD;
}

/* Is name free? (attaching to it says ENOENT) */
static int name_free(const char *name)
{
	int fd = xopen();
	int e = t_attach(fd, BB_ROLE_OBSERVER, BB_ATTACH_NAME, -1, name,
			 BB_ID_ANY, 0, NULL);

	close(fd);
	return e == -ENOENT;
}

/* Is an invalid name unregistered? (attach: ENOENT or EINVAL, never found) */
static int bad_name_free(const char *name)
{
	int fd = xopen();
	int e = t_attach(fd, BB_ROLE_OBSERVER, BB_ATTACH_NAME, -1, name,
			 BB_ID_ANY, 0, NULL);

	close(fd);
	return e == -ENOENT || e == -EINVAL;
}

static __u64 rings_now(int fd)
{
	struct bb_stats st;

	if (t_stats(fd, &st) != 0)
		return ~0ull;
	return st.rings;
}

/* Wait (up to 2 s) for the module's ring count to become want. */
static __u64 rings_settle(int fd, __u64 want)
{
	__u64 r = rings_now(fd);
	int i;

	for (i = 0; i < 200 && r != want; i++) {
		t_sleep_ms(10);
		r = rings_now(fd);
	}
	return r;
}

static int cr(int fd, const struct bb_create *c)
{
	struct bb_create cc = *c;

	return ioctl(fd, BB_IOC_CREATE, &cc);
}

static int at(int fd, const struct bb_attach *a)
{
	struct bb_attach aa = *a;

	return ioctl(fd, BB_IOC_ATTACH, &aa);
}

/* ------------------------------------------------------------------ */
/* 1. Command numbers: wrong sizes and directions are unknown commands  */

struct cmd {
	const char *name;
	unsigned int nr, dir, size;
};

static const struct cmd cmds[] = {
	{ "CREATE", 0x01, _IOC_READ | _IOC_WRITE, sizeof(struct bb_create) },
	{ "ATTACH", 0x02, _IOC_READ | _IOC_WRITE, sizeof(struct bb_attach) },
	{ "INFO", 0x03, _IOC_READ, sizeof(struct bb_info) },
	{ "WAIT", 0x04, _IOC_READ | _IOC_WRITE, sizeof(struct bb_wait) },
	{ "WAKE", 0x05, _IOC_NONE, 0 },
	{ "CLAIM", 0x06, _IOC_READ | _IOC_WRITE, sizeof(struct bb_claim) },
	{ "PUBLISH", 0x07, _IOC_WRITE, sizeof(struct bb_publish) },
	{ "HALT", 0x08, _IOC_NONE, 0 },
	{ "STATS", 0x09, _IOC_READ, sizeof(struct bb_stats) },
	{ "FAIL", 0x0a, _IOC_WRITE, sizeof(struct bb_fail) },
};

static void test_enotty(void)
{
	static __u64 buf[2048];	/* zeroed: any command reading it sees junk */
	struct t_ring c, p;
	struct snap s;
	const char *name = t_name("enotty");
	int fds[2], k;
	size_t i;

	t_diag("--- command numbers: wrong sizes, directions, numbers -> ENOTTY");
	if (t_ring_new(&c, 0, 8, 64, 2, name)) {
		T_OK(0, "create ring for the ENOTTY matrix");
		return;
	}
	if (t_join(&p, name, BB_ROLE_PRODUCER, BB_ID_ANY, 0)) {
		T_OK(0, "attach producer for the ENOTTY matrix");
		t_ring_close(&c);
		return;
	}
	snap_take(&c, &s);
	fds[0] = xopen();
	fds[1] = p.fd;
	T_EQ(BB_IOC_CREATE, _IOC(_IOC_READ | _IOC_WRITE, 0xBB, 1, sizeof(struct bb_create)),
	     "BB_IOC_CREATE is _IOWR(0xBB, 1, struct bb_create)");
	for (k = 0; k < 2; k++) {
		const char *fdn = k ? "producer fd" : "unbound fd";

		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			const struct cmd *m = &cmds[i];
			unsigned int sizes[3], dirs[3], n = 0, j;

			if (m->size) {
				sizes[0] = m->size - 8;
				sizes[1] = m->size + 8;
				sizes[2] = 0;
			} else {
				sizes[0] = 8;
				sizes[1] = 4;
				sizes[2] = 16;
			}
			for (j = 0; j < 3; j++) {
				unsigned int dir = m->size ? m->dir : _IOC_WRITE;
				unsigned long cmd;

				if (m->size && sizes[j] == 0)
					dir = _IOC_NONE;
				cmd = _IOC(dir, BB_IOC_MAGIC, m->nr, sizes[j]);
				T_ERR(ioctl(fds[k], cmd, buf), ENOTTY,
				      "%s: %s with size %u (dir %u) -> ENOTTY",
				      fdn, m->name, sizes[j], dir);
			}
			/* Wrong directions, right size. */
			if (m->dir == (_IOC_READ | _IOC_WRITE)) {
				dirs[n++] = _IOC_READ;
				dirs[n++] = _IOC_WRITE;
			} else if (m->dir == _IOC_READ) {
				dirs[n++] = _IOC_WRITE;
				dirs[n++] = _IOC_READ | _IOC_WRITE;
			} else if (m->dir == _IOC_WRITE) {
				dirs[n++] = _IOC_READ;
				dirs[n++] = _IOC_READ | _IOC_WRITE;
			} else {
				dirs[n++] = _IOC_READ;
			}
			for (j = 0; j < n; j++)
				T_ERR(ioctl(fds[k], _IOC(dirs[j], BB_IOC_MAGIC, m->nr,
							 m->size ? m->size : 8), buf),
				      ENOTTY, "%s: %s with direction %u -> ENOTTY",
				      fdn, m->name, dirs[j]);
			/* Right size and direction, wrong magic. */
			T_ERR(ioctl(fds[k], _IOC(m->dir, 0xBC, m->nr, m->size), buf),
			      ENOTTY, "%s: %s with magic 0xBC -> ENOTTY", fdn, m->name);
		}
		T_ERR(ioctl(fds[k], _IO(BB_IOC_MAGIC, 0x00), 0), ENOTTY,
		      "%s: command number 0 -> ENOTTY", fdn);
		T_ERR(ioctl(fds[k], _IO(BB_IOC_MAGIC, 0x0b), 0), ENOTTY,
		      "%s: command number 0x0b (after FAIL) -> ENOTTY", fdn);
		T_ERR(ioctl(fds[k], _IOWR(BB_IOC_MAGIC, 0xff, __u64), buf), ENOTTY,
		      "%s: command number 0xff -> ENOTTY", fdn);
	}
	T_OK(unbound(fds[0]), "the unbound fd is still unbound");
	T_SAME(&c, &s, "after the ENOTTY matrix (no HALT, no claim, no create)");
	T_OK(name_free(t_name("enotty-none")), "no ring was created by a mis-sized CREATE");
	close(fds[0]);
	t_ring_close(&p);
	t_ring_close(&c);
}

/* ------------------------------------------------------------------ */
/* 2. BB_IOC_CREATE                                                     */

static void test_create(int mon)
{
	struct bb_create c, base;
	struct bb_info in;
	__u64 rings0 = rings_now(mon);
	const char *name = t_name("cr");
	const char *name2 = t_name("cr2");
	char longname[BB_NAME_MAX];
	int fd = xopen(), fd2, fd3, i;
	__u64 id1 = 0, id2 = 0;
	static const __u32 bad_counts[] = { 0, 1, 3, 6, 100, 1u << 25, 1u << 31,
					    0xffffffffu };
	static const __u32 bad_sizes[] = { 0, 4, 7, 12, 100, BB_MAX_SLOT_SIZE + 8,
					   1u << 21, 0xfffffff8u };
	static const __u32 bad_cons[] = { 65, 128, 1u << 31, 0xffffffffu };
	static const __u32 bad_modes[] = { 01000, 02000, 04000, 07777, 0x80000000u,
					   0xffffffffu };
	static const char *const bad_names[] = {
		"a/b", "/", "a b", "../x", "a\nb", "\xc3\xa4", "a:b", "*", "a\\b",
		"ring\x7f",
	};

	t_diag("--- BB_IOC_CREATE");
	t_create_args(&base, 0, 16, 64, 4, name);

	/* EFAULT: the argument cannot be read. */
	T_ERR(ioctl(fd, BB_IOC_CREATE, NULL), EFAULT, "CREATE arg NULL -> EFAULT");
	T_ERR(ioctl(fd, BB_IOC_CREATE, (void *)8), EFAULT, "CREATE arg 0x8 -> EFAULT");
	T_ERR(ioctl(fd, BB_IOC_CREATE, g_unmapped), EFAULT,
	      "CREATE arg in an unmapped page -> EFAULT");
	T_ERR(ioctl(fd, BB_IOC_CREATE, straddle(&base, sizeof(base))), EFAULT,
	      "CREATE arg straddling into an unmapped page -> EFAULT");
	/* EFAULT on copying ring_id back: nothing may have been created. */
	T_ERR(ioctl(fd, BB_IOC_CREATE, ro_copy(&base, sizeof(base))), EFAULT,
	      "CREATE arg in read-only memory (ring_id cannot be written) -> EFAULT");
	T_OK(unbound(fd), "after the EFAULTs the fd is still unbound");
	T_OK(name_free(name), "after the EFAULTs the name is still free");
	T_EQ(rings_settle(mon, rings0), rings0, "after the EFAULTs no ring exists");

	/* EINVAL: every field. */
	c = base;
	c.flags = 1u << 2;
	T_ERR(cr(fd, &c), EINVAL, "CREATE flags 1<<2 -> EINVAL");
	c.flags = 1u << 31;
	T_ERR(cr(fd, &c), EINVAL, "CREATE flags 1<<31 -> EINVAL");
	c.flags = ~0u;
	T_ERR(cr(fd, &c), EINVAL, "CREATE flags ~0 -> EINVAL");
	for (i = 0; i < 4; i++) {
		c = base;
		c.reserved[i] = 1ull << (i * 16);
		T_ERR(cr(fd, &c), EINVAL, "CREATE reserved[%d] nonzero -> EINVAL", i);
	}
	for (i = 0; i < (int)(sizeof(bad_counts) / sizeof(bad_counts[0])); i++) {
		c = base;
		c.slot_count = bad_counts[i];
		T_ERR(cr(fd, &c), EINVAL, "CREATE slot_count %u -> EINVAL", bad_counts[i]);
	}
	for (i = 0; i < (int)(sizeof(bad_sizes) / sizeof(bad_sizes[0])); i++) {
		c = base;
		c.slot_size = bad_sizes[i];
		T_ERR(cr(fd, &c), EINVAL, "CREATE slot_size %u -> EINVAL", bad_sizes[i]);
	}
	for (i = 0; i < (int)(sizeof(bad_cons) / sizeof(bad_cons[0])); i++) {
		c = base;
		c.max_consumers = bad_cons[i];
		T_ERR(cr(fd, &c), EINVAL, "CREATE max_consumers %u -> EINVAL", bad_cons[i]);
	}
	c = base;
	c.wait_strategy = BB_WAIT_STRATEGY_MAX + 1;
	T_ERR(cr(fd, &c), EINVAL, "CREATE wait_strategy %u -> EINVAL", c.wait_strategy);
	c.wait_strategy = 0xffffffffu;
	T_ERR(cr(fd, &c), EINVAL, "CREATE wait_strategy 0xffffffff -> EINVAL");
	for (i = 0; i < (int)(sizeof(bad_modes) / sizeof(bad_modes[0])); i++) {
		c = base;
		c.mode = bad_modes[i];
		T_ERR(cr(fd, &c), EINVAL, "CREATE mode 0%o -> EINVAL", bad_modes[i]);
	}
	c = base;
	memset(c.name, 'a', sizeof(c.name));	/* no NUL in 64 bytes */
	T_ERR(cr(fd, &c), EINVAL, "CREATE name without a NUL in %d bytes -> EINVAL",
	      BB_NAME_MAX);
	for (i = 0; i < (int)(sizeof(bad_names) / sizeof(bad_names[0])); i++) {
		c = base;
		snprintf(c.name, sizeof(c.name), "%s", bad_names[i]);
		T_ERR(cr(fd, &c), EINVAL, "CREATE name \"%s\" -> EINVAL", bad_names[i]);
		T_OK(bad_name_free(bad_names[i]), "the bad name \"%s\" was not registered",
		     bad_names[i]);
	}
	/* Bytes after the NUL are not part of the name: accepted later. */

	/* E2BIG: each field valid, the ring too large for max_ring_mb. */
	c = base;
	c.slot_count = BB_MAX_SLOTS;
	c.slot_size = BB_MAX_SLOT_SIZE;
	T_ERR(cr(fd, &c), E2BIG, "CREATE 2^24 slots x 1 MiB (16 TiB) -> E2BIG");

	T_OK(unbound(fd), "after every failed CREATE the fd is still unbound");
	T_OK(name_free(name), "after every failed CREATE the name is still free");
	T_EQ(rings_settle(mon, rings0), rings0,
	     "after every failed CREATE the module's ring count is unchanged");

	/* A valid CREATE on the same fd works. */
	c = base;
	T_SYS(ioctl(fd, BB_IOC_CREATE, &c), "CREATE valid ring \"%s\" on the fd that failed before", name);
	T_SYS(ioctl(fd, BB_IOC_INFO, &in), "INFO on the creator");
	T_EQ(in.ring_id, c.ring_id, "CREATE returned the ring_id INFO reports");
	T_EQ(in.role, BB_ROLE_NONE, "creator role is NONE");
	T_EQ(in.consumer_id, BB_ID_ANY, "creator consumer_id is BB_ID_ANY");
	T_EQ(in.slot_count, 16, "INFO slot_count");
	T_EQ(in.slot_size, 64, "INFO slot_size");
	T_EQ(in.max_consumers, 4, "INFO max_consumers");
	T_EQ(in.wait_strategy, BB_WAIT_BLOCK, "INFO wait_strategy");
	T_EQ(in.flags, 0, "INFO flags");
	T_OK(in.ring_id != 0, "INFO ring_id nonzero");
	id1 = in.ring_id;
	T_EQ(rings_now(mon), rings0 + 1, "STATS rings counts the new ring");

	/* EISCONN first: a bound fd, even with invalid arguments. */
	T_ERR(cr(fd, &base), EISCONN, "CREATE again on the creator fd -> EISCONN");
	c = base;
	c.flags = ~0u;
	c.slot_count = 3;
	T_ERR(cr(fd, &c), EISCONN, "CREATE with bad fields on a bound fd -> EISCONN (checked first)");
	fd3 = xopen();
	T_SYS(t_attach(fd3, BB_ROLE_OBSERVER, BB_ATTACH_NAME, -1, name, BB_ID_ANY, 0, NULL),
	      "attach an observer by name");
	c = base;
	snprintf(c.name, sizeof(c.name), "%s", name2);
	T_ERR(cr(fd3, &c), EISCONN, "CREATE on a participant fd -> EISCONN");
	T_OK(name_free(name2), "the participant's failed CREATE registered nothing");
	close(fd3);

	/* EEXIST, and its place in the order. */
	fd2 = xopen();
	T_ERR(cr(fd2, &base), EEXIST, "CREATE a taken name -> EEXIST");
	c = base;
	c.slot_count = 3;
	T_ERR(cr(fd2, &c), EINVAL, "CREATE a taken name with slot_count 3 -> EINVAL (before EEXIST)");
	c = base;
	c.slot_count = BB_MAX_SLOTS;
	c.slot_size = BB_MAX_SLOT_SIZE;
	T_ERR(cr(fd2, &c), E2BIG, "CREATE a taken name, 16 TiB -> E2BIG (before EEXIST)");
	T_OK(unbound(fd2), "after EEXIST the fd is still unbound");
	T_EQ(rings_now(mon), rings0 + 1, "after EEXIST no ring was added");
	fd3 = xopen();
	T_SYS(t_attach(fd3, BB_ROLE_OBSERVER, BB_ATTACH_NAME, -1, name, BB_ID_ANY, 0, NULL),
	      "attach by the contested name");
	T_SYS(ioctl(fd3, BB_IOC_INFO, &in), "INFO via the contested name");
	T_EQ(in.ring_id, id1, "the name still leads to the first ring");
	close(fd3);

	/* A failed CREATE with a free name leaves it free; then it works. */
	c = base;
	snprintf(c.name, sizeof(c.name), "%s", name2);
	c.slot_size = 7;
	T_ERR(cr(fd2, &c), EINVAL, "CREATE \"%s\" with slot_size 7 -> EINVAL", name2);
	T_OK(name_free(name2), "the name of a failed CREATE is free (attach says ENOENT)");
	c.slot_size = 64;
	{
		struct bb_create cc = c;

		T_SYS(ioctl(fd2, BB_IOC_CREATE, &cc), "CREATE \"%s\" now succeeds", name2);
		id2 = cc.ring_id;
	}
	T_SYS(ioctl(fd2, BB_IOC_INFO, &in), "INFO on the second ring");
	T_EQ(in.ring_id, id2, "CREATE's ring_id is INFO's ring_id");
	T_OK(in.ring_id != id1, "ring ids differ (%llu vs %llu)",
	     (unsigned long long)in.ring_id, (unsigned long long)id1);
	close(fd2);
	close(fd);
	T_EQ(rings_settle(mon, rings0), rings0, "closing both creators frees both rings");
	T_OK(name_free(name) && name_free(name2), "and their names");

	/* Valid extremes and defaults. */
	fd = xopen();
	memset(longname, 0, sizeof(longname));
	memset(longname, 'x', BB_NAME_MAX - 1);
	memcpy(longname, "aZ09._-", 7);
	snprintf(longname + 7, 8, "%07u", (unsigned int)getpid() % 10000000u);
	longname[14] = 'x';
	t_create_args(&c, BB_RING_MULTI_PRODUCER | BB_RING_MUTABLE_CONSUMERS,
		      BB_MIN_SLOTS, 8, BB_MAX_CONSUMERS, NULL);
	memcpy(c.name, longname, BB_NAME_MAX);
	c.mode = 0777;
	c.wait_strategy = BB_WAIT_STRATEGY_MAX;
	T_SYS(cr(fd, &c), "CREATE 2 slots of 8 bytes, 64 consumers, mode 0777, 63-char name");
	T_SYS(ioctl(fd, BB_IOC_INFO, &in), "INFO");
	T_EQ(in.slot_count, BB_MIN_SLOTS, "INFO slot_count 2");
	T_EQ(in.slot_size, 8, "INFO slot_size 8");
	T_EQ(in.max_consumers, BB_MAX_CONSUMERS, "INFO max_consumers 64");
	T_EQ(in.flags, BB_RING_MULTI_PRODUCER | BB_RING_MUTABLE_CONSUMERS, "INFO flags");
	T_EQ(in.wait_strategy, BB_WAIT_STRATEGY_MAX, "INFO wait_strategy");
	T_OK(!name_free(longname), "the 63-character name is registered");
	close(fd);

	fd = xopen();
	t_create_args(&c, 0, 1024, BB_MAX_SLOT_SIZE / 1024, 0, NULL);
	T_SYS(cr(fd, &c), "CREATE with max_consumers 0 and no name");
	T_SYS(ioctl(fd, BB_IOC_INFO, &in), "INFO");
	T_EQ(in.max_consumers, 16, "max_consumers 0 means 16");
	fd2 = xopen();
	T_SYS(cr(fd2, &c), "a second unnamed ring (\"\" is not a name)");
	{
		struct bb_info in2;

		T_SYS(ioctl(fd2, BB_IOC_INFO, &in2), "INFO of the second unnamed ring");
		T_OK(in2.ring_id != in.ring_id, "unnamed rings are distinct");
	}
	/*
	 * Bytes after the terminating NUL: docs/abi.md does not say. Either
	 * answer is fine, but a rejection must leave the name free.
	 */
	fd3 = xopen();
	t_create_args(&c, 0, 8, 8, 1, name);
	memset(c.name + strlen(name) + 1, 'Q', BB_NAME_MAX - strlen(name) - 1);
	if (cr(fd3, &c) == 0) {
		t_diag("note: CREATE accepts junk after the name's NUL");
		T_OK(!name_free(name), "the name up to its NUL is registered");
	} else {
		int e = errno;

		t_diag("note: CREATE rejects junk after the name's NUL (%s)", t_errname(e));
		T_EQ(e, EINVAL, "junk after the name's NUL, if rejected, is EINVAL");
		T_OK(name_free(name) && unbound(fd3), "and leaves the name free, the fd unbound");
	}
	close(fd3);
	close(fd2);
	close(fd);
	T_EQ(rings_settle(mon, rings0), rings0, "all CREATE test rings are gone");
}

/* ------------------------------------------------------------------ */
/* 3. BB_IOC_ATTACH                                                     */

static void test_attach(void)
{
	struct t_ring m;
	struct snap s;
	struct bb_attach a, base;
	struct bb_info in;
	const char *name = t_name("at");
	int fd, fd2, pfd, c2, c3, c4, c5, obs, pipefd[2], devnull, closedfd;
	__u32 id = 0, idA = 0, idB = 0, idC = 0;
	__u64 ring_id;
	int i;

	t_diag("--- BB_IOC_ATTACH");
	if (t_ring_new(&m, 0, 64, 64, 4, name)) {
		T_OK(0, "create the ATTACH test ring");
		return;
	}
	ring_id = m.info.ring_id;
	t_attach_args(&base, BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, name, BB_ID_ANY, 0);
	fd = xopen();
	snap_take(&m, &s);

	T_ERR(ioctl(fd, BB_IOC_ATTACH, NULL), EFAULT, "ATTACH arg NULL -> EFAULT");
	T_ERR(ioctl(fd, BB_IOC_ATTACH, g_unmapped), EFAULT, "ATTACH arg unmapped -> EFAULT");
	T_ERR(ioctl(fd, BB_IOC_ATTACH, straddle(&base, sizeof(base))), EFAULT,
	      "ATTACH arg straddling an unmapped page -> EFAULT");
	T_ERR(ioctl(fd, BB_IOC_ATTACH, ro_copy(&base, sizeof(base))), EFAULT,
	      "ATTACH arg read-only (consumer_id cannot be written back) -> EFAULT");
	T_OK(unbound(fd), "after the EFAULTs the fd is unbound");
	T_SAME(&m, &s, "ATTACH EFAULTs (no consumer was added)");

	a = base;
	a.role = BB_ROLE_NONE;
	T_ERR(at(fd, &a), EINVAL, "ATTACH role NONE -> EINVAL");
	a.role = 4;
	T_ERR(at(fd, &a), EINVAL, "ATTACH role 4 -> EINVAL");
	a.role = 0xffffffffu;
	T_ERR(at(fd, &a), EINVAL, "ATTACH role 0xffffffff -> EINVAL");
	{
		static const __u32 bad_flags[] = {
			0, BB_ATTACH_SELF | BB_ATTACH_FD, BB_ATTACH_FD | BB_ATTACH_NAME,
			BB_ATTACH_SELF | BB_ATTACH_NAME, BB_ATTACH_FLAGS_ALL,
			BB_ATTACH_POOL, BB_ATTACH_FLAGS_ALL | BB_ATTACH_POOL,
			BB_ATTACH_NAME | (1u << 4), BB_ATTACH_NAME | (1u << 31),
		};

		for (i = 0; i < (int)(sizeof(bad_flags) / sizeof(bad_flags[0])); i++) {
			a = base;
			a.flags = bad_flags[i];
			/* Only the flags are wrong: ring_fd only with FD. */
			a.ring_fd = (bad_flags[i] & BB_ATTACH_FD) ? m.fd : -1;
			T_ERR(at(fd, &a), EINVAL, "ATTACH flags 0x%x -> EINVAL", bad_flags[i]);
		}
	}
	a = base;
	a.reserved[0] = 1;
	T_ERR(at(fd, &a), EINVAL, "ATTACH reserved[0] nonzero -> EINVAL");
	a = base;
	a.reserved32 = 1;
	T_ERR(at(fd, &a), EINVAL, "ATTACH reserved32 nonzero -> EINVAL");
	a = base;
	a.deps = 1ull << 4;
	T_ERR(at(fd, &a), EINVAL, "ATTACH deps bit 4 on a 4-consumer ring -> EINVAL");
	a.deps = 1ull << 63;
	T_ERR(at(fd, &a), EINVAL, "ATTACH deps bit 63 -> EINVAL");
	a = base;
	a.consumer_id = 2;
	a.deps = 1ull << 2;
	T_ERR(at(fd, &a), EINVAL, "ATTACH consumer 2 following itself -> EINVAL");
	a = base;
	a.consumer_id = 4;
	T_ERR(at(fd, &a), EINVAL, "ATTACH consumer_id 4 (= max_consumers) -> EINVAL");
	a.consumer_id = 64;
	T_ERR(at(fd, &a), EINVAL, "ATTACH consumer_id 64 -> EINVAL");
	a.consumer_id = 0x7fffffffu;
	T_ERR(at(fd, &a), EINVAL, "ATTACH consumer_id 0x7fffffff -> EINVAL");
	a = base;
	a.role = BB_ROLE_PRODUCER;
	a.deps = 1;
	T_ERR(at(fd, &a), EINVAL, "ATTACH producer with deps -> EINVAL");
	a.role = BB_ROLE_OBSERVER;
	T_ERR(at(fd, &a), EINVAL, "ATTACH observer with deps -> EINVAL");

	/* ring_fd */
	closedfd = dup(0);
	close(closedfd);
	a = base;
	memset(a.name, 0, sizeof(a.name));	/* the name is for BB_ATTACH_NAME only */
	a.flags = BB_ATTACH_FD;
	a.ring_fd = closedfd;
	T_ERR(at(fd, &a), EBADF, "ATTACH ring_fd not open -> EBADF");
	a.ring_fd = -1;
	T_ERR(at(fd, &a), EBADF, "ATTACH ring_fd -1 -> EBADF");
	a.ring_fd = 1 << 20;
	T_ERR(at(fd, &a), EBADF, "ATTACH ring_fd 1<<20 -> EBADF");
	if (pipe(pipefd) == 0) {
		a.ring_fd = pipefd[0];
		T_ERR(at(fd, &a), EINVAL, "ATTACH ring_fd a pipe -> EINVAL");
		close(pipefd[0]);
		close(pipefd[1]);
	}
	devnull = open("/dev/null", O_RDWR);
	a.ring_fd = devnull;
	T_ERR(at(fd, &a), EINVAL, "ATTACH ring_fd /dev/null -> EINVAL");
	close(devnull);
	fd2 = xopen();
	a.ring_fd = fd2;
	T_ERR(at(fd, &a), EINVAL, "ATTACH ring_fd an unbound badbatch fd -> EINVAL");
	a.ring_fd = fd;
	T_ERR(at(fd, &a), EINVAL, "ATTACH ring_fd the fd itself (unbound) -> EINVAL");

	/* names */
	a = base;
	snprintf(a.name, sizeof(a.name), "%s", t_name("nosuch"));
	T_ERR(at(fd, &a), ENOENT, "ATTACH by a name no ring has -> ENOENT");
	memset(a.name, 0, sizeof(a.name));
	T_ERR(at(fd, &a), EINVAL, "ATTACH by the empty name -> EINVAL (unnamed rings cannot be found)");
	memset(a.name, 'a', sizeof(a.name));
	T_ERR(at(fd, &a), EINVAL, "ATTACH by a name without NUL -> EINVAL");
	snprintf(a.name, sizeof(a.name), "%s/x", name);
	T_ERR(at(fd, &a), EINVAL, "ATTACH by a name with '/' -> EINVAL");

	/* SELF needs a ring this fd created. */
	a = base;
	a.flags = BB_ATTACH_SELF;
	memset(a.name, 0, sizeof(a.name));
	T_ERR(at(fd, &a), EINVAL, "ATTACH SELF on an unbound fd -> EINVAL");

	/* A dep that is not attached. */
	a = base;
	a.deps = 1ull << 3;
	T_ERR(at(fd, &a), ENOENT, "ATTACH consumer following unattached id 3 -> ENOENT");
	a.consumer_id = 1;
	a.deps = 1ull << 0;
	T_ERR(at(fd, &a), ENOENT, "ATTACH consumer 1 following unattached id 0 -> ENOENT");

	T_OK(unbound(fd), "after every failed ATTACH the fd is unbound");
	T_OK(unbound(fd2), "the unbound ring_fd is still unbound");
	T_SAME(&m, &s, "every failed ATTACH (no id or producer slot taken)");

	/* Valid attaches, and the errors that depend on state. */
	T_SYS(t_attach(fd, BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, name, 1, 0, &id),
	      "ATTACH consumer with wanted id 1");
	T_EQ(id, 1, "given the wanted id");
	T_SYS(ioctl(fd, BB_IOC_INFO, &in), "INFO on the consumer");
	T_EQ(in.role, BB_ROLE_CONSUMER, "INFO role CONSUMER");
	T_EQ(in.consumer_id, 1, "INFO consumer_id 1");
	T_EQ(in.ring_id, ring_id, "INFO ring_id");
	T_OK(bb_load(&m.v.hdr->consumers[1].flags) & BB_CONSUMER_ACTIVE,
	     "header: consumer 1 ACTIVE");
	T_EQ(t_gating_mask(&m), 1ull << 1, "header: gating_mask = {1}");
	T_EQ(bb_load(&m.v.hdr->nr_consumers), 1, "header: nr_consumers 1");
	T_ERR(t_attach(fd, BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, name, BB_ID_ANY, 0, NULL) ? -1 : 0,
	      EISCONN, "ATTACH again on a participant -> EISCONN");
	errno = 0;
	{
		struct bb_attach bad = base;

		bad.role = 0;
		bad.flags = 0;
		bad.reserved[0] = 7;
		T_ERR(at(fd, &bad), EISCONN, "ATTACH garbage on a participant -> EISCONN (checked first)");
		bad = base;
		bad.flags = BB_ATTACH_SELF;
		T_ERR(at(fd, &bad), EISCONN, "ATTACH SELF on a participant -> EISCONN");
	}

	c2 = xopen();
	snap_take(&m, &s);
	T_ERR(t_attach(c2, BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, name, 1, 0, NULL) ? -1 : 0,
	      EBUSY, "ATTACH consumer with a taken id -> EBUSY");
	T_OK(unbound(c2), "after EBUSY the fd is unbound");
	T_SAME(&m, &s, "a failed ATTACH with a taken id");
	T_SYS(t_attach(c2, BB_ROLE_CONSUMER, BB_ATTACH_FD, fd, NULL, BB_ID_ANY, 1ull << 1, &idA),
	      "ATTACH consumer by ring_fd (a participant's fd) following consumer 1");
	T_OK(idA != 1 && idA < 4, "given a free id (%u)", idA);
	T_EQ(t_cons_deps(&m, idA), 1ull << 1, "header: its deps = {1}");
	T_EQ(t_gating_mask(&m), 1ull << idA, "header: gating mask = {%u} (1 is followed)", idA);

	c3 = xopen();
	T_SYS(t_attach(c3, BB_ROLE_CONSUMER, BB_ATTACH_FD, m.fd, NULL, BB_ID_ANY, 0, &idB),
	      "ATTACH consumer by ring_fd (the creator's fd)");
	c4 = xopen();
	T_SYS(t_attach(c4, BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, name, BB_ID_ANY, 0, &idC),
	      "ATTACH a fourth consumer");
	T_OK(((1u << 1) | (1u << idA) | (1u << idB) | (1u << idC)) == 0xf,
	     "ids 1,%u,%u,%u are 0..3", idA, idB, idC);
	c5 = xopen();
	snap_take(&m, &s);
	T_ERR(t_attach(c5, BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, name, BB_ID_ANY, 0, NULL) ? -1 : 0,
	      ENOSPC, "ATTACH a fifth consumer on a 4-consumer ring -> ENOSPC");
	T_ERR(t_attach(c5, BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, name, 2, 0, NULL) ? -1 : 0,
	      EBUSY, "ATTACH wanted id 2 on a full ring -> EBUSY");
	T_OK(unbound(c5), "after ENOSPC the fd is unbound");
	T_SAME(&m, &s, "a failed ATTACH on a full ring");
	/* An observer does not use a consumer id. */
	obs = xopen();
	T_SYS(t_attach(obs, BB_ROLE_OBSERVER, BB_ATTACH_NAME, -1, name, BB_ID_ANY, 0, NULL),
	      "ATTACH an observer on a full ring");
	T_SYS(ioctl(obs, BB_IOC_INFO, &in), "INFO on the observer");
	T_EQ(in.role, BB_ROLE_OBSERVER, "INFO role OBSERVER");
	T_EQ(in.consumer_id, BB_ID_ANY, "observer consumer_id BB_ID_ANY");
	/* Ids come back when a consumer leaves. */
	close(c4);
	T_SYS(t_attach(c5, BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, name, BB_ID_ANY, 0, &id),
	      "ATTACH after a consumer closed: its id is free again");
	T_EQ(id, idC, "given the freed id");

	/* Producers: one on a single-producer ring. */
	pfd = xopen();
	T_SYS(t_attach(pfd, BB_ROLE_PRODUCER, BB_ATTACH_NAME, -1, name, BB_ID_ANY, 0, NULL),
	      "ATTACH a producer");
	T_SYS(ioctl(pfd, BB_IOC_INFO, &in), "INFO on the producer");
	T_EQ(in.role, BB_ROLE_PRODUCER, "INFO role PRODUCER");
	T_EQ(in.consumer_id, BB_ID_ANY, "producer consumer_id BB_ID_ANY");
	T_EQ(bb_load(&m.v.hdr->nr_producers), 1, "header: nr_producers 1");
	close(fd2);
	fd2 = xopen();
	snap_take(&m, &s);
	T_ERR(t_attach(fd2, BB_ROLE_PRODUCER, BB_ATTACH_NAME, -1, name, BB_ID_ANY, 0, NULL) ? -1 : 0,
	      EBUSY, "ATTACH a second producer on a single-producer ring -> EBUSY");
	T_OK(unbound(fd2), "after EBUSY the fd is unbound");
	T_SAME(&m, &s, "a failed second-producer ATTACH");
	close(pfd);
	T_SYS(t_attach(fd2, BB_ROLE_PRODUCER, BB_ATTACH_NAME, -1, name, BB_ID_ANY, 0, NULL),
	      "ATTACH a producer after the first closed");
	close(fd2);

	/* The creator's handle: SELF once, then it is a participant. */
	T_ERR(t_attach(m.fd, BB_ROLE_OBSERVER, BB_ATTACH_NAME, -1, name, BB_ID_ANY, 0, NULL) ? -1 : 0,
	      EISCONN, "ATTACH by name on the creator's fd -> EISCONN (it is bound)");
	close(c5);
	close(c3);
	close(c2);
	close(fd);
	close(obs);
	{
		int e;

		e = t_attach(m.fd, BB_ROLE_CONSUMER, BB_ATTACH_SELF, -1, NULL, BB_ID_ANY, 0, &id);
		T_RC(e, 0, "ATTACH SELF on the creator's fd (as a consumer)");
		T_ERR(t_attach(m.fd, BB_ROLE_CONSUMER, BB_ATTACH_SELF, -1, NULL, BB_ID_ANY, 0, NULL) ? -1 : 0,
		      EISCONN, "ATTACH SELF a second time -> EISCONN");
		T_SYS(ioctl(m.fd, BB_IOC_INFO, &in), "INFO on the creator turned consumer");
		T_EQ(in.role, BB_ROLE_CONSUMER, "the creator's fd is now a CONSUMER");
	}
	t_ring_close(&m);
	T_OK(name_free(name), "the ATTACH test ring is gone");

	/* ESHUTDOWN: a halted ring takes no one. */
	{
		struct t_ring h;
		const char *hn = t_name("at-halt");

		if (t_ring_new(&h, BB_RING_MULTI_PRODUCER, 8, 8, 2, hn) == 0) {
			T_SYS(ioctl(h.fd, BB_IOC_HALT, 0), "HALT a fresh ring");
			fd = xopen();
			T_ERR(t_attach(fd, BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, hn, BB_ID_ANY, 0, NULL) ? -1 : 0,
			      ESHUTDOWN, "ATTACH consumer to a halted ring -> ESHUTDOWN");
			T_ERR(t_attach(fd, BB_ROLE_PRODUCER, BB_ATTACH_FD, h.fd, NULL, BB_ID_ANY, 0, NULL) ? -1 : 0,
			      ESHUTDOWN, "ATTACH producer to a halted ring -> ESHUTDOWN");
			T_ERR(t_attach(h.fd, BB_ROLE_PRODUCER, BB_ATTACH_SELF, -1, NULL, BB_ID_ANY, 0, NULL) ? -1 : 0,
			      ESHUTDOWN, "ATTACH SELF to a halted ring -> ESHUTDOWN");
			T_OK(unbound(fd), "after ESHUTDOWN the fd is unbound");
			close(fd);
			t_ring_close(&h);
		} else {
			T_OK(0, "create the halt ring");
		}
	}
}

/* ------------------------------------------------------------------ */
/* 3b. Modes (EACCES): a non-root process against 0600/0604/0602 rings */

struct acc_case {
	const char *name;
	__u32 role;
	int want;	/* 0 or errno */
};

struct acc_arg {
	const struct acc_case *cases;
	int n;
	__u32 *results;	/* shared: errno + 1 per case, 0 = not run */
};

static int acc_child(void *p)
{
	struct acc_arg *a = p;
	int i;

	if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
	    setresuid(65534, 65534, 65534) != 0)
		return T_EXIT_SKIP;
	for (i = 0; i < a->n; i++) {
		int fd = t_open(), e;

		if (fd < 0)
			return T_EXIT_SKIP;	/* the device node is root-only */
		e = t_attach(fd, a->cases[i].role, BB_ATTACH_NAME, -1,
			     a->cases[i].name, BB_ID_ANY, 0, NULL);
		a->results[i] = (__u32)(-e) + 1;
		close(fd);
	}
	return 0;
}

static void test_modes(void)
{
	const char *n600 = t_name("m600"), *n604 = t_name("m604");
	const char *n602 = t_name("m602"), *n606m = t_name("m606m");
	const char *n0 = t_name("m0"), *n604m = t_name("m604m");
	struct acc_case cases[] = {
		{ n0, BB_ROLE_CONSUMER, EACCES },
		{ n0, BB_ROLE_OBSERVER, EACCES },
		{ n600, BB_ROLE_PRODUCER, EACCES },
		{ n600, BB_ROLE_CONSUMER, EACCES },
		{ n604, BB_ROLE_CONSUMER, 0 },
		{ n604, BB_ROLE_OBSERVER, 0 },
		{ n604, BB_ROLE_PRODUCER, EACCES },
		{ n602, BB_ROLE_PRODUCER, 0 },
		{ n602, BB_ROLE_CONSUMER, EACCES },
		{ n602, BB_ROLE_OBSERVER, EACCES },
		{ n606m, BB_ROLE_OBSERVER, 0 },
		{ n606m, BB_ROLE_PRODUCER, 0 },
		{ n606m, BB_ROLE_CONSUMER, 0 },
		/* mutable ring, others r only: consumers need rw */
		{ n604m, BB_ROLE_CONSUMER, EACCES },
		{ n604m, BB_ROLE_OBSERVER, 0 },
		{ n604m, BB_ROLE_PRODUCER, EACCES },
	};
	struct { const char *name; __u32 flags, mode; } rings[] = {
		{ n0, 0, 0 }, { n600, 0, 0600 }, { n604, 0, 0604 },
		{ n602, 0, 0602 }, { n606m, BB_RING_MUTABLE_CONSUMERS, 0606 },
		{ n604m, BB_RING_MUTABLE_CONSUMERS, 0604 },
	};
	int nr = (int)(sizeof(rings) / sizeof(rings[0]));
	int fds[8], i, st, n = (int)(sizeof(cases) / sizeof(cases[0]));
	struct acc_arg arg = { cases, n, t_shared(4096) };
	pid_t pid;

	t_diag("--- modes: EACCES for a non-root user");
	if (geteuid() != 0) {
		t_skip("not root", "mode checks need root to create and setuid");
		return;
	}
	for (i = 0; i < nr; i++) {
		struct bb_create c;

		fds[i] = xopen();
		t_create_args(&c, rings[i].flags, 8, 8, 4, rings[i].name);
		c.mode = rings[i].mode;
		T_SYS(cr(fds[i], &c), "CREATE \"%s\" mode 0%o", rings[i].name, rings[i].mode);
	}
	pid = t_spawn("nobody", 20, acc_child, &arg);
	st = t_reap(pid, 20000);
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == T_EXIT_SKIP) {
		t_skip("uid 65534 cannot open " BB_DEVICE_PATH, "mode checks");
	} else {
		T_CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
			t_status_str(st), "the uid-65534 child ran");
		for (i = 0; i < n; i++) {
			int got = (int)arg.results[i] - 1;

			T_CHECK(got == cases[i].want,
				t_fmt("got %s, want %s", t_errname(got), t_errname(cases[i].want)),
				"uid 65534 attaching as role %u to \"%s\" -> %s",
				cases[i].role, cases[i].name, t_errname(cases[i].want));
		}
	}
	for (i = 0; i < nr; i++)
		close(fds[i]);
	munmap(arg.results, 4096);
}

/* ------------------------------------------------------------------ */
/* 4. INFO and STATS                                                    */

static void test_info_stats(void)
{
	struct t_ring m;
	struct bb_info in;
	struct bb_stats st;
	const char *name = t_name("info");
	int fd = xopen();

	t_diag("--- BB_IOC_INFO, BB_IOC_STATS");
	T_ERR(ioctl(fd, BB_IOC_INFO, &in), EBADFD, "INFO on an unbound fd -> EBADFD");
	T_ERR(ioctl(fd, BB_IOC_STATS, &st), EBADFD, "STATS on an unbound fd -> EBADFD");
	close(fd);
	if (t_ring_new(&m, BB_RING_MULTI_PRODUCER, 256, 40, 5, name)) {
		T_OK(0, "create the INFO ring");
		return;
	}
	T_ERR(ioctl(m.fd, BB_IOC_INFO, NULL), EFAULT, "INFO NULL -> EFAULT");
	T_ERR(ioctl(m.fd, BB_IOC_INFO, g_unmapped), EFAULT, "INFO unmapped -> EFAULT");
	T_ERR(ioctl(m.fd, BB_IOC_INFO, g_ro), EFAULT, "INFO read-only -> EFAULT");
	T_ERR(ioctl(m.fd, BB_IOC_INFO, g_edge + g_page - 16), EFAULT,
	      "INFO straddling an unmapped page -> EFAULT");
	T_ERR(ioctl(m.fd, BB_IOC_STATS, NULL), EFAULT, "STATS NULL -> EFAULT");
	T_ERR(ioctl(m.fd, BB_IOC_STATS, g_unmapped), EFAULT, "STATS unmapped -> EFAULT");
	T_ERR(ioctl(m.fd, BB_IOC_STATS, g_ro), EFAULT, "STATS read-only -> EFAULT");

	T_SYS(ioctl(m.fd, BB_IOC_INFO, &in), "INFO");
	T_EQ(in.page_size, (unsigned long)g_page, "INFO page_size");
	T_EQ(in.slot_count, 256, "INFO slot_count");
	T_EQ(in.slot_size, 40, "INFO slot_size");
	T_EQ(in.max_consumers, 5, "INFO max_consumers");
	T_EQ(in.flags, BB_RING_MULTI_PRODUCER, "INFO flags");
	T_EQ(in.features, BB_FEAT_SLEEPER_BARRIER | BB_FEAT_RECORD_WON,
	     "INFO features: the sleepers fence every CPU, unrecorded wins "
	     "are found out, and nothing else");
	/* The module parameter decides for rings created after it changes. */
	if (!T_RC(t_param_write("sleeper_barrier", "0"), 0,
		  "sleeper_barrier=0")) {
		struct t_ring o;

		if (!T_RC(t_ring_new(&o, 0, 8, 8, 1, NULL), 0, "a new ring")) {
			T_SYS(ioctl(o.fd, BB_IOC_INFO, &in), "its INFO");
			T_EQ(in.features, BB_FEAT_RECORD_WON,
			     "INFO features: movers fence");
			t_ring_close(&o);
		}
		T_SYS(ioctl(m.fd, BB_IOC_INFO, &in), "INFO of the older ring");
		T_EQ(in.features, BB_FEAT_SLEEPER_BARRIER | BB_FEAT_RECORD_WON,
		     "an existing ring keeps its protocol");
		T_RC(t_param_write("sleeper_barrier", "1"), 0,
		     "sleeper_barrier=1 again");
	}
	T_OK(in.header_off % (__u64)g_page == 0 && in.producer_off % (__u64)g_page == 0 &&
	     in.consumers_off % (__u64)g_page == 0 && in.slots_off % (__u64)g_page == 0,
	     "region offsets are page-aligned");
	T_OK(in.header_len >= sizeof(struct bb_ring_header) && in.header_len % (__u64)g_page == 0,
	     "header_len covers the header, whole pages");
	T_OK(in.producer_len % (__u64)g_page == 0 && in.producer_len >= sizeof(struct bb_producer_page),
	     "producer_len whole pages");
	T_OK(in.avail_off >= sizeof(struct bb_producer_page) && in.avail_off % 4 == 0 &&
	     in.avail_off + 4ull * in.slot_count <= in.producer_len,
	     "avail[] (off %llu) fits the producer region (len %llu)",
	     (unsigned long long)in.avail_off, (unsigned long long)in.producer_len);
	T_OK(in.consumer_stride >= sizeof(struct bb_consumer_page) &&
	     in.consumer_stride % (__u64)g_page == 0,
	     "consumer_stride %llu: one page or more per consumer (page protections)",
	     (unsigned long long)in.consumer_stride);
	T_OK(in.consumers_len >= in.consumer_stride * in.max_consumers,
	     "consumers_len covers max_consumers pages");
	T_EQ(in.slots_len, (__u64)in.slot_count * in.slot_size,
	     "slots_len is slot_count * slot_size (uapi comment)");
	T_EQ(m.v.hdr->magic, BB_MAGIC, "header magic");
	T_EQ(m.v.hdr->version, BB_ABI_VERSION, "header version");
	T_EQ(m.v.hdr->slot_count, 256, "header slot_count");
	T_EQ(m.v.hdr->slot_shift, 8, "header slot_shift");
	T_EQ(m.v.hdr->slot_size, 40, "header slot_size");
	T_EQ(m.v.hdr->max_consumers, 5, "header max_consumers");
	T_EQ(m.v.hdr->flags, BB_RING_MULTI_PRODUCER, "header flags");
	T_EQ(m.v.hdr->ring_id, in.ring_id, "header ring_id");
	T_EQ(m.v.hdr->status, BB_STATUS_RUNNING, "header status RUNNING");
	T_SYS(ioctl(m.fd, BB_IOC_STATS, &st), "STATS");
	T_EQ(st.ring_id, in.ring_id, "STATS ring_id");
	T_EQ(st.status, BB_STATUS_RUNNING, "STATS status");
	T_EQ(st.nr_producers, 0, "STATS nr_producers");
	T_EQ(st.nr_consumers, 0, "STATS nr_consumers");
	T_EQ(st.waiters, 0, "STATS waiters");
	T_OK(st.bytes >= in.slots_len, "STATS bytes (%llu) covers the slots",
	     (unsigned long long)st.bytes);
	T_OK(st.rings >= 2, "STATS rings counts this and the monitor ring");
	t_ring_close(&m);
}

/* ------------------------------------------------------------------ */
/* 5-9. WAIT, WAKE, CLAIM, PUBLISH, HALT on a small ring                */

static void test_ops(void)
{
	struct t_ring c, p, k, o;
	struct snap s;
	struct bb_wait w;
	struct bb_claim cl;
	struct bb_publish pb;
	struct bb_stats st0, st1;
	const char *name = t_name("ops");
	int u = xopen(), i, roles[3];
	__u64 seq = 0, limit = 0;
	static const char *const rn[] = { "creator", "consumer", "observer" };

	t_diag("--- BB_IOC_WAIT, WAKE, CLAIM, PUBLISH, HALT");
	if (t_ring_new(&c, 0, 8, 64, 2, name) ||
	    t_join(&k, name, BB_ROLE_CONSUMER, 0, 0) ||
	    t_join(&o, name, BB_ROLE_OBSERVER, BB_ID_ANY, 0) ||
	    t_join(&p, name, BB_ROLE_PRODUCER, BB_ID_ANY, 0)) {
		T_OK(0, "set up the ops ring");
		return;
	}
	roles[0] = c.fd;
	roles[1] = k.fd;
	roles[2] = o.fd;

	/* Unbound: EBADFD, even with bad arguments. */
	memset(&w, 0, sizeof(w));
	T_ERR(ioctl(u, BB_IOC_WAIT, &w), EBADFD, "WAIT unbound -> EBADFD");
	w.flags = ~0u;
	T_ERR(ioctl(u, BB_IOC_WAIT, &w), EBADFD, "WAIT unbound, bad flags -> EBADFD (fd first)");
	T_ERR(ioctl(u, BB_IOC_WAKE, BB_WAKE_ALL), EBADFD, "WAKE unbound -> EBADFD");
	T_ERR(ioctl(u, BB_IOC_WAKE, ~0ul), EBADFD, "WAKE unbound, bad bits -> EBADFD (fd first)");
	memset(&cl, 0, sizeof(cl));
	cl.count = 1;
	T_ERR(ioctl(u, BB_IOC_CLAIM, &cl), EBADFD, "CLAIM unbound -> EBADFD");
	memset(&pb, 0, sizeof(pb));
	pb.count = 1;
	T_ERR(ioctl(u, BB_IOC_PUBLISH, &pb), EBADFD, "PUBLISH unbound -> EBADFD");
	T_ERR(ioctl(u, BB_IOC_HALT, 0), EBADFD, "HALT unbound -> EBADFD");
	T_OK(unbound(u), "the unbound fd stays unbound");

	snap_take(&c, &s);
	/* WAIT */
	memset(&w, 0, sizeof(w));
	T_ERR(ioctl(c.fd, BB_IOC_WAIT, &w), EPERM, "WAIT by the creator (role NONE) -> EPERM");
	T_ERR(ioctl(o.fd, BB_IOC_WAIT, &w), EPERM, "WAIT by an observer -> EPERM");
	w.flags = ~0u;
	T_ERR(ioctl(o.fd, BB_IOC_WAIT, &w), EPERM, "WAIT by an observer, bad flags -> EPERM (role first)");
	memset(&w, 0, sizeof(w));
	w.flags = 1u << 1;
	T_ERR(ioctl(k.fd, BB_IOC_WAIT, &w), EINVAL, "WAIT flags 1<<1 -> EINVAL");
	w.flags = 1u << 31 | BB_WAITF_DEADLINE;
	w.deadline_ns = 1;
	T_ERR(ioctl(k.fd, BB_IOC_WAIT, &w), EINVAL, "WAIT flags 1<<31 -> EINVAL");
	memset(&w, 0, sizeof(w));
	w.reserved = 1;
	w.flags = BB_WAITF_DEADLINE;
	w.deadline_ns = 1;
	T_ERR(ioctl(k.fd, BB_IOC_WAIT, &w), EINVAL, "WAIT reserved nonzero -> EINVAL");
	T_ERR(ioctl(k.fd, BB_IOC_WAIT, NULL), EFAULT, "WAIT NULL -> EFAULT");
	T_ERR(ioctl(k.fd, BB_IOC_WAIT, g_unmapped), EFAULT, "WAIT unmapped -> EFAULT");
	memset(&w, 0, sizeof(w));
	w.flags = BB_WAITF_DEADLINE;
	w.deadline_ns = 1;
	T_ERR(ioctl(k.fd, BB_IOC_WAIT, &w), ETIMEDOUT,
	      "consumer WAIT for event 0 on an empty ring, deadline in the past -> ETIMEDOUT");
	w.seq = ~0ull;
	T_ERR(ioctl(k.fd, BB_IOC_WAIT, &w), ETIMEDOUT,
	      "consumer WAIT for event 2^64-1, deadline in the past -> ETIMEDOUT");
	memset(&w, 0, sizeof(w));
	T_SYS(ioctl(p.fd, BB_IOC_WAIT, &w), "producer WAIT for slot 0 (free) returns at once");
	T_EQ(w.limit, 8, "producer WAIT limit = consumer seq 0 + 8 slots");
	memset(&w, 0, sizeof(w));
	w.seq = 7;
	T_ERR(ioctl(p.fd, BB_IOC_WAIT, ro_copy(&w, sizeof(w))), EFAULT,
	      "producer WAIT with a read-only arg (limit cannot be written) -> EFAULT");
	w.flags = BB_WAITF_DEADLINE;
	w.deadline_ns = 1;
	w.seq = 8;
	T_ERR(ioctl(p.fd, BB_IOC_WAIT, &w), ETIMEDOUT,
	      "producer WAIT for slot 8 (needs consumer at 1), deadline past -> ETIMEDOUT");
	T_SAME(&c, &s, "failed WAITs");

	/* WAKE */
	T_SYS(t_stats(c.fd, &st0), "STATS before WAKEs");
	for (i = 0; i < 3; i++) {
		T_ERR(ioctl(roles[i], BB_IOC_WAKE, 1ul << 3), EINVAL, "WAKE 1<<3 by the %s -> EINVAL", rn[i]);
		T_ERR(ioctl(roles[i], BB_IOC_WAKE, ~0ul), EINVAL, "WAKE ~0 by the %s -> EINVAL", rn[i]);
		T_ERR(ioctl(roles[i], BB_IOC_WAKE, 1ul << 32 | BB_WAKE_CONSUMERS), EINVAL,
		      "WAKE (1<<32)|CONSUMERS by the %s -> EINVAL (no truncation to 32 bits)", rn[i]);
	}
	T_SYS(t_stats(c.fd, &st1), "STATS after failed WAKEs");
	T_EQ(st1.wakeups, st0.wakeups, "failed WAKEs are not counted");
	T_SYS(ioctl(p.fd, BB_IOC_WAKE, BB_WAKE_CONSUMERS), "WAKE CONSUMERS by the producer");
	T_SYS(ioctl(k.fd, BB_IOC_WAKE, BB_WAKE_PRODUCERS | BB_WAKE_DEPENDENTS),
	      "WAKE PRODUCERS|DEPENDENTS by the consumer");
	T_SYS(ioctl(c.fd, BB_IOC_WAKE, BB_WAKE_ALL), "WAKE ALL by the creator");
	T_SYS(ioctl(o.fd, BB_IOC_WAKE, BB_WAKE_ALL), "WAKE ALL by an observer");
	T_SYS(ioctl(p.fd, BB_IOC_WAKE, 0), "WAKE 0 (no unknown bits) succeeds");
	T_SYS(t_stats(c.fd, &st1), "STATS after 5 WAKEs");
	T_EQ(st1.wakeups - st0.wakeups, 5, "STATS wakeups counts each WAKE call");
	T_SAME(&c, &s, "WAKEs change no state");

	/* CLAIM */
	memset(&cl, 0, sizeof(cl));
	cl.count = 1;
	T_ERR(ioctl(k.fd, BB_IOC_CLAIM, &cl), EPERM, "CLAIM by a consumer -> EPERM");
	T_ERR(ioctl(o.fd, BB_IOC_CLAIM, &cl), EPERM, "CLAIM by an observer -> EPERM");
	T_ERR(ioctl(c.fd, BB_IOC_CLAIM, &cl), EPERM, "CLAIM by the creator (role NONE) -> EPERM");
	cl.count = 0;
	T_ERR(ioctl(k.fd, BB_IOC_CLAIM, &cl), EPERM, "CLAIM count 0 by a consumer -> EPERM (role first)");
	T_ERR(ioctl(p.fd, BB_IOC_CLAIM, &cl), EINVAL, "CLAIM count 0 -> EINVAL");
	cl.count = 9;
	T_ERR(ioctl(p.fd, BB_IOC_CLAIM, &cl), EINVAL, "CLAIM count 9 on 8 slots -> EINVAL");
	cl.count = 0xffffffffu;
	T_ERR(ioctl(p.fd, BB_IOC_CLAIM, &cl), EINVAL, "CLAIM count 2^32-1 -> EINVAL");
	cl.count = 1;
	cl.flags = 1u << 2;
	T_ERR(ioctl(p.fd, BB_IOC_CLAIM, &cl), EINVAL, "CLAIM flags 1<<2 -> EINVAL");
	cl.flags = 1u << 31 | BB_CLAIMF_NONBLOCK;
	T_ERR(ioctl(p.fd, BB_IOC_CLAIM, &cl), EINVAL, "CLAIM flags 1<<31 -> EINVAL");
	T_ERR(ioctl(p.fd, BB_IOC_CLAIM, NULL), EFAULT, "CLAIM NULL -> EFAULT");
	T_ERR(ioctl(p.fd, BB_IOC_CLAIM, g_unmapped), EFAULT, "CLAIM unmapped -> EFAULT");
	T_SAME(&c, &s, "failed CLAIMs");
	memset(&cl, 0, sizeof(cl));
	cl.count = 3;
	cl.flags = BB_CLAIMF_NONBLOCK;
	T_ERR(ioctl(p.fd, BB_IOC_CLAIM, ro_copy(&cl, sizeof(cl))), EFAULT,
	      "CLAIM with a read-only arg (seq cannot be written) -> EFAULT");
	T_SAME(&c, &s, "a CLAIM whose result could not be returned claimed nothing");
	T_RC(t_claim_ioctl(p.fd, 3, BB_CLAIMF_NONBLOCK, 0, &seq), 0, "CLAIM 3");
	T_EQ(seq, 0, "first claim starts at 0");
	T_RC(t_claim_ioctl(p.fd, 5, 0, 0, &seq), 0, "CLAIM 5 (blocking, room)");
	T_EQ(seq, 3, "second claim starts at 3");
	T_EQ(bb_load(&c.v.prod->claim), 8, "producer page claim frontier 8");
	T_RC(t_claim_ioctl(p.fd, 1, BB_CLAIMF_NONBLOCK, 0, &seq), -EAGAIN,
	     "CLAIM 1 NONBLOCK on a full ring -> EAGAIN");
	T_RC(t_claim_ioctl(p.fd, 8, BB_CLAIMF_NONBLOCK, 0, &seq), -EAGAIN,
	     "CLAIM 8 (= slot_count) NONBLOCK on a full ring -> EAGAIN, not EINVAL");
	T_RC(t_claim_ioctl(p.fd, 1, 0, 1, &seq), -ETIMEDOUT,
	     "CLAIM 1 on a full ring, deadline in the past -> ETIMEDOUT");

	/* PUBLISH */
	snap_take(&c, &s);
	memset(&pb, 0, sizeof(pb));
	pb.count = 1;
	T_ERR(ioctl(k.fd, BB_IOC_PUBLISH, &pb), EPERM, "PUBLISH by a consumer -> EPERM");
	T_ERR(ioctl(o.fd, BB_IOC_PUBLISH, &pb), EPERM, "PUBLISH by an observer -> EPERM");
	T_ERR(ioctl(c.fd, BB_IOC_PUBLISH, &pb), EPERM, "PUBLISH by the creator -> EPERM");
	pb.count = 0;
	T_ERR(ioctl(p.fd, BB_IOC_PUBLISH, &pb), EINVAL, "PUBLISH count 0 -> EINVAL");
	pb.count = 9;
	T_ERR(ioctl(p.fd, BB_IOC_PUBLISH, &pb), EINVAL, "PUBLISH count 9 on 8 slots -> EINVAL");
	pb.count = 1;
	pb.reserved = 1;
	T_ERR(ioctl(p.fd, BB_IOC_PUBLISH, &pb), EINVAL, "PUBLISH reserved nonzero -> EINVAL");
	pb.reserved = 0;
	pb.seq = 8;
	T_ERR(ioctl(p.fd, BB_IOC_PUBLISH, &pb), EINVAL, "PUBLISH [8,9) beyond the claim frontier 8 -> EINVAL");
	pb.seq = 7;
	pb.count = 2;
	T_ERR(ioctl(p.fd, BB_IOC_PUBLISH, &pb), EINVAL, "PUBLISH [7,9) crossing the frontier -> EINVAL");
	pb.seq = ~0ull - 1;
	pb.count = 4;
	T_ERR(ioctl(p.fd, BB_IOC_PUBLISH, &pb), EINVAL, "PUBLISH [2^64-2, +4) (wraps) -> EINVAL");
	pb.seq = ~0ull;
	pb.count = 1;
	T_ERR(ioctl(p.fd, BB_IOC_PUBLISH, &pb), EINVAL, "PUBLISH [2^64-1, +1) -> EINVAL");
	T_ERR(ioctl(p.fd, BB_IOC_PUBLISH, NULL), EFAULT, "PUBLISH NULL -> EFAULT");
	T_ERR(ioctl(p.fd, BB_IOC_PUBLISH, g_unmapped), EFAULT, "PUBLISH unmapped -> EFAULT");
	T_SAME(&c, &s, "failed PUBLISHes (cursor unchanged)");
	for (i = 0; i < 8; i++)
		t_fill(bb_slot(&p.v, (__u64)i), 64, (__u64)i);
	T_RC(t_publish_ioctl(p.fd, 0, 3), 0, "PUBLISH [0,3)");
	T_EQ(bb_load_acquire(&c.v.prod->cursor), 3, "cursor 3");
	T_RC(t_publish_ioctl(p.fd, 3, 5), 0, "PUBLISH [3,8)");
	T_EQ(bb_load_acquire(&c.v.prod->cursor), 8, "cursor 8");
	memset(&w, 0, sizeof(w));
	w.seq = 7;
	T_SYS(ioctl(k.fd, BB_IOC_WAIT, &w), "consumer WAIT for event 7 (published) returns at once");
	T_EQ(w.limit, 8, "consumer WAIT limit 8");
	T_EQ(bb_consumer_limit(&k.v, k.id, 0, 8), 8, "fast-path consumer limit 8");
	T_OK(t_check(bb_slot(&k.v, 5), 64, 5) == 0, "event 5's content through the consumer's map");
	/* The consumer frees room: claims go on. */
	bb_consumer_advance(&k.v, k.self, k.id, 8);
	T_RC(t_claim_ioctl(p.fd, 8, BB_CLAIMF_NONBLOCK, 0, &seq), 0,
	     "CLAIM 8 NONBLOCK after the consumer moved to 8");
	T_EQ(seq, 8, "claim starts at 8");
	T_RC(t_publish_ioctl(p.fd, 8, 8), 0, "PUBLISH [8,16)");

	/* HALT */
	T_ERR(ioctl(o.fd, BB_IOC_HALT, 0), EPERM, "HALT by an observer -> EPERM");
	T_EQ(bb_load(&c.v.hdr->status), BB_STATUS_RUNNING, "still RUNNING");
	T_SYS(ioctl(k.fd, BB_IOC_HALT, 0), "HALT by a consumer");
	T_EQ(bb_load(&c.v.hdr->status), BB_STATUS_HALTED, "header status HALTED");
	T_SYS(t_stats(o.fd, &st1), "STATS by an observer after the halt");
	T_EQ(st1.status, BB_STATUS_HALTED, "STATS status HALTED");
	T_RC(t_claim_ioctl(p.fd, 1, BB_CLAIMF_NONBLOCK, 0, &seq), -ESHUTDOWN,
	     "CLAIM after HALT -> ESHUTDOWN");
	T_RC(t_claim_ioctl(p.fd, 1, 0, 0, &seq), -ESHUTDOWN,
	     "blocking CLAIM after HALT -> ESHUTDOWN");
	T_RC(t_wait_ioctl(k.fd, 16, 0, &limit), -ESHUTDOWN,
	     "consumer WAIT for an unpublished event after HALT -> ESHUTDOWN (no sleep)");
	T_RC(t_wait_ioctl(p.fd, 100, 0, &limit), -ESHUTDOWN,
	     "producer WAIT after HALT -> ESHUTDOWN");
	T_SYS(ioctl(c.fd, BB_IOC_INFO, &c.info), "INFO still works after HALT");
	t_ring_close(&p);
	t_ring_close(&o);
	t_ring_close(&k);
	t_ring_close(&c);
	close(u);

	/* The creator and a producer may halt too. */
	{
		const char *hn = t_name("halt2");
		struct t_ring h, hp;

		if (t_ring_new(&h, 0, 8, 8, 1, hn) == 0 &&
		    t_join(&hp, hn, BB_ROLE_PRODUCER, BB_ID_ANY, 0) == 0) {
			T_SYS(ioctl(hp.fd, BB_IOC_HALT, 0), "HALT by a producer");
			T_EQ(bb_load(&h.v.hdr->status), BB_STATUS_HALTED, "HALTED");
			t_ring_close(&hp);
			t_ring_close(&h);
		} else {
			T_OK(0, "set up the producer-halt ring");
		}
		if (t_ring_new(&h, 0, 8, 8, 1, hn) == 0) {
			T_SYS(ioctl(h.fd, BB_IOC_HALT, 0), "HALT by the creator");
			T_EQ(bb_load(&h.v.hdr->status), BB_STATUS_HALTED, "HALTED");
			t_ring_close(&h);
		} else {
			T_OK(0, "set up the creator-halt ring");
		}
	}
}

/*
 * Multi-producer kernel-mediated claims belong to the fd that took them:
 * the kernel remembers them (to abandon them if the producer dies), so
 * it publishes only those, and refuses to remember too many.
 */
static void test_mp_claim_ownership(void)
{
	struct t_ring c, a, b;
	struct bb_stats st;
	__u64 sa = 0, sb = 0, seq = 0;
	const char *name = t_name("owner");
	int i;

	t_diag("--- multi-producer BB_IOC_CLAIM/PUBLISH ownership");
	if (t_ring_new(&c, BB_RING_MULTI_PRODUCER, 64, 8, 1, name) ||
	    t_join(&a, name, BB_ROLE_PRODUCER, BB_ID_ANY, 0) ||
	    t_join(&b, name, BB_ROLE_PRODUCER, BB_ID_ANY, 0)) {
		T_OK(0, "set up");
		return;
	}
	T_RC(t_claim_ioctl(a.fd, 4, BB_CLAIMF_NONBLOCK, 0, &sa), 0, "A claims 4");
	T_RC(t_claim_ioctl(b.fd, 2, BB_CLAIMF_NONBLOCK, 0, &sb), 0, "B claims 2");
	T_EQ(sb, sa + 4, "B's claim follows A's");
	T_RC(t_publish_ioctl(b.fd, sa, 1), -EINVAL, "B publishing A's slot -> EINVAL");
	T_RC(t_publish_ioctl(a.fd, sa + 3, 2), -EINVAL,
	     "A publishing across into B's claim -> EINVAL");
	T_OK(!bb_is_published(&c.v, sa) && !bb_is_published(&c.v, sb),
	     "the refused publishes published nothing");
	T_RC(t_publish_ioctl(a.fd, sa + 1, 2), 0, "A publishes the middle of its claim");
	T_RC(t_publish_ioctl(a.fd, sa + 1, 1), -EINVAL, "... and not twice");
	T_RC(t_publish_ioctl(a.fd, sa, 1), 0, "A publishes its first slot");
	T_RC(t_publish_ioctl(a.fd, sa + 3, 1), 0, "A publishes its last slot");
	T_RC(t_publish_ioctl(b.fd, sb, 2), 0, "B publishes its own claim");
	T_OK(bb_is_published(&c.v, sa + 5), "all six are published");

	/* Disjoint claims use one record each; 16 may be outstanding. */
	for (i = 0; i < 16; i++) {
		if (t_claim_ioctl(a.fd, 1, BB_CLAIMF_NONBLOCK, 0, &seq) ||
		    t_claim_ioctl(b.fd, 1, BB_CLAIMF_NONBLOCK, 0, &sb))
			break;
	}
	T_EQ(i, 16, "A holds 16 claims interleaved with B's");
	T_RC(t_claim_ioctl(a.fd, 1, BB_CLAIMF_NONBLOCK, 0, &sa), -EBUSY,
	     "a 17th outstanding claim -> EBUSY");
	T_EQ(bb_load(&c.v.prod->claim), sb + 1, "and claimed nothing");
	T_RC(t_publish_ioctl(a.fd, seq, 1), 0, "publishing one of them ...");
	T_RC(t_claim_ioctl(a.fd, 1, BB_CLAIMF_NONBLOCK, 0, &sa), 0, "... makes room again");
	T_SYS(t_stats(c.fd, &st), "STATS");
	T_EQ(st.abandoned, 0, "nothing abandoned while both live");
	t_ring_close(&a);
	T_SYS(t_stats(c.fd, &st), "STATS after A closed");
	T_EQ(st.abandoned, 16, "A's 16 unpublished claims were abandoned on close");
	t_ring_close(&b);
	t_ring_close(&c);
}

int main(void)
{
	struct t_ring mon;
	__u64 rings0;

	t_init("abi_badinput", 120);
	g_page = sysconf(_SC_PAGESIZE);
	mem_init();
	/* A ring of our own whose STATS tell the module's ring count. */
	if (t_ring_new(&mon, 0, 2, 8, 1, NULL)) {
		printf("Bail out! cannot create a ring\n");
		return 1;
	}
	rings0 = rings_now(mon.fd);
	T_OK(rings0 >= 1 && rings0 != ~0ull, "STATS rings counts the monitor ring (%llu)",
	     (unsigned long long)rings0);

	test_enotty();
	test_create(mon.fd);
	test_attach();
	test_modes();
	test_info_stats();
	test_ops();
	test_mp_claim_ownership();

	T_EQ(rings_settle(mon.fd, rings0), rings0,
	     "every test ring is freed: STATS rings is back to its start value");
	t_ring_close(&mon);
	return t_done();
}
