// SPDX-License-Identifier: GPL-2.0
/*
 * Multi-producer throughput through libbadbatch: P producer processes
 * publish their events in batches of B (badbatch_claim + badbatch_publish)
 * into one multi-producer ring read by one consumer process with
 * badbatch_consume(). Not a test: figures for the cost of the producers'
 * claim records (compare with a library built without them).
 *
 *   badbatch-mp-bench [events per producer] [producers] [batch]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <badbatch.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int count(void *ctx, void *event, uint64_t seq, bool end)
{
	(void)event;
	(void)seq;
	(void)end;
	++*(long *)ctx;
	return 0;
}

int main(int argc, char **argv)
{
	long events = argc > 1 ? atol(argv[1]) : 1000000;
	int producers = argc > 2 ? atoi(argv[2]) : 2;
	uint32_t batch = argc > 3 ? (uint32_t)atoi(argv[3]) : 1;
	struct badbatch_config cfg = {
		.slot_count = 4096, .slot_size = 64,
		.flags = BADBATCH_MULTI_PRODUCER,
		.wait = BADBATCH_WAIT_YIELD,
	};
	struct badbatch_consumer *c;
	struct badbatch *ring;
	long seen = 0, total;
	double t0, t1;
	int i, rc;

	if (events <= 0 || producers <= 0 || !batch || batch > 256)
		return 2;
	rc = badbatch_create(&cfg, &ring);
	if (rc || badbatch_consumer_attach(ring, NULL, &c)) {
		fprintf(stderr, "create/attach: %s\n", strerror(-rc));
		return 1;
	}
	total = events * producers;
	t0 = now();
	for (i = 0; i < producers; i++) {
		if (fork() == 0) {
			struct badbatch_producer *p;
			uint64_t seq, j;
			long done = 0;
			uint32_t n;

			if (badbatch_producer_attach(ring, NULL, &p))
				_exit(1);
			while (done < events) {
				n = events - done < batch ? (uint32_t)(events - done)
							  : batch;
				if (badbatch_claim(p, n, &seq))
					_exit(1);
				for (j = 0; j < n; j++)
					*(uint64_t *)badbatch_slot(p, seq + j) = j;
				badbatch_publish(p, seq, n);
				done += n;
			}
			badbatch_producer_close(p);
			_exit(0);
		}
	}
	while (seen < total)
		if (badbatch_consume(c, count, &seen, 0) < 0)
			break;
	t1 = now();
	while (wait(NULL) > 0)
		;
	printf("mp-bench: %d producers x %ld events, batch %u: %.1f Mev/s (%.1f ns/event)\n",
	       producers, events, batch, total / (t1 - t0) / 1e6,
	       (t1 - t0) * 1e9 / total);
	badbatch_consumer_close(c);
	badbatch_close(ring);
	return seen == total ? 0 : 1;
}
