// SPDX-License-Identifier: GPL-2.0
/*
 * C glue for escguard: the kernel objects and private structures the 6.12
 * Rust `kernel` crate cannot name (misc device, kprobes, nsproxy, fs_struct,
 * struct mount). No policy lives here: callbacks forward to Rust, and the
 * helpers only copy out facts for Rust to judge.
 */
#include <linux/binfmts.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/ipc_namespace.h>
#include <linux/irq_work.h>
#include <linux/kprobes.h>
#include <linux/miscdevice.h>
#include <linux/mm_types.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/nsproxy.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/cgroup.h>
#include <linux/compat.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/time_namespace.h>
#include <linux/sched/clock.h>
#include <linux/timekeeping.h>
#include <linux/user_namespace.h>
#include <linux/utsname.h>
#include <linux/wait.h>
#include <net/net_namespace.h>

/* Private VFS header: struct mount, real_mount(), struct mnt_namespace. */
#include "fs/mount.h"

#include "escguard_abi.h"
#include "escguard_kernel.h"

/* ------------------------------------------------------------------ */
/* Module parameters: the resource caps and the trust settings. They are
 * read-only after load (0444): changing a cap under a live table or ring
 * would need locking the hooks cannot afford. Rust validates them at load. */

static unsigned int max_tasks = 131072;
module_param(max_tasks, uint, 0444);
MODULE_PARM_DESC(max_tasks, "Most tasks the table tracks (64..4194304); more are left untracked and counted");

static unsigned int ring_events = 1024;
module_param(ring_events, uint, 0444);
MODULE_PARM_DESC(ring_events, "Events the ring holds (16..16384, about 1.3 KiB each); more are dropped and counted");

static int events_gid = -1;
module_param(events_gid, int, 0444);
MODULE_PARM_DESC(events_gid, "Group that may read events and status (-1: none; the node is then 0640, chgrp it)");

static bool locked = true;
module_param(locked, bool, 0444);
MODULE_PARM_DESC(locked, "Start locked: rmmod fails until the host admin runs 'escguardctl unlock' (default Y)");

u32 escguard_param_max_tasks(void) { return max_tasks; }
u32 escguard_param_ring_events(void) { return ring_events; }
u32 escguard_param_events_gid(void) { return events_gid < 0 ? ESCGUARD_NO_GID : (u32)events_gid; }
u32 escguard_param_locked(void) { return locked; }

int escguard_module_lock(void)
{
	/* Fails only once module exit has begun. */
	return try_module_get(THIS_MODULE);
}

void escguard_module_unlock(void)
{
	module_put(THIS_MODULE);
}

/* ------------------------------------------------------------------ */
/* Readers of /dev/escguard                                           */

static DECLARE_WAIT_QUEUE_HEAD(escguard_readers);

static void escguard_wake_fn(struct irq_work *work)
{
	wake_up_interruptible_all(&escguard_readers);
}

/* Hooks may fire with scheduler state we must not recurse into, so the
 * wake-up is deferred, as the kernel's own BPF signal helper does. */
static struct irq_work escguard_wake_work = IRQ_WORK_INIT(escguard_wake_fn);

void escguard_wake_readers(void)
{
	irq_work_queue(&escguard_wake_work);
}

/* ------------------------------------------------------------------ */
/* Misc device                                                        */

/*
 * Set before misc_register() and cleared after misc_deregister(). Readers are
 * file operations, which hold a module reference (fops.owner), so they can
 * never run after module exit has started; no further locking is needed.
 */
static void *escguard_ctx;

static int escguard_fop_open(struct inode *inode, struct file *file)
{
	struct escguard_file *f;
	int ret;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	ret = escguard_rs_open(escguard_ctx, f, current, !!(file->f_mode & FMODE_WRITE));
	if (ret) {
		kfree(f);
		return ret;
	}
	file->private_data = f;
	return 0;
}

static int escguard_fop_release(struct inode *inode, struct file *file)
{
	escguard_rs_release(escguard_ctx, file->private_data);
	kfree(file->private_data);
	return 0;
}

static long escguard_fop_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	return escguard_rs_ioctl(escguard_ctx, file->private_data, current, cmd, arg);
}

static ssize_t escguard_fop_read(struct file *file, char __user *buf,
				 size_t len, loff_t *ppos)
{
	struct escguard_file *f = file->private_data;
	long ret;

	for (;;) {
		ret = escguard_rs_read(escguard_ctx, f, current, (unsigned long)buf, len);
		if (ret != -EAGAIN || (file->f_flags & O_NONBLOCK))
			return ret;
		if (wait_event_interruptible(escguard_readers,
					     escguard_rs_readable(escguard_ctx, f)))
			return -ERESTARTSYS;
	}
}

static __poll_t escguard_fop_poll(struct file *file, poll_table *pt)
{
	poll_wait(file, &escguard_readers, pt);
	return escguard_rs_readable(escguard_ctx, file->private_data) ? EPOLLIN | EPOLLRDNORM : 0;
}

static const struct file_operations escguard_fops = {
	.owner = THIS_MODULE,
	.open = escguard_fop_open,
	.release = escguard_fop_release,
	.read = escguard_fop_read,
	.poll = escguard_fop_poll,
	.unlocked_ioctl = escguard_fop_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice escguard_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = ESCGUARD_DEVICE_NAME,
	.fops = &escguard_fops,
	.mode = 0600,
};

int escguard_misc_register(void *ctx)
{
	int ret;

	escguard_ctx = ctx;
	/* A reader group needs group read access to the node. */
	escguard_misc.mode = events_gid < 0 ? 0600 : 0640;
	ret = misc_register(&escguard_misc);
	if (ret)
		escguard_ctx = NULL;
	return ret;
}

void escguard_misc_deregister(void)
{
	misc_deregister(&escguard_misc);
	irq_work_sync(&escguard_wake_work);
	escguard_ctx = NULL;
}

u64 escguard_now_ns(void)
{
	return ktime_get_real_ns();
}

int escguard_capable_admin(void)
{
	return capable(CAP_SYS_ADMIN);
}

int escguard_in_group(u32 gid)
{
	kgid_t k = make_kgid(&init_user_ns, gid);

	return gid_valid(k) && in_group_p(k);
}

/* ------------------------------------------------------------------ */
/* Probes                                                             */

/* Set before the probes are armed, cleared after they are disarmed. */
static void *escguard_probe_ctx;

/* Nanoseconds spent in each handler (fork, exec, exit, tid swap): the
 * benchmark's direct measure of escguard's cost. local_clock() is cheap and
 * CPU-local; handlers do not migrate (preemption is off). */
static atomic64_t escguard_hook_time[4];

#define ESCGUARD_TIMED(idx, call)						\
	do {								\
		u64 __t0 = local_clock();				\
		call;							\
		atomic64_add(local_clock() - __t0, &escguard_hook_time[idx]);	\
	} while (0)

static int escguard_fork_pre(struct kprobe *kp, struct pt_regs *regs)
{
	/* wake_up_new_task(struct task_struct *p): @p is complete, not yet run. */
	ESCGUARD_TIMED(0, escguard_rs_on_fork(escguard_probe_ctx, current,
			(struct task_struct *)regs_get_kernel_argument(regs, 0)));
	return 0;
}

static int escguard_exec_pre(struct kprobe *kp, struct pt_regs *regs)
{
	/* finalize_exec(struct linux_binprm *bprm): the new image is committed
	 * and start_thread() comes next, so a SIGKILL queued here lands before
	 * its first instruction. */
	struct linux_binprm *bprm = (struct linux_binprm *)regs_get_kernel_argument(regs, 0);

	ESCGUARD_TIMED(1, escguard_rs_on_exec(escguard_probe_ctx, current,
					      bprm ? bprm->file : NULL));
	return 0;
}

static int escguard_exit_pre(struct kprobe *kp, struct pt_regs *regs)
{
	/* exit_files(tsk): in do_exit() after exit_signals() has set
	 * PF_EXITING, so the load-time snapshot can tell (under the table
	 * lock) a task whose entry this hook already dropped; also called on
	 * a failed fork's never-woken child, which has no entry. */
	ESCGUARD_TIMED(2, escguard_rs_on_exit(escguard_probe_ctx,
			(struct task_struct *)regs_get_kernel_argument(regs, 0)));
	return 0;
}

int escguard_task_exiting(struct task_struct *t)
{
	return !!(READ_ONCE(t->flags) & PF_EXITING);
}

static struct kprobe escguard_kp_fork = {
	.symbol_name = "wake_up_new_task",
	.pre_handler = escguard_fork_pre,
};
static struct kprobe escguard_kp_exec = {
	.symbol_name = "finalize_exec",
	.pre_handler = escguard_exec_pre,
};
static struct kprobe escguard_kp_exit = {
	.symbol_name = "exit_files",
	.pre_handler = escguard_exit_pre,
};
static int escguard_tidswap_pre(struct kprobe *kp, struct pt_regs *regs)
{
	/* exchange_tids(left, right): a non-leader thread that execs takes the
	 * leader's pid (de_thread). Runs under write_lock_irq(&tasklist_lock):
	 * the Rust side only records the swap, lock-free. */
	ESCGUARD_TIMED(3, escguard_rs_on_tid_swap(escguard_probe_ctx,
			(struct task_struct *)regs_get_kernel_argument(regs, 0),
			(struct task_struct *)regs_get_kernel_argument(regs, 1)));
	return 0;
}

static struct kprobe escguard_kp_tidswap = {
	.symbol_name = "exchange_tids",
	.pre_handler = escguard_tidswap_pre,
};
/*
 * delete_module(2): a container task must not unload escguard. The syscall
 * wrappers take the user's saved registers; the name is read without
 * faulting (page faults are off in the handler). Not timed: it is rare.
 */
static void escguard_unload_common(const char __user *uname)
{
	char name[MODULE_NAME_LEN];
	int i;

	/* Byte by byte: strncpy_from_user_nofault() is not exported, and a
	 * whole-buffer copy would fail on a short name at a page's end. */
	for (i = 0; i < sizeof(name) - 1; i++) {
		if (copy_from_user_nofault(&name[i], uname + i, 1) || !name[i])
			break;
	}
	name[i] = '\0';
	escguard_rs_on_unload(escguard_probe_ctx, current, name);
}

static int escguard_unload_pre(struct kprobe *kp, struct pt_regs *regs)
{
	const struct pt_regs *u = (const struct pt_regs *)regs_get_kernel_argument(regs, 0);

	escguard_unload_common((const char __user *)u->di);
	return 0;
}

static struct kprobe escguard_kp_unload = {
	.symbol_name = "__x64_sys_delete_module",
	.pre_handler = escguard_unload_pre,
};

#ifdef CONFIG_IA32_EMULATION
static int escguard_unload32_pre(struct kprobe *kp, struct pt_regs *regs)
{
	const struct pt_regs *u = (const struct pt_regs *)regs_get_kernel_argument(regs, 0);

	escguard_unload_common(compat_ptr((u32)u->bx));
	return 0;
}

static struct kprobe escguard_kp_unload32 = {
	.symbol_name = "__ia32_sys_delete_module",
	.pre_handler = escguard_unload32_pre,
};
#endif

/*
 * Armed in this order, one after the other: exit first, so that every
 * entry a later-armed hook inserts has its removal hooked already (a child
 * forked while only the fork probe was armed could otherwise exit unseen and
 * leave a stale entry); the pid swap before exec, which applies the swaps.
 */
static struct kprobe *escguard_kps[] = {
	&escguard_kp_exit, &escguard_kp_tidswap, &escguard_kp_unload,
#ifdef CONFIG_IA32_EMULATION
	&escguard_kp_unload32,
#endif
	&escguard_kp_exec, &escguard_kp_fork,
};

u32 escguard_probe_count(void)
{
	return ARRAY_SIZE(escguard_kps);
}

int escguard_probes_register(void *ctx)
{
	int i, ret;

	escguard_probe_ctx = ctx;
	ret = register_kprobes(escguard_kps, ARRAY_SIZE(escguard_kps));
	if (ret) {
		/* register_kprobes() has already unregistered any it armed. */
		pr_err("escguard: cannot register kprobes: %d\n", ret);
		escguard_probe_ctx = NULL;
		return ret;
	}
	for (i = 0; i < ARRAY_SIZE(escguard_kps); i++) {
		if (!(escguard_kps[i]->flags & KPROBE_FLAG_FTRACE)) {
			/* An int3 probe would run our handler in NMI-like
			 * context, where it may not take locks or allocate. */
			pr_err("escguard: kprobe on %s is not ftrace-based (needs CONFIG_KPROBES_ON_FTRACE); refusing to load\n",
			       escguard_kps[i]->symbol_name);
			unregister_kprobes(escguard_kps, ARRAY_SIZE(escguard_kps));
			escguard_probe_ctx = NULL;
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

void escguard_probes_unregister(void)
{
	/* Waits for a grace period: no handler runs after this returns. */
	unregister_kprobes(escguard_kps, ARRAY_SIZE(escguard_kps));
	irq_work_sync(&escguard_wake_work);
	escguard_probe_ctx = NULL;
}

u64 escguard_hook_ns(unsigned int idx)
{
	return idx < ARRAY_SIZE(escguard_hook_time) ? atomic64_read(&escguard_hook_time[idx]) : 0;
}

u64 escguard_probes_missed(void)
{
	u64 n = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(escguard_kps); i++)
		n += READ_ONCE(escguard_kps[i]->nmissed);
	return n;
}

/* ------------------------------------------------------------------ */
/* Task key information                                               */

/* The host's mount namespace (pid 1's), compared by address only: it lives
 * as long as the system. Set once by escguard_baseline(). */
static struct mnt_namespace *escguard_host_mnt_ns;

static void escguard_fill_fsid(const struct path *p, struct escguard_fsid *id)
{
	struct inode *inode = d_inode(p->dentry);

	id->dev = new_encode_dev(p->dentry->d_sb->s_dev);
	id->ino = inode ? inode->i_ino : 0;
	id->mnt_id = real_mount(p->mnt)->mnt_id;
}

/*
 * Walk from @p's dentry up to its superblock root: is it below its mount's
 * root (connected), and does it pass the container's origin root? Dentries
 * are RCU-freed, so the walk is safe under rcu_read_lock(); rename_lock tells
 * whether a rename raced it. Bounded in depth and retries.
 */
static u32 escguard_walk(const struct path *p, const struct escguard_fsid *origin)
{
	unsigned int seq, depth;
	int tries;

	for (tries = 0; tries < 2; tries++) {
		struct dentry *d = p->dentry;
		bool connected = false, under = false;

		seq = read_seqbegin(&rename_lock);
		rcu_read_lock();
		for (depth = 0; depth < 4096; depth++) {
			struct dentry *parent;
			struct inode *inode = d_inode_rcu(d);

			if (d == p->mnt->mnt_root)
				connected = true;
			if (origin->dev && inode &&
			    new_encode_dev(d->d_sb->s_dev) == origin->dev &&
			    inode->i_ino == origin->ino)
				under = true;
			parent = READ_ONCE(d->d_parent);
			if (parent == d)
				break;
			d = parent;
		}
		rcu_read_unlock();
		if (!read_seqretry(&rename_lock, seq))
			return (connected ? 0 : ESCGUARD_FS_DISCONNECTED) |
			       (under ? ESCGUARD_FS_UNDER_ORIGIN : 0);
	}
	/* Renames kept racing: claim nothing the caller would act on. */
	return ESCGUARD_FS_WALK_RACED | ESCGUARD_FS_UNDER_ORIGIN;
}

static u32 escguard_classify(const struct path *p, const struct escguard_fsref *ref)
{
	struct inode *mroot = d_inode(p->mnt->mnt_root);
	u32 f = 0;

	if (new_encode_dev(p->dentry->d_sb->s_dev) == ref->host_root.dev) {
		f |= ESCGUARD_FS_ON_HOST_SB;
		if (mroot && mroot->i_ino == ref->host_root.ino)
			f |= ESCGUARD_FS_MNT_HOST_ROOT;
	}
	if (escguard_host_mnt_ns &&
	    READ_ONCE(real_mount(p->mnt)->mnt_ns) == escguard_host_mnt_ns)
		f |= ESCGUARD_FS_HOST_MNT_NS;
	return f | escguard_walk(p, &ref->origin_root);
}

void escguard_task_info(struct task_struct *t, const struct escguard_fsref *ref,
			struct escguard_kinfo *out)
{
	const struct cred *cred;
	struct pid_namespace *pidns;
	struct nsproxy *nsp;
	struct fs_struct *fs;

	memset(out, 0, sizeof(*out));
	out->task_id = (unsigned long)t;
	out->pid = t->pid;
	out->tgid = t->tgid;
	out->kthread = !!(t->flags & PF_KTHREAD);

	rcu_read_lock();
	out->ppid = task_tgid_nr(rcu_dereference(t->real_parent));
	cred = __task_cred(t);
	out->uid = from_kuid_munged(&init_user_ns, cred->uid);
	out->ns[ESCGUARD_NS_USER] = cred->user_ns->ns.inum;
	pidns = task_active_pid_ns(t);
	if (pidns)
		out->ns[ESCGUARD_NS_PID] = pidns->ns.inum;
	rcu_read_unlock();

	/* task_lock pins ->nsproxy and ->fs; fs->lock pins root and pwd. */
	task_lock(t);
	memcpy(out->comm, t->comm, sizeof(out->comm));
	out->comm[sizeof(out->comm) - 1] = '\0';
	nsp = t->nsproxy;
	if (nsp) {
		out->has_ns = 1;
		out->ns[ESCGUARD_NS_MNT] = nsp->mnt_ns->ns.inum;
		if (nsp->pid_ns_for_children)
			out->ns[ESCGUARD_NS_PID_CHILD] = nsp->pid_ns_for_children->ns.inum;
		out->ns[ESCGUARD_NS_NET] = nsp->net_ns->ns.inum;
		out->ns[ESCGUARD_NS_UTS] = nsp->uts_ns->ns.inum;
		out->ns[ESCGUARD_NS_IPC] = nsp->ipc_ns->ns.inum;
#ifdef CONFIG_CGROUPS
		out->ns[ESCGUARD_NS_CGROUP] = nsp->cgroup_ns->ns.inum;
#endif
#ifdef CONFIG_TIME_NS
		out->ns[ESCGUARD_NS_TIME] = nsp->time_ns->ns.inum;
#endif
	}
	fs = t->fs;
	if (fs) {
		out->has_fs = 1;
		spin_lock(&fs->lock);
		escguard_fill_fsid(&fs->root, &out->root);
		escguard_fill_fsid(&fs->pwd, &out->cwd);
		/* The flags only serve the verdict on a container with a
		 * recorded origin; skip the dentry walks for everyone else
		 * (every host fork and exec). */
		if (ref->origin_root.dev) {
			out->root_flags = escguard_classify(&fs->root, ref);
			out->cwd_flags = escguard_classify(&fs->pwd, ref);
		}
		spin_unlock(&fs->lock);
	}
	task_unlock(t);
}

int escguard_baseline(struct escguard_kinfo *out)
{
	struct escguard_fsref none = {};
	struct task_struct *t;

	rcu_read_lock();
	t = pid_task(find_pid_ns(1, &init_pid_ns), PIDTYPE_PID);
	if (t)
		get_task_struct(t);
	rcu_read_unlock();
	if (!t)
		return -ESRCH;

	escguard_task_info(t, &none, out);
	task_lock(t);
	if (t->nsproxy)
		escguard_host_mnt_ns = t->nsproxy->mnt_ns;
	task_unlock(t);
	put_task_struct(t);
	return out->has_fs && out->has_ns ? 0 : -ESRCH;
}

void escguard_for_each_task(void (*cb)(void *ctx, struct task_struct *t), void *ctx)
{
	struct task_struct *g, *t;

	rcu_read_lock();
	for_each_process_thread(g, t)
		cb(ctx, t);
	rcu_read_unlock();
}

static void escguard_render_raw(const struct path *p, char *buf, unsigned int len)
{
	char *s = dentry_path_raw(p->dentry, buf, len);

	if (IS_ERR(s))
		buf[0] = '\0';
	else
		memmove(buf, s, strlen(s) + 1);
}

static void escguard_render_exe(struct file *file, char *buf, unsigned int len)
{
	/* d_path() resolves against the calling task's root: the program's
	 * path as the task itself names it. */
	char *s = d_path(&file->f_path, buf, len);

	if (IS_ERR(s))
		escguard_render_raw(&file->f_path, buf, len);
	else
		memmove(buf, s, strlen(s) + 1);
}

void escguard_task_paths(struct task_struct *t, struct file *file,
			 char *root, char *cwd, char *exe, unsigned int len)
{
	struct fs_struct *fs;

	if (!len)
		return;
	root[0] = cwd[0] = exe[0] = '\0';
	task_lock(t);
	fs = t->fs;
	if (fs) {
		spin_lock(&fs->lock);
		escguard_render_raw(&fs->root, root, len);
		escguard_render_raw(&fs->pwd, cwd, len);
		spin_unlock(&fs->lock);
	}
	task_unlock(t);

	/* Without an exec's file, the task's current program. The mm holds
	 * its own reference, so our fput() is never the last one (and fput()
	 * may be called in atomic context anyway). */
	if (!file) {
		struct file *f = NULL;

		/* get_task_exe_file() is not exported; this is its body. */
		task_lock(t);
		if (t->mm && !(t->flags & PF_KTHREAD)) {
			rcu_read_lock();
			f = get_file_rcu(&t->mm->exe_file);
			rcu_read_unlock();
		}
		task_unlock(t);
		if (f) {
			escguard_render_exe(f, exe, len);
			fput(f);
		}
	} else {
		escguard_render_exe(file, exe, len);
	}
}

void escguard_kill(struct task_struct *t)
{
	/* Privileged (SEND_SIG_PRIV): also kills a pid namespace's init. */
	send_sig(SIGKILL, t, 1);
}
