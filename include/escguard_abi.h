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

#define ESCGUARD_ABI_MAJOR 4
#define ESCGUARD_ABI_MINOR 3

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
	__u64 events_queued;   /* events the durable writer has not acknowledged */
	__u64 alloc_failures;  /* table allocations that failed (never fatal) */
	__u64 untracked;       /* hooks that met a task missing from the table */
	__u64 baseline_ns[9];  /* host baseline inode numbers, ESCGUARD_NS_* order */
	struct escguard_fsid baseline_root; /* host baseline root */
	__u64 ring_capacity;   /* events the ring holds */
	__u64 tid_swaps_lost;  /* multi-threaded execs not re-keyed (slots full) */
	__u64 hook_ns_fork;    /* nanoseconds spent in each hook since load */
	__u64 hook_ns_exec;
	__u64 hook_ns_exit;
	__u64 hook_unload;     /* delete_module calls seen */
	__u32 locked;          /* 1: rmmod refused until ESCGUARD_IOC_LOCK(0) */
	__u32 events_gid;      /* group that may read events and status; ESCGUARD_NO_GID: none */
	__u64 table_cap;       /* most entries the table holds (max_tasks parameter) */
	__u64 table_full;      /* tasks left untracked because the table was at its cap */
	__u64 parent_judged;   /* untracked tasks judged against their tracked parent */
	__u64 ring_bytes;      /* memory of the event ring */
	__u64 tamper;          /* container tasks refused use or unload of escguard */
	__u64 denied;          /* host callers refused for lack of privilege */
	__u64 hook_open;       /* file opens seen (security_file_open) */
	__u64 hook_ns_open;    /* nanoseconds spent in the open hook (estimated
				* from one call in 16 timed, since 3.2) */
	__u64 hook_syscall;    /* observed syscalls and mount/ptrace/connect checks */
	__u64 hook_ns_syscall;
	__u64 rule_hits;       /* preset and policy rule matches (any action) */
	__u64 denials;         /* calls made to fail with EPERM */
	__u64 umh_checked;     /* usermode-helper execs examined */
	__u32 rules_enabled;   /* bit (1 << ESCGUARD_RULE_*) per enabled preset */
	__u32 policy_rules;    /* rules of the loaded policy */
	__u64 policy_loaded_ns; /* when the policy was loaded; 0: built-in defaults */
	__u64 open_checked;    /* opens by container tasks examined (since 3.1) */
	__u64 open_judged;     /* of those, judged in full: namespaces, root or cwd
				* had changed since the task's last verdict (3.1) */
	__u64 open_cached;     /* of those, found clean in the lock-free verdict
				* cache: no table lookup (3.2) */
	__u64 events_retained; /* events held in the ring (acknowledged or not),
				* readable by every reader (4.0) */
	__u64 events_evicted;  /* unacknowledged events overwritten by newer
				* ones while no durable writer was attached (4.0) */
	__u64 events_last_seq; /* seq of the newest event emitted; 0: none (4.0) */
	__u64 events_acked;    /* seq the durable writer acknowledged last (4.0) */
	__u32 writer;          /* 1: a durable writer (ESCGUARD_READ_ACK) is attached */
	__u32 pad;
	__u64 reserved[2];     /* zero; future counters */
};

#define ESCGUARD_NO_GID 0xffffffffU

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
#define ESCGUARD_NAME_LEN 32 /* rule names */


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
	char target[ESCGUARD_PATH_LEN];    /* what the call aimed at: the file
					    * opened, mount target, syscall, traced
					    * task; may be empty */
	char rule[ESCGUARD_NAME_LEN];      /* ESCGUARD_REASON_RULE: the rule's name */
	__u32 rule_id;     /* ESCGUARD_RULE_*, or ESCGUARD_RULE_POLICY; only
			    * meaningful when rule is not empty */
	__u32 syscall;     /* ESCGUARD_SYS_*: the call, for HOOK_SYSCALL */
	__u32 flags;       /* ESCGUARD_EVF_* */
	__u32 pad;
	__u64 cgroup_id;   /* the task's cgroup v2 id (its directory's inode
			    * number in cgroupfs) at the event; 0: unknown */
	char cgroup[ESCGUARD_PATH_LEN]; /* that cgroup's path from the cgroup v2
					 * root (not the task's cgroup namespace);
					 * truncated paths end in "..." */
	__u64 origin_cgroup_id; /* container lineage: the cgroup the task that
				 * settled the origin was in at the container's
				 * first exec (where the runtime put it, before
				 * any container code ran); 0: unknown */
	__u32 origin_cgroup_level; /* depth of that cgroup (0: the root) when the
				    * task is still in it or below it, so the
				    * first that many components of `cgroup`
				    * name it; ESCGUARD_CGROUP_MOVED when the
				    * task has left it */
	__u32 pad2;
};

#define ESCGUARD_CGROUP_MOVED 0xffffffffU

#define ESCGUARD_EVF_DENIED 0x1  /* the call was made to fail with EPERM */

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
	__u64 cgroup_id;    /* as escguard_event.cgroup_id, when listed */
	char cgroup[ESCGUARD_PATH_LEN]; /* as escguard_event.cgroup */
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

#define ESCGUARD_TASKS_MAX 2048

#define ESCGUARD_HOOK_FORK 1
#define ESCGUARD_HOOK_EXEC 2
#define ESCGUARD_HOOK_EXIT 3
#define ESCGUARD_HOOK_DEVICE 4  /* open, ioctl or read of /dev/escguard */
#define ESCGUARD_HOOK_UNLOAD 5  /* delete_module(2) */
#define ESCGUARD_HOOK_OPEN 6    /* a file or block device open */
#define ESCGUARD_HOOK_SYSCALL 7 /* entry of an observed syscall */
#define ESCGUARD_HOOK_MOUNT 8   /* a mount being made (either mount API) */
#define ESCGUARD_HOOK_PTRACE 9  /* ptrace attach or memory access of a task */
#define ESCGUARD_HOOK_CONNECT 10 /* connect(2) to a unix socket */
#define ESCGUARD_HOOK_RECEIVE 11 /* a descriptor received (SCM_RIGHTS, pidfd_getfd) */
#define ESCGUARD_HOOK_WRITE 12  /* write access to a mount (chmod, mkdir, unlink, creat, ...) */

#define ESCGUARD_REASON_NS_ESCAPE 1   /* a separate namespace became the host's */
#define ESCGUARD_REASON_ROOT_ESCAPE 2 /* root or cwd on the host filesystem */
#define ESCGUARD_REASON_TAMPER 3      /* a container task used or tried to unload escguard */
#define ESCGUARD_REASON_RULE 4        /* a preset or policy rule matched (event.rule) */
#define ESCGUARD_REASON_USERMODE_HELPER 5 /* kernel-run helper exec of a container-planted program */
#define ESCGUARD_REASON_HOST_OBJECT 6 /* a container task opened or executed an object that lives on the host */
#define ESCGUARD_REASON_HOST_EXEC 7   /* a host-context exec of a program or interpreter in a container's filesystem */
#define ESCGUARD_REASON_CONFIG 8      /* the host admin weakened escguard: monitor mode, unlock, a rule disabled, a policy loaded (hook DEVICE; target says which) */

#define ESCGUARD_ACTION_LOGGED 1
#define ESCGUARD_ACTION_KILLED 2

#define ESCGUARD_IOC_MAGIC 0xE5
#define ESCGUARD_IOC_VERSION _IOR(ESCGUARD_IOC_MAGIC, 0x00, struct escguard_version)
#define ESCGUARD_IOC_STATUS _IOR(ESCGUARD_IOC_MAGIC, 0x01, struct escguard_status)
/* List the task table (struct escguard_task_list). */
#define ESCGUARD_IOC_TASKS _IOWR(ESCGUARD_IOC_MAGIC, 0x03, struct escguard_task_list)
/* Set the mode (ESCGUARD_MODE_*); host admin only (see "Who may talk"). */
#define ESCGUARD_IOC_SET_MODE _IOW(ESCGUARD_IOC_MAGIC, 0x02, __u32)
/* How read() on this descriptor consumes events (ESCGUARD_READ_*). */
#define ESCGUARD_IOC_READER _IOW(ESCGUARD_IOC_MAGIC, 0x04, __u32)
/* Mark events with seq <= the argument as stored durably; only the
 * descriptor that holds ESCGUARD_READ_ACK (EPERM otherwise). */
#define ESCGUARD_IOC_ACK _IOW(ESCGUARD_IOC_MAGIC, 0x05, __u64)
/* 1: lock (rmmod refused), 0: unlock; host admin only. */
#define ESCGUARD_IOC_LOCK _IOW(ESCGUARD_IOC_MAGIC, 0x06, __u32)
/* List the rules (struct escguard_rule_list). */
#define ESCGUARD_IOC_RULES _IOWR(ESCGUARD_IOC_MAGIC, 0x07, struct escguard_rule_list)
/* Enable or disable one rule; host admin only. ENOENT: no such rule. */
#define ESCGUARD_IOC_SET_RULE _IOW(ESCGUARD_IOC_MAGIC, 0x08, struct escguard_rule_switch)
/* Replace the policy; host admin only. */
#define ESCGUARD_IOC_SET_POLICY _IOW(ESCGUARD_IOC_MAGIC, 0x09, struct escguard_policy)
/* Read the policy (rules copied to .rules, up to .rule_count). */
#define ESCGUARD_IOC_GET_POLICY _IOWR(ESCGUARD_IOC_MAGIC, 0x0a, struct escguard_policy)

/*
 * Rules. The presets apply to tasks of settled container lineage (after the
 * container's first program started; the runtime's own setup is not
 * judged); each can be switched off and on by name. In enforce mode a match
 * makes the call fail with EPERM where the hook can (every rule below) and
 * SIGKILLs the task; in monitor mode the call goes ahead and is reported.
 */
#define ESCGUARD_RULE_RELEASE_AGENT 0      /* "release_agent": write to cgroup v1 release_agent/notify_on_release */
#define ESCGUARD_RULE_CORE_PATTERN 1       /* "core_pattern": write to /proc/sys/kernel/core_pattern */
#define ESCGUARD_RULE_MODPROBE 2           /* "modprobe_path": write to /proc/sys/kernel/modprobe */
#define ESCGUARD_RULE_SYSRQ 3              /* "sysrq_trigger": write to /proc/sysrq-trigger */
#define ESCGUARD_RULE_UEVENT_HELPER 4      /* "uevent_helper": write to /sys/kernel/uevent_helper or /proc/sys/kernel/hotplug */
#define ESCGUARD_RULE_HOST_BLOCK_DEVICE 5  /* "host_block_device": open of a block device that backs a mounted filesystem */
#define ESCGUARD_RULE_RUNTIME_SOCKET 6     /* "runtime_socket": connect to a container runtime's control socket */
#define ESCGUARD_RULE_SENSITIVE_MOUNT 7    /* "sensitive_mount": mount of cgroup (v1), proc, sysfs, debugfs, securityfs */
#define ESCGUARD_RULE_BLOCK_DEVICE_MOUNT 8 /* "block_device_mount": mount of a block device that backs a mounted filesystem */
#define ESCGUARD_RULE_OPEN_BY_HANDLE 9     /* "open_by_handle_at": the "Shocker" technique */
#define ESCGUARD_RULE_KERNEL_MODULE 10     /* "kernel_module": init_module, finit_module, delete_module */
#define ESCGUARD_RULE_PTRACE_HOST 11       /* "ptrace_host": ptrace attach to / memory access of a host task */
#define ESCGUARD_RULE_USERMODE_HELPER 12   /* "usermode_helper": kernel-run helper executing a container's file */
#define ESCGUARD_RULE_KERNEL_MEMORY 13     /* "kernel_memory": open of /proc/kcore, /dev/mem, /dev/kmem or /dev/port */
#define ESCGUARD_RULE_INSTRUMENT 14        /* "instrument": write to a debugfs or tracefs file (kprobes/enabled, tracing controls) */
#define ESCGUARD_RULE_BINFMT_MISC 15       /* "binfmt_misc": write to the host's (initial user namespace's) binfmt_misc instance */
#define ESCGUARD_RULE_PLANTED_EXEC 16      /* "planted_exec": host-context exec of a program or interpreter in a container's filesystem */
#define ESCGUARD_RULE_SIGNAL_HOST 17       /* "signal_host": a signal to a host task (kill, tkill, tgkill, sigqueue; kill(-1) sharing the host pid namespace), or setting its resource limits (prlimit64) */
#define ESCGUARD_RULE_HOST_CGROUP 18       /* "host_cgroup": open for writing a file of a cgroup v2 group outside the container's own cgroup (cgroup.kill, cgroup.freeze, memory.max, cgroup.procs, ...) (ABI 4.1) */
#define ESCGUARD_RULE_COUNT 19
#define ESCGUARD_RULE_POLICY 0xffffffffU   /* event.rule_id of a loaded policy's rule */

/* Syscalls the syscall observation point sees (event.syscall). */
#define ESCGUARD_SYS_NONE 0
#define ESCGUARD_SYS_OPEN_BY_HANDLE_AT 1
#define ESCGUARD_SYS_INIT_MODULE 2
#define ESCGUARD_SYS_FINIT_MODULE 3
#define ESCGUARD_SYS_DELETE_MODULE 4
#define ESCGUARD_SYS_SETNS 5
#define ESCGUARD_SYS_UNSHARE 6
#define ESCGUARD_SYS_PIVOT_ROOT 7
#define ESCGUARD_SYS_CHROOT 8
#define ESCGUARD_SYS_MOUNT 9
#define ESCGUARD_SYS_FSOPEN 10
#define ESCGUARD_SYS_FSMOUNT 11
#define ESCGUARD_SYS_MOVE_MOUNT 12
#define ESCGUARD_SYS_PTRACE 13
#define ESCGUARD_SYS_COUNT 14

/* One rule as ESCGUARD_IOC_RULES lists it. */
struct escguard_rule_info {
	char name[ESCGUARD_NAME_LEN];
	__u32 id;        /* ESCGUARD_RULE_*, or ESCGUARD_RULE_POLICY */
	__u32 enabled;   /* 0 or 1 */
	__u64 hits;      /* matches since load (presets) or policy load */
};

/* Argument of ESCGUARD_IOC_RULES: presets first, then the policy's rules. */
struct escguard_rule_list {
	__u64 rules;     /* in: user pointer to capacity escguard_rule_info */
	__u32 capacity;  /* in: 1..ESCGUARD_RULES_MAX */
	__u32 count;     /* out: records written (all rules if capacity allows) */
};

/* Argument of ESCGUARD_IOC_SET_RULE: switch a preset or policy rule by name. */
struct escguard_rule_switch {
	char name[ESCGUARD_NAME_LEN]; /* NUL-terminated */
	__u32 enable;    /* 0 or 1 */
	__u32 pad;       /* zero */
};

/*
 * Policy: extra file and mount rules for container tasks, and the runtime
 * sockets of the "runtime_socket" preset. Loading one replaces the whole
 * active policy atomically; the module validates every byte again and
 * answers EINVAL to anything malformed, leaving the active policy as it was.
 */
#define ESCGUARD_POLICY_VERSION 2
#define ESCGUARD_POLICY_RULES_MAX 64
#define ESCGUARD_POLICY_SOCKETS_MAX 8
#define ESCGUARD_RULES_MAX (ESCGUARD_RULE_COUNT + ESCGUARD_POLICY_RULES_MAX)

/* Sockets protected until a policy names its own (host paths, as the
 * runtime bound them; /var/run is normally a link to /run). */
#define ESCGUARD_DEFAULT_SOCKETS \
	"/run/containerd/containerd.sock:/run/docker.sock:/run/crio/crio.sock:/run/podman/podman.sock"

#define ESCGUARD_PRULE_FILE 1   /* a file path a container task may not open */
#define ESCGUARD_PRULE_MOUNT 2  /* a mount a container task may not make */

#define ESCGUARD_MATCH_EXACT 1  /* the whole path/string */
#define ESCGUARD_MATCH_PREFIX 2 /* path prefix on a component boundary ("/a" matches "/a" and "/a/b", not "/ab") */

/* escguard_policy_rule.flags for ESCGUARD_PRULE_FILE: which opens match.
 * File patterns are matched against the opened file's path as the task
 * names it, resolved (d_path: links followed, /proc/self/exe gives its
 * target). */
#define ESCGUARD_PF_READ 0x1
#define ESCGUARD_PF_WRITE 0x2
/* ... for ESCGUARD_PRULE_MOUNT: which field the pattern is tested on
 * (exactly one). Targets are paths as the task names them; a mount(2)
 * source is the string given (a device path, or the directory of a bind
 * mount); a move_mount(2) source is the moved mount's path. */
#define ESCGUARD_PF_SOURCE 0x10
#define ESCGUARD_PF_TARGET 0x20
#define ESCGUARD_PF_FSTYPE 0x40

struct escguard_policy_rule {
	char name[ESCGUARD_NAME_LEN];    /* unique; [A-Za-z0-9_.-]+, not a preset's name */
	__u32 kind;     /* ESCGUARD_PRULE_* */
	__u32 match;    /* ESCGUARD_MATCH_* */
	__u32 flags;    /* ESCGUARD_PF_* */
	__u32 enabled;  /* 0 or 1 */
	char pattern[ESCGUARD_PATH_LEN]; /* NUL-terminated UTF-8; paths absolute */
	__u32 action;   /* ESCGUARD_RACT_* */
	__u32 scope_kind; /* ESCGUARD_SCOPE_* */
	char scope[ESCGUARD_PATH_LEN]; /* SCOPE_CGROUP: an absolute cgroup v2
					* path; SCOPE_CONTAINER: a container
					* ID; empty for SCOPE_ALL */
};

/* What a policy rule's match does (escguard_policy_rule.action). */
#define ESCGUARD_RACT_ENFORCE 0 /* as the module's mode says: refuse and kill
				 * in enforce mode, report in monitor mode */
#define ESCGUARD_RACT_MONITOR 1 /* report only, in every mode */

/* Which container tasks a policy rule applies to (escguard_policy_rule.scope_kind).
 * Judged against the task's cgroup v2 path from the cgroup root. */
#define ESCGUARD_SCOPE_ALL 0       /* every container task */
#define ESCGUARD_SCOPE_CGROUP 1    /* tasks in the cgroup `scope` or below
				    * (prefix on a path component boundary) */
#define ESCGUARD_SCOPE_CONTAINER 2 /* tasks whose cgroup path has a component
				    * naming container `scope`: the ID itself,
				    * or "<prefix>-ID" / "<prefix>-ID.scope"
				    * (docker-, cri-containerd-, crio-,
				    * libpod-) */

/* Argument of ESCGUARD_IOC_SET_POLICY and ESCGUARD_IOC_GET_POLICY (GET
 * reads only rule_count and rules; it fills in everything else). */
struct escguard_policy {
	__u32 version;      /* ESCGUARD_POLICY_VERSION */
	__u32 rule_count;   /* SET: rules given; GET in: capacity, out: rules held */
	__u64 rules;        /* user pointer to rule_count escguard_policy_rule */
	__u32 socket_count; /* 0..ESCGUARD_POLICY_SOCKETS_MAX; 0: no socket protected */
	__u32 flags;        /* zero */
	char sockets[ESCGUARD_POLICY_SOCKETS_MAX][ESCGUARD_PATH_LEN];
	char name[ESCGUARD_NAME_LEN * 2]; /* where it came from, for status; UTF-8 */
	__u64 loaded_ns;    /* GET: when it was loaded; SET: zero */
	__u64 reserved[2];  /* zero */
};

/*
 * Readers. Reading never removes an event: each descriptor has its own
 * cursor, and read() returns the retained events after it, oldest first.
 * The ring keeps the newest events it can hold; an event leaves it only
 * when a newer one needs its slot.
 *
 * ESCGUARD_READ_PEEK (the default): a viewer. Starts at the oldest
 * retained event.
 * ESCGUARD_READ_ACK: the durable writer. Host admin only, one descriptor
 * at a time (EBUSY for a second; the role ends when the descriptor is
 * closed). Starts after the last acknowledged event; ESCGUARD_IOC_ACK marks
 * events as stored. While a writer is attached, an unacknowledged event is
 * never overwritten: a new event that finds the ring full of them is
 * dropped (events_dropped). With no writer attached the oldest event is
 * overwritten (events_evicted when it was unacknowledged).
 */
#define ESCGUARD_READ_PEEK 0
#define ESCGUARD_READ_ACK 1

/*
 * Who may talk to escguard:
 *  - a task of container lineage (or in any namespace other than the
 *    host's) is refused every open, ioctl and read with EPERM, and the
 *    attempt is reported as ESCGUARD_REASON_TAMPER (and SIGKILLed in
 *    enforce mode), even with every capability;
 *  - a host task with CAP_SYS_ADMIN in the initial user namespace may do
 *    everything;
 *  - a host task in the events_gid group (module parameter) may open the
 *    device read-only and use VERSION, STATUS, RULES, GET_POLICY,
 *    READER(PEEK) and read(): it can look, never acknowledge;
 *  - anyone else gets EPERM.
 */

#ifdef __BINDGEN__
/* bindgen cannot expand _IOR(); these constants carry the values across. */
static const __u32 ESCGUARD_IOCTL_VERSION = ESCGUARD_IOC_VERSION;
static const __u32 ESCGUARD_IOCTL_STATUS = ESCGUARD_IOC_STATUS;
static const __u32 ESCGUARD_IOCTL_SET_MODE = ESCGUARD_IOC_SET_MODE;
static const __u32 ESCGUARD_IOCTL_TASKS = ESCGUARD_IOC_TASKS;
static const __u32 ESCGUARD_IOCTL_READER = ESCGUARD_IOC_READER;
static const __u32 ESCGUARD_IOCTL_ACK = ESCGUARD_IOC_ACK;
static const __u32 ESCGUARD_IOCTL_LOCK = ESCGUARD_IOC_LOCK;
static const __u32 ESCGUARD_IOCTL_RULES = ESCGUARD_IOC_RULES;
static const __u32 ESCGUARD_IOCTL_SET_RULE = ESCGUARD_IOC_SET_RULE;
static const __u32 ESCGUARD_IOCTL_SET_POLICY = ESCGUARD_IOC_SET_POLICY;
static const __u32 ESCGUARD_IOCTL_GET_POLICY = ESCGUARD_IOC_GET_POLICY;
#endif

#endif /* ESCGUARD_ABI_H */
