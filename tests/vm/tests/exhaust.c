// SPDX-License-Identifier: GPL-2.0
/*
 * Resource exhaustion, for real rather than one over a lowered limit:
 *   - rings until the module's max_rings (its default, 4096) refuses
 *     with ENOSPC; everything released, the count is back at baseline,
 *     and the same number fits again (nothing leaked);
 *   - rings of 1 MiB until max_user_mb refuses with ENOSPC, twice, the
 *     same count both times; another user keeps a budget of its own;
 *   - consumers until the ring's max_consumers (64) refuses with ENOSPC,
 *     taken ids EBUSY, a second producer on a single-producer ring EBUSY,
 *     many producers on a multi-producer ring; after closing, every id is
 *     free again;
 *   - 16 disjoint kernel claims per fd, the 17th EBUSY; closing the fd
 *     abandons exactly those slots;
 *   - huge geometries: out of range EINVAL, over max_ring_mb E2BIG, and
 *     with every limit lifted ENOMEM, without a kernel warning;
 *   - a ring kept alive only by hundreds of mappings goes with the last
 *     munmap.
 * Each failed call leaves the fd unbound; at the end the ring count and
 * the module refcount are back at their baseline.
 */
#include <sys/resource.h>
#include "harness.h"

#define PARAM_DIR "/sys/module/badbatch/parameters/"

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

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fprintf(f, "%ld\n", v) > 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static long param(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	return read_long(path);
}

static int param_set(const char *name, long v)
{
	char path[128];

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	return write_long(path, v);
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

static int unbound(int fd)
{
	struct bb_info in;

	return t_info(fd, &in) == -EBADFD;
}

/* Create rings on fresh fds until a create fails; its errno in *err. */
static int fill(int *fds, int max, __u32 slots, __u32 size, int *err)
{
	int n;

	*err = 0;
	for (n = 0; n < max; n++) {
		fds[n] = t_open();
		if (fds[n] < 0) {
			*err = -errno;
			break;
		}
		*err = t_create(fds[n], 0, slots, size, 1, NULL, NULL);
		if (*err)
			break;
	}
	if (n < max && fds[n] >= 0) {
		if (!unbound(fds[n]))
			*err = -EISCONN;	/* a failed create bound it */
		close(fds[n]);
	}
	return n;
}

static void drop(int *fds, int n)
{
	while (n > 0)
		close(fds[--n]);
}

static void test_max_rings(long base)
{
	long max = param("max_rings");
	int *fds, n1, n2, err;
	long want = max - base;

	if (max <= 0 || max > 16384) {
		t_skip("max_rings unreadable or too large", "max_rings");
		return;
	}
	fds = calloc((size_t)max + 8, sizeof(int));
	n1 = fill(fds, (int)max + 4, 2, 8, &err);
	T_EQ(n1, want, "%ld rings fit under max_rings = %ld", want, max);
	T_RC(err, -ENOSPC, "ring %ld: ENOSPC, fd left unbound", want + 1);
	drop(fds, n1);
	T_EQ(rings_alive(), base, "all released: ring count at baseline");
	n2 = fill(fds, (int)max + 4, 2, 8, &err);
	T_EQ(n2, n1, "the same number fits again (nothing leaked)");
	T_RC(err, -ENOSPC, "and the next one is refused again");
	drop(fds, n2);
	T_EQ(rings_alive(), base, "released again");
	free(fds);
}

static int other_user(void *arg)
{
	int fd;

	if (setgid(65534) || setuid(65534))
		return 2;
	fd = t_open();
	/* 1 MiB of slots: the same size root ran out with. */
	return t_create(fd, 0, 128, 8192, 1, NULL, NULL) ? 3 : 0;
}

static void test_user_budget(long base)
{
	long saved = param("max_user_mb");
	int fds[64], n1, n2, err;

	T_SYS(param_set("max_user_mb", 24), "max_user_mb = 24");
	n1 = fill(fds, 64, 128, 8192, &err);
	T_OK(n1 >= 20 && n1 < 24, "%d rings of 1 MiB (+ control pages) fit in 24 MiB",
	     n1);
	T_RC(err, -ENOSPC, "the next: ENOSPC");
	T_CHILD(t_spawn("other-user", 20, other_user, NULL), 20000,
		"another user still has its own budget");
	drop(fds, n1);
	n2 = fill(fds, 64, 128, 8192, &err);
	T_EQ(n2, n1, "after releasing, exactly as many fit again");
	T_RC(err, -ENOSPC, "and the next is refused again");
	drop(fds, n2);
	T_SYS(param_set("max_user_mb", saved), "max_user_mb restored");
	T_EQ(rings_alive(), base, "ring count at baseline");
}

static void test_attachments(void)
{
	int fds[80], creator, extra, i, n;
	const char *name = t_name("attach");
	struct bb_stats st;
	__u32 id;

	creator = t_open();
	if (T_RC(t_create(creator, 0, 64, 64, 64, name, NULL), 0,
		 "ring with 64 consumer ids"))
		return;
	for (n = 0; n < 80; n++) {
		fds[n] = t_open();
		if (t_attach(fds[n], BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, name,
			     BB_ID_ANY, 0, &id)) {
			close(fds[n]);
			break;
		}
	}
	T_EQ(n, 64, "64 consumers attach");
	extra = t_open();
	T_RC(t_attach(extra, BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, name,
		      BB_ID_ANY, 0, NULL), -ENOSPC, "the 65th: ENOSPC");
	T_RC(t_attach(extra, BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, name, 5, 0,
		      NULL), -EBUSY, "a taken id: EBUSY");
	T_OK(unbound(extra), "the refused fd is still unbound");
	T_RC(t_attach(extra, BB_ROLE_PRODUCER, BB_ATTACH_NAME, -1, name,
		      BB_ID_ANY, 0, NULL), 0, "the producer attaches");
	close(extra);
	extra = t_open();
	T_RC(t_attach(extra, BB_ROLE_PRODUCER, BB_ATTACH_NAME, -1, name,
		      BB_ID_ANY, 0, NULL), 0,
	     "the producer's fd closed: another producer may attach");
	i = t_open();
	T_RC(t_attach(i, BB_ROLE_PRODUCER, BB_ATTACH_NAME, -1, name, BB_ID_ANY,
		      0, NULL), -EBUSY, "a second producer on a single-producer ring: EBUSY");
	close(i);
	T_OK(!t_stats(creator, &st) && st.nr_consumers == 64 &&
	     st.nr_producers == 1, "STATS: 64 consumers, 1 producer");
	drop(fds, n);
	close(extra);
	T_OK(!t_stats(creator, &st) && st.nr_consumers == 0 &&
	     st.nr_producers == 0 && st.gating_mask == 0,
	     "everyone closed: STATS 0 consumers, 0 producers, no gating");
	for (n = 0; n < 64; n++) {
		fds[n] = t_open();
		if (t_attach(fds[n], BB_ROLE_CONSUMER, BB_ATTACH_NAME, -1, name,
			     (__u32)(63 - n), 0, NULL)) {
			close(fds[n]);
			break;
		}
	}
	T_EQ(n, 64, "every id is free again (wanted ids 63..0)");
	drop(fds, n);
	close(creator);

	/* Multi-producer: one claim record each, 64 records. */
	creator = t_open();
	name = t_name("mp");
	T_RC(t_create(creator, BB_RING_MULTI_PRODUCER, 64, 8, 1, name, NULL),
	     0, "multi-producer ring");
	for (n = 0; n < 64; n++) {
		fds[n] = t_open();
		if (t_attach(fds[n], BB_ROLE_PRODUCER, BB_ATTACH_NAME, -1, name,
			     BB_ID_ANY, 0, NULL)) {
			close(fds[n]);
			break;
		}
	}
	T_EQ(n, 64, "64 producers attach");
	fds[n] = t_open();
	T_RC(t_attach(fds[n], BB_ROLE_PRODUCER, BB_ATTACH_NAME, -1, name,
		      BB_ID_ANY, 0, NULL), -ENOSPC,
	      "the 65th producer: no claim record left -> ENOSPC");
	close(fds[n]);
	T_OK(!t_stats(creator, &st) && st.nr_producers == 64, "STATS: 64 producers");
	drop(fds, n);
	fds[0] = t_open();
	T_SYS(t_attach(fds[0], BB_ROLE_PRODUCER, BB_ATTACH_NAME, -1, name,
		       BB_ID_ANY, 0, NULL), "a record is free again after the drop");
	drop(fds, 1);
	T_OK(!t_stats(creator, &st) && st.nr_producers == 0, "all gone: 0 producers");
	close(creator);
}

/* 16 disjoint kernel claims per fd; the 17th: EBUSY; close abandons them. */
static void test_claim_records(void)
{
	const char *name = t_name("claims");
	int creator = t_open(), a = t_open(), b = t_open(), i, e = 0;
	struct bb_stats st;
	__u64 seq = 0, seq_a = 0;

	T_RC(t_create(creator, BB_RING_MULTI_PRODUCER, 256, 8, 1, name, NULL),
	     0, "multi-producer ring");
	T_RC(t_attach(a, BB_ROLE_PRODUCER, BB_ATTACH_NAME, -1, name, BB_ID_ANY,
		      0, NULL), 0, "producer a");
	T_RC(t_attach(b, BB_ROLE_PRODUCER, BB_ATTACH_NAME, -1, name, BB_ID_ANY,
		      0, NULL), 0, "producer b");
	for (i = 0; i < 16 && !e; i++) {
		e = t_claim_ioctl(a, 1, BB_CLAIMF_NONBLOCK, 0, &seq_a);
		if (!e)
			e = t_claim_ioctl(b, 1, BB_CLAIMF_NONBLOCK, 0, &seq);
	}
	T_RC(e, 0, "16 disjoint claims each, interleaved");
	T_RC(t_claim_ioctl(a, 1, BB_CLAIMF_NONBLOCK, 0, &seq), -EBUSY,
	     "a 17th disjoint claim: EBUSY");
	T_RC(t_publish_ioctl(b, seq_a, 1), -EINVAL,
	     "b cannot publish what it did not claim");
	close(a);
	T_RC(t_stats(creator, &st), 0, "STATS");
	T_EQ(st.abandoned, 16, "closing a abandons its 16 slots");
	close(b);
	T_RC(t_stats(creator, &st), 0, "STATS");
	T_EQ(st.abandoned, 32, "closing b abandons its 16 too");
	close(creator);
}

static void test_huge(long base)
{
	static const struct { __u32 count, size; int err; const char *why; } g[] = {
		{ 0, 8, -EINVAL, "0 slots" },
		{ 1, 8, -EINVAL, "1 slot" },
		{ 3, 8, -EINVAL, "3 slots" },
		{ 1u << 25, 8, -EINVAL, "2^25 slots" },
		{ 0x80000000u, 8, -EINVAL, "2^31 slots" },
		{ 2, 0, -EINVAL, "slot size 0" },
		{ 2, 4, -EINVAL, "slot size 4" },
		{ 2, 12, -EINVAL, "slot size 12" },
		{ 2, (1u << 20) + 8, -EINVAL, "slot size 2^20 + 8" },
		{ 2, 0xfffffff8u, -EINVAL, "slot size 2^32 - 8" },
		{ 1u << 24, 1u << 20, -E2BIG, "2^24 slots of 2^20 bytes" },
		{ 1u << 16, 1u << 13, -E2BIG, "512 MiB over max_ring_mb" },
	};
	long saved_ring = param("max_ring_mb"), saved_user = param("max_user_mb");
	int fd = t_open();
	unsigned int i;

	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++)
		T_RC(t_create(fd, 0, g[i].count, g[i].size, 1, NULL, NULL),
		     g[i].err, "%s: %s", g[i].why, t_errname(-g[i].err));
	T_OK(unbound(fd), "the fd is still unbound");
	T_EQ(rings_alive(), base, "no ring was left behind");

	/* Every limit lifted: the allocation itself must fail, quietly. */
	T_SYS(param_set("max_ring_mb", 4294967295L), "max_ring_mb = UINT_MAX");
	T_SYS(param_set("max_user_mb", 4294967295L), "max_user_mb = UINT_MAX");
	T_RC(t_create(fd, 0, 1u << 24, 1u << 20, 1, NULL, NULL), -ENOMEM,
	     "16 TiB with no limit: ENOMEM (and no kernel warning)");
	T_RC(t_create(fd, BB_RING_MULTI_PRODUCER, 1u << 24, 1u << 16, 64,
		      NULL, NULL), -ENOMEM, "1 TiB multi-producer: ENOMEM");
	T_SYS(param_set("max_ring_mb", saved_ring), "max_ring_mb restored");
	T_SYS(param_set("max_user_mb", saved_user), "max_user_mb restored");
	T_OK(unbound(fd), "the fd is still unbound");
	T_RC(t_create(fd, 0, 2, 8, 1, NULL, NULL), 0, "and a small ring works");
	close(fd);
	T_EQ(rings_alive(), base, "ring count at baseline");
}

static void test_mappings(long base)
{
	struct bb_info in;
	void *maps[512];
	int fd = t_open(), n, ok = 1;

	T_RC(t_create(fd, 0, 64, 64, 1, NULL, NULL), 0, "a ring");
	t_info(fd, &in);
	for (n = 0; n < 512; n++) {
		maps[n] = mmap(NULL, in.header_len, PROT_READ, MAP_SHARED, fd,
			       (off_t)in.header_off);
		if (maps[n] == MAP_FAILED)
			break;
	}
	T_EQ(n, 512, "512 mappings of its header");
	close(fd);
	T_EQ(rings_alive(), base + 1, "the fd closed: the mappings keep the ring");
	while (n > 1)
		ok &= ((struct bb_ring_header *)maps[--n])->magic == BB_MAGIC &&
		      !munmap(maps[n], in.header_len);
	T_OK(ok, "each still shows the header until unmapped");
	T_EQ(rings_alive(), base + 1, "one mapping left: still alive");
	munmap(maps[0], in.header_len);
	T_EQ(rings_alive(), base, "the last munmap frees it");
}

int main(void)
{
	struct rlimit rl = { 20000, 20000 };
	long base, ref;

	t_init("exhaust", 100);
	if (access(PARAM_DIR "max_rings", W_OK)) {
		t_diag("module parameters not writable");
		return T_EXIT_SKIP;
	}
	if (setrlimit(RLIMIT_NOFILE, &rl))
		t_diag("RLIMIT_NOFILE: %s", strerror(errno));
	base = rings_alive();
	ref = read_long("/sys/module/badbatch/refcnt");
	T_OK(base >= 0, "baseline: %ld rings, refcount %ld", base, ref);
	test_huge(base);
	test_max_rings(base);
	test_user_budget(base);
	test_attachments();
	test_claim_records();
	test_mappings(base);
	T_EQ(rings_alive(), base, "the ring count is at its baseline");
	T_EQ(read_long("/sys/module/badbatch/refcnt"), ref,
	     "the module refcount is at its baseline");
	return t_done();
}
