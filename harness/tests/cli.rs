//! End-to-end tests of the `nsspec` binary: exit codes, messages, the malformed corpus, and the
//! isolation contract (the caller's mount table and process table are as before a run).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn nsspec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nsspec"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("nsspec runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn privileged() -> bool {
    nsspec::probe::Host::probe().cap_sys_admin
}

fn catalogue_len() -> usize {
    nsspec::catalogue::from_paths(&[root().join("scenarios")])
        .unwrap()
        .len()
}

#[test]
fn every_malformed_example_exits_2_with_its_position_and_reason() {
    let dir = root().join("harness/tests/malformed");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 20,
        "the malformed corpus shrank to {} files",
        files.len()
    );
    for f in files {
        let body = std::fs::read_to_string(&f).unwrap();
        let expected = body
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} lacks its `# expect:` line", f.display()));
        let rel = f
            .strip_prefix(root())
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let out = nsspec(&["check", &rel]);
        let (_, err) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{rel}: stderr: {err}");
        let first = err.lines().next().unwrap_or("");
        let rest = first
            .strip_prefix(&format!("{rel}:"))
            .unwrap_or_else(|| panic!("{rel}: message does not start with the path: {first}"));
        let mut parts = rest.splitn(3, ':');
        let line: u64 = parts
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("{rel}: no line in {first}"));
        let col: u64 = parts
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("{rel}: no column in {first}"));
        assert!(
            line >= 2 && col >= 1,
            "{rel}: implausible position in {first}"
        );
        assert!(
            first.contains(expected),
            "{rel}: expected `{expected}` in: {first}"
        );
    }
}

#[test]
fn the_catalogue_is_valid_and_listed() {
    let out = nsspec(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert!(
        text(&out)
            .0
            .contains(&format!("{} scenario(s) valid", catalogue_len()))
    );
    let out = nsspec(&["list"]);
    let (stdout, _) = text(&out);
    assert_eq!(stdout.lines().count(), catalogue_len());
    assert!(stdout.contains("pid/kill-ancestor"));
    assert!(catalogue_len() >= 12);
}

#[test]
fn usage_errors_exit_2() {
    let out = nsspec(&["run", "no/such/file.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let out = nsspec(&["run", "--filter", "matches-nothing-at-all"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("no scenario matches"));
    let out = nsspec(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn builtin_catalogue_passes_and_leaves_the_caller_untouched() {
    let marker = format!("NSSPEC_TEST_MARKER_{}", std::process::id());
    let mountinfo_before = std::fs::read("/proc/self/mountinfo").unwrap();
    let hostname_before = nix::unistd::gethostname().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nsspec"))
        .env(&marker, "1")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    let n = catalogue_len();
    if privileged() {
        assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
        assert!(
            stdout.contains(&format!("\n{n} passed, 0 failed, 0 skipped")),
            "{stdout}"
        );
    } else {
        assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
        assert!(
            stdout.contains(&format!("\n0 passed, 0 failed, {n} skipped")),
            "{stdout}"
        );
        assert!(stdout.contains("needs CAP_SYS_ADMIN"), "{stdout}");
    }
    assert_eq!(
        std::fs::read("/proc/self/mountinfo").unwrap(),
        mountinfo_before
    );
    assert_eq!(nix::unistd::gethostname().unwrap(), hostname_before);
    assert_no_process_with(&marker);
}

#[test]
fn a_broken_expectation_fails_naming_the_step() {
    let out = nsspec(&["run", "harness/tests/fixtures/broken-expectation.yaml"]);
    let (stdout, stderr) = text(&out);
    if !privileged() {
        assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
        return assert!(stdout.contains("SKIP"));
    }
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "harness/tests/fixtures/broken-expectation.yaml:7: init step 2 `kill(parent, SIGKILL)`: \
             expected ok, observed pid host-pid#2: ESRCH: No such process"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n0 passed, 1 failed, 0 skipped"),
        "{stdout}"
    );
}

#[test]
fn a_hanging_scenario_times_out_naming_the_step_and_leaves_nothing() {
    if !privileged() {
        return;
    }
    let marker = format!("NSSPEC_HANG_MARKER_{}", std::process::id());
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_nsspec"))
        .args(["run", "harness/tests/fixtures/hang.yaml"])
        .current_dir(root())
        .env(&marker, "1")
        .output()
        .unwrap();
    let took = started.elapsed();
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("timed out after 1s in step 2 of init (line 11: `await(never)`)"),
        "{stdout}"
    );
    // The limit is 1 s; killing and reaping must not take more than one more second.
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_no_process_with(&marker);
}

/// Fails if any process still carries `marker` in its environment (inherited from the run).
fn assert_no_process_with(marker: &str) {
    let needle = format!("{marker}=1");
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if let Ok(env) = std::fs::read(format!("/proc/{pid}/environ"))
            && env.split(|b| *b == 0).any(|v| v == needle.as_bytes())
        {
            found.push(pid);
        }
    }
    assert!(
        found.is_empty(),
        "processes of the run still alive: {found:?}"
    );
}
