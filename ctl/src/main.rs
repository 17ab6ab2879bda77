use clap::{Args, CommandFactory, Parser, Subcommand};
use escguardctl::abi;
use escguardctl::device::{Device, Paths, DEFAULT_DEVICE};
use escguardctl::error::{exit, Error};
use escguardctl::events::{Event, Task};
use escguardctl::policy;
use escguardctl::rules::{self, RuleRow};
use escguardctl::status::Status;
use escguardctl::trivy;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
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
  65 bad input data: an invalid policy file or Trivy report, or a policy the
     module rejected (nothing is changed in the module then)

Errors go to standard error; --json output goes to standard output only.
See 'escguardctl rules --help' for the preset rules and 'escguardctl policy
--help' for the policy file format.";

const RULES_HELP_TAIL: &str = "\
Policy rules (from 'escguardctl policy load') follow the presets in 'rules list'
and are switched by their names the same way. Rules apply to tasks of container
lineage after the container's first program started; in enforce mode a matching
call fails with EPERM and the task is killed, in monitor mode it is reported
(escguardctl tail shows rule=NAME). Enabling or disabling needs CAP_SYS_ADMIN;
an unknown name exits 2 and changes nothing.";

fn rules_after_help() -> String {
    format!("{}\n{RULES_HELP_TAIL}", rules::presets_help())
}

const FROM_TRIVY_HELP: &str = "\
Reads a Trivy JSON report (SchemaVersion 2: 'trivy image --format json',
'trivy fs|rootfs --format json', 'trivy config --format json'; '-' reads standard
input) and derives a policy from its failed misconfiguration checks and its
vulnerabilities:

  privileged, CAP_SYS_ADMIN, added capabilities, allowPrivilegeEscalation
  (KSV017, KSV005, KSV022, KSV001)   no mounts from /dev or of cgroup v1; no writes
                                     under /proc/sys, /sys/kernel, to /proc/sysrq-trigger
  hostPath volumes (KSV023, KSV121)  no writes under /etc/kubernetes, /var/lib/kubelet,
                                     /var/lib/containerd, /var/lib/docker
  hostPID (KSV010)                   no access under /proc/1 (the host's init)
  hostIPC (KSV008)                   no access under /dev/shm
  hostNetwork (KSV009)               no writes under /proc/sys/net
  runtime socket mounted (KSV006, or a check naming docker.sock)
                                     runtime_sockets: the defaults and their /var/run names
  running as root (KSV012, DS002)    nothing (explained)
  runc, containerd, docker/moby or crun vulnerable
                                     no writes to the runtime's binaries (an open through
                                     /proc/self/exe is matched by the binary's own path)
  kernel vulnerable (linux-image*, linux-headers*, kernel*)
                                     no cgroup v1 mounts; keep release_agent, core_pattern

Rules have fixed names (trivy-...) and are listed once, each with the findings
that caused it and why. The policy (the file format of 'escguardctl policy --help')
goes to --output FILE, or to standard output; the explanation goes to standard
output with --output, to standard error without. With --load the policy is also
loaded into the module. Review the policy before loading it: some rules refuse
things a node agent may legitimately do (each explanation says which).";

#[derive(Parser, Debug)]
#[command(name = "escguardctl", version, about = "Configure the escguard kernel module and read its events", after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// `--device`, on the subcommands that talk to the module.
#[derive(Args, Debug, Clone)]
struct DeviceArg {
    /// Path of the escguard device
    #[arg(long, global = true, value_name = "PATH", env = "ESCGUARD_DEVICE", default_value = DEFAULT_DEVICE)]
    device: PathBuf,
}

const METRICS_HELP: &str = "\
Prints the module's counters in the OpenMetrics text format (ending in '# EOF'):
kills, verdicts, events, table, hook calls and time per hook (seconds), mode,
lock, rules. With --output FILE the text replaces FILE atomically (a temporary
file in the same directory, then rename; mode 0644), as node_exporter's textfile
collector wants (e.g. /var/lib/node_exporter/textfile_collector/escguard.prom;
the escguard-metrics.timer unit refreshes it). The host admin and members of
the module's events_gid group may read them. Per-rule hits and switches
(escguard_rule_hits_total, escguard_rule_enabled) come from the rule list; if
the module refuses it, they are left out with a note on stderr.";

#[derive(Subcommand, Debug)]
enum Command {
    /// Show the module's version, ABI, mode and counters
    Status {
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        dev: DeviceArg,
    },
    /// List the module's task table: every tracked task, its lineage and origin
    Tasks {
        /// One JSON object per line
        #[arg(long)]
        json: bool,
        /// Only tasks of container lineage
        #[arg(long)]
        container: bool,
        #[command(flatten)]
        dev: DeviceArg,
    },
    /// Set the mode: enforce (kill escaping tasks) or monitor (report only)
    Mode {
        #[arg(value_enum)]
        mode: ModeArg,
        #[command(flatten)]
        dev: DeviceArg,
    },
    /// Allow `rmmod escguard` (the module loads locked; host admin only)
    Unlock {
        #[command(flatten)]
        dev: DeviceArg,
    },
    /// Refuse `rmmod escguard` again
    Lock {
        #[command(flatten)]
        dev: DeviceArg,
    },
    /// List, enable and disable rules (the presets and the policy's rules)
    #[command(after_help = rules_after_help())]
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
        #[command(flatten)]
        dev: DeviceArg,
    },
    /// Load, show and check policies: extra file and mount rules, runtime sockets
    #[command(after_help = policy::FORMAT_HELP)]
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
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
        #[command(flatten)]
        dev: DeviceArg,
    },
    /// Print the counters as OpenMetrics text (for node_exporter's textfile collector)
    #[command(after_help = METRICS_HELP)]
    Metrics {
        /// Replace FILE atomically instead of printing (mode 0644)
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        dev: DeviceArg,
    },
    /// Write shell completions and man pages (used by 'make install')
    #[command(hide = true)]
    DistFiles {
        /// Directory to write completions/ and man/ into
        #[arg(long, value_name = "DIR")]
        out_dir: PathBuf,
    },
}

impl Command {
    /// The device this subcommand talks to (the default for those that
    /// have no --device).
    fn device(&self) -> &Path {
        match self {
            Command::Status { dev, .. }
            | Command::Tasks { dev, .. }
            | Command::Mode { dev, .. }
            | Command::Unlock { dev }
            | Command::Lock { dev }
            | Command::Rules { dev, .. }
            | Command::Tail { dev, .. }
            | Command::Metrics { dev, .. } => &dev.device,
            Command::Policy { command } => match command {
                PolicyCommand::Load { dev, .. }
                | PolicyCommand::Show { dev, .. }
                | PolicyCommand::FromTrivy { dev, .. } => &dev.device,
                PolicyCommand::Check { .. } => Path::new(DEFAULT_DEVICE),
            },
            Command::DistFiles { .. } => Path::new(DEFAULT_DEVICE),
        }
    }
}

#[derive(Subcommand, Debug)]
enum RulesCommand {
    /// List every rule: name, kind (preset, file, mount), enabled, hits
    List {
        /// One JSON object per line: {name, kind, enabled, hits, description}
        #[arg(long)]
        json: bool,
    },
    /// Enable rules by name (host admin only)
    Enable {
        /// Rule names, as 'rules list' shows them
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
    },
    /// Disable rules by name (host admin only)
    Disable {
        /// Rule names, as 'rules list' shows them
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum PolicyCommand {
    /// Validate FILE and make it the module's policy (host admin only)
    #[command(
        after_help = "FILE is validated completely first ('-' reads standard input); a file with any \
problem is not sent and the active policy stays (exit 65). Loading replaces the whole policy \
atomically. Prints a one-line summary."
    )]
    Load {
        /// Policy file (JSON; see 'escguardctl policy --help')
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        dev: DeviceArg,
    },
    /// Show the active policy (the module's defaults if none was loaded)
    #[command(
        after_help = "With --json the output is exactly the policy file format, so \
'escguardctl policy show --json > f && escguardctl policy load f' restores it; it includes the \
runtime sockets as the module reports them. The load time is shown only in text."
    )]
    Show {
        /// Print the policy in the file format (loadable)
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        dev: DeviceArg,
    },
    /// Validate FILE only (no device needed); exit 0 if valid, 65 if not
    Check {
        /// Policy file (JSON; '-' reads standard input)
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Derive a policy from a Trivy JSON report, explaining every rule
    #[command(after_help = FROM_TRIVY_HELP)]
    FromTrivy {
        /// Trivy JSON report ('-' reads standard input)
        #[arg(value_name = "REPORT")]
        report: PathBuf,
        /// Write the policy to FILE (default: standard output)
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Also load the derived policy into the module (host admin only)
        #[arg(long)]
        load: bool,
        /// Policy name (default: "trivy:" and the report's ArtifactName; at most 63 bytes)
        #[arg(long, value_name = "NAME", value_parser = parse_policy_name)]
        name: Option<String>,
        #[command(flatten)]
        dev: DeviceArg,
    },
}

fn parse_policy_name(s: &str) -> Result<String, String> {
    policy::check_policy_name(s).map(|()| s.to_string())
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ModeArg {
    Enforce,
    Monitor,
}

fn run(cli: Cli) -> Result<(), Error> {
    let paths = Paths::new(cli.command.device());
    match cli.command {
        Command::Status { json, .. } => {
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
        Command::Mode { mode, .. } => {
            let dev = Device::open(&paths)?;
            let m = match mode {
                ModeArg::Enforce => abi::ESCGUARD_MODE_ENFORCE,
                ModeArg::Monitor => abi::ESCGUARD_MODE_MONITOR,
            };
            dev.set_mode(&paths, m)
        }
        Command::Rules { command, .. } => run_rules(&paths, command),
        Command::Policy { command } => run_policy(&paths, command),
        Command::Unlock { .. } => Device::open(&paths)?.set_locked(&paths, false),
        Command::Lock { .. } => Device::open(&paths)?.set_locked(&paths, true),
        Command::Metrics { output, .. } => metrics(&paths, output.as_deref()),
        Command::DistFiles { out_dir } => dist_files(&out_dir),
        Command::Tasks {
            json, container, ..
        } => {
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
            ..
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
            ..
        } => tail(&paths, json, follow, count),
    }
}

/// `metrics`: status (and the rule list, if the caller may read it) as
/// OpenMetrics text, to stdout or atomically to a file.
fn metrics(paths: &Paths, output: Option<&Path>) -> Result<(), Error> {
    use escguardctl::metrics::{render, write_atomic, RuleMetric};
    let dev = Device::open(paths)?;
    let st = Status::from_abi(&dev.version, &dev.status(paths)?);
    let rules = match dev.rules(paths) {
        Ok(list) => Some(
            list.iter()
                .map(|r| {
                    let kind = if r.id == abi::ESCGUARD_RULE_POLICY {
                        "policy"
                    } else {
                        "preset"
                    };
                    RuleMetric {
                        name: abi::cstr_field(&r.name),
                        kind: kind.into(),
                        enabled: r.enabled != 0,
                        hits: r.hits,
                    }
                })
                .collect::<Vec<_>>(),
        ),
        Err(Error::Permission { .. }) => {
            eprintln!(
                "escguardctl: note: per-rule metrics left out (the module refused the rule list)"
            );
            None
        }
        Err(e) => return Err(e),
    };
    let text = render(&st, rules.as_deref());
    match output {
        None => write_stdout(&text),
        Some(file) => write_atomic(file, &text).map_err(|e| Error::Io {
            what: format!("cannot write {}", file.display()),
            err: e,
        }),
    }
}

/// The hidden `dist-files`: shell completions (bash, zsh, fish) and man
/// pages (one for escguardctl, one per subcommand), from the clap
/// definitions, for `make install`.
fn dist_files(out_dir: &Path) -> Result<(), Error> {
    use clap_complete::Shell;
    let io_err = |p: &Path, e: std::io::Error| Error::Io {
        what: format!("cannot write {}", p.display()),
        err: e,
    };
    let comp = out_dir.join("completions");
    let man = out_dir.join("man");
    for d in [&comp, &man] {
        std::fs::create_dir_all(d).map_err(|e| io_err(d, e))?;
    }
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut Cli::command(), "escguardctl", &comp)
            .map_err(|e| io_err(&comp, e))?;
    }
    let mut cmd = Cli::command();
    cmd.build();
    man_pages(&cmd, "", &man)
}

/// Writes NAME.8 for `cmd` and each visible subcommand below it
/// (escguardctl-rules-list.8 for 'escguardctl rules list').
fn man_pages(cmd: &clap::Command, prefix: &str, dir: &Path) -> Result<(), Error> {
    let name = if prefix.is_empty() {
        cmd.get_name().to_string()
    } else {
        format!("{prefix}-{}", cmd.get_name())
    };
    let page = cmd.clone().name(name.clone());
    let mut buf = Vec::new();
    clap_mangen::Man::new(page)
        .section("8")
        .manual("escguard")
        .render(&mut buf)
        .map_err(|e| Error::Other(format!("cannot render the man page {name}: {e}")))?;
    let path = dir.join(format!("{name}.8"));
    std::fs::write(&path, buf).map_err(|e| Error::Io {
        what: format!("cannot write {}", path.display()),
        err: e,
    })?;
    for sub in cmd.get_subcommands() {
        if !sub.is_hide_set() && sub.get_name() != "help" {
            man_pages(sub, &name, dir)?;
        }
    }
    Ok(())
}

fn run_rules(paths: &Paths, command: RulesCommand) -> Result<(), Error> {
    let dev = Device::open(paths)?;
    match command {
        RulesCommand::List { json } => {
            let list = dev.rules(paths)?;
            // Policy rules' kinds and patterns come from the policy; without
            // it (an older module, a refusal) they show as "policy".
            let active = if list.iter().any(|r| r.id == abi::ESCGUARD_RULE_POLICY) {
                dev.policy(paths)
                    .ok()
                    .and_then(|(h, r)| policy::from_abi(&h, &r).ok())
            } else {
                None
            };
            let detail = |name: &str| {
                active.as_ref().and_then(|a| {
                    a.policy
                        .rules
                        .iter()
                        .find(|r| r.name == name)
                        .map(|r| (r.kind().to_string(), r.describe()))
                })
            };
            let rows: Vec<RuleRow> = list.iter().map(|r| RuleRow::from_abi(r, &detail)).collect();
            let out = if json {
                let mut s = String::new();
                for r in &rows {
                    s.push_str(&to_json(r)?);
                    s.push('\n');
                }
                s
            } else {
                let mut s = format!("{}\n", RuleRow::TEXT_HEADER);
                for r in &rows {
                    s.push_str(&r.to_text());
                    s.push('\n');
                }
                s
            };
            write_stdout(&out)
        }
        RulesCommand::Enable { names } => switch_rules(paths, &dev, &names, true),
        RulesCommand::Disable { names } => switch_rules(paths, &dev, &names, false),
    }
}

/// Checks every name against the module's list first, so that a typo
/// changes nothing; then switches each.
fn switch_rules(paths: &Paths, dev: &Device, names: &[String], enable: bool) -> Result<(), Error> {
    let known: Vec<String> = dev
        .rules(paths)?
        .iter()
        .map(|r| abi::cstr_field(&r.name))
        .collect();
    if let Some(bad) = names.iter().find(|n| !known.contains(n)) {
        return Err(Error::NoSuchRule { name: bad.clone() });
    }
    let mut done: Vec<&String> = Vec::new();
    for n in names {
        if !done.contains(&n) {
            dev.set_rule(paths, n, enable)?;
            done.push(n);
        }
    }
    Ok(())
}

/// Reads FILE, or standard input for "-"; returns the text and the name to
/// show in messages.
fn read_input(path: &Path) -> Result<(String, String), Error> {
    let stdin = path == Path::new("-");
    let shown = if stdin {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    };
    let mut bytes = Vec::new();
    let r = if stdin {
        std::io::stdin().lock().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes))
    };
    r.map_err(|e| Error::Io {
        what: format!("cannot read {shown}"),
        err: e,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::Data(format!(
            "{shown}: not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok((text, shown))
}

/// The name a policy from `path` gets when the file has none.
fn fallback_name(path: &Path) -> String {
    if path == Path::new("-") {
        return "stdin".into();
    }
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Reads and validates a policy file; every problem becomes one line.
fn read_policy(path: &Path, verdict: &str) -> Result<(policy::Policy, String), Error> {
    let (text, shown) = read_input(path)?;
    policy::parse(&text)
        .map(|p| (p, shown.clone()))
        .map_err(|problems| {
            let mut lines: Vec<String> = problems.iter().map(|p| format!("{shown}: {p}")).collect();
            lines.push(format!(
                "{shown}: {} problem{}; {verdict}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            ));
            Error::Data(lines.join("\n"))
        })
}

fn run_policy(paths: &Paths, command: PolicyCommand) -> Result<(), Error> {
    match command {
        PolicyCommand::Check { file } => {
            let (p, shown) = read_policy(&file, "see 'escguardctl policy --help'")?;
            write_stdout(&format!(
                "{shown}: valid {}\n",
                policy::summary(&p, &fallback_name(&file))
            ))
        }
        PolicyCommand::Load { file, .. } => {
            let (p, shown) = read_policy(&file, "nothing was loaded, the active policy stays")?;
            let dev = Device::open(paths)?;
            let fallback = fallback_name(&file);
            dev.set_policy(paths, &policy::to_abi(&p, &fallback), &shown)?;
            write_stdout(&format!("loaded {}\n", policy::summary(&p, &fallback)))
        }
        PolicyCommand::Show { json, .. } => {
            let dev = Device::open(paths)?;
            let (h, r) = dev.policy(paths)?;
            let active = policy::from_abi(&h, &r).map_err(Error::Other)?;
            write_stdout(&if json {
                policy::to_json(&active.policy)
            } else {
                policy::to_text(&active)
            })
        }
        PolicyCommand::FromTrivy {
            report,
            output,
            load,
            name,
            ..
        } => from_trivy(paths, &report, output.as_deref(), load, name),
    }
}

fn from_trivy(
    paths: &Paths,
    report_path: &Path,
    output: Option<&Path>,
    load: bool,
    name: Option<String>,
) -> Result<(), Error> {
    let (text, shown) = read_input(report_path)?;
    let report = trivy::parse_report(&text).map_err(|m| Error::Data(format!("{shown}: {m}")))?;
    let name = name.unwrap_or_else(|| trivy::default_name(&report, &fallback_name(report_path)));
    let d = trivy::derive(&report, &name);
    let json = policy::to_json(&d.policy);
    // Never write a policy that 'policy load' would refuse.
    if let Err(problems) = policy::parse(&json) {
        return Err(Error::Other(format!(
            "internal error: the derived policy is invalid: {}",
            problems[0]
        )));
    }
    let mut explanation = trivy::explain(&d, &report, &shown);
    match output {
        Some(file) => {
            std::fs::write(file, &json).map_err(|e| Error::Io {
                what: format!("cannot write {}", file.display()),
                err: e,
            })?;
            explanation.push_str(&format!(
                "\nWrote {} to {}.\n",
                policy::summary(&d.policy, &name),
                file.display()
            ));
            write_stdout(&explanation)?;
        }
        None => {
            eprint!("{explanation}");
            write_stdout(&json)?;
        }
    }
    if load {
        let dev = Device::open(paths)?;
        dev.set_policy(paths, &policy::to_abi(&d.policy, &name), "the Trivy report")?;
        let msg = format!("loaded {}\n", policy::summary(&d.policy, &name));
        if output.is_some() {
            write_stdout(&msg)?;
        } else {
            eprint!("{msg}");
        }
    }
    Ok(())
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
            // One prefixed line per problem (a policy file may have many).
            for line in e.to_string().lines() {
                eprintln!("escguardctl: {line}");
            }
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
