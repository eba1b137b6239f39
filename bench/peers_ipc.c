// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The kernel's own ways to move events between processes, as a user
 * without badbatch would: one system call to send each event, blocking
 * receivers.
 *
 *   pipe        write() per event, read() whatever is there (64 KiB)
 *   socketpair  AF_UNIX SOCK_STREAM, the same
 *   mq          POSIX message queue, mq_send()/mq_receive() per event
 *   eventfd     events in a shared-memory ring, write() to an eventfd per
 *               event, the receiver blocks in read() on it and drains
 *
 * throughput: 1P-1C events per second; pingpong: round trip of one event.
 *
 *   peers-ipc -i pipe|socketpair|mq|eventfd -k throughput|pingpong
 *             [-x proc|thread] [-s SIZE] [-b BATCH] [-n N] [-r REPS]
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#define SHM_SLOTS	4096

struct shm_ring {
	uint64_t head __attribute__((aligned(64)));	/* consumer */
	uint64_t tail __attribute__((aligned(64)));	/* producer */
	unsigned char slots[] __attribute__((aligned(64)));
};

struct chan {
	int fd[2];		/* pipe: [0] read [1] write; socketpair: both */
	mqd_t mq;
	int efd;
	struct shm_ring *ring;
};

struct run {
	const char *impl, *kind, *xproc;
	uint32_t size, batch;
	uint64_t events, warm;
	struct chan ab, ba;	/* a->b and (pingpong) b->a */
	struct bench_ctl *ctl;
	double *samples;
};

static void xwrite(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			bench_die("write: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

static size_t xread(int fd, void *buf, size_t len)
{
	ssize_t n;

	for (;;) {
		n = read(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			bench_die("read: %s", n ? strerror(errno) : "EOF");
		return (size_t)n;
	}
}

static int rfd(const struct run *r, const struct chan *c)
{
	return strcmp(r->impl, "socketpair") ? c->fd[0] : c->fd[1];
}

static void chan_open(struct run *r, struct chan *c, const char *tag)
{
	memset(c, 0, sizeof(*c));
	if (!strcmp(r->impl, "pipe")) {
		if (pipe(c->fd))
			bench_die("pipe: %s", strerror(errno));
	} else if (!strcmp(r->impl, "socketpair")) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, c->fd))
			bench_die("socketpair: %s", strerror(errno));
	} else if (!strcmp(r->impl, "mq")) {
		struct mq_attr at = { .mq_maxmsg = 10,
				      .mq_msgsize = r->size };
		char name[64];

		snprintf(name, sizeof(name), "/bench-%d-%s", getpid(), tag);
		mq_unlink(name);
		c->mq = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &at);
		if (c->mq == (mqd_t)-1)
			bench_die("mq_open: %s", strerror(errno));
		mq_unlink(name);
	} else if (!strcmp(r->impl, "eventfd")) {
		c->efd = eventfd(0, 0);
		if (c->efd < 0)
			bench_die("eventfd: %s", strerror(errno));
		c->ring = bench_shared_alloc(sizeof(*c->ring) +
					     (size_t)SHM_SLOTS * r->size);
	} else {
		bench_die("unknown peer %s", r->impl);
	}
}

static void chan_close(struct run *r, struct chan *c)
{
	if (!strcmp(r->impl, "mq")) {
		mq_close(c->mq);
	} else if (!strcmp(r->impl, "eventfd")) {
		close(c->efd);
		munmap(c->ring, sizeof(*c->ring) + (size_t)SHM_SLOTS * r->size);
	} else {
		close(c->fd[0]);
		close(c->fd[1]);
	}
}

/* Send n events from buf (n * size bytes). */
static void chan_send(struct run *r, struct chan *c, const unsigned char *buf,
		      uint32_t n)
{
	uint32_t k;

	if (!strcmp(r->impl, "mq")) {
		for (k = 0; k < n; k++)
			while (mq_send(c->mq, (const char *)buf + k * r->size,
				       r->size, 0))
				if (errno != EINTR)
					bench_die("mq_send: %s", strerror(errno));
	} else if (!strcmp(r->impl, "eventfd")) {
		struct shm_ring *q = c->ring;
		uint64_t one = 1, t = q->tail;

		for (k = 0; k < n; k++, t++) {
			while (t - __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) >=
			       SHM_SLOTS)
				sched_yield();
			memcpy(q->slots + (t % SHM_SLOTS) * r->size,
			       buf + k * r->size, r->size);
			__atomic_store_n(&q->tail, t + 1, __ATOMIC_RELEASE);
			xwrite(c->efd, &one, sizeof(one));
		}
	} else {
		xwrite(strcmp(r->impl, "socketpair") ? c->fd[1] : c->fd[0],
		       buf, (size_t)n * r->size);
	}
}

/* Receive at least one event into buf (room for max); returns events. */
static uint32_t chan_recv(struct run *r, struct chan *c, unsigned char *buf,
			  uint32_t max, size_t *partial)
{
	if (!strcmp(r->impl, "mq")) {
		while (mq_receive(c->mq, (char *)buf, r->size, NULL) < 0)
			if (errno != EINTR)
				bench_die("mq_receive: %s", strerror(errno));
		return 1;
	}
	if (!strcmp(r->impl, "eventfd")) {
		struct shm_ring *q = c->ring;
		uint64_t cnt, h = q->head, t;
		uint32_t k = 0;

		/* A count may be left from events already drained: again. */
		do {
			xread(c->efd, &cnt, sizeof(cnt));
			t = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
		} while (t == h);
		for (; h < t && k < max; h++, k++)
			memcpy(buf + k * r->size,
			       q->slots + (h % SHM_SLOTS) * r->size, r->size);
		__atomic_store_n(&q->head, h, __ATOMIC_RELEASE);
		/* What is left stays counted for the next read(). */
		if (h < t) {
			uint64_t left = t - h;

			xwrite(c->efd, &left, sizeof(left));
		}
		return k;
	}
	{
		/* A stream: whole events, keep a partial one for next time. */
		size_t have = *partial, got;

		got = xread(rfd(r, c), buf + have, (size_t)max * r->size - have);
		have += got;
		*partial = have % r->size;
		if (*partial)
			memmove(buf, buf + have - *partial, *partial);
		return (uint32_t)(have / r->size);
	}
}

static void consumer(void *arg, int idx)
{
	struct run *r = arg;
	uint32_t max = 65536 / r->size;
	unsigned char *buf = malloc(65536 + r->size);
	uint64_t got = 0, sum = 0;
	size_t partial = 0;

	bench_pin(1);
	bench_set_ready(r->ctl, idx);
	bench_wait_go(r->ctl);
	while (got < r->events) {
		uint32_t k = chan_recv(r, &r->ab, buf, max, &partial);

		sum += *(uint64_t *)buf;
		got += k;
	}
	r->ctl->t_end[idx] = bench_now_ns();
	r->ctl->aux[idx][0] = sum;
	free(buf);
}

static void producer(void *arg, int idx)
{
	struct run *r = arg;
	unsigned char *buf = calloc(r->batch, r->size);
	uint64_t i = 0;
	uint32_t b;

	bench_pin(0);
	bench_set_ready(r->ctl, idx);
	bench_wait_go(r->ctl);
	while (i < r->events) {
		b = (uint32_t)(r->events - i < r->batch ? r->events - i : r->batch);
		*(uint64_t *)buf = i;
		chan_send(r, &r->ab, buf, b);
		i += b;
	}
	free(buf);
}

static void ponger(void *arg, int idx)
{
	struct run *r = arg;
	unsigned char buf[4096 + 8];
	uint64_t i;
	size_t partial = 0;

	bench_pin(1);
	bench_set_ready(r->ctl, idx);
	bench_wait_go(r->ctl);
	for (i = 0; i < r->events + r->warm; i++) {
		chan_recv(r, &r->ab, buf, 1, &partial);
		chan_send(r, &r->ba, buf, 1);
	}
}

static void pinger(void *arg, int idx)
{
	struct run *r = arg;
	unsigned char buf[4096 + 8] = { 0 };
	uint64_t i, t;
	size_t partial = 0;

	bench_pin(0);
	bench_set_ready(r->ctl, idx);
	bench_wait_go(r->ctl);
	for (i = 0; i < r->events + r->warm; i++) {
		t = bench_now_ns();
		*(uint64_t *)buf = t;
		chan_send(r, &r->ab, buf, 1);
		chan_recv(r, &r->ba, buf, 1, &partial);
		if (i >= r->warm)
			r->samples[i - r->warm] = (double)(bench_now_ns() - t);
	}
}

int main(int argc, char **argv)
{
	struct run *r = bench_shared_alloc(sizeof(*r));
	int opt, reps = 3, rep;
	char params[256];

	r->impl = "pipe";
	r->kind = "throughput";
	r->xproc = "proc";
	r->size = 64;
	r->batch = 1;
	r->events = 1000000;
	while ((opt = getopt(argc, argv, "i:k:x:s:b:n:r:")) != -1) {
		switch (opt) {
		case 'i': r->impl = optarg; break;
		case 'k': r->kind = optarg; break;
		case 'x': r->xproc = optarg; break;
		case 's': r->size = (uint32_t)atoi(optarg); break;
		case 'b': r->batch = (uint32_t)atoi(optarg); break;
		case 'n': r->events = strtoull(optarg, NULL, 0); break;
		case 'r': reps = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: peers-ipc -i pipe|socketpair|mq|"
				"eventfd -k throughput|pingpong [-x proc|thread] "
				"[-s SIZE] [-b BATCH] [-n N] [-r REPS]\n");
			return 2;
		}
	}
	if (r->size < 8 || r->size > 4096)
		bench_die("size 8..4096");
	if (!r->batch || (uint64_t)r->batch * r->size > 65536)
		r->batch = 1;
	r->warm = r->events / 10;
	if (!strcmp(r->kind, "pingpong")) {
		r->samples = bench_shared_alloc(r->events * sizeof(double));
		snprintf(params, sizeof(params),
			 "\"kind\":\"pingpong\",\"ring\":\"%s\",\"mode\":\"%s\","
			 "\"wait\":\"block\",\"size\":%u",
			 r->impl, r->xproc, r->size);
	} else {
		snprintf(params, sizeof(params),
			 "\"topology\":\"unicast\",\"ring\":\"%s\",\"mode\":\"%s\","
			 "\"wait\":\"block\",\"size\":%u,\"batch\":%u,"
			 "\"path\":\"syscall\",\"events\":%llu",
			 r->impl, r->xproc, r->size, r->batch,
			 (unsigned long long)r->events);
	}
	for (rep = 0; rep < reps; rep++) {
		struct bench_workers w = { .procs = !strcmp(r->xproc, "proc") };
		bool pp = !strcmp(r->kind, "pingpong");

		r->ctl = bench_ctl_new();
		chan_open(r, &r->ab, "ab");
		if (pp)
			chan_open(r, &r->ba, "ba");
		bench_spawn(&w, pp ? ponger : consumer, r, 0, r->ctl, true);
		bench_spawn(&w, pp ? pinger : producer, r, 1, r->ctl, true);
		r->ctl->t_start = bench_now_ns();
		__atomic_store_n(&r->ctl->go, 1, __ATOMIC_RELEASE);
		bench_join(&w, r->ctl);
		if (r->ctl->failed)
			bench_die("a worker failed");
		if (pp)
			bench_emit_latency("latency", r->impl, params,
					   r->samples, r->events);
		else
			bench_emit("throughput", r->impl, params, "ops",
				   (double)r->events /
				   ((double)(r->ctl->t_end[0] - r->ctl->t_start) / 1e9),
				   "ops/s");
		chan_close(r, &r->ab);
		if (pp)
			chan_close(r, &r->ba);
		munmap(r->ctl, sizeof(*r->ctl));
	}
	return 0;
}
