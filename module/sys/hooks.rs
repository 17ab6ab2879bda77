// SPDX-License-Identifier: GPL-2.0

//! Hook entries: what each hooked kernel function's arguments are (read from
//! the registers ftrace saved at its entry), which calls can concern a
//! container at all, and the facts each handler of [`Ops`] gets.
//!
//! Every hook runs with preemption off (the C glue's ftrace callback),
//! except the open hook, which turns it off for the handler only.

use super::task::{self, CgroupRef, Rcu, TaskHold, TaskRef};
use super::vfs::{self, FileRef, MountRef};
use super::{fast, raw, Ops, SbFacts};
use core::ptr::{self, addr_of};
use kernel::bindings;
use kernel::ffi::{c_char, c_int};
use kernel::str::CStr;

/// `PTRACE_MODE_ATTACH` (`linux/ptrace.h`).
const PTRACE_MODE_ATTACH: u32 = 0x02;
/// `PROC_SUPER_MAGIC`, `PID_FS_MAGIC` (`linux/magic.h`).
const PROC_SUPER_MAGIC: u64 = 0x9fa0;
const PID_FS_MAGIC: u64 = 0x5049_4446;
/// Which port-access call an `ESCGUARD_AT_PORT_IO` hook is.
const PORT_IOPERM: u32 = 1;
const PORT_IOPL: u32 = 2;
/// `MODULE_NAME_LEN`.
const MODULE_NAME_LEN: usize = 56;
const PATH_LEN: usize = crate::abi::ESCGUARD_PATH_LEN as usize;

/// A hooked function's register state at its entry.
#[derive(Clone, Copy)]
struct Regs<'a>(&'a bindings::pt_regs);

impl Regs<'_> {
    /// Argument `n` of the hooked function (x86-64 calling convention).
    fn arg(&self, n: usize) -> usize {
        let r = self.0;
        (match n {
            0 => r.di,
            1 => r.si,
            2 => r.dx,
            3 => r.cx,
            4 => r.r8,
            _ => r.r9,
        }) as usize
    }

    /// Argument `n` of a syscall whose wrapper was hooked: its first
    /// argument is the user's saved registers. A 32-bit call's pointers are
    /// zero-extended, as `compat_ptr()` does.
    fn user_arg(&self, ia32: bool, n: usize) -> usize {
        // SAFETY: a syscall wrapper's argument is the task's saved user
        // registers, on its kernel stack for the whole call.
        let u = unsafe { &*(self.arg(0) as *const bindings::pt_regs) };
        if ia32 {
            (match n {
                0 => u.bx,
                1 => u.cx,
                2 => u.dx,
                3 => u.si,
                4 => u.di,
                _ => u.bp,
            }) as u32 as usize
        } else {
            (match n {
                0 => u.di,
                1 => u.si,
                2 => u.dx,
                3 => u.r10,
                4 => u.r8,
                _ => u.r9,
            }) as usize
        }
    }
}

/// This CPU's handler scratch (two path buffers and superblock facts).
struct Scratch {
    a: &'static mut [u8; PATH_LEN],
    b: &'static mut [u8; PATH_LEN],
    sb: &'static mut SbFacts,
}

impl Scratch {
    /// # Safety
    ///
    /// Preemption is off until the value is dropped, and no other `Scratch`
    /// lives on this CPU (hooks do not nest: the glue's recursion guard).
    unsafe fn get() -> Scratch {
        // SAFETY: the buffer is this CPU's, and by the requirement ours
        // alone while we run; `u8` and `c_char` have the same layout.
        unsafe {
            let s = raw::escguard_scratch();
            Scratch {
                a: &mut *(addr_of!((*s).a) as *mut [u8; PATH_LEN]),
                b: &mut *(addr_of!((*s).b) as *mut [u8; PATH_LEN]),
                sb: &mut (*s).sb,
            }
        }
    }
}

/// `buf` as a C string (it is NUL-terminated by every filler here).
fn cstr(buf: &[u8]) -> &CStr {
    let n = buf.iter().position(|&b| b == 0).unwrap_or(0);
    CStr::from_bytes_with_nul(&buf[..=n]).unwrap_or(kernel::c_str!(""))
}

/// Copies a kernel string (null: empty) into `buf`, NUL-terminated.
///
/// # Safety
///
/// `s` is null or a valid NUL-terminated kernel string.
unsafe fn kstr(s: *const c_char, buf: &mut [u8]) {
    let mut i = 0;
    while !s.is_null() && i + 1 < buf.len() {
        // SAFETY: within the string, by the requirement (we stop at its NUL).
        let c = unsafe { *s.add(i) } as u8;
        if c == 0 {
            break;
        }
        buf[i] = c;
        i += 1;
    }
    buf[i] = 0;
}

/// Copies a user string into `buf` without faulting (page faults are off
/// in a hook), NUL-terminated. Byte by byte: `strncpy_from_user_nofault()`
/// is not exported, and a whole-buffer copy would fail on a short string
/// at the end of a page.
fn ustr(u: usize, buf: &mut [u8]) {
    let mut i = 0;
    while u != 0 && i + 1 < buf.len() {
        let mut c = 0u8;
        // SAFETY: copies one byte from a user address, failing (non-zero)
        // instead of faulting; `c` is a valid destination.
        if unsafe {
            bindings::copy_from_user_nofault((&mut c as *mut u8).cast(), (u + i) as *const _, 1)
        } != 0
            || c == 0
        {
            break;
        }
        buf[i] = c;
        i += 1;
    }
    buf[i] = 0;
}

/// The task behind a /proc inode, held.
///
/// # Safety
///
/// `inode` is a valid procfs inode pinned by the caller.
unsafe fn proc_task(inode: *mut bindings::inode) -> Option<TaskHold> {
    let _rcu = Rcu::lock();
    // SAFETY: by the requirement; under RCU for `pid_task()`.
    unsafe { TaskHold::of_pid(raw::escguard_proc_pid(inode)) }
}

/// The task a signal-sending descriptor names: a pidfd (pidfs keeps its
/// `struct pid` in the inode, as `pidfd_pid()` reads it) or a `/proc/<pid>`
/// directory (the kernel itself accepts only that procfs directory; any
/// other fails the call).
fn pidfd_task(fd: i32) -> Option<TaskHold> {
    // A reference of our own: another thread may close `fd` meanwhile.
    // SAFETY: `fget_raw()` takes a reference or returns null.
    let f = unsafe { bindings::fget_raw(fd as u32) };
    // SAFETY: referenced until the fput below.
    let file = unsafe { FileRef::from_raw(f) }?;
    // SAFETY: the inode is pinned by the file.
    let inode = unsafe { (*f).f_inode };
    let held = match file.magic() {
        PID_FS_MAGIC => {
            let _rcu = Rcu::lock();
            // SAFETY: a pidfs inode's private data is its `struct pid`,
            // pinned by the inode; under RCU for `pid_task()`.
            unsafe { TaskHold::of_pid((*inode).i_private.cast()) }
        }
        // SAFETY: a procfs inode pinned by the file.
        PROC_SUPER_MAGIC if file.is_dir() => unsafe { proc_task(inode) },
        _ => None,
    };
    // SAFETY: drops our reference (fput() defers the final release).
    unsafe { bindings::fput(f) };
    held
}

/// Whether a hook is about a call that can concern a container: current is
/// a user task and not a tracked host task (host tasks are not subject to
/// container rules; untracked is not host).
fn maybe_container(cur: TaskRef<'_>) -> bool {
    cur.is_user() && !fast::known_host(cur.pid())
}

/// A terminal ioctl that acts on someone else (see `ESCGUARD_AT_TTY_IOCTL`).
struct TtyAct {
    what: &'static [u8],
    /// Judged even on a terminal no process group holds.
    unowned: bool,
    /// Acts on every console (keymaps, console output): judged as unowned.
    console: bool,
}

impl TtyAct {
    /// `uapi/asm-generic/ioctls.h`, `uapi/linux/kd.h`.
    const TIOCSCTTY: u32 = 0x540e;
    const TIOCSTI: u32 = 0x5412;
    const TIOCLINUX: u32 = 0x541c;
    const TIOCCONS: u32 = 0x541d;
    const TIOCVHANGUP: u32 = 0x5437;
    const KDSKBENT: u32 = 0x4b47;
    const KDSKBSENT: u32 = 0x4b49;

    fn of(cmd: u32, arg: usize) -> Option<Self> {
        let (what, unowned, console): (&'static [u8], _, _) = match cmd {
            Self::TIOCSTI => (b"TIOCSTI", true, false),
            Self::TIOCLINUX => (b"TIOCLINUX", true, false),
            Self::TIOCVHANGUP => (b"TIOCVHANGUP", false, false),
            // arg 1: steal it from the session that holds it.
            Self::TIOCSCTTY if arg != 0 => (b"TIOCSCTTY steal", false, false),
            Self::TIOCCONS => (b"TIOCCONS", true, true),
            Self::KDSKBENT => (b"KDSKBENT", true, true),
            Self::KDSKBSENT => (b"KDSKBSENT", true, true),
            _ => return None,
        };
        Some(TtyAct {
            what,
            unowned,
            console,
        })
    }
}

/// Superblock facts for `security_sb_kern_mount`.
///
/// # Safety
///
/// `sb` is a valid superblock whose `s_umount` the caller holds.
unsafe fn sb_facts(sb: *const bindings::super_block, f: &mut SbFacts) {
    *f = SbFacts::default();
    // SAFETY: by the requirement.
    unsafe {
        f.magic = (*sb).s_magic as u64;
        f.dev = vfs::encode_dev((*sb).s_dev);
        f.bdev = !(*sb).s_bdev.is_null() as u32;
        // A superblock that already has mounts was found, not made:
        // mounting a block device that is already mounted shares its
        // filesystem.
        let head = addr_of!((*sb).s_mounts);
        f.reused = ((*head).next as *const bindings::list_head != head) as u32;
        if f.magic == PROC_SUPER_MAGIC {
            f.pid_ns = raw::escguard_proc_sb_pid_ns_inum(sb as *mut _);
        }
        let name = (*(*sb).s_type).name;
        kstr(
            name,
            core::slice::from_raw_parts_mut(f.fstype.as_mut_ptr() as *mut u8, f.fstype.len()),
        );
    }
}

/// A hook's entry (see `escguard_kernel.h`): `id` says which kernel
/// function was entered, `arg` which syscall or signal call it is.
///
/// # Safety
///
/// `ops` is the live module state; `regs` the saved registers at the entry
/// of the function `id` names, with preemption off.
pub(crate) unsafe fn dispatch<T: Ops>(
    ops: &T,
    id: u32,
    arg: u32,
    regs: *mut bindings::pt_regs,
) -> c_int {
    // SAFETY: ftrace's saved registers, valid for the callback.
    let r = Regs(unsafe { &*regs });
    let ia32 = id & raw::ESCGUARD_AT_IA32 != 0;
    let cur = TaskRef::current();
    // SAFETY (for each `TaskRef::from_raw`/`FileRef::from_raw`/`MountRef::
    // from_raw`/`TaskHold::of_pid_typed` below): the hooked function's
    // task, file, mount and pid arguments are valid for its call, which
    // outlives this callback.
    unsafe {
        match id & !raw::ESCGUARD_AT_IA32 {
            raw::ESCGUARD_AT_FORK => {
                // wake_up_new_task(p): @p is complete, not yet run.
                ops.on_fork(cur, TaskRef::from_raw(r.arg(0) as *mut _));
                0
            }
            raw::ESCGUARD_AT_EXEC => {
                // finalize_exec(bprm): the new image is committed and
                // start_thread() comes next, so a SIGKILL queued here
                // lands before its first instruction.
                let bprm = r.arg(0) as *const bindings::linux_binprm;
                let file = if bprm.is_null() {
                    ptr::null_mut()
                } else {
                    raw::escguard_bprm_file(bprm)
                };
                ops.on_exec(cur, FileRef::from_raw(file));
                0
            }
            raw::ESCGUARD_AT_EXIT => {
                // exit_files(tsk): in do_exit() after PF_EXITING is set;
                // also called on a failed fork's never-woken child.
                ops.on_exit(TaskRef::from_raw(r.arg(0) as *mut _));
                0
            }
            raw::ESCGUARD_AT_TID_SWAP => {
                // exchange_tids(left, right): a non-leader thread that
                // execs takes the leader's pid, under write_lock_irq of
                // tasklist_lock.
                ops.on_tid_swap(
                    TaskRef::from_raw(r.arg(0) as *mut _),
                    TaskRef::from_raw(r.arg(1) as *mut _),
                );
                0
            }
            raw::ESCGUARD_AT_NS_SWITCH => {
                // switch_task_namespaces(p, new): setns(2) or unshare(2)
                // committing @new (pinned by the caller), with the new
                // mount namespace's root and cwd already set; judged before
                // the task returns to user space.
                let new = r.arg(1) as *const bindings::nsproxy;
                if !new.is_null() && r.arg(0) == cur.id() as usize && maybe_container(cur) {
                    ops.on_ns_switch(cur, &task::current_facts_with(new));
                }
                0
            }
            raw::ESCGUARD_AT_BPRM_CHECK => {
                // security_bprm_check(bprm): each binary handler's turn,
                // before exec's point of no return (a script, then its
                // interpreter, also a binfmt_misc handler's).
                let file = FileRef::from_raw(raw::escguard_bprm_file(r.arg(0) as *const _));
                match file {
                    Some(f) if cur.is_user() => ops.on_bprm_check(cur, f, cur.parent_is_kthread()),
                    _ => 0,
                }
            }
            raw::ESCGUARD_AT_BDEV_OPEN => {
                // bdev_open(bdev, mode, holder, hops, bdev_file): user
                // opens come from blkdev_open() with no holder ops;
                // filesystems claim with fs_holder_ops, so a device so held
                // backs a mounted filesystem.
                let bdev = r.arg(0) as *const bindings::block_device;
                match FileRef::from_raw(r.arg(4) as *mut _) {
                    Some(f) if r.arg(3) == 0 && cur.is_user() => {
                        let hops = ptr::read_volatile(addr_of!((*bdev).bd_holder_ops));
                        ops.on_bdev_open(cur, f, hops == addr_of!(bindings::fs_holder_ops))
                    }
                    _ => 0,
                }
            }
            raw::ESCGUARD_AT_SB_KERN_MOUNT => {
                // security_sb_kern_mount(sb): a new mount's superblock, by
                // either mount API, before the mount exists.
                if !cur.is_user() {
                    return 0;
                }
                let s = Scratch::get();
                sb_facts(r.arg(0) as *const _, s.sb);
                ops.on_new_sb(cur, s.sb)
            }
            raw::ESCGUARD_AT_SB_MOUNT => {
                // security_sb_mount(dev_name, path, type, flags, data):
                // mount(2), its strings already copied into the kernel.
                if !cur.is_user() {
                    return 0;
                }
                let target = vfs::MountPoint::from_raw(&*(r.arg(1) as *const bindings::path));
                if target.made_writable(r.arg(3) as u64) && maybe_container(cur) {
                    let ret = ops.on_make_writable(cur, target);
                    if ret != 0 {
                        return ret;
                    }
                }
                if vfs::MountPoint::attaches(r.arg(3) as u64)
                    && target.mount().shared()
                    && maybe_container(cur)
                {
                    let ret = ops.on_tree_change(cur, target, super::TreeChange::Attach);
                    if ret != 0 {
                        return ret;
                    }
                }
                let s = Scratch::get();
                let mut fstype = [0u8; crate::abi::ESCGUARD_NAME_LEN as usize * 2];
                kstr(r.arg(0) as *const c_char, s.a);
                target.render(s.b);
                kstr(r.arg(2) as *const c_char, &mut fstype);
                ops.on_mount(
                    cur,
                    crate::abi::ESCGUARD_SYS_MOUNT,
                    cstr(s.a),
                    cstr(s.b),
                    cstr(&fstype),
                )
            }
            raw::ESCGUARD_AT_MOVE_MOUNT => {
                // security_move_mount(from, to): the new mount API
                // attaching a mount (from fsmount() or open_tree()).
                if !cur.is_user() {
                    return 0;
                }
                let s = Scratch::get();
                let (from, to) = (
                    &*(r.arg(0) as *const bindings::path),
                    &*(r.arg(1) as *const bindings::path),
                );
                let at = vfs::MountPoint::from_raw(to);
                if (at.mount().shared() || at.is_mount_root()) && maybe_container(cur) {
                    let ret = ops.on_tree_change(cur, at, super::TreeChange::AttachOrBeneath);
                    if ret != 0 {
                        return ret;
                    }
                }
                let mut fstype = [0u8; crate::abi::ESCGUARD_NAME_LEN as usize * 2];
                vfs::render(from, s.a);
                vfs::render(to, s.b);
                kstr((*(*(*from.mnt).mnt_sb).s_type).name, &mut fstype);
                ops.on_mount(
                    cur,
                    crate::abi::ESCGUARD_SYS_MOVE_MOUNT,
                    cstr(s.a),
                    cstr(s.b),
                    cstr(&fstype),
                )
            }
            raw::ESCGUARD_AT_SB_UMOUNT => {
                // security_sb_umount(mnt, flags): umount(2) of a mount the
                // caller holds, before anything is unmounted.
                let Some(m) = MountRef::from_raw(r.arg(0) as *mut bindings::vfsmount) else {
                    return 0;
                };
                if !cur.is_user() || !maybe_container(cur) {
                    return 0;
                }
                let root = bindings::path {
                    mnt: r.arg(0) as *mut bindings::vfsmount,
                    dentry: m.root(),
                };
                ops.on_tree_change(
                    cur,
                    vfs::MountPoint::from_raw(&root),
                    super::TreeChange::Detach(m),
                )
            }
            raw::ESCGUARD_AT_PTRACE => {
                // security_ptrace_access_check(child, mode): ptrace attach,
                // and access to another task's memory in attach mode.
                // Called with task_lock(child) held.
                if r.arg(1) as u32 & PTRACE_MODE_ATTACH == 0 || !cur.is_user() {
                    return 0;
                }
                ops.on_ptrace(cur, TaskRef::from_raw(r.arg(0) as *mut _))
            }
            raw::ESCGUARD_AT_CONNECT => {
                // security_unix_stream_connect(sock, other, newsk): @other
                // is the listening socket, with the path its owner bound it
                // to (unix_state_lock(other) held). The path is in its
                // owner's mount namespace (the host's, for a runtime), and
                // d_path() renders it from that namespace's root when it
                // lies outside the caller's root.
                let other = r.arg(1) as *mut bindings::sock;
                if other.is_null() || !cur.is_user() {
                    return 0;
                }
                let path = raw::escguard_unix_path(other);
                if path.is_null() {
                    return 0;
                }
                let s = Scratch::get();
                vfs::render(&*path, s.a);
                if s.a[0] == 0 {
                    return 0;
                }
                ops.on_connect(cur, cstr(s.a))
            }
            raw::ESCGUARD_AT_PROC_LINK => {
                // proc_pid_get_link(dentry, inode, done): a path walk
                // following /proc/<pid>/root, cwd, exe, fd/N or
                // map_files/... of @inode's task (dentry NULL: an RCU walk,
                // retried with one).
                let dentry = r.arg(0) as *mut bindings::dentry;
                if dentry.is_null() || !maybe_container(cur) {
                    return 0;
                }
                let Some(t) = proc_task(r.arg(1) as *mut _) else {
                    return 0;
                };
                let s = Scratch::get();
                // The link's path within procfs ("/1/root").
                vfs::render_dentry(dentry, s.a);
                ops.on_proc_link(cur, t.task(), cstr(s.a))
            }
            raw::ESCGUARD_AT_CGROUP_ATTACH => {
                // cgroup_attach_task(dst_cgrp, leader, threadgroup): a pid
                // written to a cgroup.procs, cgroup.threads or v1 tasks file
                // (cgroup_mutex held, @leader pinned). A host task moved into
                // a cgroup the container controls is under its freezer, its
                // limits and its cgroup.kill: acting on it, as a signal does.
                if !maybe_container(cur) {
                    return 0;
                }
                ops.on_task_control(cur, TaskRef::from_raw(r.arg(1) as *mut _), b"cgroup move")
            }
            raw::ESCGUARD_AT_CGROUP_DEST => {
                // cgroup_attach_permissions(src, dst, sb, threadgroup, ns):
                // may a task go into @dst? Asked for a clone3() with
                // CLONE_INTO_CGROUP (a new task born in a group named by a
                // directory descriptor, which no write-open shows) and for
                // a cgroup.procs write. @dst is pinned by the caller.
                if !maybe_container(cur) {
                    return 0;
                }
                match CgroupRef::from_raw(r.arg(1) as *mut _) {
                    Some(dst) => ops.on_cgroup_dest(cur, dst),
                    None => 0,
                }
            }
            raw::ESCGUARD_AT_FILE_RECEIVE => {
                // security_file_receive(file): a descriptor another process
                // passes (SCM_RIGHTS, pidfd_getfd, seccomp ADDFD), in the
                // receiving task, before the descriptor is installed.
                match FileRef::from_raw(r.arg(0) as *mut _) {
                    Some(f) if maybe_container(cur) => ops.on_file_receive(cur, f),
                    _ => 0,
                }
            }
            raw::ESCGUARD_AT_WANT_WRITE | raw::ESCGUARD_AT_WANT_WRITE_FILE => {
                // mnt_want_write(mnt), mnt_want_write_file(file): write
                // access to a mount for a change that may open nothing
                // (chmod, chown, mkdir, mknod, unlink, rename, link,
                // truncate, utimes, xattrs; an open that creates or
                // truncates). The caller holds a path or the file on it.
                let mnt = if id & !raw::ESCGUARD_AT_IA32 == raw::ESCGUARD_AT_WANT_WRITE {
                    r.arg(0) as *mut bindings::vfsmount
                } else {
                    match FileRef::from_raw(r.arg(0) as *mut _) {
                        Some(f) => f.mnt(),
                        None => return 0,
                    }
                };
                match MountRef::from_raw(mnt) {
                    Some(m) if maybe_container(cur) && fast::write_may_need_judging(m) => {
                        ops.on_write_through(cur, m)
                    }
                    _ => 0,
                }
            }
            raw::ESCGUARD_AT_PRIVATE_MOUNT => {
                // clone_private_mount(path): a copy of @path's mount in no
                // namespace, which overlayfs writes its upper layer
                // through (mnt_want_write() on it is the kernel's, with
                // no namespace to judge it by): a writable copy of a mount
                // the container may not write through is a way to write.
                let p = &*(r.arg(0) as *const bindings::path);
                match MountRef::from_raw(p.mnt) {
                    Some(m)
                        if maybe_container(cur)
                            && m.writable()
                            && fast::write_may_need_judging(m) =>
                    {
                        ops.on_write_through(cur, m)
                    }
                    _ => 0,
                }
            }
            raw::ESCGUARD_AT_TTY_IOCTL => {
                // tty_ioctl(file, cmd, arg): the terminal calls that act on
                // whoever reads the terminal or holds its session -- input
                // pushed as if typed (TIOCSTI, TIOCLINUX paste), a hangup
                // (SIGHUP to the session), a stolen controlling terminal --
                // or on every console (keymap strings, console output).
                let Some(act) = TtyAct::of(r.arg(1) as u32, r.arg(2)) else {
                    return 0;
                };
                if !maybe_container(cur) {
                    return 0;
                }
                let Some(f) = FileRef::from_raw(r.arg(0) as *mut _) else {
                    return 0;
                };
                // A tty's file holds its tty_file_private (tty_alloc_file).
                let priv_ = f.private_data().cast::<raw::tty_file_private>();
                let tty = if priv_.is_null() || act.console {
                    ptr::null_mut()
                } else {
                    ptr::read_volatile(addr_of!((*priv_).tty))
                };
                judge_tty(ops, cur, tty, act)
            }
            raw::ESCGUARD_AT_VHANGUP => {
                // vhangup(2): hangs up the caller's controlling terminal,
                // the act TIOCVHANGUP is judged for, without tty_ioctl().
                if !cur.is_user() || !maybe_container(cur) {
                    return 0;
                }
                let tty = raw::get_current_tty();
                if tty.is_null() {
                    return 0;
                }
                let act = TtyAct {
                    what: b"vhangup",
                    unowned: false,
                    console: false,
                };
                let ret = judge_tty(ops, cur, tty, act);
                // Ours, from get_current_tty().
                raw::tty_kref_put(tty);
                ret
            }
            raw::ESCGUARD_AT_INPUT_WRITE => {
                // evdev_write(file, buf, count, ppos): input events written
                // to an input device, which the kernel delivers as if the
                // device made them: keys typed at the console's keyboard
                // reach whatever reads the foreground terminal.
                if !maybe_container(cur) {
                    return 0;
                }
                ops.on_tty(cur, b"input events", None, None)
            }
            raw::ESCGUARD_AT_SETOWN => {
                // __f_setown(filp, pid, type, force): who gets the SIGIO
                // and SIGURG of @filp (F_SETOWN, F_SETOWN_EX, FIOSETOWN,
                // SIOCSPGRP), with the signal F_SETSIG chose (SIGKILL
                // too). The kernel sends them later on the setter's
                // behalf, so the target is judged now. Void: a refusal
                // leaves the owner unset. Called under RCU.
                if !maybe_container(cur) {
                    return 0;
                }
                let ty = r.arg(2) as bindings::pid_type;
                match TaskHold::of_pid_typed(r.arg(1) as *mut _, ty) {
                    Some(t) => ops.on_task_control(cur, t.task(), b"F_SETOWN"),
                    None => 0,
                }
            }
            raw::ESCGUARD_AT_ENVIRON => {
                // environ_open(inode, file): another task's environment.
                if !maybe_container(cur) {
                    return 0;
                }
                let Some(t) = proc_task(r.arg(0) as *mut _) else {
                    return 0;
                };
                ops.on_environ(cur, t.task())
            }
            raw::ESCGUARD_AT_KERNEL_MEMORY => {
                // open_kcore(inode, file), open_port(inode, file): the open
                // methods of /proc/kcore, /dev/mem, /dev/kmem, /dev/port.
                match FileRef::from_raw(r.arg(1) as *mut _) {
                    Some(f) if maybe_container(cur) => ops.on_kernel_memory(cur, f),
                    _ => 0,
                }
            }
            raw::ESCGUARD_AT_PORT_IO => {
                // ioperm(from, num, turn_on), iopl(level): I/O port access,
                // as /dev/port gives. Dropping access is fine.
                let on = match arg {
                    PORT_IOPERM => r.user_arg(ia32, 2) as u32 != 0,
                    _ => r.user_arg(ia32, 0) as u32 != 0,
                };
                if !on || !maybe_container(cur) {
                    return 0;
                }
                ops.on_port_io(cur)
            }
            raw::ESCGUARD_AT_SYSCALL => {
                if !cur.is_user() {
                    return 0;
                }
                // Only a few calls carry a string the rules report.
                let n = match arg {
                    crate::abi::ESCGUARD_SYS_INIT_MODULE | crate::abi::ESCGUARD_SYS_MOUNT => {
                        Some(2)
                    }
                    crate::abi::ESCGUARD_SYS_FINIT_MODULE => Some(1),
                    crate::abi::ESCGUARD_SYS_PIVOT_ROOT
                    | crate::abi::ESCGUARD_SYS_CHROOT
                    | crate::abi::ESCGUARD_SYS_FSOPEN => Some(0),
                    _ => None,
                };
                let s = Scratch::get();
                ustr(n.map_or(0, |n| r.user_arg(ia32, n)), s.a);
                ops.on_syscall(cur, arg, cstr(s.a))
            }
            raw::ESCGUARD_AT_UNLOAD => {
                // delete_module(name, flags): any task, host or not (the
                // module lock is the host admin's).
                let mut name = [0u8; MODULE_NAME_LEN];
                ustr(r.user_arg(ia32, 0), &mut name);
                ops.on_unload(cur, cstr(&name))
            }
            raw::ESCGUARD_AT_SIGNAL => {
                // kill(2) and friends at syscall entry (the signal code's
                // own LSM hook can run under tasklist_lock, where the table
                // lock may not be taken).
                let (target, sig) = match arg {
                    raw::ESCGUARD_SIG_TGKILL => {
                        (r.user_arg(ia32, 1) as i32, r.user_arg(ia32, 2) as i32)
                    }
                    _ => (r.user_arg(ia32, 0) as i32, r.user_arg(ia32, 1) as i32),
                };
                if !maybe_container(cur) {
                    return 0;
                }
                if let Some((nr, what)) = task_control(arg, |n| r.user_arg(ia32, n)) {
                    // 0 is the caller itself.
                    if nr <= 0 {
                        return 0;
                    }
                    return match TaskHold::by_vpid(nr) {
                        Some(t) => ops.on_task_control(cur, t.task(), what),
                        None => 0,
                    };
                }
                // Signal 0 is a liveness probe.
                if sig == 0 {
                    return 0;
                }
                if arg == raw::ESCGUARD_SIG_PIDFD {
                    return match pidfd_task(target) {
                        Some(t) => ops.on_signal(cur, Some(t.task()), sig),
                        None => 0,
                    };
                }
                // The target as the caller names it in its pid namespace:
                // > 0 a task, -1 every task it can signal, < -1 the process
                // group -nr (judged by its first member: a host service is
                // its own group's leader), 0 the caller's own group.
                match target {
                    -1 => ops.on_signal(cur, None, sig),
                    nr if nr > 0 => match TaskHold::by_vpid(nr) {
                        Some(t) => ops.on_signal(cur, Some(t.task()), sig),
                        None => 0,
                    },
                    nr if nr < -1 && arg == raw::ESCGUARD_SIG_KILL_GROUP => {
                        match TaskHold::by_vpgid(nr.wrapping_neg()) {
                            Some(t) => ops.on_signal(cur, Some(t.task()), sig),
                            None => 0,
                        }
                    }
                    _ => 0,
                }
            }
            _ => 0,
        }
    }
}

/// One open hook call in this many (per CPU) is timed: two clock reads
/// cost about as much as the common path, and every open would pay a
/// share of them. Enough samples still on any host busy enough to care.
const OPEN_SAMPLE: u64 = 64;

/// The open hook's entry: security_file_open(`file`) by `t` (current);
/// `n` is this CPU's count of calls before this one. Preemptible: the
/// fast path needs no CPU of its own; the handler runs with preemption
/// off. No recursion guard: security_file_open() runs in process context
/// only, and nothing called from here opens a file. The fast path takes
/// no state pointer (one register less to keep on a cache hit): the
/// paths that judge get it themselves.
///
/// # Safety
///
/// Called from the open hook only; `t` is current and `file` the file
/// `security_file_open()` was called on.
#[inline(always)]
pub(crate) unsafe fn open<T: Ops>(
    t: *mut bindings::task_struct,
    file: *mut bindings::file,
    n: u64,
) -> c_int {
    // SAFETY: current and the file being opened (never null: its
    // callers have just set it up) are valid for the call.
    let (t, f) = unsafe { (TaskRef::from_raw(t), FileRef::from_arg(file)) };
    if !t.is_user() {
        return 0;
    }
    if n % OPEN_SAMPLE == 0 {
        return open_timed::<T>(f, t);
    }
    open_judge::<T>(f, t)
}

/// The verdict on an open by current (`t`, a user task).
#[inline(always)]
fn open_judge<T: Ops>(f: FileRef<'_>, t: TaskRef<'_>) -> c_int {
    // A tracked task of host lineage: host tasks are not subject to
    // container rules. Untracked is not host: a task the table could not
    // hold goes on to be judged by its own namespaces and root.
    if fast::known_host(t.pid()) {
        return 0;
    }
    open_container::<T>(f, t)
}

/// An open by a task that may be of container lineage: answered by the
/// verdict cache, or judged in full. Every call from here is a tail call,
/// so a hit sets up no frame. Out of line, so that host tasks' opens do
/// not pay for it.
#[inline(never)]
fn open_container<T: Ops>(f: FileRef<'_>, t: TaskRef<'_>) -> c_int {
    match fast::cached(t, f) {
        fast::Cached::Hit => {
            super::PcpuCounter::<{ super::PC_OPEN_CACHED }>.inc();
            0
        }
        fast::Cached::Miss => open_slow::<T>(f, t),
        fast::Cached::Mount => open_mount::<T>(f, t),
    }
}

/// A cache hit but for the file's mount, which is not the task's root
/// mount: judged in full only if that mount is the host's.
#[inline(never)]
fn open_mount<T: Ops>(f: FileRef<'_>, t: TaskRef<'_>) -> c_int {
    if fast::mount_on_host(f) {
        return open_slow::<T>(f, t);
    }
    super::PcpuCounter::<{ super::PC_OPEN_CACHED }>.inc();
    0
}

/// The full verdict on an open, with preemption off (as in a hook).
#[inline(never)]
#[cold]
fn open_slow<T: Ops>(f: FileRef<'_>, t: TaskRef<'_>) -> c_int {
    // SAFETY: called from the open hook only.
    let Some(ops) = (unsafe { super::open_ops::<T>() }) else {
        return 0;
    };
    let _p = NoPreempt::new();
    ops.on_open(t, f).min(0)
}

/// One open in [`OPEN_SAMPLE`], timed. Out of line: the clock reads would
/// make the common path's frame larger.
#[inline(never)]
fn open_timed<T: Ops>(f: FileRef<'_>, t: TaskRef<'_>) -> c_int {
    // The time is this CPU's.
    let _p = NoPreempt::new();
    super::PcpuCounter::<{ super::PC_OPEN_TIMED }>.inc();
    // SAFETY: `local_clock()` may be called in any context.
    let t0 = unsafe { raw::local_clock() };
    let ret = open_judge::<T>(f, t);
    // SAFETY: as above.
    super::pcpu_add(raw::ESCGUARD_TIME_OPEN, unsafe { raw::local_clock() } - t0);
    ret
}

/// Preemption off while the value lives.
struct NoPreempt(());

impl NoPreempt {
    fn new() -> Self {
        // SAFETY: paired with the enable in `drop`.
        unsafe { raw::escguard_preempt_disable() };
        NoPreempt(())
    }
}

impl Drop for NoPreempt {
    fn drop(&mut self) {
        // SAFETY: paired with the disable in `new`.
        unsafe { raw::escguard_preempt_enable() };
    }
}

/// A hooked function.
pub(crate) type Site = raw::escguard_hook_site;

const fn site(sym: &'static CStr, id: u32, arg: u32, time: u32, refusing: bool) -> Site {
    Site {
        sym: sym.as_char_ptr(),
        id: id as u16,
        arg: arg as u16,
        time: time as u8,
        refusing: refusing as u8,
        optional: 0,
    }
}

/// A refusing hook in a driver that may be absent (built as a module not
/// loaded, or not built): skipped then, since nothing can reach it.
const fn refuse_optional(sym: &'static CStr, id: u32) -> Site {
    let mut s = refuse(sym, id, 0);
    s.optional = 1;
    s
}

/// A hook that only observes (it cannot make the call fail).
const fn observe(sym: &'static CStr, id: u32, time: u32) -> Site {
    site(sym, id, 0, time, false)
}

/// A hook that may make the call fail: used only on functions whose
/// callers treat any error return as a refusal and clean up (syscall
/// wrappers, LSM hooks, open methods).
const fn refuse(sym: &'static CStr, id: u32, arg: u32) -> Site {
    site(sym, id, arg, raw::ESCGUARD_TIME_OTHER, true)
}

use crate::abi::{
    ESCGUARD_SYS_CHROOT as CHROOT, ESCGUARD_SYS_FINIT_MODULE as FINIT_MODULE,
    ESCGUARD_SYS_FSMOUNT as FSMOUNT, ESCGUARD_SYS_FSOPEN as FSOPEN,
    ESCGUARD_SYS_INIT_MODULE as INIT_MODULE, ESCGUARD_SYS_MOUNT as MOUNT,
    ESCGUARD_SYS_MOVE_MOUNT as MOVE_MOUNT, ESCGUARD_SYS_OPEN_BY_HANDLE_AT as OPEN_BY_HANDLE_AT,
    ESCGUARD_SYS_PIVOT_ROOT as PIVOT_ROOT, ESCGUARD_SYS_PTRACE as PTRACE,
    ESCGUARD_SYS_SETNS as SETNS, ESCGUARD_SYS_UNSHARE as UNSHARE,
};
use kernel::c_str;
use raw::{
    ESCGUARD_AT_IA32 as IA32, ESCGUARD_AT_SIGNAL as SIGNAL, ESCGUARD_AT_SYSCALL as SYSCALL,
    ESCGUARD_SIG_KILL as KILL, ESCGUARD_SIG_KILL_GROUP as KILL_GROUP, ESCGUARD_SIG_PIDFD as PIDFD,
    ESCGUARD_SIG_PRLIMIT as PRLIMIT, ESCGUARD_SIG_TGKILL as TGKILL,
};

/// For a call that changes another task without a signal
/// (`ESCGUARD_SIG_PRLIMIT`), the target as the caller names it and the
/// call's name; `None` for a signal. A read-only `prlimit64` changes
/// nothing (target 0: not judged).
fn task_control(arg: u32, user_arg: impl Fn(usize) -> usize) -> Option<(i32, &'static [u8])> {
    match arg {
        PRLIMIT if user_arg(2) != 0 => Some((user_arg(0) as i32, b"prlimit64")),
        PRLIMIT => Some((0, b"")),
        _ => None,
    }
}

/// Judges act `act` of `cur` on terminal `tty` (null: none known).
///
/// # Safety
///
/// `tty` is null or a terminal the caller holds for the call.
unsafe fn judge_tty<T: Ops>(
    ops: &T,
    cur: TaskRef<'_>,
    tty: *mut raw::tty_struct,
    act: TtyAct,
) -> c_int {
    // SAFETY (the unsafe calls below): `tty` is held (the requirement);
    // the pgrp is referenced until put.
    unsafe {
        // A terminal that is no pseudo-terminal (a virtual
        // console, a serial line, the console) is the host's
        // hardware, whoever holds its session now: a container
        // can make one its own controlling terminal by opening it.
        if !tty.is_null() && !matches!(raw::tty_devnum(tty) >> 20, 128..=143) {
            return ops.on_tty(cur, act.what, None, None);
        }
        // The foreground process group, referenced (NULL: none).
        let pgrp = if tty.is_null() {
            ptr::null_mut()
        } else {
            raw::tty_get_pgrp(tty)
        };
        let owner = TaskHold::of_pid_typed(pgrp, bindings::pid_type_PIDTYPE_PGID);
        if !pgrp.is_null() {
            bindings::put_pid(pgrp);
        }
        // And the session the group is of: a member of the group
        // may be the caller itself (a container program a host
        // shell runs in its own session, as `nsenter` does).
        let leader = owner
            .as_ref()
            .and_then(|t| TaskHold::session_leader_of(t.task()));
        match (owner, leader) {
            // Nobody's terminal: input pushed there is read by
            // whoever reads it next; a hangup signals nobody.
            (None, _) if !act.unowned => 0,
            (o, l) => ops.on_tty(
                cur,
                act.what,
                o.as_ref().map(|t| t.task()),
                l.as_ref().map(|t| t.task()),
            ),
        }
    }
}

/// Every hooked function of a 64-bit kernel. The observing ones (fork,
/// exec, exit, pid swap, namespace switch) are armed together, before the
/// refusing ones: an entry a hook adds always has its removal hooked
/// already. The hot ones come first: the glue finds a call's site by
/// scanning in this order.
const SITES: [Site; 52] = [
    observe(
        c_str!("exit_files"),
        raw::ESCGUARD_AT_EXIT,
        raw::ESCGUARD_TIME_EXIT,
    ),
    observe(
        c_str!("switch_task_namespaces"),
        raw::ESCGUARD_AT_NS_SWITCH,
        raw::ESCGUARD_TIME_OTHER,
    ),
    observe(
        c_str!("wake_up_new_task"),
        raw::ESCGUARD_AT_FORK,
        raw::ESCGUARD_TIME_FORK,
    ),
    observe(
        c_str!("finalize_exec"),
        raw::ESCGUARD_AT_EXEC,
        raw::ESCGUARD_TIME_EXEC,
    ),
    refuse(
        c_str!("security_bprm_check"),
        raw::ESCGUARD_AT_BPRM_CHECK,
        0,
    ),
    observe(
        c_str!("exchange_tids"),
        raw::ESCGUARD_AT_TID_SWAP,
        raw::ESCGUARD_TIME_TID_SWAP,
    ),
    refuse(
        c_str!("__x64_sys_delete_module"),
        raw::ESCGUARD_AT_UNLOAD,
        0,
    ),
    refuse(
        c_str!("__x64_sys_open_by_handle_at"),
        SYSCALL,
        OPEN_BY_HANDLE_AT,
    ),
    refuse(c_str!("__x64_sys_init_module"), SYSCALL, INIT_MODULE),
    refuse(c_str!("__x64_sys_finit_module"), SYSCALL, FINIT_MODULE),
    refuse(c_str!("__x64_sys_setns"), SYSCALL, SETNS),
    refuse(c_str!("__x64_sys_unshare"), SYSCALL, UNSHARE),
    refuse(c_str!("__x64_sys_pivot_root"), SYSCALL, PIVOT_ROOT),
    refuse(c_str!("__x64_sys_chroot"), SYSCALL, CHROOT),
    refuse(c_str!("__x64_sys_mount"), SYSCALL, MOUNT),
    refuse(c_str!("__x64_sys_fsopen"), SYSCALL, FSOPEN),
    refuse(c_str!("__x64_sys_fsmount"), SYSCALL, FSMOUNT),
    refuse(c_str!("__x64_sys_move_mount"), SYSCALL, MOVE_MOUNT),
    refuse(c_str!("__x64_sys_ptrace"), SYSCALL, PTRACE),
    refuse(c_str!("bdev_open"), raw::ESCGUARD_AT_BDEV_OPEN, 0),
    refuse(
        c_str!("security_sb_kern_mount"),
        raw::ESCGUARD_AT_SB_KERN_MOUNT,
        0,
    ),
    refuse(c_str!("security_sb_mount"), raw::ESCGUARD_AT_SB_MOUNT, 0),
    refuse(
        c_str!("security_move_mount"),
        raw::ESCGUARD_AT_MOVE_MOUNT,
        0,
    ),
    refuse(c_str!("security_sb_umount"), raw::ESCGUARD_AT_SB_UMOUNT, 0),
    refuse(
        c_str!("security_ptrace_access_check"),
        raw::ESCGUARD_AT_PTRACE,
        0,
    ),
    refuse(
        c_str!("security_unix_stream_connect"),
        raw::ESCGUARD_AT_CONNECT,
        0,
    ),
    refuse(c_str!("proc_pid_get_link"), raw::ESCGUARD_AT_PROC_LINK, 0),
    // map_files' own get_link: it calls proc_pid_get_link(), which the
    // compiler may inline into it (it does in 6.12), bypassing that hook.
    refuse(
        c_str!("proc_map_files_get_link"),
        raw::ESCGUARD_AT_PROC_LINK,
        0,
    ),
    refuse(c_str!("environ_open"), raw::ESCGUARD_AT_ENVIRON, 0),
    refuse(
        c_str!("cgroup_attach_task"),
        raw::ESCGUARD_AT_CGROUP_ATTACH,
        0,
    ),
    // A static function: out of line in our GCC and clang builds (its
    // callers inline the clone path into cgroup_can_fork()). Optional so
    // that a build which inlines it still loads.
    refuse_optional(
        c_str!("cgroup_attach_permissions"),
        raw::ESCGUARD_AT_CGROUP_DEST,
    ),
    refuse(
        c_str!("security_file_receive"),
        raw::ESCGUARD_AT_FILE_RECEIVE,
        0,
    ),
    refuse(c_str!("__f_setown"), raw::ESCGUARD_AT_SETOWN, 0),
    // Write access to a mount: where every change that opens nothing
    // (and every open that creates or truncates) asks for it.
    refuse(c_str!("mnt_want_write"), raw::ESCGUARD_AT_WANT_WRITE, 0),
    refuse(
        c_str!("mnt_want_write_file"),
        raw::ESCGUARD_AT_WANT_WRITE_FILE,
        0,
    ),
    refuse(
        c_str!("clone_private_mount"),
        raw::ESCGUARD_AT_PRIVATE_MOUNT,
        0,
    ),
    // Terminal ioctls that act on a terminal's reader or session, and the
    // 32-bit entry's own path to the same acts (not through tty_ioctl).
    refuse(c_str!("tty_ioctl"), raw::ESCGUARD_AT_TTY_IOCTL, 0),
    // Takes no argument: its 32-bit entry is the same function.
    refuse(c_str!("__x64_sys_vhangup"), raw::ESCGUARD_AT_VHANGUP, 0),
    refuse_optional(c_str!("tty_compat_ioctl"), raw::ESCGUARD_AT_TTY_IOCTL),
    // Input events written to an input device (a keyboard's keys).
    refuse_optional(c_str!("evdev_write"), raw::ESCGUARD_AT_INPUT_WRITE),
    refuse(c_str!("open_kcore"), raw::ESCGUARD_AT_KERNEL_MEMORY, 0),
    refuse(c_str!("open_port"), raw::ESCGUARD_AT_KERNEL_MEMORY, 0),
    // /dev/cpu/N/msr: writing MSRs (LSTAR, ...) is running code in the kernel.
    refuse_optional(c_str!("msr_open"), raw::ESCGUARD_AT_KERNEL_MEMORY),
    // I/O port access without /dev/port.
    refuse(
        c_str!("__x64_sys_ioperm"),
        raw::ESCGUARD_AT_PORT_IO,
        PORT_IOPERM,
    ),
    refuse(
        c_str!("__x64_sys_iopl"),
        raw::ESCGUARD_AT_PORT_IO,
        PORT_IOPL,
    ),
    refuse(c_str!("__x64_sys_kill"), SIGNAL, KILL_GROUP),
    refuse(c_str!("__x64_sys_tkill"), SIGNAL, KILL),
    refuse(c_str!("__x64_sys_tgkill"), SIGNAL, TGKILL),
    refuse(c_str!("__x64_sys_rt_sigqueueinfo"), SIGNAL, KILL),
    refuse(c_str!("__x64_sys_rt_tgsigqueueinfo"), SIGNAL, TGKILL),
    refuse(c_str!("__x64_sys_pidfd_send_signal"), SIGNAL, PIDFD),
    refuse(c_str!("__x64_sys_prlimit64"), SIGNAL, PRLIMIT),
];

/// The 32-bit syscall wrappers of the same calls, on a kernel that runs
/// 32-bit programs (their user registers hold the arguments in the ia32
/// order). setns/unshare: a 32-bit task must not switch namespaces unseen.
#[cfg(CONFIG_IA32_EMULATION)]
const IA32_SITES: [Site; 15] = [
    refuse(
        c_str!("__ia32_sys_delete_module"),
        raw::ESCGUARD_AT_UNLOAD | IA32,
        0,
    ),
    refuse(
        c_str!("__ia32_compat_sys_open_by_handle_at"),
        SYSCALL | IA32,
        OPEN_BY_HANDLE_AT,
    ),
    refuse(
        c_str!("__ia32_sys_init_module"),
        SYSCALL | IA32,
        INIT_MODULE,
    ),
    refuse(
        c_str!("__ia32_sys_finit_module"),
        SYSCALL | IA32,
        FINIT_MODULE,
    ),
    refuse(c_str!("__ia32_sys_setns"), SYSCALL | IA32, SETNS),
    refuse(c_str!("__ia32_sys_unshare"), SYSCALL | IA32, UNSHARE),
    refuse(c_str!("__ia32_sys_kill"), SIGNAL | IA32, KILL_GROUP),
    refuse(c_str!("__ia32_sys_tkill"), SIGNAL | IA32, KILL),
    refuse(c_str!("__ia32_sys_tgkill"), SIGNAL | IA32, TGKILL),
    refuse(
        c_str!("__ia32_compat_sys_rt_sigqueueinfo"),
        SIGNAL | IA32,
        KILL,
    ),
    refuse(
        c_str!("__ia32_compat_sys_rt_tgsigqueueinfo"),
        SIGNAL | IA32,
        TGKILL,
    ),
    refuse(c_str!("__ia32_sys_pidfd_send_signal"), SIGNAL | IA32, PIDFD),
    refuse(c_str!("__ia32_sys_prlimit64"), SIGNAL | IA32, PRLIMIT),
    refuse(
        c_str!("__ia32_sys_ioperm"),
        raw::ESCGUARD_AT_PORT_IO | IA32,
        PORT_IOPERM,
    ),
    refuse(
        c_str!("__ia32_sys_iopl"),
        raw::ESCGUARD_AT_PORT_IO | IA32,
        PORT_IOPL,
    ),
];
#[cfg(not(CONFIG_IA32_EMULATION))]
const IA32_SITES: [Site; 0] = [];

/// How many functions are hooked (besides the open hook).
pub(crate) const SITE_COUNT: usize = SITES.len() + IA32_SITES.len();

/// Every hooked function, in arming and lookup order: `SITES`, then
/// `IA32_SITES`.
///
/// # Invariants
///
/// Every `sym` points to a `'static` C string (each entry is made by
/// `site()` from a `c_str!`).
struct SiteTable([Site; SITE_COUNT]);

// SAFETY: the table is immutable and its pointers are to `'static` strings,
// so it may be shared between threads.
unsafe impl Sync for SiteTable {}

static ALL_SITES: SiteTable = SiteTable({
    // Field by field: bindgen derives no `Copy` for the C struct here.
    const fn copy(s: &Site) -> Site {
        Site {
            sym: s.sym,
            id: s.id,
            arg: s.arg,
            time: s.time,
            refusing: s.refusing,
            optional: s.optional,
        }
    }
    const NONE: Site = site(kernel::c_str!(""), 0, 0, 0, false);
    let mut a = [NONE; SITE_COUNT];
    let mut i = 0;
    while i < SITE_COUNT {
        a[i] = if i < SITES.len() {
            copy(&SITES[i])
        } else {
            copy(&IA32_SITES[i - SITES.len()])
        };
        i += 1;
    }
    a
});

/// The table of hooked functions.
pub(crate) fn sites() -> &'static [Site; SITE_COUNT] {
    &ALL_SITES.0
}

/// A site's function name.
pub(crate) fn site_name(s: &Site) -> &'static CStr {
    // SAFETY: every site's `sym` is a `'static` C string (`SiteTable`'s
    // invariant; sites are only handed out from it).
    unsafe { CStr::from_char_ptr(s.sym) }
}
