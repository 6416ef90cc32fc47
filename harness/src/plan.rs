//! Validation: turns a [`RawScenario`] into a [`Plan`] the executor can run without judgement.
//!
//! Everything that can be wrong with a scenario is found here, before anything forks: unknown
//! process names, signal and errno names, events nobody sends, waits on processes that are not
//! children, limits. Each error carries the file, line and column of the offending value.
//! The plan also fixes, statically, which PID namespace every process lives in, so the executor
//! can translate symbolic PIDs (`parent`, `init`, a child's name) into numbers without guessing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::Signal;

use crate::schema::{
    ClockKind, Location, NsIs, NsKind, NsRequest, ProcSetup, RawHost, RawNestExpect,
    RawNsIoctlExpect, RawOutcome, RawReadExpect, RawRequirement, RawScenario, RawStep,
    RawWaitStatus, SocketArgs, SocketKind, Spanned, SysvKind,
};
use crate::schema::{MAX_ALIAS_REPLAY, MAX_YAML_NODES};
pub use crate::schema::{MAX_FILE_BYTES, MAX_YAML_DEPTH};

/// Default time limit of a scenario.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default and bounds of `pids_max`.
pub const DEFAULT_PIDS_MAX: u32 = 1024;
const PIDS_MAX_RANGE: std::ops::RangeInclusive<i64> = 16..=65536;
/// Longest time limit a scenario may ask for.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);
/// Most processes one scenario may name; also the size of the executor's shared PID table.
pub const MAX_PROCS: usize = 64;
/// Deepest `nest_pid` accepted: well past the kernel's limit of 32 levels.
pub const MAX_NEST_DEPTH: i64 = 64;
/// Most steps in one scenario, all processes together.
pub const MAX_STEPS: usize = 1024;
/// Most directories a `mount_tmpfs` step may make (the tmpfs is 1 MiB).
pub const MAX_TMPFS_DIRS: usize = 64;
/// Longest name of one directory entry (NAME_MAX).
pub const MAX_NAME_BYTES: usize = 255;
/// What the record calls the scenario's own cgroup: `cgroup` paths start with it, and
/// `subdirs` lists it so where its parent is listed.
pub const SCENARIO_CGROUP: &str = "<scenario>";
/// Longest path a step may name, in bytes (the kernel's PATH_MAX).
const PATH_MAX: usize = 4096;
/// Largest PID the kernel can hand out (PID_MAX_LIMIT on 64-bit): bound of expected PIDs.
pub const PID_MAX_LIMIT: i64 = 4_194_304;
/// Deepest PID-namespace level the kernel allows (MAX_PID_NS_LEVEL), the harness's being 0.
pub const MAX_PID_NS_LEVEL: i64 = 32;
/// Largest clock shift a `clock` step may expect, in seconds: the kernel keeps a time
/// namespace's clocks below KTIME_SEC_MAX / 2 (about 146 years).
pub const MAX_CLOCK_SHIFT: i64 = 4_611_686_018;
/// Deepest cgroup path a `cgroup_enter` step may name below the scenario's cgroup.
const MAX_CGROUP_DEPTH: usize = 8;
/// Names the symbolic PID syntax reserves.
const RESERVED: &[&str] = &["self", "parent", "init", "host", "supervisor"];

/// A scenario error, located in its source file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    pub path: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )
    }
}

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Trial name: the path below the catalogue root without `.yaml` (`pid/kill-ancestor`).
    pub id: String,
    /// Where the scenario came from, as shown in messages.
    pub source: String,
    pub name: String,
    pub description: Option<String>,
    pub requirements: Vec<Requirement>,
    /// Namespaces init is created in, sorted.
    pub namespaces: Vec<NsKind>,
    pub proc_fresh: bool,
    pub timeout: Duration,
    /// Most processes at once (pids cgroup or RLIMIT_NPROC).
    pub pids_max: u32,
    /// Index 0 is init; then the named processes in file order; the host process, if any, last.
    pub procs: Vec<ProcPlan>,
    /// Index of the host process in `procs`.
    pub host: Option<usize>,
    pub events: Vec<EventPlan>,
    /// The pidfds `pidfd_open` steps keep, by index (`Action::PidfdSignal`'s `handle`).
    pub handles: Vec<HandlePlan>,
    pub checks: HostChecks,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Requirement {
    /// CAP_SYS_ADMIN where nsspec runs (not rootless mode).
    Root,
    UnprivilegedUserns,
    Namespace(NsKind),
    /// At least this kernel.
    Kernel(u32, u32),
    /// A kernel older than this.
    KernelBelow(u32, u32),
    Sysctl(SysctlCheck),
    /// A cgroup hierarchy the scenario's processes appear in (derived from `cgroup` and
    /// `cgroup_enter` steps).
    CgroupHierarchy,
    /// nsspec runs in the initial PID or user namespace.
    InitialNamespace(NsKind),
    /// setgroups(2) is allowed in every user namespace above the scenario's, so a new one
    /// starts with /proc/PID/setgroups "allow" (a descendant inherits "deny").
    Setgroups,
    /// A cgroup of the scenario's own (derived from `cgroup_enter` steps and `cgroup` steps
    /// expecting a `<scenario>` path).
    ScenarioCgroup,
    /// An enforced limit on the number of processes (derived from `fork_bomb` steps).
    ProcessLimit,
    /// clone3(2) callable (derived from `fork` steps into a time namespace or with
    /// `set_tid`): container seccomp profiles answer it with ENOSYS so that glibc falls back
    /// to clone(2), which has no room for either.
    Clone3,
    /// A kernel feature a step uses, where the scenario's own `kernel` requirement is older
    /// than the version that brought it: met on that version or newer, and on an older
    /// kernel only where trying it shows the feature (a vendor backport).
    Feature(Feature),
}

/// A kernel feature a step needs, which came with a known upstream version. On that version or
/// newer a scenario using it runs, and a kernel without it fails the scenario (a regression);
/// on an older one the feature is tried ([`crate::probe`]), so that a vendor kernel that
/// backports it (enterprise kernels such as RHEL's carry features of later versions) runs the
/// scenario instead of skipping it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    /// NS_GET_USERNS and NS_GET_PARENT (ioctl_ns(2)): Linux 4.9.
    NsGetUserns,
    /// NS_GET_NSTYPE and NS_GET_OWNER_UID (ioctl_ns(2)): Linux 4.11.
    NsGetNstype,
    /// fsopen(2) and fsmount(2), which `mount_tmpfs` with `dirs` builds with: Linux 5.2.
    MountApi,
    /// pidfd_open(2): Linux 5.3.
    PidfdOpen,
    /// NSpid in a pidfd's fdinfo, and -1 there for a reaped process: Linux 5.5.
    PidfdFdinfoNspid,
    /// clone3(2)'s `set_tid`: Linux 5.5.
    SetTid,
    /// setns(2) through a pidfd: Linux 5.8.
    SetnsPidfd,
    /// The pidfs ioctls PIDFD_GET_<KIND>_NAMESPACE: Linux 6.11.
    PidfdNsIoctl,
    /// The ioctl_nsfs(2) PID translations NS_GET_{PID,TGID}_{FROM,IN}_PIDNS: Linux 6.11.
    NsPidTranslation,
}

impl Feature {
    pub const ALL: [Feature; 9] = [
        Feature::NsGetUserns,
        Feature::NsGetNstype,
        Feature::MountApi,
        Feature::PidfdOpen,
        Feature::PidfdFdinfoNspid,
        Feature::SetTid,
        Feature::SetnsPidfd,
        Feature::PidfdNsIoctl,
        Feature::NsPidTranslation,
    ];

    /// The upstream version that brought it.
    pub fn since(self) -> (u32, u32) {
        match self {
            Feature::NsGetUserns => (4, 9),
            Feature::NsGetNstype => (4, 11),
            Feature::MountApi => (5, 2),
            Feature::PidfdOpen => (5, 3),
            Feature::PidfdFdinfoNspid | Feature::SetTid => (5, 5),
            Feature::SetnsPidfd => (5, 8),
            Feature::PidfdNsIoctl | Feature::NsPidTranslation => (6, 11),
        }
    }

    /// Its key in [`crate::probe::Host::features`] and `nsspec probe --format json`.
    pub fn key(self) -> &'static str {
        match self {
            Feature::NsGetUserns => "ns_get_userns",
            Feature::NsGetNstype => "ns_get_nstype",
            Feature::MountApi => "mount_api",
            Feature::PidfdOpen => "pidfd_open",
            Feature::PidfdFdinfoNspid => "pidfd_fdinfo_nspid",
            Feature::SetTid => "set_tid",
            Feature::SetnsPidfd => "setns_pidfd",
            Feature::PidfdNsIoctl => "pidfd_ns_ioctl",
            Feature::NsPidTranslation => "ns_pid_translation",
        }
    }

    /// What it is, for messages.
    pub fn what(self) -> &'static str {
        match self {
            Feature::NsGetUserns => "the ioctl_ns(2) requests NS_GET_USERNS and NS_GET_PARENT",
            Feature::NsGetNstype => "the ioctl_ns(2) requests NS_GET_NSTYPE and NS_GET_OWNER_UID",
            Feature::MountApi => "the mount API (fsopen, fsconfig, fsmount, move_mount)",
            Feature::PidfdOpen => "pidfd_open(2)",
            Feature::PidfdFdinfoNspid => "NSpid in a pidfd's fdinfo",
            Feature::SetTid => "clone3(2) with set_tid",
            Feature::SetnsPidfd => "setns(2) through a pidfd",
            Feature::PidfdNsIoctl => "the pidfd ioctls PIDFD_GET_<KIND>_NAMESPACE",
            Feature::NsPidTranslation => {
                "the ioctl_ns(2) PID translations NS_GET_{PID,TGID}_{FROM,IN}_PIDNS"
            }
        }
    }
}

/// `name op value`, e.g. `user.max_user_namespaces > 0`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SysctlCheck {
    pub name: String,
    pub op: String,
    pub value: String,
}

impl SysctlCheck {
    fn parse(text: &str) -> Option<SysctlCheck> {
        for op in [">=", "<=", "!=", "=", ">", "<"] {
            if let Some((name, value)) = text.split_once(op) {
                let (name, value) = (name.trim(), value.trim());
                let name_ok = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
                let numeric = value.parse::<i64>().is_ok();
                if name_ok && !value.is_empty() && (numeric || op == "=" || op == "!=") {
                    return Some(SysctlCheck {
                        name: name.into(),
                        op: op.into(),
                        value: value.into(),
                    });
                }
                return None;
            }
        }
        None
    }

    /// The file under /proc/sys.
    pub fn path(&self) -> String {
        format!("/proc/sys/{}", self.name.replace('.', "/"))
    }

    /// Whether `actual` (the sysctl's content) satisfies the check.
    pub fn holds(&self, actual: &str) -> bool {
        let actual = actual.trim();
        match (actual.parse::<i64>(), self.value.parse::<i64>()) {
            (Ok(a), Ok(v)) => match self.op.as_str() {
                ">=" => a >= v,
                "<=" => a <= v,
                ">" => a > v,
                "<" => a < v,
                "!=" => a != v,
                _ => a == v,
            },
            // Field by field: the kernel separates a sysctl's numbers with tabs
            // (net.ipv4.ip_local_port_range reads "32768\t60999"), which a YAML value
            // written with a space never equalled.
            _ => {
                let same = actual.split_whitespace().eq(self.value.split_whitespace());
                match self.op.as_str() {
                    "!=" => !same,
                    "=" => same,
                    _ => false,
                }
            }
        }
    }
}

impl fmt::Display for SysctlCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.name, self.op, self.value)
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::Root => f.write_str("root (CAP_SYS_ADMIN)"),
            Requirement::UnprivilegedUserns => f.write_str("unprivileged user namespaces"),
            Requirement::Namespace(k) => write!(f, "{} namespaces", k.name()),
            Requirement::Kernel(a, b) => write!(f, "kernel >= {a}.{b}"),
            Requirement::KernelBelow(a, b) => write!(f, "kernel < {a}.{b}"),
            Requirement::Sysctl(c) => write!(f, "sysctl {c}"),
            Requirement::CgroupHierarchy => f.write_str("a mounted cgroup hierarchy"),
            Requirement::InitialNamespace(k) => write!(f, "the initial {} namespace", k.name()),
            Requirement::Setgroups => f.write_str("setgroups allowed"),
            Requirement::ScenarioCgroup => f.write_str("a cgroup of the scenario's own"),
            Requirement::ProcessLimit => f.write_str("an enforced process limit"),
            Requirement::Clone3 => f.write_str("clone3(2)"),
            Requirement::Feature(x) => {
                let (a, b) = x.since();
                write!(f, "{} (Linux {a}.{b}, or a backport)", x.what())
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct HostChecks {
    /// What is expected, and the line it was written on.
    pub proc_intact: Option<(bool, u64)>,
    pub hostname_intact: Option<(bool, u64)>,
}

#[derive(Debug, Clone)]
pub struct EventPlan {
    pub name: String,
    /// How many `await` steps wait for it: `notify` releases each of them once.
    pub waiters: usize,
    /// The process whose `notify` step sends it (there is exactly one).
    pub notifier: usize,
}

/// A pidfd kept under a name (`pidfd_open: { pid: a, as: a }`).
#[derive(Debug, Clone)]
pub struct HandlePlan {
    pub name: String,
    /// The process it was opened for.
    pub target: Who,
}

#[derive(Debug, Clone)]
pub struct ProcPlan {
    pub name: String,
    /// Who forks it. `None`: the harness's supervisor (init and the host process).
    pub parent: Option<usize>,
    pub steps: Vec<StepPlan>,
    /// The chain of PID namespaces it lives in, outermost (the harness's, id 0) first.
    pub pidns: Vec<u32>,
}

impl Plan {
    /// Every namespace kind the scenario may create or join (from `namespaces`, `unshare` and
    /// `enter`): in all other kinds each of its processes shares the harness's namespace.
    pub fn kinds_in_play(&self) -> impl Iterator<Item = NsKind> + '_ {
        self.requirements.iter().filter_map(|r| match r {
            Requirement::Namespace(k) => Some(*k),
            _ => None,
        })
    }

    /// The events whose pipe process `me` must keep able to write, each with the index of
    /// its last step that needs it (0: none, it can let go at once): its own `notify`, or
    /// the `fork` or `enter` creating the process (or an ancestor of the process) that
    /// notifies. Once every process has let go of an event that was never notified, its
    /// pipe reads as ended, and an `await` of it fails at once instead of at the timeout.
    pub fn event_holds(&self, me: usize) -> Vec<(usize, usize)> {
        let leads_to = |child: usize, mut p: usize| loop {
            if p == child {
                break true;
            }
            match self.procs[p].parent {
                Some(up) => p = up,
                None => break false,
            }
        };
        self.events
            .iter()
            .enumerate()
            .map(|(e, ev)| {
                let last = self.procs[me]
                    .steps
                    .iter()
                    .filter(|s| match s.action {
                        Action::Notify { event } => event == e,
                        Action::Fork { child, .. } | Action::Enter { child, .. } => {
                            leads_to(child, ev.notifier)
                        }
                        _ => false,
                    })
                    .map(|s| s.index)
                    .max()
                    .unwrap_or(0);
                (e, last)
            })
            .collect()
    }
}

impl ProcPlan {
    /// Its PID-namespace level below the harness's.
    pub fn level(&self) -> usize {
        self.pidns.len() - 1
    }
}

#[derive(Debug, Clone)]
pub struct StepPlan {
    /// 1-based position in its process's step list.
    pub index: usize,
    pub line: u64,
    pub action: Action,
    /// One of a `thread`'s steps: run by that thread (see [`Action::Thread`]).
    pub in_thread: bool,
}

/// A process referred to by a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The harness process that forks init and the host process (init's parent).
    Supervisor,
    Proc(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Errno(Errno),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitStatus {
    Exited(i32),
    Signaled(Signal),
    /// waitpid() failed: ECHILD for a process already reaped.
    Errno(Errno),
}

#[derive(Debug, Clone)]
pub enum Action {
    Getpid {
        expect: Option<i64>,
    },
    Getppid {
        expect: Option<i64>,
    },
    /// getpgid(0) and getsid(0): the caller's process group and session, as numbered in its
    /// PID namespace (0 when their leader has no number there).
    Getpgid {
        expect: Option<i64>,
    },
    Getsid {
        expect: Option<i64>,
    },
    /// setsid(): only in a PID namespace of the scenario (see the validation).
    Setsid {
        expect: Outcome,
    },
    /// fork(), or with `kinds` clone(2) into new namespaces of those kinds.
    Fork {
        child: usize,
        pid: Option<i64>,
        kinds: Vec<NsKind>,
        /// clone3(2)'s set_tid: the child's PIDs, innermost namespace first.
        set_tid: Vec<libc::pid_t>,
        expect: Outcome,
    },
    /// pthread_create() of a thread that blocks every signal and sleeps until the process
    /// ends, or with `inner` steps, runs the next `inner` steps of the process (their
    /// [`StepPlan::in_thread`]) while its creator waits, and then ends; `tid`: its gettid(), in
    /// the process's PID namespace.
    Thread {
        tid: Option<i64>,
        expect: Outcome,
        inner: usize,
        /// The thread runs the process's remaining steps, and the creating thread ends with
        /// exit(2) (not exit_group(2)): the process's main thread, unless one took over before.
        take_over: bool,
    },
    /// `label`: the target as the scenario wrote it (`parent`, `init`, a name).
    Enter {
        child: usize,
        target: Who,
        label: String,
        kinds: Vec<NsKind>,
        /// One setns(pidfd, all the kinds' flags) instead of one setns per namespace file.
        pidfd: bool,
        expect: Outcome,
    },
    /// setns(2) of the caller itself, by namespace file in nsenter's order or (`pidfd`) with
    /// one call on a pidfd; never `pid` (see the validation).
    Setns {
        target: Who,
        label: String,
        kinds: Vec<NsKind>,
        pidfd: bool,
        expect: Outcome,
    },
    Exit {
        code: i32,
    },
    Kill {
        target: Who,
        label: String,
        /// None: signal 0, which checks that the target exists and may be signalled
        /// and sends nothing (kill(2)).
        signal: Option<Signal>,
        expect: Outcome,
    },
    /// kill(0, signal) (`target` None): the caller's process group; or kill(-PGID, signal) of
    /// the group `target` leads (named `label` in the step).
    KillGroup {
        target: Option<Who>,
        label: String,
        /// None: signal 0, which checks that the target exists and may be signalled
        /// and sends nothing (kill(2)).
        signal: Option<Signal>,
        expect: Outcome,
    },
    /// sigaction(2) with a handler recording each delivery of `signal` and its si_pid.
    Catch {
        signal: Signal,
        expect: Outcome,
    },
    /// The si_pid of each delivery recorded since the process started (in order).
    Caught {
        signal: Signal,
        expect: Option<Vec<i64>>,
    },
    /// pidfd_open(2) of `target` (named `label` in the step), kept as `handle`.
    PidfdOpen {
        target: Who,
        label: String,
        handle: usize,
        expect: Outcome,
    },
    /// `ioctl(PIDFD_GET_<KIND>_NAMESPACE)` on a kept pidfd: a descriptor of that namespace of
    /// the pidfd's process (of its children's, with `for_children`), looked at and closed.
    PidfdNs {
        handle: usize,
        kind: NsKind,
        for_children: bool,
        expect: Option<NsIoctlExpect>,
    },
    /// pidfd_send_signal(2) through a kept pidfd.
    PidfdSignal {
        handle: usize,
        /// None: signal 0, which checks that the target exists and may be signalled
        /// and sends nothing (kill(2)).
        signal: Option<Signal>,
        expect: Outcome,
    },
    /// kill(-1, signal): every process the caller may signal but itself and init — only from
    /// inside a PID namespace of the scenario, where that is the namespace's processes.
    KillAll {
        /// None: signal 0, which checks that the target exists and may be signalled
        /// and sends nothing (kill(2)).
        signal: Option<Signal>,
        expect: Outcome,
    },
    Wait {
        target: usize,
        expect: Option<WaitStatus>,
    },
    ListPids {
        expect: Option<Vec<i64>>,
    },
    Nspid {
        expect: Option<Vec<Option<i64>>>,
    },
    /// The Pid and NSpid lines of /proc/self/fdinfo/FD of a kept pidfd, read through the
    /// process's /proc: the process's numbers from that procfs's PID namespace down, or 0
    /// (not in it or below it), or -1 (reaped). `expect` as for `Nspid`, or `[Some(0)]`,
    /// `[Some(-1)]`.
    PidfdFdinfo {
        handle: usize,
        expect: Option<Vec<Option<i64>>>,
    },
    Visible {
        target: Who,
        label: String,
        expect: Option<bool>,
    },
    MountProc {
        target: String,
        /// Mount options, comma-joined (empty: none); validated against [`PROC_OPTIONS`].
        options: String,
        expect: Outcome,
    },
    Unshare {
        kinds: Vec<NsKind>,
        expect: Outcome,
    },
    NestPid {
        depth: u32,
        expect: Option<(i64, Option<Errno>)>,
    },
    Sethostname {
        name: String,
        expect: Outcome,
    },
    Gethostname {
        expect: Option<String>,
    },
    SetPdeathsig {
        signal: Signal,
    },
    /// prctl(PR_SET_DUMPABLE): 1 or 0.
    SetDumpable {
        dumpable: bool,
        expect: Outcome,
    },
    /// prctl(PR_SET_CHILD_SUBREAPER): 1 or 0.
    SetSubreaper {
        subreaper: bool,
        expect: Outcome,
    },
    Getuid {
        expect: Option<i64>,
    },
    Getgid {
        expect: Option<i64>,
    },
    /// `expect` is already white-space folded. With `of`, `path` is the name of a file in that
    /// process's /proc/PID (one of [`READ_OF_FILES`]).
    Read {
        path: String,
        of: Option<usize>,
        expect: Option<ReadExpect>,
    },
    Write {
        path: String,
        content: String,
        /// A namespaced sysctl: the namespace the writer must not share with the harness,
        /// whose namespace of that kind is the host's.
        guard: Option<NsKind>,
        expect: Outcome,
    },
    /// Writes one of the user-namespace files (`file`) in /proc/PID of `child`, a child of the
    /// writer, as a parent sets up its child's new user namespace.
    WriteChild {
        child: usize,
        file: String,
        content: String,
        expect: Outcome,
    },
    HasCap {
        cap: u32,
        name: String,
        expect: Option<bool>,
    },
    /// Clears the effective, permitted and inheritable capability sets.
    DropCaps,
    /// setgroups([]) (unless `keep_groups`), setresgid(gid ×3), setresuid(uid ×3): the
    /// process becomes that user.
    SetIds {
        uid: u32,
        gid: u32,
        keep_groups: bool,
        expect: Outcome,
    },
    /// Mounts a tmpfs and makes the directories `dirs` (single names) in it.
    MountTmpfs {
        target: String,
        dirs: Vec<String>,
        expect: Outcome,
    },
    /// chroot(path), then chdir("/"), as chroot(8) does.
    Chroot {
        path: String,
        expect: Outcome,
    },
    Crash {
        how: crate::schema::CrashKind,
    },
    /// Forks children that wait until killed, until fork() fails.
    ForkBomb {
        expect: Outcome,
    },
    Umount {
        target: String,
        lazy: bool,
        expect: Outcome,
    },
    Notify {
        event: usize,
    },
    Await {
        event: usize,
    },
    Sleep {
        ms: u64,
    },
    Pause,
    /// shmget/msgget/semget with `key`; with `create`, IPC_CREAT|IPC_EXCL.
    SysvGet {
        object: SysvKind,
        key: i32,
        create: bool,
        expect: Outcome,
    },
    /// mq_open(3) of `name` (with its leading `/`); with `create`, O_CREAT|O_EXCL.
    MqOpen {
        name: String,
        create: bool,
        expect: Outcome,
    },
    /// The interfaces of the process's network namespace; `expect` already white-space folded.
    Links {
        expect: Option<Vec<String>>,
    },
    LinkUp {
        name: String,
        expect: Outcome,
    },
    /// bind() (and listen() for stream sockets); the socket stays open until the process ends.
    Bind {
        socket: SocketKind,
        addr: SockAddr,
        expect: Outcome,
    },
    Connect {
        socket: SocketKind,
        addr: SockAddr,
        expect: Outcome,
    },
    /// The cgroup of `target` in the scenario's hierarchy, as the caller's cgroup namespace
    /// shows it.
    Cgroup {
        target: Who,
        label: String,
        expect: Option<String>,
    },
    /// Moves the process into `path` below the scenario's cgroup (created if missing; `.` is
    /// the scenario's cgroup itself).
    CgroupEnter {
        path: String,
        expect: Outcome,
    },
    /// Whether `clock` reads the harness's clock shifted by `shift` seconds.
    Clock {
        clock: ClockKind,
        shift: i64,
        expect: Option<bool>,
    },
    /// Mounts the scenario's cgroup hierarchy at `target`.
    MountCgroup {
        target: String,
        expect: Outcome,
    },
    /// The sorted names of the directories in `path`; `expect` sorted too.
    Subdirs {
        path: String,
        expect: Option<Vec<String>>,
    },
    /// mount(source, target, MS_BIND [| MS_REC]).
    BindMount {
        source: String,
        target: String,
        recursive: bool,
        expect: Outcome,
    },
    /// mount(NULL, target, MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE [| MS_REC]).
    Propagation {
        target: String,
        kind: crate::schema::PropagationKind,
        recursive: bool,
        expect: Outcome,
    },
    /// The mounts at and below `under` in the process's mount namespace. `expect`: entries
    /// `POINT FSTYPE PROPAGATION`, white-space folded, in mount-point order (a stable sort, so
    /// mounts stacked on one point keep their order).
    Mounts {
        under: String,
        expect: Option<Vec<String>>,
    },
    /// Which namespace of `kind` the process is in (or creates children in).
    Ns {
        kind: NsKind,
        for_children: bool,
        expect: Option<NsIs>,
    },
    /// ioctl(2) `request` on /proc/PID/ns/KIND (or `…_for_children`) of `target`, named
    /// `label` in the step (`self` by default).
    NsIoctl {
        target: Who,
        label: String,
        kind: NsKind,
        for_children: bool,
        request: NsRequest,
        /// The PID a translation request translates.
        arg: Option<i32>,
        expect: Option<NsIoctlExpect>,
    },
}

impl Action {
    /// The signal the step sends: `kill` in any form and `pidfd_signal`. None for every other
    /// step, and for signal 0, which sends nothing (kill(2)'s check).
    pub fn sent_signal(&self) -> Option<Signal> {
        match self {
            Action::Kill { signal, .. }
            | Action::KillGroup { signal, .. }
            | Action::KillAll { signal, .. }
            | Action::PidfdSignal { signal, .. } => *signal,
            _ => None,
        }
    }
}

/// What a `read` step expects: the text (white space folded) or how it fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadExpect {
    Text(String),
    Errno(Errno),
}

/// What an `ns_ioctl` step expects; validation has matched the form to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NsIoctlExpect {
    /// The namespace a descriptor-returning request gives is the harness's own...
    Harness,
    /// ...or another one.
    New,
    Uid(u32),
    Nstype(NsKind),
    /// The PID a translation request gives.
    Pid(i32),
    Errno(Errno),
}

/// Largest uid NS_GET_OWNER_UID can give: uid_t is 32 bits and (uid_t)-1 is never an id.
pub const MAX_UID: i64 = u32::MAX as i64 - 1;

/// A socket address, validated: loopback IPv4 only, or an abstract AF_UNIX name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SockAddr {
    Inet(std::net::Ipv4Addr, u16),
    /// The name after the `@` (the kernel's leading NUL).
    Abstract(String),
}

impl fmt::Display for SockAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SockAddr::Inet(ip, port) => write!(f, "{ip}:{port}"),
            SockAddr::Abstract(name) => write!(f, "@{name}"),
        }
    }
}

impl NsKind {
    pub const ALL: [NsKind; 8] = [
        NsKind::Pid,
        NsKind::Mount,
        NsKind::Uts,
        NsKind::Ipc,
        NsKind::User,
        NsKind::Net,
        NsKind::Cgroup,
        NsKind::Time,
    ];

    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            NsKind::Pid => "pid",
            NsKind::Mount => "mount",
            NsKind::Uts => "uts",
            NsKind::Ipc => "ipc",
            NsKind::User => "user",
            NsKind::Net => "net",
            NsKind::Cgroup => "cgroup",
            NsKind::Time => "time",
        }
    }

    /// The file name under /proc/PID/ns/.
    pub fn proc_name(self) -> &'static str {
        match self {
            NsKind::Mount => "mnt",
            other => other.name(),
        }
    }

    pub fn clone_flag(self) -> libc::c_int {
        match self {
            NsKind::Pid => libc::CLONE_NEWPID,
            NsKind::Mount => libc::CLONE_NEWNS,
            NsKind::Uts => libc::CLONE_NEWUTS,
            NsKind::Ipc => libc::CLONE_NEWIPC,
            NsKind::User => libc::CLONE_NEWUSER,
            NsKind::Net => libc::CLONE_NEWNET,
            NsKind::Cgroup => libc::CLONE_NEWCGROUP,
            NsKind::Time => libc::CLONE_NEWTIME,
        }
    }

    /// Kinds whose unshare() moves only the caller's future children (PID and time).
    pub fn for_children_only(self) -> bool {
        matches!(self, NsKind::Pid | NsKind::Time)
    }

    /// The name of its file in /proc/PID/ns: `pid`, or `pid_for_children` for the namespace
    /// the process's children get.
    pub fn ns_file(self, for_children: bool) -> String {
        if for_children {
            format!("{}_for_children", self.proc_name())
        } else {
            self.proc_name().to_string()
        }
    }
}

/// Parses and validates one scenario. `id` is its trial name, `source` the path for messages.
pub fn load(id: &str, source: &str, text: &str) -> Result<Plan, ScenarioError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(too_large(source, text.as_bytes()));
    }
    let raw = crate::schema::parse(text).map_err(|e| yaml_error(source, text, &e))?;
    from_raw(id, source, raw)
}

/// Validates a scenario that is already parsed (the compiled built-in catalogue).
pub fn from_raw(id: &str, source: &str, raw: RawScenario) -> Result<Plan, ScenarioError> {
    Builder::new(source).build(id, raw)
}

/// The error for input larger than [`MAX_FILE_BYTES`], located at the first byte past the limit.
pub fn too_large(source: &str, bytes: &[u8]) -> ScenarioError {
    let (line, column) = position_of(bytes, MAX_FILE_BYTES.min(bytes.len()));
    ScenarioError {
        path: source.to_string(),
        line,
        column,
        message: format!(
            "the file is larger than {} KiB, the most a scenario file may be",
            MAX_FILE_BYTES / 1024
        ),
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `bytes`.
pub fn position_of(bytes: &[u8], offset: usize) -> (u64, u64) {
    let before = &bytes[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    let column = before
        .iter()
        .rev()
        .take_while(|b| **b != b'\n')
        .filter(|b| (**b & 0xC0) != 0x80)
        .count() as u64
        + 1;
    (line, column)
}

/// Where the document's top-level node starts (line, column), or None when the text holds no
/// node at all (empty, or only comments, directives and document markers).
fn root_position(text: &str) -> Option<(u64, u64)> {
    for (i, raw_line) in text.lines().enumerate() {
        let line = raw_line.trim_start_matches('\u{feff}');
        let mut rest = line.trim_start();
        if let Some(after) = rest
            .strip_prefix("---")
            .or_else(|| rest.strip_prefix("..."))
            && (after.is_empty() || after.starts_with([' ', '\t']))
        {
            rest = after.trim_start();
        }
        if rest.is_empty() || rest.starts_with('#') || (rest.starts_with('%') && rest == line) {
            continue;
        }
        let column = raw_line[..raw_line.len() - rest.len()].chars().count() as u64 + 1;
        return Some((i as u64 + 1, column));
    }
    None
}

fn yaml_error(source: &str, text: &str, e: &serde_saphyr::Error) -> ScenarioError {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach as B;
    let root = root_position(text);
    let (mut line, mut column) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .filter(|(l, _)| *l > 0)
        .or(root)
        .unwrap_or((1, 1));
    // The error itself, below the wrappers that add alias locations or a source snippet.
    let mut cause = e;
    while let E::AliasError { error, .. } | E::WithSnippet { error, .. } = cause {
        cause = error;
    }
    // What the file holds where the error is, for messages that quote it.
    let written = scalar_at(text, line, column);
    let mut message = match cause {
        E::Eof { .. } if root.is_none() => "the file holds no scenario: expected a mapping with \
                                            `name`, `namespaces` and `steps`"
            .to_string(),
        E::MultipleDocuments { .. }
        | E::Budget {
            breach: B::Documents { .. },
            ..
        } => "a scenario file holds exactly one YAML document; a second one starts here".into(),
        E::Budget {
            breach: B::Depth { .. },
            ..
        } => format!(
            "nested more than {MAX_YAML_DEPTH} levels deep (lists and mappings inside each \
             other, such as `fork` steps inside `fork` steps)"
        ),
        E::Budget {
            breach: B::Nodes { .. } | B::Events { .. },
            ..
        } => format!(
            "too many YAML nodes (at most {MAX_YAML_NODES}, aliases expanded); a scenario has \
             at most {MAX_STEPS} steps"
        ),
        E::Budget { breach, .. } => format!(
            "the file exceeds a parser limit ({}): anchors, aliases or text are out of all \
             proportion for a scenario",
            budget_name(breach)
        ),
        E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => format!(
            "aliases (`*name`) expand to too much (more than {MAX_ALIAS_REPLAY} YAML events): \
             an alias bomb?"
        ),
        E::NullIntoString { .. } => "a value is required here, got nothing (null)".into(),
        // `!!str 1` where a number is wanted: the value is fine, the tag is what is wrong.
        // The error points at the tag, which is what has to go.
        // A tagged value that YAML cannot make what its tag says (`!!int 02`, `!!bool maybe`)
        // where a `read` expects text: the type the error names is the tag's, not the field's.
        _ if let Some((tag, at)) = tag_before(text, line, column)
            && read_expectation_at(text, line, at) =>
        {
            column = at;
            format!(
                "`{tag} {written}`: a `read` expects the file's text, and the tag `{tag}` makes \
                 this something else: leave the tag out and write the text in quotes, \
                 `\"{written}\"`"
            )
        }
        E::InvalidScalar { ty, .. } if let Some((tag, at)) = tag_before(text, line, column) => {
            column = at;
            format!(
                "`{tag} {written}`: expected {}, and the tag `{tag}` makes this something else: \
                 leave the tag out",
                scalar_kind(ty)
            )
        }
        E::InvalidScalar { ty, .. }
            if let Some(meant) = leading_zero(written).filter(|_| ty.starts_with(['i', 'u'])) =>
        {
            format!(
                "`{written}`: a whole number does not start with 0 here (YAML 1.1 reads such \
                 numbers as octal, YAML 1.2 as decimal): write {meant}"
            )
        }
        // The field (and so its own range, which validation states) is not known here: say
        // what is wrong with what was written rather than quote the Rust type's limits.
        E::InvalidScalar { ty, .. } if ty.starts_with(['i', 'u']) && !written.is_empty() => {
            // Quoted numbers are read as numbers too; 0x, 0o and 0b are YAML's other bases.
            let bare = written
                .strip_prefix('"')
                .and_then(|w| w.strip_suffix('"'))
                .or_else(|| {
                    written
                        .strip_prefix('\'')
                        .and_then(|w| w.strip_suffix('\''))
                })
                .unwrap_or(written);
            let unsigned = bare.strip_prefix(['-', '+']).unwrap_or(bare);
            let digits = [("0x", 16), ("0o", 8), ("0b", 2)]
                .iter()
                .find_map(|(prefix, radix)| Some((unsigned.strip_prefix(prefix)?, *radix)))
                .filter(|(d, radix)| !d.is_empty() && d.chars().all(|c| c.is_digit(*radix)))
                .map_or(unsigned, |(d, _)| d);
            if !digits.is_empty()
                && (digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() < unsigned.len())
            {
                format!(
                    "`{written}` is out of range: {}",
                    whole_number_range(ty).replacen("a whole number", "whole numbers here go", 1)
                )
            } else if bare.bytes().any(|b| b.is_ascii_digit()) && bare.parse::<f64>().is_ok() {
                format!("`{written}`: expected a whole number, without a fraction or exponent")
            } else {
                format!("`{written}`: expected a whole number")
            }
        }
        // A number in another spelling than decimal (`0x10`, `1_0`) or none at all: "invalid
        // floating point (expected a finite number)" would not say which numbers are taken.
        E::InvalidScalar { ty, .. }
            if matches!(*ty, "f32" | "f64" | "floating point")
                && !written.is_empty()
                && !written
                    .trim_matches(['"', '\''])
                    .parse::<f64>()
                    .is_ok_and(f64::is_infinite) =>
        {
            format!("`{written}`: expected a number in decimal, such as `5` or `0.5`")
        }
        E::InvalidScalar { ty, .. } => format!(
            "invalid {ty} (expected {})",
            match *ty {
                t if t.starts_with(['i', 'u']) => whole_number_range(t),
                t => scalar_kind(t).into(),
            }
        ),
        E::BinaryNotUtf8 { .. } => "this `!!binary` value is not valid UTF-8 text".into(),
        E::RecursiveReferencesRequireWeakTypes { .. } => {
            "an alias (`*name`) refers to a node that contains it".into()
        }
        other => {
            let mut message = other.to_string();
            // serde-saphyr appends the position in prose; ours leads the line instead.
            if let Some(cut) = message.rfind(" at line ") {
                message.truncate(cut);
            }
            // Hints for Rust programmers (parser options) mean nothing to a scenario's author.
            if let Some(cut) = message.find(", set DuplicateKeyPolicy in Options") {
                message.truncate(cut);
                message.push_str(" (each key may appear once)");
            }
            // The scanner's own limit on nested flow collections (`[[[[...`).
            if message == "recursion limit exceeded" {
                message = format!(
                    "nested more than {MAX_YAML_DEPTH} levels deep (lists and mappings inside each other)"
                );
            }
            message
        }
    };
    if let Some(better) = unknown_choice(&message) {
        message = better;
    }
    // serde notices a missing field where the mapping ends, and the location is its last key:
    // the mapping as a whole lacks it, so point at its start.
    if message.starts_with("missing field ")
        && let Some((l, c)) = block_mapping_start(text, line, column)
    {
        (line, column) = (l, c);
    }
    // The message knows neither the field nor its type: the hints say what the YAML must look
    // like, not which field wanted it.
    if message == "expected sequence start" {
        message.push_str(" (a list: `[a, b]`, or one `- ` item per line)");
    }
    if message.starts_with("expected mapping start") {
        if root.is_some_and(|r| (line, column) <= r) {
            message = "a scenario is a YAML mapping with `name`, `namespaces` and `steps` at \
                       the top level, not a list or a single value"
                .into();
        } else {
            message.push_str(" (`key: value` pairs, such as `{expect: 1}`; `{}` for none)");
        }
    }
    // serde-saphyr's words for a mapping or a list where one value is due.
    if message == "expected string scalar" {
        let what = if written.starts_with(['[', '-']) {
            "a list"
        } else {
            "a mapping"
        };
        message = format!("expected a single value here (a number, a name or a text), not {what}");
        if written.contains("errno") && key_before(text, line, column) == Some("expect") {
            message.push_str(
                ": this step's `expect` is the value it observes; `{ errno: NAME }` is for steps \
                 whose result is ok or an errno",
            );
        }
    }
    ScenarioError {
        path: source.to_string(),
        line,
        column: column.max(1),
        message: one_line(message),
    }
}

/// Whether the tagged scalar whose tag starts at `line`:`tag_at` is a `read` step's `expect`,
/// which the error cannot tell (it knows the type wanted, not the field): the file is parsed
/// again with the tag blanked out, and the `read` expectations found are compared with it.
/// Only for a message, on the way out with an error: the parse is bounded as any other.
fn read_expectation_at(text: &str, line: u64, tag_at: u64) -> bool {
    fn found(steps: &[Spanned<RawStep>], line: u64, tag_at: u64) -> bool {
        steps.iter().any(|s| match &s.value {
            RawStep::Read(r) => r
                .expect
                .as_ref()
                .is_some_and(|e| e.referenced.line() == line && e.referenced.column() >= tag_at),
            RawStep::Fork(f) => found(&f.steps, line, tag_at),
            RawStep::Enter(e) => found(&e.steps, line, tag_at),
            RawStep::Thread(t) => t
                .steps
                .as_ref()
                .is_some_and(|steps| found(&steps.value, line, tag_at)),
            _ => false,
        })
    }
    let Some((l, start)) = line_at(text, line, tag_at) else {
        return false;
    };
    let tag_len = l[start..].find([' ', '\t']).unwrap_or(l.len() - start);
    // Blanked, not removed, so that every column stays where it was. `l` is a slice of
    // `text` (`line_at` takes it from `text.lines()`): its place there is its offset.
    let line_start = l.as_ptr() as usize - text.as_ptr() as usize;
    let mut blanked = text.to_string();
    blanked.replace_range(
        line_start + start..line_start + start + tag_len,
        &" ".repeat(tag_len),
    );
    crate::schema::parse(&blanked).is_ok_and(|raw| {
        found(&raw.steps, line, tag_at) || raw.host.is_some_and(|h| found(&h.steps, line, tag_at))
    })
}

/// serde's "unknown variant `X`, expected one of a, b" in a scenario author's words: an
/// unknown step or value, the likeliest one meant, and the two slips the words alone do not
/// explain — an errno written bare where `{ errno: NAME }` is due, and /proc's `mnt` for the
/// mount namespace. `None` for any other message.
fn unknown_choice(message: &str) -> Option<String> {
    use std::fmt::Write as _;
    let rest = message.strip_prefix("unknown variant `")?;
    // The value may hold a backtick itself: the list starts at the last "`, expected".
    let (value, rest) = match rest.rfind("`, expected ") {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest.strip_suffix('`')?, ""),
    };
    let choices: Vec<&str> = rest
        .strip_prefix(", expected one of ")
        .or_else(|| rest.strip_prefix(", expected "))
        .map(|list| list.split(", ").map(|c| c.trim_matches('`')).collect())
        .unwrap_or_default();
    // The step names: the only list with both of these.
    let step = choices.contains(&"getpid") && choices.contains(&"fork");
    let what = if step { "step" } else { "value" };
    let mut out = unknown(what, value);
    let length = value.chars().count();
    let errno_like = value.len() > 1
        && value.starts_with('E')
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if errno_like && choices.contains(&"errno") {
        write!(out, ": an errno is written `{{ errno: {value} }}`").unwrap();
    } else if value == "mnt" && choices.contains(&"mount") {
        out.push_str(": the mount namespace is `mount` here (/proc/PID/ns calls it `mnt`)");
    } else if let Some(meant) = choices
        .iter()
        // Two edits at most: a value longer than that cannot be meant (and a megabyte-long one
        // would cost seconds to compare).
        .filter(|c| length <= c.chars().count() + 2)
        .map(|c| (strsim::damerau_levenshtein(value, c), *c))
        .filter(|(d, c)| *d <= 2 && *d < c.len())
        .min()
        .map(|(_, c)| c)
        // A word written out where the short form is the name (`semaphore` for `sem`).
        .or_else(|| {
            let lower = value.to_ascii_lowercase();
            choices
                .iter()
                .find(|c| c.len() >= 3 && lower.starts_with(*c))
                .copied()
        })
    {
        write!(out, " (did you mean `{meant}`?)").unwrap();
        if step {
            // The sixty step names would bury the one meant.
            out.push_str("; the steps are listed in docs/scenarios.md");
            return Some(out);
        }
    }
    if !choices.is_empty() {
        write!(out, "; expected one of {}", choices.join(", ")).unwrap();
    }
    Some(out)
}

/// "unknown signal name `X`", or for an empty one "an empty signal name (`""`)".
fn unknown_name(what: &str, value: &str) -> String {
    unknown(&format!("{what} name"), value)
}

/// "unknown step `x`", or for nothing written "an empty step (`""`)", which reads better than
/// an unknown step quoted as two backticks.
fn unknown(what: &str, value: &str) -> String {
    if value.is_empty() {
        format!("an empty {what} (`\"\"`)")
    } else {
        format!("unknown {what} `{value}`")
    }
}

/// The key whose value starts at a (1-based) line and column of `text`: written before it on
/// the same line (`expect: {`), or, for a value on lines of its own, ending the line above.
fn key_before(text: &str, line: u64, column: u64) -> Option<&str> {
    let at = usize::try_from(line).ok()?.checked_sub(1)?;
    let (here, cut) = line_at(text, line, column)?;
    let before = here[..cut].trim_end();
    let before = if before.trim_start().is_empty() || before.trim_start() == "-" {
        text.lines()
            .take(at)
            .filter(|l| !l.trim().is_empty())
            .last()?
            .trim_end()
    } else {
        before
    };
    let key = before.strip_suffix(':')?;
    let start = key.rfind([' ', '{', ',', '-']).map_or(0, |i| i + 1);
    Some(key[start..].trim())
}

/// The first key of the block mapping that has a key at the (1-based) `line` and `column`:
/// the sibling keys above it at the same indentation, past what is nested deeper (values on
/// lines of their own, a list written at the key's own indentation), up to the line that
/// holds the mapping's first key (`- fork:`'s key) or less indented text. `None` where no
/// block mapping's key starts there (a flow mapping `{ … }`, say).
fn block_mapping_start(text: &str, line: u64, column: u64) -> Option<(u64, u64)> {
    let (l, start) = line_at(text, line, column)?;
    // Only spaces and list markers before a block mapping's key (so `start` counts bytes and
    // characters alike).
    if !l[..start].bytes().all(|b| b == b' ' || b == b'-') || l[start..].starts_with(['{', '[']) {
        return None;
    }
    // A key after list markers (`- a:`) is its item's mapping's first.
    if l[..start].contains('-') {
        return Some((line, column));
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut first = line;
    for i in (0..usize::try_from(line).ok()?.checked_sub(1)?).rev() {
        let l = lines[i];
        let blank = l.trim_start_matches([' ', '\t']);
        if blank.is_empty() || blank.starts_with('#') {
            continue;
        }
        let trimmed = l.trim_start_matches(' ');
        let indent = l.len() - trimmed.len();
        if indent > start
            || (indent == start && trimmed.starts_with('-') && !trimmed.starts_with("---"))
        {
            continue;
        }
        if indent == start {
            if trimmed.starts_with('%') || trimmed.starts_with("---") || trimmed.starts_with("...")
            {
                break;
            }
            first = i as u64 + 1;
            continue;
        }
        // Less indented: this mapping's first key shares the line with list markers (`- a:`).
        let mut rest = trimmed;
        while let Some(r) = rest.strip_prefix('-').filter(|r| r.starts_with(' ')) {
            rest = r.trim_start_matches(' ');
        }
        if l.len() - rest.len() == start && !rest.is_empty() {
            first = i as u64 + 1;
        }
        break;
    }
    Some((first, column))
}

/// The plain scalar written at a (1-based) line and column of `text`, up to the characters
/// that end one in a flow collection or a comment.
fn scalar_at(text: &str, line: u64, column: u64) -> &str {
    let Some((l, start)) = line_at(text, line, column) else {
        return "";
    };
    let rest = &l[start..];
    let end = rest.find([',', '}', ']', '#']).unwrap_or(rest.len());
    rest[..end].trim()
}

/// The line `line` (1-based) of `text` and the byte offset in it of the 1-based character
/// column `column` (the line's end where the line is shorter).
fn line_at(text: &str, line: u64, column: u64) -> Option<(&str, usize)> {
    let l = text.lines().nth(line.saturating_sub(1) as usize)?;
    let start = l
        .char_indices()
        .nth(column.saturating_sub(1) as usize)
        .map_or(l.len(), |(i, _)| i);
    Some((l, start))
}

/// What a scalar of the Rust type `ty` (as serde-saphyr names it) must look like.
fn scalar_kind(ty: &str) -> &'static str {
    match ty {
        "bool" | "boolean" => "true or false",
        // A huge exponent (1e400) is a number too, but not one a double can hold.
        "f32" | "f64" | "floating point" => "a finite number",
        t if t.starts_with(['i', 'u']) => "a whole number",
        _ => "a value of that type",
    }
}

/// The YAML tag (`!!str`, `!<tag:yaml.org,2002:str>`, `!local`) written right before the
/// scalar at `line`:`column`, if there is one, and the (1-based) column it starts at.
fn tag_before(text: &str, line: u64, column: u64) -> Option<(&str, u64)> {
    let (l, start) = line_at(text, line, column)?;
    let before = l[..start].trim_end();
    let token = before.rsplit([' ', '\t']).next()?;
    let at = before[..before.len() - token.len()].chars().count() as u64 + 1;
    token.starts_with('!').then_some((token, at))
}

/// A decimal number written with leading zeros (`01`, `-007`), as it reads without them.
fn leading_zero(written: &str) -> Option<String> {
    let (minus, digits) = match written.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", written.strip_prefix('+').unwrap_or(written)),
    };
    if digits.len() < 2 || !digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    let value = if trimmed.is_empty() { "0" } else { trimmed };
    Some(format!("{minus}{value}"))
}

/// "a whole number from MIN to MAX" for a Rust integer type's name (`i64`, `u8`, ...).
fn whole_number_range(ty: &str) -> String {
    let (min, max): (i128, i128) = match ty {
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" => (i64::MIN.into(), i64::MAX.into()),
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" => (0, u64::MAX.into()),
        _ => return "a whole number in range".into(),
    };
    format!("a whole number from {min} to {max}")
}

/// Longest message, in bytes, before the values it quotes are cut short.
pub const MAX_MESSAGE: usize = 1000;

/// Makes a message print as the one line the CLI promises. Messages quote values from the file,
/// which may hold newlines, carriage returns or terminal escape sequences: control characters
/// are escaped (`\n`, `\u{1b}`), and a message quoting a huge value is cut at MAX_MESSAGE bytes.
fn one_line(message: String) -> String {
    if message.len() <= MAX_MESSAGE && !message.chars().any(char::is_control) {
        return message;
    }
    let mut out = String::new();
    for c in message.chars() {
        let piece: String = if c.is_control() {
            c.escape_default().collect()
        } else {
            c.into()
        };
        // Never overshoot: an escape is up to 10 bytes (`\u{10ffff}`).
        if out.len() + piece.len() > MAX_MESSAGE {
            out.push('…');
            break;
        }
        out.push_str(&piece);
    }
    out
}

/// A short name of a parser budget breach, for messages.
fn budget_name(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    let debug = format!("{breach:?}");
    debug
        .split([' ', '{', '('])
        .next()
        .unwrap_or("")
        .to_string()
}

/// Looks up an errno by its symbolic name (`ESRCH`), or by one of the other names errno(3)
/// gives the same number on Linux (recorded by the first).
pub fn errno_from_name(name: &str) -> Option<Errno> {
    match name {
        "EWOULDBLOCK" => return Some(Errno::EAGAIN),
        "EDEADLOCK" => return Some(Errno::EDEADLK),
        "ENOTSUP" => return Some(Errno::EOPNOTSUPP),
        _ => {}
    }
    (1..4096)
        .map(Errno::from_raw)
        .find(|e| *e != Errno::UnknownErrno && format!("{e:?}") == name)
}

/// Text with every run of white space folded to one space, trimmed: how `read` compares.
/// A mount's propagation as a `mounts` step names it: from the optional fields `shared:N`,
/// `master:N` and `unbindable` of /proc/PID/mountinfo (proc_pid_mountinfo(5)).
pub const PROPAGATIONS: [&str; 5] = ["private", "shared", "slave", "shared+slave", "unbindable"];

/// A path as mountinfo writes a mount point: without a trailing slash.
fn as_mount_point(path: &str) -> &str {
    match path.trim_end_matches('/') {
        "" => "/",
        p => p,
    }
}

/// Whether `path` is written without `.` and `..` components and without `//`: as the kernel
/// writes paths (mountinfo) and as `write`'s allow-list names them. Paths compared as text
/// must be plain, or another spelling of the same file would slip past or match nothing.
pub(crate) fn plain_path(path: &str) -> bool {
    !(path.split('/').any(|c| c == ".." || c == ".") || path.contains("//"))
}

/// `path` made plain by its text alone (`..` removes the name before it), for messages: what
/// the writer of a path that is not plain probably meant.
fn plain_spelling(path: &str) -> String {
    let mut names: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                names.pop();
            }
            name => names.push(name),
        }
    }
    format!("/{}", names.join("/"))
}

/// The mount point of a `mounts` entry (its first field).
pub fn mount_point(entry: &str) -> &str {
    entry.split(' ').next().unwrap_or_default()
}

/// A path as /proc/PID/mountinfo writes it: the kernel escapes space, tab, newline and
/// backslash in octal (`\040`, `\011`, `\012`, `\134`; mangle() in fs/proc_namespace.c), so
/// that fields stay split by spaces.
pub fn escape_mount_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            ' ' | '\t' | '\n' | '\\' => out.push_str(&format!("\\{:03o}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The path a mountinfo field names: every `\` followed by three octal digits is the byte of
/// that code (the kernel writes only the four of [`escape_mount_path`] so, but any is read); a
/// backslash not followed by them stands for itself.
pub fn unescape_mount_path(field: &str) -> std::borrow::Cow<'_, str> {
    if !field.contains('\\') {
        return field.into();
    }
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = |j: usize| b.get(j).is_some_and(|c| (b'0'..=b'7').contains(c));
        if b[i] == b'\\' && octal(i + 1) && octal(i + 2) && octal(i + 3) {
            let code = b[i + 1..i + 4]
                .iter()
                .fold(0u32, |n, c| n * 8 + u32::from(c - b'0'));
            // \400 and above are no byte: kept as written.
            if let Ok(byte) = u8::try_from(code) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned().into()
}

/// Whether mount point `point` is `under` or below it.
pub fn under_mount(point: &str, under: &str) -> bool {
    let base = under.trim_end_matches('/');
    point == under
        || point
            .strip_prefix(base)
            .is_some_and(|rest| rest.starts_with('/'))
}

pub fn fold_space(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Capability numbers from linux/capability.h, by name without the `CAP_` prefix.
const CAPABILITIES: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

pub fn capability_from_name(name: &str) -> Option<u32> {
    CAPABILITIES
        .iter()
        .position(|c| *c == name)
        .map(|i| i as u32)
}

/// Looks up a signal by name, with or without the `SIG` prefix.
pub fn signal_from_name(name: &str) -> Option<Signal> {
    let full = if name.starts_with("SIG") {
        name.to_string()
    } else {
        format!("SIG{name}")
    };
    full.parse().ok()
}

/// Deliveries a `catch` handler keeps, per signal; more are only counted.
pub const CAUGHT_MAX: usize = 16;

/// Process and pidfd names: 1-32 letters, digits, `-` and `_`.
fn valid_name(n: &str) -> bool {
    (1..=32).contains(&n.len())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Where an event is mentioned, and the process whose step it is.
type Mention = (Location, usize);

struct Builder<'a> {
    source: &'a str,
    procs: Vec<ProcPlan>,
    /// Raw steps of each process, kept until every name is known.
    pending: Vec<Vec<Spanned<RawStep>>>,
    /// Events in order of first mention: name, notify and await locations.
    events: Vec<(String, Vec<Mention>, Vec<Mention>)>,
    next_ns: u32,
    steps: usize,
    kinds_used: BTreeSet<NsKind>,
    /// Where the first `bind_mount` or `propagation` step is: they need a mount namespace of
    /// the scenario's own (see executor's `refuse_harness_mount_ns`).
    mount_step: Option<Location>,
    /// Whether a step looks at or moves between cgroups.
    uses_cgroups: bool,
    /// Whether a step moves into or names the scenario's own cgroup.
    uses_own_cgroup: bool,
    /// Whether a step forks until the process limit stops it.
    forks_to_the_limit: bool,
    /// Whether a `fork` needs clone3(2): into a time namespace, or with `set_tid`.
    clones3: bool,
    /// The oldest kernel the scenario runs on (its `kernel` requirements).
    kernel_at_least: (u32, u32),
    /// The kernel features its steps use: implied requirements where they came after
    /// `kernel_at_least`, so that a kernel without them skips the scenario rather than fails.
    features: BTreeSet<Feature>,
    /// The newest kernel the scenario runs on, exclusive (its lowest `kernel_below`), and
    /// where that requirement is.
    kernel_below: Option<((u32, u32), Location)>,
    /// Every `pidfd_open`'s handle (in the order processes are resolved), whether its step
    /// expects success, and where its name is.
    handles: Vec<(HandlePlan, bool, Location)>,
    /// Every name a `pidfd_open` step keeps a descriptor under, wherever in the file.
    handle_names: BTreeSet<String>,
    /// What each process created so far inherits from its creator, taken when it is resolved.
    born: BTreeMap<usize, Inherited>,
    /// The same of the process whose steps are being resolved, at the current step.
    now: Inherited,
    /// Where the process whose steps are being resolved started a thread (fork() copies only
    /// the calling thread, so this is not inherited).
    threaded: Option<Location>,
    /// Where that process unshared a PID namespace that has no process yet.
    unstarted_pidns: Option<Location>,
    /// Where a thread took that process over (`take_over`): its main thread has ended.
    taken_over: Option<Location>,
    /// Where each `wait` step is, by process and step index.
    wait_at: BTreeMap<(usize, usize), Location>,
    /// Where each `pause` step is, by process and step index.
    pause_at: BTreeMap<(usize, usize), Location>,
    /// The step that creates each process (its creator, the step's index there, its line and
    /// whether it is an `enter`); `None` for init and the host process.
    created_at: Vec<Option<(usize, usize, u64, bool)>>,
    /// The index of the step being resolved in its process.
    step_at: usize,
}

/// What a process has that fork() copies to the children it creates afterwards (the
/// joining process of an `enter` too): checked before steps that need it.
#[derive(Clone, Default)]
struct Inherited {
    /// The handles of the pidfds open in it.
    handles: BTreeSet<usize>,
    /// Whether it is in a session (and process group) a `setsid` of the scenario made.
    own_session: bool,
    /// The signals it has a `catch` handler for (a child's record of deliveries starts empty).
    catching: BTreeSet<i32>,
    /// Whether it was cloned (`fork` with `namespaces`) from a multithreaded process, or from
    /// one so cloned: glibc's clone() leaves the creator's threads in the child's bookkeeping
    /// (its fork() clears them), and a setxid broadcast to those can hang.
    stale_threads: bool,
    /// Whether glibc's fork() made it (a `fork` without `namespaces` or `set_tid`), which
    /// sets glibc's record of its thread's ID, and has the kernel clear it when the thread
    /// ends (CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID). nsspec clones the others (init, the
    /// host process, `enter`, `fork` with `namespaces` or `set_tid`): their record keeps the
    /// creating thread's ID. Not inherited: set for each child. (Init and the host process,
    /// made by the supervisor, are never `forked`: a clone of theirs after a `take_over`
    /// copies a record holding the supervisor's ID.)
    forked: bool,
}

impl<'a> Builder<'a> {
    fn new(source: &'a str) -> Self {
        Builder {
            source,
            procs: Vec::new(),
            pending: Vec::new(),
            events: Vec::new(),
            next_ns: 1,
            steps: 0,
            kinds_used: BTreeSet::new(),
            mount_step: None,
            uses_cgroups: false,
            uses_own_cgroup: false,
            forks_to_the_limit: false,
            clones3: false,
            kernel_at_least: (0, 0),
            features: BTreeSet::new(),
            kernel_below: None,
            handles: Vec::new(),
            handle_names: BTreeSet::new(),
            born: BTreeMap::new(),
            now: Inherited::default(),
            threaded: None,
            unstarted_pidns: None,
            taken_over: None,
            wait_at: BTreeMap::new(),
            pause_at: BTreeMap::new(),
            created_at: Vec::new(),
            step_at: 0,
        }
    }

    fn err(&self, at: &Location, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            path: self.source.to_string(),
            // serde-saphyr's "unknown location" is 0; every error must still carry a position.
            line: at.line().max(1),
            column: at.column().max(1),
            message: one_line(message.into()),
        }
    }

    fn build(mut self, id: &str, raw: RawScenario) -> Result<Plan, ScenarioError> {
        let name = raw.name.value.trim().to_string();
        if name.is_empty() {
            return Err(self.err(&raw.name.referenced, "`name` must not be empty"));
        }
        let namespaces = self.kinds(&raw.namespaces, "namespaces")?;
        let proc_fresh = raw
            .proc
            .as_ref()
            .is_some_and(|p| p.value == ProcSetup::Fresh);
        if let (true, Some(p)) = (
            proc_fresh && !namespaces.contains(&NsKind::Mount),
            &raw.proc,
        ) {
            return Err(self.err(
                &p.referenced,
                "`proc: fresh` needs `mount` in `namespaces` (mounting a new /proc without a \
                 private mount namespace is what a `mount_proc` step demonstrates)",
            ));
        }
        // Init's procfs would show the harness's PID namespace, owned by a user namespace
        // init has no capability in: the mount fails with EPERM every time, in init's set-up.
        if let (true, Some(p)) = (
            proc_fresh && namespaces.contains(&NsKind::User) && !namespaces.contains(&NsKind::Pid),
            &raw.proc,
        ) {
            return Err(self.err(
                &p.referenced,
                "`proc: fresh` with `user` in `namespaces` needs `pid` too: mounting a procfs \
                 needs CAP_SYS_ADMIN in the user namespace that owns the PID namespace it shows, \
                 here the harness's, so it would fail with EPERM (a `mount_proc` step \
                 expecting that shows it: `user/proc-mount-needs-pidns-owner`)",
            ));
        }
        let timeout = match &raw.timeout {
            None => DEFAULT_TIMEOUT,
            Some(t) => {
                let v = t.value;
                // Below a millisecond the limit would round to nothing.
                if !(v.is_finite() && v >= 0.001 && v <= MAX_TIMEOUT.as_secs_f64()) {
                    return Err(self.err(
                        &t.referenced,
                        format!(
                            "`timeout` must be a number of seconds above 0 (at least 0.001) and \
                             at most {}, got {}",
                            MAX_TIMEOUT.as_secs(),
                            if v != 0.0 && !(1e-3..1e9).contains(&v.abs()) {
                                format!("{v:e}")
                            } else {
                                v.to_string()
                            }
                        ),
                    ));
                }
                Duration::from_secs_f64(v)
            }
        };
        let pids_max = match &raw.pids_max {
            None => DEFAULT_PIDS_MAX,
            Some(p) if PIDS_MAX_RANGE.contains(&p.value) => p.value as u32,
            Some(p) => {
                return Err(self.err(
                    &p.referenced,
                    format!(
                        "`pids_max` must be {}-{}, got {}",
                        PIDS_MAX_RANGE.start(),
                        PIDS_MAX_RANGE.end(),
                        p.value
                    ),
                ));
            }
        };
        let mut requirements = BTreeSet::new();
        for r in &raw.requires {
            let version = |v: &str| -> Result<(u32, u32), ScenarioError> {
                v.split_once('.')
                    .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                    .ok_or_else(|| {
                        self.err(
                            &r.referenced,
                            format!("kernel version must look like `4.9`, got `{v}`"),
                        )
                    })
            };
            requirements.insert(match &r.value {
                RawRequirement::Root => Requirement::Root,
                RawRequirement::UnprivilegedUserns => Requirement::UnprivilegedUserns,
                RawRequirement::Setgroups => Requirement::Setgroups,
                RawRequirement::Kernel(v) => {
                    let (a, b) = version(v)?;
                    self.kernel_at_least = self.kernel_at_least.max((a, b));
                    Requirement::Kernel(a, b)
                }
                RawRequirement::KernelBelow(v) => {
                    let (a, b) = version(v)?;
                    if self.kernel_below.is_none_or(|(below, _)| (a, b) < below) {
                        self.kernel_below = Some(((a, b), r.referenced));
                    }
                    Requirement::KernelBelow(a, b)
                }
                RawRequirement::InitialNamespace(k) => match k.value {
                    NsKind::Pid | NsKind::User | NsKind::Time => {
                        Requirement::InitialNamespace(k.value)
                    }
                    other => {
                        return Err(self.err(
                            &k.referenced,
                            format!(
                                "`initial_namespace` takes `pid`, `user` (the kinds with nesting \
                                 limits) or `time` (whose offsets count from the initial one), got \
                                 `{}`",
                                other.name()
                            ),
                        ));
                    }
                },
                RawRequirement::Sysctl(text) => match SysctlCheck::parse(&text.value) {
                    Some(c) => Requirement::Sysctl(c),
                    None => {
                        return Err(self.err(
                            &text.referenced,
                            format!(
                                "sysctl requirement must look like `user.max_user_namespaces > 0` \
                                 (operators = != > >= < <=; numbers for the ordering ones), got `{}`",
                                text.value
                            ),
                        ));
                    }
                },
            });
        }

        // Every kernel the scenario could run on is at least `kernel_at_least` and older than
        // `kernel_below`: where that is none, it would be skipped everywhere, never run.
        if let Some(((a, b), at)) = self.kernel_below
            && self.kernel_at_least >= (a, b)
        {
            let (c, d) = self.kernel_at_least;
            let why = if (c, d) == (0, 0) {
                format!("no kernel is older than {a}.{b}")
            } else {
                format!(
                    "with `kernel: \"{c}.{d}\"` it leaves no kernel to run on (none is {c}.{d} or \
                     newer and older than {a}.{b})"
                )
            };
            return Err(self.err(
                &at,
                format!(
                    "`kernel_below: \"{a}.{b}\"`: {why}, so the scenario would be skipped on every \
                     kernel; give each version range a scenario of its own, with `kernel` below \
                     `kernel_below`"
                ),
            ));
        }
        let init_pidns = if namespaces.contains(&NsKind::Pid) {
            self.next_ns += 1;
            vec![0, 1]
        } else {
            vec![0]
        };
        self.add_proc("init".into(), None, init_pidns, raw.steps);
        let RawHost {
            steps: host_steps,
            proc_intact,
            hostname_intact,
        } = raw.host.unwrap_or_default();
        let host_steps_given = !host_steps.is_empty();
        // Named processes are collected (and their PID namespaces fixed) process by process,
        // in file order; the host process is added after init's tree so init's children come first.
        let mut host_index = None;
        let mut i = 0;
        let mut host_pending = Some(host_steps);
        loop {
            if i == self.procs.len() {
                match host_pending.take() {
                    Some(steps) => {
                        host_index = Some(self.procs.len());
                        self.add_proc("host".into(), None, vec![0], steps);
                    }
                    None => break,
                }
            }
            self.collect_children(i)?;
            i += 1;
        }
        self.handle_names = self
            .pending
            .iter()
            .flatten()
            .filter_map(|s| match &s.value {
                RawStep::PidfdOpen(o) => Some(o.handle.value.clone()),
                _ => None,
            })
            .collect();
        // Resolve every process's steps now that all names are known.
        for p in 0..self.procs.len() {
            let raw_steps = std::mem::take(&mut self.pending[p]);
            let steps = self.resolve_steps(p, raw_steps, host_index)?;
            self.procs[p].steps = steps;
        }
        let host_referenced = self.procs.iter().any(|p| {
            p.steps.iter().any(|s| {
                matches!(
                    s.action,
                    Action::Kill { target: Who::Proc(t), .. }
                        | Action::Read { of: Some(t), .. }
                        | Action::Visible { target: Who::Proc(t), .. }
                        | Action::Enter { target: Who::Proc(t), .. }
                        | Action::Setns { target: Who::Proc(t), .. }
                        | Action::Cgroup { target: Who::Proc(t), .. }
                        | Action::NsIoctl { target: Who::Proc(t), .. }
                        | Action::PidfdOpen { target: Who::Proc(t), .. }
                        if Some(t) == host_index
                )
            })
        });
        let host = if host_steps_given || host_referenced {
            host_index
        } else {
            self.procs.pop();
            None
        };
        let events = self.check_events(host.filter(|_| host_steps_given))?;
        if let Some(at) = self.mount_step
            && !namespaces.contains(&NsKind::Mount)
            && !self.kinds_used.contains(&NsKind::Mount)
        {
            return Err(self.err(
                &at,
                "`bind_mount` and `propagation` act only in a mount namespace of the scenario's \
                 own (in the harness's they could redirect the paths the harness reads): add \
                 `mount` to `namespaces`, or `unshare` it first",
            ));
        }
        for k in namespaces.iter().chain(self.kinds_used.iter()) {
            requirements.insert(Requirement::Namespace(*k));
        }
        if self.uses_cgroups {
            requirements.insert(Requirement::CgroupHierarchy);
        }
        if self.uses_own_cgroup {
            requirements.insert(Requirement::ScenarioCgroup);
        }
        if self.forks_to_the_limit {
            requirements.insert(Requirement::ProcessLimit);
        }
        if self.clones3 {
            requirements.insert(Requirement::Clone3);
        }
        for f in &self.features {
            if f.since() > self.kernel_at_least {
                requirements.insert(Requirement::Feature(*f));
            }
        }
        Ok(Plan {
            id: id.to_string(),
            source: self.source.to_string(),
            name,
            description: raw.description.map(|d| d.trim().to_string()),
            requirements: requirements.into_iter().collect(),
            namespaces,
            proc_fresh,
            timeout,
            pids_max,
            procs: self.procs,
            host,
            events,
            handles: self.handles.into_iter().map(|(h, _, _)| h).collect(),
            checks: HostChecks {
                proc_intact: proc_intact.map(|s| (s.value, s.referenced.line())),
                hostname_intact: hostname_intact.map(|s| (s.value, s.referenced.line())),
            },
        })
    }

    fn add_proc(
        &mut self,
        name: String,
        parent: Option<usize>,
        pidns: Vec<u32>,
        steps: Vec<Spanned<RawStep>>,
    ) {
        self.procs.push(ProcPlan {
            name,
            parent,
            steps: Vec::new(),
            pidns,
        });
        self.pending.push(steps);
        self.created_at.push(None);
    }

    fn kinds(
        &mut self,
        list: &[Spanned<NsKind>],
        what: &str,
    ) -> Result<Vec<NsKind>, ScenarioError> {
        let mut out = BTreeSet::new();
        for k in list {
            if !out.insert(k.value) {
                return Err(self.err(
                    &k.referenced,
                    format!("`{}` is listed twice in `{what}`", k.value.name()),
                ));
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Registers the processes that process `p` forks or enters, fixing their PID namespaces.
    fn collect_children(&mut self, p: usize) -> Result<(), ScenarioError> {
        let pending = std::mem::take(&mut self.pending[p]);
        let mut raw_steps = self.flatten_threads(pending)?;
        let mut child_pidns = self.procs[p].pidns.clone();
        for (i, step) in raw_steps.iter_mut().enumerate() {
            let made_at = Some((p, i, step.referenced.line(), false));
            match &mut step.value {
                RawStep::Unshare(u) => {
                    let expected_ok = !matches!(u.expect, Some(RawOutcome::Errno(_)));
                    if expected_ok && u.namespaces.value.iter().any(|k| k.value == NsKind::Pid) {
                        child_pidns.push(self.next_ns);
                        self.next_ns += 1;
                    }
                }
                RawStep::Fork(f) => {
                    self.declare(&f.name)?;
                    let steps = std::mem::take(&mut f.steps);
                    let mut pidns = child_pidns.clone();
                    // clone(CLONE_NEWPID): the child is the first process of a namespace of
                    // its own; the caller's children to come are not affected.
                    if f.namespaces.iter().any(|k| k.value == NsKind::Pid) {
                        pidns.push(self.next_ns);
                        self.next_ns += 1;
                    }
                    self.add_proc(f.name.value.clone(), Some(p), pidns, steps);
                    *self.created_at.last_mut().expect("just added") = made_at;
                }
                RawStep::Enter(e) => {
                    self.declare(&e.name)?;
                    let steps = std::mem::take(&mut e.steps);
                    // Without `pid` an entered process is a child like a forked one (created by a
                    // joining child of the caller, as with nsenter): in the namespace for our
                    // children. With `pid`, its target's, fixed when resolved.
                    self.add_proc(e.name.value.clone(), Some(p), child_pidns.clone(), steps);
                    *self.created_at.last_mut().expect("just added") =
                        made_at.map(|(p, i, line, _)| (p, i, line, true));
                }
                _ => {}
            }
        }
        self.pending[p] = raw_steps;
        Ok(())
    }

    /// A `thread`'s steps run in its process, by the new thread while the process's other
    /// steps wait for it: they are planned as the process's own, right after the `thread` step,
    /// which counts them (`ThreadArgs::inner`). Steps that would act on the calling thread
    /// alone are refused there: that thread ends with its steps, and the process's later steps
    /// would not be where the plan has them.
    fn flatten_threads(
        &self,
        raw: Vec<Spanned<RawStep>>,
    ) -> Result<Vec<Spanned<RawStep>>, ScenarioError> {
        let mut out = Vec::with_capacity(raw.len());
        for mut step in raw {
            let inner = match &mut step.value {
                RawStep::Thread(t) => match t.steps.take() {
                    Some(list) if list.value.is_empty() => {
                        return Err(self.err(
                            &list.referenced,
                            "an empty `steps` runs nothing: leave it out for a thread that only \
                             sleeps",
                        ));
                    }
                    Some(list) => list.value,
                    None => Vec::new(),
                },
                _ => Vec::new(),
            };
            for s in &inner {
                let why = match &s.value {
                    RawStep::Thread(_) => "a `thread`'s steps cannot start another thread",
                    RawStep::Unshare(_) | RawStep::Setns(_) => {
                        "`unshare` and `setns` cannot be among a `thread`'s steps: they would \
                         move only that thread, which ends with its steps"
                    }
                    RawStep::SetPdeathsig(_) => {
                        "`set_pdeathsig` cannot be among a `thread`'s steps: it would arm only \
                         that thread, which ends with its steps"
                    }
                    _ => continue,
                };
                return Err(self.err(&s.referenced, why));
            }
            if let RawStep::Thread(t) = &mut step.value {
                t.inner = inner.len();
            }
            out.push(step);
            out.extend(inner);
        }
        Ok(out)
    }

    fn declare(&mut self, name: &Spanned<String>) -> Result<(), ScenarioError> {
        let n = name.value.as_str();
        if !valid_name(n) {
            return Err(self.err(
                &name.referenced,
                format!(
                    "process name `{n}` must be 1-32 characters of letters, digits, `-` and `_`"
                ),
            ));
        }
        if n.parse::<i64>().is_ok() {
            return Err(self.err(
                &name.referenced,
                format!(
                    "process name `{n}` is a number, which `kill` reads as one (`pid: 0` is \
                     kill(0)); choose a name with a letter in it"
                ),
            ));
        }
        if RESERVED.contains(&n) {
            return Err(self.err(
                &name.referenced,
                format!("`{n}` is reserved for a symbolic PID; choose another process name"),
            ));
        }
        if self.index_of(n).is_some() {
            return Err(self.err(
                &name.referenced,
                format!("process name `{n}` is used twice"),
            ));
        }
        if self.procs.len() + 2 > MAX_PROCS {
            return Err(self.err(
                &name.referenced,
                format!("too many processes (at most {MAX_PROCS} per scenario)"),
            ));
        }
        Ok(())
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.procs.iter().position(|p| p.name == name)
    }

    fn who(
        &self,
        me: usize,
        s: &Spanned<String>,
        host: Option<usize>,
    ) -> Result<Who, ScenarioError> {
        Ok(match s.value.as_str() {
            "self" => Who::Proc(me),
            "parent" => match self.procs[me].parent {
                Some(p) => Who::Proc(p),
                None => Who::Supervisor,
            },
            "init" => Who::Proc(0),
            "host" => Who::Proc(host.expect("host process is always planned")),
            "supervisor" => Who::Supervisor,
            name => match self.index_of(name) {
                Some(i) if i != 0 && Some(i) != host => {
                    self.exists_here(me, i, s)?;
                    Who::Proc(i)
                }
                _ => {
                    let known: Vec<&str> = self
                        .procs
                        .iter()
                        .skip(1)
                        .filter(|p| p.name != "host")
                        .map(|p| p.name.as_str())
                        .collect();
                    return Err(self.err(
                        &s.referenced,
                        format!(
                            "no process named `{name}`: expected self, parent, init, host{}",
                            if known.is_empty() {
                                String::new()
                            } else {
                                format!(" or one of {}", known.join(", "))
                            }
                        ),
                    ));
                }
            },
        })
    }

    /// Refuses a step of `me` (the one being resolved) that names process `c` where `c`
    /// certainly does not exist yet: `me` itself creates it, or the process that creates it (or
    /// one of that one's creators), only with a later step. Steps run in order, so the run
    /// could only fail (`c` has not started). A process created by another process is left
    /// alone: without events between them, which comes first is a race, not a certainty.
    fn exists_here(
        &self,
        me: usize,
        c: usize,
        name: &Spanned<String>,
    ) -> Result<(), ScenarioError> {
        let mut x = c;
        while let Some((q, j, line, enter)) = self.created_at[x] {
            if q != me {
                x = q;
                continue;
            }
            if self.step_at > j {
                return Ok(());
            }
            let how = if enter { "`enter`" } else { "`fork`" };
            let creates = if x == c {
                format!(
                    "`{}` creates it with its {how} on line {line}",
                    self.procs[me].name
                )
            } else {
                format!(
                    "it is created by `{}`, which `{}` creates with its {how} on line {line}",
                    self.procs[x].name, self.procs[me].name
                )
            };
            let when = if self.step_at == j {
                "by this very step"
            } else {
                "after this step"
            };
            return Err(self.err(
                &name.referenced,
                format!(
                    "`{}` does not exist yet here: {creates}, {when}, and steps run in order; \
                     a step can name a process only once it has been created: move this step \
                     after that {how}",
                    self.procs[c].name
                ),
            ));
        }
        Ok(())
    }

    /// Refuses a signal (`what`, through the name or pidfd `by`) to the harness's supervisor
    /// — init's and the host process's parent — from a process in the harness's PID namespace,
    /// where it is visible: it would end the run without a report, which is what a scenario
    /// written for the kernel's ESRCH from a PID namespace gets when `pid` is missing. (A `kill`
    /// that names it `supervisor` means it and is not checked here:
    /// faults/supervisor-killed-by-init.yaml.)
    fn not_the_supervisor(
        &self,
        me: usize,
        target: Who,
        by: &Spanned<String>,
        what: &str,
    ) -> Result<(), ScenarioError> {
        if target != Who::Supervisor || self.procs[me].level() > 0 {
            return Ok(());
        }
        let name = &self.procs[me].name;
        Err(self.err(
            &by.referenced,
            format!(
                "{what} of nsspec's supervisor (the parent of init and the host process) from \
                 `{name}`, which is in the harness's PID namespace: the signal would reach it \
                 (a terminating one ending the run without a report); from a PID namespace of \
                 the scenario (`pid` in `namespaces`) the kernel refuses it with ESRCH (a \
                 `kill` of `supervisor` by that name ends the run on purpose)"
            ),
        ))
    }

    /// Refuses `what` outside a PID namespace of the scenario: kill(-1) would signal the host's
    /// processes there, setsid() would take the process out of the supervisor's process group
    /// (which the run's guardian kills should the run be killed), and the numbers getpgid()
    /// and getsid() return would be the host's, which no record can pin.
    fn in_scenario_pidns(
        &self,
        me: usize,
        host: Option<usize>,
        at: &Location,
        what: &str,
        consequence: &str,
    ) -> Result<(), ScenarioError> {
        if self.procs[me].pidns.len() >= 2 {
            return Ok(());
        }
        let name = &self.procs[me].name;
        Err(self.err(
            at,
            format!(
                "{what} runs only in a process inside a PID namespace of the scenario, and \
                 `{name}` is in the harness's{consequence}{}",
                if Some(me) == host {
                    ""
                } else {
                    ": add `pid` to `namespaces`, fork it after an `unshare` of pid, or give its \
                     `fork` `namespaces: [pid]`"
                }
            ),
        ))
    }

    /// Refuses `setsid` in a process that init's PID namespace does not contain. Only there does
    /// a killed run still end it: init dies with its supervisor (PR_SET_PDEATHSIG) and takes
    /// its namespace and every namespace below along. A namespace the host process (or a
    /// process without a PID namespace of the scenario's) made has an init of its own, which
    /// nothing kills with the run but the process-group kill that setsid() escapes (and, as
    /// root, the cgroup, which rootless runs lack).
    fn below_init(&self, me: usize, at: &Location) -> Result<(), ScenarioError> {
        let init = &self.procs[0].pidns;
        let mine = &self.procs[me].pidns;
        if init.len() >= 2 && mine.get(1) == init.get(1) {
            return Ok(());
        }
        let name = &self.procs[me].name;
        Err(self.err(
            at,
            format!(
                "`setsid` runs only in init's PID namespace or one below it, and `{name}` is not \
                 there{}: a process that leaves the supervisor's process group elsewhere could \
                 outlive a killed run",
                if init.len() < 2 {
                    " (the scenario has no `pid` in `namespaces`, so init has none of its own)"
                } else {
                    ""
                }
            ),
        ))
    }

    /// Records that a step uses `feature`: an implied requirement where the feature came
    /// after the scenario's own `kernel`.
    fn needs(&mut self, feature: Feature) {
        self.features.insert(feature);
    }

    /// Checks an expected PID (or getppid()'s 0) against what the kernel can return.
    fn pid_value(
        &self,
        v: Option<&Spanned<i64>>,
        min: i64,
        what: &str,
    ) -> Result<Option<i64>, ScenarioError> {
        match v {
            Some(v) if !(min..=PID_MAX_LIMIT).contains(&v.value) => Err(self.err(
                &v.referenced,
                format!(
                    "a PID expected from `{what}` must be {min}-{PID_MAX_LIMIT}, got {}",
                    v.value
                ),
            )),
            v => Ok(v.map(|v| v.value)),
        }
    }

    /// A `fork`'s `set_tid`: numbers for the child's PID namespaces of the scenario only,
    /// innermost first (the next would be the harness's own, the host's, where choosing a
    /// number is not a scenario's business). clone3(2) took set_tid in Linux 5.5.
    fn set_tid(
        &mut self,
        child: usize,
        set_tid: &[Spanned<i64>],
    ) -> Result<Vec<libc::pid_t>, ScenarioError> {
        for v in set_tid {
            if !(0..=PID_MAX_LIMIT).contains(&v.value) {
                return Err(self.err(
                    &v.referenced,
                    format!(
                        "a `set_tid` number must be 0-{PID_MAX_LIMIT} (the kernel refuses 0 and \
                         numbers from pid_max with EINVAL), got {}",
                        v.value
                    ),
                ));
            }
        }
        let levels = self.procs[child].level();
        if let Some(extra) = set_tid.get(levels) {
            let name = &self.procs[child].name;
            let message = if levels == 0 {
                format!(
                    "`set_tid` chooses PIDs in PID namespaces of the scenario, and `{name}` is in \
                     none: it would choose its PID in the harness's own namespace (the host's); \
                     add `pid` to `namespaces`, fork it after an `unshare` of pid, or give its \
                     `fork` `namespaces: [pid]`"
                )
            } else {
                format!(
                    "`set_tid` chooses PIDs innermost first, and `{name}` is in {levels} PID \
                     namespace{} of the scenario: number {} would be its PID in the harness's \
                     own namespace (the host's), which no scenario may choose",
                    if levels == 1 { "" } else { "s" },
                    levels + 1
                )
            };
            return Err(self.err(&extra.referenced, message));
        }
        if !set_tid.is_empty() {
            self.needs(Feature::SetTid);
        }
        Ok(set_tid.iter().map(|v| v.value as libc::pid_t).collect())
    }

    /// The target and the kinds of namespace an `enter` or `setns` (`what`) joins, at least
    /// one; through a pidfd (setns(2) takes one from Linux 5.8, pidfd_open(2) came in 5.3) the
    /// step needs the feature `setns_pidfd`.
    fn joining(
        &mut self,
        me: usize,
        host: Option<usize>,
        target: &Spanned<String>,
        namespaces: &Spanned<Vec<Spanned<NsKind>>>,
        pidfd: bool,
        what: &str,
    ) -> Result<(Who, Vec<NsKind>), ScenarioError> {
        let who = self.who(me, target, host)?;
        let kinds = self.kinds(&namespaces.value, what)?;
        if kinds.is_empty() {
            return Err(self.err(
                &namespaces.referenced,
                format!("`{what}` needs at least one namespace"),
            ));
        }
        self.kinds_used.extend(kinds.iter().copied());
        if pidfd {
            self.needs(Feature::SetnsPidfd);
        }
        Ok((who, kinds))
    }

    /// An NSpid pattern: PIDs, outermost first, `*` for any one. `other`: what else the step
    /// takes, for the message.
    fn nspid_pattern(
        &self,
        s: &Spanned<String>,
        other: &str,
    ) -> Result<Vec<Option<i64>>, ScenarioError> {
        let parsed: Option<Vec<Option<i64>>> = s
            .value
            .split_whitespace()
            .map(|t| {
                if t == "*" {
                    Some(None)
                } else {
                    t.parse::<i64>().ok().filter(|v| *v > 0).map(Some)
                }
            })
            .collect();
        match parsed {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(self.err(
                &s.referenced,
                format!(
                    "NSpid pattern must be PIDs or `*` separated by spaces, like \"* 2 1\"{other}; \
                     got \"{}\"",
                    s.value
                ),
            )),
        }
    }

    /// A uid or gid: 0 to 2^32-2 ((uid_t)-1 is never an id).
    fn id_value(&self, v: Option<&Spanned<i64>>, what: &str) -> Result<Option<i64>, ScenarioError> {
        const MAX_ID: i64 = u32::MAX as i64 - 1;
        match v {
            Some(v) if !(0..=MAX_ID).contains(&v.value) => Err(self.err(
                &v.referenced,
                format!(
                    "an id expected from `{what}` must be 0-{MAX_ID}, got {}",
                    v.value
                ),
            )),
            v => Ok(v.map(|v| v.value)),
        }
    }

    fn outcome(&self, o: &Option<RawOutcome>) -> Result<Outcome, ScenarioError> {
        Ok(match o {
            None | Some(RawOutcome::Ok) => Outcome::Ok,
            Some(RawOutcome::Errno(name)) => Outcome::Errno(self.errno(name)?),
        })
    }

    fn errno(&self, name: &Spanned<String>) -> Result<Errno, ScenarioError> {
        errno_from_name(&name.value).ok_or_else(|| {
            self.err(
                &name.referenced,
                format!(
                    "{} (expected a name such as ESRCH or EPERM)",
                    unknown_name("errno", &name.value)
                ),
            )
        })
    }

    /// A signal to send: a name, or 0 (None), kill(2)'s check that the target exists and may
    /// be signalled.
    fn sent_signal(&self, name: &Spanned<String>) -> Result<Option<Signal>, ScenarioError> {
        if name.value.trim() == "0" {
            return Ok(None);
        }
        self.named_signal(name, ", or 0 to check without sending")
            .map(Some)
    }

    fn signal(&self, name: &Spanned<String>) -> Result<Signal, ScenarioError> {
        self.named_signal(name, "")
    }

    /// The signal `name` names; else an error whose list of examples ends with `more`.
    fn named_signal(&self, name: &Spanned<String>, more: &str) -> Result<Signal, ScenarioError> {
        signal_from_name(&name.value).ok_or_else(|| {
            self.err(
                &name.referenced,
                format!(
                    "{} (expected a name such as KILL, TERM or USR1{more})",
                    unknown_name("signal", &name.value)
                ),
            )
        })
    }

    /// Registers the handle a `pidfd_open` step names in `as`; returns its index.
    fn new_handle(&mut self, name: &Spanned<String>, target: Who) -> Result<usize, ScenarioError> {
        let n = name.value.as_str();
        if !valid_name(n) {
            return Err(self.err(
                &name.referenced,
                format!("pidfd name `{n}` must be 1-32 characters of letters, digits, `-` and `_`"),
            ));
        }
        if let Some((_, _, first)) = self.handles.iter().find(|(h, _, _)| h.name == n) {
            // Processes are resolved parent first, not in file order: point at the later one.
            let at = if (first.line(), first.column())
                > (name.referenced.line(), name.referenced.column())
            {
                first
            } else {
                &name.referenced
            };
            return Err(self.err(
                at,
                format!(
                    "pidfd name `{n}` is used twice: each `pidfd_open` keeps its descriptor \
                     under a name of its own"
                ),
            ));
        }
        // Records name the pidfd, not its process: a name that is another process's would
        // make `pidfd_send_signal(init, …)` read as a signal to init.
        let names_another = match n {
            "self" | "parent" | "supervisor" => true,
            "init" => target != Who::Proc(0),
            _ => self
                .procs
                .iter()
                .position(|p| p.name == n)
                .is_some_and(|k| target != Who::Proc(k)),
        };
        if names_another {
            return Err(self.err(
                &name.referenced,
                format!(
                    "pidfd name `{n}` names another process: call it after the process it opens \
                     or by a name no process has"
                ),
            ));
        }
        self.handles.push((
            HandlePlan {
                name: n.to_string(),
                target,
            },
            true,
            name.referenced,
        ));
        Ok(self.handles.len() - 1)
    }

    /// The handle a `pidfd_signal` step names, which must be open in process `me` there: kept
    /// by an earlier step of its own, or by its creator before creating it.
    fn open_handle(&self, me: usize, name: &Spanned<String>) -> Result<usize, ScenarioError> {
        let n = name.value.as_str();
        let found = self.handles.iter().position(|(h, _, _)| h.name == n);
        let why = match found {
            None if !self.handle_names.contains(n) => {
                format!("no pidfd named `{n}`: name one that a `pidfd_open` step keeps with `as`")
            }
            Some(i) if !self.handles[i].1 => format!(
                "pidfd `{n}` never exists: its `pidfd_open` step expects an error, so there \
                 is no descriptor to signal through"
            ),
            Some(i) if self.now.handles.contains(&i) => return Ok(i),
            // Opened later in the file, by another process, or after this one was created.
            _ => format!(
                "pidfd `{n}` is not open in `{}` here: a pidfd is usable after its \
                 `pidfd_open` step, by that process and by the children it creates afterwards",
                self.procs[me].name
            ),
        };
        Err(self.err(&name.referenced, why))
    }

    /// Records a mention of an event in a step of `me` and returns its index.
    fn event(
        &mut self,
        me: usize,
        e: &Spanned<String>,
        notify: bool,
    ) -> Result<usize, ScenarioError> {
        if e.value.is_empty() || e.value.len() > 64 {
            return Err(self.err(&e.referenced, "event names must be 1-64 characters"));
        }
        let i = match self.events.iter().position(|(n, _, _)| *n == e.value) {
            Some(i) => i,
            None => {
                self.events.push((e.value.clone(), Vec::new(), Vec::new()));
                self.events.len() - 1
            }
        };
        if notify {
            self.events[i].1.push((e.referenced, me));
        } else {
            self.events[i].2.push((e.referenced, me));
        }
        Ok(i)
    }

    fn resolve_steps(
        &mut self,
        me: usize,
        raw: Vec<Spanned<RawStep>>,
        host: Option<usize>,
    ) -> Result<Vec<StepPlan>, ScenarioError> {
        let mut out = Vec::with_capacity(raw.len());
        // A child is resolved after its creator (it has a higher index), so what it inherits
        // is known by then.
        self.now = self.born.remove(&me).unwrap_or_default();
        self.threaded = None;
        self.unstarted_pidns = None;
        self.taken_over = None;
        // How many of the next steps a `thread` runs.
        let mut in_thread: usize = 0;
        // Whether the process was multithreaded before a `thread` with steps: once they are
        // done the thread has ended (the executor waits until it is unlisted).
        let mut threaded_before = None;
        for (i, step) in raw.into_iter().enumerate() {
            self.step_at = i;
            self.steps += 1;
            if self.steps > MAX_STEPS {
                return Err(self.err(
                    &step.referenced,
                    format!(
                        "too many steps: a scenario has at most {MAX_STEPS} in all its \
                         processes, and counting them process by process this is step {}",
                        self.steps
                    ),
                ));
            }
            // `exit` ends the whole process, from a thread too (exit_group(2)): whatever follows
            // would never run. (A `crash` may be followed: the faults that show how a crash is
            // reported need steps it leaves unrun.) Only the step before can be one: a step
            // after an `exit` is refused at once.
            if let Some(end) = out
                .last()
                .filter(|s: &&StepPlan| matches!(s.action, Action::Exit { .. }))
            {
                return Err(self.err(
                    &step.referenced,
                    format!(
                        "`{}` has exited at its `exit` on line {}: this step would never run",
                        self.procs[me].name, end.line
                    ),
                ));
            }
            let this_in_thread = in_thread > 0;
            in_thread = in_thread.saturating_sub(1);
            let line = step.referenced.line();
            let before_step_threaded = self.threaded;
            let action = self.resolve_step(me, step.value, host, &step.referenced)?;
            match action {
                Action::Wait { .. } => {
                    self.wait_at.insert((me, i), step.referenced);
                }
                Action::Pause => {
                    self.pause_at.insert((me, i), step.referenced);
                }
                _ => {}
            }
            if let Action::Fork { child, .. } | Action::Enter { child, .. } = action {
                let mut born = self.now.clone();
                let clones = matches!(&action, Action::Fork { kinds, set_tid, .. }
                    if !kinds.is_empty() || !set_tid.is_empty());
                // A process that took over and was itself cloned keeps a stale record of its
                // ended main thread (see `Inherited::forked`), which a clone copies too.
                born.stale_threads = clones
                    && (self.threaded.is_some()
                        || self.now.stale_threads
                        || (self.taken_over.is_some() && !self.now.forked));
                born.forked = matches!(&action, Action::Fork { .. }) && !clones;
                self.born.insert(child, born);
            }
            if let Action::Setsid {
                expect: Outcome::Ok,
            } = action
            {
                self.now.own_session = true;
            }
            match &action {
                Action::Unshare {
                    kinds,
                    expect: Outcome::Ok,
                } if kinds.contains(&NsKind::Pid) => {
                    self.unstarted_pidns = Some(step.referenced);
                }
                Action::Fork {
                    expect: Outcome::Ok,
                    ..
                }
                | Action::NestPid { .. } => self.unstarted_pidns = None,
                _ => {}
            }
            // A thread that takes over leaves one living thread: the one it replaced has ended.
            match action {
                Action::Thread {
                    expect: Outcome::Ok,
                    take_over: false,
                    ..
                } => {
                    self.threaded.get_or_insert(step.referenced);
                }
                Action::Thread {
                    expect: Outcome::Ok,
                    take_over: true,
                    ..
                } => {
                    self.taken_over.get_or_insert(step.referenced);
                }
                _ => {}
            }
            if let Action::Thread { inner, .. } = action
                && inner > 0
            {
                in_thread = inner;
                threaded_before = Some(before_step_threaded);
            }
            out.push(StepPlan {
                index: i + 1,
                line,
                action,
                in_thread: this_in_thread,
            });
            if this_in_thread && in_thread == 0 {
                self.threaded = threaded_before.take().flatten();
            }
        }
        Ok(out)
    }

    fn resolve_step(
        &mut self,
        me: usize,
        step: RawStep,
        host: Option<usize>,
        at: &Location,
    ) -> Result<Action, ScenarioError> {
        Ok(match step {
            RawStep::Getpgid(a) => {
                self.in_scenario_pidns(me, host, at, "`getpgid`", "")?;
                Action::Getpgid {
                    expect: self.pid_value(a.expect.as_ref(), 0, "getpgid")?,
                }
            }
            RawStep::Getsid(a) => {
                self.in_scenario_pidns(me, host, at, "`getsid`", "")?;
                Action::Getsid {
                    expect: self.pid_value(a.expect.as_ref(), 0, "getsid")?,
                }
            }
            RawStep::Setsid(a) => {
                self.in_scenario_pidns(me, host, at, "`setsid`", "")?;
                self.below_init(me, at)?;
                Action::Setsid {
                    expect: self.outcome(&a.expect)?,
                }
            }
            // In the harness's PID namespace the numbers are the host's, different on every
            // run (the record shows them as labels): nothing to expect there.
            RawStep::Getpid(a) => {
                if a.expect.is_some() {
                    self.in_scenario_pidns(me, host, at, "`getpid` with `expect`", "")?;
                }
                Action::Getpid {
                    expect: self.pid_value(a.expect.as_ref(), 1, "getpid")?,
                }
            }
            RawStep::Getppid(a) => {
                if a.expect.is_some() {
                    self.in_scenario_pidns(me, host, at, "`getppid` with `expect`", "")?;
                }
                Action::Getppid {
                    expect: self.pid_value(a.expect.as_ref(), 0, "getppid")?,
                }
            }
            RawStep::Fork(f) => {
                let child = self.index_of(&f.name.value).expect("declared");
                if !matches!(f.expect, None | Some(RawOutcome::Ok))
                    && !self.pending[child].is_empty()
                {
                    return Err(
                        self.err(at, "a `fork` expected to fail has no child to run `steps`")
                    );
                }
                let kinds = self.kinds(&f.namespaces, "fork")?;
                self.kinds_used.extend(kinds.iter().copied());
                let set_tid = self.set_tid(child, &f.set_tid)?;
                self.clones3 |= !set_tid.is_empty() || kinds.contains(&NsKind::Time);
                if let Some(pid) = &f.pid {
                    // fork() returns the child's PID in the caller's namespace: in the
                    // harness's, a host PID, different on every run.
                    self.in_scenario_pidns(me, host, &pid.referenced, "`fork` with `pid`", "")?;
                }
                Action::Fork {
                    child,
                    pid: self.pid_value(f.pid.as_ref(), 1, "fork")?,
                    kinds,
                    set_tid,
                    expect: self.outcome(&f.expect)?,
                }
            }
            RawStep::Thread(t) => {
                let expect = self.outcome(&t.expect)?;
                let take_over = t.take_over.as_ref().filter(|v| v.value);
                if let Some(v) = take_over
                    && t.inner > 0
                {
                    return Err(self.err(
                        &v.referenced,
                        "a `thread` that takes over runs the process's remaining steps: it has \
                         no `steps` of its own",
                    ));
                }
                if expect != Outcome::Ok && t.inner > 0 {
                    return Err(self.err(
                        at,
                        "a `thread` expected to fail has no thread to run `steps`",
                    ));
                }
                if let Some(tid) = &t.tid {
                    if expect != Outcome::Ok {
                        return Err(self.err(
                            &tid.referenced,
                            "`tid` is the ID of a thread that was created: not with an errno \
                             expected",
                        ));
                    }
                    // In the harness's PID namespace the number is the host's, different on
                    // every run.
                    self.in_scenario_pidns(me, host, at, "`thread` with `tid`", "")?;
                    // A thread is never the first task of its PID namespace.
                    if !(2..=PID_MAX_LIMIT).contains(&tid.value) {
                        return Err(self.err(
                            &tid.referenced,
                            format!(
                                "a thread ID (`tid`) must be 2-{PID_MAX_LIMIT}, got {}",
                                tid.value
                            ),
                        ));
                    }
                }
                Action::Thread {
                    tid: t.tid.map(|t| t.value),
                    expect,
                    inner: t.inner,
                    take_over: take_over.is_some(),
                }
            }
            RawStep::Enter(e) => {
                if let Some(unshared) = &self.unstarted_pidns {
                    return Err(self.err(
                        at,
                        format!(
                            "`enter` before any process of the PID namespace unshared on line \
                             {}: nsspec's joining process would be that namespace's first, its \
                             init, and an init cannot give its parent another child \
                             (clone(CLONE_PARENT) is EINVAL for it); `fork` the namespace's first \
                             process before",
                            unshared.line()
                        ),
                    ));
                }
                let child = self.index_of(&e.name.value).expect("declared");
                // As for `fork`: when setns() fails, nsspec's joining process creates nothing,
                // and the steps would be reported as never run, whatever the kernel did.
                if !matches!(e.expect, None | Some(RawOutcome::Ok))
                    && !self.pending[child].is_empty()
                {
                    return Err(self.err(
                        at,
                        format!(
                            "an `enter` expected to fail has no process to run `steps`: `{}` is \
                             created only when the joins succeed; leave `steps` out, or expect `ok`",
                            e.name.value
                        ),
                    ));
                }
                let (target, kinds) =
                    self.joining(me, host, &e.target, &e.namespaces, e.pidfd, "enter")?;
                let pidns = if kinds.contains(&NsKind::Pid) {
                    match target {
                        Who::Proc(t) if !self.procs[t].pidns.is_empty() => {
                            self.procs[t].pidns.clone()
                        }
                        _ => vec![0],
                    }
                } else {
                    self.procs[child].pidns.clone()
                };
                let planned = std::mem::replace(&mut self.procs[child].pidns, pidns.clone());
                // Its descendants were registered in the namespace its creator's children
                // are in; they live below the one it entered.
                for d in child + 1..self.procs.len() {
                    if self.is_descendant(d, child) && self.procs[d].pidns.starts_with(&planned) {
                        let below = self.procs[d].pidns[planned.len()..].to_vec();
                        self.procs[d].pidns = [pidns.clone(), below].concat();
                    }
                }
                Action::Enter {
                    child,
                    target,
                    label: e.target.value.clone(),
                    kinds,
                    pidfd: e.pidfd,
                    expect: self.outcome(&e.expect)?,
                }
            }
            RawStep::Setns(e) => {
                let (target, kinds) =
                    self.joining(me, host, &e.target, &e.namespaces, e.pidfd, "setns")?;
                if let Some(k) = e.namespaces.value.iter().find(|k| k.value == NsKind::Pid) {
                    // setns(CLONE_NEWPID) moves only the caller's later children, which the
                    // plan numbers by the namespaces it knows the caller to create.
                    return Err(self.err(
                        &k.referenced,
                        "`setns` cannot join a PID namespace (setns(2) would move only this \
                         process's later children there): `enter` creates a process in it",
                    ));
                }
                Action::Setns {
                    target,
                    label: e.target.value.clone(),
                    kinds,
                    pidfd: e.pidfd,
                    expect: self.outcome(&e.expect)?,
                }
            }
            RawStep::Exit(e) => {
                if !(0..=255).contains(&e.code.value) {
                    return Err(self.err(
                        &e.code.referenced,
                        format!("exit code must be 0-255, got {}", e.code.value),
                    ));
                }
                Action::Exit {
                    code: e.code.value as i32,
                }
            }
            RawStep::Kill(k) => {
                let signal = match &k.signal {
                    Some(s) => self.sent_signal(s)?,
                    None => Some(Signal::SIGTERM),
                };
                let pid = match (&k.pid, &k.group) {
                    (Some(pid), None) => pid,
                    (None, Some(group)) => {
                        let target = self.who(me, group, host)?;
                        if target == Who::Supervisor {
                            return Err(self.err(
                                &group.referenced,
                                "`group` of the harness's supervisor: its process group holds \
                                 the harness and every scenario process that has not left it",
                            ));
                        }
                        return Ok(Action::KillGroup {
                            target: Some(target),
                            label: group.value.clone(),
                            signal,
                            expect: self.outcome(&k.expect)?,
                        });
                    }
                    (Some(_), Some(group)) => {
                        return Err(
                            self.err(&group.referenced, "`kill` takes `pid` or `group`, not both")
                        );
                    }
                    (None, None) => {
                        return Err(self.err(
                            at,
                            "`kill` needs `pid` (a process, -1 or 0) or `group` (the process \
                             group a process leads)",
                        ));
                    }
                };
                if pid.value.trim() == "0" {
                    if !self.now.own_session {
                        return Err(self.err(
                            &pid.referenced,
                            format!(
                                "`kill` of 0 (the caller's process group) runs only in a process \
                                 that has left the supervisor's process group, and `{}` has not \
                                 here: give it a `setsid` step first, or create it after one",
                                self.procs[me].name
                            ),
                        ));
                    }
                    return Ok(Action::KillGroup {
                        target: None,
                        label: "0".into(),
                        signal,
                        expect: self.outcome(&k.expect)?,
                    });
                }
                let k_pid = pid;
                if k_pid.value.trim() == "-1" {
                    self.in_scenario_pidns(
                        me,
                        host,
                        &k_pid.referenced,
                        "`kill` of -1 (every process the caller may signal)",
                        ", where it would signal the host's processes",
                    )?;
                    return Ok(Action::KillAll {
                        signal,
                        expect: self.outcome(&k.expect)?,
                    });
                }
                let target = self.who(me, k_pid, host)?;
                if k_pid.value != "supervisor" {
                    self.not_the_supervisor(me, target, k_pid, "`kill`")?;
                }
                Action::Kill {
                    target,
                    label: k_pid.value.clone(),
                    signal,
                    expect: self.outcome(&k.expect)?,
                }
            }
            RawStep::PidfdOpen(o) => {
                let target = self.who(me, &o.pid, host)?;
                let handle = self.new_handle(&o.handle, target)?;
                let expect = self.outcome(&o.expect)?;
                self.handles[handle].1 = expect == Outcome::Ok;
                if expect == Outcome::Ok {
                    self.now.handles.insert(handle);
                }
                // pidfd_open(2) came in 5.3, pidfd_send_signal(2) in 5.1.
                self.needs(Feature::PidfdOpen);
                Action::PidfdOpen {
                    target,
                    label: o.pid.value.clone(),
                    handle,
                    expect,
                }
            }
            RawStep::PidfdFdinfo(f) => {
                let handle = self.open_handle(me, &f.pidfd)?;
                // NSpid in a pidfd's fdinfo, and -1 for a reaped process, came with Linux 5.5.
                self.needs(Feature::PidfdFdinfoNspid);
                let expect = match &f.expect {
                    None => None,
                    Some(s) if s.value.trim() == "0" => Some(vec![Some(0)]),
                    Some(s) if s.value.trim() == "-1" => Some(vec![Some(-1)]),
                    Some(s) => Some(self.nspid_pattern(
                        s,
                        ", or `0` (not in the /proc's PID namespace or below it) or `-1` (reaped)",
                    )?),
                };
                Action::PidfdFdinfo { handle, expect }
            }
            RawStep::PidfdNs(n) => {
                let handle = self.open_handle(me, &n.pidfd)?;
                let kind = n.kind.value;
                if n.for_children && !kind.for_children_only() {
                    return Err(self.for_children_err(&n.kind));
                }
                // The pidfs ioctls came with Linux 6.11 (ENOTTY before).
                self.needs(Feature::PidfdNsIoctl);
                let expect = match &n.expect {
                    None => None,
                    Some(e) => match &e.value {
                        RawNsIoctlExpect::Harness => Some(NsIoctlExpect::Harness),
                        RawNsIoctlExpect::New => Some(NsIoctlExpect::New),
                        RawNsIoctlExpect::Errno(name) => {
                            Some(NsIoctlExpect::Errno(self.errno(name)?))
                        }
                        _ => {
                            return Err(self.err(
                                &e.referenced,
                                "`pidfd_ns` answers with a namespace: expect `harness`, `new` or \
                                 `{ errno: NAME }`",
                            ));
                        }
                    },
                };
                Action::PidfdNs {
                    handle,
                    kind,
                    for_children: n.for_children,
                    expect,
                }
            }
            RawStep::PidfdSignal(k) => {
                let handle = self.open_handle(me, &k.pidfd)?;
                let target = self.handles[handle].0.target;
                self.not_the_supervisor(me, target, &k.pidfd, "`pidfd_signal`")?;
                let signal = match &k.signal {
                    Some(s) => self.sent_signal(s)?,
                    None => Some(Signal::SIGTERM),
                };
                Action::PidfdSignal {
                    handle,
                    signal,
                    expect: self.outcome(&k.expect)?,
                }
            }
            RawStep::Wait(w) => {
                let target = match self.who(me, &w.pid, host)? {
                    Who::Proc(t) if self.is_descendant(t, me) => t,
                    _ => {
                        return Err(self.err(
                            &w.pid.referenced,
                            format!(
                                "`{}` is not a child of `{}`: wait() only reaps children (and \
                                 orphans adopted by init or a subreaper)",
                                w.pid.value, self.procs[me].name
                            ),
                        ));
                    }
                };
                let expect = match &w.expect {
                    None => None,
                    Some(RawWaitStatus::Exited(c)) => {
                        if !(0..=255).contains(&c.value) {
                            return Err(self.err(
                                &c.referenced,
                                format!("exit code must be 0-255, got {}", c.value),
                            ));
                        }
                        Some(WaitStatus::Exited(c.value as i32))
                    }
                    Some(RawWaitStatus::Signaled(s)) => Some(WaitStatus::Signaled(self.signal(s)?)),
                    Some(RawWaitStatus::Errno(e)) => Some(WaitStatus::Errno(self.errno(e)?)),
                };
                Action::Wait { target, expect }
            }
            RawStep::ListPids(a) => Action::ListPids {
                expect: match &a.expect {
                    None => None,
                    Some(list) => Some(
                        list.iter()
                            .map(|p| Ok(self.pid_value(Some(p), 1, "list_pids")?.unwrap_or(0)))
                            .collect::<Result<_, ScenarioError>>()?,
                    ),
                },
            },
            RawStep::Nspid(a) => Action::Nspid {
                expect: match &a.expect {
                    None => None,
                    Some(s) => Some(self.nspid_pattern(s, "")?),
                },
            },
            RawStep::Visible(v) => Action::Visible {
                target: self.who(me, &v.pid, host)?,
                label: v.pid.value.clone(),
                expect: v.expect,
            },
            RawStep::MountProc(m) => {
                let target = match &m.target {
                    None => "/proc".to_string(),
                    Some(t) => self.path("target", t)?,
                };
                let mut options = Vec::new();
                for o in &m.options {
                    // gid=N: the group exempt from hidepid; an id (u32, (gid_t)-1 is none), in
                    // plain decimal: the kernel reads a leading 0 as octal and 0x as hex
                    // (kstrtouint(…, 0)), which a reader of `gid=010` would not expect.
                    let gid = o.value.strip_prefix("gid=").map(|g| {
                        g.parse::<u32>()
                            .ok()
                            .filter(|n| *n != u32::MAX && n.to_string() == g)
                    });
                    match gid {
                        Some(Some(_)) => {}
                        Some(None) => {
                            return Err(self.err(
                                &o.referenced,
                                format!(
                                    "procfs option `{}`: `gid=` takes a group id in decimal \
                                     without leading zeros, 0-{}",
                                    o.value,
                                    u32::MAX - 1
                                ),
                            ));
                        }
                        None if !PROC_OPTIONS.contains(&o.value.as_str()) => {
                            return Err(self.err(
                                &o.referenced,
                                format!(
                                    "unknown procfs option `{}` (expected one of {}, gid=N)",
                                    o.value,
                                    PROC_OPTIONS.join(", ")
                                ),
                            ));
                        }
                        None => {}
                    }
                    if self.kernel_at_least < PER_INSTANCE_PROC_OPTIONS {
                        return Err(self.err(
                            &o.referenced,
                            format!(
                                "procfs options need `requires: [{{ kernel: \"{}.{}\" }}]`: before \
                                 Linux {0}.{1} they belong to the PID namespace's one procfs, and \
                                 in the harness's that is the host's /proc",
                                PER_INSTANCE_PROC_OPTIONS.0, PER_INSTANCE_PROC_OPTIONS.1
                            ),
                        ));
                    }
                    options.push(o.value.clone());
                }
                Action::MountProc {
                    target,
                    options: options.join(","),
                    expect: self.outcome(&m.expect)?,
                }
            }
            RawStep::Unshare(u) => {
                let kinds = self.kinds(&u.namespaces.value, "unshare")?;
                if kinds.is_empty() {
                    return Err(self.err(
                        &u.namespaces.referenced,
                        "`unshare` needs at least one namespace (unshare(2) with no flags does \
                         nothing)",
                    ));
                }
                self.kinds_used.extend(kinds.iter().copied());
                Action::Unshare {
                    kinds,
                    expect: self.outcome(&u.expect)?,
                }
            }
            RawStep::NestPid(n) => {
                if !(1..=MAX_NEST_DEPTH).contains(&n.depth.value) {
                    return Err(self.err(
                        &n.depth.referenced,
                        format!("`depth` must be 1-{MAX_NEST_DEPTH}, got {}", n.depth.value),
                    ));
                }
                let expect = match &n.expect {
                    None => None,
                    Some(RawNestExpect { max_level, errno }) => Some((
                        {
                            if !(0..=MAX_PID_NS_LEVEL).contains(&max_level.value) {
                                return Err(self.err(
                                    &max_level.referenced,
                                    format!(
                                        "`max_level` must be 0-{MAX_PID_NS_LEVEL} (the kernel \
                                         nests PID namespaces at most {MAX_PID_NS_LEVEL} deep), \
                                         got {}",
                                        max_level.value
                                    ),
                                ));
                            }
                            max_level.value
                        },
                        match errno {
                            None => None,
                            Some(e) => Some(self.errno(e)?),
                        },
                    )),
                };
                Action::NestPid {
                    depth: n.depth.value as u32,
                    expect,
                }
            }
            RawStep::Sethostname(s) => {
                // The kernel's own limit is 64 bytes (EINVAL beyond, which scenarios pin);
                // this bound only keeps records small.
                if s.name.value.len() > 256 {
                    return Err(self.err(
                        &s.name.referenced,
                        "a hostname to try may be at most 256 bytes (the kernel accepts 64)",
                    ));
                }
                Action::Sethostname {
                    name: s.name.value.clone(),
                    expect: self.outcome(&s.expect)?,
                }
            }
            RawStep::Gethostname(g) => Action::Gethostname { expect: g.expect },
            RawStep::SetPdeathsig(p) => Action::SetPdeathsig {
                signal: self.signal(&p.signal)?,
            },
            RawStep::SetDumpable(d) => Action::SetDumpable {
                dumpable: d.dumpable,
                expect: self.outcome(&d.expect)?,
            },
            RawStep::SetSubreaper(d) => Action::SetSubreaper {
                subreaper: d.subreaper,
                expect: self.outcome(&d.expect)?,
            },
            RawStep::Catch(c) => {
                let signal = self.signal(&c.signal)?;
                let why = match signal {
                    Signal::SIGKILL | Signal::SIGSTOP => Some("cannot be caught (signal(7))"),
                    // Returning from the handler of a real fault runs the faulting instruction
                    // again: a `crash` step (and an init's abort(3)) would spin, not die.
                    Signal::SIGSEGV | Signal::SIGBUS | Signal::SIGILL | Signal::SIGFPE => Some(
                        "is a fault signal, whose handler would keep `crash` from ending the process",
                    ),
                    // The harness's own short-lived helpers (`enter`'s joining process,
                    // `nest_pid`'s) end as children too: the record would depend on them.
                    Signal::SIGCHLD => Some("is sent by the harness's own helper processes too"),
                    _ => None,
                };
                if let Some(why) = why {
                    return Err(self.err(
                        &c.signal.referenced,
                        format!("{} {why}: `catch` takes another signal", signal.as_str()),
                    ));
                }
                let expect = self.outcome(&c.expect)?;
                if expect == Outcome::Ok {
                    self.now.catching.insert(signal as i32);
                }
                Action::Catch { signal, expect }
            }
            RawStep::Caught(c) => {
                let signal = self.signal(&c.signal)?;
                if !self.now.catching.contains(&(signal as i32)) {
                    return Err(self.err(
                        &c.signal.referenced,
                        format!(
                            "`{}` has no handler for {} here: give it a `catch` step first (or \
                             create it after one: fork() keeps handlers)",
                            self.procs[me].name,
                            signal.as_str()
                        ),
                    ));
                }
                let expect = match &c.expect {
                    None => None,
                    Some(list) => {
                        // Senders are numbered in the receiver's PID namespace: in the
                        // harness's, they would be the host's numbers.
                        self.in_scenario_pidns(me, host, at, "`caught` with `expect`", "")?;
                        if list.len() > CAUGHT_MAX {
                            return Err(self.err(
                                &list[CAUGHT_MAX].referenced,
                                format!(
                                    "`caught` keeps the first {CAUGHT_MAX} deliveries: expect at \
                                     most {CAUGHT_MAX}"
                                ),
                            ));
                        }
                        let mut out = Vec::with_capacity(list.len());
                        for p in list {
                            out.push(
                                self.pid_value(Some(p), 0, "caught")?
                                    .expect("a value was given"),
                            );
                        }
                        Some(out)
                    }
                };
                Action::Caught { signal, expect }
            }
            RawStep::Getuid(a) => Action::Getuid {
                expect: self.id_value(a.expect.as_ref(), "getuid")?,
            },
            RawStep::Getgid(a) => Action::Getgid {
                expect: self.id_value(a.expect.as_ref(), "getgid")?,
            },
            RawStep::Read(r) => Action::Read {
                of: match &r.pid {
                    None => None,
                    Some(pid) => {
                        let Who::Proc(t) = self.who(me, pid, host)? else {
                            return Err(self.err(
                                &pid.referenced,
                                format!(
                                    "`read` with `pid` reads the /proc files of a process of the \
                                     scenario, and `{}` is not one",
                                    pid.value
                                ),
                            ));
                        };
                        Some(t)
                    }
                },
                path: if r.pid.is_some() {
                    if !READ_OF_FILES.contains(&r.path.value.as_str()) {
                        return Err(self.err(
                            &r.path.referenced,
                            format!(
                                "`read` with `pid` reads one of {} in that process's /proc/PID, \
                                 got `{}` (their content holds no PIDs, which nsspec could not \
                                 label; for NSpid see `nspid` and `visible`)",
                                READ_OF_FILES.join(", "),
                                r.path.value
                            ),
                        ));
                    }
                    r.path.value.clone()
                } else {
                    self.path("path", &r.path)?
                },
                expect: match r.expect.as_ref().map(|e| (&e.value, e.referenced)) {
                    None => None,
                    Some((RawReadExpect::Text(t), _)) => Some(ReadExpect::Text(fold_space(t))),
                    Some((RawReadExpect::Errno(e), _)) => Some(ReadExpect::Errno(self.errno(e)?)),
                    Some((RawReadExpect::Typed(v), at)) => {
                        return Err(self.err(
                            &at,
                            format!(
                                "YAML reads this `expect` as the number or boolean {v}, and its \
                                 spelling is lost behind the alias, anchor or tag: write the \
                                 expected text in quotes"
                            ),
                        ));
                    }
                },
            },
            RawStep::Write(w) if w.pid.is_some() => {
                let pid = w.pid.as_ref().expect("matched");
                // Only a child: nobody but its parent (the writer) reaps it, so its PID cannot
                // pass to a stranger — another process's user namespace — before the write.
                let child = match self.who(me, pid, host)? {
                    Who::Proc(c) if self.procs[c].parent == Some(me) => c,
                    _ => {
                        return Err(self.err(
                            &pid.referenced,
                            format!(
                                "`write` with `pid` writes the /proc files of a child of the \
                                 writing process (its `fork` or `enter`), and `{}` is not one",
                                pid.value
                            ),
                        ));
                    }
                };
                const FILES: [&str; 3] = ["uid_map", "gid_map", "setgroups"];
                if !FILES.contains(&w.path.value.as_str()) {
                    return Err(self.err(
                        &w.path.referenced,
                        format!(
                            "`write` with `pid` writes `uid_map`, `gid_map` or `setgroups` of the \
                             child's /proc/PID, got `{}`",
                            w.path.value
                        ),
                    ));
                }
                Action::WriteChild {
                    child,
                    file: w.path.value,
                    content: w.content,
                    expect: self.outcome(&w.expect)?,
                }
            }
            RawStep::Write(w) => {
                let path = self.path("path", &w.path)?;
                let guard = write_guard(&path).map_err(|why| self.err(&w.path.referenced, why))?;
                if path == PID_MAX && self.kernel_at_least < PER_NS_PID_MAX {
                    return Err(self.err(
                        &w.path.referenced,
                        format!(
                            "`write` to `{PID_MAX}` needs `requires: [{{ kernel: \"{}.{}\" }}]`: \
                             before Linux {0}.{1} it is one sysctl for the whole host",
                            PER_NS_PID_MAX.0, PER_NS_PID_MAX.1
                        ),
                    ));
                }
                Action::Write {
                    path,
                    content: w.content,
                    guard,
                    expect: self.outcome(&w.expect)?,
                }
            }
            RawStep::HasCap(c) => {
                let name = c
                    .cap
                    .value
                    .strip_prefix("CAP_")
                    .unwrap_or(&c.cap.value)
                    .to_string();
                let Some(cap) = capability_from_name(&name) else {
                    return Err(self.err(
                        &c.cap.referenced,
                        format!("unknown capability `{}` (expected a name such as SYS_ADMIN or CAP_NET_ADMIN)", c.cap.value),
                    ));
                };
                Action::HasCap {
                    cap,
                    name: format!("CAP_{name}"),
                    expect: c.expect,
                }
            }
            RawStep::DropCaps(_) => {
                if let Some(thread) = &self.threaded {
                    // capset(2) changes the calling thread alone: the other would keep every
                    // capability (and glibc aborts a later set_ids when threads disagree).
                    return Err(self.err(
                        at,
                        format!(
                            "`drop_caps` after a `thread` step (line {}) of the same process: \
                             capset(2) changes only the calling thread, and the other would keep \
                             its capabilities; drop them before starting the thread",
                            thread.line()
                        ),
                    ));
                }
                Action::DropCaps
            }
            RawStep::SetIds(a) => {
                // Init and the host process, cloned or forked by the supervisor, hold its ID in
                // that record: a thread of another process where they share its PID namespace.
                let top_at_home = self.procs[me].parent.is_none() && self.procs[me].level() == 0;
                if let (Some(taken), false) = (&self.taken_over, self.now.forked || top_at_home) {
                    return Err(self.err(
                        at,
                        format!(
                            "`set_ids` after the `take_over` on line {} in `{}`, which nsspec \
                             created with clone(2), not glibc's fork(): glibc's record of the \
                             ended main thread keeps the ID of the thread that cloned it, and \
                             set_ids()'s broadcast to all threads signals that number and, where \
                             it names a thread of this process, waits for it forever; create \
                             the process with a plain `fork` (and `unshare`) instead",
                            taken.line(),
                            self.procs[me].name
                        ),
                    ));
                }
                if self.now.stale_threads {
                    return Err(self.err(
                        at,
                        format!(
                            "`set_ids` in `{}`, which was cloned (`fork` with `namespaces`) from a \
                             multithreaded process, or from one that a thread took over after it \
                             was itself cloned: glibc's clone() leaves the creator's threads in \
                             its bookkeeping, and set_ids()'s broadcast to all threads can wait for \
                             them forever; create it with a plain `fork` and `unshare` instead",
                            self.procs[me].name
                        ),
                    ));
                }
                let id = |v: &Spanned<i64>, what: &str| -> Result<u32, ScenarioError> {
                    self.id_value(Some(v), what)?;
                    Ok(v.value as u32)
                };
                Action::SetIds {
                    uid: id(&a.uid, "set_ids")?,
                    gid: id(&a.gid, "set_ids")?,
                    keep_groups: a.keep_groups,
                    expect: self.outcome(&a.expect)?,
                }
            }
            RawStep::Crash(c) => Action::Crash { how: c.how },
            RawStep::ForkBomb(f) => {
                // Only the process limit stops it.
                self.forks_to_the_limit = true;
                Action::ForkBomb {
                    expect: match &f.expect {
                        None => Outcome::Errno(Errno::EAGAIN),
                        Some(_) => self.outcome(&f.expect)?,
                    },
                }
            }
            RawStep::MountTmpfs(m) => {
                let target = self.path("target", &m.target)?;
                let dirs = self.tmpfs_dirs(&m.dirs)?;
                if !m.dirs.is_empty() {
                    // Built detached with fsopen/fsmount: ENOSYS before 5.2.
                    self.needs(Feature::MountApi);
                }
                Action::MountTmpfs {
                    target,
                    dirs,
                    expect: self.outcome(&m.expect)?,
                }
            }
            RawStep::Chroot(c) => Action::Chroot {
                path: self.path("path", &c.path)?,
                expect: self.outcome(&c.expect)?,
            },
            RawStep::Umount(u) => Action::Umount {
                target: self.path("target", &u.target)?,
                lazy: u.lazy,
                expect: self.outcome(&u.expect)?,
            },
            RawStep::Notify(e) => Action::Notify {
                event: self.event(me, &e.event, true)?,
            },
            RawStep::Await(e) => Action::Await {
                event: self.event(me, &e.event, false)?,
            },
            RawStep::Sleep(s) => {
                if !(0..=600_000).contains(&s.ms.value) {
                    return Err(self.err(
                        &s.ms.referenced,
                        format!("`ms` must be 0-600000, got {}", s.ms.value),
                    ));
                }
                Action::Sleep {
                    ms: s.ms.value as u64,
                }
            }
            RawStep::Pause(_) => Action::Pause,
            RawStep::SysvGet(g) => {
                if !(1..=i64::from(i32::MAX)).contains(&g.key.value) {
                    return Err(self.err(
                        &g.key.referenced,
                        format!(
                            "`key` must be 1-{} (0 is IPC_PRIVATE, which never finds an object), got {}",
                            i32::MAX,
                            g.key.value
                        ),
                    ));
                }
                Action::SysvGet {
                    object: g.object,
                    key: g.key.value as i32,
                    create: g.create,
                    expect: self.outcome(&g.expect)?,
                }
            }
            RawStep::MqOpen(m) => {
                let rest = m.name.value.strip_prefix('/').unwrap_or("");
                if rest.is_empty() || rest.len() > 255 || rest.contains(['/', '\0']) {
                    return Err(self.err(
                        &m.name.referenced,
                        format!(
                            "a message queue name is `/` then 1-255 characters without `/` (mq_overview(7)), got `{}`",
                            m.name.value
                        ),
                    ));
                }
                Action::MqOpen {
                    name: m.name.value.clone(),
                    create: m.create,
                    expect: self.outcome(&m.expect)?,
                }
            }
            RawStep::Links(l) => Action::Links {
                expect: l.expect.map(|v| v.iter().map(|e| fold_space(e)).collect()),
            },
            RawStep::LinkUp(l) => {
                let n = &l.name.value;
                if n.is_empty()
                    || n.len() > 15
                    || n.chars()
                        .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control())
                {
                    return Err(self.err(
                        &l.name.referenced,
                        format!(
                            "an interface name is 1-15 bytes without `/`, `:` or white space (IFNAMSIZ), got `{n}`"
                        ),
                    ));
                }
                Action::LinkUp {
                    name: n.clone(),
                    expect: self.outcome(&l.expect)?,
                }
            }
            RawStep::Bind(b) => {
                let (socket, addr) = self.socket(&b)?;
                Action::Bind {
                    socket,
                    addr,
                    expect: self.outcome(&b.expect)?,
                }
            }
            RawStep::Connect(c) => {
                let (socket, addr) = self.socket(&c)?;
                if socket == SocketKind::Udp {
                    return Err(self.err(
                        &c.address.referenced,
                        "`connect` takes tcp or unix sockets: a udp connect() reaches nobody",
                    ));
                }
                Action::Connect {
                    socket,
                    addr,
                    expect: self.outcome(&c.expect)?,
                }
            }
            RawStep::Cgroup(c) => {
                self.uses_cgroups = true;
                let (target, label) = match &c.pid {
                    None => (Who::Proc(me), "self".to_string()),
                    Some(p) => (self.who(me, p, host)?, p.value.clone()),
                };
                let expect = c.expect.map(|e| e.trim().to_string());
                // Without a cgroup of its own such a path is the host's, which is not recorded.
                if expect
                    .as_ref()
                    .is_some_and(|e| e.starts_with(SCENARIO_CGROUP))
                {
                    self.uses_own_cgroup = true;
                }
                Action::Cgroup {
                    target,
                    label,
                    expect,
                }
            }
            RawStep::CgroupEnter(c) => {
                self.uses_cgroups = true;
                self.uses_own_cgroup = true;
                let p = c.path.value.trim_end_matches('/');
                let parts: Vec<&str> = p.split('/').collect();
                let valid = p == "."
                    || (parts.len() <= MAX_CGROUP_DEPTH
                        && parts.iter().all(|s| {
                            !s.is_empty()
                                && s.len() <= 64
                                && *s != "."
                                && *s != ".."
                                && s.chars()
                                    .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
                                && !s.starts_with("cgroup.")
                        }));
                if !valid {
                    return Err(self.err(
                        &c.path.referenced,
                        format!(
                            "`path` must be `.` or up to {MAX_CGROUP_DEPTH} names of letters, digits, `-`, `_` and `.` separated by `/`, below the scenario's cgroup (no `..`, no leading `/`), got `{}`",
                            c.path.value
                        ),
                    ));
                }
                Action::CgroupEnter {
                    path: p.to_string(),
                    expect: self.outcome(&c.expect)?,
                }
            }
            RawStep::Clock(c) => {
                let shift = match &c.shift {
                    None => 0,
                    Some(s) if s.value.abs() <= MAX_CLOCK_SHIFT => s.value,
                    Some(s) => {
                        return Err(self.err(
                            &s.referenced,
                            format!(
                                "`shift` must be within ±{MAX_CLOCK_SHIFT} seconds (KTIME_SEC_MAX / 2), got {}",
                                s.value
                            ),
                        ));
                    }
                };
                if shift != 0 && c.clock == ClockKind::Realtime {
                    return Err(self.err(
                        &c.shift.as_ref().expect("nonzero").referenced,
                        "time namespaces never shift CLOCK_REALTIME: expect `shift: 0` with `expect: true` (or leave `shift` out)",
                    ));
                }
                Action::Clock {
                    clock: c.clock,
                    shift,
                    expect: c.expect,
                }
            }
            RawStep::MountCgroup(m) => {
                self.uses_cgroups = true;
                Action::MountCgroup {
                    target: self.path("target", &m.target)?,
                    expect: self.outcome(&m.expect)?,
                }
            }
            RawStep::Subdirs(d) => {
                // `<scenario>` names the scenario's own cgroup, which only a run with one has.
                if d.expect.iter().flatten().any(|n| n == SCENARIO_CGROUP) {
                    self.uses_own_cgroup = true;
                }
                Action::Subdirs {
                    path: self.path("path", &d.path)?,
                    expect: d.expect.map(|mut v| {
                        v.sort();
                        v
                    }),
                }
            }
            RawStep::BindMount(b) => {
                self.mount_step.get_or_insert(b.target.referenced);
                Action::BindMount {
                    source: self.path("source", &b.source)?,
                    target: self.path("target", &b.target)?,
                    recursive: b.recursive,
                    expect: self.outcome(&b.expect)?,
                }
            }
            RawStep::Propagation(p) => {
                self.mount_step.get_or_insert(p.target.referenced);
                Action::Propagation {
                    target: self.path("target", &p.target)?,
                    kind: p.kind,
                    recursive: p.recursive,
                    expect: self.outcome(&p.expect)?,
                }
            }
            RawStep::Mounts(m) => {
                // Trailing slashes are trimmed as mountinfo has none (`//` is `/`).
                let under = as_mount_point(&self.path("under", &m.under)?).to_string();
                if !plain_path(&under) {
                    return Err(self.err(
                        &m.under.referenced,
                        format!(
                            "`under` `{}` is not a plain path: it is compared with the mount \
                             points of /proc/self/mountinfo as text, which never hold `.`, `..` or \
                             `//`, so it would match nothing (and `expect: []` pass whatever is \
                             mounted); write `{}`",
                            m.under.value,
                            plain_spelling(&under)
                        ),
                    ));
                }
                let expect = match &m.expect {
                    None => None,
                    Some(list) => {
                        let mut entries = Vec::with_capacity(list.len());
                        for e in list {
                            entries.push(self.mount_entry(&under, e)?);
                        }
                        entries.sort_by(|a, b| mount_point(a).cmp(mount_point(b)));
                        Some(entries)
                    }
                };
                Action::Mounts { under, expect }
            }
            RawStep::Ns(n) => {
                let kind = n.kind.value;
                if n.for_children && !kind.for_children_only() {
                    return Err(self.for_children_err(&n.kind));
                }
                Action::Ns {
                    kind,
                    for_children: n.for_children,
                    expect: n.expect,
                }
            }
            RawStep::NsIoctl(n) => {
                let kind = n.kind.value;
                if n.for_children && !kind.for_children_only() {
                    return Err(self.for_children_err(&n.kind));
                }
                let request = n.request.value;
                // ioctl_ns(2): NS_GET_USERNS and NS_GET_PARENT came with Linux 4.9,
                // NS_GET_NSTYPE and NS_GET_OWNER_UID with 4.11, the PID translations with 6.11;
                // a kernel before them, without a backport, answers ENOTTY and skips.
                self.needs(match request {
                    NsRequest::Parent | NsRequest::Userns => Feature::NsGetUserns,
                    NsRequest::OwnerUid | NsRequest::Nstype => Feature::NsGetNstype,
                    _ => Feature::NsPidTranslation,
                });
                let expect = match &n.expect {
                    None => None,
                    Some(e) => Some(self.ns_ioctl_expect(&n.request, e)?),
                };
                let (target, label) = match &n.pid {
                    None => (Who::Proc(me), "self".to_string()),
                    Some(p) => (self.who(me, p, host)?, p.value.clone()),
                };
                let arg = self.translated(
                    me,
                    host,
                    &n.request,
                    n.arg.as_ref(),
                    target,
                    kind,
                    n.for_children,
                )?;
                Action::NsIoctl {
                    target,
                    label,
                    kind,
                    for_children: n.for_children,
                    request,
                    arg,
                    expect,
                }
            }
        })
    }

    /// The PID a translation request (`request`) of `me` translates, `arg`; None for the other
    /// requests, which take none. On a PID namespace's file (`kind`), the numbers a scenario
    /// names must be of its own PID namespaces — in the harness's, every number is a host PID,
    /// which no scenario can name: the caller's (where `…_IN_PIDNS` takes `arg` and
    /// `…_FROM_PIDNS` answers), and for `…_FROM_PIDNS` the file's, where it takes `arg`. An
    /// answer in the harness's namespace (`…_IN_PIDNS` on a file of it) is recorded as a host
    /// PID, by label. Other kinds answer EINVAL before looking at any number.
    #[allow(clippy::too_many_arguments)]
    fn translated(
        &self,
        me: usize,
        host: Option<usize>,
        request: &Spanned<NsRequest>,
        arg: Option<&Spanned<i64>>,
        target: Who,
        kind: NsKind,
        for_children: bool,
    ) -> Result<Option<i32>, ScenarioError> {
        let name = request.value.name();
        let Some(arg) = arg else {
            if request.value.translates() {
                return Err(self.err(
                    &request.referenced,
                    format!(
                        "`{name}` translates a PID: give it as `arg` (as the caller's PID \
                         namespace numbers it for `…_IN_PIDNS`, as the file's does for \
                         `…_FROM_PIDNS`)"
                    ),
                ));
            }
            return Ok(None);
        };
        if !request.value.translates() {
            return Err(self.err(
                &arg.referenced,
                format!(
                    "`arg` belongs to the PID translations (`NS_GET_PID_IN_PIDNS` and the like); \
                     `{name}` takes none"
                ),
            ));
        }
        // 0 names no task: ESRCH, as for a number nobody has.
        if !(0..=PID_MAX_LIMIT).contains(&arg.value) {
            return Err(self.err(
                &arg.referenced,
                format!("`arg` is a PID, 0-{PID_MAX_LIMIT}, got {}", arg.value),
            ));
        }
        if kind != NsKind::Pid {
            return Ok(Some(arg.value as i32));
        }
        self.in_scenario_pidns(
            me,
            host,
            &request.referenced,
            &format!("`{name}`"),
            ", where its PIDs are the host's",
        )?;
        let from = matches!(
            request.value,
            NsRequest::PidFromPidns | NsRequest::TgidFromPidns
        );
        let outside = match target {
            Who::Supervisor => Some("the harness's supervisor".to_string()),
            Who::Proc(t) if self.procs[t].pidns.len() < 2 => {
                Some(format!("`{}`", self.procs[t].name))
            }
            Who::Proc(_) => None,
        };
        if let Some(whose) = outside.filter(|_| from) {
            let file = if for_children {
                format!(
                    "the pid_for_children of {whose}, which validation cannot tell apart from \
                     the harness's PID namespace ({whose} is in it)"
                )
            } else {
                format!("the PID namespace of {whose}, the harness's")
            };
            return Err(self.err(
                &request.referenced,
                format!(
                    "`{name}` takes `arg` as the file's PID namespace numbers it, and this is \
                     {file}, whose numbers are host PIDs no scenario can name: open the file of \
                     a process inside a PID namespace of the scenario (`pid: NAME`, or the \
                     caller's own)"
                ),
            ));
        }
        Ok(Some(arg.value as i32))
    }

    fn for_children_err(&self, kind: &Spanned<NsKind>) -> ScenarioError {
        self.err(
            &kind.referenced,
            format!(
                "`for_children` exists only for pid and time namespaces (/proc/self/ns/pid_for_children, time_for_children), not {}",
                kind.value.name()
            ),
        )
    }

    /// An `ns_ioctl` expectation, in the form its request answers in: a namespace for the
    /// requests that return a descriptor, a uid, a type; an errno for any of them.
    fn ns_ioctl_expect(
        &self,
        request: &Spanned<NsRequest>,
        e: &RawNsIoctlExpect,
    ) -> Result<NsIoctlExpect, ScenarioError> {
        let got = match e {
            RawNsIoctlExpect::Errno(name) => return Ok(NsIoctlExpect::Errno(self.errno(name)?)),
            RawNsIoctlExpect::Harness => NsIoctlExpect::Harness,
            RawNsIoctlExpect::New => NsIoctlExpect::New,
            RawNsIoctlExpect::Uid(u) => {
                if !(0..=MAX_UID).contains(&u.value) {
                    return Err(self.err(
                        &u.referenced,
                        format!("a uid is 0-{MAX_UID}, got {}", u.value),
                    ));
                }
                NsIoctlExpect::Uid(u.value as u32)
            }
            RawNsIoctlExpect::Nstype(k) => NsIoctlExpect::Nstype(k.value),
            RawNsIoctlExpect::Pid(p) => {
                if !(1..=PID_MAX_LIMIT).contains(&p.value) {
                    return Err(self.err(
                        &p.referenced,
                        format!("a PID is 1-{PID_MAX_LIMIT}, got {}", p.value),
                    ));
                }
                NsIoctlExpect::Pid(p.value as i32)
            }
        };
        let fits = match request.value {
            NsRequest::Parent | NsRequest::Userns => {
                matches!(got, NsIoctlExpect::Harness | NsIoctlExpect::New)
            }
            NsRequest::OwnerUid => matches!(got, NsIoctlExpect::Uid(_)),
            NsRequest::Nstype => matches!(got, NsIoctlExpect::Nstype(_)),
            _ => matches!(got, NsIoctlExpect::Pid(_)),
        };
        if fits {
            return Ok(got);
        }
        let form = match request.value {
            NsRequest::Parent | NsRequest::Userns => "a namespace: expect `harness` or `new`",
            NsRequest::OwnerUid => "a uid: expect `{ uid: N }`",
            NsRequest::Nstype => "a namespace type: expect `{ nstype: KIND }`",
            _ => "a PID: expect `{ pid: N }`",
        };
        // Located at the request: a bare `harness` or `new` carries no position of its own.
        Err(self.err(
            &request.referenced,
            format!(
                "{} answers with {form} (or `{{ errno: NAME }}`)",
                request.value.name()
            ),
        ))
    }

    /// Validates a socket address: tcp and udp only on loopback (127.0.0.0/8), unix only
    /// abstract, so no scenario can reach anything outside its own network namespace's `lo`.
    fn socket(&self, a: &SocketArgs) -> Result<(SocketKind, SockAddr), ScenarioError> {
        let text = &a.address.value;
        let addr = match a.socket {
            SocketKind::Tcp | SocketKind::Udp => text
                .parse::<std::net::SocketAddrV4>()
                .ok()
                .filter(|s| s.ip().is_loopback() && s.port() != 0)
                .map(|s| SockAddr::Inet(*s.ip(), s.port())),
            SocketKind::Unix => text
                .strip_prefix('@')
                .filter(|n| !n.is_empty() && n.len() <= 107 && !n.contains('\0'))
                .map(|n| SockAddr::Abstract(n.to_string())),
        };
        match addr {
            Some(addr) => Ok((a.socket, addr)),
            None => Err(self.err(
                &a.address.referenced,
                match a.socket {
                    SocketKind::Unix => format!(
                        "a unix socket address must be abstract, `@` then 1-107 bytes, got `{text}`"
                    ),
                    _ => format!(
                        "a tcp or udp address must be a loopback address with a port, like `127.0.0.1:4242` (scenarios never use other addresses), got `{text}`"
                    ),
                },
            )),
        }
    }

    /// The directories a `mount_tmpfs` step makes: single names, each once, at most
    /// [`MAX_TMPFS_DIRS`] of them.
    fn tmpfs_dirs(&self, list: &[Spanned<String>]) -> Result<Vec<String>, ScenarioError> {
        if list.len() > MAX_TMPFS_DIRS {
            return Err(self.err(
                &list[MAX_TMPFS_DIRS].referenced,
                format!("at most {MAX_TMPFS_DIRS} `dirs` per tmpfs"),
            ));
        }
        let mut dirs: Vec<String> = Vec::new();
        for d in list {
            // One name, made in the fresh tmpfs itself: nothing else can be reached.
            let v = &d.value;
            if v.len() > MAX_NAME_BYTES {
                return Err(self.err(
                    &d.referenced,
                    format!(
                        "a tmpfs `dirs` entry is longer than {MAX_NAME_BYTES} bytes (NAME_MAX)"
                    ),
                ));
            }
            if v.contains('\0') {
                return Err(self.err(
                    &d.referenced,
                    "a tmpfs `dirs` entry holds a NUL character, which no name can contain",
                ));
            }
            if v.is_empty() || v == "." || v == ".." || v.contains('/') {
                return Err(self.err(
                    &d.referenced,
                    format!(
                        "a tmpfs `dirs` entry must be a single directory name (no `/`, not `.` \
                         or `..`), got `{v}`"
                    ),
                ));
            }
            if dirs.contains(v) {
                return Err(self.err(&d.referenced, format!("`{v}` is listed twice in `dirs`")));
            }
            dirs.push(v.clone());
        }
        Ok(dirs)
    }

    fn path(&self, field: &str, p: &Spanned<String>) -> Result<String, ScenarioError> {
        let v = &p.value;
        let why = if !v.starts_with('/') {
            format!("`{field}` must be an absolute path, got `{v}`")
        } else if v.contains('\0') {
            // The kernel takes paths as C strings: the NUL would cut it short.
            format!("`{field}` holds a NUL character, which no path can contain")
        } else if v.len() > PATH_MAX {
            // PATH_MAX counts the NUL: 4096 bytes is allowed, for a step that expects the
            // kernel's ENAMETOOLONG.
            format!(
                "`{field}` is {} bytes long; a path is at most {PATH_MAX} bytes here (PATH_MAX, \
                 which counts the terminating NUL: the kernel takes {} and answers ENAMETOOLONG \
                 above)",
                v.len(),
                PATH_MAX - 1
            )
        } else {
            return Ok(v.clone());
        };
        Err(self.err(&p.referenced, why))
    }

    /// One expected entry of a `mounts` step: `POINT FSTYPE PROPAGATION`, POINT at or below
    /// `under`.
    fn mount_entry(&self, under: &str, e: &Spanned<String>) -> Result<String, ScenarioError> {
        let folded = fold_space(&e.value);
        let fields: Vec<&str> = folded.split(' ').collect();
        let bad = |why: String| {
            Err(self.err(
                &e.referenced,
                format!(
                    "a `mounts` entry is `POINT FSTYPE PROPAGATION` (such as `/proc/sys tmpfs \
                     shared`), got `{}`: {why}",
                    e.value
                ),
            ))
        };
        let [point, fstype, propagation] = fields[..] else {
            let hint = if fields.len() > 3 {
                " (a space in POINT is written `\\040`, as /proc/self/mountinfo and the record \
                 write it)"
            } else {
                ""
            };
            return bad(format!("{} fields instead of 3{hint}", fields.len()));
        };
        // POINT is written as mountinfo and the record write it, its white space and
        // backslashes escaped in octal; compared as the path it names.
        let decoded = unescape_mount_path(point);
        if decoded.contains('\0') {
            return bad(
                "a mount point holds no NUL character (in a double-quoted YAML string `\\0` is \
                 one: write `\\040` in a plain or single-quoted string)"
                    .into(),
            );
        }
        let point = as_mount_point(&decoded);
        if !plain_path(point) {
            return bad(format!(
                "`{}` is not a plain path, as mountinfo writes mount points (no `.`, `..` or \
                 `//`): write `{}`",
                escape_mount_path(point),
                escape_mount_path(&plain_spelling(point))
            ));
        }
        if !under_mount(point, under) {
            return bad(format!("`{point}` is not `{under}` or below it"));
        }
        let point = escape_mount_path(point);
        if !PROPAGATIONS.contains(&propagation) {
            return bad(format!(
                "the propagation must be one of {}",
                PROPAGATIONS.join(", ")
            ));
        }
        Ok(format!("{point} {fstype} {propagation}"))
    }

    fn is_descendant(&self, t: usize, ancestor: usize) -> bool {
        let mut cur = self.procs[t].parent;
        while let Some(p) = cur {
            if p == ancestor {
                return true;
            }
            cur = self.procs[p].parent;
        }
        false
    }

    /// `host`: the host process, where it has steps of its own (nsspec waits for it to end).
    fn check_events(&self, host: Option<usize>) -> Result<Vec<EventPlan>, ScenarioError> {
        let mut out = Vec::new();
        for (name, notifies, awaits) in &self.events {
            if notifies.is_empty() {
                return Err(self.err(
                    &awaits[0].0,
                    format!("event `{name}` is awaited but no step notifies it"),
                ));
            }
            if notifies.len() > 1 {
                return Err(self.err(
                    &notifies[1].0,
                    format!("event `{name}` is notified more than once"),
                ));
            }
            if awaits.is_empty() {
                return Err(self.err(
                    &notifies[0].0,
                    format!("event `{name}` is notified but no step awaits it"),
                ));
            }
            out.push(EventPlan {
                name: name.clone(),
                waiters: awaits.len(),
                notifier: notifies[0].1,
            });
        }
        self.check_await_cycles()?;
        self.check_wait_deadlocks(host)?;
        Ok(out)
    }

    /// Refuses `wait`s that cannot return: a `wait` for a child that cannot end before the
    /// `wait` returns (it awaits an event notified after the `wait`, or waits itself for
    /// something that needs the first `wait` to return). Scenarios with a step that sends a
    /// signal are let through: the child could be killed instead of ending.
    ///
    /// What may happen is computed as a least fixed point, so that whatever is refused cannot
    /// happen in any run: a step may start once the step before it may return (an `await`
    /// once the `notify` of its event may start, a `wait` for a child once the child may end,
    /// anything else at once) or, for a process's first step, once the step creating it may
    /// start; a process may end once its end or a `crash` may come, or the first process of
    /// one of its PID namespaces may end, init's included (and where init is in the harness's
    /// PID namespace, init's end is counted for every process: more ways to end can only let
    /// more through).
    ///
    /// Then the same once more with `pause` returning only where a signal step may have run
    /// (a `pause` blocks until a signal ends its process): refused are a `wait` for a child
    /// held up so, and the host process (`host`, which has steps: nsspec waits for it to end)
    /// held up so while init may end. Where init itself cannot end, the scenario is a
    /// deliberate hang, as those that test the time limit are (harness/tests/faults/hang.yaml).
    fn check_wait_deadlocks(&self, host: Option<usize>) -> Result<(), ScenarioError> {
        let steps = || self.procs.iter().flat_map(|p| &p.steps);
        let pauses = steps().any(|s| matches!(s.action, Action::Pause));
        // A pausing host process is held up even where nothing `wait`s.
        let host_pauses = pauses && host.is_some();
        if !(host_pauses || steps().any(|s| matches!(s.action, Action::Wait { .. }))) {
            return Ok(());
        }
        // The steps that send a signal (not 0, which sends nothing): once one of them may have
        // run, any `wait` or `await` may return and so every process may end, as which process
        // a signal reaches is not worked out. One that cannot start before the deadlock changes
        // nothing. (A `set_pdeathsig` arms its own process only: see `ends` below.)
        let signal_steps: Vec<(usize, usize)> = self
            .procs
            .iter()
            .enumerate()
            .flat_map(|(p, proc)| {
                proc.steps
                    .iter()
                    .enumerate()
                    .filter_map(move |(i, s)| s.action.sent_signal().map(|_| (p, i)))
            })
            .collect();
        // The child each step waits for until it ends: a `wait` blocks only for a child that
        // exists, one its process forked or entered (expecting success) before it (an entered
        // process is made a child of the `enter`ing one, CLONE_PARENT). (A second `wait` for
        // it comes only after the first returned, once the child has ended, and returns at
        // once too.)
        let waited: Vec<Vec<Option<usize>>> = self
            .procs
            .iter()
            .map(|proc| {
                let mut forked = BTreeSet::new();
                proc.steps
                    .iter()
                    .map(|s| match s.action {
                        Action::Fork {
                            child,
                            expect: Outcome::Ok,
                            ..
                        }
                        | Action::Enter {
                            child,
                            expect: Outcome::Ok,
                            ..
                        } => {
                            forked.insert(child);
                            None
                        }
                        Action::Wait { target, .. } => forked.contains(&target).then_some(target),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        let waits_for_child = |p: usize, i: usize| waited[p][i];
        let waits = waited.iter().flatten().any(Option::is_some);
        if !(waits || host_pauses) {
            return Ok(());
        }
        let (first, nodes) = self.step_nodes();
        let node = |p: usize, i: usize| first[p] + i;
        let notify_at = self.notify_steps();
        let mut created_by = vec![None; self.procs.len()];
        for (p, proc) in self.procs.iter().enumerate() {
            for (i, s) in proc.steps.iter().enumerate() {
                if let Action::Fork { child, .. } | Action::Enter { child, .. } = s.action {
                    created_by[child] = Some((p, i));
                }
            }
        }
        // The first process of each PID namespace of the scenario below init's: a process
        // forked into a namespace its creator is not in (the first `fork` after an `unshare`,
        // or one with `namespaces: [pid]`), the first the creator forked there. (An `enter`ed
        // process joins a namespace that has its first process already, which may be numbered
        // after it, so the numbering alone does not tell.)
        let mut ns_first: BTreeMap<u32, usize> = BTreeMap::new();
        for (c, proc) in self.procs.iter().enumerate() {
            let (Some(&ns), Some(parent), Some((q, j))) =
                (proc.pidns.last(), proc.parent, created_by[c])
            else {
                continue;
            };
            if matches!(self.procs[q].steps[j].action, Action::Fork { .. })
                && !self.procs[parent].pidns.contains(&ns)
            {
                ns_first.entry(ns).or_insert(c);
            }
        }
        // The processes whose end may end each one: the first process of each PID namespace
        // it is in, and the scenario's init.
        let killers: Vec<Vec<usize>> = (0..self.procs.len())
            .map(|c| {
                let mut out: Vec<usize> = self.procs[c]
                    .pidns
                    .iter()
                    .filter_map(|ns| ns_first.get(ns).copied())
                    .filter(|&q| q != c)
                    .collect();
                // Init's end kills every process of its PID namespace and those below
                // (pid_namespaces(7)); the rest (the host process's tree, and everything where
                // init is in the harness's namespace) nsspec leaves to end by itself.
                let init_ns = &self.procs[0].pidns;
                if c != 0 && init_ns.len() >= 2 && self.procs[c].pidns.starts_with(init_ns) {
                    out.push(0);
                }
                out
            })
            .collect();
        let signalled = |started: &[bool]| signal_steps.iter().any(|&(q, j)| started[node(q, j)]);
        let returns =
            |p: usize, i: usize, started: &[bool], ended: &[bool], pause_blocks: bool| -> bool {
                if signalled(started) {
                    return true;
                }
                match self.procs[p].steps[i].action {
                    Action::Await { event } => {
                        let (n, j) = notify_at[event];
                        started[node(n, j)]
                    }
                    Action::Pause => !pause_blocks,
                    _ => waits_for_child(p, i).is_none_or(|c| ended[c]),
                }
            };
        // What may start and which processes may end: the least fixed point.
        let solve = |pause_blocks: bool| -> (Vec<bool>, Vec<bool>) {
            let mut started = vec![false; nodes];
            let mut ended = vec![false; self.procs.len()];
            loop {
                let mut changed = false;
                for (p, proc) in self.procs.iter().enumerate() {
                    let begins = match created_by[p] {
                        None => proc.parent.is_none(),
                        Some((q, j)) => started[node(q, j)],
                    };
                    let mut now = begins;
                    for i in 0..=proc.steps.len() {
                        if !now {
                            break;
                        }
                        if !started[node(p, i)] {
                            started[node(p, i)] = true;
                            changed = true;
                        }
                        now = i < proc.steps.len() && returns(p, i, &started, &ended, pause_blocks);
                    }
                    // A process that armed its parent-death signal may get it whenever its parent
                    // (or the thread that forked it, or whoever adopts it) ends: which, and whether
                    // the signal ends it, is not worked out.
                    let ends = started[node(p, proc.steps.len())]
                        || proc.steps.iter().enumerate().any(|(i, s)| {
                            matches!(s.action, Action::Crash { .. } | Action::SetPdeathsig { .. })
                                && started[node(p, i)]
                        })
                        || killers[p].iter().any(|&q| ended[q]);
                    if ends && !ended[p] {
                        ended[p] = true;
                        changed = true;
                    }
                }
                if !changed {
                    break;
                }
            }
            (started, ended)
        };
        let (started, ended) = solve(false);
        // A step that may start but cannot return holds its process up; what holds up each one
        // is another, so following them from any comes round to a cycle.
        let stuck =
            |p: usize, i: usize| started[node(p, i)] && !returns(p, i, &started, &ended, false);
        let first_stuck = self
            .procs
            .iter()
            .enumerate()
            .find_map(|(p, proc)| (0..proc.steps.len()).find(|&i| stuck(p, i)).map(|i| (p, i)));
        // The stuck step that keeps a step or end of process `p` (step `i`, or `len` for its
        // end) from coming: the last one that may start before it, or its creator's.
        let holding = |started: &[bool], mut p: usize, mut i: usize| -> (usize, usize) {
            loop {
                if let Some(j) = (0..i).rev().find(|&j| started[node(p, j)]) {
                    return (p, j);
                }
                (p, i) = created_by[p].expect("a process that never starts has a creator");
            }
        };
        // What holds up a stuck step; `None` for a `pause`, which nothing but a signal ends.
        let blocker = |started: &[bool], (p, i): (usize, usize)| match self.procs[p].steps[i].action
        {
            Action::Await { event } => {
                let (n, j) = notify_at[event];
                Some(holding(started, n, j))
            }
            Action::Pause => None,
            _ => {
                let c = waits_for_child(p, i).expect("a stuck step is an `await` or a `wait`");
                Some(holding(started, c, self.procs[c].steps.len()))
            }
        };
        if let Some(mut at) = first_stuck.filter(|_| waits) {
            let mut seen = Vec::new();
            while !seen.contains(&at) {
                seen.push(at);
                at = blocker(&started, at).expect("no `pause` blocks here");
            }
            let cycle: Vec<(usize, usize)> =
                seen[seen.iter().position(|&s| s == at).unwrap()..].to_vec();
            // Told from the one written first.
            let (start, _) = cycle
                .iter()
                .enumerate()
                .min_by_key(|&(_, &(p, i))| (self.procs[p].steps[i].line, p, i))
                .unwrap();
            let (at, mut message) =
                self.deadlock_chain(&cycle, start, &notify_at, waits_for_child, true);
            message += ": none of them can return (a deadlock; no step that sends a signal, which \
                        could end a process instead, can run before them), and the scenario would \
                        wait until its time limit";
            return Err(self.err(&at, message));
        }
        if !pauses {
            return Ok(());
        }
        let (started, ended) = solve(true);
        // The chain of stuck steps from `at` to the `pause` that holds them all up, if it ends
        // in one (not in a cycle: a wait for a process that a `pause` keeps from ending, say).
        let to_pause = |mut at: (usize, usize)| -> Option<Vec<(usize, usize)>> {
            let mut path = vec![at];
            while let Some(next) = blocker(&started, at) {
                if path.contains(&next) {
                    return None;
                }
                path.push(next);
                at = next;
            }
            Some(path)
        };
        let tail = |what: &str| {
            format!(
                ": a `pause` returns only when a signal ends its process, and no step that sends \
                 one (`kill`, `pidfd_signal`) can run before it, nor can a process whose end \
                 would end it (the init of its PID namespace) end first, so the scenario would \
                 wait until its time limit; {what}, or leave the `pause` out"
            )
        };
        // A `wait` for a child that can never end, the one written first.
        let stuck_wait = self
            .procs
            .iter()
            .enumerate()
            .flat_map(|(p, proc)| (0..proc.steps.len()).map(move |i| (p, i)))
            .filter(|&(p, i)| {
                waits_for_child(p, i).is_some()
                    && started[node(p, i)]
                    && !returns(p, i, &started, &ended, true)
            })
            .filter_map(to_pause)
            .min_by_key(|path| {
                let (p, i) = path[0];
                (self.procs[p].steps[i].line, p, i)
            });
        if let Some(path) = stuck_wait {
            let (at, mut message) =
                self.deadlock_chain(&path, 0, &notify_at, waits_for_child, false);
            let (p, i) = path[0];
            let child = &self.procs[waits_for_child(p, i).expect("a `wait`")].name;
            message += &tail(&format!(
                "send `{child}` a signal from a step that runs first (`kill: {{ pid: {child}, \
                 signal: KILL }}` before the `wait`)"
            ));
            return Err(self.err(&at, message));
        }
        // The host process, with steps, which nsspec waits for, where init can end: what holds
        // up its end.
        if let Some(h) = host
            && ended[0]
            && !ended[h]
            && let Some(path) = to_pause(holding(&started, h, self.procs[h].steps.len()))
        {
            let (at, message) = self.deadlock_chain(&path, 0, &notify_at, waits_for_child, false);
            return Err(self.err(
                &at,
                format!(
                    "{message}, so the host process never ends, and nsspec waits for a host \
                     process with steps to end (one without steps is killed once init has \
                     ended){}",
                    tail(
                        "`kill` it from a step that runs in a process that sees it (`kill: { \
                         pid: host, signal: KILL }`; init sees it only without a PID namespace \
                         of its own)"
                    )
                ),
            ));
        }
        Ok(())
    }

    /// Refuses `await`s that wait for each other: each released by a `notify` that runs only
    /// after another of them returns. Whatever else happens (a process killed, a step failing),
    /// none of them can return, and no step after them runs.
    ///
    /// The graph's nodes are the starts of the steps (and each process's end, after its last
    /// step); an edge means "cannot start before that has started": a process's previous step
    /// (it returned), the step that created the process, and for the step after an `await`
    /// also the `notify` of its event. Only what must come first is an edge (a `wait` is not
    /// one: the child may be killed instead of ending), so a cycle is a certain deadlock.
    fn check_await_cycles(&self) -> Result<(), ScenarioError> {
        // Most scenarios have no events: their runs need not touch this code (BENCHMARKS.md).
        if self.events.is_empty() {
            return Ok(());
        }
        let (first, nodes) = self.step_nodes();
        let notify_at = self.notify_steps();
        // Edges, each with the `await` (process, step) it passes when it is a release by a
        // `notify`.
        type Edge = (usize, Option<(usize, usize)>);
        let mut next: Vec<Vec<Edge>> = vec![Vec::new(); nodes];
        for (p, proc) in self.procs.iter().enumerate() {
            for (i, s) in proc.steps.iter().enumerate() {
                let at = first[p] + i;
                next[at].push((at + 1, None));
                match s.action {
                    Action::Fork { child, .. } | Action::Enter { child, .. } => {
                        next[at].push((first[child], None));
                    }
                    Action::Await { event } => {
                        let (n, j) = notify_at[event];
                        next[first[n] + j].push((at + 1, Some((p, i))));
                    }
                    _ => {}
                }
            }
        }
        let Some(cycle) = find_cycle(&next) else {
            return Ok(());
        };
        // The `await`s on the cycle, each held up by the one after it (its event is notified
        // only after that one returns): the search's order reversed.
        let mut waits: Vec<(usize, usize)> = cycle.into_iter().flatten().collect();
        waits.reverse();
        let located: Vec<(Location, usize, usize)> = waits
            .iter()
            .map(|&(p, i)| (self.await_location(p, i), p, i))
            .collect();
        let start = (0..located.len())
            .min_by_key(|&k| (located[k].0.line(), located[k].0.column()))
            .expect("a cycle passes an `await`");
        let event_of = |p: usize, i: usize| match self.procs[p].steps[i].action {
            Action::Await { event } => event,
            _ => unreachable!("a release edge passes an `await`"),
        };
        let (at, p0, i0) = located[start];
        let e0 = event_of(p0, i0);
        if located.len() == 1 {
            // Its own later `notify` (a process runs its steps, a thread's among them, one after
            // another), or one of a process it creates later.
            let (notifier, j) = notify_at[e0];
            let whose = if notifier == p0 {
                "its own `notify` of it".to_string()
            } else {
                format!(
                    "the `notify` of `{}`, a process it creates later,",
                    self.procs[notifier].name
                )
            };
            return Err(self.err(
                &at,
                format!(
                    "`{}` awaits event `{}` before {whose} on line {}, which it would never \
                     reach: notify first, or let another process notify it",
                    self.procs[p0].name, self.events[e0].0, self.procs[notifier].steps[j].line
                ),
            ));
        }
        let (at, mut message) = self.deadlock_chain(&waits, start, &notify_at, |_, _| None, true);
        message += ": none of these `await`s can return (a deadlock), so no step after them \
                    would run; notify before awaiting in one of the processes";
        Err(self.err(&at, message))
    }

    /// Numbers for the start of every step of every process and for each process's end (after
    /// its last step), for the deadlock checks' graphs: the number of each process's first
    /// step, and how many there are.
    fn step_nodes(&self) -> (Vec<usize>, usize) {
        let mut first = Vec::with_capacity(self.procs.len());
        let mut nodes = 0;
        for p in &self.procs {
            first.push(nodes);
            nodes += p.steps.len() + 1;
        }
        (first, nodes)
    }

    /// The process and step index of each event's `notify` (validation has made sure each
    /// has exactly one).
    fn notify_steps(&self) -> Vec<(usize, usize)> {
        let mut at = vec![(0, 0); self.events.len()];
        for (p, proc) in self.procs.iter().enumerate() {
            for (i, s) in proc.steps.iter().enumerate() {
                if let Action::Notify { event } = s.action {
                    at[event] = (p, i);
                }
            }
        }
        at
    }

    /// A deadlock's chain, told from `cycle[start]` (where the error is located): `cycle`
    /// lists the stuck `await`s and `wait`s (process, step), each held up by the next and the
    /// last by the first. `notified`: each event's `notify` ([`Self::notify_steps`]);
    /// `waited`: the child a stuck `wait` waits for. Not `cyclic`: a path from `cycle[start]`
    /// to a `pause` at its end, which nothing holds up but the lack of a signal.
    fn deadlock_chain(
        &self,
        cycle: &[(usize, usize)],
        start: usize,
        notified: &[(usize, usize)],
        waited: impl Fn(usize, usize) -> Option<usize>,
        cyclic: bool,
    ) -> (Location, String) {
        let child =
            |p: usize, i: usize| waited(p, i).expect("a stuck step is an `await` or a `wait`");
        let (p0, i0) = cycle[start];
        let (at, mut message) = match self.procs[p0].steps[i0].action {
            Action::Await { event } => (
                self.await_location(p0, i0),
                format!(
                    "`{}` awaits event `{}` here",
                    self.procs[p0].name, self.events[event].0
                ),
            ),
            Action::Pause => (
                self.pause_at[&(p0, i0)],
                format!("`{}` stays in its `pause` here", self.procs[p0].name),
            ),
            _ => (
                self.wait_at[&(p0, i0)],
                format!(
                    "`{}` waits for `{}` here",
                    self.procs[p0].name,
                    self.procs[child(p0, i0)].name
                ),
            ),
        };
        let links = if cyclic { cycle.len() } else { cycle.len() - 1 };
        for k in 0..links {
            let (p, i) = cycle[(start + k) % cycle.len()];
            let (q, j) = cycle[(start + k + 1) % cycle.len()];
            // What step `i` of `p` needs, and whose step holds that up.
            let (connector, owner) = match self.procs[p].steps[i].action {
                Action::Await { event } => {
                    let (n, l) = notified[event];
                    let line = self.procs[n].steps[l].line;
                    let name = &self.procs[n].name;
                    (
                        format!(", which `{name}` notifies on line {line} only after"),
                        n,
                    )
                }
                _ => {
                    let c = child(p, i);
                    (format!(", and `{}` ends only after", self.procs[c].name), c)
                }
            };
            let what = match self.procs[q].steps[j].action {
                Action::Await { .. } if (q, j) == (p0, i0) => "this `await`".to_string(),
                _ if (q, j) == (p0, i0) => "this `wait`".to_string(),
                ref action => {
                    let whose = if q == owner {
                        "its".to_string()
                    } else {
                        format!("`{}`'s", self.procs[q].name)
                    };
                    let step = match action {
                        Action::Await { event } => {
                            format!("`await` of `{}`", self.events[*event].0)
                        }
                        Action::Pause => "`pause`".to_string(),
                        _ => format!("`wait` for `{}`", self.procs[child(q, j)].name),
                    };
                    format!("{whose} {step} on line {}", self.procs[q].steps[j].line)
                }
            };
            message += &format!("{connector} {what} returns");
        }
        (at, message)
    }

    /// Where the `await` that is step `i` of process `p` names its event: the mentions of an
    /// event are recorded process by process, in step order.
    fn await_location(&self, p: usize, i: usize) -> Location {
        let steps = &self.procs[p].steps;
        let Action::Await { event } = steps[i].action else {
            unreachable!("called for an `await`")
        };
        let nth = steps[..i]
            .iter()
            .filter(|s| matches!(s.action, Action::Await { event: e } if e == event))
            .count();
        self.events[event]
            .2
            .iter()
            .filter(|(_, q)| *q == p)
            .nth(nth)
            .expect("every `await` is a mention")
            .0
    }
}

/// A cycle of the graph `next` (each node's successors, with a label per edge), as the labels
/// of its edges in order, or `None` for a graph without one. Iterative: a scenario's graph has
/// up to a few thousand nodes, and a recursive search could run out of stack.
fn find_cycle<L: Copy>(next: &[Vec<(usize, L)>]) -> Option<Vec<L>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut mark = vec![Mark::New; next.len()];
    for root in 0..next.len() {
        if mark[root] != Mark::New {
            continue;
        }
        // The path from `root`: each node, the next of its edges to follow, and the label of
        // the edge that led to it.
        let mut path: Vec<(usize, usize, Option<L>)> = vec![(root, 0, None)];
        mark[root] = Mark::OnPath;
        while let Some(&mut (node, ref mut edge, _)) = path.last_mut() {
            let Some(&(to, label)) = next[node].get(*edge) else {
                mark[node] = Mark::Done;
                path.pop();
                continue;
            };
            *edge += 1;
            match mark[to] {
                Mark::New => {
                    mark[to] = Mark::OnPath;
                    path.push((to, 0, Some(label)));
                }
                Mark::OnPath => {
                    let from = path
                        .iter()
                        .position(|&(n, _, _)| n == to)
                        .expect("on the path");
                    let mut labels: Vec<L> =
                        path[from + 1..].iter().filter_map(|&(_, _, l)| l).collect();
                    labels.push(label);
                    return Some(labels);
                }
                Mark::Done => {}
            }
        }
    }
    None
}

/// Where a `write` step may write, so that no scenario changes the host (`write` is meant for
/// a process's own /proc files and for namespaced sysctls). `Ok(Some(kind))`: a sysctl of
/// `kind`'s namespace, refused at run time when the writer is in the harness's namespace of
/// that kind (the host's). UTS and IPC sysctls are always contained: the supervisor has
/// private UTS and IPC namespaces.
/// kernel.pid_max, which belongs to the PID namespace from Linux 6.14 on (commit 7863dcc72d0f)
/// and is a sysctl of the whole host before it: writable only by scenarios that require 6.14,
/// and refused at run time on an older kernel as well.
pub(crate) const PID_MAX: &str = "/proc/sys/kernel/pid_max";
pub(crate) const PER_NS_PID_MAX: (u32, u32) = (6, 14);

/// Each procfs mount is an instance of its own, with its own options, from Linux 5.8 (Alexey
/// Gladkov's series "proc: modernize proc to support multiple private instances", which also
/// added `subset=pid` and the named `hidepid` values; proc(5)); before, the options of any
/// mount applied to every /proc of the PID namespace.
pub(crate) const PER_INSTANCE_PROC_OPTIONS: (u32, u32) = (5, 8);

/// The procfs options `mount_proc` takes (proc(5)).
pub const PROC_OPTIONS: &[&str] = &[
    "subset=pid",
    "hidepid=0",
    "hidepid=1",
    "hidepid=2",
    "hidepid=off",
    "hidepid=noaccess",
    "hidepid=invisible",
    "hidepid=ptraceable",
];

/// The files of another process's /proc/PID a `read` with `pid` may read: those that say how
/// its namespaces are set up, whose content depends on the reader (a map's outside ids are
/// shown relative to the reader's user namespace) but holds no PIDs, nor anything that differs
/// between hosts (`comm` of init is the binary's file name).
pub const READ_OF_FILES: &[&str] = &[
    "uid_map",
    "gid_map",
    "projid_map",
    "setgroups",
    "timens_offsets",
];

/// The /proc/self files a `write` may change: the user and time namespace set-up, and a few
/// whose effect stays with the writing process.
const OWN_PROC_FILES: &[&str] = &[
    "uid_map",
    "gid_map",
    "projid_map",
    "setgroups",
    "timens_offsets",
    "comm",
    "oom_score_adj",
];

pub(crate) fn write_guard(path: &str) -> Result<Option<NsKind>, String> {
    let refuse = |why: &str| {
        Err(format!(
            "`write` to `{path}` {why}: it may write the process's own /proc/self/FILE \
             ({}) and namespaced sysctls \
             (/proc/sys/net/…, /proc/sys/user/…, kernel.hostname, kernel.domainname, \
             kernel.ns_last_pid, kernel.pid_max from Linux 6.14, the IPC limits kernel.msg*/sem/shm*, /proc/sys/fs/mqueue/…)",
            OWN_PROC_FILES.join(", ")
        ))
    };
    if !plain_path(path) {
        return refuse("is not a plain path");
    }
    for own in ["/proc/self/", "/proc/thread-self/"] {
        if let Some(file) = path.strip_prefix(own) {
            // One component: /proc/self/cwd/… or /proc/self/root/… would reach the host's
            // files through a symbolic link. And only files whose effect stays with the
            // process: /proc/self/autogroup, for one, sets the nice value of the whole session,
            // nsspec's caller's shell included.
            return if OWN_PROC_FILES.contains(&file) {
                Ok(None)
            } else if !file.is_empty() && !file.contains('/') {
                refuse("is not among the /proc/self files whose effect stays with the process")
            } else {
                refuse("reaches beyond the process's own /proc files")
            };
        }
    }
    let Some(sysctl) = path.strip_prefix("/proc/sys/") else {
        return refuse("could change the host");
    };
    const IPC: &[&str] = &[
        "kernel/msgmax",
        "kernel/msgmnb",
        "kernel/msgmni",
        "kernel/msg_next_id",
        "kernel/sem",
        "kernel/sem_next_id",
        "kernel/shmall",
        "kernel/shmmax",
        "kernel/shmmni",
        "kernel/shm_next_id",
        "kernel/shm_rmid_forced",
    ];
    if sysctl == "net/netfilter/nf_hooks_lwtunnel" {
        // Shown in every network namespace, but a switch of the whole kernel (a static key
        // that, once on, cannot be turned off: nf_hooks_lwtunnel_sysctl_handler()).
        refuse("is a switch of the whole kernel, though every network namespace shows it")
    } else if sysctl.starts_with("net/") {
        Ok(Some(NsKind::Net))
    } else if sysctl.starts_with("user/") {
        Ok(Some(NsKind::User))
    } else if sysctl == "kernel/ns_last_pid" || sysctl == "kernel/pid_max" {
        Ok(Some(NsKind::Pid))
    } else if sysctl.starts_with("fs/mqueue/")
        || IPC.contains(&sysctl)
        || sysctl == "kernel/hostname"
        || sysctl == "kernel/domainname"
    {
        Ok(None)
    } else {
        refuse("is a sysctl of the whole host")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn block_mapping_start_finds_the_first_key_of_the_mapping() {
        let text =
            "# c\n---\na: 1\nb:\n- x: 1\n  y:\n    z: 2\n  w: 3\nc: >\n  text\nd: { e: 1 }\n";
        // Top level: past nested values, a list at the key's indentation, the `---` line.
        assert_eq!(block_mapping_start(text, 11, 1), Some((3, 1)));
        // An item's mapping starts on its `- ` line.
        assert_eq!(block_mapping_start(text, 8, 3), Some((5, 3)));
        assert_eq!(block_mapping_start(text, 7, 5), Some((7, 5)));
        // A flow mapping is located by its own `{`.
        assert_eq!(block_mapping_start(text, 11, 4), None);
        // Comments and blank lines indented with tabs are skipped like any other.
        assert_eq!(
            block_mapping_start("a: 1\n\t# c\n \t\nb: 2\n", 4, 1),
            Some((1, 1))
        );
        // A compact item's only key, on its `- ` line, starts its mapping.
        assert_eq!(block_mapping_start("- a: 1\n- b: 2\n", 2, 3), Some((2, 3)));
    }

    #[test]
    fn key_before_names_the_key_a_value_belongs_to() {
        use super::key_before;
        let text = "steps:\n  - getuid: { expect: { errno: EPERM } }\n  - read:\n      expect:\n        \
                    errno: EPERM\n  - read: { path: { errno: x } }\n";
        assert_eq!(key_before(text, 2, 23), Some("expect"));
        assert_eq!(key_before(text, 5, 9), Some("expect"));
        assert_eq!(key_before(text, 6, 19), Some("path"));
        assert_eq!(key_before(text, 1, 1), None);
    }

    #[test]
    fn tag_before_gives_the_tag_and_the_character_column_it_starts_at() {
        use super::tag_before;
        // Columns count characters, not bytes: `é` is two bytes and one column.
        let text = "a: { é: !!str 1 }\nb:\t!local x\nc: 1\n";
        assert_eq!(tag_before(text, 1, 15), Some(("!!str", 9)));
        assert_eq!(tag_before(text, 2, 11), Some(("!local", 4)));
        assert_eq!(tag_before(text, 3, 4), None);
    }

    #[test]
    fn find_cycle_reports_the_labels_of_a_cycle_and_nothing_for_a_dag() {
        use super::find_cycle;
        // A diamond reached twice (0→1→3, 0→2→3, 4→3) has no cycle, though node 3 is met
        // again after it is done.
        let dag: Vec<Vec<(usize, char)>> = vec![
            vec![(1, 'a'), (2, 'b')],
            vec![(3, 'c')],
            vec![(3, 'd')],
            vec![],
            vec![(3, 'e')],
        ];
        assert_eq!(find_cycle(&dag), None);
        // 0→1→2→3→1: the cycle's edges, from where it closes back, in order.
        let cyclic: Vec<Vec<(usize, char)>> = vec![
            vec![(1, 'a')],
            vec![(2, 'b')],
            vec![(3, 'c')],
            vec![(1, 'd')],
        ];
        assert_eq!(find_cycle(&cyclic), Some(vec!['b', 'c', 'd']));
        // A self-loop.
        assert_eq!(find_cycle(&[vec![(0usize, 'x')]]), Some(vec!['x']));
    }

    #[test]
    fn write_may_reach_only_own_proc_files_and_namespaced_sysctls() {
        use super::write_guard;
        use crate::schema::NsKind;
        for ok in [
            "/proc/self/uid_map",
            "/proc/thread-self/setgroups",
            "/proc/sys/kernel/hostname",
            "/proc/sys/kernel/msgmax",
            "/proc/sys/fs/mqueue/queues_max",
        ] {
            assert_eq!(write_guard(ok), Ok(None), "{ok}");
        }
        assert_eq!(
            write_guard("/proc/sys/net/core/somaxconn"),
            Ok(Some(NsKind::Net))
        );
        assert_eq!(
            write_guard("/proc/sys/user/max_user_namespaces"),
            Ok(Some(NsKind::User))
        );
        for pid in ["/proc/sys/kernel/ns_last_pid", "/proc/sys/kernel/pid_max"] {
            assert_eq!(write_guard(pid), Ok(Some(NsKind::Pid)), "{pid}");
        }
        for bad in [
            "/etc/passwd",
            "/proc/self/cwd/x",
            "/proc/self/",
            "/proc/self/autogroup",
            "/proc/thread-self/autogroup",
            "/proc/self/mem",
            "/proc/1/uid_map",
            "/proc/sys/kernel/threads-max",
            "/proc/sys/vm/drop_caches",
            "/proc/sys/net/../kernel/pid_max",
            "/proc/sys//kernel/hostname",
            "/sys/fs/cgroup/pids/pids.max",
            "/proc/sys/net/netfilter/nf_hooks_lwtunnel",
        ] {
            assert!(write_guard(bad).is_err(), "{bad}");
        }
    }

    use super::*;

    fn plan(text: &str) -> Plan {
        load("t", "t.yaml", text).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The validation error of a scenario in a new PID namespace with init's `steps`, if any.
    fn err(steps: &str) -> Option<String> {
        let text = format!("name: t\nnamespaces: [pid]\nsteps:\n{steps}");
        load("t", "t.yaml", &text).err().map(|e| e.to_string())
    }

    /// A step naming a process before the step that creates it, in the same process or up its
    /// creators' chain, is refused for every step that names a process; one in another process
    /// (a race without events) is not.
    #[test]
    fn a_process_is_named_only_once_it_can_exist() {
        let before = |step: &str| {
            err(&format!(
                "  - {step}\n  - fork: {{ name: c, steps: [ {{ pause: {{}} }} ] }}\n  - kill: {{ pid: c, signal: KILL }}\n"
            ))
        };
        for step in [
            "kill: { pid: c, expect: { errno: ESRCH } }",
            "kill: { group: c, expect: { errno: ESRCH } }",
            "wait: { pid: c, expect: { errno: ECHILD } }",
            "visible: { pid: c, expect: false }",
            "pidfd_open: { pid: c, as: c, expect: { errno: ESRCH } }",
            "cgroup: { pid: c }",
            "ns_ioctl: { pid: c, kind: pid, request: NS_GET_NSTYPE }",
            "read: { pid: c, path: uid_map }",
            "write: { pid: c, path: setgroups, content: deny }",
            "setns: { target: c, namespaces: [uts] }",
            "enter: { name: e, target: c, namespaces: [uts] }",
        ] {
            let e = before(step).unwrap_or_else(|| panic!("accepted: {step}"));
            assert!(
                e.contains(
                    "`c` does not exist yet here: `init` creates it with its `fork` on line 5, \
                     after this step"
                ),
                "{step}: {e}"
            );
        }
        // Up the chain: `a`, which creates `c`, comes later; and an `enter` naming its own child.
        let e =
            err("  - kill: { pid: c }\n  - fork: { name: a, steps: [ { fork: { name: c } } ] }\n")
                .expect("refused");
        assert!(
            e.contains("it is created by `a`, which `init` creates with its `fork` on line 5"),
            "{e}"
        );
        let e = err(
            "  - fork: { name: t, steps: [ { pause: {} } ] }\n  - enter: { name: e, target: e, namespaces: [uts] }\n",
        )
        .expect("refused");
        assert!(e.contains("by this very step"), "{e}");
        // Among a thread's steps too: they run in order with the process's.
        assert!(
            err("  - thread: { steps: [ { kill: { pid: c } } ] }\n  - fork: { name: c }\n")
                .is_some()
        );
        // After the `fork`, or from another process (a race): accepted.
        assert_eq!(
            err("  - fork: { name: c }\n  - kill: { pid: c, expect: { errno: ESRCH } }\n"),
            None
        );
        assert_eq!(
            err(
                "  - fork: { name: k, steps: [ { kill: { pid: c, signal: 0, expect: { errno: ESRCH } } } ] }\n  \
                 - fork: { name: c }\n"
            ),
            None
        );
    }

    /// Kernel requirements that no kernel meets together are refused; a step's feature newer
    /// than a `kernel_below` is not (a backport may have it).
    #[test]
    fn kernel_ranges_must_hold_a_kernel() {
        let with = |requires: &str, steps: &str| {
            load(
                "t",
                "t.yaml",
                &format!("name: t\nrequires: {requires}\nnamespaces: [pid]\nsteps:\n{steps}"),
            )
            .err()
            .map(|e| e.to_string())
        };
        let getpid = "  - getpid: {}\n";
        let e = with(r#"[{ kernel: "5.0" }, { kernel_below: "5.0" }]"#, getpid).expect("refused");
        assert!(
            e.starts_with(
                "t.yaml:2:31: `kernel_below: \"5.0\"`: with `kernel: \"5.0\"` it leaves no kernel"
            ),
            "{e}"
        );
        // The lowest `kernel_below` and the highest `kernel` decide, in any order.
        assert!(
            with(
                r#"[{ kernel_below: "6.1" }, { kernel: "6.2" }, { kernel_below: "7.0" }]"#,
                getpid
            )
            .is_some()
        );
        assert!(
            with(r#"[{ kernel_below: "0.0" }]"#, getpid)
                .is_some_and(|e| e.contains("no kernel is older than 0.0"))
        );
        assert_eq!(
            with(r#"[{ kernel: "4.9" }, { kernel_below: "4.10" }]"#, getpid),
            None
        );
        // A step's feature leaves the range as it is: a kernel older than 5.3 that backports
        // pidfd_open(2) runs the scenario (the feature is tried there), others skip it.
        let pidfd = "  - pidfd_open: { pid: self, as: me }\n";
        assert_eq!(with(r#"[{ kernel_below: "5.3" }]"#, pidfd), None);
        let p = plan(&format!(
            "name: t\nrequires: [{{ kernel_below: \"5.3\" }}]\nnamespaces: [pid]\nsteps:\n{pidfd}"
        ));
        assert!(
            p.requirements
                .contains(&Requirement::Feature(Feature::PidfdOpen))
        );
        assert!(p.requirements.contains(&Requirement::KernelBelow(5, 3)));
    }

    /// A `wait` for a child that a `pause` keeps from ending, and a host process so held while
    /// init can end, are refused, only where no signal step can run first and no init's end
    /// kills the process; a `pause` of init itself, or anything when init cannot end either,
    /// is left to the time limit (the faults that test it).
    #[test]
    fn a_pause_nothing_can_end_is_refused_where_something_waits_for_it() {
        let child = "  - fork: { name: a, steps: [ { pause: {} } ] }\n";
        let e = err(&format!("{child}  - wait: {{ pid: a }}\n")).expect("refused");
        assert!(
            e.starts_with(
                "t.yaml:5:5: `init` waits for `a` here, and `a` ends only after its `pause` on \
                 line 4 returns: a `pause` returns only when a signal ends its process"
            ),
            "{e}"
        );
        // Through an event: `b` awaits what `a` notifies after its `pause`.
        let e = err(&format!(
            "{}  - fork: {{ name: b, steps: [ {{ await: {{ event: x }} }} ] }}\n  - wait: {{ pid: b }}\n",
            "  - fork: { name: a, steps: [ { pause: {} }, { notify: { event: x } } ] }\n"
        ))
        .expect("refused");
        assert!(
            e.contains(
                "`init` waits for `b` here, and `b` ends only after its `await` of `x` on line 5 \
                 returns, which `a` notifies on line 4 only after its `pause` on line 4 returns"
            ),
            "{e}"
        );
        // A signal step that can run first, a `set_pdeathsig`, or a `kill` only after the
        // `wait` (which never runs: still refused).
        assert_eq!(
            err(&format!(
                "{child}  - kill: {{ pid: a, signal: KILL }}\n  - wait: {{ pid: a }}\n"
            )),
            None
        );
        assert_eq!(
            err(
                "  - fork: { name: a, steps: [ { set_pdeathsig: { signal: KILL } }, { pause: {} } ] }\n  \
                 - wait: { pid: a }\n"
            ),
            None
        );
        assert!(
            err(&format!(
                "{child}  - wait: {{ pid: a }}\n  - kill: {{ pid: a, signal: KILL }}\n"
            ))
            .is_some()
        );
        // The init of a namespace `c` is in ends, and so ends `c`.
        assert_eq!(
            err(
                "  - fork:\n      name: a\n      namespaces: [pid]\n      steps:\n        \
                 - fork: { name: c, steps: [ { pause: {} } ] }\n  - wait: { pid: c }\n"
            ),
            None
        );
        // Init's own `pause` is a hang left to the time limit.
        assert_eq!(err("  - pause: {}\n"), None);
        let host = |init: &str, host: &str| {
            load(
                "t",
                "t.yaml",
                &format!("name: t\nnamespaces: [pid]\nsteps:\n{init}host:\n  steps:\n{host}"),
            )
            .err()
            .map(|e| e.to_string())
        };
        let e = host("  - getpid: {}\n", "    - pause: {}\n").expect("refused");
        assert!(
            e.starts_with(
                "t.yaml:7:7: `host` stays in its `pause` here, so the host process never ends"
            ),
            "{e}"
        );
        assert_eq!(
            host(
                "  - kill: { pid: host, signal: KILL }\n",
                "    - pause: {}\n"
            ),
            None
        );
        // Init cannot end either: a deliberate hang (faults/hang.yaml).
        assert_eq!(
            host(
                "  - await: { event: never }\n",
                "    - pause: {}\n    - notify: { event: never }\n"
            ),
            None
        );
    }

    /// A `wait` for a child that awaits what comes after the `wait` is refused, and only where
    /// no other way out exists: a signal step anywhere, the `notify` first, a second `wait`
    /// (ECHILD at once) or a child that crashes first all let the scenario through.
    #[test]
    fn a_wait_deadlock_is_refused_only_where_nothing_could_end_it() {
        let child = "  - fork: { name: c, steps: [ { await: { event: e } } ] }\n";
        let deadlock = format!("{child}  - wait: {{ pid: c }}\n  - notify: {{ event: e }}\n");
        let e = err(&deadlock).expect("refused");
        assert!(
            e.starts_with(
                "t.yaml:4:49: `c` awaits event `e` here, which `init` notifies on line 6 only \
                 after its `wait` for `c` on line 5 returns, and `c` ends only after this \
                 `await` returns: none of them can return"
            ),
            "{e}"
        );
        // The `notify` first.
        assert_eq!(
            err(&format!(
                "{child}  - notify: {{ event: e }}\n  - wait: {{ pid: c }}\n"
            )),
            None
        );
        // Some step could kill the child instead (here one that does not, a SIGCONT to init:
        // which process a signal could end is not worked out).
        assert_eq!(
            err(&format!(
                "{child}  - fork: {{ name: k, steps: [ {{ kill: {{ pid: parent, signal: CONT }} }} ] }}\n  \
                 - wait: {{ pid: c }}\n  - notify: {{ event: e }}\n"
            )),
            None
        );
        // ... but only one that can run before the deadlock: this `kill` comes after it.
        let late = format!("{deadlock}  - kill: {{ pid: c, signal: KILL }}\n");
        assert!(
            err(&late).is_some_and(|e| e.contains("none of them can return")),
            "{late}"
        );
        // A child's own `set_pdeathsig` before its `await` lets it end (here it would not: its
        // parent is the one waiting, but that is not worked out)...
        assert_eq!(
            err(
                "  - fork: { name: c, steps: [ { set_pdeathsig: { signal: KILL } }, { await: { event: e } } ] }\n  \
                 - wait: { pid: c }\n  - notify: { event: e }\n"
            ),
            None
        );
        // ... but not another process: the same deadlock beside a process that arms its own.
        assert!(
            err(&format!(
                "{child}  - fork: {{ name: p, steps: [ {{ set_pdeathsig: {{ signal: KILL }} }} ] }}\n  \
                 - wait: {{ pid: c }}\n  - notify: {{ event: e }}\n"
            ))
            .is_some_and(|e| e.contains("none of them can return")),
        );
        // Nor does a `kill` with signal 0, which sends nothing.
        assert!(
            err(&format!(
                "{child}  - kill: {{ pid: c, signal: 0 }}\n  - wait: {{ pid: c }}\n  \
                 - notify: {{ event: e }}\n"
            ))
            .is_some_and(|e| e.contains("none of them can return")),
        );
        // A child that crashes before its `await` ends all the same.
        assert_eq!(
            err(
                "  - fork: { name: c, steps: [ { crash: { how: segv } }, { await: { event: e } } ] }\n  \
                 - wait: { pid: c }\n  - notify: { event: e }\n"
            ),
            None
        );
        // A `wait` before the `fork` is no deadlock: it names a process that does not exist
        // yet, which the run could only fail (`c` has not started), and is refused for that.
        assert!(
            err("  - wait: { pid: c, expect: { errno: ECHILD } }\n\
                 {child}  - notify: { event: e }\n"
                .replace("{child}", child)
                .as_str())
            .is_some_and(|e| e.contains("`c` does not exist yet here")),
        );
        // A child ends when the first process of its PID namespace does: here `n`, which ends
        // at once, so the `wait` can return.
        let nested = format!(
            "  - unshare: {{ namespaces: [pid] }}\n  - fork: {{ name: n }}\n{child}  \
             - wait: {{ pid: c }}\n  - notify: {{ event: e }}\n"
        );
        assert_eq!(err(&nested), None);
        // `e`, entered into the namespace `b` unshared, is numbered before `a`, the first
        // process forked into it: `a`'s end (after `go`) is what kills `x`, so `b`'s `wait`
        // for `x` returns (a run ends in milliseconds, with `x`'s and `e`'s `await`s unfinished).
        let entered = r#"name: x
namespaces: [pid]
steps:
  - fork:
      name: b
      steps:
        - unshare: { namespaces: [pid] }
        - fork:
            name: a
            steps:
              - await: { event: x_up }
              - notify: { event: a_up }
              - await: { event: go }
        - fork:
            name: x
            steps:
              - notify: { event: x_up }
              - await: { event: never }
        - wait: { pid: x, expect: { signaled: KILL } }
        - notify: { event: never }
        - notify: { event: never2 }
        - wait: { pid: a }
  - await: { event: a_up }
  - enter:
      name: e
      target: a
      namespaces: [pid]
      steps:
        - await: { event: never2 }
  - notify: { event: go }
  - wait: { pid: e, expect: { signaled: KILL } }
  - wait: { pid: b }
"#;
        assert_eq!(
            load("t", "t.yaml", entered).err().map(|e| e.to_string()),
            None
        );
    }

    /// `caught` needs a handler from a `catch` of the process's own or of its creator before
    /// creating it; SIGKILL and SIGSTOP cannot be caught; senders are expected only where they
    /// are numbered in a PID namespace of the scenario.
    #[test]
    fn caught_needs_a_handler_installed_before() {
        let err = |ns: &str, steps: &str| {
            let text = format!("name: t\nnamespaces: [{ns}]\nsteps:\n{steps}");
            load("t", "t.yaml", &text).err().map(|e| e.to_string())
        };
        let ok = "  - catch: { signal: USR1 }\n  \
                  - fork: { name: c, steps: [ { caught: { signal: USR1, expect: [] } } ] }\n  \
                  - wait: { pid: c }\n  - caught: { signal: USR1, expect: [0, 2] }\n";
        assert_eq!(err("pid", ok), None);
        let e = err(
            "pid",
            "  - caught: { signal: USR1 }\n  - catch: { signal: USR1 }\n",
        )
        .unwrap();
        assert!(
            e.starts_with(
                "t.yaml:4:23: `init` has no handler for SIGUSR1 here: give it a `catch` step first"
            ),
            "{e}"
        );
        let before = "  - fork: { name: c, steps: [ { caught: { signal: USR1 } } ] }\n  \
                      - catch: { signal: USR1 }\n  - wait: { pid: c }\n";
        assert!(
            err("pid", before)
                .unwrap()
                .contains("`c` has no handler for SIGUSR1 here")
        );
        // Another signal's handler is not this one's.
        let other = "  - catch: { signal: USR2 }\n  - caught: { signal: USR1 }\n";
        assert!(
            err("pid", other)
                .unwrap()
                .contains("no handler for SIGUSR1")
        );
        for sig in ["KILL", "STOP"] {
            let e = err("pid", &format!("  - catch: {{ signal: {sig} }}\n")).unwrap();
            assert!(e.contains(&format!("SIG{sig} cannot be caught")), "{e}");
        }
        for sig in ["SEGV", "BUS", "ILL", "FPE"] {
            let e = err("pid", &format!("  - catch: {{ signal: {sig} }}\n")).unwrap();
            assert!(e.contains(&format!("SIG{sig} is a fault signal")), "{e}");
        }
        let e = err("pid", "  - catch: { signal: CHLD }\n").unwrap();
        assert!(
            e.contains("SIGCHLD is sent by the harness's own helper processes too"),
            "{e}"
        );
        let seventeen = format!(
            "  - catch: {{ signal: USR1 }}\n  - caught: {{ signal: USR1, expect: [{}] }}\n",
            vec!["1"; 17].join(", ")
        );
        let e = err("pid", &seventeen).unwrap();
        assert!(
            e.contains("`caught` keeps the first 16 deliveries: expect at most 16"),
            "{e}"
        );
        assert!(e.starts_with("t.yaml:5:86:"), "{e}");
        let outside = "  - catch: { signal: USR1 }\n  - caught: { signal: USR1, expect: [0] }\n";
        assert!(err("uts", outside).unwrap().contains(
            "`caught` with `expect` runs only in a process inside a PID namespace of the scenario"
        ));
        let unexpected = "  - catch: { signal: USR1 }\n  - caught: { signal: USR1 }\n";
        assert_eq!(err("uts", unexpected), None);
    }

    /// A `read` expects text — a plain scalar as written, numbers included — or an errno.
    #[test]
    fn read_expects_text_as_written_or_an_errno() {
        let expect = |e: &str| {
            let p = plan(&format!(
                "name: t\nnamespaces: []\nsteps:\n  - read: {{ path: /proc/self/setgroups, expect: {e} }}\n"
            ));
            match &p.procs[0].steps[0].action {
                Action::Read { expect, .. } => expect.clone(),
                other => panic!("{other:?}"),
            }
        };
        let text = |t: &str| Some(ReadExpect::Text(t.into()));
        assert_eq!(expect("deny"), text("deny"));
        assert_eq!(expect("\"0  0\n 1\""), text("0 0 1"));
        assert_eq!(expect("0"), text("0"));
        assert_eq!(expect("-1"), text("-1"));
        assert_eq!(expect("0022"), text("0022"));
        assert_eq!(expect("1_000"), text("1_000"));
        assert_eq!(expect("true"), text("true"));
        // What YAML would make numbers or booleans of keeps its spelling.
        for written in [
            "0x1f",
            "0o17",
            "+1",
            "-0",
            "1.50",
            "1e3",
            "True",
            "FALSE",
            "18446744073709551616",
        ] {
            assert_eq!(expect(written), text(written), "{written}");
        }
        assert_eq!(expect("~"), None);
        // Lines broken by a lone CR, or CRLF, are lines too.
        for eol in ["\r", "\r\n"] {
            let text = [
                "name: t",
                "namespaces: []",
                "steps:",
                "  - read: { path: /proc/self/setgroups, expect: 0x1f }",
                "",
            ]
            .join(eol);
            let p = load("t", "t.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                matches!(
                    &p.procs[0].steps[0].action,
                    Action::Read { expect: Some(ReadExpect::Text(t)), .. } if t == "0x1f"
                ),
                "{eol:?}"
            );
        }
        assert_eq!(
            expect("{ errno: ENOENT }"),
            Some(ReadExpect::Errno(Errno::ENOENT))
        );
        // Among a thread's steps too.
        let p = plan(
            "name: t\nnamespaces: []\nsteps:\n  - thread: { steps: [ { read: { path: /proc/self/setgroups, expect: 0x1f } } ] }\n",
        );
        assert!(matches!(
            &p.procs[0].steps[1].action,
            Action::Read { expect: Some(ReadExpect::Text(t)), .. } if t == "0x1f"
        ));
        // A tag YAML cannot apply is refused as text expected, not as the tag's type; where
        // a number is expected, as a number.
        let tagged = |steps: &str| {
            load(
                "t",
                "t.yaml",
                &format!("name: t\nnamespaces: []\nsteps:\n{steps}"),
            )
            .unwrap_err()
            .to_string()
        };
        for (steps, want) in [
            (
                "  - read: { path: /proc/self/setgroups, expect: !!int 02 }\n",
                "t.yaml:4:49: `!!int 02`: a `read` expects the file's text",
            ),
            (
                "  - fork: { name: c, steps: [ { read: { path: /a, expect: !!bool maybe } } ] }\n",
                "t.yaml:4:59: `!!bool maybe`: a `read` expects the file's text",
            ),
            (
                "  - getuid: { expect: !!int 02 }\n",
                "t.yaml:4:23: `!!int 02`: expected a whole number, and the tag",
            ),
        ] {
            let e = tagged(steps);
            assert!(e.starts_with(want), "{e}");
        }
    }

    /// `set_ids` is refused in a process glibc's clone() made from a multithreaded one (and in
    /// a clone of that), not after a plain fork, nor in a clone of a single-threaded process.
    #[test]
    fn set_ids_is_refused_only_where_clone_left_stale_threads() {
        let ids = "{ set_ids: { uid: 0, gid: 0 } }";
        let refused = "which was cloned (`fork` with `namespaces`) from a multithreaded process";
        let e = err(&format!(
            "  - thread: {{}}\n  - fork: {{ name: c, namespaces: [uts], steps: [ {{ fork: {{ name: g, namespaces: [ipc], steps: [ {ids} ] }} }}, {{ wait: {{ pid: g }} }} ] }}\n  - wait: {{ pid: c }}\n"
        ))
        .unwrap();
        assert!(e.contains(&format!("`set_ids` in `g`, {refused}")), "{e}");
        for fine in [
            format!(
                "  - thread: {{}}\n  - fork: {{ name: c, steps: [ {ids} ] }}\n  - wait: {{ pid: c }}\n"
            ),
            format!(
                "  - fork: {{ name: c, namespaces: [uts], steps: [ {ids} ] }}\n  - wait: {{ pid: c }}\n"
            ),
            format!(
                "  - thread: {{}}\n  - fork: {{ name: c, namespaces: [uts], steps: [ {{ fork: {{ name: g, steps: [ {ids} ] }} }}, {{ wait: {{ pid: g }} }} ] }}\n  - wait: {{ pid: c }}\n"
            ),
        ] {
            assert_eq!(err(&fine), None, "{fine}");
        }
    }

    /// A `fork` into a new PID namespace puts only that child one level deeper: the caller's
    /// later children stay where they were (unlike after an `unshare` of pid).
    #[test]
    fn fork_with_namespaces_deepens_only_its_child() {
        let p = plan(
            "name: t\nnamespaces: [pid]\nsteps:\n  - fork: { name: a, namespaces: [pid, uts] }\n  - wait: { pid: a }\n  - fork: { name: b }\n  - wait: { pid: b }\n",
        );
        let depth = |name: &str| p.procs.iter().find(|q| q.name == name).unwrap().pidns.len();
        assert_eq!(depth("a"), p.procs[0].pidns.len() + 1);
        assert_eq!(depth("b"), p.procs[0].pidns.len());
        assert!(matches!(
            &p.procs[0].steps[0].action,
            Action::Fork { kinds, .. } if kinds.contains(&NsKind::Uts)
        ));
    }

    /// `drop_caps` is refused only after a `thread` of the same process: before it, and in a
    /// child forked afterwards (which has one thread), capset(2) covers the whole process. A
    /// `thread` expected to fail leaves the process single-threaded.
    #[test]
    fn drop_caps_is_refused_only_in_a_multithreaded_process() {
        assert_eq!(err("  - drop_caps: {}\n  - thread: {}\n"), None);
        assert_eq!(
            err(
                "  - thread: {}\n  - fork: { name: c, steps: [ { drop_caps: {} } ] }\n  - wait: { pid: c }\n"
            ),
            None
        );
        assert_eq!(
            err("  - thread: { expect: { errno: EINVAL } }\n  - drop_caps: {}\n"),
            None
        );
        let e = err("  - thread: {}\n  - drop_caps: {}\n").unwrap();
        assert!(
            e.starts_with("t.yaml:5:5: `drop_caps` after a `thread` step (line 4)"),
            "{e}"
        );
    }

    /// kill(0) is allowed only where the caller's group is one a `setsid` of the scenario made
    /// (the supervisor leads the group scenario processes start in), and kill(-PGID) never
    /// names the supervisor's group.
    #[test]
    fn process_group_kills_stay_in_groups_the_scenario_made() {
        let zero = "kill: { pid: 0, signal: CONT }";
        assert_eq!(err(&format!("  - setsid: {{}}\n  - {zero}\n")), None);
        let e = err(&format!("  - {zero}\n  - setsid: {{}}\n")).unwrap();
        assert!(
            e.starts_with("t.yaml:4:18: `kill` of 0 (the caller's process group) runs only in a process that has left the supervisor's process group, and `init` has not here"),
            "{e}"
        );
        // A child created after the setsid is in the new group; one created before is not.
        let after = format!(
            "  - setsid: {{}}\n  - fork: {{ name: c, steps: [ {{ {zero} }} ] }}\n  - wait: {{ pid: c }}\n"
        );
        assert_eq!(err(&after), None);
        let before = format!(
            "  - fork: {{ name: c, steps: [ {{ {zero} }} ] }}\n  - setsid: {{}}\n  - wait: {{ pid: c }}\n"
        );
        assert!(err(&before).unwrap().contains("and `c` has not here"));
        // A setsid expected to fail leaves the process where it was.
        let failed = format!("  - setsid: {{ expect: {{ errno: EPERM }} }}\n  - {zero}\n");
        assert!(err(&failed).unwrap().contains("and `init` has not here"));
        let e = err("  - kill: { group: parent, signal: KILL }\n").unwrap();
        assert!(e.contains("`group` of the harness's supervisor"), "{e}");
        let e = err("  - kill: { pid: self, group: self }\n").unwrap();
        assert!(e.contains("`kill` takes `pid` or `group`, not both"), "{e}");
        let e = err("  - kill: { signal: KILL }\n").unwrap();
        assert!(e.starts_with("t.yaml:4:5: `kill` needs `pid`"), "{e}");
        let p = plan(
            "name: t\nnamespaces: [pid]\nsteps:\n  - fork: { name: c, steps: [ { setsid: {} }, { pause: {} } ] }\n  - kill: { group: c, signal: KILL }\n  - wait: { pid: c }\n",
        );
        assert!(matches!(
            &p.procs[0].steps[1].action,
            Action::KillGroup { target: Some(Who::Proc(1)), label, signal: Some(Signal::SIGKILL), .. } if label == "c"
        ));
    }

    /// `subdirs` expecting `<scenario>` needs the scenario's own cgroup, as a `cgroup` path
    /// starting with it does: without one the listing cannot hold it, and the scenario is
    /// skipped with the reason instead of failing.
    #[test]
    fn subdirs_expecting_the_scenarios_cgroup_needs_one() {
        let needs = |expect: &str| {
            plan(&format!(
                "name: t\nnamespaces: [pid, mount]\nsteps:\n  - mount_cgroup: {{ target: /mnt }}\n  \
                 - subdirs: {{ path: /mnt, expect: {expect} }}\n"
            ))
            .requirements
            .contains(&Requirement::ScenarioCgroup)
        };
        assert!(needs("[\"<scenario>\", a]"));
        assert!(!needs("[a]"));
        assert!(!needs("[]"));
    }

    /// A tmpfs with `dirs` is built with fsopen/fsmount (ENOSYS before 5.2); a plain one is
    /// mount(2), which every kernel has.
    #[test]
    fn a_tmpfs_with_dirs_implies_linux_5_2() {
        let implied = |requires: &str, step: &str| -> Vec<Requirement> {
            plan(&format!(
                "name: t\nnamespaces: [mount]\nrequires: [{requires}]\nsteps:\n  - mount_tmpfs: {{ target: /mnt{step} }}\n"
            ))
            .requirements
            .into_iter()
            .filter(|r| matches!(r, Requirement::Kernel(..) | Requirement::Feature(..)))
            .collect()
        };
        assert_eq!(
            implied("", ", dirs: [proc]"),
            [Requirement::Feature(Feature::MountApi)]
        );
        assert_eq!(implied("", ""), []);
        assert_eq!(implied("", ", dirs: []"), []);
        // A scenario for 5.2 or newer needs nothing more: there a missing fsopen(2) fails it.
        assert_eq!(
            implied(r#"{ kernel: "5.2" }"#, ", dirs: [proc]"),
            [Requirement::Kernel(5, 2)]
        );
    }

    /// A pidfd is usable where fork() would have copied it: in the process that opened it,
    /// after that step, and in the children that process creates afterwards.
    #[test]
    fn pidfds_are_usable_where_their_descriptor_was_inherited() {
        let ok = "  - pidfd_open: { pid: self, as: me }\n  \
                  - fork: { name: c, steps: [ { pidfd_signal: { pidfd: me, signal: CONT } } ] }\n  \
                  - wait: { pid: c }\n  \
                  - pidfd_signal: { pidfd: me, signal: CONT }\n";
        assert_eq!(err(ok), None);
        let p = plan(&format!("name: t\nnamespaces: [pid]\nsteps:\n{ok}"));
        assert_eq!(p.handles.len(), 1);
        assert_eq!(p.handles[0].target, Who::Proc(0));
        assert!(
            p.requirements
                .contains(&Requirement::Feature(Feature::PidfdOpen))
        );
        // Opened after the fork: the child has no copy.
        let later = "  - fork: { name: c, steps: [ { pidfd_signal: { pidfd: me } } ] }\n  \
                     - pidfd_open: { pid: self, as: me }\n";
        let e = err(later).unwrap();
        assert!(
            e.starts_with("t.yaml:4:56: pidfd `me` is not open in `c` here"),
            "{e}"
        );
        // Used before its own step.
        let early = "  - pidfd_signal: { pidfd: me }\n  - pidfd_open: { pid: self, as: me }\n";
        let e = err(early).unwrap();
        assert!(e.contains("pidfd `me` is not open in `init` here"), "{e}");
        // Opened by the host process, which init did not create.
        let e = err("  - pidfd_signal: { pidfd: h }\nhost:\n  steps:\n    - pidfd_open: { pid: init, as: h }\n").unwrap();
        assert!(e.contains("pidfd `h` is not open in `init` here"), "{e}");
        let e = err("  - pidfd_signal: { pidfd: nobody }\n").unwrap();
        assert!(e.contains("no pidfd named `nobody`"), "{e}");
        let failed = "  - pidfd_open: { pid: parent, as: up, expect: { errno: ESRCH } }\n  \
                      - pidfd_signal: { pidfd: up }\n";
        let e = err(failed).unwrap();
        assert!(
            e.contains("pidfd `up` never exists: its `pidfd_open` step expects an error"),
            "{e}"
        );
        let twice =
            "  - pidfd_open: { pid: self, as: me }\n  - pidfd_open: { pid: self, as: me }\n";
        let e = err(twice).unwrap();
        assert!(
            e.starts_with("t.yaml:5:34: pidfd name `me` is used twice"),
            "{e}"
        );
        // Init's steps are resolved before its child's: the error still points at the later one.
        let nested_twice = "  - fork: { name: c, steps: [ { pidfd_open: { pid: self, as: x } } ] }\n  \
                            - pidfd_open: { pid: self, as: x }\n  - wait: { pid: c }\n";
        let e = err(nested_twice).unwrap();
        assert!(
            e.starts_with("t.yaml:5:34: pidfd name `x` is used twice"),
            "{e}"
        );
        // A pidfd may bear its own process's name, never another's.
        assert_eq!(err("  - pidfd_open: { pid: self, as: init }\n"), None);
        let e = err("  - fork: { name: c, steps: [ { pause: {} } ] }\n  - pidfd_open: { pid: c, as: init }\n").unwrap();
        assert!(
            e.starts_with("t.yaml:5:31: pidfd name `init` names another process"),
            "{e}"
        );
        for name in ["self", "parent", "supervisor"] {
            let e = err(&format!("  - pidfd_open: {{ pid: self, as: {name} }}\n")).unwrap();
            assert!(
                e.contains(&format!("pidfd name `{name}` names another process")),
                "{e}"
            );
        }
        let e = err("  - fork: { name: c, steps: [ { pause: {} } ] }\n  - fork: { name: d, steps: [ { pause: {} } ] }\n  - pidfd_open: { pid: d, as: c }\n").unwrap();
        assert!(e.contains("pidfd name `c` names another process"), "{e}");
        let e = err("  - pidfd_open: { pid: self, as: \"a b\" }\n").unwrap();
        assert!(
            e.contains("pidfd name `a b` must be 1-32 characters"),
            "{e}"
        );
        // An `enter`ed process is a child of the caller's, with a copy of its descriptors.
        let entered = "  - pidfd_open: { pid: self, as: me }\n  \
                       - enter: { name: e, target: self, namespaces: [uts], steps: [ { pidfd_signal: { pidfd: me, signal: CONT } } ] }\n  \
                       - wait: { pid: e }\n";
        assert_eq!(err(entered), None);
        // An `enter` through a pidfd needs setns(2) on a pidfd: Linux 5.8.
        let p = plan(
            "name: t\nnamespaces: [uts]\nsteps:\n  - enter: { name: e, target: self, namespaces: [uts], pidfd: true }\n  - wait: { pid: e }\n",
        );
        assert!(
            p.requirements
                .contains(&Requirement::Feature(Feature::SetnsPidfd))
        );
        assert!(matches!(
            p.procs[0].steps[0].action,
            Action::Enter { pidfd: true, .. }
        ));
        // So does a `setns` through one.
        let p = plan(
            "name: t\nnamespaces: [uts]\nsteps:\n  - setns: { target: self, namespaces: [uts], pidfd: true }\n",
        );
        assert!(
            p.requirements
                .contains(&Requirement::Feature(Feature::SetnsPidfd))
        );
        // pidfd_ns needs the pidfs ioctls (6.11) and a namespace-shaped expectation.
        let ns = "  - pidfd_open: { pid: self, as: me }\n  - pidfd_ns: { pidfd: me, kind: uts, expect: new }\n";
        let p = plan(&format!("name: t\nnamespaces: [pid]\nsteps:\n{ns}"));
        assert!(
            p.requirements
                .contains(&Requirement::Feature(Feature::PidfdNsIoctl))
        );
        let e = err(&ns.replace("expect: new", "expect: { uid: 0 }")).unwrap();
        assert!(
            e.starts_with("t.yaml:5:47: `pidfd_ns` answers with a namespace"),
            "{e}"
        );
        let e = err(&ns.replace("kind: uts", "kind: uts, for_children: true")).unwrap();
        assert!(
            e.contains("`for_children` exists only for pid and time namespaces"),
            "{e}"
        );
        // Naming the host process in pidfd_open creates it, as for kill.
        let p = plan("name: t\nnamespaces: [pid]\nsteps:\n  - pidfd_open: { pid: host, as: h }\n");
        assert!(p.host.is_some());
    }

    /// Text compares field by field, as the kernel separates a sysctl's numbers with tabs;
    /// numbers compare as numbers, and an ordering never holds on text.
    #[test]
    fn sysctl_checks_compare_fields_and_numbers() {
        let check = |text: &str| SysctlCheck::parse(text).unwrap();
        let range = check("net.ipv4.ip_local_port_range = 32768 60999");
        assert!(range.holds("32768\t60999\n"));
        assert!(!range.holds("32768\t61000\n"));
        assert!(!range.holds("32768\n"));
        assert!(check("net.ipv4.ip_local_port_range != 1 2").holds("32768\t60999\n"));
        assert!(!check("net.ipv4.ip_local_port_range != 32768 60999").holds("32768\t60999\n"));
        assert!(check("kernel.ostype = Linux").holds("Linux\n"));
        assert!(check("user.max_pid_namespaces > 0").holds("63000\n"));
        assert!(!check("user.max_pid_namespaces > 0").holds("0\n"));
        assert!(check("user.max_pid_namespaces = 010").holds("10\n"));
        assert!(!check("kernel.printk >= 4").holds("4\t4\t1\t7\n"));
    }

    #[test]
    fn names_map_to_errnos_and_signals() {
        assert_eq!(errno_from_name("ESRCH"), Some(Errno::ESRCH));
        assert_eq!(errno_from_name("ENOSPC"), Some(Errno::ENOSPC));
        assert_eq!(errno_from_name("esrch"), None);
        // errno(3)'s other names for the same numbers.
        assert_eq!(errno_from_name("EWOULDBLOCK"), Some(Errno::EAGAIN));
        assert_eq!(errno_from_name("EDEADLOCK"), Some(Errno::EDEADLK));
        assert_eq!(errno_from_name("ENOTSUP"), Some(Errno::EOPNOTSUPP));
        assert_eq!(signal_from_name("KILL"), Some(Signal::SIGKILL));
        assert_eq!(signal_from_name("SIGUSR1"), Some(Signal::SIGUSR1));
        assert_eq!(signal_from_name("NOPE"), None);
    }

    #[test]
    fn pid_namespace_chains_follow_unshare_and_fork() {
        let p = plan(
            "name: t\nnamespaces: [pid]\nsteps:\n  - fork: { name: a }\n  - unshare: { namespaces: [pid] }\n  \
             - fork: { name: b, steps: [ { unshare: { namespaces: [pid] } }, { fork: { name: c } } ] }\n\
             host:\n  steps:\n    - enter: { name: j, target: b, namespaces: [pid] }\n",
        );
        let chain = |n: &str| p.procs.iter().find(|x| x.name == n).unwrap().pidns.clone();
        assert_eq!(chain("init"), vec![0, 1]);
        assert_eq!(chain("a"), vec![0, 1]);
        assert_eq!(chain("b"), vec![0, 1, 2]);
        assert_eq!(chain("c"), vec![0, 1, 2, 3]);
        assert_eq!(chain("host"), vec![0]);
        assert_eq!(chain("j"), vec![0, 1, 2]);
        assert_eq!(
            p.host,
            Some(p.procs.iter().position(|x| x.name == "host").unwrap())
        );
    }

    #[test]
    fn the_host_process_exists_when_any_step_names_it() {
        for step in [
            "kill: { pid: host }",
            "visible: { pid: host }",
            "enter: { name: j, target: host, namespaces: [mount] }",
            "cgroup: { pid: host }",
        ] {
            let p = plan(&format!(
                "name: t\nnamespaces: [pid, mount, cgroup]\nsteps:\n  - {step}\n"
            ));
            assert!(p.host.is_some(), "no host process for `{step}`");
        }
    }

    #[test]
    fn an_unshare_expected_to_fail_creates_no_namespace() {
        let p = plan(
            "name: t\nnamespaces: [pid]\nsteps:\n  - unshare: { namespaces: [pid], expect: { errno: EINVAL } }\n  \
             - fork: { name: a }\n",
        );
        assert_eq!(p.procs[1].pidns, vec![0, 1]);
    }

    /// An `enter` needs a process in a PID namespace its caller unshared: one forked before,
    /// or by `nest_pid`, whose first child is one; not a fork that failed, nor an `unshare`
    /// that failed.
    #[test]
    fn enter_waits_for_the_first_process_of_an_unshared_pid_namespace() {
        let refused = "`enter` before any process of the PID namespace unshared on line";
        let target = "  - fork: { name: t, steps: [ { await: { event: e } } ] }\n";
        let enter = "  - enter: { name: j, target: t, namespaces: [uts] }\n  \
                     - notify: { event: e }\n";
        let case = |between: &str| err(&format!("{target}{between}{enter}"));
        let unshare = "  - unshare: { namespaces: [pid] }\n";
        assert!(case(unshare).is_some_and(|e| e.contains(refused)));
        let failed_fork = "  - fork: { name: f, expect: { errno: ENOMEM } }\n";
        assert!(case(&format!("{unshare}{failed_fork}")).is_some_and(|e| e.contains(refused)));
        assert_eq!(case(&format!("{unshare}  - fork: {{ name: f }}\n")), None);
        assert_eq!(
            case(&format!("{unshare}  - nest_pid: {{ depth: 1 }}\n")),
            None
        );
        assert_eq!(
            case("  - unshare: { namespaces: [pid], expect: { errno: EINVAL } }\n"),
            None
        );
        assert_eq!(case("  - unshare: { namespaces: [uts] }\n"), None);
    }

    /// After a `take_over`, `set_ids` is refused where glibc's record of the ended main thread
    /// is stale: in every process nsspec clones (init, `enter`, `fork` with `namespaces` or
    /// `set_tid`), not in one glibc's fork() made, nor before the `take_over`.
    #[test]
    fn set_ids_after_a_take_over_only_in_a_forked_process() {
        let refused = "`set_ids` after the `take_over` on line";
        let take_over = "{ thread: { take_over: true } }";
        let set_ids = "{ set_ids: { uid: 0, gid: 0 } }";
        let child = |how: &str, steps: &str| {
            err(&format!(
                "  - fork: {{ name: c{how}, steps: [ {steps} ] }}\n  \
                 - wait: {{ pid: c, expect: {{ exited: 0 }} }}\n"
            ))
        };
        let after = format!("{take_over}, {set_ids}");
        assert_eq!(child("", &after), None);
        assert!(child(", namespaces: [uts]", &after).is_some_and(|e| e.contains(refused)));
        assert!(child(", set_tid: [5]", &after).is_some_and(|e| e.contains(refused)));
        assert_eq!(
            child(", namespaces: [uts]", &format!("{set_ids}, {take_over}")),
            None
        );
        assert!(
            err(&format!("  - {take_over}\n  - {set_ids}\n")).is_some_and(|e| e.contains(refused))
        );
        // A plain fork of a cloned process is forked.
        assert_eq!(
            child(
                ", namespaces: [uts]",
                &format!("{{ fork: {{ name: d, steps: [ {after} ] }} }}")
            ),
            None
        );
        // Init and the host process in the harness's PID namespace: the record names the
        // supervisor, a thread of another process.
        let top = |ns: &str, init: &str, host: &str| {
            load(
                "t",
                "t.yaml",
                &format!("name: t\nnamespaces: [{ns}]\nsteps: [ {init} ]\n{host}"),
            )
            .err()
            .map(|e| e.to_string())
        };
        assert_eq!(top("uts", &after, ""), None);
        assert!(top("pid", &after, "").is_some_and(|e| e.contains(refused)));
        let host = format!("host: {{ steps: [ {after} ] }}\n");
        assert_eq!(top("pid", "", &host), None);
        // A clone made after a cloned process took over copies its stale record.
        let stale = "which was cloned (`fork` with `namespaces`) from a multithreaded process";
        let clone_of = |how: &str| {
            child(
                how,
                &format!(
                    "{take_over}, {{ fork: {{ name: d, namespaces: [pid], steps: [ {set_ids} ] }} }}"
                ),
            )
        };
        assert!(clone_of(", namespaces: [pid]").is_some_and(|e| e.contains(stale)));
        assert_eq!(clone_of(""), None);
    }

    #[test]
    fn mount_paths_escape_as_mountinfo_writes_them() {
        let odd = "/mnt/a b\tc\nd\\e";
        assert_eq!(escape_mount_path(odd), r"/mnt/a\040b\011c\012d\134e");
        assert_eq!(unescape_mount_path(&escape_mount_path(odd)), odd);
        assert_eq!(escape_mount_path("/proc/sys"), "/proc/sys");
        // A backslash without three octal digits, or past a byte's range, stays as written.
        assert_eq!(unescape_mount_path(r"/a\b\04\400\0"), r"/a\b\04\400\0");
        assert_eq!(unescape_mount_path(r"\134040"), r"\040");
    }

    #[test]
    fn mounts_entries_name_points_with_white_space_escaped() {
        let entries = |list: &str| {
            let p = plan(&format!(
                "name: t\nnamespaces: [mount]\nsteps:\n  - mounts: {{ under: /mnt, expect: {list} }}\n"
            ));
            match &p.procs[0].steps[0].action {
                Action::Mounts { expect, .. } => expect.clone().unwrap(),
                other => panic!("{other:?}"),
            }
        };
        // Written with mountinfo's escapes, kept in the one spelling the record uses; a
        // backslash alone is itself, so written `\134` there.
        assert_eq!(
            entries(r"['/mnt/a\040b/ tmpfs private', '/mnt/c\d tmpfs shared']"),
            [r"/mnt/a\040b tmpfs private", r"/mnt/c\134d tmpfs shared"]
        );
        let err = |list: &str| {
            load(
                "mount/t",
                "t.yaml",
                &format!(
                    "name: t\nnamespaces: [mount]\nsteps:\n  - mounts: {{ under: /mnt, expect: {list} }}\n"
                ),
            )
            .unwrap_err()
            .to_string()
        };
        let e = err(r#"["/mnt/a b tmpfs private"]"#);
        assert!(
            e.ends_with("4 fields instead of 3 (a space in POINT is written `\\040`, as /proc/self/mountinfo and the record write it)"),
            "{e}"
        );
        let e = err(r#"["/mnt/a\040b tmpfs private"]"#);
        assert!(e.contains("holds no NUL character"), "{e}");
    }

    #[test]
    fn mounts_under_is_a_mount_point_as_mountinfo_writes_it() {
        let p = plan(
            "name: t\nnamespaces: [mount]\nsteps:\n  - mounts: { under: /proc/sys/ }\n  \
             - mounts: { under: // }\n",
        );
        let under = |step: usize| match &p.procs[0].steps[step].action {
            Action::Mounts { under, .. } => under.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(under(0), "/proc/sys");
        assert_eq!(under(1), "/");
        // Other spellings would match nothing: refused, with the plain one to write.
        for (under, plain) in [
            ("//mnt", "/mnt"),
            ("/mnt/.", "/mnt"),
            ("/tmp/../mnt", "/mnt"),
        ] {
            let e = err(&format!(
                "  - mounts: {{ under: \"{under}\", expect: [] }}\n"
            ))
            .expect("refused");
            assert!(
                e.contains(&format!("`under` `{under}` is not a plain path"))
                    && e.ends_with(&format!("write `{plain}`")),
                "{e}"
            );
        }
        let e = err("  - mounts: { under: /mnt, expect: [\"/mnt/./a tmpfs private\"] }\n")
            .expect("refused");
        assert!(e.contains("`/mnt/./a` is not a plain path"), "{e}");
    }

    #[test]
    fn symbolic_targets_resolve_relative_to_the_caller() {
        let p = plan(
            "name: t\nnamespaces: [pid]\nsteps:\n  - kill: { pid: parent }\n  \
             - fork: { name: a, steps: [ { kill: { pid: parent } }, { kill: { pid: self } } ] }\n",
        );
        let target = |proc: usize, step: usize| match &p.procs[proc].steps[step].action {
            Action::Kill { target, .. } => *target,
            other => panic!("{other:?}"),
        };
        assert_eq!(target(0, 0), Who::Supervisor);
        assert_eq!(target(1, 0), Who::Proc(0));
        assert_eq!(target(1, 1), Who::Proc(1));
        // The host process exists only when it has steps or is a target.
        assert_eq!(p.host, None);
    }

    #[test]
    fn defaults_are_applied() {
        let p = plan("name: t\nnamespaces: [mount, pid]\nsteps: []\n");
        assert_eq!(p.timeout, DEFAULT_TIMEOUT);
        assert_eq!(p.namespaces, vec![NsKind::Pid, NsKind::Mount]);
        assert!(!p.proc_fresh);
        assert!(
            p.requirements
                .contains(&Requirement::Namespace(NsKind::Pid))
        );
        // `expect: ~` is no `expect`: no expectation on a step that observes a value, the
        // default on one whose result is ok or an errno (docs/scenarios.md, Steps).
        let p = plan(
            "name: t\nnamespaces: [pid]\nsteps:\n  - getpid: { expect: ~ }\n  \
             - read: { path: /proc/self/comm, expect: null }\n  - fork: { name: c }\n  \
             - wait: { pid: c, expect: ~ }\n",
        );
        assert!(matches!(
            p.procs[0].steps[0].action,
            Action::Getpid { expect: None }
        ));
        assert!(matches!(
            p.procs[0].steps[1].action,
            Action::Read { expect: None, .. }
        ));
        assert!(matches!(
            p.procs[0].steps[3].action,
            Action::Wait { expect: None, .. }
        ));
        let p = plan(
            "name: t\nnamespaces: [pid]\nsteps:\n  - kill: { pid: parent, expect: ~ }\n  \
             - umount: { target: /x, expect: null }\n  - fork_bomb: { expect: ~ }\n",
        );
        assert!(matches!(
            p.procs[0].steps[0].action,
            Action::Kill {
                expect: Outcome::Ok,
                ..
            }
        ));
        assert!(matches!(
            p.procs[0].steps[1].action,
            Action::Umount {
                expect: Outcome::Ok,
                ..
            }
        ));
        assert!(matches!(
            p.procs[0].steps[2].action,
            Action::ForkBomb {
                expect: Outcome::Errno(Errno::EAGAIN)
            }
        ));
    }

    #[test]
    fn ns_ioctl_implies_the_kernel_that_has_its_request() {
        let implied = |text: &str| -> Vec<Requirement> {
            plan(text)
                .requirements
                .into_iter()
                .filter(|r| matches!(r, Requirement::Kernel(..) | Requirement::Feature(..)))
                .collect()
        };
        let step = |request: &str| {
            format!(
                "name: t\nnamespaces: [uts]\nsteps:\n  - ns_ioctl: {{ kind: uts, request: {request} }}\n"
            )
        };
        assert_eq!(
            implied(&step("NS_GET_USERNS")),
            [Requirement::Feature(Feature::NsGetUserns)]
        );
        assert_eq!(
            implied(&step("NS_GET_NSTYPE")),
            [Requirement::Feature(Feature::NsGetNstype)]
        );
        // An explicit newer requirement stands alone.
        let newer =
            step("NS_GET_NSTYPE").replace("steps:", "requires: [{ kernel: \"5.8\" }]\nsteps:");
        assert_eq!(implied(&newer), [Requirement::Kernel(5, 8)]);
        // The PID translations: 6.11.
        assert_eq!(
            implied(
                &step("NS_GET_PID_IN_PIDNS, arg: 1")
                    .replace("namespaces: [uts]", "namespaces: [uts, pid]")
            ),
            [Requirement::Feature(Feature::NsPidTranslation)]
        );
        // An older one leaves the feature to be tried on kernels before 4.11.
        let older =
            step("NS_GET_NSTYPE").replace("steps:", "requires: [{ kernel: \"4.9\" }]\nsteps:");
        assert_eq!(
            implied(&older),
            [
                Requirement::Kernel(4, 9),
                Requirement::Feature(Feature::NsGetNstype)
            ]
        );
    }

    /// `fork` steps nested `n` deep, in flow style (block style would need n² bytes).
    fn nested_forks(n: usize) -> String {
        let mut s = String::from("name: t\nnamespaces: [pid]\nsteps:\n  - ");
        for i in 0..n {
            s.push_str(&format!("{{fork: {{name: f{i}, steps: ["));
        }
        s.push_str(&"]}}".repeat(n));
        s.push('\n');
        s
    }

    #[test]
    fn nesting_is_bounded_without_overflowing_the_stack() {
        // Runs on a test thread (2 MiB of stack), in the test build: the deepest accepted
        // nesting must fit, and 10 000 levels must be refused cleanly, with a position.
        let deepest = (MAX_YAML_DEPTH - 2) / 3;
        let p = plan(&nested_forks(deepest));
        assert_eq!(p.procs.len(), deepest + 1);
        assert_eq!(p.procs[deepest].parent, Some(deepest - 1));
        let e = load("t", "t.yaml", &nested_forks(deepest + 1)).unwrap_err();
        assert!(e.message.starts_with("nested more than 64 levels"), "{e}");
        let e = load("t", "t.yaml", &nested_forks(10_000)).unwrap_err();
        assert!(e.message.starts_with("nested more than 64 levels"), "{e}");
        assert_eq!(e.line, 4);
    }

    #[test]
    fn hostile_sizes_and_aliases_are_refused() {
        let big = format!(
            "name: t\nnamespaces: [pid]\nsteps: []\ndescription: {}\n",
            "a".repeat(MAX_FILE_BYTES)
        );
        let e = load("t", "t.yaml", &big).unwrap_err();
        assert_eq!((e.line, e.column), (4, MAX_FILE_BYTES as u64 - 35));
        assert!(e.message.contains("larger than 1024 KiB"), "{e}");
        // Billion laughs through `fork` steps: each level repeats the previous one ten times.
        let mut bomb = String::from(
            "name: t\nnamespaces: [pid]\nsteps:\n  - fork: {name: a0, steps: &l0 [{getpid: {}}]}\n",
        );
        for i in 1..10 {
            let prev = format!("{{fork: {{name: b{i}, steps: *l{}}}}}", i - 1);
            bomb.push_str(&format!(
                "  - fork: {{name: a{i}, steps: &l{i} [{}]}}\n",
                vec![prev; 10].join(", ")
            ));
        }
        // The budget stops the expansion early: the message proves it was the budget (how long
        // that takes is a matter for benchmarks, and ten times longer under emulation).
        let e = load("t", "t.yaml", &bomb).unwrap_err();
        assert!(e.message.contains("alias bomb"), "{e}");
    }

    #[test]
    fn expected_pids_must_be_possible() {
        for (step, message) in [
            ("getpid: { expect: 0 }", "`getpid` must be 1-4194304, got 0"),
            (
                "getppid: { expect: -1 }",
                "`getppid` must be 0-4194304, got -1",
            ),
            (
                "fork: { name: a, pid: -5 }",
                "`fork` must be 1-4194304, got -5",
            ),
            (
                "list_pids: { expect: [1, -2] }",
                "`list_pids` must be 1-4194304, got -2",
            ),
            (
                "nest_pid: { depth: 3, expect: { max_level: 40 } }",
                "`max_level` must be 0-32",
            ),
        ] {
            let text = format!("name: t\nnamespaces: [pid]\nsteps:\n  - {step}\n");
            let e = load("t", "t.yaml", &text).unwrap_err();
            assert!(e.message.contains(message), "{step}: {e}");
            assert_eq!(e.line, 4, "{step}: {e}");
        }
    }

    #[test]
    fn namespace_steps_validate_their_values() {
        for (step, message) in [
            (
                "sysv_get: { object: shm, key: 0 }",
                "`key` must be 1-2147483647 (0 is IPC_PRIVATE",
            ),
            (
                "mq_open: { name: nsspec }",
                "a message queue name is `/` then 1-255 characters",
            ),
            (
                "mq_open: { name: /a/b }",
                "a message queue name is `/` then 1-255 characters",
            ),
            (
                "link_up: { name: a-very-long-interface }",
                "an interface name is 1-15 bytes",
            ),
            (
                "bind: { socket: tcp, address: \"10.0.0.1:80\" }",
                "a tcp or udp address must be a loopback address",
            ),
            (
                "bind: { socket: udp, address: \"127.0.0.1:0\" }",
                "a tcp or udp address must be a loopback address",
            ),
            (
                "bind: { socket: unix, address: /tmp/sock }",
                "a unix socket address must be abstract",
            ),
            (
                "connect: { socket: udp, address: \"127.0.0.1:53\" }",
                "`connect` takes tcp or unix sockets",
            ),
            (
                "cgroup_enter: { path: ../escape }",
                "`path` must be `.` or up to 8 names",
            ),
            (
                "cgroup_enter: { path: /abs }",
                "`path` must be `.` or up to 8 names",
            ),
            (
                "clock: { clock: realtime, shift: 60 }",
                "time namespaces never shift CLOCK_REALTIME",
            ),
            (
                "clock: { clock: monotonic, shift: 99999999999 }",
                "`shift` must be within",
            ),
            (
                "ns: { kind: net, for_children: true }",
                "`for_children` exists only for pid and time",
            ),
            (
                "ns_ioctl: { kind: user, for_children: true, request: NS_GET_PARENT }",
                "`for_children` exists only for pid and time",
            ),
            (
                "ns_ioctl: { kind: user, request: NS_GET_OWNER_UID, expect: new }",
                "NS_GET_OWNER_UID answers with a uid",
            ),
            (
                "ns_ioctl: { kind: pid, request: NS_GET_PARENT, expect: { uid: 0 } }",
                "NS_GET_PARENT answers with a namespace",
            ),
            (
                "ns_ioctl: { kind: pid, request: NS_GET_NSTYPE, expect: harness }",
                "NS_GET_NSTYPE answers with a namespace type",
            ),
            (
                "ns_ioctl: { kind: user, request: NS_GET_OWNER_UID, expect: { uid: 4294967295 } }",
                "a uid is 0-4294967294",
            ),
            (
                "ns_ioctl: { kind: user, request: NS_GET_USERNS, expect: { errno: eperm } }",
                "unknown errno name `eperm`",
            ),
        ] {
            let text = format!("name: t\nnamespaces: [net]\nsteps:\n  - {step}\n");
            let e = load("t", "t.yaml", &text).unwrap_err();
            assert!(e.message.contains(message), "{step}: {e}");
            assert_eq!(e.line, 4, "{step}: {e}");
        }
        let p = plan(
            "name: t\nnamespaces: [net]\nsteps:\n  - bind: { socket: unix, address: \"@x\" }\n  \
             - bind: { socket: tcp, address: \"127.0.0.2:80\" }\n  - cgroup_enter: { path: a/b/ }\n",
        );
        let actions: Vec<&Action> = p.procs[0].steps.iter().map(|s| &s.action).collect();
        assert!(matches!(actions[0], Action::Bind { addr: SockAddr::Abstract(n), .. } if n == "x"));
        assert!(
            matches!(actions[1], Action::Bind { addr: SockAddr::Inet(ip, 80), .. } if ip.octets() == [127, 0, 0, 2])
        );
        assert!(matches!(actions[2], Action::CgroupEnter { path, .. } if path == "a/b"));
    }

    #[test]
    fn ns_ioctl_expectations_take_the_form_of_their_request() {
        let p = plan(
            "name: t\nnamespaces: [pid]\nsteps:\n  \
             - ns_ioctl: { kind: pid, for_children: true, request: NS_GET_PARENT, expect: harness }\n  \
             - ns_ioctl: { kind: uts, request: NS_GET_USERNS, expect: { errno: EPERM } }\n  \
             - ns_ioctl: { kind: user, request: NS_GET_OWNER_UID, expect: { uid: 65534 } }\n  \
             - ns_ioctl: { kind: mount, request: NS_GET_NSTYPE, expect: { nstype: mount } }\n  \
             - ns_ioctl: { kind: net, request: NS_GET_PARENT }\n  \
             - ns_ioctl: { pid: host, kind: pid, request: NS_GET_PARENT, expect: harness }\n",
        );
        let actions: Vec<&Action> = p.procs[0].steps.iter().map(|s| &s.action).collect();
        assert!(matches!(
            actions[0],
            Action::NsIoctl {
                kind: NsKind::Pid,
                for_children: true,
                request: NsRequest::Parent,
                expect: Some(NsIoctlExpect::Harness),
                ..
            }
        ));
        assert!(matches!(
            actions[1],
            Action::NsIoctl {
                expect: Some(NsIoctlExpect::Errno(Errno::EPERM)),
                ..
            }
        ));
        assert!(matches!(
            actions[2],
            Action::NsIoctl {
                expect: Some(NsIoctlExpect::Uid(65534)),
                ..
            }
        ));
        assert!(matches!(
            actions[3],
            Action::NsIoctl {
                expect: Some(NsIoctlExpect::Nstype(NsKind::Mount)),
                ..
            }
        ));
        assert!(matches!(actions[4], Action::NsIoctl { expect: None, .. }));
        assert!(matches!(
            actions[0],
            Action::NsIoctl {
                target: Who::Proc(0),
                ..
            }
        ));
        // Naming the host process is enough to have one.
        let host = p.host.expect("a host process");
        assert!(matches!(
            actions[5],
            Action::NsIoctl { target: Who::Proc(t), label, .. } if *t == host && label == "host"
        ));
    }

    #[test]
    fn messages_are_one_line_and_bounded() {
        // Found by fuzzing: a quoted value with line breaks made a multi-line message.
        let e = load(
            "t",
            "t.yaml",
            "name: x\nnamespaces: [pid]\nsteps:\n  - nspid: { expect: \"a\\n\\rb\\e[2J\" }\n",
        )
        .unwrap_err();
        assert!(e.message.ends_with(r#"got "a\n\rb\u{1b}[2J""#), "{e}");
        let long = "x".repeat(100_000);
        let e = load(
            "t",
            "t.yaml",
            &format!("name: x\nnamespaces: [pid]\nsteps:\n  - nspid: {{ expect: \"{long}\" }}\n"),
        )
        .unwrap_err();
        assert!(
            e.message.len() <= MAX_MESSAGE + 3 && e.message.ends_with('…'),
            "{e}"
        );
        // Found by fuzzing: escapes added after the length check overshot the bound.
        let tabs = "\\t".repeat(5000);
        let e = load(
            "t",
            "t.yaml",
            &format!("name: x\nnamespaces: [pid]\nsteps:\n  - nspid: {{ expect: \"{tabs}\" }}\n"),
        )
        .unwrap_err();
        assert!(
            e.message.len() <= MAX_MESSAGE + 3 && e.message.ends_with('…'),
            "{e}"
        );
        let e = load("t", "t.yaml", "name: x\n\"a\\nb\": 1\n").unwrap_err();
        assert!(e.message.starts_with(r"unknown field `a\nb`"), "{e}");
    }

    #[test]
    fn errors_point_at_the_offending_value() {
        let e = load(
            "t",
            "t.yaml",
            "name: t\nnamespaces: [pid]\nsteps:\n  - kill: { pid: nobody }\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (4, 18));
        assert!(
            e.to_string()
                .starts_with("t.yaml:4:18: no process named `nobody`"),
            "{e}"
        );
        let e = load(
            "t",
            "t.yaml",
            "name: t\nnamespaces: [pid]\nsteps: []\nfoo: 1\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.yaml:4:1: unknown field `foo`, expected one of name, description, requires, namespaces, proc, timeout, pids_max, steps, host"
        );
    }

    /// Each process holds an event's pipe until its last step that may lead to the `notify`:
    /// the notifier until the `notify`, its ancestors until the `fork` or `enter` towards it,
    /// everyone else not at all.
    #[test]
    fn event_pipes_are_held_only_on_the_way_to_their_notifier() {
        let p = plan(
            "name: t\nnamespaces: [pid]\nsteps:\n  \
             - fork: { name: other, steps: [ { await: { event: a } } ] }\n  \
             - fork: { name: mid, steps: [ { getpid: {} }, \
                 { fork: { name: leaf, steps: [ { getpid: {} }, { notify: { event: a } }, \
                   { await: { event: b } } ] } }, { getpid: {} } ] }\n  \
             - notify: { event: b }\n  \
             - await: { event: a }\n\
             host:\n  steps:\n    - await: { event: a }\n",
        );
        let id = |name: &str| p.procs.iter().position(|q| q.name == name).unwrap();
        let ev = |name: &str| p.events.iter().position(|e| e.name == name).unwrap();
        let (a, b) = (ev("a"), ev("b"));
        let holds = |who: &str| {
            let mut h = p.event_holds(id(who));
            h.sort();
            h
        };
        // Init: `a` until its fork of `mid` (step 2), `b` until its own notify (step 3).
        let mut init = vec![(a, 2), (b, 3)];
        init.sort();
        assert_eq!(holds("init"), init);
        let mut mid = vec![(a, 2), (b, 0)];
        mid.sort();
        assert_eq!(holds("mid"), mid);
        let mut leaf = vec![(a, 2), (b, 0)];
        leaf.sort();
        assert_eq!(holds("leaf"), leaf);
        for nobody in ["other", "host"] {
            let mut none = vec![(a, 0), (b, 0)];
            none.sort();
            assert_eq!(holds(nobody), none, "{nobody}");
        }
    }
}
