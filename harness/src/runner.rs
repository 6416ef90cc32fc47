//! Runs validated scenarios one after another and turns each run into a [`ScenarioResult`]:
//! requirement check, execution, expectations, then the snapshot comparison.

use std::time::Instant;

use crate::catalogue::Source;
use crate::executor;
use crate::plan::Plan;
use crate::probe::Host;
use crate::report::{self, ScenarioResult, SnapshotState, Status};

/// How to update a snapshot after reviewing the change.
pub const REVIEW_HINT: &str = "if the new record is right, accept it with `cargo insta test --review` (or `cargo test`, then `cargo insta review`)";

/// Runs one scenario (or skips it) and judges the result.
pub fn run(source: &Source, plan: &Plan, host: &Host, compare_snapshot: bool) -> ScenarioResult {
    let started = Instant::now();
    let mut result = ScenarioResult {
        id: plan.id.clone(),
        source: plan.source.clone(),
        status: Status::Passed,
        messages: Vec::new(),
        record: None,
        snapshot: SnapshotState::NotChecked,
        elapsed_ms: 0,
        pids_limit: String::new(),
    };
    if let Some(reason) = host.unmet(plan) {
        result.status = Status::Skipped;
        result.messages.push(reason);
        return result;
    }
    let out = executor::run(plan, host.mode == crate::probe::Mode::Rootless);
    let (failures, record) = report::evaluate(plan, &out);
    result.pids_limit = out.pids_limit.clone();
    // Expectations first: they say precisely what is wrong; the snapshot diff comes after.
    result.messages = failures;
    let snapshot = if compare_snapshot {
        source.snapshot()
    } else {
        None
    };
    match snapshot {
        None => {}
        Some(Err(path)) => result.snapshot = SnapshotState::Missing(path),
        Some(Ok(committed)) => {
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
                result.snapshot = SnapshotState::Differs(String::new());
            }
        }
    }
    if !result.messages.is_empty() {
        result.status = Status::Failed;
    }
    result.record = Some(record);
    result.elapsed_ms = started.elapsed().as_millis() as u64;
    result
}
