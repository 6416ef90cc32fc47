//! What this host can do, measured by trying rather than guessed from the uid.
//!
//! [`Host::probe`] forks short-lived children that attempt each `unshare()` directly and inside
//! a fresh user namespace, mount a procfs, and create a user namespace without capabilities
//! (the forking itself is the executor's).
//! From that it decides how the harness runs here ([`Mode`]) and why a scenario must be
//! skipped ([`Host::unmet`]). It must run in a single-threaded process (it forks); `nsspec`
//! is one. Tests that need the facts ask `nsspec probe --format json`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use nix::errno::Errno;
use serde::{Deserialize, Serialize};

use crate::executor::{drop_all_caps, enter_own_userns, in_child, make_mounts_private, unshare};
use crate::plan::{Action, Feature, Plan, Requirement};
use crate::schema::NsKind;

/// Bit of CAP_SYS_ADMIN in the capability sets (linux/capability.h).
const CAP_SYS_ADMIN: u32 = 21;

/// Bit of CAP_SETFCAP.
const CAP_SETFCAP: u32 = 31;

/// Besides CAP_SYS_ADMIN, the capabilities the catalogue's scenarios use as root (each, taken
/// away alone from root's set, failed 4–15 scenarios: set_ids, the maps a parent writes, chroot,
/// link_up, timens_offsets). Root without one of them, as in a container given only
/// CAP_SYS_ADMIN (`docker run --cap-add SYS_ADMIN`), runs rootless instead, where a user
/// namespace of nsspec's own gives them all, so that such scenarios skip rather than fail.
const ROOT_CAPS: [(u32, &str); 6] = [
    (6, "CAP_SETGID"),
    (7, "CAP_SETUID"),
    (12, "CAP_NET_ADMIN"),
    (18, "CAP_SYS_CHROOT"),
    (25, "CAP_SYS_TIME"),
    (CAP_SETFCAP, "CAP_SETFCAP"),
];

/// Why nothing runs where /proc is no procfs.
const NO_PROC: &str = "nsspec needs a procfs on /proc (it reads its own capabilities and \
                       namespaces there, and scenarios observe through it), and /proc here is \
                       none (a chroot or container without it?): mount one first (`mount -t \
                       proc proc /proc`) or use `vm/run`";

/// Why /proc cannot tell nsspec about itself, if it cannot: no procfs there (PROC_SUPER_MAGIC),
/// or one of another PID namespace, where /proc/self names no process.
fn proc_problem() -> Option<String> {
    use nix::sys::statfs::{PROC_SUPER_MAGIC, statfs};
    if !statfs("/proc").is_ok_and(|s| s.filesystem_type() == PROC_SUPER_MAGIC) {
        return Some(NO_PROC.into());
    }
    (!std::path::Path::new("/proc/self").exists()).then(|| {
        "nsspec needs a procfs of its own PID namespace on /proc (it reads its own \
         capabilities and namespaces there), and the one here belongs to another: /proc/self \
         names no process (mounted from a PID namespace nsspec is not in?): mount one from \
         nsspec's (`mount -t proc proc /proc`) or use `vm/run`"
            .into()
    })
}

/// What a fact no probe measured reads as.
fn yes() -> bool {
    true
}

fn not_probed() -> String {
    "not probed".to_string()
}

/// Whether `kinds` (a probe's outcomes by kind name) let the harness make its sandbox: mount,
/// UTS and IPC namespaces (a kind the probe did not try counts, as before it was tried).
fn sandbox_ok(kinds: &BTreeMap<String, String>) -> bool {
    kinds.get("mount").is_some_and(|v| v == "ok")
        && ["uts", "ipc"]
            .iter()
            .all(|k| kinds.get(*k).is_none_or(|v| v == "ok"))
}

/// How the harness makes its sandbox, given what creating namespaces directly (`direct`) and
/// in a user namespace of its own (`in_userns`) gave: `Some(false)` directly, as root;
/// `Some(true)` in its own user namespace, rootless; `None` where neither works. Root that
/// lacks some of [`ROOT_CAPS`] prefers its own user namespace, where it has them all; where
/// it cannot make one (mapping root there needs CAP_SETFCAP), it runs as root all the same,
/// and the scenarios that need the missing capabilities fail. (Where a covered /proc keeps
/// a user namespace from mounting a procfs, it still runs rootless: the scenarios that mount
/// one skip saying why, where as root those that need a missing capability would fail.)
fn sandbox_route(
    cap_eff: u64,
    direct: &BTreeMap<String, String>,
    in_userns: &BTreeMap<String, String>,
) -> Option<bool> {
    let root = cap_eff & (1 << CAP_SYS_ADMIN) != 0 && sandbox_ok(direct);
    if root && full_root(cap_eff) {
        Some(false)
    } else if sandbox_ok(in_userns) {
        Some(true)
    } else {
        root.then_some(false)
    }
}

/// Whether a plan mounts a procfs in a user namespace of its own making where no procfs is
/// fully visible even on a host whose /proc is (see [`crate::executor::procfs_fully_visible`]):
/// init's fresh /proc where `namespaces` lists `user`, or a `mount_proc` step of a process
/// that is in a user namespace of the scenario's by then, unless it is in init's tree and
/// init has a fresh /proc, which is fully visible in every mount namespace copied from
/// init's. (A process of the host's tree copies the harness's mount namespace.)
fn mounts_proc_in_own_userns(plan: &Plan) -> bool {
    if plan.proc_fresh && plan.namespaces.contains(&NsKind::User) {
        return true;
    }
    let in_init_tree = |mut p: usize| loop {
        match plan.procs[p].parent {
            _ if p == 0 => break true,
            Some(up) => p = up,
            None => break false,
        }
    };
    let mut found = false;
    // Each process with whether it starts in a user namespace of the scenario's; parents first.
    let mut todo = vec![(0, plan.namespaces.contains(&NsKind::User))];
    todo.extend(plan.host.map(|h| (h, false)));
    while let Some((p, mut in_user)) = todo.pop() {
        for step in &plan.procs[p].steps {
            match &step.action {
                Action::Unshare { kinds, .. } | Action::Setns { kinds, .. } => {
                    in_user |= kinds.contains(&NsKind::User);
                }
                Action::Fork { child, kinds, .. } | Action::Enter { child, kinds, .. } => {
                    todo.push((*child, in_user || kinds.contains(&NsKind::User)));
                }
                Action::MountProc { .. } if in_user => {
                    found |= !(plan.proc_fresh && in_init_tree(p));
                }
                _ => {}
            }
        }
    }
    found
}

/// Whether a plan mounts a procfs: its init's fresh /proc, or a `mount_proc` step.
fn mounts_proc(plan: &Plan) -> bool {
    plan.proc_fresh
        || plan
            .procs
            .iter()
            .flat_map(|p| &p.steps)
            .any(|s| matches!(s.action, Action::MountProc { .. }))
}

/// How a procfs is mounted in new PID and mount namespaces: directly, in a user namespace
/// of nsspec's own that maps its uid to root (as the rootless sandbox is made), or in a new
/// user namespace without maps (which needs no CAP_SETFCAP: only whether the kernel lets a
/// user namespace mount a procfs here is asked).
#[derive(Clone, Copy)]
enum ProcTrial {
    Direct,
    Mapped(u32, u32),
    Unmapped,
}

/// Mounting a new procfs the `how` way: "ok" or the errno, [`settled`] with `patience`.
fn mount_proc_outcome(how: ProcTrial, patience: &Patience) -> String {
    let user = match how {
        ProcTrial::Direct => 0,
        ProcTrial::Mapped(..) | ProcTrial::Unmapped => libc::CLONE_NEWUSER,
    };
    let flags = user | libc::CLONE_NEWNS | libc::CLONE_NEWPID;
    outcome(patience.settled(flags, || mount_proc_in_child(how), is_enospc))
}

fn mount_proc_in_child(how: ProcTrial) -> Result<(), Errno> {
    in_child(|| {
        match how {
            ProcTrial::Direct => {}
            ProcTrial::Mapped(uid, gid) => enter_own_userns(uid, gid)?,
            ProcTrial::Unmapped => unshare(libc::CLONE_NEWUSER)?,
        }
        unshare(libc::CLONE_NEWNS | libc::CLONE_NEWPID)?;
        in_child(|| {
            make_mounts_private()?;
            nix::mount::mount(
                Some("proc"),
                "/proc",
                Some("proc"),
                nix::mount::MsFlags::empty(),
                None::<&str>,
            )
        })
    })
}

/// What a `user.max_*_namespaces` limit counts, for the skip that names one reached.
const LIMIT_COUNTS: &str = "such a limit counts this user's namespaces of its kind alive in \
     this user namespace and in those below it, and for some milliseconds those that just ended";

/// What to do about a `user.max_*_namespaces` limit reached.
const LIMIT_FIX: &str = "raise it, run fewer scenarios at once (`-j 1`), or use `vm/run`";

/// What a user namespace's limits start at: a value that limits nothing.
const UNLIMITED: &str = "2147483647";

/// The sysctl that limits the namespaces of `kind` per user namespace.
fn limit_name(kind: NsKind) -> String {
    format!("user.max_{}_namespaces", kind.proc_name())
}

/// A sysctl's value as nsspec's namespaces show it, trimmed; `None` where it does not exist.
fn read_sysctl(name: &str) -> Option<String> {
    let path = format!("/proc/sys/{}", name.replace('.', "/"));
    Some(std::fs::read_to_string(path).ok()?.trim().to_string())
}

/// Whether a limit read as `n` limits nothing here, so that one reached is an enclosing user
/// namespace's, which cannot be read from inside: a user namespace made after boot (a
/// container's, bwrap's) starts its limits at 2147483647.
fn limited_only_outside(n: &str) -> bool {
    n == UNLIMITED && !at_initial(NsKind::User, PROC_USER_INIT_INO)
}

/// `limit` (a `user.max_*_namespaces`), read as `n`, and what ENOSPC under it means: for the
/// parenthesis and the advice of a skip.
fn limit_reached(limit: &str, n: &str) -> String {
    match n {
        "0" => format!("({limit} is 0): raise it or use `vm/run`"),
        _ if limited_only_outside(n) => format!(
            "({limit} is {n} here, so the limit reached is an enclosing user namespace's, which \
             cannot be read from here): raise it there or use `vm/run`"
        ),
        _ => format!("({limit} is {n} here; {LIMIT_COUNTS}): {LIMIT_FIX}"),
    }
}

/// The most namespaces of `kind` one run of `plan` creates: the sandbox's (its user namespace
/// only `rootless`), the scenario's own,
/// one per step that makes one (a `mount_tmpfs` with `dirs` makes an anonymous mount
/// namespace, which counts against user.max_mnt_namespaces), and a `nest_pid`'s depth.
fn creations(plan: &Plan, kind: NsKind, rootless: bool) -> u64 {
    let sandbox = match kind {
        NsKind::Mount | NsKind::Uts | NsKind::Ipc => true,
        NsKind::User => rootless,
        _ => false,
    };
    let steps: u64 = plan
        .procs
        .iter()
        .flat_map(|p| &p.steps)
        .map(|s| match &s.action {
            Action::Unshare { kinds, .. } | Action::Fork { kinds, .. } => {
                u64::from(kinds.contains(&kind))
            }
            Action::MountTmpfs { dirs, .. } => u64::from(kind == NsKind::Mount && !dirs.is_empty()),
            Action::NestPid { depth, .. } if kind == NsKind::Pid => u64::from(*depth),
            _ => 0,
        })
        .sum();
    u64::from(sandbox) + u64::from(plan.namespaces.contains(&kind)) + steps
}

/// The deepest level a PID namespace may have below the initial one (MAX_PID_NS_LEVEL): ENOSPC
/// for the next is the nesting depth's, not a limit's.
const MAX_PID_NS_LEVEL: usize = 32;

/// The kinds of namespace a failed scenario's own output shows refused with an ENOSPC that no
/// step expected: in the set-up (the sandbox's namespaces, init's clone, init's own unshare),
/// an `unshare` or `fork` with kinds, a `mount_tmpfs` with `dirs` (its anonymous mount
/// namespace), a `nest_pid` short of the nesting depth. ENOSPC from creating a namespace has
/// two causes, a `user.max_<kind>_namespaces` limit and that depth. Where the scenario writes
/// a limit of its own (/proc/sys/user/max_*), a step's ENOSPC after it may be its own doing:
/// only the set-up's count, and a step's in the process that writes one, before it does.
pub fn refused_kinds(
    plan: &Plan,
    out: &crate::executor::RunOutput,
) -> std::collections::BTreeSet<NsKind> {
    // The level nest_pid reports counts from the PID namespace of the /proc the harness reads,
    // which in a container (or under `unshare -pf --mount-proc`) is not the initial one, so
    // where the nesting depth's ENOSPC comes is known only when nsspec runs in the initial one.
    let depth_known = at_initial(NsKind::Pid, PROC_PID_INIT_INO);
    enospc_kinds(plan, out, Some(depth_known))
}

/// [`refused_kinds`] as [`Host::for_failure`] asks, which a probe's own ENOSPC confirms (the
/// probe writes no limit of its own, and its single unshare(CLONE_NEWPID) cannot reach the
/// nesting depth): a `nest_pid`'s ENOSPC at any level (where nsspec does not run in the
/// initial PID namespace, as in a container, the level at which the depth refuses is not
/// known, and [`refused_kinds`] leaves such an ENOSPC out), and a step's after a limit the
/// scenario set (user/namespace-limit-per-userns, refused by a host's user.max_user_namespaces
/// of 2 after it set its own namespace's to 1, failed).
pub fn enospc_shown(
    plan: &Plan,
    out: &crate::executor::RunOutput,
) -> std::collections::BTreeSet<NsKind> {
    enospc_kinds(plan, out, None)
}

/// `depth_known`: `None` to count every ENOSPC no step expected, as [`enospc_shown`] does;
/// else whether a `nest_pid`'s level tells the nesting depth's ENOSPC (nsspec in the initial
/// PID namespace), leaving out those it may have given, and those after a limit the scenario
/// set.
fn enospc_kinds(
    plan: &Plan,
    out: &crate::executor::RunOutput,
    depth_known: Option<bool>,
) -> std::collections::BTreeSet<NsKind> {
    use crate::executor::{Obs, Res};
    use crate::plan::Outcome;
    let enospc = Errno::ENOSPC;
    let mut kinds = std::collections::BTreeSet::new();
    let sets_limit = |s: &crate::plan::StepPlan| matches!(&s.action, Action::Write { path, .. } if path.starts_with("/proc/sys/user/max_"));
    // The first step of each process that writes a limit of the scenario's own.
    let limit_set: Vec<Option<usize>> = plan
        .procs
        .iter()
        .map(|p| p.steps.iter().position(sets_limit))
        .collect();
    let writers = limit_set.iter().flatten().count();
    // Whether process `p`'s step `i` may have been refused by a limit the scenario set: one
    // set before it in `p`, or by another process (in whatever order they ran).
    let own_doing = |p: usize, i: usize| {
        depth_known.is_some()
            && match limit_set.get(p).copied().flatten() {
                Some(j) => j < i || writers > 1,
                None => writers > 0,
            }
    };
    // The set-up's messages (executor.rs) say whose namespaces were refused: the rootless
    // sandbox's user namespace, the sandbox's mount, UTS and IPC, or the scenario's (the
    // supervisor's unshare of PID and time, init's clone, init's own unshare).
    let setup_error = out
        .error
        .as_deref()
        .filter(|e| out.setup_failed && e.contains(enospc.desc()));
    match setup_error {
        Some(e) if e.contains("the harness's user namespace") => {
            kinds.insert(NsKind::User);
        }
        Some(e) if e.contains("the harness's own mount, UTS and IPC") => {
            kinds.extend([NsKind::Mount, NsKind::Uts, NsKind::Ipc]);
        }
        Some(_) => kinds.extend(plan.namespaces.iter().copied()),
        None => {}
    }
    let init_refused = out.records.iter().any(|r| {
        r.step == 0 && matches!(&r.obs, Obs::Failed(m) if m.contains(&format!("unshare: {enospc}")))
    });
    if init_refused {
        kinds.extend(plan.namespaces.iter().copied());
    }
    for r in &out.records {
        let Some(i) = r.step.checked_sub(1).filter(|&i| !own_doing(r.proc, i)) else {
            continue;
        };
        let step = plan.procs.get(r.proc).and_then(|p| p.steps.get(i));
        let unexpected = |expect: &Outcome| *expect != Outcome::Errno(enospc);
        match (step.map(|s| &s.action), &r.obs) {
            (
                Some(
                    Action::Unshare { kinds: k, expect }
                    | Action::Fork {
                        kinds: k, expect, ..
                    },
                ),
                Obs::Result(Res::Errno(e)),
            ) if *e == enospc as i32 && unexpected(expect) => {
                kinds.extend(k.iter().copied());
            }
            (Some(Action::MountTmpfs { dirs, expect, .. }), Obs::Result(Res::Errno(e)))
                if *e == enospc as i32 && !dirs.is_empty() && unexpected(expect) =>
            {
                kinds.insert(NsKind::Mount);
            }
            (
                Some(Action::NestPid { expect, .. }),
                Obs::Nest {
                    level,
                    errno: Some(e),
                    ..
                },
            ) if *e == enospc as i32
                && depth_known.is_none_or(|known| known && *level < MAX_PID_NS_LEVEL)
                && *expect != Some((*level as i64, Some(enospc))) =>
            {
                kinds.insert(NsKind::Pid);
            }
            _ => {}
        }
    }
    kinds
}

/// Why a failed scenario is skipped whose own output showed `refused` kinds
/// ([`refused_kinds`]), where the limit of one, as read in nsspec's user namespace, is one this
/// run can reach: the probe a failure triggers cannot show that once the namespaces that
/// reached it (the scenario's own: `nest_pid` makes ten at a limit of 10) have ended and been
/// released, so it said "ok" and the scenario failed (in one run of `pid/nesting-limit` in 40
/// on a busy host). Reachable: within four times what the `jobs` + 1 scenarios of the run
/// (`plans`) that create the most of the kind create together, for those that ended moments
/// before. A limit beyond that (as every kernel's starting value is: half of threads-max at
/// boot in the initial user namespace, 2147483647 in others) leaves the failure standing, so
/// that a kernel that refuses a namespace it should make is not taken for a host that cannot.
pub fn limit_refused(
    refused: &std::collections::BTreeSet<NsKind>,
    plans: &[&Plan],
    jobs: usize,
    rootless: bool,
) -> Option<String> {
    let at_once = jobs.min(plans.len()) + 1;
    let within: Vec<(NsKind, u64)> = refused
        .iter()
        .filter_map(|&k| {
            let n: u64 = read_sysctl(&limit_name(k))?.parse().ok()?;
            let mut most: Vec<u64> = plans.iter().map(|p| creations(p, k, rootless)).collect();
            most.sort_unstable_by(|a, b| b.cmp(a));
            let reach: u64 = most.iter().take(at_once).sum::<u64>() * 4;
            (n <= reach).then_some((k, n))
        })
        .collect();
    let (names, limits): (Vec<_>, Vec<_>) = within
        .iter()
        .map(|(k, n)| (k.name(), format!("{} is {n}", limit_name(*k))))
        .unzip();
    (!within.is_empty()).then(|| {
        format!(
            "creating {} namespaces failed with {} where {} here, which this run can reach \
             ({LIMIT_COUNTS}): {LIMIT_FIX}",
            names.join(" or "),
            crate::report::errno_text(Errno::ENOSPC as i32),
            limits.join(" and ")
        )
    })
}

/// The longest a patient probe waits in all for trials refused with ENOSPC to be let through,
/// and each wait before a retry, while that lasts.
const SETTLE_BUDGET_MS: u64 = 310;
const SETTLE_MS: [u64; 5] = [10, 20, 40, 80, 160];

/// How much longer a probe may wait for namespaces that just ended to leave their limits: a
/// namespace stays counted against its `user.max_*_namespaces` for some milliseconds after
/// its last process is reaped, since the kernel releases the count from RCU callbacks (a PID
/// namespace's in delayed_free_pidns(), and its processes' struct pids hold it until
/// delayed_put_pid()): measured here, 3–16 ms after one ended a new one still failed. So under
/// a low limit the probe's trials, each in a child that ends at once, failed each other, and
/// `nsspec probe` with user.max_pid_namespaces at 1 or 2 said PID namespaces cannot be made.
/// One budget for a whole probe: an ENOSPC that never clears (a limit of an enclosing user
/// namespace, or namespaces held by others) made every trial wait out all its retries, 3 s for
/// `nsspec probe`.
struct Patience(std::cell::Cell<u64>);

impl Patience {
    fn new(patient: bool) -> Patience {
        Patience(std::cell::Cell::new(if patient {
            SETTLE_BUDGET_MS
        } else {
            0
        }))
    }

    /// `attempt`, and where it fails with ENOSPC (`enospc`), again after each wait of
    /// [`SETTLE_MS`] the budget still allows, until it does not. Not where a limit of the
    /// kinds in `flags` is 0, which no wait changes. Not for the probe that asks mid-run why a
    /// scenario failed ([`Host::probe_for_by_trying`]), which has none: what the limit allowed
    /// at that moment is its question.
    fn settled<T>(
        &self,
        flags: libc::c_int,
        attempt: impl Fn() -> T,
        enospc: impl Fn(&T) -> bool,
    ) -> T {
        let mut r = attempt();
        if self.0.get() == 0 || !enospc(&r) || a_limit_is_zero(flags) {
            return r;
        }
        for ms in SETTLE_MS {
            let left = self.0.get();
            if left == 0 {
                break;
            }
            let ms = ms.min(left);
            self.0.set(left - ms);
            std::thread::sleep(std::time::Duration::from_millis(ms));
            r = attempt();
            if !enospc(&r) {
                break;
            }
        }
        r
    }
}

fn is_enospc(r: &Result<(), Errno>) -> bool {
    *r == Err(Errno::ENOSPC)
}

/// Whether `user.max_<kind>_namespaces` reads 0 for a kind in `flags`.
fn a_limit_is_zero(flags: libc::c_int) -> bool {
    NsKind::ALL
        .into_iter()
        .filter(|k| flags & k.clone_flag() != 0)
        .any(|k| read_sysctl(&limit_name(k)).is_some_and(|v| v == "0"))
}

/// The errno a fact names: the first word of capitals starting with E and followed by a
/// colon, as [`crate::report::errno_text`] writes one ("made, but unshare(…) in it fails with
/// ENOSPC: …" names ENOSPC).
fn errno_in(fact: &str) -> Option<&str> {
    fact.split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .filter_map(|w| w.strip_suffix(':'))
        .find(|w| {
            w.len() > 1
                && w.starts_with('E')
                && w.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
}

/// Whether a trial's fact says only that the trial could not be made: its fork refused
/// (EAGAIN under a process limit, ENOMEM), not what the kernel allows.
fn not_made(fact: &str) -> bool {
    matches!(errno_in(fact), Some("EAGAIN" | "ENOMEM"))
}

/// Whether a fact says the attempt failed (not: worked, was not probed, or was not tried).
fn fact_failed(fact: &str) -> bool {
    fact != "ok" && fact != "not probed" && !fact.starts_with(NOT_TRIED)
}

/// The capabilities of [`ROOT_CAPS`] that the effective set `cap_eff` lacks.
fn missing_root_caps(cap_eff: u64) -> Vec<&'static str> {
    ROOT_CAPS
        .iter()
        .filter(|(bit, _)| cap_eff & (1 << bit) == 0)
        .map(|(_, name)| *name)
        .collect()
}

/// The `map_root` fact: mapping `uid` (and `gid`) to root in a new user namespace, or why that
/// was not tried.
fn map_root_outcome(uid: u32, gid: u32) -> String {
    match in_child(|| unshare(libc::CLONE_NEWUSER)) {
        Err(e) => format!(
            "{NOT_TRIED}: unshare(CLONE_NEWUSER) fails with {}",
            crate::report::errno_text(e as i32)
        ),
        Ok(()) => outcome(in_child(|| enter_own_userns(uid, gid))),
    }
}

/// How a fact that could not be tried begins.
const NOT_TRIED: &str = "not tried";

/// Whether `cap_eff` holds CAP_SYS_ADMIN and every one of [`ROOT_CAPS`]: root mode's
/// capabilities.
fn full_root(cap_eff: u64) -> bool {
    cap_eff & (1 << CAP_SYS_ADMIN) != 0 && missing_root_caps(cap_eff).is_empty()
}

/// The sysctls that decide whether namespaces can be created, read where present.
const SYSCTLS: &[&str] = &[
    "user.max_user_namespaces",
    "user.max_pid_namespaces",
    "user.max_mnt_namespaces",
    "user.max_uts_namespaces",
    "user.max_ipc_namespaces",
    "user.max_net_namespaces",
    "user.max_cgroup_namespaces",
    "user.max_time_namespaces",
    "kernel.unprivileged_userns_clone",
    "kernel.apparmor_restrict_unprivileged_userns",
];

/// How the harness creates its sandbox on this host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// CAP_SYS_ADMIN: namespaces are created directly.
    Root,
    /// No CAP_SYS_ADMIN, but a user namespace of its own gives the harness root inside it
    /// (like `unshare -Urpf --mount-proc`).
    Rootless,
    /// Neither: every scenario is skipped with this reason.
    Unavailable(String),
}

/// The host facts requirements are checked against.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Host {
    pub kernel_release: String,
    /// (major, minor) of the running kernel.
    pub kernel: Option<(u32, u32)>,
    pub uid: u32,
    pub gid: u32,
    /// CapEff, as a number.
    pub cap_eff: u64,
    pub cap_sys_admin: bool,
    /// Seccomp mode from /proc/self/status: 0 off, 1 strict, 2 filter.
    pub seccomp: Option<u32>,
    /// Namespace kinds present in /proc/self/ns.
    pub ns_kinds: Vec<String>,
    /// Values of the namespace-related sysctls that exist on this kernel.
    pub sysctls: BTreeMap<String, String>,
    /// unshare() of each kind as the current user: "ok" or the errno.
    pub direct: BTreeMap<String, String>,
    /// unshare() of each kind inside a new user namespace (with uid/gid maps written).
    pub in_userns: BTreeMap<String, String>,
    /// unshare(CLONE_NEWUSER) by a process without capabilities: "ok" or the errno.
    pub unprivileged_userns: String,
    /// Mounting a new procfs in new PID and mount namespaces, the way the sandbox is made:
    /// "ok", the errno, or "not probed" (only `nsspec probe` tries it).
    pub proc_mount: String,
    /// Mounting a new procfs in new PID and mount namespaces inside a new user namespace, as
    /// a rootless run, or a scenario that lists `user`, does with `proc: fresh`: "ok", the
    /// errno (EPERM where something covers part of /proc, as in containers), "not probed", or
    /// why it was not tried. A run infers "ok" from its mount table where nothing covers
    /// /proc ([`crate::executor::procfs_fully_visible`]).
    #[serde(default = "not_probed")]
    pub proc_in_userns: String,
    /// Whether nsspec runs in the initial user namespace (read only where a plan mounts a
    /// procfs, true elsewhere): if not, its sandbox's mount namespace is owned by another, and
    /// even root's `proc: fresh` needs `proc_in_userns`.
    #[serde(default = "yes")]
    pub userns_initial: bool,
    /// Making every mount private in a new mount namespace, as the harness's sandbox does:
    /// "ok", the errno, or "not probed" (a run's first probe infers it works). EINVAL where `/`
    /// is not a mount point, as in a plain chroot.
    #[serde(default = "not_probed")]
    pub private_mounts: String,
    /// Mapping nsspec's uid to root in a new user namespace, as the harness does for a
    /// scenario that lists `user`: "ok", the errno, "not probed", or why it was not tried
    /// (no user namespace could be made). EPERM for root without CAP_SETFCAP (Linux 5.12,
    /// and 5.10.35 and 5.11.19 in stable). Tried by `nsspec probe`, and for a run where root
    /// lacks capabilities and a scenario needs a user namespace.
    #[serde(default = "not_probed")]
    pub map_root: String,
    /// Whether /proc/self/cgroup lists any hierarchy (none is mounted where it is empty).
    #[serde(default)]
    pub cgroup_hierarchy: bool,
    /// The kinds (of `pid`, `user`) whose namespace is the initial one: its inode is the
    /// kernel's fixed PROC_PID_INIT_INO / PROC_USER_INIT_INO (include/linux/proc_ns.h); and
    /// `time` where nsspec's time namespace keeps the initial one's clocks.
    /// Measured by `nsspec probe`, and for a run when a scenario requires it.
    #[serde(default)]
    pub initial_ns: Option<Vec<String>>,
    /// /proc/self/setgroups: "deny" where nsspec's user namespace or one above it denies
    /// setgroups(2) (as under `unshare -Ur`), which every new user namespace below inherits.
    /// Read by `nsspec probe`, and for a run when a scenario requires it.
    #[serde(default)]
    pub setgroups: Option<String>,
    /// Whether each scenario gets a cgroup of its own ("ok", else why not; "not probed"):
    /// foreseen by `limits::Outlook` when a scenario needs one.
    #[serde(default)]
    pub scenario_cgroup: String,
    /// Whether the number of a scenario's processes is limited (as `scenario_cgroup`), for
    /// scenarios that fork until the limit stops them.
    #[serde(default)]
    pub process_limit: String,
    /// How many processes the scenarios that fork until their limit stops them (`fork_bomb`)
    /// may hold at once: see [`fork_room`]. Found with `process_limit`; None where unknown.
    #[serde(default)]
    pub fork_room: Option<u64>,
    /// clone3(2) called with no arguments: "ok" when the kernel answers (EINVAL), else the
    /// errno — ENOSYS before 5.3, or from a seccomp filter (container runtimes' profiles).
    #[serde(default)]
    pub clone3: String,
    /// The kernel features (by [`Feature::key`]) that were tried, "ok" or what trying gave:
    /// for a run those its scenarios use that came after the running kernel's version (a
    /// vendor kernel may have backported them), every one for `nsspec probe`.
    #[serde(default)]
    pub features: BTreeMap<String, String>,
    /// SigIgn of nsspec itself: the signals it was started with ignored (by `nohup`, a shell's
    /// `&`, a CI runner), which its supervisors set back to their default action for the
    /// scenarios. Without /proc, every signal but glibc's own 32 and 33 (an older glibc
    /// catches those for its threads).
    #[serde(default)]
    pub signals_ignored: u64,
    pub mode: Mode,
    /// Creating the namespaces was not tried but inferred (real root, no seccomp filter, the
    /// kinds in /proc/self/ns): a scenario whose setup then fails re-probes by trying
    /// (`runner::run_all`). Never so for `nsspec probe`.
    #[serde(default)]
    pub inferred: bool,
}

/// Whether clone3(2) can be called here: with a null, zero-sized argument the kernel refuses
/// it with EINVAL before creating anything; ENOSYS means no clone3, or a filter saying so. Tried
/// in a child, since a seccomp filter may kill for it (SIGSYS), and only for runs that need it.
fn clone3_callable() -> String {
    let tried = in_child(|| {
        // SAFETY: clone3 copies nothing from a zero-sized argument: it fails before any effect.
        let r = unsafe { libc::syscall(libc::SYS_clone3, std::ptr::null::<u8>(), 0usize) };
        Errno::result(r).map(drop)
    });
    match tried {
        Err(Errno::EINVAL) => "ok".into(),
        // What in_child says of a child that did not exit; clone3 itself never answers it.
        Err(Errno::ECHILD) => "killed by a signal (a seccomp filter)".into(),
        other => outcome(other),
    }
}

/// Whether this kernel has `feature`, by trying it: "ok", or what trying gave. Tried in a
/// child, since a seccomp filter may kill for a system call it does not know (SIGSYS), and
/// nothing of it outlives the child. Each trial takes as "present" only an answer that the
/// feature's own code gives, and that needs no privilege: EPERM, which a seccomp filter or an
/// LSM gives as readily, counts only for NS_GET_USERNS, whose own check gives it for a
/// namespace owned outside the caller's.
fn feature_present(feature: Feature) -> String {
    let Ok((read, write)) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC) else {
        return "a pipe for the trial could not be made".into();
    };
    let code = crate::executor::child_exit_code(|| match try_feature(feature) {
        Ok(()) => 0,
        Err((stage, e)) => {
            // The stage goes through the pipe, the errno through the exit status.
            let _ = nix::unistd::write(&write, &[stage as u8]);
            (e as i32).clamp(1, 255)
        }
    });
    drop(write);
    let mut stage = [Stage::Own as u8];
    let _ = nix::unistd::read(&read, &mut stage);
    let e = match code {
        Ok(0) => return "ok".into(),
        // With SIGCHLD at its default (main sees to that), only a child that did not exit.
        Err(Errno::ECHILD) => return "the trial was killed by a signal (a seccomp filter?)".into(),
        Ok(code) => Errno::from_raw(code),
        // Its fork refused: the errno alone, as the other trials give it.
        Err(e) => return crate::report::errno_text(e as i32),
    };
    let text = crate::report::errno_text(e as i32);
    match stage[0] {
        s if s == Stage::PidfdOpen as u8 => {
            let of = if feature == Feature::SetnsPidfd {
                "the child it made"
            } else {
                "itself"
            };
            format!("pidfd_open(2) of {of} fails with {text}")
        }
        s if s == Stage::NsFile as u8 => {
            let file = if feature == Feature::NsPidTranslation {
                "pid"
            } else {
                "uts"
            };
            format!("opening /proc/self/ns/{file} fails with {text}")
        }
        s if s == Stage::Fdinfo as u8 => {
            format!("reading its pidfd's entry in /proc/self/fdinfo fails with {text}")
        }
        s if s == Stage::Child as u8 => format!("a child to try it on could not be made: {text}"),
        _ if feature == Feature::PidfdFdinfoNspid && e == Errno::ENODATA => {
            "no NSpid line in a pidfd's fdinfo".into()
        }
        _ if feature == Feature::SetTid && e == Errno::E2BIG => {
            format!("{text} (a clone3(2) without set_tid)")
        }
        _ => text,
    }
}

/// Where a trial of [`try_feature`] failed: at the feature's own call, or at what it needs
/// first.
#[derive(Clone, Copy)]
enum Stage {
    Own,
    /// pidfd_open(2) of itself, or of the child it tries on.
    PidfdOpen,
    /// Opening /proc/self/ns/uts (/proc/self/ns/pid for the PID translations).
    NsFile,
    /// Reading the pidfd's /proc/self/fdinfo entry.
    Fdinfo,
    /// Making (and reaping) a child to try on.
    Child,
}

/// The trial of [`feature_present`], in the child.
fn try_feature(feature: Feature) -> Result<(), (Stage, Errno)> {
    use crate::executor::pidfd_open;
    use std::os::fd::{AsRawFd, OwnedFd};
    let own = |r: Result<(), Errno>| r.map_err(|e| (Stage::Own, e));
    use crate::executor::{NsAnswer, ns_ioctl, pidfd_namespace};
    use crate::schema::NsRequest;
    let answered = |r: Result<NsAnswer, Errno>| r.map(drop).map_err(|e| (Stage::Own, e));
    // A request the kernel knows but refuses for this namespace, with `want`.
    let refused = |r: Result<NsAnswer, Errno>, want: Errno| match r {
        Err(e) if e == want => Ok(()),
        Err(e) => Err((Stage::Own, e)),
        Ok(_) => Err((Stage::Own, Errno::EEXIST)),
    };
    let own_ns = |name: &str| -> Result<OwnedFd, (Stage, Errno)> {
        std::fs::File::open(format!("/proc/self/ns/{name}"))
            .map(OwnedFd::from)
            .map_err(|e| {
                (
                    Stage::NsFile,
                    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
                )
            })
    };
    let me = nix::unistd::getpid().as_raw();
    let own_pidfd = || pidfd_open(me).map_err(|e| (Stage::PidfdOpen, e));
    match feature {
        // NS_GET_PARENT and NS_GET_USERNS came together (4.9), and a partial backport would
        // fail the scenario: both are tried. A UTS namespace has no parent (EINVAL where the
        // request is known, ENOTTY before); NS_GET_USERNS answers EPERM where the owner is
        // outside the caller's user namespace.
        Feature::NsGetUserns => {
            let fd = own_ns("uts")?;
            refused(ns_ioctl(&fd, NsRequest::Parent, None), Errno::EINVAL)?;
            match ns_ioctl(&fd, NsRequest::Userns, None) {
                Ok(_) | Err(Errno::EPERM) => Ok(()),
                Err(e) => Err((Stage::Own, e)),
            }
        }
        // Likewise NS_GET_NSTYPE and NS_GET_OWNER_UID (4.11): only a user namespace has an
        // owner uid, so a UTS namespace's is EINVAL where the request is known.
        Feature::NsGetNstype => {
            let fd = own_ns("uts")?;
            answered(ns_ioctl(&fd, NsRequest::Nstype, None))?;
            refused(ns_ioctl(&fd, NsRequest::OwnerUid, None), Errno::EINVAL)
        }
        Feature::MountApi => {
            // fsconfig(2) on a descriptor that is not open: EBADF from 5.2 (after checking
            // the command, before any permission), ENOSYS before. What `mount_tmpfs` with
            // `dirs` calls came together: fsopen, fsconfig, fsmount, move_mount.
            const UNUSED: i32 = 999;
            let _ = nix::unistd::close(UNUSED);
            // SAFETY: a NUL-terminated key and null value; the descriptor is not open.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_fsconfig,
                    UNUSED,
                    libc::FSCONFIG_SET_FLAG,
                    c"ro".as_ptr(),
                    std::ptr::null::<u8>(),
                    0,
                )
            };
            match Errno::result(r) {
                Err(Errno::EBADF) => Ok(()),
                Err(e) => own(Err(e)),
                Ok(_) => own(Err(Errno::EEXIST)),
            }
        }
        Feature::PidfdOpen => own(pidfd_open(me).map(drop)),
        Feature::PidfdFdinfoNspid => {
            let fd = own_pidfd()?;
            let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd()))
                .map_err(|e| {
                    (
                        Stage::Fdinfo,
                        Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
                    )
                })?;
            if info.lines().any(|l| l.starts_with("NSpid:")) {
                Ok(())
            } else {
                own(Err(Errno::ENODATA))
            }
        }
        Feature::SetTid => {
            // struct clone_args up to set_tid_size (CLONE_ARGS_SIZE_VER1, Linux 5.5): from 5.5
            // a set_tid_size above MAX_PID_NS_LEVEL is EINVAL before anything is made; 5.3 and
            // 5.4 refuse the longer struct's non-zero tail with E2BIG. No size could succeed.
            let set_tid: [libc::pid_t; 1] = [1];
            let mut args = [0u64; 10];
            args[8] = set_tid.as_ptr() as u64;
            args[9] = u64::MAX;
            // SAFETY: `args` is a valid clone_args of the size given; the kernel refuses it
            // before reading `set_tid` or creating anything.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_clone3,
                    args.as_ptr(),
                    std::mem::size_of_val(&args),
                )
            };
            match Errno::result(r) {
                Err(Errno::EINVAL) => Ok(()),
                Err(e) => own(Err(e)),
                // Made after all (impossible by the check above): the new process leaves.
                // SAFETY: _exit is always safe.
                Ok(0) => unsafe { libc::_exit(0) },
                Ok(_) => own(Err(Errno::EEXIST)),
            }
        }
        Feature::SetnsPidfd => {
            // setns(2) through the pidfd of a reaped child: from 5.8 ESRCH (validate_nsset()
            // finds no task) before any permission check; before, a pidfd is no namespace
            // file: EINVAL. Nothing is joined either way.
            // SAFETY: the child only leaves.
            let child = match unsafe { libc::fork() } {
                -1 => return Err((Stage::Child, Errno::last())),
                // SAFETY: _exit is always safe.
                0 => unsafe { libc::_exit(0) },
                pid => pid,
            };
            let pidfd = pidfd_open(child).map_err(|e| (Stage::PidfdOpen, e));
            nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(child), None)
                .map_err(|e| (Stage::Child, e))?;
            let pidfd = pidfd?;
            // SAFETY: `pidfd` is open; its process is gone, so nothing can be joined.
            match Errno::result(unsafe { libc::setns(pidfd.as_raw_fd(), libc::CLONE_NEWUTS) }) {
                Err(Errno::ESRCH) => Ok(()),
                Err(e) => own(Err(e)),
                Ok(_) => own(Err(Errno::EEXIST)),
            }
        }
        // NS_GET_PID_IN_PIDNS of its own PID on its own PID namespace's file: that PID
        // (ENOTTY before 6.11). The other three came in the same commit.
        Feature::NsPidTranslation => {
            match ns_ioctl(&own_ns("pid")?, NsRequest::PidInPidns, Some(me)) {
                Ok(NsAnswer::Pid(pid, _)) if pid == me => Ok(()),
                Ok(_) => own(Err(Errno::EEXIST)),
                Err(e) => own(Err(e)),
            }
        }
        // PIDFD_GET_UTS_NAMESPACE; ENOTTY before 6.11. No EPERM: pidfd_ioctl() refuses with
        // EACCES, and never for one's own.
        Feature::PidfdNsIoctl => own(pidfd_namespace(&own_pidfd()?, NsKind::Uts, false).map(drop)),
    }
}

/// What the probe does inside the user namespace a process without capabilities made: the
/// flags of an unshare(2) that needs CAP_SYS_ADMIN there.
pub const INSIDE_UNPRIVILEGED_USERNS: libc::c_int = libc::CLONE_NEWUTS | libc::CLONE_NEWIPC;

/// What an unshare(CLONE_NEWUSER) by a process without capabilities gives: "ok" where the new
/// namespace grants its capabilities, the errno where the unshare fails, and
/// "no capabilities inside it: …" where it is made but a privileged step in it fails.
/// AppArmor's restriction (Ubuntu 23.10 on, `kernel.apparmor_restrict_unprivileged_userns`,
/// GitHub's Ubuntu 24.04 runners among them) does that: it lets an unconfined process make the
/// namespace and then confines it to a profile that denies every capability, so every scenario
/// that needs one would fail at its first privileged step instead of being skipped.
fn unprivileged_userns(patience: &Patience) -> String {
    let flags = libc::CLONE_NEWUSER | INSIDE_UNPRIVILEGED_USERNS;
    patience.settled(flags, unprivileged_userns_once, |s| s.contains("ENOSPC"))
}

fn unprivileged_userns_once() -> String {
    const INSIDE: i32 = 128;
    let code = crate::executor::child_exit_code(|| {
        let code = |e: Errno, base: i32| base + (e as i32).clamp(1, INSIDE - 1);
        if let Err(e) = drop_all_caps().and_then(|()| unshare(libc::CLONE_NEWUSER)) {
            return code(e, 0);
        }
        match unshare(INSIDE_UNPRIVILEGED_USERNS) {
            Ok(()) => 0,
            Err(e) => code(e, INSIDE),
        }
    });
    match code {
        Ok(0) => "ok".into(),
        // Only a refusal says the namespace grants nothing; ENOSPC (user.max_uts_namespaces 0)
        // or EINVAL (a kernel without those kinds) is about the kinds, not the capabilities.
        Ok(c) if c - INSIDE == libc::EPERM || c - INSIDE == libc::EACCES => format!(
            "no capabilities inside it: unshare(CLONE_NEWUTS|CLONE_NEWIPC) there fails with {}",
            crate::report::errno_text(c - INSIDE)
        ),
        Ok(c) if c > INSIDE => format!(
            "made, but unshare(CLONE_NEWUTS|CLONE_NEWIPC) in it fails with {}",
            crate::report::errno_text(c - INSIDE)
        ),
        Ok(c) => crate::report::errno_text(c),
        Err(e) => crate::report::errno_text(e as i32),
    }
}

fn outcome(r: Result<(), Errno>) -> String {
    match r {
        Ok(()) => "ok".into(),
        Err(e) => crate::report::errno_text(e as i32),
    }
}

impl Host {
    /// Measures everything (`nsspec probe`): every kind directly and in a user namespace,
    /// user namespaces without capabilities, and mounting a procfs.
    pub fn probe() -> Host {
        Self::measure(None, false, true)
    }

    /// Measures only what `plans` need, so that a run costs a few forks, not dozens: how the
    /// harness can run here, and creating the namespace kinds the plans use.
    pub fn probe_for(plans: &[&Plan]) -> Host {
        Self::measure(Some(scope_of(plans)), true, true)
    }

    /// Like [`Host::probe_for`], but always by trying, and without [`Patience`]'s waits: for
    /// when a scenario's setup failed on a host whose facts were [`Host::inferred`], so what
    /// the host allows at that moment, while the run's other namespaces are alive or just
    /// ended, is what it asks.
    pub fn probe_for_by_trying(plans: &[&Plan]) -> Host {
        // Not the kernel's features: those were judged at the start, and only once.
        let scope = Scope {
            features: std::collections::BTreeSet::new(),
            ..scope_of(plans)
        };
        Self::measure(Some(scope), false, false)
    }

    /// `scope`: `None` for everything, or what the plans need. `may_infer`: as real root without a seccomp filter, take the kinds
    /// listed in /proc/self/ns as creatable instead of forking a child to try: nothing else
    /// but an LSM or an exhausted `user.max_*_namespaces` could refuse them, and a scenario
    /// that then fails to set up triggers the real probe. It saves a fork and the creation
    /// and teardown of the namespaces, a quarter of a millisecond per `nsspec run`.
    /// `patient`: retry ENOSPC as [`Patience::settled`] does.
    fn measure(scope: Option<Scope>, may_infer: bool, patient: bool) -> Host {
        let status = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|text| OwnStatus::parse(&text));
        let cap_eff = status.as_ref().map_or(0, |s| s.cap_eff);
        let seccomp = status.as_ref().and_then(|s| s.seccomp);
        let signals_ignored = status.as_ref().map_or(!(0b11 << 31), |s| s.sig_ign);
        let ns_kinds: Vec<String> = std::fs::read_dir("/proc/self/ns")
            .map(|d| {
                d.filter_map(|e| Some(e.ok()?.file_name().to_str()?.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let kernel_release = nix::sys::utsname::uname()
            .map(|u| u.release().to_string_lossy().into_owned())
            .unwrap_or_default();
        let uid = nix::unistd::getuid().as_raw();
        let gid = nix::unistd::getgid().as_raw();
        let cap_sys_admin = cap_eff & (1 << CAP_SYS_ADMIN) != 0;
        let present: Vec<NsKind> = NsKind::ALL
            .into_iter()
            .filter(|k| ns_kinds.iter().any(|n| n == k.proc_name()))
            .collect();
        let patience = Patience::new(patient);
        let directly = |flag| patience.settled(flag, || in_child(|| unshare(flag)), is_enospc);
        let in_own_userns = |flag| {
            let attempt = || {
                in_child(|| {
                    enter_own_userns(uid, gid)?;
                    unshare(flag)
                })
            };
            patience.settled(flag | libc::CLONE_NEWUSER, attempt, is_enospc)
        };
        let mut inferred = false;
        let (direct, in_userns) = match &scope {
            None => (
                try_kinds(&present, false, directly),
                try_kinds(&present, false, in_own_userns),
            ),
            Some(Scope { kinds, .. }) => {
                let kinds: Vec<NsKind> = kinds
                    .iter()
                    .filter(|k| present.contains(k))
                    .copied()
                    .collect();
                let direct = if cap_sys_admin && may_infer && seccomp == Some(0) {
                    inferred = true;
                    kinds
                        .iter()
                        .map(|k| (k.name().to_string(), "ok".to_string()))
                        .collect()
                } else if cap_sys_admin {
                    try_kinds(&kinds, true, directly)
                } else {
                    BTreeMap::new()
                };
                let in_userns = if sandbox_ok(&direct) && full_root(cap_eff) {
                    BTreeMap::new()
                } else {
                    try_kinds(&kinds, true, in_own_userns)
                };
                (direct, in_userns)
            }
        };
        let unprivileged_userns = match &scope {
            Some(Scope {
                unprivileged: false,
                ..
            }) => not_probed(),
            _ => unprivileged_userns(&patience),
        };
        // Tried with the facts a failed set-up asks for, and by `nsspec probe`: a chroot whose
        // root is no mount point passes every other check and fails every scenario's set-up.
        // Tried the way the sandbox would be made, and only where it could be: elsewhere the
        // failure to make the namespaces is the reason, not this.
        // A procfs in a mount namespace owned by a user namespace other than the initial one
        // (the rootless sandbox's, root's own under `unshare -Ur`, or one a scenario makes):
        // refused where part of /proc is covered. Asked only for plans that mount a procfs,
        // and in a run as full root in the initial user namespace only for those that make a
        // user namespace; inferred from the mount table where nothing covers /proc.
        let wants_proc = scope.as_ref().is_none_or(|s| s.mounts_proc);
        let userns_initial = !wants_proc || at_initial(NsKind::User, PROC_USER_INIT_INO);
        let proc_in_userns = {
            let needed = scope.as_ref().is_none_or(|s| {
                s.mounts_proc_in_user || (s.mounts_proc && !(full_root(cap_eff) && userns_initial))
            });
            let userns = sandbox_ok(&in_userns)
                || (cap_sys_admin && direct.get("user").is_some_and(|v| v == "ok"));
            if !needed {
                not_probed()
            } else if !userns {
                format!("{NOT_TRIED}: no user namespace with a mount namespace can be made")
            } else if scope.is_some()
                && may_infer
                && std::fs::read_to_string("/proc/self/mountinfo")
                    .is_ok_and(|t| crate::executor::procfs_fully_visible(&t))
            {
                inferred = true;
                "ok".into()
            } else {
                mount_proc_outcome(ProcTrial::Unmapped, &patience)
            }
        };
        let route = sandbox_route(cap_eff, &direct, &in_userns);
        let private_mounts = match route {
            Some(rootless) if scope.is_none() || !may_infer => outcome(in_child(|| {
                if rootless {
                    enter_own_userns(uid, gid)?;
                }
                unshare(libc::CLONE_NEWNS)?;
                make_mounts_private()
            })),
            _ => not_probed(),
        };
        // Only root that lacks capabilities can fail to map itself (without CAP_SETFCAP), so
        // a run as full root (or rootless) pays nothing for it.
        let map_root = match &scope {
            None => map_root_outcome(uid, gid),
            Some(s) if cap_sys_admin && !full_root(cap_eff) && s.kinds.contains(&NsKind::User) => {
                map_root_outcome(uid, gid)
            }
            Some(_) => not_probed(),
        };
        // Only for `nsspec probe`, and like the private mounts: the way the sandbox would be.
        let proc_mount = match route {
            Some(rootless) if scope.is_none() => mount_proc_outcome(
                if rootless {
                    ProcTrial::Mapped(uid, gid)
                } else {
                    ProcTrial::Direct
                },
                &patience,
            ),
            _ => not_probed(),
        };
        // The sysctls only explain failures: a run where everything probed works skips them.
        let all_ok = scope.is_some()
            && direct.values().chain(in_userns.values()).all(|v| v == "ok")
            && matches!(unprivileged_userns.as_str(), "ok" | "not probed")
            && !proc_in_userns.starts_with("ENOSPC");
        let sysctls = if all_ok {
            BTreeMap::new()
        } else {
            read_sysctls()
        };
        let kernel = parse_kernel(&kernel_release);
        let mut host = Host {
            kernel,
            kernel_release,
            uid,
            gid,
            cap_eff,
            cap_sys_admin,
            seccomp,
            ns_kinds,
            sysctls,
            direct,
            in_userns,
            unprivileged_userns,
            proc_mount,
            proc_in_userns,
            userns_initial,
            private_mounts,
            map_root,
            initial_ns: scope
                .as_ref()
                .is_none_or(|s| s.initial)
                .then(initial_namespaces),
            cgroup_hierarchy: std::fs::read_to_string("/proc/self/cgroup")
                .is_ok_and(|c| !c.trim().is_empty()),
            setgroups: scope
                .as_ref()
                .is_none_or(|s| s.setgroups)
                .then(|| std::fs::read_to_string("/proc/self/setgroups").ok())
                .flatten()
                .map(|v| v.trim().to_string()),
            scenario_cgroup: not_probed(),
            process_limit: not_probed(),
            fork_room: None,
            clone3: if scope.as_ref().is_none_or(|s| s.clone3) {
                clone3_callable()
            } else {
                not_probed()
            },
            features: Feature::ALL
                .into_iter()
                .filter(|f| match &scope {
                    None => true,
                    Some(s) => {
                        s.features.contains(f) && kernel.is_some_and(|have| have < f.since())
                    }
                })
                .map(|f| (f.key().to_string(), feature_present(f)))
                .collect(),
            signals_ignored,
            mode: Mode::Root,
            inferred,
        };
        // Without a procfs every fact above reads as absent (no capabilities, no namespace
        // kinds), and the reason decide_mode would give from them is wrong. Asked only when
        // /proc/self/status could not be read, so a normal run pays nothing.
        host.mode = match status.is_none().then(proc_problem).flatten() {
            Some(why) => Mode::Unavailable(why),
            None => host.decide_mode(),
        };
        let wants = |f: fn(&Scope) -> bool| scope.as_ref().is_none_or(f);
        host.foresee_cgroups(wants(|s| s.cgroup), wants(|s| s.process_limit));
        host
    }

    /// `scenario_cgroup` (where `cgroup`) and `process_limit` with `fork_room` (where
    /// `process_limit`), only once the mode is known: a rootless supervisor has fewer places
    /// for a cgroup, and one that cannot run has none.
    fn foresee_cgroups(&mut self, cgroup: bool, process_limit: bool) {
        let runs = matches!(self.mode, Mode::Root | Mode::Rootless);
        if runs && (cgroup || process_limit) {
            let outlook = crate::limits::Outlook::here(self.mode == Mode::Rootless);
            let text = |r: Result<(), String>| r.err().unwrap_or_else(|| "ok".into());
            if cgroup {
                self.scenario_cgroup = text(outlook.own_cgroup());
            }
            if process_limit {
                self.process_limit = text(outlook.process_limit());
                self.fork_room = fork_room(
                    outlook.cgroup_room(),
                    self.kernel,
                    self.initial_ns.as_deref(),
                );
            }
        }
    }

    /// These facts, tried after a scenario failed, as they bear on that failure, whose own
    /// output showed the kinds `refused` with an ENOSPC ([`enospc_shown`]). Such a probe
    /// comes only where the facts were inferred (root without a seccomp filter: only a policy
    /// or a limit could refuse a kind listed in /proc/self/ns), so a trial's errno counts only
    /// where it is a refusal that explains the failure; every other reads "ok", and the mode is
    /// decided again from what is left:
    /// - EAGAIN, ENOMEM and ECHILD say the trial itself could not be made (its fork refused
    ///   by a process limit, a child killed), not what the kernel allows: under `ulimit -u`
    ///   a scenario failing for a reason of its own was skipped as "fails here with EAGAIN";
    /// - a kind refused with anything but EPERM or EACCES (a policy), EUSERS (the nesting of
    ///   user namespaces) or ENOSPC is what the failure may be about (a kernel regression),
    ///   not the host;
    /// - ENOSPC under a `user.max_*_namespaces` that is not 0 is a fact of its moment: the
    ///   run's other namespaces, alive or ended moments before (the failed scenario's own
    ///   among them: these trials do not wait), held the limit. It counts only for the kinds
    ///   the failure itself was refused ([`enospc_shown`]), or where the limit is 0; taken
    ///   for any, it hid a failure of a scenario of that kind as a host that cannot (a
    ///   `getpid` expecting the wrong number, skipped under user.max_pid_namespaces at 1, its
    ///   own PID namespace still counted), and every later one in the run.
    pub fn for_failure(&self, refused: &std::collections::BTreeSet<NsKind>) -> Host {
        let lasting = |k: &NsKind| {
            refused.contains(k) || self.sysctls.get(&limit_name(*k)).is_some_and(|n| n == "0")
        };
        let mut host = self.clone();
        let mut changed = false;
        // `kinds`: those whose limits may have refused the trial; `kind_trial`: an unshare of
        // a kind, where only a refusal counts.
        let mut explain = |v: &mut String, kinds: &[NsKind], kind_trial: bool| {
            let counts = match errno_in(v) {
                None => true,
                Some("EAGAIN" | "ENOMEM" | "ECHILD") => false,
                Some("ENOSPC") => kinds.iter().any(lasting),
                Some("EPERM" | "EACCES" | "EUSERS") => true,
                Some(_) => !kind_trial,
            };
            if !counts {
                *v = "ok".into();
                changed = true;
            }
        };
        let kind = |name: &str| NsKind::ALL.into_iter().find(|k| k.name() == name);
        for (name, v) in &mut host.direct {
            if let Some(k) = kind(name) {
                explain(v, &[k], true);
            }
        }
        // Tried in a user namespace of the probe's own, which the limit on those may refuse.
        for (name, v) in &mut host.in_userns {
            if let Some(k) = kind(name) {
                explain(v, &[k, NsKind::User], true);
            }
        }
        explain(
            &mut host.unprivileged_userns,
            &[NsKind::User, NsKind::Uts, NsKind::Ipc],
            false,
        );
        explain(
            &mut host.proc_in_userns,
            &[NsKind::User, NsKind::Mount, NsKind::Pid],
            false,
        );
        explain(&mut host.private_mounts, &[NsKind::Mount], false);
        explain(&mut host.map_root, &[NsKind::User], false);
        // Not only from Unavailable: a moment's ENOSPC for root's own trial of mount, UTS or
        // IPC, with the trial in a user namespace let through, made the mode Rootless, and
        // skipped a failed scenario that `requires: [root]` as "this run is rootless".
        if changed {
            host.mode = host.decide_mode();
        }
        host
    }

    fn decide_mode(&self) -> Mode {
        if !matches!(self.private_mounts.as_str(), "ok" | "not probed") {
            let hint = if self.private_mounts.starts_with("EINVAL") {
                " (`/` is not a mount point, as in a plain chroot: run nsspec outside it, or \
                 make the chroot's root a mount point first, such as by bind-mounting it onto \
                 itself)"
            } else {
                ""
            };
            return Mode::Unavailable(format!(
                "the harness cannot make its mounts private here, which keeps what scenarios \
                 mount off the host: mount(\"/\", MS_REC|MS_PRIVATE) fails with {}{hint}; use \
                 `vm/run`",
                self.private_mounts
            ));
        }
        match sandbox_route(self.cap_eff, &self.direct, &self.in_userns) {
            Some(false) => return Mode::Root,
            Some(true) => return Mode::Rootless,
            None => {}
        }
        // Mount works but the sandbox's UTS or IPC namespace does not (user.max_*_namespaces).
        for tried in [&self.direct, &self.in_userns] {
            if tried.get("mount").is_none_or(|v| v != "ok") {
                continue;
            }
            for kind in ["uts", "ipc"] {
                if let Some(e) = tried.get(kind).filter(|v| *v != "ok") {
                    return Mode::Unavailable(format!(
                        "the harness runs every scenario in mount, UTS and IPC namespaces of its \
                         own, and creating {kind} namespaces fails here with {e}; use `vm/run`"
                    ));
                }
            }
        }
        let why = self
            .userns_blocker()
            .unwrap_or_else(|| match self.in_userns.get("mount") {
                Some(e) => {
                    format!("creating a mount namespace inside a user namespace failed: {e}")
                }
                None => "this kernel has no user namespaces".into(),
            });
        Mode::Unavailable(format!(
            "needs CAP_SYS_ADMIN or unprivileged user namespaces ({why}); run as root or use `vm/run`"
        ))
    }

    /// For root mode where root lacks some of [`ROOT_CAPS`] (it can make no user namespace of
    /// its own to get them, or none that can mount a procfs): which, and what follows.
    pub fn lacking_note(&self) -> Option<String> {
        let lacking = self.root_lacking()?;
        let (it, them) = if lacking.contains(", ") {
            ("one of them", "them")
        } else {
            ("it", "it")
        };
        Some(format!(
            "lacking {lacking} (scenarios that need {it} fail; grant {them} or use `vm/run`)"
        ))
    }

    /// The capabilities of [`ROOT_CAPS`] this root (CAP_SYS_ADMIN) lacks, if it is root and
    /// lacks any: why it runs rootless.
    pub fn root_lacking(&self) -> Option<String> {
        let lacking = missing_root_caps(self.cap_eff);
        (self.cap_sys_admin && !lacking.is_empty()).then(|| lacking.join(", "))
    }

    /// The setting that stops unprivileged user namespaces here, if one does.
    fn userns_blocker(&self) -> Option<String> {
        let get = |k: &str| self.sysctls.get(k).map(String::as_str);
        if get("user.max_user_namespaces") == Some("0") {
            return Some("user.max_user_namespaces is 0".into());
        }
        if get("kernel.unprivileged_userns_clone") == Some("0") {
            return Some("kernel.unprivileged_userns_clone is 0".into());
        }
        if get("kernel.apparmor_restrict_unprivileged_userns") == Some("1") {
            return Some("kernel.apparmor_restrict_unprivileged_userns is 1 (AppArmor)".into());
        }
        // The trial without capabilities, where made, is the one a plan that needs unprivileged
        // user namespaces asks about; root's kind `user` may be inferred "ok" without a trial.
        let without_caps = Some(&self.unprivileged_userns).filter(|v| v.starts_with("ENOSPC"));
        let tried = without_caps.or(self.in_userns.get("user"));
        match tried.or(self.direct.get("user")) {
            // A limit set low but not 0, reached (by this run, or by this user's namespaces
            // elsewhere): said, with what to do, rather than only its errno.
            Some(v) if v.starts_with("ENOSPC") => Some(match get("user.max_user_namespaces") {
                Some(n) if limited_only_outside(n) => format!(
                    "unshare(CLONE_NEWUSER) fails with {v}, user.max_user_namespaces being {n} \
                     here: the limit reached is an enclosing user namespace's, which cannot be \
                     read from here"
                ),
                Some(n) => format!(
                    "unshare(CLONE_NEWUSER) fails with {v}, user.max_user_namespaces being {n} \
                     here: {LIMIT_COUNTS}; raise it or run fewer scenarios at once (`-j 1`)"
                ),
                None => format!("unshare(CLONE_NEWUSER) fails with {v}"),
            }),
            Some(v) if v != "ok" => Some(format!("unshare(CLONE_NEWUSER) fails with {v}")),
            _ => None,
        }
    }

    /// Why these facts, where a trial's errno says only that the trial could not be made (its
    /// fork refused with EAGAIN by a process limit, ENOMEM), say nothing of what the kernel
    /// allows: a skip for them would hide every scenario of a host that can, as a run under
    /// `prlimit --nproc=1` skipped all of them and passed.
    pub fn untried(&self) -> Option<String> {
        let fact = self
            .trials()
            .find(|v| not_made(v))
            .and_then(|v| errno_in(v))?;
        Some(format!(
            "not run: nsspec could not try what this host allows, as a trial in a forked child \
             failed with {fact} (a fork refused by a process limit, `ulimit -u` or the pids.max \
             of the cgroup nsspec runs in, or memory), so a skip would say nothing of the \
             kernel; raise the limit and run again"
        ))
    }

    /// These facts with every trial that could not be made ([`Host::untried`]) taken as
    /// made: what a scenario would be skipped for whatever those trials gave (an older
    /// kernel, a missing capability) still holds; what is left is only theirs.
    pub fn as_if_tried(&self) -> Host {
        let mut host = self.clone();
        for v in host.trials_mut().filter(|v| not_made(v)) {
            *v = "ok".into();
        }
        if matches!(host.mode, Mode::Unavailable(_)) {
            host.mode = host.decide_mode();
            host.foresee_cgroups(true, true);
        }
        host
    }

    /// The facts a trial in a forked child gives: [`Host::untried`]'s and
    /// [`Host::as_if_tried`]'s.
    fn trials(&self) -> impl Iterator<Item = &String> {
        self.direct
            .values()
            .chain(self.in_userns.values())
            .chain(self.features.values())
            .chain([
                &self.unprivileged_userns,
                &self.proc_in_userns,
                &self.private_mounts,
                &self.map_root,
                &self.clone3,
            ])
    }

    fn trials_mut(&mut self) -> impl Iterator<Item = &mut String> {
        self.direct
            .values_mut()
            .chain(self.in_userns.values_mut())
            .chain(self.features.values_mut())
            .chain([
                &mut self.unprivileged_userns,
                &mut self.proc_in_userns,
                &mut self.private_mounts,
                &mut self.map_root,
                &mut self.clone3,
            ])
    }

    /// Why `plan` cannot run here, or `None` when it can.
    pub fn unmet(&self, plan: &Plan) -> Option<String> {
        self.unmet_of(plan, true)
    }

    /// Why `plan`, which failed, could not have run here after all, from facts tried after
    /// the failure ([`Host::for_failure`]): only whether the harness can run here and the
    /// namespaces it makes. The rest (the kernel's version, sysctls, the free PIDs, cgroups,
    /// clone3) was met when the scenario was let start; measured again at the failure's
    /// moment, the free PIDs of a busy host skipped a fork bomb that had run and failed.
    pub fn unmet_after_failure(&self, plan: &Plan) -> Option<String> {
        self.unmet_of(plan, false)
    }

    /// `gates`: also the requirements judged once, before the scenario starts.
    fn unmet_of(&self, plan: &Plan, gates: bool) -> Option<String> {
        if let Mode::Unavailable(reason) = &self.mode {
            return Some(reason.clone());
        }
        let mut missing = Vec::new();
        let mut lacking = Vec::new();
        for r in &plan.requirements {
            let made = matches!(
                r,
                Requirement::Root | Requirement::UnprivilegedUserns | Requirement::Namespace(_)
            );
            if !gates && !made {
                continue;
            }
            match r {
                Requirement::Root => {
                    if self.mode != Mode::Root
                        && let Some(lacking) = self.root_lacking()
                    {
                        missing.push(format!(
                            "needs root with all its capabilities; this root lacks {lacking}, so \
                             the run is rootless — grant {} or use `vm/run`",
                            if lacking.contains(", ") { "them" } else { "it" }
                        ));
                    } else if self.mode != Mode::Root {
                        missing.push(
                            "needs root (CAP_SYS_ADMIN outside any user namespace of nsspec's own); \
                             this run is rootless — run as root or use `vm/run`"
                                .to_string(),
                        );
                    }
                }
                Requirement::UnprivilegedUserns => {
                    if self.unprivileged_userns != "ok" {
                        let why = self.userns_blocker().unwrap_or_else(|| {
                            let v = &self.unprivileged_userns;
                            if v.starts_with("no capabilities") {
                                format!("a user namespace made without capabilities has {v}")
                            } else if v.starts_with("made, but") {
                                format!("a user namespace without capabilities is {v}")
                            } else {
                                format!(
                                    "unshare(CLONE_NEWUSER) without capabilities fails with {v}"
                                )
                            }
                        });
                        missing.push(format!(
                            "needs unprivileged user namespaces: {why} — use `vm/run`"
                        ));
                    }
                }
                Requirement::Namespace(k) => {
                    let works = if self.mode == Mode::Root {
                        &self.direct
                    } else {
                        &self.in_userns
                    };
                    match works.get(k.name()) {
                        None => missing.push(format!(
                            "needs {} namespaces, which this kernel lacks (no /proc/self/ns/{}); use `vm/run` with a newer kernel",
                            k.name(),
                            k.proc_name()
                        )),
                        Some(v) if v != "ok" => {
                            let mut m = format!("cannot create {} namespaces here: unshare fails with {v}", k.name());
                            let limit = limit_name(*k);
                            let set = self.sysctls.get(&limit);
                            // ENOSPC is the per-user-namespace limit's errno (and the
                            // nesting depth's, which a single unshare cannot reach).
                            if let Some(n) =
                                set.filter(|n| *n == "0" || v.starts_with("ENOSPC"))
                            {
                                write!(m, " {}", limit_reached(&limit, n)).unwrap();
                            } else if self.mode == Mode::Root {
                                m.push_str("; use `vm/run`");
                            } else {
                                m.push_str("; run as root or use `vm/run`");
                            }
                            missing.push(m);
                        }
                        Some(_) => {}
                    }
                }
                Requirement::Kernel(a, b) => {
                    if self.kernel.is_some_and(|have| have < (*a, *b)) {
                        missing.push(format!(
                            "needs kernel >= {a}.{b}, this is {}; use `vm/run --kernel` with a newer one",
                            self.kernel_release
                        ));
                    }
                }
                // Without clone3(2) (its own reason), set_tid is not there either.
                Requirement::Feature(Feature::SetTid) if self.clone3 != "ok" => {}
                Requirement::Feature(f) => lacking.extend(self.lacks(*f)),
                Requirement::KernelBelow(a, b) => {
                    if self.kernel.is_none_or(|have| have >= (*a, *b)) {
                        // The Debian kernels vm/run fetches start at 5.10: older ones only
                        // come as a bzImage of one's own.
                        let how = if (*a, *b) <= (5, 10) {
                            "use `vm/run --kernel PATH` with the bzImage of an older one"
                        } else {
                            "use `vm/run --kernel` with an older one"
                        };
                        missing.push(format!(
                            "describes kernels older than {a}.{b}, this is {}; {how}",
                            self.kernel_release
                        ));
                    }
                }
                // As root the harness mounts cgroup2 in its private mount namespace itself.
                Requirement::InitialNamespace(k) => {
                    let here = self.initial_ns.iter().flatten().any(|n| n == k.name());
                    if !here && *k == NsKind::Time {
                        missing.push(
                            "needs the clocks of the initial time namespace (clock offsets, and \
                             the clocks it compares with, count from there), but nsspec runs in \
                             a time namespace with offsets here, or its children would \
                             (`unshare --time`?); run it outside or use `vm/run`"
                                .to_string(),
                        );
                    } else if !here {
                        missing.push(format!(
                            "needs nsspec in the initial {0} namespace, but it runs in a nested \
                             one here (a container?); run it on the host or use `vm/run`",
                            k.name()
                        ));
                    } else if *k == NsKind::User && self.mode == Mode::Rootless {
                        missing.push(
                            "needs nsspec in the initial user namespace, but rootless it works \
                             in one of its own, a level deeper; run as root or use `vm/run`"
                                .to_string(),
                        );
                    }
                }
                Requirement::CgroupHierarchy => {
                    if self.mode != Mode::Root && !self.cgroup_hierarchy {
                        missing.push(
                            "needs root or a mounted cgroup hierarchy (/proc/self/cgroup is \
                             empty here: nothing has mounted cgroup2); run as root or use `vm/run`"
                                .to_string(),
                        );
                    }
                }
                Requirement::Setgroups => {
                    if self.mode == Mode::Rootless {
                        missing.push(
                            "needs setgroups allowed, but rootless nsspec's own user namespace \
                             denies it (so that it may map its gid), and every user namespace \
                             below inherits that; run as root or use `vm/run`"
                                .to_string(),
                        );
                    } else if self.setgroups.as_deref() == Some("deny") {
                        missing.push(
                            "needs setgroups allowed, but setgroups is denied in an ancestor user \
                             namespace (/proc/self/setgroups: deny; `unshare -Ur` writes that), \
                             and every user namespace below inherits it; run as real root or use \
                             `vm/run`"
                                .to_string(),
                        );
                    }
                }
                Requirement::ScenarioCgroup => {
                    if self.scenario_cgroup != "ok" {
                        // Rootless, real root is what is missing; as root it is, and the
                        // reason may say what to do instead (mount cgroup2 inside the
                        // namespace).
                        let advice = if self.mode == Mode::Rootless {
                            "; run as real root or use `vm/run`"
                        } else if self.scenario_cgroup.contains("`vm/run`") {
                            ""
                        } else {
                            "; use `vm/run`"
                        };
                        missing.push(format!(
                            "needs a cgroup of the scenario's own (for `cgroup_enter`, or a \
                             `cgroup` path under `<scenario>`), but none can be made here: \
                             {}{advice}",
                            self.scenario_cgroup
                        ));
                    }
                }
                Requirement::Clone3 => {
                    if self.clone3 != "ok" {
                        missing.push(format!(
                            "needs clone3(2) (a `fork` into a time namespace or with `set_tid`), \
                             but it fails here with {} (ENOSYS: a kernel older than 5.3, or a \
                             seccomp filter such as a container runtime's; anything else: a \
                             filter); use `vm/run`",
                            self.clone3
                        ));
                    }
                }
                Requirement::ProcessLimit => {
                    if self.process_limit != "ok" {
                        missing.push(format!(
                            "needs an enforced process limit (`fork_bomb` forks until the limit \
                             stops it), but there is none here: {}; run where a pids cgroup is \
                             writable or use `vm/run`",
                            self.process_limit
                        ));
                    } else if let Some(room) = self.fork_room
                        && u64::from(plan.pids_max) > room
                    {
                        missing.push(format!(
                            "needs room for {} processes (`pids_max`, which `fork_bomb` fills), \
                             but fork bombs may take at most a quarter of the PIDs this host has \
                             free, {room} now (kernel.pid_max and kernel.threads-max less the \
                             tasks that exist, or the pids.max of the cgroups above the \
                             scenario's less their pids.current), so that none starves the host \
                             or the cgroup nsspec runs in: lower `pids_max` or use `vm/run`",
                            plan.pids_max
                        ));
                    } else if self.fork_room.is_none() {
                        // Unknown room is no room: without it a bomb's pids_max (up to 65536)
                        // is the only bound, and that can be more than the host has free.
                        missing.push(format!(
                            "needs room for {} processes (`pids_max`, which `fork_bomb` fills), \
                             but how many PIDs this host has free is unknown ({}), so a fork bomb \
                             could starve it: use `vm/run`",
                            plan.pids_max, ROOM_UNKNOWN
                        ));
                    }
                }
                Requirement::Sysctl(check) => match std::fs::read_to_string(check.path()) {
                    Err(_) => missing.push(format!(
                        "needs sysctl {check}, but this kernel has no {}",
                        check.name
                    )),
                    Ok(v) if !check.holds(&v) => {
                        let v = v.trim();
                        // An ordering (only ever of a number, validation sees to that) on a
                        // sysctl that is text (kernel.ostype) or several numbers
                        // (kernel.printk) never holds: say why, or it reads as a value that is
                        // merely too small.
                        let why = if !matches!(check.op.as_str(), "=" | "!=")
                            && v.parse::<i64>().is_err()
                        {
                            ", which is not a whole number"
                        } else {
                            ""
                        };
                        missing.push(format!(
                            "needs sysctl {check}, it is {}{why}",
                            crate::catalogue::escape_controls(v)
                        ))
                    }
                    Ok(_) => {}
                },
            }
        }
        // The harness itself maps root into a scenario's user namespace (init's, where
        // `namespaces` lists `user`): where that cannot be done, the scenario cannot be set up.
        // Steps that write a root map themselves are left to fail, like any step that needs a
        // capability this root lacks.
        if plan.namespaces.contains(&NsKind::User)
            && self.mode == Mode::Root
            && fact_failed(&self.map_root)
        {
            let (why, fix) = if self.cap_eff & (1 << CAP_SETFCAP) == 0 {
                (
                    " (this root lacks CAP_SETFCAP, which mapping root needs since Linux 5.12, \
                     and 5.10.35 and 5.11.19 in stable; without it nsspec can make no user \
                     namespace of its own to run rootless in)",
                    "grant CAP_SETFCAP or use `vm/run`",
                )
            } else {
                ("", "use `vm/run`")
            };
            missing.push(format!(
                "needs a user namespace whose root the harness maps to uid {0} (\"0 {0} 1\" in \
                 its uid_map), but that fails here with {1}{why}; {fix}",
                self.uid, self.map_root
            ));
        }
        // A procfs mounted in a mount namespace owned by a user namespace other than the
        // initial one: the sandbox's (rootless, or root inside `unshare -Ur`), where every
        // procfs of the scenario's is mounted, or one the scenario makes.
        if fact_failed(&self.proc_in_userns) {
            let sandbox = self.mode == Mode::Rootless || !self.userns_initial;
            let whose = if sandbox && mounts_proc(plan) {
                Some(if self.mode == Mode::Rootless {
                    // As root it would still skip one that mounts in its own user namespace.
                    let caps = self
                        .root_lacking()
                        .filter(|_| !mounts_proc_in_own_userns(plan))
                        .map(|l| format!(" (grant this root {l} and it runs as root)"))
                        .unwrap_or_default();
                    format!(
                        "a new procfs mounted in the user namespace of its own that nsspec runs \
                         rootless in{caps}"
                    )
                } else {
                    "a new procfs mounted in the user namespace nsspec runs in, which is not the \
                     initial one"
                        .to_string()
                })
            } else if plan.proc_fresh && plan.namespaces.contains(&NsKind::User) {
                Some(
                    "a new procfs (`proc: fresh`) mounted in the user namespace `namespaces` \
                     lists"
                        .to_string(),
                )
            } else if mounts_proc_in_own_userns(plan) {
                Some(
                    "a new procfs (`mount_proc`) mounted in a user namespace of the scenario's \
                     (from `namespaces` or a step)"
                        .to_string(),
                )
            } else {
                None
            };
            let limited = self.proc_in_userns.starts_with("ENOSPC");
            if let Some(whose) = whose.as_ref().filter(|_| limited) {
                // Not the covered /proc below: the trial's user, mount or PID namespace was
                // refused by its limit. Named: a 0, else the lowest set.
                let limits: Vec<(String, &String)> = [NsKind::User, NsKind::Mount, NsKind::Pid]
                    .iter()
                    .filter_map(|k| {
                        let limit = limit_name(*k);
                        let n = self.sysctls.get(&limit)?;
                        Some((limit, n))
                    })
                    .collect();
                let lowest = limits
                    .iter()
                    .min_by_key(|(_, n)| n.parse::<u64>().unwrap_or(u64::MAX));
                let why = lowest.map_or_else(
                    || "(the limits cannot be read here): use `vm/run`".to_string(),
                    |(limit, n)| limit_reached(limit, n),
                );
                missing.push(format!(
                    "needs {whose}, but that fails here with {}, refused by a limit on the \
                     user, mount or PID namespaces it makes {why}",
                    self.proc_in_userns
                ));
            } else if let Some(whose) = whose {
                missing.push(format!(
                    "needs {whose}, but that fails here with {}: the kernel lets a user \
                     namespace mount a procfs only where one is fully visible, with nothing \
                     mounted over any part of it (mount_too_revealing() in fs/namespace.c), and \
                     container runtimes cover parts of /proc (/proc/kcore, /proc/keys, \
                     /proc/sys, …); uncover /proc (`docker run --security-opt \
                     systempaths=unconfined`, or `--privileged`) or use `vm/run`",
                    self.proc_in_userns
                ));
            }
        }
        if !lacking.is_empty() {
            missing.push(format!(
                "needs {}, but this is {}; use `vm/run --kernel` with a newer one",
                lacking.join(" and "),
                self.kernel_release
            ));
        }
        (!missing.is_empty()).then(|| missing.join("; "))
    }

    /// Why this host lacks `feature` (what it is, the version that brought it, what trying it
    /// gave), or None: a kernel of that version or newer has it (if it does not, a scenario
    /// using it fails: a regression), an older one has it where trying it worked.
    fn lacks(&self, feature: Feature) -> Option<String> {
        let (a, b) = feature.since();
        // An unknown version is met, as a `kernel` requirement is: the scenario runs.
        if self.kernel.is_none_or(|have| have >= (a, b)) {
            return None;
        }
        match self.features.get(feature.key()) {
            Some(t) if t == "ok" => None,
            Some(t) => Some(format!(
                "{} (Linux {a}.{b}, or a backport; tried here: {t})",
                feature.what()
            )),
            None => Some(format!("{} (Linux {a}.{b}, or a backport)", feature.what())),
        }
    }

    /// The human table of `nsspec probe`.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let row = |s: &mut String, k: &str, v: &str| writeln!(s, "{k:<44} {v}").unwrap();
        row(&mut s, "kernel", &self.kernel_release);
        row(&mut s, "uid / gid", &format!("{} / {}", self.uid, self.gid));
        row(
            &mut s,
            "CapEff",
            &format!(
                "{:016x}{}",
                self.cap_eff,
                if self.cap_sys_admin {
                    " (CAP_SYS_ADMIN)"
                } else {
                    ""
                }
            ),
        );
        row(
            &mut s,
            "seccomp",
            match self.seccomp {
                Some(0) => "off",
                Some(1) => "strict",
                Some(2) => "filter",
                _ => "unknown",
            },
        );
        row(
            &mut s,
            "namespace kinds (/proc/self/ns)",
            &self.ns_kinds.join(" "),
        );
        row(
            &mut s,
            "cgroup hierarchy (/proc/self/cgroup)",
            if self.cgroup_hierarchy {
                "mounted"
            } else {
                "none mounted"
            },
        );
        row(
            &mut s,
            "setgroups (/proc/self/setgroups)",
            self.setgroups.as_deref().unwrap_or("no such file"),
        );
        row(
            &mut s,
            "a cgroup of each scenario's own",
            &self.scenario_cgroup,
        );
        row(
            &mut s,
            "process limit of each scenario",
            &self.process_limit,
        );
        row(
            &mut s,
            "room for fork bombs (processes)",
            &match self.fork_room {
                Some(n) => {
                    format!("{n} (a quarter of the free PIDs, or of what the cgroups above allow)")
                }
                None if self.process_limit == "not probed" => "not probed".into(),
                None => format!("unknown ({ROOM_UNKNOWN}): fork bombs are skipped"),
            },
        );
        row(&mut s, "clone3(2)", &self.clone3);
        for f in Feature::ALL {
            if let Some(v) = self.features.get(f.key()) {
                let (a, b) = f.since();
                row(&mut s, &format!("feature {} (Linux {a}.{b})", f.key()), v);
            }
        }
        row(
            &mut s,
            "initial namespaces nsspec runs in",
            &match &self.initial_ns {
                None => "not probed".to_string(),
                Some(v) if v.is_empty() => {
                    "none of pid, user, time (nested: a container?)".to_string()
                }
                Some(v) => v.join(" "),
            },
        );
        writeln!(
            s,
            "\n{:<10} {:<34} unshare() in a new user namespace",
            "kind", "unshare() as this user"
        )
        .unwrap();
        for (k, v) in &self.direct {
            writeln!(
                s,
                "{k:<10} {v:<34} {}",
                self.in_userns.get(k).map_or("-", String::as_str)
            )
            .unwrap();
        }
        writeln!(s).unwrap();
        for (k, v) in &self.sysctls {
            row(&mut s, k, v);
        }
        row(
            &mut s,
            "user namespace without capabilities",
            &self.unprivileged_userns,
        );
        row(&mut s, "mount a new procfs", &self.proc_mount);
        row(
            &mut s,
            "mount a procfs in a user namespace",
            &self.proc_in_userns,
        );
        row(&mut s, "make mounts private", &self.private_mounts);
        row(&mut s, "map root in a new user namespace", &self.map_root);
        let mode = match &self.mode {
            Mode::Root => {
                let lacking = self
                    .lacking_note()
                    .map(|note| format!(", {note}"))
                    .unwrap_or_default();
                format!("root: namespaces are created directly{lacking}")
            }
            Mode::Rootless => {
                let why = self
                    .root_lacking()
                    .map(|lacking| format!(" (this root lacks {lacking})"))
                    .unwrap_or_default();
                format!("rootless: inside a user namespace of its own (like unshare -Urpf){why}")
            }
            Mode::Unavailable(r) => format!("unavailable: {r}"),
        };
        writeln!(s, "\nnsspec runs scenarios here as {mode}").unwrap();
        if self.trials().any(|v| not_made(v)) {
            writeln!(
                s,
                "\nnote: the trials above that failed with EAGAIN or ENOMEM could not be made: \
                 their fork was refused (a process limit, `ulimit -u` or the pids.max of the \
                 cgroup nsspec runs in, or memory), so they, and what follows from them, say \
                 nothing of the kernel; raise the limit and probe again"
            )
            .unwrap();
        }
        s
    }
}

/// What a run's probe measures.
struct Scope {
    /// The namespace kinds to try creating.
    kinds: Vec<NsKind>,
    /// Whether to try a user namespace without capabilities.
    unprivileged: bool,
    /// Whether to find out which namespaces are the initial ones.
    initial: bool,
    /// Whether to read /proc/self/setgroups.
    setgroups: bool,
    /// Whether to foresee a cgroup of each scenario's own.
    cgroup: bool,
    /// Whether to foresee the process limit.
    process_limit: bool,
    /// Whether to try clone3(2).
    clone3: bool,
    /// The kernel features to try where the running kernel is older than their version.
    features: std::collections::BTreeSet<Feature>,
    /// Whether a plan mounts a procfs ([`mounts_proc`]), and one in a user namespace of its
    /// own making ([`mounts_proc_in_own_userns`]).
    mounts_proc: bool,
    mounts_proc_in_user: bool,
}

/// Why [`fork_room`] found no answer.
const ROOM_UNKNOWN: &str = "/proc/sys/kernel/pid_max or /proc/loadavg cannot be read";

/// How many processes fork bombs may hold at once here: a quarter of the PIDs still free, the
/// smaller of kernel.pid_max (as nsspec's PID namespace has it) and kernel.threads-max, less
/// the tasks that exist (/proc/loadavg's count, every thread of the host), or of what the
/// cgroups above a scenario's still allow (`cgroup_room`, see `limits::Outlook`) where that is
/// less. A scenario's process limit bounds its own processes only: without this, a `pids_max`
/// near the host's free PIDs would stop every fork on the host until the scenario's time
/// limit. None where unreadable: then fork bombs are skipped.
/// `kernel` and `initial` (of [`initial_namespaces`], where already read) are the probe's.
pub fn fork_room(
    cgroup_room: Option<u64>,
    kernel: Option<(u32, u32)>,
    initial: Option<&[String]>,
) -> Option<u64> {
    use crate::limits::read_number;
    use std::path::Path;
    let pid_max = read_number(Path::new("/proc/sys/kernel/pid_max"))?;
    let threads_max = read_number(Path::new("/proc/sys/kernel/threads-max")).unwrap_or(pid_max);
    let loadavg = std::fs::read_to_string("/proc/loadavg").ok()?;
    let tasks: u64 = loadavg
        .split_whitespace()
        .nth(3)?
        .split_once('/')?
        .1
        .parse()
        .ok()?;
    let nested = !initial.map_or_else(
        || at_initial(NsKind::Pid, PROC_PID_INIT_INO),
        |initial| initial.iter().any(|n| n == NsKind::Pid.name()),
    );
    let own_pid_max = nested && kernel.is_some_and(|v| v >= crate::plan::PER_NS_PID_MAX);
    Some(room(pid_max, threads_max, tasks, own_pid_max, cgroup_room))
}

/// The kernel's default kernel.pid_max (PID_MAX_DEFAULT), for as long as the host's is unknown.
const PID_MAX_DEFAULT: u64 = 32_768;

/// [`fork_room`]'s arithmetic. `own_pid_max`: `pid_max` is a nested PID namespace's own
/// (Linux 6.14 made kernel.pid_max per namespace, PID_MAX_LIMIT in a new one), not the host's:
/// a process there takes a PID at every level above too, each bounded by that level's pid_max,
/// which cannot be read from inside. Then the kernel's default stands in for the host's: a
/// nested run counted 48 157 PIDs of room on a host that had 32 768 in all.
fn room(
    pid_max: u64,
    threads_max: u64,
    tasks: u64,
    own_pid_max: bool,
    cgroup_room: Option<u64>,
) -> u64 {
    let pid_max = if own_pid_max {
        pid_max.min(PID_MAX_DEFAULT)
    } else {
        pid_max
    };
    let free = pid_max.min(threads_max).saturating_sub(tasks);
    free.min(cgroup_room.unwrap_or(u64::MAX)) / 4
}

/// What `plans` need: the kinds they create (plus mount and user, which decide the mode),
/// unprivileged user namespaces, initial namespaces.
fn scope_of(plans: &[&Plan]) -> Scope {
    // Mount, UTS and IPC: the harness's sandbox, which every scenario runs in.
    let mut kinds =
        std::collections::BTreeSet::from([NsKind::Mount, NsKind::User, NsKind::Uts, NsKind::Ipc]);
    let (mut unprivileged, mut initial) = (false, false);
    let (mut setgroups, mut cgroup, mut process_limit) = (false, false, false);
    let mut clone3 = false;
    let mut features = std::collections::BTreeSet::new();
    let mounts_proc = plans.iter().any(|p| self::mounts_proc(p));
    let mounts_proc_in_user = plans.iter().any(|p| mounts_proc_in_own_userns(p));
    for r in plans.iter().flat_map(|p| &p.requirements) {
        match r {
            Requirement::Namespace(k) => {
                kinds.insert(*k);
            }
            Requirement::UnprivilegedUserns => unprivileged = true,
            Requirement::InitialNamespace(_) => initial = true,
            Requirement::Setgroups => setgroups = true,
            Requirement::ScenarioCgroup => cgroup = true,
            Requirement::ProcessLimit => process_limit = true,
            Requirement::Clone3 => clone3 = true,
            Requirement::Feature(f) => {
                features.insert(*f);
            }
            _ => {}
        }
    }
    Scope {
        kinds: kinds.into_iter().collect(),
        unprivileged,
        initial,
        setgroups,
        cgroup,
        process_limit,
        clone3,
        features,
        mounts_proc,
        mounts_proc_in_user,
    }
}

/// unshare() of each kind in `kinds` through `attempt` (which runs it in a child), keyed by
/// kind name. With `combined`, one attempt with all flags first; per kind only if it fails.
fn try_kinds(
    kinds: &[NsKind],
    combined: bool,
    attempt: impl Fn(libc::c_int) -> Result<(), Errno>,
) -> BTreeMap<String, String> {
    if combined {
        // User first, so the others are owned by it: the order unshare -U... uses.
        let all = kinds.iter().map(|k| k.clone_flag()).fold(0, |a, b| a | b);
        if attempt(all).is_ok() {
            return kinds
                .iter()
                .map(|k| (k.name().to_string(), "ok".to_string()))
                .collect();
        }
    }
    kinds
        .iter()
        .map(|k| (k.name().to_string(), outcome(attempt(k.clone_flag()))))
        .collect()
}

/// The fixed inodes of the initial namespaces (include/linux/proc_ns.h; since Linux 3.8, and
/// time's since time namespaces came in 5.6).
const PROC_USER_INIT_INO: u64 = 0xEFFF_FFFD;
const PROC_PID_INIT_INO: u64 = 0xEFFF_FFFC;
const PROC_TIME_INIT_INO: u64 = 0xEFFF_FFFA;
pub(crate) const PROC_CGROUP_INIT_INO: u64 = 0xEFFF_FFFB;

/// Whether nsspec's namespace of `kind` is the initial one, whose inode is `ino`.
fn at_initial(kind: NsKind, ino: u64) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/self/ns/{}", kind.proc_name())).is_ok_and(|m| m.ino() == ino)
}

/// Which of the `pid` and `user` namespaces nsspec runs in are the initial ones, and `time`
/// where its time namespace keeps the initial one's clocks ([`time_as_initial`]).
fn initial_namespaces() -> Vec<String> {
    let mut kinds: Vec<String> = [
        (NsKind::User, PROC_USER_INIT_INO),
        (NsKind::Pid, PROC_PID_INIT_INO),
    ]
    .into_iter()
    .filter(|(k, ino)| at_initial(*k, *ino))
    .map(|(k, _)| k.name().to_string())
    .collect();
    if time_as_initial() {
        kinds.push(NsKind::Time.name().to_string());
    }
    kinds
}

/// Whether the clocks of nsspec's time namespace, and of the one its children get (every
/// scenario process is a child), are the initial time namespace's: both are the same
/// namespace, and its offsets (/proc/self/timens_offsets, which shows the children's,
/// time_namespaces(7)) are zero. So in the initial one (PROC_TIME_INIT_INO), in one made
/// without offsets, and on a kernel without time namespaces (before 5.6); not in one with
/// offsets, nor after `unshare --time` without `--fork` on kernels before 6.2, where exec
/// left nsspec in the old namespace and only its children go to the new one.
fn time_as_initial() -> bool {
    use std::os::unix::fs::MetadataExt;
    let ino = |name: &str| std::fs::metadata(format!("/proc/self/ns/{name}")).map(|m| m.ino());
    match (ino("time"), ino("time_for_children")) {
        (Err(e), _) => e.kind() == std::io::ErrorKind::NotFound,
        (Ok(own), Ok(children)) if own == children => {
            own == PROC_TIME_INIT_INO
                || std::fs::read_to_string("/proc/self/timens_offsets")
                    .is_ok_and(|t| zero_offsets(&t))
        }
        _ => false,
    }
}

/// Whether /proc/PID/timens_offsets text (`NAME SECONDS NANOSECONDS` per clock) shifts nothing.
fn zero_offsets(text: &str) -> bool {
    text.lines()
        .all(|l| l.split_whitespace().skip(1).all(|v| v == "0"))
}

/// The values of [`SYSCTLS`] that exist on this kernel.
fn read_sysctls() -> BTreeMap<String, String> {
    SYSCTLS
        .iter()
        .filter_map(|name| Some((name.to_string(), read_sysctl(name)?)))
        .collect()
}

/// The running kernel's major and minor version.
pub(crate) fn running_kernel() -> Option<(u32, u32)> {
    parse_kernel(nix::sys::utsname::uname().ok()?.release().to_str()?)
}

fn parse_kernel(release: &str) -> Option<(u32, u32)> {
    let mut it = release.split(|c: char| !c.is_ascii_digit());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// The three fields of /proc/self/status (proc(5)) the probe needs. Read by hand rather than
/// with the procfs crate, whose `Status` parses every field into a map: that was a quarter of
/// the instructions a `nsspec run` executed before its first fork (bench/FINDINGS.md,
/// seventeenth round).
#[derive(Debug, PartialEq)]
struct OwnStatus {
    /// CapEff, the effective capability set.
    cap_eff: u64,
    /// Seccomp, the seccomp mode; the line is missing without CONFIG_SECCOMP.
    seccomp: Option<u32>,
    /// SigIgn, the ignored signals, bit N-1 for signal N.
    sig_ign: u64,
}

impl OwnStatus {
    /// None when CapEff or SigIgn is missing or not hexadecimal, as for an unreadable file.
    fn parse(text: &str) -> Option<OwnStatus> {
        let field = |name| crate::executor::status_field(text, name);
        Some(OwnStatus {
            cap_eff: u64::from_str_radix(field("CapEff")?, 16).ok()?,
            seccomp: field("Seccomp").and_then(|v| v.parse().ok()),
            sig_ign: u64::from_str_radix(field("SigIgn")?, 16).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Host, OwnStatus, parse_kernel, room, zero_offsets};

    /// /proc/PID/timens_offsets as the kernel prints it (proc_timens_show_offsets: the clock's
    /// name padded, seconds, nanoseconds): only all zeros keep the initial clocks.
    #[test]
    fn timens_offsets_shift_nothing_only_when_all_are_zero() {
        let zero = "monotonic           0         0\nboottime            0         0\n";
        assert!(zero_offsets(zero));
        assert!(!zero_offsets(
            "monotonic      100000         0\nboottime            0         0\n"
        ));
        assert!(!zero_offsets(
            "monotonic           0         0\nboottime            0         1\n"
        ));
        assert!(!zero_offsets(
            "monotonic          -1         0\nboottime            0         0\n"
        ));
    }

    /// A quarter of the free PIDs; in a nested PID namespace whose pid_max is its own, of the
    /// kernel's default rather than of the 4 194 304 such a namespace shows.
    #[test]
    fn fork_room_in_a_nested_pid_namespace_assumes_the_default_pid_max_above() {
        assert_eq!(room(32_768, 190_000, 768, false, None), 8_000);
        assert_eq!(room(4_194_304, 190_000, 768, false, None), 47_308);
        assert_eq!(room(4_194_304, 190_000, 768, true, None), 8_000);
        assert_eq!(room(4_194_304, 190_000, 768, true, Some(400)), 100);
        assert_eq!(room(1_000, 190_000, 768, true, None), 58);
    }

    /// A fork bomb where the host's free PIDs could not be counted is skipped, whatever its
    /// `pids_max`: its own limit alone could exceed what the host has free.
    #[test]
    fn a_fork_bomb_is_skipped_where_the_room_is_unknown() {
        let plan = crate::plan::load(
            "pid/bomb",
            "bomb.yaml",
            "name: bomb\nnamespaces: [pid]\npids_max: 16\nsteps:\n  \
             - fork_bomb: { expect: { errno: EAGAIN } }\n",
        )
        .unwrap();
        let mut host = Host::probe_for(&[&plan]);
        host.process_limit = "ok".into();
        host.fork_room = Some(1000);
        let fits = host.unmet(&plan).unwrap_or_default();
        assert!(!fits.contains("pids_max"), "{fits}");
        // A room of exactly pids_max is room enough; one less is not.
        host.fork_room = Some(16);
        let exact = host.unmet(&plan).unwrap_or_default();
        assert!(!exact.contains("pids_max"), "{exact}");
        host.fork_room = Some(15);
        let small = host.unmet(&plan).unwrap_or_default();
        assert!(small.contains("at most a quarter"), "{small}");
        host.fork_room = None;
        let unknown = host.unmet(&plan).unwrap_or_default();
        assert!(unknown.contains("free is unknown"), "{unknown}");
        assert!(host.table().contains("unknown (/proc/sys/kernel/pid_max"));
        host.process_limit = "not probed".into();
        assert!(!host.table().contains("unknown (/proc/sys/kernel/pid_max"));
    }

    /// A trial's ENOSPC under a limit that is not 0 explains a failure only where the failure
    /// itself was refused that kind; under a limit of 0 it explains any. Rootless, a user
    /// namespace refused for the moment gives the mode back.
    #[test]
    fn an_enospc_of_the_moment_explains_only_a_failure_refused_so() {
        use crate::schema::NsKind;
        use std::collections::BTreeSet;
        let plan = crate::plan::load(
            "pid/wrong",
            "wrong.yaml",
            "name: wrong\nnamespaces: [pid]\nsteps:\n  - getpid: { expect: 7 }\n",
        )
        .unwrap();
        let mut host = Host::probe_for(&[&plan]);
        host.mode = super::Mode::Root;
        let enospc = "ENOSPC: No space left on device".to_string();
        host.direct.insert("pid".into(), enospc.clone());
        host.sysctls
            .insert("user.max_pid_namespaces".into(), "1".into());
        let none = BTreeSet::new();
        let pid = BTreeSet::from([NsKind::Pid]);
        let why = host.unmet(&plan).unwrap_or_default();
        assert!(why.contains("user.max_pid_namespaces is 1"), "{why}");
        assert_eq!(host.for_failure(&none).unmet(&plan), None);
        assert_eq!(host.for_failure(&pid).unmet(&plan), Some(why));
        // Another kind refused does not make this one's ENOSPC count.
        let uts = BTreeSet::from([NsKind::Uts]);
        assert_eq!(host.for_failure(&uts).unmet(&plan), None);
        // Other errnos are no moment's.
        host.direct
            .insert("pid".into(), "EPERM: Operation not permitted".into());
        assert!(host.for_failure(&none).unmet(&plan).is_some());
        host.direct.insert("pid".into(), enospc.clone());
        host.sysctls
            .insert("user.max_pid_namespaces".into(), "0".into());
        let zero = host.for_failure(&none).unmet(&plan).unwrap_or_default();
        assert!(zero.contains("user.max_pid_namespaces is 0"), "{zero}");

        // Rootless: the trial's own user namespace refused for the moment.
        let mut rootless = Host::probe_for(&[&plan]);
        rootless.cap_eff = 0;
        rootless.cap_sys_admin = false;
        rootless.direct.clear();
        for k in ["mount", "uts", "ipc", "pid"] {
            rootless.in_userns.insert(k.into(), enospc.clone());
        }
        rootless.unprivileged_userns = enospc.clone();
        rootless
            .sysctls
            .insert("user.max_user_namespaces".into(), "2".into());
        rootless.mode = rootless.decide_mode();
        assert!(matches!(rootless.mode, super::Mode::Unavailable(_)));
        let seen = rootless.for_failure(&none);
        assert_eq!(seen.mode, super::Mode::Rootless);
        assert_eq!(seen.unmet(&plan), None);
        let user = BTreeSet::from([NsKind::User]);
        let refused = rootless.for_failure(&user);
        assert!(matches!(refused.mode, super::Mode::Unavailable(_)));
        let why = refused.unmet(&plan).unwrap_or_default();
        assert!(why.contains("ENOSPC"), "{why}");
    }

    /// After a failure only a refusal explains it: a trial that could not be made (its fork
    /// refused, EAGAIN; killed, ECHILD) or a kind refused with an errno no policy or limit
    /// gives (EINVAL: what a kernel regression could give) reads "ok"; a policy's EPERM, a
    /// chroot's EINVAL for private mounts, and a covered /proc's EPERM stand.
    #[test]
    fn after_a_failure_only_refusals_explain_it() {
        use std::collections::BTreeSet;
        let plan = crate::plan::load(
            "pid/wrong",
            "wrong.yaml",
            "name: wrong\nnamespaces: [pid, mount]\nproc: fresh\nsteps:\n  \
             - getpid: { expect: 7 }\n",
        )
        .unwrap();
        let mut host = Host::probe_for(&[&plan]);
        host.mode = super::Mode::Root;
        host.userns_initial = false;
        let none = BTreeSet::new();
        for (errno, explains) in [
            ("EAGAIN: Resource temporarily unavailable", false),
            ("ECHILD: No child processes", false),
            ("ENOMEM: Cannot allocate memory", false),
            ("EINVAL: Invalid argument", false),
            ("EPERM: Operation not permitted", true),
            ("EACCES: Permission denied", true),
        ] {
            let mut h = host.clone();
            h.direct.insert("pid".into(), errno.into());
            let why = h.for_failure(&none).unmet_after_failure(&plan);
            assert_eq!(why.is_some(), explains, "{errno}: {why:?}");
            assert!(h.unmet(&plan).is_some(), "{errno}");
        }
        for (errno, explains) in [
            ("EAGAIN: Resource temporarily unavailable", false),
            ("EPERM: Operation not permitted", true),
        ] {
            let mut h = host.clone();
            h.proc_in_userns = errno.into();
            let why = h.for_failure(&none).unmet_after_failure(&plan);
            assert_eq!(why.is_some(), explains, "proc {errno}: {why:?}");
        }
        // The mode decided again: mounts that could not be made private for the moment.
        for (errno, explains) in [
            ("ECHILD: No child processes", false),
            ("EINVAL: Invalid argument", true),
        ] {
            let mut h = host.clone();
            h.private_mounts = errno.into();
            h.mode = h.decide_mode();
            assert!(matches!(h.mode, super::Mode::Unavailable(_)), "{errno}");
            let why = h.for_failure(&none).unmet_after_failure(&plan);
            assert_eq!(why.is_some(), explains, "private {errno}: {why:?}");
        }
        // A procfs trial refused for the moment by the limit on a kind it makes.
        let mut h = host.clone();
        h.proc_in_userns = "ENOSPC: No space left on device".into();
        h.sysctls
            .insert("user.max_pid_namespaces".into(), "5".into());
        assert_eq!(h.for_failure(&none).unmet_after_failure(&plan), None);
        let pid = BTreeSet::from([crate::schema::NsKind::Pid]);
        let why = h.for_failure(&pid).unmet_after_failure(&plan);
        assert!(why.is_some_and(|w| w.contains("user.max_pid_namespaces is 5")));
        // Unprivileged user namespaces refused for the moment.
        let capless = crate::plan::load(
            "user/capless",
            "capless.yaml",
            "name: capless\nrequires: [unprivileged_userns]\nnamespaces: [uts]\nsteps:\n  \
             - getuid: { expect: 7 }\n",
        )
        .unwrap();
        let mut h = host.clone();
        h.unprivileged_userns = "ENOSPC: No space left on device".into();
        h.sysctls
            .insert("user.max_user_namespaces".into(), "3".into());
        assert!(h.unmet(&capless).is_some());
        assert_eq!(h.for_failure(&none).unmet_after_failure(&capless), None);
        let user = BTreeSet::from([crate::schema::NsKind::User]);
        let why = h.for_failure(&user).unmet_after_failure(&capless);
        assert!(why.is_some_and(|w| w.contains("user.max_user_namespaces being 3")));
        assert_eq!(
            super::errno_in(
                "made, but unshare(CLONE_NEWUTS|CLONE_NEWIPC) in it fails with ENOSPC: No space left on device"
            ),
            Some("ENOSPC")
        );
        assert_eq!(
            super::errno_in("not tried: no user namespace can be made"),
            None
        );
    }

    /// A feature a step uses is the kernel's from the version that brought it, whatever a
    /// trial gave (a kernel that lacks it there fails the scenario: a regression), and on an
    /// older kernel where trying it worked (a backport). Several lacking make one reason.
    #[test]
    fn a_feature_is_met_by_its_version_or_by_trying_it() {
        let plan = crate::plan::load(
            "pid/fd",
            "fd.yaml",
            "name: fd\nnamespaces: [pid]\nsteps:\n  - pidfd_open: { pid: self, as: me }\n  \
             - pidfd_fdinfo: { pidfd: me }\n",
        )
        .unwrap();
        let mut host = Host::probe_for(&[&plan]);
        host.mode = super::Mode::Root;
        host.kernel_release = "4.18.0-553.el8_10.x86_64".into();
        host.kernel = Some((4, 18));
        let ok = |key: &str| (key.to_string(), "ok".to_string());
        host.features =
            std::collections::BTreeMap::from([ok("pidfd_open"), ok("pidfd_fdinfo_nspid")]);
        assert_eq!(host.unmet(&plan), None);
        host.features.insert(
            "pidfd_open".into(),
            "ENOSYS: Function not implemented".into(),
        );
        host.features.remove("pidfd_fdinfo_nspid");
        assert_eq!(
            host.unmet(&plan).as_deref(),
            Some(
                "needs pidfd_open(2) (Linux 5.3, or a backport; tried here: ENOSYS: \
                 Function not implemented) and NSpid in a pidfd's fdinfo (Linux 5.5, or a \
                 backport), but this is 4.18.0-553.el8_10.x86_64; use `vm/run --kernel` with a \
                 newer one"
            )
        );
        host.kernel = Some((5, 4));
        let why = host.unmet(&plan).unwrap_or_default();
        assert!(
            !why.contains("pidfd_open") && why.contains("NSpid"),
            "{why}"
        );
        host.features.insert(
            "pidfd_fdinfo_nspid".into(),
            "ENOTTY: Inappropriate ioctl for device".into(),
        );
        host.kernel = Some((5, 5));
        assert_eq!(host.unmet(&plan), None);
        // A version uname(2) does not tell is met, as a `kernel` requirement's is.
        host.kernel = None;
        assert_eq!(host.unmet(&plan), None);
        // A trial whose fork a process limit refused says nothing of the kernel.
        host.kernel = Some((4, 18));
        assert_eq!(host.untried(), None);
        let refused = "a child to try it on could not be made: EAGAIN: Resource temporarily \
                       unavailable";
        host.features.insert("pidfd_open".into(), refused.into());
        let why = host.untried().unwrap_or_default();
        assert!(
            why.contains("in a forked child failed with EAGAIN (a fork"),
            "{why}"
        );
        let tried = host.as_if_tried();
        let why = tried.unmet(&plan).unwrap_or_default();
        assert!(
            !why.contains("pidfd_open") && why.contains("NSpid"),
            "{why}"
        );
    }

    /// Without clone3(2) there is no set_tid either: the skip gives clone3's reason once.
    #[test]
    fn set_tid_without_clone3_is_one_reason() {
        let plan = crate::plan::load(
            "pid/tid",
            "tid.yaml",
            "name: tid\nnamespaces: [pid]\nsteps:\n  \
             - fork: { name: c, set_tid: [5], steps: [] }\n  - wait: { pid: c }\n",
        )
        .unwrap();
        let mut host = Host::probe_for(&[&plan]);
        host.mode = super::Mode::Root;
        host.kernel = Some((5, 2));
        let enosys = "ENOSYS: Function not implemented".to_string();
        host.clone3 = enosys.clone();
        host.features = std::collections::BTreeMap::from([("set_tid".into(), enosys)]);
        let why = host.unmet(&plan).unwrap_or_default();
        assert!(why.starts_with("needs clone3(2)"), "{why}");
        assert!(!why.contains("with set_tid ("), "{why}");
        host.clone3 = "ok".into();
        let why = host.unmet(&plan).unwrap_or_default();
        assert!(
            why.starts_with("needs clone3(2) with set_tid (Linux 5.5"),
            "{why}"
        );
    }

    /// What was judged before the scenario started is not judged again after it failed: a
    /// fork bomb that ran and failed was skipped for the free PIDs of the failure's moment.
    #[test]
    fn after_a_failure_the_gates_judged_at_the_start_stand() {
        let plan = crate::plan::load(
            "pid/bomb",
            "bomb.yaml",
            "name: bomb\nnamespaces: [pid]\npids_max: 16\n\
             requires: [{ kernel: \"4.0\" }, { sysctl: \"kernel.ostype = Plan9\" }]\n\
             steps:\n  - fork_bomb: { expect: { errno: EAGAIN } }\n  - getpid: { expect: 7 }\n",
        )
        .unwrap();
        let mut host = Host::probe_for(&[&plan]);
        host.mode = super::Mode::Root;
        host.process_limit = "ok".into();
        host.fork_room = Some(15);
        host.kernel = Some((2, 6));
        let before = host.unmet(&plan).unwrap_or_default();
        assert!(before.contains("at most a quarter"), "{before}");
        assert!(before.contains("needs kernel >= 4.0"), "{before}");
        assert!(before.contains("kernel.ostype"), "{before}");
        let seen = host.for_failure(&std::collections::BTreeSet::new());
        assert_eq!(seen.unmet_after_failure(&plan), None);
    }

    /// What a failure's own output shows refused. A limit the scenario sets itself makes the
    /// ENOSPCs after it its own doing, not the set-up's nor those before it
    /// (user/namespace-limit-per-userns failed where a low limit refused its set-up), unless a
    /// probe confirms; a `nest_pid`'s ENOSPC short of the nesting depth counts for the probe
    /// to confirm, at any level.
    #[test]
    fn the_enospc_a_failure_shows_and_what_it_counts_for() {
        use crate::executor::{Obs, Record, Res, RunOutput};
        use crate::schema::NsKind;
        use nix::errno::Errno;
        use std::collections::BTreeSet;
        let enospc = Obs::Result(Res::Errno(libc::ENOSPC));
        let record = |proc, step, obs: &Obs| Record {
            proc,
            step,
            obs: obs.clone(),
            born: Default::default(),
        };
        let own = crate::plan::load(
            "user/own",
            "own.yaml",
            "name: own\nnamespaces: [pid]\nsteps:\n  - fork:\n      name: child\n      \
             steps:\n        - unshare: { namespaces: [user] }\n        \
             - write: { path: /proc/self/uid_map, content: \"0 0 1\" }\n        \
             - write: { path: /proc/sys/user/max_pid_namespaces, content: \"0\" }\n        \
             - unshare: { namespaces: [pid] }\n",
        )
        .unwrap();
        let child = own.procs.iter().position(|p| p.name == "child").unwrap();
        let out = |records: Vec<Record>| RunOutput {
            records,
            ..RunOutput::default()
        };
        let pid = BTreeSet::from([NsKind::Pid]);
        let user = BTreeSet::from([NsKind::User]);
        // The unshare after the scenario's own limit: its doing, unless a probe's own ENOSPC
        // says the host's limit is reached.
        let after = out(vec![record(child, 4, &enospc)]);
        assert!(super::refused_kinds(&own, &after).is_empty());
        assert_eq!(super::enospc_shown(&own, &after), pid);
        // Before it, and in the set-up: the host's.
        let before = out(vec![record(child, 1, &enospc)]);
        assert_eq!(super::refused_kinds(&own, &before), user);
        assert_eq!(super::enospc_shown(&own, &before), user);
        let setup = RunOutput {
            error: Some(format!(
                "cannot create the scenario's namespaces: unshare: {}",
                Errno::ENOSPC.desc()
            )),
            setup_failed: true,
            ..RunOutput::default()
        };
        assert_eq!(super::refused_kinds(&own, &setup), pid);
        assert_eq!(super::enospc_shown(&own, &setup), pid);

        let nest = crate::plan::load(
            "pid/nest",
            "nest.yaml",
            "name: nest\nnamespaces: [pid]\nsteps:\n  \
             - nest_pid: { depth: 40, expect: { max_level: 32, errno: ENOSPC } }\n",
        )
        .unwrap();
        let at = |level| {
            out(vec![record(
                0,
                1,
                &Obs::Nest {
                    level,
                    created: 0,
                    errno: Some(libc::ENOSPC),
                },
            )])
        };
        // Where the depth refuses (level 32 below the initial PID namespace) or as expected:
        // the probe's own unshare would say. Short of the depth, only where nsspec runs in
        // the initial PID namespace does the level tell the limit's from the depth's.
        let kinds = |o: &RunOutput, depth_known| super::enospc_kinds(&nest, o, depth_known);
        assert_eq!(kinds(&at(33), None), pid);
        assert!(kinds(&at(32), None).is_empty());
        assert!(kinds(&at(33), Some(true)).is_empty());
        assert_eq!(kinds(&at(9), Some(true)), pid);
        assert!(kinds(&at(9), Some(false)).is_empty());
        assert_eq!(kinds(&at(9), None), pid);
    }

    /// The mode is decided again whenever a verdict of the moment was set aside: root whose
    /// own trial of a mount namespace met a moment's ENOSPC was taken for rootless.
    #[test]
    fn a_mode_of_the_moment_is_decided_again() {
        use std::collections::BTreeSet;
        let plan = crate::plan::load(
            "uts/root",
            "root.yaml",
            "name: root\nrequires: [root]\nnamespaces: [uts]\nsteps:\n  \
             - gethostname: { expect: nothing }\n",
        )
        .unwrap();
        let mut host = Host::probe_for(&[&plan]);
        if !super::full_root(host.cap_eff) {
            return;
        }
        let enospc = "ENOSPC: No space left on device".to_string();
        for k in ["mount", "uts", "ipc"] {
            host.direct.insert(k.into(), "ok".into());
            host.in_userns.insert(k.into(), "ok".into());
        }
        host.direct.insert("mount".into(), enospc);
        host.sysctls
            .insert("user.max_mnt_namespaces".into(), "2".into());
        host.mode = host.decide_mode();
        assert_eq!(host.mode, super::Mode::Rootless);
        let why = host.unmet_after_failure(&plan).unwrap_or_default();
        assert!(why.contains("this run is rootless"), "{why}");
        let seen = host.for_failure(&BTreeSet::new());
        assert_eq!(seen.mode, super::Mode::Root);
        assert_eq!(seen.unmet_after_failure(&plan), None);
    }

    /// Lines as proc_pid_status() writes them (fs/proc/array.c), trimmed; names that start
    /// like the ones read (CapEff after CapPrm, Seccomp_filters after Seccomp) must not match.
    const STATUS: &str = "Name:\tnsspec\nSigIgn:\t0000000000001000\nSigCgt:\t0000000000004a02\n\
        CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001fffeffffff\n\
        NoNewPrivs:\t0\nSeccomp:\t2\nSeccomp_filters:\t1\n";

    #[test]
    fn own_status_reads_the_three_fields() {
        assert_eq!(
            OwnStatus::parse(STATUS),
            Some(OwnStatus {
                cap_eff: 0x1fffeffffff,
                seccomp: Some(2),
                sig_ign: 0x1000,
            })
        );
    }

    #[test]
    fn own_status_without_seccomp_or_with_a_bad_field() {
        let no_seccomp = STATUS.replace("Seccomp:\t2\n", "");
        assert_eq!(OwnStatus::parse(&no_seccomp).unwrap().seccomp, None);
        assert_eq!(
            OwnStatus::parse(&STATUS.replace("CapEff:", "CapEff_:")),
            None
        );
        assert_eq!(
            OwnStatus::parse(&STATUS.replace("0000000000001000", "zz")),
            None
        );
    }

    #[test]
    fn kernel_release_is_parsed() {
        assert_eq!(parse_kernel("6.1.0-50-cloud-amd64"), Some((6, 1)));
        assert_eq!(parse_kernel("5.10.0-32"), Some((5, 10)));
        assert_eq!(parse_kernel("garbage"), None);
    }
}
