//! The library's `run_all` called from a thread other than the program's first, as a library
//! user may: every process of a scenario then starts on a copy of a glibc thread stack, which
//! glibc's fork() can hand to a later thread (see the fixture). Each fixture must pass as it
//! does through the binary (tests/cli.rs runs them there).
//!
//! Its own test binary without libtest's harness: the program stays single-threaded but for
//! the one thread that runs the scenarios, as the executor requires of whoever forks.

use std::path::Path;

use nsspec::catalogue;
use nsspec::probe::{Host, Mode};
use nsspec::report::Status;
use nsspec::runner::{Snapshots, run_all};

const FIXTURES: &[&str] = &[
    "take-over-then-fork-a-threaded-child.yaml",
    "take-over-twice.yaml",
    "thread-steps-catch.yaml",
];

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let paths: Vec<_> = FIXTURES.iter().map(|f| dir.join(f)).collect();
    let items: Vec<_> = catalogue::from_paths(&paths)
        .expect("fixtures readable")
        .into_iter()
        .map(|s| {
            let plan = s.load().expect("fixture valid");
            (s, plan)
        })
        .collect();
    let host = Host::probe_for(&items.iter().map(|(_, p)| p).collect::<Vec<_>>());
    if let Mode::Unavailable(why) = &host.mode {
        println!("off_main_thread: skipped: {why}");
        return;
    }
    let results = std::thread::spawn(move || {
        let mut results = Vec::new();
        run_all(&items, &host, Snapshots::Off, 1, None, |r| results.push(r));
        results
    })
    .join()
    .expect("the running thread did not panic");
    let mut failed = 0;
    for r in &results {
        println!("{:?}  {}", r.status, r.id);
        if r.status != Status::Passed {
            failed += 1;
            println!(
                "{}\n{}",
                r.messages.join("\n"),
                r.record.clone().unwrap_or_default()
            );
        }
    }
    assert_eq!(results.len(), FIXTURES.len());
    assert_eq!(failed, 0, "{failed} fixture(s) failed off the main thread");
}
