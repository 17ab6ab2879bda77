// SPDX-License-Identifier: GPL-2.0
/*
 * C glue for escguard, where the 6.12 Rust `kernel` crate cannot reach:
 * module parameters, the misc device with its wait queue, per-CPU data,
 * the hooks' ftrace_ops objects, callbacks and trampolines (registered by
 * Rust, module/sys/ftrace.rs), the symbol lookup through disabled kprobes,
 * and one-line accessors for inline functions, locks and RCU. It decides
 * nothing: every hook calls Rust (module/sys/hooks.rs), which finds the
 * hooked function, reads the arguments and judges.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/binfmts.h>
#include <linux/cgroup.h>
#include <linux/file.h>
#include <linux/fs_struct.h>
#include <linux/ftrace.h>
#include <linux/ipc_namespace.h>
#include <linux/irq_work.h>
#include <linux/kprobes.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/nsproxy.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/proc_fs.h>
#include <linux/sched/clock.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/time_namespace.h>
#include <linux/uaccess.h>
#include <linux/utsname.h>
#include <net/af_unix.h>
#include <net/net_namespace.h>
#include <asm/asm.h>
#include <asm/ibt.h>
#include <asm/linkage.h>
#include <asm/nospec-branch.h>

/* Linux 6.12's private VFS structures (a mount's namespace and id, a
 * procfs inode's pid), copied: checked at load by module/sys/vfs.rs. */
#include "vfs_private.h"

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
int escguard_param_events_gid(void) { return events_gid; }
u32 escguard_param_locked(void) { return locked; }

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

void escguard_wake_sync(void)
{
	irq_work_sync(&escguard_wake_work);
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

int escguard_misc_register(void *ctx, u16 mode)
{
	int ret;

	escguard_ctx = ctx;
	escguard_misc.mode = mode;
	ret = misc_register(&escguard_misc);
	if (ret)
		escguard_ctx = NULL;
	return ret;
}

void escguard_misc_deregister(void)
{
	misc_deregister(&escguard_misc);
	escguard_wake_sync();
	escguard_ctx = NULL;
}

/* ------------------------------------------------------------------ */
/* Per-CPU counters and hook time                                     */

/* Per CPU: a global atomic on every hooked call would bounce one cache
 * line between all CPUs of a large host. */
struct escguard_pcpu {
	u64 count[ESCGUARD_PC_COUNT];
};
/* Not static: Rust increments it in place (sys.rs, PcpuCounter). */
DECLARE_PER_CPU(struct escguard_pcpu, escguard_pcpu);
DEFINE_PER_CPU(struct escguard_pcpu, escguard_pcpu);

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

/* Handler scratch: hooks never nest on a CPU (a second hit is counted as
 * missed) and run with preemption off, so one buffer per CPU serves every
 * handler without using the stack of deep call chains. */
static DEFINE_PER_CPU(struct escguard_scratch, escguard_pcpu_scratch);

struct escguard_scratch *escguard_scratch(void)
{
	return this_cpu_ptr(&escguard_pcpu_scratch);
}

/* ------------------------------------------------------------------ */
/* Accessors: kernel inline functions and lock primitives, for Rust   */

void escguard_rcu_read_lock(void) { rcu_read_lock(); }
void escguard_rcu_read_unlock(void) { rcu_read_unlock(); }
void escguard_task_lock(struct task_struct *t) { task_lock(t); }
void escguard_task_unlock(struct task_struct *t) { task_unlock(t); }
unsigned int escguard_fs_seq_begin(struct fs_struct *fs) { return read_seqcount_begin(&fs->seq); }
int escguard_fs_seq_retry(struct fs_struct *fs, unsigned int seq) { return read_seqcount_retry(&fs->seq, seq); }
void escguard_rename_seq_begin(int *seq) { read_seqbegin_or_lock(&rename_lock, seq); }
int escguard_rename_seq_retry(int seq) { return need_seqretry(&rename_lock, seq); }
void escguard_rename_seq_done(int seq) { done_seqretry(&rename_lock, seq); }
void escguard_preempt_disable(void) { preempt_disable_notrace(); }
void escguard_preempt_enable(void) { preempt_enable_notrace(); }

void escguard_nsproxy_inums(const struct nsproxy *nsp, u64 *ns)
{
	ns[ESCGUARD_NS_MNT] = escguard_mnt_ns_inum(nsp->mnt_ns);
	ns[ESCGUARD_NS_PID_CHILD] = nsp->pid_ns_for_children ? nsp->pid_ns_for_children->ns.inum : 0;
	ns[ESCGUARD_NS_NET] = nsp->net_ns->ns.inum;
	ns[ESCGUARD_NS_UTS] = nsp->uts_ns->ns.inum;
	ns[ESCGUARD_NS_IPC] = nsp->ipc_ns->ns.inum;
#ifdef CONFIG_CGROUPS
	ns[ESCGUARD_NS_CGROUP] = nsp->cgroup_ns->ns.inum;
#endif
#ifdef CONFIG_TIME_NS
	ns[ESCGUARD_NS_TIME] = nsp->time_ns->ns.inum;
#endif
}

bool escguard_cgroup_live(u64 id)
{
	struct cgroup *c = cgroup_get_from_id(id);

	return !IS_ERR(c) && (cgroup_put(c), true);
}

u64 escguard_task_pid_ns_inum(struct task_struct *t)
{
	struct pid_namespace *ns = task_active_pid_ns(t);

	return ns ? ns->ns.inum : 0;
}

u64 escguard_proc_sb_pid_ns_inum(struct super_block *sb)
{
	struct pid_namespace *ns = proc_sb_info(sb)->pid_ns;

	return ns ? ns->ns.inum : 0;
}

struct file *escguard_bprm_file(const struct linux_binprm *bprm) { return bprm->file; }
long escguard_current_syscall(void) { return task_pt_regs(current)->orig_ax; }

const struct path *escguard_unix_path(struct sock *sk)
{ return unix_sk(sk)->path.dentry ? &unix_sk(sk)->path : NULL; }

void escguard_for_each_task(void (*cb)(void *ctx, struct task_struct *t), void *ctx)
{
	struct task_struct *g, *t;

	rcu_read_lock();
	for_each_process_thread(g, t)
		cb(ctx, t);
	rcu_read_unlock();
}

/* The only readers of vfs_private.h: a mount's namespace, id, parent, mount point and peer
 * groups, a procfs inode's pid. */
const void *escguard_mnt_ns(struct vfsmount *mnt) { return READ_ONCE(real_mount(mnt)->mnt_ns); }
u32 escguard_mnt_id(struct vfsmount *mnt) { return real_mount(mnt)->mnt_id; }
u64 escguard_mnt_ns_inum(const void *ns)
{
	return IS_ERR_OR_NULL(ns) ? 0 : ((const struct mnt_namespace *)ns)->ns.inum;
}
struct pid *escguard_proc_pid(struct inode *inode) { return proc_pid(inode); }
int escguard_mnt_ns_top_nofault(const void *ns, struct rb_node **top)
{
	return get_kernel_nofault(*top, &((const struct mnt_namespace *)ns)->mounts.rb_node);
}
int escguard_rb_node_nofault(const struct rb_node *n, struct rb_node *out)
{
	return copy_from_kernel_nofault(out, n, sizeof(*out));
}
struct vfsmount *escguard_mnt_of_node(struct rb_node *n) { return &rb_entry(n, struct mount, mnt_node)->mnt; }
int escguard_mnt_nofault(struct vfsmount *mnt, struct dentry **root, struct vfsmount **parent, int *flags,
			 struct dentry **mountpoint, int *group, int *master_group)
{
	struct mount *p, *m = real_mount(mnt), *master;

	if (get_kernel_nofault(*root, &mnt->mnt_root) || get_kernel_nofault(*flags, &mnt->mnt_flags)
	    || get_kernel_nofault(p, &m->mnt_parent) || get_kernel_nofault(*mountpoint, &m->mnt_mountpoint)
	    || get_kernel_nofault(*group, &m->mnt_group_id) || get_kernel_nofault(master, &m->mnt_master))
		return -EFAULT;
	*parent = &p->mnt;
	*master_group = 0;
	return master && get_kernel_nofault(*master_group, &master->mnt_group_id) ? -EFAULT : 0;
}
int escguard_kern_path_follow(const char *name, struct path *p) { return kern_path(name, LOOKUP_FOLLOW, p); }

/* ------------------------------------------------------------------ */
/* Hooks                                                              */

/*
 * Hooks: ftrace_ops of ours on functions' entries, saving the registers;
 * why ftrace, IPMODIFY and a direct call for open: module/sys/ftrace.rs.
 *
 * Where a refused call resumes instead of the function's body: a plain
 * return to its caller with the errno in %rax, as the kernel's (unexported)
 * override_function_with_return() does. A BPF trampoline that ftrace runs
 * after us may clobber %rax on its way back, so the common -EPERM is set
 * by the stub itself.
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

static unsigned long escguard_refusal(int err)
{
	return err == -EPERM ? (unsigned long)&escguard_return_eperm
			     : (unsigned long)&escguard_just_return;
}

/* Two ftrace_ops carry every hook: one that only observes, one that may
 * redirect (IPMODIFY). */
#define ESCGUARD_OPS_FLAGS (FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_PERMANENT | \
			    FTRACE_OPS_FL_RECURSION)

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

/* Every hook's entry: Rust finds the site of @ip, reads the arguments from
 * @regs and answers 0 or the errno the call fails with (only a refusing
 * hook answers one); the call then resumes at a stub that returns it
 * (IPMODIFY), instead of the function's body. */
static void notrace escguard_hook_func(unsigned long ip, unsigned long parent_ip,
				       struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);
	int bit, ret;

	/* Also disables preemption, as the handlers expect. */
	bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (bit < 0) {
		this_cpu_inc(escguard_pcpu.count[ESCGUARD_PC_HOOK_MISSED]);
		return;
	}
	ret = escguard_rs_hook(ip, op == &escguard_refuse_ops, regs);
	if (ret) {
		regs_set_return_value(regs, ret);
		regs->ip = escguard_refusal(ret);
	}
	ftrace_test_recursion_unlock(bit);
}

/* ------------------------------------------------------------------ */
/* The open hook: a direct call to escguard_open_tramp on
 * security_file_open(), or the ftrace callback escguard_open_ftrace. */
static char open_hook[ESCGUARD_OPEN_HOOK_LEN] = "direct";
module_param_string(open_hook, open_hook, sizeof(open_hook), 0444);
MODULE_PARM_DESC(open_hook, "How the file-open hook attaches: direct (default; falls back to ftrace if security_file_open already has a direct call, e.g. a BPF fentry program) or ftrace; reads back the mode in effect");

/*
 * The direct-call trampoline, entered as if called from
 * security_file_open()'s first instruction: the return address leads into
 * its body, %rdi holds its argument (kept for the body; the other
 * registers are free at entry, as the BPF trampoline also assumes). To
 * refuse, it replaces that return address with escguard_just_return and
 * leaves the errno in %rax: the caller gets the error, the body never runs.
 */
asmlinkage void escguard_open_tramp(void);
asm(
	".pushsection .text, \"ax\", @progbits\n"
	".type escguard_open_tramp, @function\n"
	ASM_FUNC_ALIGN
	"escguard_open_tramp:\n"
	ASM_ENDBR
	CALL_DEPTH_ACCOUNT
	"	pushq %rdi\n"
	"	call escguard_rs_open_hook\n"
	"	popq %rdi\n"
	"	testl %eax, %eax\n"
	"	jnz 1f\n"
	ASM_RET
	"1:	leaq escguard_just_return(%rip), %rdx\n"
	"	movq %rdx, (%rsp)\n"
	ASM_RET
	".size escguard_open_tramp, .-escguard_open_tramp\n"
	".popsection\n"
);

/* The fallback hook: an ftrace_ops callback on security_file_open(). */
static void notrace escguard_open_ftrace(unsigned long ip, unsigned long parent_ip,
					 struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct file *file = (struct file *)ftrace_regs_get_argument(fregs, 0);
	int ret = escguard_rs_open_hook(file);

	if (ret < 0) {
		ftrace_regs_set_return_value(fregs, ret);
		ftrace_regs_set_instruction_pointer(fregs, escguard_refusal(ret));
	}
}

/* register_ftrace_direct() gives the ops its own func and flags. */
static struct ftrace_ops escguard_open_direct_ops;

/* IPMODIFY: see module/sys/ftrace.rs. */
static struct ftrace_ops escguard_open_ftrace_ops = {
	.func = escguard_open_ftrace,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_PERMANENT,
};

/*
 * Each site's address by name, through a kprobe registered disabled (never
 * armed) and removed at once: the kernel exports no other name lookup
 * (module/sys/ftrace.rs says why not ftrace_set_filter() by name). 0 for a
 * name a kprobe cannot resolve.
 */
int escguard_hooks_resolve(const struct escguard_hook_site *sites, u32 nsites, unsigned long *addrs)
{
	struct kprobe *kp = kcalloc(nsites, sizeof(*kp), GFP_KERNEL);
	struct kprobe **kps = kcalloc(nsites, sizeof(*kps), GFP_KERNEL);
	unsigned int i, n = 0;
	int ret = -ENOMEM;

	if (kp && kps) {
		for (i = 0; i < nsites; i++) {
			kp[i].symbol_name = sites[i].sym;
			kp[i].flags = KPROBE_FLAG_DISABLED;
			if (!register_kprobe(&kp[i])) {
				addrs[i] = (unsigned long)kp[i].addr;
				kps[n++] = &kp[i];
			}
		}
		if (n)
			unregister_kprobes(kps, n);
		ret = 0;
	}
	kfree(kp);
	kfree(kps);
	return ret;
}

/* The ftrace objects Rust registers (module/sys/ftrace.rs). */
struct ftrace_ops *escguard_ops_observe(void) { return &escguard_observe_ops; }
struct ftrace_ops *escguard_ops_refuse(void) { return &escguard_refuse_ops; }
struct ftrace_ops *escguard_ops_open_direct(void) { return &escguard_open_direct_ops; }
struct ftrace_ops *escguard_ops_open_ftrace(void) { return &escguard_open_ftrace_ops; }
unsigned long escguard_open_tramp_addr(void) { return (unsigned long)escguard_open_tramp; }
char *escguard_param_open_hook(void) { return open_hook; }
