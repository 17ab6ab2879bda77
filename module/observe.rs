// SPDX-License-Identifier: GPL-2.0

//! The other observation points that may refuse a call: mounts and new
//! superblocks, ptrace, execs in host context of programs a container
//! planted, `/proc/<pid>` links, signals, `environ`, runtime sockets, the
//! syscalls the presets watch, and `delete_module`.

use crate::bytes::{self, until_nul};
use crate::presets::PRESET_NAMES;
use crate::report::{syscall_name, BufWriter, Extra};
use crate::verdict::{Escape, HostRootVolume, Lineage, Origin};
use crate::{abi, policy, presets, sys, State, PATH_LEN};
use kernel::str::CStr;

impl State {
    /// A `signal_host` hit by container task `task` (of origin `o`) on the
    /// host task `target` describes.
    fn signal_host_hit(&self, o: &Origin, task: sys::TaskRef<'_>, target: &[u8]) -> i32 {
        let i = task.info(&self.base.refs(None));
        let x = Extra {
            target,
            ..Default::default()
        };
        self.preset_hit(
            abi::ESCGUARD_HOOK_SYSCALL,
            abi::ESCGUARD_RULE_SIGNAL_HOST,
            o,
            task,
            &i,
            x,
        )
    }

    /// Refuses a change of the mount tree at `at` by container task `task`
    /// (of origin `o`): the event names it by `what` and the mount point.
    fn refuse_mount_change(
        &self,
        task: sys::TaskRef<'_>,
        o: Origin,
        rep: bool,
        tracked: bool,
        what: &[u8],
        at: sys::MountPoint<'_>,
    ) -> i32 {
        let lin = Lineage::Container(o);
        let i = task.info(&self.base.refs(Some(&lin)));
        let mut buf = [0u8; PATH_LEN];
        let mut w = BufWriter::new(&mut buf);
        w.bytes(what);
        let mut path = [0u8; PATH_LEN];
        at.render(&mut path);
        w.bytes(until_nul(&path));
        self.refuse_access(
            abi::ESCGUARD_HOOK_MOUNT,
            &Escape::object(),
            &i,
            lin,
            rep,
            tracked,
            task,
            w.done(),
        )
    }

    /// Host-context execution planted by a container: `task`, in host
    /// context (a usermode helper the kernel started, or any task whose own
    /// namespaces and root are not a container's), is about to exec `file`
    /// -- a program, a script's interpreter, a binfmt_misc handler's
    /// interpreter. If that file lives in a container's filesystem (on a
    /// mount of a mount namespace neither the host's nor the task's own,
    /// such as `/proc/<pid>/root/...` of a container task or a file a
    /// container opened for a binfmt_misc `F` handler, or below a recorded
    /// container root), the exec fails before any of it runs. A task of
    /// settled container lineage is not judged here: its execs are opens
    /// the open hook judges. Returns the exec's verdict.
    fn planted_exec(&self, task: sys::TaskRef<'_>, file: sys::FileRef<'_>, umh: bool) -> i32 {
        let id = if umh {
            abi::ESCGUARD_RULE_USERMODE_HELPER
        } else {
            abi::ESCGUARD_RULE_PLANTED_EXEC
        };
        if !self.presets.on(id) {
            return 0;
        }
        if !umh {
            if let Some((Lineage::Container(o), _)) = self.lineage_of(task) {
                if o.settled {
                    return 0;
                }
            }
        }
        self.c.umh_checked.inc();
        // The file first: a program on a mount of the host's namespace,
        // not below any recorded container root (a host program, the
        // common exec), was planted by nobody, and the caller's own facts
        // are not needed. The filter answers without the lock; a deep
        // walk that gives up counts as "maybe".
        let f = file.facts();
        let other_ns = f.mnt_ns != 0 && f.host_mnt_ns == 0;
        let below_root = self.origin_filter.dev_maybe(f.dev)
            && file
                .find_ancestor(|a| self.origin_filter.root_maybe(a))
                .is_some();
        if !other_ns && !below_root {
            return 0;
        }
        let own = sys::current_facts();
        // A runtime or `runc exec` entering a container runs the
        // container's programs by design.
        if !umh && self.base.looks_contained(&own) {
            return 0;
        }
        let mnt = abi::ESCGUARD_NS_MNT as usize;
        let planted = if other_ns && f.mnt_ns != own.ns[mnt] {
            Some(self.origins.lock().by_mnt_ns(f.mnt_ns))
        } else if below_root {
            // Below a recorded container root, however deep, of a
            // container that still exists.
            let idx = self.origins.lock();
            if idx.any_on(f.dev) {
                let live = sys::cgroup_live;
                file.find_ancestor(|a| idx.by_live_root(a, live).is_some())
                    .map(|a| idx.by_live_root(&a, live))
            } else {
                None
            }
        } else {
            None
        };
        let Some(origin) = planted else {
            return 0;
        };
        self.presets.hit(id);
        let i = task.info(&self.base.refs(None));
        let lin = origin.map(Lineage::Container);
        let mut path = [0u8; PATH_LEN];
        file.path(&mut path);
        let x = Extra {
            target: until_nul(&path),
            rule_id: id,
            rule: PRESET_NAMES[id as usize],
            ..Default::default()
        };
        let reason = if umh {
            abi::ESCGUARD_REASON_USERMODE_HELPER
        } else {
            abi::ESCGUARD_REASON_HOST_EXEC
        };
        self.rule_hit(
            abi::ESCGUARD_HOOK_EXEC,
            reason,
            &i,
            lin.as_ref(),
            task,
            Some(file),
            x,
        )
    }
}

impl sys::CheckHooks for State {
    fn on_unload(&self, task: sys::TaskRef<'_>, name: &CStr) -> i32 {
        self.c.hook_unload.inc();
        if self.untrusted(task) {
            // Locked again before delete_module looks at the reference
            // count, so unloading escguard fails even if the admin had
            // unlocked -- whatever name we read: the kernel copies the name
            // again after us, and a racing thread may have changed it.
            self.lock();
            if name.as_bytes() == b"escguard" {
                self.tamper(abi::ESCGUARD_HOOK_UNLOAD, task, b"delete_module escguard");
                return 0;
            }
        }
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        let i = task.info(&self.base.refs(None));
        let mut buf = [0u8; 80];
        let mut w = BufWriter::new(&mut buf);
        w.bytes(b"delete_module ");
        w.bytes(name.as_bytes());
        let x = Extra {
            target: w.done(),
            syscall: abi::ESCGUARD_SYS_DELETE_MODULE,
            ..Default::default()
        };
        self.preset_hit(
            abi::ESCGUARD_HOOK_SYSCALL,
            abi::ESCGUARD_RULE_KERNEL_MODULE,
            &o,
            task,
            &i,
            x,
        )
    }

    fn on_new_sb(&self, task: sys::TaskRef<'_>, sb: &sys::SbFacts) -> i32 {
        self.c.hook_syscall.inc();
        let net = abi::ESCGUARD_NS_NET as usize;
        let host_net = sys::current_facts().ns[net] == self.base.ns[net];
        let id = if presets::sensitive_fs(sb, self.base.ns[abi::ESCGUARD_NS_PID as usize], host_net)
        {
            abi::ESCGUARD_RULE_SENSITIVE_MOUNT
        } else if sb.bdev != 0 && sb.reused != 0 {
            abi::ESCGUARD_RULE_BLOCK_DEVICE_MOUNT
        } else {
            return 0;
        };
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        let i = task.info(&self.base.refs(None));
        let mut buf = [0u8; 96];
        let mut w = BufWriter::new(&mut buf);
        w.bytes(until_nul(bytes::bytes_of(&sb.fstype)));
        if sb.bdev != 0 {
            let _ = core::fmt::Write::write_fmt(
                &mut w,
                format_args!(
                    " on device {}:{}",
                    (sb.dev >> 8) & 0xfff,
                    (sb.dev & 0xff) | ((sb.dev >> 12) & 0xfff00)
                ),
            );
        }
        let x = Extra {
            target: w.done(),
            ..Default::default()
        };
        self.preset_hit(abi::ESCGUARD_HOOK_MOUNT, id, &o, task, &i, x)
    }

    fn on_mount(
        &self,
        task: sys::TaskRef<'_>,
        sys: u32,
        source: &CStr,
        target: &CStr,
        fstype: &CStr,
    ) -> i32 {
        self.c.hook_syscall.inc();
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        let hit = {
            let mut pol = self.policy.lock();
            if !pol.mount_rules {
                return 0;
            }
            pol.matching(task, |r| {
                let field = match r.raw.flags {
                    abi::ESCGUARD_PF_SOURCE => source.as_bytes(),
                    abi::ESCGUARD_PF_TARGET => target.as_bytes(),
                    _ => fstype.as_bytes(),
                };
                r.raw.kind == abi::ESCGUARD_PRULE_MOUNT
                    && policy::path_matches(r.raw.match_, r.pattern(), field)
            })
        };
        let Some(hit) = hit else {
            return 0;
        };
        let i = task.info(&self.base.refs(None));
        let mut buf = [0u8; PATH_LEN];
        let mut w = BufWriter::new(&mut buf);
        w.bytes(source.as_bytes());
        w.bytes(b" on ");
        w.bytes(target.as_bytes());
        w.bytes(b" type ");
        w.bytes(fstype.as_bytes());
        let lin = Lineage::Container(o);
        let x = Extra {
            target: w.done(),
            rule_id: abi::ESCGUARD_RULE_POLICY,
            rule: until_nul(&hit.name),
            monitor: hit.monitor,
            syscall: sys,
            ..Default::default()
        };
        self.rule_hit(
            abi::ESCGUARD_HOOK_MOUNT,
            abi::ESCGUARD_REASON_RULE,
            &i,
            Some(&lin),
            task,
            None,
            x,
        )
    }

    fn on_make_writable(&self, task: sys::TaskRef<'_>, target: sys::MountPoint<'_>) -> i32 {
        self.c.hook_syscall.inc();
        // Judge the transition, not only what is written after it: a
        // read-only mount of the host's filesystem outside the container
        // (a read-only volume of a host directory, a read-only host-root
        // volume) made writable gives every later write through it --
        // chmod, truncate, unlink and rename, which open nothing, too.
        // The container's own files (a read-only image root) are its own.
        let Some((o, rep, tracked)) = self.contained(task) else {
            return 0;
        };
        let lin = Lineage::Container(o);
        let refs = self.base.refs(Some(&lin));
        let flags = target.classify(&refs);
        if rep || flags & sys::FS_ON_HOST_SB == 0 || flags & sys::FS_UNDER_ORIGIN != 0 {
            return 0;
        }
        self.refuse_mount_change(task, o, rep, tracked, b"remount read-write ", target)
    }

    fn on_tree_change(
        &self,
        task: sys::TaskRef<'_>,
        at: sys::MountPoint<'_>,
        change: sys::TreeChange<'_>,
    ) -> i32 {
        self.c.hook_syscall.inc();
        // What the runtime made read-only of the host stays so, its mount
        // tree too. A mount, bind, move or unmount below a shared mount
        // lands wherever the kernel propagates it: in the host's namespace
        // when a peer of that mount, or a slave of its group, is there (a
        // read-only host volume its runtime made `rshared`; any bind the
        // container made of one since). Over a host file or directory it
        // replaces what host programs read and run there; an unmount takes
        // a filesystem from the host. So the change is judged as a write
        // where it lands *as the host sees it*, by the container's grants:
        // below its own root and below a volume it may write (a CSI node
        // plugin's bidirectional volume) it is its own; elsewhere it is
        // refused before it is made. Nothing of the host's is read-only to
        // a container without read-only host mounts.
        let Some((o, rep, tracked)) = self.contained(task) else {
            return 0;
        };
        if o.host_root_volume == HostRootVolume::ReadWrite {
            return 0;
        }
        let g = self.grants_of(&o);
        if g.is_none() && o.host_root_volume != HostRootVolume::ReadOnly {
            return 0;
        }
        let (w, r) = g
            .as_ref()
            .map_or((&[][..], &[][..]), |g| (g.writable(), g.read_only()));
        let mut scan = sys::LandingScan::new();
        let mut refused = |l: sys::Landing| {
            matches!(
                scan.on_host(&l, &o.root, w, r),
                Some(sys::Grant::ReadOnly | sys::Grant::None)
            )
        };
        let hit = match change {
            sys::TreeChange::Attach => refused(at.landing()),
            // Judged both ways: the flag that says which is not shown to
            // the hook, and a mount tucked beneath one the container made
            // private lands on that one's parent (the host's, through a
            // shared volume) all the same.
            sys::TreeChange::AttachOrBeneath => {
                refused(at.landing()) || at.beneath_landing().is_some_and(&mut refused)
            }
            // A subtree that cannot be read whole is refused.
            sys::TreeChange::Detach(m) => m.subtree_landings(refused).unwrap_or(true),
        };
        if !hit {
            return 0;
        }
        let what: &[u8] = if matches!(change, sys::TreeChange::Detach(_)) {
            b"unmount (propagates to the host) of "
        } else {
            b"mount (propagates to the host) on "
        };
        self.refuse_mount_change(task, o, rep, tracked, what, at)
    }

    fn on_write_through(&self, task: sys::TaskRef<'_>, mnt: sys::MountRef<'_>) -> i32 {
        self.write_through(task, mnt)
    }

    fn on_ptrace(&self, task: sys::TaskRef<'_>, child: sys::TaskRef<'_>) -> i32 {
        self.c.hook_syscall.inc();
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        // A host task, tracked or not: an untracked target cannot be
        // classified by its namespaces (its task_lock, which that read
        // takes, is held), so it is host unless its hooks found it of
        // settled container lineage (the bit they keep for untracked tasks
        // too). Untracked is not container either. A container task that
        // has not settled is a runtime still building it (runc:[2:INIT]
        // waiting for `runc start`, a `runc exec` before its exec): host
        // code, which a hijacker could steer back to the host before it
        // execs.
        let host = match self.lineage_of(child) {
            Some((l, _)) => !matches!(l, Lineage::Container(o) if o.settled),
            None => !self.fast.settled(child.pid()) && child.info_light().kthread == 0,
        };
        if !host {
            return 0;
        }
        let i = task.info_light();
        let c = child.info_light();
        let mut buf = [0u8; 64];
        let mut w = BufWriter::new(&mut buf);
        let _ = core::fmt::Write::write_fmt(&mut w, format_args!("pid {} ", c.pid));
        w.bytes(until_nul(bytes::bytes_of(&c.comm)));
        let x = Extra {
            target: w.done(),
            syscall: abi::ESCGUARD_SYS_PTRACE,
            light: true,
            ..Default::default()
        };
        self.preset_hit(
            abi::ESCGUARD_HOOK_PTRACE,
            abi::ESCGUARD_RULE_PTRACE_HOST,
            &o,
            task,
            &i,
            x,
        )
    }

    fn on_bprm_check(&self, task: sys::TaskRef<'_>, file: sys::FileRef<'_>, umh: bool) -> i32 {
        self.c.hook_syscall.inc();
        self.planted_exec(task, file, umh)
    }

    fn on_proc_link(&self, task: sys::TaskRef<'_>, target: sys::TaskRef<'_>, path: &CStr) -> i32 {
        self.c.hook_syscall.inc();
        // Judge the path of access: a container task walking through a
        // host task's root, cwd, exe or descriptors reaches host objects
        // whatever they are (a host shell's pipe, a service's private
        // tmpfs), and whatever it then does with them (open, unlink,
        // chmod). Its own tasks', and other containers', stay open to it.
        let Some((o, rep, tracked)) = self.contained(task) else {
            return 0;
        };
        if target.info_light().tgid == task.info_light().tgid || !self.host_task(target) {
            return 0;
        }
        let lin = Lineage::Container(o);
        let i = task.info(&self.base.refs(Some(&lin)));
        let c = target.info_light();
        let mut buf = [0u8; PATH_LEN];
        let mut w = BufWriter::new(&mut buf);
        w.bytes(b"/proc");
        w.bytes(path.as_bytes());
        w.bytes(b" of host task ");
        w.bytes(until_nul(bytes::bytes_of(&c.comm)));
        let esc = Escape::object();
        self.refuse_access(
            abi::ESCGUARD_HOOK_OPEN,
            &esc,
            &i,
            lin,
            rep,
            tracked,
            task,
            w.done(),
        )
    }

    fn on_signal(&self, task: sys::TaskRef<'_>, target: Option<sys::TaskRef<'_>>, sig: i32) -> i32 {
        self.c.hook_syscall.inc();
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        let pid = abi::ESCGUARD_NS_PID as usize;
        let mut buf = [0u8; 64];
        let mut w = BufWriter::new(&mut buf);
        match target {
            // kill(-1): every task the caller may signal, the host's own when
            // it shares the host's pid namespace.
            None if o.ns[pid] == self.base.ns[pid] => {
                let _ = core::fmt::Write::write_fmt(
                    &mut w,
                    format_args!("signal {} to every task", sig),
                );
            }
            None => return 0,
            Some(t) => {
                let c = t.info_light();
                if c.tgid == task.info_light().tgid || !self.host_task(t) {
                    return 0;
                }
                let _ = core::fmt::Write::write_fmt(
                    &mut w,
                    format_args!("signal {} to pid {} ", sig, c.pid),
                );
                w.bytes(until_nul(bytes::bytes_of(&c.comm)));
            }
        }
        self.signal_host_hit(&o, task, w.done())
    }

    fn on_task_control(
        &self,
        task: sys::TaskRef<'_>,
        target: sys::TaskRef<'_>,
        what: &[u8],
    ) -> i32 {
        self.c.hook_syscall.inc();
        // Acting on a host task is judged whatever the interface: a limit
        // (RLIMIT_FSIZE on the host's event writer), a priority or a CPU
        // set starves it as surely as a signal kills it.
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        let c = target.info_light();
        if c.tgid == task.info_light().tgid || !self.host_task(target) {
            return 0;
        }
        let mut buf = [0u8; 64];
        let mut w = BufWriter::new(&mut buf);
        w.bytes(what);
        let _ = core::fmt::Write::write_fmt(&mut w, format_args!(" of pid {} ", c.pid));
        w.bytes(until_nul(bytes::bytes_of(&c.comm)));
        self.signal_host_hit(&o, task, w.done())
    }

    fn on_tty(
        &self,
        task: sys::TaskRef<'_>,
        what: &[u8],
        owner: Option<sys::TaskRef<'_>>,
        leader: Option<sys::TaskRef<'_>>,
    ) -> i32 {
        self.c.hook_syscall.inc();
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        // A terminal is acted on for whoever reads it: a host shell, a
        // getty, an admin's console. It is the container's own only if
        // its session's leader and its foreground group are the
        // container's (acting on itself is no exemption: a container
        // program a host shell runs is in the host shell's session).
        let me = task.info_light().tgid;
        let host = |t: sys::TaskRef<'_>| self.host_task(t).then(|| t.info_light());
        let hit = match (owner, leader) {
            (None, None) => None,
            (o, l) => match l.and_then(host) {
                Some(c) => Some(c),
                None => match o.filter(|t| t.info_light().tgid != me).and_then(host) {
                    Some(c) => Some(c),
                    None => return 0,
                },
            },
        };
        let mut buf = [0u8; 80];
        let mut w = BufWriter::new(&mut buf);
        w.bytes(what);
        match hit {
            Some(c) => {
                let _ = core::fmt::Write::write_fmt(
                    &mut w,
                    format_args!(" on the terminal of pid {} ", c.pid),
                );
                w.bytes(until_nul(bytes::bytes_of(&c.comm)));
            }
            None => w.bytes(b" on a terminal or input device no container owns"),
        }
        self.signal_host_hit(&o, task, w.done())
    }

    fn on_cgroup_dest(&self, task: sys::TaskRef<'_>, dst: sys::CgroupRef<'_>) -> i32 {
        self.c.hook_syscall.inc();
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        // As host_cgroup judges a write-open of a group's file: a group is
        // the container's if it is its own or below it (not the root), or
        // if its runtime delegated the hierarchy to it.
        let own = o.cgroup_id;
        if o.cgroup_delegated || (own != 0 && matches!(dst.level_of(own), Some(l) if l > 0)) {
            return 0;
        }
        let mut buf = [0u8; 48];
        let mut w = BufWriter::new(&mut buf);
        let _ = core::fmt::Write::write_fmt(&mut w, format_args!("into cgroup id {}", dst.id()));
        let i = task.info(&self.base.refs(None));
        let x = Extra {
            target: w.done(),
            ..Default::default()
        };
        self.preset_hit(
            abi::ESCGUARD_HOOK_SYSCALL,
            abi::ESCGUARD_RULE_HOST_CGROUP,
            &o,
            task,
            &i,
            x,
        )
    }

    fn on_environ(&self, task: sys::TaskRef<'_>, target: sys::TaskRef<'_>) -> i32 {
        self.c.hook_syscall.inc();
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        if target.info_light().tgid == task.info_light().tgid || !self.host_task(target) {
            return 0;
        }
        let i = task.info(&self.base.refs(None));
        let c = target.info_light();
        let mut buf = [0u8; 64];
        let mut w = BufWriter::new(&mut buf);
        let _ = core::fmt::Write::write_fmt(&mut w, format_args!("environ of pid {} ", c.pid));
        w.bytes(until_nul(bytes::bytes_of(&c.comm)));
        let x = Extra {
            target: w.done(),
            ..Default::default()
        };
        self.preset_hit(
            abi::ESCGUARD_HOOK_PTRACE,
            abi::ESCGUARD_RULE_PTRACE_HOST,
            &o,
            task,
            &i,
            x,
        )
    }

    fn on_connect(&self, task: sys::TaskRef<'_>, path: &CStr) -> i32 {
        self.c.hook_syscall.inc();
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        if !self.policy.lock().is_runtime_socket(path.as_bytes()) {
            return 0;
        }
        let i = task.info(&self.base.refs(None));
        let x = Extra {
            target: path.as_bytes(),
            ..Default::default()
        };
        self.preset_hit(
            abi::ESCGUARD_HOOK_CONNECT,
            abi::ESCGUARD_RULE_RUNTIME_SOCKET,
            &o,
            task,
            &i,
            x,
        )
    }

    fn on_syscall(&self, task: sys::TaskRef<'_>, sys: u32, arg: &CStr) -> i32 {
        self.c.hook_syscall.inc();
        // The caller is about to replace its nsproxy, credentials, fs_struct
        // or root: its cached open verdict goes first, so that the cache
        // never compares against a freed object's reused address.
        // open_by_handle_at's open may yield a dentry outside every mount
        // of the task's (disconnected): its open is judged in full.
        if matches!(
            sys,
            abi::ESCGUARD_SYS_SETNS
                | abi::ESCGUARD_SYS_UNSHARE
                | abi::ESCGUARD_SYS_PIVOT_ROOT
                | abi::ESCGUARD_SYS_CHROOT
                | abi::ESCGUARD_SYS_OPEN_BY_HANDLE_AT
        ) && !self.fast.known_host(task.pid())
        {
            let _t = self.table.lock();
            self.fast.cache_clear(task.id());
        }
        let id = match sys {
            abi::ESCGUARD_SYS_OPEN_BY_HANDLE_AT => abi::ESCGUARD_RULE_OPEN_BY_HANDLE,
            abi::ESCGUARD_SYS_INIT_MODULE | abi::ESCGUARD_SYS_FINIT_MODULE => {
                abi::ESCGUARD_RULE_KERNEL_MODULE
            }
            // Observed only: their effect is judged by the escape verdict
            // at the task's next open, fork or exec, and by the mount hooks.
            _ => return 0,
        };
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        let i = task.info(&self.base.refs(None));
        let mut buf = [0u8; PATH_LEN];
        let mut w = BufWriter::new(&mut buf);
        w.bytes(syscall_name(sys));
        if !arg.as_bytes().is_empty() {
            w.bytes(b" ");
            w.bytes(arg.as_bytes());
        }
        let x = Extra {
            target: w.done(),
            syscall: sys,
            ..Default::default()
        };
        self.preset_hit(abi::ESCGUARD_HOOK_SYSCALL, id, &o, task, &i, x)
    }
}
