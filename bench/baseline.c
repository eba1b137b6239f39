// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Physical baselines: what the two CPUs and the memory can do at all.
 *
 * atomic: two threads (or processes) pinned to CPU 0 and CPU 1 bounce one
 * cache line: each waits for the other's value and answers with the
 * next (round trip, p50/p99/p99.9/max). Half of it is the floor of any
 * one-way hand-over between the two CPUs.
 *
 * memcpy: bandwidth copying SIZE-byte blocks through a buffer larger
 * than the caches' share of one event stream (GB/s), the floor of any
 * ring that copies its events.
 *
 *   baseline -k atomic [-x thread|proc] [-n ROUNDS] [-r REPS]
 *   baseline -k memcpy [-s SIZE] [-n BYTES] [-r REPS]
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

struct run {
	uint64_t rounds, warm;
	struct bench_ctl *ctl;
	double *samples;
	volatile uint64_t ping __attribute__((aligned(64)));
	char pad[56];
};

static void echo(void *arg, int idx)
{
	struct run *r = arg;
	uint64_t i, total = r->rounds + r->warm;

	bench_pin(1);
	bench_set_ready(r->ctl, idx);
	bench_wait_go(r->ctl);
	for (i = 0; i < total; i++) {
		while (__atomic_load_n(&r->ping, __ATOMIC_ACQUIRE) != 2 * i + 1)
			;
		__atomic_store_n(&r->ping, 2 * i + 2, __ATOMIC_RELEASE);
	}
}

static void serve(void *arg, int idx)
{
	struct run *r = arg;
	uint64_t i, t, total = r->rounds + r->warm;

	bench_pin(0);
	bench_set_ready(r->ctl, idx);
	bench_wait_go(r->ctl);
	for (i = 0; i < total; i++) {
		t = bench_now_ns();
		__atomic_store_n(&r->ping, 2 * i + 1, __ATOMIC_RELEASE);
		while (__atomic_load_n(&r->ping, __ATOMIC_ACQUIRE) != 2 * i + 2)
			;
		if (i >= r->warm)
			r->samples[i - r->warm] = (double)(bench_now_ns() - t);
	}
}

int main(int argc, char **argv)
{
	const char *kind = "atomic", *xproc = "thread";
	uint64_t n = 0;
	uint32_t size = 64;
	int opt, reps = 3, rep;
	char params[256];

	while ((opt = getopt(argc, argv, "k:x:n:s:r:")) != -1) {
		switch (opt) {
		case 'k': kind = optarg; break;
		case 'x': xproc = optarg; break;
		case 'n': n = strtoull(optarg, NULL, 0); break;
		case 's': size = (uint32_t)atoi(optarg); break;
		case 'r': reps = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: baseline -k atomic|memcpy "
				"[-x thread|proc] [-s SIZE] [-n N] [-r REPS]\n");
			return 2;
		}
	}
	if (!strcmp(kind, "atomic")) {
		struct run *r = bench_shared_alloc(sizeof(*r));

		r->rounds = n ? n : 200000;
		r->warm = r->rounds / 10;
		r->samples = bench_shared_alloc(r->rounds * sizeof(double));
		snprintf(params, sizeof(params),
			 "\"kind\":\"pingpong\",\"mode\":\"%s\",\"size\":8",
			 xproc);
		for (rep = 0; rep < reps; rep++) {
			struct bench_workers w = { .procs = !strcmp(xproc, "proc") };

			r->ping = 0;
			r->ctl = bench_ctl_new();
			bench_spawn(&w, echo, r, 0, r->ctl, true);
			bench_spawn(&w, serve, r, 1, r->ctl, true);
			__atomic_store_n(&r->ctl->go, 1, __ATOMIC_RELEASE);
			bench_join(&w, r->ctl);
			bench_emit_latency("latency", "atomic", params,
					   r->samples, r->rounds);
			munmap(r->ctl, sizeof(*r->ctl));
		}
		return 0;
	}
	if (!strcmp(kind, "memcpy")) {
		/* A ring's worth of slots: 64 Ki events, at most 64 MiB. */
		size_t span = (size_t)size * 65536;
		unsigned char *src, *dst;
		uint64_t bytes = n ? n : 1ULL << 30, done, t;
		size_t off;

		if (span > (64U << 20))
			span = 64U << 20;
		src = malloc(span);
		dst = malloc(span);
		if (!src || !dst || !size)
			bench_die("memcpy buffers");
		memset(src, 0x5a, span);
		memset(dst, 0, span);
		snprintf(params, sizeof(params), "\"kind\":\"memcpy\",\"size\":%u",
			 size);
		bench_pin(0);
		for (rep = 0; rep < reps; rep++) {
			t = bench_now_ns();
			for (done = 0, off = 0; done < bytes; done += size) {
				memcpy(dst + off, src + off, size);
				__asm__ __volatile__("" ::: "memory");
				off += size;
				if (off + size > span)
					off = 0;
			}
			bench_emit("bandwidth", "memcpy", params, "bandwidth",
				   (double)bytes / (double)(bench_now_ns() - t),
				   "GB/s");
		}
		free(src);
		free(dst);
		return 0;
	}
	bench_die("unknown kind %s", kind);
	return 1;
}
