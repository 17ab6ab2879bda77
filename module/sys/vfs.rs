// SPDX-License-Identifier: GPL-2.0

//! Files, paths and dentries: [`FileRef`], the identity of a path's object
//! (`escguard_fsid`), where a path lies relative to the host and to a
//! container's root (the dentry walk), and rendering paths for events.
//!
//! Dentries, inodes and mounts are RCU-freed: every walk here runs under RCU
//! (or a lock that pins the path) and only reads.

use super::raw;
use super::task::Rcu;
use crate::abi::escguard_fsid as FsId;
use core::marker::PhantomData;
use core::ptr::{self, addr_of, addr_of_mut};
use kernel::bindings;
use kernel::c_str;
use kernel::error::code::{ENOENT, ENOEXEC, ESRCH};
use kernel::ffi::{c_char, c_void};
use kernel::prelude::*;

use super::{FileFacts, FsRef};

use super::{
    FS_DISCONNECTED, FS_HOST_MNT_NS, FS_MNT_HOST_ROOT, FS_ON_HOST_SB, FS_TOO_DEEP, FS_UNDER_ORIGIN,
};

/// Most dentries a walk climbs. A path name reaches at most `PATH_MAX`
/// (4,096) bytes, so deeper trees exist only when built on purpose (one
/// relative step at a time); the walks run with preemption off and must
/// stay bounded. Beyond it, the answer is the one that refuses.
const WALK_MAX: u32 = 16_384;

/// `S_IFMT`, `S_IFDIR`.
const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;
/// `FMODE_READ`, `FMODE_WRITE`.
const FMODE_READ: u32 = 0x1;
const FMODE_WRITE: u32 = 0x2;

/// Takes `fs->lock`, which pins a task's root and cwd.
///
/// # Safety
///
/// `fs` must point to a live `fs_struct`; the caller releases the lock with
/// [`fs_unlock`] before anything may sleep.
pub(super) unsafe fn fs_lock(fs: *mut raw::fs_struct) {
    // SAFETY: `fs` is live (the caller's contract); `lock` is its spinlock.
    unsafe { bindings::spin_lock(addr_of_mut!((*fs).lock)) }
}

/// Releases `fs->lock`.
///
/// # Safety
///
/// The caller must hold `fs->lock` of the live `fs`, taken by [`fs_lock`].
pub(super) unsafe fn fs_unlock(fs: *mut raw::fs_struct) {
    // SAFETY: `fs` is live and its lock is held (the caller's contract).
    unsafe { bindings::spin_unlock(addr_of_mut!((*fs).lock)) }
}

/// `MS_RDONLY` / `SB_RDONLY`, `MS_REMOUNT` (`uapi/linux/mount.h`, `linux/fs.h`).
const MS_RDONLY: u64 = 1;
const MS_REMOUNT: u64 = 32;
/// `MS_UNBINDABLE | MS_PRIVATE | MS_SLAVE | MS_SHARED`.
const MS_PROPAGATION: u64 = (1 << 17) | (1 << 18) | (1 << 19) | (1 << 20);

/// The mount point a `mount(2)` call names, valid for the hook's duration.
///
/// # Invariants
///
/// `path` is a path the hooked function holds for its call.
#[derive(Clone, Copy)]
pub(crate) struct MountPoint<'a> {
    path: &'a bindings::path,
}

impl<'a> MountPoint<'a> {
    /// # Safety
    ///
    /// `path` must be pinned for `'a` (the hooked function's argument).
    pub(crate) unsafe fn from_raw(path: &'a bindings::path) -> Self {
        // INVARIANT: by the requirement.
        MountPoint { path }
    }

    /// Whether a `mount(2)` with `flags` on it makes a read-only mount
    /// writable: a remount without `MS_RDONLY` (per mount with `MS_BIND`,
    /// else of the whole filesystem) of a mount or filesystem that is
    /// read-only now.
    pub(crate) fn made_writable(&self, flags: u64) -> bool {
        if flags & MS_REMOUNT == 0 || flags & MS_RDONLY != 0 {
            return false;
        }
        // SAFETY: the path is pinned (type invariant), so are its mount
        // and superblock; the flags are read once.
        let (mnt_flags, sb_flags) = unsafe {
            let m = self.path.mnt;
            (
                ptr::read_volatile(addr_of!((*m).mnt_flags)) as u32,
                ptr::read_volatile(addr_of!((*(*m).mnt_sb).s_flags)) as u64,
            )
        };
        mnt_flags & bindings::MNT_READONLY != 0 || sb_flags & MS_RDONLY != 0
    }

    /// Where a mount attached at this path lands.
    pub(crate) fn landing(&self) -> Landing {
        // INVARIANT: the path is pinned for the hook (type invariant).
        Landing {
            parent: self.path.mnt,
            mountpoint: self.path.dentry,
        }
    }

    /// Where a mount attached *beneath* the mount whose root this path is
    /// lands (`move_mount(2)` with `MOVE_MOUNT_BENEATH`: on that mount's
    /// parent, at its mount point); `None` for a path that is no mount's
    /// root, a namespace's root, or a mount that cannot be read.
    pub(crate) fn beneath_landing(&self) -> Option<Landing> {
        if self.path.dentry != mnt_root(self.path.mnt) {
            return None;
        }
        let f = MountScan::new().mount(self.path.mnt)?;
        // INVARIANT: read during the hook from the pinned path's mount,
        // which holds its parent and mount point while attached.
        (f.parent != self.path.mnt).then_some(Landing {
            parent: f.parent,
            mountpoint: f.mountpoint,
        })
    }

    /// Whether the path is the root of its mount (a mount point as the
    /// caller sees it).
    pub(crate) fn is_mount_root(&self) -> bool {
        self.path.dentry == mnt_root(self.path.mnt)
    }

    /// The mount the path is on.
    pub(crate) fn mount(&self) -> MountRef<'a> {
        // INVARIANT: the path pins its mount for `'a` (type invariant).
        MountRef {
            mnt: self.path.mnt,
            _p: PhantomData,
        }
    }

    /// Whether a `mount(2)` with `flags` on it attaches a mount there (a
    /// new mount, a bind, a move): not a remount, not a change of
    /// propagation type, which attach nothing.
    pub(crate) fn attaches(flags: u64) -> bool {
        flags & (MS_REMOUNT | MS_PROPAGATION) == 0
    }

    /// `FS_*` flags of the mount's root against `refs`.
    pub(crate) fn classify(&self, refs: &FsRef) -> u32 {
        let root = bindings::path {
            mnt: self.path.mnt,
            dentry: mnt_root(self.path.mnt),
        };
        classify(&root, refs)
    }

    /// Renders the mount point (`d_path`).
    pub(crate) fn render(&self, buf: &mut [u8]) {
        render(self.path, buf);
    }
}

/// A mount the kernel is about to give write access to, valid for the
/// hook's duration.
///
/// # Invariants
///
/// `mnt` points to a mount that stays pinned for `'a` (the caller of the
/// hooked function holds a path or file on it), and so does its root.
#[derive(Clone, Copy)]
pub(crate) struct MountRef<'a> {
    mnt: *mut bindings::vfsmount,
    _p: PhantomData<&'a bindings::vfsmount>,
}

/// What an ancestor walk from a mount's root decided (see
/// [`MountRef::nearest_grant`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    /// Below the container's origin root, or below a root its runtime
    /// mounted writable: the container's to write.
    Writable,
    /// Below a root its runtime mounted read-only, nearer than any of the
    /// above (or a chain too deep to climb).
    ReadOnly,
    /// Below none of them.
    None,
}

impl<'a> MountRef<'a> {
    /// # Safety
    ///
    /// `mnt` must be a mount the caller keeps pinned for `'a`.
    pub(crate) unsafe fn from_raw(mnt: *mut bindings::vfsmount) -> Option<Self> {
        // INVARIANT: by the requirement (a null mount makes none).
        (!mnt.is_null()).then_some(MountRef {
            mnt,
            _p: PhantomData,
        })
    }

    /// The mount's root dentry.
    pub(crate) fn root(&self) -> *mut bindings::dentry {
        mnt_root(self.mnt)
    }

    /// Its superblock, by address.
    pub(crate) fn sb(&self) -> usize {
        // SAFETY: the mount is pinned (type invariant), so is its sb.
        unsafe { (*self.mnt).mnt_sb as usize }
    }

    /// Its filesystem's magic.
    pub(crate) fn magic(&self) -> u64 {
        // SAFETY: the mount and its superblock are pinned (type invariant).
        unsafe { (*(*self.mnt).mnt_sb).s_magic as u64 }
    }

    /// Its superblock's tag (see [`sb_tag_of`]).
    pub(crate) fn sb_tag(&self) -> u64 {
        // SAFETY: the mount and its superblock are pinned (type invariant).
        let uuid = unsafe { (*(*self.mnt).mnt_sb).s_uuid.b };
        sb_tag_of(&uuid)
    }

    /// Its filesystem's device, as `st_dev`.
    pub(crate) fn dev(&self) -> u64 {
        // SAFETY: the mount and its superblock are pinned (type invariant).
        encode_dev(unsafe { (*(*self.mnt).mnt_sb).s_dev })
    }

    /// Whether it is writable now (neither it nor its filesystem is
    /// read-only).
    pub(crate) fn writable(&self) -> bool {
        // SAFETY: the mount and its superblock are pinned (type invariant);
        // the flags are read once.
        let (mnt_flags, sb_flags) = unsafe {
            (
                ptr::read_volatile(addr_of!((*self.mnt).mnt_flags)) as u32,
                ptr::read_volatile(addr_of!((*(*self.mnt).mnt_sb).s_flags)) as u64,
            )
        };
        mnt_flags & bindings::MNT_READONLY == 0 && sb_flags & MS_RDONLY == 0
    }

    /// Whether it is shared: mounts and unmounts below it propagate to
    /// its peers (in other mount namespaces too, the host's among them
    /// when the container's runtime made a host volume `rshared`).
    pub(crate) fn shared(&self) -> bool {
        // SAFETY: the mount is pinned (type invariant); read once.
        let flags = unsafe { ptr::read_volatile(addr_of!((*self.mnt).mnt_flags)) } as u32;
        flags & bindings::MNT_SHARED != 0
    }

    /// Calls `f` with where each mount an unmount of this one takes from
    /// its parent lands: itself and every mount below it in its namespace
    /// (a lazy unmount takes them all, and the kernel propagates each
    /// one's removal to its parent's peers), until `f` returns true;
    /// whether it did (`None`: the scan could not finish).
    pub(crate) fn subtree_landings<F: FnMut(Landing) -> bool>(&self, mut f: F) -> Option<bool> {
        // The container's namespace holds every mount its volumes carried
        // (a host-root volume: all of the host's).
        let mut scan = MountScan::with_budget(LANDING_SCAN_BUDGET);
        let ns = mnt_ns(self.mnt) as *const c_void;
        let me = self.mnt;
        let own = scan.mount(me)?;
        // INVARIANT (each landing): read from a mount of the namespace
        // during the hook (see `Landing`).
        if own.parent != me
            && f(Landing {
                parent: own.parent,
                mountpoint: own.mountpoint,
            })
        {
            return Some(true);
        }
        if ns.is_null() || is_err(ns.cast::<c_char>()) {
            return Some(false);
        }
        scan.any(ns, |s, m| {
            if m == me || !s.below(m, me) {
                return Some(false);
            }
            let mf = s.mount(m)?;
            Some(f(Landing {
                parent: mf.parent,
                mountpoint: mf.mountpoint,
            }))
        })
    }

    /// Whether it shows the whole host root filesystem (its root is the
    /// host root's dentry).
    pub(crate) fn shows_host_root(&self) -> bool {
        self.root() == super::fast::host_root_dentry()
    }

    /// Whether the mount is not the host's nor the kernel's: of a
    /// container's namespace, an anonymous one (`open_tree()`), or none
    /// (detached by `umount -l` and still held through a cwd or a
    /// descriptor) -- not a kernel-internal one (`MNT_NS_INTERNAL`: an
    /// overlay's private upper mount) and not the host's, whose objects
    /// are judged where a path reaches them.
    pub(crate) fn in_guest_ns(&self) -> bool {
        let ns = mnt_ns(self.mnt);
        !is_err(ns as *const c_char) && !super::fast::is_host_mnt_ns(ns)
    }

    /// Whether the mount is mounted below mount `ancestor` (by address; see
    /// [`mounted_below`]).
    pub(crate) fn mounted_below(&self, ancestor: usize) -> bool {
        mounted_below(self.mnt, ancestor)
    }

    /// What the mount root's ancestors (itself first) are granted:
    /// writable if `origin` (a container root) or a `writable` root is
    /// among them -- the container writes there through that mount anyway,
    /// whatever mount it made since -- else read-only if a `read_only`
    /// root is (roots by device and inode number).
    /// A rename that races the walk could only move a directory the
    /// container can already write to.
    pub(crate) fn nearest_grant(
        &self,
        origin: &FsId,
        writable: &[RootId],
        read_only: &[RootId],
    ) -> Grant {
        let _rcu = Rcu::lock();
        let mut d = self.root();
        let mut read_only_seen = false;
        for _ in 0..WALK_MAX {
            // SAFETY: `d` is the pinned root or an ancestor, read under RCU.
            let (dev, ino) = unsafe { dentry_id(d) };
            if (origin.dev != 0 && (dev, ino) == (origin.dev, origin.ino))
                || writable.contains(&(dev, ino))
            {
                return Grant::Writable;
            }
            read_only_seen |= read_only.contains(&(dev, ino));
            // SAFETY: as above; `d_parent` is read once per step.
            let parent = unsafe { ptr::read_volatile(addr_of!((*d).d_parent)) };
            if parent == d {
                return if read_only_seen {
                    Grant::ReadOnly
                } else {
                    Grant::None
                };
            }
            d = parent;
        }
        Grant::ReadOnly
    }

    /// Renders the mount's root as the calling task names it (`d_path`).
    pub(crate) fn render(&self, buf: &mut [u8]) {
        let p = bindings::path {
            mnt: self.mnt,
            dentry: self.root(),
        };
        if !render(&p, buf) {
            render_raw(&p, buf)
        }
    }
}

/// A file the kernel handed to a hook, valid for the hook's duration.
///
/// # Invariants
///
/// `ptr` points to a `struct file` that stays valid for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct FileRef<'a> {
    ptr: *mut bindings::file,
    _p: PhantomData<&'a bindings::file>,
}

/// `new_encode_dev()`: a `dev_t` as user space sees it (`st_dev`).
pub(crate) fn encode_dev(dev: u32) -> u64 {
    let (major, minor) = (dev >> 20, dev & 0xfffff);
    ((minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)) as u64
}

/// A dentry's device and inode number (0 for a negative dentry).
///
/// # Safety
///
/// `d` is a valid dentry (pinned, or read under RCU).
unsafe fn dentry_id(d: *const bindings::dentry) -> (u64, u64) {
    // SAFETY: by the requirement; `d_inode` is read once (`d_inode_rcu`).
    unsafe {
        let inode = ptr::read_volatile(addr_of!((*d).d_inode));
        let dev = encode_dev((*(*d).d_sb).s_dev);
        (
            dev,
            if inode.is_null() {
                0
            } else {
                (*inode).i_ino as u64
            },
        )
    }
}

/// A superblock's tag: the first eight bytes of its `s_uuid` (random for
/// each tmpfs, zero for pseudo filesystems), which tells a filesystem
/// from a later one at the same address.
fn sb_tag_of(uuid: &[u8; 16]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&uuid[..8]);
    u64::from_ne_bytes(b)
}

/// A mount's root dentry (compared by address).
pub(crate) fn mnt_root(mnt: *mut bindings::vfsmount) -> *mut bindings::dentry {
    // SAFETY: callers pass the mount of a path they hold; `mnt_root` is
    // fixed for a mount's life.
    unsafe { (*mnt).mnt_root }
}

/// A mount's namespace, by address (0 for none).
pub(crate) fn mnt_ns(mnt: *mut bindings::vfsmount) -> usize {
    // SAFETY: callers pass the mount of a path they hold.
    unsafe { raw::escguard_mnt_ns(mnt) as usize }
}

/// The identity of `p`'s object and mount.
pub(crate) fn fsid(p: &bindings::path) -> FsId {
    // SAFETY: `p` is a path the caller pins (or reads under RCU).
    let (dev, ino) = unsafe { dentry_id(p.dentry) };
    FsId {
        dev,
        ino,
        // SAFETY: as above.
        mnt_id: unsafe { raw::escguard_mnt_id(p.mnt) },
        ..Default::default()
    }
}

/// Walks from `p`'s dentry up to its filesystem's root: is it below its
/// mount's root (connected), and does it pass the container's origin root?
/// A rename that races the optimistic pass makes the second pass hold
/// `rename_lock` exclusively, as `prepend_path()` does: the answer is always
/// exact, never a guess that a rename storm could steer.
fn walk(p: &bindings::path, origin: &FsId) -> u32 {
    let _rcu = Rcu::lock();
    let mut seq: i32 = 0;
    loop {
        let (mut connected, mut under) = (false, false);
        // SAFETY: `seq` is ours; the accessor begins a rename_lock reader
        // (or takes it exclusively when `seq` is odd).
        unsafe { raw::escguard_rename_seq_begin(&mut seq) };
        let mroot = mnt_root(p.mnt);
        let mut d = p.dentry;
        let mut steps = 0;
        let mut deep = false;
        loop {
            steps += 1;
            if steps > WALK_MAX {
                // Deeper than any real directory tree (bounded work; a
                // chain built to stall the walk is no place to run from).
                deep = true;
                break;
            }
            if d == mroot {
                connected = true;
            }
            // SAFETY: `d` is `p`'s dentry or an ancestor read under RCU.
            let id = unsafe { dentry_id(d) };
            if origin.dev != 0 && id.1 != 0 && id == (origin.dev, origin.ino) {
                under = true;
            }
            // SAFETY: as above; `d_parent` is read once per step.
            let parent = unsafe { ptr::read_volatile(addr_of!((*d).d_parent)) };
            if parent == d {
                break;
            }
            d = parent;
        }
        // SAFETY: the reader begun above.
        if unsafe { raw::escguard_rename_seq_retry(seq) } != 0 {
            seq = 1;
            continue;
        }
        // SAFETY: as above.
        unsafe { raw::escguard_rename_seq_done(seq) };
        if deep {
            return FS_TOO_DEEP | FS_DISCONNECTED;
        }
        return (if connected { 0 } else { FS_DISCONNECTED })
            | if under { FS_UNDER_ORIGIN } else { 0 };
    }
}

/// `FS_*` flags of `p` against `refs`.
pub(crate) fn classify(p: &bindings::path, refs: &FsRef) -> u32 {
    let mut f = 0;
    // SAFETY: `p` is pinned by the caller; the mount's root is fixed.
    let ((dev, _), (_, mroot_ino)) = unsafe { (dentry_id(p.dentry), dentry_id(mnt_root(p.mnt))) };
    if dev == refs.host_root.dev {
        f |= FS_ON_HOST_SB;
        if mroot_ino == refs.host_root.ino {
            f |= FS_MNT_HOST_ROOT;
        }
    }
    if super::fast::is_host_mnt_ns(mnt_ns(p.mnt)) {
        f |= FS_HOST_MNT_NS;
    }
    f | walk(p, &refs.origin_root)
}

/// Moves a `d_path()`-style result (a string that starts at `s`, within
/// `buf`) to the start of `buf` (`""` on error).
fn settle(buf: &mut [u8], s: *mut c_char) {
    if is_err(s) || s.is_null() {
        buf[0] = 0;
        return;
    }
    let start = s as usize - buf.as_ptr() as usize;
    if start >= buf.len() {
        buf[0] = 0;
        return;
    }
    let len = buf[start..]
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(buf.len() - start - 1);
    buf.copy_within(start..start + len, 0);
    buf[len] = 0;
}

/// Renders `p` as a path within its filesystem (from the superblock root).
pub(crate) fn render_raw(p: &bindings::path, buf: &mut [u8]) {
    render_dentry(p.dentry, buf)
}

/// Renders a dentry's path within its filesystem.
pub(crate) fn render_dentry(d: *mut bindings::dentry, buf: &mut [u8]) {
    if buf.is_empty() {
        return;
    }
    let len = buf.len().min(i32::MAX as usize) as i32;
    // SAFETY: `d` is pinned by the caller; `buf` is writable for `len`
    // bytes. `dentry_path_raw()` never sleeps.
    let s = unsafe { bindings::dentry_path_raw(d, buf.as_mut_ptr() as *mut c_char, len) };
    settle(buf, s);
}

/// Renders `p` as the calling task names it (`d_path()`: from its root;
/// a path outside it is rendered from its namespace's root).
pub(crate) fn render(p: &bindings::path, buf: &mut [u8]) -> bool {
    if buf.is_empty() {
        return false;
    }
    let len = buf.len().min(i32::MAX as usize) as i32;
    // SAFETY: `p` is pinned by the caller; `buf` is writable for `len`
    // bytes. `d_path()` never sleeps.
    let s = unsafe { bindings::d_path(p, buf.as_mut_ptr() as *mut c_char, len) };
    settle(buf, s);
    !is_err(s)
}

/// `IS_ERR()`: the kernel's error pointers are the last page of addresses.
fn is_err<T>(p: *const T) -> bool {
    p as usize >= (-4095isize) as usize
}

impl<'a> FileRef<'a> {
    /// # Safety
    ///
    /// `f` must be null or point to a file that stays valid for `'a`.
    pub(crate) unsafe fn from_raw(f: *mut bindings::file) -> Option<Self> {
        // INVARIANT: non-null pointers are valid for `'a` by the requirement.
        (!f.is_null()).then_some(FileRef {
            ptr: f,
            _p: PhantomData,
        })
    }

    /// A hooked function's file argument, which its callers never pass
    /// null (`security_file_open()`'s).
    ///
    /// # Safety
    ///
    /// `f` must point to a file that stays valid for `'a`.
    #[inline(always)]
    pub(crate) unsafe fn from_arg(f: *mut bindings::file) -> Self {
        // INVARIANT: by the requirement.
        FileRef {
            ptr: f,
            _p: PhantomData,
        }
    }

    fn path_ref(&self) -> &bindings::path {
        // SAFETY: valid file (type invariant); `f_path` is fixed while the
        // file lives.
        unsafe { &(*self.ptr).f_path }
    }

    /// The file's mount.
    pub(crate) fn mnt(&self) -> *mut bindings::vfsmount {
        self.path_ref().mnt
    }

    /// The file's open mode (`FMODE_*`), with `FMODE_WRITE` for an open
    /// that truncates: `O_RDONLY|O_TRUNC` needs write permission and
    /// empties the file right after `security_file_open()` (which sees
    /// `f_flags` before `O_TRUNC` is cleared), so it is judged as a write.
    #[inline(always)]
    pub(crate) fn mode(&self) -> u32 {
        if self.truncates() {
            self.open_mode() | FMODE_WRITE
        } else {
            self.open_mode()
        }
    }

    /// `f_mode` as opened, without the truncation [`FileRef::mode`] adds.
    #[inline(always)]
    pub(crate) fn open_mode(&self) -> u32 {
        // SAFETY: valid file (type invariant).
        unsafe { (*self.ptr).f_mode }
    }

    /// Whether the open truncates the file (`O_TRUNC`, still in `f_flags`
    /// while `security_file_open()` runs).
    #[inline(always)]
    pub(crate) fn truncates(&self) -> bool {
        // SAFETY: valid file (type invariant).
        let flags = unsafe { (*self.ptr).f_flags };
        flags & bindings::O_TRUNC != 0
    }

    /// Whether the file is a channel to whoever is at its other end: a
    /// FIFO or a character device (a terminal, an input device), whose
    /// reads take what was meant for someone else.
    #[inline(always)]
    pub(crate) fn is_channel(&self) -> bool {
        // SAFETY: valid file; its inode is pinned by it.
        let kind = (unsafe { (*self.inode()).i_mode } as u32) & 0o170000;
        kind == 0o010000 || kind == 0o020000
    }

    /// Whether the file is a device node that keeps no state a write could
    /// change: `/dev/null`, `zero`, `full`, `random`, `urandom` (whose
    /// writes only stir the entropy pool), `/dev/tty` (the caller's own
    /// controlling terminal, whatever it is) and `ptmx` (an open makes a
    /// new terminal pair, and changes none that exists).
    pub(crate) fn is_stateless_device(&self) -> bool {
        // SAFETY: valid file; its inode is pinned by it.
        let (mode, rdev) = unsafe { ((*self.inode()).i_mode as u32, (*self.inode()).i_rdev) };
        let (major, minor) = (rdev >> 20, rdev & 0xfffff);
        mode & 0o170000 == 0o020000
            && matches!(
                (major, minor),
                (1, 3) | (1, 5) | (1, 7) | (1, 8) | (1, 9) | (5, 0) | (5, 2)
            )
    }

    /// Whether the file is `/dev/kmsg`, whose readers each keep their own
    /// position in the kernel log: a read takes nothing from anyone (a
    /// write adds to the host's log, and is judged).
    pub(crate) fn is_kmsg(&self) -> bool {
        // SAFETY: valid file; its inode is pinned by it.
        let (mode, rdev) = unsafe { ((*self.inode()).i_mode as u32, (*self.inode()).i_rdev) };
        mode & 0o170000 == 0o020000 && rdev == (1 << 20) | 11
    }

    /// The file's superblock magic.
    pub(crate) fn magic(&self) -> u64 {
        // SAFETY: valid file; its dentry and superblock are pinned by it.
        unsafe { (*(*self.path_ref().dentry).d_sb).s_magic as u64 }
    }

    fn inode(&self) -> *mut bindings::inode {
        // SAFETY: valid file (type invariant); `f_inode` is fixed.
        unsafe { (*self.ptr).f_inode }
    }

    /// Whether the file is a directory.
    pub(crate) fn is_dir(&self) -> bool {
        // SAFETY: the inode is pinned by the file.
        unsafe { (*self.inode()).i_mode as u32 & S_IFMT == S_IFDIR }
    }

    /// What the file is: filesystem, identity, open mode, mount namespace.
    pub(crate) fn facts(&self) -> FileFacts {
        let d = self.path_ref().dentry;
        // SAFETY: valid file: its dentry, superblock and inode are pinned.
        let (sb, inode) = unsafe { ((*d).d_sb, self.inode()) };
        let mode = self.mode();
        let ns = mnt_ns(self.mnt());
        // SAFETY: as above; `init_user_ns` is the kernel's static.
        unsafe {
            FileFacts {
                magic: (*sb).s_magic as u64,
                dev: encode_dev((*sb).s_dev),
                ino: (*inode).i_ino as u64,
                mode: (*inode).i_mode as u32,
                init_userns: ((*sb).s_user_ns == ptr::addr_of_mut!(bindings::init_user_ns)) as u32,
                fmode: (if mode & FMODE_READ != 0 {
                    crate::abi::ESCGUARD_PF_READ
                } else {
                    0
                }) | (if mode & FMODE_WRITE != 0 {
                    crate::abi::ESCGUARD_PF_WRITE
                } else {
                    0
                }),
                // Compared by address to the host's only; an anonymous or
                // detached mount has no namespace worth naming.
                mnt_ns: raw::escguard_mnt_ns_inum(ns as *const _),
                host_mnt_ns: super::fast::is_host_mnt_ns(ns) as u32,
            }
        }
    }

    /// Renders the file's path within its filesystem into `buf`.
    pub(crate) fn sb_path(&self, buf: &mut [u8]) {
        render_raw(self.path_ref(), buf)
    }

    /// Renders the file's path as the calling task names it into `buf`
    /// (within its filesystem if `d_path()` cannot).
    pub(crate) fn path(&self, buf: &mut [u8]) {
        if !render(self.path_ref(), buf) {
            render_raw(self.path_ref(), buf)
        }
    }

    /// `FS_*` flags of the file's path against `refs`, as for a root or
    /// cwd: where on the host's filesystem the object lives.
    pub(crate) fn classify(&self, refs: &FsRef) -> u32 {
        classify(self.path_ref(), refs)
    }

    /// The file's `private_data` (what its driver keeps there).
    pub(crate) fn private_data(&self) -> *mut c_void {
        // SAFETY: valid file (type invariant); read once.
        unsafe { ptr::read_volatile(addr_of!((*self.ptr).private_data)) }
    }

    /// The file's mount.
    pub(crate) fn mount(&self) -> MountRef<'a> {
        // INVARIANT: the file pins its mount for as long as it is valid.
        MountRef {
            mnt: self.mnt(),
            _p: PhantomData,
        }
    }

    /// Whether the calling task holds a descriptor on this file's object
    /// (same mount and dentry) with at least this open's access.
    pub(crate) fn held_by_current(&self) -> bool {
        let want = self.mode() & (FMODE_READ | FMODE_WRITE);
        let p = self.path_ref();
        let _rcu = Rcu::lock();
        // Only current changes its own table's size; a descriptor may be
        // closed meanwhile (files are RCU-freed: a stale match only says the
        // task held the object a moment ago). The open being checked is not
        // installed yet, so it never matches itself.
        OpenFds(0).any(|fd| {
            let f = fd_file(fd, &_rcu);
            if f.is_null() {
                return false;
            }
            // SAFETY: a file read under RCU stays valid for the section.
            let (fp, fm) = unsafe { ((*f).f_path, (*f).f_mode) };
            fp.dentry == p.dentry && fp.mnt == p.mnt && fm & want == want
        })
    }

    /// The first of the file's dentry and its ancestors up to its
    /// filesystem's root (nearest first) for which `f` holds (`WALK_MAX`
    /// deep at most; deeper, an identity of device 0 is returned as found).
    /// `f` runs under RCU: it must not sleep. A rename racing
    /// the walk can only move the file while the exec that judges it is in
    /// flight.
    pub(crate) fn find_ancestor<F: FnMut(&FsId) -> bool>(&self, mut f: F) -> Option<FsId> {
        let _rcu = Rcu::lock();
        let mut d = self.path_ref().dentry;
        for _ in 0..WALK_MAX {
            // SAFETY: `d` is the file's dentry or an ancestor, under RCU.
            let (dev, ino) = unsafe { dentry_id(d) };
            let id = FsId {
                dev,
                ino,
                ..Default::default()
            };
            if f(&id) {
                return Some(id);
            }
            // SAFETY: as above.
            let parent = unsafe { ptr::read_volatile(addr_of!((*d).d_parent)) };
            if parent == d {
                return None;
            }
            d = parent;
        }
        // Deeper than `WALK_MAX`: taken as found (an identity of device 0,
        // which names no container), the answer that refuses.
        Some(FsId::default())
    }
}

/// Calls `f` with each directory the calling task has open (each held for
/// the call) until it returns true; whether it did. Never sleeps.
pub(crate) fn current_dir_fds<F: FnMut(FileRef<'_>) -> bool>(mut f: F) -> bool {
    OpenFds(0).any(|fd| {
        // A reference of our own: another thread may close it.
        // SAFETY: `fget_raw()` takes a reference or returns null.
        let file = unsafe { bindings::fget_raw(fd) };
        // SAFETY: referenced until the fput below.
        let Some(file) = (unsafe { FileRef::from_raw(file) }) else {
            return false;
        };
        let hit = file.is_dir() && f(file);
        // SAFETY: drops our reference; fput() defers the final release, so
        // it is safe here.
        unsafe { bindings::fput(file.ptr) };
        hit
    })
}

/// The calling task's descriptor table (`files_fdtable(current->files)`),
/// valid while `_rcu` is held: a table that grows is replaced and the old
/// one RCU-freed. `None` for a task past `exit_files()`.
fn current_fdt(_rcu: &Rcu) -> Option<*const raw::fdtable> {
    // SAFETY: reads the running task; only the task itself replaces its
    // `files` pointer (unshare, exit), so it is stable for this call.
    let files = unsafe { (*bindings::get_current()).files }.cast::<raw::files_struct>();
    if files.is_null() {
        return None;
    }
    // SAFETY: `files` is current's, alive; `fdt` is an RCU pointer read
    // once, as `rcu_dereference()` does, under the caller's RCU lock.
    Some(unsafe { ptr::read_volatile(addr_of!((*files).fdt)) }.cast_const())
}

/// The file at the calling task's descriptor `fd` (null: none), valid
/// while `rcu` is held (files are RCU-freed).
fn fd_file(fd: u32, rcu: &Rcu) -> *mut bindings::file {
    let Some(fdt) = current_fdt(rcu) else {
        return ptr::null_mut();
    };
    // SAFETY: `fdt` is valid under RCU (above); `fd` is checked against its
    // size before its slot is read once, as `files_lookup_fd_rcu()` does.
    unsafe {
        if fd >= (*fdt).max_fds {
            return ptr::null_mut();
        }
        ptr::read_volatile((*fdt).fd.add(fd as usize))
    }
}

/// The calling task's open descriptors from the given one up, lowest
/// first, each found afresh (descriptors may be opened and closed
/// meanwhile). Never sleeps.
struct OpenFds(u32);

impl Iterator for OpenFds {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let rcu = Rcu::lock();
        let fdt = current_fdt(&rcu)?;
        // SAFETY: `fdt` is valid under RCU; `_find_next_bit()` reads the
        // `max_fds` bits of its open bitmap (the out-of-line body of
        // `find_next_bit()`), and answers `max_fds` when none is set.
        let (max, fd) = unsafe {
            let max = (*fdt).max_fds;
            let n = bindings::_find_next_bit((*fdt).open_fds, max as _, self.0 as _);
            (max, n)
        };
        let fd = u32::try_from(fd).ok().filter(|&fd| fd < max)?;
        self.0 = fd.checked_add(1)?;
        Some(fd)
    }
}

/// A path reference taken by this module (`path_get`, a lookup); dropping
/// it puts it.
///
/// # Invariants
///
/// `0` holds a reference on its mount and dentry.
struct HeldPath(bindings::path);

impl Drop for HeldPath {
    fn drop(&mut self) {
        // SAFETY: the reference is ours (type invariant).
        unsafe { bindings::path_put(&self.0) };
    }
}

/// Checks that `module/vfs_private.h`, the module's copy of Linux 6.12's
/// private VFS structures, reads this kernel right, against what the
/// kernel's own code shows: the mount namespace of the caller's root mount
/// against its `nsproxy`, that mount's place in its namespace's mount tree
/// and its parent, that namespace's inode number against
/// `/proc/thread-self/ns/mnt`, that mount's id against the kernel's own
/// `/proc/thread-self/mountinfo` (6.12 exports no mount-id getter:
/// `vfs_getattr_nosec` leaves `stat.mnt_id` 0), and the pid of the procfs
/// inode of `/proc/self` against `get_task_pid()`. A kernel whose private
/// structures differ from the copy fails the load (`ENOEXEC`) instead of
/// being read wrong. Process context only (it looks up paths, reads a file
/// and may sleep); run before anything reads those structures.
pub(crate) fn verify_private_layout() -> Result {
    // SAFETY: reads the running task; valid for this call.
    let t = unsafe { bindings::get_current() };
    // SAFETY: `current` is alive; only the task itself changes its `fs` and
    // `nsproxy` pointers (unshare, setns, exit), so they are stable here.
    let (fs, nsp) = unsafe { ((*t).fs as *mut raw::fs_struct, (*t).nsproxy) };
    if fs.is_null() || nsp.is_null() {
        return Err(ESRCH);
    }
    // SAFETY: `fs` is current's, alive; `fs->lock` pins `root` while we
    // take our own reference on it.
    let root = unsafe {
        fs_lock(fs);
        let root = (*fs).root;
        bindings::path_get(&root);
        fs_unlock(fs);
        // INVARIANT: referenced just above.
        HeldPath(root)
    };
    // SAFETY: `nsp` is current's nsproxy (see above).
    let task_ns = unsafe { (*nsp).mnt_ns };
    // In field order, so that a member moved in the copy fails its own
    // check: the namespace's inode number, the mount tree and parent links
    // (the host-root-volume scan), then the mount's namespace and id.
    let ns_link = lookup(c_str!("/proc/thread-self/ns/mnt"))?;
    // SAFETY: `ns_link` is held, so its dentry and inode are alive.
    let ino = unsafe { (*(*ns_link.0.dentry).d_inode).i_ino } as u64;
    // SAFETY: `task_ns` is current's mount namespace, pinned by its nsproxy.
    if unsafe { raw::escguard_mnt_ns_inum(task_ns.cast()) } != ino {
        pr_err!("struct mnt_namespace differs from module/vfs_private.h; not loading\n");
        return Err(ENOEXEC);
    }
    let ns = task_ns.cast::<c_void>().cast_const();
    if !MountScan::new().holds(ns, root.0.mnt) {
        pr_err!("struct mount differs from module/vfs_private.h (mount tree); not loading\n");
        return Err(ENOEXEC);
    }
    let parent = MountScan::new().mount(root.0.mnt).map(|m| m.parent);
    let parent_ok = parent.is_some_and(|p| p == root.0.mnt || MountScan::new().holds(ns, p));
    if !parent_ok {
        pr_err!("struct mount differs from module/vfs_private.h (parent); not loading\n");
        return Err(ENOEXEC);
    }
    if mnt_ns(root.0.mnt) != task_ns as usize {
        pr_err!("struct mount differs from module/vfs_private.h (namespace); not loading\n");
        return Err(ENOEXEC);
    }
    // SAFETY: `root` is held.
    let id = unsafe { raw::escguard_mnt_id(root.0.mnt) };
    if !mountinfo_shows_at_root(id)? {
        pr_err!(
            "struct mount differs from module/vfs_private.h (id {} not at / in mountinfo); \
             not loading\n",
            id
        );
        return Err(ENOEXEC);
    }
    // The peer groups (after the mount id, checked above against mountinfo):
    // set exactly on the mounts flagged shared (`MNT_SHARED`, public), in
    // every mount of the namespace.
    let groups_ok = MountScan::new().any(ns, |s, m| {
        let f = s.mount(m)?;
        Some((f.flags & bindings::MNT_SHARED != 0) != (f.group > 0) || f.master_group < 0)
    }) == Some(false);
    if !groups_ok {
        pr_err!("struct mount differs from module/vfs_private.h (peer group); not loading\n");
        return Err(ENOEXEC);
    }
    let p = lookup(c_str!("/proc/self"))?;
    // SAFETY: `p` is held, so its dentry, superblock and inode are alive.
    let (magic, inode) = unsafe { ((*(*p.0.dentry).d_sb).s_magic, (*p.0.dentry).d_inode) };
    if magic != bindings::PROC_SUPER_MAGIC as usize || inode.is_null() {
        pr_err!("cannot check struct proc_inode: /proc is not procfs; not loading\n");
        return Err(ENOENT);
    }
    // SAFETY: `t` is current; the reference is put below.
    let want = unsafe { bindings::get_task_pid(t, bindings::pid_type_PIDTYPE_TGID) };
    // SAFETY: `inode` is a procfs inode of a held path.
    let got = unsafe { raw::escguard_proc_pid(inode) };
    // SAFETY: ours, from get_task_pid() above (NULL is allowed).
    unsafe { bindings::put_pid(want) };
    if got != want {
        pr_err!("struct proc_inode differs from module/vfs_private.h; not loading\n");
        return Err(ENOEXEC);
    }
    Ok(())
}

/// Looks up `name` from the caller's root, following symlinks; the path,
/// held. Process context (may sleep).
fn lookup(name: &CStr) -> Result<HeldPath> {
    let mut p = bindings::path {
        mnt: ptr::null_mut(),
        dentry: ptr::null_mut(),
    };
    // SAFETY: a NUL-terminated name and a path for the result.
    let r = unsafe { raw::escguard_kern_path_follow(name.as_char_ptr(), &mut p) };
    if r != 0 {
        pr_err!(
            "cannot check the VFS layout: no {} ({}); not loading\n",
            name,
            r
        );
        return Err(Error::from_errno(r));
    }
    // INVARIANT: the lookup returned a referenced path.
    Ok(HeldPath(p))
}

/// A file this module opened with `filp_open`; dropping it closes it.
///
/// # Invariants
///
/// `0` is a file reference from `filp_open`, not yet closed.
struct OpenedFile(*mut bindings::file);

impl Drop for OpenedFile {
    fn drop(&mut self) {
        // SAFETY: the reference is ours (type invariant); no lock owner.
        unsafe { bindings::filp_close(self.0, ptr::null_mut()) };
    }
}

/// Whether the caller's `/proc/thread-self/mountinfo` has a line for mount
/// `id` whose mount point is `/`: the kernel's own code formats it, so a
/// mount id read at a wrong offset does not pass. Streams the file (it can
/// be long on a container host). Process context (may sleep).
fn mountinfo_shows_at_root(id: u32) -> Result<bool> {
    let name = c_str!("/proc/thread-self/mountinfo");
    // SAFETY: a NUL-terminated name; read-only open, no mode.
    let f = unsafe { bindings::filp_open(name.as_char_ptr(), bindings::O_RDONLY as i32, 0) };
    let err = f as isize;
    if (-(bindings::MAX_ERRNO as isize)..0).contains(&err) {
        pr_err!(
            "cannot check the VFS layout: cannot open {} ({}); not loading\n",
            name,
            err
        );
        return Err(Error::from_errno(err as i32));
    }
    // INVARIANT: `filp_open` returned a file, not an error.
    let f = OpenedFile(f);
    let mut line = MountinfoLine::default();
    let mut buf = [0u8; 256];
    let mut pos: bindings::loff_t = 0;
    loop {
        // SAFETY: `f` is open; `buf` is ours and `buf.len()` bytes long.
        let n = unsafe { bindings::kernel_read(f.0, buf.as_mut_ptr().cast(), buf.len(), &mut pos) };
        let Ok(n) = usize::try_from(n) else {
            pr_err!(
                "cannot check the VFS layout: reading {} failed ({}); not loading\n",
                name,
                n
            );
            return Err(Error::from_errno(n as i32));
        };
        if n == 0 {
            return Ok(false);
        }
        for &b in buf.iter().take(n) {
            if line.feed(b) == Some(id) {
                return Ok(true);
            }
        }
    }
}

/// Where a byte-by-byte reader of one mountinfo line is: "ID PARENT
/// MAJ:MIN ROOT MOUNTPOINT ..." (fields separated by single spaces, as
/// `show_mountinfo` writes them).
#[derive(Default)]
struct MountinfoLine {
    /// Index of the field being read.
    field: u32,
    /// The mount id's value so far.
    id: u32,
    /// Digits of the mount id seen so far.
    id_digits: u32,
    /// Whether the mount id field holds something other than a `u32`.
    id_bad: bool,
    /// Bytes of the mount point seen so far (`/` is the only one wanted).
    mount_point_len: u32,
    /// Whether the mount point so far is exactly `/`.
    mount_point_slash: bool,
}

impl MountinfoLine {
    /// Takes one byte; at the end of a line whose mount point is `/`, that
    /// line's mount id.
    fn feed(&mut self, b: u8) -> Option<u32> {
        match (b, self.field) {
            (b'\n', _) => {
                let l = core::mem::take(self);
                let root = l.mount_point_len == 1 && l.mount_point_slash;
                (l.field >= 4 && l.id_digits > 0 && !l.id_bad && root).then_some(l.id)
            }
            (b' ', _) => {
                self.field = self.field.saturating_add(1);
                None
            }
            (_, 0) => {
                let d = b.wrapping_sub(b'0');
                match self
                    .id
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u32::from(d)))
                {
                    Some(v) if d < 10 => {
                        self.id = v;
                        self.id_digits = self.id_digits.saturating_add(1);
                    }
                    _ => self.id_bad = true,
                }
                None
            }
            (_, 4) => {
                self.mount_point_slash = self.mount_point_len == 0 && b == b'/';
                self.mount_point_len = self.mount_point_len.saturating_add(1);
                None
            }
            _ => None,
        }
    }
}

/// What [`MountScan::mount`] reads of a mount.
#[derive(Clone, Copy)]
struct MountFacts {
    root: *mut bindings::dentry,
    parent: *mut bindings::vfsmount,
    flags: u32,
    /// Where it is mounted on `parent`.
    mountpoint: *mut bindings::dentry,
    /// Its peer group (0: not shared), its master's (0: not a slave).
    group: i32,
    master_group: i32,
}

/// Where a mount-tree change lands: at dentry `mountpoint` of mount
/// `parent` (a mount attached there, or one detached from there).
///
/// # Invariants
///
/// Both are read in the hook's RCU read-side section (preemption is off)
/// from a mount that was attached then: freed, if at all, after it.
#[derive(Clone, Copy)]
pub(crate) struct Landing {
    parent: *mut bindings::vfsmount,
    mountpoint: *mut bindings::dentry,
}

/// The walks of the host's mount namespace that one judgement makes for
/// its [`Landing`]s: one budget for all (an unmount of a large tree has a
/// landing per mount it detaches), and the peer groups found to have no
/// member there, which are not walked again.
pub(crate) struct LandingScan {
    scan: MountScan,
    off_host: [i32; 16],
    n: usize,
}

impl LandingScan {
    pub(crate) fn new() -> Self {
        LandingScan {
            scan: MountScan::with_budget(LANDING_SCAN_BUDGET),
            off_host: [0; 16],
            n: 0,
        }
    }

    /// What the container's grants (`origin`, `writable`, `read_only`: as
    /// for [`MountRef::nearest_grant`]) allow where the change `l` lands
    /// in the host's mount namespace: `None` if it lands in no mount there
    /// (its parent is not shared, or no mount of the host's namespace is a
    /// peer of it or a slave of its group), else the least they allow
    /// over every such mount (the landing as each shows it, climbing to
    /// the host's root). A scan that cannot finish answers read-only.
    pub(crate) fn on_host(
        &mut self,
        l: &Landing,
        origin: &FsId,
        writable: &[RootId],
        read_only: &[RootId],
    ) -> Option<Grant> {
        let Some(p) = self.scan.mount(l.parent) else {
            return Some(Grant::ReadOnly);
        };
        if p.flags & bindings::MNT_SHARED == 0 || p.group <= 0 {
            return None;
        }
        if self.off_host[..self.n].contains(&p.group) {
            return None;
        }
        let host = super::fast::host_mnt_ns() as *const c_void;
        let mut least: Option<Grant> = None;
        let mut member = false;
        let done = self.scan.any(host, |s, h| {
            let f = s.mount(h)?;
            if f.group != p.group && f.master_group != p.group {
                return Some(false);
            }
            member = true;
            let g = s.grant_through(h, f, l.mountpoint, origin, writable, read_only)?;
            least = match (least, g) {
                (_, None) => least,
                (Some(Grant::ReadOnly), _) | (_, Some(Grant::ReadOnly)) => Some(Grant::ReadOnly),
                (Some(Grant::None), _) | (_, Some(Grant::None)) => Some(Grant::None),
                _ => Some(Grant::Writable),
            };
            Some(false)
        });
        if done.is_none() {
            return Some(Grant::ReadOnly);
        }
        if !member {
            if let Some(slot) = self.off_host.get_mut(self.n) {
                *slot = p.group;
                self.n += 1;
            }
        }
        least
    }
}

/// Nodes a lockless scan of one mount namespace visits at most (rbtree
/// steps and parent steps together): far more than any container's mounts;
/// a scan that runs out answers "no".
const MOUNT_SCAN_BUDGET: u32 = 8192;

/// The same for [`Landing::on_host`], which walks the host's namespace
/// (a node with many pods has thousands of mounts, and every bind of a
/// shared root filesystem is a peer of it) and climbs from the landing
/// through each peer, and for [`MountRef::subtree_landings`], which walks
/// a container's (a host-root volume carries all of the host's mounts). A
/// scan that runs out answers read-only, so it is kept well above what a
/// large node needs (mount calls are rare).
const LANDING_SCAN_BUDGET: u32 = 65_536;

/// A walk of a mount namespace's mounts (its `mounts` rbtree, in order)
/// without the namespace's lock, which probe context cannot take. Every
/// read is fault-proof (`copy_from_kernel_nofault`) and mounts are freed
/// after an RCU grace period, so a tree changed under the walk yields a
/// wrong answer, never a fault, and the budget bounds the work. Used only
/// where the namespace is quiescent in practice (a container's first exec:
/// its runtime is done and no container code has run yet) and at load.
struct MountScan {
    budget: u32,
}

impl MountScan {
    fn new() -> Self {
        Self::with_budget(MOUNT_SCAN_BUDGET)
    }

    fn with_budget(budget: u32) -> Self {
        MountScan { budget }
    }

    /// A copy of node `n`; `None` when it cannot be read or the budget is
    /// spent.
    fn node(&mut self, n: *mut bindings::rb_node) -> Option<bindings::rb_node> {
        self.budget = self.budget.checked_sub(1)?;
        let mut out = bindings::rb_node::default();
        // SAFETY: the accessor reads with copy_from_kernel_nofault(); any
        // address is allowed.
        (unsafe { raw::escguard_rb_node_nofault(n, &mut out) } == 0).then_some(out)
    }

    /// The leftmost node below `n`.
    fn leftmost(&mut self, mut n: *mut bindings::rb_node) -> Option<*mut bindings::rb_node> {
        loop {
            let l = self.node(n)?.rb_left;
            if l.is_null() {
                return Some(n);
            }
            n = l;
        }
    }

    /// The node after `n` in order (null at the end).
    fn next(&mut self, mut n: *mut bindings::rb_node) -> Option<*mut bindings::rb_node> {
        let mut cur = self.node(n)?;
        if !cur.rb_right.is_null() {
            return self.leftmost(cur.rb_right);
        }
        loop {
            let parent = (cur.__rb_parent_color & !3) as *mut bindings::rb_node;
            if parent.is_null() {
                return Some(ptr::null_mut());
            }
            let up = self.node(parent)?;
            if up.rb_right != n {
                return Some(parent);
            }
            (n, cur) = (parent, up);
        }
    }

    /// `mnt`'s root dentry, parent mount (itself for a namespace's root)
    /// and `MNT_*` flags.
    fn mount(&mut self, mnt: *mut bindings::vfsmount) -> Option<MountFacts> {
        self.budget = self.budget.checked_sub(1)?;
        let mut f = MountFacts {
            root: ptr::null_mut(),
            parent: ptr::null_mut(),
            flags: 0,
            mountpoint: ptr::null_mut(),
            group: 0,
            master_group: 0,
        };
        let mut flags = 0;
        // SAFETY: the accessor reads with copy_from_kernel_nofault().
        let r = unsafe {
            raw::escguard_mnt_nofault(
                mnt,
                &mut f.root,
                &mut f.parent,
                &mut flags,
                &mut f.mountpoint,
                &mut f.group,
                &mut f.master_group,
            )
        };
        f.flags = flags as u32;
        (r == 0).then_some(f)
    }

    /// One step up from `d` (`None`: unreadable, or the budget is spent).
    fn d_parent(&mut self, d: *mut bindings::dentry) -> Option<*mut bindings::dentry> {
        self.budget = self.budget.checked_sub(1)?;
        // SAFETY: address arithmetic only; `read_nofault` accepts any
        // source address.
        read_nofault(unsafe { addr_of!((*d).d_parent) })
    }

    /// What the grants allow at `d` as it shows through mount `mnt` (of
    /// facts `f`) and the mounts above it up to its namespace's root:
    /// `Some(None)` if `d` is not below `mnt`'s root (it does not show
    /// there), `None` if something could not be read. The rule is
    /// [`MountRef::nearest_grant`]'s, climbing mounts too.
    fn grant_through(
        &mut self,
        mut mnt: *mut bindings::vfsmount,
        mut f: MountFacts,
        mut d: *mut bindings::dentry,
        origin: &FsId,
        writable: &[RootId],
        read_only: &[RootId],
    ) -> Option<Option<Grant>> {
        // Shown through `mnt` at all? (One read per step: most peers of a
        // shared root filesystem are binds of other directories.)
        let mut up = d;
        while up != f.root {
            let p = self.d_parent(up)?;
            if p == up {
                return Some(None);
            }
            up = p;
        }
        let mut read_only_seen = false;
        let mut first = true;
        loop {
            loop {
                let (sb, magic) = self.sb_magic(d)?;
                let id = (self.sb_dev(sb)?, self.ino(d)?);
                // A kernel filesystem the container was given writable (a
                // host-network container's sysfs is the host's instance)
                // lets it write the files there, which the presets judge;
                // the host's mounts on it are not its own.
                if (origin.dev != 0 && id == (origin.dev, origin.ino))
                    || (writable.contains(&id) && !super::fast::magic_may_be_sensitive(magic))
                {
                    return Some(Some(Grant::Writable));
                }
                read_only_seen |= read_only.contains(&id);
                if d == f.root {
                    break;
                }
                let p = self.d_parent(d)?;
                if p == d {
                    // Not below this mount's root: not shown through it.
                    return if first { Some(None) } else { None };
                }
                d = p;
            }
            first = false;
            if f.parent == mnt {
                break;
            }
            (mnt, d) = (f.parent, f.mountpoint);
            f = self.mount(mnt)?;
        }
        Some(Some(if read_only_seen {
            Grant::ReadOnly
        } else {
            Grant::None
        }))
    }

    /// The superblock (by address) and its magic of the filesystem
    /// `dentry` is of.
    fn sb_magic(&mut self, dentry: *mut bindings::dentry) -> Option<(usize, u64)> {
        self.budget = self.budget.checked_sub(1)?;
        // SAFETY (both): address arithmetic only; `read_nofault` accepts
        // any source address.
        let sb = read_nofault(unsafe { addr_of!((*dentry).d_sb) })?;
        let magic = read_nofault(unsafe { addr_of!((*sb).s_magic) })?;
        Some((sb as usize, magic as u64))
    }

    /// The tag of superblock `sb` (see [`sb_tag_of`]).
    fn sb_tag(&mut self, sb: usize) -> Option<u64> {
        let sb = sb as *mut bindings::super_block;
        // SAFETY: address arithmetic only; `read_nofault` accepts any
        // source address.
        let uuid = read_nofault(unsafe { addr_of!((*sb).s_uuid.b) })?;
        Some(sb_tag_of(&uuid))
    }

    /// The device (`st_dev`) of the filesystem `dentry` is of.
    fn dev(&mut self, dentry: *mut bindings::dentry) -> Option<u64> {
        let (sb, _) = self.sb_magic(dentry)?;
        self.sb_dev(sb)
    }

    /// The device (`st_dev`) of superblock `sb` (by address).
    fn sb_dev(&mut self, sb: usize) -> Option<u64> {
        let sb = sb as *mut bindings::super_block;
        // SAFETY: address arithmetic only; `read_nofault` accepts any
        // source address.
        read_nofault(unsafe { addr_of!((*sb).s_dev) }).map(encode_dev)
    }

    /// The inode number of `dentry`'s inode (0 for a negative dentry).
    fn ino(&mut self, dentry: *mut bindings::dentry) -> Option<u64> {
        self.budget = self.budget.checked_sub(1)?;
        // SAFETY (both): address arithmetic only; `read_nofault` accepts
        // any source address.
        let inode = read_nofault(unsafe { addr_of!((*dentry).d_inode) })?;
        if inode.is_null() {
            return Some(0);
        }
        read_nofault(unsafe { addr_of!((*inode).i_ino) }).map(|i| i as u64)
    }

    /// Whether `mnt` is mounted below `root` (through any number of mounts).
    fn below(&mut self, mut mnt: *mut bindings::vfsmount, root: *mut bindings::vfsmount) -> bool {
        while let Some(MountFacts { parent, .. }) = self.mount(mnt) {
            if parent == root {
                return true;
            }
            if parent == mnt {
                return false;
            }
            mnt = parent;
        }
        false
    }

    /// Calls `f` with each mount of namespace `ns` until it returns true:
    /// `Some(true)` if it did, `Some(false)` after every mount, `None` when
    /// the walk could not finish (a node it could not read, the budget).
    fn any<F>(&mut self, ns: *const c_void, mut f: F) -> Option<bool>
    where
        F: FnMut(&mut Self, *mut bindings::vfsmount) -> Option<bool>,
    {
        let mut top = ptr::null_mut();
        // SAFETY: the accessor reads with copy_from_kernel_nofault().
        if unsafe { raw::escguard_mnt_ns_top_nofault(ns, &mut top) } != 0 || top.is_null() {
            return None;
        }
        let mut n = self.leftmost(top)?;
        while !n.is_null() {
            // SAFETY: address arithmetic only (container_of).
            let mnt = unsafe { raw::escguard_mnt_of_node(n) };
            if f(self, mnt)? {
                return Some(true);
            }
            n = self.next(n)?;
        }
        Some(false)
    }

    /// Whether namespace `ns`'s mount tree holds `want`.
    fn holds(&mut self, ns: *const c_void, want: *mut bindings::vfsmount) -> bool {
        self.any(ns, |_, m| Some(m == want)) == Some(true)
    }
}

/// A copy of the value at `src`, read with `copy_from_kernel_nofault()`:
/// any address is allowed, and one that cannot be read gives `None`.
fn read_nofault<T: Copy + Default>(src: *const T) -> Option<T> {
    let mut v = T::default();
    // SAFETY: copy_from_kernel_nofault() accepts any source address; the
    // destination is ours and of the copied size.
    let ok = unsafe {
        bindings::copy_from_kernel_nofault(
            addr_of_mut!(v).cast(),
            src.cast::<c_void>(),
            core::mem::size_of::<T>(),
        ) == 0
    };
    ok.then_some(v)
}

/// What a container's runtime configured into its mount namespace, read
/// at its first exec (its runtime is done, no container code has run).
#[derive(Clone, Copy, Default)]
pub(crate) struct ConfiguredMounts {
    /// A host-root volume, and whether read-only ([`host_root_volume_below`]).
    pub(crate) host_root: Option<bool>,
    /// That volume's mount (by address; 0: none).
    pub(crate) host_root_mount: usize,
    /// A writable cgroup v2 hierarchy ([`cgroup_rw_below`]).
    pub(crate) cgroup_rw: bool,
    /// Where on the host's root filesystem it was given write access
    /// ([`write_grants_below`]).
    pub(crate) writes: WriteGrants,
}

/// `CGROUP_SUPER_MAGIC` (cgroup v1, `uapi/linux/magic.h`).
const CGROUP_SUPER_MAGIC: u64 = 0x27e0eb;

/// Most roots of each kind a container's [`WriteGrants`] hold.
pub(crate) const GRANT_ROOTS: usize = 24;

/// A mount's root, by filesystem (`st_dev`) and inode number.
pub(crate) type RootId = (u64, u64);

/// The mounts a container's runtime made for it below its root (volumes,
/// `/etc/hosts`-style files, a host-root volume, its `/dev`, `/proc` and
/// `/sys` and their read-only parts), by the identities of their roots,
/// read-only and writable, when its first program started.
#[derive(Clone, Copy, Default)]
pub(crate) struct WriteGrants {
    pub(crate) read_only: [RootId; GRANT_ROOTS],
    pub(crate) n_ro: usize,
    pub(crate) writable: [RootId; GRANT_ROOTS],
    pub(crate) n_rw: usize,
    /// Every such mount was read and fits: a grant set that could miss a
    /// writable root would refuse writes the runtime allowed.
    pub(crate) complete: bool,
}

impl WriteGrants {
    fn add(list: &mut [RootId; GRANT_ROOTS], n: &mut usize, id: RootId) -> Option<()> {
        if !list[..*n].contains(&id) {
            *list.get_mut(*n)? = id;
            *n += 1;
        }
        Some(())
    }

    /// The read-only roots.
    pub(crate) fn read_only(&self) -> &[RootId] {
        &self.read_only[..self.n_ro.min(GRANT_ROOTS)]
    }

    /// The writable roots.
    pub(crate) fn writable(&self) -> &[RootId] {
        &self.writable[..self.n_rw.min(GRANT_ROOTS)]
    }
}

/// The [`WriteGrants`] of mount namespace `ns` below the container root
/// mount `root` (compared by address only): every mount there but `root`
/// itself (the container's own files are judged by its origin root), of
/// any filesystem (the host's root filesystem, its `/run` or `/boot`, a
/// kubelet's tmpfs of secrets), but cgroup hierarchies. Below a read-only host-root volume
/// `ro_vol` (by address; 0: none) every mount is read-only, whatever its
/// flags: the runtime's recursive bind carried the host's own mounts there
/// (a bind of the host's `/` among them), and they are the host's, not
/// grants. Incomplete when the scan cannot finish or more than
/// [`GRANT_ROOTS`] writable roots exist.
fn write_grants_below(
    ns: *const c_void,
    root: *mut bindings::vfsmount,
    ro_vol: usize,
) -> WriteGrants {
    let _rcu = Rcu::lock();
    let mut g = WriteGrants::default();
    // Filesystems of no device (tmpfs, procfs) the host mounts: their
    // numbers stay theirs while they live. A container's own (a read-only
    // tmpfs its runtime made) may die and its number go to the next tmpfs
    // it mounts, which must not inherit a read-only grant.
    let mut host_anon = [0usize; OWN_SB_MAX];
    let mut n_anon = 0;
    let host_ns = super::fast::host_mnt_ns() as *const c_void;
    let host_known = MountScan::new().any(host_ns, |s, mnt| {
        let m = s.mount(mnt)?;
        let (sb, _) = s.sb_magic(m.root)?;
        if s.dev(m.root)? >> 8 & 0xfff == 0 && !host_anon[..n_anon].contains(&sb) {
            *host_anon.get_mut(n_anon)? = sb;
            n_anon += 1;
        }
        Some(false)
    }) == Some(false);
    let mut scan = MountScan::new();
    let done = scan.any(ns, |s, mnt| {
        let m = s.mount(mnt)?;
        if mnt == root || !s.below(mnt, root) {
            return Some(false);
        }
        // cgroup hierarchies are `host_cgroup`'s: judged by the group's
        // place, so that a container manages its own groups however its
        // runtime mounted the hierarchy.
        let magic = s.sb_magic(m.root)?.1;
        if magic == bindings::CGROUP2_SUPER_MAGIC as u64 || magic == CGROUP_SUPER_MAGIC {
            return Some(false);
        }
        let id = (s.dev(m.root)?, s.ino(m.root)?);
        let carried = ro_vol != 0 && s.below(mnt, ro_vol as *mut bindings::vfsmount);
        if id.0 >> 8 & 0xfff == 0
            && !(host_known && host_anon[..n_anon].contains(&s.sb_magic(m.root)?.0))
        {
            // No device, and not the host's (or the host's could not be
            // read): its number may be reused; no grant either way.
            return Some(false);
        }
        if m.flags & bindings::MNT_READONLY != 0 || carried {
            // More read-only roots than fit: the first ones are judged.
            let _ = WriteGrants::add(&mut g.read_only, &mut g.n_ro, id);
        } else {
            WriteGrants::add(&mut g.writable, &mut g.n_rw, id)?;
        }
        Some(false)
    });
    g.complete = done == Some(false);
    g
}

impl ConfiguredMounts {
    /// Scans namespace `ns` below the container root mount `root` (compared
    /// by address only).
    pub(crate) fn scan(ns: *const c_void, root: *mut bindings::vfsmount) -> Self {
        let vol = host_root_volume_below(ns, root, super::fast::host_root_dentry());
        if let Some((true, m)) = vol {
            note_carried_below(ns, m as *mut bindings::vfsmount);
        }
        ConfiguredMounts {
            host_root: vol.map(|(ro, _)| ro),
            host_root_mount: vol.map_or(0, |(_, m)| m),
            cgroup_rw: cgroup_rw_below(ns, root),
            writes: write_grants_below(
                ns,
                root,
                match vol {
                    Some((true, m)) => m,
                    _ => 0,
                },
            ),
        }
    }
}

/// Whether mount namespace `ns` holds, below the container root mount
/// `root`, a writable mount of the cgroup v2 hierarchy on a sysfs of the
/// container's own (not the host's `/sys`), when read at the container's
/// first exec: its runtime built it a `/sys` and delegated cgroup
/// management to it there (a nested runtime's setup), and the groups it
/// can see are its to manage. A copy of the host's `/sys` in a volume
/// (`-v /:/host:ro`, whose submounts stay writable) delegates nothing.
/// False if none, or if the walk could not reach one. Never sleeps; see
/// [`MountScan`].
pub(crate) fn cgroup_rw_below(ns: *const c_void, root: *mut bindings::vfsmount) -> bool {
    let host_sysfs = super::fast::host_sysfs_sb();
    let _rcu = Rcu::lock();
    MountScan::new().any(ns, |s, mnt| {
        let m = s.mount(mnt)?;
        if mnt == root || m.flags & bindings::MNT_READONLY != 0 {
            return Some(false);
        }
        if s.sb_magic(m.root)?.1 != bindings::CGROUP2_SUPER_MAGIC as u64 {
            return Some(false);
        }
        let p = s.mount(m.parent)?;
        let (psb, pmagic) = s.sb_magic(p.root)?;
        Some(pmagic == bindings::SYSFS_MAGIC as u64 && psb != host_sysfs && s.below(mnt, root))
    }) == Some(true)
}

/// Most of a container's own filesystems [`note_carried_below`] tells
/// apart from the host's.
const OWN_SB_MAX: usize = 64;

/// Remembers the superblocks of the filesystems mounted below the
/// read-only host-root volume `vol` in namespace `ns` (what its runtime's
/// recursive bind carried: the host's /run, /tmp, procfs, sysfs), so that
/// writes to them are judged however the container mounts them again (a
/// bind, a move, a new mount namespace's copy). Not the host root's own
/// (judged by the volume's configuration), not cgroup2 (`host_cgroup`), and
/// not a filesystem also mounted outside the volume: the container's own
/// (its /dev, /dev/shm, /proc, which the bind of the host's `/` copies too,
/// below the container's root directory). Within the scan budget: a walk
/// that stops early remembers fewer.
fn note_carried_below(ns: *const c_void, vol: *mut bindings::vfsmount) {
    let _rcu = Rcu::lock();
    let mut scan = MountScan::new();
    let Some((host_sb, _)) = scan.sb_magic(super::fast::host_root_dentry()) else {
        return;
    };
    let mut own = [0usize; OWN_SB_MAX];
    let mut n = 0;
    let mut carried = [0usize; OWN_SB_MAX];
    let mut c = 0;
    let done = scan.any(ns, |s, mnt| {
        let m = s.mount(mnt)?;
        let (sb, magic) = s.sb_magic(m.root)?;
        if sb == host_sb || magic == bindings::CGROUP2_SUPER_MAGIC as u64 {
            return Some(false);
        }
        let list = if mnt != vol && s.below(mnt, vol) {
            (&mut carried, &mut c)
        } else {
            (&mut own, &mut n)
        };
        if !list.0[..*list.1].contains(&sb) {
            // Too many to tell apart: remember nothing rather than guess.
            *list.0.get_mut(*list.1)? = sb;
            *list.1 += 1;
        }
        Some(false)
    });
    if done.is_none() {
        return;
    }
    for sb in carried[..c].iter().filter(|sb| !own[..n].contains(sb)) {
        if let Some(tag) = scan.sb_tag(*sb) {
            super::fast::note_ro_carried(*sb, tag);
        }
    }
}

/// Records the superblock of the host's `/sys` (see [`cgroup_rw_below`]).
/// Process context, at load.
pub(crate) fn note_host_sysfs() {
    let sb = lookup(kernel::c_str!("/sys")).map_or(0, |p| {
        // SAFETY: the held path pins its mount and so its superblock.
        unsafe {
            let sb = (*p.0.mnt).mnt_sb;
            if (*sb).s_magic as u64 == bindings::SYSFS_MAGIC as u64 {
                sb as usize
            } else {
                0
            }
        }
    });
    super::fast::set_host_sysfs_sb(sb);
}

/// Whether mount namespace `ns` holds, mounted below the container root
/// mount `root`, a mount of the host's whole root filesystem (its root
/// dentry is `host_root`): a host-root volume (`-v /:/host`) that the
/// container's runtime configured, when read at the container's first
/// exec. `Some((read_only, its mount's address))` for the first one found,
/// `None` if none (or if
/// the walk could not reach one). Not `root` itself, and not a
/// host mount left *above* the root (a runtime that chroots instead of
/// pivoting keeps one: that one is reached only by escaping the root).
/// Never sleeps; see [`MountScan`].
pub(crate) fn host_root_volume_below(
    ns: *const c_void,
    root: *mut bindings::vfsmount,
    host_root: *mut bindings::dentry,
) -> Option<(bool, usize)> {
    let _rcu = Rcu::lock();
    let mut found = None;
    // Stops at the first one: mounts are in creation order, and a volume's
    // own mount precedes the host mounts an rbind copies under it, so a
    // node with thousands of mounts does not exhaust the budget. A walk
    // that fails before one answers "no".
    MountScan::new().any(ns, |s, mnt| {
        let m = s.mount(mnt)?;
        let hit = mnt != root && m.root == host_root && s.below(mnt, root);
        if hit {
            found = Some((m.flags & bindings::MNT_READONLY != 0, mnt as usize));
        }
        Some(hit)
    })?;
    found
}

/// Whether mount `mnt` is mounted below mount `ancestor` (compared by
/// address), through any number of mounts. Lock-free: the parent links are
/// read with `copy_from_kernel_nofault()`, within the scan budget; a chain
/// that cannot be read answers no.
pub(crate) fn mounted_below(mnt: *mut bindings::vfsmount, ancestor: usize) -> bool {
    ancestor != 0 && MountScan::new().below(mnt, ancestor as *mut bindings::vfsmount)
}
