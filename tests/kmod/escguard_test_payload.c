// SPDX-License-Identifier: GPL-2.0
/*
 * TEST ONLY. Simulates the end state of a kernel privilege-escalation
 * exploit run from a container: after corrupting the kernel, real exploits
 * call commit_creds(prepare_kernel_cred(&init_task)),
 * switch_task_namespaces(current, <init's nsproxy>) and copy init's fs root
 * and cwd. Writing anything to /proc/escguard_test_payload does exactly that
 * to the writing task, so the suite can check that escguard stops the task
 * before it runs a command on the host. Writing "ns" switches only the
 * namespaces, "fs" only root and cwd (each alone must be caught too, also by
 * a task whose open verdict is cached). Never load this outside the test
 * guest.
 */
#include <linux/cred.h>
#include <linux/fs_struct.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/nsproxy.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/sched/task.h>
#include <linux/uaccess.h>
#include <asm/ibt.h>

static void (*p_switch_task_namespaces)(struct task_struct *, struct nsproxy *);
static void (*p_set_fs_root)(struct fs_struct *, const struct path *);
static void (*p_set_fs_pwd)(struct fs_struct *, const struct path *);
static void (*p_free_nsproxy)(struct nsproxy *);

/* Unexported symbols, found the way out-of-tree exploit kits do: through a
 * kprobe. A probe at a function entry sits after its ENDBR, if any. */
static void *lookup(const char *name)
{
	struct kprobe kp = { .symbol_name = name };
	unsigned long addr;
	u32 insn;

	if (register_kprobe(&kp) < 0)
		return NULL;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	if (!get_kernel_nofault(insn, (u32 *)(addr - ENDBR_INSN_SIZE)) && is_endbr(insn))
		addr -= ENDBR_INSN_SIZE;
	return (void *)addr;
}

static ssize_t payload_write(struct file *file, const char __user *buf,
			     size_t len, loff_t *ppos)
{
	struct task_struct *init;
	struct nsproxy *nsp;
	struct path root, pwd;
	struct cred *cred;
	char what[8] = {};
	bool ns = true, fs = true, raw = false;

	if (copy_from_user(what, buf, min(len, sizeof(what) - 1)))
		return -EFAULT;
	/* "raw...": the nsproxy pointer written directly, as an exploit with
	 * a kernel write primitive does, through no function a hook sees. */
	if (!strncmp(what, "raw", 3)) {
		raw = true;
		memmove(what, what + 3, sizeof(what) - 3);
	}
	if (!strncmp(what, "ns", 2))
		fs = false;
	else if (!strncmp(what, "fs", 2))
		ns = false;

	rcu_read_lock();
	init = pid_task(find_pid_ns(1, &init_pid_ns), PIDTYPE_PID);
	if (init)
		get_task_struct(init);
	rcu_read_unlock();
	if (!init)
		return -ESRCH;

	if (ns && fs) {
		cred = prepare_kernel_cred(&init_task);
		if (!cred) {
			put_task_struct(init);
			return -ENOMEM;
		}
		commit_creds(cred);
	}

	task_lock(init);
	nsp = init->nsproxy;
	if (ns)
		get_nsproxy(nsp);
	get_fs_root(init->fs, &root);
	get_fs_pwd(init->fs, &pwd);
	task_unlock(init);

	if (ns && raw) {
		struct nsproxy *old;

		task_lock(current);
		old = current->nsproxy;
		current->nsproxy = nsp;
		task_unlock(current);
		if (refcount_dec_and_test(&old->count))
			p_free_nsproxy(old);
	} else if (ns) {
		p_switch_task_namespaces(current, nsp);
	}
	if (fs) {
		p_set_fs_root(current->fs, &root);
		p_set_fs_pwd(current->fs, &pwd);
	}
	path_put(&root);
	path_put(&pwd);
	put_task_struct(init);
	pr_info("escguard_test_payload: pid %d now has init's %s\n", current->pid,
		ns && fs ? "creds, namespaces and root" : ns ? "namespaces" : "root and cwd");
	return len;
}

static const struct proc_ops payload_ops = {
	.proc_write = payload_write,
};

static struct proc_dir_entry *entry;

static int __init payload_init(void)
{
	p_switch_task_namespaces = lookup("switch_task_namespaces");
	p_set_fs_root = lookup("set_fs_root");
	p_set_fs_pwd = lookup("set_fs_pwd");
	p_free_nsproxy = lookup("free_nsproxy");
	if (!p_switch_task_namespaces || !p_set_fs_root || !p_set_fs_pwd || !p_free_nsproxy)
		return -ENOENT;
	entry = proc_create("escguard_test_payload", 0222, NULL, &payload_ops);
	return entry ? 0 : -ENOMEM;
}

static void __exit payload_exit(void)
{
	proc_remove(entry);
}

module_init(payload_init);
module_exit(payload_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("TEST ONLY: simulated kernel-exploit payload for escguard's test suite");
