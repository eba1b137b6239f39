// SPDX-License-Identifier: GPL-2.0
/*
 * Load/unload cycles with rings created and destroyed in between: each
 * round unloads the module (it must be unused), loads it again from the
 * file the runner loaded ($BB_MODULE_KO), then a producer and a consumer
 * process move events through three named rings, and everything is
 * closed before the next round. The module is left loaded for the tests after this one.
 */
#include <sys/syscall.h>

#include "harness.h"

#define ROUNDS		12
#define RINGS		3
#define EVENTS		2000

static long refcnt(void)
{
	FILE *f = fopen("/sys/module/badbatch/refcnt", "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

static int load(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -errno;
	rc = (int)syscall(SYS_finit_module, fd, "", 0);
	rc = rc ? -errno : 0;
	close(fd);
	return rc;
}

static int unload(void)
{
	return syscall(SYS_delete_module, "badbatch", O_NONBLOCK) ? -errno : 0;
}

/* One struct each, so the compiler sees each name's own size. */
static struct {
	char s[BB_NAME_MAX];
} g_names[RINGS];

static int producer(void *arg)
{
	int k = (int)(uintptr_t)arg, i;
	struct t_ring r;
	__u64 lo = 0;

	if (t_join(&r, g_names[k].s, BB_ROLE_PRODUCER, BB_ID_ANY, 0))
		return 2;
	for (i = 0; i < EVENTS; i++) {
		if (t_fast_claim(&r, 1, &lo) != 1)
			return 3;
		t_fill(bb_slot(&r.v, lo), r.info.slot_size, lo * 7 + (__u64)k);
		t_fast_publish(&r, lo, 1);
	}
	t_ring_close(&r);
	return 0;
}

static int consumer(void *arg)
{
	int k = (int)(uintptr_t)arg, err = 0;
	__u64 next = 0, end;
	struct t_ring r;
	int bad = 0;

	if (t_join(&r, g_names[k].s, BB_ROLE_CONSUMER, 0, 0))
		return 2;
	while (next < EVENTS) {
		end = t_fast_avail(&r, next, &err);
		if (err)
			return 3;
		if (end == next) {
			int rc = t_wait_ioctl(r.fd, next,
					      t_now_ns() + 5000000000ULL, NULL);

			if (rc && rc != -ETIMEDOUT)
				return 4;
			continue;
		}
		for (; next < end; next++)
			bad += t_check(bb_slot(&r.v, next), r.info.slot_size,
				       next * 7 + (__u64)k) != 0;
		t_fast_advance(&r, next);
	}
	t_ring_close(&r);
	return bad ? 5 : 0;
}

static void round_trip(int round)
{
	struct t_ring c[RINGS];
	pid_t pc[RINGS], pp[RINGS];
	struct bb_stats st;
	int k;

	for (k = 0; k < RINGS; k++) {
		char name[BB_NAME_MAX];

		snprintf(name, sizeof(name), "t-lc-%d-%d-%d", k, round,
			 (int)getpid());
		memcpy(g_names[k].s, name, sizeof(name));
		if (t_ring_new(&c[k], 0, 64, 64, 2, name)) {
			T_OK(0, "round %d: create ring %d", round, k);
			return;
		}
	}
	for (k = 0; k < RINGS; k++)
		pc[k] = t_spawn("consumer", 60, consumer, (void *)(uintptr_t)k);
	/* The consumers attach with wanted id 0 before anything is sent. */
	for (k = 0; k < RINGS; k++)
		t_wait_u32(&c[k].v.hdr->nr_consumers, 1, 10000);
	for (k = 0; k < RINGS; k++)
		pp[k] = t_spawn("producer", 60, producer, (void *)(uintptr_t)k);
	for (k = 0; k < RINGS; k++) {
		T_CHILD(pp[k], 60000, "round %d: producer %d sent %d events",
			round, k, EVENTS);
		T_CHILD(pc[k], 60000, "round %d: consumer %d got them intact",
			round, k);
	}
	T_OK(!t_stats(c[0].fd, &st) && st.rings == RINGS,
	     "round %d: the module counts %d rings", round, RINGS);
	for (k = 0; k < RINGS; k++)
		t_ring_close(&c[k]);
	T_EQ(refcnt(), 0, "round %d: every ring gone: refcount 0", round);
}

int main(void)
{
	const char *top = getenv("TOP"), *ko = getenv("BB_MODULE_KO");
	char path[512];
	int round;

	t_init("loadcycle", 600);
	/* The module the runner loaded (a debug kernel's, say), else TOP's. */
	if (ko && *ko) {
		snprintf(path, sizeof(path), "%s", ko);
	} else if (top) {
		snprintf(path, sizeof(path), "%s/kernel/badbatch.ko", top);
	} else {
		printf("Bail out! neither BB_MODULE_KO nor TOP set\n");
		return 1;
	}
	if (access(path, R_OK)) {
		t_skip("no module file", "%s: %s", path, strerror(errno));
		return t_done();
	}
	T_EQ(refcnt(), 0, "nothing uses the module before the cycles");
	for (round = 0; round < ROUNDS; round++) {
		if (T_RC(unload(), 0, "round %d: unload", round))
			break;
		T_OK(access(BB_DEVICE_PATH, F_OK) != 0,
		     "round %d: %s is gone", round, BB_DEVICE_PATH);
		T_RC(unload(), -ENOENT, "round %d: a second unload -> ENOENT",
		     round);
		if (T_RC(load(path), 0, "round %d: load %s", round, path))
			break;
		T_RC(load(path), -EEXIST, "round %d: a second load -> EEXIST",
		     round);
		round_trip(round);
	}
	/* Leave it loaded whatever happened: the next tests need it. */
	if (access("/sys/module/badbatch", F_OK))
		T_RC(load(path), 0, "reload for the tests that follow");
	return t_done();
}
