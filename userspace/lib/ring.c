// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Ring handles: create a ring, find one by name, wrap an inherited or
 * received descriptor, and what a handle can do (halt, info, stats).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Equal by design, which is what clang-tidy flags. */
/* NOLINTBEGIN(misc-redundant-expression) */
_Static_assert(BADBATCH_MULTI_PRODUCER == BB_RING_MULTI_PRODUCER &&
	       BADBATCH_MUTABLE_CONSUMERS == BB_RING_MUTABLE_CONSUMERS,
	       "public ring flags follow the ABI");
/* NOLINTEND(misc-redundant-expression) */
_Static_assert(BADBATCH_MAX_CONSUMERS == BB_MAX_CONSUMERS &&
	       BADBATCH_NAME_MAX == BB_NAME_MAX, "public limits follow the ABI");
_Static_assert(BADBATCH_WAIT_TIMEOUT_BLOCK == BB_WAIT_TIMEOUT_BLOCK + 1 &&
	       BADBATCH_WAIT_BUSY_SPIN_PAUSE == BB_WAIT_BUSY_SPIN_PAUSE + 1 &&
	       BADBATCH_WAIT_PHASED_BACKOFF == BB_WAIT_PHASED_BACKOFF + 1 &&
	       BB_LIB_WAIT_MAX == BB_WAIT_STRATEGY_MAX + 1,
	       "public wait strategies are the ABI's plus one");

/* INFO on a bound fd, then map and check the header: the handle owns fd. */
static int bb_ring_setup(struct badbatch *ring, int fd)
{
	int rc;

	ring->fd = fd;
	rc = bb_sys_ioctl(fd, BB_IOC_INFO, &ring->info);
	if (rc)
		return rc;
	rc = bb_sys_check_info(&ring->info);
	if (rc)
		return rc;
	rc = bb_sys_map(fd, ring->info.header_off, ring->info.header_len,
			false, &ring->hdr_map);
	if (rc)
		return rc;
	ring->hdr = ring->hdr_map.addr;
	return bb_sys_check_header(ring->hdr, &ring->info);
}

static struct badbatch *bb_ring_alloc(void)
{
	struct badbatch *ring = calloc(1, sizeof(*ring));

	if (ring)
		ring->fd = -1;
	return ring;
}

int badbatch_create(const struct badbatch_config *cfg,
		    struct badbatch **ringp)
{
	struct bb_create cr;
	struct badbatch *ring;
	int fd, rc;

	if (!cfg || !ringp || (__u32)cfg->wait > BB_LIB_WAIT_MAX)
		return -EINVAL;
	memset(&cr, 0, sizeof(cr));
	cr.flags = cfg->flags;
	cr.slot_count = cfg->slot_count;
	cr.slot_size = cfg->slot_size;
	cr.max_consumers = cfg->max_consumers;
	cr.wait_strategy = cfg->wait == BADBATCH_WAIT_DEFAULT ?
			   BB_WAIT_BLOCK : (__u32)cfg->wait - 1;
	cr.mode = cfg->mode;
	if (cfg->name) {
		if (strlen(cfg->name) >= sizeof(cr.name))
			return -EINVAL;
		memcpy(cr.name, cfg->name, strlen(cfg->name) + 1);
	}

	ring = bb_ring_alloc();
	if (!ring)
		return -ENOMEM;
	fd = bb_sys_open();
	if (fd < 0) {
		free(ring);
		return fd;
	}
	rc = bb_sys_ioctl(fd, BB_IOC_CREATE, &cr);
	if (!rc)
		rc = bb_ring_setup(ring, fd);
	if (rc) {
		ring->fd = fd;
		badbatch_close(ring);
		return rc;
	}
	*ringp = ring;
	return 0;
}

int badbatch_open(const char *name, struct badbatch **ringp)
{
	struct bb_attach a;
	struct badbatch *ring;
	size_t len;
	int fd, rc;

	if (!name || !ringp || !*name)
		return -EINVAL;
	len = strlen(name);
	if (len >= sizeof(a.name))
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	a.role = BB_ROLE_OBSERVER;
	a.flags = BB_ATTACH_NAME;
	a.ring_fd = -1;
	a.consumer_id = BB_ID_ANY;
	memcpy(a.name, name, len + 1);

	ring = bb_ring_alloc();
	if (!ring)
		return -ENOMEM;
	memcpy(ring->name, name, len + 1);
	fd = bb_sys_open();
	if (fd < 0) {
		free(ring);
		return fd;
	}
	rc = bb_sys_ioctl(fd, BB_IOC_ATTACH, &a);
	if (rc == -EACCES) {
		/* May not observe, may still produce: attach by name. */
		close(fd);
		*ringp = ring;
		return 0;
	}
	if (!rc)
		rc = bb_ring_setup(ring, fd);
	if (rc) {
		ring->fd = fd;
		badbatch_close(ring);
		return rc;
	}
	*ringp = ring;
	return 0;
}

int badbatch_from_fd(int fd, struct badbatch **ringp)
{
	struct badbatch *ring;
	int dup, rc;

	if (!ringp)
		return -EINVAL;
	ring = bb_ring_alloc();
	if (!ring)
		return -ENOMEM;
	dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0) {
		rc = -errno;
		free(ring);
		return rc;
	}
	rc = bb_ring_setup(ring, dup);
	if (rc) {
		badbatch_close(ring);
		return rc;
	}
	*ringp = ring;
	return 0;
}

void badbatch_close(struct badbatch *ring)
{
	if (!ring)
		return;
	if (ring->mem)
		bb_mem_put(ring->mem);
	bb_sys_unmap(&ring->hdr_map);
	if (ring->fd >= 0)
		close(ring->fd);
	free(ring);
}

int badbatch_fd(const struct badbatch *ring)
{
	return ring->fd;
}

int badbatch_halt(struct badbatch *ring)
{
	if (ring->mem) {
		bb_mem_halt(ring->mem);
		return 0;
	}
	if (ring->fd < 0)
		return -EBADFD;
	return bb_sys_ioctl(ring->fd, BB_IOC_HALT, NULL);
}

bool badbatch_is_halted(const struct badbatch *ring)
{
	return ring->hdr &&
	       bb_load_acquire(&ring->hdr->status) == BB_STATUS_HALTED;
}

int badbatch_get_info(const struct badbatch *ring, struct badbatch_info *info)
{
	if (!ring->hdr)
		return -EACCES;
	memset(info, 0, sizeof(*info));
	info->ring_id = ring->info.ring_id;
	info->flags = ring->info.flags;
	info->slot_count = ring->info.slot_count;
	info->slot_size = ring->info.slot_size;
	info->max_consumers = ring->info.max_consumers;
	info->wait = (enum badbatch_wait)(ring->info.wait_strategy + 1);
	return 0;
}

int badbatch_get_stats(const struct badbatch *ring,
		       struct badbatch_stats *stats)
{
	const struct bb_ring_header *hdr = ring->hdr;
	struct bb_stats st;
	int rc;

	memset(stats, 0, sizeof(*stats));
	if (ring->mem) {
		stats->ring_id = ring->info.ring_id;
		stats->gating_mask = bb_load(&hdr->gating_mask);
		stats->nr_producers = bb_load(&hdr->nr_producers);
		stats->nr_consumers = bb_load(&hdr->nr_consumers);
		stats->halted = badbatch_is_halted(ring);
		stats->rings = 1;
		bb_mem_sleep_stats(ring->mem, stats);
		return 0;
	}
	if (ring->fd < 0)
		return -EACCES;
	memset(&st, 0, sizeof(st));
	rc = bb_sys_ioctl(ring->fd, BB_IOC_STATS, &st);
	if (rc)
		return rc;
	stats->ring_id = st.ring_id;
	stats->cursor = st.cursor;
	stats->gating_mask = st.gating_mask;
	stats->nr_producers = st.nr_producers;
	stats->nr_consumers = st.nr_consumers;
	stats->waiters = st.waiters;
	stats->halted = st.status == BB_STATUS_HALTED;
	stats->wakeups = st.wakeups;
	stats->sleeps = st.sleeps;
	stats->bytes = st.bytes;
	stats->rings = st.rings;
	stats->abandoned = st.abandoned;
	stats->pool_lost = st.pool_lost;
	return 0;
}
