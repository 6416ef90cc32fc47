//! The executor: the only module that forks, unshares, mounts or kills. All `unsafe` lives here.
//!
//! # Process structure
//!
//! ```text
//! runner (the nsspec process, single-threaded; up to `-j` supervisors at once)
//! ├─ guardian           one per run, in no scenario's process group or cgroup: cleans up
//! │                     after a supervisor that dies without doing so, also after the runner
//! └─ supervisor         own process group; rootless: own user namespace; own mount+UTS+IPC
//!    │                  namespaces, mounts made private; pids cgroup; child subreaper
//!    ├─ host            runs `host.steps` outside the scenario's namespaces (optional)
//!    │  └─ (entered)    processes the host creates with `enter` (setns + fork)
//!    └─ init            first process of the scenario's namespaces (PID 1 with `pid`)
//!       └─ (forked)     processes created by `fork` steps, and so on
//! ```
//!
//! **Why fork from a single-threaded runner and not from test threads.** `fork()` in a
//! multi-threaded process leaves the child with only async-signal-safe functions (another
//! thread may hold the allocator's lock), and `unshare(CLONE_NEWUSER)` refuses multi-threaded
//! callers. The `nsspec` binary starts no thread of its own, so the runner may fork and the
//! children may allocate freely; the only threads are a scenario's (`thread` steps), which
//! sleep with every signal blocked and hold no lock or descriptor once their step is done, so
//! a forked child of such a process may too (glibc's fork() takes the allocator's locks
//! across the fork besides). A child made by glibc's clone() (a `fork` with `namespaces`)
//! keeps the creator's threads in glibc's list, which its fork() would have cleared: setxid
//! calls broadcast to them and can wait forever, so validation refuses `set_ids` there. The
//! libtest-mimic harness, which *is* multi-threaded, never forks: each trial re-executes the
//! `nsspec` binary (`nsspec run --json`), which costs one exec per scenario and keeps every
//! trial in a process of its own.
//!
//! **Why a supervisor.** Everything a scenario does happens below a process that first moves
//! into a private mount namespace (MS_REC|MS_PRIVATE before any mount) and private UTS and IPC
//! namespaces. A scenario that mounts /proc or sets the hostname *without* its own namespace
//! therefore changes the supervisor's view — the "outer view" the host checks report — and never
//! the real host. The supervisor dies with the runner (PR_SET_PDEATHSIG), init dies with the
//! supervisor, and every other process of the scenario dies with its PID namespace's init; the
//! guardian SIGKILLs the supervisor's process group for whatever that misses and removes its
//! cgroup (see `RunGuardian`), so even a SIGKILLed runner leaves nothing behind.
//!
//! **Results** travel as JSON lines over one pipe shared by every process; each record is a
//! single write() of at most PIPE_BUF bytes, so records from different processes never
//! interleave. Processes find each other's PIDs through a small table in shared memory.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::mount::MsFlags;
use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use crate::plan::{Action, CAUGHT_MAX, MAX_PROCS, Plan, Requirement, SockAddr, StepPlan, Who};
use crate::probe::{Host, Mode};
use crate::schema::{ClockKind, CrashKind, NsKind, NsRequest, SocketKind, SysvKind};

/// The kernel's PID-namespace nesting limit is 32; NSpid can hold that many levels plus ours.
const MAX_LEVELS: usize = 40;
/// Records longer than this are replaced: pipe writes up to PIPE_BUF (4096) are atomic.
const MAX_RECORD: usize = 4000;
/// Most bytes of a file a `read` step records (a record must fit in [`MAX_RECORD`]).
pub(crate) const MAX_TEXT: usize = 2048;
/// How long the supervisor keeps draining results after killing a timed-out scenario.
const KILL_GRACE: Duration = Duration::from_secs(2);
/// How often the supervisor looks for children to reap or kill once results have ended or time
/// is up: adopted orphans have no descriptor to wake it.
const REAP_TICK: Duration = Duration::from_millis(5);
/// How much longer than the scenario's own limit the runner waits for the supervisor.
const RUNNER_GRACE: Duration = Duration::from_secs(10);

/// The supervisor's end of the report pipe, closed in every process it forks.
static REPORT_FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);
/// The sending end of the run guardian's socket (see [`RunGuardian`]): the runner's, inherited by
/// each supervisor, and closed in every process a supervisor forks, since a scenario process
/// holding it would keep the guardian from ever seeing it closed.
static GUARDIAN_FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);
/// The runner's own descriptors, closed in each supervisor: the one that stops a run when it
/// becomes readable (`run_many`'s `stop`, first), and those [`runner_only`] names.
static RUNNER_ONLY: [std::sync::atomic::AtomicI32; 3] =
    [const { std::sync::atomic::AtomicI32::new(-1) }; 3];

/// Names descriptors (at most two) that only the runner may hold, such as its signalfd: each
/// supervisor closes them first thing, so no scenario process inherits them.
pub fn runner_only(fds: &[RawFd]) {
    for (slot, fd) in RUNNER_ONLY[1..].iter().zip(fds) {
        slot.store(*fd, std::sync::atomic::Ordering::Relaxed);
    }
}

/// One observation, as sent by a scenario process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// Index of the process in [`Plan::procs`].
    pub proc: usize,
    /// 1-based step index; 0 for the process's start.
    pub step: usize,
    pub obs: Obs,
    /// The namespaces the step created (an `unshare`'s, by kind: for `pid` and `time` the
    /// one waiting for children, `pid` only where a pidfd shows it), by inode. The kernel
    /// hands a freed namespace's inode number to the next one it creates, so without this a
    /// namespace created after another one of its kind has gone would take the gone one's
    /// label in the record (see `report::tell_reused_apart`). Recorded with the step, before
    /// the process can do anything else; a process's start needs none, as the plan says what
    /// its creation made.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub born: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Res {
    Ok,
    Errno(i32),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Waited {
    Exited(i32),
    Signaled(i32),
    Errno(i32),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Obs {
    /// The process's PIDs (NSpid, outermost first, as the harness's /proc shows them) and the
    /// inode of each of its namespaces.
    Started {
        nspid: Vec<i64>,
        ns: BTreeMap<String, u64>,
    },
    Value(i64),
    /// A PID a translation request gave; `harness`: it is a number of the harness's PID
    /// namespace (a host PID): `…_IN_PIDNS` on a file of that namespace, or any translation
    /// where an `unshare` left a process shallower than planned.
    Translated {
        pid: i64,
        harness: bool,
    },
    /// `level`: the PID-namespace level of the number (the parent's).
    Forked {
        pid: i64,
        level: usize,
    },
    /// A new thread's ID; `level`: the PID-namespace level of the number (its process's).
    Thread {
        tid: i64,
        level: usize,
    },
    Result(Res),
    /// A call aimed at a process by number (kill, pidfd_open): `level` is the PID-namespace
    /// level the number `pid` belongs to (0: the harness's).
    Targeted {
        pid: i64,
        level: usize,
        res: Res,
    },
    Waited(Waited),
    /// `level`: the level of the PID namespace of the /proc that was read, when known.
    Pids {
        level: Option<usize>,
        pids: Vec<i64>,
    },
    Nspid {
        level: usize,
        pids: Vec<i64>,
    },
    /// The NSpid line of a pidfd's fdinfo (its Pid line where there is none): numbers from the
    /// PID namespace of the /proc read (at `level`) down; `[0]` or `[-1]` alone.
    Fdinfo {
        level: usize,
        pids: Vec<i64>,
    },
    /// The si_pid of each delivery a `catch` handler recorded (0: a sender outside the
    /// receiver's PID namespace); `level` is the receiver's; `more`: deliveries past the
    /// first [`CAUGHT_MAX`], counted but not kept.
    Caught {
        level: usize,
        pids: Vec<i64>,
        more: usize,
    },
    Visible {
        pid: i64,
        level: usize,
        visible: bool,
    },
    /// `level`: deepest PID-namespace level reached; `created`: namespaces created on the way.
    Nest {
        level: usize,
        created: u32,
        errno: Option<i32>,
    },
    Hostname(String),
    /// File content, white space folded. `cut`: the file goes on past the [`MAX_TEXT`] bytes
    /// read, so the text is only its start and no expectation of the whole file can be judged.
    Text {
        text: String,
        cut: bool,
    },
    Flag(bool),
    /// Names, sorted (the directories of a `subdirs` step).
    Names(Vec<String>),
    /// The mounts a `mounts` step found, in mount-point order.
    Mounts(Vec<MountSeen>),
    /// Interfaces as `NAME up`/`NAME down`, in index order; `None` in the harness's network
    /// namespace (the host's: not recorded).
    Links(Option<Vec<String>>),
    /// A line of /proc/PID/cgroup for the scenario's hierarchy. `harness_ns`: the reader is in
    /// the harness's cgroup namespace, so the path is absolute on this host; `scenario`: the
    /// scenario's cgroup as the harness sees it, when it has one.
    Cgroup {
        path: String,
        harness_ns: bool,
        scenario: Option<String>,
    },
    /// Whether a clock reads the harness's shifted as expected; `off_ms`: by how much it
    /// missed (host-specific: only for messages).
    Clock {
        matches: bool,
        off_ms: i64,
    },
    /// A namespace of the process (or one an ioctl_ns(2) request led to): its inode, and
    /// whether it is the harness's own.
    Ns {
        kind: String,
        inode: u64,
        harness: bool,
    },
    /// The CLONE_NEW* flag NS_GET_NSTYPE returned.
    Nstype(i32),
    /// The harness could not carry out the step.
    Failed(String),
}

/// What the supervisor saw of its own view before and after the scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OuterView {
    /// Every mount, in mountinfo order; in a supervisor's report only those not in the other
    /// reading (`RunOutput::keep_mount_changes_only`).
    pub mounts: Vec<OuterMount>,
    /// What /proc/self points at: `Ok(pid)` or the errno of readlink.
    pub proc_self: Result<i64, i32>,
    pub hostname: String,
}

impl Default for OuterView {
    fn default() -> Self {
        OuterView {
            mounts: Vec::new(),
            proc_self: Err(libc::ENOENT),
            hostname: String::new(),
        }
    }
}

/// One mount of the outer view: its mountinfo line but for the propagation fields (peer-group
/// numbers). Two readings of the same mount namespace compare equal only for the very same
/// mount, as it was: a mount swapped for another of the same type and place has another mount
/// ID, and one of a new superblock (a new procfs) another device; a remount shows in the
/// options. Paths are decoded (see `MountInfoLine`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OuterMount {
    pub id: u64,
    pub parent: u64,
    pub dev: String,
    pub root: String,
    pub point: String,
    pub options: String,
    pub fstype: String,
    pub source: String,
    pub super_options: String,
}

impl OuterMount {
    /// `TYPE on POINT`, the point escaped as mountinfo writes it: for reports.
    pub fn shown(&self) -> String {
        format!(
            "{} on {}",
            self.fstype,
            crate::plan::escape_mount_path(&self.point)
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timeout {
    pub after: Duration,
    /// (process, 1-based step) of every process still running a step when time ran out.
    pub in_steps: Vec<(usize, usize)>,
}

/// One line of /proc/PID/mountinfo, as far as a `mounts` step reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountSeen {
    /// The path, with mountinfo's octal escapes decoded (see [`MountSeen::entry`]).
    pub point: String,
    pub fstype: String,
    /// The peer group it belongs to (`shared:N`) and the one it receives from (`master:N`).
    pub shared: Option<u64>,
    pub master: Option<u64>,
    pub unbindable: bool,
}

impl MountSeen {
    /// The mount as a `mounts` expectation writes it: `POINT FSTYPE PROPAGATION`.
    pub fn entry(&self) -> String {
        format!(
            "{} {} {}",
            self.shown_point(),
            self.fstype,
            self.propagation()
        )
    }

    /// The mount point as mountinfo writes it, white space and backslashes escaped in octal:
    /// one field, however the path is spelled, in entries and the record.
    pub fn shown_point(&self) -> String {
        crate::plan::escape_mount_path(&self.point)
    }

    /// The propagation as a `mounts` expectation names it (see `plan::PROPAGATIONS`).
    pub fn propagation(&self) -> &'static str {
        match (
            self.shared.is_some(),
            self.master.is_some(),
            self.unbindable,
        ) {
            (_, _, true) => "unbindable",
            (true, true, _) => "shared+slave",
            (true, false, _) => "shared",
            (false, true, _) => "slave",
            (false, false, _) => "private",
        }
    }
}

/// The mounts a `mounts` step lists: the topmost mount on `under` and every mount in the tree
/// on top of it (by parent ID), sorted by mount point (stably: mounts stacked on one point stay
/// in mount order). Mounts of the same path in other trees — a host's /proc/sys/fs/binfmt_misc
/// under a fresh /proc — are not the scenario's and are left out. Fields per
/// proc_pid_mountinfo(5).
pub(crate) fn mounts_under(text: &str, under: &str) -> Vec<MountSeen> {
    struct Line {
        id: u64,
        parent: u64,
        seen: MountSeen,
    }
    let lines: Vec<Line> = text
        .lines()
        .filter_map(MountInfoLine::parse)
        .map(|m| {
            let mut seen = MountSeen {
                point: m.point.to_string(),
                fstype: m.fstype.to_string(),
                shared: None,
                master: None,
                unbindable: false,
            };
            for tag in m.optional.split(' ') {
                match tag.split_once(':') {
                    Some(("shared", n)) => seen.shared = n.parse().ok(),
                    Some(("master", n)) => seen.master = n.parse().ok(),
                    _ if tag == "unbindable" => seen.unbindable = true,
                    _ => {}
                }
            }
            Line {
                id: m.id,
                parent: m.parent,
                seen,
            }
        })
        .collect();
    // The topmost mount on `under`: one with no other mount on the same point on top of it.
    let on_point: Vec<&Line> = lines.iter().filter(|l| l.seen.point == under).collect();
    let Some(top) = on_point
        .iter()
        .rev()
        .find(|l| !on_point.iter().any(|o| o.parent == l.id))
    else {
        return Vec::new();
    };
    let mut tree = vec![top.id];
    let mut i = 0;
    while i < tree.len() {
        let id = tree[i];
        for l in &lines {
            if l.parent == id && !tree.contains(&l.id) {
                tree.push(l.id);
            }
        }
        i += 1;
    }
    let mut seen: Vec<MountSeen> = lines
        .into_iter()
        .filter(|l| tree.contains(&l.id) && crate::plan::under_mount(&l.seen.point, under))
        .map(|l| l.seen)
        .collect();
    // As the entries are written (`plan::mount_point`), so that both lists sort alike.
    seen.sort_by_cached_key(MountSeen::shown_point);
    seen
}

/// Everything one execution produced, before any judgement.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct RunOutput {
    pub records: Vec<Record>,
    /// How the supervisor's children (init, host) ended, by process index.
    pub exits: Vec<(usize, Waited)>,
    pub timeout: Option<Timeout>,
    pub supervisor_pid: i64,
    pub supervisor_ns: BTreeMap<String, u64>,
    pub before: OuterView,
    pub after: OuterView,
    /// The harness itself failed; the scenario's result is meaningless.
    pub error: Option<String>,
    /// No report came from the supervisor (it died, or could not be started or heard from):
    /// nothing is known of what the scenario's processes did, not even that they never ran.
    pub unheard: bool,
    /// How the number of processes was limited (host-specific, so not in the record).
    pub pids_limit: String,
    /// The runner's own mount table changed while the scenario ran (isolation may have been
    /// breached): what changed.
    pub host_mounts_changed: Option<String>,
    /// Creating the sandbox's or the scenario's namespaces failed (see `Host::inferred`).
    pub setup_failed: bool,
    /// The processes (by index) the supervisor SIGKILLed in the normal course of the run: a
    /// host process with no steps once init has ended, or whose init never started (it may
    /// have been dead or dying already).
    pub harness_killed: Vec<usize>,
    pub elapsed: Duration,
}

impl RunOutput {
    /// Keeps of the outer view's two mount tables only the mounts that differ: their multiset
    /// differences, all the report looks at, are those of what is left, and the whole tables,
    /// each mount with every mountinfo field, made most of a passing scenario's report.
    fn keep_mount_changes_only(&mut self) {
        let (before, after) = (&self.before.mounts, &self.after.mounts);
        let removed = mounts_minus(before, after).into_iter().cloned().collect();
        let added = mounts_minus(after, before).into_iter().cloned().collect();
        (self.before.mounts, self.after.mounts) = (removed, added);
    }

    /// How `proc` (init or the host process, the supervisor's children) ended, where it ended
    /// without having started (no record of its start or of a failed set-up): killed first,
    /// by the OOM killer, say, or by nsspec at the time limit.
    pub fn ended_unstarted(&self, proc: usize) -> Option<&Waited> {
        if self.records.iter().any(|r| r.proc == proc && r.step == 0) {
            return None;
        }
        self.exits.iter().find(|(p, _)| *p == proc).map(|(_, w)| w)
    }
}

/// Whether a scenario that forks until its process limit `next` stops it may start beside
/// those running with `running`: only while their limits together fit in the host's `room`
/// (see [`crate::probe::fork_room`]), or when none runs (the probe skips one that alone does
/// not fit).
fn bombs_fit(running: &[u32], next: u32, room: u64) -> bool {
    running.is_empty()
        || running.iter().map(|&n| u64::from(n)).sum::<u64>() + u64::from(next) <= room
}

/// The scenario to start next, if any may: the oldest passed over that `fits` now, else the
/// next in order (`next`, of `len`), passing over into `waiting` those that do not fit. So a
/// fork bomb waiting for room holds up none of the scenarios after it.
fn next_to_start(
    waiting: &mut Vec<usize>,
    next: &mut usize,
    len: usize,
    fits: impl Fn(usize) -> bool,
) -> Option<usize> {
    if let Some(k) = waiting.iter().position(|&i| fits(i)) {
        return Some(waiting.remove(k));
    }
    while *next < len {
        *next += 1;
        if fits(*next - 1) {
            return Some(*next - 1);
        }
        waiting.push(*next - 1);
    }
    None
}

/// The longest stall before a step, in microseconds (0: none), and the seed of the draws; see
/// [`set_jitter`].
static JITTER_US: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
static JITTER_SEED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How long this process stalls before each of its steps under [`set_jitter`] (set as each
/// scenario process starts).
static SLOWNESS_US: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Makes the processes of the scenarios run after this fast or slow at random: each is fast
/// (no stall) or, one in two, slow, and stalls before each of its steps for the same time,
/// between half of `max` and `max` (rounded to microseconds; zero turns it off). Which, and
/// how slow, is a function of `seed`, the scenario's id and the process ([`slowness`]), so
/// that a run with the same seed draws the same.
///
/// A scenario's record must not depend on how the kernel schedules its processes: an order
/// between two processes' steps that no `notify`/`await`, `wait` or `fork` enforces is a race,
/// and a run where the one that usually comes second comes first records something else. Left
/// to the scheduler such a run is rare (one in hundreds of runs of the catalogue on a busy
/// machine); here one process held up while the others run their steps, which is what such a
/// run needs, comes in about one run in 2^n for n processes, so running a scenario a few dozen
/// times this way (`nsspec run --jitter`, `robust/soak --jitter`) finds it. Stalls drawn per
/// step instead, short or long, rarely hold one process up for all the steps another runs
/// meanwhile: that one's own stalls add up too.
pub fn set_jitter(max: Duration, seed: u64) {
    use std::sync::atomic::Ordering::Relaxed;
    let us = u32::try_from(max.as_micros()).unwrap_or(u32::MAX);
    JITTER_SEED.store(seed, Relaxed);
    JITTER_US.store(us, Relaxed);
}

/// [`set_jitter`]'s longest stall and seed, when it is on.
pub fn jitter() -> Option<(Duration, u64)> {
    use std::sync::atomic::Ordering::Relaxed;
    let us = JITTER_US.load(Relaxed);
    (us > 0).then(|| (Duration::from_micros(us.into()), JITTER_SEED.load(Relaxed)))
}

/// The stall before each step of process `proc` (its index in the plan) of scenario `id`
/// under [`set_jitter`]: zero for a fast one, and always zero with jitter off.
pub fn slowness(id: &str, proc: usize) -> Duration {
    jitter().map_or(Duration::ZERO, |(max, seed)| {
        draw_slowness(max, seed, id, proc)
    })
}

/// [`slowness`] under `--jitter max --jitter-seed seed`. The id is the scenario's, which for
/// a file given by path comes from the path: the same seed draws the same for the same path.
pub fn draw_slowness(max: Duration, seed: u64, id: &str, proc: usize) -> Duration {
    /// splitmix64's finaliser: every bit of the input moves about half of the output's.
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let max = u64::try_from(max.as_micros()).unwrap_or(u64::MAX / 2);
    // A hash that is the same in every build, unlike std's.
    let id = crate::schema::fnv1a(id.as_bytes());
    let r = mix(seed ^ mix(id ^ mix(proc as u64)));
    if r & 1 == 0 {
        return Duration::ZERO;
    }
    let half = max / 2;
    Duration::from_micros(half + (r >> 1) % (max - half + 1))
}

/// The scenario's time limit, and under [`set_jitter`] what its processes' stalls may add: a
/// slow process stalls before each of its steps, so a chain of steps across processes is held
/// up by at most the longest stall times the number of steps.
fn time_limit(plan: &Plan) -> Duration {
    let steps: usize = plan.procs.iter().map(|p| p.steps.len()).sum();
    let stalls = jitter().map_or(Duration::ZERO, |(max, _)| {
        max.saturating_mul(u32::try_from(steps).unwrap_or(u32::MAX))
    });
    plan.timeout.saturating_add(stalls)
}

/// The stall of [`set_jitter`]'s before a step of this process, if it is a slow one.
fn stall() {
    let us = SLOWNESS_US.load(std::sync::atomic::Ordering::Relaxed);
    if us > 0 {
        std::thread::sleep(Duration::from_micros(us.into()));
    }
}

/// Runs `plans` on `host` (as [`Host::probe_for`] measured it in this process) with at most
/// `jobs` supervisors at a time and calls `done(index, output)` for each as it finishes. Every
/// scenario has its own supervisor, sandbox and namespaces, so concurrent ones cannot see each
/// other. Must be called from a single-threaded process.
///
/// Once `stop` is readable (the CLI passes a signalfd for SIGINT, SIGTERM and SIGHUP), no
/// scenario starts, the running ones are killed, and `run_many` returns `true` when their
/// supervisors have been reaped and the guardian has removed what was left of them: `done` is
/// not called for those nor for the ones that never started.
pub fn run_many(
    plans: &[&Plan],
    host: &Host,
    jobs: usize,
    stop: Option<BorrowedFd<'_>>,
    mut done: impl FnMut(usize, RunOutput),
) -> bool {
    // Reset however this returns: a later run (a library caller's) may pass none.
    struct Forget;
    impl Drop for Forget {
        fn drop(&mut self) {
            for slot in &RUNNER_ONLY {
                slot.store(-1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
    let _forget = Forget;
    RUNNER_ONLY[0].store(
        stop.map_or(-1, |fd| fd.as_raw_fd()),
        std::sync::atomic::Ordering::Relaxed,
    );
    let mut next = 0;
    // Fork bombs passed over until those running leave them room, oldest first.
    let mut waiting: Vec<usize> = Vec::new();
    let mut watch = MountWatch::open(libc::AT_FDCWD, "/proc/self/mountinfo");
    let env = RunEnv {
        rootless: host.mode == Mode::Rootless,
        cgroups: crate::limits::places(&String::from_utf8_lossy(&watch.current)),
        signals_ignored: host.signals_ignored,
    };
    crate::timing::mark("runner: run prepared");
    // Dropped on every return: waits until the guardian has cleaned up and exited.
    let guardian = if plans.is_empty() {
        None
    } else {
        RunGuardian::spawn()
    };
    crate::timing::mark("runner: guardian forked");
    // Both dropped before the guardian: the guardian exits only once every supervisor has.
    let mut exiting = Exiting(Vec::new());
    let mut active = Running(Vec::new());
    loop {
        while active.len() < jobs.max(1) {
            let bombs = |i: usize| plans[i].requirements.contains(&Requirement::ProcessLimit);
            let fits = |i: usize, active: &Running| {
                let Some(room) = host.fork_room.filter(|_| bombs(i)) else {
                    return true;
                };
                let running: Vec<u32> = active
                    .iter()
                    .filter(|a| bombs(a.index))
                    .map(|a| plans[a.index].pids_max)
                    .collect();
                bombs_fit(&running, plans[i].pids_max, room)
            };
            let Some(start) =
                next_to_start(&mut waiting, &mut next, plans.len(), |i| fits(i, &active))
            else {
                break;
            };
            // The runner's own table is checked against the text as it was when the scenario
            // started: a mount made on the host meanwhile is no doing of later scenarios.
            let (mounts, _) = watch.now();
            match Active::spawn(start, plans[start], &env, mounts) {
                Ok(a) => active.push(a),
                Err(error) => done(start, failed(error)),
            }
        }
        if next == plans.len()
            && waiting.is_empty()
            && let Some(g) = &guardian
        {
            // No more supervisors to hand the socket to: the guardian can see its end as soon
            // as the last one exits, while we are still reporting.
            g.all_started();
        }
        exiting.reap_finished();
        if active.is_empty() {
            return false;
        }
        let now = Instant::now();
        let wait = active
            .iter()
            .map(|a| a.deadline.saturating_duration_since(now))
            .min()
            .unwrap_or_default();
        let mut fds: Vec<libc::pollfd> = active
            .iter()
            .map(|a| a.fd.as_raw_fd())
            .chain(stop.map(|fd| fd.as_raw_fd()))
            .map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: `fds` is a valid array of pollfd for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, poll_ms(wait)) };
        if stop.is_some() && fds.last().is_some_and(|p| p.revents != 0) {
            // `active` is dropped first: its supervisors are SIGKILLed and reaped (the guardian
            // kills their process groups and cgroups), then the guardian is waited for.
            return true;
        }
        if n < 0 && Errno::last() != Errno::EINTR {
            // Nothing sensible is left to wait for: what runs is killed, and what has not
            // started is reported as failed too: every plan gets a result.
            let why = format!("the runner's poll() failed: {}", Errno::last().desc());
            for a in active.drain(..) {
                let idx = a.index;
                let mut out = a.finish(false, &mut watch, &mut exiting);
                out.error = Some(format!("{why}; {}", out.error.unwrap_or_default()));
                done(idx, out);
            }
            for idx in waiting.drain(..).chain(next..plans.len()) {
                done(idx, failed(format!("{why}; not started")));
            }
            return false;
        }
        let mut i = 0;
        while i < active.len() {
            let eof = fds[i].revents != 0 && active[i].read_chunk();
            let complete = eof || active[i].reported();
            let late = Instant::now() >= active[i].deadline;
            if complete || late {
                fds.remove(i);
                let a = active.remove(i);
                let idx = a.index;
                done(idx, a.finish(complete, &mut watch, &mut exiting));
            } else {
                i += 1;
            }
        }
    }
}

/// Supervisors that have reported and are still exiting: reaped as they go, and all of them
/// when the run ends.
struct Exiting(Vec<nix::unistd::Pid>);

impl Exiting {
    fn reap_finished(&mut self) {
        self.0.retain(|pid| {
            matches!(
                nix::sys::wait::waitpid(*pid, Some(nix::sys::wait::WaitPidFlag::WNOHANG)),
                Ok(nix::sys::wait::WaitStatus::StillAlive)
            )
        });
    }
}

impl Drop for Exiting {
    fn drop(&mut self) {
        for pid in self.0.drain(..) {
            let _ = nix::sys::wait::waitpid(pid, None);
        }
        crate::timing::mark("runner: supervisors reaped");
    }
}

/// What the runner finds out once and every supervisor inherits.
struct RunEnv {
    /// The harness runs in a user namespace of its own (see `probe::Mode::Rootless`).
    rootless: bool,
    /// Where scenario cgroups can be created.
    cgroups: crate::limits::Places,
    /// The signals the runner ignores, which each supervisor sets back to their default.
    signals_ignored: u64,
}

/// The supervisors the runner is waiting for. Left over only when `run_many` unwinds (a
/// panic while reporting): they are killed and reaped then, since the guardian waited for
/// next would otherwise wait for them, and they for a reader of their reports.
struct Running(Vec<Active>);

impl std::ops::Deref for Running {
    type Target = Vec<Active>;
    fn deref(&self) -> &Vec<Active> {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Vec<Active> {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for a in self.0.drain(..) {
            let _ = nix::sys::signal::kill(a.child, Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(a.child, None);
        }
    }
}

/// A supervisor the runner is waiting for.
struct Active {
    index: usize,
    child: nix::unistd::Pid,
    fd: OwnedFd,
    buf: Vec<u8>,
    started: Instant,
    deadline: Instant,
    limit: Duration,
    /// The runner's mountinfo text when the supervisor was forked.
    mounts: std::rc::Rc<[u8]>,
}

impl Active {
    /// Forks the supervisor for `plan`; `Err` says why it could not be started. `mounts`: the
    /// runner's mount table now, to compare with when it has finished.
    fn spawn(
        index: usize,
        plan: &Plan,
        env: &RunEnv,
        mounts: std::rc::Rc<[u8]>,
    ) -> Result<Active, String> {
        let started = Instant::now();
        let (read_end, write_end) =
            pipe().map_err(|e| format!("cannot create a pipe: {}", e.desc()))?;
        let runner = std::process::id() as i32;
        // SAFETY: the runner is single-threaded (module docs), so the child may run arbitrary
        // code.
        match unsafe { nix::unistd::fork() } {
            Err(e) => Err(format!("cannot fork the supervisor: {}", e.desc())),
            Ok(nix::unistd::ForkResult::Child) => {
                drop(read_end);
                let fds = RUNNER_ONLY
                    .iter()
                    .map(|s| s.swap(-1, std::sync::atomic::Ordering::Relaxed));
                for fd in fds.filter(|fd| *fd >= 0) {
                    // SAFETY: the runner's descriptors, of no use here (and none of the
                    // scenario's).
                    unsafe { libc::close(fd) };
                }
                // Scenario processes must not hold the report pipe: the runner reads it to EOF.
                REPORT_FD.store(write_end.as_raw_fd(), std::sync::atomic::Ordering::Relaxed);
                let mut out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    supervise(plan, runner, env)
                }))
                .unwrap_or_else(|_| failed("the supervisor panicked".into()));
                out.keep_mount_changes_only();
                let mut json = serde_json::to_vec(&out).unwrap_or_default();
                // Marks the report complete (compact JSON has no newline of its own).
                json.push(b'\n');
                let _ = write_all(write_end.as_raw_fd(), &json);
                crate::timing::mark("supervisor: report written");
                exit_now(0)
            }
            Ok(nix::unistd::ForkResult::Parent { child }) => {
                crate::timing::mark("runner: supervisor forked");
                drop(write_end);
                let limit = time_limit(plan) + RUNNER_GRACE;
                Ok(Active {
                    index,
                    child,
                    fd: read_end,
                    buf: Vec::new(),
                    started,
                    deadline: started + limit,
                    limit,
                    mounts,
                })
            }
        }
    }

    /// Reads what is available; true at EOF (or on a read error).
    fn read_chunk(&mut self) -> bool {
        // Straight into `buf`, no bounce buffer: while a supervisor lives, each page the
        // runner writes is a copy-on-write fault.
        self.buf.reserve(16384);
        let spare = self.buf.spare_capacity_mut();
        loop {
            // SAFETY: `spare` is writable memory of `spare.len()` bytes owned by `buf`.
            let n =
                unsafe { libc::read(self.fd.as_raw_fd(), spare.as_mut_ptr().cast(), spare.len()) };
            match n {
                0 => return true,
                n if n > 0 => {
                    // SAFETY: read() initialised the first `n` spare bytes.
                    unsafe { self.buf.set_len(self.buf.len() + n as usize) };
                    return false;
                }
                _ if Errno::last() == Errno::EINTR => continue,
                _ => return true,
            }
        }
    }

    /// The supervisor's report is in: it ends with the newline the supervisor writes last,
    /// after it has reaped the scenario and removed its cgroup. What remains of the
    /// supervisor is its own exit, which need not hold up the report.
    fn reported(&self) -> bool {
        self.buf.last() == Some(&b'\n')
    }

    fn finish(self, complete: bool, watch: &mut MountWatch, exiting: &mut Exiting) -> RunOutput {
        crate::timing::mark("runner: report read");
        if !complete {
            // SIGKILL of the supervisor takes the scenario down with it (PR_SET_PDEATHSIG).
            let _ = nix::sys::signal::kill(self.child, Signal::SIGKILL);
        }
        let mut out = match serde_json::from_slice::<RunOutput>(&self.buf) {
            Ok(out) => {
                exiting.0.push(self.child);
                out
            }
            Err(_) => {
                let ended = match wait_for(self.child.as_raw()) {
                    Waited::Exited(c) => format!("exited {c}"),
                    Waited::Signaled(s) => Signal::try_from(s)
                        .map_or(format!("killed by signal {s}"), |s| {
                            format!("killed by {s}")
                        }),
                    Waited::Errno(e) => Errno::from_raw(e).desc().to_string(),
                };
                unheard(if complete {
                    format!(
                        "the supervisor ended without a report ({ended}): what the scenario's \
                         processes did is not known (they were killed with it)"
                    )
                } else {
                    format!(
                        "the supervisor did not finish within {:?} and was killed ({ended}): \
                         what the scenario's processes did is not known",
                        self.limit
                    )
                })
            }
        };
        let (now, _) = watch.now();
        if now != self.mounts {
            out.host_mounts_changed = Some(mount_changes(&self.mounts, &now));
        }
        out.elapsed = self.started.elapsed();
        out
    }
}

fn failed(error: String) -> RunOutput {
    RunOutput {
        error: Some(error),
        ..RunOutput::default()
    }
}

/// The runner's result for a scenario whose supervisor sent no report.
fn unheard(error: String) -> RunOutput {
    RunOutput {
        unheard: true,
        ..failed(error)
    }
}

fn setup_failed(error: String) -> RunOutput {
    RunOutput {
        setup_failed: true,
        ..failed(error)
    }
}

/// Per-process slot of the shared PID table.
#[repr(C)]
struct Slot {
    /// Number of valid entries in `nspid`; 0 until the process has started.
    levels: std::sync::atomic::AtomicI32,
    /// The step being executed (1-based), 0 before the first, -1 after the last.
    step: std::sync::atomic::AtomicI32,
    /// 1 once the process has been reaped (by a `wait` step or the supervisor): its PID may
    /// then belong to another process, so its name must no longer lead to that number.
    reaped: std::sync::atomic::AtomicI32,
    nspid: [std::sync::atomic::AtomicI32; MAX_LEVELS],
}

/// What nsspec is killing of a scenario (see [`Table::teardown`]).
#[derive(Clone, Copy)]
enum Teardown {
    Host = 1,
    All = 2,
}

/// A table of [`Slot`]s in anonymous shared memory, inherited by every fork.
struct Table {
    base: *mut Slot,
}

impl Table {
    fn new() -> Result<Table, Errno> {
        // One slot more than processes: the last one's `levels` is the teardown flag.
        let len = std::mem::size_of::<Slot>() * (MAX_PROCS + 2);
        // SAFETY: a fresh anonymous mapping; zeroed memory is a valid array of atomics.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(Errno::last());
        }
        Ok(Table { base: ptr.cast() })
    }

    /// Set once nsspec ends what is left of the scenario from outside its steps: the host
    /// process alone ([`Teardown::Host`]: init never started, so the supervisor kills it) or
    /// everything (time ran out). An event pipe that reads as ended after this may have been
    /// closed by those deaths, not by its notifier's own end, so the `await`s of the processes
    /// being killed wait for it instead of recording "never notified": what the record says
    /// must not depend on which process a kill reached first.
    fn teardown(&self) -> &std::sync::atomic::AtomicI32 {
        // SAFETY: the slot after the last process's, inside the mapping (see `new`).
        unsafe { &(*self.base.add(MAX_PROCS + 1)).levels }
    }

    fn begin_teardown(&self, what: Teardown) {
        self.teardown()
            .fetch_max(what as i32, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether process `me` is being killed by nsspec (see [`Table::teardown`]).
    fn tearing_down(&self, me: usize, host: Option<usize>) -> bool {
        match self.teardown().load(std::sync::atomic::Ordering::SeqCst) {
            0 => false,
            t if t == Teardown::Host as i32 => Some(me) == host,
            _ => true,
        }
    }

    fn slot(&self, i: usize) -> &Slot {
        assert!(i <= MAX_PROCS);
        // SAFETY: `i` is in bounds of the mapping, which lives until the process exits (it is
        // never unmapped: the supervisor exits right after the scenario).
        unsafe { &*self.base.add(i) }
    }

    fn publish(&self, i: usize, nspid: &[i64]) {
        use std::sync::atomic::Ordering::SeqCst;
        let s = self.slot(i);
        let n = nspid.len().min(MAX_LEVELS);
        for (k, pid) in nspid.iter().take(n).enumerate() {
            s.nspid[k].store(*pid as i32, SeqCst);
        }
        s.levels.store(n as i32, SeqCst);
    }

    fn nspid(&self, i: usize) -> Option<Vec<i64>> {
        use std::sync::atomic::Ordering::SeqCst;
        let s = self.slot(i);
        let n = s.levels.load(SeqCst);
        (n > 0).then(|| {
            (0..n as usize)
                .map(|k| s.nspid[k].load(SeqCst) as i64)
                .collect()
        })
    }

    fn set_step(&self, i: usize, step: i32) {
        self.slot(i)
            .step
            .store(step, std::sync::atomic::Ordering::SeqCst);
    }

    fn step(&self, i: usize) -> i32 {
        self.slot(i).step.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Called by whoever reaped process `i`; it is in no step any more either.
    fn mark_reaped(&self, i: usize) {
        use std::sync::atomic::Ordering::SeqCst;
        let s = self.slot(i);
        s.step.store(-1, SeqCst);
        s.reaped.store(1, SeqCst);
    }

    fn reaped(&self, i: usize) -> bool {
        self.slot(i)
            .reaped
            .load(std::sync::atomic::Ordering::SeqCst)
            != 0
    }
}

/// What every scenario process inherits from the supervisor.
struct Ctx<'a> {
    plan: &'a Plan,
    table: Table,
    /// The harness's /proc, opened before any scenario mount can cover it.
    host_proc: RawFd,
    results: RawFd,
    /// (read, write) ends of each event's pipe.
    events: Vec<(RawFd, RawFd)>,
    /// Init and the host process each write a byte here once they have published their PIDs…
    ready: (RawFd, RawFd),
    /// …and wait for the supervisor's go here, so no step can name a process not yet started.
    go: (RawFd, RawFd),
    supervisor: i64,
    /// The supervisor's namespace of every kind, read before any scenario process existed:
    /// what the guards compare against, and what `ns` and `ns_ioctl` call "the harness's".
    /// Reading /proc/SUPERVISOR/ns/KIND at the step instead fails with EACCES in a user
    /// namespace of the scenario (ptrace access to a process of an ancestor user namespace,
    /// ptrace(2)), and after `drop_caps`.
    harness_kinds: BTreeMap<NsKind, u64>,
    /// The harness's clocks (ns), read just before the scenario's first process started.
    clocks: ClockBase,
    /// The scenario's cgroup, where it has one.
    cgroup: Option<ScenarioCgroup>,
    /// Which line of /proc/PID/cgroup is the scenario's hierarchy: the controller list of a
    /// v1 hierarchy (`pids`), or empty for cgroup v2 (`0::`).
    cgroup_key: String,
    /// The process's kept pidfds, by handle. Each process has its own copy: fork() copies
    /// this table with the descriptors, which is what a pidfd's inheritance is.
    pidfds: RefCell<Vec<Option<OwnedFd>>>,
    /// Whether the process has left the supervisor's process group by a setsid() of its own
    /// or of an ancestor before creating it (fork() copies this with the group).
    own_session: Cell<bool>,
    /// The events whose pipe the process still holds open for writing, each with the index of
    /// the last step that needs it ([`Plan::event_holds`]); the others' write ends are closed
    /// (and their numbers may since stand for other descriptors), so that a pipe whose
    /// notifier is gone without notifying reads as ended.
    holds: RefCell<Vec<(usize, usize)>>,
}

/// The harness's clock readings at the start of the scenario, in nanoseconds.
#[derive(Clone, Copy, Default)]
struct ClockBase {
    monotonic: i128,
    boottime: i128,
    realtime: i128,
}

impl ClockBase {
    fn now() -> ClockBase {
        let (realtime, [monotonic, boottime]) = beside_realtime(|| {
            Ok::<_, Errno>([
                clock_ns(libc::CLOCK_MONOTONIC),
                clock_ns(libc::CLOCK_BOOTTIME),
            ])
        })
        .unwrap_or_default();
        ClockBase {
            monotonic,
            boottime,
            realtime,
        }
    }
}

/// `read` bracketed by two CLOCK_REALTIME readings, with their midpoint: CLOCK_REALTIME is the
/// one clock a time namespace leaves alone, so it links a process's clocks to the harness's.
/// Read again (a few times) when the two are more than a millisecond apart: the process was
/// preempted in between, and the pair would not be of one moment.
fn beside_realtime<T, E>(mut read: impl FnMut() -> Result<T, E>) -> Result<(i128, T), E> {
    let mut tries = 0;
    loop {
        let before = clock_ns(libc::CLOCK_REALTIME);
        let value = read()?;
        let after = clock_ns(libc::CLOCK_REALTIME);
        tries += 1;
        if after - before <= 1_000_000 || tries == 5 {
            return Ok((before + (after - before) / 2, value));
        }
    }
}

/// The cgroup the supervisor put the scenario in (see [`crate::limits`]).
struct ScenarioCgroup {
    /// An open descriptor of its directory.
    dir: OwnedFd,
    /// Its path as the harness's cgroup namespace shows it in /proc/PID/cgroup.
    path: String,
}

fn supervise(plan: &Plan, runner: i32, env: &RunEnv) -> RunOutput {
    crate::timing::mark("supervisor: start");
    // A thread that takes over (`take_over`) uses the context after the thread that made
    // the process has ended. That thread's stack is the one this function runs on, and where
    // it is not the program's first (a library caller's worker thread), glibc's fork() in a later child
    // counts it among other threads' stacks, free to give to the child's next thread: so the
    // plan and the context (below) must not live on it. Copied once, to memory never freed
    // (the supervisor exits after the scenario).
    let takes_over = plan.procs.iter().any(|p| {
        p.steps.iter().any(|s| {
            matches!(
                s.action,
                Action::Thread {
                    take_over: true,
                    ..
                }
            )
        })
    });
    let plan: &Plan = if takes_over {
        Box::leak(Box::new(plan.clone()))
    } else {
        plan
    };
    let rootless = env.rootless;
    set_pdeathsig(libc::SIGKILL);
    // The runner may have died between fork() and prctl(): then nobody would kill us.
    if nix::unistd::getppid().as_raw() != runner {
        exit_now(1);
    }
    let _ = prctl_set(libc::PR_SET_CHILD_SUBREAPER, 1);
    // Our own process group, inherited by every scenario process: the guardian kills it whole.
    let _ = nix::unistd::setpgid(nix::unistd::Pid::from_raw(0), nix::unistd::Pid::from_raw(0));
    // No core dumps, which would land on the host (a file in the working directory, or the
    // host's systemd-coredump or apport): a `crash`, a `kill` with SIGSEGV or SIGQUIT.
    // Inherited by every scenario process; no step calls setrlimit(2) (the hard limit binds
    // only a process without CAP_SYS_RESOURCE, which root's host process has). 1, not 0: a
    // file needs at least a page (binfmt->min_coredump), and a core_pattern pipe, which
    // ignores the limit otherwise, is not started at all for a limit of 1 (fs/coredump.c,
    // do_coredump(), from 6.17 vfs_coredump() and coredump_pipe(), reserves it to stop
    // recursive dumps of the pipe's helper and logs "RLIMIT_CORE is set to 1, aborting core"
    // instead). A coredump socket (`@` patterns, 6.16) is still connected; `crash` avoids
    // even that by giving up dumpability.
    let _ = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_CORE, 1, 1);
    default_signals(env.signals_ignored);
    if rootless {
        let (uid, gid) = (
            nix::unistd::getuid().as_raw(),
            nix::unistd::getgid().as_raw(),
        );
        if let Err(e) = enter_own_userns(uid, gid) {
            return setup_failed(format!(
                "cannot create the harness's user namespace (rootless mode): {e}"
            ));
        }
    }
    if let Err(e) = unshare(libc::CLONE_NEWNS | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC) {
        return setup_failed(format!(
            "cannot create the harness's own mount, UTS and IPC namespaces: unshare: {e}"
        ));
    }
    if let Err(e) = make_mounts_private() {
        return setup_failed(format!("cannot make mounts private: {e}"));
    }
    crate::timing::mark("supervisor: sandbox ready");
    let host_proc = match open_dir("/proc") {
        Ok(fd) => fd,
        Err(e) => return failed(format!("cannot open /proc: {}", e.desc())),
    };
    // The outer view before the scenario is read here, in the sandbox's own mount namespace,
    // and not taken from the runner's table: mount IDs are per namespace (a copy gets new
    // ones), and only the same namespace's IDs tell a mount from its replacement.
    let mut watch = MountWatch::open(host_proc.as_raw_fd(), "self/mountinfo");
    let before = outer_mounts(&watch.current);
    let me = nix::unistd::getpid().as_raw() as i64;
    let harness_kinds: BTreeMap<NsKind, u64> = NsKind::ALL
        .into_iter()
        .filter_map(|k| {
            ns_inode(host_proc.as_raw_fd(), &format!("self/ns/{}", k.proc_name()))
                .ok()
                .map(|inode| (k, inode))
        })
        .collect();
    let mut out = RunOutput {
        supervisor_pid: me,
        supervisor_ns: plan
            .kinds_in_play()
            .filter_map(|k| Some((k.name().to_string(), *harness_kinds.get(&k)?)))
            .collect(),
        before: outer_view(before.clone()),
        ..RunOutput::default()
    };
    let setup = (|| -> Result<_, Errno> {
        let table = Table::new()?;
        let (results_r, results_w) = pipe()?;
        let ready = pipe()?;
        let go = pipe()?;
        let mapped = pipe()?;
        let mut events = Vec::new();
        for _ in &plan.events {
            events.push(pipe()?);
        }
        Ok((table, results_r, results_w, ready, go, mapped, events))
    })();
    let (table, results_r, results_w, ready, go, mapped, events) = match setup {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(format!("cannot set up the scenario: {}", e.desc()));
            out.after = outer_view_now(&mut watch, &before);
            return out;
        }
    };
    let mut ctx = Ctx {
        plan,
        table,
        host_proc: host_proc.as_raw_fd(),
        results: results_w.as_raw_fd(),
        events: events
            .iter()
            .map(|(r, w)| (r.as_raw_fd(), w.as_raw_fd()))
            .collect(),
        ready: (ready.0.as_raw_fd(), ready.1.as_raw_fd()),
        go: (go.0.as_raw_fd(), go.1.as_raw_fd()),
        supervisor: me,
        harness_kinds,
        clocks: ClockBase::default(),
        cgroup: None,
        cgroup_key: String::new(),
        pidfds: RefCell::new(plan.handles.iter().map(|_| None).collect()),
        own_session: Cell::new(false),
        holds: RefCell::new((0..plan.events.len()).map(|e| (e, usize::MAX)).collect()),
    };
    let started = Instant::now();
    let deadline = started + time_limit(plan);
    // Before the first cgroup and scenario process. Only the normal end below says `Done`:
    // after any other return the guardian cleans up once we have exited (see `RunGuardian`).
    tell_guardian(&GuardMsg::Watch { pid: me as i32 });
    let mut limit = crate::limits::Limit::apply(
        &env.cgroups,
        plan.pids_max,
        rootless,
        &mut |dir, mount, making| {
            tell_guardian(&if making {
                GuardMsg::Cgroup {
                    pid: me as i32,
                    dir: dir.to_path_buf(),
                    mount: mount.map(Path::to_path_buf),
                }
            } else {
                GuardMsg::NotMade {
                    pid: me as i32,
                    dir: dir.to_path_buf(),
                }
            })
        },
    );
    crate::timing::mark("supervisor: cgroup ready");
    // The probe skips such a scenario; should it have misjudged, never fork without a bound.
    if plan.requirements.contains(&Requirement::ProcessLimit) && !limit.binds() {
        limit.release();
        out.error = Some(format!(
            "refusing to fork without an enforced process limit: {}",
            limit.description
        ));
        out.after = outer_view_now(&mut watch, &before);
        return out;
    }
    (ctx.cgroup, ctx.cgroup_key) = scenario_cgroup(&limit);
    let needs_cgroup = plan.requirements.contains(&Requirement::ProcessLimit)
        || plan.requirements.contains(&Requirement::ScenarioCgroup);
    ctx.clocks = ClockBase::now();
    let ctx: &Ctx = Box::leak(Box::new(ctx));

    // The host process is forked before unshare(CLONE_NEWPID): afterwards every child of the
    // supervisor would land in the scenario's PID namespace.
    let host = match plan.host {
        None => None,
        Some(h) => match spawn_in(&mut limit, 0, !needs_cgroup, || {
            set_pdeathsig(libc::SIGKILL);
            start_process(ctx, h);
            ready_then_go(ctx, HOST_STARTED);
            steps(ctx, h)
        }) {
            Ok(pid) => Some((h, pid)),
            Err(e) => {
                out.error = Some(format!("cannot fork the host process: {}", e.desc()));
                out.after = outer_view_now(&mut watch, &before);
                return out;
            }
        },
    };
    // With a user namespace, init is cloned into it together with its PID namespace, so that
    // the new user namespace owns the PID namespace (as `unshare -Urpf` does); otherwise
    // mounting a procfs for it would need privilege over the outer user namespace.
    let with_user = plan.namespaces.contains(&NsKind::User);
    let clone_flags = if with_user {
        ns_flags(
            plan.namespaces
                .iter()
                .filter(|k| matches!(k, NsKind::User | NsKind::Pid)),
        )
    } else {
        0
    };
    let for_children = ns_flags(
        plan.namespaces
            .iter()
            .filter(|k| k.for_children_only() && clone_flags & k.clone_flag() == 0),
    );
    if for_children != 0
        && let Err(e) = unshare(for_children)
    {
        kill_and_reap(host.map(|h| h.1));
        out.error = Some(format!(
            "cannot create the scenario's namespaces: unshare: {e}"
        ));
        out.setup_failed = true;
        out.after = outer_view_now(&mut watch, &before);
        return out;
    }
    let init_body = || {
        set_pdeathsig(libc::SIGKILL);
        if with_user {
            // Wait until the supervisor has written our uid/gid maps. A pipe of its own: the
            // host process may already be waiting on `go`, and must not take this byte.
            let mut byte = [0u8];
            let _ = read_retry(mapped.0.as_raw_fd(), &mut byte);
        }
        init_main(ctx, clone_flags)
    };
    let init = if with_user {
        spawn_in(&mut limit, clone_flags, !needs_cgroup, init_body).and_then(|pid| {
            let released = write_id_maps(ctx.host_proc, pid)
                .and_then(|()| write_all(mapped.1.as_raw_fd(), &[1]));
            if let Err(e) = released {
                // Init would wait for its maps forever.
                kill_and_reap(Some(pid));
                return Err(e);
            }
            Ok(pid)
        })
    } else {
        let fresh_pid_ns = for_children & libc::CLONE_NEWPID != 0;
        spawn_in(&mut limit, 0, !needs_cgroup && !fresh_pid_ns, init_body)
    };
    crate::timing::mark("supervisor: init forked");
    // The cgroup now holds the scenario; the supervisor's own forks (none) would not belong.
    limit.leave();
    out.pids_limit = limit.description.clone();
    let init = match init {
        Ok(pid) => pid,
        Err(e) => {
            kill_and_reap(host.map(|h| h.1));
            out.error = Some(format!("cannot fork init: {}", e.desc()));
            out.setup_failed = with_user;
            out.after = outer_view_now(&mut watch, &before);
            return out;
        }
    };
    drop(results_w);
    // Only the scenario's processes may write to an event's pipe (see `let_go_of_events`);
    // the read ends stay, so that a `notify` never meets a pipe without readers.
    let _event_reads: Vec<OwnedFd> = events.into_iter().map(|(r, _)| r).collect();
    ctx.holds.borrow_mut().clear();
    // Release init and the host process together once both have started (or failed to).
    // Init alone needs no release: every other process is its descendant and publishes its
    // PIDs before the step that created it returns.
    let pidfd = pidfd_open(init).ok();
    let host_pidfd = host.and_then(|(_, pid)| pidfd_open(pid).ok());
    if host.is_some() {
        await_starts(
            ctx.ready.0,
            deadline,
            [&pidfd, &host_pidfd].map(|p| p.as_ref().map(|p| p.as_raw_fd())),
        );
        let _ = write_all(ctx.go.1, &[1u8; 2]);
    }
    let mut buf = Vec::new();
    let mut live = Live {
        init: Some(init),
        host,
    };
    // All scenario processes hold the results pipe (only `fork_bomb` children close it), so
    // its end means none can observe anything any more.
    let mut eof = false;
    let mut hard_deadline = deadline;
    // Whether the scenario's cgroup holds only its processes (looked up when time is up).
    let mut killable = false;
    loop {
        let timed_out = out.timeout.is_some();
        // Zombies the supervisor adopted are left alone while the scenario runs, so that what
        // its processes see of them (kill, /proc) does not depend on when the supervisor
        // wakes. Once nothing can look, everything is reaped: init's exit from a PID
        // namespace waits (zap_pid_ns_processes) for zombies in it that were re-parented to us,
        // such as a process the host `enter`ed there before exiting.
        if eof || timed_out {
            live.reap_any(ctx, &mut out);
        }
        if timed_out {
            // Again on every tick: a v1 cgroup is killed PID by PID, and without a cgroup
            // each kill of ours orphans the next generation to us.
            ctx.table.begin_teardown(Teardown::All);
            kill_scenario(
                &live,
                killable.then(|| limit.cgroup_fd()).flatten(),
                ctx.host_proc,
            );
        }
        if eof && live.init.is_none() && live.host.is_none() {
            break;
        }
        let now = Instant::now();
        if now >= hard_deadline {
            if timed_out {
                break;
            }
            out.timeout = Some(Timeout {
                after: time_limit(plan),
                in_steps: (0..plan.procs.len())
                    .filter_map(|i| {
                        let s = ctx.table.step(i);
                        (s > 0 && still_running(ctx, i)).then_some((i, s as usize))
                    })
                    .collect(),
            });
            // Everything at once: an orphan outside a PID namespace would otherwise hold the
            // results pipe open until the grace period ran out.
            killable = killable_cgroup(ctx, &limit);
            ctx.table.begin_teardown(Teardown::All);
            kill_scenario(
                &live,
                killable.then(|| limit.cgroup_fd()).flatten(),
                ctx.host_proc,
            );
            hard_deadline = now + KILL_GRACE;
            continue;
        }
        let mut fds = Vec::with_capacity(3);
        let results_at = (!eof).then(|| push_fd(&mut fds, results_r.as_raw_fd()));
        let init_at = match (&pidfd, live.init) {
            (Some(p), Some(_)) => Some(push_fd(&mut fds, p.as_raw_fd())),
            _ => None,
        };
        let reaping = eof || timed_out;
        if let (Some(p), Some(_), true) = (&host_pidfd, live.host, reaping) {
            push_fd(&mut fds, p.as_raw_fd());
        }
        let mut wait = hard_deadline - now;
        if reaping {
            // Adopted zombies have no descriptor to wake us.
            wait = wait.min(REAP_TICK);
        }
        // SAFETY: `fds` is a valid array of pollfd for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, poll_ms(wait)) };
        if n < 0 {
            if Errno::last() == Errno::EINTR {
                continue;
            }
            break;
        }
        if init_at.is_some_and(|i| fds[i].revents != 0) && live.reap_init(ctx, &mut out) {
            // A host process with nothing to do only exists to be a kill target; and when init
            // never started (its namespaces could not be made), the host's steps wait for a
            // scenario that will not happen: without this, until the time limit.
            if let Some((h, pid)) = live.host
                && (plan.procs[h].steps.is_empty() || ctx.table.nspid(0).is_none())
            {
                // Not reaped here: a zombie is left until the results end, as everywhere (what
                // the scenario's processes see of it must not depend on timing). Whether this
                // kill is what ended it is for the report to tell (a step may have killed it).
                // A host process without steps awaits nothing; one with steps is killed only
                // when init never started.
                ctx.table.begin_teardown(Teardown::Host);
                kill_pid(pid);
                out.harness_killed.push(h);
            }
        }
        if let Some(i) = results_at
            && fds[i].revents != 0
        {
            let mut chunk = [0u8; 8192];
            match read_retry(results_r.as_raw_fd(), &mut chunk) {
                Ok(0) | Err(_) => eof = true,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
    // Only when time ran out twice over: whatever is left is killed, and reaped if it goes.
    if let Some((_, pid)) = live.host {
        kill_pid(pid);
    }
    if let Some(pid) = live.init {
        kill_pid(pid);
    }
    live.reap_any(ctx, &mut out);
    reap_orphans(host_proc.as_raw_fd());
    if limit.release() {
        tell_guardian(&GuardMsg::Done { pid: me as i32 });
    }
    crate::timing::mark("supervisor: scenario reaped, cgroup removed");
    for line in buf.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        match serde_json::from_slice::<Record>(line) {
            Ok(r) => out.records.push(r),
            Err(e) => {
                out.error = Some(format!("garbled record from a scenario process: {e}"));
            }
        }
    }
    out.after = outer_view_now(&mut watch, &before);
    out
}

/// First code of the scenario's init: enter the remaining namespaces, set up /proc, run steps.
/// `cloned`: the namespaces init was cloned into already.
fn init_main(ctx: &Ctx, cloned: libc::c_int) -> ! {
    let plan = ctx.plan;
    let here = ns_flags(
        plan.namespaces
            .iter()
            .filter(|k| !k.for_children_only() && cloned & k.clone_flag() == 0),
    );
    crate::timing::mark("init: start");
    let setup = (|| -> Result<(), String> {
        if here != 0 {
            unshare(here).map_err(|e| format!("unshare: {e}"))?;
        }
        if plan.namespaces.contains(&NsKind::Mount) {
            make_mounts_private().map_err(|e| format!("making mounts private: {e}"))?;
        }
        if plan.proc_fresh {
            mount_proc("/proc", "").map_err(|e| format!("mounting a fresh /proc: {e}"))?;
        }
        Ok(())
    })();
    if let Err(e) = setup {
        emit(
            ctx,
            0,
            0,
            Obs::Failed(format!("setting up init failed: {e}")),
        );
        // The supervisor kills the host process for it (init never started); our exit closes
        // event pipes the host may await (see `Table::teardown`). The host's own children
        // are not killed: they see the pipes end, as they would after any notifier's end.
        ctx.table.begin_teardown(Teardown::Host);
        let _ = write_all(ctx.ready.1, &[INIT_STARTED]);
        exit_now(1);
    }
    crate::timing::mark("init: namespaces ready");
    start_process(ctx, 0);
    crate::timing::mark("init: steps start");
    ready_then_go(ctx, INIT_STARTED);
    steps(ctx, 0)
}

/// Waits until init and the host process have each sent their start byte ([`INIT_STARTED`],
/// [`HOST_STARTED`]) on `ready`, or ended without (`ended`: their pidfds, where there are
/// some), or until `deadline`. One killed before its start (the OOM killer, a stray SIGKILL)
/// never sends its byte, and the supervisor would otherwise hold the run until its time limit
/// and report a timeout; the other is still waited for, so that both have published their
/// PIDs before either is let go (init whose set-up failed sends its byte before it ends). A
/// byte already sent is read before an end is looked at.
fn await_starts(ready: RawFd, deadline: Instant, ended: [Option<RawFd>; 2]) {
    let mut done = [false; 2];
    while !done.iter().all(|d| *d) {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        // Only the ends of those still awaited: a pidfd stays readable once its process ends.
        let watched: Vec<usize> = (0..2).filter(|&i| !done[i] && ended[i].is_some()).collect();
        let mut fds: Vec<libc::pollfd> = std::iter::once(ready)
            .chain(watched.iter().filter_map(|&i| ended[i]))
            .map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: `fds` is a valid array of pollfds for the duration of the call.
        let n = unsafe {
            libc::poll(
                fds.as_mut_ptr(),
                fds.len() as libc::nfds_t,
                poll_ms(deadline - now),
            )
        };
        if n <= 0 {
            return;
        }
        if fds[0].revents != 0 {
            let mut buf = [0u8; 2];
            match read_retry(ready, &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(k) => {
                    for b in &buf[..k] {
                        match *b {
                            INIT_STARTED => done[0] = true,
                            HOST_STARTED => done[1] = true,
                            _ => {}
                        }
                    }
                }
            }
            continue;
        }
        for (p, &i) in fds[1..].iter().zip(&watched) {
            if p.revents != 0 {
                done[i] = true;
            }
        }
    }
}

/// What init and the host process send the supervisor once started (or, init, failed to).
const INIT_STARTED: u8 = 1;
const HOST_STARTED: u8 = 2;

/// With a host process, tells the supervisor we have started (`who`: [`INIT_STARTED`] or
/// [`HOST_STARTED`]) and waits until the other top process has too.
fn ready_then_go(ctx: &Ctx, who: u8) {
    if ctx.plan.host.is_none() {
        return;
    }
    let _ = write_all(ctx.ready.1, &[who]);
    let mut byte = [0u8];
    let _ = read_retry(ctx.go.0, &mut byte);
}

/// Records a new process's identity and publishes its PIDs for the others.
fn start_process(ctx: &Ctx, me: usize) {
    if !ctx.plan.events.is_empty() {
        // Only what the creator still held was inherited.
        let needs = ctx.plan.event_holds(me);
        for (e, last) in ctx.holds.borrow_mut().iter_mut() {
            *last = needs[*e].1;
        }
        let_go_of_events(ctx, 0);
    }
    let nspid = own_nspid(ctx.host_proc);
    ctx.table.publish(me, &nspid);
    emit(
        ctx,
        me,
        0,
        Obs::Started {
            nspid,
            ns: ns_inodes(ctx.host_proc, ctx.plan),
        },
    );
}

/// Per signal number: the si_pid of each delivery, and how many there were. Statics, as a
/// signal handler can reach nothing else; each process has its own copy (fork() copies them,
/// and a new scenario process clears its copy, see [`forget_caught`]).
static CAUGHT_PIDS: [[std::sync::atomic::AtomicI32; CAUGHT_MAX]; 65] =
    [const { [const { std::sync::atomic::AtomicI32::new(0) }; CAUGHT_MAX] }; 65];
static CAUGHT_COUNT: [std::sync::atomic::AtomicUsize; 65] =
    [const { std::sync::atomic::AtomicUsize::new(0) }; 65];

extern "C" fn on_caught(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    use std::sync::atomic::Ordering::SeqCst;
    let Some(sig) = usize::try_from(sig)
        .ok()
        .filter(|s| *s < CAUGHT_COUNT.len())
    else {
        return;
    };
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let pid = unsafe { (*info).si_pid() };
    let n = CAUGHT_COUNT[sig].fetch_add(1, SeqCst);
    if n < CAUGHT_MAX {
        CAUGHT_PIDS[sig][n].store(pid, SeqCst);
    }
}

/// A child keeps its parent's handlers but has received nothing yet.
fn forget_caught() {
    for n in &CAUGHT_COUNT {
        n.store(0, std::sync::atomic::Ordering::SeqCst);
    }
}

fn steps(ctx: &Ctx, me: usize) -> ! {
    // A new process runs on its own main thread (fork() copies the flag of its creator's).
    TAKEN_OVER.store(false, std::sync::atomic::Ordering::Relaxed);
    let slow = slowness(&ctx.plan.id, me).as_micros();
    SLOWNESS_US.store(
        u32::try_from(slow).unwrap_or(u32::MAX),
        std::sync::atomic::Ordering::Relaxed,
    );
    let own = &ctx.plan.procs[me].steps;
    if Some(me) == ctx.plan.host && own.is_empty() {
        // A host process without steps exists to be a target; it lives until init has ended.
        loop {
            // SAFETY: pause() has no preconditions.
            unsafe { libc::pause() };
        }
    }
    steps_from(ctx, me, 0)
}

/// The process's steps from index `next` on, then its exit.
fn steps_from(ctx: &Ctx, me: usize, mut next: usize) -> ! {
    let own = &ctx.plan.procs[me].steps;
    while let Some(step) = own.get(next) {
        next += 1;
        match step.action {
            Action::Thread { inner, .. } if inner > 0 => {
                ctx.table.set_step(me, step.index as i32);
                stall();
                let inner = &own[next..(next + inner).min(own.len())];
                next += inner.len();
                thread_with_steps(ctx, me, step, inner);
                // Also where no thread could be made and its steps never ran.
                let_go_of_events(ctx, step.index + inner.len());
            }
            Action::Thread {
                take_over: true, ..
            } => {
                ctx.table.set_step(me, step.index as i32);
                stall();
                // Returns only when no thread could be made: this one goes on.
                take_over(ctx, me, step, next);
            }
            _ => run_step(ctx, me, step),
        }
    }
    ctx.table.set_step(me, -1);
    if me == 0 {
        crate::timing::mark("init: steps done");
    }
    exit_now(0)
}

/// Whether a thread took the process over (`thread` with `take_over`): its main thread has
/// ended, and the kernel clears an ended thread's namespaces, files and mount table from
/// /proc/PID, so the process's own views are read from /proc/thread-self from then on.
static TAKEN_OVER: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The process's own directory in a /proc: `self`, or `thread-self` once a thread took over.
fn own_dir() -> &'static str {
    if TAKEN_OVER.load(std::sync::atomic::Ordering::Relaxed) {
        "thread-self"
    } else {
        "self"
    }
}

/// `path` in the process's own directory of a /proc (see [`own_dir`]): `self/ns/pid`.
fn own_path(path: &str) -> String {
    format!("{}/{path}", own_dir())
}

/// A `thread` with `take_over`: a new thread records its ID and runs the process's steps from
/// `next` on, while this one ends with exit(2) — not exit_group(2), so the process lives on,
/// as after a C main() that starts a thread and calls pthread_exit(). Returns only when
/// pthread_create() failed (its errno recorded), for this thread to go on.
fn take_over(ctx: &Ctx, me: usize, step: &StepPlan, next: usize) {
    use nix::sys::signal::{SigSet, SigmaskHow, pthread_sigmask};
    /// The context, for the thread that takes over.
    struct Lent(*const Ctx<'static>);
    // SAFETY: only the new thread uses the context: this one ends right after creating it,
    // without unwinding (exit(2)). The context and the plan it borrows are on the heap and
    // never freed (see supervise()), not on this thread's stack, which glibc may give to a
    // thread of a child forked later.
    unsafe impl Send for Lent {}
    impl Lent {
        fn get(&self) -> &Ctx<'static> {
            // SAFETY: see the Send implementation.
            unsafe { &*self.0 }
        }
    }
    let lent = Lent((ctx as *const Ctx<'_>).cast());
    let level = ctx.plan.procs[me].level();
    let index = step.index;
    // This thread's /proc directory, for the new one to see it end.
    let ending = open_at(ctx.host_proc, "thread-self").ok();
    // Process-directed signals that come meanwhile stay pending until the new thread
    // restores the mask (it inherits this one); this thread never takes one.
    let mut mask = SigSet::empty();
    let blocked =
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::all()), Some(&mut mask)).is_ok();
    let made = std::thread::Builder::new()
        // Like a main thread's: the steps fork and recurse on it as on the first one.
        .stack_size(8 << 20)
        .spawn(move || {
            // A panic anywhere here ends the process as it would on its first thread (see
            // child_main), not this thread alone: the last living one, it would end the
            // process with status 0.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                let ctx = lent.get();
                TAKEN_OVER.store(true, std::sync::atomic::Ordering::Relaxed);
                // The next step sees the process as the ended thread left it: its children
                // re-parented (and sent their parent-death signal), one live thread for the
                // kernel (setns() into a time namespace), the fs_struct no longer shared (into
                // a mount namespace), its namespaces gone from /proc/PID/ns.
                if let Some(dir) = ending {
                    wait_thread_ended(dir.as_raw_fd());
                }
                thread_started(ctx, me, index, level, blocked.then_some(&mask));
                steps_from(ctx, me, next)
            }));
            exit_now(101)
        });
    match made {
        Ok(thread) => {
            drop(thread);
            // SAFETY: exit(2) of this thread alone; the new one holds the process, and
            // nothing of this thread's is used again.
            unsafe { libc::syscall(libc::SYS_exit, 0) };
            unreachable!("exit(2) returned");
        }
        Err(e) => {
            if blocked {
                let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&mask), None);
            }
            // What clone() returned, passed on as it is (EINVAL after unshare(CLONE_NEWPID)).
            let errno = e.raw_os_error().unwrap_or(libc::EAGAIN);
            emit(ctx, me, step.index, Obs::Result(Res::Errno(errno)));
        }
    }
}

/// Runs one step and records what it observed (unless the step recorded it itself).
fn run_step(ctx: &Ctx, me: usize, step: &StepPlan) {
    ctx.table.set_step(me, step.index as i32);
    stall();
    if let Some(obs) = execute(ctx, me, step) {
        emit(ctx, me, step.index, obs);
    }
    let_go_of_events(ctx, step.index);
}

/// Closes the event pipes the process needs for no step after step `done` (0: before the
/// first). Threads share the descriptors, but a process's steps run one after another
/// whichever thread runs them, so "after step `done`" is the same for all of them.
fn let_go_of_events(ctx: &Ctx, done: usize) {
    ctx.holds.borrow_mut().retain(|&(e, last)| {
        if last > done {
            return true;
        }
        // SAFETY: our own copy of the pipe end, still open (`holds`), used by no later step.
        unsafe { libc::close(ctx.events[e].1) };
        false
    });
}

/// A `thread` with steps: a new thread records its ID, runs `inner` and ends, while this one
/// waits for it. The next step runs once the kernel has taken the thread off the process's
/// thread list: pthread_join() returns when the thread's ID is cleared (exit_mm()), before
/// exit_notify() hands its children to another thread and release_task() unlists it, and
/// until then the process is still multithreaded to unshare(CLONE_NEWUSER) and setns().
fn thread_with_steps(ctx: &Ctx, me: usize, step: &StepPlan, inner: &[StepPlan]) {
    use nix::sys::signal::{SigSet, SigmaskHow, pthread_sigmask};
    /// The context, for the one thread that uses it while its creator waits.
    struct Lent<'a, 'b>(&'a Ctx<'b>);
    // SAFETY: the creating thread does nothing but wait in join() while the new thread runs,
    // so the context's cells are never used by two threads at once.
    unsafe impl Send for Lent<'_, '_> {}
    impl<'a, 'b> Lent<'a, 'b> {
        fn get(&self) -> &'a Ctx<'b> {
            self.0
        }
    }
    let lent = Lent(ctx);
    let level = ctx.plan.procs[me].level();
    let threads_before = own_threads(ctx.host_proc);
    // Process-directed signals go to the thread running the steps, as they go to the only
    // one elsewhere: a `catch` handler then runs before that thread's interrupted `await`
    // returns. So this thread blocks them all before the new one exists (which inherits the
    // mask and restores the old one first); what arrives meanwhile stays pending here.
    let mut mask = SigSet::empty();
    let blocked =
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::all()), Some(&mut mask)).is_ok();
    let made = std::thread::scope(|s| {
        let thread = std::thread::Builder::new().spawn_scoped(s, move || {
            let ctx = lent.get();
            thread_started(ctx, me, step.index, level, blocked.then_some(&mask));
            for s in inner {
                run_step(ctx, me, s);
            }
        })?;
        if let Err(panic) = thread.join() {
            std::panic::resume_unwind(panic);
        }
        Ok::<(), std::io::Error>(())
    });
    if made.is_ok() {
        // The thread is gone by now or within microseconds; a bound keeps a misread of
        // /proc from hanging the process (the scenario's timeout would end it anyway).
        for _ in 0..1_000_000 {
            if own_threads(ctx.host_proc) == threads_before {
                break;
            }
            std::thread::yield_now();
        }
    }
    if blocked {
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&mask), None);
    }
    if let Err(e) = made {
        // What clone() returned, passed on as it is (EINVAL after unshare(CLONE_NEWPID)).
        let errno = e.raw_os_error().unwrap_or(libc::EAGAIN);
        emit(ctx, me, step.index, Obs::Result(Res::Errno(errno)));
    }
}

/// A new thread's first act: it takes back the signal mask its creator blocked everything
/// with (`mask`, when it did) and records its ID, numbered at PID-namespace `level`.
fn thread_started(
    ctx: &Ctx,
    me: usize,
    step: usize,
    level: usize,
    mask: Option<&nix::sys::signal::SigSet>,
) {
    use nix::sys::signal::{SigmaskHow, pthread_sigmask};
    if let Some(mask) = mask {
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(mask), None);
    }
    // SAFETY: gettid() has no preconditions.
    let tid = unsafe { libc::gettid() };
    emit(
        ctx,
        me,
        step,
        Obs::Thread {
            tid: tid.into(),
            level,
        },
    );
}

/// Waits until the thread whose /proc/PID/task/TID directory is `dir` has ended: a process's
/// main thread stays listed, as a zombie (`Z`), until its last thread ends (release_task());
/// another is unlisted, its `stat` no longer readable. exit_notify() comes last in do_exit()
/// but for the scheduler's part, so by then everything else the thread had is released.
fn wait_thread_ended(dir: RawFd) {
    // The thread ends within microseconds; a bound keeps a misread of /proc from hanging the
    // process (the scenario's timeout would end it anyway).
    for _ in 0..1_000_000 {
        let Some(stat) = read_at(dir, "stat") else {
            return;
        };
        // The state follows the command name, which may itself hold `)`.
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next());
        if matches!(state, Some('Z' | 'X')) {
            return;
        }
        std::thread::yield_now();
    }
}

/// The process's `Threads:` count in its /proc/self/status.
fn own_threads(host_proc: RawFd) -> Option<u64> {
    status_field(&read_at(host_proc, "self/status")?, "Threads")?
        .parse()
        .ok()
}

/// The value of field `name` of a /proc/PID/status text, trimmed.
pub(crate) fn status_field<'a>(status: &'a str, name: &str) -> Option<&'a str> {
    status.lines().find_map(|l| {
        l.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(str::trim)
    })
}

fn emit(ctx: &Ctx, proc: usize, step: usize, obs: Obs) {
    emit_born(ctx, proc, step, obs, BTreeMap::new());
}

/// [`emit`] for a step that created namespaces (see [`Record::born`]).
fn emit_born(ctx: &Ctx, proc: usize, step: usize, obs: Obs, born: BTreeMap<String, u64>) {
    let mut line = serde_json::to_vec(&Record {
        proc,
        step,
        obs,
        born,
    })
    .unwrap_or_default();
    if line.len() > MAX_RECORD {
        let len = line.len();
        line = serde_json::to_vec(&Record {
            proc,
            step,
            obs: Obs::Failed(format!("observation too large to record ({len} bytes)")),
            born: BTreeMap::new(),
        })
        .unwrap_or_default();
    }
    line.push(b'\n');
    let _ = write_all(ctx.results, &line);
}

fn res(r: Result<(), Errno>) -> Res {
    match r {
        Ok(()) => Res::Ok,
        Err(e) => Res::Errno(e as i32),
    }
}

/// Carries out one step. `None`: the observation was already recorded (by a nested process, or
/// before a step that may not return).
fn execute(ctx: &Ctx, me: usize, step: &StepPlan) -> Option<Obs> {
    Some(match &step.action {
        Action::Getpid { .. } => Obs::Value(nix::unistd::getpid().as_raw() as i64),
        Action::Getppid { .. } => Obs::Value(nix::unistd::getppid().as_raw() as i64),
        Action::Getpgid { .. } => match nix::unistd::getpgid(None) {
            Ok(p) => Obs::Value(p.as_raw() as i64),
            Err(e) => Obs::Result(Res::Errno(e as i32)),
        },
        Action::Getsid { .. } => match nix::unistd::getsid(None) {
            Ok(p) => Obs::Value(p.as_raw() as i64),
            Err(e) => Obs::Result(Res::Errno(e as i32)),
        },
        Action::Setsid { .. } => {
            // Leaving the supervisor's process group escapes the guardian's kill of it, which
            // only a PID namespace of the scenario makes up for (its init's end kills all).
            // Validation allows setsid only there; this holds should that ever be misjudged.
            if in_harness_ns(ctx, NsKind::Pid) {
                return Some(Obs::Failed(
                    "refusing setsid() in the harness's PID namespace".into(),
                ));
            }
            let made = nix::unistd::setsid();
            if made.is_ok() {
                ctx.own_session.set(true);
            }
            Obs::Result(res(made.map(drop)))
        }
        Action::Fork {
            child,
            kinds,
            set_tid,
            ..
        } => {
            let flags = ns_flags(kinds);
            if !set_tid.is_empty()
                && child_pid_depth(ctx, me, flags) != Some(ctx.plan.procs[*child].level())
            {
                return Some(Obs::Failed(format!(
                    "refusing `set_tid`: `{}` would not be in the PID namespaces the scenario \
                     planned for it (an `unshare` did not do what its step expected), so a \
                     number could be chosen in the harness's own namespace (the host's)",
                    ctx.plan.procs[*child].name
                )));
            }
            spawn(ctx, me, *child, flags, set_tid, &[])
        }
        Action::Thread { .. } => start_thread(ctx.plan.procs[me].level()),
        Action::Enter {
            child,
            target,
            kinds,
            pidfd,
            ..
        } => match joins(ctx, me, *target, kinds, *pidfd) {
            Ok(joins) => spawn(ctx, me, *child, 0, &[], &joins),
            Err(obs) => obs,
        },
        Action::Setns {
            target,
            kinds,
            pidfd,
            ..
        } => match joins(ctx, me, *target, kinds, *pidfd) {
            Ok(joins) => Obs::Result(res(join_all(&joins))),
            Err(obs) => obs,
        },
        Action::Exit { code } => {
            // Ended, even while nobody has reaped it: a timeout message must not name it.
            ctx.table.set_step(me, -1);
            exit_now(*code)
        }
        Action::Kill {
            target: Who::Supervisor,
            label,
            ..
        } if label == "parent" && in_harness_ns(ctx, NsKind::Pid) => supervisor_refused(),
        Action::Kill { target, signal, .. } => by_number(ctx, me, *target, |pid| {
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), *signal)
        }),
        Action::KillGroup {
            target: None,
            signal,
            ..
        } => {
            // The supervisor leads the group every scenario process starts in: kill(0) there
            // would signal the harness. Validation allows kill(0) only after a setsid(); this
            // holds should that setsid() have failed.
            if !ctx.own_session.get() {
                return Some(Obs::Failed(
                    "refusing kill(0): this process is still in the supervisor's process group \
                     (no setsid() of its own or of its creator succeeded)"
                        .into(),
                ));
            }
            Obs::Result(res(nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(0),
                *signal,
            )))
        }
        Action::KillGroup {
            target: Some(target),
            signal,
            ..
        } => match resolve_checked(ctx, me, *target, true) {
            Err(obs) => obs,
            // A live process's number is a process group's only if it leads that group: the
            // group keeps the number in use (free_pid() waits for its last member). A reaped
            // leader's group may live on in its members, or its number may lead a stranger's
            // group by now: which, the harness cannot tell, so it does not send.
            Ok(_) if reaped(ctx, *target) => Obs::Failed(format!(
                "`{}` has been reaped, and its number may lead its old group's \
                 remaining members or another process's group by now",
                who_name(ctx, me, *target)
            )),
            // kill(2) reads -1 as every process the caller may signal, not process group 1.
            Ok((1, _)) => Obs::Failed(format!(
                "refusing kill(-1) for the process group of `{}`, PID 1 in the caller's \
                 namespace: kill(2) reads -1 as every process, not group 1",
                ctx.plan.procs[match target {
                    Who::Proc(t) => *t,
                    Who::Supervisor => unreachable!("validation refuses the supervisor's group"),
                }]
                .name
            )),
            Ok((pid, level)) => Obs::Targeted {
                pid,
                level,
                res: res(nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(-(pid as i32)),
                    *signal,
                )),
            },
        },
        Action::PidfdOpen { target, handle, .. } => by_number(ctx, me, *target, |pid| {
            pidfd_open(pid).map(|fd| {
                ctx.pidfds.borrow_mut()[*handle] = Some(fd);
            })
        }),
        Action::PidfdNs {
            handle,
            kind,
            for_children,
            ..
        } => with_pidfd(ctx, *handle, |fd| {
            match pidfd_namespace(fd, *kind, *for_children) {
                Ok(inode) => ns_seen(ctx, *kind, inode),
                Err(e) => Obs::Result(Res::Errno(e as i32)),
            }
        }),
        Action::PidfdSignal { handle, .. }
            if ctx.plan.handles[*handle].target == Who::Supervisor
                && in_harness_ns(ctx, NsKind::Pid) =>
        {
            supervisor_refused()
        }
        Action::PidfdSignal { handle, signal, .. } => with_pidfd(ctx, *handle, |fd| {
            Obs::Result(res(pidfd_send_signal(fd, *signal, 0)))
        }),
        Action::KillAll { signal, .. } => {
            // kill(-1) from the harness's PID namespace (the host's) would signal every process
            // of the host that the harness may signal. Validation allows it only in processes
            // of the scenario's PID namespaces; this holds should that ever be misjudged.
            if in_harness_ns(ctx, NsKind::Pid) {
                return Some(Obs::Failed(
                    "refusing kill(-1) in the harness's PID namespace (the host's)".into(),
                ));
            }
            Obs::Result(res(nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(-1),
                *signal,
            )))
        }
        Action::Wait { target, .. } => match resolve_checked(ctx, me, Who::Proc(*target), false) {
            Err(obs) => obs,
            // What waitpid(2) says once the child is reaped, even if a new child of ours has
            // taken its number since.
            Ok(_) if ctx.table.reaped(*target) => Obs::Waited(Waited::Errno(libc::ECHILD)),
            Ok((pid, _)) => {
                let w = wait_for(pid as i32);
                if matches!(w, Waited::Exited(_) | Waited::Signaled(_)) {
                    mark_gone(ctx, *target);
                }
                Obs::Waited(w)
            }
        },
        Action::ListPids { .. } => {
            // One above the harness's counts as the harness's own here: not recorded either.
            let level = proc_level(ctx).map(|l| l.unwrap_or(0));
            match std::fs::read_dir("/proc") {
                Err(e) => Obs::Result(Res::Errno(e.raw_os_error().unwrap_or(libc::EIO))),
                Ok(dir) => {
                    let mut pids: Vec<i64> = dir
                        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                        .collect();
                    pids.sort_unstable();
                    // The harness's own /proc lists the whole host: not worth recording.
                    if level == Some(0) {
                        pids.clear();
                    }
                    Obs::Pids { level, pids }
                }
            }
        }
        Action::Nspid { .. } => match read_own_proc_file(ctx, "/proc/self/status") {
            Err(obs) => obs,
            Ok(status) => {
                let pids = parse_nspid(&status);
                match level_of(ctx, &pids) {
                    Ok(level) => Obs::Nspid { level, pids },
                    Err(()) => proc_above_harness("/proc/self/status"),
                }
            }
        },
        Action::PidfdFdinfo { handle, .. } => with_pidfd(ctx, *handle, |fd| {
            // Through the process's own /proc, as a program would: the numbers are the
            // procfs instance's (pidfd_show_fdinfo()), whoever reads them.
            let path = format!("/proc/{}/fdinfo/{}", own_dir(), fd.as_raw_fd());
            let info = match read_own_proc_file(ctx, &path) {
                Ok(info) => info,
                Err(obs) => return obs,
            };
            let field = |name: &str| {
                info.lines().find_map(|l| l.strip_prefix(name)).map(|rest| {
                    rest.split_whitespace()
                        .map(str::parse)
                        .collect::<Result<Vec<i64>, _>>()
                })
            };
            match (field("NSpid:").or_else(|| field("Pid:")), proc_level(ctx)) {
                (_, Some(Err(()))) => proc_above_harness(&path),
                (Some(Ok(pids)), Some(Ok(level))) if !pids.is_empty() => {
                    Obs::Fdinfo { level, pids }
                }
                (_, None) => Obs::Failed(
                    "/proc/self/status tells no NSpid: the /proc's PID namespace is unknown".into(),
                ),
                _ => Obs::Failed(format!("no Pid or NSpid line of numbers in {path}")),
            }
        }),
        Action::Visible { target, .. } => visible(ctx, me, *target),
        Action::MountProc {
            target, options, ..
        } => {
            if !options.is_empty()
                && crate::probe::running_kernel()
                    .is_none_or(|v| v < crate::plan::PER_INSTANCE_PROC_OPTIONS)
                && in_harness_ns(ctx, NsKind::Pid)
            {
                // Validation demands the requirement; this holds should it be misjudged.
                return Some(Obs::Failed(
                    "refusing procfs options before Linux 5.8 in the harness's PID namespace: \
                     they would apply to the host's /proc"
                        .into(),
                ));
            }
            Obs::Result(res(mount_proc(target, options)))
        }
        Action::Unshare { kinds, .. } => {
            if let Err(e) = unshare(ns_flags(kinds)) {
                return Some(Obs::Result(Res::Errno(e as i32)));
            }
            // unshare(2) of `pid` and `time` moves only the children: the new namespace is
            // the one waiting for them. /proc shows a PID namespace only once it has an init
            // (pidns_for_children_get() wants a child reaper), a pidfd at once (Linux 6.11);
            // where neither can, nothing else can see it before its first process, whose
            // start then counts as its creation (`report::tell_reused_apart`).
            let born = kinds
                .iter()
                .filter_map(|k| {
                    let inode = if *k == NsKind::Pid {
                        let me = pidfd_open(nix::unistd::getpid().as_raw()).ok()?;
                        pidfd_namespace(&me, NsKind::Pid, true).ok()?
                    } else {
                        let file = k.ns_file(*k == NsKind::Time);
                        ns_inode(ctx.host_proc, &own_path(&format!("ns/{file}"))).ok()?
                    };
                    Some((k.name().to_string(), inode))
                })
                .collect();
            emit_born(ctx, me, step.index, Obs::Result(Res::Ok), born);
            return None;
        }
        Action::NestPid { depth, .. } => return nest_pid(ctx, me, step.index, *depth),
        Action::Sethostname { name, .. } => Obs::Result(res(nix::unistd::sethostname(name))),
        Action::Gethostname { .. } => match nix::unistd::gethostname() {
            Ok(h) => Obs::Hostname(h.to_string_lossy().into_owned()),
            Err(e) => Obs::Result(Res::Errno(e as i32)),
        },
        Action::Getuid { .. } => Obs::Value(nix::unistd::getuid().as_raw() as i64),
        Action::Getgid { .. } => Obs::Value(nix::unistd::getgid().as_raw() as i64),
        Action::Read { path, of, .. } => {
            let read = match of {
                None => read_capped(ctx, None, path),
                // Through the harness's /proc, by the target's PID there: what the file says
                // depends on the reader (the outside ids of a map are its user namespace's),
                // not on the procfs instance.
                Some(t) => match live_host_pid(ctx, me, Who::Proc(*t)) {
                    Ok(pid) => read_capped(ctx, Some(ctx.host_proc), &format!("{pid}/{path}")),
                    Err(obs) => return Some(obs),
                },
            };
            match read {
                Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                    return Some(Obs::Failed(format!("refusing to read {path}: {e}")));
                }
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_TEXT)]);
                    Obs::Text {
                        text: crate::plan::fold_space(&text),
                        cut: bytes.len() > MAX_TEXT,
                    }
                }
                Err(e) => Obs::Result(Res::Errno(e.raw_os_error().unwrap_or(libc::EIO))),
            }
        }
        Action::Write {
            path,
            content,
            guard,
            ..
        } => {
            // A namespaced sysctl belongs to the writer's namespace of that kind; the
            // harness's is the host's (see `plan::write_guard`).
            if let Some(kind) = guard
                && in_harness_ns(ctx, *kind)
            {
                return Some(Obs::Failed(format!(
                    "refusing to write {path} in the harness's {} namespace (the host's): add \
                     `{}` to `namespaces` or unshare it first",
                    kind.name(),
                    kind.name()
                )));
            }
            // An algorithm that is not available is looked for as module tcp_NAME, which the
            // kernel loads on the host for a caller with CAP_NET_ADMIN (tcp_ca_find_autoload()).
            if path == TCP_CONGESTION
                && !read_at(
                    ctx.host_proc,
                    "sys/net/ipv4/tcp_available_congestion_control",
                )
                .is_some_and(|a| a.split_whitespace().any(|n| n == content.trim()))
            {
                return Some(Obs::Failed(format!(
                    "refusing to write {path}: `{}` is not in \
                     net.ipv4.tcp_available_congestion_control, and the kernel would load a \
                     module for it on the host",
                    content.trim()
                )));
            }
            if path == crate::plan::PID_MAX
                && crate::probe::running_kernel().is_none_or(|v| v < crate::plan::PER_NS_PID_MAX)
            {
                // Validation demands the requirement; this holds should it be misjudged.
                return Some(Obs::Failed(format!(
                    "refusing to write {path}: before Linux 6.14 it is one sysctl for the whole host"
                )));
            }
            // Validation allows only /proc paths, but by name: after a `chroot` the name can
            // lead to an ordinary file of the host's that happens to sit at such a path, and a
            // `bind_mount` can put any file (the host's sysrq-trigger, a FIFO, a device) at the
            // name of an allowed one. The file must be on the very mount whose root is /proc,
            // and is opened for writing only once it is known to be.
            let opened = open_checked(ctx, path, nix::fcntl::OFlag::O_WRONLY, |found, _| {
                if !nix::sys::statfs::fstatfs(found)
                    .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::PROC_SUPER_MAGIC)
                {
                    return Err(refusal("it is not on a procfs here (after a chroot?)"));
                }
                if !on_proc_root_mount(ctx, found.as_raw_fd()) {
                    return Err(refusal(
                        "it is not on the procfs mounted at /proc (something is mounted over \
                         it, or over a directory on its way)",
                    ));
                }
                Ok(())
            });
            let file = match opened {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                    return Some(Obs::Failed(format!("refusing to write {path}: {e}")));
                }
                Err(e) => {
                    return Some(Obs::Result(Res::Errno(
                        e.raw_os_error().unwrap_or(libc::EIO),
                    )));
                }
            };
            let r = std::io::Write::write_all(&mut &file, content.as_bytes());
            Obs::Result(match r {
                Ok(()) => Res::Ok,
                Err(e) => Res::Errno(e.raw_os_error().unwrap_or(libc::EIO)),
            })
        }
        Action::WriteChild {
            child,
            file,
            content,
            ..
        } => {
            // Validation lets a process write only its own child's files: nobody else reaps
            // the child, so while the table says it is unreaped its PID is still its own.
            let pid = match live_host_pid(ctx, me, Who::Proc(*child)) {
                Ok(pid) => pid,
                Err(obs) => return Some(obs),
            };
            let opened = nix::fcntl::openat(
                unsafe_borrow(ctx.host_proc),
                format!("{pid}/{file}").as_str(),
                nix::fcntl::OFlag::O_WRONLY | nix::fcntl::OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty(),
            );
            Obs::Result(match opened {
                Err(e) => Res::Errno(e as i32),
                Ok(fd) => match std::io::Write::write_all(
                    &mut std::fs::File::from(fd),
                    content.as_bytes(),
                ) {
                    Ok(()) => Res::Ok,
                    Err(e) => Res::Errno(e.raw_os_error().unwrap_or(libc::EIO)),
                },
            })
        }
        Action::HasCap { cap, .. } => {
            // Unread is no answer: taken for "absent", an `expect: false` passed on it.
            let path = own_path("status");
            match read_at(ctx.host_proc, &path)
                .and_then(|s| u64::from_str_radix(status_field(&s, "CapEff")?, 16).ok())
            {
                Some(caps) => Obs::Flag(caps & (1u64 << cap) != 0),
                None => Obs::Failed(format!("cannot read CapEff from {path}")),
            }
        }
        Action::DropCaps => Obs::Result(res(drop_all_caps())),
        Action::SetIds {
            uid,
            gid,
            keep_groups,
            ..
        } => {
            // Groups first: once the uid is no longer 0, CAP_SETGID is gone with it.
            let set = || -> nix::Result<()> {
                if !keep_groups {
                    nix::unistd::setgroups(&[])?;
                }
                let g = nix::unistd::Gid::from_raw(*gid);
                nix::unistd::setresgid(g, g, g)?;
                let u = nix::unistd::Uid::from_raw(*uid);
                nix::unistd::setresuid(u, u, u)
            };
            Obs::Result(res(set()))
        }
        Action::Crash { how } => {
            // Recorded first: the step does not return.
            emit(ctx, me, step.index, Obs::Result(Res::Ok));
            // A process that is not dumpable dumps no core at all, not even to a coredump
            // socket (fs/coredump.c: do_coredump(), vfs_coredump() from 6.17), which
            // RLIMIT_CORE does not stop, and leaves no "aborting core" line in the kernel's log.
            let _ = set_dumpable(false);
            match how {
                // SAFETY: deliberately not safe: the step exists to die of a real SIGSEGV.
                CrashKind::Segv => unsafe {
                    std::ptr::write_volatile(std::ptr::null_mut::<u8>(), 1);
                },
                // SAFETY: abort() has no preconditions.
                CrashKind::Abort => unsafe { libc::abort() },
            }
            exit_now(102)
        }
        Action::ForkBomb { .. } => {
            let mut forked = 0u32;
            let errno = loop {
                match fork_raw() {
                    Ok(0) => {
                        // Hold no pipe of the scenario, so results reach EOF without us, and an
                        // event whose notifier is gone ends.
                        // SAFETY: closing our own copies of inherited descriptors.
                        unsafe { libc::close(ctx.results) };
                        let_go_of_events(ctx, usize::MAX);
                        loop {
                            // SAFETY: pause() has no preconditions.
                            unsafe { libc::pause() };
                        }
                    }
                    Ok(_) => forked += 1,
                    Err(e) => break e,
                }
                if forked > 1_000_000 {
                    break Errno::E2BIG;
                }
            };
            Obs::Result(Res::Errno(errno as i32))
        }
        Action::MountTmpfs { target, dirs, .. } => Obs::Result(res(mount_tmpfs(target, dirs))),
        Action::Chroot { path, .. } => Obs::Result(res(
            nix::unistd::chroot(path.as_str()).and_then(|()| nix::unistd::chdir("/"))
        )),
        Action::Umount { target, lazy, .. } => {
            let flags = if *lazy {
                nix::mount::MntFlags::MNT_DETACH
            } else {
                nix::mount::MntFlags::empty()
            };
            Obs::Result(res(nix::mount::umount2(target.as_str(), flags)))
        }
        Action::Catch { signal, .. } => {
            use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, sigaction};
            let action = SigAction::new(
                SigHandler::SigAction(on_caught),
                // Interrupted system calls of the harness's own (pipe reads, waits) resume.
                SaFlags::SA_SIGINFO | SaFlags::SA_RESTART,
                SigSet::empty(),
            );
            // SAFETY: the handler only touches atomics (async-signal-safe).
            Obs::Result(res(unsafe { sigaction(*signal, &action) }.map(drop)))
        }
        Action::Caught { signal, .. } => {
            use std::sync::atomic::Ordering::SeqCst;
            let sig = *signal as usize;
            let n = CAUGHT_COUNT[sig].load(SeqCst);
            Obs::Caught {
                level: ctx.plan.procs[me].level(),
                pids: CAUGHT_PIDS[sig][..n.min(CAUGHT_MAX)]
                    .iter()
                    .map(|p| i64::from(p.load(SeqCst)))
                    .collect(),
                more: n.saturating_sub(CAUGHT_MAX),
            }
        }
        Action::SetDumpable { dumpable, .. } => Obs::Result(res(set_dumpable(*dumpable))),
        Action::SetSubreaper { subreaper, .. } => Obs::Result(res(prctl_set(
            libc::PR_SET_CHILD_SUBREAPER,
            (*subreaper).into(),
        ))),
        Action::SetPdeathsig { signal } => Obs::Result(res(prctl_set(
            libc::PR_SET_PDEATHSIG,
            *signal as libc::c_ulong,
        ))),
        Action::Notify { event } => {
            // Recorded before it happens: the awaiting side may kill us as soon as it wakes.
            emit(ctx, me, step.index, Obs::Result(Res::Ok));
            let bytes = vec![1u8; ctx.plan.events[*event].waiters];
            // A failure replaces the record above (later records of a step win).
            return write_all(ctx.events[*event].1, &bytes)
                .err()
                .map(|e| Obs::Result(Res::Errno(e as i32)));
        }
        Action::Await { event } => {
            let mut byte = [0u8];
            Obs::Result(match read_retry(ctx.events[*event].0, &mut byte) {
                Ok(1) => Res::Ok,
                // End of file while the scenario is being ended: perhaps only a kill's doing.
                Ok(_) if ctx.table.tearing_down(me, ctx.plan.host) => loop {
                    // SAFETY: pause() has no preconditions; the kill ends it.
                    unsafe { libc::pause() };
                },
                // End of file: its notifier is gone without notifying (`let_go_of_events`).
                // Recorded as EPIPE, which read() itself never returns; the report says what
                // it means.
                Ok(_) => Res::Errno(libc::EPIPE),
                Err(e) => Res::Errno(e as i32),
            })
        }
        Action::Sleep { ms } => {
            std::thread::sleep(Duration::from_millis(*ms));
            Obs::Result(Res::Ok)
        }
        Action::Pause => loop {
            // SAFETY: pause() has no preconditions; it returns only after a caught signal.
            unsafe { libc::pause() };
        },
        Action::SysvGet {
            object,
            key,
            create,
            ..
        } => Obs::Result(res(sysv_get(*object, *key, *create))),
        Action::MqOpen { name, create, .. } => Obs::Result(res(mq_open(name, *create))),
        Action::Links { .. } => {
            if in_harness_ns(ctx, NsKind::Net) {
                Obs::Links(None)
            } else {
                match links() {
                    Ok(l) => Obs::Links(Some(l)),
                    Err(e) => Obs::Result(Res::Errno(e as i32)),
                }
            }
        }
        Action::LinkUp { name, .. } => match refuse_host_net(ctx) {
            Some(obs) => obs,
            // The interface ioctls look an unknown name up with dev_load(), which has the kernel
            // load a module of that name on the host ("netdev-NAME", and with CAP_SYS_MODULE
            // plain "NAME": any module). A device such a module makes would be the initial
            // network namespace's, so this one's answer would be ENODEV all the same.
            None if !interface_exists(ctx, name) => Obs::Result(Res::Errno(libc::ENODEV)),
            None => Obs::Result(res(link_up(name))),
        },
        Action::Bind { socket, addr, .. } => match refuse_host_net(ctx) {
            Some(obs) => obs,
            None => Obs::Result(res(socket_bind(*socket, addr))),
        },
        Action::Connect { socket, addr, .. } => match refuse_host_net(ctx) {
            Some(obs) => obs,
            None => Obs::Result(res(socket_connect(*socket, addr))),
        },
        Action::Cgroup { target, .. } if reaped(ctx, *target) => Obs::Failed(format!(
            "`{}` has been reaped: it has no /proc/PID/cgroup any more",
            who_name(ctx, me, *target)
        )),
        Action::Cgroup { target, .. } => {
            let pid = host_pid(ctx, *target);
            // Its own through /proc/thread-self once its main thread has ended (`take_over`):
            // /proc/PID/cgroup shows that thread's, frozen at its exit.
            let dir = if *target == Who::Proc(me) {
                own_dir().to_string()
            } else {
                pid.to_string()
            };
            match read_at(ctx.host_proc, &format!("{dir}/cgroup")) {
                None => Obs::Failed(format!("cannot read /proc/{dir}/cgroup")),
                Some(text) => match crate::limits::cgroup_line(&text, &ctx.cgroup_key) {
                    None => Obs::Failed(format!(
                        "/proc/PID/cgroup has no line for the {} hierarchy",
                        if ctx.cgroup_key.is_empty() {
                            "cgroup v2"
                        } else {
                            &ctx.cgroup_key
                        }
                    )),
                    Some(path) => Obs::Cgroup {
                        path,
                        harness_ns: in_harness_ns(ctx, NsKind::Cgroup),
                        scenario: ctx.cgroup.as_ref().map(|c| c.path.clone()),
                    },
                },
            }
        }
        Action::CgroupEnter { path, .. } => match &ctx.cgroup {
            None => Obs::Failed(
                "the scenario has no cgroup of its own here (no writable pids cgroup: rootless, \
                 or none delegated); cgroup_enter needs one"
                    .into(),
            ),
            Some(c) => Obs::Result(res(cgroup_enter(ctx, c.dir.as_raw_fd(), path))),
        },
        Action::MountCgroup { target, .. } => match mount_cgroup(ctx, target, &ctx.cgroup_key) {
            Ok(done) => Obs::Result(res(done)),
            Err(refusal) => Obs::Failed(refusal),
        },
        Action::BindMount {
            source,
            target,
            recursive,
            ..
        } => {
            if in_harness_ns(ctx, NsKind::Mount) {
                return Some(refuse_harness_mount_ns("bind_mount"));
            }
            Obs::Result(res(nix::mount::mount(
                Some(source.as_str()),
                target.as_str(),
                None::<&str>,
                MsFlags::MS_BIND | rec(*recursive),
                None::<&str>,
            )))
        }
        Action::Propagation {
            target,
            kind,
            recursive,
            ..
        } => {
            if in_harness_ns(ctx, NsKind::Mount) {
                return Some(refuse_harness_mount_ns("propagation"));
            }
            if !in_own_mount_ns(ctx, target) {
                return Some(Obs::Failed(format!(
                    "refusing to change the propagation of {target}: it is not a mount of the \
                     process's own mount namespace (reached through /proc/PID/root?)"
                )));
            }
            use crate::schema::PropagationKind as K;
            let flag = match kind {
                K::Shared => MsFlags::MS_SHARED,
                K::Slave => MsFlags::MS_SLAVE,
                K::Private => MsFlags::MS_PRIVATE,
                K::Unbindable => MsFlags::MS_UNBINDABLE,
            };
            Obs::Result(res(nix::mount::mount(
                None::<&str>,
                target.as_str(),
                None::<&str>,
                flag | rec(*recursive),
                None::<&str>,
            )))
        }
        Action::Mounts { under, .. } => {
            // Through the harness's /proc: the process's own /proc may be another PID
            // namespace's, where it has no `self`.
            match open_at(ctx.host_proc, &own_path("mountinfo")) {
                Ok(fd) => Obs::Mounts(mounts_under(&String::from_utf8_lossy(&read_fd(&fd)), under)),
                Err(e) => Obs::Result(Res::Errno(e as i32)),
            }
        }
        Action::Subdirs { path, .. } => {
            let own = ctx
                .cgroup
                .as_ref()
                .and_then(|c| nix::sys::stat::fstat(&c.dir).ok())
                .map(|st| (st.st_dev, st.st_ino));
            match subdir_names(path, own) {
                Err(e) => Obs::Result(Res::Errno(e as i32)),
                Ok(names) => Obs::Names(names),
            }
        }
        Action::Clock { clock, shift, .. } => {
            let base = ctx.clocks;
            let shift = i128::from(*shift) * 1_000_000_000;
            // /proc/uptime is rounded down to 10 ms; the rest of the slack is for the
            // readings, which are each a pair taken within a millisecond.
            let slack = 20_000_000;
            let (read, harness) = match clock {
                ClockKind::Realtime => {
                    // Not virtualised, so there is nothing to link it through: at most the
                    // scenario's time limit (and a second) has passed since the harness's.
                    let now = clock_ns(libc::CLOCK_REALTIME);
                    let elapsed = now - base.realtime - shift;
                    let limit = (time_limit(ctx.plan) + Duration::from_secs(1)).as_nanos() as i128;
                    let off = if elapsed < 0 {
                        elapsed
                    } else {
                        elapsed - limit.min(elapsed)
                    };
                    return Some(Obs::Clock {
                        matches: (-slack..=limit).contains(&elapsed),
                        off_ms: (off / 1_000_000) as i64,
                    });
                }
                ClockKind::Monotonic => (
                    beside_realtime(|| Ok::<_, Errno>(clock_ns(libc::CLOCK_MONOTONIC))),
                    base.monotonic,
                ),
                ClockKind::Boottime => (
                    beside_realtime(|| Ok::<_, Errno>(clock_ns(libc::CLOCK_BOOTTIME))),
                    base.boottime,
                ),
                ClockKind::Uptime => (beside_realtime(|| uptime_ns(ctx)), base.boottime),
            };
            match read {
                Err(e) => Obs::Result(Res::Errno(e as i32)),
                Ok((real, now)) => {
                    // The harness's clock now is its reading plus the CLOCK_REALTIME time
                    // since (the clocks run at one rate: NTP slews them alike, and only a step
                    // of CLOCK_REALTIME, settimeofday(2), parts them), so the difference is
                    // the process's offset less `shift`, whatever the time since.
                    let off = (now - harness) - (real - base.realtime) - shift;
                    Obs::Clock {
                        matches: (-slack..=slack).contains(&off),
                        off_ms: (off / 1_000_000) as i64,
                    }
                }
            }
        }
        Action::Ns {
            kind, for_children, ..
        } => {
            let name = kind.ns_file(*for_children);
            match ns_inode(ctx.host_proc, &own_path(&format!("ns/{name}"))) {
                Ok(inode) => ns_seen(ctx, *kind, inode),
                Err(e) => Obs::Result(Res::Errno(e as i32)),
            }
        }
        Action::NsIoctl { target, .. } if reaped(ctx, *target) => Obs::Failed(format!(
            "`{}` has been reaped: it has no /proc/PID/ns any more",
            who_name(ctx, me, *target)
        )),
        Action::NsIoctl {
            target,
            kind,
            for_children,
            request,
            arg,
            ..
        } => {
            let name = kind.ns_file(*for_children);
            let dir = if *target == Who::Proc(me) {
                own_dir().to_string()
            } else {
                host_pid(ctx, *target).to_string()
            };
            let file = match open_nsfs(ctx.host_proc, &format!("{dir}/ns/{name}")) {
                Ok(file) => file,
                Err(Errno::EXDEV) => {
                    return Some(Obs::Failed(format!(
                        "/proc/{dir}/ns/{name} is not a namespace file (something is mounted \
                         over the harness's /proc)"
                    )));
                }
                Err(e) => return Some(Obs::Result(Res::Errno(e as i32))),
            };
            match ns_ioctl(&file, *request, *arg) {
                Err(e) => Obs::Result(Res::Errno(e as i32)),
                Ok(NsAnswer::Ns(inode)) => {
                    // NS_GET_PARENT stays within the kind; NS_GET_USERNS gives a user namespace.
                    let of = match request {
                        NsRequest::Userns => NsKind::User,
                        _ => *kind,
                    };
                    ns_seen(ctx, of, inode)
                }
                Ok(NsAnswer::Uid(uid)) => Obs::Value(i64::from(uid)),
                Ok(NsAnswer::Nstype(flag)) => Obs::Nstype(flag),
                Ok(NsAnswer::Pid(pid, file_ns)) => Obs::Translated {
                    pid: i64::from(pid),
                    harness: match file_ns {
                        Some(ino) => ctx
                            .harness_kinds
                            .get(&NsKind::Pid)
                            .is_none_or(|h| *h == ino),
                        None => in_harness_ns(ctx, NsKind::Pid),
                    },
                },
            }
        }
    })
}

/// The first [`MAX_TEXT`] bytes of a regular file, and one more if there are more: only that
/// much is recorded, and a file need not fit in memory. Opening anything else can act on the
/// host: a device node (opening /dev/watchdog arms it), a FIFO (a writer's data would be
/// taken, or the open blocks) or a socket; reading kmsg takes the kernel's messages from the
/// host's log reader (through any procfs instance: the inode is the same in each), and files
/// of tracefs and debugfs can consume events (trace_pipe) or act on drivers. Those are refused
/// with `ErrorKind::Unsupported`.
fn read_capped(ctx: &Ctx, dir: Option<RawFd>, path: &str) -> std::io::Result<Vec<u8>> {
    use nix::fcntl::OFlag;
    use std::io::Read as _;
    let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY;
    let file = open_checked_at(ctx, dir, path, flags, |found, st| {
        if st.st_mode & libc::S_IFMT != libc::S_IFREG {
            return Err(refusal(
                "only regular files are read (opening a device, FIFO or socket can act on the host)",
            ));
        }
        let fs = nix::sys::statfs::fstatfs(found)?.filesystem_type();
        let kmsg = fs == nix::sys::statfs::PROC_SUPER_MAGIC
            && nix::sys::stat::fstatat(
                unsafe_borrow(ctx.host_proc),
                "kmsg",
                nix::fcntl::AtFlags::empty(),
            )
            .is_ok_and(|k| k.st_ino == st.st_ino);
        if kmsg {
            return Err(refusal(
                "reading kmsg would take the host's kernel messages from its log reader",
            ));
        }
        if fs == nix::sys::statfs::TRACEFS_MAGIC || fs == nix::sys::statfs::DEBUGFS_MAGIC {
            return Err(refusal(
                "files of tracefs and debugfs can consume the host's events or act on its drivers",
            ));
        }
        Ok(())
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_TEXT as u64 + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A procfs file at `path` in the process's own view, read whole; anything else (a FIFO or a
/// device a `bind_mount` put there) is refused unopened: `Unsupported`, with no OS error.
fn read_proc_text(ctx: &Ctx, path: &str) -> std::io::Result<String> {
    let file = open_checked(ctx, path, nix::fcntl::OFlag::O_RDONLY, |found, st| {
        let proc = nix::sys::statfs::fstatfs(found)?.filesystem_type()
            == nix::sys::statfs::PROC_SUPER_MAGIC;
        if proc && st.st_mode & libc::S_IFMT == libc::S_IFREG {
            Ok(())
        } else {
            Err(refusal("not a procfs file"))
        }
    })?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut &file, &mut text)?;
    Ok(text)
}

/// A refusal of [`open_checked`]'s check: the step says why instead of recording an errno.
fn refusal(why: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::Unsupported, why)
}

/// Opens `path` only once the file it names has passed `check`. Opening has effects of its
/// own: a device's driver runs (opening /dev/watchdog arms it), a FIFO's reader sees a writer
/// come and go, a terminal can become the controlling one. So the file is found with O_PATH,
/// which opens nothing, checked, and then reopened with `flags` through its /proc/self/fd link
/// in the harness's /proc; a path checked first and opened after could have been replaced in
/// between (a `bind_mount` by another process of the scenario). `Unsupported`: the check's
/// refusal (see [`refusal`]).
fn open_checked(
    ctx: &Ctx,
    path: &str,
    flags: nix::fcntl::OFlag,
    check: impl FnOnce(&OwnedFd, &nix::sys::stat::FileStat) -> std::io::Result<()>,
) -> std::io::Result<std::fs::File> {
    open_checked_at(ctx, None, path, flags, check)
}

/// [`open_checked`] of `path` relative to the directory `dir` (None: the working directory).
fn open_checked_at(
    ctx: &Ctx,
    dir: Option<RawFd>,
    path: &str,
    flags: nix::fcntl::OFlag,
    check: impl FnOnce(&OwnedFd, &nix::sys::stat::FileStat) -> std::io::Result<()>,
) -> std::io::Result<std::fs::File> {
    use nix::fcntl::OFlag;
    let mode = nix::sys::stat::Mode::empty();
    let found = match dir {
        None => nix::fcntl::open(path, OFlag::O_PATH | OFlag::O_CLOEXEC, mode)?,
        Some(dir) => nix::fcntl::openat(
            unsafe_borrow(dir),
            path,
            OFlag::O_PATH | OFlag::O_CLOEXEC,
            mode,
        )?,
    };
    let checked = nix::sys::stat::fstat(&found)?;
    check(&found, &checked)?;
    reopen(ctx.host_proc, &found, flags).map(std::fs::File::from)
}

/// Opens with `flags` the file `found` (an O_PATH descriptor) refers to, through its
/// /proc/self/fd link in the harness's /proc (`host_proc`). The reopening walks a path below
/// that /proc, which a scenario without a mount namespace of its own can mount over: it must
/// reach the very file found, or it is refused (see [`refusal`]).
fn reopen(host_proc: RawFd, found: &OwnedFd, flags: nix::fcntl::OFlag) -> std::io::Result<OwnedFd> {
    let opened = nix::fcntl::openat(
        unsafe_borrow(host_proc),
        own_path(&format!("fd/{}", found.as_raw_fd())).as_str(),
        flags | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    let (a, b) = (
        nix::sys::stat::fstat(found)?,
        nix::sys::stat::fstat(&opened)?,
    );
    if (a.st_dev, a.st_ino) != (b.st_dev, b.st_ino) {
        return Err(refusal(
            "reopening it through /proc/self/fd reached another file (something is mounted \
             over the harness's /proc)",
        ));
    }
    Ok(opened)
}

/// The inode of a namespace file below the harness's /proc.
fn ns_inode(host_proc: RawFd, path: &str) -> Result<u64, Errno> {
    nix::sys::stat::fstatat(unsafe_borrow(host_proc), path, nix::fcntl::AtFlags::empty())
        .map(|st| st.st_ino)
}

/// A namespace a step found, by inode: the harness's own or another one (labelled in the record).
fn ns_seen(ctx: &Ctx, kind: NsKind, inode: u64) -> Obs {
    Obs::Ns {
        kind: kind.name().to_string(),
        inode,
        harness: ctx.harness_kinds.get(&kind) == Some(&inode),
    }
}

/// What an ioctl_ns(2) request answered.
pub(crate) enum NsAnswer {
    /// The PID a translation request gives, and the inode of the file's PID namespace where
    /// the number is that namespace's (None: the caller's).
    Pid(i32, Option<u64>),
    /// The inode of the namespace whose new descriptor NS_GET_PARENT or NS_GET_USERNS returned.
    Ns(u64),
    Uid(u32),
    /// The CLONE_NEW* flag.
    Nstype(i32),
}

/// Opens the namespace file `path` below `host_proc` for reading, and only if it is one
/// (nsfs; EXDEV otherwise): as for [`nsfs_inode`], a scenario without a mount namespace of
/// its own can mount a tmpfs below the harness's /proc, and an ioctl request number must never
/// reach whatever file that holds. The file is found with O_PATH, checked, and then reopened
/// through its /proc/self/fd link, so the file checked is the file opened.
fn open_nsfs(host_proc: RawFd, path: &str) -> Result<OwnedFd, Errno> {
    let found = find_nsfs(host_proc, path)?;
    // Another file reached (no OS error: the refusal) is EXDEV, as one that is not nsfs.
    reopen(host_proc, &found, nix::fcntl::OFlag::O_RDONLY)
        .map_err(|e| e.raw_os_error().map_or(Errno::EXDEV, Errno::from_raw))
}

/// The ioctl number of a PID translation of include/uapi/linux/nsfs.h (Linux 6.11):
/// `_IOR(NSIO, nr, int)`, NSIO 0xb7; which the libc crate does not define.
fn ns_translation_request(request: NsRequest) -> libc::c_ulong {
    let nr = match request {
        NsRequest::PidFromPidns => 6,
        NsRequest::TgidFromPidns => 7,
        NsRequest::PidInPidns => 8,
        NsRequest::TgidInPidns => 9,
        other => unreachable!("{} translates no PID", other.name()),
    };
    // _IOC(_IOC_READ (2), type, nr, sizeof(int)): direction in bits 30-31, size in 16-29.
    (2 << 30) | ((std::mem::size_of::<libc::c_int>() as libc::c_ulong) << 16) | (0xb7 << 8) | nr
}

/// Applies `request` to an open namespace file. Descriptors the kernel returns are only looked
/// at (fstat) and closed: never passed to setns().
///
/// # References
/// - [ioctl_ns(2)](https://man7.org/linux/man-pages/man2/ioctl_ns.2.html)
pub(crate) fn ns_ioctl(
    file: &OwnedFd,
    request: NsRequest,
    arg: Option<i32>,
) -> Result<NsAnswer, Errno> {
    let fd = file.as_raw_fd();
    match request {
        NsRequest::PidFromPidns
        | NsRequest::TgidFromPidns
        | NsRequest::PidInPidns
        | NsRequest::TgidInPidns => {
            let code = ns_translation_request(request);
            // SAFETY: `fd` is open; the request takes the PID itself as its argument, not a
            // pointer, and answers with a PID (fs/nsfs.c).
            let pid =
                Errno::result(unsafe { libc::ioctl(fd, code, arg.unwrap_or(0) as libc::c_ulong) })?;
            // `…_IN_PIDNS` answers in the file's namespace, `…_FROM_PIDNS` in the caller's.
            let file_ns = matches!(request, NsRequest::PidInPidns | NsRequest::TgidInPidns)
                .then(|| nix::sys::stat::fstat(file).map(|st| st.st_ino))
                .transpose()?;
            Ok(NsAnswer::Pid(pid, file_ns))
        }
        NsRequest::Parent | NsRequest::Userns => {
            let code = if request == NsRequest::Parent {
                libc::NS_GET_PARENT
            } else {
                libc::NS_GET_USERNS
            };
            // SAFETY: `fd` is open; these requests take no argument and return a new
            // descriptor, which `OwnedFd` takes over at once.
            let got = Errno::result(unsafe { libc::ioctl(fd, code) })?;
            // SAFETY: the kernel just installed `got` for this process; nothing else owns it.
            let related = unsafe { OwnedFd::from_raw_fd(got) };
            Ok(NsAnswer::Ns(nix::sys::stat::fstat(&related)?.st_ino))
        }
        NsRequest::OwnerUid => {
            let mut uid: libc::uid_t = 0;
            // SAFETY: `fd` is open; the kernel writes one uid_t through the pointer, which
            // points at `uid` for the duration of the call.
            Errno::result(unsafe {
                libc::ioctl(fd, libc::NS_GET_OWNER_UID, &mut uid as *mut libc::uid_t)
            })?;
            Ok(NsAnswer::Uid(uid))
        }
        NsRequest::Nstype => {
            // SAFETY: `fd` is open; the request takes no argument.
            let flag = Errno::result(unsafe { libc::ioctl(fd, libc::NS_GET_NSTYPE) })?;
            Ok(NsAnswer::Nstype(flag))
        }
    }
}

/// MS_REC for a mount step's `recursive`.
fn rec(recursive: bool) -> MsFlags {
    if recursive {
        MsFlags::MS_REC
    } else {
        MsFlags::empty()
    }
}

/// `bind_mount` and `propagation` act only in a mount namespace of the scenario's own. In the
/// supervisor's — where a scenario without `mount` runs — a bind mount could put other files
/// at the paths the harness itself reads by name below its /proc and its cgroup directories
/// (a namespace link, mountinfo, a child cgroup), and turn its guards and its clean-up against
/// the host.
fn refuse_harness_mount_ns(step: &str) -> Obs {
    Obs::Failed(format!(
        "refusing `{step}` in the harness's mount namespace: add `mount` to `namespaces` or \
         unshare it first"
    ))
}

/// [`ns_inode`] for the guards: the file found must be a namespace file (nsfs). A scenario
/// without a mount namespace of its own can mount a tmpfs over a directory below the
/// harness's /proc (its own /proc/PID/ns), and a directory `mnt` there must not pass for a
/// namespace other than the harness's.
fn nsfs_inode(host_proc: RawFd, path: &str) -> Result<u64, Errno> {
    Ok(nix::sys::stat::fstat(&find_nsfs(host_proc, path)?)?.st_ino)
}

/// `path` below `host_proc` opened with O_PATH (nothing is read or acted on), if it is a
/// namespace file (nsfs); EXDEV otherwise.
fn find_nsfs(host_proc: RawFd, path: &str) -> Result<OwnedFd, Errno> {
    let fd = nix::fcntl::openat(
        unsafe_borrow(host_proc),
        path,
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    if nix::sys::statfs::fstatfs(&fd)?.filesystem_type() != nix::sys::statfs::NSFS_MAGIC {
        return Err(Errno::EXDEV);
    }
    Ok(fd)
}

/// The mount ID of an open file; fdinfo, where statx cannot tell, through the harness's /proc.
fn mount_id(ctx: &Ctx, fd: RawFd) -> Option<u64> {
    crate::limits::mount_id(unsafe_borrow(fd), Some(ctx.host_proc))
}

/// Whether the open file `fd` is on the mount at /proc, and that mount is a procfs root.
fn on_proc_root_mount(ctx: &Ctx, fd: RawFd) -> bool {
    let Ok(root) = open_dir("/proc") else {
        return false;
    };
    let is_root = nix::sys::statfs::fstatfs(&root)
        .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::PROC_SUPER_MAGIC)
        && nix::sys::stat::fstat(&root).is_ok_and(|st| st.st_ino == PROC_ROOT_INO);
    is_root && mount_id(ctx, root.as_raw_fd()).is_some_and(|m| Some(m) == mount_id(ctx, fd))
}

/// Reads one of the process's own /proc/self files through the process's /proc. A
/// `bind_mount` can put another process's /proc/PID where /proc/self leads (its status, its
/// descriptors' fdinfo would be read instead): only the /proc mount itself will do. `Err`:
/// how opening or reading failed, or the refusal.
fn read_own_proc_file(ctx: &Ctx, path: &str) -> Result<String, Obs> {
    let file = open_checked(ctx, path, nix::fcntl::OFlag::O_RDONLY, |found, _| {
        if on_proc_root_mount(ctx, found.as_raw_fd()) {
            Ok(())
        } else {
            Err(refusal(
                "it is not on the procfs mounted at /proc (something is mounted over it, or \
                 over a directory on its way)",
            ))
        }
    })
    .map_err(|e| match e.kind() {
        std::io::ErrorKind::Unsupported => Obs::Failed(format!("refusing to read {path}: {e}")),
        _ => Obs::Result(Res::Errno(e.raw_os_error().unwrap_or(libc::EIO))),
    })?;
    let errno = |e: std::io::Error| Obs::Result(Res::Errno(e.raw_os_error().unwrap_or(libc::EIO)));
    let mut text = String::new();
    std::io::Read::read_to_string(&mut &file, &mut text).map_err(errno)?;
    Ok(text)
}

/// The inode number of a procfs root directory (fs/proc/root.c).
const PROC_ROOT_INO: u64 = 1;

/// Whether the mount at `path` (followed as mount(2) follows it) belongs to the caller's mount
/// namespace: the kernel lets a privileged caller change the propagation of another
/// namespace's mounts (do_change_type()), which a path through /proc/PID/root reaches — the
/// host's, through a /proc the scenario inherited.
fn in_own_mount_ns(ctx: &Ctx, path: &str) -> bool {
    let Ok(target) = nix::fcntl::open(
        path,
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    ) else {
        // Let the mount call itself say why the path is wrong.
        return true;
    };
    let Some(id) = mount_id(ctx, target.as_raw_fd()) else {
        return false;
    };
    read_at(ctx.host_proc, &own_path("mountinfo")).is_some_and(|text| {
        text.lines()
            .filter_map(MountInfoLine::parse)
            .any(|m| m.id == id)
    })
}

/// Whether the calling process shares the harness's namespace of this kind — or might: the
/// guards that ask refuse to act in the host's namespaces, so every doubt answers yes. The
/// harness's inode was read by the supervisor before the scenario began, since the caller may
/// no longer be allowed to read the supervisor's (after `drop_caps`, or from a user namespace
/// of its own); the caller's own is always readable to it.
fn in_harness_ns(ctx: &Ctx, kind: NsKind) -> bool {
    let Some(theirs) = ctx.harness_kinds.get(&kind) else {
        return true;
    };
    !matches!(
        nsfs_inode(ctx.host_proc, &own_path(&format!("ns/{}", kind.proc_name()))),
        Ok(mine) if mine != *theirs
    )
}

/// What a signal to nsspec's supervisor from the harness's PID namespace meets: validation
/// refuses it by the plan's levels, this where an `unshare` did not do what its step expected.
fn supervisor_refused() -> Obs {
    Obs::Failed(
        "refusing to signal nsspec's supervisor (`parent` of init and the host process) from the \
         harness's PID namespace, where the signal would reach it"
            .into(),
    )
}

/// How many PID namespaces below the harness's a child created now with `flags` is in, as
/// the kernel will have it: the caller's own depth, one more when its namespace for children
/// is not its own (an `unshare` of pid that succeeded; ENOENT while that one has no init),
/// one more with CLONE_NEWPID. `None` when that cannot be read.
fn child_pid_depth(ctx: &Ctx, me: usize, flags: libc::c_int) -> Option<usize> {
    let own = ctx.table.nspid(me)?.len().checked_sub(1)?;
    let mine = nsfs_inode(ctx.host_proc, &own_path("ns/pid")).ok()?;
    let pending = match nsfs_inode(ctx.host_proc, &own_path("ns/pid_for_children")) {
        Ok(theirs) => theirs != mine,
        Err(Errno::ENOENT) => true,
        Err(_) => return None,
    };
    Some(own + usize::from(pending) + usize::from(flags & libc::CLONE_NEWPID != 0))
}

/// The network steps never touch the harness's network namespace: as root it is the host's.
fn refuse_host_net(ctx: &Ctx) -> Option<Obs> {
    in_harness_ns(ctx, NsKind::Net).then(|| {
        Obs::Failed(
            "refusing to change or use the harness's network namespace (the host's): add `net` \
             to `namespaces` or unshare it first"
                .into(),
        )
    })
}

/// `subdirs`: the names of the directories in `path`, sorted, by the type its entries give.
/// Where a filesystem gives none (DT_UNKNOWN: some network filesystems), the entry is looked
/// at without triggering an automount: std's fallback, a statx without AT_NO_AUTOMOUNT, would
/// mount what an automount point there holds.
///
/// Where the names include the scenario's own cgroup (`own`: its device and inode; the folder
/// that holds it, seen through a `mount_cgroup` outside a cgroup namespace), that one is
/// `<scenario>`, since its name holds the supervisor's PID, and the other `nsspec-…` cgroups
/// beside it are left out: they belong to whatever else nsspec runs at the time (`-j`), so
/// the record would differ from run to run. The host's own cgroups there stay listed. Only
/// `nsspec-…` names are looked at for that, without automounting either: a stat of every
/// entry would mount what an autofs or debugfs point holds (systemd's binfmt_misc under
/// /proc/sys/fs, tracefs under /sys/kernel/debug), in the host's mount namespace for a
/// scenario without one of its own.
fn subdir_names(path: &str, own: Option<(u64, u64)>) -> Result<Vec<String>, Errno> {
    use nix::dir::{Dir, Type};
    use nix::fcntl::{AtFlags, OFlag};
    use nix::sys::stat::{FileStat, Mode, SFlag, fstatat};
    let mut dir = Dir::open(
        path,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let fd = dir.as_raw_fd();
    let stat = |name: &std::ffi::CStr| -> Option<FileStat> {
        fstatat(
            // SAFETY: `fd` is the open directory being read, alive for the loop.
            unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) },
            name,
            AtFlags::AT_SYMLINK_NOFOLLOW | AtFlags::AT_NO_AUTOMOUNT,
        )
        .ok()
    };
    let mut names = Vec::new();
    let mut own_at = None;
    for entry in dir.iter() {
        let entry = entry?;
        let name = entry.file_name();
        if matches!(name.to_bytes(), b"." | b"..") {
            continue;
        }
        let is_dir = match entry.file_type() {
            Some(t) => t == Type::Directory,
            None => stat(name).is_some_and(|st| {
                SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR
            }),
        };
        if !is_dir {
            continue;
        }
        let text = name.to_string_lossy().into_owned();
        if own.is_some()
            && crate::limits::is_cgroup_name(&text)
            && stat(name).map(|st| (st.st_dev, st.st_ino)) == own
        {
            own_at = Some(names.len());
        }
        names.push(text);
    }
    if let Some(i) = own_at {
        names[i] = crate::plan::SCENARIO_CGROUP.to_string();
        names.retain(|n| !crate::limits::is_cgroup_name(n));
    }
    names.sort();
    Ok(names)
}

/// The scenario's cgroup (from its process limit) and the key of its hierarchy's line in
/// /proc/PID/cgroup. Without one (rootless), the cgroup v2 line or, on a host without
/// cgroup v2, the first v1 hierarchy's: inside a cgroup namespace every line reads the same.
fn scenario_cgroup(limit: &crate::limits::Limit) -> (Option<ScenarioCgroup>, String) {
    let Some((dir, path, v1)) = limit.cgroup_dir() else {
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let key = match crate::limits::cgroup_line(&own, "") {
            Some(_) => String::new(),
            None => own
                .lines()
                .find_map(|l| l.split(':').nth(1)?.split(',').next())
                .unwrap_or_default()
                .to_string(),
        };
        return (None, key);
    };
    let key = if v1 { "pids" } else { "" }.to_string();
    // The supervisor itself is not in that cgroup (see `limits`): its path comes from there.
    let found = open_dir(&dir.to_string_lossy())
        .ok()
        .map(|dir| ScenarioCgroup { dir, path });
    (found, key)
}

/// Creates `path` below the scenario's cgroup `dir` where missing and moves the caller in
/// (writing 0 to cgroup.procs moves the writer, whatever its PID namespace).
///
/// # References
/// cgroups(7), cgroup_namespaces(7)
fn cgroup_enter(ctx: &Ctx, dir: RawFd, path: &str) -> Result<(), Errno> {
    use nix::fcntl::OFlag;
    // One name at a time, each directory checked to be on the scenario cgroup's own mount: a
    // scenario without a mount namespace could have mounted something over a name below it
    // in the supervisor's namespace, and a multi-part lookup would cross into that.
    let mount = mount_id(ctx, dir).ok_or(Errno::EXDEV)?;
    let mut cur: Option<OwnedFd> = None;
    if path != "." {
        for part in path.split('/') {
            let at = cur.as_ref().map_or(dir, |f| f.as_raw_fd());
            match nix::sys::stat::mkdirat(
                unsafe_borrow(at),
                part,
                nix::sys::stat::Mode::from_bits_truncate(0o755),
            ) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(e),
            }
            let next = nix::fcntl::openat(
                unsafe_borrow(at),
                part,
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty(),
            )?;
            if mount_id(ctx, next.as_raw_fd()) != Some(mount) {
                return Err(Errno::EXDEV);
            }
            cur = Some(next);
        }
    }
    let fd = nix::fcntl::openat(
        unsafe_borrow(cur.as_ref().map_or(dir, |f| f.as_raw_fd())),
        "cgroup.procs",
        OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    write_all(fd.as_raw_fd(), b"0")
}

/// Mounts the scenario's cgroup hierarchy: cgroup2 when `key` is empty, else the v1
/// hierarchy whose controller (or `name=`) is `key`. In a cgroup namespace other than the
/// initial one, the mount's root is the namespace's root (cgroup_namespaces(7)).
/// `Err`: the mount was refused, for the reason given.
fn mount_cgroup(ctx: &Ctx, target: &str, key: &str) -> Result<Result<(), Errno>, String> {
    use nix::mount::MsFlags;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    if key.is_empty() {
        // With the flags the host's cgroup2 has, or a mount from the initial cgroup namespace
        // would reset them for the whole host (crate::limits::cgroup2_mount_data). Read
        // through the harness's /proc: the process's own may be anything by now.
        let read = |f: &str| read_at(ctx.host_proc, &own_path(f)).unwrap_or_default();
        let data = crate::limits::cgroup2_data(&read("mountinfo"), &read("cgroup"), || {
            crate::limits::initial_cgroupns(ctx.host_proc, &own_path("ns/cgroup"))
        })
        .map_err(|_| {
            "refusing to mount cgroup2 from the initial cgroup namespace with no cgroup2 mount \
             in sight: the mount would set the host's cgroup2 flags (nsdelegate, \
             memory_recursiveprot, …) to its own options, and which they are is unknown; \
             mount it after an `unshare` of `cgroup`"
                .to_string()
        })?;
        Ok(crate::limits::mount_cgroup2_with(
            std::path::Path::new(target),
            &data,
        ))
    } else {
        let data = if key.starts_with("name=") {
            format!("none,{key}")
        } else {
            key.to_string()
        };
        Ok(nix::mount::mount(
            Some("cgroup"),
            target,
            Some("cgroup"),
            flags,
            Some(data.as_str()),
        ))
    }
}

/// clock_gettime(2) in nanoseconds.
fn clock_ns(clock: libc::clockid_t) -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; every clock passed exists on Linux.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
}

/// The first field of /proc/uptime (centiseconds) in nanoseconds. Read through the process's
/// own /proc: the kernel adds the reader's time-namespace offset (proc(5)).
fn uptime_ns(ctx: &Ctx) -> Result<i128, Errno> {
    let text = read_proc_text(ctx, "/proc/uptime")
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EXDEV)))?;
    let first = text.split_whitespace().next().unwrap_or("");
    let (secs, frac) = first.split_once('.').unwrap_or((first, "0"));
    let secs: i128 = secs.parse().map_err(|_| Errno::EINVAL)?;
    let frac = format!("{frac:0<9}");
    let nanos: i128 = frac[..9].parse().map_err(|_| Errno::EINVAL)?;
    Ok(secs * 1_000_000_000 + nanos)
}

/// shmget(2), msgget(2) or semget(2) with `key`: with `create`, IPC_CREAT|IPC_EXCL (mode 0600).
fn sysv_get(object: SysvKind, key: i32, create: bool) -> Result<(), Errno> {
    let flags = if create {
        libc::IPC_CREAT | libc::IPC_EXCL | 0o600
    } else {
        0
    };
    // SAFETY: plain system calls with integer arguments.
    let r = unsafe {
        match object {
            SysvKind::Shm => libc::shmget(key, if create { 4096 } else { 0 }, flags),
            SysvKind::Msg => libc::msgget(key, flags),
            SysvKind::Sem => libc::semget(key, i32::from(create), flags),
        }
    };
    Errno::result(r).map(drop)
}

/// mq_open(3) of `name` (with its leading `/`), closed again at once. A queue is created with
/// room for one message of one byte: with the defaults (10 of 8192 bytes, fs.mqueue.*_default)
/// each one charges about 80 KiB to its user's RLIMIT_MSGQUEUE (800 KiB by default) for as long
/// as its IPC namespace lives, so a few concurrent runs, or any other process of the same user
/// holding queues, made `mq_open` fail with EMFILE (mq_overview(7)).
///
/// # References
/// mq_open(3), mq_overview(7): the system call takes the name without the leading slash.
fn mq_open(name: &str, create: bool) -> Result<(), Errno> {
    let c = std::ffi::CString::new(name.trim_start_matches('/')).map_err(|_| Errno::EINVAL)?;
    let flags = libc::O_RDWR
        | libc::O_CLOEXEC
        | if create {
            libc::O_CREAT | libc::O_EXCL
        } else {
            0
        };
    // SAFETY: an all-zero mq_attr is a valid value of this plain C struct.
    let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
    attr.mq_maxmsg = 1;
    attr.mq_msgsize = 1;
    // SAFETY: `c` is a valid C string and `attr` a valid mq_attr (read only with O_CREAT).
    let fd = unsafe {
        libc::syscall(
            libc::SYS_mq_open,
            c.as_ptr(),
            flags,
            0o600 as libc::c_uint,
            &attr as *const libc::mq_attr,
        )
    };
    let fd = Errno::result(fd)?;
    // SAFETY: the descriptor was just created and is ours.
    drop(unsafe { OwnedFd::from_raw_fd(fd as RawFd) });
    Ok(())
}

/// The fallback tunnel devices the kernel creates in every new network namespace while their
/// module is loaded (ipip, ip_gre, ip_vti, sit, ip6_tunnel, ip6_gre, ip6_vti: the names
/// their `*_init_net` functions give), unless net.core.fb_tunnels_only_for_init_net is set
/// (Documentation/admin-guide/sysctl/net.rst). Whether they exist says which modules the host
/// has loaded (Calico's tunl0, for one), not how namespaces behave, so `links` leaves them out.
const FALLBACK_TUNNELS: [&str; 9] = [
    "tunl0", "gre0", "gretap0", "erspan0", "ip_vti0", "sit0", "ip6tnl0", "ip6gre0", "ip6_vti0",
];

/// Every interface of the caller's network namespace but [`FALLBACK_TUNNELS`], in index
/// order, as `NAME up|down`.
fn links() -> Result<Vec<String>, Errno> {
    // SAFETY: if_nameindex returns a heap array terminated by a zero entry, freed below.
    let list = unsafe { libc::if_nameindex() };
    if list.is_null() {
        return Err(Errno::last());
    }
    let mut names = Vec::new();
    let mut i = 0;
    loop {
        // SAFETY: within the array, which ends at the entry with index 0.
        let entry = unsafe { &*list.add(i) };
        if entry.if_index == 0 {
            break;
        }
        // SAFETY: if_name is a NUL-terminated string owned by the array.
        let name = unsafe { std::ffi::CStr::from_ptr(entry.if_name) }.to_string_lossy();
        if !FALLBACK_TUNNELS.contains(&name.as_ref()) {
            names.push((entry.if_index, name.into_owned()));
        }
        i += 1;
    }
    // SAFETY: `list` came from if_nameindex and is freed once.
    unsafe { libc::if_freenameindex(list) };
    names.sort();
    let sock = inet_socket(libc::SOCK_DGRAM)?;
    names
        .into_iter()
        .map(|(_, name)| {
            let up = if_flags(&sock, &name)? & libc::IFF_UP as libc::c_short != 0;
            Ok(format!("{name} {}", if up { "up" } else { "down" }))
        })
        .collect()
}

fn inet_socket(kind: libc::c_int) -> Result<OwnedFd, Errno> {
    // SAFETY: plain socket(2) call; a non-negative result is a new descriptor we own.
    let fd = Errno::result(unsafe { libc::socket(libc::AF_INET, kind | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: as above.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn ifreq(name: &str) -> Result<libc::ifreq, Errno> {
    // SAFETY: ifreq is plain data; all zeroes is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    if name.len() >= req.ifr_name.len() {
        return Err(Errno::EINVAL);
    }
    for (d, s) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *d = s as libc::c_char;
    }
    Ok(req)
}

/// SIOCGIFFLAGS.
///
/// # References
/// netdevice(7)
fn if_flags(sock: &OwnedFd, name: &str) -> Result<libc::c_short, Errno> {
    let mut req = ifreq(name)?;
    // SAFETY: `req` is a valid ifreq for the duration of the call.
    Errno::result(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) })?;
    // SAFETY: SIOCGIFFLAGS fills the flags member of the union.
    Ok(unsafe { req.ifr_ifru.ifru_flags })
}

/// The per-network-namespace default TCP congestion control (Linux 4.15).
const TCP_CONGESTION: &str = "/proc/sys/net/ipv4/tcp_congestion_control";

/// Whether the caller's network namespace has an interface `name`, from its /proc/PID/net/dev
/// in the harness's /proc (which no scenario can mount over).
fn interface_exists(ctx: &Ctx, name: &str) -> bool {
    read_at(ctx.host_proc, &own_path("net/dev")).is_some_and(|dev| {
        dev.lines()
            .skip(2)
            .filter_map(|l| l.split_once(':'))
            .any(|(n, _)| n.trim() == name)
    })
}

/// Sets IFF_UP on an interface of the caller's network namespace (SIOCSIFFLAGS), as
/// `ip link set NAME up` does.
///
/// # References
/// netdevice(7): SIOCSIFFLAGS needs CAP_NET_ADMIN.
fn link_up(name: &str) -> Result<(), Errno> {
    let sock = inet_socket(libc::SOCK_DGRAM)?;
    let flags = if_flags(&sock, name)?;
    let mut req = ifreq(name)?;
    req.ifr_ifru.ifru_flags = flags | libc::IFF_UP as libc::c_short;
    // SAFETY: `req` is a valid ifreq for the duration of the call.
    Errno::result(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) }).map(drop)
}

/// A new socket and the address for it, as (descriptor, sockaddr bytes, length).
fn socket_for(
    socket: SocketKind,
    addr: &SockAddr,
) -> Result<(OwnedFd, libc::sockaddr_storage, libc::socklen_t), Errno> {
    // SAFETY: sockaddr_storage is plain data; all zeroes is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let (domain, kind) = match socket {
        SocketKind::Tcp => (libc::AF_INET, libc::SOCK_STREAM),
        SocketKind::Udp => (libc::AF_INET, libc::SOCK_DGRAM),
        SocketKind::Unix => (libc::AF_UNIX, libc::SOCK_STREAM),
    };
    let len = match addr {
        SockAddr::Inet(ip, port) => {
            // SAFETY: sockaddr_storage is large enough and suitably aligned for sockaddr_in.
            let sin = unsafe { &mut *(&mut storage as *mut _ as *mut libc::sockaddr_in) };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = port.to_be();
            sin.sin_addr.s_addr = u32::from(*ip).to_be();
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SockAddr::Abstract(name) => {
            // SAFETY: sockaddr_storage is large enough and suitably aligned for sockaddr_un.
            let sun = unsafe { &mut *(&mut storage as *mut _ as *mut libc::sockaddr_un) };
            sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
            // sun_path[0] stays 0: the abstract namespace (unix(7)); the name is not
            // NUL-terminated and the length counts exactly its bytes.
            for (d, s) in sun.sun_path[1..].iter_mut().zip(name.bytes()) {
                *d = s as libc::c_char;
            }
            std::mem::size_of::<libc::sa_family_t>() + 1 + name.len()
        }
    };
    // SAFETY: plain socket(2) call; a non-negative result is a new descriptor we own.
    let fd = Errno::result(unsafe { libc::socket(domain, kind | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: as above.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    Ok((fd, storage, len as libc::socklen_t))
}

/// bind(2), then listen(2) for stream sockets. The socket stays open until the process
/// ends, so the address stays taken.
fn socket_bind(socket: SocketKind, addr: &SockAddr) -> Result<(), Errno> {
    let (fd, storage, len) = socket_for(socket, addr)?;
    // SAFETY: `storage` holds a valid address of `len` bytes for the socket's family.
    Errno::result(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            &storage as *const _ as *const libc::sockaddr,
            len,
        )
    })?;
    if socket != SocketKind::Udp {
        // SAFETY: plain listen(2) call on our socket.
        Errno::result(unsafe { libc::listen(fd.as_raw_fd(), 16) })?;
    }
    std::mem::forget(fd);
    Ok(())
}

/// connect(2) to a listening socket, closed again at once.
fn socket_connect(socket: SocketKind, addr: &SockAddr) -> Result<(), Errno> {
    let (fd, storage, len) = socket_for(socket, addr)?;
    loop {
        // SAFETY: `storage` holds a valid address of `len` bytes for the socket's family.
        let r = unsafe {
            libc::connect(
                fd.as_raw_fd(),
                &storage as *const _ as *const libc::sockaddr,
                len,
            )
        };
        match Errno::result(r) {
            Err(Errno::EINTR) => continue,
            r => return r.map(drop),
        }
    }
}

/// What `enter` and `setns` join: with `pidfd`, as a program would, a pidfd of the number the
/// target has for the caller with every kind's flag — one setns(2), which the kernel carries
/// out as a unit, validating the user namespace first (setns(2); validate_nsset() in
/// kernel/nsproxy.c); otherwise the target's /proc/PID/ns file of each kind. `Err`: the
/// observation of a failure to open them.
fn joins(
    ctx: &Ctx,
    me: usize,
    target: Who,
    kinds: &[NsKind],
    pidfd: bool,
) -> Result<Vec<(OwnedFd, libc::c_int)>, Obs> {
    // Whether a PID namespace may be joined depends on where the caller is (only its own or a
    // descendant one), so from a namespace the plan did not put it in the kernel judges
    // another move than the step's: in pid/setns-only-downwards, under a low
    // user.max_pid_namespaces, `b`'s unshare failed, `b-init` stayed in init's namespace, and
    // its move "sideways" went downwards and made an unplanned process there, whose zombie
    // (its parent gone, init its reaper) the namespace's init waited for while exiting, with
    // init itself waiting for another: a deadlock until the time limit.
    if kinds.contains(&NsKind::Pid) && !at_planned_depth(ctx, me) {
        return Err(Obs::Failed(format!(
            "refusing to join a PID namespace: `{}` is not in the PID namespace the scenario \
             planned for it (an `unshare` did not do what its step expected), so the move \
             would not be the one the step describes",
            ctx.plan.procs[me].name
        )));
    }
    if pidfd {
        let flags = ns_flags(kinds);
        let cell = Cell::new(None);
        return match by_number(ctx, me, target, |pid| {
            pidfd_open(pid).map(|fd| cell.set(Some(fd)))
        }) {
            Obs::Targeted { res: Res::Ok, .. } => Ok(vec![(cell.take().expect("opened"), flags)]),
            Obs::Targeted { res, .. } => Err(Obs::Result(res)),
            other => Err(other),
        };
    }
    let pid = live_host_pid(ctx, me, target)?;
    kinds
        .iter()
        .map(|k| {
            open_at(ctx.host_proc, &format!("{pid}/ns/{}", k.proc_name()))
                .map(|fd| (fd, k.clone_flag()))
                .map_err(|e| Obs::Result(Res::Errno(e as i32)))
        })
        .collect()
}

/// setns(2) into every namespace of `joins` (descriptor, nstype) in nsenter(1)'s order: every
/// one but the user namespace, a failure put off; then the user namespace; then those that
/// failed, now with whatever capabilities it gave. A process that gains privilege by entering
/// a user namespace so joins it first in effect, and one that gives privilege up joins it
/// last (util-linux's nsenter.c, "Do this in two passes").
fn join_all(joins: &[(OwnedFd, libc::c_int)]) -> Result<(), Errno> {
    let mut later = Vec::new();
    for (fd, kind) in joins.iter().filter(|(_, k)| *k != libc::CLONE_NEWUSER) {
        if setns(fd.as_raw_fd(), *kind).is_err() {
            later.push((fd, *kind));
        }
    }
    for (fd, kind) in joins.iter().filter(|(_, k)| *k == libc::CLONE_NEWUSER) {
        setns(fd.as_raw_fd(), *kind)?;
    }
    for (fd, kind) in later {
        setns(fd.as_raw_fd(), kind)?;
    }
    Ok(())
}

/// Forks process `child` — in `joins`' namespaces, when given, or in new namespaces of the
/// CLONE_NEW* `flags` (clone(2)) — and returns once the child has published its PIDs, so
/// later steps can name it.
///
/// Joining happens in a short-lived intermediate process, never in the caller: setns(2) back
/// into the caller's own namespaces needs CAP_SYS_ADMIN over them, which a rootless harness
/// lacks for the host's, so a caller that joined could not return and its later steps would
/// run inside the joined namespaces. The intermediate joins, then creates the child with
/// CLONE_PARENT, which makes it the caller's child (to wait for) in the joined namespaces —
/// for PID and time namespaces, whose setns() applies to children only, too.
fn spawn(
    ctx: &Ctx,
    me: usize,
    child: usize,
    flags: libc::c_int,
    set_tid: &[libc::pid_t],
    joins: &[(OwnedFd, libc::c_int)],
) -> Obs {
    let (sync_r, sync_w) = match pipe() {
        Ok(p) => p,
        Err(e) => return Obs::Result(Res::Errno(e as i32)),
    };
    let (sync_r_raw, sync_w_raw) = (sync_r.as_raw_fd(), sync_w.as_raw_fd());
    // Signals wait (blocked, not lost) until the child has cleared its copy of our `catch`
    // record: one delivered to it in between would be recorded and then forgotten.
    use nix::sys::signal::{SigSet, SigmaskHow, sigprocmask};
    let mut mask = SigSet::empty();
    let _ = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::all()), Some(&mut mask));
    let body = move || {
        forget_caught();
        let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&mask), None);
        // SAFETY: the child's copies of the sync pipe are its own to close.
        unsafe { libc::close(sync_r_raw) };
        start_process(ctx, child);
        // SAFETY: as above; closing signals the parent that our PIDs are published.
        unsafe { libc::close(sync_w_raw) };
        steps(ctx, child)
    };
    let r = if !joins.is_empty() {
        fork_child(|| {
            // The intermediate: reports the child's PID, or the errno as a negative number,
            // as four bytes on the sync pipe, then leaves.
            let outcome = join_all(joins).and_then(|()| clone_child(libc::CLONE_PARENT, body));
            let word = match outcome {
                Ok(pid) => pid,
                Err(e) => -(e as i32),
            };
            let _ = write_all(sync_w_raw, &word.to_le_bytes());
            exit_now(0)
        })
        .and_then(|intermediate| {
            let mut word = [0u8; 4];
            let got = read_full(sync_r_raw, &mut word);
            let _ = reap(intermediate);
            match (got, i32::from_le_bytes(word)) {
                (4, pid) if pid > 0 => Ok(pid),
                (4, e) if e < 0 => Err(Errno::from_raw(-e)),
                _ => Err(Errno::ECHILD),
            }
        })
    } else if !set_tid.is_empty() {
        clone3_child(flags, set_tid, body)
    } else if flags != 0 {
        clone_child(flags, body)
    } else {
        fork_child(body)
    };
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&mask), None);
    drop(sync_w);
    match r {
        Err(e) => Obs::Result(Res::Errno(e as i32)),
        Ok(pid) => {
            // EOF arrives when the child has published its PIDs (or died trying).
            let mut byte = [0u8];
            let _ = read_retry(sync_r.as_raw_fd(), &mut byte);
            // The number clone() returned belongs to the joining process's namespace, which
            // after an `unshare: [pid]` is not ours: take ours from the published NSpid.
            let level = ctx.plan.procs[me].level();
            let pid = ctx
                .table
                .nspid(child)
                .and_then(|n| n.get(level).copied())
                .unwrap_or(pid as i64);
            Obs::Forked { pid, level }
        }
    }
}

/// pthread_create() of a thread that does nothing but sleep until its process ends (every
/// thread dies with the process's exit_group()); observes its gettid(), a number in the
/// process's PID namespace at `level`, or the errno pthread_create() returned.
///
/// The thread blocks every signal, so the kernel delivers what is sent to the process to the
/// thread running the steps, as before: a `catch` handler still runs before the interrupted
/// step resumes. glibc keeps its own setxid signal unblocked, so `set_ids` still changes the
/// credentials of both threads (validation refuses `drop_caps`, whose capset(2) would change
/// only one). The creator returns once the thread has closed its end of the pipe: from then
/// on it holds no lock and no descriptor a later fork() could copy.
fn start_thread(level: usize) -> Obs {
    extern "C" fn sleeper(arg: *mut libc::c_void) -> *mut libc::c_void {
        let fd = arg as usize as RawFd;
        // SAFETY: plain system calls on the write end the creator passed, which is ours.
        unsafe {
            let tid = libc::gettid();
            let _ = write_all(fd, &tid.to_le_bytes());
            libc::close(fd);
            loop {
                libc::pause();
            }
        }
    }
    let (r, w) = match pipe() {
        Ok(p) => p,
        Err(e) => return Obs::Failed(format!("pipe() for the thread's ID: {e}")),
    };
    use nix::sys::signal::{SigSet, SigmaskHow, pthread_sigmask};
    let mut mask = SigSet::empty();
    if let Err(e) = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::all()), Some(&mut mask)) {
        return Obs::Failed(format!("blocking signals for the thread: {e}"));
    }
    let w = std::os::fd::IntoRawFd::into_raw_fd(w);
    // SAFETY: attributes initialised before use and destroyed after; the thread takes over
    // `w` (closed by it, or below when it never starts).
    let (attr_made, made) = unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        let mut thread: libc::pthread_t = 0;
        libc::pthread_attr_init(&mut attr);
        // The sleeper needs little stack; glibc's default (8 MiB of address space) would count
        // against a scenario's memory for nothing. 256 KiB leaves room for the static TLS,
        // which glibc places on the stack (a smaller one is glibc's EINVAL, not the kernel's).
        let attr_made = libc::pthread_attr_setstacksize(&mut attr, 256 * 1024)
            | libc::pthread_attr_setdetachstate(&mut attr, libc::PTHREAD_CREATE_DETACHED);
        let made = if attr_made == 0 {
            libc::pthread_create(&mut thread, &attr, sleeper, w as usize as *mut _)
        } else {
            libc::EINVAL
        };
        libc::pthread_attr_destroy(&mut attr);
        (attr_made, made)
    };
    let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&mask), None);
    if made != 0 {
        // SAFETY: no thread took `w` over.
        unsafe { libc::close(w) };
        if attr_made != 0 {
            return Obs::Failed("could not set the thread's attributes".into());
        }
        // What clone() returned, passed on as it is (EINVAL after unshare(CLONE_NEWPID)).
        return Obs::Result(Res::Errno(made));
    }
    // One byte more than the ID: four bytes read means EOF came after them, so the thread
    // has closed its end (the pipe has no other writer).
    let mut word = [0u8; 5];
    match read_full(r.as_raw_fd(), &mut word) {
        4 => Obs::Thread {
            tid: libc::pid_t::from_le_bytes([word[0], word[1], word[2], word[3]]).into(),
            level,
        },
        _ => Obs::Failed("the new thread did not report its ID".into()),
    }
}

/// Reads until `buf` is full or EOF; returns how many bytes were read.
fn read_full(fd: RawFd, buf: &mut [u8]) -> usize {
    let mut got = 0;
    while got < buf.len() {
        match read_retry(fd, &mut buf[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    got
}

/// Creates up to `depth` PID namespaces, each inside the last, by unshare + fork. The deepest
/// process reports; each level waits for the next and passes its exit status up.
///
/// All of it happens below a child of the caller, which starts where the caller is: the
/// caller's own PID namespace for children stays as it was (after an unshare of its own, its
/// later `fork` would fail with ENOMEM once that first child had gone).
fn nest_pid(ctx: &Ctx, me: usize, step: usize, depth: u32) -> Option<Obs> {
    // After an `unshare: [pid]` of the caller's own, its next child becomes the init of the
    // namespace waiting there: a helper forked now would use that namespace up, and the
    // caller's later fork would fail with ENOMEM. The kernel refuses unshare(CLONE_NEWPID) in
    // that state (EINVAL from copy_pid_ns, nothing consumed), so the caller asks it directly.
    let here = |errno: Option<Errno>| Obs::Nest {
        level: own_nspid(ctx.host_proc).len().saturating_sub(1),
        created: 0,
        errno: errno.map(|e| e as i32),
    };
    let own = ns_inode(ctx.host_proc, &own_path("ns/pid"));
    if own.is_err() || own != ns_inode(ctx.host_proc, &own_path("ns/pid_for_children")) {
        return Some(here(unshare(libc::CLONE_NEWPID).err()));
    }
    match fork_raw() {
        Err(e) => Some(here(Some(e))),
        Ok(0) => nest_below(ctx, me, step, depth),
        Ok(pid) => match wait_for(pid) {
            // The deepest process has recorded the observation.
            Waited::Exited(0) => None,
            other => Some(Obs::Failed(format!(
                "a nested namespace's process ended with {other:?}"
            ))),
        },
    }
}

/// The nesting itself, in the child [`nest_pid`] forked; never returns.
fn nest_below(ctx: &Ctx, me: usize, step: usize, depth: u32) -> ! {
    let mut created = 0;
    let outcome = loop {
        if created == depth {
            break None;
        }
        if let Err(e) = unshare(libc::CLONE_NEWPID) {
            break Some(e as i32);
        }
        match fork_raw() {
            Err(e) => break Some(e as i32),
            Ok(0) => created += 1,
            Ok(pid) => exit_now(match wait_for(pid) {
                Waited::Exited(c) => c,
                _ => 1,
            }),
        }
    };
    let level = own_nspid(ctx.host_proc).len().saturating_sub(1);
    emit(
        ctx,
        me,
        step,
        Obs::Nest {
            level,
            created,
            errno: outcome,
        },
    );
    exit_now(0)
}

/// Marks process `i` reaped. When it was the init of a PID namespace, every process of that
/// namespace and the ones below is gone too: init's exit kills them and waits until they
/// have been reaped (zap_pid_ns_processes() in kernel/pid_namespace.c) before its parent can
/// reap it. Their numbers are free from then on, so their names must stand for no process
/// either (a `kill` or `pidfd_open` naming one could otherwise reach a stranger).
fn mark_gone(ctx: &Ctx, i: usize) {
    ctx.table.mark_reaped(i);
    let was_init = ctx
        .table
        .nspid(i)
        .is_some_and(|n| n.len() >= 2 && n.last() == Some(&1));
    if !was_init {
        return;
    }
    let ns = &ctx.plan.procs[i].pidns;
    for (j, p) in ctx.plan.procs.iter().enumerate() {
        if j != i && p.pidns.starts_with(ns) && ctx.table.nspid(j).is_some() {
            ctx.table.mark_reaped(j);
        }
    }
}

/// Whether `who` is a scenario process that has been reaped. Its name then stands for no
/// process: steps naming it get what the kernel answers for a PID that does not exist.
fn reaped(ctx: &Ctx, who: Who) -> bool {
    matches!(who, Who::Proc(i) if ctx.table.reaped(i))
}

fn who_name(ctx: &Ctx, me: usize, who: Who) -> String {
    match who {
        Who::Supervisor => "parent".into(),
        Who::Proc(i) if i == me => "self".into(),
        Who::Proc(i) => ctx.plan.procs[i].name.clone(),
    }
}

/// The host-level PID of a process (for /proc/PID/ns paths in the harness's /proc).
fn host_pid(ctx: &Ctx, who: Who) -> i64 {
    match who {
        Who::Supervisor => ctx.supervisor,
        Who::Proc(i) => ctx.table.nspid(i).map_or(0, |v| v[0]),
    }
}

/// The harness's PID of `who`, for its /proc/PID files: ENOENT, as a program would find
/// /proc/PID, once it has been reaped (its number may be another process's by now).
fn live_host_pid(ctx: &Ctx, me: usize, who: Who) -> Result<i64, Obs> {
    resolve(ctx, me, who)?;
    if reaped(ctx, who) {
        return Err(Obs::Result(Res::Errno(libc::ENOENT)));
    }
    Ok(host_pid(ctx, who))
}

/// `call` on the number `target` has for the caller (kill, pidfd_open). For a reaped target
/// the call is not made and ESRCH recorded, what kill(2) and pidfd_open(2) say of a number
/// that names nobody: its old number may be another process's by now, which must not be hit
/// (or kept a pidfd of) in its place.
fn by_number(
    ctx: &Ctx,
    me: usize,
    target: Who,
    call: impl FnOnce(i32) -> Result<(), Errno>,
) -> Obs {
    match resolve_checked(ctx, me, target, false) {
        Err(obs) => obs,
        Ok((pid, level)) => Obs::Targeted {
            pid,
            level,
            res: if reaped(ctx, target) {
                Res::Errno(libc::ESRCH)
            } else {
                res(call(pid as i32))
            },
        },
    }
}

/// Whether process `i` is as many PID namespaces below the harness's as the plan has it (or
/// has not started): not where an `unshare` did not do what its step expected.
fn at_planned_depth(ctx: &Ctx, i: usize) -> bool {
    ctx.table
        .nspid(i)
        .is_none_or(|n| n.len() == ctx.plan.procs[i].pidns.len())
}

/// [`resolve`] for a step that signals, waits for or takes a pidfd of what the number names
/// (a wait on another child's number would reap it and leave its name to a stranger). The
/// number is chosen by the PID-namespace levels the plan expects, which hold only while the
/// caller and the target are at the depth planned for them: after an `unshare` expected to
/// succeed has failed (or one expected to fail has not), a number of one namespace would be
/// used in another — where it can name a process of the harness or of the host.
///
/// `group`: the number will name a process group (kill(-N)), not a process.
fn resolve_checked(ctx: &Ctx, me: usize, who: Who, group: bool) -> Result<(i64, usize), Obs> {
    let planned = |i: usize| at_planned_depth(ctx, i);
    let target = match who {
        Who::Proc(t) => Some(t),
        Who::Supervisor => None,
    };
    if !planned(me) {
        return Err(Obs::Failed(format!(
            "refusing to address `{}` by number: this process is not in the PID namespace the \
             scenario planned for it (an `unshare` did not do what its step expected), so the \
             number would be another namespace's",
            who_name(ctx, me, who)
        )));
    }
    // From the harness's PID namespace the number is the target's first NSpid entry, right
    // wherever the target really is.
    if let Some(t) = target
        && ctx.plan.procs[me].level() > 0
        && !planned(t)
    {
        return Err(Obs::Failed(format!(
            "refusing to address `{}` by number: it is not in the PID namespace the scenario \
             planned for it (an `unshare` did not do what its step expected), so its number \
             here is not known",
            ctx.plan.procs[t].name
        )));
    }
    let (pid, level) = resolve(ctx, me, who)?;
    // A target the caller cannot see is named by its PID in the harness's namespace, which
    // should name nobody in the caller's. Where the harness's PIDs are small (nsspec itself
    // in a container's PID namespace) it can be a scenario process's number there, which the
    // step would reach instead.
    let mine = ctx.plan.procs[me].level();
    if level < mine
        && let Some(j) = (0..ctx.plan.procs.len()).find(|&j| {
            Some(j) != target
                && !ctx.table.reaped(j)
                && ctx.plan.procs[j]
                    .pidns
                    .starts_with(&ctx.plan.procs[me].pidns)
                && ctx.table.nspid(j).and_then(|n| n.get(mine).copied()) == Some(pid)
        })
    {
        return Err(Obs::Failed(format!(
            "refusing to address `{}` by number: its PID outside, {pid}, is `{}`'s in this \
             process's namespace, which the step would reach instead (the harness's PIDs are \
             small here, as in a container: run it where they are not, or in `vm/run`)",
            who_name(ctx, me, who),
            ctx.plan.procs[j].name
        )));
    }
    // The same for what the table does not track: a scenario's thread (its ID is a number of
    // the namespace too, and kill(2) of it signals its process), a harness helper, a process
    // forked since, a group whose leader is gone. Whatever answers kill(N, 0) (kill(-N, 0) for
    // a group) here would be reached, not the target. Not for a reaped target, to which no
    // call is made. A process that takes the number between this and the call is missed.
    let probe = if group { -pid } else { pid };
    if level < mine
        && !reaped(ctx, who)
        && !matches!(
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(probe as i32), None),
            Err(Errno::ESRCH)
        )
    {
        return Err(Obs::Failed(format!(
            "refusing to address `{}` by number: its PID outside, {pid}, names another {} in \
             this process's namespace, which the step would reach instead (the harness's PIDs \
             are small here, as in a container: run it where they are not, or in `vm/run`)",
            who_name(ctx, me, who),
            if group {
                "process group"
            } else {
                "process or thread"
            }
        )));
    }
    Ok((pid, level))
}

/// The PID number `me` uses for `who`, and the level that number belongs to. A process visible
/// in `me`'s PID namespace is named by its PID there; an invisible one (an ancestor, or one in a
/// sibling namespace) by its PID in the harness's namespace — what a program that learned the
/// number outside would pass.
fn resolve(ctx: &Ctx, me: usize, who: Who) -> Result<(i64, usize), Obs> {
    let plan = ctx.plan;
    let mine = &plan.procs[me].pidns;
    match who {
        Who::Supervisor => Ok((ctx.supervisor, 0)),
        Who::Proc(t) => {
            let Some(nspid) = ctx.table.nspid(t) else {
                return Err(Obs::Failed(format!(
                    "`{}` has not started",
                    plan.procs[t].name
                )));
            };
            let theirs = &plan.procs[t].pidns;
            let level = mine.len() - 1;
            if theirs.starts_with(mine) && level < nspid.len() {
                Ok((nspid[level], level))
            } else {
                Ok((nspid[0], 0))
            }
        }
    }
}

/// Whether `who` has a /proc/PID directory in the process's /proc. That procfs shows the PID
/// namespace it was mounted for, which need not be the process's own (an inherited outer
/// /proc, or one a process of another namespace mounted in a shared mount namespace): the
/// number looked up is the target's in that namespace, and a target outside it is not
/// visible whatever process has the same number there (pid_namespaces(7)).
fn visible(ctx: &Ctx, me: usize, who: Who) -> Obs {
    let (pid, level) = match resolve(ctx, me, who) {
        Err(obs) => return obs,
        Ok(found) => found,
    };
    let l = match proc_level(ctx) {
        Some(Ok(l)) => l,
        Some(Err(())) => return proc_above_harness("/proc"),
        None => return without_proc_self(pid, level),
    };
    // The procfs is of the namespace at level `l` of the process's own chain (its /proc/self
    // is there): the target is in it when their chains agree that far. The supervisor is in
    // the harness's namespace (level 0) alone.
    let there = match who {
        Who::Supervisor => (l == 0).then_some(pid),
        Who::Proc(t) => {
            let mine = &ctx.plan.procs[me].pidns;
            let theirs = &ctx.plan.procs[t].pidns;
            let nspid = ctx.table.nspid(t).unwrap_or_default();
            (l < mine.len() && l < theirs.len() && mine[..=l] == theirs[..=l] && l < nspid.len())
                .then(|| nspid[l])
        }
    };
    match there {
        // Outside that namespace by the plan: looked for all the same, under any number, so
        // that a kernel showing it there is seen rather than assumed away.
        None => Obs::Visible {
            pid,
            level,
            visible: !reaped(ctx, who) && shown_under_any_number(ctx, who),
        },
        Some(pid) => Obs::Visible {
            pid,
            level: l,
            // A reaped process has no /proc entry, whoever has its number now.
            visible: !reaped(ctx, who) && has_proc_entry(pid),
        },
    }
}

/// Whether the process's /proc shows `who` under any number: a process there is `who` where
/// its PID namespace (by inode) and its number in that namespace (the last of its NSpid) are
/// `who`'s, as the harness's /proc shows them.
fn shown_under_any_number(ctx: &Ctx, who: Who) -> bool {
    // The harness's NSpid of it: its number in the harness's namespace and in its own.
    let (host_pid, inner) = match who {
        Who::Supervisor => (ctx.supervisor, ctx.supervisor),
        Who::Proc(t) => match ctx.table.nspid(t).as_deref() {
            Some([first, .., last]) => (*first, *last),
            Some([only]) => (*only, *only),
            _ => return false,
        },
    };
    let Ok(ns) = nsfs_inode(ctx.host_proc, &format!("{host_pid}/ns/pid")) else {
        return false;
    };
    proc_shows(std::path::Path::new("/proc"), ns, inner)
}

/// Whether the procfs at `proc` has an entry for the process numbered `inner` in the PID
/// namespace whose inode is `ns`.
fn proc_shows(proc: &std::path::Path, ns: u64, inner: i64) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(proc) else {
        return false;
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i64>().ok())
        .any(|n| {
            let dir = proc.join(n.to_string());
            std::fs::metadata(dir.join("ns/pid")).is_ok_and(|m| m.ino() == ns)
                && std::fs::read_to_string(dir.join("status"))
                    .is_ok_and(|s| parse_nspid(&s).last() == Some(&inner))
        })
}

/// Whether the process's /proc holds an entry named `pid`.
fn has_proc_entry(pid: i64) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// `visible`'s answer where the process's /proc has no /proc/self. No procfs there (an empty
/// directory after a `chroot`, a tmpfs over it): whether the directory holds that name, which
/// no process put there. A procfs of a PID namespace the process is not in: a refusal, as its
/// numbers cannot be mapped to the scenario's processes.
fn without_proc_self(pid: i64, level: usize) -> Obs {
    let procfs = nix::sys::statfs::statfs("/proc")
        .is_ok_and(|f| f.filesystem_type() == nix::sys::statfs::PROC_SUPER_MAGIC);
    if procfs {
        return proc_of_another_namespace();
    }
    Obs::Visible {
        pid,
        level,
        visible: has_proc_entry(pid),
    }
}

/// The refusal of `visible` where the process's /proc has no /proc/self: a procfs of a PID
/// namespace the process is not in, whose numbers it cannot map to the scenario's processes.
fn proc_of_another_namespace() -> Obs {
    Obs::Failed(
        "the process's /proc is of a PID namespace it is not in (it has no /proc/self), so \
         which number names the target there is unknown; look from a process inside that \
         namespace"
            .into(),
    )
}

/// `step` on the process's kept pidfd `handle`. Validation lets a process name only a handle
/// its own or its creator's earlier step opened: missing, that step failed.
fn with_pidfd(ctx: &Ctx, handle: usize, step: impl FnOnce(&OwnedFd) -> Obs) -> Obs {
    match &ctx.pidfds.borrow()[handle] {
        None => Obs::Failed(format!(
            "pidfd `{}` is not open, as its `pidfd_open` step failed",
            ctx.plan.handles[handle].name
        )),
        Some(fd) => step(fd),
    }
}

/// ioctl(PIDFD_GET_<KIND>_NAMESPACE) (include/uapi/linux/pidfd.h, Linux 6.11): the inode of
/// the namespace whose new descriptor it returns (closed at once, never joined).
pub(crate) fn pidfd_namespace(
    pidfd: &OwnedFd,
    kind: NsKind,
    for_children: bool,
) -> Result<u64, Errno> {
    // _IO(PIDFS_IOCTL_MAGIC 0xFF, nr): no direction, no size.
    let nr: libc::c_ulong = match (kind, for_children) {
        (NsKind::Cgroup, _) => 1,
        (NsKind::Ipc, _) => 2,
        (NsKind::Mount, _) => 3,
        (NsKind::Net, _) => 4,
        (NsKind::Pid, false) => 5,
        (NsKind::Pid, true) => 6,
        (NsKind::Time, false) => 7,
        (NsKind::Time, true) => 8,
        (NsKind::User, _) => 9,
        (NsKind::Uts, _) => 10,
    };
    // SAFETY: `pidfd` is open; the request returns a new descriptor, which `OwnedFd` takes over
    // at once. Its argument must be 0: pidfd_ioctl() refuses any other with EINVAL.
    let got = Errno::result(unsafe {
        libc::ioctl(pidfd.as_raw_fd(), (0xFF << 8) | nr, 0 as libc::c_ulong)
    })?;
    // SAFETY: the kernel just installed `got` for this process; nothing else owns it.
    let ns = unsafe { OwnedFd::from_raw_fd(got) };
    Ok(nix::sys::stat::fstat(&ns)?.st_ino)
}

/// pidfd_send_signal(2) (Linux 5.1) without a siginfo: as kill(2) would send it. `flags`: 0, or
/// one of the PIDFD_SIGNAL_* scopes (Linux 6.9).
pub(crate) fn pidfd_send_signal(
    fd: &OwnedFd,
    signal: Option<Signal>,
    flags: u32,
) -> Result<(), Errno> {
    // SAFETY: a valid descriptor, a signal number, a null siginfo and integer flags.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            signal.map_or(0, |s| s as libc::c_int),
            std::ptr::null::<libc::siginfo_t>(),
            flags,
        )
    };
    if r < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// pidfd_send_signal(2)'s scope "the process group the process leads" (Linux 6.9,
/// include/uapi/linux/pidfd.h; the libc crate does not have it).
const PIDFD_SIGNAL_PROCESS_GROUP: u32 = 1 << 2;

/// How [`kill_group`] went.
#[derive(Debug, PartialEq)]
enum GroupKill {
    /// The group had members, and they were sent SIGKILL.
    Sent,
    /// The group is empty (only a process that took its number since could have been reached).
    Empty,
    /// The kernel cannot name a group by pidfd (before 6.9; or a seccomp filter refused):
    /// kill(-pgid) was sent instead.
    ByNumber,
}

/// SIGKILLs the process group led by the process of `pidfd`, alive or dead and reaped; `pgid`
/// is its number.
///
/// From Linux 6.9 the pidfd names the group: it holds the leader's `struct pid`, which the
/// members keep referring to after the leader is reaped, and which a process that takes the
/// number afterwards does not have. So once the group is empty the signal reaches nobody
/// (ESRCH), where kill(-pgid) would reach a stranger's group of the same number. Where that
/// fails otherwise (EINVAL for the flag before 6.9, ENOSYS before 5.1, whatever a seccomp
/// filter returns) only kill(-pgid) is left.
fn kill_group(pidfd: &OwnedFd, pgid: i32) -> GroupKill {
    match pidfd_send_signal(pidfd, Some(Signal::SIGKILL), PIDFD_SIGNAL_PROCESS_GROUP) {
        Ok(()) => GroupKill::Sent,
        Err(Errno::ESRCH) => GroupKill::Empty,
        Err(_) => {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(-pgid), Signal::SIGKILL);
            GroupKill::ByNumber
        }
    }
}

fn wait_for(pid: i32) -> Waited {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r >= 0 {
            break;
        }
        let e = Errno::last();
        if e != Errno::EINTR {
            return Waited::Errno(e as i32);
        }
    }
    decode_status(status)
}

fn decode_status(status: libc::c_int) -> Waited {
    if libc::WIFEXITED(status) {
        Waited::Exited(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        Waited::Signaled(libc::WTERMSIG(status))
    } else {
        Waited::Errno(libc::EINVAL)
    }
}

/// Adds a pollfd for POLLIN on `fd`; returns its index.
fn push_fd(fds: &mut Vec<libc::pollfd>, fd: RawFd) -> usize {
    fds.push(libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    });
    fds.len() - 1
}

/// The supervisor's children it reports on, each until reaped: after that its PID may name a
/// stranger, so nothing is sent to it any more.
struct Live {
    init: Option<i32>,
    /// The host process's index and PID.
    host: Option<(usize, i32)>,
}

impl Live {
    /// Reaps init if it has ended; true if that happened now. By then its exit has torn down
    /// the namespaces it alone was in.
    fn reap_init(&mut self, ctx: &Ctx, out: &mut RunOutput) -> bool {
        let Some(pid) = self.init else {
            return false;
        };
        match try_reap(pid) {
            Some((_, w)) => {
                self.reaped(ctx, pid, w, out);
                true
            }
            None => false,
        }
    }

    /// Reaps every child that has ended: how init and the host process ended is kept, the
    /// rest (orphans we adopted as child subreaper) only needs to be gone.
    fn reap_any(&mut self, ctx: &Ctx, out: &mut RunOutput) {
        while let Some((pid, w)) = try_reap(-1) {
            self.reaped(ctx, pid, w, out);
        }
    }

    fn reaped(&mut self, ctx: &Ctx, pid: i32, w: Waited, out: &mut RunOutput) {
        if self.init == Some(pid) {
            self.init = None;
            mark_gone(ctx, 0);
            out.exits.push((0, w));
            crate::timing::mark("supervisor: init reaped");
        } else if let Some((h, p)) = self.host
            && p == pid
        {
            self.host = None;
            mark_gone(ctx, h);
            out.exits.push((h, w));
        } else if let Some(i) = (0..ctx.plan.procs.len()).find(|&i| {
            !ctx.table.reaped(i)
                && ctx
                    .table
                    .nspid(i)
                    .is_some_and(|n| n.first() == Some(&(pid as i64)))
        }) {
            // An orphan of the harness's PID namespace we adopted as child subreaper: its
            // number is free for anyone now, so its name must stand for no process.
            mark_gone(ctx, i);
        }
    }
}

/// waitpid(pid, WNOHANG): the PID and how it ended, or `None` while nothing has ended.
fn try_reap(pid: i32) -> Option<(i32, Waited)> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r > 0 {
            return Some((r, decode_status(status)));
        }
        if r < 0 && Errno::last() == Errno::EINTR {
            continue;
        }
        return None;
    }
}

/// Whether process `i` may still be running a step: not reaped, and its PID not a zombie's.
/// For the timeout message, which names only steps still under way. (A process reaped by
/// someone other than a `wait` step may have left its PID to a stranger, which is then
/// taken for it: the message can only err towards naming a step.)
fn still_running(ctx: &Ctx, i: usize) -> bool {
    if ctx.table.reaped(i) {
        return false;
    }
    let Some(nspid) = ctx.table.nspid(i) else {
        return true;
    };
    // A zombie main thread (its state is the process's in /proc/PID/status) with other
    // threads still listed is a process that took over (`take_over`) and runs on.
    match read_at(ctx.host_proc, &format!("{}/status", nspid[0])) {
        None => false,
        Some(status) => {
            let zombie = status_field(&status, "State").is_some_and(|s| s.starts_with(['Z', 'X']));
            let threads = status_field(&status, "Threads").and_then(|n| n.parse::<u64>().ok());
            !zombie || threads.is_some_and(|n| n > 1)
        }
    }
}

/// SIGKILLs every process of the scenario at once: init and the host process, everything in
/// the scenario's cgroup (`cgroup`, when it has one the supervisor is not in itself), and every
/// orphan we adopted — without a cgroup the only way to reach processes outside a PID
/// namespace, one generation per call.
fn kill_scenario(live: &Live, cgroup: Option<std::os::fd::BorrowedFd>, host_proc: RawFd) {
    // Our unreaped children: their PIDs cannot have been reused.
    if let Some(pid) = live.init {
        kill_pid(pid);
    }
    if let Some((_, pid)) = live.host {
        kill_pid(pid);
    }
    if let Some(dir) = cgroup {
        crate::limits::kill_all_at(dir);
    }
    for pid in own_children(host_proc) {
        kill_pid(pid);
    }
}

/// Whether the scenario has a cgroup that holds only the scenario: the supervisor left it
/// after forking init (`Limit::leave`), but if that failed, killing what is in it would kill
/// the supervisor too.
fn killable_cgroup(ctx: &Ctx, limit: &crate::limits::Limit) -> bool {
    let Some((_, path, _)) = limit.cgroup_dir() else {
        return false;
    };
    let Some(mine) = read_at(ctx.host_proc, &own_path("cgroup"))
        .and_then(|own| crate::limits::cgroup_line(&own, &ctx.cgroup_key))
    else {
        return false;
    };
    !(mine == path || mine.starts_with(&format!("{path}/")))
}

/// The supervisor's children, from /proc (as the harness sees it).
fn own_children(host_proc: RawFd) -> Vec<i32> {
    let me = nix::unistd::getpid();
    read_at(host_proc, &format!("self/task/{me}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn reap(pid: i32) -> Option<Waited> {
    match wait_for(pid) {
        Waited::Errno(_) => None,
        w => Some(w),
    }
}

/// The run's guardian: a process outside every scenario's process group and cgroup, which
/// outlives the runner. PR_SET_PDEATHSIG alone leaves two gaps — a process killed between its
/// fork and its prctl, and processes outside any PID namespace of the scenario whose parents
/// died — and a SIGKILLed supervisor cannot remove its cgroup. So each supervisor registers
/// with the guardian (its process group and its cgroup) before it creates a scenario process,
/// and deregisters once it has reaped them and removed the cgroup. When a registered
/// supervisor dies — killed by the runner at its deadline, by PR_SET_PDEATHSIG when the runner
/// is killed, or after returning early — the guardian SIGKILLs its process group, waits for it
/// to be gone and removes the cgroup. It exits once every holder of the other end of its socket
/// (the runner and the supervisors) has closed it, after cleaning up whatever is still
/// registered then.
///
/// One per run rather than one per supervisor: a fork, an exit and a few wake-ups less per
/// scenario, about a fifth of a trivial scenario's cost (bench/FINDINGS.md).
struct RunGuardian {
    pid: i32,
}

/// What supervisors tell the guardian, one JSON line per message (a SOCK_SEQPACKET record, so
/// those of concurrent supervisors never interleave).
#[derive(Serialize, Deserialize)]
enum GuardMsg {
    /// `pid` leads its process group, and will create a scenario cgroup and processes.
    Watch { pid: i32 },
    /// `pid` is about to create the cgroup `dir`, reached through a cgroup2 it mounted itself
    /// on `mount` if that is set (that mount lives in its private mount namespace and dies
    /// with it).
    Cgroup {
        pid: i32,
        dir: PathBuf,
        mount: Option<PathBuf>,
    },
    /// `pid` could not create the cgroup `dir` after all: it is not its to clean up (with
    /// EEXIST it may be a live cgroup of a concurrent run whose supervisor has the same number
    /// in another PID namespace).
    NotMade { pid: i32, dir: PathBuf },
    /// Everything of `pid`'s scenario is gone.
    Done { pid: i32 },
}

impl RunGuardian {
    /// Forks the guardian; the sending end of its socket goes to [`GUARDIAN_FD`], where supervisors
    /// find it. `None` if that failed: scenarios then run unguarded, as before a kill.
    fn spawn() -> Option<RunGuardian> {
        let (read_end, write_end) = guardian_channel().ok()?;
        let keep = read_end.as_raw_fd();
        let pid = fork_child(|| guard(keep)).ok()?;
        drop(read_end);
        GUARDIAN_FD.store(
            std::os::fd::IntoRawFd::into_raw_fd(write_end),
            std::sync::atomic::Ordering::Relaxed,
        );
        Some(RunGuardian { pid })
    }
}

impl RunGuardian {
    /// Every supervisor has been forked (and holds the socket itself): closes the runner's end.
    fn all_started(&self) {
        let fd = GUARDIAN_FD.swap(-1, std::sync::atomic::Ordering::Relaxed);
        if fd >= 0 {
            // SAFETY: the runner's own write end, stored by `spawn`.
            unsafe { libc::close(fd) };
        }
    }
}

impl Drop for RunGuardian {
    /// Closes the runner's end and waits until the guardian has cleaned up and exited: no
    /// cgroup or process of this run outlives `nsspec`.
    fn drop(&mut self) {
        self.all_started();
        let _ = reap(self.pid);
        crate::timing::mark("runner: guardian reaped");
    }
}

/// Tells the run's guardian about this supervisor (see [`RunGuardian`]).
fn tell_guardian(msg: &GuardMsg) {
    let fd = GUARDIAN_FD.load(std::sync::atomic::Ordering::Relaxed);
    if fd < 0 {
        return;
    }
    let mut line = serde_json::to_vec(msg).unwrap_or_default();
    line.push(b'\n');
    // With `Watch` goes a pidfd of the sender: the guardian may read the message only after
    // the runner has reaped a supervisor killed meanwhile, when the PID names nothing or a
    // stranger (Linux 5.3+; without one the guardian falls back to opening it itself).
    let own = match msg {
        GuardMsg::Watch { .. } => pidfd_open(nix::unistd::getpid().as_raw()).ok(),
        _ => None,
    };
    // A guardian that is gone is not our failure: the scenario runs unguarded, as it would
    // without one.
    let _ = send_with_fd(fd, &line, own.as_ref().map(|f| f.as_raw_fd()));
}

/// The guardian's socket pair. A socket rather than a pipe: a send to a guardian that has died
/// fails with EPIPE, where a write to a pipe without readers kills the writer with SIGPIPE (a
/// supervisor runs with SIGPIPE's default action unblocked). Linux raises no SIGPIPE on a
/// SOCK_SEQPACKET send (unix_dgram_sendmsg); MSG_NOSIGNAL keeps it so on any kernel. Each
/// message also arrives whole, and a pidfd can travel with one.
fn guardian_channel() -> Result<(OwnedFd, OwnedFd), Errno> {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
    socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
}

/// One SOCK_SEQPACKET message of `data`, with `pass` as SCM_RIGHTS if given.
fn send_with_fd(sock: RawFd, data: &[u8], pass: Option<RawFd>) -> Result<(), Errno> {
    use nix::sys::socket::{ControlMessage, MsgFlags, UnixAddr, sendmsg};
    let fds: Vec<RawFd> = pass.into_iter().collect();
    let cmsgs: Vec<ControlMessage> = if fds.is_empty() {
        Vec::new()
    } else {
        vec![ControlMessage::ScmRights(&fds)]
    };
    let iov = [std::io::IoSlice::new(data)];
    sendmsg::<UnixAddr>(sock, &iov, &cmsgs, MsgFlags::MSG_NOSIGNAL, None).map(drop)
}

/// One SOCK_SEQPACKET message into `buf`, with the descriptor it carried, if any (received
/// close-on-exec). `Ok((0, None))` at end of file.
fn recv_with_fd(sock: RawFd, buf: &mut [u8]) -> Result<(usize, Option<OwnedFd>), Errno> {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, UnixAddr, recvmsg};
    let mut iov = [std::io::IoSliceMut::new(buf)];
    let mut space = nix::cmsg_space!(RawFd);
    let msg = loop {
        match recvmsg::<UnixAddr>(sock, &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC) {
            Err(Errno::EINTR) => continue,
            r => break r?,
        }
    };
    // SAFETY: descriptors received with SCM_RIGHTS are new and ours alone. All are owned (so
    // closed when dropped); the first is kept, any other (there is none by design) closed.
    let first = msg
        .cmsgs()?
        .filter_map(|c| match c {
            ControlMessageOwned::ScmRights(fds) => Some(fds),
            _ => None,
        })
        .flatten()
        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
        .collect::<Vec<_>>()
        .into_iter()
        .next();
    Ok((msg.bytes, first))
}

/// A supervisor the guardian watches.
struct Watched {
    /// Unique in the guardian's life: a pidfd's number and a supervisor's PID can both recur.
    id: u64,
    pid: i32,
    pidfd: Option<OwnedFd>,
    /// Its cgroup directories (usually one), each with where cgroup2 has to be mounted first.
    cgroups: Vec<(PathBuf, Option<PathBuf>)>,
}

/// The guardian's life (see [`RunGuardian`]). `sock`: its end of the socket, above 2: Rust's
/// runtime opens /dev/null on 0-2 at start-up where they were closed.
fn guard(sock: RawFd) -> ! {
    // The last mark it can make: its stderr is /dev/null from here on.
    crate::timing::mark("guardian: start");
    // Out of the runner's process group: a Ctrl-C there must not take the guardian along.
    let _ = nix::unistd::setpgid(nix::unistd::Pid::from_raw(0), nix::unistd::Pid::from_raw(0));
    // Hold nothing of the caller: no pipe (stdout into `| tee`, say) may wait for us.
    // SAFETY: closing descriptors this fresh child owns copies of; /dev/null is reopened on
    // 0-2 so stray writes go nowhere.
    unsafe {
        let low = libc::syscall(libc::SYS_close_range, 0, sock - 1, 0);
        let high = libc::syscall(libc::SYS_close_range, sock + 1, u32::MAX, 0);
        if low != 0 || high != 0 {
            // close_range(2) is Linux 5.9+; before that, one by one.
            for fd in (0..4096).filter(|fd| *fd != sock) {
                libc::close(fd);
            }
        }
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        for fd in 0..3 {
            if null != fd {
                libc::dup2(null, fd);
            }
        }
    }
    let _ = nix::fcntl::fcntl(
        unsafe_borrow(sock),
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    );
    let mut watched: Vec<Watched> = Vec::new();
    let mut serial = 0;
    let mut mounts = GuardianMounts::default();
    // One message per read (SOCK_SEQPACKET); a cgroup path can approach PATH_MAX. Mapped, not
    // allocated: zeroed heap memory would be 16 page faults at every start, while a message
    // touches one or two pages of a fresh mapping.
    let mut map = ReceiveBuffer::new(65536);
    let chunk = map.as_mut_slice();
    let mut open = true;
    while open {
        // The socket, then the pidfd of each watched supervisor that has one, by its id.
        let (ids, mut fds): (Vec<u64>, Vec<libc::pollfd>) = std::iter::once((0, sock))
            .chain(
                watched
                    .iter()
                    .filter_map(|w| Some((w.id, w.pidfd.as_ref()?.as_raw_fd()))),
            )
            .map(|(id, fd)| {
                (
                    id,
                    libc::pollfd {
                        fd,
                        events: libc::POLLIN,
                        revents: 0,
                    },
                )
            })
            .unzip();
        // SAFETY: `fds` is a valid array of pollfd for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n < 0 && Errno::last() != Errno::EINTR {
            break;
        }
        // The supervisors found dead by this poll. A supervisor sends `Done` before it exits,
        // so the `Done` of each of these is in the socket by now and read below; one that
        // died after the poll is seen by the next one, after its `Done` too.
        let dead: Vec<u64> = fds[1..]
            .iter()
            .zip(&ids[1..])
            .filter(|(p, _)| p.revents != 0)
            .map(|(_, id)| *id)
            .collect();
        loop {
            let (n, passed) = match recv_with_fd(sock, chunk) {
                Ok((0, _)) => {
                    open = false;
                    break;
                }
                Ok(got) => got,
                Err(_) => break,
            };
            match serde_json::from_slice::<GuardMsg>(chunk[..n].trim_ascii_end()) {
                Ok(GuardMsg::Watch { pid }) => {
                    serial += 1;
                    watched.push(Watched {
                        id: serial,
                        pid,
                        // Its own pidfd, sent along; or (before Linux 5.3 there is none)
                        // opened here, which names the supervisor only while the runner has
                        // not reaped it: a supervisor outlives its `Watch` unless killed.
                        pidfd: passed.or_else(|| pidfd_open(pid).ok()),
                        cgroups: Vec::new(),
                    })
                }
                // The newest entry of a PID: an older one with the same number belongs to a
                // supervisor that died and whose number came round again.
                Ok(GuardMsg::Cgroup { pid, dir, mount }) => {
                    if let Some(w) = watched.iter_mut().rev().find(|w| w.pid == pid) {
                        w.cgroups.push((dir, mount));
                    }
                }
                Ok(GuardMsg::NotMade { pid, dir }) => {
                    if let Some(w) = watched.iter_mut().rev().find(|w| w.pid == pid) {
                        w.cgroups.retain(|(d, _)| *d != dir);
                    }
                }
                Ok(GuardMsg::Done { pid }) => {
                    if let Some(i) = watched.iter().rposition(|w| w.pid == pid) {
                        watched.remove(i);
                    }
                }
                Err(_) => {}
            }
        }
        let (dead, alive): (Vec<Watched>, Vec<Watched>) =
            watched.into_iter().partition(|w| dead.contains(&w.id));
        watched = alive;
        for w in dead {
            clean_up_after(&w, &mut mounts);
        }
    }
    // The runner and every supervisor have closed the socket, so every supervisor has exited:
    // those still listed (killed with the runner, or without a pidfd before Linux 5.3) are
    // cleaned up now.
    for w in watched {
        clean_up_after(&w, &mut mounts);
    }
    exit_now(0)
}

/// Zeroed anonymous memory of its own mapping, whose pages fault in only when touched.
struct ReceiveBuffer {
    ptr: std::ptr::NonNull<libc::c_void>,
    len: usize,
}

impl ReceiveBuffer {
    fn new(len: usize) -> ReceiveBuffer {
        // SAFETY: a fresh private anonymous mapping, aliased by nothing else.
        let mapped = unsafe {
            nix::sys::mman::mmap_anonymous(
                None,
                std::num::NonZeroUsize::new(len).expect("a non-empty buffer"),
                nix::sys::mman::ProtFlags::PROT_READ | nix::sys::mman::ProtFlags::PROT_WRITE,
                nix::sys::mman::MapFlags::MAP_PRIVATE,
            )
        };
        match mapped {
            Ok(ptr) => ReceiveBuffer { ptr, len },
            // Out of address space: the guardian cannot work anyway; leave as a failed read would.
            Err(_) => exit_now(1),
        }
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: `len` bytes of readable, writable, zero-initialised memory that live as long
        // as `self` and are reachable only through it.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().cast(), self.len) }
    }
}

impl Drop for ReceiveBuffer {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, no longer borrowed.
        let _ = unsafe { nix::sys::mman::munmap(self.ptr, self.len) };
    }
}

/// The cgroup2 mounts the guardian made (in a private mount namespace of its own).
#[derive(Default)]
struct GuardianMounts {
    /// Whether the guardian has its own mount namespace (`None`: not tried yet).
    private: Option<bool>,
    points: Vec<PathBuf>,
}

impl GuardianMounts {
    /// Makes cgroup2 reachable at `point`, as a dead supervisor had it in its own mount
    /// namespace; never in the host's.
    fn reach(&mut self, point: &Path) {
        if self.points.iter().any(|p| p == point) {
            return;
        }
        let private = *self.private.get_or_insert_with(|| {
            unshare(libc::CLONE_NEWNS)
                .and_then(|()| make_mounts_private())
                .is_ok()
        });
        if private && crate::limits::mount_cgroup2(point) {
            self.points.push(point.to_path_buf());
        }
    }
}

/// SIGKILLs what is left of a dead supervisor's scenario and removes its cgroups.
fn clean_up_after(w: &Watched, mounts: &mut GuardianMounts) {
    if let Some(pidfd) = &w.pidfd {
        // The supervisor's process group outlives it (dead, maybe reaped already) while any
        // member lives, and its number cannot be reused meanwhile. Once it is empty, a kill
        // by number could reach a stranger that took the number; by pidfd (Linux 6.9) it
        // cannot. Once, and now: the kernel delivers a group kill to children forked
        // meanwhile too (copy_process).
        kill_group(pidfd, w.pid);
    }
    let give_up = Instant::now() + KILL_GRACE;
    for (dir, mount) in &w.cgroups {
        if let Some(point) = mount {
            mounts.reach(point);
        }
        // Killed processes may linger as zombies of an init that reaps slowly; the cgroup
        // empties as soon as they are dead.
        while dir.exists() && !crate::limits::remove_tree(dir) && Instant::now() < give_up {
            crate::limits::kill_all_in(dir);
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Reaps what of a run was re-parented to the runner, for a runner that made itself a child
/// subreaper (the CLI's `run` does): a supervisor's children (init, the host process) and the
/// orphans it adopted come to it when the supervisor dies — killed from outside, or by the
/// runner when a signal stopped the run — and would otherwise be left to the host's init as
/// zombies, for as long as that init takes to reap them. Any still alive is SIGKILLed (they
/// are the runner's unreaped children: no PID of theirs can have been reused). Call after
/// `run_many` has returned, from a process that has no children of its own besides the run's.
pub fn reap_adopted() {
    if let Ok(proc) = open_dir("/proc") {
        reap_orphans(proc.as_raw_fd());
    }
}

/// Reaps every remaining child. Normally there is none left (results reach EOF only when every
/// scenario process is gone); after a timeout, children re-parented to us (we are a subreaper)
/// are killed. They are our unreaped children, so their PIDs cannot have been reused.
fn reap_orphans(host_proc: RawFd) {
    let give_up = Instant::now() + KILL_GRACE;
    loop {
        // SAFETY: waitpid with a null status pointer is allowed.
        let r = unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) };
        if r > 0 {
            continue;
        }
        if (r < 0 && Errno::last() == Errno::ECHILD) || Instant::now() > give_up {
            return;
        }
        let orphans = own_children(host_proc);
        if orphans.is_empty() {
            return;
        }
        for pid in orphans {
            kill_pid(pid);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn kill_and_reap(pid: Option<i32>) {
    if let Some(p) = pid {
        kill_pid(p);
        let _ = reap(p);
    }
}

fn kill_pid(pid: i32) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
}

/// (mount point, filesystem type) of each line of a mountinfo text.
fn parse_mounts(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(MountInfoLine::parse)
        .map(|m| (m.point.to_string(), m.fstype.to_string()))
        .collect()
}

/// Every mount of a mountinfo text, for the outer view.
fn outer_mounts(text: &[u8]) -> Vec<OuterMount> {
    String::from_utf8_lossy(text)
        .lines()
        .filter_map(MountInfoLine::parse)
        .map(|m| OuterMount {
            id: m.id,
            parent: m.parent,
            dev: m.dev.to_string(),
            root: m.root.into_owned(),
            point: m.point.into_owned(),
            options: m.options.to_string(),
            fstype: m.fstype.into_owned(),
            source: m.source.into_owned(),
            super_options: m.super_options.to_string(),
        })
        .collect()
}

/// One line of /proc/PID/mountinfo, as far as nsspec reads it (proc_pid_mountinfo(5)). The
/// kernel escapes space, tab, newline and backslash in paths in octal (`\040`, …); `root`,
/// `point`, `fstype` and `source` hold them decoded, so they compare with real paths.
pub(crate) struct MountInfoLine<'a> {
    pub(crate) id: u64,
    pub(crate) parent: u64,
    /// The superblock's device, `MAJOR:MINOR`.
    pub(crate) dev: &'a str,
    /// The directory of the filesystem mounted there (`/` for its whole tree).
    pub(crate) root: Cow<'a, str>,
    pub(crate) point: Cow<'a, str>,
    /// The per-mount options (`rw,nosuid,…`).
    pub(crate) options: &'a str,
    /// The optional fields (`shared:N`, `master:N`, `unbindable`, …), space-separated.
    pub(crate) optional: &'a str,
    pub(crate) fstype: Cow<'a, str>,
    /// What was mounted (a device, `proc`, `none`, …).
    pub(crate) source: Cow<'a, str>,
    /// The superblock's options (`rw` or `ro`, …), after the source.
    pub(crate) super_options: &'a str,
}

impl<'a> MountInfoLine<'a> {
    pub(crate) fn parse(line: &'a str) -> Option<MountInfoLine<'a>> {
        let (left, right) = line.split_once(" - ")?;
        let mut f = left.splitn(7, ' ');
        let id = f.next()?.parse().ok()?;
        let parent = f.next()?.parse().ok()?;
        let dev = f.next()?;
        let root = f.next()?;
        let point = f.next()?;
        let options = f.next()?;
        let mut r = right.splitn(3, ' ');
        let unescape = crate::plan::unescape_mount_path;
        Some(MountInfoLine {
            id,
            parent,
            dev,
            root: unescape(root),
            point: unescape(point),
            options,
            optional: f.next().unwrap_or_default(),
            fstype: unescape(r.next()?),
            source: unescape(r.next().unwrap_or_default()),
            super_options: r.next().unwrap_or_default(),
        })
    }
}

/// Whether a mountinfo text shows a procfs that a user namespace could mount again: one
/// mounted whole and writable, with nothing mounted on any of its files or directories. The
/// kernel lets a mount namespace owned by a user namespace other than the initial one mount a
/// procfs only where one is "fully visible" there (mount_too_revealing() in fs/namespace.c):
/// whole, with the flags asked for not more permissive than its locked ones (a read-only
/// superblock counts as a locked read-only mount), and none of its locked submounts (all are,
/// in a namespace copied into a user namespace) covering anything but a permanently empty
/// directory. A procfs has two: /proc/sys/fs/binfmt_misc (register_sysctl_mount_point()),
/// where systemd mounts binfmt_misc, and /proc/fs/nfsd (proc_create_mount_point()).
/// Container runtimes mount over parts of /proc (/proc/kcore, /proc/keys, /proc/sys, …), and
/// then a rootless sandbox, or a scenario's user namespace, cannot mount its own.
pub(crate) fn procfs_fully_visible(text: &str) -> bool {
    let lines: Vec<MountInfoLine> = text.lines().filter_map(MountInfoLine::parse).collect();
    let has = |options: &str, o: &str| options.split(',').any(|x| x == o);
    lines.iter().any(|m| {
        m.fstype == "proc"
            && m.root == "/"
            && has(m.options, "rw")
            && has(m.super_options, "rw")
            // The atime flags are locked too, and a new mount's default is relatime.
            && has(m.options, "relatime")
            && !has(m.options, "noatime")
            && !has(m.options, "nodiratime")
            && !lines.iter().any(|c| {
                c.parent == m.id
                    && c.id != m.id
                    && !c.point.ends_with("/sys/fs/binfmt_misc")
                    && !c.point.ends_with("/fs/nfsd")
            })
    })
}

/// Watches the caller's mount table without re-reading it after every scenario: the kernel
/// flags an open mountinfo file with POLLPRI when its mount namespace changes (proc(5)), so the
/// text is read again only then.
struct MountWatch {
    fd: Option<OwnedFd>,
    /// The text when last read (shared with the scenarios that started under it).
    current: std::rc::Rc<[u8]>,
}

impl MountWatch {
    /// Starts watching; `dir`/`path` name the mountinfo file (a /proc descriptor may be used so
    /// that a mount over /proc cannot hide it).
    fn open(dir: RawFd, path: &str) -> MountWatch {
        let fd = open_at(dir, path).ok();
        let current = fd.as_ref().map(read_fd).unwrap_or_default().into();
        MountWatch { fd, current }
    }

    /// The current text when the table may have changed since the last look, else `None`.
    fn changed_text(&mut self) -> Option<Vec<u8>> {
        let fd = self.fd.as_ref()?;
        let mut p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLPRI,
            revents: 0,
        };
        // SAFETY: a single valid pollfd; zero timeout.
        let n = unsafe { libc::poll(&mut p, 1, 0) };
        (n > 0 && p.revents & (libc::POLLPRI | libc::POLLERR) != 0).then(|| read_fd(fd))
    }

    /// The table now, and whether it differs from the last look.
    fn now(&mut self) -> (std::rc::Rc<[u8]>, bool) {
        let changed = match self.changed_text() {
            Some(text) if *text != *self.current => {
                self.current = text.into();
                true
            }
            _ => false,
        };
        (self.current.clone(), changed)
    }
}

/// The mounts of `a` that are not in `b`, counted with repeats: a mount point can be stacked
/// on more than once.
pub(crate) fn mounts_minus<'a, M: PartialEq>(a: &'a [M], b: &[M]) -> Vec<&'a M> {
    let mut rest: Vec<&M> = b.iter().collect();
    a.iter()
        .filter(|m| match rest.iter().position(|r| r == m) {
            Some(i) => {
                rest.swap_remove(i);
                false
            }
            None => true,
        })
        .collect()
}

/// What differs between two mountinfo texts, for a message: the mounts (point and type) that
/// appeared and those that went.
fn mount_changes(before: &[u8], after: &[u8]) -> String {
    let before = parse_mounts(&String::from_utf8_lossy(before));
    let after = parse_mounts(&String::from_utf8_lossy(after));
    let minus = |a: &[(String, String)], b: &[(String, String)]| {
        mounts_minus(a, b)
            .into_iter()
            .map(|(point, fstype)| format!("{point} ({fstype})"))
            .collect::<Vec<_>>()
    };
    let list = |v: Vec<String>| {
        const SHOWN: usize = 10;
        let more = v.len().saturating_sub(SHOWN);
        let mut s = v.into_iter().take(SHOWN).collect::<Vec<_>>().join(", ");
        if more > 0 {
            s.push_str(&format!(" and {more} more"));
        }
        s
    };
    let (added, removed) = (minus(&after, &before), minus(&before, &after));
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("mounted {}", list(added)));
    }
    if !removed.is_empty() {
        parts.push(format!("unmounted {}", list(removed)));
    }
    if parts.is_empty() {
        "the same mounts, with other options or in another order".into()
    } else {
        parts.join("; ")
    }
}

/// The whole content of a (proc) file from its start.
fn read_fd(fd: &OwnedFd) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut offset = 0;
    loop {
        match nix::sys::uio::pread(fd, &mut chunk, offset) {
            Ok(0) | Err(_) => return out,
            Ok(n) => {
                out.extend_from_slice(&chunk[..n]);
                offset += n as i64;
            }
        }
    }
}

/// The outer view now. Also read for a scenario cut short before its init ran: left at its
/// default the view would read as a host whose mounts, /proc and hostname were all gone.
fn outer_view_now(watch: &mut MountWatch, before: &[OuterMount]) -> OuterView {
    outer_view(match watch.changed_text() {
        Some(text) => outer_mounts(&text),
        None => before.to_vec(),
    })
}

/// The supervisor's view; `mounts` is given (the watch knows whether they changed).
fn outer_view(mounts: Vec<OuterMount>) -> OuterView {
    let proc_self = match nix::fcntl::readlink("/proc/self") {
        Ok(s) => s.to_str().and_then(|s| s.parse().ok()).ok_or(libc::EINVAL),
        Err(e) => Err(e as i32),
    };
    OuterView {
        mounts,
        proc_self,
        hostname: nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

/// NSpid of the calling process as the harness's /proc shows it (outermost first).
fn own_nspid(host_proc: RawFd) -> Vec<i64> {
    let v = read_at(host_proc, "self/status")
        .map(|s| parse_nspid(&s))
        .unwrap_or_default();
    if v.is_empty() {
        vec![nix::unistd::getpid().as_raw() as i64]
    } else {
        v
    }
}

/// The level of the PID namespace of the procfs where the process's NSpid reads `here`;
/// `Err` for one above the harness's (an outer procfs uncovered by unmounting), whose numbers
/// are a host's or a VM's and cannot be labelled.
fn level_of(ctx: &Ctx, here: &[i64]) -> Result<usize, ()> {
    own_nspid(ctx.host_proc)
        .len()
        .checked_sub(here.len())
        .ok_or(())
}

/// [`level_of`] the process's current /proc; `None` when its /proc/self/status tells nothing.
fn proc_level(ctx: &Ctx) -> Option<Result<usize, ()>> {
    let here = parse_nspid(&read_proc_text(ctx, "/proc/self/status").ok()?);
    (!here.is_empty()).then(|| level_of(ctx, &here))
}

/// The refusal for a /proc above the harness's PID namespace, whose numbers (a host's or a
/// VM's) would be recorded as they are.
fn proc_above_harness(path: &str) -> Obs {
    Obs::Failed(format!(
        "{path} is of a procfs whose PID namespace is above the harness's (an outer /proc \
         uncovered?): its numbers are not recorded"
    ))
}

pub(crate) fn parse_nspid(status: &str) -> Vec<i64> {
    status_field(status, "NSpid")
        .map(|rest| {
            rest.split_whitespace()
                .filter_map(|t| t.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Inodes of the calling process's namespaces, for the kinds `plan` can change: the others are
/// the supervisor's in every process (looking them up costs ~10 µs each, in every process).
fn ns_inodes(host_proc: RawFd, plan: &Plan) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for k in plan.kinds_in_play() {
        if let Ok(st) = nix::sys::stat::fstatat(
            unsafe_borrow(host_proc),
            format!("self/ns/{}", k.proc_name()).as_str(),
            nix::fcntl::AtFlags::empty(),
        ) {
            out.insert(k.name().to_string(), st.st_ino);
        }
    }
    out
}

// ---- thin syscall wrappers -------------------------------------------------------------

fn unsafe_borrow(fd: RawFd) -> std::os::fd::BorrowedFd<'static> {
    // SAFETY: every descriptor passed here is owned by the supervisor and stays open for the
    // lifetime of the scenario's processes, which never close it.
    unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }
}

/// Forks; the child runs `child`, which leaves only through [`exit_now`] (a panic exits 101).
fn fork_child(child: impl FnOnce()) -> Result<i32, Errno> {
    match fork_raw()? {
        0 => child_main(child),
        pid => Ok(pid),
    }
}

/// The first code of every forked or cloned child.
fn child_main(child: impl FnOnce()) -> ! {
    close_report_pipe();
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child));
    exit_now(101)
}

/// Creates one of the scenario's top processes (init, host) inside the scenario's cgroup, in
/// the new namespaces `flags` (0: none, a plain fork): with clone3(CLONE_INTO_CGROUP) where
/// the cgroup is v2 and the kernel has it (5.7), else after moving the supervisor in (see
/// the `limits` module for why migrating is avoided).
///
/// Where the cgroup refuses the process (delegation containment: EACCES; a cgroup below a
/// threaded one: EOPNOTSUPP; outside the cgroup namespace under nsdelegate: ENOENT) and
/// `may_go_without` (the scenario needs neither a cgroup of its own nor a process limit, and
/// a failed clone cannot have used up a PID namespace, see below), the process is created
/// outside and the cgroup given up ([`crate::limits::Limit::abandon`]): the place was
/// misjudged, not the scenario. Not after unshare(CLONE_NEWPID): clone3 fails in
/// cgroup_can_fork() after allocating the new namespace's PID 1, and a namespace whose first
/// process never started refuses every later fork (ENOMEM).
fn spawn_in(
    limit: &mut crate::limits::Limit,
    flags: libc::c_int,
    may_go_without: bool,
    child: impl FnOnce(),
) -> Result<i32, Errno> {
    if let Some(cgroup) = limit.clone_into() {
        match clone3_forklike(flags, &[], Some(cgroup)) {
            Ok(0) => child_main(child),
            Ok(pid) => return Ok(pid),
            // No clone3 (< 5.3) or no CLONE_INTO_CGROUP (< 5.7: an unknown flag, or a larger
            // struct than the kernel knows): migrate instead. EOPNOTSUPP is the cgroup's answer
            // (not a valid domain), which a migration would get too.
            Err(Errno::ENOSYS | Errno::EINVAL | Errno::E2BIG) => {}
            Err(
                e @ (Errno::EACCES
                | Errno::EPERM
                | Errno::ENOENT
                | Errno::EOPNOTSUPP
                | Errno::EBUSY),
            ) if may_go_without => {
                // EPERM can be the namespaces' answer instead: then this fails the same.
                let pid = if flags == 0 {
                    fork_child(child)
                } else {
                    clone_child(flags, child)
                }?;
                limit.abandon(e);
                return Ok(pid);
            }
            Err(e) => return Err(e),
        }
    }
    limit.enter();
    if flags == 0 {
        fork_child(child)
    } else {
        clone_child(flags, child)
    }
}

/// `struct clone_args` of linux/sched.h (version 2, Linux 5.7).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// clone3() like fork() (no new stack: the child continues on its copy of ours) into the
/// namespaces `flags`, with the PIDs `set_tid` (innermost namespace first) and, when given, into
/// the cgroup v2 directory `cgroup`. Returns 0 in the child.
fn clone3_forklike(
    flags: libc::c_int,
    set_tid: &[libc::pid_t],
    cgroup: Option<RawFd>,
) -> Result<i32, Errno> {
    let mut args = CloneArgs {
        flags: flags as u32 as u64 | cgroup.map_or(0, |_| CLONE_INTO_CGROUP),
        exit_signal: libc::SIGCHLD as u64,
        set_tid: if set_tid.is_empty() {
            0
        } else {
            set_tid.as_ptr() as u64
        },
        set_tid_size: set_tid.len() as u64,
        cgroup: cgroup.map_or(0, |fd| fd as u64),
        ..CloneArgs::default()
    };
    // SAFETY: the caller is single-threaded, or its other threads sleep holding nothing
    // (module docs), and without CLONE_VM the child has its own copy of memory, as after
    // fork(). Unlike glibc's fork() this does not refresh the thread id cached in glibc's
    // thread descriptor; glibc's raise() and abort() ask the kernel instead, and init cloned
    // by clone(2) below has always run so.
    let r = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    Errno::result(r).map(|pid| pid as i32)
}

/// clone3(2) like fork() into new namespaces (`flags`) with the PIDs `set_tid`; the child
/// runs `child`, like [`fork_child`].
fn clone3_child(
    flags: libc::c_int,
    set_tid: &[libc::pid_t],
    child: impl FnOnce(),
) -> Result<i32, Errno> {
    match clone3_forklike(flags, set_tid, None)? {
        0 => child_main(child),
        pid => Ok(pid),
    }
}

/// clone(2) into new namespaces (`flags`, CLONE_NEW*); the child runs `child` on a stack of
/// its own, like [`fork_child`]. With CLONE_NEWTIME, clone3(2) like fork() instead.
fn clone_child(flags: libc::c_int, child: impl FnOnce()) -> Result<i32, Errno> {
    if flags & libc::CLONE_NEWTIME != 0 {
        // CLONE_NEWTIME is 0x80, inside clone(2)'s exit-signal byte: only clone3(2) takes it.
        return clone3_child(flags, &[], child);
    }
    // The child gets a copy of this buffer (no CLONE_VM); untouched pages cost nothing.
    let mut stack = vec![0u8; 8 << 20];
    let mut child = Some(child);
    let cb: nix::sched::CloneCb = Box::new(move || match child.take() {
        Some(f) => child_main(f),
        None => exit_now(101),
    });
    // SAFETY: the caller is single-threaded, or its other threads sleep holding nothing
    // (module docs); without CLONE_VM the child has its own copy of memory, runs `cb` on its
    // copy of `stack`, and leaves through exit_now().
    let pid = unsafe {
        nix::sched::clone(
            cb,
            &mut stack,
            nix::sched::CloneFlags::from_bits_retain(flags),
            Some(libc::SIGCHLD),
        )
    }?;
    Ok(pid.as_raw())
}

/// Maps root inside init's new user namespace to the supervisor's own uid and gid.
fn write_id_maps(host_proc: RawFd, pid: i32) -> Result<(), Errno> {
    let (uid, gid) = (
        nix::unistd::getuid().as_raw(),
        nix::unistd::getgid().as_raw(),
    );
    for (file, text) in [
        ("uid_map", format!("0 {uid} 1")),
        ("gid_map", format!("0 {gid} 1")),
    ] {
        let fd = nix::fcntl::openat(
            unsafe_borrow(host_proc),
            format!("{pid}/{file}").as_str(),
            nix::fcntl::OFlag::O_WRONLY | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )?;
        write_all(fd.as_raw_fd(), text.as_bytes())?;
    }
    Ok(())
}

/// In a process the supervisor forked: closes our copies of the supervisor's own pipe ends
/// (the runner's report pipe, the guardian's socket).
fn close_report_pipe() {
    for fd in [&REPORT_FD, &GUARDIAN_FD] {
        let fd = fd.swap(-1, std::sync::atomic::Ordering::Relaxed);
        if fd >= 0 {
            // SAFETY: these pipe ends belong to the supervisor, not to us.
            unsafe { libc::close(fd) };
        }
    }
}

/// fork(2): returns 0 in the child.
fn fork_raw() -> Result<i32, Errno> {
    // SAFETY: every caller runs in a single-threaded process, or one whose other threads sleep
    // holding nothing (module docs), so the child may run arbitrary code.
    Errno::result(unsafe { libc::fork() })
}

/// Gives the supervisor, and so every scenario process, the signal state of a program exec'd
/// by a parent that blocks and ignores nothing, whatever started nsspec: a kill(2) must meet
/// the kernel's default actions. Ignored dispositions and the mask survive execve(2) (a
/// shell's `nohup` or `&`, a CI runner), and Rust's runtime catches SIGSEGV and SIGBUS to
/// report stack overflows: a real fault still ends in the default action (the handler
/// restores it and the instruction faults again), but a SIGSEGV or SIGBUS sent with kill(2)
/// was swallowed. Signals another handler catches are left alone: below glibc 2.34 those are
/// its own (SIGCANCEL and SIGSETXID, 32 and 33), which threads need; nothing else installs one
/// before this runs. The raw call reaches 32 and 33 (an inherited SIG_IGN of them), which
/// glibc's sigaction() refuses. `ignored`: what the runner ignores ([`Host::signals_ignored`],
/// read once per run rather than with 64 rt_sigaction(2) calls per scenario; dispositions are
/// the process's, and the runner changes none after `main` starts).
fn default_signals(ignored: u64) {
    /// The kernel's `struct sigaction` on x86_64.
    #[repr(C)]
    struct KernelSigaction {
        handler: usize,
        flags: u64,
        restorer: usize,
        mask: u64,
    }
    let default = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    let rust_handlers = (1u64 << (libc::SIGSEGV - 1)) | (1u64 << (libc::SIGBUS - 1));
    let unkillable = (1u64 << (libc::SIGKILL - 1)) | (1u64 << (libc::SIGSTOP - 1));
    let reset = (ignored | rust_handlers) & !unkillable;
    for signal in 1..=64 {
        if reset & (1u64 << (signal - 1)) == 0 {
            continue;
        }
        // SAFETY: rt_sigaction with the kernel's struct layout and sigset size (8); SIG_DFL
        // needs no restorer, and no code of ours relies on an ignored signal or on the
        // stack-overflow report in a supervisor.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                signal,
                &default as *const KernelSigaction,
                std::ptr::null_mut::<KernelSigaction>(),
                8,
            )
        };
    }
    // The mask is per thread: whatever the thread that forked us blocked, unblocked here.
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&nix::sys::signal::SigSet::empty()),
        None,
    );
}

/// prctl(2) of an `option` that takes one integer `value` (PR_SET_DUMPABLE,
/// PR_SET_CHILD_SUBREAPER, PR_SET_PDEATHSIG).
fn prctl_set(option: libc::c_int, value: libc::c_ulong) -> Result<(), Errno> {
    // SAFETY: plain prctl with integer arguments.
    let r = unsafe { libc::prctl(option, value, 0, 0, 0) };
    Errno::result(r).map(drop)
}

/// prctl(PR_SET_DUMPABLE).
fn set_dumpable(dumpable: bool) -> Result<(), Errno> {
    prctl_set(libc::PR_SET_DUMPABLE, dumpable.into())
}

/// The CLONE_NEW* flags of `kinds`, together.
fn ns_flags<'a>(kinds: impl IntoIterator<Item = &'a NsKind>) -> libc::c_int {
    kinds.into_iter().fold(0, |flags, k| flags | k.clone_flag())
}

/// # References
/// unshare(2)
pub(crate) fn unshare(flags: libc::c_int) -> Result<(), Errno> {
    // SAFETY: unshare has no memory-safety preconditions.
    Errno::result(unsafe { libc::unshare(flags) }).map(drop)
}

/// # References
/// setns(2)
fn setns(fd: RawFd, nstype: libc::c_int) -> Result<(), Errno> {
    // SAFETY: setns has no memory-safety preconditions; `fd` is an open namespace file.
    Errno::result(unsafe { libc::setns(fd, nstype) }).map(drop)
}

pub(crate) fn make_mounts_private() -> Result<(), Errno> {
    nix::mount::mount(
        None::<&str>,
        "/",
        None::<&str>,
        nix::mount::MsFlags::MS_REC | nix::mount::MsFlags::MS_PRIVATE,
        None::<&str>,
    )
}

/// Mounts a 1 MiB tmpfs on `target`, with the directories `dirs` (single names, validated) in
/// it. Those are made while the tmpfs is attached nowhere yet (fsopen/fsmount, Linux 5.2),
/// relative to its own root, and only then is it moved onto `target`: looking `target` up again
/// after an ordinary mount can land elsewhere — on the filesystem underneath when `target` is
/// `/` (lookups start at the process's root, below the new mount), in a directory reached
/// through /proc/self/cwd, or wherever a concurrent lazy umount leaves it — and a scenario must
/// never create anything outside the filesystems it mounted. Any failure leaves nothing
/// mounted.
fn mount_tmpfs(target: &str, dirs: &[String]) -> Result<(), Errno> {
    use nix::mount::MsFlags;
    if dirs.is_empty() {
        return nix::mount::mount(
            Some("tmpfs"),
            target,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("size=1m"),
        );
    }
    // SAFETY (each syscall below): raw syscalls with NUL-terminated strings that outlive the
    // call, descriptors we own, and integer flags; fsopen and fsmount return new descriptors.
    let fs = Errno::result(unsafe {
        libc::syscall(libc::SYS_fsopen, c"tmpfs".as_ptr(), libc::FSOPEN_CLOEXEC)
    })?;
    let fs = unsafe { OwnedFd::from_raw_fd(fs as RawFd) };
    Errno::result(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            libc::FSCONFIG_SET_STRING,
            c"size".as_ptr(),
            c"1m".as_ptr(),
            0,
        )
    })?;
    Errno::result(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            libc::FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    })?;
    let mnt = Errno::result(unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            fs.as_raw_fd(),
            libc::FSMOUNT_CLOEXEC,
            libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NODEV,
        )
    })?;
    let mnt = unsafe { OwnedFd::from_raw_fd(mnt as RawFd) };
    for d in dirs {
        nix::sys::stat::mkdirat(
            &mnt,
            d.as_str(),
            nix::sys::stat::Mode::from_bits_truncate(0o755),
        )?;
    }
    let target = std::ffi::CString::new(target).map_err(|_| Errno::EINVAL)?;
    Errno::result(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mnt.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            target.as_ptr(),
            libc::MOVE_MOUNT_F_EMPTY_PATH,
        )
    })
    .map(drop)
}

fn mount_proc(target: &str, options: &str) -> Result<(), Errno> {
    use nix::mount::MsFlags;
    nix::mount::mount(
        Some("proc"),
        target,
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        (!options.is_empty()).then_some(options),
    )
}

fn set_pdeathsig(sig: libc::c_int) {
    let _ = prctl_set(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong);
}

/// # References
/// pidfd_open(2): Linux 5.3 and later (ENOSYS before). The descriptor is close-on-exec.
pub(crate) fn pidfd_open(pid: i32) -> Result<OwnedFd, Errno> {
    // SAFETY: raw syscall with integer arguments; a non-negative result is a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the descriptor was just created and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

fn pipe() -> Result<(OwnedFd, OwnedFd), Errno> {
    nix::unistd::pipe()
}

fn open_dir(path: &str) -> Result<OwnedFd, Errno> {
    nix::fcntl::open(
        path,
        nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
}

fn open_at(dir: RawFd, path: &str) -> Result<OwnedFd, Errno> {
    nix::fcntl::openat(
        unsafe_borrow(dir),
        path,
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
}

pub(crate) fn read_at(dir: RawFd, path: &str) -> Option<String> {
    let fd = open_at(dir, path).ok()?;
    let mut file = std::fs::File::from(fd);
    let mut s = String::new();
    std::io::Read::read_to_string(&mut file, &mut s).ok()?;
    Some(s)
}

fn read_retry(fd: RawFd, buf: &mut [u8]) -> Result<usize, Errno> {
    loop {
        match nix::unistd::read(unsafe_borrow(fd), buf) {
            Err(Errno::EINTR) => continue,
            r => return r,
        }
    }
}

/// Writes `bytes` to stderr with SIGPIPE held back, so that a reader that went away
/// (`2>&1 | head`) costs an EPIPE and not the process: a guardian or a scenario process killed
/// by a diagnostic line would break the run. False once nothing more can be written.
pub(crate) fn write_stderr_held(bytes: &[u8]) -> bool {
    use nix::sys::signal::{SigSet, SigmaskHow};
    let mut pipe = SigSet::empty();
    pipe.add(Signal::SIGPIPE);
    let Ok(old) = pipe.thread_swap_mask(SigmaskHow::SIG_BLOCK) else {
        return false;
    };
    // Blocked already (the runner blocks it, and a supervisor is forked with that mask), a
    // SIGPIPE may be pending from before, which is not ours to take.
    let pending_before = old.contains(Signal::SIGPIPE) && sigpipe_pending();
    let r = write_all(2, bytes);
    if r == Err(Errno::EPIPE) && !pending_before {
        // The write raised SIGPIPE: take it, or unblocking delivers it — at once, or in a
        // supervisor that inherited the block, once it sets the scenario's signal state
        // (`default_signals`), which killed it for a timing mark.
        let now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a valid signal set and timespec; no siginfo is asked for.
        unsafe { libc::sigtimedwait(pipe.as_ref(), std::ptr::null_mut(), &now) };
    }
    let _ = old.thread_set_mask();
    r.is_ok()
}

/// Whether SIGPIPE is pending for this thread or its process.
fn sigpipe_pending() -> bool {
    let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigpending fills the set it is given; sigismember reads it once filled.
    unsafe {
        libc::sigpending(set.as_mut_ptr()) == 0
            && libc::sigismember(set.as_ptr(), libc::SIGPIPE) == 1
    }
}

fn write_all(fd: RawFd, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        match nix::unistd::write(unsafe_borrow(fd), buf) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(n) => buf = &buf[n..],
        }
    }
    Ok(())
}

/// poll(2)'s timeout for `wait`: rounded up, so that a poll never returns just before the
/// deadline it waits for (and the caller, finding it not yet passed, polls for 0 ms in a loop),
/// and at most i32::MAX.
fn poll_ms(wait: Duration) -> i32 {
    i32::try_from(wait.as_millis().saturating_add(1)).unwrap_or(i32::MAX)
}

/// Runs `f` in a forked child and returns its result. The caller must be single-threaded.
pub(crate) fn in_child(f: impl FnOnce() -> Result<(), Errno>) -> Result<(), Errno> {
    let code = child_exit_code(|| match f() {
        Ok(()) => 0,
        Err(e) => (e as i32).clamp(1, 255),
    })?;
    match code {
        0 => Ok(()),
        code => Err(Errno::from_raw(code)),
    }
}

/// Runs `f` in a forked child and returns the exit status it gives (0–255); ECHILD where the
/// child did not exit. The caller must be single-threaded.
pub(crate) fn child_exit_code(f: impl FnOnce() -> i32) -> Result<i32, Errno> {
    // SAFETY: nsspec is single-threaded (see the executor's module docs); the child only makes
    // system calls and leaves with _exit.
    match unsafe { libc::fork() } {
        -1 => Err(Errno::last()),
        0 => {
            let code = f();
            // SAFETY: _exit is always safe.
            unsafe { libc::_exit(code) }
        }
        pid => {
            let mut status = 0;
            // SAFETY: `status` is a valid out-pointer.
            while unsafe { libc::waitpid(pid, &mut status, 0) } < 0 {
                if Errno::last() != Errno::EINTR {
                    return Err(Errno::last());
                }
            }
            if libc::WIFEXITED(status) {
                Ok(libc::WEXITSTATUS(status))
            } else {
                Err(Errno::ECHILD)
            }
        }
    }
}

/// unshare(CLONE_NEWUSER) and map root inside to `uid`/`gid` outside, as `unshare -r` does.
pub(crate) fn enter_own_userns(uid: u32, gid: u32) -> Result<(), Errno> {
    unshare(libc::CLONE_NEWUSER)?;
    let write = |path: &str, text: String| {
        std::fs::write(path, text)
            .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
    };
    // An unprivileged process may write gid_map only after denying setgroups(2).
    match write("/proc/self/setgroups", "deny".into()) {
        Ok(()) | Err(Errno::ENOENT) => {}
        Err(e) => return Err(e),
    }
    write("/proc/self/uid_map", format!("0 {uid} 1"))?;
    write("/proc/self/gid_map", format!("0 {gid} 1"))
}

/// Clears the effective, permitted and inheritable capability sets.
///
/// # References
/// capset(2)
pub(crate) fn drop_all_caps() -> Result<(), Errno> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    // _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set.
    let mut header = Header {
        version: 0x2008_0522,
        pid: 0,
    };
    let data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: header and data are valid for the kernel's reads for the duration of the call.
    Errno::result(unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) }).map(drop)
}

/// Leaves the process at once: no destructors, no atexit handlers, no stdio flush (buffers
/// inherited across fork() must not be written twice).
fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is always safe to call.
    unsafe { libc::_exit(code) }
}

#[cfg(test)]
/// For tests: `f` in a forked child; its exit status, or 128 + the signal that killed it. The test
/// threads hold no lock the child needs: it makes system calls, allocates (glibc's fork
/// leaves its allocator usable) and leaves with _exit, never printing or panicking.
pub(crate) fn forked(f: impl FnOnce() -> i32) -> i32 {
    // SAFETY: see above; the child never returns into the test harness.
    match unsafe { libc::fork() } {
        0 => unsafe { libc::_exit(f()) },
        -1 => 127,
        pid => {
            let mut status = 0;
            // SAFETY: `status` is a valid out-pointer.
            while unsafe { libc::waitpid(pid, &mut status, 0) } < 0 {
                if Errno::last() != Errno::EINTR {
                    return 126;
                }
            }
            if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                128 + libc::WTERMSIG(status)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The draws of `--jitter`: none with it off; with it on, about one process in two slow,
    /// each for between half the longest stall and all of it, the same again for the same
    /// seed, scenario and process, and different between seeds and between scenarios.
    #[test]
    fn jitter_draws_half_the_processes_slow_and_repeats_by_seed() {
        let max = Duration::from_millis(10);
        set_jitter(Duration::ZERO, 7);
        assert!(slowness("g/a", 1).is_zero());
        assert_eq!(jitter(), None);
        set_jitter(max, 7);
        assert_eq!(jitter(), Some((max, 7)));
        let draws = |seed: u64, id: &str| {
            (0..400)
                .map(|p| draw_slowness(max, seed, id, p))
                .collect::<Vec<_>>()
        };
        assert_eq!(slowness("g/a", 5), draw_slowness(max, 7, "g/a", 5));
        let first = draws(7, "g/a");
        let slow = first.iter().filter(|d| !d.is_zero()).count();
        assert!((150..=250).contains(&slow), "{slow} of 400 slow");
        assert!(
            first
                .iter()
                .filter(|d| !d.is_zero())
                .all(|d| *d >= max / 2 && *d <= max),
            "{first:?}"
        );
        assert_eq!(draws(7, "g/a"), first);
        assert_ne!(draws(8, "g/a"), first);
        assert_ne!(draws(7, "g/b"), first);
        // The time limit makes room for a stall before every step (here 3), and only then.
        let plan = crate::plan::load(
            "t",
            "t.yaml",
            "name: t\nnamespaces: [pid]\ntimeout: 2\nsteps:\n  - fork: { name: c, steps: [ getpid: {} ] }\n  \
             - wait: { pid: c }\n",
        )
        .unwrap();
        assert_eq!(time_limit(&plan), Duration::from_millis(2030));
        set_jitter(Duration::ZERO, 0);
        assert_eq!(time_limit(&plan), Duration::from_secs(2));
    }

    #[test]
    fn poll_timeouts_round_up_and_saturate() {
        assert_eq!(poll_ms(Duration::ZERO), 1);
        assert_eq!(poll_ms(Duration::from_micros(1500)), 2);
        assert_eq!(poll_ms(Duration::from_secs(600)), 600_001);
        assert_eq!(poll_ms(Duration::MAX), i32::MAX);
    }

    /// The start handshake waits for each of init and the host process to send its byte or
    /// end without: it ends once the one that ended unsent is seen (killed before its start),
    /// not at the deadline; it does not end early for one that sent its byte and then ended
    /// (init whose set-up failed) while the other has not started; with both bytes it ends at
    /// once.
    #[test]
    fn the_start_handshake_waits_for_each_start_or_end() {
        let far = || Instant::now() + Duration::from_secs(60);
        // A child that has ended, and one that waits until its pipe closes.
        let (hold_r, hold_w) = pipe().unwrap();
        let spawn = |wait: bool| {
            // SAFETY: the child reads a pipe or exits at once, touching nothing else.
            match unsafe { libc::fork() } {
                0 => {
                    if wait {
                        // Our copy of the write end would keep the pipe open for ever.
                        unsafe { libc::close(hold_w.as_raw_fd()) };
                        let _ = read_retry(hold_r.as_raw_fd(), &mut [0u8]);
                    }
                    unsafe { libc::_exit(0) }
                }
                pid => pid,
            }
        };
        let (gone_pid, live_pid) = (spawn(false), spawn(true));
        let reap = || {
            // SAFETY: reaps our own children.
            unsafe { libc::waitpid(gone_pid, std::ptr::null_mut(), 0) };
            unsafe { libc::waitpid(live_pid, std::ptr::null_mut(), 0) };
        };
        let (Ok(gone), Ok(live)) = (pidfd_open(gone_pid), pidfd_open(live_pid)) else {
            // Before Linux 5.3: no pidfds, and the handshake waits as before.
            drop(hold_w);
            reap();
            return;
        };
        let (r, w) = pipe().unwrap();
        let (gone, live) = (Some(gone.as_raw_fd()), Some(live.as_raw_fd()));
        // Init started; the host ended unsent.
        write_all(w.as_raw_fd(), &[INIT_STARTED]).unwrap();
        let started = Instant::now();
        await_starts(r.as_raw_fd(), far(), [live, gone]);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "waited for the deadline"
        );
        // Init sent its byte and ended; the host lives and has not started: wait for it.
        write_all(w.as_raw_fd(), &[INIT_STARTED]).unwrap();
        let soon = Instant::now() + Duration::from_millis(300);
        await_starts(r.as_raw_fd(), soon, [gone, live]);
        assert!(Instant::now() >= soon, "let go before the host started");
        // Both bytes, in either order: at once, whoever lives.
        write_all(w.as_raw_fd(), &[HOST_STARTED, INIT_STARTED]).unwrap();
        let started = Instant::now();
        await_starts(r.as_raw_fd(), far(), [live, live]);
        assert!(started.elapsed() < Duration::from_secs(30));
        drop(hold_w);
        reap();
    }

    /// A process that has SIGPIPE blocked already (a supervisor, forked from the runner that
    /// blocks it) and writes to a stderr nobody reads is left with no SIGPIPE pending: the one
    /// its write raised is taken. It was left pending, and a supervisor died of it once it
    /// unblocked its signals, after a timing mark. One pending from before the write stays.
    #[test]
    fn a_stderr_write_leaves_no_sigpipe_behind() {
        let with_closed_stderr = |raised_before: bool| {
            forked(|| {
                use nix::sys::signal::{SigSet, SigmaskHow};
                let Ok((read_end, write_end)) = nix::unistd::pipe() else {
                    return 100;
                };
                drop(read_end);
                // SAFETY: plain dup2 onto stderr in this child.
                if unsafe { libc::dup2(write_end.as_raw_fd(), 2) } != 2 {
                    return 101;
                }
                let mut pipe = SigSet::empty();
                pipe.add(Signal::SIGPIPE);
                let _ = pipe.thread_swap_mask(SigmaskHow::SIG_BLOCK);
                if raised_before {
                    let _ = nix::sys::signal::raise(Signal::SIGPIPE);
                }
                if write_stderr_held(b"x\n") {
                    return 102;
                }
                // (Pending, not delivered: the test binary ignores SIGPIPE, as Rust programs
                // do, so an unblocked one would be dropped; a supervisor has it at default.)
                i32::from(sigpipe_pending())
            })
        };
        assert_eq!(with_closed_stderr(false), 0);
        assert_eq!(with_closed_stderr(true), 1);
    }

    /// Whether a user namespace could mount a procfs, judged from mountinfo as
    /// mount_too_revealing() judges it: a whole, writable, relatime procfs with nothing over
    /// it but binfmt_misc on its permanently empty directory.
    #[test]
    fn a_procfs_is_fully_visible_only_with_nothing_over_it() {
        let root = "20 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n";
        let proc = "22 20 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n";
        let binfmt = "40 22 0:40 / /proc/sys/fs/binfmt_misc rw,relatime shared:20 - \
                      binfmt_misc binfmt_misc rw\n";
        let kcore = "41 22 0:5 /null /proc/kcore rw,nosuid - devtmpfs udev rw\n";
        let sys = "42 22 0:21 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw\n";
        let visible = |parts: &[&str]| procfs_fully_visible(&parts.concat());
        assert!(visible(&[root, proc]));
        assert!(visible(&[root, proc, binfmt]));
        // Container runtimes' masks: a file covered, a directory bound read-only over itself.
        assert!(!visible(&[root, proc, kcore]));
        assert!(!visible(&[root, proc, sys]));
        // Flags a new mount cannot match: read-only, or other atime flags, are locked.
        assert!(!visible(&[root, &proc.replace("rw,nosuid", "ro,nosuid")]));
        assert!(!visible(&[root, &proc.replace("relatime", "noatime")]));
        assert!(!visible(&[
            root,
            &proc.replace("proc proc rw", "proc proc ro")
        ]));
        let nfsd = "43 22 0:41 / /proc/fs/nfsd rw,relatime - nfsd nfsd rw\n";
        assert!(visible(&[root, proc, binfmt, nfsd]));
        // Not the procfs's whole tree.
        assert!(!visible(&[root, &proc.replace(" / /proc", " /sys /proc")]));
        // No procfs at all; and a second, uncovered one beside a covered one suffices.
        assert!(!visible(&[root]));
        let other = "50 20 0:60 / /tmp/p rw,relatime - proc proc rw\n";
        assert!(visible(&[root, proc, kcore, other]));
    }

    /// A scenario that does not fit is passed over, not waited for, and starts first once it
    /// fits; the order among those passed over is kept.
    #[test]
    fn scenarios_that_do_not_fit_are_passed_over_until_they_do() {
        let (mut waiting, mut next) = (Vec::new(), 0);
        let big = |i: usize| i == 0 || i == 2;
        assert_eq!(
            next_to_start(&mut waiting, &mut next, 4, |i| !big(i)),
            Some(1)
        );
        assert_eq!(waiting, [0]);
        assert_eq!(
            next_to_start(&mut waiting, &mut next, 4, |i| !big(i)),
            Some(3)
        );
        assert_eq!(waiting, [0, 2]);
        assert_eq!(next_to_start(&mut waiting, &mut next, 4, |i| !big(i)), None);
        assert_eq!(next_to_start(&mut waiting, &mut next, 4, |_| true), Some(0));
        assert_eq!(next_to_start(&mut waiting, &mut next, 4, |_| true), Some(2));
        assert_eq!(next_to_start(&mut waiting, &mut next, 4, |_| true), None);
        assert!(waiting.is_empty());
    }

    /// Fork bombs start side by side only while their limits together fit in the room; one
    /// alone always starts (a scenario that alone does not fit is skipped by the probe).
    #[test]
    fn fork_bombs_start_only_while_their_limits_fit() {
        assert!(bombs_fit(&[], 5000, 100));
        assert!(bombs_fit(&[1024], 1024, 2048));
        assert!(!bombs_fit(&[1024], 1025, 2048));
        assert!(!bombs_fit(&[1024, 1024], 1, 2048));
        // Sums past u32 do not wrap around: 2 × (2³² − 1) + 2 is exactly 2³³.
        assert!(bombs_fit(&[u32::MAX, u32::MAX], 2, 1 << 33));
        assert!(!bombs_fit(&[u32::MAX, u32::MAX], 3, 1 << 33));
    }

    /// `mounts` lists the tree on the topmost mount at `under`: not a shadowed host mount of
    /// the same path below a fresh /proc, not a mount merely starting with the same letters,
    /// and stacked mounts in mount order; the optional fields give the propagation.
    #[test]
    fn mounts_under_lists_the_topmost_tree_with_its_propagation() {
        let text = "\
20 1 0:5 / /proc rw - proc proc rw
21 20 0:6 / /proc/sys/fs/binfmt_misc rw shared:7 - binfmt_misc binfmt_misc rw
30 20 0:7 / /proc rw - proc proc rw
31 30 0:8 / /proc/sys rw shared:12 - tmpfs tmpfs rw
32 31 0:9 / /proc/sys/a rw shared:13 master:12 - tmpfs tmpfs rw
33 31 0:10 / /proc/sys/b rw unbindable - tmpfs tmpfs rw
34 33 0:11 / /proc/sys/b rw master:4 - tmpfs tmpfs rw
35 30 0:12 / /proc/sysx rw - tmpfs tmpfs rw
";
        let seen = mounts_under(text, "/proc/sys");
        let shown: Vec<String> = seen
            .iter()
            .map(|m| format!("{} {} {}", m.point, m.fstype, m.propagation()))
            .collect();
        assert_eq!(
            shown,
            [
                "/proc/sys tmpfs shared",
                "/proc/sys/a tmpfs shared+slave",
                "/proc/sys/b tmpfs unbindable",
                "/proc/sys/b tmpfs slave",
            ]
        );
        assert_eq!((seen[1].shared, seen[1].master), (Some(13), Some(12)));
        // The topmost of two mounts stacked on `under` is the one listed.
        let stacked = mounts_under(text, "/proc/sys/b");
        assert_eq!(stacked.len(), 1);
        assert_eq!(stacked[0].master, Some(4));
        assert!(mounts_under(text, "/proc/sys/c").is_empty());
    }

    /// mountinfo writes a path's space, tab, newline and backslash in octal: `under` is a path
    /// and finds the mount by the name it stands for, never by the escaped text.
    #[test]
    fn mounts_under_reads_mountinfo_escapes() {
        let text = "\
20 1 0:5 / /mnt rw - tmpfs tmpfs rw
21 20 0:6 / /mnt/a\\040b rw - tmpfs tmpfs rw
22 20 0:7 / /mnt/a-b rw - tmpfs tmpfs rw
23 20 0:8 / /mnt/a\\134040b rw - tmpfs tmpfs rw
";
        let seen = mounts_under(text, "/mnt/a b");
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].point, "/mnt/a b");
        assert_eq!(seen[0].entry(), r"/mnt/a\040b tmpfs private");
        // The directory literally named `a\040b` is another one.
        let literal = mounts_under(text, r"/mnt/a\040b");
        assert_eq!(literal.len(), 1);
        assert_eq!(literal[0].entry(), r"/mnt/a\134040b tmpfs private");
        // Sorted as the entries are written (`plan::mount_point`), `\` after `-`.
        let all: Vec<String> = mounts_under(text, "/mnt")
            .iter()
            .map(MountSeen::entry)
            .collect();
        assert_eq!(
            all,
            [
                "/mnt tmpfs private",
                "/mnt/a-b tmpfs private",
                r"/mnt/a\040b tmpfs private",
                r"/mnt/a\134040b tmpfs private",
            ]
        );
    }

    /// `links` leaves out the fallback tunnels a loaded tunnel module adds to every new network
    /// namespace, and nothing else. The kernel may have no tunnel modules, so a veth pair
    /// stands in, one end named as a fallback tunnel that is not there already (made with
    /// ip(8); skipped without it).
    #[test]
    fn links_leave_out_fallback_tunnels_only() {
        let code = forked(|| {
            if unshare(libc::CLONE_NEWNET).is_err() {
                return 77;
            }
            // Where a tunnel module is loaded its device is here already: name the veth end
            // after one that is not (and with every one here, they alone must be left out).
            let absent = FALLBACK_TUNNELS.iter().find(|n| {
                let c = std::ffi::CString::new(**n).unwrap();
                // SAFETY: a NUL-terminated name.
                unsafe { libc::if_nametoindex(c.as_ptr()) == 0 }
            });
            let Some(name) = absent else {
                return i32::from(links() != Ok(vec!["lo down".to_string()]));
            };
            let made = std::process::Command::new("ip")
                .args(["link", "add", name, "type", "veth", "peer", "name", "keep0"])
                .stderr(std::process::Stdio::null())
                .status();
            if !made.is_ok_and(|s| s.success()) {
                return 77;
            }
            match links() {
                Ok(l) if l == ["lo down", "keep0 down"] => 0,
                _ => 1,
            }
        });
        if code == 77 {
            eprintln!("skipped: no network namespace or no ip(8) veth here");
            return;
        }
        assert_eq!(code, 0);
    }

    /// The guardian's channel carries a supervisor's pidfd with its `Watch`: what arrives is
    /// a new descriptor for the same process, and a message without one arrives without.
    #[test]
    fn a_pidfd_travels_with_its_message() {
        let Ok(own) = pidfd_open(std::process::id() as i32) else {
            return; // before Linux 5.3
        };
        let (a, b) = guardian_channel().unwrap();
        send_with_fd(a.as_raw_fd(), b"one\n", Some(own.as_raw_fd())).unwrap();
        send_with_fd(a.as_raw_fd(), b"two\n", None).unwrap();
        drop(a);
        let mut buf = [0u8; 64];
        let (n, fd) = recv_with_fd(b.as_raw_fd(), &mut buf).unwrap();
        assert_eq!(&buf[..n], b"one\n");
        let fd = fd.expect("the pidfd sent along");
        assert_ne!(fd.as_raw_fd(), own.as_raw_fd());
        let info =
            std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd())).unwrap();
        assert!(
            info.lines()
                .any(|l| l == format!("Pid:\t{}", std::process::id())),
            "{info}"
        );
        let (n, fd) = recv_with_fd(b.as_raw_fd(), &mut buf).unwrap();
        assert_eq!((&buf[..n], fd.is_none()), (&b"two\n"[..], true));
        assert_eq!(recv_with_fd(b.as_raw_fd(), &mut buf).unwrap().0, 0);
    }

    /// A child that leads a process group of its own (set by both sides, so it is set
    /// whichever runs first), then runs `f`.
    fn group_leader(f: impl FnOnce()) -> i32 {
        // SAFETY: as in `forked`.
        match unsafe { libc::fork() } {
            0 => unsafe {
                libc::setpgid(0, 0);
                f();
                libc::_exit(0)
            },
            pid => {
                // SAFETY: setpgid has no memory-safety preconditions.
                unsafe { libc::setpgid(pid, pid) };
                pid
            }
        }
    }

    /// What the guardian's `kill_group` does after a supervisor's death, as PID 1 of a PID
    /// namespace of its own (so that a number can be handed on at will, with ns_last_pid).
    /// 0 when all held, 99 when the kernel names groups only by number (before 6.9), 97
    /// without pidfd_open (before 5.3), 96 where ns_last_pid cannot be written (a read-only
    /// /proc/sys), else the number of the check that failed.
    fn group_kill_checks() -> i32 {
        let pause = || loop {
            // SAFETY: pause() has no preconditions.
            unsafe { libc::pause() };
        };
        let reap = |pid: i32, flags: i32| {
            let mut status = 0;
            // SAFETY: `status` is a valid out-pointer.
            let got = unsafe { libc::waitpid(pid, &mut status, flags) };
            (got, status)
        };
        // 1. A leader that has died and been reaped: its group's member is still reached.
        let leader = group_leader(|| {
            group_leader_member(pause);
        });
        let fd = match pidfd_open(leader) {
            Ok(fd) => fd,
            Err(Errno::ENOSYS) => return 97,
            Err(_) => return 1,
        };
        reap(leader, 0);
        let by_number = match kill_group(&fd, leader) {
            GroupKill::Sent => false,
            GroupKill::ByNumber => true,
            _ => return 2,
        };
        // The member came to us, PID 1, when its parent died; what it dies of tells whether
        // the kill reached it (a SIGTERM after a SIGKILL changes nothing). While it lives,
        // its group's number is not free.
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(-leader, libc::SIGTERM) };
        let (got, status) = reap(-1, 0);
        if got <= 0 || !libc::WIFSIGNALED(status) || libc::WTERMSIG(status) != libc::SIGKILL {
            return 3;
        }
        if by_number {
            return 99;
        }
        // 2. An empty group whose number a stranger has taken for a group of its own.
        let gone = group_leader(|| {});
        let Ok(fd) = pidfd_open(gone) else {
            return 4;
        };
        reap(gone, 0);
        let last = format!("{}", gone - 1);
        match std::fs::write("/proc/sys/kernel/ns_last_pid", last) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EROFS) => return 96,
            Err(_) => return 5,
        }
        let stranger = group_leader(pause);
        if stranger != gone {
            return 6;
        }
        let outcome = kill_group(&fd, gone);
        // What the stranger dies of tells whether the group kill reached it: a SIGTERM sent
        // after a SIGKILL changes nothing.
        // SAFETY: kill has no memory-safety preconditions; the stranger is our child.
        unsafe { libc::kill(stranger, libc::SIGTERM) };
        let (_, status) = reap(stranger, 0);
        let spared = libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGTERM;
        match (outcome, spared) {
            (GroupKill::Empty, true) => 0,
            (_, false) => 7,
            _ => 8,
        }
    }

    /// In a group leader: forks a member of its group that runs `f`.
    fn group_leader_member(f: impl FnOnce()) {
        // SAFETY: as in `forked`.
        if unsafe { libc::fork() } == 0 {
            f();
            unsafe { libc::_exit(0) }
        }
    }

    /// The guardian kills a dead supervisor's process group once: members left after the
    /// supervisor was reaped are reached, and where the group is empty and its number has
    /// gone to a stranger's group, that group is not (Linux 6.9 and later; before, the kill
    /// goes by number, which is all those kernels offer).
    #[test]
    fn a_group_kill_reaches_a_dead_leaders_group_and_never_a_stranger_with_its_number() {
        // A PID namespace of its own needs CAP_SYS_ADMIN.
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let code = forked(|| match unshare(libc::CLONE_NEWPID) {
            Ok(()) => forked(group_kill_checks),
            Err(_) => 98,
        });
        let named_by_pidfd = crate::probe::running_kernel().is_some_and(|k| k >= (6, 9));
        match code {
            0 => {}
            96 => eprintln!("skipped: /proc/sys is read-only here"),
            97 => eprintln!("skipped: no pidfd_open(2) (before Linux 5.3)"),
            98 => eprintln!("skipped: no PID namespace could be made here"),
            99 if !named_by_pidfd => eprintln!("this kernel names groups only by number"),
            99 => panic!("Linux 6.9 or later, yet the group was killed by number"),
            n => panic!("check {n} of group_kill_checks failed"),
        }
    }

    /// A target looked for under any number is found by its PID namespace and its number in
    /// it: this process in its own /proc, and no process for a number nothing has.
    #[test]
    fn a_process_is_found_in_a_procfs_by_namespace_and_number() {
        use std::os::unix::fs::MetadataExt;
        let proc = std::path::Path::new("/proc");
        let ns = std::fs::metadata("/proc/self/ns/pid").unwrap().ino();
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let inner = *parse_nspid(&status).last().unwrap();
        assert!(proc_shows(proc, ns, inner));
        assert!(!proc_shows(proc, ns, i64::from(i32::MAX)));
        assert!(!proc_shows(proc, ns + 1, inner));
        assert!(!proc_shows(std::path::Path::new("/nonexistent"), ns, inner));
    }

    #[test]
    fn nspid_is_parsed_outermost_first() {
        let status = "Name:\tsh\nNSpid:\t11655\t6\t1\nNSsid:\t0\n";
        assert_eq!(parse_nspid(status), vec![11655, 6, 1]);
        assert!(parse_nspid("Name:\tsh\n").is_empty());
    }

    #[test]
    fn a_report_keeps_only_the_mounts_that_differ_and_the_same_differences() {
        let m = |id: u64, point: &str| OuterMount {
            id,
            parent: 1,
            dev: "0:1".into(),
            root: "/".into(),
            point: point.into(),
            options: "rw".into(),
            fstype: "tmpfs".into(),
            source: "none".into(),
            super_options: "rw".into(),
        };
        let mut out = RunOutput::default();
        out.before.mounts = vec![m(1, "/"), m(2, "/a"), m(3, "/b"), m(3, "/b")];
        out.after.mounts = vec![m(1, "/"), m(3, "/b"), m(4, "/a")];
        let minus = |a: &[OuterMount], b: &[OuterMount]| -> Vec<OuterMount> {
            mounts_minus(a, b).into_iter().cloned().collect()
        };
        let removed = minus(&out.before.mounts, &out.after.mounts);
        let added = minus(&out.after.mounts, &out.before.mounts);
        out.keep_mount_changes_only();
        assert_eq!(out.before.mounts, vec![m(2, "/a"), m(3, "/b")]);
        assert_eq!(out.after.mounts, vec![m(4, "/a")]);
        assert_eq!(minus(&out.before.mounts, &out.after.mounts), removed);
        assert_eq!(minus(&out.after.mounts, &out.before.mounts), added);
    }
}
