// SPDX-License-Identifier: GPL-2.0
/*
 * Resource limits: the module parameters bounding one ring, one user and
 * the module, each failing with its own errno and changing nothing; the
 * per-user budget is per user; ring memory is charged to the creator's
 * memory cgroup, and a ring too big for it fails with ENOMEM instead of
 * OOM-killing anyone.
 */
#include <sys/mount.h>
#include "harness.h"

#define PARAM_DIR "/sys/module/badbatch/parameters/"

static unsigned int param_get(const char *name)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		t_diag("cannot read %s", path);
	if (f)
		fclose(f);
	return (unsigned int)strtoul(buf, NULL, 10);
}

static int param_set(const char *name, unsigned int value)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ok = fprintf(f, "%u\n", value) > 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* A ring of about mib MiB (slots only: 1 KiB events). */
static int create_mib(int fd, unsigned int mib, const char *name)
{
	return t_create(fd, 0, mib * 1024, 1024, 1, name, NULL);
}

static __u64 rings_alive(void)
{
	struct bb_stats st;
	int fd = t_open();
	__u64 n = ~0ULL;

	if (fd >= 0 && !t_create(fd, 0, 2, 8, 1, NULL, NULL) &&
	    !t_stats(fd, &st))
		n = st.rings - 1;
	if (fd >= 0)
		close(fd);
	return n;
}

static void test_ring_size(void)
{
	unsigned int saved = param_get("max_ring_mb");
	int fd = t_open();

	T_SYS(param_set("max_ring_mb", 1), "max_ring_mb = 1");
	T_RC(create_mib(fd, 2, t_name("big")), -E2BIG,
	     "a 2 MiB ring over max_ring_mb=1: E2BIG");
	T_RC(create_mib(fd, 1, t_name("big")), -E2BIG,
	     "1 MiB of slots plus the control pages is over 1 MiB");
	T_RC(t_create(fd, 0, 512, 1024, 1, t_name("big"), NULL), 0,
	     "a half-MiB ring fits, and the failed calls left the fd unbound");
	T_SYS(param_set("max_ring_mb", saved), "max_ring_mb restored");
	close(fd);
}

static int other_user(void *arg)
{
	int fd;

	if (setgid(65534) || setuid(65534))
		T_OK(0, "drop to nobody");
	fd = t_open();
	T_RC(create_mib(fd, 2, NULL), 0, "another user has a budget of its own");
	close(fd);
	return 0;
}

static void test_user_budget(void)
{
	unsigned int saved = param_get("max_user_mb");
	__u64 before = rings_alive();
	int a = t_open(), b = t_open(), c = t_open();
	pid_t pid;

	T_SYS(param_set("max_user_mb", 3), "max_user_mb = 3");
	T_RC(create_mib(a, 2, NULL), 0, "first 2 MiB ring within budget");
	T_RC(create_mib(b, 2, t_name("over")), -ENOSPC,
	     "second 2 MiB ring over the user's budget: ENOSPC");
	T_EQ(rings_alive(), before + 1, "the failed create left no ring");

	pid = t_spawn("other-user", 20, other_user, NULL);
	T_CHILD(pid, 20000, "nobody creates a ring while root is at budget");

	close(a);
	T_RC(create_mib(b, 2, t_name("over")), 0,
	     "closing the first ring gives its budget back");
	T_SYS(param_set("max_user_mb", saved), "max_user_mb restored");
	close(b);
	close(c);
	T_EQ(rings_alive(), before, "every ring freed");
}

static void test_ring_count(void)
{
	unsigned int saved = param_get("max_rings");
	__u64 before = rings_alive();
	int fds[3], i;

	T_SYS(param_set("max_rings", (unsigned int)before + 2),
	      "max_rings = alive + 2");
	for (i = 0; i < 3; i++)
		fds[i] = t_open();
	T_RC(t_create(fds[0], 0, 2, 8, 1, NULL, NULL), 0, "ring 1 of 2");
	T_RC(t_create(fds[1], 0, 2, 8, 1, NULL, NULL), 0, "ring 2 of 2");
	T_RC(t_create(fds[2], 0, 2, 8, 1, NULL, NULL), -ENOSPC,
	     "ring 3 over max_rings: ENOSPC");
	close(fds[0]);
	T_RC(t_create(fds[2], 0, 2, 8, 1, NULL, NULL), 0,
	     "a freed ring makes room");
	T_SYS(param_set("max_rings", saved), "max_rings restored");
	for (i = 1; i < 3; i++)
		close(fds[i]);
}

static long cg_read(const char *dir, const char *file)
{
	char path[256], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtol(buf, NULL, 10);
}

static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[256];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ok = fputs(val, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int memcg_child(void *arg)
{
	const char *cg = arg;
	char pid[32];
	long base, used;
	int fd;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	T_OK(!cg_write(cg, "cgroup.procs", pid), "join the cgroup");
	base = cg_read(cg, "memory.current");
	fd = t_open();
	T_RC(create_mib(fd, 16, NULL), 0, "a 16 MiB ring");
	used = cg_read(cg, "memory.current") - base;
	T_CHECK(used >= 16L << 20, t_fmt("charged %ld bytes", used),
		"its pages are charged to the creator's memcg");
	close(fd);
	T_OK(!cg_write(cg, "memory.max", "8388608"), "memory.max = 8M");
	fd = t_open();
	T_RC(create_mib(fd, 16, NULL), -ENOMEM,
	     "a ring over the memcg limit: ENOMEM, nobody killed");
	T_RC(create_mib(fd, 2, NULL), 0, "a small ring still fits afterwards");
	close(fd);
	return 0;
}

/* Ring pages count in the creator's memory cgroup and obey its limit. */
static void test_memcg(void)
{
	const char *root = "/tmp/bb-cgroup", *cg = "/tmp/bb-cgroup/bbtest";
	pid_t child;

	mkdir(root, 0755);
	if (cg_read(root, "cgroup.procs") < 0 &&
	    mount("none", root, "cgroup2", 0, NULL)) {
		t_skip("cgroup2 unavailable", "memcg charging");
		return;
	}
	if (cg_write(root, "cgroup.subtree_control", "+memory") ||
	    (mkdir(cg, 0755) && errno != EEXIST)) {
		t_skip("memory controller unavailable", "memcg charging");
		return;
	}
	child = t_spawn("memcg", 30, memcg_child, (void *)cg);
	T_CHILD(child, 30000, "memcg child ran to completion (not OOM-killed)");
	cg_write(root, "cgroup.procs", "0");
	rmdir(cg);
}

int main(void)
{
	t_init("limits", 120);
	if (access(PARAM_DIR "max_ring_mb", W_OK)) {
		t_diag("module parameters not writable");
		return T_EXIT_SKIP;
	}
	test_ring_size();
	test_user_budget();
	test_ring_count();
	test_memcg();
	return t_done();
}
