//! `escguardctl policy from-trivy`: derive an escguard policy from a Trivy
//! JSON report (`trivy image|fs|rootfs|config --format json`,
//! SchemaVersion 2), explaining each rule with the findings behind it.
//!
//! Only the fields used here are read; Trivy adds fields over time and
//! unknown ones are ignored. What is derived (each rule's name is a fixed
//! base name behind a tag of the scope, `tv-<tag>-<base>`, see
//! [`rule_name`]: re-running for the same workload gives the same names, so
//! a re-import is idempotent, and imports for other workloads have other
//! names, so they coexist in the active policy):
//!
//! * privileged containers, added CAP_SYS_ADMIN or other capabilities,
//!   allowed privilege escalation (KSV017, KSV005, KSV022, KSV001): no
//!   mounts from `/dev` or of cgroup (v1), no writes under `/proc/sys` and
//!   `/sys/kernel`, nor to `/proc/sysrq-trigger`;
//! * hostPath volumes (KSV023, KSV121): no writes under the host paths node
//!   agents mount at the same path (`/etc/kubernetes`, `/var/lib/kubelet`,
//!   `/var/lib/containerd`, `/var/lib/docker`);
//! * host PID / IPC / network namespace (KSV010, KSV008, KSV009): no
//!   access to `/proc/1` (the host's init), `/dev/shm`, no writes under
//!   `/proc/sys/net`;
//! * a mounted runtime socket (KSV006, or any failed check that names
//!   `docker.sock`): `runtime_sockets` = the defaults plus the `/var/run`
//!   spellings;
//! * running as root (KSV012, DS002): nothing (explained);
//! * a vulnerable runc, containerd, docker/moby or crun package: no writes
//!   to the runtime's binaries (CVE-2019-5736; the module matches the file
//!   opened, so an open through `/proc/self/exe` is caught by the binary's
//!   path and a `/proc/self/exe` pattern would never match);
//! * a vulnerable kernel package (`linux-image*`, `linux-headers*`,
//!   `kernel`, `kernel-*`): no cgroup (v1) mounts; the release_agent and
//!   core_pattern presets must stay enabled.
//!
//! Every derived rule is scoped to the workload the report is about
//! (`--container ID` or `--cgroup PATH`): a report describes one image or
//! manifest, and some rules would break other containers if they applied
//! to every container task (`no-host-init-proc` refuses `/proc/1`,
//! which in a container with its own pid namespace is the container's own
//! init; `no-host-shm` refuses every container's own `/dev/shm`).
//! Derivation without a scope is refused ([`NO_SCOPE`]).
//!
//! Everything taken from the report (titles, messages, targets, IDs, the
//! artifact's name) is escaped ([`crate::escape::text`]) before it is shown:
//! a report is as trustworthy as the image it describes.
//!
//! The parts: `report` (the report read), `findings` (each finding sorted
//! and put in words), `catalog` (the rules that can be derived and why),
//! `derive` (findings to rules) and `explain` (the text for people).

mod catalog;
mod derive;
mod explain;
mod findings;
mod report;
#[cfg(test)]
mod testutil;

pub use catalog::{fnv1a64, rule_name, scope_tag};
pub use derive::{
    default_name, derive, derived_sockets, scope_from_flags, Derivation, DerivedRule,
    DerivedSockets, NoRule, NO_SCOPE,
};
pub use explain::explain;
pub use findings::Finding;
pub use report::{parse_report, Misconfiguration, Report, ScanResult, Vulnerability};
