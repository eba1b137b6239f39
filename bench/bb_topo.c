// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * badbatch throughput over LMAX's five topologies: unicast 1P-1C,
 * pipeline 1P-3C, sequencer 3P-1C, multicast 1P-3C, diamond 1P-3C.
 * Producers claim and publish one event (or a batch) at a time,
 * consumers take whatever is published in one batch (badbatch_consume),
 * as LMAX's BatchEventProcessor does. ops/s counts events published,
 * from the start signal to the last consumer seeing the last event.
 *
 *   bb-topo -t TOPO [-m mem|shm|kernel] [-x thread|proc] [-w WAIT] [-s SIZE]
 *           [-R SLOTS] [-b BATCH] [-p fast|ioctl|rw] [-c event|run]
 *           [-L MIN/NS|off] [-T NS|off|default] [-n EVENTS] [-r REPS]
 *
 * -L: coalescing consumers (min_batch MIN, linger_ns NS): a batch
 * smaller than MIN waits up to NS for more events.
 *
 * -T: trailing consumers (trail_ns NS, or none): after a batch of
 * BADBATCH_TRAIL_BATCH events or more, a consumer lets NS pass before
 * it looks again; "default" leaves it to the library.
 *
 * -c run: consumers take a run of events back to back per call
 * (badbatch_consume_runs), the C counterpart of a handler the JIT
 * inlines into LMAX's batch loop; -c event (default) calls the handler
 * once per event.
 *
 * -p ioctl: the producer claims and publishes through BB_IOC_CLAIM and
 * BB_IOC_PUBLISH (kernel-mediated), consumers as usual; -p rw: the
 * producer write()s and the consumer read()s whole events (unicast).
 * Kernel rings also report the ring's system calls per event (kernel
 * wake calls plus sleeps, from BB_IOC_STATS).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/badbatch.h>

#include "bb.h"

enum topo { UNICAST, PIPELINE, SEQUENCER, MULTICAST, DIAMOND };
static const char *const topo_names[] = {
	"unicast", "pipeline", "sequencer", "multicast", "diamond",
};

struct run {
	enum topo topo;
	const char *where, *path, *xproc, *waitname, *handler;
	enum badbatch_wait wait;
	uint32_t size, slots, batch;
	uint64_t events;
	int nprod, ncons;
	struct badbatch *ring;
	struct bench_ctl *ctl;
	unsigned char payload[4096];
};

static uint64_t deps_of(const struct run *r, int i)
{
	switch (r->topo) {
	case PIPELINE:
		return i ? 1ULL << (i - 1) : 0;
	case DIAMOND:
		return i == 2 ? 3 : 0;
	default:
		return 0;
	}
}

struct csum {
	uint64_t sum;
	uint32_t words;
};

static int on_event(void *ctx, void *ev, uint64_t seq, bool eob)
{
	struct csum *s = ctx;
	const uint64_t *w = ev;

	s->sum += w[0];
	if (s->words > 1)
		s->sum += w[s->words - 1];
	return 0;
}

/* The same work as on_event(), a run of events back to back at a time. */
static int on_run(void *ctx, void *first, uint64_t seq, uint32_t n, bool eob)
{
	struct csum *s = ctx;
	const uint64_t *w = first;
	uint64_t sum = s->sum;
	uint32_t k;

	for (k = 0; k < n; k++, w += s->words) {
		sum += w[0];
		if (s->words > 1)
			sum += w[s->words - 1];
	}
	s->sum = sum;
	return (int)n;
}

static void consumer(void *arg, int i)
{
	struct run *r = arg;
	struct badbatch_consumer *c;
	struct csum s = { .words = r->size / 8 };
	uint64_t cpu0;
	int rc;

	bench_pin(i + 1);
	pthread_setname_np(pthread_self(), "consumer");
	c = bb_bench_consumer(r->ring, (uint32_t)i, deps_of(r, i), r->wait);
	bench_set_ready(r->ctl, i);
	bench_wait_go(r->ctl);
	cpu0 = bench_thread_cpu_ns();
	if (!strcmp(r->path, "rw")) {
		static unsigned char buf[1 << 16];
		uint64_t got = 0, k;
		ssize_t n;
		int fd = badbatch_consumer_fd(c);

		while (got < r->events) {
			n = read(fd, buf, sizeof(buf) - sizeof(buf) % r->size);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				bench_die("read: %s", strerror(errno));
			}
			for (k = 0; k < (uint64_t)n / r->size; k++)
				s.sum += *(uint64_t *)(buf + k * r->size);
			got += (uint64_t)n / r->size;
		}
	} else {
		bool runs = !strcmp(r->handler, "run");

		while (badbatch_consumer_seq(c) < r->events) {
			rc = runs ? badbatch_consume_runs(c, on_run, &s, 0) :
				    badbatch_consume(c, on_event, &s, 0);
			if (rc < 0)
				bench_die("consume: %s", strerror(-rc));
		}
	}
	r->ctl->t_end[i] = bench_now_ns();
	r->ctl->cpu_ns[i] = bench_thread_cpu_ns() - cpu0;
	r->ctl->aux[i][0] = s.sum;
	badbatch_consumer_close(c);
}

static inline void fill(const struct run *r, void *slot, uint64_t v)
{
	*(uint64_t *)slot = v;
	if (r->size > 8)
		memcpy((char *)slot + 8, r->payload + 8, r->size - 8);
}

static void producer(void *arg, int idx)
{
	struct run *r = arg;
	int j = idx - r->ncons;
	struct badbatch_producer *p;
	uint64_t n = r->events / (uint64_t)r->nprod, i = 0, seq, k;
	uint32_t b;
	int rc, fd;

	bench_pin(j);
	pthread_setname_np(pthread_self(), "producer");
	p = bb_bench_producer(r->ring, r->wait);
	fd = badbatch_producer_fd(p);
	bench_set_ready(r->ctl, idx);
	bench_wait_go(r->ctl);
	if (!strcmp(r->path, "rw")) {
		unsigned char *buf = calloc(r->batch, r->size);
		ssize_t w;

		while (i < n) {
			b = (uint32_t)(n - i < r->batch ? n - i : r->batch);
			for (k = 0; k < b; k++)
				fill(r, buf + k * r->size, i + k);
			for (k = 0; k < (uint64_t)b * r->size; k += (uint64_t)w) {
				w = write(fd, buf + k, b * r->size - k);
				if (w < 0 && errno == EINTR)
					w = 0;
				else if (w < 0)
					bench_die("write: %s", strerror(errno));
			}
			i += b;
		}
		free(buf);
	} else if (!strcmp(r->path, "ioctl")) {
		while (i < n) {
			struct bb_claim cl = { 0 };
			struct bb_publish pb = { 0 };

			b = (uint32_t)(n - i < r->batch ? n - i : r->batch);
			cl.count = b;
			if (ioctl(fd, BB_IOC_CLAIM, &cl))
				bench_die("BB_IOC_CLAIM: %s", strerror(errno));
			for (k = 0; k < b; k++)
				fill(r, badbatch_slot(p, cl.seq + k), i + k);
			pb.seq = cl.seq;
			pb.count = b;
			if (ioctl(fd, BB_IOC_PUBLISH, &pb))
				bench_die("BB_IOC_PUBLISH: %s", strerror(errno));
			i += b;
		}
	} else {
		while (i < n) {
			b = (uint32_t)(n - i < r->batch ? n - i : r->batch);
			unsigned char *slot;

			rc = badbatch_claim(p, b, &seq);
			if (rc)
				bench_die("claim: %s", strerror(-rc));
			/* Slots lie back to back until the ring wraps. */
			slot = badbatch_slot(p, seq);
			for (k = 0; k < b; k++, slot += r->size) {
				if (k && !((seq + k) & (r->slots - 1)))
					slot = badbatch_slot(p, seq + k);
				fill(r, slot, i + k);
			}
			rc = badbatch_publish(p, seq, b);
			if (rc)
				bench_die("publish: %s", strerror(-rc));
			i += b;
		}
	}
	badbatch_producer_close(p);
}

static void usage(void)
{
	fprintf(stderr, "usage: bb-topo -t unicast|pipeline|sequencer|"
		"multicast|diamond [-m mem|shm|kernel] [-x thread|proc] [-w WAIT]\n"
		"       [-s SIZE] [-R SLOTS] [-b BATCH] [-p fast|ioctl|rw] "
		"[-c event|run] [-L MIN/NS|off] [-T NS|off|default]\n"
		"       [-n EVENTS] [-r REPS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct run *r = bench_shared_alloc(sizeof(*r));
	int opt, reps = 3, rep, i;
	char params[512];

	r->topo = UNICAST;
	r->where = "mem";
	r->xproc = "thread";
	r->path = "fast";
	r->waitname = "yield";
	r->handler = "event";
	r->size = 8;
	r->slots = 65536;
	r->batch = 1;
	r->events = 10000000;
	while ((opt = getopt(argc, argv, "t:m:x:w:s:R:b:p:c:L:T:n:r:")) != -1) {
		switch (opt) {
		case 't':
			for (i = 0; i < 5 && strcmp(optarg, topo_names[i]); i++)
				;
			if (i == 5)
				usage();
			r->topo = (enum topo)i;
			break;
		case 'm': r->where = optarg; break;
		case 'x': r->xproc = optarg; break;
		case 'w': r->waitname = optarg; break;
		case 's': r->size = (uint32_t)atoi(optarg); break;
		case 'R': r->slots = (uint32_t)atoi(optarg); break;
		case 'b': r->batch = (uint32_t)atoi(optarg); break;
		case 'p': r->path = optarg; break;
		case 'c': r->handler = optarg; break;
		case 'L': bb_bench_coalesce_parse(optarg); break;
		case 'T': bb_bench_trail_parse(optarg); break;
		case 'n': r->events = strtoull(optarg, NULL, 0); break;
		case 'r': reps = atoi(optarg); break;
		default: usage();
		}
	}
	r->wait = bb_bench_wait(r->waitname);
	bb_bench_check_where(r->where, r->xproc);
	if (r->size < 8 || r->size % 8 || r->size > sizeof(r->payload))
		bench_die("event size must be a multiple of 8 in 8..4096");
	if (r->batch > r->slots)
		r->batch = r->slots;
	r->nprod = r->topo == SEQUENCER ? 3 : 1;
	r->ncons = r->topo == UNICAST || r->topo == SEQUENCER ? 1 : 3;
	r->events -= r->events % (uint64_t)r->nprod;
	memset(r->payload, 0xa5, sizeof(r->payload));
	if (strcmp(r->handler, "event") && strcmp(r->handler, "run"))
		usage();
	if (strcmp(r->path, "fast") && strcmp(r->where, "kernel"))
		bench_die("-p %s needs a kernel ring", r->path);
	snprintf(params, sizeof(params),
		 "\"topology\":\"%s\",\"ring\":\"%s\",\"mode\":\"%s\","
		 "\"wait\":\"%s\",\"size\":%u,\"slots\":%u,\"batch\":%u,"
		 "\"path\":\"%s\",\"handler\":\"%s\",\"coalesce\":\"%s\","
		 "\"trail\":\"%s\",\"events\":%llu",
		 topo_names[r->topo], r->where, r->xproc, r->waitname,
		 r->size, r->slots, r->batch, r->path, r->handler,
		 bb_bench_coalesce.name, bb_bench_trail.name,
		 (unsigned long long)r->events);

	for (rep = 0; rep < reps; rep++) {
		struct bench_workers w = { .procs = !strcmp(r->xproc, "proc") };
		struct badbatch_stats st0 = { 0 }, st1 = { 0 };
		uint64_t end = 0, cpu = 0;
		double secs;

		r->ctl = bench_ctl_new();
		r->ring = bb_bench_create(r->where, r->slots, r->size,
					  r->nprod > 1, 4, r->wait);
		for (i = 0; i < r->ncons; i++)
			bench_spawn(&w, consumer, r, i, r->ctl, true);
		for (i = 0; i < r->nprod; i++)
			bench_spawn(&w, producer, r, r->ncons + i, r->ctl, true);
		badbatch_get_stats(r->ring, &st0);
		r->ctl->t_start = bench_now_ns();
		__atomic_store_n(&r->ctl->go, 1, __ATOMIC_RELEASE);
		bench_join(&w, r->ctl);
		if (r->ctl->failed)
			bench_die("a worker failed");
		badbatch_get_stats(r->ring, &st1);
		for (i = 0; i < r->ncons; i++) {
			if (r->ctl->t_end[i] > end)
				end = r->ctl->t_end[i];
			cpu += r->ctl->cpu_ns[i];
		}
		secs = (double)(end - r->ctl->t_start) / 1e9;
		bench_emit("throughput", BB_BENCH_IMPL, params, "ops",
			   (double)r->events / secs, "ops/s");
		/* Memory rings count their futex calls the same way. */
		if (!strcmp(r->path, "fast"))
			bench_emit("throughput", BB_BENCH_IMPL, params,
				   "syscalls_per_event",
				   (double)((st1.wakeups - st0.wakeups) +
					    (st1.sleeps - st0.sleeps)) /
					   (double)r->events,
				   "calls/event");
		badbatch_close(r->ring);
		munmap(r->ctl, sizeof(*r->ctl));
	}
	return 0;
}
