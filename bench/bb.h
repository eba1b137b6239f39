/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * badbatch as the benchmarks use it: a ring in the kernel (/dev/badbatch)
 * or in process memory (badbatch_memring_create), wait strategies by
 * name, and the parameters every badbatch record carries.
 */
#ifndef BENCH_BB_H
#define BENCH_BB_H

#include <stdio.h>
#include <string.h>

#include <badbatch.h>

#include "common.h"

/* What the records call the implementation: the -flto builds say so. */
#ifndef BB_BENCH_IMPL
#define BB_BENCH_IMPL "badbatch"
#endif

struct bb_bench_ring {
	const char *where;	/* "kernel", "mem" or "shm" */
	struct badbatch *ring;
};

static inline enum badbatch_wait bb_bench_wait(const char *name)
{
	static const struct {
		const char *name;
		enum badbatch_wait w;
	} tab[] = {
		{ "spin", BADBATCH_WAIT_BUSY_SPIN },
		{ "pause", BADBATCH_WAIT_BUSY_SPIN_PAUSE },
		{ "yield", BADBATCH_WAIT_YIELD },
		{ "sleep", BADBATCH_WAIT_SLEEP },
		{ "block", BADBATCH_WAIT_BLOCK },
		{ "phased", BADBATCH_WAIT_PHASED_BACKOFF },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (!strcmp(name, tab[i].name))
			return tab[i].w;
	bench_die("unknown wait strategy %s", name);
	return BADBATCH_WAIT_DEFAULT;
}

/*
 * Create a ring: where is "kernel" (/dev/badbatch), "mem" (this process's
 * memory, threads) or "shm" (a shared mapping, for processes forked
 * after this).
 */
static inline struct badbatch *bb_bench_create(const char *where,
					       uint32_t slots, uint32_t size,
					       bool multi, uint32_t consumers,
					       enum badbatch_wait wait)
{
	struct badbatch_config cfg = {
		.slot_count = slots,
		.slot_size = size < 8 ? 8 : (size + 7) & ~7U,
		.flags = multi ? BADBATCH_MULTI_PRODUCER : 0,
		.max_consumers = consumers ? consumers : 4,
		.wait = wait,
	};
	struct badbatch *r = NULL;
	int rc;

	if (strcmp(where, "kernel") && strcmp(where, "mem") &&
	    strcmp(where, "shm"))
		bench_die("ring %s: kernel, mem or shm", where);
	if (!strcmp(where, "kernel"))
		rc = badbatch_create(&cfg, &r);
	else if (!strcmp(where, "mem"))
		rc = badbatch_memring_create(&cfg, &r);
	else
		rc = badbatch_memring_create_shared(&cfg, &r);
	if (rc)
		bench_die("create %s ring (%u x %u): %s", where, slots,
			  cfg.slot_size, strerror(-rc));
	return r;
}

static inline struct badbatch_producer *
bb_bench_producer(struct badbatch *r, enum badbatch_wait wait)
{
	struct badbatch_producer_config pc = { .wait = { .strategy = wait } };
	struct badbatch_producer *p;
	int rc = badbatch_producer_attach(r, &pc, &p);

	if (rc)
		bench_die("producer attach: %s", strerror(-rc));
	return p;
}

/* Coalescing for every consumer bb_bench_consumer() attaches (-L). */
static struct {
	uint32_t min_batch, linger_ns;
	char name[32];		/* the "coalesce" parameter: "off", "256/2000ns" */
} bb_bench_coalesce = { .name = "off" };

/* -L MIN_BATCH/LINGER_NS, or "off". */
static inline void bb_bench_coalesce_parse(const char *arg)
{
	unsigned int min = 0, ns = 0;

	if (!strcmp(arg, "off")) {
		bb_bench_coalesce.min_batch = bb_bench_coalesce.linger_ns = 0;
		strcpy(bb_bench_coalesce.name, "off");
		return;
	}
	if (sscanf(arg, "%u/%u", &min, &ns) != 2 || min < 2 || !ns)
		bench_die("-L MIN_BATCH/LINGER_NS (MIN_BATCH >= 2, LINGER_NS > 0)");
	bb_bench_coalesce.min_batch = min;
	bb_bench_coalesce.linger_ns = ns;
	snprintf(bb_bench_coalesce.name, sizeof(bb_bench_coalesce.name),
		 "%u/%uns", min, ns);
}

/* Trailing for every consumer bb_bench_consumer() attaches (-T). */
static struct {
	uint32_t ns;		/* 0: the library's default */
	char name[32];		/* the "trail" parameter, e.g. "500ns" */
} bb_bench_trail = { .name = "default" };

/* -T NS, "off" or "default". */
static inline void bb_bench_trail_parse(const char *arg)
{
	unsigned int ns = 0;

	if (!strcmp(arg, "default") || !strcmp(arg, "off")) {
		bb_bench_trail.ns = strcmp(arg, "off") ? 0 : BADBATCH_TRAIL_OFF;
		strcpy(bb_bench_trail.name, arg);
		return;
	}
	if (sscanf(arg, "%u", &ns) != 1 || !ns || ns > BADBATCH_TRAIL_MAX_NS)
		bench_die("-T NS (1..%u), off or default", BADBATCH_TRAIL_MAX_NS);
	bb_bench_trail.ns = ns;
	snprintf(bb_bench_trail.name, sizeof(bb_bench_trail.name), "%uns", ns);
}

static inline struct badbatch_consumer *
bb_bench_consumer(struct badbatch *r, uint32_t id, uint64_t deps,
		  enum badbatch_wait wait)
{
	struct badbatch_consumer_config cc = {
		.deps = deps, .want_id = true, .id = id,
		.wait = { .strategy = wait },
		.min_batch = bb_bench_coalesce.min_batch,
		.linger_ns = bb_bench_coalesce.linger_ns,
		.trail_ns = bb_bench_trail.ns,
	};
	struct badbatch_consumer *c;
	int rc = badbatch_consumer_attach(r, &cc, &c);

	if (rc)
		bench_die("consumer %u attach: %s", id, strerror(-rc));
	return c;
}

/* Only "mem" rings cannot cross processes. */
static inline void bb_bench_check_where(const char *where, const char *xproc)
{
	if (!strcmp(where, "mem") && !strcmp(xproc, "proc"))
		bench_die("memory rings are for threads: -m shm or -m kernel");
}

#endif /* BENCH_BB_H */
