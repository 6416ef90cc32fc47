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

/// The host facts, from `nsspec probe` (this test process is multi-threaded: it must not fork
/// the way the probe does).
fn probe() -> serde_json::Value {
    let out = nsspec(&["probe", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    serde_json::from_slice(&out.stdout).expect("probe prints JSON")
}

fn privileged() -> bool {
    probe()["mode"] == "root"
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
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let skips: Vec<&str> = stdout.lines().filter(|l| l.starts_with("SKIP")).collect();
    let passes = stdout.lines().filter(|l| l.starts_with("PASS")).count();
    assert_eq!(passes + skips.len(), n, "{stdout}");
    assert!(
        stdout.contains(&format!(
            "\n{passes} passed, 0 failed, {} skipped",
            skips.len()
        )),
        "{stdout}"
    );
    if privileged() {
        // As root only scenarios written for other kernel versions may be skipped.
        for s in &skips {
            assert!(s.contains("kernel"), "unexpected skip as root: {s}");
        }
        assert!(passes >= 12, "{stdout}");
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
        .args(["run", "harness/tests/faults/hang.yaml"])
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

#[test]
fn probe_reports_what_proc_shows() {
    let p = probe();
    let mut kinds: Vec<String> = std::fs::read_dir("/proc/self/ns")
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    kinds.sort();
    let mut probed: Vec<String> = p["ns_kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    probed.sort();
    assert_eq!(probed, kinds);
    let limit = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap();
    assert_eq!(p["sysctls"]["user.max_user_namespaces"], limit.trim());
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let capeff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .unwrap()
        .trim();
    assert_eq!(p["cap_eff"], u64::from_str_radix(capeff, 16).unwrap());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(p["kernel_release"], kernel.trim());
    // The mode follows from what was measured.
    let direct_mount = p["direct"]["mount"] == "ok";
    let cap = p["cap_sys_admin"].as_bool().unwrap();
    if cap && direct_mount {
        assert_eq!(p["mode"], "root");
    } else if p["in_userns"]["mount"] == "ok" {
        assert_eq!(p["mode"], "rootless");
    } else {
        assert!(p["mode"]["unavailable"].is_string(), "{p}");
    }
    let human = text(&nsspec(&["probe"])).0;
    assert!(human.contains("nsspec runs scenarios here as"), "{human}");
}

/// A copy of the nsspec binary that an unprivileged user can execute.
fn world_executable_nsspec() -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("nsspec-test-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.join("nsspec");
    std::fs::copy(env!("CARGO_BIN_EXE_nsspec"), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn as_nobody(bin: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(bin)
        .args(args)
        .current_dir("/");
    c
}

#[test]
fn as_nobody_rootless_scenarios_pass_and_the_rest_skip_with_reasons() {
    if !privileged() {
        return; // switching to nobody needs root; the unprivileged path is what this tests
    }
    let bin = world_executable_nsspec();
    let probe: serde_json::Value = serde_json::from_slice(
        &as_nobody(&bin, &["probe", "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let out = as_nobody(&bin, &["run"]).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let n = catalogue_len();
    let skips: Vec<&str> = stdout.lines().filter(|l| l.starts_with("SKIP")).collect();
    let passes = stdout.lines().filter(|l| l.starts_with("PASS")).count();
    assert!(
        stdout.contains(&format!(
            "\n{passes} passed, 0 failed, {} skipped",
            skips.len()
        )),
        "{stdout}"
    );
    assert_eq!(passes + skips.len(), n, "{stdout}");
    if probe["mode"] == "rootless" {
        assert!(
            stdout.contains("rootless (in a user namespace of its own)"),
            "{stdout}"
        );
        // Passing means the record equals the snapshot recorded as root.
        assert!(stdout.contains("PASS  pid/kill-ancestor"), "{stdout}");
        assert!(stdout.contains("PASS  user/root-inside"), "{stdout}");
        let root_only = skips
            .iter()
            .find(|s| s.contains("user/unprivileged-setgroups"))
            .expect(&stdout);
        assert!(root_only.contains("needs root"), "{root_only}");
        for s in &skips {
            assert!(
                s.contains("needs root") || s.contains("kernel"),
                "unexpected skip: {s}"
            );
        }
    } else {
        assert_eq!(passes, 0, "{stdout}");
        for s in &skips {
            assert!(
                s.contains("needs CAP_SYS_ADMIN or unprivileged user namespaces"),
                "{s}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(bin.parent().unwrap());
}

#[test]
fn with_user_namespaces_switched_off_everything_skips_naming_the_sysctl() {
    use std::io::Write as _;
    use std::os::unix::process::CommandExt;
    if !privileged() {
        return; // building the throwaway namespace needs root
    }
    let host_limit = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap();
    let bin = world_executable_nsspec();
    // A throwaway user and mount namespace: the limit is per user namespace (and applies to
    // everything below it), so setting it to 0 in here leaves the host's value alone. The
    // shell starts unmapped (without capabilities); once we have written its maps, the
    // re-exec as uid 0 regains them, and setpriv finally drops to nobody.
    let script = format!(
        "read go; exec sh -c 'echo 0 > /proc/sys/user/max_user_namespaces && \
         exec setpriv --reuid=65534 --regid=65534 --clear-groups -- {} run'",
        bin.display()
    );
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &script])
        .current_dir("/")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    // SAFETY: unshare is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    let pid = child.id();
    std::fs::write(format!("/proc/{pid}/uid_map"), "0 0 65536").unwrap();
    std::fs::write(format!("/proc/{pid}/gid_map"), "0 0 65536").unwrap();
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let n = catalogue_len();
    assert!(
        stdout.contains(&format!("\n0 passed, 0 failed, {n} skipped")),
        "{stdout}"
    );
    for s in stdout.lines().filter(|l| l.starts_with("SKIP")) {
        assert!(s.contains("user.max_user_namespaces is 0"), "{s}");
        assert!(s.contains("vm/run"), "{s}");
    }
    assert_eq!(
        std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap(),
        host_limit
    );
    let _ = std::fs::remove_dir_all(bin.parent().unwrap());
}

/// Runs a fault scenario and checks the host afterwards: the caller's mount table and hostname
/// are as before and no process of the run is alive.
fn run_fault(file: &str) -> (Option<i32>, String) {
    let marker = format!(
        "NSSPEC_FAULT_{}_{}",
        std::process::id(),
        file.replace(['/', '.', '-'], "_")
    );
    let mountinfo = std::fs::read("/proc/self/mountinfo").unwrap();
    let hostname = nix::unistd::gethostname().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nsspec"))
        .args(["run", file])
        .current_dir(root())
        .env(&marker, "1")
        .output()
        .unwrap();
    assert_eq!(
        std::fs::read("/proc/self/mountinfo").unwrap(),
        mountinfo,
        "{file}"
    );
    assert_eq!(nix::unistd::gethostname().unwrap(), hostname, "{file}");
    assert_no_process_with(&marker);
    (out.status.code(), text(&out).0)
}

#[test]
fn a_crashing_init_fails_the_scenario_and_leaves_nothing() {
    if !privileged() {
        return;
    }
    let (code, stdout) = run_fault("harness/tests/faults/init-crashes.yaml");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("init-crashes.yaml:13: init step 3 `getpid()`: did not complete"),
        "{stdout}"
    );
    assert!(stdout.contains("ended: killed by SIGSEGV"), "{stdout}");
    let (code, stdout) = run_fault("harness/tests/faults/init-aborts.yaml");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("init step 3 `wait(child)`: did not complete"),
        "{stdout}"
    );
}

#[test]
fn hostile_mounts_and_hostname_land_in_the_sandbox() {
    if !privileged() {
        return;
    }
    // The scenario expects the damage in its outer view (the sandbox); run_fault checks that
    // the real host saw none of it.
    let (code, stdout) = run_fault("harness/tests/faults/hostile-mounts.yaml");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("PASS  hostile-mounts"), "{stdout}");
}

#[test]
fn enormous_observations_are_capped() {
    if !privileged() {
        return;
    }
    let (code, stdout) = run_fault("harness/tests/faults/spew.yaml");
    assert_eq!(code, Some(0), "{stdout}");
}

#[test]
fn killing_nsspec_with_sigkill_mid_run_leaves_nothing_behind() {
    if !privileged() {
        return;
    }
    let marker = format!("NSSPEC_SIGKILL_MARKER_{}", std::process::id());
    let mut child = Command::new(env!("CARGO_BIN_EXE_nsspec"))
        .args(["run", "harness/tests/faults/hang.yaml"])
        .current_dir(root())
        .env(&marker, "1")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the scenario is under way: runner, supervisor, init, its child, host.
    let started = Instant::now();
    while processes_with(&marker).len() < 5 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the scenario did not start"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    child.wait().unwrap();
    // PR_SET_PDEATHSIG and the namespace's init take the rest down; give the kernel a moment.
    let killed = Instant::now();
    while !processes_with(&marker).is_empty() && killed.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_no_process_with(&marker);
    // The killed run's pids cgroup could not be removed by anyone; the next run removes it.
    let out = nsspec(&["run", "harness/tests/fixtures/broken-expectation.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stale_cgroups(), Vec::<PathBuf>::new());
}

#[test]
fn parallel_runs_record_exactly_what_serial_runs_record() {
    let records = |jobs: &str| -> Vec<(String, String, Option<String>)> {
        let out = nsspec(&["run", "--json", "-j", jobs]);
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
        text(&out)
            .0
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["id"].as_str().unwrap().to_string(),
                    v["status"].as_str().unwrap().to_string(),
                    v["record"].as_str().map(str::to_string),
                )
            })
            .collect()
    };
    let serial = records("1");
    assert_eq!(serial.len(), catalogue_len());
    for _ in 0..3 {
        assert_eq!(records("8"), serial);
    }
}

#[test]
fn a_fork_bomb_is_contained_by_the_pids_limit() {
    if !privileged() {
        return;
    }
    let (code, stdout) = run_fault("harness/tests/faults/fork-bomb.yaml");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("PASS  fork-bomb"), "{stdout}");
    assert_eq!(stale_cgroups(), Vec::<PathBuf>::new());
}

/// `nsspec-<pid>` cgroups whose supervisor is gone, in the places the harness creates them.
fn stale_cgroups() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![
        PathBuf::from("/sys/fs/cgroup/pids"),
        PathBuf::from("/sys/fs/cgroup"),
    ];
    let mut i = 0;
    while i < dirs.len() {
        if let Ok(entries) = std::fs::read_dir(&dirs[i]) {
            for e in entries.flatten() {
                let name = e.file_name().into_string().unwrap_or_default();
                if let Some(pid) = name
                    .strip_prefix("nsspec-")
                    .and_then(|p| p.parse::<i32>().ok())
                    && !Path::new(&format!("/proc/{pid}")).exists()
                {
                    out.push(e.path());
                } else if dirs.len() < 64 && e.path().is_dir() && i == 0 {
                    // One level of nesting: the harness's own cgroup may be a child.
                    dirs.push(e.path());
                }
            }
        }
        i += 1;
    }
    out
}

fn processes_with(marker: &str) -> Vec<u32> {
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
    found
}

/// Fails if any process still carries `marker` in its environment (inherited from the run).
fn assert_no_process_with(marker: &str) {
    let found = processes_with(marker);
    assert!(
        found.is_empty(),
        "processes of the run still alive: {found:?}"
    );
}
