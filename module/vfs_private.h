/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The three private VFS structures escguard reads, copied verbatim from
 * Linux 6.12 (fs/mount.h: struct mnt_namespace, struct mount,
 * real_mount(); fs/proc/internal.h: struct proc_inode, proc_pid()). The
 * kernel exports no function for a mount's namespace or id, or a procfs
 * inode's pid, and a kernel headers package does not ship fs/: with this
 * copy the module builds against a packaged build tree (`make -C
 * /lib/modules/$(uname -r)/build M=...`), not only a full source tree.
 *
 * A copy can drift from the kernel it is loaded into, so the module checks
 * at load, against exported API, that the copy reads right (module/sys/vfs.rs,
 * verify_private_layout): a mount's namespace against the task's nsproxy,
 * its id against vfs_getattr_nosec(STATX_MNT_ID), a procfs inode's pid
 * against get_task_pid(). A mismatch refuses the load with an error; it
 * never reads a wrong field. The fields are all the kernel's, in its order,
 * so that CONFIG_RANDSTRUCT shuffles them the same way.
 */
#ifndef ESCGUARD_VFS_PRIVATE_H
#define ESCGUARD_VFS_PRIVATE_H

#include <linux/version.h>
#include <linux/mount.h>
#include <linux/ns_common.h>
#include <linux/proc_fs.h>
#include <linux/rbtree.h>
#include <linux/wait.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0) || LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#error "module/vfs_private.h is a copy of Linux 6.12's private VFS structures"
#endif

/* TEST ONLY: the guest suite's skewed builds (-DESCGUARD_TEST_VFS_SKEW=N,
 * scripts/build-all.sh) each move one member the module reads (1: a mount's
 * mnt_ns, 2: its mnt_id, 3: a procfs inode's pid, 4: a mount namespace's
 * inode number, 5: a mount's rbtree node, 6: its parent, 7: a namespace's
 * mount tree): a copy that no longer matches the kernel, to prove that
 * each load-time check refuses it. */
#ifndef ESCGUARD_TEST_VFS_SKEW
#define ESCGUARD_TEST_VFS_SKEW 0
#endif

/* fs/mount.h */
struct mnt_namespace {
#if ESCGUARD_TEST_VFS_SKEW == 4
	void *escguard_test_skew;
#endif
	struct ns_common	ns;
	struct mount *	root;
#if ESCGUARD_TEST_VFS_SKEW == 7
	void *escguard_test_skew;
#endif
	struct rb_root		mounts; /* Protected by namespace_sem */
	struct user_namespace	*user_ns;
	struct ucounts		*ucounts;
	u64			seq;	/* Sequence number to prevent loops */
	wait_queue_head_t poll;
	u64 event;
	unsigned int		nr_mounts; /* # of mounts in the namespace */
	unsigned int		pending_mounts;
	struct rb_node		mnt_ns_tree_node; /* node in the mnt_ns_tree */
	refcount_t		passive; /* number references not pinning @mounts */
} __randomize_layout;

struct mnt_pcp {
	int mnt_count;
	int mnt_writers;
};

struct mount {
	struct hlist_node mnt_hash;
	struct mount *mnt_parent;
#if ESCGUARD_TEST_VFS_SKEW == 6
	void *escguard_test_skew;
#endif
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
#if ESCGUARD_TEST_VFS_SKEW == 5
	void *escguard_test_skew;
#endif
	union {
		struct rb_node mnt_node; /* node in the ns->mounts rbtree */
		struct rcu_head mnt_rcu;
		struct llist_node mnt_llist;
	};
#ifdef CONFIG_SMP
	struct mnt_pcp __percpu *mnt_pcp;
#else
	int mnt_count;
	int mnt_writers;
#endif
	struct list_head mnt_mounts;	/* list of children, anchored here */
	struct list_head mnt_child;	/* and going through their mnt_child */
	struct list_head mnt_instance;	/* mount instance on sb->s_mounts */
	const char *mnt_devname;	/* Name of device e.g. /dev/dsk/hda1 */
	struct list_head mnt_list;
	struct list_head mnt_expire;	/* link in fs-specific expiry list */
	struct list_head mnt_share;	/* circular list of shared mounts */
	struct list_head mnt_slave_list;/* list of slave mounts */
	struct list_head mnt_slave;	/* slave list entry */
	struct mount *mnt_master;	/* slave is on master->mnt_slave_list */
	/*
	 * Containing namespace (active or deactivating, non-refcounted).
	 * Normally protected by namespace_sem.
	 * Can also be accessed locklessly under RCU. RCU readers can't rely on
	 * the namespace still being active, but implicitly hold a passive
	 * reference (because an RCU delay happens between a namespace being
	 * deactivated and the corresponding passive refcount drop).
	 */
#if ESCGUARD_TEST_VFS_SKEW == 1
	void *escguard_test_skew;
#endif
	struct mnt_namespace *mnt_ns;
	struct mountpoint *mnt_mp;	/* where is it mounted */
	union {
		struct hlist_node mnt_mp_list;	/* list mounts with the same mountpoint */
		struct hlist_node mnt_umount;
	};
	struct list_head mnt_umounting; /* list entry for umount propagation */
#ifdef CONFIG_FSNOTIFY
	struct fsnotify_mark_connector __rcu *mnt_fsnotify_marks;
	__u32 mnt_fsnotify_mask;
#endif
#if ESCGUARD_TEST_VFS_SKEW == 2
	void *escguard_test_skew;
#endif
	int mnt_id;			/* mount identifier, reused */
	u64 mnt_id_unique;		/* mount ID unique until reboot */
#if ESCGUARD_TEST_VFS_SKEW == 8
	void *escguard_test_skew;
#endif
	int mnt_group_id;		/* peer group identifier */
	int mnt_expiry_mark;		/* true if marked for expiry */
	struct hlist_head mnt_pins;
	struct hlist_head mnt_stuck_children;
} __randomize_layout;

static inline struct mount *real_mount(struct vfsmount *mnt)
{
	return container_of(mnt, struct mount, mnt);
}

/* fs/proc/internal.h */
union proc_op {
	int (*proc_get_link)(struct dentry *, struct path *, struct task_struct *);
	int (*proc_show)(struct seq_file *m,
		struct pid_namespace *ns, struct pid *pid,
		struct task_struct *task);
	int lsmid;
};

struct proc_inode {
	struct pid *pid;
#if ESCGUARD_TEST_VFS_SKEW == 3
	void *escguard_test_skew;
#endif
	unsigned int fd;
	union proc_op op;
	struct proc_dir_entry *pde;
	struct ctl_table_header *sysctl;
	struct ctl_table *sysctl_entry;
	struct hlist_node sibling_inodes;
	const struct proc_ns_operations *ns_ops;
	struct inode vfs_inode;
} __randomize_layout;

static inline struct proc_inode *PROC_I(const struct inode *inode)
{
	return container_of(inode, struct proc_inode, vfs_inode);
}

static inline struct pid *proc_pid(const struct inode *inode)
{
	return PROC_I(inode)->pid;
}

#endif /* ESCGUARD_VFS_PRIVATE_H */
