// SPDX-License-Identifier: GPL-2.0

//! escguard: detects and blocks container escapes.
//!
//! This crate is the Rust part of `escguard.ko`; `module/helpers.c` is the C
//! glue for kernel objects the 6.12 `kernel` crate cannot name. User space
//! talks to it through `/dev/escguard`, whose ABI is `include/escguard_abi.h`.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::uaccess::UserSlice;

mod abi;
mod sys;

module! {
    type: Escguard,
    name: "escguard",
    author: "escguard developers",
    description: "Detects and blocks container escapes",
    license: "GPL",
}

/// Module version, from the repository's `VERSION` file (set by `Kbuild`).
const VERSION: &str = env!("ESCGUARD_VERSION");

/// Everything `/dev/escguard` reports; shared by all callbacks.
struct State {
    loaded_ns: u64,
    mode: AtomicU32,
    opens: AtomicU64,
    ioctls: AtomicU64,
}

impl State {
    fn version(&self) -> abi::escguard_version {
        let mut v = abi::escguard_version {
            abi_major: abi::ESCGUARD_ABI_MAJOR,
            abi_minor: abi::ESCGUARD_ABI_MINOR,
            ..Default::default()
        };
        // Leave at least one trailing NUL.
        let n = VERSION.len().min(v.module_version.len() - 1);
        v.module_version[..n].copy_from_slice(&VERSION.as_bytes()[..n]);
        v
    }

    fn status(&self) -> abi::escguard_status {
        abi::escguard_status {
            abi_major: abi::ESCGUARD_ABI_MAJOR,
            abi_minor: abi::ESCGUARD_ABI_MINOR,
            mode: self.mode.load(Ordering::Relaxed),
            loaded_ns: self.loaded_ns,
            opens: self.opens.load(Ordering::Relaxed),
            ioctls: self.ioctls.load(Ordering::Relaxed),
            ..Default::default()
        }
    }
}

/// Copies `value` to the user buffer at `arg`, which must be exactly the size
/// the ioctl number encodes.
fn copy_out<T: kernel::types::AsBytes>(arg: usize, value: &T) -> Result<isize> {
    UserSlice::new(arg, core::mem::size_of::<T>())
        .writer()
        .write(value)?;
    Ok(0)
}

impl sys::DeviceOps for State {
    fn open(&self) -> Result {
        self.opens.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn release(&self) {}

    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize> {
        self.ioctls.fetch_add(1, Ordering::Relaxed);
        match cmd {
            abi::ESCGUARD_IOCTL_VERSION => copy_out(arg, &self.version()),
            abi::ESCGUARD_IOCTL_STATUS => copy_out(arg, &self.status()),
            // Unknown numbers, including known ones with another size or
            // direction encoded, are not ours.
            _ => Err(ENOTTY),
        }
    }
}

sys::device_callbacks!(State);

struct Escguard {
    device: sys::MiscDevice<State>,
}

impl kernel::Module for Escguard {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let state = KBox::new(
            State {
                loaded_ns: sys::now_ns(),
                mode: AtomicU32::new(abi::ESCGUARD_MODE_ENFORCE),
                opens: AtomicU64::new(0),
                ioctls: AtomicU64::new(0),
            },
            GFP_KERNEL,
        )?;
        let device = sys::MiscDevice::register(state)?;
        pr_info!("escguard {} loaded (ABI {}.{})\n", VERSION, abi::ESCGUARD_ABI_MAJOR, abi::ESCGUARD_ABI_MINOR);
        Ok(Escguard { device })
    }
}

impl Drop for Escguard {
    fn drop(&mut self) {
        let s = self.device.ops();
        pr_info!(
            "escguard unloading ({} opens, {} ioctls)\n",
            s.opens.load(Ordering::Relaxed),
            s.ioctls.load(Ordering::Relaxed)
        );
    }
}
