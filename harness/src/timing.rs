//! Phase marks for profiling a run: with `NSSPEC_TIMING=1` in the environment, every process of
//! the run (runner, guardian, supervisors, scenario processes) writes one line to stderr as it
//! passes each phase of a scenario's life:
//!
//! ```text
//! nsspec-timing <µs since the runner's main> <pid> <role>: <phase>
//! ```
//!
//! The processes are forks of the runner, not new executables, so they all measure from the
//! same `Instant` taken in `main`. The PID is as the process sees it (1 for a scenario's init in
//! its own PID namespace). `just bench` turns 200 runs of this into the phase table of
//! BENCHMARKS.md; without the variable a mark costs one atomic load.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

static START: OnceLock<Instant> = OnceLock::new();
/// Set in a process whose stderr stopped taking marks (its reader went away).
static MUTED: AtomicBool = AtomicBool::new(false);

/// Turns marking on if `NSSPEC_TIMING=1`; call first thing in `main`, before any fork.
pub fn enable_from_env() {
    if std::env::var_os("NSSPEC_TIMING").is_some_and(|v| v == "1") {
        let _ = START.set(Instant::now());
    }
}

/// Records that this process reached `phase` (e.g. `"supervisor: cgroup ready"`).
pub fn mark(phase: &str) {
    if let Some(start) = START.get()
        && !MUTED.load(Ordering::Relaxed)
    {
        let line = format!(
            "nsspec-timing {} {} {phase}\n",
            start.elapsed().as_micros(),
            std::process::id()
        );
        // One write() (the line is far below PIPE_BUF), so lines of concurrent processes do
        // not interleave; never a SIGPIPE, which would kill a guardian or a scenario process.
        if !crate::executor::write_stderr_held(line.as_bytes()) {
            MUTED.store(true, Ordering::Relaxed);
        }
    }
}
