//! `escguardctl tail --output FILE`: a crash-only, append-only JSON-lines log.
//!
//! Each line is one event with its `load_ns` (which module load emitted it)
//! and `seq`; together they name an event uniquely on a host. The writer
//! reads events in the module's acknowledge mode: an event stays queued in
//! the module until its line is written and `fdatasync`ed. After a crash the
//! next writer finds the last complete line, drops a torn one, and skips the
//! re-delivered events it already holds: nothing the module still held is
//! lost, nothing is written twice.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
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
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
}

impl LogFile {
    /// Opens (creating) `path`, cuts off a torn last line left by a crash,
    /// and returns where the log stops.
    pub fn open(path: &Path) -> io::Result<(LogFile, Option<Resume>)> {
        let mut file = open_append(path)?;
        let resume = repair_and_find_last(&mut file)?;
        Ok((
            LogFile {
                path: path.to_path_buf(),
                file,
            },
            resume,
        ))
    }

    /// Reopens the path: after logrotate moved the file away, new lines go
    /// to a new file of the same name.
    pub fn reopen(&mut self) -> io::Result<()> {
        self.file = open_append(&self.path)?;
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
        let (_, r) = LogFile::open(&p).unwrap();
        assert_eq!(r, None);
        assert!(p.exists());
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn finds_the_last_event_and_appends_durably() {
        let p = tmp("append");
        let (mut f, _) = LogFile::open(&p).unwrap();
        f.append("{\"seq\":1,\"load_ns\":5}\n{\"seq\":2,\"load_ns\":5}\n")
            .unwrap();
        drop(f);
        let (_, r) = LogFile::open(&p).unwrap();
        assert_eq!(r, Some(Resume { load_ns: 5, seq: 2 }));
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn a_torn_last_line_is_cut_off() {
        let p = tmp("torn");
        std::fs::write(&p, "{\"seq\":1,\"load_ns\":5}\n{\"seq\":2,\"lo").unwrap();
        let (mut f, r) = LogFile::open(&p).unwrap();
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
        let e = LogFile::open(&p).err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        std::fs::write(&p, "{\"other\":1}\n").unwrap();
        assert!(LogFile::open(&p).is_err());
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn reopen_follows_a_rotated_file() {
        let p = tmp("rotate");
        let rotated = tmp("rotate.1");
        let (mut f, _) = LogFile::open(&p).unwrap();
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
}
