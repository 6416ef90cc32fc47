//! Process-count limits for a scenario, so a fork bomb inside it cannot exhaust the host.
//!
//! In order of preference: a cgroup v2 child with `pids.max` (where the harness's cgroup, or
//! its parent, delegates the pids controller), a cgroup in the v1 pids hierarchy (hybrid hosts
//! such as this project's CI), and RLIMIT_NPROC otherwise (effective only without
//! CAP_SYS_ADMIN/CAP_SYS_RESOURCE, i.e. in rootless mode — where the cgroups are not writable
//! either). Cgroups are named `nsspec-<supervisor pid>`; one left behind by a SIGKILLed run is
//! removed by the next run once it is empty and its supervisor is gone.

use std::path::{Path, PathBuf};

/// The limit in force for one scenario; removed on [`Limit::release`].
#[derive(Debug)]
pub(crate) struct Limit {
    /// The cgroup the supervisor was moved into, and the one it came from.
    cgroup: Option<(PathBuf, PathBuf)>,
    /// Whether that cgroup is in the v1 pids hierarchy (else cgroup v2).
    v1: bool,
    /// Where the harness mounted cgroup2 itself (in its private mount namespace), to unmount
    /// on release.
    mounted: Option<PathBuf>,
    pub(crate) description: String,
}

const V1_PIDS: &str = "/sys/fs/cgroup/pids";

impl Limit {
    /// Puts the calling process (the supervisor, before it forks anything) under a limit of
    /// `max` processes. `rootless`: the caller is root only in a user namespace of its own,
    /// where RLIMIT_NPROC binds (the kernel exempts real root from it).
    pub(crate) fn apply(max: u32, rootless: bool) -> Limit {
        let me = std::process::id();
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let mut candidates = Vec::new();
        if let Some(mount) = cgroup2_mount()
            && let Some(path) = own.lines().find_map(|l| l.strip_prefix("0::"))
        {
            let cur = mount.join(path.trim_start_matches('/'));
            if cur == mount {
                // The root cgroup may hold processes and have children with controllers.
                candidates.push(("cgroup v2", mount.clone(), mount.clone()));
            } else if let Some(parent) = cur.parent().filter(|p| p.starts_with(&mount)) {
                // A sibling of our own cgroup: v2 forbids controllers below a cgroup that
                // holds processes, and ours holds the harness.
                candidates.push(("cgroup v2", parent.to_path_buf(), cur.clone()));
            }
        }
        if let Some(path) = own.lines().find_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, ctl, path) = (f.next()?, f.next()?, f.next()?);
            ctl.split(',')
                .any(|c| c == "pids")
                .then(|| path.to_string())
        }) {
            let cur = Path::new(V1_PIDS).join(path.trim_start_matches('/'));
            candidates.push(("cgroup v1", cur.clone(), cur));
        }
        for (kind, parent, origin) in candidates {
            remove_stale(&parent);
            let dir = parent.join(format!("nsspec-{me}"));
            if std::fs::create_dir(&dir).is_err() {
                continue;
            }
            let ok = std::fs::write(dir.join("pids.max"), max.to_string()).is_ok()
                && std::fs::write(dir.join("cgroup.procs"), me.to_string()).is_ok();
            if ok {
                return Limit {
                    description: format!(
                        "{kind} pids.max={max} (a cgroup under {})",
                        parent.display()
                    ),
                    cgroup: Some((dir, origin)),
                    v1: kind == "cgroup v1",
                    mounted: None,
                };
            }
            let _ = std::fs::remove_dir(&dir);
        }
        let ok = nix::sys::resource::setrlimit(
            nix::sys::resource::Resource::RLIMIT_NPROC,
            max.into(),
            max.into(),
        )
        .is_ok();
        let mut limit = Limit {
            cgroup: None,
            v1: false,
            mounted: None,
            description: match (ok, rootless) {
                (true, true) => format!("RLIMIT_NPROC={max} (no writable pids cgroup)"),
                (true, false) => format!(
                    "none: no writable pids cgroup, and RLIMIT_NPROC={max} does not bind root"
                ),
                (false, _) => "none: no writable pids cgroup, RLIMIT_NPROC refused".into(),
            },
        };
        if !rootless {
            limit.group_only(me);
        }
        limit
    }

    /// Without a pids cgroup, still gives the scenario a cgroup v2 of its own (no limit, no
    /// controllers), so that cgroup steps behave as on any host: a child of the supervisor's
    /// own v2 cgroup. Where nothing mounts cgroup2 (a minimal VM guest), it is mounted on
    /// /sys/fs/cgroup in the supervisor's private mount namespace and unmounted on release.
    fn group_only(&mut self, me: u32) {
        let mut mount = any_cgroup2_mount();
        if mount.is_none() {
            let point = PathBuf::from("/sys/fs/cgroup");
            let mounted = point.is_dir()
                && nix::mount::mount(
                    Some("cgroup2"),
                    &point,
                    Some("cgroup2"),
                    nix::mount::MsFlags::MS_NOSUID
                        | nix::mount::MsFlags::MS_NODEV
                        | nix::mount::MsFlags::MS_NOEXEC,
                    None::<&str>,
                )
                .is_ok();
            if mounted {
                self.mounted = Some(point.clone());
                mount = Some(point);
            }
        }
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let cgroup = mount.zip(own.lines().find_map(|l| l.strip_prefix("0::")));
        if let Some((mount, path)) = cgroup {
            let origin = mount.join(path.trim_start_matches('/'));
            let dir = origin.join(format!("nsspec-{me}"));
            if std::fs::create_dir(&dir).is_ok() {
                if std::fs::write(dir.join("cgroup.procs"), me.to_string()).is_ok() {
                    self.description.push_str(&format!(
                        "; the scenario's cgroup (for cgroup steps, no limit) is a cgroup v2 under {}",
                        origin.display()
                    ));
                    self.cgroup = Some((dir, origin));
                    return;
                }
                let _ = std::fs::remove_dir(&dir);
            }
        }
        self.unmount();
    }

    fn unmount(&self) {
        if let Some(point) = &self.mounted {
            let _ = nix::mount::umount2(point, nix::mount::MntFlags::MNT_DETACH);
        }
    }

    /// Moves the caller back and removes the cgroup; false while processes remain in it.
    pub(crate) fn release(&self) -> bool {
        match &self.cgroup {
            None => true,
            Some((dir, origin)) => {
                let _ = std::fs::write(origin.join("cgroup.procs"), std::process::id().to_string());
                let gone = remove_tree(dir) || !dir.exists();
                if gone {
                    self.unmount();
                }
                gone
            }
        }
    }

    /// The scenario's cgroup directory, and whether it is in the v1 pids hierarchy. Scenarios
    /// may create cgroups below it (`cgroup_enter`); [`Limit::release`] removes them too.
    pub(crate) fn cgroup_dir(&self) -> Option<(PathBuf, bool)> {
        self.cgroup.as_ref().map(|(dir, _)| (dir.clone(), self.v1))
    }

    /// Whether a cgroup holds the scenario (so its emptiness can be observed).
    pub(crate) fn has_cgroup(&self) -> bool {
        self.cgroup.is_some()
    }
}

/// Where cgroup2 is mounted, if it is and has the pids controller available.
fn cgroup2_mount() -> Option<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    mounts.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        if !right.starts_with("cgroup2 ") {
            return None;
        }
        let point = PathBuf::from(left.split(' ').nth(4)?);
        let controllers = std::fs::read_to_string(point.join("cgroup.controllers")).ok()?;
        controllers
            .split_whitespace()
            .any(|c| c == "pids")
            .then_some(point)
    })
}

/// Where cgroup2 is mounted, if anywhere, whatever its controllers.
fn any_cgroup2_mount() -> Option<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    mounts.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        right
            .starts_with("cgroup2 ")
            .then(|| PathBuf::from(left.split(' ').nth(4).unwrap_or("/")))
    })
}

/// Removes `nsspec-<pid>` cgroups under `parent` whose supervisor is gone and that are empty.
fn remove_stale(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("nsspec-"))
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
        let empty = std::fs::read_to_string(e.path().join("cgroup.procs"))
            .is_ok_and(|p| p.trim().is_empty());
        if !alive && empty {
            remove_tree(&e.path());
        }
    }
}

/// Removes a cgroup and every cgroup below it, deepest first (a cgroup directory can be
/// removed only when it has no children and no processes). True when `dir` is gone.
fn remove_tree(dir: &Path) -> bool {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_tree(&e.path());
            }
        }
    }
    std::fs::remove_dir(dir).is_ok()
}
