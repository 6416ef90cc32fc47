//! Process-count limits for a scenario, so a fork bomb inside it cannot exhaust the host.
//!
//! In order of preference: a cgroup v2 child with `pids.max` (where the harness's cgroup, or
//! its parent, delegates the pids controller), a cgroup in the v1 pids hierarchy (hybrid hosts
//! such as this project's CI), and RLIMIT_NPROC otherwise (effective only without
//! CAP_SYS_ADMIN/CAP_SYS_RESOURCE, i.e. in rootless mode — where the cgroups are not writable
//! either). Cgroups are named `nsspec-<supervisor pid>`; one left behind by a SIGKILLed run is
//! removed by the next run once it is empty and its supervisor is gone.
//!
//! **Only the scenario's processes enter the cgroup, and none of them migrates.** Moving a
//! whole process into a cgroup (a write to `cgroup.procs`) write-locks the kernel's global
//! `cgroup_threadgroup_rwsem`, which waits for an RCU grace period: 7–15 ms here whenever no
//! migration happened just before, more than the rest of a scenario. So on cgroup v2 init and
//! the host process are created inside it with clone3(CLONE_INTO_CGROUP) (Linux 5.7), which
//! takes the lock only for reading; on v1 the single-threaded supervisor moves just its own
//! thread (`0` to `tasks`, which the kernel does without that lock), forks them, and moves
//! back. The supervisor and the guardian stay outside, so removing the cgroup needs no
//! migration either. Older kernels fall back to `cgroup.procs`, which is only slower.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

const V1_PIDS: &str = "/sys/fs/cgroup/pids";

/// A cgroup hierarchy where scenario cgroups can go, found once per run by the runner.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    v2: bool,
    /// Where `nsspec-<pid>` is created.
    parent: PathBuf,
    /// The cgroup the harness is in (where the supervisor returns to on v1).
    origin: PathBuf,
}

/// Finds where scenario cgroups can be created, best first, and removes cgroups that earlier,
/// killed runs left there. Once per run: `mounts` are the runner's (mount point, type) pairs.
pub(crate) fn places(mounts: &[(String, String)]) -> Vec<Place> {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mut found = Vec::new();
    if let Some(mount) = cgroup2_mount(mounts)
        && let Some(path) = own.lines().find_map(|l| l.strip_prefix("0::"))
    {
        let cur = mount.join(path.trim_start_matches('/'));
        if cur == mount {
            // The root cgroup may hold processes and have children with controllers.
            found.push(Place {
                v2: true,
                parent: mount.clone(),
                origin: mount.clone(),
            });
        } else if let Some(parent) = cur.parent().filter(|p| p.starts_with(&mount)) {
            // A sibling of our own cgroup: v2 forbids controllers below a cgroup that holds
            // processes, and ours holds the harness.
            found.push(Place {
                v2: true,
                parent: parent.to_path_buf(),
                origin: cur.clone(),
            });
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
        found.push(Place {
            v2: false,
            parent: cur.clone(),
            origin: cur,
        });
    }
    for p in &found {
        remove_stale(&p.parent);
    }
    found
}

/// The cgroup of one scenario.
#[derive(Debug)]
struct Cgroup {
    dir: PathBuf,
    origin: PathBuf,
    /// v2: the directory, for clone3(CLONE_INTO_CGROUP). `None` on v1, or once that failed.
    clone_into: Option<OwnedFd>,
    /// Whether the supervisor itself is in the cgroup now (v1, or the v2 fallback).
    joined: bool,
}

/// The limit in force for one scenario; removed on [`Limit::release`].
#[derive(Debug)]
pub(crate) struct Limit {
    cgroup: Option<Cgroup>,
    pub(crate) description: String,
}

impl Limit {
    /// Creates the scenario's cgroup with `pids.max` = `max` in the first of `places` that
    /// allows it, else sets RLIMIT_NPROC on the caller (the supervisor, before it forks
    /// anything). `rootless`: the caller is root only in a user namespace of its own, where
    /// RLIMIT_NPROC binds (the kernel exempts real root from it).
    pub(crate) fn apply(places: &[Place], max: u32, rootless: bool) -> Limit {
        let me = std::process::id();
        for place in places {
            let dir = place.parent.join(format!("nsspec-{me}"));
            if std::fs::create_dir(&dir).is_err() {
                continue;
            }
            if std::fs::write(dir.join("pids.max"), max.to_string()).is_err() {
                let _ = std::fs::remove_dir(&dir);
                continue;
            }
            let clone_into = if place.v2 {
                match std::fs::File::open(&dir) {
                    Ok(f) => Some(OwnedFd::from(f)),
                    Err(_) => {
                        let _ = std::fs::remove_dir(&dir);
                        continue;
                    }
                }
            } else {
                None
            };
            return Limit {
                description: format!(
                    "cgroup {} pids.max={max} (a cgroup under {})",
                    if place.v2 { "v2" } else { "v1" },
                    place.parent.display()
                ),
                cgroup: Some(Cgroup {
                    dir,
                    origin: place.origin.clone(),
                    clone_into,
                    joined: false,
                }),
            };
        }
        let ok = nix::sys::resource::setrlimit(
            nix::sys::resource::Resource::RLIMIT_NPROC,
            max.into(),
            max.into(),
        )
        .is_ok();
        Limit {
            cgroup: None,
            description: match (ok, rootless) {
                (true, true) => format!("RLIMIT_NPROC={max} (no writable pids cgroup)"),
                (true, false) => format!(
                    "none: no writable pids cgroup, and RLIMIT_NPROC={max} does not bind root"
                ),
                (false, _) => "none: no writable pids cgroup, RLIMIT_NPROC refused".into(),
            },
        }
    }

    /// The cgroup directory to clone scenario processes into (cgroup v2), if any.
    pub(crate) fn clone_into(&self) -> Option<RawFd> {
        self.cgroup
            .as_ref()
            .and_then(|c| c.clone_into.as_ref())
            .map(|fd| fd.as_raw_fd())
    }

    /// Called before the supervisor forks scenario processes without [`Limit::clone_into`]:
    /// moves the supervisor into the cgroup so its children start there. On v1 only its own
    /// thread moves (cheap); `cgroup.procs` is the fallback.
    pub(crate) fn enter(&mut self) {
        let Some(c) = &mut self.cgroup else { return };
        if c.joined {
            return;
        }
        if c.clone_into.take().is_some() {
            self.description
                .push_str("; no CLONE_INTO_CGROUP here, so the supervisor migrates");
        }
        c.joined = join(&c.dir);
    }

    /// Called once init and the host process exist: the supervisor leaves the cgroup, so the
    /// cgroup holds exactly the scenario's processes and can be removed once they are gone.
    pub(crate) fn leave(&mut self) {
        if let Some(c) = &mut self.cgroup
            && c.joined
        {
            c.joined = !join(&c.origin);
        }
    }

    /// Leaves and removes the cgroup; false while processes remain in it.
    pub(crate) fn release(&mut self) -> bool {
        self.leave();
        self.remove()
    }

    /// Removes the cgroup (for a caller that is not in it, like the guardian); false while
    /// processes remain in it.
    pub(crate) fn remove(&self) -> bool {
        match &self.cgroup {
            None => true,
            Some(c) => std::fs::remove_dir(&c.dir).is_ok() || !c.dir.exists(),
        }
    }

    /// Whether a cgroup holds the scenario (so its emptiness can be observed).
    pub(crate) fn has_cgroup(&self) -> bool {
        self.cgroup.is_some()
    }
}

/// Moves the calling single-threaded process into the cgroup `dir`.
fn join(dir: &Path) -> bool {
    // `0` in v1's `tasks` moves only the calling thread, which the kernel does without the
    // global lock (cgroup_procs_write_start); for a single-threaded process that is the whole
    // process. v2 has no `tasks` file.
    std::fs::write(dir.join("tasks"), "0").is_ok()
        || std::fs::write(dir.join("cgroup.procs"), std::process::id().to_string()).is_ok()
}

/// Where cgroup2 is mounted, if it is and has the pids controller available.
fn cgroup2_mount(mounts: &[(String, String)]) -> Option<PathBuf> {
    mounts.iter().find_map(|(point, fstype)| {
        let point = PathBuf::from(point);
        let controllers = (fstype == "cgroup2")
            .then(|| std::fs::read_to_string(point.join("cgroup.controllers")).ok())??;
        controllers
            .split_whitespace()
            .any(|c| c == "pids")
            .then_some(point)
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
            let _ = std::fs::remove_dir(e.path());
        }
    }
}
