// SPDX-License-Identifier: GPL-2.0

//! The counters `ESCGUARD_IOC_STATUS` reports: plain atomics for the rare
//! events, per-CPU counters (kept by the C glue) for the hooks' hot paths.

use crate::sys;
use core::sync::atomic::{AtomicU64, Ordering};

/// A counter that only goes up.
#[derive(Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    pub(crate) fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What escguard counts; each is reported by `ESCGUARD_IOC_STATUS`.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) opens: Counter,
    pub(crate) ioctls: Counter,
    pub(crate) hook_fork: sys::PcpuCounter<{ sys::PC_HOOK_FORK }>,
    pub(crate) hook_exec: sys::PcpuCounter<{ sys::PC_HOOK_EXEC }>,
    pub(crate) hook_exit: sys::PcpuCounter<{ sys::PC_HOOK_EXIT }>,
    pub(crate) verdicts: Counter,
    pub(crate) kills: Counter,
    pub(crate) events_emitted: Counter,
    pub(crate) events_dropped: Counter,
    pub(crate) alloc_failures: Counter,
    pub(crate) untracked: Counter,
    pub(crate) tid_swaps_lost: Counter,
    pub(crate) hook_unload: Counter,
    pub(crate) table_full: Counter,
    pub(crate) parent_judged: Counter,
    pub(crate) tamper: Counter,
    pub(crate) denied: Counter,
    pub(crate) hook_open: sys::PcpuCounter<{ sys::PC_HOOK_OPEN }>,
    pub(crate) hook_syscall: sys::PcpuCounter<{ sys::PC_HOOK_SYSCALL }>,
    pub(crate) rule_hits: Counter,
    pub(crate) denials: Counter,
    pub(crate) umh_checked: Counter,
    /// Container opens examined on the locked path (status `open_checked`
    /// is these plus `open_cached`: one counter update per cached open).
    pub(crate) open_locked: sys::PcpuCounter<{ sys::PC_OPEN_LOCKED }>,
    pub(crate) open_judged: sys::PcpuCounter<{ sys::PC_OPEN_JUDGED }>,
    pub(crate) open_cached: sys::PcpuCounter<{ sys::PC_OPEN_CACHED }>,
}
