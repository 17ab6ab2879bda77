/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Glue between escguard's Rust code and the parts of the kernel that the 6.12
 * `kernel` crate cannot reach: module parameters, the misc device, per-CPU
 * data, the hooks' ftrace_ops objects and trampolines, and one-line accessors for
 * the kernel's inline functions, locks and RCU. The C side
 * (module/helpers.c) decides nothing: every check is made in Rust.
 *
 * Included by helpers.c (prototypes: Kbuild builds C with
 * -Werror=missing-prototypes) and run through bindgen for the Rust side.
 */
#ifndef ESCGUARD_KERNEL_H
#define ESCGUARD_KERNEL_H

#include <linux/types.h>
#include "escguard_abi.h"

struct task_struct;
struct file;
struct fs_struct;
struct nsproxy;
struct path;
struct pt_regs;
struct sock;
struct super_block;
struct vfsmount;
struct inode;
struct pid;
struct linux_binprm;
struct ftrace_ops;

#ifdef __BINDGEN__
/* The kernel structures Rust reads that the kernel crate leaves opaque:
 * fs_struct (the open hook's fast path compares a task's root and cwd
 * without a call), files_struct and fdtable (a task's open descriptors),
 * tty_file_private (a terminal's file: which tty). And the ftrace
 * registration functions, local_clock() and tty_get_pgrp(), which it does
 * not declare. */
#include <linux/fdtable.h>
#include <linux/fs_struct.h>
#include <linux/ftrace.h>
#include <linux/sched/clock.h>
#include <linux/tty.h>
#endif

/* What a task's root or cwd is, relative to the host and to its container.
 * Computed by the dentry walk (module/sys/vfs.rs), judged by the verdict. */
#define ESCGUARD_FS_ON_HOST_SB 0x01      /* on the host root's superblock */
#define ESCGUARD_FS_UNDER_ORIGIN 0x02    /* at or below the container's root */
#define ESCGUARD_FS_MNT_HOST_ROOT 0x04   /* its mount shows the whole host root fs */
#define ESCGUARD_FS_DISCONNECTED 0x08    /* outside its own mount's tree (file handles) */
#define ESCGUARD_FS_HOST_MNT_NS 0x10     /* its mount is in the host mount namespace */
#define ESCGUARD_FS_TOO_DEEP 0x20        /* deeper than the walk climbs: refused */

/* Key information of one task, copied out under task_lock and fs->lock. */
struct escguard_kinfo {
	__u64 task_id; /* address of the task_struct: compared, never dereferenced */
	__u32 pid;
	__u32 tgid;
	__u32 ppid;
	__u32 uid;
	__u64 ns[ESCGUARD_NS_COUNT]; /* inode numbers, ESCGUARD_NS_* order; 0 = none */
	struct escguard_fsid root;
	struct escguard_fsid cwd;
	__u32 root_flags; /* ESCGUARD_FS_* */
	__u32 cwd_flags;
	__u32 has_fs;     /* 0 while the task is exiting (no fs_struct) */
	__u32 has_ns;     /* 0 while the task is exiting (no nsproxy) */
	__u32 kthread;    /* a kernel thread (never a container task) */
	__u32 pad;
	char comm[ESCGUARD_COMM_LEN];
};

/* Per-descriptor state of /dev/escguard: allocated by the C glue at open,
 * freed at release. File operations on one descriptor may run concurrently,
 * so the Rust side accesses every field atomically. */
struct escguard_file {
	__u64 cursor; /* highest seq read() returned here */
	__u32 access; /* ESCGUARD_ACCESS_*: what open granted */
	__u32 ack;    /* 1: this descriptor is the durable writer (ESCGUARD_READ_ACK) */
};

#define ESCGUARD_ACCESS_READ 0x1  /* version, status, events */
#define ESCGUARD_ACCESS_ADMIN 0x2 /* everything */

/* The references a root/cwd is classified against. */
struct escguard_fsref {
	struct escguard_fsid host_root;
	__u64 host_mnt_ns;
	struct escguard_fsid origin_root; /* dev 0: no origin (host lineage) */
};

/* What a file being opened is (escguard_file_facts()). */
struct escguard_file_facts {
	__u64 magic;       /* superblock magic (linux/magic.h) */
	__u64 dev;         /* superblock device, as st_dev */
	__u64 ino;
	__u64 mnt_ns;      /* inode number of its mount's namespace; 0: none */
	__u32 mode;        /* i_mode */
	__u32 fmode;       /* ESCGUARD_PF_READ | ESCGUARD_PF_WRITE */
	__u32 host_mnt_ns; /* its mount is in the host's mount namespace */
	__u32 init_userns; /* its superblock belongs to the initial user namespace */
};

/* A superblock about to be mounted (security_sb_kern_mount). */
struct escguard_sb_facts {
	__u64 magic;
	__u64 dev;         /* s_dev, as st_dev */
	__u32 bdev;        /* backed by a block device */
	__u32 reused;      /* already mounted elsewhere: found, not made */
	__u32 pad;
	__u64 pid_ns;      /* proc: inode number of the pid namespace it shows */
	char fstype[ESCGUARD_NAME_LEN * 2];
};

/* Per-CPU handler scratch (see helpers.c): valid while preemption is off. */
struct escguard_scratch {
	struct escguard_sb_facts sb;
	char a[ESCGUARD_PATH_LEN];
	char b[ESCGUARD_PATH_LEN];
};

/*
 * Hooked functions, by what Rust reads their arguments as.
 * ESCGUARD_AT_IA32 marks a 32-bit syscall wrapper, whose user registers
 * hold the arguments in the ia32 order.
 */
#define ESCGUARD_AT_FORK 1		/* wake_up_new_task(child) */
#define ESCGUARD_AT_EXEC 2		/* finalize_exec(bprm) */
#define ESCGUARD_AT_EXIT 3		/* exit_files(task) */
#define ESCGUARD_AT_TID_SWAP 4	/* exchange_tids(left, right) */
#define ESCGUARD_AT_NS_SWITCH 5	/* switch_task_namespaces(task, new) */
#define ESCGUARD_AT_BPRM_CHECK 6	/* security_bprm_check(bprm) */
#define ESCGUARD_AT_BDEV_OPEN 7	/* bdev_open(bdev, mode, holder, hops, file) */
#define ESCGUARD_AT_SB_KERN_MOUNT 8	/* security_sb_kern_mount(sb) */
#define ESCGUARD_AT_SB_MOUNT 9	/* security_sb_mount(dev, path, type, ...) */
#define ESCGUARD_AT_MOVE_MOUNT 10	/* security_move_mount(from, to) */
#define ESCGUARD_AT_PTRACE 11		/* security_ptrace_access_check(child, mode) */
#define ESCGUARD_AT_CONNECT 12	/* security_unix_stream_connect(sock, other, new) */
#define ESCGUARD_AT_PROC_LINK 13	/* proc_pid_get_link(dentry, inode, done) */
#define ESCGUARD_AT_ENVIRON 14	/* environ_open(inode, file) */
#define ESCGUARD_AT_KERNEL_MEMORY 15	/* open_kcore/open_port(inode, file) */
#define ESCGUARD_AT_SYSCALL 16	/* __x64_sys_*(user regs); arg: ESCGUARD_SYS_* */
#define ESCGUARD_AT_UNLOAD 17		/* delete_module(name, flags) */
#define ESCGUARD_AT_SIGNAL 18		/* arg: ESCGUARD_SIG_* */
#define ESCGUARD_AT_PORT_IO 19		/* ioperm(2), iopl(2) (user regs) */
#define ESCGUARD_AT_CGROUP_ATTACH 20	/* cgroup_attach_task(dst_cgrp, leader, threadgroup) */
#define ESCGUARD_AT_CGROUP_DEST 21	/* cgroup_attach_permissions(src, dst, sb, threadgroup, ns) */
#define ESCGUARD_AT_FILE_RECEIVE 22	/* security_file_receive(file) */
#define ESCGUARD_AT_SETOWN 23		/* __f_setown(filp, pid, type, force) */
#define ESCGUARD_AT_WANT_WRITE 24	/* mnt_want_write(mnt) */
#define ESCGUARD_AT_WANT_WRITE_FILE 25	/* mnt_want_write_file(file) */
#define ESCGUARD_AT_PRIVATE_MOUNT 26	/* clone_private_mount(path) */
#define ESCGUARD_AT_TTY_IOCTL 27	/* tty_ioctl(file, cmd, arg), tty_compat_ioctl(...) */
#define ESCGUARD_AT_INPUT_WRITE 28	/* evdev_write(file, buf, count, ppos) */
#define ESCGUARD_AT_SB_UMOUNT 29	/* security_sb_umount(mnt, flags) */
#define ESCGUARD_AT_VHANGUP 30	/* vhangup(2) (user regs: none) */
#define ESCGUARD_AT_IA32 0x100

/* Signal syscalls by where the target and signal are. */
#define ESCGUARD_SIG_KILL 1	/* (pid, sig): tkill, rt_sigqueueinfo */
#define ESCGUARD_SIG_KILL_GROUP 4 /* (pid, sig), pid < -1 a process group: kill */
#define ESCGUARD_SIG_TGKILL 2	/* (tgid, pid, sig): tgkill, rt_tgsigqueueinfo */
#define ESCGUARD_SIG_PIDFD 3	/* (pidfd, sig): pidfd_send_signal */
/* A call that changes another task's limits without a signal or ptrace's
 * access check (judged as signal_host): */
#define ESCGUARD_SIG_PRLIMIT 5	/* (pid, resource, new, old): prlimit64, new != NULL */

/* Counters kept per CPU (ESCGUARD_PC_*): calls of hooks, the open
 * path's outcomes, handler time by hook (ESCGUARD_TIME_*, nanoseconds;
 * the open hook's is sampled: one call in 16), skipped re-entries. */
#define ESCGUARD_PC_HOOK_FORK 0
#define ESCGUARD_PC_HOOK_EXEC 1
#define ESCGUARD_PC_HOOK_EXIT 2
#define ESCGUARD_PC_HOOK_OPEN 3
#define ESCGUARD_PC_HOOK_SYSCALL 4
#define ESCGUARD_PC_OPEN_LOCKED 5 /* container opens examined past the cache */
#define ESCGUARD_PC_OPEN_JUDGED 6
#define ESCGUARD_PC_OPEN_CACHED 7
#define ESCGUARD_PC_OPEN_TIMED 8
#define ESCGUARD_TIME_FORK 9
#define ESCGUARD_TIME_EXEC 10
#define ESCGUARD_TIME_EXIT 11
#define ESCGUARD_TIME_TID_SWAP 12
#define ESCGUARD_TIME_OPEN 13
#define ESCGUARD_TIME_OTHER 14
#define ESCGUARD_PC_HOOK_MISSED 15 /* a hook re-entered on its CPU: skipped */
#define ESCGUARD_PC_COUNT 16

/* ---- implemented in C (module/helpers.c), called from Rust ---- */

/* Module parameters (read-only after load; see MODULE_PARM_DESC). */
__u32 escguard_param_max_tasks(void);
__u32 escguard_param_ring_events(void);
int escguard_param_events_gid(void); /* < 0: none */
__u32 escguard_param_locked(void);


/* Register the misc device /dev/escguard with file mode @mode. @ctx is
 * handed back to every escguard_rs_* file operation; it must stay valid
 * until escguard_misc_deregister() has returned. */
int escguard_misc_register(void *ctx, __u16 mode);
void escguard_misc_deregister(void);
/* Wake readers blocked on /dev/escguard; any context (deferred by irq_work). */
void escguard_wake_readers(void);

/* A function to hook (the table is Rust's: module/sys/hooks.rs). */
struct escguard_hook_site {
	const char *sym;
	__u16 id;	/* ESCGUARD_AT_* (| ESCGUARD_AT_IA32) */
	__u16 arg;	/* ESCGUARD_SYS_* or ESCGUARD_SIG_* */
	__u8 time;	/* ESCGUARD_TIME_* */
	__u8 refusing;	/* may make the call fail (IPMODIFY) */
	__u8 optional;	/* in a driver that may be absent: skipped if so */
};

/*
 * The hooks' registration glue (the registration itself is Rust's,
 * module/sys/ftrace.rs). Two ftrace_ops carry the hooked functions, one
 * observing, one that may redirect (IPMODIFY); their callback calls
 * escguard_rs_hook(). The open hook is a direct call to the trampoline at
 * escguard_open_tramp_addr() (its ops: open_direct), or an ftrace callback
 * (open_ftrace); both call escguard_rs_open_hook().
 */
struct ftrace_ops *escguard_ops_observe(void);
struct ftrace_ops *escguard_ops_refuse(void);
struct ftrace_ops *escguard_ops_open_direct(void);
struct ftrace_ops *escguard_ops_open_ftrace(void);
unsigned long escguard_open_tramp_addr(void);
/* The open_hook module parameter's buffer: "direct" or "ftrace". */
#define ESCGUARD_OPEN_HOOK_LEN 8
char *escguard_param_open_hook(void);
/* Each of the @n @sites' address by name into @addrs (0: not found).
 * Process context; 0 or -ENOMEM. */
int escguard_hooks_resolve(const struct escguard_hook_site *sites, __u32 n, unsigned long *addrs);
/* Waits until no wake-up queued by escguard_wake_readers() is pending. */
void escguard_wake_sync(void);

/* This CPU's counters are bumped by Rust in place; the sum over CPUs. */
__u64 escguard_pcpu_sum(unsigned int idx);
/* This CPU's handler scratch; preemption must be off while it is used. */
struct escguard_scratch *escguard_scratch(void);

/* Accessors for inline functions and lock primitives. */
void escguard_rcu_read_lock(void);
void escguard_rcu_read_unlock(void);
void escguard_task_lock(struct task_struct *t);
void escguard_task_unlock(struct task_struct *t);
unsigned int escguard_fs_seq_begin(struct fs_struct *fs);
int escguard_fs_seq_retry(struct fs_struct *fs, unsigned int seq);
void escguard_rename_seq_begin(int *seq);
int escguard_rename_seq_retry(int seq);
void escguard_rename_seq_done(int seq);
void escguard_preempt_disable(void);
void escguard_preempt_enable(void);
/* Inode numbers of @nsp's namespaces into @ns (ESCGUARD_NS_* slots except
 * USER and PID); the caller pins @nsp. (kernel::bindings has these
 * namespace types opaque.) */
void escguard_nsproxy_inums(const struct nsproxy *nsp, __u64 *ns);
/* Whether the cgroup v2 group of id @id exists now (ids are never reused;
 * atomic context: cgroup_get_from_id() takes no sleeping lock). */
bool escguard_cgroup_live(__u64 id);
/* Inode number of @t's active pid namespace (0: none); under RCU. */
__u64 escguard_task_pid_ns_inum(struct task_struct *t);
/* Inode number of the pid namespace a procfs superblock shows. */
__u64 escguard_proc_sb_pid_ns_inum(struct super_block *sb);
struct file *escguard_bprm_file(const struct linux_binprm *bprm);
/* The number of the syscall current is in (its user registers' orig_ax). */
long escguard_current_syscall(void);
/* The path a unix socket is bound at (NULL: none); unix_state_lock held. */
const struct path *escguard_unix_path(struct sock *sk);
/* Calls @cb(ctx, task) for every thread, under RCU. Process context. */
void escguard_for_each_task(void (*cb)(void *ctx, struct task_struct *t), void *ctx);
/* Private VFS state: a mount's namespace (compared by address; NULL or an
 * error pointer for none) and id; a namespace's inode number; the pid a
 * procfs inode belongs to (NULL for none). */
const void *escguard_mnt_ns(struct vfsmount *mnt);
__u32 escguard_mnt_id(struct vfsmount *mnt);
__u64 escguard_mnt_ns_inum(const void *ns);
struct pid *escguard_proc_pid(struct inode *inode);
/* A mount namespace's mounts, for a reader that holds no namespace lock:
 * the top of its rbtree (0 and @top set, or -EFAULT), one node copied
 * (0 or -EFAULT), the mount a node is embedded in (address arithmetic
 * only), and a mount's root dentry, parent, MNT_* flags, mount point, peer
 * group id and its master's peer group id (0: none) (0 or
 * -EFAULT). Every read
 * is copy_from_kernel_nofault(): never faults, may see a node in flux. */
int escguard_mnt_ns_top_nofault(const void *ns, struct rb_node **top);
int escguard_rb_node_nofault(const struct rb_node *n, struct rb_node *out);
struct vfsmount *escguard_mnt_of_node(struct rb_node *n);
int escguard_mnt_nofault(struct vfsmount *mnt, struct dentry **root, struct vfsmount **parent, int *flags,
			 struct dentry **mountpoint, int *group, int *master_group);
/* kern_path(@name, LOOKUP_FOLLOW, @p): 0 and a held @p, or an errno.
 * Process context (load-time checks). */
int escguard_kern_path_follow(const char *name, struct path *p);

/* ---- implemented in Rust (module/sys/), called from C ---- */

/* File operations of /dev/escguard. @f is the descriptor's state, @t the
 * calling task (current). Open decides @f->access: 0 or a negative errno. */
int escguard_rs_open(void *ctx, struct escguard_file *f, struct task_struct *t, int write);
void escguard_rs_release(void *ctx, struct escguard_file *f);
long escguard_rs_ioctl(void *ctx, struct escguard_file *f, struct task_struct *t,
		       unsigned int cmd, unsigned long arg);
/* Copy up to @len bytes of whole event records to user @buf; -EAGAIN if none. */
long escguard_rs_read(void *ctx, struct escguard_file *f, struct task_struct *t,
		      unsigned long ubuf, unsigned long len);
int escguard_rs_readable(void *ctx, struct escguard_file *f);

/* A hook's entry at fentry address @ip (an address of the @refusing ops),
 * preemption off, the function's arguments in @regs. Returns 0, or (only
 * for a refusing hook) the negative errno its function then returns
 * without running. */
int escguard_rs_hook(unsigned long ip, int refusing, struct pt_regs *regs);
/* security_file_open(@file) by current; preemptible. Returns 0 or the
 * errno the open fails with. */
int escguard_rs_open_hook(struct file *file);

#endif /* ESCGUARD_KERNEL_H */
