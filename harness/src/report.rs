//! Judgement and the observation record: checks a run's raw observations against the plan's
//! expectations, and renders the normalised record that is snapshotted.
//!
//! Normalisation makes the record identical on every machine and kernel that behaves the same:
//! PIDs of the harness's own PID namespace become `host-pid#N`, namespace inodes become
//! `pid#N`/`mount#N` (numbered in order of appearance; the harness's own are not shown), errnos
//! are written as `ESRCH: No such process`, and no time is recorded.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use nix::errno::Errno;
use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use crate::executor::{Obs, OuterMount, Record, Res, RunOutput, Waited};
use crate::plan::{Action, NsIoctlExpect, Outcome, Plan, ReadExpect, StepPlan, WaitStatus, Who};
use crate::schema::{ClockKind, NsIs, NsKind, SocketKind, SysvKind};

/// The result of one scenario, as printed and as exchanged with the test harness (`--json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub id: String,
    pub source: String,
    pub status: Status,
    /// Why it was skipped, or why it failed (one entry per failed check).
    pub messages: Vec<String>,
    /// The normalised observation record (absent when skipped).
    pub record: Option<String>,
    /// What the snapshot comparison found.
    pub snapshot: SnapshotState,
    pub elapsed_ms: u64,
    /// How the scenario's process count was limited on this host.
    #[serde(default)]
    pub pids_limit: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotState {
    /// Not compared (skipped, or no snapshot location known).
    NotChecked,
    Matches,
    /// No snapshot file exists yet at this path.
    Missing(String),
    /// The record differs from the snapshot at this path; the diff is in `messages`.
    Differs(String),
    /// The snapshot at this path was missing or different and has been written with the record
    /// (`--accept-snapshots`).
    Written(String),
}

/// `ESRCH: No such process`.
pub fn errno_text(e: i32) -> String {
    // The C library's wording ("Cannot allocate memory"), as tools and man pages print it.
    let text = std::io::Error::from_raw_os_error(e).to_string();
    let text = text.split(" (os error").next().unwrap_or(&text).to_string();
    format!("{:?}: {text}", Errno::from_raw(e))
}

/// A signal a step sends, as the record names it: SIGKILL, or 0 for kill(2)'s check.
fn sent(signal: &Option<Signal>) -> &'static str {
    signal.map_or("0", Signal::as_str)
}

fn signal_text(s: i32) -> String {
    Signal::try_from(s).map_or_else(|_| format!("signal {s}"), |s| s.as_str().to_string())
}

fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Ok => "ok".into(),
        Outcome::Errno(e) => errno_text(*e as i32),
    }
}

fn res_text(r: &Res) -> String {
    match r {
        Res::Ok => "ok".into(),
        Res::Errno(e) => errno_text(*e),
    }
}

fn waited_text(w: &Waited) -> String {
    match w {
        Waited::Exited(c) => format!("exited {c}"),
        Waited::Signaled(s) => format!("killed by {}", signal_text(*s)),
        Waited::Errno(e) => errno_text(*e),
    }
}

fn wait_status_text(w: &WaitStatus) -> String {
    match w {
        WaitStatus::Exited(c) => format!("exited {c}"),
        WaitStatus::Signaled(s) => format!("killed by {}", s.as_str()),
        WaitStatus::Errno(e) => errno_text(*e as i32),
    }
}

/// Stable labels for run-specific numbers.
#[derive(Default)]
struct Labels {
    host_pids: BTreeMap<i64, usize>,
    ns: BTreeMap<(String, u64), usize>,
    ns_next: BTreeMap<String, usize>,
}

impl Labels {
    fn host_pid(&mut self, pid: i64) -> String {
        let n = self.host_pids.len() + 1;
        let n = *self.host_pids.entry(pid).or_insert(n);
        format!("host-pid#{n}")
    }

    /// A PID number that belongs to PID-namespace `level` (0: the harness's).
    fn pid(&mut self, pid: i64, level: usize) -> String {
        if level == 0 {
            self.host_pid(pid)
        } else {
            pid.to_string()
        }
    }

    fn ns(&mut self, kind: &str, inode: u64) -> String {
        let key = (kind.to_string(), inode);
        if let Some(n) = self.ns.get(&key) {
            return format!("{kind}#{n}");
        }
        let next = self.ns_next.entry(kind.to_string()).or_insert(0);
        *next += 1;
        let n = *next;
        self.ns.insert(key, n);
        format!("{kind}#{n}")
    }
}

/// How a step is written in records and messages: `kill(parent, SIGKILL)`; a `thread`'s own
/// steps begin with `[thread]`. Control characters a path may hold (a mount point with a
/// newline) are escaped: raw, they would break the record's lines, one step to a line.
pub fn describe(plan: &Plan, step: &StepPlan) -> String {
    let what = crate::catalogue::escape_controls(&describe_action(plan, step));
    if step.in_thread {
        format!("[thread] {what}")
    } else {
        what
    }
}

fn describe_action(plan: &Plan, step: &StepPlan) -> String {
    let kinds =
        |k: &[crate::schema::NsKind]| k.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ");
    match &step.action {
        Action::Getpid { .. } => "getpid()".into(),
        Action::Getppid { .. } => "getppid()".into(),
        Action::Getpgid { .. } => "getpgid()".into(),
        Action::Getsid { .. } => "getsid()".into(),
        Action::Setsid { .. } => "setsid()".into(),
        Action::Fork {
            child,
            kinds: k,
            set_tid,
            ..
        } if k.is_empty() && set_tid.is_empty() => {
            format!("fork({})", plan.procs[*child].name)
        }
        Action::Fork {
            child,
            kinds: k,
            set_tid,
            ..
        } => {
            let mut text = format!("clone({}", plan.procs[*child].name);
            if !k.is_empty() {
                text += &format!(": {}", kinds(k));
            }
            if !set_tid.is_empty() {
                let pids: Vec<String> = set_tid.iter().map(|p| p.to_string()).collect();
                text += &format!(", set_tid [{}]", pids.join(", "));
            }
            text + ")"
        }
        Action::Thread {
            take_over: true, ..
        } => "pthread_create() of a thread to take over, exit(2) of this one".into(),
        Action::Thread { inner: 0, .. } => "pthread_create()".into(),
        Action::Thread { inner: 1, .. } => {
            format!("pthread_create(), to run step {}", step.index + 1)
        }
        Action::Thread { inner, .. } => format!(
            "pthread_create(), to run steps {}-{}",
            step.index + 1,
            step.index + inner
        ),
        Action::Enter {
            child,
            label,
            kinds: k,
            pidfd,
            ..
        } => {
            format!(
                "enter({}: {}{}) as {}",
                label,
                kinds(k),
                if *pidfd { " via pidfd" } else { "" },
                plan.procs[*child].name
            )
        }
        Action::Setns {
            label,
            kinds: k,
            pidfd,
            ..
        } => format!(
            "setns({}: {}{})",
            label,
            kinds(k),
            if *pidfd { " via pidfd" } else { "" }
        ),
        Action::Exit { code } => format!("exit({code})"),
        Action::Kill { label, signal, .. } => {
            format!("kill({label}, {})", sent(signal))
        }
        Action::KillAll { signal, .. } => format!("kill(-1, {})", sent(signal)),
        Action::KillGroup {
            target: None,
            signal,
            ..
        } => format!("kill(0, {})", sent(signal)),
        Action::KillGroup { label, signal, .. } => {
            format!("kill(-{label}, {})", sent(signal))
        }
        Action::PidfdOpen { label, handle, .. } => {
            format!("pidfd_open({label}) as {}", plan.handles[*handle].name)
        }
        Action::PidfdNs {
            handle,
            kind,
            for_children,
            ..
        } => format!(
            "ioctl(pidfd {}, PIDFD_GET_{}_NAMESPACE)",
            plan.handles[*handle].name,
            match (kind, for_children) {
                (NsKind::Pid, true) => "PID_FOR_CHILDREN".to_string(),
                (NsKind::Time, true) => "TIME_FOR_CHILDREN".to_string(),
                (NsKind::Mount, _) => "MNT".to_string(),
                (k, _) => k.name().to_uppercase(),
            }
        ),
        Action::PidfdSignal { handle, signal, .. } => format!(
            "pidfd_send_signal({}, {})",
            plan.handles[*handle].name,
            sent(signal)
        ),
        Action::Wait { target, .. } => format!("wait({})", plan.procs[*target].name),
        Action::ListPids { .. } => "list_pids()".into(),
        Action::Nspid { .. } => "nspid()".into(),
        Action::PidfdFdinfo { handle, .. } => {
            format!("pidfd_fdinfo({})", plan.handles[*handle].name)
        }
        Action::Visible { label, .. } => format!("visible({label})"),
        Action::MountProc {
            target, options, ..
        } => match options.as_str() {
            "" => format!("mount_proc({target})"),
            o => format!("mount_proc({target}, {o})"),
        },
        Action::Unshare { kinds: k, .. } => format!("unshare({})", kinds(k)),
        Action::NestPid { depth, .. } => format!("nest_pid({depth})"),
        Action::Sethostname { name, .. } => format!("sethostname({name:?})"),
        Action::Gethostname { .. } => "gethostname()".into(),
        Action::Getuid { .. } => "getuid()".into(),
        Action::Getgid { .. } => "getgid()".into(),
        Action::Read { path, of: None, .. } => format!("read({path})"),
        Action::Read {
            path, of: Some(t), ..
        } => format!("read(/proc/{}/{path})", plan.procs[*t].name),
        Action::Write { path, content, .. } => format!("write({path}, {content:?})"),
        Action::WriteChild {
            child,
            file,
            content,
            ..
        } => format!(
            "write(/proc/{}/{file}, {content:?})",
            plan.procs[*child].name
        ),
        Action::HasCap { name, .. } => format!("has_cap({name})"),
        Action::DropCaps => "drop_caps()".into(),
        Action::SetIds {
            uid,
            gid,
            keep_groups,
            ..
        } => format!(
            "set_ids(uid {uid}, gid {gid}{})",
            if *keep_groups { ", groups kept" } else { "" }
        ),
        Action::MountTmpfs { target, dirs, .. } if dirs.is_empty() => {
            format!("mount_tmpfs({target})")
        }
        Action::MountTmpfs { target, dirs, .. } => {
            format!("mount_tmpfs({target}, dirs: {})", dirs.join(" "))
        }
        Action::Chroot { path, .. } => format!("chroot({path})"),
        Action::Crash { how } => format!("crash({how:?})").to_lowercase(),
        Action::ForkBomb { .. } => "fork_bomb()".into(),
        Action::Umount { target, lazy, .. } => {
            format!("umount({target}{})", if *lazy { ", lazy" } else { "" })
        }
        Action::SetPdeathsig { signal } => format!("set_pdeathsig({})", signal.as_str()),
        Action::SetDumpable { dumpable, .. } => format!("set_dumpable({})", u8::from(*dumpable)),
        Action::SetSubreaper { subreaper, .. } => {
            format!("set_subreaper({})", u8::from(*subreaper))
        }
        Action::Catch { signal, .. } => format!("catch({})", signal.as_str()),
        Action::Caught { signal, .. } => format!("caught({})", signal.as_str()),
        Action::Notify { event } => format!("notify({})", plan.events[*event].name),
        Action::Await { event } => format!("await({})", plan.events[*event].name),
        Action::Sleep { ms } => format!("sleep({ms}ms)"),
        Action::Pause => "pause()".into(),
        Action::SysvGet {
            object,
            key,
            create,
            ..
        } => {
            let call = match object {
                SysvKind::Shm => "shmget",
                SysvKind::Msg => "msgget",
                SysvKind::Sem => "semget",
            };
            format!(
                "{call}({key:#x}{})",
                if *create { ", IPC_CREAT|IPC_EXCL" } else { "" }
            )
        }
        Action::MqOpen { name, create, .. } => format!(
            "mq_open({name}{})",
            if *create { ", O_CREAT|O_EXCL" } else { "" }
        ),
        Action::Links { .. } => "links()".into(),
        Action::LinkUp { name, .. } => format!("link_up({name})"),
        Action::Bind { socket, addr, .. } => format!("bind({}, {addr})", socket_name(*socket)),
        Action::Connect { socket, addr, .. } => {
            format!("connect({}, {addr})", socket_name(*socket))
        }
        Action::Cgroup { label, .. } => format!("cgroup({label})"),
        Action::MountCgroup { target, .. } => format!("mount_cgroup({target})"),
        Action::Subdirs { path, .. } => format!("subdirs({path})"),
        Action::BindMount {
            source,
            target,
            recursive,
            ..
        } => format!(
            "bind_mount({source}, {target}{})",
            if *recursive { ", MS_REC" } else { "" }
        ),
        Action::Propagation {
            target,
            kind,
            recursive,
            ..
        } => format!(
            "propagation({target}, {}{})",
            kind.name(),
            if *recursive { ", MS_REC" } else { "" }
        ),
        Action::Mounts { under, .. } => format!("mounts({under})"),
        Action::CgroupEnter { path, .. } => format!("cgroup_enter({path})"),
        Action::Clock { clock, shift, .. } => {
            let name = match clock {
                ClockKind::Monotonic => "CLOCK_MONOTONIC",
                ClockKind::Boottime => "CLOCK_BOOTTIME",
                ClockKind::Realtime => "CLOCK_REALTIME",
                ClockKind::Uptime => "/proc/uptime",
            };
            if *shift == 0 {
                format!("clock({name} = the harness's)")
            } else {
                format!("clock({name} = the harness's {shift:+} s)")
            }
        }
        Action::Ns {
            kind, for_children, ..
        } => format!("ns({})", kind.ns_file(*for_children)),
        Action::NsIoctl {
            label,
            kind,
            for_children,
            request,
            arg,
            ..
        } => format!(
            "ioctl({}{}, {}{})",
            if label == "self" {
                String::new()
            } else {
                format!("{label}: ")
            },
            kind.ns_file(*for_children),
            request.name(),
            arg.map(|a| format!(", {a}")).unwrap_or_default()
        ),
    }
}

/// A CLONE_NEW* flag as NS_GET_NSTYPE returns it: `CLONE_NEWPID`.
fn nstype_text(flag: i32) -> String {
    match NsKind::ALL.into_iter().find(|k| k.clone_flag() == flag) {
        Some(NsKind::Mount) => "CLONE_NEWNS".into(),
        Some(k) => format!("CLONE_NEW{}", k.name().to_uppercase()),
        None => format!("{flag:#x}"),
    }
}

/// An `ns_ioctl` expectation as failure messages show it.
fn ns_ioctl_expect_text(e: &NsIoctlExpect) -> String {
    match e {
        NsIoctlExpect::Harness => "the harness's".into(),
        NsIoctlExpect::New => "a namespace other than the harness's".into(),
        NsIoctlExpect::Uid(u) => u.to_string(),
        NsIoctlExpect::Nstype(k) => nstype_text(k.clone_flag()),
        NsIoctlExpect::Pid(p) => p.to_string(),
        NsIoctlExpect::Errno(e) => errno_text(*e as i32),
    }
}

fn socket_name(s: SocketKind) -> &'static str {
    match s {
        SocketKind::Tcp => "tcp",
        SocketKind::Udp => "udp",
        SocketKind::Unix => "unix",
    }
}

/// How a `cgroup` step's path is recorded: relative paths (inside a cgroup namespace of the
/// scenario) as they are; absolute ones below the scenario's cgroup as `<scenario>/…`; any
/// other absolute path is the host's and not recorded.
fn cgroup_text(path: &str, harness_ns: bool, scenario: Option<&str>) -> String {
    if !harness_ns {
        return format!("{path:?}");
    }
    match scenario.and_then(|s| path.strip_prefix(s)) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            format!("\"{}{rest}\"", crate::plan::SCENARIO_CGROUP)
        }
        _ => "(a cgroup of the host, outside the scenario's: not recorded)".into(),
    }
}

/// Renders one observation of a step (already normalised).
fn obs_text(labels: &mut Labels, run: &RunOutput, obs: &Obs) -> String {
    match obs {
        Obs::Started { .. } => "started".into(),
        Obs::Value(v) => v.to_string(),
        Obs::Translated { pid, harness } => {
            if *harness {
                labels.host_pid(*pid)
            } else {
                pid.to_string()
            }
        }
        Obs::Forked { pid, level } => format!("pid {}", labels.pid(*pid, *level)),
        Obs::Thread { tid, level } => format!("tid {}", labels.pid(*tid, *level)),
        Obs::Result(r) => res_text(r),
        Obs::Targeted { pid, level, res } => {
            format!("pid {}: {}", labels.pid(*pid, *level), res_text(res))
        }
        Obs::Waited(w) => waited_text(w),
        Obs::Pids { level: Some(0), .. } => "(the harness's own /proc: not listed)".into(),
        Obs::Pids { pids, .. } => format!("{pids:?}"),
        Obs::Caught { level, pids, more } => {
            // 0 is a sender outside the receiver's PID namespace, not a PID.
            let shown: Vec<String> = pids
                .iter()
                .map(|p| match p {
                    0 => "0".to_string(),
                    p => labels.pid(*p, *level),
                })
                .collect();
            match more {
                0 => format!("[{}]", shown.join(", ")),
                n => format!("[{}] and {n} more", shown.join(", ")),
            }
        }
        Obs::Fdinfo { pids, .. } if pids[..] == [0] => {
            "Pid 0 (not in the /proc's PID namespace or below it)".into()
        }
        Obs::Fdinfo { pids, .. } if pids[..] == [-1] => "Pid -1 (reaped)".into(),
        Obs::Fdinfo { level, pids } | Obs::Nspid { level, pids } => {
            let shown: Vec<String> = pids
                .iter()
                .enumerate()
                .map(|(i, p)| labels.pid(*p, level + i))
                .collect();
            format!("NSpid {}", shown.join(" "))
        }
        Obs::Visible {
            pid,
            level,
            visible,
        } => {
            format!(
                "pid {}: {}",
                labels.pid(*pid, *level),
                if *visible { "visible" } else { "not visible" }
            )
        }
        Obs::Nest {
            level,
            created,
            errno,
        } => {
            let mut s = format!("created {created}, deepest level {level}");
            if let Some(e) = errno {
                write!(
                    s,
                    "; the next unshare(CLONE_NEWPID) failed: {}",
                    errno_text(*e)
                )
                .unwrap();
            }
            s
        }
        Obs::Hostname(h) => {
            if *h == run.before.hostname {
                "(the harness's hostname)".into()
            } else {
                format!("{h:?}")
            }
        }
        Obs::Text { text, cut: false } => format!("{text:?}"),
        Obs::Text { text, cut: true } => format!(
            "{text:?} (cut: the file is longer than the {} bytes read)",
            crate::executor::MAX_TEXT
        ),
        Obs::Flag(b) => b.to_string(),
        Obs::Names(n) => format!("{n:?}"),
        Obs::Mounts(m) => {
            // Peer-group numbers are the kernel's, different on every run: labelled like
            // namespaces, in order of appearance (`peer#1`).
            let shown: Vec<String> = m
                .iter()
                .map(|m| {
                    let mut tags = Vec::new();
                    if let Some(g) = m.shared {
                        tags.push(format!("shared:{}", labels.ns("peer", g)));
                    }
                    if let Some(g) = m.master {
                        tags.push(format!("master:{}", labels.ns("peer", g)));
                    }
                    if m.unbindable {
                        tags.push("unbindable".into());
                    }
                    if tags.is_empty() {
                        tags.push("private".into());
                    }
                    format!("{} {} {}", m.shown_point(), m.fstype, tags.join(" "))
                })
                .collect();
            format!("{shown:?}")
        }
        Obs::Links(None) => "(the harness's network namespace: not listed)".into(),
        Obs::Links(Some(l)) => format!("{l:?}"),
        Obs::Cgroup {
            path,
            harness_ns,
            scenario,
        } => cgroup_text(path, *harness_ns, scenario.as_deref()),
        Obs::Clock { matches, .. } => matches.to_string(),
        Obs::Ns {
            kind,
            inode,
            harness,
        } => {
            if *harness {
                "the harness's".into()
            } else {
                labels.ns(kind, *inode)
            }
        }
        Obs::Nstype(flag) => nstype_text(*flag),
        Obs::Failed(m) => format!("HARNESS ERROR: {m}"),
    }
}

/// Checks one step's observation against its expectation; `Err` carries "expected …, observed …".
fn check(labels: &mut Labels, run: &RunOutput, step: &StepPlan, obs: &Obs) -> Result<(), String> {
    let mismatch = |expected: String, labels: &mut Labels| {
        Err(format!(
            "expected {expected}, observed {}",
            obs_text(labels, run, obs)
        ))
    };
    if let Obs::Failed(m) = obs {
        return Err(format!("the harness could not carry out the step: {m}"));
    }
    let outcome_ok = |o: &Outcome, r: &Res| match (o, r) {
        (Outcome::Ok, Res::Ok) => true,
        (Outcome::Errno(e), Res::Errno(got)) => *e as i32 == *got,
        _ => false,
    };
    match (&step.action, obs) {
        (
            Action::Getpid { expect: Some(e) }
            | Action::Getppid { expect: Some(e) }
            | Action::Getpgid { expect: Some(e) }
            | Action::Getsid { expect: Some(e) }
            | Action::Getuid { expect: Some(e) }
            | Action::Getgid { expect: Some(e) },
            Obs::Value(v),
        ) if e != v => mismatch(e.to_string(), labels),
        (
            Action::Read {
                expect: Some(e), ..
            },
            o,
        ) => match (e, o) {
            // Only the file's start was read: however it compares, the rest is unknown.
            // (The text itself is in the record: a message of 2 KiB would bury the reason.)
            (ReadExpect::Text(_), Obs::Text { cut: true, .. }) => Err(format!(
                "the file is longer than the {} bytes a `read` takes: only its start was read, \
                 which cannot be compared with an expected content",
                crate::executor::MAX_TEXT
            )),
            (ReadExpect::Text(e), Obs::Text { text, .. }) if text == e => Ok(()),
            (ReadExpect::Errno(e), Obs::Result(Res::Errno(got))) if *e as i32 == *got => Ok(()),
            (ReadExpect::Text(e), _) => mismatch(format!("{e:?}"), labels),
            (ReadExpect::Errno(e), _) => mismatch(outcome_text(&Outcome::Errno(*e)), labels),
        },
        (
            Action::HasCap {
                expect: Some(e), ..
            },
            o,
        ) if !matches!(o, Obs::Flag(b) if b == e) => mismatch(e.to_string(), labels),
        (
            Action::Write { expect, .. }
            | Action::WriteChild { expect, .. }
            | Action::SysvGet { expect, .. }
            | Action::MqOpen { expect, .. }
            | Action::LinkUp { expect, .. }
            | Action::Bind { expect, .. }
            | Action::Connect { expect, .. }
            | Action::CgroupEnter { expect, .. }
            | Action::MountCgroup { expect, .. }
            | Action::KillAll { expect, .. }
            | Action::PidfdSignal { expect, .. }
            | Action::KillGroup {
                target: None,
                expect,
                ..
            }
            | Action::Setsid { expect }
            | Action::BindMount { expect, .. }
            | Action::Propagation { expect, .. },
            Obs::Result(r),
        ) if !outcome_ok(expect, r) => mismatch(outcome_text(expect), labels),
        (
            Action::Subdirs {
                expect: Some(e), ..
            },
            o,
        ) if !matches!(o, Obs::Names(n) if n == e) => mismatch(format!("{e:?}"), labels),
        (
            Action::Mounts {
                expect: Some(e), ..
            },
            o,
        ) if !matches!(o, Obs::Mounts(m) if *e == m.iter().map(|m| m.entry()).collect::<Vec<_>>()) => {
            mismatch(format!("{e:?}"), labels)
        }
        (
            Action::Links {
                expect: Some(e), ..
            },
            o,
        ) if !matches!(o, Obs::Links(Some(l)) if l == e) => mismatch(format!("{e:?}"), labels),
        (
            Action::Cgroup {
                expect: Some(e), ..
            },
            o,
        ) if !matches!(o, Obs::Cgroup { path, harness_ns, scenario }
                if cgroup_text(path, *harness_ns, scenario.as_deref()) == format!("{e:?}")) =>
        {
            mismatch(format!("{e:?}"), labels)
        }
        (
            Action::Clock {
                clock,
                expect: Some(e),
                ..
            },
            o,
        ) => match o {
            Obs::Clock { matches, .. } if matches == e => Ok(()),
            Obs::Clock { matches, off_ms } if *clock == ClockKind::Realtime => Err(format!(
                "expected {e}, observed {matches} ({})",
                if *matches {
                    "it reads within the scenario's time window".to_string()
                } else if *off_ms < 0 {
                    format!("it reads {} ms behind the harness's clock", -off_ms)
                } else {
                    format!("off by {off_ms} ms beyond the scenario's time window")
                }
            )),
            Obs::Clock { off_ms, .. } => Err(format!(
                "expected {e}, observed {} (it reads the harness's clock shifted by `shift` \
                 {off_ms:+} ms)",
                !e
            )),
            _ => mismatch(e.to_string(), labels),
        },
        (
            Action::Ns {
                expect: Some(e), ..
            },
            o,
        ) => match (e, o) {
            (NsIs::Harness, Obs::Ns { harness: true, .. })
            | (NsIs::New, Obs::Ns { harness: false, .. }) => Ok(()),
            (NsIs::Harness, _) => mismatch("the harness's".into(), labels),
            (NsIs::New, _) => mismatch("a namespace other than the harness's".into(), labels),
        },
        (
            Action::NsIoctl {
                expect: Some(e), ..
            }
            | Action::PidfdNs {
                expect: Some(e), ..
            },
            o,
        ) => {
            let fits = match (e, o) {
                (NsIoctlExpect::Harness, Obs::Ns { harness, .. }) => *harness,
                (NsIoctlExpect::New, Obs::Ns { harness, .. }) => !*harness,
                (NsIoctlExpect::Uid(u), Obs::Value(v)) => i64::from(*u) == *v,
                (NsIoctlExpect::Nstype(k), Obs::Nstype(f)) => k.clone_flag() == *f,
                // A host PID is never what a scenario expects: `…_IN_PIDNS` on a file of the
                // harness's namespace answers one, as does any translation where an `unshare`
                // left a process shallower than planned.
                (NsIoctlExpect::Pid(p), Obs::Translated { pid, harness }) => {
                    !*harness && i64::from(*p) == *pid
                }
                (NsIoctlExpect::Errno(e), Obs::Result(Res::Errno(got))) => *e as i32 == *got,
                _ => false,
            };
            if fits {
                Ok(())
            } else {
                mismatch(ns_ioctl_expect_text(e), labels)
            }
        }
        (Action::Fork { expect, pid, .. }, o) => match (expect, o) {
            (Outcome::Ok, Obs::Forked { pid: got, .. }) => match pid {
                Some(p) if p != got => mismatch(format!("pid {p}"), labels),
                _ => Ok(()),
            },
            (Outcome::Errno(e), Obs::Result(Res::Errno(got))) if *e as i32 == *got => Ok(()),
            (e, _) => mismatch(outcome_text(e), labels),
        },
        (Action::Thread { expect, tid, .. }, o) => match (expect, o) {
            (Outcome::Ok, Obs::Thread { tid: got, .. }) => match tid {
                Some(t) if t != got => mismatch(format!("tid {t}"), labels),
                _ => Ok(()),
            },
            (Outcome::Errno(e), Obs::Result(Res::Errno(got))) if *e as i32 == *got => Ok(()),
            (e, _) => mismatch(outcome_text(e), labels),
        },
        (Action::Enter { expect, .. }, o) => match (expect, o) {
            (Outcome::Ok, Obs::Forked { .. }) => Ok(()),
            (Outcome::Errno(e), Obs::Result(Res::Errno(got))) if *e as i32 == *got => Ok(()),
            (e, _) => mismatch(outcome_text(e), labels),
        },
        (
            Action::Kill { expect, .. }
            | Action::PidfdOpen { expect, .. }
            | Action::KillGroup { expect, .. },
            Obs::Targeted { res, .. },
        ) if !outcome_ok(expect, res) => mismatch(outcome_text(expect), labels),
        (
            Action::MountProc { expect, .. }
            | Action::MountTmpfs { expect, .. }
            | Action::Chroot { expect, .. }
            | Action::ForkBomb { expect }
            | Action::Umount { expect, .. }
            | Action::Unshare { expect, .. }
            | Action::Setns { expect, .. }
            | Action::SetDumpable { expect, .. }
            | Action::SetSubreaper { expect, .. }
            | Action::SetIds { expect, .. }
            | Action::Catch { expect, .. }
            | Action::Sethostname { expect, .. },
            Obs::Result(r),
        ) if !outcome_ok(expect, r) => mismatch(outcome_text(expect), labels),
        (
            Action::SetPdeathsig { .. }
            | Action::DropCaps
            | Action::Notify { .. }
            | Action::Await { .. }
            | Action::Sleep { .. },
            Obs::Result(r),
        ) if *r != Res::Ok => mismatch("ok".into(), labels),
        (
            Action::Wait {
                expect: Some(w), ..
            },
            Obs::Waited(got),
        ) => {
            let same = match (w, got) {
                (WaitStatus::Exited(a), Waited::Exited(b)) => a == b,
                (WaitStatus::Signaled(a), Waited::Signaled(b)) => *a as i32 == *b,
                (WaitStatus::Errno(a), Waited::Errno(b)) => *a as i32 == *b,
                _ => false,
            };
            if same {
                Ok(())
            } else {
                mismatch(wait_status_text(w), labels)
            }
        }
        (Action::ListPids { expect: Some(e) }, Obs::Pids { pids, level })
            if e != pids || *level == Some(0) =>
        {
            mismatch(format!("{e:?}"), labels)
        }
        (
            Action::Nspid {
                expect: Some(pattern),
            },
            Obs::Nspid { pids, .. },
        )
        | (
            Action::PidfdFdinfo {
                expect: Some(pattern),
                ..
            },
            Obs::Fdinfo { pids, .. },
        ) => {
            // `*` stands for a PID: not for fdinfo's 0 (outside) or -1 (reaped).
            let fits = pattern.len() == pids.len()
                && pattern
                    .iter()
                    .zip(pids)
                    .all(|(p, got)| p.map_or(*got > 0, |p| p == *got));
            if fits {
                Ok(())
            } else {
                mismatch(nspid_text(pattern), labels)
            }
        }
        (
            Action::Visible {
                expect: Some(e), ..
            },
            Obs::Visible { visible, .. },
        ) if e != visible => mismatch(if *e { "visible" } else { "not visible" }.into(), labels),
        (
            Action::NestPid {
                expect: Some((level, errno)),
                ..
            },
            Obs::Nest {
                level: got,
                errno: got_e,
                ..
            },
        ) => {
            let same = *level == *got as i64 && errno.map(|e| e as i32) == *got_e;
            let mut want = format!("deepest level {level}");
            if let Some(e) = errno {
                write!(
                    want,
                    "; the next unshare(CLONE_NEWPID) failed: {}",
                    errno_text(*e as i32)
                )
                .unwrap();
            }
            if same { Ok(()) } else { mismatch(want, labels) }
        }
        (
            Action::NestPid {
                expect: Some((level, _)),
                ..
            },
            o,
        ) if !matches!(o, Obs::Nest { .. }) => mismatch(format!("deepest level {level}"), labels),
        (Action::Gethostname { expect: Some(e) }, Obs::Hostname(h)) if e != h => {
            mismatch(format!("{e:?}"), labels)
        }
        (
            Action::Caught {
                expect: Some(e), ..
            },
            o,
        ) if !matches!(o, Obs::Caught { pids, more: 0, .. } if pids == e) => {
            mismatch(format!("{e:?}"), labels)
        }
        // An expectation whose observation has another shape, e.g. an errno where a value was due
        // (a `list_pids` after a chroot without /proc): a failure, never a silent pass.
        (
            Action::Getpid { expect: Some(e) }
            | Action::Getppid { expect: Some(e) }
            | Action::Getpgid { expect: Some(e) }
            | Action::Getsid { expect: Some(e) }
            | Action::Getuid { expect: Some(e) }
            | Action::Getgid { expect: Some(e) },
            o,
        ) if !matches!(o, Obs::Value(_)) => mismatch(e.to_string(), labels),
        (Action::ListPids { expect: Some(e) }, o) if !matches!(o, Obs::Pids { .. }) => {
            mismatch(format!("{e:?}"), labels)
        }
        (Action::Nspid { expect: Some(p) }, o) if !matches!(o, Obs::Nspid { .. }) => {
            mismatch(nspid_text(p), labels)
        }
        (
            Action::PidfdFdinfo {
                expect: Some(p), ..
            },
            o,
        ) if !matches!(o, Obs::Fdinfo { .. }) => mismatch(nspid_text(p), labels),
        (
            Action::Visible {
                expect: Some(e), ..
            },
            o,
        ) if !matches!(o, Obs::Visible { .. }) => {
            mismatch(if *e { "visible" } else { "not visible" }.into(), labels)
        }
        (Action::Gethostname { expect: Some(e) }, o) if !matches!(o, Obs::Hostname(_)) => {
            mismatch(format!("{e:?}"), labels)
        }
        (
            Action::Wait {
                expect: Some(w), ..
            },
            o,
        ) if !matches!(o, Obs::Waited(_)) => mismatch(wait_status_text(w), labels),
        (
            Action::Kill { expect, .. }
            | Action::PidfdOpen { expect, .. }
            | Action::KillGroup {
                target: Some(_),
                expect,
                ..
            },
            o,
        ) if !matches!(o, Obs::Targeted { .. }) => mismatch(outcome_text(expect), labels),
        _ => Ok(()),
    }
}

/// An NSpid pattern as a failure message shows it: `NSpid * 1` (fdinfo's lone 0 and -1 as
/// `Pid 0`, `Pid -1`).
fn nspid_text(pattern: &[Option<i64>]) -> String {
    if let [Some(n @ (0 | -1))] = pattern {
        return format!("Pid {n}");
    }
    let want: Vec<String> = pattern
        .iter()
        .map(|p| p.map_or("*".to_string(), |p| p.to_string()))
        .collect();
    format!("NSpid {}", want.join(" "))
}

/// Whether a step carries an expectation that a missing observation violates.
fn expects_something(step: &StepPlan) -> bool {
    match &step.action {
        Action::Getpid { expect }
        | Action::Getppid { expect }
        | Action::Getpgid { expect }
        | Action::Getsid { expect } => expect.is_some(),
        Action::Wait { expect, .. } => expect.is_some(),
        Action::ListPids { expect } => expect.is_some(),
        Action::Nspid { expect } | Action::PidfdFdinfo { expect, .. } => expect.is_some(),
        Action::Caught { expect, .. } => expect.is_some(),
        Action::Visible { expect, .. } => expect.is_some(),
        Action::NestPid { expect, .. } => expect.is_some(),
        Action::Gethostname { expect } => expect.is_some(),
        Action::Getuid { expect } | Action::Getgid { expect } => expect.is_some(),
        Action::Read { expect, .. } => expect.is_some(),
        Action::HasCap { expect, .. } => expect.is_some(),
        Action::Links { expect } => expect.is_some(),
        Action::Subdirs { expect, .. } => expect.is_some(),
        Action::Mounts { expect, .. } => expect.is_some(),
        Action::Cgroup { expect, .. } => expect.is_some(),
        Action::Clock { expect, .. } => expect.is_some(),
        Action::Ns { expect, .. } => expect.is_some(),
        Action::NsIoctl { expect, .. } | Action::PidfdNs { expect, .. } => expect.is_some(),
        Action::Exit { .. } | Action::Pause | Action::Sleep { .. } => false,
        _ => true,
    }
}

/// Whether process `p` is in init's PID namespace, which init created, init ended without a
/// step waiting for `p`, no step signalled `p`, and no `wait` for `p` saw it end otherwise
/// than by SIGKILL (a crash its parent reaped: then `p` ended by itself; init's end kills
/// with SIGKILL, which a `wait` outside the namespace, the host's, can see): then the
/// kernel killed `p` when init ended.
fn killed_with_init(plan: &Plan, run: &RunOutput, p: usize) -> bool {
    let seen_ending = run.records.iter().any(|r| {
        (matches!(r.obs, Obs::Waited(Waited::Exited(_)))
            || matches!(r.obs, Obs::Waited(Waited::Signaled(s)) if s != libc::SIGKILL))
            && plan.procs[r.proc]
                .steps
                .get(r.step.wrapping_sub(1))
                .is_some_and(|s| matches!(s.action, Action::Wait { target, .. } if target == p))
    });
    if seen_ending {
        return false;
    }
    use crate::plan::Who;
    let init = &plan.procs[0];
    let signalled = plan
        .procs
        .iter()
        .flat_map(|q| &q.steps)
        .filter(|s| s.action.sent_signal().is_some())
        .any(|s| match s.action {
            Action::KillAll { .. } | Action::KillGroup { .. } => true,
            Action::Kill {
                target: Who::Proc(t),
                ..
            } => t == p,
            Action::PidfdSignal { handle, .. } => plan.handles[handle].target == Who::Proc(p),
            _ => false,
        });
    p != 0
        && plan.namespaces.contains(&NsKind::Pid)
        && plan.procs[p].pidns.last() == init.pidns.last()
        && run.exits.iter().any(|(e, _)| *e == 0)
        && !signalled
        && !init
            .steps
            .iter()
            .any(|s| matches!(s.action, Action::Wait { target, .. } if target == p))
}

/// The namespaces a process's creation made: init's are the scenario's `namespaces`, a forked
/// child's its `fork`'s (`None`: not forked by a `fork` step; an `enter`ed process and the host
/// process join existing ones).
fn created_by_fork(plan: &Plan, proc: usize) -> Option<Vec<NsKind>> {
    if proc == 0 {
        return Some(plan.namespaces.clone());
    }
    plan.procs
        .iter()
        .flat_map(|p| &p.steps)
        .find_map(|s| match &s.action {
            Action::Fork { child, kinds, .. } if *child == proc => Some(kinds.clone()),
            _ => None,
        })
}

/// The records with each namespace inode that the kernel gave to a second namespace during the
/// run made distinct, so that the two get different labels.
///
/// A namespace's inode number (proc_alloc_inum(), an IDA: the lowest free number) goes back to
/// the kernel when the namespace is freed, and the next namespace created — of any kind — gets
/// it: a scenario whose process leaves a namespace that then dies, and later creates another,
/// would otherwise see the second labelled as the first. A creation is an `unshare` (the
/// record's `born`) or a process's start in new namespaces (for `pid` see below); when it
/// yields an inode seen before, the number names a new namespace from then on, in the order
/// the records arrived (each process writes its record as soon as its step returns).
/// Namespaces are labelled in the record's order, not this one, so the labels' numbers stay
/// what they were.
///
/// A process observes its own namespaces while it holds them, so its records cannot be
/// overtaken by the namespace's end and a rebirth; only an observation of another process's
/// namespace (`pidfd_ns`, `ns_ioctl`) racing with that process's `unshare`, unordered by the
/// scenario, could be attributed to the namespace before it.
fn tell_reused_apart(plan: &Plan, run: &RunOutput) -> Vec<Record> {
    // nsfs inode numbers are 32-bit (an unsigned int in struct ns_common), so a rebirth count
    // above them cannot make two keys meet.
    let key = |inode: u64, rebirths: u64| inode + (rebirths << 32);
    let mut seen: BTreeSet<(String, u64)> = run
        .supervisor_ns
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    let mut rebirths: BTreeMap<(String, u64), u64> = BTreeMap::new();
    // The planned PID namespaces (`ProcPlan::pidns`) a process has started in, and each
    // process's own PID namespace as its start recorded it.
    let mut pidns_started = BTreeSet::new();
    let mut own_pidns: BTreeMap<usize, u64> = BTreeMap::new();
    // PID namespaces an `unshare` recorded (through a pidfd, Linux 6.11) that have had no
    // process yet: their first one's start is not a second creation.
    let mut unshared_pidns: BTreeSet<u64> = BTreeSet::new();
    let pid = NsKind::Pid.name();
    let mut out = Vec::with_capacity(run.records.len());
    for r in &run.records {
        // By kind: a `fork` with `pid` among its `namespaces` meets both rules below.
        let mut born = r.born.clone();
        unshared_pidns.extend(born.get(pid));
        if let (0, Obs::Started { ns, .. }) = (r.step, &r.obs)
            && let Some(me) = plan.procs.get(r.proc)
        {
            let forked = created_by_fork(plan, r.proc);
            for k in forked.iter().flatten() {
                if let Some(inode) = ns.get(k.name()) {
                    born.insert(k.name().to_string(), *inode);
                }
            }
            // A PID namespace made by `unshare` is visible only from its init on, where its
            // `unshare` could not record it (before Linux 6.11, see the executor): there it
            // is born with the first process forked into it, one in a PID namespace that is
            // not its parent's (which it is after an `unshare` that failed).
            let planned = me.pidns.last().copied();
            let theirs = me.parent.and_then(|p| own_pidns.get(&p));
            if let (Some(_), Some(inode), Some(planned)) = (&forked, ns.get(pid), planned)
                && !pidns_started.contains(&planned)
                && theirs.is_some_and(|t| t != inode)
                && !unshared_pidns.remove(inode)
            {
                born.insert(pid.to_string(), *inode);
            }
            pidns_started.extend(planned);
            if let Some(inode) = ns.get(pid) {
                own_pidns.insert(r.proc, *inode);
            }
        }
        for (k, inode) in born {
            let id = (k, inode);
            if !seen.insert(id.clone()) {
                *rebirths.entry(id).or_insert(0) += 1;
            }
        }
        let mut rekey = |kind: &str, inode: &mut u64| {
            let id = (kind.to_string(), *inode);
            let n = rebirths.get(&id).copied().unwrap_or(0);
            seen.insert(id);
            *inode = key(*inode, n);
        };
        let mut r = r.clone();
        match &mut r.obs {
            Obs::Started { ns, .. } => ns.iter_mut().for_each(|(k, v)| rekey(k, v)),
            Obs::Ns { kind, inode, .. } => rekey(kind, inode),
            _ => {}
        }
        out.push(r);
    }
    out
}

/// Whether a step may have SIGKILLed process `i` (a host process without steps, in the
/// supervisor's process group and outside every PID namespace of the scenario): a `kill` of it,
/// a `pidfd_signal` through a pidfd of it, or a group kill, that did not fail (one that failed
/// reached nobody; one not run neither). kill(-1) runs only inside a PID namespace of the
/// scenario, which the host is not in; any other signal would not end it as SIGKILL.
fn signalled_by_a_step(
    plan: &Plan,
    by_proc: &BTreeMap<usize, BTreeMap<usize, &Record>>,
    i: usize,
) -> bool {
    plan.procs.iter().enumerate().any(|(p, proc)| {
        proc.steps.iter().any(|s| {
            let may_reach = s.action.sent_signal() == Some(Signal::SIGKILL)
                && match &s.action {
                    Action::Kill {
                        target: Who::Proc(j),
                        ..
                    } => *j == i,
                    Action::PidfdSignal { handle, .. } => {
                        plan.handles[*handle].target == Who::Proc(i)
                    }
                    Action::KillGroup { .. } => true,
                    _ => false,
                };
            let result = by_proc
                .get(&p)
                .and_then(|m| m.get(&s.index))
                .map(|r| &r.obs);
            let failed = matches!(
                result,
                None | Some(
                    Obs::Result(Res::Errno(_))
                        | Obs::Targeted {
                            res: Res::Errno(_),
                            ..
                        }
                        | Obs::Failed(_)
                )
            );
            may_reach && !failed
        })
    })
}

/// Judges a run: returns the failure messages (empty: passed) and the normalised record.
pub fn evaluate(plan: &Plan, run: &RunOutput) -> (Vec<String>, String) {
    let mut failures = Vec::new();
    let mut labels = Labels::default();
    let mut rec = String::new();
    if let Some(e) = &run.error {
        failures.push(format!("{}: harness error: {e}", plan.source));
    }
    if let Some(change) = &run.host_mounts_changed {
        failures.push(format!(
            "{}: ISOLATION BREACH: the mount table of the process running nsspec changed \
             while the scenario ran: {change}",
            plan.source
        ));
    }
    if run.unheard {
        // Without a report any record would be made up: no step "never ran" that we know of.
        return (failures, String::new());
    }
    if let Some(t) = &run.timeout {
        // Located like a failed step, at the first unfinished one, so editors and CI
        // annotations can jump to it; without one (every process had ended its steps) the
        // scenario as a whole timed out.
        let at = t
            .in_steps
            .first()
            .map(|(p, s)| format!(":{}", plan.procs[*p].steps[*s - 1].line))
            .unwrap_or_default();
        let mut msg = format!(
            "{}{at}: timed out after {}s",
            plan.source,
            fmt_secs(t.after)
        );
        if t.after > plan.timeout {
            // Only `--jitter` makes the limit longer than the scenario's own.
            write!(
                msg,
                " (its {}s, and --jitter's longest stall for each of its steps)",
                fmt_secs(plan.timeout)
            )
            .unwrap();
        }
        let steps: Vec<String> = t
            .in_steps
            .iter()
            .map(|(p, s)| {
                let step = &plan.procs[*p].steps[*s - 1];
                format!(
                    "in step {s} of {} (line {}: `{}`)",
                    plan.procs[*p].name,
                    step.line,
                    describe(plan, step)
                )
            })
            .collect();
        if !steps.is_empty() {
            write!(msg, " {}", steps.join(", ")).unwrap();
        }
        failures.push(msg);
    }
    // After a timeout the message above names the unfinished steps; no need to list each again.
    let timed_out = run.timeout.is_some();
    let records = tell_reused_apart(plan, run);
    let mut by_proc: BTreeMap<usize, BTreeMap<usize, &Record>> = BTreeMap::new();
    for r in &records {
        by_proc.entry(r.proc).or_default().insert(r.step, r);
    }
    writeln!(rec, "scenario: {}", plan.id).unwrap();
    let ns: Vec<&str> = plan.namespaces.iter().map(|k| k.name()).collect();
    writeln!(rec, "namespaces: [{}]", ns.join(", ")).unwrap();
    writeln!(
        rec,
        "proc: {}",
        if plan.proc_fresh { "fresh" } else { "inherit" }
    )
    .unwrap();
    let empty = BTreeMap::new();
    for (i, p) in plan.procs.iter().enumerate() {
        let records = by_proc.get(&i).unwrap_or(&empty);
        let header = match records.get(&0).map(|r| &r.obs) {
            Some(Obs::Started { nspid, ns }) => {
                let pids: Vec<String> = nspid
                    .iter()
                    .enumerate()
                    .map(|(l, p)| labels.pid(*p, l))
                    .collect();
                let own: Vec<String> = ns
                    .iter()
                    .filter(|(k, v)| run.supervisor_ns.get(*k) != Some(v))
                    .map(|(k, v)| labels.ns(k, *v))
                    .collect();
                format!(
                    "NSpid {}; {}",
                    pids.join(" "),
                    if own.is_empty() {
                        "the harness's namespaces".to_string()
                    } else {
                        format!("namespaces {}", own.join(" "))
                    }
                )
            }
            Some(Obs::Failed(m)) => {
                failures.push(format!("{}: {}: {m}", plan.source, p.name));
                format!("HARNESS ERROR: {m}")
            }
            _ => {
                // Init or the host process, created and ended before it started (killed by
                // the OOM killer, say): nothing it was to do happened. (Another process
                // never started is its creator's step's failure.)
                // At the time limit nsspec's own kill can come first: the timeout says why.
                if run.error.is_none()
                    && run.timeout.is_none()
                    && let Some(w) = run.ended_unstarted(i)
                {
                    failures.push(format!(
                        "{}: {}: ended ({}) before it started",
                        plan.source,
                        p.name,
                        waited_text(w)
                    ));
                }
                "never started".into()
            }
        };
        writeln!(rec, "{}: {header}", p.name).unwrap();
        // The usual cause of a process's unfinished steps, which a scenario's author cannot
        // see in the record: init ended first, and the kernel killed the rest of its PID
        // namespace. Said once, on the process's first unfinished step.
        // A process never created says nothing of init: its creator's step says why.
        let mut why_stopped = if records.is_empty() {
            Some(format!(" (`{}` was never created)", p.name))
        } else {
            killed_with_init(plan, run, i).then(|| {
                format!(
                    " (init ended without waiting for `{0}`, and when a PID namespace's init \
                     ends the kernel kills every other process in it: let init `wait` for \
                     `{0}`, or `await` an event `{0}` notifies at its end)",
                    p.name
                )
            })
        };
        let mut stopped = false;
        // The line of a `crash` the process reached: the steps after it never ran.
        let mut crashed = None;
        // Whether the process is in the harness's PID namespace, as its start found it (an
        // `unshare` that failed leaves it shallower than planned).
        let in_harness_pidns = match records.get(&0).map(|r| &r.obs) {
            Some(Obs::Started { nspid, .. }) => nspid.len() == 1,
            _ => p.level() == 0,
        };
        // Steps of a `thread` that was not created: the process went on without them.
        let mut no_thread = 0;
        // A process whose set-up failed ran none of its steps: the failure above says why, and
        // its steps have nothing to add ("did not complete" would say the first one started).
        // So did init or the host process that ended before it started.
        let set_up_failed = matches!(records.get(&0).map(|r| &r.obs), Some(Obs::Failed(_)))
            || (run.error.is_none() && run.ended_unstarted(i).is_some());
        let steps: &[_] = if set_up_failed { &[] } else { &p.steps };
        for step in steps {
            let what = describe(plan, step);
            if no_thread > 0 && step.in_thread && !stopped {
                no_thread -= 1;
                writeln!(rec, "  {}. {what} -> not run (no thread)", step.index).unwrap();
                if expects_something(step) && !timed_out {
                    failures.push(format!(
                        "{}:{}: {} step {} `{what}`: never ran: its `thread` was not created",
                        plan.source, step.line, p.name, step.index
                    ));
                }
                continue;
            }
            if let (Action::Thread { inner, .. }, Some(r)) =
                (&step.action, records.get(&step.index))
                && matches!(r.obs, Obs::Result(Res::Errno(_)))
            {
                no_thread = *inner;
            }
            match records.get(&step.index) {
                Some(r) if !stopped => {
                    let mut never_notified = None;
                    // In the harness's PID namespace these numbers are the host's.
                    let text = match (&step.action, &r.obs) {
                        (
                            Action::Getpid { .. }
                            | Action::Getppid { .. }
                            | Action::Getpgid { .. }
                            | Action::Getsid { .. },
                            Obs::Value(v),
                        ) if in_harness_pidns && *v > 0 => labels.host_pid(*v),
                        (Action::Await { event }, Obs::Result(Res::Errno(libc::EPIPE))) => {
                            never_notified = Some(&plan.procs[plan.events[*event].notifier].name);
                            "never notified".into()
                        }
                        (_, obs) => obs_text(&mut labels, run, obs),
                    };
                    writeln!(rec, "  {}. {what} -> {text}", step.index).unwrap();
                    if matches!(step.action, Action::Crash { .. }) {
                        crashed = Some(step.line);
                    }
                    if let Some(notifier) = never_notified {
                        failures.push(format!(
                            "{}:{}: {} step {} `{what}`: the event can no longer come: `{notifier}`, \
                             which notifies it, ended, was never created, or went past its \
                             `notify` without running it",
                            plan.source, step.line, p.name, step.index
                        ));
                    } else if let Err(m) = check(&mut labels, run, step, &r.obs) {
                        failures.push(format!(
                            "{}:{}: {} step {} `{what}`: {m}",
                            plan.source, step.line, p.name, step.index
                        ));
                    }
                }
                // Recorded before it dies, a `crash` leaves the steps after it unstarted, not
                // unfinished: each says so.
                _ if let Some(at) = crashed => {
                    stopped = true;
                    if expects_something(step) && !timed_out {
                        failures.push(format!(
                            "{}:{}: {} step {} `{what}`: never ran: the process crashed at its \
                             `crash` on line {at}",
                            plan.source, step.line, p.name, step.index
                        ));
                    }
                }
                _ if stopped => {
                    if expects_something(step) && !timed_out {
                        failures.push(format!(
                            "{}:{}: {} step {} `{what}`: never ran{}",
                            plan.source,
                            step.line,
                            p.name,
                            step.index,
                            why_stopped.take().unwrap_or_default()
                        ));
                    }
                }
                _ => {
                    stopped = true;
                    let note = match step.action {
                        Action::Exit { .. } => "",
                        Action::Pause => " (until killed)",
                        _ => " -> did not complete",
                    };
                    writeln!(rec, "  {}. {what}{note}", step.index).unwrap();
                    if expects_something(step) && !timed_out {
                        failures.push(format!(
                            "{}:{}: {} step {} `{what}`: did not complete{}",
                            plan.source,
                            step.line,
                            p.name,
                            step.index,
                            why_stopped.take().unwrap_or_default()
                        ));
                    }
                }
            }
        }
        if let Some((_, w)) = run.exits.iter().find(|(e, _)| *e == i) {
            // Who killed it, where it can only have been nsspec. Decided from the plan and the
            // steps' results, not from when the kill came, so the record is the same each run.
            let by_harness = if !run.harness_killed.contains(&i)
                || *w != Waited::Signaled(libc::SIGKILL)
                || signalled_by_a_step(plan, &by_proc, i)
            {
                ""
            } else if p.steps.is_empty() {
                ", by nsspec once init had ended (a host process without steps lives until then)"
            } else {
                ", by nsspec: init never started"
            };
            writeln!(rec, "  ended: {}{by_harness}", waited_text(w)).unwrap();
            if *w == Waited::Exited(101) {
                failures.push(format!(
                    "{}: {} ended with the harness's internal-error status 101",
                    plan.source, p.name
                ));
            }
        }
    }
    // The outer view: the supervisor's private namespaces, standing in for the host.
    writeln!(rec, "outer view after the scenario:").unwrap();
    let (b, a) = (&run.before, &run.after);
    let added = multiset_minus(&a.mounts, &b.mounts);
    let removed = multiset_minus(&b.mounts, &a.mounts);
    // As sets (with repeats), not as lists: a mount namespace that mounted and unmounted
    // something (the harness's own cgroup2 mount) can list the same mounts in another order.
    let mounts_same = added.is_empty() && removed.is_empty();
    if mounts_same {
        writeln!(rec, "  mount table: unchanged").unwrap();
    } else {
        writeln!(
            rec,
            "  mount table: changed (added: [{}], removed: [{}])",
            added.join(", "),
            removed.join(", ")
        )
        .unwrap();
    }
    let proc_self_ok = a.proc_self == Ok(run.supervisor_pid);
    let proc_self = match &a.proc_self {
        Ok(p) if *p == run.supervisor_pid => "the harness's own PID".to_string(),
        Ok(p) => format!("pid {p}, not the harness's"),
        Err(e) => format!("unreadable: {}", errno_text(*e)),
    };
    writeln!(rec, "  /proc/self: {proc_self}").unwrap();
    let hostname_same = a.hostname == b.hostname;
    writeln!(
        rec,
        "  hostname: {}",
        if hostname_same {
            "unchanged".to_string()
        } else {
            format!("changed to {:?}", a.hostname)
        }
    )
    .unwrap();
    let proc_intact = mounts_same && proc_self_ok;
    if run.error.is_none() {
        if let Some((want, line)) = plan.checks.proc_intact
            && want != proc_intact
        {
            failures.push(format!(
                    "{}:{line}: host check `proc_intact`: expected {want}, observed {proc_intact} (mount table {}, /proc/self: {proc_self})",
                    plan.source,
                    if mounts_same { "unchanged" } else { "changed" }
                ));
        }
        if let Some((want, line)) = plan.checks.hostname_intact
            && want != hostname_same
        {
            failures.push(format!(
                "{}:{line}: host check `hostname_intact`: expected {want}, observed {hostname_same}",
                plan.source
            ));
        }
    }
    (failures, rec)
}

/// Mounts in `a` not matched one-for-one in `b` ("proc on /proc"): stacked mounts count twice.
/// Matched whole (mount ID, device, options, …): a mount replaced by one of the same type on
/// the same point is both removed and added.
fn multiset_minus(a: &[OuterMount], b: &[OuterMount]) -> Vec<String> {
    crate::executor::mounts_minus(a, b)
        .into_iter()
        .map(OuterMount::shown)
        .collect()
}

fn fmt_secs(d: std::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}", s as u64)
    } else if s >= 0.1 {
        format!("{s:.1}")
    } else {
        // Timeouts go down to 1 ms: "0.0s" would say nothing.
        format!("{s:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::OuterView;

    #[test]
    fn timeouts_print_as_written() {
        let secs = |s: f64| fmt_secs(std::time::Duration::from_secs_f64(s));
        assert_eq!(secs(5.0), "5");
        assert_eq!(secs(0.5), "0.5");
        assert_eq!(secs(1.5), "1.5");
        assert_eq!(secs(0.001), "0.001");
        assert_eq!(secs(0.05), "0.050");
    }

    fn plan() -> Plan {
        crate::plan::load(
            "pid/t",
            "t.yaml",
            "name: t\nnamespaces: [pid]\nsteps:\n  - getpid: { expect: 1 }\n  \
             - kill: { pid: parent, signal: KILL, expect: { errno: ESRCH } }\n  - await: { event: e }\n\
             host:\n  steps:\n    - notify: { event: e }\n  proc_intact: true\n",
        )
        .unwrap()
    }

    /// A mount of the outer view with ID `id` (and a device of its own).
    fn mount(id: u64, point: &str, fstype: &str) -> OuterMount {
        OuterMount {
            id,
            parent: 1,
            dev: format!("0:{id}"),
            root: "/".into(),
            point: point.into(),
            options: "rw,relatime".into(),
            fstype: fstype.into(),
            source: fstype.into(),
            super_options: "rw".into(),
        }
    }

    fn run(obs: Vec<(usize, usize, Obs)>) -> RunOutput {
        let view = OuterView {
            mounts: vec![mount(1, "/", "ext4"), mount(2, "/proc", "proc")],
            proc_self: Ok(100),
            hostname: "box".into(),
        };
        RunOutput {
            records: obs
                .into_iter()
                .map(|(proc, step, obs)| Record {
                    proc,
                    step,
                    obs,
                    born: BTreeMap::new(),
                })
                .collect(),
            supervisor_pid: 100,
            before: view.clone(),
            after: view,
            ..RunOutput::default()
        }
    }

    #[test]
    fn matching_observations_pass_and_host_pids_are_labelled() {
        let p = plan();
        let (fails, rec) = evaluate(
            &p,
            &run(vec![
                (0, 1, Obs::Value(1)),
                (
                    0,
                    2,
                    Obs::Targeted {
                        pid: 100,
                        level: 0,
                        res: Res::Errno(libc::ESRCH),
                    },
                ),
                (0, 3, Obs::Result(Res::Ok)),
                (1, 1, Obs::Result(Res::Ok)),
            ]),
        );
        assert!(fails.is_empty(), "{fails:?}");
        assert!(
            rec.contains("2. kill(parent, SIGKILL) -> pid host-pid#1: ESRCH: No such process"),
            "{rec}"
        );
        assert!(
            !rec.contains("100"),
            "a host PID leaked into the record: {rec}"
        );
    }

    /// Every step after a `crash` that expects something says it never ran because of the
    /// crash, the first one and those after it, across steps that expect nothing.
    #[test]
    fn each_step_after_a_crash_names_the_crash() {
        let p = crate::plan::load(
            "pid/t",
            "t.yaml",
            "name: t\nnamespaces: [pid]\nsteps:\n  - crash: { how: segv }\n  \
             - sleep: { ms: 1 }\n  - getpid: { expect: 1 }\n  - getppid: { expect: 0 }\n",
        )
        .unwrap();
        let mut out = run(vec![
            (
                0,
                0,
                Obs::Started {
                    nspid: vec![100, 1],
                    ns: BTreeMap::new(),
                },
            ),
            (0, 1, Obs::Result(Res::Ok)),
        ]);
        out.exits = vec![(0, Waited::Signaled(libc::SIGSEGV))];
        let (fails, rec) = evaluate(&p, &out);
        assert_eq!(
            fails,
            [
                "t.yaml:6: init step 3 `getpid()`: never ran: the process crashed at its `crash` \
                 on line 4",
                "t.yaml:7: init step 4 `getppid()`: never ran: the process crashed at its \
                 `crash` on line 4",
            ],
            "{rec}"
        );
    }

    /// Init (or the host process) killed before it started fails the scenario, even where none
    /// of its steps expects anything: it passed with "init: never started" in its record.
    #[test]
    fn a_top_process_ended_before_its_start_fails_the_scenario() {
        let p = crate::plan::load(
            "pid/t",
            "t.yaml",
            "name: t\nnamespaces: [pid]\nsteps:\n  - sleep: { ms: 1 }\n\
             host:\n  steps:\n    - sleep: { ms: 1 }\n",
        )
        .unwrap();
        let mut out = run(vec![(
            1,
            0,
            Obs::Started {
                nspid: vec![100],
                ns: BTreeMap::new(),
            },
        )]);
        out.exits = vec![(0, Waited::Signaled(libc::SIGKILL)), (1, Waited::Exited(0))];
        let (fails, rec) = evaluate(&p, &out);
        assert_eq!(
            fails,
            ["t.yaml: init: ended (killed by SIGKILL) before it started"],
            "{rec}"
        );
        assert!(
            rec.contains("init: never started\n  ended: killed by SIGKILL\n"),
            "{rec}"
        );
        // Killed at the time limit before it started, it is the timeout that fails the run.
        out.timeout = Some(crate::executor::Timeout {
            after: std::time::Duration::from_millis(1),
            in_steps: Vec::new(),
        });
        let (fails, rec) = evaluate(&p, &out);
        assert!(
            fails.iter().all(|f| !f.contains("before it started")),
            "{fails:?}\n{rec}"
        );
    }

    /// A realtime `clock` that fails says where the clock read: within the window (when
    /// `false` was expected), behind the harness's clock, or past the window.
    #[test]
    fn realtime_clock_failures_say_where_the_clock_read() {
        let p = |expect: bool| {
            crate::plan::load(
                "time/t",
                "t.yaml",
                &format!(
                    "name: t\nnamespaces: [pid]\nsteps:\n  - clock: {{ clock: realtime, \
                     expect: {expect} }}\n"
                ),
            )
            .unwrap()
        };
        let fail = |expect: bool, matches: bool, off_ms: i64| {
            let (fails, _) = evaluate(
                &p(expect),
                &run(vec![(0, 1, Obs::Clock { matches, off_ms })]),
            );
            assert_eq!(fails.len(), 1, "{fails:?}");
            fails[0].clone()
        };
        let within = fail(false, true, 0);
        assert!(
            within.ends_with(
                "expected false, observed true (it reads within the scenario's time window)"
            ),
            "{within}"
        );
        let behind = fail(true, false, -35);
        assert!(
            behind.ends_with(
                "expected true, observed false (it reads 35 ms behind the harness's clock)"
            ),
            "{behind}"
        );
        let past = fail(true, false, 1200);
        assert!(
            past.ends_with(
                "expected true, observed false (off by 1200 ms beyond the scenario's time window)"
            ),
            "{past}"
        );
    }

    #[test]
    fn mismatches_name_file_line_process_and_step() {
        let p = plan();
        let (fails, _) = evaluate(
            &p,
            &run(vec![
                (0, 1, Obs::Value(7)),
                (
                    0,
                    2,
                    Obs::Targeted {
                        pid: 100,
                        level: 0,
                        res: Res::Ok,
                    },
                ),
            ]),
        );
        assert_eq!(
            fails[0],
            "t.yaml:4: init step 1 `getpid()`: expected 1, observed 7"
        );
        assert_eq!(
            fails[1],
            "t.yaml:5: init step 2 `kill(parent, SIGKILL)`: expected ESRCH: No such process, observed pid host-pid#1: ok"
        );
        assert_eq!(
            fails[2],
            "t.yaml:6: init step 3 `await(e)`: did not complete"
        );
    }

    #[test]
    fn ns_ioctl_answers_are_judged_in_every_form() {
        let p = crate::plan::load(
            "nsfs/t",
            "t.yaml",
            "name: t\nnamespaces: [pid]\nsteps:\n  \
             - ns_ioctl: { kind: pid, request: NS_GET_PARENT, expect: harness }\n  \
             - ns_ioctl: { kind: uts, request: NS_GET_USERNS, expect: new }\n  \
             - ns_ioctl: { kind: user, request: NS_GET_OWNER_UID, expect: { uid: 1000 } }\n  \
             - ns_ioctl: { kind: mount, request: NS_GET_NSTYPE, expect: { nstype: mount } }\n  \
             - ns_ioctl: { kind: net, request: NS_GET_PARENT, expect: { errno: EINVAL } }\n",
        )
        .unwrap();
        let ns = |kind: &str, harness| Obs::Ns {
            kind: kind.into(),
            inode: 4026531836,
            harness,
        };
        let right = vec![
            (0, 1, ns("pid", true)),
            (0, 2, ns("user", false)),
            (0, 3, Obs::Value(1000)),
            (0, 4, Obs::Nstype(libc::CLONE_NEWNS)),
            (0, 5, Obs::Result(Res::Errno(libc::EINVAL))),
        ];
        let (fails, rec) = evaluate(&p, &run(right));
        assert!(fails.is_empty(), "{fails:?}");
        for line in [
            "1. ioctl(pid, NS_GET_PARENT) -> the harness's",
            "2. ioctl(uts, NS_GET_USERNS) -> user#1",
            "3. ioctl(user, NS_GET_OWNER_UID) -> 1000",
            "4. ioctl(mnt, NS_GET_NSTYPE) -> CLONE_NEWNS",
            "5. ioctl(net, NS_GET_PARENT) -> EINVAL: Invalid argument",
        ] {
            assert!(rec.contains(line), "no `{line}` in {rec}");
        }
        let wrong = vec![
            (0, 1, ns("pid", false)),
            (0, 2, Obs::Result(Res::Errno(libc::EPERM))),
            (0, 3, Obs::Value(65534)),
            (0, 4, Obs::Nstype(libc::CLONE_NEWPID)),
            (0, 5, ns("net", false)),
        ];
        let (fails, _) = evaluate(&p, &run(wrong));
        let expected = [
            "expected the harness's, observed pid#1",
            "expected a namespace other than the harness's, observed EPERM: Operation not permitted",
            "expected 1000, observed 65534",
            "expected CLONE_NEWNS, observed CLONE_NEWPID",
            "expected EINVAL: Invalid argument, observed net#1",
        ];
        assert_eq!(fails.len(), expected.len(), "{fails:?}");
        for (f, e) in fails.iter().zip(expected) {
            assert!(f.ends_with(e), "`{f}` does not end with `{e}`");
        }
    }

    /// A `read` takes a file's first 2 KiB: an expectation that matches that start must not
    /// pass when the file goes on (a false pass), and the record says the text was cut.
    #[test]
    fn a_read_cut_short_fails_any_expected_content() {
        let a = "a".repeat(crate::executor::MAX_TEXT);
        let p = crate::plan::load(
            "mount/t",
            "t.yaml",
            &format!("name: t\nnamespaces: [mount]\nsteps:\n  - read: {{ path: /big, expect: \"{a}\" }}\n  - read: {{ path: /big }}\n"),
        )
        .unwrap();
        let cut = Obs::Text {
            text: a.clone(),
            cut: true,
        };
        let (fails, rec) = evaluate(&p, &run(vec![(0, 1, cut.clone()), (0, 2, cut)]));
        assert_eq!(fails.len(), 1, "{fails:?}");
        assert!(
            fails[0].starts_with(
                "t.yaml:4: init step 1 `read(/big)`: the file is longer than the 2048 bytes"
            ),
            "{fails:?}"
        );
        assert!(
            rec.contains(&format!(
                "2. read(/big) -> \"{a}\" (cut: the file is longer than the 2048 bytes read)\n"
            )),
            "{rec}"
        );
        // The same text, all of the file: passes, and the record is as before.
        let whole = Obs::Text {
            text: a.clone(),
            cut: false,
        };
        let (fails, rec) = evaluate(&p, &run(vec![(0, 1, whole.clone()), (0, 2, whole)]));
        assert!(fails.is_empty(), "{fails:?}");
        assert!(
            rec.contains(&format!("2. read(/big) -> \"{a}\"\n")),
            "{rec}"
        );
    }

    #[test]
    fn the_same_mounts_in_another_order_are_unchanged() {
        let p = plan();
        let mut r = run(vec![]);
        let (root, proc, sys) = (
            mount(1, "/", "ext4"),
            mount(2, "/proc", "proc"),
            mount(3, "/sys", "sysfs"),
        );
        r.before.mounts = vec![root.clone(), proc.clone(), sys.clone()];
        r.after.mounts = vec![root, sys, proc];
        let (fails, rec) = evaluate(&p, &r);
        assert!(rec.contains("mount table: unchanged"), "{rec}");
        assert!(
            !fails.iter().any(|f| f.contains("proc_intact")),
            "{fails:?}"
        );
        // A second proc on /proc is a change, though the same pairs appear in both.
        r.after.mounts.push(mount(4, "/proc", "proc"));
        let (_, rec) = evaluate(&p, &r);
        assert!(
            rec.contains("mount table: changed (added: [proc on /proc], removed: [])"),
            "{rec}"
        );
    }

    #[test]
    fn a_changed_outer_proc_fails_proc_intact() {
        let p = plan();
        let mut r = run(vec![]);
        r.after.mounts.push(mount(9, "/proc", "proc"));
        r.after.proc_self = Err(libc::ENOENT);
        let (fails, rec) = evaluate(&p, &r);
        assert!(
            rec.contains("mount table: changed (added: [proc on /proc], removed: [])"),
            "{rec}"
        );
        assert!(
            rec.contains("/proc/self: unreadable: ENOENT: No such file or directory"),
            "{rec}"
        );
        assert!(
            fails.iter().any(|f| f
                .starts_with("t.yaml:10: host check `proc_intact`: expected true, observed false")),
            "{fails:?}"
        );
    }

    /// A mount swapped for another of the same type on the same point is a change, however the
    /// new one differs: its mount ID, its superblock (device), its options. Compared by point
    /// and type alone, a /proc unmounted and mounted again with `hidepid` passed `proc_intact`.
    #[test]
    fn a_mount_replaced_by_one_of_its_kind_fails_proc_intact() {
        let p = plan();
        let replaced = |change: &dyn Fn(&mut OuterMount)| {
            let mut r = run(vec![]);
            change(&mut r.after.mounts[1]);
            let (fails, rec) = evaluate(&p, &r);
            assert!(
                rec.contains(
                    "mount table: changed (added: [proc on /proc], removed: [proc on /proc])"
                ),
                "{rec}"
            );
            assert!(
                fails.iter().any(|f| f.starts_with(
                    "t.yaml:10: host check `proc_intact`: expected true, observed false (mount \
                     table changed"
                )),
                "{fails:?}"
            );
        };
        replaced(&|m| m.id = 7);
        replaced(&|m| m.dev = "0:77".into());
        replaced(&|m| m.super_options = "rw,hidepid=invisible,subset=pid".into());
        replaced(&|m| m.options = "rw,nosuid,nodev,noexec,relatime".into());
        replaced(&|m| m.source = "none".into());
        replaced(&|m| m.root = "/1".into());
        // Read twice, the same mounts are unchanged.
        let (fails, rec) = evaluate(&p, &run(vec![]));
        assert!(rec.contains("mount table: unchanged"), "{rec}");
        assert!(
            !fails.iter().any(|f| f.contains("proc_intact")),
            "{fails:?}"
        );
    }

    #[test]
    fn cgroup_paths_are_recorded_only_where_portable() {
        // Inside a cgroup namespace of the scenario: relative to its root, the same everywhere.
        assert_eq!(cgroup_text("/../b", false, Some("/nsspec-7")), "\"/../b\"");
        // Outside: below the scenario's cgroup, whose own path differs by host.
        assert_eq!(
            cgroup_text("/user.slice/nsspec-7/a", true, Some("/user.slice/nsspec-7")),
            "\"<scenario>/a\""
        );
        assert_eq!(
            cgroup_text("/nsspec-7", true, Some("/nsspec-7")),
            "\"<scenario>\""
        );
        // A sibling whose name merely starts the same is not below it.
        assert!(cgroup_text("/nsspec-70", true, Some("/nsspec-7")).contains("not recorded"));
        assert!(cgroup_text("/system.slice", true, None).contains("not recorded"));
    }

    #[test]
    fn errnos_read_like_the_c_library() {
        assert_eq!(errno_text(libc::ENOMEM), "ENOMEM: Cannot allocate memory");
        assert_eq!(errno_text(libc::ENOSPC), "ENOSPC: No space left on device");
    }

    /// The kernel reuses a freed namespace's inode number; the record must not. The records
    /// below are what harness/tests/fixtures/namespaces-one-after-another.yaml produces where
    /// every namespace of b, b1 and d takes the number of the one before it.
    fn one_after_another(records: Vec<Record>) -> String {
        let plan = crate::plan::load(
            "t/one-after-another",
            "t.yaml",
            include_str!("../tests/fixtures/namespaces-one-after-another.yaml"),
        )
        .unwrap();
        let harness: BTreeMap<String, u64> = [
            ("ipc", 1),
            ("mount", 2),
            ("pid", 3),
            ("time", 4),
            ("uts", 5),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let mut out = run(vec![]);
        out.supervisor_ns = harness;
        let who = |n: &str| plan.procs.iter().position(|p| p.name == n).unwrap();
        out.records = records
            .into_iter()
            .map(|mut r| {
                // Processes are named here by the position of their name in this list.
                r.proc = who(["init", "a", "b", "c", "d", "a1", "b1", "b2"][r.proc]);
                r
            })
            .collect();
        evaluate(&plan, &out).1
    }

    fn started(proc: usize, own: &[(&str, u64)]) -> Record {
        let mut ns: BTreeMap<String, u64> = [
            ("ipc", 1),
            ("mount", 10),
            ("pid", 11),
            ("time", 4),
            ("uts", 5),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (k, v) in own {
            ns.insert(k.to_string(), *v);
        }
        Record {
            proc,
            step: 0,
            obs: Obs::Started {
                nspid: vec![1000 + proc as i64],
                ns,
            },
            born: BTreeMap::new(),
        }
    }

    fn seen(proc: usize, step: usize, kind: &str, inode: u64) -> Record {
        Record {
            proc,
            step,
            obs: Obs::Ns {
                kind: kind.into(),
                inode,
                harness: false,
            },
            born: BTreeMap::new(),
        }
    }

    fn unshared(proc: usize, born: &[(&str, u64)]) -> Record {
        Record {
            proc,
            step: 1,
            obs: Obs::Result(Res::Ok),
            born: born.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    /// a's namespaces and a1's PID namespace, then b's and b1's with the same numbers.
    fn lifetimes(b_unshare_records_births: bool) -> Vec<Record> {
        let (init, a, b, a1, b1) = (0, 1, 2, 5, 6);
        let own = [("uts", 20), ("ipc", 21), ("time", 22)];
        let b_born: &[(&str, u64)] = if b_unshare_records_births { &own } else { &[] };
        vec![
            started(init, &[]),
            started(a, &[]),
            unshared(a, &own),
            seen(a, 2, "uts", 20),
            seen(a, 3, "ipc", 21),
            seen(a, 4, "time", 22),
            started(a1, &[("uts", 20), ("ipc", 21), ("time", 22), ("pid", 23)]),
            seen(a1, 1, "pid", 23),
            started(b, &[]),
            unshared(b, b_born),
            seen(b, 2, "uts", 20),
            seen(b, 3, "ipc", 21),
            seen(b, 4, "time", 22),
            started(b1, &[("uts", 20), ("ipc", 21), ("time", 22), ("pid", 23)]),
            seen(b1, 2, "pid", 23),
            // b2 is the second process of b1's namespace.
            started(7, &[("uts", 20), ("ipc", 21), ("time", 22), ("pid", 23)]),
            seen(7, 1, "pid", 23),
        ]
    }

    #[test]
    fn a_namespace_created_with_a_gone_ones_inode_gets_a_label_of_its_own() {
        let (c, d) = (3, 4);
        let mut records = lifetimes(true);
        // c and d are cloned with a new UTS namespace each, one after the other.
        records.extend([
            started(c, &[("uts", 20)]),
            seen(c, 1, "uts", 20),
            started(d, &[("uts", 20)]),
            seen(d, 1, "uts", 20),
        ]);
        let rec = one_after_another(records);
        for (proc, labels) in [
            ("a", ["uts#1", "ipc#1", "time#1"]),
            ("b", ["uts#2", "ipc#2", "time#2"]),
        ] {
            let steps = rec.split(&format!("\n{proc}: ")).nth(1).unwrap();
            let steps = steps.split("\nc:").next().unwrap();
            assert!(
                steps.contains(&format!("ns(uts) -> {}", labels[0]))
                    && steps.contains(&format!("ns(ipc) -> {}", labels[1]))
                    && steps.contains(&format!("ns(time_for_children) -> {}", labels[2])),
                "{proc}: {rec}"
            );
        }
        assert!(
            rec.contains(
                "\nc: NSpid host-pid#4; namespaces mount#1 pid#1 uts#3\n  1. ns(uts) -> uts#3\n"
            ),
            "{rec}"
        );
        assert!(
            rec.contains(
                "\nd: NSpid host-pid#5; namespaces mount#1 pid#1 uts#4\n  1. ns(uts) -> uts#4\n"
            ),
            "{rec}"
        );
        // A PID namespace that `unshare` made appears with its first process: b1's is new,
        // as are those it has from b.
        assert!(rec.contains("\na1: NSpid host-pid#6; namespaces ipc#1 mount#1 pid#2 time#1 uts#1\n  1. ns(pid) -> pid#2\n"), "{rec}");
        assert!(rec.contains("\nb1: NSpid host-pid#7; namespaces ipc#2 mount#1 pid#3 time#2 uts#2\n  1. await(b2-done) -> did not complete\n"), "{rec}");
        assert!(rec.contains("\nb2: NSpid host-pid#8; namespaces ipc#2 mount#1 pid#3 time#2 uts#2\n  1. ns(pid) -> pid#3\n"), "{rec}");
    }

    #[test]
    fn without_a_creation_the_same_inode_is_the_same_namespace() {
        // b joined a's namespaces (as `setns` or `enter` would): nothing was created, so
        // they keep their labels. b1 is still the first process of a PID namespace, and was
        // forked by b, so its PID namespace is new.
        let rec = one_after_another(lifetimes(false));
        assert!(!rec.contains("uts#2") && !rec.contains("ipc#2"), "{rec}");
        assert!(rec.contains("ns(pid) -> pid#3"), "{rec}");
    }

    #[test]
    fn labels_follow_the_record_not_the_order_records_arrived_in() {
        // Without reuse, two namespaces created concurrently are numbered by where they
        // appear in the record (a before b), whichever process reported first.
        let (init, a, b) = (0, 1, 2);
        let rec = one_after_another(vec![
            started(init, &[]),
            started(b, &[]),
            started(a, &[]),
            unshared(b, &[("uts", 30)]),
            seen(b, 2, "uts", 30),
            unshared(a, &[("uts", 20)]),
            seen(a, 2, "uts", 20),
        ]);
        let a_at = rec.find("ns(uts) -> uts#1").unwrap();
        let b_at = rec.find("ns(uts) -> uts#2").unwrap();
        assert!(a_at < b_at, "{rec}");
    }

    /// The inode keys `tell_reused_apart` gives a run's namespace observations, in order.
    fn keys(plan: &Plan, records: Vec<Record>) -> Vec<u64> {
        let mut out = run(vec![]);
        out.records = records;
        tell_reused_apart(plan, &out)
            .iter()
            .flat_map(|r| match &r.obs {
                Obs::Started { ns, .. } => ns.get("pid").copied().into_iter().collect(),
                Obs::Ns { inode, .. } => vec![*inode],
                _ => vec![],
            })
            .collect()
    }

    #[test]
    fn a_pid_namespace_an_unshare_recorded_is_not_created_again_by_its_first_process() {
        // Linux 6.11: the `unshare` records the namespace through a pidfd, init looks at it
        // before it has a process, then gc starts in it.
        let plan = crate::plan::load(
            "t/seen-first",
            "t.yaml",
            include_str!("../tests/fixtures/pidns-seen-before-its-first-process.yaml"),
        )
        .unwrap();
        let (init, child, gc) = (0, 1, 2);
        assert_eq!(plan.procs[gc].name, "gc");
        let keys = keys(
            &plan,
            vec![
                started(init, &[]),
                started(child, &[]),
                Record {
                    proc: child,
                    step: 1,
                    obs: Obs::Result(Res::Ok),
                    born: [("pid".to_string(), 40)].into_iter().collect(),
                },
                seen(init, 4, "pid", 40),
                started(gc, &[("pid", 40)]),
                seen(gc, 1, "pid", 40),
                seen(child, 6, "pid", 40),
            ],
        );
        assert_eq!(keys, [11, 11, 40, 40, 40, 40], "{keys:?}");
    }

    #[test]
    fn a_child_left_in_its_parents_pid_namespace_by_a_failed_unshare_creates_none() {
        // b's `unshare` failed: b1, planned as the first process of a new PID namespace, is
        // in b's, which a's inode reuse must not renumber.
        let plan = crate::plan::load(
            "t/one-after-another",
            "t.yaml",
            include_str!("../tests/fixtures/namespaces-one-after-another.yaml"),
        )
        .unwrap();
        let who = |n: &str| plan.procs.iter().position(|p| p.name == n).unwrap();
        let keys = keys(
            &plan,
            vec![
                started(0, &[]),
                started(who("b"), &[]),
                Record {
                    proc: who("b"),
                    step: 1,
                    obs: Obs::Result(Res::Errno(libc::EPERM)),
                    born: BTreeMap::new(),
                },
                started(who("b1"), &[]),
                seen(who("b1"), 2, "pid", 11),
            ],
        );
        assert_eq!(keys, [11, 11, 11, 11], "{keys:?}");
    }
}
