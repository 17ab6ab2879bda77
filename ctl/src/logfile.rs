//! `escguardctl tail --output FILE`: a crash-only, append-only JSON-lines log.
//!
//! Each line is one event with its `load_ns` (which module load emitted it)
//! and `seq`; together they name an event uniquely on a host. The writer
//! reads events in the module's acknowledge mode: an event stays queued in
//! the module until its line is written and `fdatasync`ed. After a crash the
//! next writer finds the last complete line, drops a torn one, and skips the
//! re-delivered events it already holds: nothing the module still held is
//! lost, nothing is written twice.
//!
//! # What is guaranteed
//!
//! The writer's loop is: read a batch, [`LogFile::append`] it (one
//! `write`, then `fdatasync`), and only then acknowledge the batch's last
//! seq to the module (`ESCGUARD_IOC_ACK`).
//!
//! **Process crash** (killed, panicked, OOM) at any point: every event the
//! module was told is stored is in the file, since the acknowledgement
//! follows the `fdatasync`. Events after the last acknowledgement stay in
//! the module's ring (while a writer is attached an unacknowledged event is
//! never overwritten; a new event that finds the ring full of them is
//! dropped and counted in `events_dropped`) and are delivered again to the
//! next writer, which starts after the last acknowledged event. Those it
//! already holds (written, not yet acknowledged when the crash came) are
//! recognised by `load_ns` and `seq` of the file's last line
//! ([`skip_through`]) and skipped; a line cut short by the crash is cut off
//! on open. Not covered: events overwritten while *no* writer was attached
//! (`events_evicted`, visible as a gap in seq), and events the module
//! dropped because the ring was full.
//!
//! **Power loss or kernel crash**: what was `fdatasync`ed before an
//! acknowledgement survives, file size included, on a file system that
//! honours `fdatasync`. The file's directory entry survives too: the
//! directory is `fsync`ed after the file is created and after every
//! [`LogFile::reopen`] (which also makes a rotation's rename in that
//! directory durable). Events still in the module's ring, acknowledged or
//! not, are lost with the kernel's memory (none of them was acknowledged
//! without being in the file).
//!
//! # Permissions
//!
//! A file escguardctl creates is `0600`, or `0640` with group `gid` when
//! the module's `events_gid` is set ([`LogFile::open`]'s `gid`): the
//! events are as sensitive as the device. An existing file's mode and
//! owner are left as they are.
//!
//! # What the path may be
//!
//! The last component of the path is opened without following a symbolic
//! link (`O_NOFOLLOW`) and without blocking (`O_NONBLOCK`, cleared once
//! the file is known to be regular), and must be a regular file owned by
//! the writer's effective uid: whoever may write to the log directory
//! cannot redirect the host's event log into a file of theirs through a
//! symbolic link, nor hang the writer with a FIFO or a device
//! ([`check_log_file`]). The same holds for every [`LogFile::reopen`].

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The last event a log file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    pub load_ns: u64,
    pub seq: u64,
}

/// How much of the file's end is searched for the last line; a line is
/// about 2 KiB at most.
const TAIL_WINDOW: u64 = 64 * 1024;

/// An append-only log file that can be reopened (logrotate).
pub struct LogFile {
    path: PathBuf,
    file: File,
    gid: Option<u32>,
}

/// Mode of a log file escguardctl creates, without and with a group.
pub const MODE: u32 = 0o600;
pub const MODE_GROUP: u32 = 0o640;

/// The directory holding `path` ("." for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Makes `path`'s directory entry durable.
fn sync_dir(path: &Path) -> io::Result<()> {
    File::open(parent_dir(path))?.sync_all()
}

/// What a file that is not regular is, for errors.
fn file_kind(ft: std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// The writer's effective uid.
fn euid() -> u32 {
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    unsafe { nix::libc::geteuid() }
}

fn not_regular(path: &Path, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{} is {what}, not a regular file; the event log must be a regular file (refusing \
             to write to it)",
            path.display()
        ),
    )
}

/// Refuses an opened log file that is not a regular file owned by `uid`
/// (what the descriptor refers to, `fstat`: no race with the path), then
/// clears the `O_NONBLOCK` it was opened with.
fn check_log_file(path: &Path, f: &File, uid: u32) -> io::Result<()> {
    let meta = f.metadata()?;
    if !meta.file_type().is_file() {
        return Err(not_regular(path, file_kind(meta.file_type())));
    }
    if meta.uid() != uid {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} is owned by uid {}, not by the writer (uid {uid}); the event log must \
                 belong to the user that writes it (refusing to write to it)",
                path.display(),
                meta.uid()
            ),
        ));
    }
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let flags = OFlag::from_bits_truncate(fcntl(f, FcntlArg::F_GETFL)?);
    fcntl(f, FcntlArg::F_SETFL(flags - OFlag::O_NONBLOCK))?;
    Ok(())
}

/// Opens `path` for appending, creating it `0600` (or `0640` with group
/// `gid`) if it does not exist; whether it was created. A symbolic link
/// at `path` is not followed, and anything but a regular file owned by the
/// writer's euid is refused ([`check_log_file`]).
fn open_append(path: &Path, gid: Option<u32>) -> io::Result<(File, bool)> {
    open_append_as(path, gid, euid())
}

fn open_append_as(path: &Path, gid: Option<u32>, uid: u32) -> io::Result<(File, bool)> {
    let mut o = OpenOptions::new();
    o.append(true)
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK);
    // create_new: the mode and group are set only on a file made here.
    // (O_CREAT | O_EXCL never follows a symbolic link either.)
    match o.clone().create_new(true).mode(MODE).open(path) {
        Ok(f) => {
            check_log_file(path, &f, uid)?;
            if let Some(g) = gid {
                // Group first, then group read: never readable by the
                // creator's group by mistake.
                std::os::unix::fs::fchown(&f, None, Some(g))?;
                f.set_permissions(Permissions::from_mode(MODE_GROUP))?;
            } else {
                // The umask may only have taken bits away; say it exactly.
                f.set_permissions(Permissions::from_mode(MODE))?;
            }
            Ok((f, true))
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let f = o.open(path).map_err(|e| match e.raw_os_error() {
                Some(nix::libc::ELOOP) => io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{} is a symbolic link; the event log must be a regular file \
                         (escguardctl does not follow a link for it)",
                        path.display()
                    ),
                ),
                Some(nix::libc::EISDIR) => not_regular(path, "a directory"),
                _ => e,
            })?;
            check_log_file(path, &f, uid)?;
            Ok((f, false))
        }
        Err(e) => Err(e),
    }
}

impl LogFile {
    /// Opens `path`, creating it `0600`, or `0640` with group `gid` when
    /// the module's `events_gid` is set (`Some`), and `fsync`s its
    /// directory when it was created; cuts off a torn last line left by a
    /// crash, and returns where the log stops. An existing file keeps its
    /// mode and owner.
    pub fn open(path: &Path, gid: Option<u32>) -> io::Result<(LogFile, Option<Resume>)> {
        let (mut file, created) = open_append(path, gid)?;
        if created {
            sync_dir(path)?;
        }
        let resume = repair_and_find_last(&mut file)?;
        Ok((
            LogFile {
                path: path.to_path_buf(),
                file,
                gid,
            },
            resume,
        ))
    }

    /// Reopens the path: after logrotate moved the file away, new lines go
    /// to a new file of the same name, created as [`LogFile::open`] creates
    /// one. The directory is `fsync`ed afterwards (the new entry, and the
    /// rename that moved the old file, if it stayed in this directory).
    pub fn reopen(&mut self) -> io::Result<()> {
        let (file, _) = open_append(&self.path, self.gid)?;
        sync_dir(&self.path)?;
        self.file = file;
        Ok(())
    }

    /// Appends `lines` (each ending in '\n') in one write and makes them
    /// durable before returning.
    pub fn append(&mut self, lines: &str) -> io::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        self.file.write_all(lines.as_bytes())?;
        self.file.sync_data()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Truncates an unterminated last line (a write cut short) and parses the
/// last complete line's `load_ns` and `seq`. A last line that is not an
/// escguard event is an error: the file is not ours to append to blindly.
fn repair_and_find_last(file: &mut File) -> io::Result<Option<Resume>> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(None);
    }
    let start = len.saturating_sub(TAIL_WINDOW);
    file.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::new();
    file.read_to_end(&mut buf)?;
    let keep = match buf.iter().rposition(|&b| b == b'\n') {
        Some(i) => i + 1,
        None if start == 0 => 0,
        None => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "no line end in the last 64 KiB: not an escguard JSON-lines log",
            ))
        }
    };
    if keep < buf.len() {
        file.set_len(start + keep as u64)?;
        file.sync_data()?;
    }
    let complete = &buf[..keep];
    let Some(line) = complete
        .split(|&b| b == b'\n')
        .rev()
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
    else {
        return Ok(None);
    };
    let v: serde_json::Value = serde_json::from_slice(line).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("last line is not JSON ({e}): not an escguard log"),
        )
    })?;
    match (
        v.get("load_ns").and_then(|x| x.as_u64()),
        v.get("seq").and_then(|x| x.as_u64()),
    ) {
        (Some(load_ns), Some(seq)) => Ok(Some(Resume { load_ns, seq })),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "last line has no load_ns and seq: not an escguard event log",
        )),
    }
}

/// The highest sequence number of the current module load that `resume`
/// says is already in the log: events up to it are skipped.
pub fn skip_through(resume: Option<Resume>, load_ns: u64) -> u64 {
    match resume {
        Some(r) if r.load_ns == load_ns => r.seq,
        // Another module load numbers from 1 again: nothing to skip.
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("escguard-logfile-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&d);
        d
    }

    #[test]
    fn empty_and_new_files_resume_from_nothing() {
        let p = tmp("new");
        let (_, r) = LogFile::open(&p, None).unwrap();
        assert_eq!(r, None);
        assert!(p.exists());
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn finds_the_last_event_and_appends_durably() {
        let p = tmp("append");
        let (mut f, _) = LogFile::open(&p, None).unwrap();
        f.append("{\"seq\":1,\"load_ns\":5}\n{\"seq\":2,\"load_ns\":5}\n")
            .unwrap();
        drop(f);
        let (_, r) = LogFile::open(&p, None).unwrap();
        assert_eq!(r, Some(Resume { load_ns: 5, seq: 2 }));
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn a_torn_last_line_is_cut_off() {
        let p = tmp("torn");
        std::fs::write(&p, "{\"seq\":1,\"load_ns\":5}\n{\"seq\":2,\"lo").unwrap();
        let (mut f, r) = LogFile::open(&p, None).unwrap();
        assert_eq!(r, Some(Resume { load_ns: 5, seq: 1 }));
        f.append("{\"seq\":2,\"load_ns\":5}\n").unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text,
            "{\"seq\":1,\"load_ns\":5}\n{\"seq\":2,\"load_ns\":5}\n"
        );
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn a_file_that_is_not_an_event_log_is_refused() {
        let p = tmp("foreign");
        std::fs::write(&p, "hello world\n").unwrap();
        let e = LogFile::open(&p, None).err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        std::fs::write(&p, "{\"other\":1}\n").unwrap();
        assert!(LogFile::open(&p, None).is_err());
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn reopen_follows_a_rotated_file() {
        let p = tmp("rotate");
        let rotated = tmp("rotate.1");
        let (mut f, _) = LogFile::open(&p, None).unwrap();
        f.append("{\"seq\":1,\"load_ns\":5}\n").unwrap();
        std::fs::rename(&p, &rotated).unwrap();
        f.reopen().unwrap();
        f.append("{\"seq\":2,\"load_ns\":5}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&rotated).unwrap(),
            "{\"seq\":1,\"load_ns\":5}\n"
        );
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "{\"seq\":2,\"load_ns\":5}\n"
        );
        std::fs::remove_file(&p).unwrap();
        std::fs::remove_file(&rotated).unwrap();
    }

    #[test]
    fn skips_only_events_of_the_same_module_load() {
        let r = Some(Resume { load_ns: 5, seq: 9 });
        assert_eq!(skip_through(r, 5), 9);
        assert_eq!(skip_through(r, 6), 0);
        assert_eq!(skip_through(None, 5), 0);
    }

    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(p).unwrap().mode() & 0o7777
    }

    fn group(p: &Path) -> u32 {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(p).unwrap().gid()
    }

    fn my_gid() -> u32 {
        // SAFETY: getegid(2) cannot fail and touches no memory.
        unsafe { nix::libc::getegid() }
    }

    #[test]
    fn created_files_are_0600_without_a_group() {
        let p = tmp("mode600");
        let (_, r) = LogFile::open(&p, None).unwrap();
        assert_eq!(r, None);
        assert_eq!(mode(&p), 0o600);
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn created_files_are_0640_with_the_events_group() {
        let p = tmp("mode640");
        // The process's own group: a change every owner may make.
        let gid = my_gid();
        let (_, _) = LogFile::open(&p, Some(gid)).unwrap();
        assert_eq!(mode(&p), 0o640);
        assert_eq!(group(&p), gid);
        std::fs::remove_file(&p).unwrap();
        // As root (the writer's normal case), any group.
        // SAFETY: geteuid(2) cannot fail and touches no memory.
        if unsafe { nix::libc::geteuid() } == 0 {
            let (_, _) = LogFile::open(&p, Some(4242)).unwrap();
            assert_eq!((mode(&p), group(&p)), (0o640, 4242));
            std::fs::remove_file(&p).unwrap();
        }
    }

    #[test]
    fn an_existing_file_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let p = tmp("existing");
        std::fs::write(&p, "{\"seq\":1,\"load_ns\":5}\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (mut f, r) = LogFile::open(&p, Some(my_gid())).unwrap();
        assert_eq!(r, Some(Resume { load_ns: 5, seq: 1 }));
        f.append("{\"seq\":2,\"load_ns\":5}\n").unwrap();
        assert_eq!(mode(&p), 0o644);
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn reopen_creates_the_new_file_with_the_right_mode() {
        for (gid, want) in [(None, 0o600), (Some(my_gid()), 0o640)] {
            let p = tmp(&format!("reopen-mode-{want:o}"));
            let rotated = tmp(&format!("reopen-mode-{want:o}.1"));
            let (mut f, _) = LogFile::open(&p, gid).unwrap();
            f.append("{\"seq\":1,\"load_ns\":5}\n").unwrap();
            std::fs::rename(&p, &rotated).unwrap();
            f.reopen().unwrap();
            assert_eq!(mode(&p), want);
            if let Some(g) = gid {
                assert_eq!(group(&p), g);
            }
            f.append("{\"seq\":2,\"load_ns\":5}\n").unwrap();
            assert_eq!(
                std::fs::read_to_string(&p).unwrap(),
                "{\"seq\":2,\"load_ns\":5}\n"
            );
            // Reopening a file that is still there appends to it.
            f.reopen().unwrap();
            f.append("{\"seq\":3,\"load_ns\":5}\n").unwrap();
            assert_eq!(
                std::fs::read_to_string(&p).unwrap(),
                "{\"seq\":2,\"load_ns\":5}\n{\"seq\":3,\"load_ns\":5}\n"
            );
            std::fs::remove_file(&p).unwrap();
            std::fs::remove_file(&rotated).unwrap();
        }
    }

    #[test]
    fn a_bare_file_name_syncs_the_current_directory() {
        assert_eq!(parent_dir(Path::new("events.jsonl")), Path::new("."));
        assert_eq!(
            parent_dir(Path::new("/var/log/e.jsonl")),
            Path::new("/var/log")
        );
        sync_dir(Path::new("events.jsonl")).unwrap();
    }

    #[test]
    fn a_symlink_at_the_path_is_refused_and_nothing_is_written_through_it() {
        let p = tmp("symlink");
        let target = tmp("symlink-target");
        std::fs::write(&target, "{\"seq\":1,\"load_ns\":5}\n").unwrap();
        std::os::unix::fs::symlink(&target, &p).unwrap();
        let e = LogFile::open(&p, None).err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            e.to_string(),
            format!(
                "{} is a symbolic link; the event log must be a regular file (escguardctl does \
                 not follow a link for it)",
                p.display()
            )
        );
        // A dangling link: not created through either.
        std::fs::remove_file(&target).unwrap();
        assert!(LogFile::open(&p, None).is_err());
        assert!(!target.exists());
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn reopen_refuses_a_symlink_planted_after_rotation() {
        let p = tmp("reopen-symlink");
        let rotated = tmp("reopen-symlink.1");
        let target = tmp("reopen-symlink-target");
        std::fs::write(&target, "").unwrap();
        let (mut f, _) = LogFile::open(&p, None).unwrap();
        f.append("{\"seq\":1,\"load_ns\":5}\n").unwrap();
        std::fs::rename(&p, &rotated).unwrap();
        std::os::unix::fs::symlink(&target, &p).unwrap();
        let e = f.reopen().err().unwrap();
        assert!(e.to_string().contains("is a symbolic link"), "{e}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "");
        for q in [&p, &rotated, &target] {
            std::fs::remove_file(q).unwrap();
        }
    }

    #[test]
    fn a_fifo_is_refused_without_hanging() {
        let p = tmp("fifo");
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        // No reader and no writer on the FIFO: a blocking open would hang.
        let e = LogFile::open(&p, None).err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            e.to_string(),
            format!(
                "{} is a FIFO (named pipe), not a regular file; the event log must be a \
                 regular file (refusing to write to it)",
                p.display()
            )
        );
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn a_directory_is_refused() {
        let p = tmp("dir");
        let _ = std::fs::remove_dir(&p);
        std::fs::create_dir(&p).unwrap();
        let e = LogFile::open(&p, None).err().unwrap();
        assert!(e.to_string().contains("is a directory"), "{e}");
        std::fs::remove_dir(&p).unwrap();
    }

    #[test]
    fn a_file_of_another_owner_is_refused() {
        let p = tmp("owner");
        std::fs::write(&p, "{\"seq\":1,\"load_ns\":5}\n").unwrap();
        let other = euid().wrapping_add(1);
        let e = open_append_as(&p, None, other).err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(
            e.to_string(),
            format!(
                "{} is owned by uid {}, not by the writer (uid {other}); the event log must \
                 belong to the user that writes it (refusing to write to it)",
                p.display(),
                euid()
            )
        );
        // The writer's own file is used, and written without O_NONBLOCK.
        let (f, created) = open_append_as(&p, None, euid()).unwrap();
        assert!(!created);
        let flags = nix::fcntl::fcntl(&f, nix::fcntl::FcntlArg::F_GETFL).unwrap();
        assert_eq!(flags & nix::libc::O_NONBLOCK, 0);
        assert_ne!(flags & nix::libc::O_APPEND, 0);
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let p = tmp("nodir").join("events.jsonl");
        assert_eq!(
            LogFile::open(&p, None).err().unwrap().kind(),
            io::ErrorKind::NotFound
        );
    }
}
