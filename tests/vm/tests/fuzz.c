// SPDX-License-Identifier: GPL-2.0
/*
 * A bounded fuzzer for /dev/badbatch: ioctl (every known command with a
 * valid struct, one field mutated, or raw; random command numbers in the
 * 0xBB magic, 0x0a included), mmap/munmap/mprotect/mremap/madvise of
 * ring regions, read/write/pread/lseek, poll, with good, unaligned,
 * short (page-straddling), read-only, NULL, kernel and racing-unmapped
 * buffers, and boundary values everywhere.
 *
 * NPROC worker processes of NTHR threads share NNAMES ring names: they
 * create, attach (by name, by fd, self), use, halt and close the same
 * rings concurrently, and dup, close, fork (children inherit fds and
 * mappings, run a few operations, sometimes exec /bin/true) and remap a
 * buffer area other threads pass to the kernel, all at once. A thread in
 * every worker pokes the others with a signal (no SA_RESTART) so that
 * blocking calls return.
 *
 * Checks: every call succeeds or fails with an errno documented for it
 * (docs/abi.md, plus the generic EBADF/EFAULT/ENOTTY/ESPIPE and the mm's
 * own mmap errnos); successful INFO results are sane; no worker crashes
 * or hangs; the runner checks the kernel log; at the end the module's
 * ring count is back to its baseline and the module's refcount too.
 *
 * BB_FUZZ_SECS (default 40) bounds the run, BB_FUZZ_SEED (printed)
 * replays a run's choices (not its interleavings).
 */
#include <pthread.h>
#include <sys/time.h>
#include "harness.h"

#define NPROC	3
#define NTHR	2
#define NFD	16
#define NNAMES	6
#define NMAP	8
#define BUFSZ	65536
#define MAXERR	160

enum op {
	OP_OPEN, OP_CLOSE, OP_DUP, OP_FCNTL,
	OP_CREATE, OP_ATTACH, OP_INFO, OP_WAIT, OP_WAKE, OP_CLAIM,
	OP_PUBLISH, OP_HALT, OP_STATS, OP_FAIL, OP_IOC_RAW,
	OP_READ, OP_WRITE, OP_PREAD, OP_LSEEK,
	OP_MMAP, OP_MUNMAP, OP_MPROTECT, OP_MREMAP, OP_MADVISE,
	OP_POLL, OP_FORK, OP_VICTIM,
	OP_NR
};

static const char *const op_names[OP_NR] = {
	"open", "close", "dup", "fcntl",
	"CREATE", "ATTACH", "INFO", "WAIT", "WAKE", "CLAIM",
	"PUBLISH", "HALT", "STATS", "FAIL", "ioctl-raw",
	"read", "write", "pread", "lseek",
	"mmap", "munmap", "mprotect", "mremap", "madvise",
	"poll", "fork", "victim",
};

/* Documented errnos per call (0-terminated). */
static const int ok_create[] = { EISCONN, EINVAL, E2BIG, ENOSPC, EEXIST,
				 ENOMEM, EFAULT, EBADF, 0 };
static const int ok_attach[] = { EISCONN, EINVAL, EBADF, ENOENT, EACCES,
				 ESHUTDOWN, EBUSY, ENOSPC, EFAULT, ENOMEM, 0 };
static const int ok_info[] = { EBADFD, EFAULT, EBADF, 0 };
static const int ok_wait[] = { EBADFD, EPERM, EINVAL, ETIMEDOUT, EINTR,
			       ESHUTDOWN, EFAULT, EBADF, 0 };
static const int ok_wake[] = { EBADFD, EINVAL, EBADF, 0 };
static const int ok_claim[] = { EBADFD, EPERM, EINVAL, EAGAIN, ETIMEDOUT,
				EINTR, ESHUTDOWN, EBUSY, EFAULT, EBADF, 0 };
static const int ok_publish[] = { EBADFD, EPERM, EINVAL, EBUSY, EFAULT,
				  EINTR, EBADF, 0 };
static const int ok_halt[] = { EBADFD, EPERM, EBADF, 0 };
/* BB_IOC_FAIL: ENOTTY where it is not implemented yet. */
static const int ok_fail[] = { EBADFD, EPERM, EINVAL, ESHUTDOWN, EFAULT,
			       EBADF, ENOTTY, 0 };
static const int ok_raw[] = { ENOTTY, EBADF, 0 };
static const int ok_rw[] = { EPERM, EINVAL, EAGAIN, ESHUTDOWN, EFAULT,
			     EBADFD, EBADF, EINTR, 0 };
static const int ok_seek[] = { ESPIPE, EBADF, EINVAL, EFAULT, 0 };
static const int ok_mmap[] = { EBADFD, EINVAL, EACCES, EPERM, EBADF,
			       ENOMEM, EOVERFLOW, 0 };
static const int ok_mprotect[] = { EACCES, ENOMEM, EINVAL, 0 };
static const int ok_mremap[] = { EFAULT, EINVAL, ENOMEM, EAGAIN, 0 };
static const int ok_poll[] = { EINTR, 0 };
static const int ok_fd[] = { EBADF, EMFILE, EINVAL, EINTR, ENFILE, 0 };
static const int ok_none[] = { 0 };

static const int *const op_ok[OP_NR] = {
	[OP_OPEN] = ok_fd, [OP_CLOSE] = ok_fd, [OP_DUP] = ok_fd,
	[OP_FCNTL] = ok_fd, [OP_CREATE] = ok_create, [OP_ATTACH] = ok_attach,
	[OP_INFO] = ok_info, [OP_WAIT] = ok_wait, [OP_WAKE] = ok_wake,
	[OP_CLAIM] = ok_claim, [OP_PUBLISH] = ok_publish, [OP_HALT] = ok_halt,
	[OP_STATS] = ok_info, [OP_FAIL] = ok_fail, [OP_IOC_RAW] = ok_raw,
	[OP_READ] = ok_rw, [OP_WRITE] = ok_rw, [OP_PREAD] = ok_seek,
	[OP_LSEEK] = ok_seek, [OP_MMAP] = ok_mmap, [OP_MUNMAP] = ok_mprotect,
	[OP_MPROTECT] = ok_mprotect, [OP_MREMAP] = ok_mremap,
	[OP_MADVISE] = ok_mprotect, [OP_POLL] = ok_poll, [OP_FORK] = ok_none,
	[OP_VICTIM] = ok_mprotect,
};

/* Shared by every process of the run. */
struct shm {
	unsigned long iters;
	unsigned long calls[OP_NR];
	unsigned long errs[OP_NR][MAXERR];	/* every errno seen */
	unsigned long bad[OP_NR][MAXERR];	/* undocumented ones */
	unsigned int bad_cmd[OP_NR][MAXERR];	/* an example command */
	unsigned long info_bad, children, execs, signals;
	int stop;
};

static struct shm *g_shm;
static __u64 g_seed;
static pid_t g_top;
static long g_page;
static __u64 g_end_ns;

/* Per worker process (shared by its threads). */
static int g_fds[NFD];
static char *g_victim;		/* 4 pages other threads remap at will, and a guard */

struct fz {
	__u64 rng;
	unsigned long iters;
	unsigned char *buf;	/* BUFSZ, page aligned */
	char *edge;		/* RW page followed by a PROT_NONE page */
	char *ro;		/* read-only page */
	struct { void *p; size_t len; int prot; } maps[NMAP];
	__u64 claim_seq;	/* last successful CLAIM */
	__u32 claim_n;
	int claim_fd;
	int child;		/* a forked child: no fork, no threads */
};

/* ------------------------------------------------------------------ */
/* Randomness                                                          */

static __u64 rnd(struct fz *z)
{
	__u64 x = z->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	z->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static __u32 rn(struct fz *z, __u32 n)
{
	return n ? (__u32)(rnd(z) % n) : 0;
}

static int chance(struct fz *z, __u32 one_in)
{
	return rn(z, one_in) == 0;
}

static __u64 boundary64(struct fz *z)
{
	static const __u64 v[] = {
		0, 1, 2, 3, 7, 8, 15, 16, 63, 64, 65, 255, 4095, 4096, 4097,
		0x7fffffffull, 0x80000000ull, 0xfffffffeull, 0xffffffffull,
		0x100000000ull, 1ull << 20, (1ull << 20) + 8, 1ull << 24,
		(1ull << 24) + 1, 0x7fffffffffffffffull, 0x8000000000000000ull,
		~0ull, ~0ull - 1, ~0ull - 4095,
	};

	if (chance(z, 4))
		return rnd(z);
	if (chance(z, 4))
		return 1ull << rn(z, 64);
	return v[rn(z, sizeof(v) / sizeof(v[0]))];
}

/* Mutate one 4- or 8-byte field (or one byte) of a struct. */
static void mutate(struct fz *z, void *s, size_t size)
{
	unsigned char *b = s;
	__u64 v = boundary64(z);

	switch (rn(z, 4)) {
	case 0: {
		__u32 w = (__u32)v;

		memcpy(b + rn(z, (__u32)(size / 4)) * 4, &w, 4);
		break;
	}
	case 1:
		memcpy(b + rn(z, (__u32)(size / 8)) * 8, &v, 8);
		break;
	case 2:
		b[rn(z, (__u32)size)] ^= (unsigned char)(1u << rn(z, 8));
		break;
	default:
		b[rn(z, (__u32)size)] = (unsigned char)v;
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Recording                                                           */

static void record(struct fz *z, enum op op, long ret, int err,
		   unsigned int cmd)
{
	const int *ok;

	z->iters++;
	__atomic_add_fetch(&g_shm->calls[op], 1, __ATOMIC_RELAXED);
	if (ret >= 0)
		return;
	if (err < 0 || err >= MAXERR)
		err = MAXERR - 1;
	__atomic_add_fetch(&g_shm->errs[op][err], 1, __ATOMIC_RELAXED);
	for (ok = op_ok[op]; *ok; ok++)
		if (*ok == err)
			return;
	if (__atomic_add_fetch(&g_shm->bad[op][err], 1, __ATOMIC_RELAXED) == 1)
		g_shm->bad_cmd[op][err] = cmd;
}

/* ------------------------------------------------------------------ */
/* Argument memory                                                     */

static const char *ring_name(struct fz *z)
{
	static __thread char name[BB_NAME_MAX];

	snprintf(name, sizeof(name), "fz%u-%d", rn(z, NNAMES), (int)g_top);
	return name;
}

/*
 * Where to put an argument of size bytes (copied from src): mostly a good
 * buffer, else unaligned, page-straddling, read-only, NULL, kernel, or
 * the victim area that other threads remap.
 */
static void *place(struct fz *z, const void *src, size_t size)
{
	unsigned int k;
	char *p;

	switch (rn(z, 16)) {
	case 0:
		p = (char *)z->buf + 1 + rn(z, 7);
		memcpy(p, src, size);
		return p;
	case 1:
		k = 1 + rn(z, (__u32)(size > 1 ? size - 1 : 1));
		p = z->edge + g_page - k;
		memcpy(p, src, k < size ? k : size);
		return p;
	case 2:
		return z->ro;
	case 3:
		return chance(z, 2) ? NULL : (void *)(uintptr_t)(1 + rn(z, 4096));
	case 4:
		return (void *)(uintptr_t)(chance(z, 2) ? 0xffffffff81000000ull :
					   0xffff888000000000ull);
	case 5:
		return g_victim + rn(z, 4 * (__u32)g_page - (__u32)size);
	default:
		memcpy(z->buf, src, size);
		return z->buf;
	}
}

static int pick_fd(struct fz *z)
{
	if (chance(z, 64))
		return chance(z, 2) ? -1 : 1000 + (int)rn(z, 100);
	return __atomic_load_n(&g_fds[rn(z, NFD)], __ATOMIC_RELAXED);
}

static void put_fd(struct fz *z, int fd)
{
	int old = __atomic_exchange_n(&g_fds[rn(z, NFD)], fd, __ATOMIC_RELAXED);

	if (old >= 0)
		close(old);
}

/* ------------------------------------------------------------------ */
/* ioctls                                                              */

static __u64 deadline(struct fz *z)
{
	switch (rn(z, 6)) {
	case 0:
		return 0;
	case 1:
		return ~0ull;
	case 2:
		return boundary64(z);
	default:
		return t_now_ns() + rn(z, 2000000);
	}
}

static long do_ioctl(struct fz *z, int fd, unsigned int cmd, const void *arg,
		     size_t size, int *err, void **where)
{
	void *p = place(z, arg, size);
	long r;

	errno = 0;
	r = ioctl(fd, cmd, p);
	*err = errno;
	*where = p;
	return r;
}

static void fz_ioctl(struct fz *z)
{
	union {
		struct bb_create c;
		struct bb_attach a;
		struct bb_info i;
		struct bb_wait w;
		struct bb_claim cl;
		struct bb_publish p;
		struct bb_stats s;
		struct bb_fail f;
		unsigned char raw[512];
	} u;
	int fd = pick_fd(z), err = 0, mut = chance(z, 3);
	unsigned int cmd = 0;
	enum op op;
	size_t size = 0;
	void *where;
	long r;

	memset(&u, 0, sizeof(u));
	switch (rn(z, 20)) {
	case 0: case 1: case 2:
		op = OP_CREATE;
		cmd = BB_IOC_CREATE;
		size = sizeof(u.c);
		u.c.flags = rn(z, 4);
		u.c.slot_count = 1u << (1 + rn(z, 10));
		u.c.slot_size = 8 * (1 + rn(z, 64));
		u.c.max_consumers = rn(z, 9);
		u.c.wait_strategy = rn(z, BB_WAIT_STRATEGY_MAX + 1);
		u.c.mode = chance(z, 3) ? 0 : 0666;
		if (!chance(z, 5))
			snprintf(u.c.name, sizeof(u.c.name), "%s", ring_name(z));
		if (chance(z, 16))
			memset(u.c.name, 'x', sizeof(u.c.name));
		break;
	case 3: case 4: case 5: case 6:
		op = OP_ATTACH;
		cmd = BB_IOC_ATTACH;
		size = sizeof(u.a);
		u.a.role = 1 + rn(z, 3);
		u.a.ring_fd = -1;
		switch (rn(z, 6)) {
		case 0:
			u.a.flags = BB_ATTACH_SELF;
			break;
		case 1:
			u.a.flags = BB_ATTACH_FD;
			u.a.ring_fd = pick_fd(z);
			break;
		default:
			u.a.flags = BB_ATTACH_NAME;
			snprintf(u.a.name, sizeof(u.a.name), "%s", ring_name(z));
			break;
		}
		u.a.consumer_id = u.a.role == BB_ROLE_CONSUMER &&
				  chance(z, 2) ? rn(z, 8) : BB_ID_ANY;
		if (u.a.role == BB_ROLE_CONSUMER && chance(z, 3))
			u.a.deps = 1ull << rn(z, 8);
		if (u.a.role != BB_ROLE_CONSUMER)
			u.a.consumer_id = chance(z, 2) ? BB_ID_ANY : 0;
		if (chance(z, 16))
			u.a.flags |= BB_ATTACH_POOL;	/* not ours: EINVAL or ok */
		break;
	case 7:
		op = OP_INFO;
		cmd = BB_IOC_INFO;
		size = sizeof(u.i);
		mut = 0;
		break;
	case 8:
		op = OP_STATS;
		cmd = BB_IOC_STATS;
		size = sizeof(u.s);
		mut = 0;
		break;
	case 9: case 10:
		op = OP_WAIT;
		cmd = BB_IOC_WAIT;
		size = sizeof(u.w);
		u.w.seq = chance(z, 2) ? rn(z, 4096) : boundary64(z);
		if (!chance(z, 4)) {
			u.w.flags = BB_WAITF_DEADLINE;
			u.w.deadline_ns = deadline(z);
		}
		break;
	case 11:
		op = OP_WAKE;
		cmd = BB_IOC_WAKE;
		r = (long)(chance(z, 2) ? rn(z, 8) : boundary64(z));
		errno = 0;
		r = ioctl(fd, cmd, (unsigned long)r);
		record(z, op, r, errno, cmd);
		return;
	case 12: case 13:
		op = OP_CLAIM;
		cmd = BB_IOC_CLAIM;
		size = sizeof(u.cl);
		u.cl.count = chance(z, 2) ? 1 + rn(z, 8) : (__u32)boundary64(z);
		u.cl.flags = chance(z, 2) ? BB_CLAIMF_NONBLOCK :
					    BB_CLAIMF_DEADLINE;
		u.cl.deadline_ns = deadline(z);
		if (chance(z, 8))
			u.cl.flags = 0;	/* blocks until room or a poke */
		break;
	case 14: case 15:
		op = OP_PUBLISH;
		cmd = BB_IOC_PUBLISH;
		size = sizeof(u.p);
		if (z->claim_n && chance(z, 2)) {
			fd = z->claim_fd;
			u.p.seq = z->claim_seq;
			u.p.count = z->claim_n;
			z->claim_n = 0;
		} else {
			u.p.seq = rn(z, 4096);
			u.p.count = 1 + rn(z, 8);
		}
		break;
	case 16:
		op = OP_HALT;
		cmd = BB_IOC_HALT;
		/* Rare: a halted ring stays until its last fd goes. */
		if (!chance(z, 20))
			return;
		errno = 0;
		r = ioctl(fd, cmd, 0);
		record(z, op, r, errno, cmd);
		return;
	case 17:
		op = OP_FAIL;
		cmd = _IOW(BB_IOC_MAGIC, 0x0a, struct bb_fail);
		size = sizeof(u.f);
		u.f.seq = rn(z, 4096);
		u.f.error = (__s32)(1 + rn(z, 200));
		/* Same reason as HALT. */
		if (!chance(z, 20))
			return;
		break;
	default:
		op = OP_IOC_RAW;
		/* Any direction, number and size in our magic, or another. */
		cmd = _IOC(rn(z, 4), chance(z, 16) ? rn(z, 256) : BB_IOC_MAGIC,
			   rn(z, 0x20), chance(z, 2) ? rn(z, 256) : 8 * rn(z, 32));
		if (cmd == BB_IOC_CREATE || cmd == BB_IOC_ATTACH ||
		    cmd == BB_IOC_INFO || cmd == BB_IOC_WAIT ||
		    cmd == BB_IOC_WAKE || cmd == BB_IOC_CLAIM ||
		    cmd == BB_IOC_PUBLISH || cmd == BB_IOC_HALT ||
		    cmd == BB_IOC_STATS || cmd == BB_IOC_FAIL)
			return;
		size = _IOC_SIZE(cmd);
		if (size > sizeof(u.raw))
			size = sizeof(u.raw);
		for (r = 0; r < (long)size; r++)
			u.raw[r] = (unsigned char)rnd(z);
		mut = 0;
		break;
	}
	if (mut)
		mutate(z, &u, size);
	if (size == 0)
		size = 8;
	r = do_ioctl(z, fd, cmd, &u, size, &err, &where);
	record(z, op, r, err, cmd);
	/* Only our own buffer is sure to stay readable. */
	if (r == 0 && op == OP_CLAIM && (unsigned char *)where >= z->buf &&
	    (unsigned char *)where < z->buf + 8) {
		memcpy(&u.cl, where, sizeof(u.cl));
		z->claim_fd = fd;
		z->claim_seq = u.cl.seq;
		z->claim_n = u.cl.count;
	}
	if (r == 0 && op == OP_INFO) {
		struct bb_info in;

		/* place() may have put it elsewhere: ask again, plainly. */
		if (ioctl(fd, BB_IOC_INFO, &in) == 0 &&
		    (in.role > BB_ROLE_OBSERVER || !in.slot_count ||
		     (in.slot_count & (in.slot_count - 1)) ||
		     in.slot_size % 8 || !in.slot_size ||
		     in.page_size != (__u32)g_page ||
		     in.slots_len != (__u64)in.slot_count * in.slot_size))
			__atomic_add_fetch(&g_shm->info_bad, 1,
					   __ATOMIC_RELAXED);
	}
}

/* ------------------------------------------------------------------ */
/* Data path and memory                                                */

static void *rw_buf(struct fz *z, size_t len)
{
	switch (rn(z, 10)) {
	case 0:
		return z->ro;
	case 1:
		return z->edge + g_page - 1 - rn(z, 64);
	case 2:
		return chance(z, 2) ? NULL : (void *)0xffff888000000000ull;
	case 3:
		return g_victim + rn(z, (__u32)g_page);
	default:
		return z->buf + (len < BUFSZ ? rn(z, 8) : 0);
	}
}

static size_t rw_len(struct fz *z)
{
	switch (rn(z, 6)) {
	case 0:
		return (size_t)boundary64(z);
	case 1:
		return rn(z, 16);
	default:
		return 8 * (size_t)(1 + rn(z, 512));
	}
}

static void fz_rw(struct fz *z)
{
	int fd = pick_fd(z), w = chance(z, 2);
	size_t len = rw_len(z);
	void *b = rw_buf(z, len);
	long r;

	if (w && b == z->buf)
		memset(b, (int)rn(z, 256), len < BUFSZ ? len : BUFSZ);
	errno = 0;
	r = w ? write(fd, b, len) : read(fd, b, len);
	record(z, w ? OP_WRITE : OP_READ, r, errno, 0);
	if (chance(z, 16)) {
		errno = 0;
		r = pread(fd, z->buf, 64, 0);
		record(z, OP_PREAD, r, errno, 0);
		errno = 0;
		r = lseek(fd, (off_t)rn(z, 4096), SEEK_SET);
		record(z, OP_LSEEK, r, errno, 0);
	}
}

static void touch(struct fz *z, unsigned char *p, size_t len, int prot)
{
	size_t off;

	for (off = 0; off < len; off += (size_t)g_page) {
		if (prot & PROT_READ)
			(void)*(volatile unsigned char *)(p + off);
		/* Garbage into what this role may write: its own problem. */
		if ((prot & PROT_WRITE) && chance(z, 4))
			*(volatile __u64 *)(p + off + 8 * rn(z, 8)) = boundary64(z);
	}
}

/*
 * Does [p, p + len) overlap the victim area? A MAP_FIXED mmap of a ring
 * there that fails (another thread closed the fd, or reused it for a
 * smaller ring) leaves a hole, which an mmap() or mremap() of another
 * thread may fill; the next remap of the victim area then clobbers that
 * mapping. The fuzzer must not track (and later touch) such a mapping.
 */
static bool in_victim(const void *p, size_t len)
{
	const char *a = p, *v = g_victim;

	return a < v + 4 * g_page && v < a + len;
}

static void map_drop(struct fz *z, int i)
{
	if (z->maps[i].p) {
		long r;

		errno = 0;
		r = munmap(z->maps[i].p, z->maps[i].len);
		record(z, OP_MUNMAP, r, errno, 0);
	}
	z->maps[i].p = NULL;
}

static void fz_mmap(struct fz *z)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC,
		PROT_WRITE, PROT_NONE, PROT_READ,
	};
	int fd = pick_fd(z), i = (int)rn(z, NMAP), prot, flags;
	struct bb_info in;
	__u64 off, len;
	void *p;

	memset(&in, 0, sizeof(in));
	ioctl(fd, BB_IOC_INFO, &in);
	switch (rn(z, 7)) {
	case 0: off = in.header_off; len = in.header_len; break;
	case 1: off = in.producer_off; len = in.producer_len; break;
	case 2: off = in.consumers_off; len = in.consumers_len; break;
	case 3: off = in.self_off; len = in.self_len; break;
	case 4: off = in.slots_off; len = in.slots_len; break;
	case 5: off = in.pools_off; len = in.pools_len; break;
	default:
		off = chance(z, 2) ? (__u64)g_page * rn(z, 64) : boundary64(z);
		len = boundary64(z);
		break;
	}
	if (chance(z, 4))
		len = chance(z, 2) ? (__u64)g_page * rn(z, 4) : len + (__u64)g_page;
	if (chance(z, 8))
		off += chance(z, 2) ? (__u64)g_page : 1;
	prot = prots[rn(z, sizeof(prots) / sizeof(prots[0]))];
	flags = chance(z, 10) ? MAP_PRIVATE : MAP_SHARED;
	map_drop(z, i);
	errno = 0;
	p = mmap(NULL, (size_t)len, prot, flags, fd, (off_t)off);
	record(z, OP_MMAP, p == MAP_FAILED ? -1 : 0, errno, 0);
	if (p == MAP_FAILED || in_victim(p, (size_t)len))
		return;
	z->maps[i].p = p;
	z->maps[i].len = (size_t)len;
	z->maps[i].prot = prot;
	touch(z, p, (size_t)len, prot);
}

static void fz_mops(struct fz *z)
{
	int i = (int)rn(z, NMAP), prot;
	void *p = z->maps[i].p, *q;
	size_t len = z->maps[i].len;
	long r;

	if (!p)
		return;
	switch (rn(z, 5)) {
	case 0:
		map_drop(z, i);
		break;
	case 1:
		prot = (int)rn(z, 8);
		errno = 0;
		r = mprotect(p, len, prot);
		record(z, OP_MPROTECT, r, errno, 0);
		if (!r)
			z->maps[i].prot = prot;
		break;
	case 2: {
		size_t nlen = chance(z, 2) ? len + (size_t)g_page :
			      ((len > (size_t)g_page) ? len - (size_t)g_page : len);

		errno = 0;
		q = mremap(p, len, nlen, chance(z, 2) ? MREMAP_MAYMOVE : 0);
		record(z, OP_MREMAP, q == MAP_FAILED ? -1 : 0, errno, 0);
		if (q != MAP_FAILED) {
			z->maps[i].p = in_victim(q, nlen) ? NULL : q;
			z->maps[i].len = nlen;
		}
		break;
	}
	case 3:
		/* No fault handler: a dropped page is gone, so unmap after. */
		errno = 0;
		r = madvise(p, len, chance(z, 2) ? MADV_DONTNEED :
						   MADV_DONTFORK);
		record(z, OP_MADVISE, r, errno, 0);
		map_drop(z, i);
		break;
	default:
		touch(z, p, len, z->maps[i].prot);
		break;
	}
}

/* Remap the victim area others pass to the kernel: unmapped, RO, a ring. */
static void fz_victim(struct fz *z)
{
	size_t len = 4 * (size_t)g_page;
	struct bb_info in;
	void *p;
	int fd;

	switch (rn(z, 4)) {
	case 0:
		p = mmap(g_victim, len, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	case 1:
		p = mmap(g_victim, len, PROT_READ,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	case 2:
		fd = pick_fd(z);
		memset(&in, 0, sizeof(in));
		if (ioctl(fd, BB_IOC_INFO, &in) || !in.slots_len)
			return;
		p = mmap(g_victim, in.slots_len < len ? in.slots_len : len,
			 PROT_READ, MAP_SHARED | MAP_FIXED, fd,
			 (off_t)in.slots_off);
		if (p != MAP_FAILED)
			break;
		/* The old mapping is gone: close the hole at once. */
		mmap(g_victim, len, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		return;
	default:
		p = mmap(g_victim, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	}
	record(z, OP_VICTIM, p == MAP_FAILED ? -1 : 0, errno, 0);
}

static void fz_poll(struct fz *z)
{
	struct pollfd pf[4];
	int i, n = 1 + (int)rn(z, 4);
	long r;

	for (i = 0; i < n; i++) {
		pf[i].fd = pick_fd(z);
		pf[i].events = (short)(chance(z, 4) ? rnd(z) :
				       POLLIN | POLLOUT);
		pf[i].revents = 0;
	}
	errno = 0;
	r = poll(pf, (nfds_t)n, (int)rn(z, 3));
	record(z, OP_POLL, r, errno, 0);
}

/* ------------------------------------------------------------------ */
/* Processes and descriptors                                           */

static void one_op(struct fz *z);
static void dump_tasks(pid_t pid);

static void on_poke(int sig)
{
	(void)sig;
}

static void fz_fork(struct fz *z)
{
	struct itimerval it = { { 0, 3000 }, { 0, 3000 } };
	int n, status, e;
	__u64 t0;
	pid_t pid;

	if (z->child || chance(z, 4))
		return;
	pid = fork();
	if (pid < 0) {
		record(z, OP_FORK, -1, errno, 0);
		return;
	}
	if (pid == 0) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_poke;
		sigaction(SIGALRM, &sa, NULL);
		setitimer(ITIMER_REAL, &it, NULL);
		z->child = 1;
		z->rng ^= (__u64)getpid() << 17;
		for (n = (int)rn(z, 64); n > 0; n--)
			one_op(z);
		__atomic_add_fetch(&g_shm->iters, z->iters, __ATOMIC_RELAXED);
		if (chance(z, 3)) {
			memset(&it, 0, sizeof(it));
			setitimer(ITIMER_REAL, &it, NULL);
			__atomic_add_fetch(&g_shm->execs, 1, __ATOMIC_RELAXED);
			execl("/bin/true", "true", (char *)NULL);
		}
		_exit(0);
	}
	__atomic_add_fetch(&g_shm->children, 1, __ATOMIC_RELAXED);
	t0 = t_now_ns();
	while ((e = waitpid(pid, &status, WNOHANG)) == 0 ||
	       (e < 0 && errno == EINTR)) {
		if (t_now_ns() - t0 > 15000000000ull) {
			/* It should be long gone: show where it is stuck. */
			t_diag("fuzz child %d still running after 15 s:",
			       (int)pid);
			dump_tasks(pid);
			kill(pid, SIGKILL);
			t0 = t_now_ns();
		}
		t_sleep_ms(1);
	}
	if (e == pid && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		t_diag("fuzz child %d: %s", (int)pid, t_status_str(status));
		record(z, OP_FORK, -1, MAXERR - 1, 0);
	} else {
		record(z, OP_FORK, 0, 0, 0);
	}
}

/* Open and bind with valid arguments: keeps the table mostly useful. */
static void fz_bind(struct fz *z)
{
	struct bb_create c;
	struct bb_attach a;
	int fd, r, role = 1 + (int)rn(z, 3);

	fd = open(BB_DEVICE_PATH, O_RDWR | (chance(z, 4) ? 0 : O_NONBLOCK));
	if (fd < 0) {
		record(z, OP_OPEN, fd, errno, 0);
		return;
	}
	if (chance(z, 3)) {
		t_create_args(&c, rn(z, 4), 1u << (2 + rn(z, 8)),
			      8 * (1 + rn(z, 16)), 1 + rn(z, 8), ring_name(z));
		c.mode = 0666;
		errno = 0;
		r = ioctl(fd, BB_IOC_CREATE, &c);
		record(z, OP_CREATE, r, errno, BB_IOC_CREATE);
		t_attach_args(&a, (__u32)role, BB_ATTACH_SELF, -1, NULL,
			      BB_ID_ANY, 0);
		if (r || chance(z, 3))
			goto out;
	} else {
		t_attach_args(&a, (__u32)role, BB_ATTACH_NAME, -1,
			      ring_name(z), BB_ID_ANY, 0);
	}
	if (role == BB_ROLE_CONSUMER && chance(z, 3))
		a.deps = 1ull << rn(z, 4);
	errno = 0;
	r = ioctl(fd, BB_IOC_ATTACH, &a);
	record(z, OP_ATTACH, r, errno, BB_IOC_ATTACH);
out:
	put_fd(z, fd);
}

static void fz_fds(struct fz *z)
{
	int fd, e;

	switch (rn(z, 10)) {
	case 1: case 2: case 8: case 9:
		/* Mostly bound fds: unbound ones only ever see EBADFD. */
		fz_bind(z);
		break;
	case 0:
		errno = 0;
		fd = open(BB_DEVICE_PATH, (chance(z, 8) ? O_RDONLY : O_RDWR) |
			  (chance(z, 4) ? 0 : O_NONBLOCK) |
			  (chance(z, 2) ? O_CLOEXEC : 0));
		record(z, OP_OPEN, fd, errno, 0);
		if (fd >= 0)
			put_fd(z, fd);
		break;
	case 3:
		fd = __atomic_exchange_n(&g_fds[rn(z, NFD)], -1,
					 __ATOMIC_RELAXED);
		if (fd >= 0) {
			errno = 0;
			e = close(fd);
			record(z, OP_CLOSE, e, errno, 0);
		}
		break;
	case 4: case 5:
		/* A racing close: the fd stays in the table, stale. */
		fd = pick_fd(z);
		if (chance(z, 16) && fd >= 3 && !z->child) {
			errno = 0;
			e = close(fd);
			record(z, OP_CLOSE, e, errno, 0);
		}
		break;
	case 6:
		errno = 0;
		fd = chance(z, 2) ? dup(pick_fd(z)) :
		     dup3(pick_fd(z), 200 + (int)rn(z, 32), O_CLOEXEC);
		record(z, OP_DUP, fd, errno, 0);
		if (fd >= 0)
			put_fd(z, fd);
		break;
	default:
		fd = pick_fd(z);
		errno = 0;
		e = fcntl(fd, F_SETFL, chance(z, 2) ? O_NONBLOCK : 0);
		record(z, OP_FCNTL, e, errno, 0);
		break;
	}
}

/* What this thread is doing, for on_fault(). */
static __thread unsigned int t_case = ~0U;

static void one_op(struct fz *z)
{
	t_case = rn(z, 32);
	switch (t_case) {
	case 0: case 1: case 2:
		fz_fds(z);
		break;
	case 3: case 4: case 5:
		fz_mmap(z);
		break;
	case 6: case 7:
		fz_mops(z);
		break;
	case 8:
		if (chance(z, 4))
			fz_victim(z);
		break;
	case 9:
		if (chance(z, 8))
			fz_fork(z);
		break;
	case 10: case 11:
		fz_poll(z);
		break;
	case 12: case 13: case 14: case 15: case 16:
		fz_rw(z);
		break;
	default:
		fz_ioctl(z);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Workers                                                             */

static void put_str(const char *s)
{
	ssize_t r = write(2, s, strlen(s));

	(void)r;
}

static void put_hex(const char *label, unsigned long v)
{
	char b[24];
	int i = (int)sizeof(b) - 1;

	b[i] = 0;
	do {
		b[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v && i > 2);
	b[--i] = 'x';
	b[--i] = '0';
	put_str(label);
	put_str(b + i);
}

/*
 * A worker must never fault: say where and doing what (async-signal-safe
 * calls only), with the process's mappings, then die of the signal.
 */
static void on_fault(int sig, siginfo_t *si, void *uc_)
{
	const ucontext_t *uc = uc_;
	char buf[4096];
	ssize_t n;
	int fd;

	put_hex("# fuzz worker fault: signal ", (unsigned long)sig);
	put_hex(" code ", (unsigned long)si->si_code);
	put_hex(" addr ", (unsigned long)si->si_addr);
	put_hex(" ip ", (unsigned long)uc->uc_mcontext.gregs[REG_RIP]);
	put_hex(" op case ", t_case);
	put_str("\n");
	fd = open("/proc/self/maps", O_RDONLY);
	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		if (write(2, buf, (size_t)n) < 0)
			break;
	/* SA_RESETHAND: returning re-faults into the default action. */
}

/*
 * n pages followed by a PROT_NONE guard page: a read() with a length
 * larger than the buffer must fault there, not scribble over whatever
 * the process has mapped next.
 */
static char *alloc_pages(size_t n)
{
	char *p = mmap(NULL, (n + 1) * (size_t)g_page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		_exit(2);
	}
	mprotect(p + n * (size_t)g_page, (size_t)g_page, PROT_NONE);
	return p;
}

static void *fz_thread(void *arg)
{
	struct fz *z = arg;
	int i;

	z->buf = (unsigned char *)alloc_pages(BUFSZ / (size_t)g_page);
	z->edge = alloc_pages(1);
	z->ro = alloc_pages(1);
	memset(z->ro, 0x5a, (size_t)g_page);
	mprotect(z->ro, (size_t)g_page, PROT_READ);
	while (!__atomic_load_n(&g_shm->stop, __ATOMIC_RELAXED) &&
	       t_now_ns() < g_end_ns) {
		for (i = 0; i < 64; i++)
			one_op(z);
		__atomic_add_fetch(&g_shm->iters, z->iters, __ATOMIC_RELAXED);
		z->iters = 0;
	}
	for (i = 0; i < NMAP; i++)
		map_drop(z, i);
	return NULL;
}

static int worker(void *arg)
{
	unsigned int w = (unsigned int)(uintptr_t)arg;
	struct fz z[NTHR];
	pthread_t th[NTHR];
	bool joined[NTHR] = { false };
	struct sigaction sa;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_poke;	/* no SA_RESTART: blocking calls end */
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	for (i = 0; i < NFD; i++)
		g_fds[i] = -1;
	g_victim = alloc_pages(4);
	memset(z, 0, sizeof(z));
	for (i = 0; i < NTHR; i++) {
		z[i].rng = t_mix(g_seed ^ ((__u64)w << 32) ^ (__u64)i) | 1;
		pthread_create(&th[i], NULL, fz_thread, &z[i]);
	}
	/* Poke the threads out of blocking calls every few milliseconds. */
	while (t_now_ns() < g_end_ns &&
	       !__atomic_load_n(&g_shm->stop, __ATOMIC_RELAXED)) {
		t_sleep_ms(2 + (unsigned int)(t_mix(t_now_ns()) % 8));
		for (i = 0; i < NTHR; i++)
			pthread_kill(th[i], SIGUSR1);
		__atomic_add_fetch(&g_shm->signals, 1, __ATOMIC_RELAXED);
	}
	/*
	 * Keep poking every thread still in until all are out: one may wait
	 * (uninterruptibly) for an fd's lock that another holds asleep in a
	 * blocking read(), and only a poke of that other one frees both.
	 */
	for (;;) {
		bool out = true;

		for (i = 0; i < NTHR; i++) {
			if (joined[i])
				continue;
			if (pthread_tryjoin_np(th[i], NULL) == EBUSY) {
				pthread_kill(th[i], SIGUSR1);
				out = false;
			} else {
				joined[i] = true;
			}
		}
		if (out)
			break;
		t_sleep_ms(1);
	}
	for (i = 0; i < NFD; i++)
		if (g_fds[i] >= 0)
			close(g_fds[i]);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Module state                                                        */

#define PARAM_DIR "/sys/module/badbatch/"

static long sys_read_long(const char *path)
{
	char buf[32] = "";
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f && fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static int sys_write_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fprintf(f, "%ld\n", v) > 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Rings alive in the module, not counting the probe ring. */
static long rings_alive(void)
{
	struct bb_stats st;
	int fd = t_open();
	long n = -1;

	if (fd >= 0 && !t_create(fd, 0, 2, 8, 1, NULL, NULL) &&
	    !t_stats(fd, &st))
		n = (long)st.rings - 1;
	if (fd >= 0)
		close(fd);
	return n;
}

/* A late worker: show where each of its tasks (and children) are. */
static pid_t g_workers[NPROC];

static void dump_file(const char *path)
{
	char buf[2048];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	printf("#   %s: %s\n", path, buf);
}

static void dump_tasks(pid_t pid)
{
	static const char *const what[] = { "stat", "wchan", "syscall",
					    "stack" };
	char path[256];
	unsigned int i, tid;
	FILE *ls;

	snprintf(path, sizeof(path), "ls /proc/%d/task 2>/dev/null", (int)pid);
	ls = popen(path, "r");
	if (!ls)
		return;
	while (fscanf(ls, "%u", &tid) == 1)
		for (i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
			snprintf(path, sizeof(path), "/proc/%d/task/%u/%s",
				 (int)pid, tid, what[i]);
			dump_file(path);
		}
	pclose(ls);
}

static void on_late(void)
{
	char cmd[128], line[64];
	int i;
	FILE *ps;

	for (i = 0; i < NPROC; i++) {
		if (kill(g_workers[i], 0))
			continue;
		t_diag("late worker %d (pid %d):", i, (int)g_workers[i]);
		dump_tasks(g_workers[i]);
		snprintf(cmd, sizeof(cmd),
			 "grep -l '^[0-9]* ([^)]*) . %d ' /proc/[0-9]*/stat 2>/dev/null",
			 (int)g_workers[i]);
		ps = popen(cmd, "r");
		while (ps && fgets(line, sizeof(line), ps)) {
			int child = atoi(line + 6);

			t_diag("its child %d:", child);
			dump_tasks(child);
		}
		if (ps)
			pclose(ps);
	}
	fflush(stdout);
}

static __u64 env_u64(const char *name, __u64 def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

int main(void)
{
	long base_rings, base_ref, rings = -1, ref = -1, saved_ring, saved_user;
	unsigned int secs = (unsigned int)env_u64("BB_FUZZ_SECS", 40);
	pid_t pids[NPROC];
	unsigned long total, bad = 0;
	__u64 t0, t1;
	int i, e;

	g_seed = env_u64("BB_FUZZ_SEED", 0xbadba7c4);
	t_init("fuzz", secs + 60);
	g_page = sysconf(_SC_PAGESIZE);
	g_top = getpid();
	g_shm = t_shared(sizeof(*g_shm));
	t_diag("seed 0x%llx (BB_FUZZ_SEED), %u s (BB_FUZZ_SECS), %d processes x %d threads",
	       (unsigned long long)g_seed, secs, NPROC, NTHR);

	base_rings = rings_alive();
	base_ref = sys_read_long(PARAM_DIR "refcnt");
	T_OK(base_rings >= 0, "baseline: %ld rings, module refcount %ld",
	     base_rings, base_ref);
	/* Small rings only: the fuzzer must not eat the guest's memory. */
	saved_ring = sys_read_long(PARAM_DIR "parameters/max_ring_mb");
	saved_user = sys_read_long(PARAM_DIR "parameters/max_user_mb");
	sys_write_long(PARAM_DIR "parameters/max_ring_mb", 2);
	sys_write_long(PARAM_DIR "parameters/max_user_mb", 96);

	t0 = t_now_ns();
	g_end_ns = t0 + (__u64)secs * 1000000000ull;
	for (i = 0; i < NPROC; i++)
		g_workers[i] = pids[i] = t_spawn("worker", secs + 30, worker,
						 (void *)(uintptr_t)i);
	t_st.on_timeout = on_late;
	while (t_now_ns() < g_end_ns) {
		t_sleep_ms(1000);
		if ((t_now_ns() - t0) / 1000000000ull % 10 == 0)
			t_diag("%llu s: %lu calls",
			       (unsigned long long)(t_now_ns() - t0) / 1000000000ull,
			       __atomic_load_n(&g_shm->iters, __ATOMIC_RELAXED));
	}
	for (i = 0; i < NPROC; i++)
		T_CHILD(pids[i], 20000, "worker %d ran and exited cleanly", i);
	g_shm->stop = 1;
	t1 = t_now_ns();
	total = g_shm->iters;
	t_diag("%lu calls in %.1f s: %.0f calls/s (%lu children, %lu execs, %lu signal rounds)",
	       total, (double)(t1 - t0) / 1e9,
	       (double)total * 1e9 / (double)(t1 - t0), g_shm->children,
	       g_shm->execs, g_shm->signals);
	for (i = 0; i < OP_NR; i++) {
		unsigned long failed = 0;
		char line[512];
		int n = 0;

		for (e = 0; e < MAXERR; e++)
			failed += g_shm->errs[i][e];
		n += snprintf(line + n, sizeof(line) - (size_t)n,
			      "%-9s %8lu: ok=%lu", op_names[i], g_shm->calls[i],
			      g_shm->calls[i] - failed);
		for (e = 1; e < MAXERR && n < (int)sizeof(line) - 32; e++)
			if (g_shm->errs[i][e])
				n += snprintf(line + n, sizeof(line) - (size_t)n,
					      " %s=%lu", t_errname(e),
					      g_shm->errs[i][e]);
		t_diag("%s", line);
	}
	T_OK(total > 1000, "the fuzzer made %lu calls", total);
	for (i = 0; i < OP_NR; i++)
		for (e = 0; e < MAXERR; e++)
			if (g_shm->bad[i][e]) {
				bad++;
				T_CHECK(0, t_fmt("%lu times, e.g. cmd 0x%x",
						 g_shm->bad[i][e],
						 g_shm->bad_cmd[i][e]),
					"%s: undocumented errno %s",
					op_names[i], t_errname(e));
			}
	T_OK(!bad, "every call succeeded or failed with a documented errno");
	T_EQ(g_shm->info_bad, 0, "every INFO result was sane");

	sys_write_long(PARAM_DIR "parameters/max_ring_mb", saved_ring);
	sys_write_long(PARAM_DIR "parameters/max_user_mb", saved_user);
	/* Every fd and mapping is gone with the workers. */
	for (i = 0; i < 200; i++) {
		rings = rings_alive();
		ref = sys_read_long(PARAM_DIR "refcnt");
		if (rings == base_rings && ref == base_ref)
			break;
		t_sleep_ms(10);
	}
	T_EQ(rings, base_rings, "the module's ring count is back to baseline");
	T_EQ(ref, base_ref, "the module's refcount is back to baseline");
	return t_done();
}
