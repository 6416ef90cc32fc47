//! Runs validated scenarios — several at a time if asked — and turns each run into a
//! [`ScenarioResult`]: requirement check, execution, expectations, then the snapshot comparison.
//! Results are delivered in the order of the input, whatever order they finish in.

use crate::catalogue::Source;
use crate::executor::{self, RunOutput};
use crate::plan::Plan;
use crate::probe::{Host, Mode};
use crate::report::{self, ScenarioResult, SnapshotState, Status};

/// How to update a snapshot after reviewing the change.
pub const REVIEW_HINT: &str = "if the new record is right, accept it with `cargo insta test --review` (or `cargo test`, then `cargo insta review`)";

/// Runs every scenario (or skips it), `jobs` at a time, calling `report` with each result in
/// input order.
pub fn run_all(
    items: &[(Source, Plan)],
    host: &Host,
    compare_snapshots: bool,
    jobs: usize,
    mut report: impl FnMut(ScenarioResult),
) {
    let mut results: Vec<Option<ScenarioResult>> = vec![None; items.len()];
    let mut runnable = Vec::new();
    for (i, (_, plan)) in items.iter().enumerate() {
        match host.unmet(plan) {
            Some(reason) => {
                let mut r = blank(plan);
                r.status = Status::Skipped;
                r.messages.push(reason);
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
    // The facts tried for real, once, when an inferred host turns out unable to set up.
    let mut tried: Option<Host> = None;
    executor::run_many(&plans, host.mode == Mode::Rootless, jobs, |k, out| {
        let i = runnable[k];
        let (source, plan) = &items[i];
        let mut result = judge(source, plan, &out, compare_snapshots);
        if host.inferred && result.status == Status::Failed && setup_failed(&out) {
            let tried = tried.get_or_insert_with(|| Host::probe_for_by_trying(&plans));
            if let Some(reason) = tried.unmet(plan) {
                result = blank(plan);
                result.status = Status::Skipped;
                result.messages.push(reason);
            }
        }
        results[i] = Some(result);
        flush(&mut results, &mut delivered);
    });
}

/// Whether the sandbox's or the scenario's namespaces could not be created.
fn setup_failed(out: &RunOutput) -> bool {
    out.setup_failed
        || out
            .records
            .iter()
            .any(|r| r.step == 0 && matches!(r.obs, executor::Obs::Failed(_)))
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

/// Judges one run: expectations first (they say precisely what is wrong), then the snapshot.
pub fn judge(
    source: &Source,
    plan: &Plan,
    out: &RunOutput,
    compare_snapshot: bool,
) -> ScenarioResult {
    let mut result = blank(plan);
    let (failures, record) = report::evaluate(plan, out);
    result.pids_limit = out.pids_limit.clone();
    result.messages = failures;
    let snapshot = if compare_snapshot {
        source.snapshot()
    } else {
        None
    };
    match snapshot {
        None => {}
        Some((path, None)) => result.snapshot = SnapshotState::Missing(path),
        Some((path, Some(committed))) => {
            if committed.trim_end() == record.trim_end() {
                result.snapshot = SnapshotState::Matches;
            } else {
                let diff = similar::TextDiff::from_lines(committed.trim_end(), record.trim_end())
                    .unified_diff()
                    .context_radius(3)
                    .header("snapshot", "observed")
                    .to_string();
                result.messages.push(format!(
                    "the observation record differs from the snapshot:\n{diff}{REVIEW_HINT}"
                ));
                result.snapshot = SnapshotState::Differs(path);
            }
        }
    }
    if !result.messages.is_empty() {
        result.status = Status::Failed;
    }
    result.record = Some(record);
    result.elapsed_ms = out.elapsed.as_millis() as u64;
    result
}
