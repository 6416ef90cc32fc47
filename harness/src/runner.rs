//! Runs validated scenarios — several at a time if asked — and turns each run into a
//! [`ScenarioResult`]: requirement check, execution, expectations, then the snapshot comparison.
//! Results are delivered in the order of the input, whatever order they finish in.

use crate::catalogue::Source;
use crate::executor::{self, RunOutput};
use crate::plan::Plan;
use crate::probe::Host;
use crate::report::{self, ScenarioResult, SnapshotState, Status};

/// How to update a snapshot after reviewing the change.
pub const REVIEW_HINT: &str = "if the new record is right, accept it in a checkout of nsspec: `cargo test`, then `just review` (tools/review-snapshots)";
/// The same for a scenario file in a `scenarios/` folder of the user's own.
pub const ACCEPT_HINT: &str = "if the new record is right, write it with `nsspec run --accept-snapshots` (in a checkout of nsspec: `cargo test`, then `just review`)";

/// What a run does with snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snapshots {
    /// Not compared (`--no-snapshots`: the cargo test harness compares them with insta).
    Off,
    /// Compared. `ci`: a missing snapshot fails, as insta's does under CI.
    Compare { ci: bool },
    /// Compared, and a missing or different snapshot of a file in a `scenarios/` folder is
    /// written (`--accept-snapshots`).
    Accept,
}

impl Snapshots {
    /// `Compare`, failing a missing snapshot when the environment says CI, the way insta tells.
    pub fn compare_from_env() -> Snapshots {
        let ci = match std::env::var("CI").ok().as_deref() {
            None | Some("" | "0" | "false") => std::env::var_os("TF_BUILD").is_some(),
            Some(_) => true,
        };
        Snapshots::Compare { ci }
    }
}

/// Runs every scenario (or skips it), `jobs` at a time, calling `report` with each result in
/// input order. Once `stop` is readable the run ends early (see [`executor::run_many`]) and
/// `run_all` returns `true`, after reporting every result that is in (in input order, without
/// the scenarios that were stopped or never started).
pub fn run_all(
    items: &[(Source, Plan)],
    host: &Host,
    snapshots: Snapshots,
    jobs: usize,
    stop: Option<std::os::fd::BorrowedFd<'_>>,
    mut report: impl FnMut(ScenarioResult),
) -> bool {
    let mut results: Vec<Option<ScenarioResult>> = vec![None; items.len()];
    let mut runnable = Vec::new();
    // A skip from facts whose trials could not be made would pass a run that tested nothing:
    // such a scenario fails, unless it would be skipped whatever those trials gave.
    let untried = host.untried().map(|why| (why, host.as_if_tried()));
    for (i, (_, plan)) in items.iter().enumerate() {
        match host.unmet(plan) {
            Some(reason) => {
                let mut r = blank(plan);
                match &untried {
                    Some((why, tried)) if tried.unmet(plan).is_none() => {
                        r.status = Status::Failed;
                        r.messages
                            .push(format!("{why} (the skip would say: {reason})"));
                    }
                    Some((_, tried)) => {
                        r.status = Status::Skipped;
                        r.messages.extend(tried.unmet(plan));
                    }
                    None => {
                        r.status = Status::Skipped;
                        r.messages.push(reason);
                    }
                }
                results[i] = Some(r);
            }
            None => runnable.push(i),
        }
    }
    let plans: Vec<&Plan> = runnable.iter().map(|i| &items[*i].1).collect();
    let mut delivered = 0;
    let mut flush = |results: &mut Vec<Option<ScenarioResult>>, delivered: &mut usize| {
        while *delivered < results.len() {
            match results[*delivered].take() {
                Some(r) => report(r),
                None => break,
            }
            *delivered += 1;
        }
    };
    flush(&mut results, &mut delivered);
    // The facts tried for real, once, when a scenario fails on a host whose facts were
    // inferred. A failed step asks as well as a failed set-up: a step's `unshare` or `fork` of
    // a kind that cannot be made here (its user.max_*_namespaces is 0, as RHEL 7 ships
    // max_user_namespaces) fails that step, not the set-up. Failures are rare, so the probe's
    // few forks cost nothing on a passing run. Not when the harness itself failed (the runner
    // out of descriptors, a supervisor unheard from): a probe then measures that, not the host.
    // Not tried again for later failures, though under a low `user.max_*_namespaces` limit
    // its ENOSPC is a fact of its moment (the run's other namespaces alive or just ended):
    // tried again after a later failure, a moment the limit allows made that failure, caused
    // by the limit just as much, a FAIL (with user.max_pid_namespaces at 10, 10 of `-f pid/`).
    // Where it says "ok" (the namespaces that reached the limit already released), and on
    // any host, whose probe at the start may have found the limit not yet reached, the
    // failure's own ENOSPC names the limit (`probe::limit_refused`). And the other way round,
    // a trial's ENOSPC under a limit that is not 0 explains only a failure whose own output
    // shows an ENOSPC of a kind the trial's limits cover (`Host::for_failure`,
    // `probe::enospc_shown`): kept for the run, it skipped every later real failure of a
    // scenario of its kind, and the first, whose own namespace was still counted.
    let mut tried: Option<Host> = None;
    let stopped = executor::run_many(&plans, host, jobs, stop, |k, out| {
        let i = runnable[k];
        let (source, plan) = &items[i];
        let mut result = judge(source, plan, &out, snapshots);
        if result.status == Status::Failed && may_be_the_host(&out) {
            let probed = host.inferred.then(|| {
                let tried = tried.get_or_insert_with(|| Host::probe_for_by_trying(&plans));
                let shown = crate::probe::enospc_shown(plan, &out);
                tried.for_failure(&shown).unmet_after_failure(plan)
            });
            if let Some(reason) = probed.flatten().or_else(|| {
                let refused = crate::probe::refused_kinds(plan, &out);
                let rootless = host.mode == crate::probe::Mode::Rootless;
                crate::probe::limit_refused(&refused, &plans, jobs, rootless)
            }) {
                result = blank(plan);
                result.status = Status::Skipped;
                result.messages.push(reason);
                // Said, since the skip shows nothing else of the run: what a refused
                // namespace sets off may hang the scenario's processes until the time limit.
                if let Some(t) = &out.timeout {
                    result.messages.push(format!(
                        "it ran out its time limit ({}s) before it was skipped",
                        t.after.as_secs_f64()
                    ));
                }
            }
        }
        if result.status == Status::Failed
            && let Some(note) = jitter_note(plan)
        {
            result.messages.push(note);
        }
        results[i] = Some(result);
        flush(&mut results, &mut delivered);
    });
    if stopped {
        results.into_iter().flatten().for_each(report);
    }
    stopped
}

/// Whether a failed scenario may have failed for something the host cannot do: its set-up
/// failed, or it ran and its steps reported, rather than the harness failing around it.
fn may_be_the_host(out: &RunOutput) -> bool {
    out.setup_failed || (out.error.is_none() && !out.unheard)
}

fn blank(plan: &Plan) -> ScenarioResult {
    ScenarioResult {
        id: plan.id.clone(),
        source: plan.source.clone(),
        status: Status::Passed,
        messages: Vec::new(),
        record: None,
        snapshot: SnapshotState::NotChecked,
        elapsed_ms: 0,
        pids_limit: String::new(),
    }
}

/// Writes a snapshot as insta would (a header, then the record), replacing the file whole.
fn write_snapshot(path: &str, scenario: &str, record: &str) -> std::io::Result<()> {
    let path = std::path::Path::new(path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = format!(
        "---\nsource: nsspec run --accept-snapshots\ninput_file: {scenario}\n---\n{}\n",
        record.trim_end()
    );
    replace_through(path, |n| temp_beside(path, "", n), text.as_bytes())
}

/// The longest name a file may have on Linux (NAME_MAX), in bytes.
pub(crate) const NAME_MAX: usize = 255;

/// The `n`th name [`create_temp`] tries for a file written beside `path`: `lead`, `path`'s
/// file name and [`temp_suffix`], the name cut short where the whole would pass NAME_MAX (255
/// bytes), so that a target named near that limit can still be written. The cut name still
/// begins like the target's; two cut alike take different `n`s (create_new).
pub(crate) fn temp_beside(path: &std::path::Path, lead: &str, n: u32) -> std::path::PathBuf {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let name = path.file_name().map_or(&[][..], OsStrExt::as_bytes);
    let suffix = temp_suffix(n);
    let room = NAME_MAX.saturating_sub(lead.len() + suffix.len());
    let mut temp = lead.as_bytes().to_vec();
    temp.extend_from_slice(&name[..name.len().min(room)]);
    temp.extend_from_slice(suffix.as_bytes());
    path.with_file_name(std::ffi::OsString::from_vec(temp))
}

/// The end of the `n`th name [`create_temp`] tries for a file written beside another:
/// `.PID.tmp`, then `.PID-1.tmp`, `.PID-2.tmp`, …
fn temp_suffix(n: u32) -> String {
    match n {
        0 => format!(".{}.tmp", std::process::id()),
        n => format!(".{}-{n}.tmp", std::process::id()),
    }
}

/// Creates a new file at the first free name of `temp(0)`, `temp(1)`, … (up to 100), and
/// returns it with its path. create_new: never through a link, and a file already at a name is
/// not ours to overwrite or to remove. Such a file carries our PID, so it was left by a writer
/// with our number that was killed before its rename — normal where nsspec is a container's
/// PID 1 over a persistent workspace — or, in a folder shared across PID namespaces, belongs
/// to a writer still at work; neither may make this write fail, so the next name is taken.
pub(crate) fn create_temp(
    temp: impl Fn(u32) -> std::path::PathBuf,
) -> std::io::Result<(std::fs::File, std::path::PathBuf)> {
    let mut n = 0;
    loop {
        let name = temp(n);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&name)
        {
            Ok(file) => return Ok((file, name)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 99 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Writes `bytes` to a new file beside `path` (named by `temp`, see [`create_temp`]) and
/// renames it over `path`, so that a reader (or a run killed meanwhile) never finds half a
/// file.
pub(crate) fn replace_through(
    path: &std::path::Path,
    temp: impl Fn(u32) -> std::path::PathBuf,
    bytes: &[u8],
) -> std::io::Result<()> {
    let (mut file, temp) = create_temp(temp)?;
    std::io::Write::write_all(&mut file, bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temp, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&temp);
        })
}

/// The failure for a record that differs from its snapshot, with the diff. Located like every
/// other failure, so that the JUnit message and CI annotations name the scenario file.
fn differs(source: &Source, plan: &Plan, path: &str, committed: &str, record: &str) -> String {
    let diff = similar::TextDiff::from_lines(committed.trim_end(), record.trim_end())
        .unified_diff()
        .context_radius(3)
        .header("snapshot", "observed")
        .to_string();
    // Line by line, so that the diff keeps its lines: a committed snapshot is any file, and its
    // escape sequences, carriage returns or ^As must not reach the terminal (or forge a line of
    // the report) when the diff is printed; the record can hold what a scenario read as well.
    let diff: String = diff
        .split_inclusive('\n')
        .map(|line| match line.strip_suffix('\n') {
            Some(line) => format!("{}\n", crate::catalogue::escape_controls(line)),
            None => crate::catalogue::escape_controls(line),
        })
        .collect();
    let hint = if source.snapshot_writable() {
        ACCEPT_HINT
    } else {
        REVIEW_HINT
    };
    located(
        plan,
        format!("the observation record differs from the snapshot {path}:\n{diff}{hint}"),
    )
}

/// A failure of the scenario as a whole (no line of the file to blame), located at its file
/// like every other failure: the first one is the JUnit `<failure message>`, and a CI
/// annotation needs the file.
fn located(plan: &Plan, message: String) -> String {
    format!("{}: {message}", plan.source)
}

/// Under `--jitter`, which of the scenario's processes were slow: what the failure depended
/// on, when it was a race.
fn jitter_note(plan: &Plan) -> Option<String> {
    let (max, seed) = executor::jitter()?;
    let slow: Vec<String> = plan
        .procs
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let d = executor::slowness(&plan.id, i);
            (!d.is_zero()).then(|| format!("`{}` ({:.1} ms)", p.name, d.as_secs_f64() * 1e3))
        })
        .collect();
    Some(format!(
        "under --jitter {} --jitter-seed {seed}, slow: {}; a failure that comes only with some \
         seeds is a race between processes: order their steps with notify/await or wait",
        max.as_millis(),
        if slow.is_empty() {
            "none".to_string()
        } else {
            slow.join(", ")
        }
    ))
}

/// Judges one run: expectations first (they say precisely what is wrong), then the snapshot.
pub fn judge(
    source: &Source,
    plan: &Plan,
    out: &RunOutput,
    snapshots: Snapshots,
) -> ScenarioResult {
    let mut result = blank(plan);
    let (failures, record) = report::evaluate(plan, out);
    result.pids_limit = out.pids_limit.clone();
    result.messages = failures;
    if out.unheard {
        // Nothing observed: no record to show or to compare with the snapshot.
        result.status = Status::Failed;
        result.elapsed_ms = out.elapsed.as_millis() as u64;
        return result;
    }
    let snapshot = match snapshots {
        Snapshots::Off => None,
        _ => source.snapshot(),
    };
    // A record cut short by a timeout or a harness error, or with a step the harness could not
    // carry out, is no behaviour to pin.
    let held_back = if out.timeout.is_some() {
        Some("the run timed out, and a record cut short")
    } else if out.error.is_some() {
        Some("the harness failed, and a record cut short")
    } else if out
        .records
        .iter()
        .any(|r| matches!(r.obs, executor::Obs::Failed(_)))
    {
        Some("the harness could not carry out a step, and such a record")
    } else if out
        .exits
        .iter()
        .any(|(i, _)| out.ended_unstarted(*i).is_some())
    {
        Some("init or the host process ended before it started, and such a record")
    } else {
        None
    };
    let accept =
        snapshots == Snapshots::Accept && source.snapshot_writable() && held_back.is_none();
    match snapshot {
        None => {}
        Some((path, Err(why))) => {
            result.messages.push(located(
                plan,
                format!("cannot read the snapshot {path}: {why}"),
            ));
        }
        Some((path, Ok(committed)))
            if accept && committed.as_deref().map(str::trim_end) != Some(record.trim_end()) =>
        {
            result.snapshot = match write_snapshot(&path, &source.display, &record) {
                Ok(()) => SnapshotState::Written(path),
                Err(e) => {
                    result.messages.push(located(
                        plan,
                        format!("cannot write the snapshot {path}: {e}"),
                    ));
                    // Still there and still different: shown as in a run without --accept.
                    match committed {
                        Some(committed) => {
                            result
                                .messages
                                .push(differs(source, plan, &path, &committed, &record));
                            SnapshotState::Differs(path)
                        }
                        None => SnapshotState::Missing(path),
                    }
                }
            };
        }
        Some((path, Ok(None))) => {
            if snapshots == (Snapshots::Compare { ci: true }) {
                result.messages.push(located(
                    plan,
                    format!(
                        "no snapshot at {path} (a missing snapshot fails under CI, as with \
                         insta); {}",
                        if source.snapshot_writable() {
                            ACCEPT_HINT
                        } else {
                            REVIEW_HINT
                        }
                    ),
                ));
            }
            result.snapshot = SnapshotState::Missing(path);
        }
        Some((path, Ok(Some(committed)))) => {
            if committed.trim_end() == record.trim_end() {
                result.snapshot = SnapshotState::Matches;
            } else {
                result
                    .messages
                    .push(differs(source, plan, &path, &committed, &record));
                result.snapshot = SnapshotState::Differs(path);
            }
        }
    }
    if snapshots == Snapshots::Accept
        && source.snapshot_writable()
        && let (Some(why), SnapshotState::Missing(path) | SnapshotState::Differs(path)) =
            (held_back, &result.snapshot)
    {
        result.messages.push(located(
            plan,
            format!("the snapshot {path} is not written: {why} is no behaviour to pin"),
        ));
    }
    if !result.messages.is_empty() {
        result.status = Status::Failed;
    }
    result.record = Some(record);
    result.elapsed_ms = out.elapsed.as_millis() as u64;
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::{Obs, Record, Waited};

    /// `--accept-snapshots` pins no record in which init or the host process ended before it
    /// started, and says so; the same record from a started init is written.
    #[test]
    fn accept_holds_back_a_record_whose_init_never_started() {
        let dir = std::env::temp_dir().join(format!("nsspec-held-back-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("scenarios/g")).unwrap();
        std::fs::write(
            dir.join("scenarios/g/t.yaml"),
            "name: t\nnamespaces: [pid]\nsteps:\n  - sleep: { ms: 1 }\n",
        )
        .unwrap();
        let sources = crate::catalogue::from_paths(&[dir.join("scenarios")]).unwrap();
        let source = &sources[0];
        let plan = source.load().unwrap();
        let snap = dir.join("snapshots/g__t.snap");
        let mut out = RunOutput {
            exits: vec![(0, Waited::Signaled(libc::SIGKILL))],
            ..RunOutput::default()
        };
        let held = judge(source, &plan, &out, Snapshots::Accept);
        let said = held.messages.iter().any(|m| {
            m.contains("is not written: init or the host process ended before it started")
        });
        assert!(said, "{:?}", held.messages);
        assert!(
            !snap.exists(),
            "a record of an init that never started was pinned"
        );
        // Started: the record is behaviour, and written.
        out.records = vec![Record {
            proc: 0,
            step: 0,
            obs: Obs::Started {
                nspid: vec![100, 1],
                ns: Default::default(),
            },
            born: Default::default(),
        }];
        out.exits = vec![(0, Waited::Exited(0))];
        let written = judge(source, &plan, &out, Snapshots::Accept);
        let exists = snap.exists();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(exists, "{:?}", written.messages);
    }
}
