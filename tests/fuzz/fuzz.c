// SPDX-License-Identifier: GPL-2.0
/*
 * escguard hostile-input fuzzer, run as root inside the test guest (static).
 *   fuzz [-d DEVICE] [-n ITERATIONS_TOTAL] [-t THREADS] [-s SEED]
 *
 * Threads throw random, near-valid and hostile ioctls, reads, writes, polls,
 * seeks, mmaps and fstats at /dev/escguard; afterwards a fresh descriptor must
 * still answer VERSION and STATUS. The guest runner checks the kernel log for
 * oopses; this program only makes the load and reports.
 *
 * Replay: the same -s SEED and -t THREADS give every thread the same op
 * sequence (thread i draws from a xorshift PRNG seeded from SEED + i).
 *
 * Bad pointers are only ever handed to syscalls, never dereferenced here.
 * Memory the kernel may write to (g_big, scratch, edge) is never read back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#include "escguard_abi.h"

#define DEFAULT_ITERS 100000ULL
#define DEFAULT_THREADS 4U
#define MAX_THREADS 256U
#define PROGRESS_EVERY 25000ULL

#define NSLOT 3                  /* descriptors per thread */
#define BIG_SIZE (2UL << 20)     /* >= a 1 MiB read and ESCGUARD_TASKS_MAX records */
#define SCRATCH_SIZE (32UL << 10) /* > any _IOC_SIZE (0x3fff) plus misalignment */
#define SCRATCH_HDR 0x5000       /* op_tasks' header: apart from op_valid_hostile's bytes */
#define SCRATCH_VAL 0x6000       /* op_setters' value */
#define EDGE_LEN (16UL << 10)    /* RW bytes before each thread's guard page */
#define RO_HDR_OFF 2048          /* valid TASKS header inside the read-only page */
#define BLOCK_KICK_NS 100000000LL /* an armed call longer than this gets SIGUSR1 */

#define EV_REC sizeof(struct escguard_event)
#define TASK_REC sizeof(struct escguard_task)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(BIG_SIZE >= ESCGUARD_TASKS_MAX * sizeof(struct escguard_task) + 8,
	       "g_big must hold a full TASKS page plus misalignment");
_Static_assert(SCRATCH_SIZE > SCRATCH_VAL + 8 && SCRATCH_HDR > 64 + 8,
	       "scratch layout");

/* Result classes; the summary folds EBADF into "other" (its format is fixed). */
enum {
	RES_OK, RES_EPERM, RES_EINVAL, RES_EFAULT, RES_ENOTTY, RES_EAGAIN, RES_EBADF,
	RES_OTHER, RES_NUM
};
static const char *const r_name[RES_NUM] = {
	"ok", "EPERM", "EINVAL", "EFAULT", "ENOTTY", "EAGAIN", "EBADF", "other",
};

static const unsigned int valid_cmds[] = {
	ESCGUARD_IOC_VERSION, ESCGUARD_IOC_STATUS, ESCGUARD_IOC_SET_MODE,
	ESCGUARD_IOC_TASKS, ESCGUARD_IOC_READER, ESCGUARD_IOC_ACK,
	ESCGUARD_IOC_LOCK,
};

/*
 * Generic VFS ioctls that act before the driver sees the call and change state
 * outside escguard (our descriptor's blocking mode, the devtmpfs inode, the
 * filesystem). A random or mutated cmd never becomes one of these.
 */
static const unsigned int unsafe_cmds[] = {
	FIONBIO, FIOASYNC, FIFREEZE, FITHAW, FS_IOC_SETFLAGS, FS_IOC32_SETFLAGS,
	FS_IOC_SETVERSION, FS_IOC32_SETVERSION, FS_IOC_FSSETXATTR,
};

/* Kernel-space and non-canonical addresses: access_ok() must refuse them. */
static const uint64_t kernel_addrs[] = {
	0xffffffff81000000ULL, /* kernel text */
	0xffff888000000000ULL, /* direct map */
	0x0000800000000000ULL, /* first non-canonical address */
	0x00007ffffffffffcULL, /* above TASK_SIZE, just below the hole */
	0xfffffffffffffff8ULL, /* wraps around on a 16-byte copy */
};

static const char *g_dev = "/dev/escguard";
static uint64_t g_total = DEFAULT_ITERS;
static uint64_t g_done;      /* atomic: ops finished by all threads */
static size_t g_page;
static char *g_big;          /* BIG_SIZE RW then PROT_NONE; the kernel's to write */
static char *g_ro;           /* PROT_READ page: zero but a valid TASKS header */
static uintptr_t g_hole;     /* an unmapped page, fenced so nothing maps there */

struct slot {
	int fd;                  /* -1: closed, opened on next use */
	int flags;               /* open flags for the next open */
};

struct worker {
	pthread_t tid;
	unsigned int idx;
	uint64_t rng;
	uint64_t iters;
	char *scratch;           /* SCRATCH_SIZE RW */
	char *edge_end;          /* first byte of a PROT_NONE page after EDGE_LEN RW */
	struct slot slot[NSLOT];
	uint64_t next_reopen;
	int64_t block_since;     /* atomic: monotonic ns while armed (see arm()), else 0 */
	int finished;            /* atomic */
	uint64_t ops, opens, open_fail, res[RES_NUM];
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static __attribute__((noreturn)) void die(const char *what)
{
	fprintf(stderr, "fuzz: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ---- PRNG: splitmix64 spreads seed + index, xorshift64 runs the thread. ---- */

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rnd(struct worker *w)
{
	uint64_t x = w->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return w->rng = x;
}

static uint64_t below(struct worker *w, uint64_t n)
{
	return n ? rnd(w) % n : 0;
}

/* ---- results ---- */

static int classify_errno(int e)
{
	switch (e) {
	case EPERM: return RES_EPERM;
	case EINVAL: return RES_EINVAL;
	case EFAULT: return RES_EFAULT;
	case ENOTTY: return RES_ENOTTY;
	case EAGAIN: return RES_EAGAIN;
	case EBADF: return RES_EBADF;
	default: return RES_OTHER;
	}
}

static int classify(long ret)
{
	return ret >= 0 ? RES_OK : classify_errno(errno);
}

/* Brackets a call that could sleep indefinitely; main()'s watchdog sends
 * SIGUSR1 to a thread that stays inside one too long. */
static void arm(struct worker *w)
{
	__atomic_store_n(&w->block_since, now_ns(), __ATOMIC_SEQ_CST);
}

static void disarm(struct worker *w)
{
	__atomic_store_n(&w->block_since, 0, __ATOMIC_SEQ_CST);
}

/* Raw syscalls: no libc wrapper may touch a hostile buffer on our side. */
static long sys_ioctl(int fd, unsigned int cmd, uintptr_t arg)
{
	return syscall(SYS_ioctl, fd, (unsigned long)cmd, arg);
}

/* ---- memory ---- */

static char *map(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/* len RW bytes (page multiple) followed by a PROT_NONE guard page. */
static char *map_fenced(size_t len)
{
	char *p = map(len + g_page, PROT_READ | PROT_WRITE);

	if (mprotect(p + len, g_page, PROT_NONE))
		die("mprotect");
	return p;
}

static void setup_memory(void)
{
	struct escguard_task_list hdr;
	char *h;

	g_page = (size_t)sysconf(_SC_PAGESIZE);
	g_big = map_fenced(BIG_SIZE);

	/* A hole between two PROT_NONE pages: only a one-page mmap could land
	 * there, and we make none that lives, so the address stays unmapped. */
	h = map(3 * g_page, PROT_NONE);
	if (munmap(h + g_page, g_page))
		die("munmap");
	g_hole = (uintptr_t)(h + g_page);

	/* The TASKS header here is valid, so the kernel gets as far as writing
	 * back into a page it may not write. */
	g_ro = map(g_page, PROT_READ | PROT_WRITE);
	memset(&hdr, 0, sizeof(hdr));
	hdr.tasks = (uintptr_t)g_big;
	hdr.capacity = 16;
	memcpy(g_ro + RO_HDR_OFF, &hdr, sizeof(hdr));
	if (mprotect(g_ro, g_page, PROT_READ))
		die("mprotect");
}

/*
 * A pointer for a size-byte object: bad ones of every kind, or one into this
 * thread's scratch (possibly misaligned), the guard-page edge (object cut
 * short) or the read-only page.
 */
static uintptr_t hostile_ptr(struct worker *w, size_t size)
{
	if (size > EDGE_LEN)
		size = EDGE_LEN;
	switch (below(w, 11)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return g_hole + below(w, g_page);
	case 3: return (uintptr_t)kernel_addrs[below(w, ARRAY_SIZE(kernel_addrs))];
	case 4: return (uintptr_t)w->scratch + 1;
	case 5: return (uintptr_t)w->scratch + 3;
	case 6: /* crosses into the guard page: a truncated payload */
		return (uintptr_t)w->edge_end - 1 - below(w, size > 1 ? size - 1 : 1);
	case 7: return (uintptr_t)g_ro;
	case 8: return (uintptr_t)w->edge_end; /* guard page itself */
	default: return (uintptr_t)w->scratch;
	}
}

/* Any kernel-writable buffer for reads, writes and task arrays: g_big-based. */
static uintptr_t hostile_buf(struct worker *w, size_t straddle)
{
	switch (below(w, 9)) {
	case 0: return 0;
	case 1: return g_hole;
	case 2: return (uintptr_t)kernel_addrs[below(w, ARRAY_SIZE(kernel_addrs))];
	case 3: return (uintptr_t)g_ro;
	case 4: /* the last bytes land in the guard page after g_big */
		return (uintptr_t)g_big + BIG_SIZE - 1 - below(w, straddle);
	case 5: return (uintptr_t)g_big + 1 + below(w, 7);
	default: return (uintptr_t)g_big;
	}
}

static unsigned int make_safe(unsigned int cmd)
{
	unsigned int bit = 0;
	size_t i;

again:
	for (i = 0; i < ARRAY_SIZE(unsafe_cmds); i++) {
		if (cmd == unsafe_cmds[i]) {
			/* a new nr bit each time: no two entries can ping-pong */
			cmd ^= 1U << (_IOC_NRSHIFT + bit++ % _IOC_NRBITS);
			goto again;
		}
	}
	return cmd;
}

/* ---- descriptors ---- */

static int pick_flags(struct worker *w)
{
	/* Mostly non-blocking read-only: reads then never wait. */
	static const int modes[] = {
		O_RDONLY | O_NONBLOCK, O_RDONLY | O_NONBLOCK, O_RDONLY | O_NONBLOCK,
		O_RDONLY | O_NONBLOCK, O_RDONLY | O_NONBLOCK, O_RDONLY, O_RDONLY,
		O_RDWR | O_NONBLOCK, O_RDWR, O_WRONLY,
	};

	return modes[below(w, ARRAY_SIZE(modes))];
}

static int slot_open(struct worker *w, struct slot *s)
{
	int fd, e;

	arm(w); /* escguard's open never waits; a stand-in device (FIFO) may */
	fd = open(g_dev, s->flags | O_CLOEXEC);
	e = errno;
	disarm(w);
	errno = e;
	if (fd < 0) {
		w->open_fail++;
		return -1;
	}
	w->opens++;
	s->fd = fd;
	return 0;
}

/* Flags for the next open are drawn here so a failed open changes no draws. */
static void slot_close(struct worker *w, struct slot *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->flags = pick_flags(w);
}

/* ---- operations; each returns a result class ---- */

/* 1: any 32-bit cmd, any argument. */
static int op_random_ioctl(struct worker *w, int fd)
{
	unsigned int cmd = (unsigned int)rnd(w);
	uintptr_t arg;

	switch (below(w, 3)) {
	case 0: arg = (uintptr_t)rnd(w); break;
	case 1: arg = below(w, 4096); break;
	default: arg = hostile_ptr(w, _IOC_SIZE(cmd)); break;
	}
	return classify(sys_ioctl(fd, make_safe(cmd), arg));
}

static unsigned int mutate_size(struct worker *w, unsigned int size)
{
	switch (below(w, 7)) {
	case 0: return 0;
	case 1: return size ? size - 1 : 1;
	case 2: return size / 2;
	case 3: return (size + 1 + below(w, 8)) & _IOC_SIZEMASK;
	case 4: return (size * 2) & _IOC_SIZEMASK;
	case 5: return _IOC_SIZEMASK;
	default: return below(w, _IOC_SIZEMASK + 1);
	}
}

/* 2: a valid cmd with its direction, size, nr or magic changed. */
static int op_near_ioctl(struct worker *w, int fd)
{
	unsigned int base = valid_cmds[below(w, ARRAY_SIZE(valid_cmds))];
	unsigned int dir = _IOC_DIR(base), type = _IOC_TYPE(base);
	unsigned int nr = _IOC_NR(base), size = _IOC_SIZE(base);
	unsigned int n = 1 + below(w, 2), cmd;

	while (n--) {
		switch (below(w, 4)) {
		case 0: dir = (dir ^ (1 + below(w, _IOC_DIRMASK))) & _IOC_DIRMASK; break;
		case 1: size = mutate_size(w, size); break;
		case 2: nr = below(w, 16); break;
		default:
			type = below(w, 2) ? type ^ (1U << below(w, 8)) : below(w, 256);
			break;
		}
	}
	cmd = make_safe(_IOC(dir, type, nr, size));
	return classify(sys_ioctl(fd, cmd, hostile_ptr(w, size)));
}

/* 3: a valid cmd with a hostile argument. */
static int op_valid_hostile(struct worker *w, int fd)
{
	unsigned int cmd = valid_cmds[below(w, ARRAY_SIZE(valid_cmds))];
	uintptr_t arg = hostile_ptr(w, _IOC_SIZE(cmd));
	uint64_t junk[8];
	size_t i;

	/* Inputs read from scratch (values, a TASKS header) are garbage. */
	for (i = 0; i < ARRAY_SIZE(junk); i++)
		junk[i] = rnd(w);
	memcpy(w->scratch, junk, sizeof(junk));
	if (arg == (uintptr_t)g_ro && cmd == ESCGUARD_IOC_TASKS)
		arg += RO_HDR_OFF;
	return classify(sys_ioctl(fd, cmd, arg));
}

/* 4: TASKS with a well-formed header around odd capacities and arrays. */
static int op_tasks(struct worker *w, int fd)
{
	static const uint32_t caps[] = {
		0, 1, 2, 16, ESCGUARD_TASKS_MAX, ESCGUARD_TASKS_MAX + 1, 0xffffffffU,
	};
	static const uint32_t starts[] = { 0, 0, 1, 2, 1000, 4194304, 0xffffffffU };
	struct escguard_task_list h;
	uint32_t cap, start;
	uintptr_t tasks, hdr;
	size_t m, k;

	switch (below(w, 4)) {
	case 0: cap = (uint32_t)rnd(w); break;
	case 1: cap = 1 + below(w, 64); break;
	default: cap = caps[below(w, ARRAY_SIZE(caps))]; break;
	}
	start = below(w, 3) ? starts[below(w, ARRAY_SIZE(starts))] : (uint32_t)rnd(w);

	switch (below(w, 7)) {
	case 0: tasks = 0; break;
	case 1: tasks = g_hole; break;
	case 2: tasks = (uintptr_t)kernel_addrs[below(w, ARRAY_SIZE(kernel_addrs))]; break;
	case 3: /* room for m records before the guard page; ask for more */
		m = below(w, EDGE_LEN / TASK_REC);
		tasks = (uintptr_t)w->edge_end - m * TASK_REC;
		if (cap <= m || cap > ESCGUARD_TASKS_MAX)
			cap = m + 1 + below(w, 8);
		if (below(w, 2))
			start = 0;
		break;
	case 4: tasks = (uintptr_t)g_big + 1 + below(w, 7); break;
	case 5: tasks = (uintptr_t)g_ro; break;
	default: tasks = (uintptr_t)g_big; break;
	}

	memset(&h, 0, sizeof(h));
	h.tasks = tasks;
	h.capacity = cap;
	h.start_pid = start;
	h.count = (uint32_t)rnd(w); /* out fields: the kernel must not trust them */
	h.total = (uint32_t)rnd(w);

	switch (below(w, 6)) {
	case 0: /* header cut short by the guard page */
		k = 1 + below(w, sizeof(h) - 1);
		hdr = (uintptr_t)w->edge_end - k;
		memcpy((void *)hdr, &h, k);
		break;
	case 1: /* readable, but the count/total write-back faults */
		hdr = (uintptr_t)g_ro + RO_HDR_OFF;
		break;
	default:
		hdr = (uintptr_t)w->scratch + SCRATCH_HDR;
		memcpy((void *)hdr, &h, sizeof(h));
		break;
	}
	return classify(sys_ioctl(fd, ESCGUARD_IOC_TASKS, hdr));
}

/* 5: the value-taking ioctls with mostly invalid values. */
static int op_setters(struct worker *w, int fd)
{
	static const uint32_t v32[] = { 0, 1, 2, 3, 0x100, 0x80000000U, 0xffffffffU };
	static const unsigned int cmds32[] = {
		ESCGUARD_IOC_SET_MODE, ESCGUARD_IOC_READER, ESCGUARD_IOC_LOCK,
	};
	char *p = w->scratch + SCRATCH_VAL;
	unsigned int cmd;

	if (below(w, 4) == 0) {
		uint64_t v;

		switch (below(w, 5)) {
		case 0: v = 0; break;
		case 1: v = UINT64_MAX; break;
		case 2: v = below(w, 1000); break;
		case 3: v = 1ULL << 63; break;
		default: v = rnd(w); break;
		}
		memcpy(p, &v, sizeof(v));
		cmd = ESCGUARD_IOC_ACK;
	} else {
		uint32_t v = below(w, 4) ? v32[below(w, ARRAY_SIZE(v32))] : (uint32_t)rnd(w);

		memcpy(p, &v, sizeof(v));
		cmd = cmds32[below(w, ARRAY_SIZE(cmds32))];
	}
	return classify(sys_ioctl(fd, cmd, (uintptr_t)p));
}

/* 6: read() with odd lengths into odd buffers; never blocks for long. */
static int op_read(struct worker *w, const struct slot *s)
{
	static const size_t lens[] = {
		0, 1, EV_REC - 1, EV_REC, EV_REC + 1, 16 * EV_REC, 17 * EV_REC,
		1UL << 20, SSIZE_MAX, SIZE_MAX,
	};
	size_t len = below(w, 5) ? lens[below(w, ARRAY_SIZE(lens))] : below(w, 65536);
	uintptr_t buf = hostile_buf(w, 2 * EV_REC);
	int timeout = (int)below(w, 2);
	long ret;
	int e;

	if (!(s->flags & O_NONBLOCK)) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };

		/* Not readable: what a non-blocking read would have said. */
		if (poll(&p, 1, timeout) <= 0 || !(p.revents & POLLIN))
			return RES_EAGAIN;
		/* Another thread may take the event first: the watchdog
		 * then interrupts the read. */
		arm(w);
	}
	ret = syscall(SYS_read, s->fd, buf, len);
	e = errno;
	disarm(w);
	return ret >= 0 ? RES_OK : classify_errno(e);
}

/* 7: write(); the device has no write op (EBADF or EINVAL). */
static int op_write(struct worker *w, const struct slot *s)
{
	static const size_t lens[] = { 0, 1, EV_REC, 4096, 1UL << 20 };
	size_t len = below(w, 4) ? lens[below(w, ARRAY_SIZE(lens))] : below(w, 65536);
	uintptr_t buf = hostile_buf(w, 64);
	long ret;
	int e;

	if (!(s->flags & O_NONBLOCK))
		arm(w);
	ret = syscall(SYS_write, s->fd, buf, len);
	e = errno;
	disarm(w);
	return ret >= 0 ? RES_OK : classify_errno(e);
}

/* 8: poll() one or all descriptors with a random event mask. */
static int op_poll(struct worker *w, int fd)
{
	struct pollfd p[NSLOT];
	unsigned int n = 1, i;
	short events = below(w, 2) ? POLLIN : (short)rnd(w);

	if (below(w, 4) == 0) {
		/* closed slots are -1, which poll() skips */
		for (i = 0; i < NSLOT; i++)
			p[i] = (struct pollfd){ .fd = w->slot[i].fd, .events = events };
		n = NSLOT;
	} else {
		p[0] = (struct pollfd){ .fd = fd, .events = events };
	}
	return classify(poll(p, n, (int)below(w, 2)));
}

/* 9: lseek, mmap (the device has none) and fstat. */
static int op_misc(struct worker *w, int fd)
{
	static const size_t lens[] = { 4096, 8192, 1UL << 20 };
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE, PROT_READ | PROT_EXEC,
	};
	static const off_t offs[] = { 0, 1, -1, 4096, INT64_MAX };
	size_t len;
	off_t off;
	void *p;

	switch (below(w, 3)) {
	case 0:
		off = below(w, 2) ? offs[below(w, ARRAY_SIZE(offs))] : (off_t)rnd(w);
		return classify((long)lseek(fd, off, (int)below(w, 6)));
	case 1:
		off = (off_t)(below(w, 2) ? 0 : below(w, 1U << 20) * g_page);
		len = lens[below(w, ARRAY_SIZE(lens))];
		p = mmap(NULL, len,
			 prots[below(w, ARRAY_SIZE(prots))],
			 below(w, 2) ? MAP_SHARED : MAP_PRIVATE, fd, off);
		if (p == MAP_FAILED)
			return classify_errno(errno);
		munmap(p, len); /* unexpected: drop it, never touch it */
		return RES_OK;
	default:
#ifdef SYS_fstat
		return classify(syscall(SYS_fstat, fd, hostile_ptr(w, sizeof(struct stat))));
#else
		return classify(syscall(SYS_newfstatat, fd, "",
					hostile_ptr(w, sizeof(struct stat)), AT_EMPTY_PATH));
#endif
	}
}

static int do_op(struct worker *w, const struct slot *s)
{
	unsigned int r = below(w, 100);

	if (r < 10)
		return op_random_ioctl(w, s->fd);
	if (r < 25)
		return op_near_ioctl(w, s->fd);
	if (r < 45)
		return op_valid_hostile(w, s->fd);
	if (r < 57)
		return op_tasks(w, s->fd);
	if (r < 69)
		return op_setters(w, s->fd);
	if (r < 84)
		return op_read(w, s);
	if (r < 88)
		return op_write(w, s);
	if (r < 94)
		return op_poll(w, s->fd);
	return op_misc(w, s->fd);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t i, n;
	unsigned int k;

	for (k = 0; k < NSLOT; k++)
		slot_open(w, &w->slot[k]);
	w->next_reopen = 900 + below(w, 200);

	for (i = 0; i < w->iters; i++) {
		struct slot *s;
		int r;

		/* Fresh descriptors every ~1000 ops, and random close/reopen,
		 * so open/release race with the other threads' calls. */
		if (i >= w->next_reopen) {
			s = &w->slot[below(w, NSLOT)];
			slot_close(w, s);
			slot_open(w, s);
			w->next_reopen = i + 900 + below(w, 200);
		} else if (below(w, 200) == 0) {
			slot_close(w, &w->slot[below(w, NSLOT)]); /* reopened on use */
		}

		s = &w->slot[below(w, NSLOT)];
		if (s->fd < 0 && slot_open(w, s) < 0)
			r = classify_errno(errno); /* the failed open is this op */
		else
			r = do_op(w, s);
		w->res[r]++;
		w->ops++;

		n = __atomic_add_fetch(&g_done, 1, __ATOMIC_RELAXED);
		if (n % PROGRESS_EVERY == 0)
			fprintf(stderr, "fuzz: %" PRIu64 "/%" PRIu64 "\n", n, g_total);
	}
	for (k = 0; k < NSLOT; k++)
		if (w->slot[k].fd >= 0)
			close(w->slot[k].fd);
	__atomic_store_n(&w->finished, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Interrupts a blocking read; without SA_RESTART it returns EINTR. */
static void on_usr1(int sig)
{
	(void)sig;
}

static const char *err_name(int e, char *buf, size_t len)
{
	int r = classify_errno(e);

	if (r != RES_OTHER)
		return r_name[r];
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 32)
	if (strerrorname_np(e))
		return strerrorname_np(e);
#endif
	snprintf(buf, len, "errno%d", e);
	return buf;
}

/* The device must still answer after the storm. */
static int health_check(char *reason, size_t len)
{
	struct escguard_version v;
	struct escguard_status st;
	char eb[32];
	int fd = open(g_dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* never waits */

	if (fd < 0) {
		snprintf(reason, len, "open:%s", err_name(errno, eb, sizeof(eb)));
		return -1;
	}
	memset(&v, 0, sizeof(v));
	if (ioctl(fd, ESCGUARD_IOC_VERSION, &v)) {
		snprintf(reason, len, "VERSION:%s", err_name(errno, eb, sizeof(eb)));
		goto fail;
	}
	if (v.abi_major != ESCGUARD_ABI_MAJOR) {
		snprintf(reason, len, "abi_major=%u", v.abi_major);
		goto fail;
	}
	memset(&st, 0, sizeof(st));
	if (ioctl(fd, ESCGUARD_IOC_STATUS, &st)) {
		snprintf(reason, len, "STATUS:%s", err_name(errno, eb, sizeof(eb)));
		goto fail;
	}
	if (st.abi_major != ESCGUARD_ABI_MAJOR) {
		snprintf(reason, len, "status_abi_major=%u", st.abi_major);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

static uint64_t parse_u64(const char *s, const char *opt)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-') {
		fprintf(stderr, "fuzz: bad %s '%s'\n", opt, s);
		exit(1);
	}
	return v;
}

static void usage(void)
{
	fprintf(stderr, "usage: fuzz [-d DEVICE] [-n ITERATIONS_TOTAL (default %llu)] "
		"[-t THREADS (default %u)] [-s SEED]\n", DEFAULT_ITERS, DEFAULT_THREADS);
	exit(1);
}

int main(int argc, char **argv)
{
	uint64_t seed = splitmix64((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
	uint64_t total = 0, res[RES_NUM] = { 0 };
	unsigned int threads = DEFAULT_THREADS, i, k, left;
	struct worker *ws;
	struct sigaction sa;
	char reason[96];
	int opt, healthy;

	while ((opt = getopt(argc, argv, "d:n:t:s:h")) != -1) {
		switch (opt) {
		case 'd': g_dev = optarg; break;
		case 'n': g_total = parse_u64(optarg, "-n"); break;
		case 't':
			threads = (unsigned int)parse_u64(optarg, "-t");
			if (threads < 1 || threads > MAX_THREADS) {
				fprintf(stderr, "fuzz: -t must be 1..%u\n", MAX_THREADS);
				exit(1);
			}
			break;
		case 's': seed = parse_u64(optarg, "-s"); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();

	/* The seed first, so a run that dies still leaves a replay recipe. */
	printf("fuzz: device=%s iterations=%" PRIu64 " threads=%u seed=%" PRIu64 "\n",
	       g_dev, g_total, threads, seed);
	fflush(stdout);

	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocked read must come back */
	if (sigaction(SIGUSR1, &sa, NULL))
		die("sigaction");

	setup_memory();
	ws = calloc(threads, sizeof(*ws));
	if (!ws)
		die("calloc");
	for (i = 0; i < threads; i++) {
		static const int first[NSLOT] = { O_RDONLY, O_RDONLY | O_NONBLOCK, O_RDWR };
		struct worker *w = &ws[i];

		w->idx = i;
		w->rng = splitmix64(seed + i);
		if (!w->rng)
			w->rng = 0x2545f4914f6cdd1dULL; /* xorshift's one dead state */
		w->iters = g_total / threads + (i < g_total % threads);
		w->scratch = map(SCRATCH_SIZE, PROT_READ | PROT_WRITE);
		w->edge_end = map_fenced(EDGE_LEN) + EDGE_LEN;
		for (k = 0; k < NSLOT; k++)
			w->slot[k] = (struct slot){ .fd = -1, .flags = first[k] };
	}
	for (i = 0; i < threads; i++) {
		errno = pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]);
		if (errno)
			die("pthread_create");
	}

	/* Watchdog: a blocking read whose event another thread took would wait
	 * for the next event forever; kick it out (see arm()). */
	do {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		int64_t now;

		nanosleep(&ts, NULL);
		now = now_ns();
		left = 0;
		for (i = 0; i < threads; i++) {
			int64_t since = __atomic_load_n(&ws[i].block_since, __ATOMIC_SEQ_CST);

			if (!__atomic_load_n(&ws[i].finished, __ATOMIC_SEQ_CST))
				left++;
			if (since && now - since > BLOCK_KICK_NS)
				pthread_kill(ws[i].tid, SIGUSR1);
		}
	} while (left);

	for (i = 0; i < threads; i++) {
		struct worker *w = &ws[i];

		pthread_join(w->tid, NULL);
		total += w->ops;
		fprintf(stderr, "fuzz: thread %u ops=%" PRIu64 " opens=%" PRIu64
			" open_fail=%" PRIu64, i, w->ops, w->opens, w->open_fail);
		for (k = 0; k < RES_NUM; k++) {
			res[k] += w->res[k];
			fprintf(stderr, " %s=%" PRIu64, r_name[k], w->res[k]);
		}
		fputc('\n', stderr);
	}

	healthy = health_check(reason, sizeof(reason)) == 0;
	printf("fuzz: ops=%" PRIu64 " threads=%u seed=%" PRIu64 " ok=%" PRIu64
	       " EPERM=%" PRIu64 " EINVAL=%" PRIu64 " EFAULT=%" PRIu64
	       " ENOTTY=%" PRIu64 " EAGAIN=%" PRIu64 " other=%" PRIu64 " health=",
	       total, threads, seed, res[RES_OK], res[RES_EPERM], res[RES_EINVAL],
	       res[RES_EFAULT], res[RES_ENOTTY], res[RES_EAGAIN],
	       res[RES_EBADF] + res[RES_OTHER]);
	if (healthy)
		printf("ok\n");
	else
		printf("FAIL(%s)\n", reason);
	fflush(stdout);
	return healthy && total >= g_total ? 0 : 1;
}
