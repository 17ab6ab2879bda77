use clap::{Args, CommandFactory, Parser, Subcommand};
use escguardctl::abi;
use escguardctl::device::{Device, Paths, DEFAULT_DEVICE};
use escguardctl::error::{exit, Error};
use escguardctl::events::{Event, Task};
use escguardctl::policy;
use escguardctl::rules::{self, RuleRow};
use escguardctl::status::Status;
use escguardctl::trivy;
use std::io::Write;
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

Every rule is scoped to the workload the report describes: --container ID (the
full 64-digit ID, as 'docker ps --no-trunc', 'crictl ps --no-trunc' or 'podman ps
--no-trunc' show it) or --cgroup PATH (a cgroup v2 path from the root, as
/proc/PID/cgroup shows it after \"0::\", e.g. a pod's /kubepods.slice/... cgroup:
the rules cover it and every cgroup below). One of them is required: unscoped,
rules such as no-host-init-proc (/proc/1) and no-host-shm (/dev/shm) would match
every container's own /proc/1 and /dev/shm.

Rules are named tv-TAG-RULE (e.g. tv-c116ccf2-no-proc-sys-write), TAG being 8 hex
digits of a hash of the scope: importing for the same workload again gives the
same names (identical rules are kept), imports for other workloads add their own.
Each rule is listed once, with the findings that caused it and why. The policy (the file format of 'escguardctl policy --help')
goes to --output FILE, or to standard output; the explanation goes to standard
output with --output, to standard error without. With --load the rules are also
added to the module's active policy: an active rule of the same name is kept if
identical, replaced only with --replace, and otherwise nothing is loaded (exit
65); the active runtime sockets stay unless the report derives its own. Reports
larger than 64 MiB are refused. Review the policy before loading it: some rules
refuse things a node agent may legitimately do (each explanation says which).";

const TAIL_HELP: &str = "\
Each event is one line: time, action, reason, hook, pid/ppid/uid/comm, the container \
(runtime:ID, from the task's cgroup as the module recorded it), exe, the namespaces that became \
the host's (container value -> host value), root and cwd (path within their filesystem, device, \
inode) and the container's origin. Text a container controls (comm, exe, paths, targets) is \
escaped: no newline or terminal control sequence is printed as is. With --json, one JSON object \
per line with the same facts plus hostname, cgroup id and path, and the container's names where \
the runtime's state on this host gives them.

Looking never erases: tail reads what the module holds without removing anything, so any number \
of readers (also members of the module's events_gid group) can run at once. The module holds the \
newest events its ring has room for. A gap in the sequence numbers (events dropped because the \
ring was full of events the writer had not stored, or overwritten before this reader got to \
them) is reported on stderr. Ctrl-C stops cleanly.

With --output FILE, escguardctl is the durable writer: it appends every event to FILE as JSON \
lines, makes each batch durable (fdatasync) and only then acknowledges it, so the module never \
overwrites an event the writer has not stored (while a writer is attached, a full ring drops \
new events instead, counted in status). One writer at a time: a second is refused. If it is \
killed, the next run resumes after the last line in FILE, losing and duplicating nothing the \
module still held. Files are created 0600 (0640, group events_gid, when the module has one). \
SIGHUP reopens FILE (for logrotate).";

/// `-n N` (the last N) or `-n +N` (from the N-th on), as tail(1).
#[derive(Clone, Copy, Debug)]
enum Lines {
    Last(usize),
    From(usize),
}

impl std::str::FromStr for Lines {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("\"{s}\" is not a count: expected N or +N");
        match s.strip_prefix('+') {
            Some(n) => n.parse().map(Lines::From).map_err(|_| bad()),
            None => s.parse().map(Lines::Last).map_err(|_| bad()),
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
enum ActionArg {
    Killed,
    Logged,
}

/// What `tail` shows.
struct TailFilter {
    action: Option<ActionArg>,
    reasons: Vec<String>,
    rules: Vec<String>,
    container: Option<String>,
}

impl TailFilter {
    fn keeps(&self, ev: &Event) -> bool {
        let action_ok = match self.action {
            None => true,
            Some(ActionArg::Killed) => ev.action == "killed",
            Some(ActionArg::Logged) => ev.action == "logged",
        };
        let container_ok = match self.container.as_deref() {
            None => true,
            Some(c) if c.starts_with('/') => {
                ev.cgroup.path == c
                    || ev
                        .cgroup
                        .path
                        .starts_with(&format!("{}/", c.trim_end_matches('/')))
            }
            Some(c) => ev.container.as_ref().is_some_and(|k| k.id.starts_with(c)),
        };
        action_ok
            && container_ok
            && (self.reasons.is_empty() || self.reasons.contains(&ev.reason))
            && (self.rules.is_empty() || self.rules.contains(&ev.rule))
    }
}

/// The node's name, for events shipped off it.
fn hostname() -> Option<String> {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
}

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
    /// Print events: the last ones the module holds, then (with -f) new ones as they come
    #[command(after_help = TAIL_HELP)]
    Tail {
        /// One JSON object per line (schema: ctl/schema/event.schema.json)
        #[arg(long)]
        json: bool,
        /// Keep waiting for new events
        #[arg(short = 'f', long)]
        follow: bool,
        /// Show the last N held events (default 10; with --after, all); +N starts at the N-th
        #[arg(
            short = 'n',
            long = "lines",
            value_name = "N",
            conflicts_with = "output"
        )]
        lines: Option<Lines>,
        /// Only events with a sequence number above SEQ (of this module load)
        #[arg(long, value_name = "SEQ", conflicts_with = "output")]
        after: Option<u64>,
        /// Only events with this action
        #[arg(long, value_enum, conflicts_with = "output")]
        action: Option<ActionArg>,
        /// Only events for this reason (namespace-escape, root-escape, rule, host-object, ...)
        #[arg(long, value_name = "REASON", conflicts_with = "output")]
        reason: Vec<String>,
        /// Only events of this rule (a preset or policy rule name)
        #[arg(long, value_name = "NAME", conflicts_with = "output")]
        rule: Vec<String>,
        /// Only events of this container: an ID (or its first characters), or a
        /// cgroup path prefix starting with '/'
        #[arg(long, value_name = "ID|CGROUP", conflicts_with = "output")]
        container: Option<String>,
        /// Be the durable writer: append events to FILE as JSON lines and acknowledge them
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
        /// Also add the derived rules to the module's active policy (host admin only)
        #[arg(long)]
        load: bool,
        /// Scope every derived rule to this container (its full ID)
        #[arg(long, value_name = "ID", value_parser = parse_container_id, conflicts_with = "cgroup")]
        container: Option<String>,
        /// Scope every derived rule to this cgroup v2 path and the cgroups below it
        #[arg(long, value_name = "PATH", value_parser = parse_cgroup_path)]
        cgroup: Option<String>,
        /// With --load: replace active rules of the same name that differ
        #[arg(long, requires = "load")]
        replace: bool,
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

fn parse_container_id(s: &str) -> Result<String, String> {
    policy::check_container_id(s).map(|()| s.to_string())
}

fn parse_cgroup_path(s: &str) -> Result<String, String> {
    policy::check_cgroup_path(s).map(|()| s.to_string())
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
            output: Some(file),
            json,
            follow,
            ..
        } => {
            if json {
                eprintln!(
                    "escguardctl: note: --output always writes JSON lines; --json is implied"
                );
            }
            tail_to_file(&paths, &file, follow)
        }
        Command::Tail {
            json,
            follow,
            lines,
            after,
            action,
            reason,
            rule,
            container,
            output: None,
            ..
        } => {
            let filter = TailFilter {
                action,
                reasons: reason,
                rules: rule,
                container,
            };
            let lines = lines.unwrap_or(match after {
                Some(_) => Lines::From(1),
                None => Lines::Last(10),
            });
            tail(&paths, json, follow, lines, after.unwrap_or(0), &filter)
        }
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
    let (text, shown) = policy::read_capped(path, "policy file")?;
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
            container,
            cgroup,
            replace,
            ..
        } => {
            let scope = trivy::scope_from_flags(container.as_deref(), cgroup.as_deref())
                .unwrap_or_else(|m| {
                    use clap::CommandFactory;
                    Cli::command()
                        .error(clap::error::ErrorKind::MissingRequiredArgument, m)
                        .exit()
                });
            from_trivy(
                paths,
                &report,
                output.as_deref(),
                load,
                replace,
                name,
                &scope,
            )
        }
    }
}

fn from_trivy(
    paths: &Paths,
    report_path: &Path,
    output: Option<&Path>,
    load: bool,
    replace: bool,
    name: Option<String>,
    scope: &policy::Scope,
) -> Result<(), Error> {
    let (text, shown) = policy::read_capped(report_path, "Trivy report")?;
    let report = trivy::parse_report(&text).map_err(|m| Error::Data(format!("{shown}: {m}")))?;
    let name = name.unwrap_or_else(|| trivy::default_name(&report, &fallback_name(report_path)));
    let d = trivy::derive(&report, &name, scope).map_err(Error::Data)?;
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
        let (h, r) = dev.policy(paths)?;
        let active = policy::from_abi(&h, &r).map_err(Error::Other)?;
        let merged = policy::merge(&active.policy, &d.policy, replace).map_err(Error::Data)?;
        dev.set_policy(paths, &policy::to_abi(&merged, &name), "the Trivy report")?;
        let msg = format!("loaded {}\n", policy::summary(&merged, &name));
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

/// Reports a gap in sequence numbers between two events read in turn:
/// events the module dropped, or overwrote before this reader got to them.
fn note_gap(last_seq: &mut Option<u64>, seq: u64) {
    if let Some(prev) = *last_seq {
        if seq > prev + 1 {
            eprintln!(
                "escguardctl: {} events missing before seq {} (dropped by the module, or \
                 overwritten before they were read)",
                seq - prev - 1,
                seq
            );
        }
    }
    *last_seq = Some(seq);
}

/// Reads the next batch of held events; `None` when there is none now.
fn next_batch(paths: &Paths, dev: &Device) -> Result<Option<Vec<abi::escguard_event>>, Error> {
    loop {
        match dev.read_events(16) {
            Ok(b) if b.is_empty() => return Ok(None),
            Ok(b) => return Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                if STOP.load(Ordering::SeqCst) {
                    return Ok(None);
                }
            }
            Err(e) => {
                return Err(Error::Io {
                    what: format!("cannot read events from {}", paths.device.display()),
                    err: e,
                })
            }
        }
    }
}

/// `tail --output FILE`: the durable writer (see `logfile`).
fn tail_to_file(paths: &Paths, file: &std::path::Path, follow: bool) -> Result<(), Error> {
    use escguardctl::logfile::{skip_through, LogFile};
    install_stop_handlers()?;
    install_hup_handler()?;
    let dev = Device::open_with(paths, true)?;
    let st = dev.status(paths)?;
    let load_ns = st.loaded_ns;
    dev.set_ack_mode(paths)?;
    let gid = (st.events_gid != abi::ESCGUARD_NO_GID).then_some(st.events_gid);
    let host = hostname();
    let file_err = |what: &str, e: std::io::Error| Error::Io {
        what: format!("cannot {what} {}", file.display()),
        err: e,
    };
    let (mut log, resume) = LogFile::open(file, gid).map_err(|e| file_err("use", e))?;
    let skip = skip_through(resume, load_ns);
    let mut skipped = 0u64;
    let mut last_seq: Option<u64> = (skip > 0).then_some(skip);
    while !STOP.load(Ordering::SeqCst) {
        if REOPEN.swap(false, Ordering::SeqCst) {
            log.reopen().map_err(|e| file_err("reopen", e))?;
        }
        let Some(batch) = next_batch(paths, &dev)? else {
            if !follow {
                break;
            }
            wait_readable(paths, &dev)?;
            continue;
        };
        let last = batch.last().map_or(0, |e| e.seq);
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
            ev.hostname = host.clone();
            ev.enrich();
            lines.push_str(&to_json(&ev)?);
            lines.push('\n');
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

fn tail(
    paths: &Paths,
    json: bool,
    follow: bool,
    lines: Lines,
    after: u64,
    filter: &TailFilter,
) -> Result<(), Error> {
    install_stop_handlers()?;
    // Always non-blocking: following waits in poll(), which also lets a
    // Ctrl-C (or SIGTERM from a supervisor) end the loop between events.
    let dev = Device::open_with(paths, true)?;
    let load_ns = dev.status(paths)?.loaded_ns;
    let host = hostname();
    let render = |raw: &abi::escguard_event| -> Result<Option<String>, Error> {
        let mut ev = Event::from_abi(raw);
        if !filter.keeps(&ev) {
            return Ok(None);
        }
        ev.load_ns = Some(load_ns);
        ev.hostname = host.clone();
        ev.enrich();
        let mut line = if json { to_json(&ev)? } else { ev.to_text() };
        line.push('\n');
        Ok(Some(line))
    };
    // What the module holds now: the last N (or from the N-th) that pass
    // the filters.
    let mut last_seq: Option<u64> = None;
    let mut held: std::collections::VecDeque<abi::escguard_event> = Default::default();
    let mut seen = 0usize;
    while let Some(batch) = next_batch(paths, &dev)? {
        for raw in batch {
            if raw.seq <= after {
                continue;
            }
            note_gap(&mut last_seq, raw.seq);
            if !filter.keeps(&Event::from_abi(&raw)) {
                continue;
            }
            seen += 1;
            match lines {
                Lines::From(n) if seen < n => {}
                Lines::From(_) => held.push_back(raw),
                Lines::Last(n) => {
                    held.push_back(raw);
                    if held.len() > n {
                        held.pop_front();
                    }
                }
            }
        }
        if STOP.load(Ordering::SeqCst) {
            return Ok(());
        }
    }
    let mut out = String::new();
    for raw in &held {
        if let Some(line) = render(raw)? {
            out.push_str(&line);
        }
    }
    write_stdout(&out)?;
    drop(held);
    // Then new ones as they come.
    while follow && !STOP.load(Ordering::SeqCst) {
        let Some(batch) = next_batch(paths, &dev)? else {
            wait_readable(paths, &dev)?;
            continue;
        };
        let mut out = String::new();
        for raw in &batch {
            note_gap(&mut last_seq, raw.seq);
            if let Some(line) = render(raw)? {
                out.push_str(&line);
            }
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
