//! What this host can do, measured rather than guessed: used to skip scenarios whose
//! requirements are not met, with a reason that says what is missing.

use crate::plan::{Plan, Requirement};

/// Bit of CAP_SYS_ADMIN in the capability sets (linux/capability.h).
const CAP_SYS_ADMIN: u32 = 21;

/// The host facts requirements are checked against.
#[derive(Debug, Clone)]
pub struct Host {
    /// CAP_SYS_ADMIN in the effective set.
    pub cap_sys_admin: bool,
    /// Namespace kinds present in /proc/self/ns.
    pub ns_kinds: Vec<String>,
    /// (major, minor) of the running kernel.
    pub kernel: Option<(u32, u32)>,
    pub kernel_release: String,
}

impl Host {
    pub fn probe() -> Host {
        let cap_sys_admin = procfs::process::Process::myself()
            .and_then(|p| p.status())
            .is_ok_and(|s| s.capeff & (1 << CAP_SYS_ADMIN) != 0);
        let ns_kinds = std::fs::read_dir("/proc/self/ns")
            .map(|d| {
                d.filter_map(|e| Some(e.ok()?.file_name().to_str()?.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let kernel_release = nix::sys::utsname::uname()
            .map(|u| u.release().to_string_lossy().into_owned())
            .unwrap_or_default();
        Host {
            cap_sys_admin,
            ns_kinds,
            kernel: parse_kernel(&kernel_release),
            kernel_release,
        }
    }

    /// Why `plan` cannot run here, or `None` when it can.
    pub fn unmet(&self, plan: &Plan) -> Option<String> {
        let mut missing = Vec::new();
        for r in &plan.requirements {
            let met = match r {
                Requirement::CapSysAdmin => self.cap_sys_admin,
                Requirement::Namespace(k) => self.ns_kinds.iter().any(|n| n == k.proc_name()),
                Requirement::Kernel(a, b) => self.kernel.is_none_or(|have| have >= (*a, *b)),
            };
            if !met {
                missing.push(match r {
                    Requirement::CapSysAdmin => "needs CAP_SYS_ADMIN (run as root; the harness \
                        creates its own mount namespace); try `vm/run`"
                        .to_string(),
                    Requirement::Namespace(k) => format!(
                        "needs {} namespaces, which this kernel lacks (no /proc/self/ns/{}); try `vm/run` with a newer kernel",
                        k.name(),
                        k.proc_name()
                    ),
                    Requirement::Kernel(a, b) => format!(
                        "needs kernel >= {a}.{b}, this is {}; try `vm/run` with a newer kernel",
                        self.kernel_release
                    ),
                });
            }
        }
        (!missing.is_empty()).then(|| missing.join("; "))
    }
}

fn parse_kernel(release: &str) -> Option<(u32, u32)> {
    let mut it = release.split(|c: char| !c.is_ascii_digit());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::parse_kernel;

    #[test]
    fn kernel_release_is_parsed() {
        assert_eq!(parse_kernel("6.1.0-50-cloud-amd64"), Some((6, 1)));
        assert_eq!(parse_kernel("5.10.0-32"), Some((5, 10)));
        assert_eq!(parse_kernel("garbage"), None);
    }
}
