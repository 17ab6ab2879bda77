//! The report's findings one by one: their check IDs and packages sorted
//! into categories, and each as one escaped line of text.

use crate::escape;

use super::catalog::Category;
use super::report::s;
use super::{Misconfiguration, Vulnerability};

/// A finding as one line: what it is, where, and what Trivy said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// "KSV017", "CVE-2024-21626".
    pub id: String,
    pub text: String,
}

/// `("KSV", 17)` from "KSV017", "KSV-0017" or "AVD-KSV-0017".
fn check_id(id: &str) -> Option<(String, u32)> {
    let id = id.trim();
    let id = id.strip_prefix("AVD-").unwrap_or(id);
    let letters: String = id.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    let rest = id[letters.len()..].trim_start_matches('-');
    if letters.is_empty() || rest.is_empty() || !rest.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((letters.to_ascii_uppercase(), rest.parse().ok()?))
}

pub(super) fn misconf_categories(m: &Misconfiguration) -> Vec<Category> {
    let mut out = Vec::new();
    let ids = [s(&m.id), s(&m.avdid)];
    for id in ids.iter().filter_map(|i| check_id(i)) {
        let c = match (id.0.as_str(), id.1) {
            ("KSV", 17 | 5 | 1 | 22) => Some(Category::Privileged),
            ("KSV", 23 | 121) => Some(Category::HostPath),
            ("KSV", 10) => Some(Category::HostPid),
            ("KSV", 8) => Some(Category::HostIpc),
            ("KSV", 9) => Some(Category::HostNetwork),
            ("KSV", 6) => Some(Category::RuntimeSocket),
            ("KSV", 12) | ("DS", 2) => Some(Category::Root),
            _ => None,
        };
        if let Some(c) = c {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    let text = format!("{} {} {}", s(&m.title), s(&m.message), s(&m.description)).to_lowercase();
    if (text.contains("docker.sock") || text.contains("containerd.sock"))
        && !out.contains(&Category::RuntimeSocket)
    {
        out.push(Category::RuntimeSocket);
    }
    out
}

pub(super) fn vuln_category(pkg: &str) -> Option<Category> {
    match pkg {
        "runc" | "moby-runc" | "github.com/opencontainers/runc" => Some(Category::Runc),
        "containerd"
        | "containerd.io"
        | "moby-containerd"
        | "github.com/containerd/containerd"
        | "github.com/containerd/containerd/v2" => Some(Category::Containerd),
        "docker"
        | "docker.io"
        | "docker-ce"
        | "docker-engine"
        | "moby"
        | "moby-engine"
        | "github.com/docker/docker"
        | "github.com/moby/moby" => Some(Category::Docker),
        "crun" => Some(Category::Crun),
        p if p.starts_with("linux-image")
            || p.starts_with("linux-headers")
            || p == "kernel"
            || p.starts_with("kernel-") =>
        {
            Some(Category::Kernel)
        }
        _ => None,
    }
}

/// First line of `t`, cut to `max` characters.
fn one_line(t: &str, max: usize) -> String {
    let first = t.lines().next().unwrap_or("").trim();
    if first.chars().count() <= max {
        first.to_string()
    } else {
        let cut: String = first.chars().take(max).collect();
        format!("{cut}...")
    }
}

/// A report field made safe to show (see `crate::escape`).
pub(super) fn e(t: &str) -> String {
    escape::text(t).into_owned()
}

pub(super) fn misconf_finding(target: &str, m: &Misconfiguration) -> Finding {
    let id = if !s(&m.id).is_empty() {
        e(s(&m.id))
    } else {
        e(s(&m.avdid))
    };
    let mut text = id.clone();
    if !s(&m.severity).is_empty() {
        text.push_str(&format!(" ({})", e(s(&m.severity))));
    }
    if !s(&m.title).is_empty() {
        text.push_str(&format!(" {}", e(&one_line(s(&m.title), 80))));
    }
    text.push_str(&format!(" in {}", e(target)));
    let msg = if !s(&m.message).is_empty() {
        s(&m.message)
    } else {
        s(&m.description)
    };
    if !msg.is_empty() {
        text.push_str(&format!(": {}", e(&one_line(msg, 160))));
    }
    Finding { id, text }
}

pub(super) fn vuln_finding(target: &str, v: &Vulnerability) -> Finding {
    let id = e(s(&v.vulnerability_id));
    let mut text = id.clone();
    if !s(&v.severity).is_empty() {
        text.push_str(&format!(" ({})", e(s(&v.severity))));
    }
    text.push_str(&format!(
        " in {} {}",
        e(s(&v.pkg_name)),
        e(s(&v.installed_version))
    ));
    if s(&v.fixed_version).is_empty() {
        text.push_str(" (no fix yet)");
    } else {
        text.push_str(&format!(" (fixed in {})", e(s(&v.fixed_version))));
    }
    text.push_str(&format!(", {}", e(target)));
    if !s(&v.title).is_empty() {
        text.push_str(&format!(": {}", e(&one_line(s(&v.title), 120))));
    }
    Finding { id, text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_normalise() {
        assert_eq!(check_id("KSV017"), Some(("KSV".into(), 17)));
        assert_eq!(check_id("KSV-0017"), Some(("KSV".into(), 17)));
        assert_eq!(check_id("AVD-KSV-0017"), Some(("KSV".into(), 17)));
        assert_eq!(check_id("DS002"), Some(("DS".into(), 2)));
        assert_eq!(check_id("AVD-DS-0002"), Some(("DS".into(), 2)));
        assert_eq!(check_id("KSV"), None);
        assert_eq!(check_id("CVE-2024-21626"), None);
        assert_eq!(check_id(""), None);
    }

    #[test]
    fn runtime_and_kernel_packages() {
        for (pkg, want) in [
            ("runc", Some(Category::Runc)),
            ("github.com/opencontainers/runc", Some(Category::Runc)),
            ("containerd", Some(Category::Containerd)),
            (
                "github.com/containerd/containerd",
                Some(Category::Containerd),
            ),
            ("docker-ce", Some(Category::Docker)),
            ("moby", Some(Category::Docker)),
            ("docker", Some(Category::Docker)),
            ("crun", Some(Category::Crun)),
            ("linux-image-5.10.0-10-amd64", Some(Category::Kernel)),
            ("linux-headers-6.1.0-13-common", Some(Category::Kernel)),
            ("kernel", Some(Category::Kernel)),
            ("kernel-core", Some(Category::Kernel)),
            ("kernelshark", None),
            ("linux-libc-dev", None),
            ("runc-tools", None),
        ] {
            assert_eq!(vuln_category(pkg), want, "{pkg}");
        }
    }
}
