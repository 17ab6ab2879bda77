// SPDX-License-Identifier: GPL-2.0

//! Building and emitting events: what a verdict or a rule hit does (kill in
//! enforce mode, report once), and the event record put on the ring.

use crate::bytes;
use crate::events::Pushed;
use crate::presets::PRESET_NAMES;
use crate::verdict::{Escape, Lineage, Origin};
use crate::{abi, sys, State};
use kernel::prelude::*;

/// What an event adds beyond the task: what the call aimed at, and the
/// rule that matched.
#[derive(Clone, Copy, Default)]
pub(crate) struct Extra<'a> {
    pub(crate) target: &'a [u8],
    pub(crate) rule_id: u32,
    pub(crate) rule: &'a [u8],
    pub(crate) syscall: u32,
    pub(crate) denied: bool,
    /// The matching rule's action is monitor: report only, in every mode.
    pub(crate) monitor: bool,
    /// Render no paths: the hook holds a task_lock that rendering takes.
    pub(crate) light: bool,
}

/// Formats into a fixed buffer, truncating; always leaves a NUL.
pub(crate) struct BufWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> BufWriter<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        BufWriter { buf, len: 0 }
    }
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        let room = self.buf.len().saturating_sub(self.len + 1);
        let n = b.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&b[..n]);
        self.len += n;
        if let Some(z) = self.buf.get_mut(self.len) {
            *z = 0;
        }
    }
    pub(crate) fn done(self) -> &'a [u8] {
        &self.buf[..self.len]
    }
}

impl core::fmt::Write for BufWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.bytes(s.as_bytes());
        Ok(())
    }
}

/// The name events give syscall `sys`.
pub(crate) fn syscall_name(sys: u32) -> &'static [u8] {
    match sys {
        abi::ESCGUARD_SYS_OPEN_BY_HANDLE_AT => b"open_by_handle_at",
        abi::ESCGUARD_SYS_INIT_MODULE => b"init_module",
        abi::ESCGUARD_SYS_FINIT_MODULE => b"finit_module",
        abi::ESCGUARD_SYS_DELETE_MODULE => b"delete_module",
        abi::ESCGUARD_SYS_SETNS => b"setns",
        abi::ESCGUARD_SYS_UNSHARE => b"unshare",
        abi::ESCGUARD_SYS_PIVOT_ROOT => b"pivot_root",
        abi::ESCGUARD_SYS_CHROOT => b"chroot",
        abi::ESCGUARD_SYS_MOUNT => b"mount",
        abi::ESCGUARD_SYS_FSOPEN => b"fsopen",
        abi::ESCGUARD_SYS_FSMOUNT => b"fsmount",
        abi::ESCGUARD_SYS_MOVE_MOUNT => b"move_mount",
        abi::ESCGUARD_SYS_PTRACE => b"ptrace",
        _ => b"?",
    }
}

impl State {
    /// In enforce mode kills; reports the escape unless `reported` says it
    /// was already.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn act(
        &self,
        hook: u32,
        esc: &Escape,
        i: &sys::KInfo,
        lineage: &Lineage,
        task: sys::TaskRef<'_>,
        file: Option<sys::FileRef<'_>>,
        also: Option<sys::TaskRef<'_>>,
        reported: bool,
        x: &Extra<'_>,
    ) {
        let kill = self.enforcing();
        if kill {
            task.kill();
            self.c.kills.inc();
            if let Some(other) = also {
                other.kill();
                self.c.kills.inc();
            }
        }
        if !reported {
            self.c.verdicts.inc();
            self.emit(
                hook,
                esc.reason(),
                esc,
                i,
                Some(lineage),
                task,
                file,
                kill,
                x,
            );
        }
    }

    /// Queues an event; never blocks, never sleeps.
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &self,
        hook: u32,
        reason: u32,
        esc: &Escape,
        i: &sys::KInfo,
        lineage: Option<&Lineage>,
        task: sys::TaskRef<'_>,
        file: Option<sys::FileRef<'_>>,
        killed: bool,
        x: &Extra<'_>,
    ) {
        // Built on the heap: a record is over 1 KiB, too much for the stack
        // of a probe handler deep in fork or exec.
        let Ok(mut ev) = KBox::init(
            kernel::init::zeroed::<abi::escguard_event>(),
            GFP_NOWAIT | __GFP_NOWARN,
        ) else {
            self.c.events_dropped.inc();
            // Still numbered: readers see the gap.
            self.ring.lock().skip();
            return;
        };
        ev.time_ns = sys::now_ns();
        ev.hook = hook;
        ev.reason = reason;
        ev.action = if killed {
            abi::ESCGUARD_ACTION_KILLED
        } else {
            abi::ESCGUARD_ACTION_LOGGED
        };
        ev.pid = i.pid;
        ev.tgid = i.tgid;
        ev.ppid = i.ppid;
        ev.uid = i.uid;
        ev.ns_mask = esc.ns_mask;
        ev.fs_mask = esc.fs_mask;
        ev.ns_after = i.ns;
        ev.root = i.root;
        ev.cwd = i.cwd;
        ev.comm = i.comm;
        if let Some(Lineage::Container(o)) = lineage {
            ev.origin_pid = o.pid;
            ev.ns_before = o.ns;
            ev.origin_root = o.root;
            // Which container, by the cgroup the runtime gave it: the first
            // `level` components of the cgroup path name it while the task
            // is still in it or below it; a task that left it says so.
            ev.origin_cgroup_id = o.cgroup_id;
            ev.origin_cgroup_level = match o.cgroup_id {
                0 => 0,
                id => task
                    .cgroup_level_of(id)
                    .unwrap_or(abi::ESCGUARD_CGROUP_MOVED),
            };
        }
        // Leave at least one trailing NUL.
        let n = x.target.len().min(ev.target.len() - 1);
        ev.target[..n].copy_from_slice(&x.target[..n]);
        let n = x.rule.len().min(ev.rule.len() - 1);
        bytes::bytes_of_mut(&mut ev.rule)[..n].copy_from_slice(&x.rule[..n]);
        ev.rule_id = x.rule_id;
        ev.syscall = x.syscall;
        if x.denied {
            ev.flags |= abi::ESCGUARD_EVF_DENIED;
        }
        let e = &mut *ev;
        // Which container: recorded now, as the task may be gone (killed)
        // by the time anyone reads the event.
        e.cgroup_id = task.cgroup(bytes::bytes_of_mut(&mut e.cgroup));
        if !x.light {
            task.paths(file, &mut e.root_path, &mut e.cwd_path, &mut e.exe);
        }
        // The sequence number is given under the ring's lock, so that it
        // increases in the order readers see events.
        match self.ring.lock().push(e) {
            Pushed::Queued => {
                self.c.events_emitted.inc();
                sys::wake_readers();
            }
            Pushed::Dropped => self.c.events_dropped.inc(),
        }
    }

    /// Reports a change by the host admin that weakens escguard (monitor
    /// mode, unlock, a rule switched off, a policy replaced), so that
    /// disarming is visible in the event stream, not only in the kernel log.
    pub(crate) fn config_event(&self, task: sys::TaskRef<'_>, what: &[u8]) {
        let i = task.info(&self.base.refs(None));
        let x = Extra {
            target: what,
            ..Default::default()
        };
        self.emit(
            abi::ESCGUARD_HOOK_DEVICE,
            abi::ESCGUARD_REASON_CONFIG,
            &Escape::default(),
            &i,
            None,
            task,
            None,
            false,
            &x,
        );
    }

    /// Refuses a container task's use of escguard: reports it, and in
    /// enforce mode kills the task as hostile. `what` names the attempt.
    pub(crate) fn tamper(&self, hook: u32, t: sys::TaskRef<'_>, what: &[u8]) {
        self.c.tamper.inc();
        let lin = self.lineage_of(t).map(|(l, _)| l);
        let i = t.info(&self.base.refs(None));
        let kill = self.enforcing();
        if kill {
            t.kill();
            self.c.kills.inc();
        }
        let x = Extra {
            target: what,
            ..Default::default()
        };
        self.emit(
            hook,
            abi::ESCGUARD_REASON_TAMPER,
            &Escape::default(),
            &i,
            lin.as_ref(),
            t,
            None,
            kill,
            &x,
        );
    }

    /// A rule matched: count, kill in enforce mode, report. Returns what the
    /// hooked call should return (`-EPERM` when it is refused).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn rule_hit(
        &self,
        hook: u32,
        reason: u32,
        i: &sys::KInfo,
        lineage: Option<&Lineage>,
        task: sys::TaskRef<'_>,
        file: Option<sys::FileRef<'_>>,
        x: Extra<'_>,
    ) -> i32 {
        self.c.rule_hits.inc();
        let kill = self.enforcing() && !x.monitor;
        if kill {
            task.kill();
            self.c.kills.inc();
            self.c.denials.inc();
        }
        let x = Extra { denied: kill, ..x };
        self.emit(
            hook,
            reason,
            &Escape::default(),
            i,
            lineage,
            task,
            file,
            kill,
            &x,
        );
        if kill {
            EPERM.to_errno()
        } else {
            0
        }
    }

    /// A preset matched for a container task: `rule_hit` if it is enabled.
    pub(crate) fn preset_hit(
        &self,
        hook: u32,
        id: u32,
        o: &Origin,
        task: sys::TaskRef<'_>,
        i: &sys::KInfo,
        x: Extra<'_>,
    ) -> i32 {
        if !self.presets.on(id) {
            return 0;
        }
        self.presets.hit(id);
        let lin = Lineage::Container(*o);
        let x = Extra {
            rule_id: id,
            rule: PRESET_NAMES[id as usize],
            ..x
        };
        self.rule_hit(
            hook,
            abi::ESCGUARD_REASON_RULE,
            i,
            Some(&lin),
            task,
            None,
            x,
        )
    }
}
