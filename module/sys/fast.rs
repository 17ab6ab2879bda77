// SPDX-License-Identifier: GPL-2.0

//! The open hook's fast path: the host filter, the settled-lineage bits,
//! the verdict cache and the policy's file-access mask, read lock-free on
//! every file open on the system and kept by the hooks (under the table
//! lock) and the policy ioctls.
//!
//! The verdict cache answers "did anything the escape verdict on this task
//! depends on change since its last clean verdict?" without a lock. A slot
//! is only filled when the task is of settled container lineage, tracked,
//! not reported, and its verdict on exactly the objects of the key found no
//! escape. An equal key then means the same namespaces, user namespace,
//! fs_struct, root and cwd, so the same verdict. Identity is enough: the
//! objects a key names are pinned by the task while they are its own; one
//! can only be freed and its address reused after the task switched away
//! from it. nsproxy and user namespace change only through setns/unshare,
//! whose hooks clear the slot first; root and cwd changes bump `fs->seq`
//! (and the pointers differ as long as the old objects live); exec and exit
//! replace or drop the task's table entry, which clears the slot. A miss
//! only costs the locked path.
//!
//! Slots are seqcounts: written under the table lock (writers never race),
//! read lock-free; a reader that overlaps a write misses.

use super::raw;
use super::task::TaskRef;
use super::vfs::FileRef;
use core::ptr::{self, addr_of};
use core::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use kernel::prelude::*;

/// Slots of the verdict cache (direct-mapped by task address).
const VSLOT_BITS: u32 = 11;
const VSLOTS_N: usize = 1 << VSLOT_BITS;
/// Words of a key: task, fs sequence, nsproxy, user namespace, fs, root
/// dentry and mount, cwd dentry and mount. (No pid: a slot is filled only
/// for a task with a table entry, and every way the entry goes -- exit,
/// exec from a thread that takes the leader's pid, a replacing store --
/// clears the slot first, so a task address is never matched by a slot
/// of a task that lived there before.)
const VKEY_WORDS: usize = 9;
/// One bit per possible pid (`PID_MAX_LIMIT` on 64-bit).
const PID_MAX_LIMIT: usize = 4 * 1024 * 1024;
const BITS: usize = usize::BITS as usize;

/// `FMODE_READ`, `FMODE_WRITE` (`linux/fs.h`).
const FMODE_READ: u32 = 0x1;
const FMODE_WRITE: u32 = 0x2;

/// The identity of everything a task's escape verdict depends on, compared
/// by the verdict cache and never dereferenced. `task` 0: no key (the task
/// is exiting).
#[derive(Clone, Copy, Default)]
pub(crate) struct OpenKey {
    pub(crate) task: u64,
    words: [u64; VKEY_WORDS],
    /// Whether the root is its mount's root (as after `pivot_root`): only
    /// then does the root mount show nothing but what is below the root.
    root_is_mount_root: bool,
}

impl OpenKey {
    /// Whether the key's root is the root of its mount.
    pub(crate) fn root_is_mount_root(&self) -> bool {
        self.root_is_mount_root
    }
}

struct VSlot {
    /// Odd while written.
    seq: AtomicU32,
    key: [AtomicU64; VKEY_WORDS],
}

/// A pid-indexed bitmap, set and cleared atomically. Static (module
/// memory, zeroed at load): the open hook reads it with no pointer to
/// follow and no bounds to check (`pid_max` never exceeds
/// `PID_MAX_LIMIT`; the index is masked anyway).
struct PidBits([AtomicUsize; PID_MAX_LIMIT / BITS]);

impl PidBits {
    const fn new() -> Self {
        #[allow(clippy::declare_interior_mutable_const)]
        const ZERO: AtomicUsize = AtomicUsize::new(0);
        PidBits([ZERO; PID_MAX_LIMIT / BITS])
    }

    #[inline(always)]
    fn word(&self, pid: u32) -> (&AtomicUsize, usize) {
        let pid = pid as usize % PID_MAX_LIMIT;
        (&self.0[pid / BITS], 1usize << (pid % BITS))
    }

    fn set(&self, pid: u32, on: bool) {
        let (w, bit) = self.word(pid);
        if on {
            w.fetch_or(bit, Ordering::Relaxed);
        } else {
            w.fetch_and(!bit, Ordering::Relaxed);
        }
    }

    #[inline(always)]
    fn get(&self, pid: u32) -> bool {
        let (w, bit) = self.word(pid);
        w.load(Ordering::Relaxed) & bit != 0
    }

    fn clear(&self) {
        for w in &self.0 {
            w.store(0, Ordering::Relaxed);
        }
    }
}

/// Set while the task with that pid has a table entry of host lineage.
/// Anything else -- container lineage, untracked, unknown -- goes to the
/// checks.
static HOST: PidBits = PidBits::new();
/// The task with that pid is of settled container lineage (its first exec
/// inside its namespaces is behind it), whether or not the table holds it:
/// what lets an untracked task be judged.
static SETTLED: PidBits = PidBits::new();
/// The verdict cache, direct-mapped by task address.
static VSLOTS: [VSlot; VSLOTS_N] = {
    #[allow(clippy::declare_interior_mutable_const)]
    const EMPTY: VSlot = VSlot {
        seq: AtomicU32::new(0),
        key: [const { AtomicU64::new(0) }; VKEY_WORDS],
    };
    [EMPTY; VSLOTS_N]
};
/// The file-access mask of the active policy, as `FMODE_*`.
static FILE_FMODE: AtomicU32 = AtomicU32::new(0);
/// `FILE_FMODE` with `FMODE_WRITE`: the open modes the cache's read path
/// hands to its write path.
static SLOW_FMODE: AtomicU32 = AtomicU32::new(FMODE_WRITE);
/// Whether a container with read-only mounts of the host's filesystems (a
/// read-only host-root volume, a read-only volume of a host directory) has
/// settled since load: writes through mounts other than a task's root
/// mount are then judged in full (what such a mount carried below it, or
/// a mount made from it writable since).
static RO_HOST_MOUNTS: AtomicBool = AtomicBool::new(false);
/// Whether an `OpenFast` exists.
static OWNED: AtomicBool = AtomicBool::new(false);

/// The host's mount namespace and root dentry (pid 1's at load), compared
/// by address only.
static HOST_MNT_NS: AtomicUsize = AtomicUsize::new(0);
static HOST_ROOT_DENTRY: AtomicUsize = AtomicUsize::new(0);

/// Notes that a container with read-only mounts of the host's filesystems
/// settled.
pub(crate) fn note_ro_host_mounts() {
    RO_HOST_MOUNTS.store(true, Ordering::Relaxed);
}

/// Whether a write through `mnt` may need judging: a writable mount of a
/// namespace other than the host's showing the whole host root filesystem,
/// or any once a container with read-only host mounts settled (see
/// `RO_HOST_MOUNTS`). Lock-free; the common answer for a container writing
/// its own files is no. (A read-only mount refuses the write itself.)
#[inline(always)]
pub(crate) fn write_may_need_judging(mnt: super::vfs::MountRef<'_>) -> bool {
    (RO_HOST_MOUNTS.load(Ordering::Relaxed)
        || mnt.root() as usize == HOST_ROOT_DENTRY.load(Ordering::Relaxed))
        && mnt.in_guest_ns()
        && mnt.writable()
}

/// Most host filesystems remembered as carried by read-only host-root
/// volumes (a host has a few dozen mounts of its own; more are not judged).
const RO_CARRIED_MAX: usize = 32;

/// Superblocks (by address) of the host's filesystems that a read-only
/// host-root volume carried below it when its container settled: the
/// host's /run, /tmp, procfs, sysfs. Filled lock-free, never emptied
/// while loaded (the host's filesystems outlive its containers). Each with
/// its tag (the first bytes of `s_uuid`): a tmpfs gets a random one, so a
/// carried tmpfs unmounted since, whose address a container's own tmpfs
/// got back, no longer matches (pseudo filesystems have none, and are not
/// unmounted on a running host).
static RO_CARRIED: [AtomicUsize; RO_CARRIED_MAX] = [const { AtomicUsize::new(0) }; RO_CARRIED_MAX];
static RO_CARRIED_TAG: [AtomicU64; RO_CARRIED_MAX] = [const { AtomicU64::new(0) }; RO_CARRIED_MAX];

/// Remembers superblock `sb` (of tag `tag`) as carried by a read-only
/// host-root volume.
pub(crate) fn note_ro_carried(sb: usize, tag: u64) {
    for (slot, t) in RO_CARRIED.iter().zip(&RO_CARRIED_TAG) {
        match slot.compare_exchange(0, sb, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => {
                t.store(tag, Ordering::Relaxed);
                return;
            }
            // The same address: the filesystem there now is the carried one.
            Err(v) if v == sb => {
                t.store(tag, Ordering::Relaxed);
                return;
            }
            Err(_) => {}
        }
    }
}

/// Whether superblock `sb` (of tag `tag`) is one a read-only host-root
/// volume carried.
pub(crate) fn ro_carried(sb: usize, tag: u64) -> bool {
    sb != 0
        && RO_CARRIED
            .iter()
            .zip(&RO_CARRIED_TAG)
            .any(|(s, t)| s.load(Ordering::Relaxed) == sb && t.load(Ordering::Relaxed) == tag)
}

/// The host's mount namespace, by address (0 before load finished).
pub(crate) fn host_mnt_ns() -> usize {
    HOST_MNT_NS.load(Ordering::Relaxed)
}

/// Records the host's mount namespace and root dentry (see `baseline`).
pub(crate) fn set_host_refs(mnt_ns: usize, root_dentry: usize) {
    HOST_MNT_NS.store(mnt_ns, Ordering::Relaxed);
    HOST_ROOT_DENTRY.store(root_dentry, Ordering::Relaxed);
}

/// The superblock of the host's `/sys` at load (0 if it was no sysfs),
/// compared by address only (see `vfs::cgroup_rw_below`).
static HOST_SYSFS_SB: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn set_host_sysfs_sb(sb: usize) {
    HOST_SYSFS_SB.store(sb, Ordering::Relaxed);
}

pub(crate) fn host_sysfs_sb() -> usize {
    HOST_SYSFS_SB.load(Ordering::Relaxed)
}

/// The host root's dentry, by address (see `baseline`).
pub(crate) fn host_root_dentry() -> *mut kernel::bindings::dentry {
    HOST_ROOT_DENTRY.load(Ordering::Relaxed) as *mut kernel::bindings::dentry
}

/// Whether `mnt` is a mount of the host's mount namespace. Out of line and
/// cold: the cache's common path (an open on the task's own root mount)
/// then makes no call.
#[inline(never)]
#[cold]
fn mnt_in_host_ns(mnt: *mut kernel::bindings::vfsmount) -> bool {
    is_host_mnt_ns(super::vfs::mnt_ns(mnt))
}

/// Whether `mnt_ns` (a mount's namespace, by address) is the host's.
pub(crate) fn is_host_mnt_ns(mnt_ns: usize) -> bool {
    mnt_ns != 0 && mnt_ns == HOST_MNT_NS.load(Ordering::Relaxed)
}

/// The writer's handle on the fast path's state (see the module
/// documentation); the hooks read the state without one.
///
/// # Invariants
///
/// Only one exists at a time (`OWNED`).
pub(crate) struct OpenFast(());

impl OpenFast {
    /// Takes the state, cleared; `EBUSY` if an `OpenFast` exists.
    pub(crate) fn new() -> Result<Self> {
        OWNED
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .map_err(|_| EBUSY)?;
        HOST.clear();
        SETTLED.clear();
        for s in &VSLOTS {
            s.write(&[0; VKEY_WORDS]);
        }
        FILE_FMODE.store(0, Ordering::Relaxed);
        SLOW_FMODE.store(FMODE_WRITE, Ordering::Relaxed);
        // INVARIANT: `OWNED` was false and is now ours.
        Ok(OpenFast(()))
    }

    /// Sets (`host`) or clears the host filter's bit of `pid`: set exactly
    /// while the task at `pid` has a table entry of host lineage, whose
    /// opens the hook then lets through without a look. The caller holds
    /// the table lock.
    pub(crate) fn set_host(&self, pid: u32, host: bool) {
        HOST.set(pid, host)
    }

    /// Records whether the task at `pid` is of settled container lineage.
    /// Called by the task's own hooks (and its parent's fork hook before
    /// it runs), for tracked and untracked tasks alike.
    pub(crate) fn set_settled(&self, pid: u32, settled: bool) {
        SETTLED.set(pid, settled)
    }

    /// Whether the task at `pid` was last recorded as of settled container
    /// lineage.
    pub(crate) fn settled(&self, pid: u32) -> bool {
        SETTLED.get(pid)
    }

    /// Whether `pid`'s bit in the host filter is set.
    pub(crate) fn known_host(&self, pid: u32) -> bool {
        HOST.get(pid)
    }

    /// Records that the task of `k` had a clean verdict on `k`, evicting
    /// whatever shared its slot. The caller holds the table lock (writers
    /// must not race) and read `k` before the facts the verdict was made on
    /// (a change in between makes the key stale, never the verdict).
    pub(crate) fn cache_fill(&self, k: &OpenKey) {
        if k.task != 0 {
            slot(k.task).write(&k.words);
        }
    }

    /// Forgets the cached verdict of the task at `task`. The caller holds
    /// the table lock.
    pub(crate) fn cache_clear(&self, task: u64) {
        let s = slot(task);
        if s.key[0].load(Ordering::Relaxed) == task {
            s.write(&[0; VKEY_WORDS]);
        }
    }

    /// Publishes the file-access mask (`ESCGUARD_PF_*`) of the active
    /// policy (set under the policy lock), which lets an open no file rule
    /// could match skip it.
    pub(crate) fn set_file_access(&self, mask: u32) {
        let mut m = 0;
        if mask & crate::abi::ESCGUARD_PF_READ != 0 {
            m |= FMODE_READ;
        }
        if mask & crate::abi::ESCGUARD_PF_WRITE != 0 {
            m |= FMODE_WRITE;
        }
        // An open racing the change is judged by either mask (the write
        // path judges whatever reaches it at least as strictly).
        SLOW_FMODE.store(m | FMODE_WRITE, Ordering::Relaxed);
        FILE_FMODE.store(m, Ordering::Relaxed);
    }

    /// The mask last published by `set_file_access`.
    pub(crate) fn file_access(&self) -> u32 {
        let m = FILE_FMODE.load(Ordering::Relaxed);
        let mut mask = 0;
        if m & FMODE_READ != 0 {
            mask |= crate::abi::ESCGUARD_PF_READ;
        }
        if m & FMODE_WRITE != 0 {
            mask |= crate::abi::ESCGUARD_PF_WRITE;
        }
        mask
    }
}

impl Drop for OpenFast {
    fn drop(&mut self) {
        // The owner (the module state) is dropped only after the hooks that
        // read the state are unregistered.
        OWNED.store(false, Ordering::Release);
    }
}

/// Whether tracked host task `pid` is known (hooks skip host tasks).
#[inline(always)]
pub(crate) fn known_host(pid: u32) -> bool {
    HOST.get(pid)
}

impl VSlot {
    fn write(&self, w: &[u64; VKEY_WORDS]) {
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        // The odd sequence before any key word changes.
        fence(Ordering::Release);
        for (k, v) in self.key.iter().zip(w) {
            k.store(*v, Ordering::Relaxed);
        }
        // Every key word before the even sequence.
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }
}

/// A task's slot of the verdict cache.
#[inline(always)]
fn slot(task: u64) -> &'static VSlot {
    // Hashed (`hash_64`): task_structs are large slab objects whose low
    // bits carry little information.
    let h = task.wrapping_mul(0x61c8_8646_80b5_83eb) >> (64 - VSLOT_BITS);
    &VSLOTS[h as usize & (VSLOTS_N - 1)]
}

/// What the verdict cache says about an open by a container task.
pub(crate) enum Cached {
    /// Clean: the task's state is as last judged, and no rule can match.
    Hit,
    /// Judge in full.
    Miss,
    /// Clean but for one question: whether the file's mount (not the
    /// task's root mount) is in the host's mount namespace. Asked out of
    /// line ([`mount_on_host`]): a call here would make every hit pay for
    /// saving registers across it.
    Mount,
}

/// Whether `t` (current, a user task) has a clean cached verdict on
/// exactly the objects it has now, and `file`'s open is one no rule
/// could match. The key is compared where it lives, word by word, with
/// no copy. Any concurrent change (the slot being written, a chdir by a
/// thread sharing the fs_struct) answers no.
///
/// After a clean key the open itself still needs a look when the object
/// may live on the host (its mount shows the whole host root filesystem,
/// or is in the host's mount namespace), an enabled file rule covers the
/// open's mode, or it writes to a filesystem a preset looks at. (Kernel
/// memory has hooks of its own on those files' open methods.)
#[inline(always)]
pub(crate) fn cached(t: TaskRef<'_>, file: FileRef<'_>) -> Cached {
    let task = t.id();
    let s = slot(task);
    let fs = t.fs_raw();
    let seq = s.seq.load(Ordering::Relaxed);
    // SAFETY: `t` is current, whose `fs` only current replaces: it stays
    // valid for this call. Its fields are read as a seqcount reader does
    // (validated by the sequence re-read below).
    let fseq = unsafe { ptr::read_volatile(addr_of!((*fs).seq.seqcount.sequence)) };
    // An odd `fseq` (a chdir in progress) needs no test of its own: a key
    // holds an even one (read by `read_seqbegin()`), so it cannot match.
    if seq & 1 != 0 {
        return Cached::Miss;
    }
    // Both sequences before the words they cover.
    fence(Ordering::Acquire);
    // Each key word is read once, in order, and compared at once (as
    // the seqcount reader it is: the sequences validate the words), so
    // that no word has to be kept while the others are read.
    let w = |i: usize| s.key[i].load(Ordering::Relaxed);
    // SAFETY (for the reads of `*fs`): as above; plain reads of
    // current's fs_struct, validated by `fs->seq`.
    let root_mnt = unsafe { (*fs).root.mnt };
    if w(0) != task
        || w(1) != fseq as u64
        || w(2) != t.nsproxy_raw() as u64
        || w(3) != t.user_ns_raw() as u64
        || w(4) != fs as u64
        || w(5) != unsafe { (*fs).root.dentry } as u64
        || w(6) != root_mnt as u64
        || w(7) != unsafe { (*fs).pwd.dentry } as u64
        || w(8) != unsafe { (*fs).pwd.mnt } as u64
    {
        return Cached::Miss;
    }
    // The words before the sequences are read again.
    fence(Ordering::Acquire);
    // SAFETY: as above.
    let fseq2 = unsafe { ptr::read_volatile(addr_of!((*fs).seq.seqcount.sequence)) };
    if s.seq.load(Ordering::Relaxed) != seq || fseq2 != fseq {
        return Cached::Miss;
    }
    // Nothing the escape verdict on the task depends on changed; now the
    // open itself. A read no file rule covers -- the common open -- costs
    // one mask test and one flag test here.
    let mnt = file.mnt();
    if file.open_mode() & SLOW_FMODE.load(Ordering::Relaxed) != 0 {
        return cached_write(file, root_mnt);
    }
    if file.truncates() {
        cold();
        return cached_write(file, root_mnt);
    }
    // On the task's own root mount (most opens) the object is below a
    // root the task verdict found not escaped: a path walk cannot climb
    // above a mount's root, and file handles clear the cache.
    if mnt == root_mnt {
        return Cached::Hit;
    }
    // A read of a FIFO or a terminal takes what a host program wrote for
    // another: judged in full where a read-only host mount may hold one,
    // as writes are.
    if super::vfs::mnt_root(mnt) as usize == HOST_ROOT_DENTRY.load(Ordering::Relaxed)
        || (RO_HOST_MOUNTS.load(Ordering::Relaxed) && file.is_channel())
    {
        return Cached::Miss;
    }
    Cached::Mount
}

/// Marks the branch that calls it unlikely: kept apart, not folded into
/// the common path's tests.
#[cold]
#[inline(never)]
fn cold() {}

/// [`cached`] after a clean key, for an open a file rule may cover or one
/// that writes (or truncates). `root_mnt` is the task's root mount as the
/// key was validated with.
#[inline(always)]
fn cached_write(file: FileRef<'_>, root_mnt: *mut kernel::bindings::vfsmount) -> Cached {
    let mnt = file.mnt();
    if file.mode() & FILE_FMODE.load(Ordering::Relaxed) != 0 || magic_may_be_sensitive(file.magic())
    {
        return Cached::Miss;
    }
    if mnt == root_mnt {
        return Cached::Hit;
    }
    if super::vfs::mnt_root(mnt) as usize == HOST_ROOT_DENTRY.load(Ordering::Relaxed)
        || RO_HOST_MOUNTS.load(Ordering::Relaxed)
    {
        return Cached::Miss;
    }
    Cached::Mount
}

/// The question [`Cached::Mount`] leaves: whether `file`'s mount is in the
/// host's mount namespace.
pub(crate) fn mount_on_host(file: FileRef<'_>) -> bool {
    mnt_in_host_ns(file.mnt())
}

/// The key of current (`t`), read without a lock. Task 0: none (current is
/// exiting).
pub(crate) fn current_open_key(t: TaskRef<'_>) -> OpenKey {
    let fs = t.fs_raw();
    if fs.is_null() || t.nsproxy_raw().is_null() {
        return OpenKey::default();
    }
    // Mounts are RCU-freed: the root mount's root is read under RCU (a
    // thread sharing `fs` may chroot and drop it meanwhile).
    let _rcu = super::task::Rcu::lock();
    loop {
        // SAFETY: `t` is current, whose `fs` only current replaces; a
        // thread sharing it may chdir meanwhile, which `fs->seq` orders.
        let seq = unsafe { raw::escguard_fs_seq_begin(fs) };
        // SAFETY: as above.
        let (root, pwd) = unsafe { ((*fs).root, (*fs).pwd) };
        // (`mnt_root` under RCU, as above.)
        let root_is_mount_root = super::vfs::mnt_root(root.mnt) == root.dentry;
        // SAFETY: as above.
        if unsafe { raw::escguard_fs_seq_retry(fs, seq) } != 0 {
            continue;
        }
        return OpenKey {
            task: t.id(),
            words: [
                t.id(),
                seq as u64,
                t.nsproxy_raw() as u64,
                t.user_ns_raw() as u64,
                fs as u64,
                root.dentry as u64,
                root.mnt as u64,
                pwd.dentry as u64,
                pwd.mnt as u64,
            ],
            root_is_mount_root,
        };
    }
}

/// Whether a write to a file on a filesystem of this magic may trip a
/// preset rule, so its path must be looked at (the presets' list).
#[inline(always)]
pub(crate) fn magic_may_be_sensitive(magic: u64) -> bool {
    crate::presets::write_may_be_sensitive(magic)
}
