// SPDX-License-Identifier: GPL-2.0
/*
 * egprobe: makes one security-relevant call that busybox cannot, for the
 * rules suite (tests/guest/rules.sh). Built static; installed in the guest
 * and in the test containers' image.
 *
 *   egprobe handle PATH        name_to_handle_at + open_by_handle_at ("Shocker")
 *   egprobe initmod            init_module(2) with a bogus image
 *   egprobe finitmod           finit_module(2) on /dev/null
 *   egprobe ptrace PID         PTRACE_ATTACH, then detach
 *   egprobe memwrite PID       open /proc/PID/mem for writing
 *   egprobe listen PATH        serve a unix stream socket until killed
 *   egprobe connect PATH       connect to a unix stream socket
 *   egprobe fsopen TYPE        fsopen + FSCONFIG_CMD_CREATE (new mount API)
 *   egprobe setns-open NSFILE FILE
 *                              open FILE 8 times (the open verdict is then
 *                              cached), setns(2) into NSFILE, open FILE
 *   egprobe unshare-open FILE  the same with unshare(CLONE_NEWNS)
 *   egprobe chdir-open DIR FILE [thread]
 *                              the same with chdir(DIR), done by a second
 *                              thread sharing the fs_struct if "thread",
 *                              then FILE is opened relative to the new cwd
 *   egprobe badpolicy          hostile policy/rule ioctls straight at the
 *                              device, bypassing escguardctl's checks; each
 *                              must fail with the expected errno and leave
 *                              the active policy as it was
 *
 * For the bypass suite (tests/guest/bypass.sh):
 *
 *   egprobe ioperm | iopl       ask for I/O port access (port 0x80; level 3)
 *   egprobe sigio HOW PID SIG  make the kernel send SIG to PID for us: a
 *                              pipe's read end owned by PID (HOW "own":
 *                              F_SETOWN; "ownex": F_SETOWN_EX F_OWNER_PID;
 *                              "pgrp": F_SETOWN of process group PID) with
 *                              F_SETSIG SIG and O_ASYNC, then a write to
 *                              the pipe (SIGIO is sent to the owner)
 *   egprobe act HOW PID        change PID without a signal, by HOW: prlimit
 *                              (RLIMIT_FSIZE to 0), nice (setpriority 19),
 *                              affinity (sched_setaffinity to CPU 0),
 *                              sched (sched_setscheduler SCHED_IDLE),
 *                              ioprio (ioprio_set idle class)
 *   egprobe cgexec DIR CMD     run sh -c CMD in a child born in the cgroup v2
 *                              group DIR (clone3 CLONE_INTO_CGROUP with an
 *                              O_PATH descriptor: no write-open); prints
 *                              "ok" and the child's status, or the error
 *   egprobe signal HOW PID SIG send SIG to PID by HOW: kill, tkill, tgkill,
 *                              sigqueue, tgsigqueue, pidfd (pidfd_open +
 *                              pidfd_send_signal) or procfd
 *                              (pidfd_send_signal on a /proc/PID fd)
 *   egprobe openat-fd FD PATH  openat(FD, PATH, O_RDONLY) on a directory
 *                              descriptor the process was handed, and copy
 *                              the file to stdout
 *   egprobe shocker PATH       open_by_handle_at(2) of the root directory of
 *                              the filesystem "/" is on (ext4 handle of
 *                              inode 2: outside the container's bind mount,
 *                              a dentry its mount does not reach), then
 *                              openat PATH there and copy it to stdout
 *   egprobe clone-fail-then-open FILE [nopayload]
 *                              open /proc/escguard_test_payload (unless
 *                              "nopayload"), open /etc/passwd 8 times (the
 *                              open verdict is then cached), make a clone
 *                              fail late in copy_process() (clone3 with
 *                              set_tid {1}: EEXIST, or EPERM without
 *                              CAP_CHECKPOINT_RESTORE, both from alloc_pid()
 *                              after the child's files were copied and are
 *                              torn down again), then write "1" to the
 *                              payload (init's creds, namespaces and root)
 *                              and open FILE: prints its first line
 *   egprobe deepcwd N FILE     mkdir+chdir N levels deep, open FILE, exec true
 *   egprobe memread PID        open /proc/PID/mem read-only (the ptrace
 *                              attach check), then pread 8 bytes at the
 *                              start of PID's first mapping
 *
 * For the red-team suite (tests/guest/redteam.sh):
 *
 *   egprobe truncate PATH LEN  truncate(2) PATH to LEN bytes: changes a
 *                              file's data without opening it
 *
 * For the second red-team suite (tests/guest/redteam2.sh):
 *
 *   egprobe setns-meta NS VICTIM
 *                              setns(2) into NS (a namespace file, or
 *                              "pid:N" for a pidfd of N: every namespace),
 *                              then truncate(2) VICTIM to 0 and chmod it
 *                              04755 (no open), setns back into the
 *                              caller's own mount namespace and report
 *   egprobe setns-tcp NS PORT  setns(2) into NS (as above), connect to
 *                              127.0.0.1:PORT and copy what it sends to
 *                              stdout (no open)
 *   egprobe uring-open PATH [NS]
 *                              (setns into NS first, if given) open PATH
 *                              with io_uring IORING_OP_OPENAT forced onto
 *                              an io-wq worker (IOSQE_ASYNC), then copy
 *                              it to stdout
 *
 * For the bypass suite's received-descriptor tests (tests/guest/bypass.sh):
 *
 *   egprobe sendfd SOCK PATH   listen on the unix socket SOCK, and hand each
 *                              client a descriptor of PATH (opened O_RDONLY)
 *                              over SCM_RIGHTS, until killed
 *   egprobe recvfd SOCK WHAT   connect to SOCK and receive a descriptor; if
 *                              none arrives print "no-fd" and exit 3; else
 *                              WHAT "read": copy it to stdout; "keep":
 *                              print "received"; any other WHAT:
 *                              mkdirat(fd, WHAT) (a directory made through
 *                              it, with no open) and report
 *
 * For the fifth red-team suite (tests/guest/redteam5.sh):
 *
 *   egprobe rdtrunc PATH       open(PATH, O_RDONLY|O_TRUNC): a read open that
 *                              empties the file; prints its size after
 *   egprobe sigpath PATH SIG   pidfd_send_signal(2) of SIG on the /proc/PID
 *                              directory at PATH (a host procfs under a
 *                              volume)
 *   egprobe inject PID CMD     PTRACE_ATTACH to PID (blocked in a syscall)
 *                              and make it execve /bin/sh -c CMD: code run
 *                              in PID's context (a host process's, if PID is
 *                              one)
 *
 * For the seventh red-team suite (tests/guest/redteam7.sh):
 *
 *   egprobe setattr-rw PATH [tree]
 *                              mount_setattr(2) clearing MOUNT_ATTR_RDONLY
 *                              on the mount at PATH (no remount, no
 *                              security hook); with "tree", on a detached
 *                              copy of it (open_tree OPEN_TREE_CLONE), then
 *                              create PATH/egsa-tree through the copy
 *   egprobe tty DEV inject STRING | hangup
 *                              act on the terminal at device node DEV:
 *                              push STRING (\n a newline) into its input
 *                              with TIOCSTI, as if typed; or hang it up
 *                              (TIOCVHANGUP: SIGHUP to its session)
 *   egprobe tty-own            the same on a pty of the caller's own, made
 *                              a new session's controlling terminal: push
 *                              a line, read it back, hang it up
 *
 * For the eighth red-team suite (tests/guest/zz-red8.sh):
 *
 *   egprobe vtpaste DEV TEXT [32]
 *                              show TEXT on line 1 of the virtual console
 *                              at device node DEV (the foreground one),
 *                              select that line and paste it into DEV's
 *                              input (TIOCLINUX SETSEL, PASTESEL); with
 *                              "32", the ioctls go through the 32-bit
 *                              (compat) syscall entry (int $0x80)
 *   egprobe evtype DEV TEXT    type TEXT (a-z 0-9 space / . - > ; \n) as
 *                              key presses written to the evdev device
 *                              node DEV (a host keyboard's event device)
 *
 * For the tenth red-team suite (tests/guest/redteam10.sh):
 *
 *   egprobe pty-type FILE DELAY TEXT
 *                              a host terminal (a pty pair) whose "user"
 *                              types TEXT after DELAY seconds (written to
 *                              the master, as keystrokes); writes the pty
 *                              number to FILE first, and after another
 *                              DELAY prints whether the terminal's echo is
 *                              still on ("host-echo=on|off")
 *   egprobe fsmount-at TYPE PATH
 *                              a new filesystem of TYPE by the new mount
 *                              API (fsopen, fsconfig, fsmount) holding a
 *                              file "job" (EVIL), attached at PATH with
 *                              move_mount(2)
 *
 * For the eleventh red-team suite (tests/guest/redteam11.sh):
 *
 *   egprobe fsmount-beneath TYPE PATH
 *                              as fsmount-at, but attached with
 *                              MOVE_MOUNT_BENEATH below the mount at PATH
 *   egprobe vhangup            vhangup(2) of the caller's controlling
 *                              terminal (SIGHUP ignored first)
 *   egprobe set-group FROM TO  move_mount(MOVE_MOUNT_SET_GROUP): mount TO
 *                              joins FROM's peer group
 *   egprobe mount-many DIR N   N tmpfs mounts at DIR/0 .. DIR/N-1 (a busy
 *                              node's many pod volumes)
 *
 * Run under the name "egpayload" (a copy or link of egprobe, e.g. as a
 * binfmt_misc interpreter planted by a container), it writes
 * /tmp/planted-ran and prints "egpayload ran": the planted program ran.
 *
 * Prints "ok" or "err ERRNO_NAME" and exits 0 or 1, so tests can tell a
 * call escguard refused (EPERM, or the task killed) from one the kernel
 * failed for its own reasons.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/io_uring.h>
#include <sys/wait.h>
#include <sys/user.h>
#include <pthread.h>
#include <sched.h>
#include <termios.h>
#include <unistd.h>

#include "escguard_abi.h"

#ifndef FSCONFIG_CMD_CREATE
#define FSCONFIG_CMD_CREATE 6
#endif
#ifndef MOVE_MOUNT_SET_GROUP
#define MOVE_MOUNT_SET_GROUP 0x100
#endif
#ifndef MOVE_MOUNT_BENEATH
#define MOVE_MOUNT_BENEATH 0x200
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

static int result(long rc)
{
	if (rc >= 0) {
		printf("ok\n");
		return 0;
	}
	printf("err %s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	return 1;
}

struct eg_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

/* mount_setattr(2) clearing read-only on PATH's mount, or on a detached copy. */
static int do_setattr_rw(const char *path, int tree)
{
	struct eg_mount_attr a = { .attr_clr = 0x1 /* MOUNT_ATTR_RDONLY */ };
	int fd = -1, flags = 0, dirfd = AT_FDCWD;
	const char *p = path;

	if (tree) {
		fd = syscall(428 /* open_tree */, AT_FDCWD, path, 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC);
		if (fd < 0)
			return result(-1);
		dirfd = fd;
		p = "";
		flags = AT_EMPTY_PATH;
	}
	if (syscall(442 /* mount_setattr */, dirfd, p, flags, &a, sizeof(a)) < 0)
		return result(-1);
	if (tree) {
		int f = openat(fd, "egsa-tree", O_WRONLY | O_CREAT, 0644);

		if (f < 0 || write(f, "tree\n", 5) != 5)
			return result(-1);
	}
	return result(0);
}

/* Opens @file 8 times: after the first, the open verdict is cached. */
static int warm(const char *file)
{
	for (int i = 0; i < 8; i++) {
		int fd = open(file, O_RDONLY);

		if (fd < 0) {
			printf("err warm-up %s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
			return -1;
		}
		close(fd);
	}
	return 0;
}

/* What the task sees after it changed: prints "ok" if the open worked. */
static int open_after(const char *file)
{
	fflush(stdout);
	return result(open(file, O_RDONLY));
}

static int do_setns_open(const char *nsfile, const char *file)
{
	int ns;

	if (warm(file))
		return 1;
	ns = open(nsfile, O_RDONLY);
	if (ns < 0 || setns(ns, 0) < 0)
		return result(-1);
	return open_after(file);
}

static int do_unshare_open(const char *file)
{
	if (warm(file))
		return 1;
	if (unshare(CLONE_NEWNS) < 0)
		return result(-1);
	return open_after(file);
}

static int go[2];

/* Waits for the main thread's warm-up, then changes the shared cwd. */
static void *chdir_thread(void *dir)
{
	char c;

	if (read(go[0], &c, 1) != 1)
		return (void *)-1L;
	return (void *)(long)chdir(dir);
}

static int do_act(const char *how, pid_t pid)
{
	struct rlimit64 { uint64_t cur, max; } lim = { 0, 0 };
	struct sched_param sp = { 0 };
	cpu_set_t set;

	if (!strcmp(how, "prlimit"))
		return result(syscall(SYS_prlimit64, pid, RLIMIT_FSIZE, &lim, NULL));
	if (!strcmp(how, "nice"))
		return result(setpriority(PRIO_PROCESS, pid, 19));
	if (!strcmp(how, "affinity")) {
		CPU_ZERO(&set);
		CPU_SET(0, &set);
		return result(sched_setaffinity(pid, sizeof(set), &set));
	}
	if (!strcmp(how, "sched"))
		return result(sched_setscheduler(pid, SCHED_IDLE, &sp));
	if (!strcmp(how, "ioprio"))
		return result(syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, pid, 3 << 13 /* IDLE */));
	errno = EINVAL;
	return result(-1);
}

static int do_chdir_open(const char *dir, const char *file, int thread)
{
	pthread_t t;
	void *rc;

	/* The thread exists before the warm-up: its creation (a fork hook
	 * on this task) is not what makes the next open miss the cache. */
	if (thread && (pipe(go) || pthread_create(&t, NULL, chdir_thread, (void *)dir)))
		return result(-1);
	if (warm(file))
		return 1;
	if (thread) {
		if (write(go[1], "x", 1) != 1 || pthread_join(t, &rc))
			return result(-1);
		if (rc)
			return result(-1);
	} else if (chdir(dir) < 0) {
		return result(-1);
	}
	return open_after(file);
}

static int do_handle(const char *path)
{
	struct {
		struct file_handle fh;
		unsigned char buf[128];
	} h;
	int mount_id, mfd;

	h.fh.handle_bytes = sizeof(h.buf);
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) < 0) {
		printf("name_to_handle_at: %s\n", strerror(errno));
		return 2;
	}
	mfd = open("/", O_RDONLY | O_DIRECTORY);
	if (mfd < 0)
		return 2;
	return result(open_by_handle_at(mfd, &h.fh, O_RDONLY));
}

static int do_listen(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	strncpy(a.sun_path, path, sizeof(a.sun_path) - 1);
	unlink(path);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 16) < 0)
		return result(-1);
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c >= 0) {
			/* MSG_NOSIGNAL: a client that already closed (or was
			 * killed) must not take the listener down with SIGPIPE. */
			(void)!send(c, "hello\n", 6, MSG_NOSIGNAL);
			close(c);
		}
	}
}

static int do_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	strncpy(a.sun_path, path, sizeof(a.sun_path) - 1);
	return result(s < 0 ? -1 : connect(s, (struct sockaddr *)&a, sizeof(a)));
}

static int copy_out(int fd);

static int do_sendfd(const char *sock, const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	strncpy(a.sun_path, sock, sizeof(a.sun_path) - 1);
	unlink(sock);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 16) < 0)
		return result(-1);
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int))];
		} u = { 0 };
		char byte = 'f';
		struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
		int c = accept(s, NULL, NULL), fd;

		if (c < 0)
			continue;
		fd = open(path, O_RDONLY);
		if (fd >= 0) {
			struct cmsghdr *h = CMSG_FIRSTHDR(&m);

			h->cmsg_level = SOL_SOCKET;
			h->cmsg_type = SCM_RIGHTS;
			h->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(h), &fd, sizeof(int));
			(void)!sendmsg(c, &m, MSG_NOSIGNAL);
			close(fd);
		}
		close(c);
	}
}

static int do_recvfd(const char *sock, const char *what)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u = { 0 };
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *h;
	int s = socket(AF_UNIX, SOCK_STREAM, 0), fd;

	strncpy(a.sun_path, sock, sizeof(a.sun_path) - 1);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 || recvmsg(s, &m, 0) < 0)
		return result(-1);
	h = CMSG_FIRSTHDR(&m);
	if (!h || h->cmsg_type != SCM_RIGHTS) {
		printf("no-fd%s\n", m.msg_flags & MSG_CTRUNC ? " (truncated)" : "");
		return 3;
	}
	memcpy(&fd, CMSG_DATA(h), sizeof(int));
	if (!strcmp(what, "read"))
		return copy_out(fd);
	if (!strcmp(what, "keep")) {
		printf("received\n");
		return 0;
	}
	return result(mkdirat(fd, what, 0755));
}

static int do_sigio(const char *how, pid_t pid, int sig)
{
	struct f_owner_ex ex = { .type = F_OWNER_PID, .pid = pid };
	int p[2];
	long rc;

	if (pipe(p) < 0 || fcntl(p[0], F_SETSIG, sig) < 0)
		return result(-1);
	if (!strcmp(how, "ownex"))
		rc = fcntl(p[0], F_SETOWN_EX, &ex);
	else
		rc = fcntl(p[0], F_SETOWN, !strcmp(how, "pgrp") ? -pid : pid);
	if (rc < 0 || fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK) < 0 || write(p[1], "x", 1) != 1)
		return result(-1);
	/* The signal is sent by the write; give the target a moment to go. */
	usleep(200000);
	return result(0);
}

static int do_ptrace(pid_t pid)
{
	long rc = ptrace(PTRACE_ATTACH, pid, NULL, NULL);

	if (rc == 0) {
		waitpid(pid, NULL, __WALL);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	}
	return result(rc);
}

static const char *errname(int e)
{
	return strerrorname_np(e) ? strerrorname_np(e) : "?";
}

/* Copies an open file to stdout; the content is printed as is, so a test
 * can look for the host marker's exact line. */
static int copy_out(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(1, buf, n) != n)
			return 1;
	if (n < 0)
		return result(-1);
	return 0;
}

/* A directory descriptor handed in by someone else (runc --preserve-fds). */
static int do_openat_fd(int dirfd, const char *path)
{
	int fd;

	fflush(stdout);
	fd = openat(dirfd, path, O_RDONLY);
	if (fd < 0)
		return result(-1);
	return copy_out(fd);
}

/* "Shocker": a file handle for the root directory of the filesystem "/" is
 * on. ext4 handles are FILEID_INO32_GEN (1): inode and generation, 0 for
 * "any". A container whose root is a bind mount of a directory of the
 * host's disk gets the disk's root: a dentry its mount does not reach. */
static int do_shocker(const char *path)
{
	struct {
		struct file_handle fh;
		uint32_t ino_gen[2];
	} h;
	int mfd, dfd, fd;

	memset(&h, 0, sizeof(h));
	h.fh.handle_bytes = sizeof(h.ino_gen);
	h.fh.handle_type = 1;
	h.ino_gen[0] = 2;
	mfd = open("/", O_RDONLY | O_DIRECTORY);
	if (mfd < 0)
		return result(-1);
	fflush(stdout);
	dfd = open_by_handle_at(mfd, &h.fh, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return result(-1);
	fd = openat(dfd, path, O_RDONLY);
	if (fd < 0)
		return result(-1);
	return copy_out(fd);
}

/* struct clone_args up to set_tid_size (CLONE_ARGS_SIZE_VER1, 80 bytes). */
struct eg_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size;
};

/* struct clone_args up to cgroup (CLONE_ARGS_SIZE_VER2, 88 bytes). */
struct eg_clone_args2 {
	struct eg_clone_args v1;
	uint64_t cgroup;
};

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

static int do_cgexec(const char *dir, const char *cmd)
{
	struct eg_clone_args2 a;
	int fd = open(dir, O_PATH | O_DIRECTORY), st;
	long rc;

	if (fd < 0)
		return result(-1);
	memset(&a, 0, sizeof(a));
	a.v1.flags = CLONE_INTO_CGROUP;
	a.v1.exit_signal = SIGCHLD;
	a.cgroup = fd;
	rc = syscall(SYS_clone3, &a, sizeof(a));
	if (rc == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (rc < 0)
		return result(-1);
	waitpid(rc, &st, 0);
	printf("ok child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}

/* A clone that fails after copy_process() has copied the child's files
 * (and so tears them down again: exit_files() on a task that never ran,
 * whose pid field is still its parent's). Prints how it failed. */
static void clone_fail(void)
{
	pid_t tid[1] = { 1 };
	struct eg_clone_args a;
	long rc;

	memset(&a, 0, sizeof(a));
	a.exit_signal = SIGCHLD;
	a.set_tid = (uintptr_t)tid;
	a.set_tid_size = 1;
	rc = syscall(SYS_clone3, &a, sizeof(a));
	if (rc < 0 && errno == ENOSYS) {
		/* No clone3: a new mount namespace without CAP_SYS_ADMIN fails
		 * in copy_namespaces(), also after copy_files(). */
		printf("clone3: err ENOSYS, falling back to clone(CLONE_NEWNS)\n");
		rc = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, NULL, NULL, 0);
	}
	if (rc == 0)
		_exit(0);
	if (rc > 0) {
		waitpid(rc, NULL, 0);
		printf("clone: unexpectedly succeeded\n");
		return;
	}
	printf("clone3: err %s\n", errname(errno));
}

static int do_clone_fail_then_open(const char *file, int payload)
{
	char line[256];
	ssize_t n;
	int p = -1, fd;

	/* Opened first: after the failed clone, the only hooked call is the
	 * open of FILE. */
	if (payload) {
		p = open("/proc/escguard_test_payload", O_WRONLY);
		if (p < 0) {
			printf("payload: err %s\n", errname(errno));
			return 1;
		}
	}
	if (warm("/etc/passwd"))
		return 1;
	clone_fail();
	if (payload) {
		if (write(p, "1", 1) != 1) {
			printf("payload: err %s\n", errname(errno));
			return 1;
		}
		printf("payload: ok\n");
	}
	fflush(stdout);
	fd = open(file, O_RDONLY);
	if (fd < 0)
		return result(-1);
	n = read(fd, line, sizeof(line) - 1);
	if (n < 0)
		return result(-1);
	line[n] = 0;
	line[strcspn(line, "\n")] = 0;
	printf("%s\n", line);
	return 0;
}

/* /proc/PID/mem opened read-only takes the same ptrace access check as an
 * attach; then one read where PID surely has memory: the start of its code
 * (field 26 of /proc/PID/stat, which needs no access to its memory). */
static int do_memread(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long start = 0;
	uint64_t v;
	int fd, i;
	FILE *st;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fflush(stdout);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return result(-1);
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	st = fopen(path, "r");
	if (!st || !fgets(buf, sizeof(buf), st) || !(p = strrchr(buf, ')'))) {
		printf("err stat\n");
		return 1;
	}
	/* Fields after the comm: 3 (state) is the first; 26 is startcode. */
	for (i = 3, p += 2; i < 26 && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || sscanf(p, "%lu", &start) != 1 || !start) {
		printf("err startcode\n");
		return 1;
	}
	if (pread(fd, &v, sizeof(v), (off_t)start) != (ssize_t)sizeof(v))
		return result(-1);
	printf("read 8 bytes at %#lx\n", start);
	return result(0);
}

/* mkdir and chdir N levels below the cwd (relative: no path is ever near
 * PATH_MAX), then open FILE and fork+exec /bin/true: the checks that
 * classify a cwd must walk that deep without calling it disconnected. */
static int do_deepcwd(int n, const char *file)
{
	int i, fd, st;
	pid_t c;

	for (i = 0; i < n; i++) {
		if ((mkdir("d", 0755) && errno != EEXIST) || chdir("d")) {
			printf("err depth %d: %s\n", i, strerror(errno));
			return 1;
		}
	}
	fd = open(file, O_RDONLY);
	if (fd < 0)
		return result(-1);
	close(fd);
	fflush(stdout);
	c = fork();
	if (c == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)) {
		printf("err exec\n");
		return 1;
	}
	printf("deep %d ok\n", n);
	return 0;
}

/* The program a container plants as a binfmt_misc interpreter: run by a
 * host exec, it would run as host root in the host's namespaces. */
static int do_payload(int argc, char **argv)
{
	FILE *f = fopen("/tmp/planted-ran", "w");

	if (f) {
		fprintf(f, "planted payload ran: uid %d, for %s\n", (int)getuid(), argc > 1 ? argv[1] : "?");
		fclose(f);
	}
	printf("egpayload ran\n");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Hostile policy ioctls: the module must validate everything itself. */

static struct escguard_policy_rule good_rule(const char *name, const char *pattern)
{
	struct escguard_policy_rule r;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", name);
	snprintf(r.pattern, sizeof(r.pattern), "%s", pattern);
	r.kind = ESCGUARD_PRULE_FILE;
	r.match = ESCGUARD_MATCH_EXACT;
	r.flags = ESCGUARD_PF_READ;
	r.enabled = 1;
	return r;
}

static int set_policy(int fd, struct escguard_policy_rule *rules, unsigned int n,
		      void (*tweak)(struct escguard_policy *))
{
	struct escguard_policy p;

	memset(&p, 0, sizeof(p));
	p.version = ESCGUARD_POLICY_VERSION;
	p.rule_count = n;
	p.rules = (unsigned long)rules;
	snprintf(p.name, sizeof(p.name), "egprobe");
	if (tweak)
		tweak(&p);
	return ioctl(fd, ESCGUARD_IOC_SET_POLICY, &p) < 0 ? errno : 0;
}

static void t_version(struct escguard_policy *p) { p->version = ESCGUARD_POLICY_VERSION + 1; }
static void t_count(struct escguard_policy *p) { p->rule_count = ESCGUARD_POLICY_RULES_MAX + 1; }
static void t_reserved(struct escguard_policy *p) { p->reserved[1] = 1; }
static void t_flags(struct escguard_policy *p) { p->flags = 1; }
static void t_loaded(struct escguard_policy *p) { p->loaded_ns = 1; }
static void t_socket_rel(struct escguard_policy *p) { p->socket_count = 1; strcpy(p->sockets[0], "run/x.sock"); }
static void t_socket_count(struct escguard_policy *p) { p->socket_count = ESCGUARD_POLICY_SOCKETS_MAX + 1; }
static void t_socket_slack(struct escguard_policy *p) { strcpy(p->sockets[3], "/run/hidden.sock"); }
static void t_name_unterminated(struct escguard_policy *p) { memset(p->name, 'a', sizeof(p->name)); }
static void t_null_rules(struct escguard_policy *p) { p->rules = 0; }

static int failures;

static void expect(const char *what, int got, int want)
{
	if (got == want) {
		printf("ok %s (%s)\n", what, got ? strerrorname_np(got) : "0");
	} else {
		printf("FAIL %s: got %s, want %s\n", what, got ? strerrorname_np(got) : "0",
		       want ? strerrorname_np(want) : "0");
		failures++;
	}
}

/* The policy the module holds, as a fingerprint of its first rule's name
 * and the rule count. */
static int held(int fd, char *name, size_t len)
{
	struct escguard_policy_rule rules[ESCGUARD_POLICY_RULES_MAX];
	struct escguard_policy p;

	memset(&p, 0, sizeof(p));
	p.rule_count = ESCGUARD_POLICY_RULES_MAX;
	p.rules = (unsigned long)rules;
	if (ioctl(fd, ESCGUARD_IOC_GET_POLICY, &p) < 0)
		return -1;
	snprintf(name, len, "%s", p.rule_count ? rules[0].name : "");
	return p.rule_count;
}

/*
 * Opens PATH with O_RDONLY|O_TRUNC (a read open that truncates), and
 * reports the size after.
 */
static int do_rdtrunc(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_TRUNC);

	if (fd < 0)
		return result(fd);
	if (fstat(fd, &st) == 0)
		printf("size-after %lld\n", (long long)st.st_size);
	return result(0);
}

/*
 * rt11/rt12: open FILE with FLAGS (O_WRONLY, maybe O_TRUNC), ftruncate it
 * first if FTRUNC, then pwrite TEXT at 0: the write a cached verdict must
 * not wave through.
 */
static int write_at0(const char *file, int flags, int ftrunc, const char *text)
{
	int fd = open(file, flags);

	if (fd < 0) {
		printf("open ");
		return result(-1);
	}
	if (ftrunc && ftruncate(fd, 0) < 0) {
		printf("ftruncate ");
		return result(-1);
	}
	if (pwrite(fd, text, strlen(text), 0) != (ssize_t)strlen(text)) {
		printf("write ");
		return result(-1);
	}
	close(fd);
	printf("wrote ");
	return result(0);
}

/*
 * rt11: chroot(DIR), warm the verdict cache with read opens of "/", look
 * FILE up (a dentry in the dcache: no mnt_want_write at open), then open
 * it O_WRONLY (no O_CREAT, no O_TRUNC) and pwrite TEXT at 0. HOW:
 * "plain", "trunc" (open with O_TRUNC), "ftrunc" (ftruncate(fd, 0) then
 * write), "nochroot" (same without the chroot: FILE is a path).
 */
static int do_chroot_write(const char *dir, const char *file, const char *text, const char *how)
{
	struct stat st;
	int fd, flags = O_WRONLY;

	if (!strcmp(how, "userns") && unshare(CLONE_NEWUSER) < 0) {
		printf("unshare ");
		return result(-1);
	}
	if (strcmp(how, "nochroot")) {
		if (chroot(dir) < 0 || chdir("/") < 0) {
			printf("chroot ");
			return result(-1);
		}
	}
	for (int i = 0; i < 8; i++) {
		fd = open("/", O_RDONLY);
		if (fd >= 0)
			close(fd);
		stat(file, &st);
	}
	if (!strcmp(how, "trunc"))
		flags |= O_TRUNC;
	return write_at0(file, flags, !strcmp(how, "ftrunc"), text);
}

/*
 * rt11: the kernel keyring of the caller's uid (@u), which is not
 * namespaced: a container's root shares the host root's. "key-add NAME
 * DATA", "key-read NAME", "key-update NAME DATA".
 */
static long eg_key_find(const char *name)
{
	return syscall(250 /* keyctl */, 10 /* KEYCTL_SEARCH */, -4 /* @u */, "user", name, 0);
}

static int do_key(const char *op, const char *name, const char *data)
{
	char buf[256];
	long id, n;

	if (!strcmp(op, "add")) {
		id = syscall(248 /* add_key */, "user", name, data, strlen(data), -4);
		if (id < 0)
			return result(-1);
		printf("key %ld ", id);
		return result(0);
	}
	id = eg_key_find(name);
	if (id >= 0 && getenv("EG_KEY_LINK")) {
		/* Not possessed: link @u into our session keyring (@u grants
		 * its owner uid LINK), then search from there. */
		if (syscall(250, 8 /* KEYCTL_LINK */, -4, -3 /* @s */) < 0) {
			printf("link ");
			return result(-1);
		}
		printf("linked-@u ");
		id = syscall(250, 10, -3, "user", name, 0);
	}
	if (id < 0) {
		printf("search ");
		return result(-1);
	}
	if (!strcmp(op, "update")) {
		if (syscall(250, 2 /* KEYCTL_UPDATE */, id, data, strlen(data)) < 0)
			return result(-1);
		printf("updated %ld ", id);
		return result(0);
	}
	n = syscall(250, 11 /* KEYCTL_READ */, id, buf, sizeof(buf) - 1);
	if (n < 0)
		return result(-1);
	buf[n < (long)sizeof(buf) ? n : (long)sizeof(buf) - 1] = 0;
	printf("key %ld data=%s ", id, buf);
	return result(0);
}

/*
 * rt11: the classic chroot escape in a container whose runtime chroot'ed
 * instead of pivoting (runc --no-pivot): chroot(ESCDIR), fchdir back,
 * ".." up to the host's root (left above the container's root), then,
 * opening nothing: stat(MARKER), connect(SOCK) and read its greeting.
 * With "open", finally open MARKER.
 */
static int do_nopivot_escape(const char *escdir, const char *marker, const char *sock, int do_open)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	char buf[64];
	int fd = open(".", O_RDONLY | O_DIRECTORY), s, n;

	if (fd < 0 || chroot(escdir) < 0 || fchdir(fd) < 0) {
		printf("setup ");
		return result(-1);
	}
	for (int i = 0; i < 64; i++)
		if (chdir("..") < 0)
			break;
	if (stat(marker, &st) == 0)
		printf("stat %s size=%lld ", marker, (long long)st.st_size);
	else
		printf("stat-failed ");
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	strncpy(a.sun_path, sock, sizeof(a.sun_path) - 1);
	if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0) {
		n = read(s, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		printf("connected got=%s", buf);
	} else {
		printf("connect-failed ");
	}
	fflush(stdout);
	if (do_open) {
		int f = open(marker, O_RDONLY);

		n = f >= 0 ? read(f, buf, sizeof(buf) - 1) : -1;
		buf[n > 0 ? n : 0] = 0;
		printf("opened %s", f >= 0 ? buf : "no");
	}
	return result(0);
}

/*
 * PTRACE_ATTACH to PID (stopped in a blocking syscall), point it
 * back at its syscall instruction with execve("/bin/sh", {"sh","-c",CMD})
 * and detach: PID runs CMD in its own context.
 */
static int do_inject(pid_t pid, const char *cmd)
{
	struct user_regs_struct r;
	unsigned long sp, s0, word;
	char buf[2048];
	size_t len, i;
	long ins;

	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0)
		return result(-1);
	waitpid(pid, NULL, __WALL);
	if (ptrace(PTRACE_GETREGS, pid, NULL, &r) < 0)
		return result(-1);
	errno = 0;
	ins = ptrace(PTRACE_PEEKTEXT, pid, (void *)(r.rip - 2), NULL);
	if (errno || (ins & 0xffff) != 0x050f) {
		printf("no syscall insn before rip (%lx)\n", ins & 0xffff);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
		return 1;
	}
	sp = (r.rsp - 8192) & ~0xfUL;
	s0 = sp + 64;
	memset(buf, 0, sizeof(buf));
	len = strlen(cmd);
	if (len > sizeof(buf) - 100)
		return 2;
	memcpy(buf + 64, "/bin/sh", 8);
	memcpy(buf + 72, "-c", 3);
	memcpy(buf + 75, cmd, len + 1);
	((unsigned long *)buf)[0] = s0;
	((unsigned long *)buf)[1] = s0 + 8;
	((unsigned long *)buf)[2] = s0 + 11;
	((unsigned long *)buf)[3] = 0;
	for (i = 0; i < 75 + len + 1; i += 8) {
		memcpy(&word, buf + i, 8);
		if (ptrace(PTRACE_POKEDATA, pid, (void *)(sp + i), (void *)word) < 0)
			return result(-1);
	}
	r.orig_rax = -1;
	r.rip -= 2;
	r.rax = SYS_execve;
	r.rdi = s0;
	r.rsi = sp;
	r.rdx = 0;
	if (ptrace(PTRACE_SETREGS, pid, NULL, &r) < 0)
		return result(-1);
	return result(ptrace(PTRACE_DETACH, pid, NULL, NULL));
}

static int do_badpolicy(void)
{
	struct escguard_policy_rule r[3];
	struct escguard_rule_switch sw;
	struct escguard_rule_list rl;
	struct escguard_policy gp;
	char name[64];
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *m;
	int fd = open("/dev/escguard", O_RDWR);

	if (fd < 0) {
		perror("/dev/escguard");
		return 2;
	}
	/* A valid policy first: every bad one below must leave it in place. */
	r[0] = good_rule("keep-me", "/etc/keep");
	expect("valid policy", set_policy(fd, r, 1, NULL), 0);

	expect("next version", set_policy(fd, r, 1, t_version), EINVAL);
	expect("too many rules", set_policy(fd, r, 1, t_count), EINVAL);
	expect("reserved set", set_policy(fd, r, 1, t_reserved), EINVAL);
	expect("flags set", set_policy(fd, r, 1, t_flags), EINVAL);
	expect("loaded_ns set", set_policy(fd, r, 1, t_loaded), EINVAL);
	expect("relative socket", set_policy(fd, r, 1, t_socket_rel), EINVAL);
	expect("too many sockets", set_policy(fd, r, 1, t_socket_count), EINVAL);
	expect("socket in unused slot", set_policy(fd, r, 1, t_socket_slack), EINVAL);
	expect("unterminated policy name", set_policy(fd, r, 1, t_name_unterminated), EINVAL);
	expect("NULL rules pointer", set_policy(fd, r, 1, t_null_rules), EFAULT);

	r[0] = good_rule("a", "/x");
	memset(r[0].name, 'n', sizeof(r[0].name));
	expect("unterminated rule name", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("a", "/x");
	r[0].name[3] = 'z'; /* after the NUL */
	expect("bytes after a name's NUL", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("bad name!", "/x");
	expect("name charset", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("core_pattern", "/x");
	expect("preset's name", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("dup", "/x");
	r[1] = good_rule("dup", "/y");
	expect("duplicate names", set_policy(fd, r, 2, NULL), EINVAL);
	r[0] = good_rule("rel", "etc/passwd");
	expect("relative path", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("dots", "/etc/../root");
	expect("dot-dot component", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("slash", "/etc/");
	expect("trailing slash", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("utf8", "/etc/\xff\xfe");
	expect("invalid UTF-8", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("kind", "/x");
	r[0].kind = 7;
	expect("unknown kind", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("match", "/x");
	r[0].match = 9;
	expect("unknown match", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("access", "/x");
	r[0].flags = 0;
	expect("file rule without access", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("mnt2", "/x");
	r[0].kind = ESCGUARD_PRULE_MOUNT;
	r[0].flags = ESCGUARD_PF_SOURCE | ESCGUARD_PF_TARGET;
	expect("mount rule with two fields", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("fst", "proc");
	r[0].kind = ESCGUARD_PRULE_MOUNT;
	r[0].flags = ESCGUARD_PF_FSTYPE;
	r[0].match = ESCGUARD_MATCH_PREFIX;
	expect("fstype prefix", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("en", "/x");
	r[0].enabled = 2;
	expect("enabled 2", set_policy(fd, r, 1, NULL), EINVAL);

	/* Scopes and actions (policy version 2). */
	r[0] = good_rule("act", "/x");
	r[0].action = 2;
	expect("unknown action", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("sk", "/x");
	r[0].scope_kind = 3;
	expect("unknown scope kind", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("sall", "/x");
	strcpy(r[0].scope, "/kubepods");
	expect("scope text with scope ALL", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("scg", "/x");
	r[0].scope_kind = ESCGUARD_SCOPE_CGROUP;
	strcpy(r[0].scope, "kubepods/x");
	expect("relative cgroup scope", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("scg2", "/x");
	r[0].scope_kind = ESCGUARD_SCOPE_CGROUP;
	strcpy(r[0].scope, "/a/../b");
	expect("cgroup scope with ..", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("sid", "/x");
	r[0].scope_kind = ESCGUARD_SCOPE_CONTAINER;
	strcpy(r[0].scope, "a/b");
	expect("container ID with a slash", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("sid2", "/x");
	r[0].scope_kind = ESCGUARD_SCOPE_CONTAINER;
	expect("empty container ID", set_policy(fd, r, 1, NULL), EINVAL);
	r[0] = good_rule("sid3", "/x");
	r[0].scope_kind = ESCGUARD_SCOPE_CONTAINER;
	strcpy(r[0].scope, "abc");
	r[0].scope[5] = 'z'; /* after the NUL */
	expect("bytes after a scope's NUL", set_policy(fd, r, 1, NULL), EINVAL);

	/* Rules running into an unmapped page: the copy faults part-way. */
	m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 2;
	mprotect(m + page, page, PROT_NONE);
	r[0] = good_rule("trunc", "/x");
	memcpy(m + page - sizeof(r[0]), &r[0], sizeof(r[0]));
	expect("rules truncated by unmapped page",
	       set_policy(fd, (struct escguard_policy_rule *)(m + page - sizeof(r[0])), 2, NULL), EFAULT);

	/* The other policy ioctls. */
	memset(&gp, 0, sizeof(gp));
	gp.rule_count = ESCGUARD_POLICY_RULES_MAX + 1;
	expect("GET_POLICY capacity too large", ioctl(fd, ESCGUARD_IOC_GET_POLICY, &gp) < 0 ? errno : 0, EINVAL);
	memset(&rl, 0, sizeof(rl));
	expect("RULES capacity 0", ioctl(fd, ESCGUARD_IOC_RULES, &rl) < 0 ? errno : 0, EINVAL);
	memset(&sw, 0, sizeof(sw));
	strcpy(sw.name, "no-such-rule");
	sw.enable = 1;
	expect("SET_RULE unknown name", ioctl(fd, ESCGUARD_IOC_SET_RULE, &sw) < 0 ? errno : 0, ENOENT);
	memset(sw.name, 'x', sizeof(sw.name));
	expect("SET_RULE unterminated name", ioctl(fd, ESCGUARD_IOC_SET_RULE, &sw) < 0 ? errno : 0, EINVAL);
	strcpy(sw.name, "core_pattern");
	sw.enable = 5;
	expect("SET_RULE enable 5", ioctl(fd, ESCGUARD_IOC_SET_RULE, &sw) < 0 ? errno : 0, EINVAL);
	expect("SET_POLICY NULL argument", ioctl(fd, ESCGUARD_IOC_SET_POLICY, NULL) < 0 ? errno : 0, EFAULT);

	expect("policy kept after all of it", held(fd, name, sizeof(name)) == 1 && !strcmp(name, "keep-me") ? 0 : EIO, 0);
	printf("%d failures\n", failures);
	return failures ? 1 : 0;
}

/* redteam2: NS is a namespace file or "pid:N" (a pidfd: all namespaces). */
static int ns_enter(const char *ns)
{
	int fd, flags = 0;

	if (!strncmp(ns, "pid:", 4)) {
		fd = syscall(SYS_pidfd_open, atoi(ns + 4), 0);
		flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP;
	} else {
		fd = open(ns, O_RDONLY);
	}
	if (fd < 0) {
		printf("ns open: %s\n", strerror(errno));
		return -1;
	}
	if (setns(fd, flags) < 0) {
		printf("setns: %s\n", strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static int do_setns_meta(const char *ns, const char *victim)
{
	int own = open("/proc/self/ns/mnt", O_RDONLY);
	int t, c, b;

	if (own < 0 || ns_enter(ns))
		return 1;
	t = truncate(victim, 0);
	c = chmod(victim, 04755);
	b = setns(own, CLONE_NEWNS);
	printf("truncate=%d chmod=%d back=%d\n", t, c, b);
	return t || c;
}

static int do_setns_tcp(const char *ns, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s;

	if (ns_enter(ns))
		return 1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return result(-1);
	copy_out(s);
	return 0;
}

static int do_uring_open(const char *path, const char *ns)
{
	struct io_uring_params p;
	struct io_uring_sqe *sqes, *sqe;
	struct io_uring_cqe *cqe;
	unsigned char *sq, *cq;
	unsigned *sq_tail, *sq_array, *cq_head;
	int ring, res;

	if (ns && ns_enter(ns))
		return 1;
	memset(&p, 0, sizeof(p));
	ring = syscall(SYS_io_uring_setup, 4, &p);
	if (ring < 0)
		return result(-1);
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return result(-1);
	sq_tail = (unsigned *)(sq + p.sq_off.tail);
	sq_array = (unsigned *)(sq + p.sq_off.array);
	cq_head = (unsigned *)(cq + p.cq_off.head);
	sqe = &sqes[0];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_OPENAT;
	sqe->fd = AT_FDCWD;
	sqe->addr = (unsigned long)path;
	sqe->open_flags = O_RDONLY;
	sqe->flags = IOSQE_ASYNC;
	sq_array[0] = 0;
	__atomic_store_n(sq_tail, 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return result(-1);
	cqe = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	res = cqe[*cq_head & (p.cq_entries - 1)].res;
	if (res < 0) {
		printf("uring openat: %s\n", strerror(-res));
		return 1;
	}
	copy_out(res);
	return 0;
}

/* Sends @sig to @pid by one of the kernel's signal paths. */
static int do_signal(const char *how, pid_t pid, int sig)
{
	siginfo_t si = { .si_signo = sig, .si_code = SI_QUEUE, .si_pid = getpid() };
	char path[64];
	long rc;
	int fd;

	fflush(stdout);
	if (!strcmp(how, "kill"))
		return result(kill(pid, sig));
	if (!strcmp(how, "tkill"))
		return result(syscall(SYS_tkill, pid, sig));
	if (!strcmp(how, "tgkill"))
		return result(syscall(SYS_tgkill, pid, pid, sig));
	if (!strcmp(how, "sigqueue"))
		return result(syscall(SYS_rt_sigqueueinfo, pid, sig, &si));
	if (!strcmp(how, "tgsigqueue"))
		return result(syscall(SYS_rt_tgsigqueueinfo, pid, pid, sig, &si));
	if (!strcmp(how, "pidfd")) {
		fd = syscall(SYS_pidfd_open, pid, 0);
	} else if (!strcmp(how, "procfd")) {
		snprintf(path, sizeof(path), "/proc/%d", pid);
		fd = open(path, O_RDONLY | O_DIRECTORY);
	} else {
		fprintf(stderr, "egprobe signal: unknown way %s\n", how);
		return 2;
	}
	if (fd < 0)
		return result(-1);
	rc = syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
	close(fd);
	return result(rc);
}

/* egprobe tty DEV HOW [STRING]: act on a terminal through a device node:
 * "inject" pushes STRING (\n for a newline) into its input queue with
 * TIOCSTI, as if typed at it; "hangup" hangs it up (TIOCVHANGUP: SIGHUP to
 * its session). Red-team suite 7. */
static int do_tty(const char *dev, const char *how, const char *str)
{
	int fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return result(fd);
	if (!strcmp(how, "hangup"))
		return result(ioctl(fd, TIOCVHANGUP));
	for (const char *c = str ? str : ""; *c; c++) {
		char ch = *c;

		if (c[0] == '\\' && c[1] == 'n') {
			ch = '\n';
			c++;
		}
		if (ioctl(fd, TIOCSTI, &ch) < 0)
			return result(-1);
	}
	return result(0);
}

/* egprobe tty-take DEV STRING: in a new session, open the terminal DEV
 * without O_NOCTTY (a terminal no session holds becomes the caller's
 * controlling terminal: an ordinary open, no steal), then push STRING into
 * its input queue with TIOCSTI (\n for a newline). Red-team suite 9. */
static int do_tty_take(const char *dev, const char *str)
{
	pid_t pid = fork();
	int st = 0;

	if (pid < 0)
		return result(-1);
	if (pid == 0) {
		int fd;

		if (setsid() < 0)
			_exit(result(-1));
		fd = open(dev, O_RDWR | O_NONBLOCK);
		if (fd < 0)
			_exit(result(fd));
		printf("ctty pgrp %d self %d\n", (int)tcgetpgrp(fd), (int)getpid());
		fflush(stdout);
		for (const char *c = str; *c; c++) {
			char ch = *c;

			if (c[0] == '\\' && c[1] == 'n') {
				ch = '\n';
				c++;
			}
			if (ioctl(fd, TIOCSTI, &ch) < 0)
				_exit(result(-1));
		}
		result(0);
		fflush(stdout);
		/* The reader runs the line before this session ends (a VT's
		 * session leader's exit hangs the terminal up). */
		sleep(2);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* egprobe tty-own: a terminal of the caller's own (a pty of its devpts,
 * made the controlling terminal of a new session), with input pushed into
 * it by TIOCSTI, read back, and hung up: prints "ok" if the line came back. */
static int do_tty_own(void)
{
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY), st = 0;
	char name[64], buf[8] = "";
	pid_t c;

	if (m < 0 || grantpt(m) || unlockpt(m) || ptsname_r(m, name, sizeof(name)))
		return result(-1);
	c = fork();
	if (c == 0) {
		int s;
		const char *in = "x\n";

		setsid();
		s = open(name, O_RDWR);
		if (s < 0 || ioctl(s, TIOCSCTTY, 0))
			_exit(2);
		for (; *in; in++)
			if (ioctl(s, TIOCSTI, in))
				_exit(3);
		if (read(s, buf, sizeof(buf) - 1) < 1 || buf[0] != 'x')
			_exit(4);
		signal(SIGHUP, SIG_IGN);
		/* Without CAP_SYS_ADMIN the kernel refuses the hangup itself. */
		_exit(ioctl(s, TIOCVHANGUP) && errno != EPERM ? 5 : 0);
	}
	if (c < 0 || waitpid(c, &st, 0) < 0)
		return result(-1);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		printf("err child status %d\n", st);
		return 1;
	}
	return result(0);
}


/* ioctl(2) through the 32-bit syscall entry (compat_sys_ioctl): from a
 * 64-bit process, int $0x80 takes the ia32 path. */
static long ioctl32(int fd, unsigned int cmd, uint32_t arg)
{
	long r;

	asm volatile("int $0x80"
		     : "=a"(r)
		     : "a"(54 /* __NR_ia32_ioctl */), "b"(fd), "c"(cmd), "d"(arg)
		     : "memory", "r8", "r9", "r10", "r11");
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

/* egprobe vtpaste DEV TEXT [32]: red-team suite 8. */
static int do_vtpaste(const char *dev, const char *text, int compat)
{
	/* Below 4 GiB, for the 32-bit entry's pointers. */
	unsigned char *b = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	int fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK);
	uint16_t sel[5] = { 1, 1, 1, 1, 2 /* TIOCL_SELLINE */ };
	long rc;

	if (fd < 0 || b == MAP_FAILED)
		return result(-1);
	/* Clear the screen, cursor home, the text on line 1. */
	if (write(fd, "\033[H\033[2J", 7) < 0 || write(fd, text, strlen(text)) < 0 ||
	    write(fd, "\r\n", 2) < 0)
		return result(-1);
	usleep(100000);
	b[0] = 2; /* TIOCL_SETSEL */
	memcpy(b + 1, sel, sizeof(sel));
	rc = compat ? ioctl32(fd, TIOCLINUX, (uint32_t)(uintptr_t)b) : ioctl(fd, TIOCLINUX, b);
	if (rc < 0) {
		printf("setsel: ");
		return result(-1);
	}
	b[0] = 3; /* TIOCL_PASTESEL */
	rc = compat ? ioctl32(fd, TIOCLINUX, (uint32_t)(uintptr_t)b) : ioctl(fd, TIOCLINUX, b);
	if (rc < 0)
		printf("pastesel: ");
	return result(rc);
}

/* egprobe evtype DEV TEXT: key presses written to an evdev node. */
static int do_evtype(const char *dev, const char *text)
{
	static const char *rows[] = { "1234567890-", "qwertyuiop", "asdfghjkl;", "zxcvbnm,./" };
	static const int first[] = { 2, 16, 30, 44 };
	int fd = open(dev, O_WRONLY);

	if (fd < 0)
		return result(-1);
	for (const char *c = text; *c; c++) {
		int code = -1, shift = 0;
		char ch = *c;

		if (c[0] == '\\' && c[1] == 'n') {
			ch = '\n';
			c++;
		}
		if (ch == '\n')
			code = 28;
		else if (ch == ' ')
			code = 57;
		else if (ch == '>') {
			code = 52;
			shift = 1;
		}
		for (int r = 0; r < 4 && code < 0; r++) {
			const char *p = strchr(rows[r], ch);

			if (p)
				code = first[r] + (int)(p - rows[r]);
		}
		if (code < 0)
			continue;
		struct { struct timeval t; uint16_t type, code; int32_t value; } ev[8];
		int n = 0;

		memset(ev, 0, sizeof(ev));
		if (shift) {
			ev[n].type = 1, ev[n].code = 42, ev[n++].value = 1;
			ev[n++].type = 0;
		}
		ev[n].type = 1, ev[n].code = (uint16_t)code, ev[n++].value = 1;
		ev[n++].type = 0;
		ev[n].type = 1, ev[n].code = (uint16_t)code, ev[n++].value = 0;
		ev[n++].type = 0;
		if (shift) {
			ev[n].type = 1, ev[n].code = 42, ev[n++].value = 0;
			ev[n++].type = 0;
		}
		if (write(fd, ev, n * sizeof(ev[0])) != (ssize_t)(n * sizeof(ev[0])))
			return result(-1);
		usleep(5000);
	}
	return result(0);
}

/*
 * rt12: chdir(CWD), then chroot(DIR) without a chdir: the root is DIR (on
 * whatever mount the path DIR crossed), the cwd stays at CWD. Warm the
 * verdict cache with read opens of "." and FILE (cwd-relative), then open
 * FILE O_WRONLY (no O_CREAT/O_TRUNC) and pwrite TEXT at 0.
 */
static int do_chroot_cwd(const char *dir, const char *cwd, const char *file, const char *text)
{
	int fd;

	if (chdir(cwd) < 0) {
		printf("chdir ");
		return result(-1);
	}
	printf("cwd-ok ");
	fflush(stdout);
	if (chroot(dir) < 0) {
		printf("chroot ");
		return result(-1);
	}
	printf("chroot-ok ");
	fflush(stdout);
	for (int i = 0; i < 8; i++) {
		fd = open(".", O_RDONLY);
		if (fd >= 0)
			close(fd);
		fd = open(file, O_RDONLY);
		if (fd >= 0)
			close(fd);
		if (i == 0) {
			printf("read%s ", fd >= 0 ? "-ok" : "-fail");
			fflush(stdout);
		}
	}
	printf("warm-ok ");
	fflush(stdout);
	return write_at0(file, O_WRONLY, 0, text);
}

/*
 * rt12: a host program holding a pseudo-terminal: opens /dev/ptmx, writes
 * the slave's number to OUTFILE, then copies whatever the slave side
 * receives (the master reads it) to stdout for SECS seconds.
 */
static int do_pty_listen(const char *outfile, int secs)
{
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY), n = 0;
	FILE *f;
	char buf[256];

	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
		return result(-1);
	if (ioctl(m, TIOCGPTN, &n) < 0)
		return result(-1);
	f = fopen(outfile, "w");
	if (!f)
		return result(-1);
	fprintf(f, "%d\n", n);
	fclose(f);
	fcntl(m, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < secs * 10; i++) {
		ssize_t r = read(m, buf, sizeof(buf) - 1);

		if (r > 0) {
			buf[r] = 0;
			printf("pty-got: %s\n", buf);
			fflush(stdout);
		}
		usleep(100000);
	}
	return 0;
}

static int do_pty_type(const char *outfile, int delay, const char *text)
{
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY), n = 0;
	struct termios t;
	FILE *f;

	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ioctl(m, TIOCGPTN, &n) < 0)
		return result(-1);
	f = fopen(outfile, "w");
	if (!f)
		return result(-1);
	fprintf(f, "%d\n", n);
	fclose(f);
	sleep(delay);
	if (write(m, text, strlen(text)) < 0 || write(m, "\n", 1) < 0)
		return result(-1);
	printf("typed\n");
	fflush(stdout);
	sleep(delay);
	if (tcgetattr(m, &t) == 0)
		printf("host-echo=%s\n", (t.c_lflag & ECHO) ? "on" : "off");
	return 0;
}

static int do_fsmount_at(const char *type, const char *path, unsigned int extra)
{
	int fs = syscall(SYS_fsopen, type, 0), mnt, f;

	if (fs < 0 || syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return result(-1);
	mnt = syscall(SYS_fsmount, fs, 0, 0);
	if (mnt < 0)
		return result(-1);
	f = openat(mnt, "job", O_WRONLY | O_CREAT, 0644);
	if (f < 0 || write(f, "EVIL\n", 5) != 5)
		return result(-1);
	close(f);
	return result(syscall(SYS_move_mount, mnt, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH | extra));
}

static int do_mount_many(const char *dir, int n)
{
	char p[256];

	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%d", dir, i);
		mkdir(p, 0755);
		if (syscall(SYS_mount, "many", p, "tmpfs", 0, "size=64k") < 0)
			return result(-1);
	}
	return result(0);
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	char path[64];

	if (!strcmp(base ? base + 1 : argv[0], "egpayload"))
		return do_payload(argc, argv);
	if (argc < 2) {
		fprintf(stderr, "usage: egprobe act|cgexec|signal|handle|initmod|finitmod|ptrace|memwrite|memread|listen|connect|fsopen|setns-open|unshare-open|chdir-open|openat-fd|shocker|clone-fail-then-open ARG...\n");
		return 2;
	}
	if (!strcmp(argv[1], "sigpath") && argc == 4) {
		/* pidfd_send_signal on the /proc/PID directory at PATH */
		int pfd = open(argv[2], O_RDONLY | O_DIRECTORY);

		if (pfd < 0)
			return result(pfd);
		return result(syscall(SYS_pidfd_send_signal, pfd, atoi(argv[3]), NULL, 0));
	}
	if (!strcmp(argv[1], "vtpaste") && (argc == 4 || argc == 5))
		return do_vtpaste(argv[2], argv[3], argc == 5 && !strcmp(argv[4], "32"));
	if (!strcmp(argv[1], "evtype") && argc == 4)
		return do_evtype(argv[2], argv[3]);
	if (!strcmp(argv[1], "tty-take") && argc == 4)
		return do_tty_take(argv[2], argv[3]);
	if (!strcmp(argv[1], "tty-own") && argc == 2)
		return do_tty_own();
	if (!strcmp(argv[1], "tty") && (argc == 4 || argc == 5))
		return do_tty(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	if (!strcmp(argv[1], "chroot-cwd") && argc == 6)
		return do_chroot_cwd(argv[2], argv[3], argv[4], argv[5]);
	if (!strcmp(argv[1], "pty-listen") && argc == 4)
		return do_pty_listen(argv[2], atoi(argv[3]));
	if (!strcmp(argv[1], "chroot-write") && (argc == 5 || argc == 6))
		return do_chroot_write(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : "plain");
	if (!strcmp(argv[1], "key-add") && argc == 4)
		return do_key("add", argv[2], argv[3]);
	if (!strcmp(argv[1], "key-read") && argc == 3)
		return do_key("read", argv[2], "");
	if (!strcmp(argv[1], "key-update") && argc == 4)
		return do_key("update", argv[2], argv[3]);
	if (!strcmp(argv[1], "nopivot-escape") && (argc == 5 || argc == 6))
		return do_nopivot_escape(argv[2], argv[3], argv[4], argc == 6);
	if (!strcmp(argv[1], "setattr-rw") && (argc == 3 || argc == 4))
		return do_setattr_rw(argv[2], argc == 4 && !strcmp(argv[3], "tree"));
	if (!strcmp(argv[1], "rdtrunc") && argc == 3)
		return do_rdtrunc(argv[2]);
	if (!strcmp(argv[1], "inject") && argc == 4)
		return do_inject(atoi(argv[2]), argv[3]);
	if (!strcmp(argv[1], "sigio") && argc == 5)
		return do_sigio(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(argv[1], "sendfd") && argc == 4)
		return do_sendfd(argv[2], argv[3]);
	if (!strcmp(argv[1], "recvfd") && argc == 4)
		return do_recvfd(argv[2], argv[3]);
	if (!strcmp(argv[1], "ioperm"))
		return result(syscall(SYS_ioperm, 0x80UL, 1UL, 1));
	if (!strcmp(argv[1], "iopl"))
		return result(syscall(SYS_iopl, 3));
	if (!strcmp(argv[1], "act") && argc == 4)
		return do_act(argv[2], atoi(argv[3]));
	if (!strcmp(argv[1], "cgexec") && argc == 4)
		return do_cgexec(argv[2], argv[3]);
	if (!strcmp(argv[1], "signal") && argc == 5)
		return do_signal(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(argv[1], "setns-meta") && argc == 4)
		return do_setns_meta(argv[2], argv[3]);
	if (!strcmp(argv[1], "setns-tcp") && argc == 4)
		return do_setns_tcp(argv[2], atoi(argv[3]));
	if (!strcmp(argv[1], "uring-open") && (argc == 3 || argc == 4))
		return do_uring_open(argv[2], argc == 4 ? argv[3] : NULL);
	if (!strcmp(argv[1], "truncate") && argc == 4)
		return result(truncate(argv[2], atoll(argv[3])));
	if (!strcmp(argv[1], "openat-fd") && argc == 4)
		return do_openat_fd(atoi(argv[2]), argv[3]);
	if (!strcmp(argv[1], "shocker") && argc == 3)
		return do_shocker(argv[2]);
	if (!strcmp(argv[1], "clone-fail-then-open") && (argc == 3 || argc == 4))
		return do_clone_fail_then_open(argv[2], !(argc == 4 && !strcmp(argv[3], "nopayload")));
	if (!strcmp(argv[1], "memread") && argc == 3)
		return do_memread(atoi(argv[2]));
	if (!strcmp(argv[1], "deepcwd") && argc == 4)
		return do_deepcwd(atoi(argv[2]), argv[3]);
	if (!strcmp(argv[1], "badpolicy"))
		return do_badpolicy();
	if (!strcmp(argv[1], "setns-open") && argc == 4)
		return do_setns_open(argv[2], argv[3]);
	if (!strcmp(argv[1], "unshare-open") && argc == 3)
		return do_unshare_open(argv[2]);
	if (!strcmp(argv[1], "chdir-open") && (argc == 4 || argc == 5))
		return do_chdir_open(argv[2], argv[3], argc == 5 && !strcmp(argv[4], "thread"));
	if (!strcmp(argv[1], "handle") && argc == 3)
		return do_handle(argv[2]);
	if (!strcmp(argv[1], "initmod")) {
		static const char junk[64] = "not an ELF module";

		return result(syscall(SYS_init_module, junk, sizeof(junk), ""));
	}
	if (!strcmp(argv[1], "finitmod")) {
		int fd = open("/dev/null", O_RDONLY);

		return result(syscall(SYS_finit_module, fd, "", 0));
	}
	if (!strcmp(argv[1], "ptrace") && argc == 3)
		return do_ptrace(atoi(argv[2]));
	if (!strcmp(argv[1], "memwrite") && argc == 3) {
		snprintf(path, sizeof(path), "/proc/%d/mem", atoi(argv[2]));
		return result(open(path, O_RDWR));
	}
	if (!strcmp(argv[1], "listen") && argc == 3)
		return do_listen(argv[2]);
	if (!strcmp(argv[1], "connect") && argc == 3)
		return do_connect(argv[2]);
	if (!strcmp(argv[1], "vhangup") && argc == 2) {
		/* vhangup(2): hang up the caller's controlling terminal (the act
		 * of TIOCVHANGUP, without tty_ioctl()); SIGHUP to its session. */
		signal(SIGHUP, SIG_IGN);
		return result(syscall(SYS_vhangup));
	}
	if (!strcmp(argv[1], "pty-type") && argc == 5)
		return do_pty_type(argv[2], atoi(argv[3]), argv[4]);
	if (!strcmp(argv[1], "fsmount-at") && argc == 4)
		return do_fsmount_at(argv[2], argv[3], 0);
	if (!strcmp(argv[1], "fsmount-beneath") && argc == 4)
		return do_fsmount_at(argv[2], argv[3], MOVE_MOUNT_BENEATH);
	if (!strcmp(argv[1], "mount-many") && argc == 4)
		return do_mount_many(argv[2], atoi(argv[3]));
	if (!strcmp(argv[1], "set-group") && argc == 4)
		return result(syscall(SYS_move_mount, AT_FDCWD, argv[2], AT_FDCWD, argv[3],
				      MOVE_MOUNT_SET_GROUP));
	if (!strcmp(argv[1], "fsopen") && argc == 3) {
		int fd = syscall(SYS_fsopen, argv[2], 0);

		if (fd < 0)
			return result(fd);
		return result(syscall(SYS_fsconfig, fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0));
	}
	fprintf(stderr, "egprobe: bad arguments\n");
	return 2;
}
