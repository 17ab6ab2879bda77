// SPDX-License-Identifier: GPL-2.0
/*
 * C glue for escguard: the kernel objects and private structures the 6.12
 * Rust `kernel` crate cannot name (misc device, kprobes, nsproxy, fs_struct,
 * struct mount). No policy lives here: callbacks forward to Rust, and the
 * helpers only copy out facts for Rust to judge.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/binfmts.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/ftrace.h>
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
#include <linux/vmalloc.h>
#include <linux/hash.h>
#include <linux/nsproxy.h>
#include <linux/blkdev.h>
#include <linux/magic.h>
#include <linux/math64.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/ptrace.h>
#include <linux/security.h>
#include <net/af_unix.h>
#include <asm/asm.h>
#include <asm/ibt.h>
#include <asm/linkage.h>
#include <asm/nospec-branch.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/fdtable.h>
#include <linux/major.h>
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

/* Private VFS headers: struct mount, real_mount(), struct mnt_namespace;
 * proc_pid() of a procfs inode. */
#include "fs/mount.h"
#include "fs/proc/internal.h"

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

/* Nanoseconds spent in each handler (fork, exec, exit, tid swap, file
 * open, other observation points): the
 * benchmark's direct measure of escguard's cost. local_clock() is cheap and
 * CPU-local; handlers do not migrate (preemption is off). */
/* Per CPU, like the hot counters: a global atomic on every file open would
 * bounce one cache line between all CPUs of a large host. */
struct escguard_pcpu {
	u64 hook_time[6];
	u64 count[ESCGUARD_PC_COUNT];
	u64 open_timed; /* open hook calls timed (one in ESCGUARD_OPEN_SAMPLE) */
};
static DEFINE_PER_CPU(struct escguard_pcpu, escguard_pcpu);

#define ESCGUARD_TIMED(idx, call)						\
	do {								\
		u64 __t0 = local_clock();				\
		call;							\
		this_cpu_add(escguard_pcpu.hook_time[idx], local_clock() - __t0); \
	} while (0)

static int escguard_fork_pre(struct pt_regs *regs)
{
	/* wake_up_new_task(struct task_struct *p): @p is complete, not yet run. */
	ESCGUARD_TIMED(0, escguard_rs_on_fork(escguard_probe_ctx, current,
			(struct task_struct *)regs_get_kernel_argument(regs, 0)));
	return 0;
}

static int escguard_exec_pre(struct pt_regs *regs)
{
	/* finalize_exec(struct linux_binprm *bprm): the new image is committed
	 * and start_thread() comes next, so a SIGKILL queued here lands before
	 * its first instruction. */
	struct linux_binprm *bprm = (struct linux_binprm *)regs_get_kernel_argument(regs, 0);

	ESCGUARD_TIMED(1, escguard_rs_on_exec(escguard_probe_ctx, current,
					      bprm ? bprm->file : NULL));
	return 0;
}

static int escguard_exit_pre(struct pt_regs *regs)
{
	/* exit_files(tsk): in do_exit() after exit_signals() has set
	 * PF_EXITING, so the load-time snapshot can tell (under the table
	 * lock) a task whose entry this hook already dropped; also called on
	 * a failed fork's never-woken child, which has no entry. */
	ESCGUARD_TIMED(2, escguard_rs_on_exit(escguard_probe_ctx,
			(struct task_struct *)regs_get_kernel_argument(regs, 0)));
	return 0;
}

int escguard_task_is_current(struct task_struct *t)
{
	return t == current;
}

int escguard_task_exiting(struct task_struct *t)
{
	return !!(READ_ONCE(t->flags) & PF_EXITING);
}

/*
 * A hook: an ftrace_ops of our own on one function's entry, not a kprobe.
 * Kprobes can be switched off system-wide by anyone who can write debugfs'
 * kprobes/enabled; an ftrace_ops can only be removed by its owner, and
 * FTRACE_OPS_FL_PERMANENT makes the kernel refuse the ftrace_enabled sysctl
 * while one is registered. Every hook saves the full registers (handlers
 * read the arguments from pt_regs); the ones that can refuse a call also
 * declare IPMODIFY: ftrace then lets no other ops redirect the same
 * function, and a BPF trampoline attached to it (fexit, fmod_ret) is rebuilt
 * to call the function through the address we may have replaced, instead of
 * calling its body directly (BPF_TRAMP_F_SHARE_IPMODIFY): a refusal cannot
 * be lost.
 */
struct escguard_hook {
	const char *sym;
	/* Returns 1 if it redirected regs->ip (the call is refused), else 0. */
	int (*handler)(struct pt_regs *regs);
	bool refusing;
	/* Its fentry site, learnt at its first call (0 until then). */
	unsigned long ip;
};

/*
 * Two ftrace_ops carry every hook: one that only observes, one that may
 * redirect (IPMODIFY). One registration each, not one per hook: unregistering
 * a dynamic ops waits for two RCU-tasks grace periods, which per hook made a
 * load/unload cycle take seconds.
 */
#define ESCGUARD_OPS_FLAGS (FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_PERMANENT | \
			    FTRACE_OPS_FL_RECURSION)

/* Hooks re-entered on a CPU (a handler calling a hooked function): skipped. */
static DEFINE_PER_CPU(u64, escguard_hook_missed);

static struct escguard_hook *escguard_hook_of(unsigned long ip, bool refusing);

static void notrace escguard_hook_func(unsigned long ip, unsigned long parent_ip,
				       struct ftrace_ops *op, struct ftrace_regs *fregs);

static struct ftrace_ops escguard_observe_ops = {
	.func = escguard_hook_func,
	.flags = ESCGUARD_OPS_FLAGS,
};

static struct ftrace_ops escguard_refuse_ops = {
	.func = escguard_hook_func,
	.flags = ESCGUARD_OPS_FLAGS | FTRACE_OPS_FL_IPMODIFY,
};

static void notrace escguard_hook_func(unsigned long ip, unsigned long parent_ip,
				       struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);
	struct escguard_hook *h;
	int bit;

	/* Also disables preemption, as the handlers expect. */
	bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (bit < 0) {
		this_cpu_inc(escguard_hook_missed);
		return;
	}
	h = escguard_hook_of(ip, op == &escguard_refuse_ops);
	if (h && regs)
		h->handler(regs);
	ftrace_test_recursion_unlock(bit);
}

/* A hook that only observes, and one that may refuse the call. */
#define ESCGUARD_HOOK(var, name, fn)					\
	static struct escguard_hook var = { .sym = name, .handler = fn }
#define ESCGUARD_HOOK_REFUSING(var, name, fn)				\
	static struct escguard_hook var = { .sym = name, .handler = fn, .refusing = true }

ESCGUARD_HOOK(escguard_kp_fork, "wake_up_new_task", escguard_fork_pre);
ESCGUARD_HOOK(escguard_kp_exec, "finalize_exec", escguard_exec_pre);
ESCGUARD_HOOK(escguard_kp_exit, "exit_files", escguard_exit_pre);

static int escguard_tidswap_pre(struct pt_regs *regs)
{
	/* exchange_tids(left, right): a non-leader thread that execs takes the
	 * leader's pid (de_thread). Runs under write_lock_irq(&tasklist_lock):
	 * the Rust side only records the swap, lock-free. */
	ESCGUARD_TIMED(3, escguard_rs_on_tid_swap(escguard_probe_ctx,
			(struct task_struct *)regs_get_kernel_argument(regs, 0),
			(struct task_struct *)regs_get_kernel_argument(regs, 1)));
	return 0;
}

ESCGUARD_HOOK(escguard_kp_tidswap, "exchange_tids", escguard_tidswap_pre);
/*
 * Observation points beyond fork/exec/exit. Each may make the probed call
 * fail: the handler then returns the errno the Rust side chose from the
 * probed function, without running its body. That is the mechanism of the
 * kernel's own error injection (override_function_with_return(), not
 * exported), used only on functions whose callers treat any error return as
 * a refusal and clean up: syscall wrappers (which the kernel itself marks
 * error-injectable) and LSM hooks (whose whole job is to return a verdict).
 */
asmlinkage void escguard_just_return(void);
asmlinkage void escguard_return_eperm(void);
asm(
	".text\n"
	".type escguard_just_return, @function\n"
	ASM_FUNC_ALIGN
	"escguard_just_return:\n"
		ASM_ENDBR
		ASM_RET
	".size escguard_just_return, .-escguard_just_return\n"
	".type escguard_return_eperm, @function\n"
	ASM_FUNC_ALIGN
	"escguard_return_eperm:\n"
		ASM_ENDBR
	"	movq $" __stringify(-EPERM) ", %rax\n"
		ASM_RET
	".size escguard_return_eperm, .-escguard_return_eperm\n"
);

/*
 * Where a refused call resumes instead of the probed function's body: a
 * plain return to its caller, with @err in %rax. ftrace restores %rax from
 * the saved registers, but when the function also has a direct call (a BPF
 * fentry program, say), ftrace runs that trampoline after us and it may
 * clobber %rax on its way back: the common -EPERM is therefore set by the
 * stub itself.
 */
static unsigned long escguard_refusal(int err)
{
	return err == -EPERM ? (unsigned long)&escguard_return_eperm
			     : (unsigned long)&escguard_just_return;
}

static int escguard_verdict(struct pt_regs *regs, int err)
{
	if (!err)
		return 0;
	regs_set_return_value(regs, err);
	/* ftrace resumes at regs->ip (IPMODIFY). */
	regs->ip = escguard_refusal(err);
	return 1;
}

/* Whether the calling context can be a container task at all. */
static bool escguard_user_task(void)
{
	return !(current->flags & PF_KTHREAD) && current->fs && current->nsproxy;
}

/* Handler scratch: kprobes never nest on a CPU (a second hit is counted as
 * missed), and handlers run with preemption off, so one buffer per CPU
 * serves every handler without touching the stack of deep call chains. */
struct escguard_scratch {
	struct escguard_sb_facts sb;
	char a[ESCGUARD_PATH_LEN];
	char b[ESCGUARD_PATH_LEN];
};
static DEFINE_PER_CPU(struct escguard_scratch, escguard_scratch);

/* Copy a user string without faulting (page faults are off). Byte by byte:
 * strncpy_from_user_nofault() is not exported, and a whole-buffer copy
 * would fail on a short string at the end of a page. */
static void escguard_ustr(const char __user *u, char *buf, unsigned int len)
{
	unsigned int i;

	for (i = 0; u && i + 1 < len; i++) {
		if (copy_from_user_nofault(&buf[i], u + i, 1) || !buf[i])
			break;
	}
	buf[i] = '\0';
}

static void escguard_kstr(const char *k, char *buf, unsigned int len)
{
	if (k)
		strscpy(buf, k, len);
	else
		buf[0] = '\0';
}

/* The open hook runs on every open on the system, and two clock reads cost
 * about as much as its common path: one call in ESCGUARD_OPEN_SAMPLE (per
 * CPU) is timed and escguard_hook_ns() scales the sum by calls / timed. */
#define ESCGUARD_OPEN_SAMPLE 16

#define ESCGUARD_TIMED_RET(idx, call)					\
	({								\
		u64 __t0 = local_clock();				\
		int __r = (call);					\
		this_cpu_add(escguard_pcpu.hook_time[idx], local_clock() - __t0); \
		__r;							\
	})

/* ------------------------------------------------------------------ */
/*
 * The open hook's fast path (see escguard_kernel.h): the container filter,
 * the verdict cache and the policy's file-access mask, read lock-free by
 * escguard_open_check() and kept by Rust.
 *
 * The verdict cache answers "did anything the escape verdict depends on
 * change since this task's last clean verdict?" without a lock. A slot is
 * only filled when the task is of settled container lineage, tracked, not
 * reported, and its verdict on exactly the objects of the key found no
 * escape. An equal key then means the same namespaces, user namespace,
 * fs_struct, root and cwd, so the same verdict. Identity is enough: the
 * objects a key names are pinned by the task while they are its own; one
 * can only be freed and its address reused after the task switched away
 * from it. nsproxy and user namespace change only through setns/unshare,
 * whose hooks clear the slot first; root and cwd changes bump fs->seq (and
 * the pointers differ as long as the old objects live); exec and exit
 * replace or drop the task's table entry, which clears the slot. A miss
 * only costs the locked path in Rust.
 *
 * Slots are seqcounts: written under the table lock (writers never race),
 * read lock-free; a reader that overlaps a write misses.
 */
#define ESCGUARD_VSLOT_BITS 11 /* 2048 slots of 80 bytes, 160 KiB */
#define ESCGUARD_VKEY_WORDS 9

struct escguard_vslot {
	unsigned int seq;	/* odd while written */
	u64 key[ESCGUARD_VKEY_WORDS]; /* escguard_vkey(); key[0] (task) 0: empty */
};

static struct escguard_vslot *escguard_vslots;
/* One bit per possible pid (PID_MAX_LIMIT: 4M on 64-bit, 512 KiB): set
 * while the task with that pid has a table entry of host lineage. Anything
 * else -- container lineage, untracked, unknown -- goes to the checks. */
static unsigned long *escguard_host_pids;
/* One bit per possible pid: the task with that pid is of settled container
 * lineage (its first exec inside its namespaces is behind it), whether or
 * not the table holds it -- what lets an untracked task be judged. */
static unsigned long *escguard_settled_pids;
/* The file-access mask of the active policy, as FMODE_READ/WRITE. */
static fmode_t escguard_file_fmode;
/* The host's mount namespace and root directory (pid 1's), compared by
 * address only. Set once by escguard_baseline(). */
static struct mnt_namespace *escguard_host_mnt_ns;
static struct dentry *escguard_host_root_dentry;

int escguard_fast_alloc(void)
{
	if (escguard_vslots)
		return -EBUSY;
	escguard_vslots = vzalloc(sizeof(*escguard_vslots) << ESCGUARD_VSLOT_BITS);
	escguard_host_pids = vzalloc(BITS_TO_LONGS(PID_MAX_LIMIT) * sizeof(long));
	escguard_settled_pids = vzalloc(BITS_TO_LONGS(PID_MAX_LIMIT) * sizeof(long));
	if (!escguard_vslots || !escguard_host_pids || !escguard_settled_pids) {
		escguard_fast_free();
		return -ENOMEM;
	}
	escguard_file_fmode = 0;
	return 0;
}

void escguard_fast_free(void)
{
	vfree(escguard_vslots);
	vfree(escguard_host_pids);
	vfree(escguard_settled_pids);
	escguard_vslots = NULL;
	escguard_host_pids = NULL;
	escguard_settled_pids = NULL;
}

void escguard_fast_set_settled(u32 pid, int settled)
{
	if (pid >= PID_MAX_LIMIT)
		return;
	if (settled)
		set_bit(pid, escguard_settled_pids);
	else
		clear_bit(pid, escguard_settled_pids);
}

int escguard_fast_settled(u32 pid)
{
	return pid < PID_MAX_LIMIT && test_bit(pid, escguard_settled_pids);
}

void escguard_fast_set_host(u32 pid, int host)
{
	if (pid >= PID_MAX_LIMIT)
		return;
	if (host)
		set_bit(pid, escguard_host_pids);
	else
		clear_bit(pid, escguard_host_pids);
}

static __always_inline bool escguard_known_host(u32 pid)
{
	return pid < PID_MAX_LIMIT && test_bit(pid, escguard_host_pids);
}

int escguard_fast_known_host(u32 pid)
{
	return escguard_known_host(pid);
}

void escguard_fast_set_file_access(u32 mask)
{
	WRITE_ONCE(escguard_file_fmode, ((mask & ESCGUARD_PF_READ) ? FMODE_READ : 0) |
					((mask & ESCGUARD_PF_WRITE) ? FMODE_WRITE : 0));
}

u32 escguard_fast_file_access(void)
{
	fmode_t m = READ_ONCE(escguard_file_fmode);

	return ((m & FMODE_READ) ? ESCGUARD_PF_READ : 0) | ((m & FMODE_WRITE) ? ESCGUARD_PF_WRITE : 0);
}

int escguard_magic_may_be_sensitive(u64 magic)
{
	return magic == PROC_SUPER_MAGIC || magic == SYSFS_MAGIC || magic == CGROUP_SUPER_MAGIC ||
	       magic == DEBUGFS_MAGIC || magic == TRACEFS_MAGIC || magic == BINFMTFS_MAGIC;
}

static struct escguard_vslot *escguard_vslot(u64 task)
{
	/* Hashed: task_structs are large slab objects whose low bits carry
	 * little information. */
	return &escguard_vslots[hash_64(task, ESCGUARD_VSLOT_BITS)];
}

static __always_inline void escguard_vkey(const struct escguard_open_key *k, u64 *w)
{
	w[0] = k->task;
	w[1] = k->pid | (u64)k->fs_seq << 32;
	w[2] = k->nsproxy;
	w[3] = k->user_ns;
	w[4] = k->fs;
	w[5] = k->root_dentry;
	w[6] = k->root_mnt;
	w[7] = k->pwd_dentry;
	w[8] = k->pwd_mnt;
}

static void escguard_vslot_write(struct escguard_vslot *s, const u64 *w)
{
	int i;

	WRITE_ONCE(s->seq, s->seq + 1);
	smp_wmb();	/* the odd sequence before any key word changes */
	for (i = 0; i < ESCGUARD_VKEY_WORDS; i++)
		WRITE_ONCE(s->key[i], w[i]);
	smp_wmb();	/* every key word before the even sequence */
	WRITE_ONCE(s->seq, s->seq + 1);
}

void escguard_fast_cache_fill(const struct escguard_open_key *k)
{
	u64 w[ESCGUARD_VKEY_WORDS];

	if (!k->task)
		return;
	escguard_vkey(k, w);
	escguard_vslot_write(escguard_vslot(k->task), w);
}

void escguard_fast_cache_clear(u64 task)
{
	static const u64 empty[ESCGUARD_VKEY_WORDS];
	struct escguard_vslot *s = escguard_vslot(task);

	if (READ_ONCE(s->key[0]) == task)
		escguard_vslot_write(s, empty);
}

void escguard_current_open_key(struct escguard_open_key *k)
{
	struct task_struct *t = current;
	struct fs_struct *fs = t->fs;
	unsigned int seq;

	/* Exiting (no fs or nsproxy any more): no key, the locked path. */
	if (!fs || !t->nsproxy) {
		memset(k, 0, sizeof(*k));
		return;
	}
	k->task = (unsigned long)t;
	k->pid = t->pid;
	/* All of these are current's own: only current replaces them. */
	k->nsproxy = (unsigned long)t->nsproxy;
	k->user_ns = (unsigned long)current_real_cred()->user_ns;
	k->fs = (unsigned long)fs;
	/* A thread sharing @fs may chdir meanwhile: fs->seq orders it. */
	do {
		seq = read_seqcount_begin(&fs->seq);
		k->root_dentry = (unsigned long)fs->root.dentry;
		k->root_mnt = (unsigned long)fs->root.mnt;
		k->pwd_dentry = (unsigned long)fs->pwd.dentry;
		k->pwd_mnt = (unsigned long)fs->pwd.mnt;
	} while (read_seqcount_retry(&fs->seq, seq));
	k->fs_seq = seq;
}

/*
 * The open observation point is an ftrace direct call on
 * security_file_open(): its fentry site calls escguard_open_tramp below,
 * which saves the one argument and calls escguard_open_direct(). A kprobe
 * on ftrace costs 166 instructions per open with an empty handler (3.9% of
 * an open+close by itself: the ftrace save, a full pt_regs and the kprobe
 * dispatch); an ftrace_ops callback about 50 (the ftrace_caller register
 * save); this trampoline about 12.
 *
 * A function has at most one direct call, so while escguard holds it a BPF
 * fentry/fexit program on security_file_open() cannot attach (kprobes,
 * fprobes and BPF LSM programs, which use other attach points, are not
 * affected). If another direct call is there first, or open_hook=ftrace is
 * given, the hook is an ftrace_ops callback (escguard_open_ftrace) instead:
 * same checks, ~40 instructions more per open.
 *
 * Either way the hook is permanent: while it is registered the kernel
 * refuses `sysctl kernel.ftrace_enabled=0`, which would otherwise switch
 * off every ftrace-based hook, our kprobes included.
 */
static char open_hook[8] = "direct";
module_param_string(open_hook, open_hook, sizeof(open_hook), 0444);
MODULE_PARM_DESC(open_hook, "How the file-open hook attaches: direct (default; falls back to ftrace if security_file_open already has a direct call, e.g. a BPF fentry program) or ftrace; reads back the mode in effect");

/*
 * Whether an open by a container task whose own state is unchanged still
 * needs Rust: the object may live on the host (its mount is in the host's
 * mount namespace, or shows the whole host root filesystem), an enabled
 * file rule covers the open's mode, or it writes to a filesystem a preset
 * looks at. (Kernel memory -- /proc/kcore, /dev/mem, /dev/port -- has hooks
 * of its own on those files' open methods.) Only facts are compared here;
 * Rust decides.
 */
static __always_inline bool escguard_open_needs_look(struct file *file, u64 root_mnt)
{
	struct vfsmount *mnt = file->f_path.mnt;

	/* On the task's own root mount (most opens) the object is below a
	 * root the task verdict found not escaped: a path walk cannot climb
	 * above a mount's root, and file handles clear the cache. */
	if ((unsigned long)mnt != root_mnt &&
	    unlikely(READ_ONCE(real_mount(mnt)->mnt_ns) == escguard_host_mnt_ns ||
		     mnt->mnt_root == escguard_host_root_dentry))
		return true;
	if (file->f_mode & READ_ONCE(escguard_file_fmode))
		return true;
	return (file->f_mode & FMODE_WRITE) &&
	       escguard_magic_may_be_sensitive(file->f_path.dentry->d_sb->s_magic);
}

/*
 * Whether current (a user task: it has an fs and an nsproxy) has a clean
 * cached verdict on exactly the objects it has now, and @file's open is one
 * no rule could match. The key is compared where it lives, word by word
 * as escguard_current_open_key() would read it, with no copy: this runs on
 * every open by a container task. Any concurrent change (the slot being
 * written, a chdir by a thread sharing the fs_struct) answers no.
 */
static __always_inline bool escguard_open_cached(struct file *file)
{
	struct task_struct *t = current;
	struct fs_struct *fs = t->fs;
	const struct escguard_vslot *s = escguard_vslot((unsigned long)t);
	unsigned int seq, fseq;
	const u64 *k;
	u64 diff;

	seq = READ_ONCE(s->seq);
	fseq = raw_read_seqcount(&fs->seq);
	if ((seq | fseq) & 1)
		return false;
	smp_rmb();	/* both sequences before the words they cover */
	/* Plain reads, as in any seqcount reader: the sequences validate
	 * them, and the compiler may then fold each into its comparison. */
	k = s->key;
	diff = k[0] ^ (unsigned long)t;
	diff |= k[1] ^ ((u32)t->pid | (u64)fseq << 32);
	diff |= k[2] ^ (unsigned long)t->nsproxy;
	diff |= k[3] ^ (unsigned long)current_real_cred()->user_ns;
	diff |= k[4] ^ (unsigned long)fs;
	diff |= k[5] ^ (unsigned long)fs->root.dentry;
	diff |= k[6] ^ (unsigned long)fs->root.mnt;
	diff |= k[7] ^ (unsigned long)fs->pwd.dentry;
	diff |= k[8] ^ (unsigned long)fs->pwd.mnt;
	smp_rmb();	/* the words before the sequences are read again */
	if (diff || READ_ONCE(s->seq) != seq || read_seqcount_retry(&fs->seq, fseq))
		return false;
	/* Nothing the escape verdict on the task depends on changed. */
	return !escguard_open_needs_look(file, k[6]);
}

/* Everything the fast path cannot answer is Rust's. Preemption off, as in a
 * kprobe handler: the Rust callbacks rely on it (per-CPU state, atomic
 * context). */
static notrace int escguard_open_rust(struct file *file)
{
	int ret;

	preempt_disable_notrace();
	ret = escguard_rs_on_open(escguard_probe_ctx, current, file);
	preempt_enable_notrace();
	return ret < 0 ? ret : 0;
}

/* An open by a task that may be of container lineage. Out of line, so
 * that host tasks' opens do not pay for its frame. */
static noinline notrace int escguard_open_container(struct file *file)
{
	if (escguard_open_cached(file)) {
		this_cpu_inc(escguard_pcpu.count[ESCGUARD_PC_OPEN_CACHED]);
		return 0;
	}
	return escguard_open_rust(file);
}

/* The verdict on an open by current, a user task. */
static __always_inline int escguard_open_judge(struct file *file)
{
	/* A tracked task of host lineage: host tasks are not subject to
	 * container rules. Untracked is not host: a task the table could not
	 * hold goes on to be judged by its own namespaces and root. */
	if (escguard_known_host(current->pid))
		return 0;
	return escguard_open_container(file);
}

/* One open in ESCGUARD_OPEN_SAMPLE, timed. Out of line: the clock reads
 * would make the common path's frame larger. */
static noinline notrace int escguard_open_timed(struct file *file)
{
	int ret;

	preempt_disable_notrace();
	this_cpu_inc(escguard_pcpu.open_timed);
	ret = ESCGUARD_TIMED_RET(4, escguard_open_judge(file));
	preempt_enable_notrace();
	return ret;
}

/*
 * The hook: 0 lets security_file_open() run, a negative errno is returned
 * instead of it. Preemptible: the fast path needs no CPU of its own (its
 * counters are single per-CPU increments); escguard_open_rust() disables
 * preemption for Rust. No recursion guard: security_file_open() runs in
 * process context only, never in an interrupt, and nothing called from
 * here opens a file, so the hook cannot nest.
 */
static __always_inline int escguard_open_check(struct file *file)
{
	if (!escguard_user_task())
		return 0;
	if (unlikely(!(this_cpu_inc_return(escguard_pcpu.count[ESCGUARD_PC_HOOK_OPEN]) %
		       ESCGUARD_OPEN_SAMPLE)))
		return escguard_open_timed(file);
	return escguard_open_judge(file);
}

/* Called by escguard_open_tramp with security_file_open()'s argument. */
static int __used notrace escguard_open_direct(struct file *file)
{
	return escguard_open_check(file);
}

/*
 * The direct-call trampoline, entered as if called from
 * security_file_open()'s first instruction (directly, or via ftrace_caller
 * when other ftrace users share the function): the return address on the
 * stack leads into the function's body, %rdi holds its argument. It keeps
 * %rdi for the body (the only argument register in use at entry; the rest
 * are free under the C calling convention, as the BPF trampoline also
 * assumes). To refuse, it replaces that return address with
 * escguard_just_return and leaves the errno in %rax: security_file_open()'s
 * caller gets the error and the body never runs, as with an ftrace_ops that
 * redirects the instruction pointer.
 */
asmlinkage void escguard_open_tramp(void);
asm(
	".pushsection .text, \"ax\", @progbits\n"
	".type escguard_open_tramp, @function\n"
	ASM_FUNC_ALIGN
	"escguard_open_tramp:\n"
	ASM_ENDBR
	"	pushq %rbp\n"
	"	movq %rsp, %rbp\n"
	CALL_DEPTH_ACCOUNT
	"	pushq %rdi\n"
	"	call escguard_open_direct\n"
	"	popq %rdi\n"
	"	testl %eax, %eax\n"
	"	jnz 1f\n"
	"	leave\n"
	ASM_RET
	"1:	leaq escguard_just_return(%rip), %rdx\n"
	"	movq %rdx, 8(%rbp)\n"
	"	leave\n"
	ASM_RET
	".size escguard_open_tramp, .-escguard_open_tramp\n"
	".popsection\n"
);

/* The fallback hook: an ftrace_ops callback on security_file_open(). */
static void notrace escguard_open_ftrace(unsigned long ip, unsigned long parent_ip,
					 struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	/* security_file_open(struct file *file): the file is set up, its
	 * f_op->open has not run and no data has been read or written. */
	struct file *file = (struct file *)ftrace_regs_get_argument(fregs, 0);
	int ret;

	ret = escguard_open_check(file);
	if (ret < 0) {
		/* As escguard_verdict(): the trampoline resumes at the
		 * instruction pointer and restores rax from the saved regs. */
		ftrace_regs_set_return_value(fregs, ret);
		ftrace_regs_set_instruction_pointer(fregs, escguard_refusal(ret));
	}
}

/* register_ftrace_direct() gives the ops its own func and flags. */
static struct ftrace_ops escguard_open_direct_ops;

/* IPMODIFY: see struct escguard_hook. The direct call already there is
 * asked (ops_func) to share the function with a redirecting ops, as a BPF
 * trampoline does; one that cannot makes the registration fail. */
static struct ftrace_ops escguard_open_ftrace_ops = {
	.func = escguard_open_ftrace,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_PERMANENT,
};

/* The ops in effect, NULL while unhooked. */
static struct ftrace_ops *escguard_open_ops;

static int escguard_bdev_open_pre(struct pt_regs *regs)
{
	/* bdev_open(bdev, mode, holder, hops, bdev_file): the block device is
	 * resolved. User opens come from blkdev_open() with no holder ops;
	 * filesystems claim with fs_holder_ops, so a device so held backs a
	 * mounted filesystem. */
	struct block_device *bdev = (struct block_device *)regs_get_kernel_argument(regs, 0);
	const struct blk_holder_ops *hops = (const void *)regs_get_kernel_argument(regs, 3);
	struct file *file = (struct file *)regs_get_kernel_argument(regs, 4);
	int held;

	if (hops || !file || !escguard_user_task())
		return 0;
	held = READ_ONCE(bdev->bd_holder_ops) == &fs_holder_ops;
	return escguard_verdict(regs, ESCGUARD_TIMED_RET(5,
			escguard_rs_on_bdev_open(escguard_probe_ctx, current, file, held)));
}

static int escguard_sb_kern_mount_pre(struct pt_regs *regs)
{
	/* security_sb_kern_mount(sb): a new mount's superblock, by either
	 * mount API, before the mount exists; s_umount is held for writing. */
	const struct super_block *sb = (const void *)regs_get_kernel_argument(regs, 0);
	struct escguard_sb_facts *f;

	if (!escguard_user_task())
		return 0;
	f = this_cpu_ptr(&escguard_scratch.sb);
	memset(f, 0, sizeof(*f));
	f->magic = sb->s_magic;
	f->dev = new_encode_dev(sb->s_dev);
	f->bdev = !!sb->s_bdev;
	/* A superblock that already has mounts was found, not made: mounting
	 * a block device that is already mounted shares its filesystem. */
	f->reused = !list_empty(&sb->s_mounts);
	if (sb->s_magic == PROC_SUPER_MAGIC && proc_sb_info((struct super_block *)sb)->pid_ns)
		f->pid_ns = proc_sb_info((struct super_block *)sb)->pid_ns->ns.inum;
	escguard_kstr(sb->s_type->name, f->fstype, sizeof(f->fstype));
	return escguard_verdict(regs, ESCGUARD_TIMED_RET(5,
			escguard_rs_on_new_sb(escguard_probe_ctx, current, f)));
}

static void escguard_path_str(const struct path *p, char *buf, unsigned int len)
{
	char *s = d_path(p, buf, len);

	if (IS_ERR(s))
		buf[0] = '\0';
	else
		memmove(buf, s, strlen(s) + 1);
}

static int escguard_sb_mount_pre(struct pt_regs *regs)
{
	/* security_sb_mount(dev_name, path, type, flags, data): mount(2),
	 * with its strings already copied into the kernel. */
	const char *dev_name = (const char *)regs_get_kernel_argument(regs, 0);
	const struct path *path = (const void *)regs_get_kernel_argument(regs, 1);
	const char *type = (const char *)regs_get_kernel_argument(regs, 2);
	struct escguard_scratch *s;
	char fstype[ESCGUARD_NAME_LEN * 2];

	if (!escguard_user_task())
		return 0;
	s = this_cpu_ptr(&escguard_scratch);
	escguard_kstr(dev_name, s->a, sizeof(s->a));
	escguard_path_str(path, s->b, sizeof(s->b));
	escguard_kstr(type, fstype, sizeof(fstype));
	return escguard_verdict(regs, ESCGUARD_TIMED_RET(5,
			escguard_rs_on_mount(escguard_probe_ctx, current, ESCGUARD_SYS_MOUNT,
					     s->a, s->b, fstype)));
}

static int escguard_move_mount_pre(struct pt_regs *regs)
{
	/* security_move_mount(from, to): the new mount API attaching a mount
	 * (from fsmount() or open_tree()) at its target. */
	const struct path *from = (const void *)regs_get_kernel_argument(regs, 0);
	const struct path *to = (const void *)regs_get_kernel_argument(regs, 1);
	struct escguard_scratch *s;
	char fstype[ESCGUARD_NAME_LEN * 2];

	if (!escguard_user_task())
		return 0;
	s = this_cpu_ptr(&escguard_scratch);
	escguard_path_str(from, s->a, sizeof(s->a));
	escguard_path_str(to, s->b, sizeof(s->b));
	escguard_kstr(from->mnt->mnt_sb->s_type->name, fstype, sizeof(fstype));
	return escguard_verdict(regs, ESCGUARD_TIMED_RET(5,
			escguard_rs_on_mount(escguard_probe_ctx, current, ESCGUARD_SYS_MOVE_MOUNT,
					     s->a, s->b, fstype)));
}

static int escguard_ptrace_pre(struct pt_regs *regs)
{
	/* security_ptrace_access_check(child, mode): ptrace attach, and
	 * access to another task's memory (/proc/PID/mem,
	 * process_vm_readv/writev) with PTRACE_MODE_ATTACH. Called with
	 * task_lock(child) held: the Rust side must not take it again. */
	struct task_struct *child = (struct task_struct *)regs_get_kernel_argument(regs, 0);
	unsigned int mode = regs_get_kernel_argument(regs, 1);

	if (!(mode & PTRACE_MODE_ATTACH) || !escguard_user_task())
		return 0;
	return escguard_verdict(regs, ESCGUARD_TIMED_RET(5,
			escguard_rs_on_ptrace(escguard_probe_ctx, current, child)));
}

static int escguard_bprm_check_pre(struct pt_regs *regs)
{
	/* security_bprm_check(bprm): each binary handler's turn, before exec's
	 * point of no return -- for a script, and again for its interpreter
	 * (also a binfmt_misc handler's). Rust judges host-context execs of
	 * programs that live in a container's filesystem. */
	struct linux_binprm *bprm = (struct linux_binprm *)regs_get_kernel_argument(regs, 0);
	bool umh;

	if (!bprm->file || !escguard_user_task())
		return 0;
	rcu_read_lock();
	umh = rcu_dereference(current->real_parent)->flags & PF_KTHREAD;
	rcu_read_unlock();
	return escguard_verdict(regs, ESCGUARD_TIMED_RET(5,
			escguard_rs_on_bprm_check(escguard_probe_ctx, current, bprm->file, umh)));
}

static int escguard_connect_pre(struct pt_regs *regs)
{
	/* security_unix_stream_connect(sock, other, newsk): @other is the
	 * listening socket, with the path its owner bound it to. */
	struct sock *other = (struct sock *)regs_get_kernel_argument(regs, 1);
	struct escguard_scratch *s;

	if (!escguard_user_task() || !other)
		return 0;
	s = this_cpu_ptr(&escguard_scratch);
	s->a[0] = '\0';
	/* unix_state_lock(other) is held: path is stable. The socket's path
	 * is in its owner's mount namespace (the host's, for a runtime), and
	 * d_path() renders it from that namespace's root when it lies
	 * outside the caller's root. */
	if (unix_sk(other)->path.dentry)
		escguard_path_str(&unix_sk(other)->path, s->a, sizeof(s->a));
	if (!s->a[0])
		return 0;
	return escguard_verdict(regs, ESCGUARD_TIMED_RET(5,
			escguard_rs_on_connect(escguard_probe_ctx, current, s->a)));
}

static void escguard_render_raw(const struct path *p, char *buf, unsigned int len);

static int escguard_proc_link_pre(struct pt_regs *regs)
{
	/* proc_pid_get_link(dentry, inode, done): a path walk following
	 * /proc/<pid>/root, cwd, exe, fd/N or map_files/... of the task
	 * @inode belongs to (dentry NULL: an RCU walk, retried with one). */
	struct dentry *dentry = (struct dentry *)regs_get_kernel_argument(regs, 0);
	struct inode *inode = (struct inode *)regs_get_kernel_argument(regs, 1);
	struct escguard_scratch *s;
	struct task_struct *t;
	struct path p;
	int ret;

	/* Tracked host tasks are not judged here: skipped without a call. */
	if (!dentry || !escguard_user_task() || escguard_known_host(current->pid))
		return 0;
	rcu_read_lock();
	t = pid_task(proc_pid(inode), PIDTYPE_PID);
	if (t)
		get_task_struct(t);
	rcu_read_unlock();
	if (!t)
		return 0;
	s = this_cpu_ptr(&escguard_scratch);
	/* The link's path within procfs ("/1/root"); the dentry is pinned by
	 * the walk, and only its names are read. */
	p.mnt = NULL;
	p.dentry = dentry;
	escguard_render_raw(&p, s->a, sizeof(s->a));
	ret = escguard_verdict(regs, ESCGUARD_TIMED_RET(5,
			escguard_rs_on_proc_link(escguard_probe_ctx, current, t, s->a)));
	/* Safe in atomic context even if ours is the last reference, on
	 * non-RT kernels (RT is refused at load). */
	put_task_struct(t);
	return ret;
}

static void escguard_fill_ns(const struct nsproxy *nsp, struct escguard_kinfo *out);

static int escguard_environ_open_pre(struct pt_regs *regs)
{
	/* environ_open(inode, file): /proc/<pid>/environ, another task's
	 * environment (its memory). Memory access in attach mode (mem,
	 * process_vm_*) is the ptrace hook's. */
	struct inode *inode = (struct inode *)regs_get_kernel_argument(regs, 0);
	struct task_struct *t;
	int ret;

	if (!escguard_user_task() || escguard_known_host(current->pid))
		return 0;
	rcu_read_lock();
	t = pid_task(proc_pid(inode), PIDTYPE_PID);
	if (t)
		get_task_struct(t);
	rcu_read_unlock();
	if (!t)
		return 0;
	ret = escguard_verdict(regs, ESCGUARD_TIMED_RET(5,
			escguard_rs_on_environ(escguard_probe_ctx, current, t)));
	put_task_struct(t);
	return ret;
}

static int escguard_kmem_open_pre(struct pt_regs *regs)
{
	/* open_kcore(inode, file), open_port(inode, file): the open methods of
	 * /proc/kcore and of /dev/mem, /dev/kmem, /dev/port (not /dev/null
	 * and its other siblings), after security_file_open(). */
	struct file *file = (struct file *)regs_get_kernel_argument(regs, 1);

	if (!escguard_user_task() || escguard_known_host(current->pid))
		return 0;
	return escguard_verdict(regs, ESCGUARD_TIMED_RET(5,
			escguard_rs_on_kernel_memory(escguard_probe_ctx, current, file)));
}

static int escguard_ns_switch_pre(struct pt_regs *regs)
{
	/* switch_task_namespaces(p, new): setns(2) or unshare(2) committing
	 * @new, with the new mount namespace's root and cwd already set. The
	 * task is judged on what it switches to, before it returns to user
	 * space: a setns into the host's namespaces followed by calls that
	 * open nothing (truncate, chmod, connect) and a switch back. */
	struct task_struct *p = (struct task_struct *)regs_get_kernel_argument(regs, 0);
	struct nsproxy *new = (struct nsproxy *)regs_get_kernel_argument(regs, 1);
	struct escguard_kinfo k;

	if (!new || p != current || !escguard_user_task() || escguard_known_host(current->pid))
		return 0;
	escguard_current_facts(&k);
	/* @new is pinned by the caller. */
	escguard_fill_ns(new, &k);
	ESCGUARD_TIMED(5, escguard_rs_on_ns_switch(escguard_probe_ctx, current, &k));
	return 0;
}

/*
 * Signals: kill(2), tkill(2), tgkill(2), rt_(tg)sigqueueinfo(2) at syscall
 * entry (the signal code's own LSM hook can run under tasklist_lock, where
 * the table lock may not be taken). @nr is the target as the caller names
 * it in its pid namespace: > 0 a task, -1 every task it can signal; process
 * groups (0, < -1) never reach outside the caller's session.
 */
static int escguard_signal_check(struct pt_regs *regs, long nr, long sig)
{
	struct task_struct *t = NULL;
	int ret;

	if (!sig || (nr <= 0 && nr != -1) || !escguard_user_task() ||
	    escguard_known_host(current->pid))
		return 0;
	if (nr > 0) {
		rcu_read_lock();
		t = pid_task(find_vpid(nr), PIDTYPE_PID);
		if (t)
			get_task_struct(t);
		rcu_read_unlock();
		if (!t)
			return 0;
	}
	ret = escguard_verdict(regs, ESCGUARD_TIMED_RET(5,
			escguard_rs_on_signal(escguard_probe_ctx, current, t, (int)sig)));
	if (t)
		put_task_struct(t);
	return ret;
}

/*
 * pidfd_send_signal(pidfd, sig, info, flags): the target is named by a
 * descriptor, a pidfd (pidfs keeps its struct pid in the inode, as
 * pidfd_pid() reads it) or a /proc/<pid> directory (the kernel itself
 * accepts only /proc/<pid>; any other procfs directory fails the call).
 */
static int escguard_pidfd_signal_check(struct pt_regs *regs, int fd, long sig)
{
	struct task_struct *t = NULL;
	struct inode *inode;
	struct pid *pid = NULL;
	struct file *f;
	int ret;

	if (!sig || !escguard_user_task() || escguard_known_host(current->pid))
		return 0;
	/* Our own reference: another thread may close @fd meanwhile. */
	f = fget_raw(fd);
	if (!f)
		return 0;
	inode = file_inode(f);
	if (inode->i_sb->s_magic == PID_FS_MAGIC)
		pid = inode->i_private;
	else if (inode->i_sb->s_magic == PROC_SUPER_MAGIC && S_ISDIR(inode->i_mode))
		pid = proc_pid(inode);
	if (pid) {
		rcu_read_lock();
		t = pid_task(pid, PIDTYPE_PID);
		if (t)
			get_task_struct(t);
		rcu_read_unlock();
	}
	fput(f);
	if (!t)
		return 0;
	ret = escguard_verdict(regs, ESCGUARD_TIMED_RET(5,
			escguard_rs_on_signal(escguard_probe_ctx, current, t, (int)sig)));
	put_task_struct(t);
	return ret;
}

#define ESCGUARD_SIGNAL_PROBE(sym, nr, sig)					\
	static int escguard_sig_pre_##sym(struct pt_regs *regs)			\
	{									\
		const struct pt_regs *u = (const void *)regs_get_kernel_argument(regs, 0); \
		return escguard_signal_check(regs, (int)(nr), (int)(sig));	\
	}									\
	ESCGUARD_HOOK_REFUSING(escguard_kp_sig_##sym, #sym, escguard_sig_pre_##sym)

ESCGUARD_SIGNAL_PROBE(__x64_sys_kill, u->di, u->si);
ESCGUARD_SIGNAL_PROBE(__x64_sys_tkill, u->di, u->si);
ESCGUARD_SIGNAL_PROBE(__x64_sys_tgkill, u->si, u->dx);
ESCGUARD_SIGNAL_PROBE(__x64_sys_rt_sigqueueinfo, u->di, u->si);
ESCGUARD_SIGNAL_PROBE(__x64_sys_rt_tgsigqueueinfo, u->si, u->dx);

#define ESCGUARD_PIDFD_SIGNAL_PROBE(sym, fd, sig)				\
	static int escguard_sig_pre_##sym(struct pt_regs *regs)			\
	{									\
		const struct pt_regs *u = (const void *)regs_get_kernel_argument(regs, 0); \
		return escguard_pidfd_signal_check(regs, (int)(fd), (int)(sig)); \
	}									\
	ESCGUARD_HOOK_REFUSING(escguard_kp_sig_##sym, #sym, escguard_sig_pre_##sym)

ESCGUARD_PIDFD_SIGNAL_PROBE(__x64_sys_pidfd_send_signal, u->di, u->si);
#ifdef CONFIG_IA32_EMULATION
ESCGUARD_PIDFD_SIGNAL_PROBE(__ia32_sys_pidfd_send_signal, u->bx, u->cx);
ESCGUARD_SIGNAL_PROBE(__ia32_sys_kill, u->bx, u->cx);
ESCGUARD_SIGNAL_PROBE(__ia32_sys_tkill, u->bx, u->cx);
ESCGUARD_SIGNAL_PROBE(__ia32_sys_tgkill, u->cx, u->dx);
ESCGUARD_SIGNAL_PROBE(__ia32_compat_sys_rt_sigqueueinfo, u->bx, u->cx);
ESCGUARD_SIGNAL_PROBE(__ia32_compat_sys_rt_tgsigqueueinfo, u->cx, u->dx);
#endif

/* Syscall entry: __x64_sys_*(const struct pt_regs *user) and the ia32
 * variants. Only a few calls carry an argument the rules need. */
static int escguard_sys_common(struct pt_regs *regs, unsigned int nr, const char __user *uarg)
{
	struct escguard_scratch *s;

	if (!escguard_user_task())
		return 0;
	s = this_cpu_ptr(&escguard_scratch);
	escguard_ustr(uarg, s->a, sizeof(s->a));
	return escguard_verdict(regs, ESCGUARD_TIMED_RET(5,
			escguard_rs_on_syscall(escguard_probe_ctx, current, nr, s->a)));
}

#define ESCGUARD_SYSCALL_PROBE(sym, nr, argreg)					\
	static int escguard_sys_pre_##sym(struct pt_regs *regs) \
	{									\
		const struct pt_regs *u = (const void *)regs_get_kernel_argument(regs, 0); \
		return escguard_sys_common(regs, nr, argreg);			\
	}									\
	ESCGUARD_HOOK_REFUSING(escguard_kp_sys_##sym, #sym, escguard_sys_pre_##sym)

#define NOARG ((void)u, (const char __user *)NULL)
ESCGUARD_SYSCALL_PROBE(__x64_sys_open_by_handle_at, ESCGUARD_SYS_OPEN_BY_HANDLE_AT, NOARG);
ESCGUARD_SYSCALL_PROBE(__x64_sys_init_module, ESCGUARD_SYS_INIT_MODULE, (const char __user *)u->dx);
ESCGUARD_SYSCALL_PROBE(__x64_sys_finit_module, ESCGUARD_SYS_FINIT_MODULE, (const char __user *)u->si);
ESCGUARD_SYSCALL_PROBE(__x64_sys_setns, ESCGUARD_SYS_SETNS, NOARG);
ESCGUARD_SYSCALL_PROBE(__x64_sys_unshare, ESCGUARD_SYS_UNSHARE, NOARG);
ESCGUARD_SYSCALL_PROBE(__x64_sys_pivot_root, ESCGUARD_SYS_PIVOT_ROOT, (const char __user *)u->di);
ESCGUARD_SYSCALL_PROBE(__x64_sys_chroot, ESCGUARD_SYS_CHROOT, (const char __user *)u->di);
ESCGUARD_SYSCALL_PROBE(__x64_sys_mount, ESCGUARD_SYS_MOUNT, (const char __user *)u->dx);
ESCGUARD_SYSCALL_PROBE(__x64_sys_fsopen, ESCGUARD_SYS_FSOPEN, (const char __user *)u->di);
ESCGUARD_SYSCALL_PROBE(__x64_sys_fsmount, ESCGUARD_SYS_FSMOUNT, NOARG);
ESCGUARD_SYSCALL_PROBE(__x64_sys_move_mount, ESCGUARD_SYS_MOVE_MOUNT, NOARG);
ESCGUARD_SYSCALL_PROBE(__x64_sys_ptrace, ESCGUARD_SYS_PTRACE, NOARG);
#ifdef CONFIG_IA32_EMULATION
ESCGUARD_SYSCALL_PROBE(__ia32_compat_sys_open_by_handle_at, ESCGUARD_SYS_OPEN_BY_HANDLE_AT, NOARG);
ESCGUARD_SYSCALL_PROBE(__ia32_sys_init_module, ESCGUARD_SYS_INIT_MODULE, compat_ptr((u32)u->dx));
ESCGUARD_SYSCALL_PROBE(__ia32_sys_finit_module, ESCGUARD_SYS_FINIT_MODULE, compat_ptr((u32)u->cx));
/* setns/unshare clear the caller's cached open verdict (the fast path) first:
 * a 32-bit task must not switch namespaces unseen. */
ESCGUARD_SYSCALL_PROBE(__ia32_sys_setns, ESCGUARD_SYS_SETNS, NOARG);
ESCGUARD_SYSCALL_PROBE(__ia32_sys_unshare, ESCGUARD_SYS_UNSHARE, NOARG);
#endif

ESCGUARD_HOOK_REFUSING(escguard_kp_bdev_open, "bdev_open", escguard_bdev_open_pre);
ESCGUARD_HOOK_REFUSING(escguard_kp_sb_kern_mount, "security_sb_kern_mount", escguard_sb_kern_mount_pre);
ESCGUARD_HOOK_REFUSING(escguard_kp_sb_mount, "security_sb_mount", escguard_sb_mount_pre);
ESCGUARD_HOOK_REFUSING(escguard_kp_move_mount, "security_move_mount", escguard_move_mount_pre);
ESCGUARD_HOOK_REFUSING(escguard_kp_ptrace, "security_ptrace_access_check", escguard_ptrace_pre);
ESCGUARD_HOOK_REFUSING(escguard_kp_bprm_check, "security_bprm_check", escguard_bprm_check_pre);
ESCGUARD_HOOK_REFUSING(escguard_kp_connect, "security_unix_stream_connect", escguard_connect_pre);
ESCGUARD_HOOK_REFUSING(escguard_kp_proc_link, "proc_pid_get_link", escguard_proc_link_pre);
ESCGUARD_HOOK_REFUSING(escguard_kp_environ, "environ_open", escguard_environ_open_pre);
ESCGUARD_HOOK(escguard_kp_ns_switch, "switch_task_namespaces", escguard_ns_switch_pre);
ESCGUARD_HOOK_REFUSING(escguard_kp_kcore, "open_kcore", escguard_kmem_open_pre);
ESCGUARD_HOOK_REFUSING(escguard_kp_port, "open_port", escguard_kmem_open_pre);

/*
 * delete_module(2): a container task must not unload escguard. The syscall
 * wrappers take the user's saved registers; the name is read without
 * faulting (page faults are off in the handler). Not timed: it is rare.
 * Other modules' removal by a container is the kernel_module rule's.
 */
static int escguard_unload_common(const char __user *uname)
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
	return escguard_rs_on_unload(escguard_probe_ctx, current, name);
}

static int escguard_unload_pre(struct pt_regs *regs)
{
	const struct pt_regs *u = (const struct pt_regs *)regs_get_kernel_argument(regs, 0);

	return escguard_verdict(regs, escguard_unload_common((const char __user *)u->di));
}

ESCGUARD_HOOK_REFUSING(escguard_kp_unload, "__x64_sys_delete_module", escguard_unload_pre);

#ifdef CONFIG_IA32_EMULATION
static int escguard_unload32_pre(struct pt_regs *regs)
{
	const struct pt_regs *u = (const struct pt_regs *)regs_get_kernel_argument(regs, 0);

	return escguard_verdict(regs, escguard_unload_common(compat_ptr((u32)u->bx)));
}

ESCGUARD_HOOK_REFUSING(escguard_kp_unload32, "__ia32_sys_delete_module", escguard_unload32_pre);
#endif

/*
 * Every hook. The observing ones (fork, exec, exit, pid swap, namespace
 * switch) are armed together by one registration, before the refusing
 * ones: an entry a hook inserts always has its removal hooked already.
 * The hot ones come first: escguard_hook_of() scans in this order.
 */
static struct escguard_hook *escguard_kps[] = {
	&escguard_kp_exit, &escguard_kp_ns_switch, &escguard_kp_fork, &escguard_kp_exec,
	&escguard_kp_bprm_check, &escguard_kp_tidswap, &escguard_kp_unload,
#ifdef CONFIG_IA32_EMULATION
	&escguard_kp_unload32,
	&escguard_kp_sys___ia32_compat_sys_open_by_handle_at,
	&escguard_kp_sys___ia32_sys_init_module,
	&escguard_kp_sys___ia32_sys_finit_module,
	&escguard_kp_sys___ia32_sys_setns,
	&escguard_kp_sys___ia32_sys_unshare,
#endif
	&escguard_kp_sys___x64_sys_open_by_handle_at,
	&escguard_kp_sys___x64_sys_init_module,
	&escguard_kp_sys___x64_sys_finit_module,
	&escguard_kp_sys___x64_sys_setns,
	&escguard_kp_sys___x64_sys_unshare,
	&escguard_kp_sys___x64_sys_pivot_root,
	&escguard_kp_sys___x64_sys_chroot,
	&escguard_kp_sys___x64_sys_mount,
	&escguard_kp_sys___x64_sys_fsopen,
	&escguard_kp_sys___x64_sys_fsmount,
	&escguard_kp_sys___x64_sys_move_mount,
	&escguard_kp_sys___x64_sys_ptrace,
	&escguard_kp_bdev_open, &escguard_kp_sb_kern_mount,
	&escguard_kp_sb_mount, &escguard_kp_move_mount, &escguard_kp_ptrace,
	&escguard_kp_connect,
	&escguard_kp_proc_link, &escguard_kp_environ,
	&escguard_kp_kcore, &escguard_kp_port,
	&escguard_kp_sig___x64_sys_kill, &escguard_kp_sig___x64_sys_tkill,
	&escguard_kp_sig___x64_sys_tgkill, &escguard_kp_sig___x64_sys_rt_sigqueueinfo,
	&escguard_kp_sig___x64_sys_rt_tgsigqueueinfo,
	&escguard_kp_sig___x64_sys_pidfd_send_signal,
#ifdef CONFIG_IA32_EMULATION
	&escguard_kp_sig___ia32_sys_pidfd_send_signal,
	&escguard_kp_sig___ia32_sys_kill, &escguard_kp_sig___ia32_sys_tkill,
	&escguard_kp_sig___ia32_sys_tgkill, &escguard_kp_sig___ia32_compat_sys_rt_sigqueueinfo,
	&escguard_kp_sig___ia32_compat_sys_rt_tgsigqueueinfo,
#endif
};

u32 escguard_probe_count(void)
{
	/* The hooks and the open hook (a direct call or ftrace callback). */
	return ARRAY_SIZE(escguard_kps) + 1;
}

static int escguard_open_filter(struct ftrace_ops *ops)
{
	/* ftrace_set_filter() parses its buffer in place. */
	char sym[] = "security_file_open";

	/* An exact name: -EINVAL unless the function exists and is
	 * traceable, so a kernel without it refuses the load. */
	return ftrace_set_filter(ops, sym, strlen(sym), 1);
}

static int escguard_open_hook_register(void)
{
	bool direct = !strcmp(open_hook, "direct");
	int ret;

	if (!direct && strcmp(open_hook, "ftrace")) {
		pr_err("open_hook=%s: expected direct or ftrace\n", open_hook);
		return -EINVAL;
	}
	if (direct) {
		ret = escguard_open_filter(&escguard_open_direct_ops);
		if (!ret)
			ret = register_ftrace_direct(&escguard_open_direct_ops,
						     (unsigned long)escguard_open_tramp);
		if (!ret) {
			/* Not marked permanent itself (register_ftrace_direct()
			 * owns the ops' flags): the hooks registered before it
			 * are, and any one makes the kernel refuse
			 * ftrace_enabled=0. */
			escguard_open_ops = &escguard_open_direct_ops;
			return 0;
		}
		ftrace_free_filter(&escguard_open_direct_ops);
		if (ret != -EBUSY) {
			pr_err("cannot hook security_file_open (direct call): %d\n", ret);
			return ret;
		}
		pr_warn("security_file_open already has a direct call (a BPF fentry program?); using an ftrace callback\n");
	}
	ret = escguard_open_filter(&escguard_open_ftrace_ops);
	if (!ret)
		ret = register_ftrace_function(&escguard_open_ftrace_ops);
	if (ret) {
		pr_err("cannot hook security_file_open through ftrace: %d\n", ret);
		ftrace_free_filter(&escguard_open_ftrace_ops);
		return ret;
	}
	strscpy(open_hook, "ftrace", sizeof(open_hook));
	escguard_open_ops = &escguard_open_ftrace_ops;
	return 0;
}

static void escguard_open_hook_unregister(void)
{
	if (escguard_open_ops == &escguard_open_direct_ops) {
		unregister_ftrace_direct(&escguard_open_direct_ops,
					 (unsigned long)escguard_open_tramp, true);
	} else if (escguard_open_ops) {
		unregister_ftrace_function(&escguard_open_ftrace_ops);
		ftrace_free_filter(&escguard_open_ftrace_ops);
	}
	escguard_open_ops = NULL;
}

static struct escguard_hook *escguard_hook_of(unsigned long ip, bool refusing)
{
	char name[KSYM_NAME_LEN];
	unsigned int i;

	/* Hot hooks come first in escguard_kps. */
	for (i = 0; i < ARRAY_SIZE(escguard_kps); i++) {
		if (READ_ONCE(escguard_kps[i]->ip) == ip)
			return escguard_kps[i];
	}
	/* The first call at this site: which of our functions is it? */
	sprint_symbol_no_offset(name, ip);
	for (i = 0; i < ARRAY_SIZE(escguard_kps); i++) {
		struct escguard_hook *h = escguard_kps[i];

		if (h->refusing == refusing && !strcmp(h->sym, name)) {
			WRITE_ONCE(h->ip, ip);
			return h;
		}
	}
	return NULL;
}

static void escguard_hooks_unregister(void)
{
	unregister_ftrace_function(&escguard_refuse_ops);
	unregister_ftrace_function(&escguard_observe_ops);
	ftrace_free_filter(&escguard_refuse_ops);
	ftrace_free_filter(&escguard_observe_ops);
}

/* Scratch for resolving the hooks' addresses at load (module init and
 * exit are serialised, so one set serves). */
static struct kprobe escguard_lookup_kp[ARRAY_SIZE(escguard_kps)];
static struct kprobe *escguard_lookup_kps[ARRAY_SIZE(escguard_kps)];

/*
 * Each hook's address, resolved by name with kallsyms through a kprobe that
 * is registered disabled (never armed) and removed at once: the kernel
 * exports no other name lookup. ftrace_set_filter() by name would do the
 * same but scans every traceable function's name once per hook: seconds
 * per hook under emulation. 0 for a name a kprobe cannot resolve (then the
 * filter is set by name).
 */
static void escguard_hooks_resolve(unsigned long *addrs)
{
	unsigned int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(escguard_kps); i++) {
		struct kprobe *kp = &escguard_lookup_kp[i];

		memset(kp, 0, sizeof(*kp));
		kp->symbol_name = escguard_kps[i]->sym;
		kp->flags = KPROBE_FLAG_DISABLED;
		addrs[i] = 0;
		if (!register_kprobe(kp)) {
			addrs[i] = (unsigned long)kp->addr;
			escguard_lookup_kps[n++] = kp;
		}
	}
	if (n)
		unregister_kprobes(escguard_lookup_kps, n);
}

static int escguard_hooks_register(void)
{
	static unsigned long addrs[ARRAY_SIZE(escguard_kps)];
	unsigned int i;
	int ret;

	escguard_hooks_resolve(addrs);
	for (i = 0; i < ARRAY_SIZE(escguard_kps); i++) {
		struct escguard_hook *h = escguard_kps[i];
		struct ftrace_ops *ops = h->refusing ? &escguard_refuse_ops : &escguard_observe_ops;
		char sym[KSYM_NAME_LEN];

		h->ip = 0;
		if (addrs[i]) {
			ret = ftrace_set_filter_ips(ops, &addrs[i], 1, 0, 0);
		} else {
			/* ftrace_set_filter() parses its buffer in place; an
			 * exact name fails unless the function is traceable. */
			strscpy(sym, h->sym, sizeof(sym));
			ret = ftrace_set_filter(ops, sym, strlen(sym), 0);
		}
		if (ret) {
			pr_err("cannot hook %s: %d\n", h->sym, ret);
			goto err;
		}
	}
	/* Observers (exit among them) first: every entry a hook adds has its
	 * removal hooked already. -EBUSY: another ops already redirects one of
	 * the functions (a livepatch, a kprobe with a post handler), or
	 * ftrace_enabled is 0. */
	ret = register_ftrace_function(&escguard_observe_ops);
	if (ret) {
		pr_err("cannot register the observing hooks: %d\n", ret);
		goto err;
	}
	ret = register_ftrace_function(&escguard_refuse_ops);
	if (ret) {
		pr_err("cannot register the refusing hooks: %d\n", ret);
		unregister_ftrace_function(&escguard_observe_ops);
		goto err;
	}
	return 0;
err:
	ftrace_free_filter(&escguard_refuse_ops);
	ftrace_free_filter(&escguard_observe_ops);
	return ret;
}

int escguard_probes_register(void *ctx)
{
	int ret;

	escguard_probe_ctx = ctx;
	ret = escguard_hooks_register();
	if (!ret) {
		/* Last: exit (first above) must be hooked before any hook
		 * can add entries. */
		ret = escguard_open_hook_register();
		if (ret)
			escguard_hooks_unregister();
	}
	if (ret)
		escguard_probe_ctx = NULL;
	return ret;
}

void escguard_probes_unregister(void)
{
	/* Each waits until no callback of its own runs any more (ftrace:
	 * RCU-tasks grace periods, the trampoline is freed after). */
	escguard_open_hook_unregister();
	escguard_hooks_unregister();
	/* A task may have been preempted in our module text: in the open
	 * hook's trampoline or fast path (both preemptible), or between the
	 * ftrace trampoline and a refusal stub. Wait until every task has
	 * passed a voluntary schedule point. */
	synchronize_rcu_tasks();
	irq_work_sync(&escguard_wake_work);
	escguard_probe_ctx = NULL;
}

u64 escguard_hook_ns(unsigned int idx)
{
	u64 n = 0;
	int cpu;

	if (idx >= ARRAY_SIZE(escguard_pcpu.hook_time))
		return 0;
	/* A sum of counters that keep moving: exact once the hooks are quiet. */
	for_each_possible_cpu(cpu)
		n += READ_ONCE(per_cpu_ptr(&escguard_pcpu, cpu)->hook_time[idx]);
	if (idx == 4) {
		/* Sampled: the timed calls' time, scaled to all calls. */
		u64 calls = 0, timed = 0;

		for_each_possible_cpu(cpu) {
			calls += READ_ONCE(per_cpu_ptr(&escguard_pcpu, cpu)->count[ESCGUARD_PC_HOOK_OPEN]);
			timed += READ_ONCE(per_cpu_ptr(&escguard_pcpu, cpu)->open_timed);
		}
		n = timed ? mul_u64_u64_div_u64(n, calls, timed) : 0;
	}
	return n;
}

void escguard_pcpu_inc(unsigned int idx)
{
	/* this_cpu_inc() is safe with preemption on (ioctl context) or off
	 * (handlers). */
	if (idx < ESCGUARD_PC_COUNT)
		this_cpu_inc(escguard_pcpu.count[idx]);
}

u64 escguard_pcpu_sum(unsigned int idx)
{
	u64 n = 0;
	int cpu;

	if (idx >= ESCGUARD_PC_COUNT)
		return 0;
	for_each_possible_cpu(cpu)
		n += READ_ONCE(per_cpu_ptr(&escguard_pcpu, cpu)->count[idx]);
	return n;
}

u64 escguard_probes_missed(void)
{
	u64 n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += READ_ONCE(*per_cpu_ptr(&escguard_hook_missed, cpu));
	return n;
}

/* ------------------------------------------------------------------ */
/* Task key information                                               */


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
 * are RCU-freed, so the walk is safe under rcu_read_lock(). A rename that
 * races the optimistic pass makes the second pass hold rename_lock
 * exclusively, as prepend_path() does: the answer is always exact, never a
 * guess that a rename storm could steer.
 */
static u32 escguard_walk(const struct path *p, const struct escguard_fsid *origin)
{
	bool connected, under;
	int seq = 0;

	rcu_read_lock();
again:
	connected = under = false;
	read_seqbegin_or_lock(&rename_lock, &seq);
	{
		struct dentry *d = p->dentry;

		for (;;) {
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
	}
	if (need_seqretry(&rename_lock, seq)) {
		seq = 1;
		goto again;
	}
	done_seqretry(&rename_lock, seq);
	rcu_read_unlock();
	return (connected ? 0 : ESCGUARD_FS_DISCONNECTED) | (under ? ESCGUARD_FS_UNDER_ORIGIN : 0);
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

/* The namespaces an nsproxy holds (none while the task exits); the caller
 * pins @nsp (task_lock, or @nsp is current's own). */
static void escguard_fill_ns(const struct nsproxy *nsp, struct escguard_kinfo *out)
{
	if (!nsp)
		return;
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

/* Clears @out and fills in who @t is: the start of both task-info readers. */
static void escguard_fill_identity(const struct task_struct *t, struct escguard_kinfo *out)
{
	memset(out, 0, sizeof(*out));
	out->task_id = (unsigned long)t;
	out->pid = t->pid;
	out->tgid = t->tgid;
	out->kthread = !!(t->flags & PF_KTHREAD);
}

void escguard_task_info(struct task_struct *t, const struct escguard_fsref *ref,
			struct escguard_kinfo *out)
{
	const struct cred *cred;
	struct pid_namespace *pidns;
	struct fs_struct *fs;

	escguard_fill_identity(t, out);

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
	escguard_fill_ns(t->nsproxy, out);
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

void escguard_current_facts(struct escguard_kinfo *out)
{
	struct task_struct *t = current;
	struct pid_namespace *pidns;
	struct fs_struct *fs;
	unsigned int seq;

	escguard_fill_identity(t, out);
	rcu_read_lock();
	/* The real credentials, as escguard_task_info() reads them (not an
	 * override_creds() in effect, e.g. overlayfs opening a lower file). */
	out->ns[ESCGUARD_NS_USER] = __task_cred(t)->user_ns->ns.inum;
	pidns = task_active_pid_ns(t);
	if (pidns)
		out->ns[ESCGUARD_NS_PID] = pidns->ns.inum;
	/* Only current replaces current->nsproxy (setns, unshare, exit). */
	escguard_fill_ns(t->nsproxy, out);
	/* Only current replaces current->fs; a thread sharing it may chdir
	 * meanwhile, which fs->seq detects (as get_fs_root_rcu() does).
	 * Dentries and mounts are RCU-freed, so reading through the copied
	 * paths is safe under rcu_read_lock() even if they were just replaced. */
	fs = t->fs;
	if (fs) {
		out->has_fs = 1;
		do {
			seq = read_seqcount_begin(&fs->seq);
			escguard_fill_fsid(&fs->root, &out->root);
			escguard_fill_fsid(&fs->pwd, &out->cwd);
		} while (read_seqcount_retry(&fs->seq, seq));
	}
	rcu_read_unlock();
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
	if (t->fs)
		escguard_host_root_dentry = t->fs->root.dentry;
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

/* ------------------------------------------------------------------ */
/* Facts about files, for the rules                                   */

void escguard_file_facts(struct file *file, struct escguard_file_facts *out)
{
	struct inode *inode = file_inode(file);
	struct mnt_namespace *ns = READ_ONCE(real_mount(file->f_path.mnt)->mnt_ns);

	struct dentry *d = file->f_path.dentry;

	memset(out, 0, sizeof(*out));
	out->magic = d->d_sb->s_magic;
	out->dev = new_encode_dev(d->d_sb->s_dev);
	out->ino = inode->i_ino;
	out->mode = inode->i_mode;
	out->init_userns = d->d_sb->s_user_ns == &init_user_ns;

	out->fmode = ((file->f_mode & FMODE_READ) ? ESCGUARD_PF_READ : 0) |
		     ((file->f_mode & FMODE_WRITE) ? ESCGUARD_PF_WRITE : 0);
	/* Compared by address to the host's only; an anonymous or detached
	 * mount has no namespace worth naming. */
	if (!IS_ERR_OR_NULL(ns)) {
		out->mnt_ns = ns->ns.inum;
		out->host_mnt_ns = ns == escguard_host_mnt_ns;
	}
}

u32 escguard_file_classify(struct file *file, const struct escguard_fsref *ref)
{
	return escguard_classify(&file->f_path, ref);
}

int escguard_file_held(struct file *file)
{
	fmode_t want = file->f_mode & (FMODE_READ | FMODE_WRITE);
	struct files_struct *files = current->files;
	struct fdtable *fdt;
	unsigned int fd;
	int held = 0;

	if (!files)
		return 0;
	/* Only current changes its own table's size; a descriptor may be
	 * closed meanwhile (files are RCU-freed: a stale match only says the
	 * task held the object a moment ago). The open being checked is not
	 * installed yet, so it never matches itself. */
	rcu_read_lock();
	fdt = files_fdtable(files);
	for (fd = find_first_bit(fdt->open_fds, fdt->max_fds); fd < fdt->max_fds;
	     fd = find_next_bit(fdt->open_fds, fdt->max_fds, fd + 1)) {
		struct file *f = rcu_dereference_raw(fdt->fd[fd]);

		if (f && f->f_path.dentry == file->f_path.dentry &&
		    f->f_path.mnt == file->f_path.mnt && (f->f_mode & want) == want) {
			held = 1;
			break;
		}
	}
	rcu_read_unlock();
	return held;
}

int escguard_for_each_dir_fd(int (*cb)(void *ctx, struct file *file), void *ctx)
{
	struct files_struct *files = current->files;
	unsigned int fd = 0;
	int ret = 0;

	if (!files)
		return 0;
	for (;;) {
		struct fdtable *fdt;
		struct file *f;

		rcu_read_lock();
		fdt = files_fdtable(files);
		fd = find_next_bit(fdt->open_fds, fdt->max_fds, fd);
		if (fd >= fdt->max_fds) {
			rcu_read_unlock();
			break;
		}
		rcu_read_unlock();
		/* A reference of our own: another thread may close it. fput()
		 * defers the final release, so it is safe here. */
		f = fget_raw(fd);
		if (f) {
			if (S_ISDIR(file_inode(f)->i_mode))
				ret = cb(ctx, f);
			fput(f);
		}
		if (ret)
			break;
		fd++;
	}
	return ret;
}

int escguard_kernel_preempt_rt(void)
{
	return IS_ENABLED(CONFIG_PREEMPT_RT);
}

void escguard_file_sbpath(struct file *file, char *buf, unsigned int len)
{
	if (len)
		escguard_render_raw(&file->f_path, buf, len);
}

void escguard_file_path(struct file *file, char *buf, unsigned int len)
{
	if (len)
		escguard_render_exe(file, buf, len);
}

int escguard_file_for_each_ancestor(struct file *file,
				    int (*cb)(void *ctx, const struct escguard_fsid *id), void *ctx)
{
	struct dentry *d = file->f_path.dentry;
	int ret = 0;

	/* Dentries are RCU-freed: memory-safe. A rename racing the walk can
	 * only move the file while the exec that judges it is in flight. */
	rcu_read_lock();
	for (;;) {
		struct dentry *parent = READ_ONCE(d->d_parent);
		struct inode *inode = d_inode_rcu(d);
		struct escguard_fsid id = {
			.dev = new_encode_dev(d->d_sb->s_dev),
			.ino = inode ? inode->i_ino : 0,
		};

		ret = cb(ctx, &id);
		if (ret || parent == d)
			break;
		d = parent;
	}
	rcu_read_unlock();
	return ret;
}

void escguard_task_info_light(struct task_struct *t, struct escguard_kinfo *out)
{
	const struct cred *cred;

	/* For hooks that run under task_lock of some task: no task_lock, no
	 * fs or namespaces; comm is read racily (as /proc does). */
	memset(out, 0, sizeof(*out));
	out->task_id = (unsigned long)t;
	out->pid = t->pid;
	out->tgid = t->tgid;
	out->kthread = !!(t->flags & PF_KTHREAD);
	rcu_read_lock();
	out->ppid = task_tgid_nr(rcu_dereference(t->real_parent));
	cred = __task_cred(t);
	out->uid = from_kuid_munged(&init_user_ns, cred->uid);
	rcu_read_unlock();
	memcpy(out->comm, t->comm, sizeof(out->comm));
	out->comm[sizeof(out->comm) - 1] = '\0';
}
