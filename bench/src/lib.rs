//! Pieces of the benchmark driver that are worth testing on their own: the floor program's
//! work, reading hyperfine's JSON and GNU time's report, the arithmetic, and rendering
//! BENCHMARKS.md.

use std::fmt::Write as _;

pub mod link_order;

/// Exit codes of the floor's processes, so a failure says which step failed.
pub const FLOOR_UNSHARE: i32 = 2;
pub const FLOOR_FORK: i32 = 3;
pub const FLOOR_PRIVATE: i32 = 4;
pub const FLOOR_PROC: i32 = 5;
pub const FLOOR_NOT_PID1: i32 = 6;
pub const FLOOR_WAIT: i32 = 7;

/// The least a harness must do to run one scenario in fresh PID and mount namespaces with a
/// fresh /proc: fork a helper (so the caller keeps its namespaces), unshare(CLONE_NEWPID |
/// CLONE_NEWNS), fork the namespace's PID 1, make every mount private, mount proc, exit, and
/// reap both. The children only make async-signal-safe calls (no allocation), so this is safe
/// to call from a multi-threaded process such as a test harness.
pub fn floor_once() -> Result<(), String> {
    // SAFETY: the child calls only async-signal-safe functions before _exit.
    match unsafe { libc::fork() } {
        -1 => Err(format!("fork: {}", std::io::Error::last_os_error())),
        0 => {
            let code = floor_helper();
            // SAFETY: _exit is always safe to call.
            unsafe { libc::_exit(code) }
        }
        pid => match wait_exit_code(pid) {
            Some(0) => Ok(()),
            Some(FLOOR_UNSHARE) => Err("unshare(CLONE_NEWPID|CLONE_NEWNS) failed".into()),
            Some(FLOOR_FORK) => Err("fork into the new PID namespace failed".into()),
            Some(FLOOR_PRIVATE) => Err("mount(/, MS_REC|MS_PRIVATE) failed".into()),
            Some(FLOOR_PROC) => Err("mounting proc on /proc failed".into()),
            Some(FLOOR_NOT_PID1) => Err("getpid() != 1 in the new PID namespace".into()),
            other => Err(format!("the floor's helper ended abnormally ({other:?})")),
        },
    }
}

/// The helper: creates the namespaces and forks their init; returns init's exit code.
fn floor_helper() -> i32 {
    // SAFETY: unshare has no memory-safety preconditions.
    if unsafe { libc::unshare(libc::CLONE_NEWPID | libc::CLONE_NEWNS) } != 0 {
        return FLOOR_UNSHARE;
    }
    // SAFETY: as in floor_once.
    match unsafe { libc::fork() } {
        -1 => FLOOR_FORK,
        0 => {
            let code = floor_init();
            // SAFETY: _exit is always safe to call.
            unsafe { libc::_exit(code) }
        }
        pid => wait_exit_code(pid).unwrap_or(FLOOR_WAIT),
    }
}

/// PID 1 of the new namespace: private mounts, a fresh procfs, done.
fn floor_init() -> i32 {
    // SAFETY: getpid has no preconditions.
    if unsafe { libc::getpid() } != 1 {
        return FLOOR_NOT_PID1;
    }
    let root = c"/";
    let proc = c"proc";
    let target = c"/proc";
    // SAFETY: every pointer is a valid NUL-terminated string or null, as mount(2) allows.
    let private = unsafe {
        libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    };
    if private != 0 {
        return FLOOR_PRIVATE;
    }
    // SAFETY: as above.
    let mounted = unsafe {
        libc::mount(
            proc.as_ptr(),
            target.as_ptr(),
            proc.as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            std::ptr::null(),
        )
    };
    if mounted != 0 {
        return FLOOR_PROC;
    }
    0
}

/// Waits for `pid`; its exit code, or `None` when it was killed or could not be waited for.
fn wait_exit_code(pid: libc::pid_t) -> Option<i32> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return None;
        }
    }
    libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status))
}

/// One command's timings from hyperfine's `--export-json`, in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    pub command: String,
    pub mean: f64,
    pub stddev: f64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub runs: usize,
    /// Every run's time, when hyperfine exported them.
    pub times: Vec<f64>,
}

impl Timing {
    /// Timings of one command from several hyperfine invocations, pooled into one: the
    /// statistics are recomputed over every run. Interleaving rounds of all commands spreads
    /// a passing load over every command instead of the one measured at the time.
    pub fn pool(parts: &[Timing]) -> Option<Timing> {
        let mut times: Vec<f64> = parts.iter().flat_map(|t| t.times.iter().copied()).collect();
        if times.is_empty() {
            return None;
        }
        times.sort_by(f64::total_cmp);
        let n = times.len();
        let mean = times.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            times.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        let median = if n % 2 == 1 {
            times[n / 2]
        } else {
            (times[n / 2 - 1] + times[n / 2]) / 2.0
        };
        Some(Timing {
            command: parts[0].command.clone(),
            mean,
            stddev: var.sqrt(),
            median,
            min: times[0],
            max: times[n - 1],
            runs: n,
            times,
        })
    }
}

/// Reads the `results` of a hyperfine JSON export, in the order the commands were given.
pub fn parse_hyperfine(json: &str) -> Result<Vec<Timing>, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("hyperfine JSON: {e}"))?;
    let results = v["results"]
        .as_array()
        .ok_or("hyperfine JSON: no `results` array")?;
    results
        .iter()
        .map(|r| {
            let num = |k: &str| {
                r[k].as_f64()
                    .ok_or_else(|| format!("hyperfine JSON: result without a numeric `{k}`"))
            };
            Ok(Timing {
                command: r["command"].as_str().unwrap_or_default().to_string(),
                mean: num("mean")?,
                stddev: r["stddev"].as_f64().unwrap_or(0.0),
                median: num("median")?,
                min: num("min")?,
                max: num("max")?,
                runs: r["times"].as_array().map_or(0, Vec::len),
                times: r["times"]
                    .as_array()
                    .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// "Maximum resident set size (kbytes): N" from `/usr/bin/time -v`, in KiB.
pub fn parse_max_rss_kib(time_v: &str) -> Option<u64> {
    time_v.lines().find_map(|l| {
        l.trim()
            .strip_prefix("Maximum resident set size (kbytes):")
            .and_then(|n| n.trim().parse().ok())
    })
}

/// The cost of one more iteration: `(t_n - t_1) / (n - 1)`, where `t_1` and `t_n` are the
/// times of a process doing the work once and `n` times. Process start-up cancels out.
pub fn marginal(t_1: f64, t_n: f64, n: usize) -> f64 {
    assert!(n > 1, "the marginal cost needs n > 1");
    (t_n - t_1) / (n - 1) as f64
}

/// Seconds, in the unit that reads best.
pub fn fmt_secs(s: f64) -> String {
    if s.abs() < 1e-3 {
        format!("{:.0} µs", s * 1e6)
    } else if s.abs() < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

pub fn fmt_ratio(r: f64) -> String {
    format!("{r:.2}×")
}

/// One line of the results table.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub id: String,
    pub what: String,
    /// The command line(s) measured, shown in code font.
    pub command: String,
    /// The figure itself, formatted (a time, a size, or "not measured: ...").
    pub value: String,
    /// Mean ± σ and the number of runs, when it is a timing.
    pub spread: String,
    pub vs_unshare: String,
    pub vs_floor: String,
}

/// A target of issue 7 and whether the measurement meets it.
#[derive(Debug, Clone)]
pub struct Target {
    pub target: String,
    pub measured: String,
    /// `Some(true)` met, `Some(false)` missed, `None` not measured.
    pub met: Option<bool>,
}

/// One phase of a single `nsspec run` (from `NSSPEC_TIMING=1` marks), over many runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// `role: what`, as nsspec marks it.
    pub phase: String,
    /// Median time from the runner's `main` to this mark, in µs.
    pub at_us: u64,
    /// In how many of the runs the mark appeared.
    pub runs: usize,
}

/// The `NSSPEC_TIMING=1` marks of one run's stderr: (phase, µs since the runner's `main`).
pub fn parse_timing(stderr: &str) -> Vec<(String, u64)> {
    stderr
        .lines()
        .filter_map(|l| {
            let mut f = l.strip_prefix("nsspec-timing ")?.splitn(3, ' ');
            let us = f.next()?.parse().ok()?;
            let _pid = f.next()?;
            Some((f.next()?.to_string(), us))
        })
        .collect()
}

/// The median of each phase over `runs` (the first mark of a phase in each run), in the order
/// of those medians.
pub fn phases(runs: &[Vec<(String, u64)>]) -> Vec<Phase> {
    let mut seen: Vec<(String, Vec<u64>)> = Vec::new();
    for run in runs {
        let mut here: Vec<&str> = Vec::new();
        for (phase, us) in run {
            if here.contains(&phase.as_str()) {
                continue;
            }
            here.push(phase);
            match seen.iter_mut().find(|(p, _)| p == phase) {
                Some((_, v)) => v.push(*us),
                None => seen.push((phase.clone(), vec![*us])),
            }
        }
    }
    let mut out: Vec<Phase> = seen
        .into_iter()
        .map(|(phase, mut v)| {
            v.sort_unstable();
            Phase {
                phase,
                at_us: v[v.len() / 2],
                runs: v.len(),
            }
        })
        .collect();
    out.sort_by_key(|p| p.at_us);
    out
}

/// Everything BENCHMARKS.md shows.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// (label, value) facts about the machine and the build.
    pub machine: Vec<(String, String)>,
    pub rows: Vec<Row>,
    pub targets: Vec<Target>,
    /// Where one `nsspec run` of the trivial scenario spends its time, and the command.
    pub phases: Vec<Phase>,
    pub phases_command: String,
    pub notes: Vec<String>,
    /// The exact commands, as run, in order.
    pub commands: Vec<String>,
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn code(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        s.split(" ; ")
            .map(|c| format!("`{}`", cell(c)))
            .collect::<Vec<_>>()
            .join("<br>")
    }
}

/// Renders BENCHMARKS.md.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmarks");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Generated by `just bench` (`bench/run`); do not edit by hand. Every figure below comes \
         from the same run on the same machine, so the ratios are comparable even when the \
         absolute times are noisy. Times are hyperfine medians; ratios divide medians."
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "## Machine");
    let _ = writeln!(s);
    let _ = writeln!(s, "| | |");
    let _ = writeln!(s, "|---|---|");
    for (k, v) in &r.machine {
        let _ = writeln!(s, "| {} | {} |", cell(k), cell(v));
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "## Figures");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| # | measurement | command | median | mean ± σ (runs) | × unshare(1) | × Rust floor |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for row in &r.rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&row.id),
            cell(&row.what),
            code(&row.command),
            cell(&row.value),
            cell(&row.spread),
            cell(&row.vs_unshare),
            cell(&row.vs_floor)
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "## Targets (issue 7)");
    let _ = writeln!(s);
    let _ = writeln!(s, "| target | measured | verdict |");
    let _ = writeln!(s, "|---|---|---|");
    for t in &r.targets {
        let verdict = match t.met {
            Some(true) => "met",
            Some(false) => "**not met**",
            None => "not measured",
        };
        let _ = writeln!(
            s,
            "| {} | {} | {verdict} |",
            cell(&t.target),
            cell(&t.measured)
        );
    }
    if !r.phases.is_empty() {
        let runs = r.phases.iter().map(|p| p.runs).max().unwrap_or(0);
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "## Where one `nsspec run` of the trivial scenario spends its time"
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "The phase marks nsspec writes with `NSSPEC_TIMING=1` (`{}`, {runs} runs): the \
             median time from the runner's `main` to each mark, and from the mark above. The \
             exec and the C library's start-up before `main` are not included. Marks of \
             different processes overlap in time (the guardian runs beside the supervisor), \
             and a parent's \"forked\" can come after its child's \"start\".",
            cell(&r.phases_command)
        );
        let _ = writeln!(s);
        let _ = writeln!(s, "| phase | since `main` | since the mark above |");
        let _ = writeln!(s, "|---|---|---|");
        let mut last = 0;
        for p in &r.phases {
            let _ = writeln!(
                s,
                "| {} | {} µs | {} µs |",
                cell(&p.phase),
                p.at_us,
                p.at_us.saturating_sub(last)
            );
            last = p.at_us;
        }
    }
    if !r.notes.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "## Notes");
        let _ = writeln!(s);
        for n in &r.notes {
            let _ = writeln!(s, "- {n}");
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "## Exact commands, in the order they ran");
    let _ = writeln!(s);
    let _ = writeln!(s, "```sh");
    for c in &r.commands {
        let _ = writeln!(s, "{c}");
    }
    let _ = writeln!(s, "```");
    let _ = writeln!(s);
    let _ = writeln!(s, "## Reproducing");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "As root, from the repository root: `just bench` (or `bench/run`). It installs \
         hyperfine and GNU time with apt-get when they are missing, builds the release binaries \
         and the `scenarios` test binary (build time is not measured), runs everything above in \
         one go and rewrites this file. `bench/run --quick` does fewer runs (a smoke test; its \
         figures are noisier). The profile behind the recommendations is in `bench/FINDINGS.md`."
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYPERFINE: &str = r#"{"results":[
        {"command":"unshare --pid --fork --mount --mount-proc true","mean":0.0017,
         "stddev":0.0003,"median":0.0016,"user":0.001,"system":0.0002,"min":0.0015,
         "max":0.0053,"times":[0.0015,0.0016,0.0053],"exit_codes":[0,0,0]},
        {"command":"nsspec run t.yaml","mean":0.0036,"stddev":null,"median":0.0034,
         "min":0.0027,"max":0.0156,"times":[0.0034],"exit_codes":[0]}]}"#;

    #[test]
    fn hyperfine_results_are_read_in_order() {
        let t = parse_hyperfine(HYPERFINE).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            t[0].command,
            "unshare --pid --fork --mount --mount-proc true"
        );
        assert_eq!(t[0].median, 0.0016);
        assert_eq!(t[0].runs, 3);
        assert_eq!(t[1].stddev, 0.0, "a single run has a null stddev");
        assert!(parse_hyperfine(r#"{"results":[{"command":"x"}]}"#).is_err());
        assert!(parse_hyperfine("not json").is_err());
    }

    #[test]
    fn pooled_rounds_recompute_the_statistics() {
        let t = parse_hyperfine(HYPERFINE).unwrap();
        let second = Timing {
            times: vec![0.0010, 0.0020],
            ..t[0].clone()
        };
        let p = Timing::pool(&[t[0].clone(), second]).unwrap();
        assert_eq!(p.runs, 5);
        assert_eq!(p.times, vec![0.0010, 0.0015, 0.0016, 0.0020, 0.0053]);
        assert_eq!(p.median, 0.0016);
        assert_eq!((p.min, p.max), (0.0010, 0.0053));
        assert!((p.mean - 0.00228).abs() < 1e-12, "{}", p.mean);
        let even = Timing::pool(&[Timing {
            times: vec![4.0, 1.0, 3.0, 2.0],
            ..t[0].clone()
        }])
        .unwrap();
        assert_eq!(even.median, 2.5);
        assert!(Timing::pool(&[]).is_none());
    }

    #[test]
    fn timing_marks_become_median_phases_in_order() {
        let run = |a: u64, b: u64| {
            format!(
                "PASS  trivial  2 ms\nnsspec-timing 3 10 runner: start\n\
                 nsspec-timing {a} 11 supervisor: start\nnot a mark\n\
                 nsspec-timing {b} 1 init: start\nnsspec-timing {} 1 init: start\n",
                b + 50
            )
        };
        let parsed = parse_timing(&run(100, 90));
        assert_eq!(
            parsed,
            vec![
                ("runner: start".to_string(), 3),
                ("supervisor: start".to_string(), 100),
                ("init: start".to_string(), 90),
                ("init: start".to_string(), 140),
            ]
        );
        let p = phases(&[
            parse_timing(&run(100, 90)),
            parse_timing(&run(300, 400)),
            parsed,
        ]);
        let got: Vec<(&str, u64, usize)> = p
            .iter()
            .map(|p| (p.phase.as_str(), p.at_us, p.runs))
            .collect();
        // Medians of 100/300/100 and 90/400/90 (a phase's first mark per run), ordered by them.
        assert_eq!(
            got,
            vec![
                ("runner: start", 3, 3),
                ("init: start", 90, 3),
                ("supervisor: start", 100, 3)
            ]
        );
        assert!(phases(&[]).is_empty());
    }

    #[test]
    fn max_rss_is_read_from_gnu_time() {
        let text = "\tCommand being timed: \"nsspec run\"\n\
                    \tMaximum resident set size (kbytes): 5432\n\
                    \tExit status: 0\n";
        assert_eq!(parse_max_rss_kib(text), Some(5432));
        assert_eq!(parse_max_rss_kib("Exit status: 0"), None);
    }

    #[test]
    fn marginal_cost_cancels_start_up() {
        // 3 ms start-up + 1.5 ms per iteration: once = 4.5 ms, 101 times = 154.5 ms.
        let m = marginal(0.0045, 0.1545, 101);
        assert!((m - 0.0015).abs() < 1e-12, "{m}");
    }

    #[test]
    fn times_are_formatted_in_a_readable_unit() {
        assert_eq!(fmt_secs(0.000_25), "250 µs");
        assert_eq!(fmt_secs(0.001_66), "1.66 ms");
        assert_eq!(fmt_secs(2.5), "2.50 s");
        assert_eq!(fmt_ratio(0.849), "0.85×");
    }

    #[test]
    fn report_has_every_row_target_and_command() {
        let r = Report {
            machine: vec![("cores".into(), "2".into())],
            rows: vec![Row {
                id: "1".into(),
                what: "raw floor".into(),
                command: "unshare -pfm --mount-proc true ; a|b".into(),
                value: "1.60 ms".into(),
                vs_unshare: "1.00×".into(),
                ..Row::default()
            }],
            targets: vec![
                Target {
                    target: "peak RSS < 20 MiB".into(),
                    measured: "5 MiB".into(),
                    met: Some(true),
                },
                Target {
                    target: "VM ≤ 3 s".into(),
                    measured: "not measured: vm/run missing".into(),
                    met: None,
                },
            ],
            phases: vec![
                Phase {
                    phase: "runner: start".into(),
                    at_us: 4,
                    runs: 3,
                },
                Phase {
                    phase: "init: start".into(),
                    at_us: 2100,
                    runs: 3,
                },
            ],
            phases_command: "NSSPEC_TIMING=1 nsspec run t.yaml".into(),
            notes: vec!["a note".into()],
            commands: vec!["hyperfine -N 'x'".into()],
        };
        let md = render(&r);
        assert!(md.contains("(`NSSPEC_TIMING=1 nsspec run t.yaml`, 3 runs)"));
        assert!(
            md.contains("| runner: start | 4 µs | 4 µs |\n| init: start | 2100 µs | 2096 µs |")
        );
        assert!(!render(&Report::default()).contains("spends its time"));
        assert!(md.contains("| cores | 2 |"));
        assert!(
            md.contains(
                "| 1 | raw floor | `unshare -pfm --mount-proc true`<br>`a\\|b` | 1.60 ms |"
            )
        );
        assert!(md.contains("| peak RSS < 20 MiB | 5 MiB | met |"));
        assert!(md.contains("| VM ≤ 3 s | not measured: vm/run missing | not measured |"));
        assert!(md.contains("- a note"));
        assert!(md.contains("```sh\nhyperfine -N 'x'\n```"));
    }

    /// Needs root (CAP_SYS_ADMIN), like the rest of the project's tests.
    #[test]
    fn the_floor_runs_in_a_fresh_pid_namespace() {
        floor_once().unwrap();
    }
}
