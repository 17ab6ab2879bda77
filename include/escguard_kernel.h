/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Glue between escguard's Rust code and the parts of the kernel that the 6.12
 * `kernel` crate does not bind (misc device, inline time helpers). The C side
 * (module/helpers.c) is deliberately thin: it only registers kernel objects
 * and forwards callbacks to Rust; all decisions are made in Rust.
 *
 * Included by helpers.c (prototypes: Kbuild builds C with
 * -Werror=missing-prototypes) and run through bindgen for the Rust side, so
 * only plain fixed-width types and opaque pointers may appear here.
 */
#ifndef ESCGUARD_KERNEL_H
#define ESCGUARD_KERNEL_H

#include <linux/types.h>
#include "escguard_abi.h"

struct task_struct;
struct file;

/* What a task's root or cwd is, relative to the host and to its container.
 * Computed in C because it walks dentries; judged in Rust. */
#define ESCGUARD_FS_ON_HOST_SB 0x01      /* on the host root's superblock */
#define ESCGUARD_FS_UNDER_ORIGIN 0x02    /* at or below the container's root */
#define ESCGUARD_FS_MNT_HOST_ROOT 0x04   /* its mount shows the whole host root fs */
#define ESCGUARD_FS_DISCONNECTED 0x08    /* outside its own mount's tree (file handles) */
#define ESCGUARD_FS_HOST_MNT_NS 0x10     /* its mount is in the host mount namespace */

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
	__u64 cursor; /* ESCGUARD_READ_ACK: highest seq read() returned here */
	__u32 access; /* ESCGUARD_ACCESS_*: what open granted */
	__u32 ack;    /* ESCGUARD_READ_* */
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

/* ---- implemented in C (module/helpers.c), called from Rust ---- */

/* Facts about @file; never sleeps. */
void escguard_file_facts(struct file *file, struct escguard_file_facts *out);
/* @file's path within its filesystem (from the superblock root). */
void escguard_file_sbpath(struct file *file, char *buf, unsigned int len);
/* @file's path as the calling task names it (d_path). */
void escguard_file_path(struct file *file, char *buf, unsigned int len);
/* ESCGUARD_FS_* of @file's path against @ref (as a root or cwd is). */
__u32 escguard_file_classify(struct file *file, const struct escguard_fsref *ref);
/* Whether the calling task has a descriptor open on @file's object (same
 * mount and dentry) with at least @file's read/write access. */
int escguard_file_held(struct file *file);
/* Calls @cb(ctx, file) for each directory the calling task has open, in
 * descriptor order, each held by a reference of the helper's for the call,
 * until @cb returns non-zero; returns that value or 0. Never sleeps. */
int escguard_for_each_dir_fd(int (*cb)(void *ctx, struct file *file), void *ctx);
/* Whether the kernel is built with PREEMPT_RT (spinlocks sleep there). */
int escguard_kernel_preempt_rt(void);
/* Calls @cb(ctx, id) with the identity of @file's dentry and of each of its
 * ancestors up to the superblock root, nearest first, under RCU (so @cb
 * must not sleep), until @cb returns non-zero; returns that value or 0. */
int escguard_file_for_each_ancestor(struct file *file,
				    int (*cb)(void *ctx, const struct escguard_fsid *id), void *ctx);
/* pid, tgid, ppid, uid and comm of @t without taking task_lock (for hooks
 * called under some task's task_lock); no namespaces or fs. */
void escguard_task_info_light(struct task_struct *t, struct escguard_kinfo *out);
/* The calling task's identity (task_id, pid, tgid), namespaces, root and cwd
 * (no flags, ppid, uid or comm), without any lock: only current changes its
 * own nsproxy and fs pointers, and fs->seq orders root/cwd against chdir by
 * a thread sharing the fs_struct. The values equal escguard_task_info()'s. */
void escguard_current_facts(struct escguard_kinfo *out);

/* The identity of everything the calling task's escape verdict depends on:
 * addresses of its task_struct, nsproxy, user namespace (of its real
 * credentials), fs_struct, root and cwd dentries and mounts, and the
 * sequence of fs->seq (bumped by every chdir, chroot, pivot_root). Compared
 * by the verdict cache, never dereferenced. task 0: no key (exiting). */
struct escguard_open_key {
	__u64 task;
	__u64 nsproxy;
	__u64 user_ns;
	__u64 fs;
	__u64 root_dentry;
	__u64 root_mnt;
	__u64 pwd_dentry;
	__u64 pwd_mnt;
	__u32 pid;
	__u32 fs_seq;
};

/*
 * The open hook's fast path (helpers.c). Every open on the system runs it,
 * so it answers the two common cases in C, without a call into Rust or a
 * lock: a task with no container lineage, and a container task whose
 * verdict is cached and whose open no rule could match. The state it reads
 * is kept by Rust:
 * - the host filter: pids whose task has a table entry of host lineage
 *   (set and cleared with that entry, under the table lock); every other
 *   task -- container lineage, untracked -- is looked at;
 * - the verdict cache: per task (direct-mapped by task_struct address),
 *   the open key of its last clean verdict; filled and cleared only under
 *   the table lock;
 * - the file-access mask of the active policy (ESCGUARD_PF_READ/WRITE of
 *   any enabled file rule).
 * Allocated once (-EBUSY for a second), freed after the hooks are gone.
 */
int escguard_fast_alloc(void);
/* current's open key (task 0: none, it is exiting); read without a lock. */
void escguard_current_open_key(struct escguard_open_key *k);
void escguard_fast_free(void);
/* Sets or clears the "tracked host task" bit of @pid (under the table lock). */
void escguard_fast_set_host(__u32 pid, int host);
int escguard_fast_known_host(__u32 pid);
/* Sets or clears the "settled container lineage" bit of @pid: kept for every
 * task, tracked or not, by its own fork, exec and exit hooks. */
void escguard_fast_set_settled(__u32 pid, int settled);
int escguard_fast_settled(__u32 pid);
void escguard_fast_cache_fill(const struct escguard_open_key *k);
void escguard_fast_cache_clear(__u64 task);
void escguard_fast_set_file_access(__u32 mask);
__u32 escguard_fast_file_access(void);
/* Whether a write to a file on a filesystem of this magic may trip a
 * preset rule (proc, sysfs, cgroup v1): its path is then looked at. */
int escguard_magic_may_be_sensitive(__u64 magic);

/*
 * Register the misc device /dev/escguard (mode 0600). @ctx is handed back to
 * every escguard_rs_* callback; it must stay valid until
 * escguard_misc_deregister() has returned. Returns 0 or a negative errno.
 */
int escguard_misc_register(void *ctx);
void escguard_misc_deregister(void);

/* CLOCK_REALTIME in nanoseconds (ktime_get_real_ns() is inline). */
__u64 escguard_now_ns(void);

/* Whether the calling task has CAP_SYS_ADMIN in the initial user namespace. */
int escguard_capable_admin(void);
/* Whether the calling task's fsgid or supplementary groups include @gid
 * (a gid of the initial user namespace). */
int escguard_in_group(__u32 gid);

/* Module parameters (read-only after load; see MODULE_PARM_DESC). */
__u32 escguard_param_max_tasks(void);
__u32 escguard_param_ring_events(void);
__u32 escguard_param_events_gid(void); /* ESCGUARD_NO_GID: none */
__u32 escguard_param_locked(void);

/* Take (1 on success, 0 if the module is going away) or drop the module
 * reference that makes rmmod fail while escguard is locked. */
int escguard_module_lock(void);
void escguard_module_unlock(void);

/*
 * Register the hooks: kprobes on fork (wake_up_new_task), exec
 * (finalize_exec), exit (exit_files, in do_exit after PF_EXITING is set),
 * pid swap (exchange_tids), module unload (delete_module, native and ia32),
 * the probed syscalls and LSM hooks, and the open hook's ftrace callback on
 * security_file_open. Their handlers call escguard_rs_on_*(ctx, ...). Either
 * all are registered and every one goes through ftrace (so handlers run in
 * ordinary context, never int3/NMI context), or none is and a negative errno
 * is returned. @ctx must stay valid until escguard_probes_unregister().
 */
int escguard_probes_register(void *ctx);
/* Unregister all probes; on return no handler is running or will run. */
void escguard_probes_unregister(void);
/* Number of probes registered. */
__u32 escguard_probe_count(void);
/* Nanoseconds spent in handler @idx (0 fork, 1 exec, 2 exit, 3 tid swap,
 * 4 file open, 5 the other observation points). */
__u64 escguard_hook_ns(unsigned int idx);
/* Counters bumped on every hooked call, kept per CPU (ESCGUARD_PC_*). */
#define ESCGUARD_PC_HOOK_FORK 0
#define ESCGUARD_PC_HOOK_EXEC 1
#define ESCGUARD_PC_HOOK_EXIT 2
#define ESCGUARD_PC_HOOK_OPEN 3
#define ESCGUARD_PC_HOOK_SYSCALL 4
#define ESCGUARD_PC_OPEN_LOCKED 5 /* container opens examined past the cache */
#define ESCGUARD_PC_OPEN_JUDGED 6
#define ESCGUARD_PC_OPEN_CACHED 7
#define ESCGUARD_PC_COUNT 8
/* Adds one to per-CPU counter @idx; any context. */
void escguard_pcpu_inc(unsigned int idx);
/* The sum of per-CPU counter @idx over all CPUs. */
__u64 escguard_pcpu_sum(unsigned int idx);
/* Number of times a kprobe handler was skipped (kprobe recursion; the open
 * callback cannot nest). */
__u64 escguard_probes_missed(void);

/*
 * Copy the key information of @t into @out, classifying its root and cwd
 * against @ref (only if @ref has an origin root: the flags are 0 otherwise).
 * Never sleeps; callable from the probe handlers.
 */
void escguard_task_info(struct task_struct *t, const struct escguard_fsref *ref,
			struct escguard_kinfo *out);

/* Key information of the host baseline (pid 1). Process context only.
 * Returns 0 or -ESRCH. */
int escguard_baseline(struct escguard_kinfo *out);

/*
 * Call @cb(ctx, task) for every thread on the system, under RCU (so @cb must
 * not sleep). Process context only.
 */
void escguard_for_each_task(void (*cb)(void *ctx, struct task_struct *t), void *ctx);

/* Render @t's root and cwd as paths within their filesystems (from the
 * superblock root: where on that device they are) and, if @file is not NULL,
 * @file's path as the calling task sees it. Never sleeps. Each buffer gets a
 * NUL-terminated string, "" if unknown. */
void escguard_task_paths(struct task_struct *t, struct file *file,
			 char *root, char *cwd, char *exe, unsigned int len);

/* Whether @t is the calling task. */
int escguard_task_is_current(struct task_struct *t);

/* Whether @t has started exiting (PF_EXITING). */
int escguard_task_exiting(struct task_struct *t);

/* SIGKILL @t (its whole thread group) from kernel context. Never sleeps. */
void escguard_kill(struct task_struct *t);

/* Wake readers blocked in read() or poll() on /dev/escguard. Safe from any
 * context: the wake-up is deferred through irq_work. */
void escguard_wake_readers(void);

/* ---- implemented in Rust (module/guard.rs), called from C ---- */

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

/* Probe handlers: @parent forked @child (not yet running); @t committed to a
 * new program image loaded from @file; @t is exiting. */
void escguard_rs_on_fork(void *ctx, struct task_struct *parent, struct task_struct *child);
void escguard_rs_on_exec(void *ctx, struct task_struct *t, struct file *file);
void escguard_rs_on_exit(void *ctx, struct task_struct *t);
/* @left (an exec'ing thread) is about to swap pids with its group leader
 * @right. Called with tasklist_lock held for writing and IRQs off. */
void escguard_rs_on_tid_swap(void *ctx, struct task_struct *left, struct task_struct *right);
/* @t (current) entered delete_module(2) for module @name (NUL-terminated,
 * "" if unreadable). The call has not been carried out yet. Returns 0 or a
 * negative errno the call fails with. */
int escguard_rs_on_unload(void *ctx, struct task_struct *t, const char *name);

/*
 * Observation points. Each returns 0 to let the call go ahead, or a
 * negative errno that the probed call then returns without running (see
 * escguard_verdict() in helpers.c). All run in atomic context, in the
 * calling task (current), which is never a kernel thread.
 */
/* security_file_open(): @file is about to be opened by @t (current), a
 * possible container task the fast path could not answer for. */
int escguard_rs_on_open(void *ctx, struct task_struct *t, struct file *file);
/* bdev_open() from open(2) of a block device node; @held_by_fs: the
 * device backs a mounted filesystem. */
int escguard_rs_on_bdev_open(void *ctx, struct task_struct *t, struct file *file, int held_by_fs);
/* A superblock is about to be mounted (mount(2) or fsconfig CREATE). */
int escguard_rs_on_new_sb(void *ctx, struct task_struct *t, const struct escguard_sb_facts *sb);
/* mount(2) (@sys ESCGUARD_SYS_MOUNT: @source as given, @target as the task
 * names it, @fstype as given) or move_mount(2) (ESCGUARD_SYS_MOVE_MOUNT:
 * @source the moved mount's path, @fstype its filesystem's type). */
int escguard_rs_on_mount(void *ctx, struct task_struct *t, unsigned int sys,
			 const char *source, const char *target, const char *fstype);
/* @t asks for PTRACE_MODE_ATTACH access to @child; task_lock(@child) is held. */
int escguard_rs_on_ptrace(void *ctx, struct task_struct *t, struct task_struct *child);
/* @t is about to exec @file (security_bprm_check, once per binary handler
 * tried: a script and then its interpreter; the call can still fail).
 * @umh: @t was started by the kernel (its parent is a kernel thread: a
 * usermode helper, or init). */
int escguard_rs_on_bprm_check(void *ctx, struct task_struct *t, struct file *file, int umh);
/* @t (current) follows /proc/<pid>/root, cwd, exe, fd/N or map_files/... of
 * @target (@path: the link's path within procfs, e.g. "/1/root"). */
int escguard_rs_on_proc_link(void *ctx, struct task_struct *t, struct task_struct *target,
			     const char *path);
/* @t (current) sends signal @sig to @target (NULL: to every task it may
 * signal, kill(-1)). */
int escguard_rs_on_signal(void *ctx, struct task_struct *t, struct task_struct *target, int sig);
/* @t (current) opens @file, /proc/kcore or /dev/mem, /dev/kmem, /dev/port
 * (their open methods). */
int escguard_rs_on_kernel_memory(void *ctx, struct task_struct *t, struct file *file);
/* @t (current) opens /proc/<pid>/environ of @target. */
int escguard_rs_on_environ(void *ctx, struct task_struct *t, struct task_struct *target);
/* @t (current) is about to switch to the namespaces in @i (setns, unshare;
 * @i: its own facts with the new namespaces). Cannot refuse: the switch
 * is committed. */
void escguard_rs_on_ns_switch(void *ctx, struct task_struct *t, const struct escguard_kinfo *i);
/* @t connects to a unix stream socket bound at @path (host view). */
int escguard_rs_on_connect(void *ctx, struct task_struct *t, const char *path);
/* Entry of syscall @sys (ESCGUARD_SYS_*). @arg is the string argument the
 * event reports: init/finit_module's parameters, mount(2)'s and fsopen(2)'s
 * fs type, chroot(2)'s and pivot_root(2)'s new root; "" for the others. */
int escguard_rs_on_syscall(void *ctx, struct task_struct *t, unsigned int sys, const char *arg);

#endif /* ESCGUARD_KERNEL_H */
