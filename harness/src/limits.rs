//! Process-count limits for a scenario, so a fork bomb inside it cannot exhaust the host.
//!
//! In order of preference: a cgroup v2 child with `pids.max` (where the harness's cgroup, or
//! its parent, delegates the pids controller), a cgroup in the v1 pids hierarchy (hybrid hosts
//! such as this project's CI), and RLIMIT_NPROC otherwise (effective only without
//! CAP_SYS_ADMIN/CAP_SYS_RESOURCE, i.e. in rootless mode — where the cgroups are not writable
//! either). As root without a pids cgroup the scenario still gets a cgroup v2 of its own, with
//! no limit, so that cgroup steps behave as on any host. Cgroups are named
//! `nsspec-<supervisor pid>` (`-<n>` appended when a run in another PID namespace has the
//! name), and the supervisor holds a flock on its cgroup. The run's guardian removes the cgroup
//! of a supervisor that dies; one left behind all the same (the guardian was killed too) is
//! removed by a later run once it is empty, unlocked and [`STALE_AFTER`] old. The age keeps runs off
//! each other's cgroups while a guardian may still be at work, and keeps the sweep from
//! hiding a guardian that failed (the tests look for leftovers right after a kill).
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

use std::borrow::Cow;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use crate::executor::MountInfoLine;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::path::{Path, PathBuf};

/// Where the supervisor mounts cgroup2 (in its private mount namespace) when nothing has.
const CGROUP2_DEFAULT: &str = "/sys/fs/cgroup";

/// A cgroup hierarchy where scenario cgroups can go.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    v2: bool,
    /// Whether `pids.max` can be set there; otherwise the cgroup only groups the scenario.
    pids: bool,
    /// Where `nsspec-<pid>` is created…
    parent: PathBuf,
    /// …and that directory's path as /proc/PID/cgroup shows it.
    parent_path: String,
    /// The cgroup the harness is in (where the supervisor returns to on v1).
    origin: PathBuf,
    /// The mount point `parent` and `origin` are reached through: nothing above it is visible.
    mount: PathBuf,
}

/// Where scenario cgroups can go, found once per run by the runner.
#[derive(Debug, Clone, Default)]
pub(crate) struct Places {
    /// Best first.
    list: Vec<Place>,
    /// No cgroup2 mount shows the harness's own cgroup: none is mounted at all (a minimal VM
    /// guest), or those mounted are rooted outside its cgroup namespace (the host's mount
    /// after a plain `unshare -C`). As root the supervisor mounts one in its private mount
    /// namespace, which the kernel roots at the namespace's root.
    mount_v2: bool,
    /// cgroup2 is mounted, but rooted where it does not show the harness's cgroup.
    v2_elsewhere: bool,
}

/// Finds where scenario cgroups can be created and removes cgroups that earlier, killed runs
/// left there. Once per run: `mountinfo` is the runner's /proc/self/mountinfo. Places whose
/// cgroups could not take a process (see [`attachable`]) are left out, so that a supervisor
/// never creates one there: a failed clone3(CLONE_INTO_CGROUP) after unshare(CLONE_NEWPID)
/// would have allocated, and so used up, the new PID namespace's PID 1.
pub(crate) fn places(mountinfo: &str) -> Places {
    let own = own_cgroups();
    // What a cgroup2 mount must pass, as seen now: the guardian (forked next) may mount one
    // only after a supervisor did, when its own view no longer tells (see `mount_cgroup2_on`).
    let _ = HOST_CGROUP2_DATA.set(cgroup2_mount_data(
        mountinfo,
        &own,
        || initial_cgroupns(libc::AT_FDCWD, "/proc/self/ns/cgroup"),
        // Not learnt here (a fork, on every run): what needs the flags learns them.
        || Err(Errno::EPERM),
    ));
    let mut places = find_places(mountinfo, &own);
    places.list.retain(|p| attachable(p).is_ok());
    for p in &places.list {
        remove_stale(&p.parent);
    }
    places
}

/// The cgroup2 mounts of a mountinfo text that no later mount covers (on the same point):
/// (root, mount point), in mountinfo order. The root is the mounted cgroup's path relative to
/// the reader's cgroup namespace (`/..` and below: outside it).
fn cgroup2_mounts(mountinfo: &str) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    cgroup_mounts(mountinfo, |m| m.fstype == "cgroup2")
}

/// [`cgroup2_mounts`] for the v1 hierarchy with the pids controller.
fn v1_pids_mounts(mountinfo: &str) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    cgroup_mounts(mountinfo, |m| {
        m.fstype == "cgroup" && m.super_options.split(',').any(|o| o == "pids")
    })
}

/// The mounts of a mountinfo text that `wanted` takes and that no later mount covers (on the
/// same point): (root, mount point), decoded, in mountinfo order.
fn cgroup_mounts(
    mountinfo: &str,
    wanted: impl Fn(&MountInfoLine) -> bool,
) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    let lines: Vec<(MountInfoLine, bool)> = mountinfo
        .lines()
        .filter_map(MountInfoLine::parse)
        .map(|m| {
            let w = wanted(&m);
            (m, w)
        })
        .collect();
    let covered = |i: usize| {
        lines[i + 1..]
            .iter()
            .any(|(m, _)| m.point == lines[i].0.point)
    };
    lines
        .iter()
        .enumerate()
        .filter(|&(i, (_, w))| *w && !covered(i))
        .map(|(_, (m, _))| (m.root.clone(), m.point.clone()))
        .collect()
}

/// The directory of the cgroup `path` (as /proc/self/cgroup shows it) below a cgroup2 mount of
/// the cgroup `root` (mountinfo's root field) at `point`: a bind of a subtree shows the cgroup
/// C at point + (C − root). None where that mount does not show it: C is not below `root`, or
/// either lies outside the reader's cgroup namespace (`/..`), where a mount made before
/// `unshare -C` leaves the harness's own cgroup and nsdelegate refuses every move (ENOENT).
fn dir_through(point: &Path, root: &str, path: &str) -> Option<PathBuf> {
    let parts = |p: &str| -> Option<Vec<String>> {
        let v: Vec<String> = p
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .map(str::to_string)
            .collect();
        (!v.iter().any(|c| c == "..")).then_some(v)
    };
    let (root, path) = (parts(root)?, parts(path)?);
    let below = path.strip_prefix(root.as_slice())?;
    Some(below.iter().fold(point.to_path_buf(), |d, c| d.join(c)))
}

/// Of the cgroup2 mounts in `mountinfo`, the one that shows the cgroup `path` with the most of
/// the hierarchy above it (the first of those): a sibling of the harness's cgroup must be
/// reachable. (mount point, its root, the cgroup's directory.)
fn v2_mount_for(mountinfo: &str, path: &str) -> Option<(PathBuf, String, PathBuf)> {
    mount_for(cgroup2_mounts(mountinfo), path)
}

/// [`v2_mount_for`] among `mounts` of one hierarchy.
fn mount_for(mounts: Vec<(Cow<str>, Cow<str>)>, path: &str) -> Option<(PathBuf, String, PathBuf)> {
    let mut best: Option<(usize, (PathBuf, String, PathBuf))> = None;
    for (root, point) in mounts {
        let point = Path::new(point.as_ref());
        let Some(dir) = dir_through(point, &root, path) else {
            continue;
        };
        let depth = dir.components().count() - point.components().count();
        if best.as_ref().is_none_or(|(d, _)| depth > *d) {
            best = Some((depth, (point.to_path_buf(), root.into_owned(), dir)));
        }
    }
    best.map(|(_, found)| found)
}

/// The caller's /proc/self/cgroup.
fn own_cgroups() -> String {
    std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default()
}

/// [`places`] without the checks and the sweep.
fn find_places(mountinfo: &str, own: &str) -> Places {
    let v2_path = cgroup_line(own, "");
    let v2 = v2_path
        .as_deref()
        .and_then(|path| v2_mount_for(mountinfo, path));
    let mut list = Vec::new();
    if let Some((mount, root, cur)) = &v2 {
        let has_pids = std::fs::read_to_string(mount.join("cgroup.controllers"))
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "pids"));
        if has_pids && cur == mount {
            // The root cgroup may hold processes and have children with controllers.
            list.push(Place::v2(true, mount, root, mount, mount));
        } else if has_pids && let Some(parent) = cur.parent().filter(|p| p.starts_with(mount)) {
            // A sibling of our own cgroup: v2 forbids controllers below a cgroup that holds
            // processes, and ours holds the harness.
            list.push(Place::v2(true, mount, root, parent, cur));
        }
        list.push(Place::v2(false, mount, root, cur, cur));
    }
    // As for v2, through the mount's root: after a plain `unshare -C` the host's mount is
    // rooted outside the namespace, and the path /proc/self/cgroup gives is the namespace's.
    if let Some(path) = cgroup_line(own, "pids")
        && let Some((mount, _, cur)) = mount_for(v1_pids_mounts(mountinfo), &path)
    {
        list.insert(
            list.iter().take_while(|p| p.pids).count(),
            Place {
                v2: false,
                pids: true,
                parent: cur.clone(),
                parent_path: path,
                origin: cur,
                mount,
            },
        );
    }
    Places {
        list,
        mount_v2: v2.is_none(),
        v2_elsewhere: v2.is_none() && !cgroup2_mounts(mountinfo).is_empty(),
    }
}

impl Place {
    /// What the cgroups of this hierarchy above a scenario's let it have: see
    /// [`Outlook::cgroup_room`]. `read` reads a number from a cgroup file.
    fn room(&self, read: &dyn Fn(&Path) -> Option<u64>) -> Option<u64> {
        // From the harness's own cgroup up, not the parent: on v2 that is the sibling's.
        room_above(&self.origin, &self.mount, read)
    }

    /// A place in the cgroup2 hierarchy whose cgroup `root` is mounted at `mount`, for
    /// `nsspec-<pid>` below `parent`.
    fn v2(pids: bool, mount: &Path, root: &str, parent: impl AsRef<Path>, origin: &Path) -> Place {
        let parent = parent.as_ref().to_path_buf();
        let rel = parent.strip_prefix(mount).unwrap_or(Path::new(""));
        let mut parent_path = root.trim_end_matches('/').to_string();
        for c in rel.components() {
            parent_path.push('/');
            parent_path.push_str(&c.as_os_str().to_string_lossy());
        }
        if parent_path.is_empty() {
            parent_path.push('/');
        }
        Place {
            v2: true,
            pids,
            parent_path,
            parent,
            origin: origin.to_path_buf(),
            mount: mount.to_path_buf(),
        }
    }
}

/// The cgroup of one scenario.
#[derive(Debug)]
struct Cgroup {
    dir: PathBuf,
    /// `dir` as /proc/PID/cgroup shows it for a process inside.
    path: String,
    v1: bool,
    /// The cgroup the supervisor came from, to go back to once init exists (`None`: it
    /// cannot be opened, and the supervisor stays, as when going back fails).
    origin_fd: Option<OwnedFd>,
    /// v2: `dir_fd` serves clone3(CLONE_INTO_CGROUP). False on v1, or once that failed.
    clone_into: bool,
    /// The directory holding `dir`, and `dir` itself, opened at creation: the supervisor kills
    /// and removes through them, since a scenario without a mount namespace of its own can
    /// mount over their paths in the supervisor's (a tmpfs on /sys, or on /).
    parent_fd: OwnedFd,
    dir_fd: OwnedFd,
    /// Whether the supervisor itself is in the cgroup now (v1, or the v2 fallback).
    joined: bool,
}

impl Cgroup {
    /// Its directory's name in `parent_fd`.
    fn name(&self) -> PathBuf {
        PathBuf::from(self.dir.file_name().unwrap_or_default())
    }
}

/// The limit in force for one scenario; removed on [`Limit::release`].
#[derive(Debug)]
pub(crate) struct Limit {
    cgroup: Option<Cgroup>,
    /// Whether `pids.max` of the cgroup limits the scenario; else RLIMIT_NPROC, if set, may.
    pids: bool,
    rlimit: bool,
    /// Where the supervisor mounted cgroup2 itself (in its private mount namespace), to
    /// unmount on release.
    mounted: Option<PathBuf>,
    /// The `pids.max` asked for, for RLIMIT_NPROC should the cgroup be given up.
    max: u32,
    pub(crate) description: String,
}

impl Limit {
    /// Creates the scenario's cgroup with `pids.max` = `max` in the first of `places` that
    /// allows it, else sets RLIMIT_NPROC on the caller (the supervisor, before it forks
    /// anything). `rootless`: the caller is root only in a user namespace of its own, where
    /// RLIMIT_NPROC binds (the kernel exempts real root from it). `announce(dir, mount, true)` is
    /// called before each cgroup directory is created, with where cgroup2 had to be mounted to
    /// reach it: the run's guardian must know of a cgroup before it exists; and
    /// `announce(dir, mount, false)` when it could not be created after all.
    pub(crate) fn apply(
        places: &Places,
        max: u32,
        rootless: bool,
        announce: &mut dyn FnMut(&Path, Option<&Path>, bool),
    ) -> Limit {
        let me = std::process::id();
        for place in places.list.iter().filter(|p| p.pids) {
            let Some(cgroup) = create(place, me, None, announce) else {
                continue;
            };
            if !write_at(cgroup.dir_fd.as_fd(), "pids.max", &max.to_string()) {
                let _ = remove_tree_at(cgroup.parent_fd.as_fd(), &cgroup.name());
                continue;
            }
            return Limit {
                description: format!(
                    "cgroup {} pids.max={max} ({} under {})",
                    if place.v2 { "v2" } else { "v1" },
                    cgroup.name().display(),
                    place.parent.display()
                ),
                cgroup: Some(cgroup),
                pids: true,
                rlimit: false,
                mounted: None,
                max,
            };
        }
        let ok = nix::sys::resource::setrlimit(
            nix::sys::resource::Resource::RLIMIT_NPROC,
            max.into(),
            max.into(),
        )
        .is_ok();
        let mut limit = Limit {
            cgroup: None,
            pids: false,
            rlimit: ok,
            mounted: None,
            max,
            description: match (ok, rootless) {
                (true, true) => format!("RLIMIT_NPROC={max} (no writable pids cgroup)"),
                (true, false) => format!(
                    "RLIMIT_NPROC={max} (no writable pids cgroup), which the kernel ignores for \
                     real root"
                ),
                (false, _) => "none: no writable pids cgroup, RLIMIT_NPROC refused".into(),
            },
        };
        if !rootless {
            limit.group_only(places, me, announce);
        }
        limit
    }

    /// Without a pids cgroup, still gives the scenario a cgroup v2 of its own (no limit, no
    /// controllers), a child of the supervisor's own v2 cgroup, so that cgroup steps behave as
    /// on any host. Where nothing mounts cgroup2 (a minimal VM guest), it is mounted on
    /// /sys/fs/cgroup in the supervisor's private mount namespace and unmounted on release.
    fn group_only(
        &mut self,
        places: &Places,
        me: u32,
        announce: &mut dyn FnMut(&Path, Option<&Path>, bool),
    ) {
        let mut plain: Vec<Place> = places.list.iter().filter(|p| !p.pids).cloned().collect();
        if plain.is_empty() && places.mount_v2 {
            let point = PathBuf::from(CGROUP2_DEFAULT);
            if mount_cgroup2(&point) {
                // /proc/self/cgroup has a `0::` line only once cgroup2 is mounted somewhere.
                let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
                // The new mount's root is the cgroup namespace's root, "/".
                if let Some(cur) = cgroup_line(&own, "").and_then(|p| dir_through(&point, "/", &p))
                {
                    plain.push(Place::v2(false, &point, "/", &cur, &cur));
                }
                self.mounted = Some(point);
            }
        }
        for place in &plain {
            if let Some(cgroup) = create(place, me, self.mounted.as_deref(), announce) {
                self.description.push_str(&format!(
                    "; the scenario's cgroup (for cgroup steps, no limit) is cgroup v2 {} under {}",
                    cgroup.name().display(),
                    place.parent.display()
                ));
                self.cgroup = Some(cgroup);
                return;
            }
        }
        self.unmount();
    }

    /// Gives the cgroup up after the kernel refused to create a scenario process in it (`e`,
    /// from clone3(CLONE_INTO_CGROUP)) and that process was created outside instead: the places
    /// were judged by permissions and types (see [`attachable`]), and the kernel may still
    /// know better. The scenario runs on without a cgroup of its own, under RLIMIT_NPROC
    /// (which binds in rootless mode only).
    pub(crate) fn abandon(&mut self, e: Errno) {
        let Some(c) = self.cgroup.take() else { return };
        let _ = remove_tree_at(c.parent_fd.as_fd(), &c.name());
        self.unmount();
        self.mounted = None;
        self.pids = false;
        if !self.rlimit {
            self.rlimit = nix::sys::resource::setrlimit(
                nix::sys::resource::Resource::RLIMIT_NPROC,
                self.max.into(),
                self.max.into(),
            )
            .is_ok();
        }
        self.description.push_str(&format!(
            "; given up: the cgroup could not take the scenario's processes ({}), so none has \
             one{}",
            crate::report::errno_text(e as i32),
            if self.rlimit {
                format!(" and RLIMIT_NPROC={} stands in", self.max)
            } else {
                String::new()
            }
        ));
    }

    /// Whether the limit is enforced: a pids cgroup, or RLIMIT_NPROC where it binds (tried by
    /// forking, so only for scenarios that need to know).
    pub(crate) fn binds(&self) -> bool {
        self.pids || (self.rlimit && rlimit_nproc_binds(false))
    }

    /// The cgroup directory to clone scenario processes into (cgroup v2), if any.
    pub(crate) fn clone_into(&self) -> Option<RawFd> {
        self.cgroup
            .as_ref()
            .filter(|c| c.clone_into)
            .map(|c| c.dir_fd.as_raw_fd())
    }

    /// Called before the supervisor forks scenario processes without [`Limit::clone_into`]:
    /// moves the supervisor into the cgroup so its children start there. On v1 only its own
    /// thread moves (cheap); `cgroup.procs` is the fallback.
    pub(crate) fn enter(&mut self) {
        let Some(c) = &mut self.cgroup else { return };
        if c.joined {
            return;
        }
        if std::mem::take(&mut c.clone_into) {
            self.description
                .push_str("; no CLONE_INTO_CGROUP here, so the supervisor migrates");
        }
        c.joined = join(c.dir_fd.as_fd());
    }

    /// Called once init and the host process exist: the supervisor leaves the cgroup, so the
    /// cgroup holds exactly the scenario's processes and can be removed once they are gone.
    pub(crate) fn leave(&mut self) {
        if let Some(c) = &mut self.cgroup
            && c.joined
        {
            c.joined = !c.origin_fd.as_ref().is_some_and(|o| join(o.as_fd()));
        }
    }

    /// Leaves and removes the cgroup; false while processes remain in it.
    pub(crate) fn release(&mut self) -> bool {
        self.leave();
        self.remove()
    }

    /// Removes the cgroup, and the cgroups scenario steps created below it (for a caller that
    /// is not in it, like the guardian); false while processes remain in it.
    pub(crate) fn remove(&self) -> bool {
        match &self.cgroup {
            None => true,
            Some(c) => {
                let gone = remove_tree_at(c.parent_fd.as_fd(), &c.name());
                if gone {
                    self.unmount();
                }
                gone
            }
        }
    }

    /// The scenario's cgroup directory, opened when it was made.
    pub(crate) fn cgroup_fd(&self) -> Option<BorrowedFd<'_>> {
        self.cgroup.as_ref().map(|c| c.dir_fd.as_fd())
    }

    /// The scenario's cgroup directory, its path as /proc/PID/cgroup shows it, and whether it
    /// is in the v1 pids hierarchy. Scenarios may create cgroups below it (`cgroup_enter`);
    /// [`Limit::release`] removes them too.
    pub(crate) fn cgroup_dir(&self) -> Option<(PathBuf, String, bool)> {
        self.cgroup
            .as_ref()
            .map(|c| (c.dir.clone(), c.path.clone(), c.v1))
    }

    fn unmount(&self) {
        if let Some(point) = &self.mounted {
            let _ = nix::mount::umount2(point, nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

/// What a scenario's supervisor will find here, foreseen for the probe: the places
/// [`Limit::apply`] tries, judged by their permissions, so that a scenario that needs a cgroup
/// of its own or a process limit is skipped with the reason rather than failed or run
/// unbounded. Nothing is created; only where no existing place will do does it fork to try the
/// fallback (mounting cgroup2, RLIMIT_NPROC).
pub(crate) struct Outlook {
    places: Places,
    rootless: bool,
}

impl Outlook {
    /// `rootless`: the supervisors will run in user namespaces of their own.
    pub(crate) fn here(rootless: bool) -> Outlook {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        Outlook {
            places: find_places(&mountinfo, &own_cgroups()),
            rootless,
        }
    }

    /// How many more processes the cgroups above a scenario's would let it have: the least
    /// `pids.max` − `pids.current` of the harness's own cgroup and its ancestors (a systemd
    /// unit's TasksMax, a container's pids limit), None where none of them sets one. A
    /// scenario's own `pids.max` bounds it, but its processes count against its ancestors
    /// too. On v2 its cgroup is a sibling of the harness's own, so a limit set on that one
    /// does not count them; it is honoured all the same, as the limit whoever started nsspec
    /// meant for everything it runs.
    pub(crate) fn cgroup_room(&self) -> Option<u64> {
        let room = |p: &Place| p.room(&|f| read_number(f));
        if let Some(place) = self
            .places
            .list
            .iter()
            .filter(|p| p.pids)
            .find(|p| usable(p).is_ok())
        {
            return room(place);
        }
        // No cgroup of the scenario's own (rootless: RLIMIT_NPROC bounds it): its processes
        // stay in nsspec's own cgroup, and count against it and every cgroup above, in each
        // hierarchy. Reading their limits needs no write access.
        self.places.list.iter().filter_map(room).min()
    }

    /// Whether a cgroup with `pids.max` can be made, else what each place lacks.
    fn pids_cgroup(&self) -> Result<(), Vec<String>> {
        let mut why = Vec::new();
        for p in self.places.list.iter().filter(|p| p.pids) {
            match usable(p) {
                Ok(()) => return Ok(()),
                Err(e) => why.push(e),
            }
        }
        if why.is_empty() {
            why.push(
                "no pids controller in reach (neither a mounted v1 pids hierarchy nor a cgroup2 \
                 that offers it, that shows nsspec's own cgroup)"
                    .to_string(),
            );
        }
        Err(why)
    }

    /// Whether each scenario gets a cgroup of its own (for `cgroup_enter` and `<scenario>`
    /// paths), else why not.
    pub(crate) fn own_cgroup(&self) -> Result<(), String> {
        let mut why = match self.pids_cgroup() {
            Ok(()) => return Ok(()),
            Err(why) => why,
        };
        if self.rootless {
            why.push("rootless, nsspec makes no cgroup without a pids limit".into());
            return Err(why.join("; "));
        }
        // The fallback of `Limit::group_only`.
        let plain: Vec<&Place> = self.places.list.iter().filter(|p| !p.pids).collect();
        for p in &plain {
            match usable(p) {
                Ok(()) => return Ok(()),
                Err(e) => why.push(e),
            }
        }
        if plain.is_empty() && self.places.mount_v2 {
            match try_cgroup2_mount() {
                Ok(()) => return Ok(()),
                Err(e) if self.places.v2_elsewhere => why.push(format!(
                    "no cgroup2 mount shows nsspec's own cgroup (they are rooted outside its \
                     cgroup namespace, as after a plain `unshare -C`), and one of the namespace \
                     mounted on {CGROUP2_DEFAULT} in a private mount namespace gives no writable \
                     cgroup ({}{}); mount cgroup2 inside the namespace (`unshare -Cm`, then \
                     `mount -t cgroup2 none {CGROUP2_DEFAULT}` in place of the old one) or use \
                     `vm/run`",
                    crate::report::errno_text(e as i32),
                    if e == Errno::EBUSY {
                        ": the host's cgroup2 is mounted right there"
                    } else {
                        ""
                    }
                )),
                Err(e) => why.push(format!(
                    "no cgroup2 in reach, and one mounted on {CGROUP2_DEFAULT} in a private mount \
                     namespace gives no writable cgroup ({})",
                    crate::report::errno_text(e as i32)
                )),
            }
        }
        Err(why.join("; "))
    }

    /// Whether the number of a scenario's processes will be limited, else why not.
    pub(crate) fn process_limit(&self) -> Result<(), String> {
        let why = match self.pids_cgroup() {
            Ok(()) => return Ok(()),
            Err(why) => why,
        };
        if rlimit_nproc_binds(self.rootless) {
            return Ok(());
        }
        Err(format!(
            "no writable pids cgroup ({}), and RLIMIT_NPROC does not bind here (the kernel \
             exempts real root and holders of CAP_SYS_RESOURCE or CAP_SYS_ADMIN in the initial \
             user namespace)",
            why.join("; ")
        ))
    }
}

/// The least `pids.max` − `pids.current` of the cgroup `dir` and its ancestors up to `mount`
/// (above it nothing is visible), as `read` finds those files; None where none sets a limit.
fn room_above(dir: &Path, mount: &Path, read: &dyn Fn(&Path) -> Option<u64>) -> Option<u64> {
    dir.ancestors()
        .take_while(|d| d.starts_with(mount))
        .filter_map(|d| {
            let max = read(&d.join("pids.max"))?;
            Some(max.saturating_sub(read(&d.join("pids.current"))?))
        })
        .min()
}

/// The whole number a one-line file holds (a sysctl, a cgroup's `pids.max`); None where it
/// cannot be read or holds something else (`max`).
pub(crate) fn read_number(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Whether `Limit::apply` can create its cgroup in `place`, judged by permissions and, for a
/// v2 pids limit, by whether the parent hands the pids controller down: `apply` does not
/// enable it. access(2) also answers EROFS, and ENOENT where a mount listed in mountinfo is
/// out of reach (something mounted over /sys/fs/cgroup hides it).
fn usable(place: &Place) -> Result<(), String> {
    nix::unistd::access(&place.parent, nix::unistd::AccessFlags::W_OK).map_err(|e| {
        format!(
            "{} cannot take a new cgroup ({})",
            place.parent.display(),
            crate::report::errno_text(e as i32)
        )
    })?;
    let control = place.parent.join("cgroup.subtree_control");
    if place.v2
        && place.pids
        && !std::fs::read_to_string(&control)
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "pids"))
    {
        return Err(format!("{} lacks pids", control.display()));
    }
    attachable(place)
}

/// Whether a v2 cgroup made in `place` could take the scenario's processes, which the kernel
/// checks only when they are cloned into it (clone3 fails then, every scenario with it):
/// the writer needs write access to `cgroup.procs` of the common ancestor of where the
/// process is and where it goes ("Delegation containment" in cgroup-v2.rst: EACCES), here
/// `place.parent` (the harness's own cgroup or its parent); and the new cgroup must be a
/// valid domain, which a child of a threaded cgroup or of a threaded domain other than the
/// root is not (EOPNOTSUPP). v1 has neither rule; its place is taken from /proc/self/cgroup
/// alone, so it must at least be a cgroup (an unmounted hierarchy leaves an empty directory).
fn attachable(place: &Place) -> Result<(), String> {
    let procs = place.parent.join("cgroup.procs");
    if !place.v2 {
        return match procs.exists() {
            true => Ok(()),
            false => Err(format!("{} is no cgroup", place.parent.display())),
        };
    }
    nix::unistd::access(&procs, nix::unistd::AccessFlags::W_OK).map_err(|e| {
        format!(
            "{} is not writable ({}), and a process can enter a cgroup below it only then",
            procs.display(),
            crate::report::errno_text(e as i32)
        )
    })?;
    // The root has no cgroup.type and may mix threaded and domain children.
    match std::fs::read_to_string(place.parent.join("cgroup.type")) {
        Ok(t) if t.trim() != "domain" => Err(format!(
            "{} is a {} cgroup, below which a new cgroup cannot take processes",
            place.parent.display(),
            t.trim()
        )),
        _ => Ok(()),
    }
}

/// Tries in a child what `Limit::group_only` does where no cgroup2 is in reach: mount one in a
/// private mount namespace and find the caller's cgroup in it writable.
fn try_cgroup2_mount() -> Result<(), nix::errno::Errno> {
    use crate::executor::{in_child, make_mounts_private, unshare};
    in_child(|| {
        unshare(libc::CLONE_NEWNS)?;
        make_mounts_private()?;
        let point = Path::new(CGROUP2_DEFAULT);
        mount_cgroup2_on(point)?;
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let path = cgroup_line(&own, "").ok_or(nix::errno::Errno::ENOENT)?;
        let cur = dir_through(point, "/", &path).ok_or(nix::errno::Errno::ENOENT)?;
        nix::unistd::access(&cur, nix::unistd::AccessFlags::W_OK)?;
        attachable(&Place::v2(false, point, "/", &cur, &cur)).map_err(|_| Errno::EACCES)
    })
}

/// Whether RLIMIT_NPROC stops a fork here. copy_process() ignores it for real root (kuid 0)
/// and for holders of CAP_SYS_RESOURCE or CAP_SYS_ADMIN in the initial user namespace, and
/// from inside a user namespace neither is visible: so a child sets it to 0 and forks.
/// `own_userns`: first enter a user namespace of its own, as a rootless supervisor does.
pub(crate) fn rlimit_nproc_binds(own_userns: bool) -> bool {
    use crate::executor::{enter_own_userns, in_child};
    use nix::errno::Errno;
    let (uid, gid) = (
        nix::unistd::getuid().as_raw(),
        nix::unistd::getgid().as_raw(),
    );
    in_child(|| {
        if own_userns {
            enter_own_userns(uid, gid)?;
        }
        nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NPROC, 0, 0)?;
        match in_child(|| Ok(())) {
            Err(Errno::EAGAIN) => Ok(()),
            _ => Err(Errno::ENOTSUP),
        }
    })
    .is_ok()
}

/// Mounts cgroup2 on `point` (in the caller's mount namespace, which must be private).
pub(crate) fn mount_cgroup2(point: &Path) -> bool {
    point.is_dir() && mount_cgroup2_on(point).is_ok()
}

fn mount_cgroup2_on(point: &Path) -> nix::Result<()> {
    let read = |f: &str| std::fs::read_to_string(format!("/proc/self/{f}")).unwrap_or_default();
    let data = cgroup2_data(&read("mountinfo"), &read("cgroup"), || {
        initial_cgroupns(libc::AT_FDCWD, "/proc/self/ns/cgroup")
    })?;
    mount_cgroup2_with(point, &data)
}

/// [`cgroup2_mount_data`] as the runner saw it when the run began ([`places`]), for the
/// processes it forks.
static HOST_CGROUP2_DATA: std::sync::OnceLock<nix::Result<String>> = std::sync::OnceLock::new();

/// [`cgroup2_mount_data`] for a process of the run, from its `mountinfo` and `cgroup`: else as
/// the run began ([`or_as_the_run_began`]), else learnt by a child: last, since a scenario
/// process may have a second thread, and fork() then copies only the caller.
pub(crate) fn cgroup2_data(
    mountinfo: &str,
    cgroup: &str,
    initial_cgroupns: impl FnOnce() -> bool,
) -> nix::Result<String> {
    or_as_the_run_began(cgroup2_mount_data(
        mountinfo,
        cgroup,
        initial_cgroupns,
        || Err(Errno::EPERM),
    ))
    .or_else(|_| learn_cgroup2_flags())
}

/// `now`, or where the flags are not known from here (no cgroup2 mount in sight, though one
/// was mounted since boot: a supervisor's own, say), what the run found when it began: the
/// flags change only by a cgroup2 mount from the initial cgroup namespace, which nsspec makes
/// only with them.
pub(crate) fn or_as_the_run_began(now: nix::Result<String>) -> nix::Result<String> {
    now.or_else(|e| match HOST_CGROUP2_DATA.get() {
        Some(Ok(data)) => Ok(data.clone()),
        _ => Err(e),
    })
}

/// mount(2) of cgroup2 on `point` with `data` (see [`cgroup2_mount_data`]).
pub(crate) fn mount_cgroup2_with(point: &Path, data: &str) -> nix::Result<()> {
    nix::mount::mount(
        Some("cgroup2"),
        point,
        Some("cgroup2"),
        nix::mount::MsFlags::MS_NOSUID
            | nix::mount::MsFlags::MS_NODEV
            | nix::mount::MsFlags::MS_NOEXEC,
        Some(data),
    )
}

/// The root flags of cgroup2 that a mount's options set (cgroup2_fs_parameters in
/// kernel/cgroup/cgroup.c, up to Linux 7.x), as mountinfo shows them among a cgroup2 mount's
/// superblock options: what [`learn_cgroup2_flags`] can tell.
const CGROUP2_ROOT_FLAGS: [&str; 6] = [
    "nsdelegate",
    "favordynmods",
    "memory_localevents",
    "memory_recursiveprot",
    "memory_hugetlb_accounting",
    "pids_localevents",
];

/// The options a new cgroup2 mount must pass to leave the host as it is. cgroup2 has one
/// superblock, and a mount made from the initial cgroup namespace sets its root flags to the
/// mount's options, for the whole host (apply_cgroup_root_flags() in kernel/cgroup/cgroup.c): a
/// plain `mount -t cgroup2` on a systemd host clears `nsdelegate` and `memory_recursiveprot`
/// everywhere. So the flags are those any cgroup2 mount in `mountinfo` shows; with none in
/// sight, none where cgroup2 was never mounted since boot (`cgroup` has no `0::` line until it
/// is, cgroup_show_path()) or from another cgroup namespace (where the kernel applies no
/// flags); otherwise what `learn` finds out ([`learn_cgroup2_flags`]).
pub(crate) fn cgroup2_mount_data(
    mountinfo: &str,
    cgroup: &str,
    initial_cgroupns: impl FnOnce() -> bool,
    learn: impl FnOnce() -> nix::Result<String>,
) -> nix::Result<String> {
    match shown_cgroup2_flags(mountinfo) {
        Some(flags) => Ok(flags),
        None if cgroup_line(cgroup, "").is_none() || !initial_cgroupns() => Ok(String::new()),
        None => learn(),
    }
}

/// The root flags the first cgroup2 mount in `mountinfo` shows among its superblock options
/// (cgroup_show_options()), comma-separated; None without a cgroup2 mount. Every option but
/// `rw`/`ro` and a security module's (`seclabel`, `context=…`) is taken, not only the flags
/// [`CGROUP2_ROOT_FLAGS`] knows: a flag a later kernel adds is one that kernel accepts, and
/// left out it would be cleared.
fn shown_cgroup2_flags(mountinfo: &str) -> Option<String> {
    let options = mountinfo
        .lines()
        .filter_map(MountInfoLine::parse)
        .find(|m| m.fstype == "cgroup2")?
        .super_options;
    Some(
        options
            .split(',')
            .filter(|o| !o.is_empty() && !["rw", "ro", "seclabel"].contains(o) && !o.contains('='))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// The host's cgroup2 flags where no mount in sight shows them: a child mounts cgroup2 in a
/// cgroup (and mount) namespace of its own, where the kernel applies none of the mount's
/// options to the flags, and reads them off that mount. The caller must be single-threaded.
pub(crate) fn learn_cgroup2_flags() -> nix::Result<String> {
    use crate::executor::{child_exit_code, make_mounts_private, unshare};
    // The flags as a bit mask of CGROUP2_ROOT_FLAGS, the exit status; 255 where unknown.
    let mask = child_exit_code(|| {
        let found = (|| -> Option<u8> {
            unshare(libc::CLONE_NEWNS | libc::CLONE_NEWCGROUP).ok()?;
            make_mounts_private().ok()?;
            let point = [CGROUP2_DEFAULT, "/mnt", "/tmp"]
                .into_iter()
                .map(Path::new)
                .find(|p| p.is_dir())?;
            mount_cgroup2_with(point, "").ok()?;
            let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
            let shown = shown_cgroup2_flags(&info)?;
            // A flag this list does not know cannot be told through the exit status: the
            // flags stay unknown.
            if shown
                .split(',')
                .any(|f| !f.is_empty() && !CGROUP2_ROOT_FLAGS.contains(&f))
            {
                return None;
            }
            Some(
                CGROUP2_ROOT_FLAGS
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| shown.split(',').any(|s| s == **f))
                    .fold(0, |mask, (i, _)| mask | 1 << i),
            )
        })();
        found.map_or(255, i32::from)
    })
    // A child that did not exit told nothing either.
    .or_else(|e| if e == Errno::ECHILD { Ok(255) } else { Err(e) })?;
    if mask >= 1 << CGROUP2_ROOT_FLAGS.len() {
        return Err(Errno::EPERM);
    }
    Ok(CGROUP2_ROOT_FLAGS
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & 1 << i != 0)
        .map(|(_, f)| *f)
        .collect::<Vec<_>>()
        .join(","))
}

/// Whether the namespace file `path` (at `dir`) is the initial cgroup namespace's, whose inode
/// is fixed (include/linux/proc_ns.h). Unknown counts as initial.
pub(crate) fn initial_cgroupns(dir: RawFd, path: &str) -> bool {
    use crate::probe::PROC_CGROUP_INIT_INO;
    // SAFETY: `dir` is AT_FDCWD or a descriptor the caller holds open for the call.
    let dir = unsafe { BorrowedFd::borrow_raw(dir) };
    nix::sys::stat::fstatat(dir, path, nix::fcntl::AtFlags::empty())
        .map_or(true, |st| st.st_ino == PROC_CGROUP_INIT_INO)
}

/// How many names [`create`] tries: `nsspec-<me>`, then `nsspec-<me>-1` and on.
const NAME_TRIES: u32 = 8;

/// The name of a scenario cgroup: `nsspec-<supervisor pid>`, with `-<n>` when that was taken.
fn cgroup_name(me: u32, attempt: u32) -> String {
    match attempt {
        0 => format!("nsspec-{me}"),
        n => format!("nsspec-{me}-{n}"),
    }
}

/// Whether `name` is one [`cgroup_name`] makes.
pub(crate) fn is_cgroup_name(name: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    name.strip_prefix("nsspec-")
        .is_some_and(|rest| match rest.split_once('-') {
            None => digits(rest),
            Some((pid, n)) => digits(pid) && digits(n),
        })
}

/// Creates `nsspec-<me>` in `place` (and, on v2, opens it for CLONE_INTO_CGROUP), announcing
/// it first (see [`Limit::apply`]), and holds an exclusive flock on it for as long as the
/// supervisor (or a process it forked) lives: that lock, not the PID in the name, tells the
/// stale sweep of any run, in any PID namespace, that the cgroup is in use. The name is taken
/// when a supervisor with our number in another PID namespace made it (or its run was killed
/// and left it): then `nsspec-<me>-<n>`. `mounted`: where the caller mounted cgroup2 to reach
/// it.
fn create(
    place: &Place,
    me: u32,
    mounted: Option<&Path>,
    announce: &mut dyn FnMut(&Path, Option<&Path>, bool),
) -> Option<Cgroup> {
    let parent_fd = open_dir_at(None, &place.parent).ok()?;
    let origin_fd = open_dir_at(None, &place.origin).ok();
    for attempt in 0..NAME_TRIES {
        let name = cgroup_name(me, attempt);
        let dir = place.parent.join(&name);
        announce(&dir, mounted, true);
        let made = nix::sys::stat::mkdirat(
            parent_fd.as_fd(),
            name.as_str(),
            Mode::from_bits_truncate(0o755),
        );
        if made.is_err() {
            // Not ours: the guardian must not clean it up (with EEXIST it can be a live
            // cgroup of a concurrent run).
            announce(&dir, mounted, false);
            if made == Err(Errno::EEXIST) {
                continue;
            }
            return None;
        }
        let Ok(dir_fd) = open_dir_at(Some(parent_fd.as_fd()), Path::new(&name)) else {
            let _ = remove_tree_at(parent_fd.as_fd(), Path::new(&name));
            announce(&dir, mounted, false);
            return None;
        };
        if !try_lock(dir_fd.as_fd()) {
            // Someone opened it and took the lock in the microseconds since mkdir (the sweeps
            // leave fresh cgroups alone, but any user may flock a directory it can read): not
            // a cgroup that tells the truth about its owner. Another name, then.
            drop(dir_fd);
            let _ = remove_tree_at(parent_fd.as_fd(), Path::new(&name));
            announce(&dir, mounted, false);
            continue;
        }
        return Some(Cgroup {
            path: format!("{}/{name}", place.parent_path.trim_end_matches('/')),
            dir,
            v1: !place.v2,
            origin_fd,
            clone_into: place.v2,
            parent_fd,
            dir_fd,
            joined: false,
        });
    }
    None
}

/// Takes an exclusive flock on the open file `fd` without waiting: false when another open
/// file holds one (or the file system refuses). Released when every descriptor of that open
/// file is closed, so by the kernel when its holders die, however they die.
fn try_lock(fd: BorrowedFd) -> bool {
    // SAFETY: flock on a descriptor we hold; no memory is involved.
    unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// Moves the calling single-threaded process into the cgroup open at `dir`.
fn join(dir: BorrowedFd) -> bool {
    // `0` in v1's `tasks` moves only the calling thread, which the kernel does without the
    // global lock (cgroup_procs_write_start); for a single-threaded process that is the whole
    // process. v2 has no `tasks` file.
    write_at(dir, "tasks", "0") || write_at(dir, "cgroup.procs", &std::process::id().to_string())
}

/// Writes `text` to the file `name` of the directory open at `dir` (one write: a cgroup file
/// takes its value whole).
fn write_at(dir: BorrowedFd, name: &str, text: &str) -> bool {
    nix::fcntl::openat(dir, name, OFlag::O_WRONLY | OFlag::O_CLOEXEC, Mode::empty())
        .is_ok_and(|f| nix::unistd::write(&f, text.as_bytes()).is_ok_and(|n| n == text.len()))
}

/// The path on the line of /proc/PID/cgroup whose controller list contains `key` (v1), or
/// the `0::` line when `key` is empty (v2).
pub(crate) fn cgroup_line(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let mut f = l.splitn(3, ':');
        let (id, ctl, path) = (f.next()?, f.next()?, f.next()?);
        let hit = if key.is_empty() {
            id == "0" && ctl.is_empty()
        } else {
            ctl.split(',').any(|c| c == key)
        };
        hit.then(|| path.to_string())
    })
}

/// How old a leftover `nsspec-<pid>` cgroup must be before a run removes it.
pub(crate) const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Removes `nsspec-<pid>` cgroups under `parent` that no process holds (see [`create`]'s lock),
/// that are empty and [`STALE_AFTER`] old (a cgroup directory's mtime is when it, or its last
/// child, was made). The lock, not kill(pid, 0), decides "in use": the name's PID means
/// nothing in another PID namespace, where a concurrent run's supervisor may have that number
/// or none, and such a run's empty child cgroups were removed under it.
fn remove_stale(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        if !e.file_name().to_str().is_some_and(is_cgroup_name) {
            continue;
        }
        // Age first: a sweep must never hold the lock of a cgroup being made (its supervisor
        // takes the lock right after mkdir, and would give the name up).
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age >= STALE_AFTER));
        if !old {
            continue;
        }
        // Held until the removal is done, so that concurrent sweeps take turns.
        let Ok(held) = open_dir_at(None, &e.path()) else {
            continue;
        };
        if !try_lock(held.as_fd()) {
            continue;
        }
        let empty = std::fs::read_to_string(e.path().join("cgroup.procs"))
            .is_ok_and(|p| p.trim().is_empty());
        if empty {
            remove_tree(&e.path());
        }
    }
}

/// SIGKILLs every process in the cgroup `dir` and below: with `cgroup.kill` where the kernel
/// has it (cgroup v2, Linux 5.14), which cannot miss a process forking meanwhile nor hit one
/// outside; otherwise PID by PID from `cgroup.procs` (v1 too), which the caller repeats until
/// the cgroup can be removed. Used on a dead supervisor's cgroup, and by a supervisor on its
/// scenario's at the time limit. PID by PID goes through pidfds (see [`kill_listed`]), so a
/// number that a listed process left behind and another process took is not hit.
pub(crate) fn kill_all_in(dir: &Path) {
    if let Ok(fd) = open_dir_at(None, dir) {
        kill_all_at(fd.as_fd());
    }
}

/// [`kill_all_in`] for the cgroup open at `dir`: path-independent, so it reaches the cgroup
/// even when a scenario has mounted over its path in the supervisor's mount namespace.
pub(crate) fn kill_all_at(dir: BorrowedFd) {
    if write_at(dir, "cgroup.kill", "1") {
        return;
    }
    kill_listed(&|| {
        crate::executor::read_at(dir.as_raw_fd(), "cgroup.procs")
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse::<i32>().ok())
            .collect()
    });
    for child in child_cgroups(dir) {
        if let Some(fd) = open_child(dir, Path::new(&child)) {
            kill_all_at(fd.as_fd());
        }
    }
}

/// SIGKILLs the processes `listed` (a cgroup's `cgroup.procs`) names. A number read there can
/// outlive its process: reaped by its parent (a `wait` step, the kernel's zap of a dying PID
/// namespace) and taken by another process before the kill. Each listed process is therefore
/// held by a pidfd first, and signalled through it only if its number is listed again once
/// all are held: a pidfd opened on a number that another process had taken names that
/// process, which is not in the cgroup, so the second list lacks the number; and one whose
/// process died meanwhile reaches nobody. The list is read twice in all, unless descriptors
/// run out first (then once more per batch that fits). Where no pidfd can be had for a
/// number (before Linux 5.3, no descriptor free at all, a seccomp filter) it is killed by
/// number, as listed.
fn kill_listed(listed: &dyn Fn() -> Vec<i32>) {
    use nix::sys::signal::Signal;
    let numbers = listed();
    let mut held: Vec<(i32, OwnedFd)> = Vec::new();
    let signal_held = |held: &mut Vec<(i32, OwnedFd)>| {
        if held.is_empty() {
            return;
        }
        let mut still = listed();
        still.sort_unstable();
        for (pid, fd) in held.drain(..) {
            if still.binary_search(&pid).is_ok() {
                let _ = crate::executor::pidfd_send_signal(&fd, Some(Signal::SIGKILL), 0);
            }
        }
    };
    let mut next = 0;
    while let Some(&pid) = numbers.get(next) {
        match crate::executor::pidfd_open(pid) {
            Ok(fd) => held.push((pid, fd)),
            // Gone already.
            Err(Errno::ESRCH) => {}
            // Out of descriptors: deal with those held, then take this number again.
            Err(Errno::EMFILE | Errno::ENFILE) if !held.is_empty() => {
                signal_held(&mut held);
                continue;
            }
            Err(_) => {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        next += 1;
    }
    signal_held(&mut held);
}

/// Opens the child cgroup `name` of the directory open at `dir` — only if it is on the same
/// mount. A scenario without a mount namespace of its own can mount over a child cgroup in the
/// supervisor's namespace (the cgroup hierarchy's root itself, with `mount_cgroup`): walking
/// into that would kill and remove the host's cgroups.
fn open_child(dir: BorrowedFd, name: &Path) -> Option<OwnedFd> {
    let child = open_dir_at(Some(dir), name).ok()?;
    match (mount_id(dir, None), mount_id(child.as_fd(), None)) {
        (Some(a), Some(b)) if a == b => Some(child),
        _ => None,
    }
}

/// The mount ID of an open file: statx(STATX_MNT_ID, Linux 5.8), else fdinfo's `mnt_id`
/// (3.15), read below `proc` (a /proc directory opened earlier, which no later mount can
/// cover) or else below /proc. `None` when neither answers: callers then refuse.
pub(crate) fn mount_id(fd: BorrowedFd, proc: Option<RawFd>) -> Option<u64> {
    // SAFETY: statx with an empty path and AT_EMPTY_PATH looks at `fd` only; `stx` is a
    // plain struct the kernel fills in.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    let r = unsafe {
        libc::statx(
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            libc::STATX_MNT_ID,
            &mut stx,
        )
    };
    if r == 0 && stx.stx_mask & libc::STATX_MNT_ID != 0 {
        return Some(stx.stx_mnt_id);
    }
    let fdinfo = format!("self/fdinfo/{}", fd.as_raw_fd());
    match proc {
        Some(proc) => crate::executor::read_at(proc, &fdinfo)?,
        None => std::fs::read_to_string(format!("/proc/{fdinfo}")).ok()?,
    }
    .lines()
    .find_map(|l| l.strip_prefix("mnt_id:"))?
    .trim()
    .parse()
    .ok()
}

/// Opens a directory, relative to `at` when given.
fn open_dir_at(at: Option<BorrowedFd>, path: &Path) -> nix::Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    match at {
        Some(at) => nix::fcntl::openat(at, path, flags, Mode::empty()),
        None => nix::fcntl::open(path, flags, Mode::empty()),
    }
}

/// The names of the cgroups directly below the one open at `dir` (its subdirectories).
fn child_cgroups(dir: BorrowedFd) -> Vec<std::ffi::OsString> {
    use std::os::unix::ffi::OsStrExt;
    // A descriptor of its own: reading a directory moves its offset.
    let Ok(mut entries) = open_dir_at(Some(dir), Path::new(".")).and_then(nix::dir::Dir::from_fd)
    else {
        return Vec::new();
    };
    entries
        .iter()
        .flatten()
        .filter(|e| e.file_type() == Some(nix::dir::Type::Directory))
        .map(|e| std::ffi::OsStr::from_bytes(e.file_name().to_bytes()).to_os_string())
        .filter(|n| n != "." && n != "..")
        .collect()
}

/// Removes a cgroup and every cgroup below it, deepest first (a cgroup directory can be
/// removed only when it has no children and no processes). True when `dir` is gone.
pub(crate) fn remove_tree(dir: &Path) -> bool {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return false;
    };
    match open_dir_at(None, parent) {
        Ok(parent) => remove_tree_at(parent.as_fd(), Path::new(name)),
        Err(_) => !dir.exists(),
    }
}

/// [`remove_tree`] of the cgroup `name` in the directory open at `parent`. Relative to a
/// descriptor, ENOENT means the cgroup is really gone — not that a mount made in the
/// supervisor's namespace hides its path.
pub(crate) fn remove_tree_at(parent: BorrowedFd, name: &Path) -> bool {
    use nix::unistd::{UnlinkatFlags, unlinkat};
    let rmdir = || match unlinkat(parent, name, UnlinkatFlags::RemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => true,
        Err(_) => false,
    };
    // Usually nothing was created below: then skip the listing. opendir() mallocs a 32 KiB
    // buffer, and in a forked supervisor malloc consolidates free chunks all over the heap it
    // shares copy-on-write with the runner, ~10 page faults.
    if rmdir() {
        return true;
    }
    if let Some(dir) = open_child(parent, name) {
        for child in child_cgroups(dir.as_fd()) {
            remove_tree_at(dir.as_fd(), Path::new(&child));
        }
    }
    rmdir()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A number listed first and gone from the list by the time it is checked (here a process
    /// that was never in it, standing for one that took the number of a member reaped
    /// meanwhile) is not killed; one still listed is. The list is checked again only once
    /// every listed process is held by a pidfd: checked before, the number could still change
    /// hands in between.
    #[test]
    fn only_numbers_still_listed_once_held_are_killed() {
        use std::os::unix::process::ExitStatusExt;
        /// A child of this test, killed and reaped however the test ends.
        struct Sleeper(std::process::Child);
        impl Drop for Sleeper {
            fn drop(&mut self) {
                let _ = self.0.kill();
                let _ = self.0.wait();
            }
        }
        let sleeper = || {
            Sleeper(
                std::process::Command::new("sleep")
                    .arg("60")
                    .spawn()
                    .unwrap(),
            )
        };
        let (mut member, mut stranger) = (sleeper(), sleeper());
        let (m, s) = (member.0.id() as i32, stranger.0.id() as i32);
        // Whether a pidfd of each was open in this process when the list was read again.
        let held = |pid: i32| {
            std::fs::read_dir("/proc/self/fdinfo")
                .unwrap()
                .flatten()
                .any(|e| {
                    std::fs::read_to_string(e.path())
                        .is_ok_and(|info| info.lines().any(|l| l == format!("Pid:\t{pid}")))
                })
        };
        let calls = std::cell::Cell::new(0);
        let held_when_checked = std::cell::Cell::new(None);
        kill_listed(&|| {
            calls.set(calls.get() + 1);
            if calls.get() == 1 {
                vec![m, s]
            } else {
                held_when_checked.set(Some((held(m), held(s))));
                vec![m]
            }
        });
        // What each dies of tells whether the kill reached it: a SIGTERM after a SIGKILL
        // changes nothing.
        for child in [&member, &stranger] {
            // SAFETY: kill has no memory-safety preconditions; both are this test's children.
            unsafe { libc::kill(child.0.id() as i32, libc::SIGTERM) };
        }
        let died_of = |c: &mut Sleeper| c.0.wait().unwrap().signal();
        let (member_died_of, stranger_died_of) = (died_of(&mut member), died_of(&mut stranger));
        // Before Linux 5.3 numbers are all there is.
        if crate::executor::pidfd_open(std::process::id() as i32).err() == Some(Errno::ENOSYS) {
            assert_eq!(stranger_died_of, Some(libc::SIGKILL));
            return;
        }
        assert_eq!(
            (member_died_of, stranger_died_of),
            (Some(libc::SIGKILL), Some(libc::SIGTERM))
        );
        assert_eq!(calls.get(), 2);
        assert_eq!(held_when_checked.get(), Some((true, true)));
    }

    /// With room for one descriptor, the processes are held and checked one at a time: all
    /// killed, the list read once more per batch, none killed by number.
    #[test]
    fn out_of_descriptors_the_listed_are_killed_batch_by_batch() {
        // In a child of its own (`forked`): the descriptor limit is the whole process's.
        let code = crate::executor::forked(|| {
            let mut sleepers = Vec::new();
            let code = (|| {
                for _ in 0..3 {
                    // SAFETY: as in `forked`; the sleeper only waits to be killed.
                    match unsafe { libc::fork() } {
                        0 => loop {
                            unsafe { libc::pause() };
                        },
                        -1 => return 10,
                        pid => sleepers.push(pid),
                    }
                }
                // The lowest free descriptor is the only one left free.
                // SAFETY: dup and close of descriptors this process owns.
                let free = unsafe { libc::dup(0) };
                unsafe { libc::close(free) };
                let mut limit = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                // SAFETY: `limit` is a valid rlimit to fill in, then to set.
                if free < 0 || unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
                    return 11;
                }
                limit.rlim_cur = free as libc::rlim_t + 1;
                if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
                    return 11;
                }
                let calls = std::cell::Cell::new(0);
                kill_listed(&|| {
                    calls.set(calls.get() + 1);
                    sleepers.clone()
                });
                for &pid in &sleepers {
                    // SAFETY: our child; a SIGTERM after a SIGKILL changes nothing.
                    unsafe { libc::kill(pid, libc::SIGTERM) };
                    let mut status = 0;
                    unsafe { libc::waitpid(pid, &mut status, 0) };
                    if !libc::WIFSIGNALED(status) || libc::WTERMSIG(status) != libc::SIGKILL {
                        return 12;
                    }
                }
                // Once to list, then once per batch of one.
                if calls.get() == 4 { 0 } else { 13 }
            })();
            // Nothing left behind, whichever check failed.
            for &pid in &sleepers {
                // SAFETY: our children, not yet reaped where they are killed here.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
            }
            code
        });
        // Before Linux 5.3 there are no pidfds: numbers only, the list read once.
        let pidfds =
            crate::executor::pidfd_open(std::process::id() as i32).err() != Some(Errno::ENOSYS);
        assert_eq!(code, if pidfds { 0 } else { 13 });
    }

    /// A line of mountinfo for a cgroup2 mount of `root` at `point`.
    fn cgroup2_line(id: u32, root: &str, point: &str) -> String {
        format!("{id} 1 0:26 {root} {point} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n")
    }

    /// The mount's root decides where the harness's cgroup is: a bind of a subtree shows the
    /// cgroup C at point + (C − root); a mount rooted outside the cgroup namespace (`/..`,
    /// the host's mount after `unshare -C`), or at a cgroup that C is not below, shows it
    /// nowhere — joining C onto such a mount made scenario cgroups outside the namespace,
    /// where nsdelegate refuses every clone into them (ENOENT).
    #[test]
    fn the_own_cgroup_is_found_through_the_mount_root() {
        let at = |root: &str, path: &str| dir_through(Path::new("/m"), root, path);
        assert_eq!(at("/", "/a/b"), Some(PathBuf::from("/m/a/b")));
        assert_eq!(at("/", "/"), Some(PathBuf::from("/m")));
        assert_eq!(at("/a", "/a/b"), Some(PathBuf::from("/m/b")));
        assert_eq!(at("/a/b/", "/a/b"), Some(PathBuf::from("/m")));
        assert_eq!(at("/..", "/"), None);
        assert_eq!(at("/../..", "/a"), None);
        assert_eq!(at("/..", "/../x"), None);
        assert_eq!(at("/", "/../x"), None);
        assert_eq!(at("/a", "/ab"), None);
        assert_eq!(at("/a/b", "/a"), None);

        // The host's mount after `unshare -C`: nothing; a mount of our own namespace's root
        // beside it is found, wherever it is in the table.
        let host = cgroup2_line(30, "/..", "/sys/fs/cgroup");
        assert_eq!(v2_mount_for(&host, "/"), None);
        let ours = cgroup2_line(40, "/", "/tmp/cg");
        for table in [format!("{host}{ours}"), format!("{ours}{host}")] {
            assert_eq!(
                v2_mount_for(&table, "/x"),
                Some(("/tmp/cg".into(), "/".into(), "/tmp/cg/x".into()))
            );
        }
        // Of two that show it, the one showing more of the hierarchy (a parent for the
        // sibling place), whatever the order.
        let whole = cgroup2_line(30, "/", "/sys/fs/cgroup");
        let bind = cgroup2_line(41, "/user.slice", "/run/cg");
        for table in [format!("{bind}{whole}"), format!("{whole}{bind}")] {
            assert_eq!(
                v2_mount_for(&table, "/user.slice/u"),
                Some((
                    "/sys/fs/cgroup".into(),
                    "/".into(),
                    "/sys/fs/cgroup/user.slice/u".into()
                ))
            );
        }
        // A mount covered by a later one on the same point is not reached through it.
        let over = "50 30 0:40 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n";
        assert_eq!(v2_mount_for(&format!("{whole}{over}"), "/a"), None);
        assert_eq!(
            v2_mount_for(&format!("{whole}{over}{bind}"), "/user.slice/u"),
            Some(("/run/cg".into(), "/user.slice".into(), "/run/cg/u".into()))
        );
        // What /proc/PID/cgroup shows for a cgroup made below a bind: the root, then the rest.
        let place = Place::v2(
            true,
            Path::new("/run/cg"),
            "/user.slice",
            "/run/cg/u",
            Path::new("/run/cg/u/s"),
        );
        assert_eq!(place.parent_path, "/user.slice/u");
        let top = Place::v2(false, Path::new("/m"), "/", "/m", Path::new("/m"));
        assert_eq!(top.parent_path, "/");
    }

    /// On v2 a scenario's cgroup is a sibling of the harness's own, so the room counts the
    /// harness's cgroup (its `pids.max`: a systemd unit's TasksMax, a container's limit) as
    /// well as the parent and everything above it, up to the mount and no further.
    #[test]
    fn the_room_counts_the_harness_cgroup_and_those_above_up_to_the_mount() {
        let mount = Path::new("/sys/fs/cgroup");
        let place = Place::v2(true, mount, "/", mount, &mount.join("lim"));
        let room = |files: &[(&str, u64)]| {
            place.room(&|f: &Path| {
                let f = f.to_str()?;
                files.iter().find(|(name, _)| *name == f).map(|(_, n)| *n)
            })
        };
        let lim = [
            ("/sys/fs/cgroup/lim/pids.max", 20),
            ("/sys/fs/cgroup/lim/pids.current", 2),
        ];
        // `mkdir lim; echo 20 > lim/pids.max; echo $$ > lim/cgroup.procs`: 18 more.
        assert_eq!(room(&lim), Some(18));
        let above = [
            ("/sys/fs/cgroup/pids.max", 5),
            ("/sys/fs/cgroup/pids.current", 1),
            // Above the mount: not of this hierarchy.
            ("/sys/fs/pids.max", 1),
            ("/sys/fs/pids.current", 1),
        ];
        assert_eq!(room(&[lim[0], lim[1], above[0], above[1]]), Some(4));
        assert_eq!(room(&[above[2], above[3]]), None);
        assert_eq!(room(&above), Some(4));
    }

    #[test]
    fn the_sweep_knows_every_name_create_makes_and_nothing_else() {
        for attempt in 0..NAME_TRIES {
            assert!(is_cgroup_name(&cgroup_name(4194304, attempt)), "{attempt}");
        }
        for other in [
            "nsspec-",
            "nsspec-7-",
            "nsspec--1",
            "nsspec-7-1-2",
            "nsspec-x",
            "nsspec-7a",
            "zz-nsspec-test-victim-7",
            "user.slice",
        ] {
            assert!(!is_cgroup_name(other), "{other}");
        }
    }

    #[test]
    fn a_cgroup2_mount_passes_the_flags_the_host_has() {
        let systemd = "28 23 0:24 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 \
                       rw,nsdelegate,memory_recursiveprot\n";
        let v2 = "0::/user.slice\n";
        assert_eq!(
            cgroup2_mount_data(systemd, v2, || true, || Err(Errno::EPERM)),
            Ok("nsdelegate,memory_recursiveprot".into())
        );
        // A security module's options stay out; a flag of a later kernel is passed on.
        let labelled = "28 23 0:24 / /sys/fs/cgroup rw - cgroup2 cgroup2 \
                        rw,seclabel,nsdelegate,memory_tiered\n";
        assert_eq!(
            cgroup2_mount_data(labelled, v2, || true, || Err(Errno::EPERM)),
            Ok("nsdelegate,memory_tiered".into())
        );
        let plain = "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
        assert_eq!(
            cgroup2_mount_data(plain, v2, || true, || Err(Errno::EPERM)),
            Ok(String::new())
        );
        let none = "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n";
        // Mounted somewhere out of sight, from the initial cgroup namespace: learnt.
        assert_eq!(
            cgroup2_mount_data(none, v2, || true, || Ok("nsdelegate".into())),
            Ok("nsdelegate".into())
        );
        // Never mounted since boot (no `0::` line): the defaults are the flags.
        assert_eq!(
            cgroup2_mount_data(none, "1:pids:/\n", || true, || Err(Errno::EPERM)),
            Ok(String::new())
        );
        // From another cgroup namespace the kernel applies no flags.
        assert_eq!(
            cgroup2_mount_data(none, v2, || false, || Err(Errno::EPERM)),
            Ok(String::new())
        );
    }
}
