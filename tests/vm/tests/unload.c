// SPDX-License-Identifier: GPL-2.0
/*
 * The module cannot go away under a ring: while any ring fd or mapping is
 * alive rmmod fails; once the last one is gone the refcount
 * drops back. delete_module(O_NONBLOCK) says "in use" with EWOULDBLOCK.
 * (The runner unloads the module for good at the very end.)
 */
#include <sys/syscall.h>
#include "harness.h"

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

static int try_unload(void)
{
	return (int)syscall(SYS_delete_module, "badbatch", O_NONBLOCK);
}

int main(void)
{
	long base;
	void *hdr;
	int fd;

	t_init("unload", 60);
	base = refcnt();
	T_OK(base >= 0, "module refcount readable (%ld)", base);

	fd = t_open();
	T_RC(t_create(fd, 0, 64, 64, 1, t_name("unload"), NULL), 0,
	     "create a ring");
	T_EQ(refcnt(), base + 1, "an open ring holds the module");
	T_ERR(try_unload(), EWOULDBLOCK, "rmmod with a ring alive: in use");

	hdr = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	T_OK(hdr != MAP_FAILED, "map the header");
	close(fd);
	T_EQ(refcnt(), base + 1, "a mapping alone still holds the module");
	T_ERR(try_unload(), EWOULDBLOCK,
	      "rmmod with only a mapping alive: in use");
	T_EQ(((struct bb_ring_header *)hdr)->magic, BB_MAGIC,
	     "the mapping still reads the ring");

	munmap(hdr, 4096);
	T_EQ(refcnt(), base, "unmapping the last view releases the module");
	return t_done();
}
