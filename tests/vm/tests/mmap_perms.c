// SPDX-License-Identifier: GPL-2.0
/*
 * The mmap permission matrix of docs/abi.md, for every role (creator NONE,
 * producer, consumer, observer, consumer of a mutable ring) and every
 * region (header, producer page + avail, consumer pages, self, slots):
 * allowed maps succeed and their reads/writes are seen through the other
 * participants' maps; forbidden writable maps fail with EACCES; read-only
 * maps cannot be mprotect()ed writable or executable (EACCES); PROT_EXEC
 * maps fail with EPERM; MAP_PRIVATE, wrong offsets and lengths beyond a
 * region fail with EINVAL; mremap cannot grow a map; writing to a
 * read-only map kills the writer with SIGSEGV (and /proc/self/mem cannot
 * force it); a consumer's self page is writable and shows in the
 * consumers region at its id; no consumer can write another's page.
 */
#include "harness.h"

static long g_page;

enum { R_HDR, R_PROD, R_CONS, R_SLOTS, R_SELF, R_NR };
static const char *const rname[R_NR] = { "header", "producer", "consumers",
					 "slots", "self" };

static void region(const struct bb_info *in, int r, __u64 *off, __u64 *len)
{
	switch (r) {
	case R_HDR: *off = in->header_off; *len = in->header_len; break;
	case R_PROD: *off = in->producer_off; *len = in->producer_len; break;
	case R_CONS: *off = in->consumers_off; *len = in->consumers_len; break;
	case R_SLOTS: *off = in->slots_off; *len = in->slots_len; break;
	default: *off = in->self_off; *len = in->self_len; break;
	}
}

static void *map(int fd, __u64 off, __u64 len, int prot, int flags)
{
	return mmap(NULL, (size_t)len, prot, flags, fd, (off_t)off);
}

/* Writing *p must kill a child with SIGSEGV. */
static int write_child(void *p)
{
	signal(SIGSEGV, SIG_DFL);
	*(volatile __u64 *)p = 0x5e5e5e5e5e5e5e5eull;
	return 0;	/* survived: the test fails */
}

/* Can /proc/self/mem (FOLL_FORCE) write to p? */
static int forced_write_works(void *p)
{
	int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	__u64 v = 0x1234;
	ssize_t w;

	if (fd < 0)
		return 0;	/* no /proc: nothing to check */
	w = pwrite(fd, &v, sizeof(v), (off_t)(uintptr_t)p);
	close(fd);
	return w == (ssize_t)sizeof(v);
}

struct who {
	const char *name;
	int fd;
	struct bb_info info;
	int writable[R_NR];	/* 1 RW, 0 R, -1 not mappable (EINVAL) */
};

static void matrix(struct who *w, const struct bb_info *cons_info)
{
	int r;

	for (r = 0; r < R_NR; r++) {
		__u64 off, len;
		void *p, *q;
		int k;

		if (r == R_SELF && w->writable[r] < 0) {
			/* The self region belongs to consumers only. */
			region(cons_info, r, &off, &len);
			T_MAPERR(map(w->fd, off, len ? len : (__u64)g_page, PROT_READ, MAP_SHARED),
				 EINVAL, "%s: map a consumer's self region -> EINVAL", w->name);
			continue;
		}
		region(&w->info, r, &off, &len);
		T_OK(len > 0 && (r == R_SLOTS || len % (__u64)g_page == 0) &&
		     off % (__u64)g_page == 0,
		     "%s: %s region off 0x%llx len 0x%llx page-aligned", w->name, rname[r],
		     (unsigned long long)off, (unsigned long long)len);
		if (!len)
			continue;

		/* Read-only map: always allowed. */
		p = map(w->fd, off, len, PROT_READ, MAP_SHARED);
		T_OK(p != MAP_FAILED, "%s: map %s read-only", w->name, rname[r]);
		if (p != MAP_FAILED) {
			volatile __u64 x = *(volatile __u64 *)p;

			(void)x;
			T_ERR(mprotect(p, (size_t)len, PROT_READ | PROT_EXEC), EACCES,
			      "%s: mprotect(PROT_EXEC) on the %s map -> EACCES", w->name, rname[r]);
			if (w->writable[r] == 1) {
				T_SYS(mprotect(p, (size_t)len, PROT_READ | PROT_WRITE),
				      "%s: mprotect(PROT_WRITE) on a read-only map of the writable %s region",
				      w->name, rname[r]);
			} else {
				T_ERR(mprotect(p, (size_t)len, PROT_READ | PROT_WRITE), EACCES,
				      "%s: mprotect(PROT_WRITE) on the %s map -> EACCES", w->name, rname[r]);
				T_OK(forced_write_works(p) == 0,
				     "%s: /proc/self/mem cannot write the read-only %s map", w->name,
				     rname[r]);
				{
					pid_t pid = t_spawn("writer", 10, write_child, p);

					T_CHILD_SIG(pid, 10000, SIGSEGV,
						    "%s: writing the read-only %s map -> SIGSEGV",
						    w->name, rname[r]);
				}
			}
			/* Maps cannot grow. */
			q = mremap(p, (size_t)len, (size_t)len + (size_t)g_page, MREMAP_MAYMOVE);
			T_OK(q == MAP_FAILED, "%s: mremap growing the %s map fails (%s)", w->name,
			     rname[r], q == MAP_FAILED ? t_errname(errno) : "succeeded");
			if (q != MAP_FAILED)
				p = q;
			munmap(p, (size_t)len);
		}

		/* Writable map. */
		p = map(w->fd, off, len, PROT_READ | PROT_WRITE, MAP_SHARED);
		if (w->writable[r] == 1) {
			T_OK(p != MAP_FAILED, "%s: map %s read-write", w->name, rname[r]);
			if (p != MAP_FAILED)
				munmap(p, (size_t)len);
		} else {
			T_CHECK(p == MAP_FAILED && errno == EACCES,
				t_fmt("got %s", p == MAP_FAILED ? t_errname(errno) : "a map"),
				"%s: map %s read-write -> EACCES", w->name, rname[r]);
			if (p != MAP_FAILED)
				munmap(p, (size_t)len);
		}

		/* Executable maps, private maps. */
		T_MAPERR(map(w->fd, off, len, PROT_READ | PROT_EXEC, MAP_SHARED), EPERM,
			 "%s: map %s PROT_EXEC -> EPERM", w->name, rname[r]);
		T_MAPERR(map(w->fd, off, len, PROT_READ, MAP_PRIVATE), EINVAL,
			 "%s: map %s MAP_PRIVATE -> EINVAL", w->name, rname[r]);
		if (w->writable[r] == 1)
			T_MAPERR(map(w->fd, off, len, PROT_READ | PROT_WRITE, MAP_PRIVATE), EINVAL,
				 "%s: map %s MAP_PRIVATE writable -> EINVAL", w->name, rname[r]);

		/* Lengths: beyond the region fails, a prefix works. */
		T_MAPERR(map(w->fd, off, len + (__u64)g_page, PROT_READ, MAP_SHARED), EINVAL,
			 "%s: map %s one page longer than the region -> EINVAL", w->name, rname[r]);
		if (len > (__u64)g_page) {
			p = map(w->fd, off, (__u64)g_page, PROT_READ, MAP_SHARED);
			T_OK(p != MAP_FAILED, "%s: map the first page of %s", w->name, rname[r]);
			if (p != MAP_FAILED)
				munmap(p, (size_t)g_page);
			/* Offsets inside a region are not region starts. */
			for (k = 1; k < 3 && (__u64)k * (__u64)g_page < len; k++)
				T_MAPERR(map(w->fd, off + (__u64)k * (__u64)g_page, (__u64)g_page,
					     PROT_READ, MAP_SHARED), EINVAL,
					 "%s: map at %s + %d pages (not a region start) -> EINVAL",
					 w->name, rname[r], k);
		}
	}
}

int main(void)
{
	struct t_ring c, m, mk;
	struct who w[5];
	const char *name = t_name("mm"), *mname = t_name("mmut");
	__u64 starts[5], end = 0, bad;
	void *p;
	int fd, i, j;

	t_init("mmap_perms", 120);
	g_page = sysconf(_SC_PAGESIZE);

	/* Unbound fds map nothing. */
	fd = t_open();
	T_MAPERR(mmap(NULL, (size_t)g_page, PROT_READ, MAP_SHARED, fd, 0), EBADFD,
		 "map an unbound fd -> EBADFD");
	close(fd);

	if (t_ring_new(&c, 0, 64, 256, 4, name)) {
		printf("Bail out! create ring\n");
		return 1;
	}
	memset(w, 0, sizeof(w));
	w[0].name = "creator";
	w[0].fd = c.fd;
	w[1].name = "producer";
	w[2].name = "consumer";
	w[3].name = "observer";
	w[4].name = "mutable-consumer";
	for (i = 1; i < 4; i++) {
		static const __u32 roles[] = { 0, BB_ROLE_PRODUCER, BB_ROLE_CONSUMER,
					       BB_ROLE_OBSERVER };

		w[i].fd = t_open();
		T_RC(t_attach(w[i].fd, roles[i], BB_ATTACH_NAME, -1, name,
			      i == 2 ? 2 : BB_ID_ANY, 0, NULL), 0, "attach the %s", w[i].name);
	}
	if (t_ring_new(&m, BB_RING_MUTABLE_CONSUMERS, 64, 256, 4, mname) ||
	    t_join(&mk, mname, BB_ROLE_CONSUMER, 1, 0)) {
		printf("Bail out! create mutable ring\n");
		return 1;
	}
	w[4].fd = mk.fd;
	for (i = 0; i < 5; i++)
		T_RC(t_info(w[i].fd, &w[i].info), 0, "INFO for the %s", w[i].name);
	/*            hdr prod cons slots self */
	{
		static const int tbl[5][R_NR] = {
			{ 0, 0, 0, 0, -1 },	/* creator (NONE) */
			{ 0, 1, 0, 1, -1 },	/* producer */
			{ 0, 0, 0, 0, 1 },	/* consumer */
			{ 0, 0, 0, 0, -1 },	/* observer */
			{ 0, 0, 0, 1, 1 },	/* consumer, mutable ring */
		};

		for (i = 0; i < 5; i++)
			for (j = 0; j < R_NR; j++)
				w[i].writable[j] = tbl[i][j];
	}
	for (i = 0; i < 5; i++) {
		t_diag("--- %s", w[i].name);
		matrix(&w[i], &w[2].info);
	}

	/* Offsets that start no region. */
	t_diag("--- offsets");
	starts[0] = w[1].info.header_off;
	starts[1] = w[1].info.producer_off;
	starts[2] = w[1].info.consumers_off;
	starts[3] = w[1].info.slots_off;
	starts[4] = w[2].info.self_off;
	for (i = 0; i < 5; i++) {
		__u64 off, len;

		region(&w[i == 4 ? 2 : 1].info, i, &off, &len);
		if (off + len > end)
			end = off + len;
	}
	bad = end + (__u64)g_page;
	T_MAPERR(map(w[1].fd, bad, (__u64)g_page, PROT_READ, MAP_SHARED), EINVAL,
		 "map past every region -> EINVAL");
	T_MAPERR(map(w[1].fd, 1ull << 40, (__u64)g_page, PROT_READ, MAP_SHARED), EINVAL,
		 "map at offset 2^40 -> EINVAL");
	T_MAPERR(map(w[1].fd, (1ull << 44) - (__u64)g_page, (__u64)g_page, PROT_READ,
		     MAP_SHARED), EINVAL,
		 "map at a huge page-aligned offset -> EINVAL");
	for (i = 0; i < 5; i++) {
		__u64 o = starts[i] + (__u64)g_page;
		int is_start = 0;

		for (j = 0; j < 5; j++)
			is_start |= starts[j] == o;
		if (!is_start)
			T_MAPERR(map(w[1].fd, o, (__u64)g_page, PROT_READ, MAP_SHARED), EINVAL,
				 "map at %s + 1 page (0x%llx) -> EINVAL", rname[i],
				 (unsigned long long)o);
	}

	/* Contents: each role's writes are seen through the others' maps. */
	t_diag("--- contents");
	{
		struct t_ring P, K, O, K2;
		int e;

		memset(&P, 0, sizeof(P));
		memset(&K, 0, sizeof(K));
		memset(&O, 0, sizeof(O));
		P.fd = w[1].fd;
		K.fd = w[2].fd;
		O.fd = w[3].fd;
		e = t_ring_map(&P) | t_ring_map(&K) | t_ring_map(&O);
		T_RC(e, 0, "map every region of producer, consumer and observer");
		if (e)
			goto out;
		T_EQ(K.v.hdr->magic, BB_MAGIC, "consumer reads the header magic");
		T_EQ(O.v.hdr->ring_id, c.info.ring_id, "observer reads the header ring_id");
		T_EQ(K.id, 2, "consumer id 2");
		T_OK(bb_load(&K.v.hdr->consumers[2].flags) & BB_CONSUMER_ACTIVE,
		     "header: consumer 2 ACTIVE");
		T_EQ(t_gating_mask(&K), 1ull << 2, "header: gating_mask = {2}");

		/* Producer writes slots and its page; others see them. */
		t_fill(bb_slot(&P.v, 5), 256, 0xabc);
		P.v.prod->pad0[0] = 0x77;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		T_OK(t_check(bb_slot(&K.v, 5), 256, 0xabc) == 0,
		     "the producer's slot write is seen through the consumer's map");
		T_OK(t_check(bb_slot(&O.v, 5), 256, 0xabc) == 0,
		     "... and through the observer's map");
		T_EQ(K.v.prod->pad0[0], 0x77, "the producer page write is seen by the consumer");

		/* Consumer's self page shows at its id in the consumers region. */
		bb_store_release(K.self, 12345);
		T_EQ(t_cons_seq(&K, 2), 12345, "self seq shows in the consumer's consumers map at id 2");
		T_EQ(t_cons_seq(&P, 2), 12345, "... and in the producer's");
		T_EQ(t_cons_seq(&c, 2), 12345, "... and in the creator's");
		for (i = 0; i < 4; i++)
			if (i != 2)
				T_EQ(t_cons_seq(&P, (unsigned int)i), 0,
				     "consumer page %d is untouched", i);
		bb_store_release(K.self, 0);

		/* A second consumer cannot write the first one's page. */
		if (t_join(&K2, name, BB_ROLE_CONSUMER, 3, 0) == 0) {
			if (K2.info.self_off != K.info.self_off) {
				p = map(K2.fd, K.info.self_off, K.info.self_len,
					PROT_READ | PROT_WRITE, MAP_SHARED);
				T_CHECK(p == MAP_FAILED,
					t_fmt("errno %s", t_errname(errno)),
					"consumer 3 cannot map consumer 2's self page writable");
				if (p != MAP_FAILED)
					munmap(p, K.info.self_len);
			}
			bb_store_release(K2.self, 777);
			T_EQ(t_cons_seq(&P, 3), 777, "consumer 3's self write shows at id 3");
			T_EQ(t_cons_seq(&P, 2), 0, "and not at id 2");
			t_ring_close(&K2);
		} else {
			T_OK(0, "attach a second consumer");
		}

		/* A mutable ring's consumer writes slots the producer sees. */
		t_fill(bb_slot(&mk.v, 9), 256, 0xdef);
		T_OK(t_check(bb_slot(&m.v, 9), 256, 0xdef) == 0,
		     "a mutable-ring consumer's slot write is seen through the creator's map");
		t_ring_unmap(&P);
		t_ring_unmap(&K);
		t_ring_unmap(&O);
	}
out:
	t_ring_close(&mk);
	t_ring_close(&m);
	for (i = 1; i < 4; i++)
		close(w[i].fd);
	t_ring_close(&c);
	return t_done();
}
