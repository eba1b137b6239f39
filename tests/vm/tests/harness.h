/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny TAP harness for the VM integration tests (header-only; every test
 * program includes it once).
 *
 *   - Plan-less TAP: "ok N - desc" / "not ok N - desc # file:line detail",
 *     a final "# N passed, N failed" line; t_done() returns 1 if any failed.
 *   - Child processes (t_spawn) run the same T_* macros silently except for
 *     failures, which they print as "# [child] not ok - ..." diagnostics;
 *     the child exits 1 if any check failed, so the parent asserts on its
 *     exit status with T_CHILD(). Every child has its own alarm() watchdog
 *     and dies with its parent (PR_SET_PDEATHSIG); the parent has a watchdog
 *     too (t_init), so nothing can hang the run.
 *   - Ring helpers: open /dev/badbatch, create, attach, map every region
 *     BB_IOC_INFO describes with the protections the role allows, and fill
 *     a struct bb_view for the shared protocol in include/badbatch/.
 *   - Fast-path producer/consumer loops over that protocol (claim, publish,
 *     need-wakeup, consumer limit, advance), with BB_IOC_WAIT/BB_IOC_WAKE
 *     only when the protocol says so, and counters of those syscalls.
 */
#ifndef BB_VM_TEST_HARNESS_H
#define BB_VM_TEST_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/badbatch.h>
#include <badbatch/protocol.h>

#define T_UNUSED __attribute__((unused))
#define T_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Exit code of a skipped test (the VM runner's convention). */
#define T_EXIT_SKIP 77

struct t_state {
	int n;			/* tests reported (parent) */
	int pass;
	int fail;
	int in_child;		/* 1 in a t_spawn() child */
	const char *test;	/* program name */
	const char *child;	/* child name */
	void (*on_timeout)(void); /* dump state before killing a late child */
};

static struct t_state t_st T_UNUSED;

/* ------------------------------------------------------------------ */
/* Time                                                                */

static inline uint64_t t_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void t_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ */
/* Reporting                                                           */

static inline void t_vreport(int ok, const char *file, int line,
			     const char *detail, const char *fmt, va_list ap)
{
	char desc[512];

	vsnprintf(desc, sizeof(desc), fmt, ap);
	if (t_st.in_child) {
		if (!ok) {
			t_st.fail++;
			printf("# [%s %d] not ok - %s # %s:%d %s\n",
			       t_st.child ? t_st.child : "child", (int)getpid(),
			       desc, file, line, detail ? detail : "");
			fflush(stdout);
		}
		return;
	}
	t_st.n++;
	if (ok) {
		t_st.pass++;
		printf("ok %d - %s\n", t_st.n, desc);
	} else {
		t_st.fail++;
		printf("not ok %d - %s # %s:%d %s\n", t_st.n, desc, file, line,
		       detail ? detail : "");
	}
	fflush(stdout);
}

static inline T_PRINTF(5, 6)
int t_report(int ok, const char *file, int line, const char *detail,
	     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	t_vreport(ok, file, line, detail, fmt, ap);
	va_end(ap);
	return ok;
}

/* A diagnostic line. */
static inline T_PRINTF(1, 2) void t_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	if (t_st.in_child)
		printf("[%s %d] ", t_st.child ? t_st.child : "child",
		       (int)getpid());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* "ok N - desc # SKIP why" (counts as a skip, not a pass). */
static inline T_PRINTF(2, 3) void t_skip(const char *why, const char *fmt, ...)
{
	char desc[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	if (t_st.in_child) {
		t_diag("skip: %s (%s)", desc, why);
		return;
	}
	t_st.n++;
	printf("ok %d - %s # SKIP %s\n", t_st.n, desc, why);
	fflush(stdout);
}

/* Condition. */
#define T_OK(cond, ...)							\
	t_report(!!(cond), __FILE__, __LINE__, "condition: " #cond, __VA_ARGS__)

/* A formatted detail string (rotating static buffers). */
static inline T_PRINTF(1, 2) const char *t_fmt(const char *fmt, ...)
{
	static char buf[8][512];
	static int i;
	va_list ap;

	i = (i + 1) & 7;
	va_start(ap, fmt);
	vsnprintf(buf[i], sizeof(buf[i]), fmt, ap);
	va_end(ap);
	return buf[i];
}

/* Condition with a detail (e.g. from t_fmt()) shown on failure. */
#define T_CHECK(cond, detail, ...)					\
	t_report(!!(cond), __FILE__, __LINE__, (detail), __VA_ARGS__)

/* Two unsigned integer values are equal. */
#define T_EQ(got, want, ...)						\
	({								\
		unsigned long long __g = (unsigned long long)(got);	\
		unsigned long long __w = (unsigned long long)(want);	\
		char __d[256];						\
		snprintf(__d, sizeof(__d), "%s = %llu (0x%llx), want %llu (0x%llx)", \
			 #got, __g, __g, __w, __w);			\
		t_report(__g == __w, __FILE__, __LINE__, __d, __VA_ARGS__); \
	})

/* A system call (returns -1 + errno on failure) succeeds: result >= 0. */
#define T_SYS(expr, ...)						\
	({								\
		long __r;						\
		int __e;						\
		char __d[256];						\
		errno = 0;						\
		__r = (long)(expr);					\
		__e = errno;						\
		snprintf(__d, sizeof(__d), "%s = %ld, errno %d (%s)",	\
			 #expr, __r, __e, strerror(__e));		\
		t_report(__r >= 0, __FILE__, __LINE__, __d, __VA_ARGS__); \
		errno = __e;						\
		__r;							\
	})

/* A system call fails with -1 and exactly errno err. */
#define T_ERR(expr, err, ...)						\
	({								\
		long __r;						\
		int __e, __w = (err);					\
		char __d[256];						\
		errno = 0;						\
		__r = (long)(expr);					\
		__e = errno;						\
		snprintf(__d, sizeof(__d), "got %ld errno %s (%s), want -1 %s", \
			 __r, t_errname(__r == -1 ? __e : 0),		\
			 strerror(__r == -1 ? __e : 0), t_errname(__w)); \
		t_report(__r == -1 && __e == __w, __FILE__, __LINE__, __d, \
			 __VA_ARGS__);					\
	})

/* A function returning 0 or -errno returns exactly want (0 or -E...). */
#define T_RC(expr, want, ...)						\
	({								\
		int __r = (int)(expr), __w = (want);			\
		char __d[256];						\
		snprintf(__d, sizeof(__d), "got %d (%s), want %d (%s)",	\
			 __r, t_errname(-__r), __w, t_errname(-__w));	\
		t_report(__r == __w, __FILE__, __LINE__, __d, __VA_ARGS__); \
		__r;							\
	})

/* A mmap() fails with MAP_FAILED and errno err. */
#define T_MAPERR(expr, err, ...)					\
	({								\
		void *__p;						\
		int __e, __w = (err);					\
		char __d[256];						\
		errno = 0;						\
		__p = (expr);						\
		__e = errno;						\
		snprintf(__d, sizeof(__d), "got %p errno %s, want MAP_FAILED %s", \
			 __p, t_errname(__p == MAP_FAILED ? __e : 0),	\
			 t_errname(__w));				\
		if (__p != MAP_FAILED)					\
			munmap(__p, 1);					\
		t_report(__p == MAP_FAILED && __e == __w, __FILE__, __LINE__, \
			 __d, __VA_ARGS__);				\
	})

static inline const char *t_errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ENOTTY: return "ENOTTY";
	case EPIPE: return "EPIPE";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case EOVERFLOW: return "EOVERFLOW";
	case EBADFD: return "EBADFD";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EISCONN: return "EISCONN";
	case ENOTCONN: return "ENOTCONN";
	case ESHUTDOWN: return "ESHUTDOWN";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ERESTART: return "ERESTART";
	case 512: return "ERESTARTSYS(512)";
	default: {
		static char buf[4][24];
		static int i;

		i = (i + 1) & 3;
		snprintf(buf[i], sizeof(buf[i]), "errno%d", e);
		return buf[i];
	}
	}
}

/* ------------------------------------------------------------------ */
/* Program lifecycle                                                   */

static inline void t_watchdog(int sig)
{
	static const char msg[] = "not ok - watchdog: the test program ran out of time\n";
	char buf[64];
	int len;
	ssize_t w T_UNUSED;

	(void)sig;
	w = write(1, msg, sizeof(msg) - 1);
	len = snprintf(buf, sizeof(buf), "# %d passed, %d failed\n", t_st.pass,
		       t_st.fail + 1);
	w = write(1, buf, (size_t)len);
	/* Children die with us (PR_SET_PDEATHSIG). */
	_exit(1);
}

/*
 * Start a test program: line-buffered output, a watchdog for the whole
 * program, and a skip (exit 77) when the device is missing.
 */
static inline void t_init(const char *name, unsigned int timeout_s)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	t_st.test = name;
	printf("# %s (pid %d)\n", name, (int)getpid());
	if (access(BB_DEVICE_PATH, F_OK) != 0) {
		printf("# SKIP %s: %s missing (%s)\n", name, BB_DEVICE_PATH,
		       strerror(errno));
		exit(T_EXIT_SKIP);
	}
	signal(SIGALRM, t_watchdog);
	alarm(timeout_s);
	signal(SIGPIPE, SIG_IGN);
	/* The debug lane's fault pass: faults for this task and its children. */
	if (getenv("BB_MAKE_IT_FAIL")) {
		int fd = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, "1", 1) != 1)
			printf("# cannot set make-it-fail: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
	}
}

static inline int t_done(void)
{
	alarm(0);
	printf("# %d passed, %d failed\n", t_st.pass, t_st.fail);
	fflush(stdout);
	return t_st.fail ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Child processes                                                     */

typedef int (*t_child_fn)(void *arg);

/*
 * Fork a child that runs fn(arg) and exits with its return value (or 1 if
 * any T_* check failed in it). It is SIGALRM-killed after timeout_s and
 * SIGKILLed if the parent dies.
 */
static inline pid_t t_spawn(const char *name, unsigned int timeout_s,
			    t_child_fn fn, void *arg)
{
	pid_t parent = getpid(), pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		t_report(0, __FILE__, __LINE__, strerror(errno), "fork %s", name);
		return -1;
	}
	if (pid == 0) {
		int rc;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(99);
		t_st.in_child = 1;
		t_st.child = name;
		t_st.fail = 0;
		t_st.on_timeout = NULL;
		signal(SIGALRM, SIG_DFL);
		alarm(timeout_s);
		rc = fn(arg);
		fflush(stdout);
		_exit(t_st.fail ? 1 : rc);
	}
	return pid;
}

/*
 * Wait up to timeout_ms for child pid. Returns its wait status, or -1 on a
 * timeout, after which the child has been SIGKILLed and reaped.
 */
static inline int t_reap(pid_t pid, unsigned int timeout_ms)
{
	uint64_t end = t_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int status;

	if (pid <= 0)
		return -1;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (t_now_ns() > end)
			break;
		t_sleep_ms(2);
	}
	if (t_st.on_timeout)
		t_st.on_timeout();
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return -1;
}

static inline const char *t_status_str(int status)
{
	static char buf[64];

	if (status == -1)
		snprintf(buf, sizeof(buf), "timed out (killed)");
	else if (WIFEXITED(status))
		snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf), "killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, sizeof(buf), "status 0x%x", status);
	return buf;
}

/* Reap a child and assert it exited with code want. */
#define T_CHILD_EXIT(pid, timeout_ms, want, ...)			\
	({								\
		int __s = t_reap((pid), (timeout_ms));			\
		char __d[128];						\
		snprintf(__d, sizeof(__d), "child %s, want exit %d",	\
			 t_status_str(__s), (want));			\
		t_report(__s != -1 && WIFEXITED(__s) &&			\
			 WEXITSTATUS(__s) == (want),			\
			 __FILE__, __LINE__, __d, __VA_ARGS__);		\
	})
#define T_CHILD(pid, timeout_ms, ...) T_CHILD_EXIT(pid, timeout_ms, 0, __VA_ARGS__)

/* Reap a child and assert it was killed by signal sig. */
#define T_CHILD_SIG(pid, timeout_ms, sig, ...)				\
	({								\
		int __s = t_reap((pid), (timeout_ms));			\
		char __d[128];						\
		snprintf(__d, sizeof(__d), "child %s, want signal %d",	\
			 t_status_str(__s), (sig));			\
		t_report(__s != -1 && WIFSIGNALED(__s) &&		\
			 WTERMSIG(__s) == (sig),			\
			 __FILE__, __LINE__, __d, __VA_ARGS__);		\
	})

/* Memory shared by the parent and the children it forks afterwards. */
static inline void *t_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap shared");
		exit(2);
	}
	return p;
}

/* A one-way channel of bytes between processes (a pipe). */
struct t_chan {
	int r, w;
};

static inline void t_chan_init(struct t_chan *c)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) != 0) {
		perror("pipe");
		exit(2);
	}
	c->r = p[0];
	c->w = p[1];
}

static inline void t_chan_send(struct t_chan *c, char b)
{
	ssize_t w T_UNUSED = write(c->w, &b, 1);
}

/* The next byte, or -1 after timeout_ms or when every writer is gone. */
static inline int t_chan_recv(struct t_chan *c, int timeout_ms)
{
	struct pollfd p = { .fd = c->r, .events = POLLIN };
	unsigned char b;
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	if (read(c->r, &b, 1) != 1)
		return -1;
	return b;
}

/* Wait until *p == want (shared memory), up to timeout_ms. */
static inline int t_wait_u32(const volatile __u32 *p, __u32 want,
			     unsigned int timeout_ms)
{
	uint64_t end = t_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) != want) {
		if (t_now_ns() > end)
			return -1;
		t_sleep_ms(1);
	}
	return 0;
}

/* Wait until *p != 0, up to timeout_ms. */
static inline int t_wait_nonzero(const volatile __u32 *p,
				 unsigned int timeout_ms)
{
	uint64_t end = t_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) == 0) {
		if (t_now_ns() > end)
			return -1;
		t_sleep_ms(1);
	}
	return 0;
}

/* Write a module parameter: 0, or -1 (no such parameter, not root). */
static inline int t_param_write(const char *name, const char *value)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/module/badbatch/parameters/%s",
		 name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ok = fprintf(f, "%s\n", value) > 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Rings                                                               */

static inline int t_open(void)
{
	return open(BB_DEVICE_PATH, O_RDWR | O_CLOEXEC);
}

/* A ring name unique to this program run. */
static inline const char *t_name(const char *tag)
{
	static char buf[8][BB_NAME_MAX];
	static int i;

	i = (i + 1) & 7;
	snprintf(buf[i], sizeof(buf[i]), "t-%s-%d", tag, (int)getpid());
	return buf[i];
}

static inline void t_create_args(struct bb_create *c, __u32 flags,
				 __u32 slot_count, __u32 slot_size,
				 __u32 max_consumers, const char *name)
{
	memset(c, 0, sizeof(*c));
	c->flags = flags;
	c->slot_count = slot_count;
	c->slot_size = slot_size;
	c->max_consumers = max_consumers;
	c->wait_strategy = BB_WAIT_BLOCK;
	c->mode = 0600;
	if (name)
		snprintf(c->name, sizeof(c->name), "%s", name);
}

/* BB_IOC_CREATE on fd: 0 or -errno. */
static inline int t_create(int fd, __u32 flags, __u32 slot_count,
			   __u32 slot_size, __u32 max_consumers,
			   const char *name, __u64 *ring_id)
{
	struct bb_create c;

	t_create_args(&c, flags, slot_count, slot_size, max_consumers, name);
	if (ioctl(fd, BB_IOC_CREATE, &c) != 0)
		return -errno;
	if (ring_id)
		*ring_id = c.ring_id;
	return 0;
}

static inline void t_attach_args(struct bb_attach *a, __u32 role, __u32 flags,
				 int ring_fd, const char *name, __u32 id,
				 __u64 deps)
{
	memset(a, 0, sizeof(*a));
	a->role = role;
	a->flags = flags;
	a->ring_fd = ring_fd;
	a->consumer_id = id;
	a->deps = deps;
	if (name)
		snprintf(a->name, sizeof(a->name), "%s", name);
}

/* BB_IOC_ATTACH: 0 (and *out_id) or -errno. */
static inline int t_attach(int fd, __u32 role, __u32 flags, int ring_fd,
			   const char *name, __u32 id, __u64 deps,
			   __u32 *out_id)
{
	struct bb_attach a;

	t_attach_args(&a, role, flags, ring_fd, name, id, deps);
	if (ioctl(fd, BB_IOC_ATTACH, &a) != 0)
		return -errno;
	if (out_id)
		*out_id = a.consumer_id;
	return 0;
}

static inline int t_info(int fd, struct bb_info *info)
{
	memset(info, 0, sizeof(*info));
	return ioctl(fd, BB_IOC_INFO, info) ? -errno : 0;
}

static inline int t_stats(int fd, struct bb_stats *st)
{
	memset(st, 0, sizeof(*st));
	return ioctl(fd, BB_IOC_STATS, st) ? -errno : 0;
}

/* BB_IOC_WAIT: 0 (and *limit) or -errno. deadline_ns 0 = none. */
static inline int t_wait_ioctl(int fd, __u64 seq, __u64 deadline_ns,
			       __u64 *limit)
{
	struct bb_wait w;

	memset(&w, 0, sizeof(w));
	w.seq = seq;
	if (deadline_ns) {
		w.flags = BB_WAITF_DEADLINE;
		w.deadline_ns = deadline_ns;
	}
	if (ioctl(fd, BB_IOC_WAIT, &w) != 0)
		return -errno;
	if (limit)
		*limit = w.limit;
	return 0;
}

/* BB_IOC_CLAIM: 0 (and *seq) or -errno. deadline_ns 0 = none. */
static inline int t_claim_ioctl(int fd, __u32 count, __u32 flags,
				__u64 deadline_ns, __u64 *seq)
{
	struct bb_claim c;

	memset(&c, 0, sizeof(c));
	c.count = count;
	c.flags = flags;
	c.deadline_ns = deadline_ns;
	if (deadline_ns)
		c.flags |= BB_CLAIMF_DEADLINE;
	if (ioctl(fd, BB_IOC_CLAIM, &c) != 0)
		return -errno;
	if (seq)
		*seq = c.seq;
	return 0;
}

static inline int t_publish_ioctl(int fd, __u64 seq, __u32 count)
{
	struct bb_publish p;

	memset(&p, 0, sizeof(p));
	p.seq = seq;
	p.count = count;
	return ioctl(fd, BB_IOC_PUBLISH, &p) ? -errno : 0;
}

/* One participant (or creator) with every region it may map. */
struct t_ring {
	int fd;
	struct bb_info info;
	void *hdr_m, *prod_m, *cons_m, *self_m, *slots_m;
	struct bb_view v;
	__u64 *self;		/* consumer: its own sequence */
	unsigned int id;	/* consumer id */
	struct bb_producer_cache pc;
	/* Syscalls the fast-path loops made. */
	unsigned long waits, wakes, sleeps_timedout;
};

static inline void *t_map_region(int fd, __u64 off, __u64 len, int prot)
{
	void *p = mmap(NULL, (size_t)len, prot, MAP_SHARED, fd, (off_t)off);

	return p == MAP_FAILED ? NULL : p;
}

static inline void t_ring_unmap(struct t_ring *r)
{
	if (r->hdr_m)
		munmap(r->hdr_m, r->info.header_len);
	if (r->prod_m)
		munmap(r->prod_m, r->info.producer_len);
	if (r->cons_m)
		munmap(r->cons_m, r->info.consumers_len);
	if (r->self_m)
		munmap(r->self_m, r->info.self_len);
	if (r->slots_m)
		munmap(r->slots_m, r->info.slots_len);
	r->hdr_m = r->prod_m = r->cons_m = r->self_m = r->slots_m = NULL;
	r->self = NULL;
}

/*
 * BB_IOC_INFO, then map every region this role may map, with the widest
 * protection the role allows, and fill r->v. 0 or -errno (diagnosed).
 */
static inline int t_ring_map(struct t_ring *r)
{
	const struct bb_info *in = &r->info;
	int role, rw = PROT_READ | PROT_WRITE, ro = PROT_READ;
	int prod_prot, slot_prot;
	int e;

	if ((e = t_info(r->fd, &r->info)) != 0) {
		t_diag("BB_IOC_INFO: %s", strerror(-e));
		return e;
	}
	role = (int)in->role;
	prod_prot = role == BB_ROLE_PRODUCER ? rw : ro;
	slot_prot = role == BB_ROLE_PRODUCER ||
		    (role == BB_ROLE_CONSUMER &&
		     (in->flags & BB_RING_MUTABLE_CONSUMERS)) ? rw : ro;
#define T_MAP(field, off, len, prot)					\
	do {								\
		r->field = t_map_region(r->fd, in->off, in->len, (prot)); \
		if (!r->field) {					\
			e = -errno;					\
			t_diag("mmap %s (off 0x%llx len 0x%llx prot %d): %s", \
			       #off, (unsigned long long)in->off,	\
			       (unsigned long long)in->len, (prot),	\
			       strerror(errno));			\
			t_ring_unmap(r);				\
			return e;					\
		}							\
	} while (0)
	T_MAP(hdr_m, header_off, header_len, ro);
	T_MAP(prod_m, producer_off, producer_len, prod_prot);
	T_MAP(cons_m, consumers_off, consumers_len, ro);
	T_MAP(slots_m, slots_off, slots_len, slot_prot);
	if (role == BB_ROLE_CONSUMER)
		T_MAP(self_m, self_off, self_len, rw);
#undef T_MAP
	memset(&r->v, 0, sizeof(r->v));
	r->v.hdr = r->hdr_m;
	r->v.prod = r->prod_m;
	r->v.multi = !!(in->flags & BB_RING_MULTI_PRODUCER);
	r->v.avail = r->v.multi ?
		(__u32 *)((unsigned char *)r->prod_m + in->avail_off) : NULL;
	r->v.consumers = r->cons_m;
	r->v.slots = r->slots_m;
	r->v.cons_stride = in->consumer_stride;
	r->v.mask = in->slot_count - 1;
	r->v.size = in->slot_count;
	r->v.shift = (__u32)__builtin_ctz(in->slot_count);
	r->v.slot_size = in->slot_size;
	r->v.max_consumers = in->max_consumers;
	if (role == BB_ROLE_CONSUMER) {
		r->self = r->self_m;
		r->id = in->consumer_id;
	}
	/* A producer joining a running ring starts at the frontier. */
	r->pc.next = bb_load(&r->v.prod->claim);
	if (!r->v.multi && bb_load(&r->v.prod->cursor) > r->pc.next)
		r->pc.next = bb_load(&r->v.prod->cursor);
	r->pc.gating = 0;
	return 0;
}

/* Open, attach by name as role (consumer: id, deps) and map. 0 or -errno. */
static inline int t_join(struct t_ring *r, const char *name, __u32 role,
			 __u32 id, __u64 deps)
{
	int e;

	memset(r, 0, sizeof(*r));
	r->fd = t_open();
	if (r->fd < 0) {
		e = -errno;
		t_diag("open %s: %s", BB_DEVICE_PATH, strerror(errno));
		return e;
	}
	e = t_attach(r->fd, role, BB_ATTACH_NAME, -1, name, id, deps, NULL);
	if (e) {
		t_diag("attach %s role %u id %u deps 0x%llx: %s", name, role, id,
		       (unsigned long long)deps, strerror(-e));
		close(r->fd);
		r->fd = -1;
		return e;
	}
	e = t_ring_map(r);
	if (e) {
		close(r->fd);
		r->fd = -1;
	}
	return e;
}

/*
 * Open /dev/badbatch, create a ring (c), and map it as its creator (role
 * NONE); with role != NONE, attach the creator's fd itself (BB_ATTACH_SELF)
 * first. 0 or -errno.
 */
static inline int t_ring_setup(struct t_ring *r, const struct bb_create *c,
			       __u32 role, __u32 id, __u64 deps)
{
	struct bb_create cc = *c;
	int e;

	memset(r, 0, sizeof(*r));
	r->fd = t_open();
	if (r->fd < 0) {
		e = -errno;
		t_diag("open %s: %s", BB_DEVICE_PATH, strerror(errno));
		return e;
	}
	if (ioctl(r->fd, BB_IOC_CREATE, &cc) != 0) {
		e = -errno;
		t_diag("BB_IOC_CREATE %s: %s", c->name, strerror(errno));
		goto fail;
	}
	if (role != BB_ROLE_NONE) {
		e = t_attach(r->fd, role, BB_ATTACH_SELF, -1, NULL, id, deps,
			     NULL);
		if (e) {
			t_diag("BB_ATTACH_SELF role %u: %s", role, strerror(-e));
			goto fail;
		}
	}
	e = t_ring_map(r);
	if (e)
		goto fail;
	return 0;
fail:
	close(r->fd);
	r->fd = -1;
	return e;
}

/* Create (and map as creator) a ring with the usual defaults. */
static inline int t_ring_new(struct t_ring *r, __u32 flags, __u32 slot_count,
			     __u32 slot_size, __u32 max_consumers,
			     const char *name)
{
	struct bb_create c;

	t_create_args(&c, flags, slot_count, slot_size, max_consumers, name);
	return t_ring_setup(r, &c, BB_ROLE_NONE, 0, 0);
}

static inline void t_ring_close(struct t_ring *r)
{
	t_ring_unmap(r);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

/* The sequence of consumer id as seen in the consumers region. */
static inline __u64 t_cons_seq(const struct t_ring *r, unsigned int id)
{
	return bb_load_acquire(bb_consumer_seq(&r->v, id));
}

/* Read the topology of the header consistently (under topo_seq). */
static inline __u64 t_gating_mask(const struct t_ring *r)
{
	for (;;) {
		__u32 s = bb_load_acquire(&r->v.hdr->topo_seq);
		__u64 m;

		if (s & 1) {
			sched_yield();
			continue;
		}
		m = bb_load_acquire(&r->v.hdr->gating_mask);
		if (bb_load_acquire(&r->v.hdr->topo_seq) == s)
			return m;
	}
}

static inline __u64 t_cons_deps(const struct t_ring *r, unsigned int id)
{
	return bb_load_acquire(&r->v.hdr->consumers[id].deps);
}

/* ------------------------------------------------------------------ */
/* Fast path over the mappings                                         */

/* Spin (then yield) this many rounds before sleeping in the kernel. */
#define T_SPINS 64
#define T_YIELDS 16

static inline void t_backoff(unsigned int round)
{
	if (round < T_SPINS)
		bb_cpu_relax();
	else
		sched_yield();
}

/*
 * Claim up to want slots (at least 1) for a producer, waiting for capacity
 * (spin, yield, then BB_IOC_WAIT). Returns the count claimed (*lo set), or
 * -errno from BB_IOC_WAIT (e.g. -ESHUTDOWN).
 */
static inline int t_fast_claim(struct t_ring *r, __u32 want, __u64 *lo)
{
	unsigned int round = 0;
	__u32 n = want;

	for (;;) {
		int e = bb_try_claim(&r->v, &r->pc, n, lo);

		if (e == 0)
			return (int)n;
		if (e == -EBUSY) {
			sched_yield();
			continue;
		}
		if (e != -EAGAIN)
			return e;
		/* Take whatever room there is rather than wait for all. */
		if (n > 1) {
			__u64 room = bb_remaining(&r->v, &r->pc);

			if (room >= 1 && room < n) {
				n = (__u32)room;
				continue;
			}
		}
		if (round++ < T_SPINS + T_YIELDS) {
			t_backoff(round);
			continue;
		}
		{
			__u64 frontier = r->v.multi ?
				bb_load(&r->v.prod->claim) : r->pc.next;
			__u64 limit;

			r->waits++;
			e = t_wait_ioctl(r->fd, frontier + n - 1, 0, &limit);
			if (e)
				return e;
			round = 0;
		}
	}
}

/* Publish [lo, lo + n) and wake sleeping consumers only when announced. */
static inline void t_fast_publish(struct t_ring *r, __u64 lo, __u32 n)
{
	bb_publish(&r->v, lo, n);
	if (bb_consumers_need_wake(&r->v)) {
		r->wakes++;
		if (ioctl(r->fd, BB_IOC_WAKE, BB_WAKE_CONSUMERS) != 0)
			t_diag("BB_IOC_WAKE(CONSUMERS): %s", strerror(errno));
	}
}

/*
 * Wait until consumer r may read past next (spin, yield, BB_IOC_WAIT).
 * Returns the limit (> next) or 0 with *err = -errno.
 */
static inline __u64 t_fast_avail(struct t_ring *r, __u64 next, int *err)
{
	unsigned int round = 0;

	*err = 0;
	for (;;) {
		__u64 limit = bb_consumer_limit(&r->v, r->id, next, r->v.size);

		if (limit > next)
			return limit;
		if (round++ < T_SPINS + T_YIELDS) {
			t_backoff(round);
			continue;
		}
		r->waits++;
		*err = t_wait_ioctl(r->fd, next, 0, &limit);
		if (*err)
			return 0;
		round = 0;
	}
}

/* Mark [.., seq) consumed and wake whoever the protocol says may wait. */
static inline void t_fast_advance(struct t_ring *r, __u64 seq)
{
	__u32 wake = bb_consumer_advance(&r->v, r->self, r->id, seq);

	if (wake) {
		r->wakes++;
		if (ioctl(r->fd, BB_IOC_WAKE, (unsigned long)wake) != 0)
			t_diag("BB_IOC_WAKE(0x%x): %s", wake, strerror(errno));
	}
}

/* ------------------------------------------------------------------ */
/* Payload patterns                                                    */

static inline __u64 t_mix(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* Fill a slot with the pattern of (key): word i = mix(key * 131 + i). */
static inline void t_fill(void *slot, __u32 slot_size, __u64 key)
{
	__u64 *w = slot;
	__u32 i;

	for (i = 0; i < slot_size / 8; i++)
		w[i] = t_mix(key * 131 + i);
}

/* Does the slot hold the pattern of key? Returns the first bad word + 1. */
static inline __u32 t_check(const void *slot, __u32 slot_size, __u64 key)
{
	const __u64 *w = slot;
	__u32 i;

	for (i = 0; i < slot_size / 8; i++)
		if (w[i] != t_mix(key * 131 + i))
			return i + 1;
	return 0;
}

#endif /* BB_VM_TEST_HARNESS_H */
