// SPDX-License-Identifier: GPL-2.0
/*
 * One-shot SPSC throughput: badbatch's mmap fast path between two
 * processes, next to a pipe carrying the same 64-byte events in the same
 * machine. Not a test: figures for a closing note and a sanity check
 * that the fast path is a fast path. The full suite is `make bench`.
 *
 *   badbatch-spsc-bench [events]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <badbatch/protocol.h>

#define SLOTS		4096
#define EVENT		64
#define MAX_BATCH	256

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void *map(int fd, __u64 off, __u64 len, int prot)
{
	void *p;

	if (!len)
		return NULL;
	p = mmap(NULL, len, prot, MAP_SHARED, fd, (off_t)off);
	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/* Attach to ring by name and map it as role; returns the fd. */
static int attach(const char *name, __u32 role, struct bb_view *v,
		  __u64 **self)
{
	struct bb_attach a = { .role = role, .flags = BB_ATTACH_NAME,
			       .ring_fd = -1, .consumer_id = BB_ID_ANY };
	int fd = open(BB_DEVICE_PATH, O_RDWR);
	struct bb_info in;
	int wr = PROT_READ | PROT_WRITE;
	int prod = role == BB_ROLE_PRODUCER;

	if (role != BB_ROLE_CONSUMER)
		a.consumer_id = 0;
	snprintf(a.name, sizeof(a.name), "%s", name);
	if (fd < 0 || ioctl(fd, BB_IOC_ATTACH, &a) || ioctl(fd, BB_IOC_INFO, &in))
		die("attach");
	memset(v, 0, sizeof(*v));
	v->hdr = map(fd, in.header_off, in.header_len, PROT_READ);
	v->prod = map(fd, in.producer_off, in.producer_len,
		      prod ? wr : PROT_READ);
	v->consumers = map(fd, in.consumers_off, in.consumers_len, PROT_READ);
	v->slots = map(fd, in.slots_off, in.slots_len, prod ? wr : PROT_READ);
	v->cons_stride = in.consumer_stride;
	v->size = in.slot_count;
	v->mask = in.slot_count - 1;
	v->shift = __builtin_ctz(in.slot_count);
	v->slot_size = in.slot_size;
	v->max_consumers = in.max_consumers;
	if (self)
		*self = map(fd, in.self_off, in.self_len, wr);
	return fd;
}

static double bench_ring(long events)
{
	struct bb_create c = { .slot_count = SLOTS, .slot_size = EVENT,
			       .max_consumers = 1, .mode = 0600,
			       .name = "spsc-bench" };
	int owner = open(BB_DEVICE_PATH, O_RDWR);
	struct bb_producer_cache pc = { 0 };
	struct bb_view v;
	double t0, t1;
	__u64 *self;
	int fd, status;
	long seq = 0;
	pid_t pid;

	if (owner < 0 || ioctl(owner, BB_IOC_CREATE, &c))
		die("create");
	/* The consumer must be attached before the first publish. */
	fd = attach(c.name, BB_ROLE_CONSUMER, &v, &self);
	t0 = now();
	pid = fork();
	if (pid == 0) {
		__u64 limit, sum = 0;

		while ((long)bb_load(self) < events) {
			__u64 s = bb_load(self);

			limit = bb_consumer_limit(&v, 0, s, MAX_BATCH);
			if (limit == s) {
				bb_cpu_relax();
				continue;
			}
			for (; s < limit; s++)
				sum += *(__u64 *)bb_slot(&v, s);
			if (bb_consumer_advance(&v, self, 0, limit))
				ioctl(fd, BB_IOC_WAKE, BB_WAKE_ALL);
		}
		_exit(sum == (__u64)events * (events - 1) / 2 ? 0 : 2);
	}
	close(fd);
	fd = attach(c.name, BB_ROLE_PRODUCER, &v, NULL);
	pc.next = bb_load(&v.prod->claim);
	while (seq < events) {
		__u64 lo;

		if (bb_try_claim(&v, &pc, 1, &lo)) {
			bb_cpu_relax();
			continue;
		}
		*(__u64 *)bb_slot(&v, lo) = lo;
		bb_publish(&v, lo, 1);
		if (bb_consumers_need_wake(&v))
			ioctl(fd, BB_IOC_WAKE, BB_WAKE_CONSUMERS);
		seq++;
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "ring consumer failed (%d)\n", status);
		exit(1);
	}
	t1 = now();
	close(fd);
	close(owner);
	return events / (t1 - t0);
}

static double bench_pipe(long events)
{
	char buf[EVENT * MAX_BATCH];
	int p[2], status;
	double t0, t1;
	pid_t pid;
	long i;

	if (pipe(p))
		die("pipe");
	t0 = now();
	pid = fork();
	if (pid == 0) {
		long got = 0;
		__u64 sum = 0;

		close(p[1]);
		while (got < events * EVENT) {
			ssize_t n = read(p[0], buf, sizeof(buf));

			if (n <= 0)
				_exit(3);
			/* Events are whole: 64 divides PIPE_BUF. */
			for (i = 0; i < n / EVENT; i++)
				sum += *(__u64 *)(buf + i * EVENT);
			got += n;
		}
		_exit(sum == (__u64)events * (events - 1) / 2 ? 0 : 2);
	}
	close(p[0]);
	memset(buf, 0, sizeof(buf));
	for (i = 0; i < events; i++) {
		*(__u64 *)buf = i;
		if (write(p[1], buf, EVENT) != EVENT)
			die("write");
	}
	close(p[1]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "pipe reader failed (%d)\n", status);
		exit(1);
	}
	t1 = now();
	return events / (t1 - t0);
}

int main(int argc, char **argv)
{
	long events = argc > 1 ? atol(argv[1]) : 2000000;
	double ring = bench_ring(events);
	double pipe_rate = bench_pipe(events);

	printf("spsc %ld events of %d bytes, busy-spin, one event per claim\n",
	       events, EVENT);
	printf("  badbatch mmap fast path: %8.2f M events/s\n", ring / 1e6);
	printf("  pipe, one write each:    %8.2f M events/s\n",
	       pipe_rate / 1e6);
	printf("  ratio: %.1fx\n", ring / pipe_rate);
	return 0;
}
