/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * escguard user/kernel ABI: the only definition of /dev/escguard's ioctls and
 * records. The module and escguardctl both get it through bindgen; nobody
 * retypes it.
 *
 * Rules for changing it:
 *  - Every struct is fixed-size, naturally aligned, with explicit padding
 *    fields (no implicit padding: the kernel copies whole structs to user
 *    space and must not leak uninitialised bytes).
 *  - A change that alters an existing layout or meaning bumps
 *    ESCGUARD_ABI_MAJOR; adding an ioctl or using a reserved field bumps
 *    ESCGUARD_ABI_MINOR. A client refuses a module whose major differs.
 *  - ESCGUARD_IOC_VERSION never changes, so any client can always ask.
 */
#ifndef ESCGUARD_ABI_H
#define ESCGUARD_ABI_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define ESCGUARD_ABI_MAJOR 1
#define ESCGUARD_ABI_MINOR 0

#define ESCGUARD_DEVICE_NAME "escguard"
#define ESCGUARD_VERSION_LEN 32

/* Enforcement modes (escguard_status.mode). */
#define ESCGUARD_MODE_MONITOR 0 /* detect and report only */
#define ESCGUARD_MODE_ENFORCE 1 /* detect, report and SIGKILL */

/* Returned by ESCGUARD_IOC_VERSION; layout frozen forever. */
struct escguard_version {
	__u32 abi_major;
	__u32 abi_minor;
	char module_version[ESCGUARD_VERSION_LEN]; /* NUL-terminated */
};

/* Identity of what a root or cwd points at (not a pointer value). */
struct escguard_fsid {
	__u64 dev;      /* superblock device, encoded as stat(2)'s st_dev */
	__u64 ino;      /* dentry inode number */
	__u32 mnt_id;   /* mount id, as /proc/PID/mountinfo */
	__u32 pad;
};

/* Returned by ESCGUARD_IOC_STATUS. */
struct escguard_status {
	__u32 abi_major;
	__u32 abi_minor;
	__u32 mode;            /* ESCGUARD_MODE_* */
	__u32 probes;          /* number of registered probes */
	__u64 loaded_ns;       /* ktime_get_real_ns() at module load */
	__u64 opens;           /* successful opens of /dev/escguard */
	__u64 ioctls;          /* ioctls answered (any result) */
	__u64 tasks_host;      /* tracked tasks of host lineage */
	__u64 tasks_container; /* tracked tasks of container lineage */
	__u64 hook_fork;       /* probe handler invocations, per hook */
	__u64 hook_exec;
	__u64 hook_exit;
	__u64 probes_missed;   /* handler runs skipped by kprobes (recursion) */
	__u64 verdicts;        /* escape verdicts reached */
	__u64 kills;           /* SIGKILLs sent */
	__u64 events_emitted;  /* events queued for readers */
	__u64 events_dropped;  /* events lost: ring full or no memory */
	__u64 events_queued;   /* events waiting to be read now */
	__u64 alloc_failures;  /* table allocations that failed (never fatal) */
	__u64 untracked;       /* hooks that met a task missing from the table */
	__u64 baseline_ns[9];  /* host baseline inode numbers, ESCGUARD_NS_* order */
	struct escguard_fsid baseline_root; /* host baseline root */
	__u64 ring_capacity;   /* events the ring holds */
	__u64 tid_swaps_lost;  /* multi-threaded execs not re-keyed (slots full) */
	__u64 hook_ns_fork;    /* nanoseconds spent in each hook since load */
	__u64 hook_ns_exec;
	__u64 hook_ns_exit;
	__u64 reserved[3];     /* zero; future counters */
};

/* Namespace kinds, in the order of every ns array in this header. */
#define ESCGUARD_NS_MNT 0
#define ESCGUARD_NS_PID 1
#define ESCGUARD_NS_PID_CHILD 2 /* pid_for_children */
#define ESCGUARD_NS_NET 3
#define ESCGUARD_NS_UTS 4
#define ESCGUARD_NS_IPC 5
#define ESCGUARD_NS_CGROUP 6
#define ESCGUARD_NS_USER 7
#define ESCGUARD_NS_TIME 8
#define ESCGUARD_NS_COUNT 9

#define ESCGUARD_COMM_LEN 16
#define ESCGUARD_PATH_LEN 256


/* One record of the event stream; read(2) returns whole records only. */
struct escguard_event {
	__u64 seq;         /* strictly increasing per module load */
	__u64 time_ns;     /* CLOCK_REALTIME */
	__u32 hook;        /* ESCGUARD_HOOK_* */
	__u32 reason;      /* ESCGUARD_REASON_* */
	__u32 action;      /* ESCGUARD_ACTION_* */
	__u32 pid;
	__u32 tgid;
	__u32 ppid;
	__u32 uid;
	__u32 origin_pid;  /* task whose exec settled the container's origin */
	__u32 ns_mask;     /* bit (1 << ESCGUARD_NS_*) per kind that became the host's */
	__u32 fs_mask;     /* ESCGUARD_FSE_ROOT / _CWD: what lies on the host fs */
	__u64 ns_before[ESCGUARD_NS_COUNT]; /* origin namespaces */
	__u64 ns_after[ESCGUARD_NS_COUNT];  /* namespaces at the verdict */
	struct escguard_fsid root;
	struct escguard_fsid cwd;
	struct escguard_fsid origin_root;
	char comm[ESCGUARD_COMM_LEN];
	char exe[ESCGUARD_PATH_LEN];       /* as the task named it; may be empty */
	char root_path[ESCGUARD_PATH_LEN]; /* within root's filesystem */
	char cwd_path[ESCGUARD_PATH_LEN];  /* within cwd's filesystem */
};

#define ESCGUARD_FSE_ROOT 0x1
#define ESCGUARD_FSE_CWD 0x2

/* One entry of the task table (ESCGUARD_IOC_TASKS). */
struct escguard_task {
	__u32 pid;
	__u32 tgid;
	__u32 ppid;
	__u32 lineage;      /* ESCGUARD_LINEAGE_* */
	__u32 origin_pid;   /* container lineage: task that settled the origin */
	__u32 flags;        /* ESCGUARD_TASK_* */
	__u64 ns[ESCGUARD_NS_COUNT];        /* at the task's last hooked call */
	__u64 origin_ns[ESCGUARD_NS_COUNT]; /* container lineage only */
	struct escguard_fsid root;
	struct escguard_fsid cwd;
	struct escguard_fsid origin_root;
	char comm[ESCGUARD_COMM_LEN];
};

#define ESCGUARD_LINEAGE_HOST 0
#define ESCGUARD_LINEAGE_CONTAINER 1

#define ESCGUARD_TASK_SETTLED 0x1  /* container origin recorded (first exec done) */
#define ESCGUARD_TASK_ESCAPED 0x2  /* an escape of this task was reported */

/* Argument of ESCGUARD_IOC_TASKS: lists entries with pid >= start_pid, in
 * pid order, into a user array; page with start_pid = last pid + 1. */
struct escguard_task_list {
	__u64 tasks;     /* in: user pointer to capacity escguard_task records */
	__u32 capacity;  /* in: 1..ESCGUARD_TASKS_MAX */
	__u32 start_pid; /* in */
	__u32 count;     /* out: records written */
	__u32 total;     /* out: entries in the table */
};

#define ESCGUARD_TASKS_MAX 4096

#define ESCGUARD_HOOK_FORK 1
#define ESCGUARD_HOOK_EXEC 2
#define ESCGUARD_HOOK_EXIT 3

#define ESCGUARD_REASON_NS_ESCAPE 1   /* a separate namespace became the host's */
#define ESCGUARD_REASON_ROOT_ESCAPE 2 /* root or cwd on the host filesystem */

#define ESCGUARD_ACTION_LOGGED 1
#define ESCGUARD_ACTION_KILLED 2

#define ESCGUARD_IOC_MAGIC 0xE5
#define ESCGUARD_IOC_VERSION _IOR(ESCGUARD_IOC_MAGIC, 0x00, struct escguard_version)
#define ESCGUARD_IOC_STATUS _IOR(ESCGUARD_IOC_MAGIC, 0x01, struct escguard_status)
/* List the task table (struct escguard_task_list). */
#define ESCGUARD_IOC_TASKS _IOWR(ESCGUARD_IOC_MAGIC, 0x03, struct escguard_task_list)
/* Set the mode (ESCGUARD_MODE_*); needs CAP_SYS_ADMIN. */
#define ESCGUARD_IOC_SET_MODE _IOW(ESCGUARD_IOC_MAGIC, 0x02, __u32)

#ifdef __BINDGEN__
/* bindgen cannot expand _IOR(); these constants carry the values across. */
static const __u32 ESCGUARD_IOCTL_VERSION = ESCGUARD_IOC_VERSION;
static const __u32 ESCGUARD_IOCTL_STATUS = ESCGUARD_IOC_STATUS;
static const __u32 ESCGUARD_IOCTL_SET_MODE = ESCGUARD_IOC_SET_MODE;
static const __u32 ESCGUARD_IOCTL_TASKS = ESCGUARD_IOC_TASKS;
#endif

#endif /* ESCGUARD_ABI_H */
