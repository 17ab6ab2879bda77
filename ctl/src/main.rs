use clap::{Parser, Subcommand};
use escguardctl::abi;
use escguardctl::device::{Device, Paths, DEFAULT_DEVICE};
use escguardctl::error::{exit, Error};
use escguardctl::events::{Event, Task};
use escguardctl::status::Status;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

const AFTER_HELP: &str = "\
escguard is a kernel module that detects and blocks container escapes.
escguardctl talks to it through its device (default /dev/escguard). Only a
host process with CAP_SYS_ADMIN may use it fully; members of the group given
by the module's events_gid parameter may read status and events. Container
processes are always refused, and reported.

Exit status:
  0  success
  1  other failure (I/O error, unexpected answer from the module)
  2  bad command line
  3  the escguard module is not loaded
  4  the module is loaded but the device node is missing
  5  permission denied
  6  the module speaks an incompatible ABI version

Errors go to standard error; --json output goes to standard output only.";

#[derive(Parser, Debug)]
#[command(name = "escguardctl", version, about = "Configure the escguard kernel module and read its events", after_help = AFTER_HELP)]
struct Cli {
    /// Path of the escguard device
    #[arg(long, global = true, value_name = "PATH", env = "ESCGUARD_DEVICE", default_value = DEFAULT_DEVICE)]
    device: PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show the module's version, ABI, mode and counters
    Status {
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// List the module's task table: every tracked task, its lineage and origin
    Tasks {
        /// One JSON object per line
        #[arg(long)]
        json: bool,
        /// Only tasks of container lineage
        #[arg(long)]
        container: bool,
    },
    /// Set the mode: enforce (kill escaping tasks) or monitor (report only)
    Mode {
        #[arg(value_enum)]
        mode: ModeArg,
    },
    /// Allow `rmmod escguard` (the module loads locked; host admin only)
    Unlock,
    /// Refuse `rmmod escguard` again
    Lock,
    /// Print escape events: queued ones, then (with -f) new ones as they come
    #[command(
        after_help = "Each event is one line: time, action, reason, hook, pid/ppid/uid/comm, \
exe, the namespaces that became the host's (container value -> host value), root and cwd \
(path within their filesystem, device, inode) and the container's origin. With --json, one JSON \
object per line with the same facts. Events are consumed by the reader: run one reader at a time. \
A gap in the sequence numbers (events dropped because the module's ring was full) is reported on \
stderr. Ctrl-C stops cleanly.

With --output FILE, events are appended to FILE as JSON lines, each made durable (fdatasync) \
before the module is told to drop it: if escguardctl is killed, the next run resumes after the \
last line in FILE, losing and duplicating nothing the module still held. SIGHUP reopens FILE \
(for logrotate)."
    )]
    Tail {
        /// One JSON object per line
        #[arg(long)]
        json: bool,
        /// Keep waiting for new events
        #[arg(short = 'f', long)]
        follow: bool,
        /// Stop after N events
        #[arg(short = 'n', long, value_name = "N")]
        count: Option<u64>,
        /// Append events durably to FILE as JSON lines instead of printing them
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ModeArg {
    Enforce,
    Monitor,
}

fn run(cli: Cli) -> Result<(), Error> {
    let paths = Paths::new(&cli.device);
    match cli.command {
        Command::Status { json } => {
            let dev = Device::open(&paths)?;
            let st = Status::from_abi(&dev.version, &dev.status(&paths)?);
            let text = if json {
                let mut s = to_json(&st)?;
                s.push('\n');
                s
            } else {
                st.to_text()
            };
            write_stdout(&text)
        }
        Command::Mode { mode } => {
            let dev = Device::open(&paths)?;
            let m = match mode {
                ModeArg::Enforce => abi::ESCGUARD_MODE_ENFORCE,
                ModeArg::Monitor => abi::ESCGUARD_MODE_MONITOR,
            };
            dev.set_mode(&paths, m)
        }
        Command::Unlock => Device::open(&paths)?.set_locked(&paths, false),
        Command::Lock => Device::open(&paths)?.set_locked(&paths, true),
        Command::Tasks { json, container } => {
            let dev = Device::open(&paths)?;
            let mut out = String::new();
            if !json {
                out.push_str(Task::TEXT_HEADER);
                out.push('\n');
            }
            for raw in dev.tasks(&paths)? {
                let t = Task::from_abi(&raw);
                if container && t.lineage != "container" {
                    continue;
                }
                if json {
                    out.push_str(&to_json(&t)?);
                } else {
                    out.push_str(&t.to_text());
                }
                out.push('\n');
            }
            write_stdout(&out)
        }
        Command::Tail {
            json,
            follow,
            count,
            output: Some(file),
        } => {
            if json {
                eprintln!(
                    "escguardctl: note: --output always writes JSON lines; --json is implied"
                );
            }
            tail_to_file(&paths, &file, follow, count)
        }
        Command::Tail {
            json,
            follow,
            count,
            output: None,
        } => tail(&paths, json, follow, count),
    }
}

static STOP: AtomicBool = AtomicBool::new(false);
static REOPEN: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: nix::libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

extern "C" fn on_hup_signal(_: nix::libc::c_int) {
    REOPEN.store(true, Ordering::SeqCst);
}

/// SIGINT/SIGTERM interrupt a blocked read (no SA_RESTART) so that tail can
/// flush and exit 0 instead of dying mid-line.
fn install_stop_handlers() -> Result<(), Error> {
    use nix::sys::signal::Signal;
    install_handler(on_stop_signal, &[Signal::SIGINT, Signal::SIGTERM])
}

/// Installs `handler` for `signals` without SA_RESTART, so that a blocked
/// read or poll returns EINTR and the loop sees the flag the handler set.
fn install_handler(
    handler: extern "C" fn(nix::libc::c_int),
    signals: &[nix::sys::signal::Signal],
) -> Result<(), Error> {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet};
    let act = SigAction::new(
        SigHandler::Handler(handler),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for &sig in signals {
        // SAFETY: our handlers only store to an atomic, which is
        // async-signal-safe.
        unsafe { sigaction(sig, &act) }
            .map_err(|e| Error::Other(format!("cannot install signal handler: {e}")))?;
    }
    Ok(())
}

/// One value as a JSON string.
fn to_json<T: serde::Serialize>(v: &T) -> Result<String, Error> {
    serde_json::to_string(v).map_err(|e| Error::Other(format!("cannot encode JSON: {e}")))
}

/// SIGHUP asks `tail --output` to reopen its file (logrotate's convention).
fn install_hup_handler() -> Result<(), Error> {
    install_handler(on_hup_signal, &[nix::sys::signal::Signal::SIGHUP])
}

/// Waits up to half a second for events on `dev`; signals end the wait.
fn wait_readable(paths: &Paths, dev: &Device) -> Result<(), Error> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::BorrowedFd;
    // SAFETY: the descriptor belongs to `dev`, open for this scope.
    let fd = unsafe { BorrowedFd::borrow_raw(dev.as_raw_fd()) };
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    match poll(&mut fds, PollTimeout::from(500u16)) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => Ok(()),
        Err(e) => Err(Error::Other(format!(
            "poll on {}: {e}",
            paths.device.display()
        ))),
    }
}

/// Reports a gap in sequence numbers (events the module had to drop).
fn note_gap(last_seq: &mut Option<u64>, seq: u64) {
    if let Some(prev) = *last_seq {
        if seq > prev + 1 {
            eprintln!(
                "escguardctl: {} events lost before seq {} (the module's ring was full)",
                seq - prev - 1,
                seq
            );
        }
    }
    *last_seq = Some(seq);
}

/// `tail --output FILE`: crash-only durable logging (see `logfile`).
fn tail_to_file(
    paths: &Paths,
    file: &std::path::Path,
    follow: bool,
    count: Option<u64>,
) -> Result<(), Error> {
    use escguardctl::logfile::{skip_through, LogFile};
    install_stop_handlers()?;
    install_hup_handler()?;
    let dev = Device::open_with(paths, true)?;
    let load_ns = dev.status(paths)?.loaded_ns;
    dev.set_ack_mode(paths)?;
    let file_err = |what: &str, e: std::io::Error| Error::Io {
        what: format!("cannot {what} {}", file.display()),
        err: e,
    };
    let (mut log, resume) = LogFile::open(file).map_err(|e| file_err("use", e))?;
    let skip = skip_through(resume, load_ns);
    let mut written = 0u64;
    let mut skipped = 0u64;
    let mut last_seq: Option<u64> = (skip > 0).then_some(skip);
    while !STOP.load(Ordering::SeqCst) && count.is_none_or(|n| written < n) {
        if REOPEN.swap(false, Ordering::SeqCst) {
            log.reopen().map_err(|e| file_err("reopen", e))?;
        }
        let want = count.map_or(16, |n| (n - written).min(16) as usize);
        let batch = match dev.read_events(want) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Error::Io {
                    what: format!("cannot read events from {}", paths.device.display()),
                    err: e,
                })
            }
        };
        let Some(last) = batch.last().map(|e| e.seq) else {
            if !follow {
                break;
            }
            wait_readable(paths, &dev)?;
            continue;
        };
        let mut lines = String::new();
        for raw in &batch {
            if raw.seq <= skip {
                // Written by a run that died before acknowledging it.
                skipped += 1;
                continue;
            }
            note_gap(&mut last_seq, raw.seq);
            let mut ev = Event::from_abi(raw);
            ev.load_ns = Some(load_ns);
            lines.push_str(&to_json(&ev)?);
            lines.push('\n');
            written += 1;
        }
        // Durable first, then acknowledged: a crash in between re-delivers
        // events that the next run recognises and skips.
        log.append(&lines).map_err(|e| file_err("write to", e))?;
        dev.ack(paths, last)?;
    }
    if skipped > 0 {
        eprintln!(
            "escguardctl: skipped {skipped} events already in {}",
            log.path().display()
        );
    }
    Ok(())
}

fn tail(paths: &Paths, json: bool, follow: bool, count: Option<u64>) -> Result<(), Error> {
    install_stop_handlers()?;
    // Always non-blocking: following waits in poll(), which also lets a
    // Ctrl-C (or SIGTERM from a supervisor) end the loop between events.
    let dev = Device::open_with(paths, true)?;
    let mut printed = 0u64;
    let mut last_seq: Option<u64> = None;
    while !STOP.load(Ordering::SeqCst) && count.is_none_or(|n| printed < n) {
        let want = count.map_or(16, |n| (n - printed).min(16) as usize);
        let batch = match dev.read_events(want) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Error::Io {
                    what: format!("cannot read events from {}", paths.device.display()),
                    err: e,
                })
            }
        };
        if batch.is_empty() {
            if !follow {
                break;
            }
            wait_readable(paths, &dev)?;
            continue;
        }
        let mut out = String::new();
        for raw in &batch {
            note_gap(&mut last_seq, raw.seq);
            let ev = Event::from_abi(raw);
            if json {
                out.push_str(&to_json(&ev)?);
            } else {
                out.push_str(&ev.to_text());
            }
            out.push('\n');
            printed += 1;
        }
        // One write per batch, flushed: a log pipeline sees each event as
        // soon as it is read.
        write_stdout(&out)?;
    }
    Ok(())
}

/// Writes to stdout. A closed pipe (`escguardctl tail -f | head -1`) ends
/// the program quietly and successfully, as it does for other Unix tools.
fn write_stdout(s: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(exit::OK),
        Err(e) => Err(Error::Io {
            what: "cannot write to standard output".into(),
            err: e,
        }),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::from(exit::OK as u8),
        Err(e) => {
            eprintln!("escguardctl: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
