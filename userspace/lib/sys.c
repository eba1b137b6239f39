// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * System calls: opening /dev/badbatch, ioctls, mappings, and the sanity
 * checks on what the kernel reports before the library trusts a layout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* BADBATCH_DEVICE overrides the device path (tests, unusual setups). */
int bb_sys_open(void)
{
	const char *path = secure_getenv("BADBATCH_DEVICE");
	int fd;

	if (!path || !*path)
		path = BB_DEVICE_PATH;
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int bb_sys_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

int bb_sys_wake(int fd, __u32 bits)
{
	return ioctl(fd, BB_IOC_WAKE, (unsigned long)bits) < 0 ? -errno : 0;
}

int bb_sys_map(int fd, __u64 off, __u64 len, bool writable,
	       struct bb_region *r)
{
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	void *addr;

	if (len == 0 || len > SIZE_MAX || off > (__u64)INT64_MAX)
		return -EPROTO;
	addr = mmap(NULL, (size_t)len, prot, MAP_SHARED, fd, (off_t)off);
	if (addr == MAP_FAILED)
		return -errno;
	r->addr = addr;
	r->len = (size_t)len;
	return 0;
}

void bb_sys_unmap(struct bb_region *r)
{
	if (r->addr)
		munmap(r->addr, r->len);
	r->addr = NULL;
	r->len = 0;
}

/* Never index past what the kernel said it maps. */
int bb_sys_check_info(const struct bb_info *info)
{
	__u64 n = info->slot_count;

	if (n < BB_MIN_SLOTS || n > BB_MAX_SLOTS || (n & (n - 1)) ||
	    info->slot_size == 0 || info->slot_size > BB_MAX_SLOT_SIZE ||
	    info->max_consumers == 0 ||
	    info->max_consumers > BB_MAX_CONSUMERS ||
	    info->header_len < sizeof(struct bb_ring_header))
		return -EPROTO;
	return 0;
}

/* Does the mapped header describe the ring INFO described? */
int bb_sys_check_header(const struct bb_ring_header *hdr,
			const struct bb_info *info)
{
	if (hdr->magic != BB_MAGIC || hdr->version != BB_ABI_VERSION ||
	    hdr->slot_count != info->slot_count ||
	    hdr->slot_size != info->slot_size || hdr->slot_shift > 24 ||
	    (1ULL << hdr->slot_shift) != info->slot_count ||
	    hdr->max_consumers != info->max_consumers)
		return -EPROTO;
	return 0;
}

__u64 bb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}
