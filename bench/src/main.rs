//! `nsspec-bench`: measures, in one run, the raw namespace floor, nsspec on a trivial scenario
//! (CLI and in-process), the built-in catalogue (`nsspec run` and `cargo test`), peak RSS and,
//! when `vm/run` exists, the VM's boot-to-result; then writes BENCHMARKS.md.
//!
//! Run it through `bench/run` (or `just bench`), which installs hyperfine and GNU time and
//! builds what is measured. Run from the repository root, as root.
//!
//! Options: `--quick` (fewer runs), `--out PATH` (default BENCHMARKS.md).
//! Environment: `NSSPEC_BENCH_VM_ARGS` — extra `vm/run` options placed before `--`
//! (e.g. `--kernel 6.1`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nsspec_bench::{
    Report, Row, Target, Timing, fmt_ratio, fmt_secs, link_order, marginal, parse_hyperfine,
    parse_max_rss_kib, parse_timing, phases, render,
};

/// How many copies of the trivial scenario one `nsspec run` executes for the in-process cost.
const COPIES: usize = 100;
const COPIES_QUICK: usize = 20;

struct Runs {
    /// Commands of a few milliseconds.
    fast: (usize, usize),
    /// Commands of tens to hundreds of milliseconds.
    medium: (usize, usize),
    /// `cargo test`.
    slow: (usize, usize),
    /// The VM (after one unmeasured run that also fetches the kernel).
    vm: usize,
    /// /usr/bin/time -v repetitions; the largest peak is reported.
    rss: usize,
    /// `NSSPEC_TIMING=1` runs of the trivial scenario for the phase table.
    phases: usize,
    copies: usize,
    /// The per-execution and in-process groups are measured in this many interleaved rounds.
    rounds: usize,
}

const FULL: Runs = Runs {
    fast: (300, 20),
    medium: (30, 3),
    slow: (5, 1),
    vm: 5,
    rss: 5,
    phases: 200,
    copies: COPIES,
    rounds: 3,
};
const QUICK: Runs = Runs {
    fast: (40, 5),
    medium: (5, 1),
    slow: (2, 0),
    vm: 1,
    rss: 2,
    phases: 20,
    copies: COPIES_QUICK,
    rounds: 1,
};

const UNSHARE: &str = "unshare --pid --fork --mount --mount-proc true";
const TIME: &str = "/usr/bin/time";
/// Cargo's target directory, as bench/run and cargo see it: $CARGO_TARGET_DIR (a relative one
/// taken from the working directory, the repository's root), or target/. Without it a user who
/// sets CARGO_TARGET_DIR would measure whatever stale binaries target/ still held.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
}

fn main() {
    let mut quick = false;
    let mut out = PathBuf::from("BENCHMARKS.md");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--out" => match args.next() {
                Some(p) => out = PathBuf::from(p),
                None => usage(),
            },
            _ => usage(),
        }
    }
    if let Err(e) = Bench::new(if quick { QUICK } else { FULL }, quick).run(&out) {
        eprintln!("nsspec-bench: {e}");
        std::process::exit(1);
    }
}

fn usage() -> ! {
    eprintln!("usage: nsspec-bench [--quick] [--out BENCHMARKS.md]   (run from the repo root)");
    std::process::exit(2);
}

struct Bench {
    runs: Runs,
    quick: bool,
    report: Report,
    nsspec: String,
    /// The dynamically linked build (`bench/run` makes it), measured beside the default one.
    nsspec_dynamic: String,
    floor: String,
    work: PathBuf,
}

/// Quotes a word for a POSIX shell when it needs it.
fn quote(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

fn shell_line(words: &[&str]) -> String {
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

/// Runs a command to completion; its stdout, or an error with its stderr.
fn capture(words: &[&str]) -> Result<String, String> {
    let out = Command::new(words[0])
        .args(&words[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", shell_line(words)))?;
    if !out.status.success() {
        return Err(format!(
            "`{}` failed ({}):\n{}{}",
            shell_line(words),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `cmd` with stdin and stdout on /dev/null and returns its stderr; `shown` is how the
/// command reads in an error.
fn stderr_of(cmd: &mut Command, shown: &str) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Err(format!("`{shown}` failed ({}): {err}", out.status));
    }
    Ok(err)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().trim().to_string()
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

impl Bench {
    fn new(runs: Runs, quick: bool) -> Bench {
        let dir = target_dir();
        let release = dir.join("x86_64-unknown-linux-gnu/release");
        Bench {
            runs,
            quick,
            report: Report::default(),
            // Where `cargo build --release` puts the binaries (statically linked:
            // .cargo/config.toml), and where bench/run puts the dynamically linked nsspec.
            nsspec: release.join("nsspec").display().to_string(),
            nsspec_dynamic: dir
                .join("dynamic/x86_64-unknown-linux-gnu/release/nsspec")
                .display()
                .to_string(),
            floor: release.join("floor").display().to_string(),
            work: dir.join("bench"),
        }
    }

    /// `rounds` hyperfine invocations over `cmds`, each with runs/rounds runs, pooled.
    fn rounds(
        &mut self,
        rounds: usize,
        (runs, warmup): (usize, usize),
        cmds: &[(&str, String)],
    ) -> Result<Vec<Timing>, String> {
        let per = runs.div_ceil(rounds).max(2);
        let mut parts: Vec<Vec<Timing>> = vec![Vec::new(); cmds.len()];
        for round in 0..rounds {
            eprintln!("-- round {} of {rounds}", round + 1);
            let t = self.hyperfine((per, warmup), &[], cmds)?;
            for (i, t) in t.into_iter().enumerate() {
                parts[i].push(t);
            }
        }
        if rounds > 1 {
            let first = self.report.commands.len() - rounds;
            let line = self.report.commands.split_off(first).remove(0);
            self.report
                .commands
                .push(format!("{line}   # {rounds} rounds, all runs pooled"));
        }
        parts
            .iter()
            .map(|p| Timing::pool(p).ok_or_else(|| "hyperfine exported no run times".into()))
            .collect()
    }

    /// One hyperfine invocation over `cmds` (name, command line); timings in the same order.
    fn hyperfine(
        &mut self,
        (runs, warmup): (usize, usize),
        env: &[(&str, &str)],
        cmds: &[(&str, String)],
    ) -> Result<Vec<Timing>, String> {
        let json = self.work.join("hyperfine.json");
        let mut words: Vec<String> = [
            "hyperfine",
            "-N",
            "--style",
            "basic",
            "--runs",
            &runs.to_string(),
            "--warmup",
            &warmup.to_string(),
            "--export-json",
            &json.to_string_lossy(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for (name, cmd) in cmds {
            words.extend(["-n".to_string(), name.to_string(), cmd.clone()]);
        }
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let prefix: String = env
            .iter()
            .map(|(k, v)| format!("{k}={} ", quote(v)))
            .collect();
        self.report
            .commands
            .push(format!("{prefix}{}", shell_line(&refs)));
        let status = Command::new("hyperfine")
            .args(&words[1..])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run hyperfine: {e}"))?;
        if !status.success() {
            return Err(format!("hyperfine failed ({status}); see its output above"));
        }
        let text =
            std::fs::read_to_string(&json).map_err(|e| format!("{}: {e}", json.display()))?;
        let t = parse_hyperfine(&text)?;
        if t.len() != cmds.len() {
            return Err(format!(
                "hyperfine reported {} results for {} commands",
                t.len(),
                cmds.len()
            ));
        }
        Ok(t)
    }

    /// The largest peak RSS (KiB) over `reps` runs of `words` under GNU time.
    fn max_rss(&mut self, words: &[&str]) -> Result<u64, String> {
        let mut full = vec![TIME, "-v"];
        full.extend_from_slice(words);
        self.report.commands.push(format!(
            "{}   # {} times; the largest peak is reported",
            shell_line(&full),
            self.runs.rss
        ));
        let mut peak = 0;
        for _ in 0..self.runs.rss {
            let err = stderr_of(Command::new(TIME).arg("-v").args(words), &shell_line(&full))?;
            let kib = parse_max_rss_kib(&err)
                .ok_or_else(|| format!("no peak RSS in the output of {TIME} -v: {err}"))?;
            peak = peak.max(kib);
        }
        Ok(peak)
    }

    /// Runs `nsspec run one` with `NSSPEC_TIMING=1`, `runs.phases` times, and keeps the median
    /// of each phase mark for the report.
    fn phases(&mut self, nsspec: &str, one: &str) -> Result<(), String> {
        let times = self.runs.phases;
        let line = format!("NSSPEC_TIMING=1 {} run {}", quote(nsspec), quote(one));
        self.report
            .commands
            .push(format!("{line}   # {times} times, the marks' medians"));
        let mut runs = Vec::new();
        for _ in 0..times {
            let mut cmd = Command::new(nsspec);
            cmd.args(["run", one]).env("NSSPEC_TIMING", "1");
            runs.push(parse_timing(&stderr_of(&mut cmd, &line)?));
        }
        self.report.phases = phases(&runs);
        // Without init's marks the scenario did not run (skipped): no table to speak of.
        if !self
            .report
            .phases
            .iter()
            .any(|p| p.phase.starts_with("init: "))
        {
            return Err(format!("`{line}` ran no scenario (no marks of init)"));
        }
        self.report.phases_command = line;
        Ok(())
    }

    fn machine(&mut self) {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or("unknown".into(), |(_, m)| m.trim().to_string());
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let mem = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
            })
            .map_or("unknown".into(), |kib| {
                format!("{:.1} GiB", kib as f64 / 1048576.0)
            });
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        let tool = |w: &[&str]| capture(w).map_or("unknown".into(), |s| first_line(&s));
        let commit = tool(&["git", "rev-parse", "--short", "HEAD"]);
        let dirty = capture(&["git", "status", "--porcelain", "--untracked-files=no"])
            .is_ok_and(|s| !s.trim().is_empty());
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let m = &mut self.report.machine;
        m.push(("CPU".into(), model));
        m.push((
            "cores (available to this process)".into(),
            cores.to_string(),
        ));
        m.push(("memory".into(), mem));
        m.push(("kernel".into(), kernel.trim().to_string()));
        m.push(("rustc".into(), tool(&["rustc", "-V"])));
        let layout = std::fs::read_to_string("harness/link-order.txt")
            .map_err(|e| format!("harness/link-order.txt: {e}"))
            .and_then(|order| {
                let symbols = link_order::function_symbols(Path::new(&self.nsspec))?;
                Ok(link_order::Layout::measure(
                    &link_order::listed(&order),
                    &link_order::by_normalized(&symbols),
                )
                .summary())
            });
        m.push((
            "code layout (harness/link-order.txt)".into(),
            layout.unwrap_or_else(|e| format!("unknown: {e}")),
        ));
        m.push(("hyperfine".into(), tool(&["hyperfine", "--version"])));
        m.push((
            "nsspec commit".into(),
            format!(
                "{commit}{}",
                if dirty { " + uncommitted changes" } else { "" }
            ),
        ));
        m.push((
            "load average at start".into(),
            load.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
        ));
        m.push((
            "date (UTC)".into(),
            tool(&["date", "-u", "+%Y-%m-%d %H:%M"]),
        ));
        m.push((
            "mode".into(),
            if self.quick {
                "--quick (few runs: noisy)".into()
            } else {
                "full".into()
            },
        ));
    }

    /// Writes the trivial scenario once and `copies` times into the work folder.
    fn prepare(&self) -> Result<(String, String), String> {
        let text = std::fs::read_to_string("bench/trivial.yaml")
            .map_err(|e| format!("bench/trivial.yaml: {e} (run from the repository root)"))?;
        let one = self.work.join("trivial.yaml");
        let many = self.work.join(format!("trivial-x{}", self.runs.copies));
        let _ = std::fs::remove_dir_all(&many);
        std::fs::create_dir_all(&many).map_err(|e| format!("{}: {e}", many.display()))?;
        std::fs::write(&one, &text).map_err(|e| format!("{}: {e}", one.display()))?;
        for i in 1..=self.runs.copies {
            let p = many.join(format!("t{i:04}.yaml"));
            std::fs::write(&p, &text).map_err(|e| format!("{}: {e}", p.display()))?;
        }
        Ok((
            one.to_string_lossy().into_owned(),
            many.to_string_lossy().into_owned(),
        ))
    }

    /// Checks that everything measured works: timing a failure would be meaningless.
    fn sanity(&mut self, one: &str, many: &str) -> Result<usize, String> {
        capture(&[
            "unshare",
            "--pid",
            "--fork",
            "--mount",
            "--mount-proc",
            "true",
        ])?;
        capture(&[&self.floor, &self.runs.copies.to_string()])?;
        let expect = |out: String, n: usize| -> Result<(), String> {
            let want = format!("{n} passed, 0 failed, 0 skipped");
            if out.contains(&want) {
                Ok(())
            } else {
                Err(format!("expected `{want}` from nsspec, got:\n{out}"))
            }
        };
        expect(capture(&[&self.nsspec, "run", one])?, 1)?;
        expect(capture(&[&self.nsspec_dynamic, "run", one])?, 1)?;
        expect(capture(&[&self.nsspec, "run", many])?, self.runs.copies)?;
        let listed = capture(&[&self.nsspec, "list"])?.lines().count();
        // The catalogue: nothing may fail; scenarios written for other kernels are skipped.
        let summary = capture(&[&self.nsspec, "run"])?;
        let skipped = summary.lines().filter(|l| l.starts_with("SKIP")).count();
        let want = format!("{} passed, 0 failed, {skipped} skipped", listed - skipped);
        if !summary.contains(&want) {
            return Err(format!("expected `{want}` from nsspec, got:\n{summary}"));
        }
        Ok(listed)
    }

    fn run(mut self, out: &Path) -> Result<(), String> {
        for tool in ["hyperfine", TIME, "unshare"] {
            if Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .stdout(Stdio::null())
                .status()
                .map_or(true, |s| !s.success())
            {
                return Err(format!(
                    "{tool} is missing: run `bench/run`, which installs it"
                ));
            }
        }
        for bin in [&self.nsspec, &self.nsspec_dynamic, &self.floor] {
            if !Path::new(bin).exists() {
                return Err(format!(
                    "{bin} is missing: run `bench/run`, which builds it"
                ));
            }
        }
        std::fs::create_dir_all(&self.work).map_err(|e| format!("{}: {e}", self.work.display()))?;
        self.machine();
        let (one, many) = self.prepare()?;
        let catalogue = self.sanity(&one, &many)?;
        let n = self.runs.copies;
        let (nsspec, floor) = (self.nsspec.clone(), self.floor.clone());
        let nsspec_dynamic = self.nsspec_dynamic.clone();

        // 1. Everything that takes milliseconds, in one hyperfine invocation.
        eprintln!("\n== per-execution costs");
        let fast = self.rounds(
            self.runs.rounds,
            self.runs.fast,
            &[
                ("unshare(1)", UNSHARE.to_string()),
                ("Rust floor, 1 iteration", format!("{floor} 1")),
                ("nsspec run trivial.yaml", format!("{nsspec} run {one}")),
                (
                    "nsspec run trivial.yaml, dynamically linked build",
                    format!("{nsspec_dynamic} run {one}"),
                ),
            ],
        )?;
        let (unshare, floor1, cli, cli_dynamic) = (&fast[0], &fast[1], &fast[2], &fast[3]);
        eprintln!("\n== in-process costs and the catalogue");
        let jobs = capture(&[&nsspec, "run", "--help"]).is_ok_and(|h| h.contains("--jobs"));
        // The single runs are measured again here, in the same rounds as the N-fold runs, so
        // that a load that comes and goes hits both sides of each difference alike.
        let mut medium_cmds = vec![
            ("Rust floor, N iterations", format!("{floor} {n}")),
            ("nsspec run N copies", format!("{nsspec} run {many}")),
            ("nsspec run (catalogue)", format!("{nsspec} run")),
            ("Rust floor, 1 iteration", format!("{floor} 1")),
            ("nsspec run trivial.yaml", format!("{nsspec} run {one}")),
        ];
        if jobs {
            medium_cmds.push(("nsspec run -j 1 (catalogue)", format!("{nsspec} run -j 1")));
        }
        let medium = self.rounds(self.runs.rounds, self.runs.medium, &medium_cmds)?;
        let (floor_n, nsspec_n, cat) = (&medium[0], &medium[1], &medium[2]);
        let floor_marginal = marginal(medium[3].median, floor_n.median, n);
        let nsspec_marginal = marginal(medium[4].median, nsspec_n.median, n);

        eprintln!("\n== cargo test (built beforehand; the build is not measured)");
        let test_bin = scenarios_test_binary()?;
        let slow = self.hyperfine(
            self.runs.slow,
            &[("CI", "true")],
            &[
                (
                    "cargo test --test scenarios",
                    "cargo test --test scenarios".into(),
                ),
                ("scenarios test binary", test_bin.clone()),
            ],
        )?;

        eprintln!("\n== where one CLI run spends its time");
        self.phases(&nsspec, &one)?;

        eprintln!("\n== peak RSS");
        let rss_cat = self.max_rss(&[&nsspec, "run"])?;
        let rss_one = self.max_rss(&[&nsspec, "run", &one])?;
        let rss_unshare = self.max_rss(&UNSHARE.split(' ').collect::<Vec<_>>())?;
        let rss_floor = self.max_rss(&[&floor, "1"])?;

        eprintln!("\n== VM boot-to-result (issue 5)");
        let vm = self.vm(&nsspec, &one)?;

        // ---- the table
        let u = unshare.median;
        let spread =
            |t: &Timing| format!("{} ± {} ({})", fmt_secs(t.mean), fmt_secs(t.stddev), t.runs);
        let rows = &mut self.report.rows;
        rows.push(Row {
            id: "1".into(),
            what: "raw floor: unshare(1), per execution".into(),
            command: UNSHARE.into(),
            value: fmt_secs(u),
            spread: spread(unshare),
            vs_unshare: fmt_ratio(1.0),
            vs_floor: fmt_ratio(u / floor1.median),
        });
        rows.push(Row {
            id: "2".into(),
            what: "raw floor: Rust fork+unshare+fork+private mounts+mount proc+exit, per execution"
                .into(),
            command: format!("{floor} 1"),
            value: fmt_secs(floor1.median),
            spread: spread(floor1),
            vs_unshare: fmt_ratio(floor1.median / u),
            vs_floor: fmt_ratio(1.0),
        });
        rows.push(Row {
            id: "3".into(),
            what: format!(
                "raw floor, in-process: one more iteration ((run of {n} − run of 1) ÷ {})",
                n - 1
            ),
            command: format!("{floor} {n}"),
            value: fmt_secs(floor_marginal),
            spread: format!("{n} iterations: {}", spread(floor_n)),
            vs_unshare: fmt_ratio(floor_marginal / u),
            vs_floor: "1.00× (in-process)".into(),
        });
        rows.push(Row {
            id: "4".into(),
            what: "nsspec, trivial scenario via the CLI (one process per scenario)".into(),
            command: format!("{nsspec} run {one}"),
            value: fmt_secs(cli.median),
            spread: spread(cli),
            vs_unshare: fmt_ratio(cli.median / u),
            vs_floor: fmt_ratio(cli.median / floor1.median),
        });
        rows.push(Row {
            id: "4d".into(),
            what: "the same, dynamically linked (`RUSTFLAGS=\"-C symbol-mangling-version=v0\"`, without crt-static: the dynamic loader runs at start-up)"
                .into(),
            command: format!("{nsspec_dynamic} run {one}"),
            value: fmt_secs(cli_dynamic.median),
            spread: spread(cli_dynamic),
            vs_unshare: fmt_ratio(cli_dynamic.median / u),
            vs_floor: fmt_ratio(cli_dynamic.median / floor1.median),
        });
        rows.push(Row {
            id: "5".into(),
            what: format!(
                "nsspec, trivial scenario in-process: one more scenario ((run of {n} copies − run of 1) ÷ {})",
                n - 1
            ),
            command: format!("{nsspec} run {many}"),
            value: fmt_secs(nsspec_marginal),
            spread: format!("{n} copies: {}", spread(nsspec_n)),
            vs_unshare: fmt_ratio(nsspec_marginal / u),
            vs_floor: format!("{} (in-process)", fmt_ratio(nsspec_marginal / floor_marginal)),
        });
        let per = |t: &Timing| t.median / catalogue as f64;
        rows.push(Row {
            id: "6".into(),
            what: format!("built-in catalogue ({catalogue} scenarios), `nsspec run`, wall"),
            command: format!("{nsspec} run"),
            value: format!("{} ({}/scenario)", fmt_secs(cat.median), fmt_secs(per(cat))),
            spread: spread(cat),
            vs_unshare: format!("{} per scenario", fmt_ratio(per(cat) / u)),
            vs_floor: fmt_ratio(per(cat) / floor1.median),
        });
        if jobs {
            let j1 = &medium[5];
            rows.push(Row {
                id: "6b".into(),
                what: "built-in catalogue, `nsspec run -j 1`, wall".into(),
                command: format!("{nsspec} run -j 1"),
                value: format!("{} ({}/scenario)", fmt_secs(j1.median), fmt_secs(per(j1))),
                spread: spread(j1),
                vs_unshare: format!("{} per scenario", fmt_ratio(per(j1) / u)),
                vs_floor: fmt_ratio(per(j1) / floor1.median),
            });
        } else {
            rows.push(Row {
                id: "6b".into(),
                what: "built-in catalogue, `-j 1` vs default".into(),
                value: "not measured: `nsspec run` has no `--jobs` option (it runs scenarios one after another)".into(),
                ..Row::default()
            });
        }
        for (id, t, what, command) in [
            (
                "7",
                &slow[0],
                "`cargo test --test scenarios`, wall, build excluded (CI=true)",
                "cargo test --test scenarios".to_string(),
            ),
            (
                "7b",
                &slow[1],
                "the same test binary run directly (no cargo)",
                test_bin.clone(),
            ),
        ] {
            rows.push(Row {
                id: id.into(),
                what: what.into(),
                command,
                value: format!("{} ({}/scenario)", fmt_secs(t.median), fmt_secs(per(t))),
                spread: spread(t),
                vs_unshare: format!("{} per scenario", fmt_ratio(per(t) / u)),
                vs_floor: fmt_ratio(per(t) / floor1.median),
            });
        }
        for (id, kib, what, cmd) in [
            (
                "8",
                rss_cat,
                "peak RSS, `nsspec run` on the catalogue",
                format!("{TIME} -v {nsspec} run"),
            ),
            (
                "8b",
                rss_one,
                "peak RSS, `nsspec run` on the trivial scenario",
                format!("{TIME} -v {nsspec} run {one}"),
            ),
            (
                "8c",
                rss_unshare,
                "peak RSS, unshare(1) (reference)",
                format!("{TIME} -v {UNSHARE}"),
            ),
            (
                "8d",
                rss_floor,
                "peak RSS, Rust floor (reference)",
                format!("{TIME} -v {floor} 1"),
            ),
        ] {
            rows.push(Row {
                id: id.into(),
                what: what.into(),
                command: cmd,
                value: mib(kib),
                spread: format!("largest of {} runs", self.runs.rss),
                vs_unshare: fmt_ratio(kib as f64 / rss_unshare as f64),
                vs_floor: fmt_ratio(kib as f64 / rss_floor as f64),
            });
        }
        let vm_targets = match &vm {
            Ok([(cmd, t), (cmd1, t1)]) => {
                rows.push(Row {
                    id: "9".into(),
                    what: format!(
                        "VM boot-to-result (issue 5): `vm/run` start to exit status, catalogue ({catalogue} scenarios), TCG"
                    ),
                    command: cmd.clone(),
                    value: fmt_secs(t.median),
                    spread: spread(t),
                    vs_unshare: fmt_ratio(t.median / u),
                    vs_floor: String::new(),
                });
                rows.push(Row {
                    id: "9b".into(),
                    what: "the same for the trivial scenario: what the VM itself costs".into(),
                    command: cmd1.clone(),
                    value: fmt_secs(t1.median),
                    spread: spread(t1),
                    vs_unshare: fmt_ratio(t1.median / u),
                    vs_floor: String::new(),
                });
                vec![
                    Target {
                        target:
                            "VM: ≤ 3 s boot-to-result per kernel under TCG (row 9, the catalogue)"
                                .into(),
                        measured: fmt_secs(t.median),
                        met: Some(t.median <= 3.0),
                    },
                    Target {
                        target: "the same for one trivial scenario (row 9b)".into(),
                        measured: fmt_secs(t1.median),
                        met: Some(t1.median <= 3.0),
                    },
                ]
            }
            Err(why) => {
                rows.push(Row {
                    id: "9".into(),
                    what: "VM boot-to-result (issue 5)".into(),
                    value: why.clone(),
                    ..Row::default()
                });
                vec![Target {
                    target: "VM: ≤ 3 s boot-to-result per kernel under TCG".into(),
                    measured: why.clone(),
                    met: None,
                }]
            }
        };

        // ---- targets
        let targets = &mut self.report.targets;
        targets.push(Target {
            target: "trivial scenario, in-process, ≤ 1.0× raw unshare (row 5 ÷ row 1)".into(),
            measured: format!(
                "{} = {}",
                fmt_secs(nsspec_marginal),
                fmt_ratio(nsspec_marginal / u)
            ),
            met: Some(nsspec_marginal <= u),
        });
        targets.push(Target {
            target: "trivial scenario via the CLI, ≤ 1.0× raw unshare (row 4 ÷ row 1)".into(),
            measured: format!("{} = {}", fmt_secs(cli.median), fmt_ratio(cli.median / u)),
            met: Some(cli.median <= u),
        });
        let projected = 60.0 * per(cat);
        targets.push(Target {
            target: "whole catalogue under `nsspec run` < 0.5 s wall on 2 cores".into(),
            measured: format!(
                "{} for {catalogue} scenarios (60 scenarios at this rate: {})",
                fmt_secs(cat.median),
                fmt_secs(projected)
            ),
            met: Some(cat.median < 0.5),
        });
        targets.push(Target {
            target: "peak RSS of `nsspec run` < 20 MiB".into(),
            measured: mib(rss_cat),
            met: Some(rss_cat < 20 * 1024),
        });
        targets.extend(vm_targets);

        // ---- notes
        let notes = &mut self.report.notes;
        notes.push(format!(
            "Rows 3 and 5 are marginal costs: a process doing the work {n} times minus one \
             doing it once, divided by {}. Process start-up (exec, dynamic linking, argument \
             parsing, the host probe) cancels out, leaving what one more scenario costs in a \
             long run — the figure that decides how large a CI matrix can be.",
            n - 1
        ));
        notes.push(
            "Rows 6 and 7 compare the time per catalogue scenario with one execution of the floor; \
             catalogue scenarios do more than the trivial one (several processes, events, \
             nested namespaces, a 32-level nesting probe), so a ratio above 1 there is expected."
                .into(),
        );
        notes.push(
            "`cargo test` (row 7) uses the debug build of nsspec, one `nsspec run --json` process \
             per trial, and runs trials on as many threads as there are cores; row 7b shows how \
             much of it is cargo's own start-up."
                .into(),
        );
        notes.push(
            "Rows 9 and 9b run under TCG (no usable KVM here): the guest executes every scenario \
             about ten times slower than the host, so row 9 grows with the catalogue while row \
             9b is the VM's own cost (QEMU, the kernel's boot, the guest's init, nsspec's \
             start-up). Per-kernel figures and where the boot time goes: vm/BENCHMARKS-vm.md."
                .into(),
        );
        notes.push(format!(
            "Peak RSS is GNU time's `Maximum resident set size`: the largest single process of \
             the tree (runner, supervisor or a scenario process), not their sum. The trivial \
             scenario copies live in `{}` (made by the driver from `bench/trivial.yaml`).",
            self.work.display()
        ));

        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        self.report.machine.push((
            "load average at end".into(),
            load.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
        ));
        notes.push(format!(
            "This machine has {} cores; a load average above that at the start or end means \
             other work competed with the measurement and the absolute times are inflated — \
             compare the ratios, which were measured side by side in interleaved rounds.",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        ));
        let md = render(&self.report);
        std::fs::write(out, &md).map_err(|e| format!("{}: {e}", out.display()))?;
        println!("\n{md}");
        eprintln!("wrote {}", out.display());
        Ok(())
    }

    /// Times `vm/run -- nsspec run` on the catalogue and on the trivial scenario `one` (the
    /// VM's own cost), or says why not.
    fn vm(
        &mut self,
        nsspec: &str,
        one: &str,
    ) -> Result<Result<[(String, Timing); 2], String>, String> {
        let run = Path::new("vm/run");
        if !run.exists() {
            return Ok(Err("not measured: vm/run missing".into()));
        }
        let extra = std::env::var("NSSPEC_BENCH_VM_ARGS").unwrap_or_default();
        let mut words: Vec<&str> = vec!["vm/run"];
        words.extend(extra.split_whitespace());
        let mut trivial = words.clone();
        words.extend(["--", nsspec, "run"]);
        trivial.extend(["--include", one, "--", nsspec, "run", one]);
        let line = shell_line(&words);
        let trivial = shell_line(&trivial);
        // One unmeasured run: fetches and caches the kernel, and proves the path works.
        self.report.commands.push(format!(
            "{line}   # once, unmeasured: warms the kernel cache"
        ));
        eprintln!("{line}");
        let status = Command::new(words[0])
            .args(&words[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status();
        match status {
            Err(e) => return Ok(Err(format!("not measured: cannot run vm/run: {e}"))),
            Ok(s) if !s.success() => {
                return Ok(Err(format!("not measured: `{line}` failed ({s})")));
            }
            Ok(_) => {}
        }
        let t = self.hyperfine(
            (self.runs.vm, 0),
            &[],
            &[
                ("vm/run (catalogue)", line.clone()),
                ("vm/run (trivial)", trivial.clone()),
            ],
        )?;
        Ok(Ok([(line, t[0].clone()), (trivial, t[1].clone())]))
    }
}

/// The path of the `scenarios` test binary (building it if needed: not measured).
fn scenarios_test_binary() -> Result<String, String> {
    let out = capture(&[
        "cargo",
        "test",
        "--no-run",
        "--test",
        "scenarios",
        "--message-format=json",
    ])?;
    out.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"]["name"] == "scenarios")
        .find_map(|v| v["executable"].as_str().map(str::to_string))
        .ok_or_else(|| "cargo did not name the scenarios test binary".into())
}
