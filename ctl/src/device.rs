//! Access to `/dev/escguard`: opening with precise errors, and the ioctls.

use crate::abi;
use crate::error::{Error, Readers};
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

pub const DEFAULT_DEVICE: &str = "/dev/escguard";

// ioctl numbers come from the header (through bindgen); nix only supplies the
// syscall wrapper, so the encoding is never retyped here.
nix::ioctl_read_bad!(
    ioc_version,
    abi::ESCGUARD_IOCTL_VERSION,
    abi::escguard_version
);
nix::ioctl_read_bad!(ioc_status, abi::ESCGUARD_IOCTL_STATUS, abi::escguard_status);
nix::ioctl_write_ptr_bad!(ioc_set_mode, abi::ESCGUARD_IOCTL_SET_MODE, u32);
nix::ioctl_write_ptr_bad!(ioc_reader, abi::ESCGUARD_IOCTL_READER, u32);
nix::ioctl_write_ptr_bad!(ioc_ack, abi::ESCGUARD_IOCTL_ACK, u64);
nix::ioctl_write_ptr_bad!(ioc_lock, abi::ESCGUARD_IOCTL_LOCK, u32);
nix::ioctl_readwrite_bad!(
    ioc_tasks,
    abi::ESCGUARD_IOCTL_TASKS,
    abi::escguard_task_list
);
nix::ioctl_readwrite_bad!(
    ioc_rules,
    abi::ESCGUARD_IOCTL_RULES,
    abi::escguard_rule_list
);
nix::ioctl_write_ptr_bad!(
    ioc_set_rule,
    abi::ESCGUARD_IOCTL_SET_RULE,
    abi::escguard_rule_switch
);
nix::ioctl_write_ptr_bad!(
    ioc_set_policy,
    abi::ESCGUARD_IOCTL_SET_POLICY,
    abi::escguard_policy
);
nix::ioctl_readwrite_bad!(
    ioc_get_policy,
    abi::ESCGUARD_IOCTL_GET_POLICY,
    abi::escguard_policy
);

/// Where to look for the device and for the module's sysfs directory; the
/// latter only decides between "not loaded" and "device node missing".
#[derive(Debug, Clone)]
pub struct Paths {
    pub device: PathBuf,
    pub sys_module: PathBuf,
}

impl Paths {
    pub fn new(device: &Path) -> Self {
        Paths {
            device: device.to_path_buf(),
            sys_module: PathBuf::from("/sys/module/escguard"),
        }
    }
}

/// The module's events_gid parameter, named from /etc/group if possible.
pub fn readers(paths: &Paths) -> Readers {
    let param = paths.sys_module.join("parameters/events_gid");
    let Ok(text) = std::fs::read_to_string(param) else {
        return Readers::Unknown;
    };
    match text.trim().parse::<i64>() {
        Ok(gid) if (0..abi::ESCGUARD_NO_GID as i64).contains(&gid) => {
            let groups = std::fs::read_to_string("/etc/group").unwrap_or_default();
            Readers::Group(describe_gid(&groups, gid as u32))
        }
        Ok(_) => Readers::NoGroup,
        Err(_) => Readers::Unknown,
    }
}

/// "group NAME (gid N)" from an /etc/group text, or "gid N".
fn describe_gid(etc_group: &str, gid: u32) -> String {
    etc_group
        .lines()
        .find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let g: u32 = f.nth(1)?.parse().ok()?;
            (g == gid && !name.is_empty()).then(|| format!("group {name} (gid {gid})"))
        })
        .unwrap_or_else(|| format!("gid {gid}"))
}

/// Classifies a failed `open()` of the device.
pub fn classify_open_error(paths: &Paths, err: io::Error) -> Error {
    let device = paths.device.display().to_string();
    match err.kind() {
        io::ErrorKind::NotFound if paths.sys_module.exists() => Error::NoDevice { device },
        io::ErrorKind::NotFound => Error::NotLoaded { device },
        io::ErrorKind::PermissionDenied => Error::Permission {
            device,
            what: "cannot open".into(),
            readers: readers(paths),
        },
        _ => match err.raw_os_error() {
            // A stale node whose driver is gone answers ENXIO/ENODEV.
            Some(nix::libc::ENXIO) | Some(nix::libc::ENODEV) => Error::NotLoaded { device },
            _ => Error::Io {
                what: format!("cannot open {device}"),
                err,
            },
        },
    }
}

/// An open, version-checked `/dev/escguard`.
pub struct Device {
    file: File,
    pub version: abi::escguard_version,
}

impl Device {
    /// Opens the device and checks that the module's ABI major matches ours.
    pub fn open(paths: &Paths) -> Result<Device, Error> {
        Self::open_with(paths, false)
    }

    /// Opens the device, non-blocking if `nonblock` (for draining events).
    pub fn open_with(paths: &Paths, nonblock: bool) -> Result<Device, Error> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = File::options()
            .read(true)
            .custom_flags(if nonblock { nix::libc::O_NONBLOCK } else { 0 })
            .open(&paths.device)
            .map_err(|e| classify_open_error(paths, e))?;
        let mut version = abi::escguard_version::default();
        // SAFETY: `version` is a valid, writable escguard_version, which is
        // exactly the size ESCGUARD_IOCTL_VERSION encodes.
        let r = unsafe { ioc_version(file.as_raw_fd(), &mut version) };
        match r {
            Ok(_) => {}
            Err(nix::errno::Errno::ENOTTY) | Err(nix::errno::Errno::EINVAL) => {
                return Err(Error::AbiMismatch {
                    detail: format!(
                        "{} does not answer ESCGUARD_IOC_VERSION; is it an escguard device?",
                        paths.device.display()
                    ),
                })
            }
            Err(e) => return Err(ioctl_error(paths, "version", e)),
        }
        check_abi(&version)?;
        Ok(Device { file, version })
    }

    pub fn status(&self, paths: &Paths) -> Result<abi::escguard_status, Error> {
        let mut status = abi::escguard_status::default();
        // SAFETY: `status` is a valid, writable escguard_status, the size
        // ESCGUARD_IOCTL_STATUS encodes.
        unsafe { ioc_status(self.file.as_raw_fd(), &mut status) }
            .map_err(|e| ioctl_error(paths, "status", e))?;
        Ok(status)
    }
}

impl Device {
    pub fn set_mode(&self, paths: &Paths, mode: u32) -> Result<(), Error> {
        // SAFETY: `mode` is a valid u32, the size ESCGUARD_IOCTL_SET_MODE encodes.
        unsafe { ioc_set_mode(self.file.as_raw_fd(), &mode) }
            .map_err(|e| ioctl_error(paths, "mode", e))?;
        Ok(())
    }

    /// Locks (rmmod refused) or unlocks the module; host admin only.
    pub fn set_locked(&self, paths: &Paths, locked: bool) -> Result<(), Error> {
        let v = locked as u32;
        // SAFETY: `v` is a valid u32, the size ESCGUARD_IOCTL_LOCK encodes.
        unsafe { ioc_lock(self.file.as_raw_fd(), &v) }
            .map_err(|e| ioctl_error(paths, if locked { "lock" } else { "unlock" }, e))?;
        Ok(())
    }

    /// Makes reads on this descriptor leave events queued until `ack`.
    /// Makes this descriptor the module's one durable writer (until it is
    /// closed). Refused while another writer is attached.
    pub fn set_ack_mode(&self, paths: &Paths) -> Result<(), Error> {
        let v = abi::ESCGUARD_READ_ACK;
        // SAFETY: `v` is a valid u32, the size ESCGUARD_IOCTL_READER encodes.
        unsafe { ioc_reader(self.file.as_raw_fd(), &v) }.map_err(|e| match e {
            nix::errno::Errno::EBUSY => Error::Other(format!(
                "another durable writer is attached to {} (an 'escguardctl tail --output' \
                 runs elsewhere); only one may run at a time",
                paths.device.display()
            )),
            e => ioctl_error(paths, "durable writer", e),
        })?;
        Ok(())
    }

    /// Tells the module that events up to and including `seq` are stored
    /// durably: it may overwrite them when it needs room.
    pub fn ack(&self, paths: &Paths, seq: u64) -> Result<(), Error> {
        // SAFETY: `seq` is a valid u64, the size ESCGUARD_IOCTL_ACK encodes.
        unsafe { ioc_ack(self.file.as_raw_fd(), &seq) }
            .map_err(|e| ioctl_error(paths, "acknowledge", e))?;
        Ok(())
    }

    /// Reads whole event records: `Ok(empty)` if none are queued in
    /// non-blocking mode, `Err(Interrupted)` if a signal arrived while
    /// blocked.
    pub fn read_events(&self, max: usize) -> io::Result<Vec<abi::escguard_event>> {
        use std::io::Read;
        let rec = std::mem::size_of::<abi::escguard_event>();
        let mut buf = vec![0u8; rec * max.max(1)];
        let n = match (&self.file).read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            Err(e) => return Err(e),
        };
        if n % rec != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("read returned {n} bytes, not a multiple of the {rec}-byte event record"),
            ));
        }
        Ok(buf[..n]
            .chunks_exact(rec)
            // SAFETY: each chunk holds exactly one record as the kernel wrote
            // it; every bit pattern is a valid escguard_event (integers and
            // byte arrays), and read_unaligned copes with the Vec<u8> alignment.
            .map(|c| unsafe { std::ptr::read_unaligned(c.as_ptr() as *const abi::escguard_event) })
            .collect())
    }

    /// The whole task table, paged through ESCGUARD_IOC_TASKS. Entries come
    /// in pid order; the table may change between pages (tasks come and go).
    pub fn tasks(&self, paths: &Paths) -> Result<Vec<abi::escguard_task>, Error> {
        const PAGE: usize = 1024;
        let mut all = Vec::new();
        let mut start = 0u32;
        loop {
            let mut page = vec![abi::escguard_task::default(); PAGE];
            let mut req = abi::escguard_task_list {
                tasks: page.as_mut_ptr() as u64,
                capacity: PAGE as u32,
                start_pid: start,
                ..Default::default()
            };
            // SAFETY: `req` is a valid escguard_task_list whose `tasks`
            // points to PAGE writable records, as `capacity` says.
            unsafe { ioc_tasks(self.file.as_raw_fd(), &mut req) }
                .map_err(|e| ioctl_error(paths, "task list", e))?;
            let n = (req.count as usize).min(PAGE);
            page.truncate(n);
            let last = page.last().map(|t| t.pid);
            all.extend(page);
            match last {
                Some(pid) if n == PAGE && pid < u32::MAX => start = pid + 1,
                _ => return Ok(all),
            }
        }
    }

    /// Every rule: the presets first, then the policy's.
    pub fn rules(&self, paths: &Paths) -> Result<Vec<abi::escguard_rule_info>, Error> {
        let cap = abi::ESCGUARD_RULES_MAX as usize;
        let mut list = vec![abi::escguard_rule_info::default(); cap];
        let mut req = abi::escguard_rule_list {
            rules: list.as_mut_ptr() as u64,
            capacity: cap as u32,
            ..Default::default()
        };
        // SAFETY: `req` is a valid escguard_rule_list whose `rules` points
        // to `capacity` writable records.
        unsafe { ioc_rules(self.file.as_raw_fd(), &mut req) }
            .map_err(|e| ioctl_error(paths, "rule list", e))?;
        list.truncate((req.count as usize).min(cap));
        Ok(list)
    }

    /// Enables or disables one rule by name; host admin only.
    pub fn set_rule(&self, paths: &Paths, name: &str, enable: bool) -> Result<(), Error> {
        if !crate::rules::name_fits(name) {
            // Cannot be sent, so cannot name a rule.
            return Err(Error::NoSuchRule { name: name.into() });
        }
        let mut req = abi::escguard_rule_switch {
            enable: enable as u32,
            ..Default::default()
        };
        for (d, b) in req.name.iter_mut().zip(name.bytes()) {
            *d = b as _;
        }
        // SAFETY: `req` is a valid escguard_rule_switch, the size
        // ESCGUARD_IOCTL_SET_RULE encodes.
        match unsafe { ioc_set_rule(self.file.as_raw_fd(), &req) } {
            Ok(_) => Ok(()),
            Err(nix::errno::Errno::ENOENT) => Err(Error::NoSuchRule { name: name.into() }),
            Err(e) => Err(ioctl_error(
                paths,
                if enable {
                    "rule enable"
                } else {
                    "rule disable"
                },
                e,
            )),
        }
    }

    /// Replaces the module's policy; host admin only. `what` names the
    /// policy's origin in errors.
    pub fn set_policy(
        &self,
        paths: &Paths,
        p: &crate::policy::AbiPolicy,
        what: &str,
    ) -> Result<(), Error> {
        let mut h = p.header;
        h.rule_count = p.rules.len() as u32;
        h.rules = p.rules.as_ptr() as u64;
        // SAFETY: `h` is a valid escguard_policy whose `rules` points to
        // `rule_count` readable records that outlive the call.
        match unsafe { ioc_set_policy(self.file.as_raw_fd(), &h) } {
            Ok(_) => Ok(()),
            Err(nix::errno::Errno::EINVAL) => Err(Error::Data(format!(
                "the escguard module rejected the policy from {what} (EINVAL) although escguardctl \
                 found it valid; the active policy is unchanged (the kernel log may say why; is \
                 escguardctl as new as the module?)"
            ))),
            Err(e) => Err(ioctl_error(paths, "policy load", e)),
        }
    }

    /// The active policy (the module's defaults if none was loaded).
    pub fn policy(
        &self,
        paths: &Paths,
    ) -> Result<(abi::escguard_policy, Vec<abi::escguard_policy_rule>), Error> {
        let mut cap = abi::ESCGUARD_POLICY_RULES_MAX as usize;
        loop {
            let mut rules = vec![abi::escguard_policy_rule::default(); cap];
            let mut h = abi::escguard_policy {
                version: abi::ESCGUARD_POLICY_VERSION,
                rule_count: cap as u32,
                rules: rules.as_mut_ptr() as u64,
                ..Default::default()
            };
            // SAFETY: `h` is a valid escguard_policy whose `rules` points to
            // `rule_count` writable records.
            unsafe { ioc_get_policy(self.file.as_raw_fd(), &mut h) }
                .map_err(|e| ioctl_error(paths, "policy", e))?;
            let held = h.rule_count as usize;
            if held > cap {
                // The module holds more than we made room for: ask again.
                cap = held;
                continue;
            }
            rules.truncate(held);
            h.rules = 0;
            return Ok((h, rules));
        }
    }

    pub fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.file.as_raw_fd()
    }
}

fn ioctl_error(paths: &Paths, what: &str, e: nix::errno::Errno) -> Error {
    let device = paths.device.display().to_string();
    match e {
        nix::errno::Errno::EPERM | nix::errno::Errno::EACCES => Error::Permission {
            device,
            what: format!("{what} request refused by"),
            readers: readers(paths),
        },
        _ => Error::Io {
            what: format!("{what} request to {device}"),
            err: io::Error::from(e),
        },
    }
}

/// Accepts a module whose ABI major equals ours; minor additions are
/// backwards compatible by the header's rules.
pub fn check_abi(v: &abi::escguard_version) -> Result<(), Error> {
    if v.abi_major != abi::ESCGUARD_ABI_MAJOR {
        return Err(Error::AbiMismatch {
            detail: format!(
                "module {} speaks ABI {}.{}, this escguardctl {} speaks ABI {}.{}; use the escguardctl built with the module",
                abi::cstr_field(&v.module_version),
                v.abi_major,
                v.abi_minor,
                env!("CARGO_PKG_VERSION"),
                abi::ESCGUARD_ABI_MAJOR,
                abi::ESCGUARD_ABI_MINOR
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit;

    fn paths(device: &str, sys: &Path) -> Paths {
        Paths {
            device: device.into(),
            sys_module: sys.to_path_buf(),
        }
    }

    #[test]
    fn ioctl_numbers_match_the_linux_encoding() {
        // _IOR(type, nr, size) = (2 << 30) | (size << 16) | (type << 8) | nr
        let ior = |nr: u32, size: usize| (2u32 << 30) | ((size as u32) << 16) | (0xE5 << 8) | nr;
        assert_eq!(
            abi::ESCGUARD_IOCTL_VERSION,
            ior(0, std::mem::size_of::<abi::escguard_version>())
        );
        assert_eq!(
            abi::ESCGUARD_IOCTL_STATUS,
            ior(1, std::mem::size_of::<abi::escguard_status>())
        );
        // _IOW = 1 << 30, _IOWR = 3 << 30.
        let ioc =
            |dir: u32, nr: u32, size: usize| (dir << 30) | ((size as u32) << 16) | (0xE5 << 8) | nr;
        assert_eq!(
            abi::ESCGUARD_IOCTL_RULES,
            ioc(3, 7, std::mem::size_of::<abi::escguard_rule_list>())
        );
        assert_eq!(
            abi::ESCGUARD_IOCTL_SET_RULE,
            ioc(1, 8, std::mem::size_of::<abi::escguard_rule_switch>())
        );
        assert_eq!(
            abi::ESCGUARD_IOCTL_SET_POLICY,
            ioc(1, 9, std::mem::size_of::<abi::escguard_policy>())
        );
        assert_eq!(
            abi::ESCGUARD_IOCTL_GET_POLICY,
            ioc(3, 10, std::mem::size_of::<abi::escguard_policy>())
        );
    }

    #[test]
    fn missing_device_without_module_is_not_loaded() {
        let p = paths(
            "/nonexistent/escguard",
            Path::new("/nonexistent/sys/module/escguard"),
        );
        let e = Device::open(&p).err().unwrap();
        assert_eq!(e.exit_code(), exit::NOT_LOADED, "{e}");
        assert!(e.to_string().contains("not loaded"));
    }

    #[test]
    fn missing_device_with_module_is_no_device() {
        let sys = std::env::temp_dir();
        let p = paths("/nonexistent/escguard", &sys);
        let e = Device::open(&p).err().unwrap();
        assert_eq!(e.exit_code(), exit::NO_DEVICE, "{e}");
    }

    #[test]
    fn permission_and_stale_node_errors() {
        let p = paths("/dev/escguard", Path::new("/nonexistent"));
        let e = classify_open_error(&p, io::Error::from_raw_os_error(nix::libc::EACCES));
        assert_eq!(e.exit_code(), exit::PERMISSION);
        let e = classify_open_error(&p, io::Error::from_raw_os_error(nix::libc::ENXIO));
        assert_eq!(e.exit_code(), exit::NOT_LOADED);
        let e = classify_open_error(&p, io::Error::from_raw_os_error(nix::libc::EIO));
        assert_eq!(e.exit_code(), exit::FAILURE);
    }

    #[test]
    fn readers_come_from_the_events_gid_parameter() {
        let dir = std::env::temp_dir().join(format!("escguard-readers-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("parameters")).unwrap();
        let p = paths("/dev/escguard", &dir);
        std::fs::write(dir.join("parameters/events_gid"), "-1\n").unwrap();
        assert_eq!(readers(&p), Readers::NoGroup);
        std::fs::write(dir.join("parameters/events_gid"), "4242424\n").unwrap();
        assert_eq!(readers(&p), Readers::Group("gid 4242424".into()));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(readers(&p), Readers::Unknown);
        assert_eq!(
            describe_gid("root:x:0:\nescguard:x:998:alice\n", 998),
            "group escguard (gid 998)"
        );
        assert_eq!(describe_gid("root:x:0:\n", 7), "gid 7");
    }

    #[test]
    fn a_device_that_is_not_escguard_is_an_abi_mismatch() {
        let p = paths("/dev/null", Path::new("/nonexistent"));
        let e = Device::open(&p).err().unwrap();
        assert_eq!(e.exit_code(), exit::ABI_MISMATCH, "{e}");
    }

    #[test]
    fn abi_major_must_match_minor_may_differ() {
        let mut v = abi::escguard_version {
            abi_major: abi::ESCGUARD_ABI_MAJOR,
            abi_minor: abi::ESCGUARD_ABI_MINOR + 5,
            ..Default::default()
        };
        assert!(check_abi(&v).is_ok());
        v.abi_major += 1;
        let e = check_abi(&v).unwrap_err();
        assert_eq!(e.exit_code(), exit::ABI_MISMATCH);
        assert!(e.to_string().contains("speaks ABI"), "{e}");
    }
}
