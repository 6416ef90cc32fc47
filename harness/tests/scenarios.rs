//! `cargo test` entry point: every scenario under scenarios/ is one libtest-mimic trial named
//! after its path (`pid/kill-ancestor`), so `cargo test -- pid/`, `--list`, `--exact` and
//! `cargo nextest run` work as usual.
//!
//! This process is multi-threaded (libtest-mimic runs trials on a pool), so it never forks:
//! each trial runs `nsspec run --json --no-snapshots FILE` and compares the observation record
//! with insta, which writes `.snap.new` files for `just review` (never under CI=true).

use std::path::{Path, PathBuf};
use std::process::Command;

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use nsspec::catalogue::{self, Source};
use nsspec::report::{ScenarioResult, Status};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn main() {
    let args = Arguments::from_args();
    let sources = catalogue::from_paths(&[root().join("scenarios")])
        .unwrap_or_else(|e| panic!("cannot read the scenario catalogue: {e}"));
    let trials = sources
        .into_iter()
        .map(|s| {
            let id = s.id.clone();
            Trial::ignorable_test(id, move || run_trial(&s))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn run_trial(source: &Source) -> Result<Completion, Failed> {
    let mut nsspec = Command::new(env!("CARGO_BIN_EXE_nsspec"));
    nsspec.args(["run", "--json", "--no-snapshots"]);
    // `NSSPEC_JITTER=50 cargo test --test scenarios` hunts races as `nsspec run --jitter 50`
    // does; a failing trial then says which seed draws the same again.
    let jitter = std::env::var_os("NSSPEC_JITTER").filter(|ms| !ms.is_empty());
    if let Some(ms) = &jitter {
        nsspec.arg("--jitter").arg(ms);
    }
    let output = nsspec
        .arg(&source.display)
        .output()
        .map_err(|e| format!("cannot start nsspec: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let seed = stderr
        .lines()
        .filter(|l| jitter.is_some() && l.starts_with("nsspec: jitter:"))
        .map(|l| format!("\n{l}"))
        .collect::<String>();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result: ScenarioResult = stdout
        .lines()
        .next()
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| {
            format!(
                "nsspec gave no result (exit {:?})\nstdout:\n{stdout}\nstderr:\n{}",
                output.status.code(),
                stderr
            )
        })?;
    match result.status {
        Status::Skipped => Ok(Completion::ignored_with(result.messages.join("; "))),
        Status::Failed => Err(format!(
            "{}\n\nobservation record:\n{}{seed}",
            result.messages.join("\n"),
            result.record.unwrap_or_default()
        )
        .into()),
        Status::Passed => {
            let record = result.record.unwrap_or_default();
            let mut settings = insta::Settings::clone_current();
            settings.set_snapshot_path(root().join("snapshots"));
            settings.set_prepend_module_to_snapshot(false);
            settings.set_omit_expression(true);
            settings.set_input_file(&source.display);
            settings.bind(|| {
                insta::assert_snapshot!(catalogue::snapshot_name(&source.id), record);
            });
            Ok(Completion::Completed)
        }
    }
}
