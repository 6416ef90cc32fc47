//! The `nsspec` command line.
//!
//! Exit status: 0 when every scenario run passed (skips allowed), 1 when at least one failed,
//! 2 for bad input or usage (an invalid scenario file, a missing path, an empty selection) and for
//! output that could not be written. SIGINT, SIGTERM or SIGHUP during a run stop it, and
//! nsspec dies of that signal once nothing of the run is left (see [`Interrupts`]); a closed
//! standard output does the same, and nsspec dies of SIGPIPE.
//! The process never starts a thread: the executor forks from it (see `executor`).

use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nsspec::catalogue::{self, Source};
use nsspec::plan::Plan;
use nsspec::probe::{Host, Mode};
use nsspec::report::{ScenarioResult, SnapshotState, Status};
use nsspec::runner::Snapshots;

/// eprintln! that never panics: with stderr gone (closed, a full disk) the exit status is all
/// that can still tell.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Writes `text` to stdout: success, or [`lost_output`].
fn print_all(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => lost_output(e),
    }
}

/// The exit for output that could not be written: the report is lost, which must not pass.
fn lost_output(e: std::io::Error) -> ExitCode {
    say!("error: cannot write the output: {e}");
    ExitCode::from(2)
}

/// Declarative tests of Linux namespace behaviour.
///
/// Each scenario (a YAML file) says which namespaces to create, what the processes inside do
/// and what must be observed. nsspec runs it in fresh namespaces below a private mount
/// namespace of its own, checks the expectations, and compares the normalised observation
/// record with its snapshot. Without a subcommand it runs the built-in catalogue.
#[derive(Parser)]
#[command(
    name = "nsspec",
    version,
    after_help = "Exit status: 0 all passed (skips allowed), 1 a scenario failed, 2 bad input or usage, or output that could not be written."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios: the built-in catalogue, or the given files and folders.
    #[command(
        after_help = "Exit status: 0 when every scenario that ran passed (skips allowed), 1 when one failed, 2 for bad input or usage (nothing runs) or output that could not be written. SIGINT, SIGTERM or SIGHUP stop the run: the running scenarios are killed and cleaned up, the results so far and the summary are printed, the JUnit report is written, and nsspec then dies of that signal. A closed standard output (`| head`) stops it the same way, and nsspec dies of SIGPIPE.\n\nEnvironment: NSSPEC_TIMING=1 makes every process of the run (runner, guardian, supervisor, the scenario's init) write `nsspec-timing <µs since the runner's main> <pid> <role>: <phase>` to stderr at each phase it reaches."
    )]
    Run {
        /// Scenario files or folders (searched recursively for *.yaml and *.yml). Default: built-in.
        paths: Vec<PathBuf>,
        /// Only run scenarios whose id contains this text (repeatable: any of the texts).
        #[arg(long, short)]
        filter: Vec<String>,
        /// Print one JSON object per scenario instead of the human report.
        #[arg(long)]
        json: bool,
        /// Print every scenario's observation record, not only failing ones.
        #[arg(long, short)]
        verbose: bool,
        /// Do not compare records with snapshots (the cargo test harness does that with insta).
        #[arg(long, conflicts_with = "accept_snapshots")]
        no_snapshots: bool,
        /// Write the snapshot of every scenario file in a `scenarios/` folder whose record
        /// differs from it or that has none (`../snapshots/<group>__<name>.snap`); review the
        /// files with `git diff` before committing them. Expectations still fail as usual.
        #[arg(long)]
        accept_snapshots: bool,
        /// Run up to N scenarios at once (default: the number of CPUs). Each has its own
        /// supervisor and namespaces; results are printed in order either way.
        #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
        /// Also write the results as JUnit XML to FILE, for CI test reports: one test case per
        /// scenario (class name: its group), failures with their messages, skips with their
        /// reason, each observation record as the case's output, and the kernel release as a
        /// property; scenarios that produced no result are errors. Written once the run ends,
        /// replacing FILE whole; a FILE that is a link or device, or whose folder is missing or
        /// cannot be written, is refused before anything runs.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Hunt for races: each process of a scenario is, at random, fast or (one in two)
        /// slow, sleeping the same time of MS/2 to MS milliseconds before each of its steps.
        /// A record must not depend on how the kernel schedules the processes; an order
        /// between two processes' steps that no notify/await, wait or fork enforces comes out
        /// the other way in the runs that draw the usual winner slow, and fails against the
        /// snapshot or an expectation, naming the slow processes. Run a scenario a few dozen
        /// times so (`robust/soak N --jitter 50 -- FILE`). The time limit grows by MS per step.
        #[arg(
            long,
            value_name = "MS",
            value_parser = clap::value_parser!(u16).range(1..),
            conflicts_with = "accept_snapshots"
        )]
        jitter: Option<u16>,
        /// With --jitter: the seed of its draws (which processes are slow, and how slow),
        /// printed at the start of every run with --jitter. The same seed draws the same for
        /// a scenario again, to run a failure over. Default: a random one.
        #[arg(long, value_name = "SEED", requires = "jitter")]
        jitter_seed: Option<u64>,
    },
    /// List scenarios with their descriptions, after validating them.
    List {
        /// Scenario files or folders. Default: built-in.
        paths: Vec<PathBuf>,
    },
    /// Show what this host can do: kernel, namespace kinds, which unshare() calls work directly
    /// and inside a user namespace, the sysctls that decide it, capabilities, seccomp, and
    /// whether scenarios run as root, rootless, or not at all.
    Probe {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Validate scenario files without running anything.
    ///
    /// Each file is parsed and checked as `run` would before forking anything: its shape
    /// (unknown keys and steps, values out of range), names and references, steps that cannot
    /// work where they are (a `bind_mount` in the host's mount namespace, a `wait` on a
    /// non-child), and steps that could never run: a step after `exit`, an event awaited but
    /// never notified, `await`s and `wait`s that wait for each other (a deadlock). The first
    /// error of each file is reported as FILE:LINE:COLUMN: message. Exit status 0 when all are
    /// valid, 2 otherwise.
    Check {
        /// Scenario files or folders. Default: built-in.
        paths: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Human,
    Json,
}

fn main() -> ExitCode {
    // Like other Unix tools, end quietly when the reader of our output goes away (`| head`).
    // SAFETY: called before anything else runs; SIG_DFL is a valid disposition.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    // Started with SIGCHLD ignored (a parent's SIG_IGN survives exec), the kernel would reap
    // nsspec's children itself, and each wait for a probe's trial would fail with ECHILD, read
    // as a child killed: a clone3(2) that works was skipped as "killed by a signal".
    // SAFETY: as above.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_DFL) };
    nsspec::timing::enable_from_env();
    nsspec::timing::mark("runner: start");
    // Not Cli::parse(): clap's exit ignores a failed write, so `--help > /dev/full` exited 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = e.exit_code();
            return match e.print().and_then(|()| std::io::stdout().flush()) {
                Err(lost) if code == 0 => lost_output(lost),
                _ => ExitCode::from(u8::try_from(code).unwrap_or(2)),
            };
        }
    };
    nsspec::timing::mark("runner: arguments parsed");
    let command = cli.command.unwrap_or(Command::Run {
        paths: Vec::new(),
        filter: Vec::new(),
        json: false,
        verbose: false,
        no_snapshots: false,
        accept_snapshots: false,
        jobs: None,
        junit: None,
        jitter: None,
        jitter_seed: None,
    });
    match command {
        Command::Run {
            paths,
            filter,
            json,
            verbose,
            no_snapshots,
            accept_snapshots,
            jobs,
            junit,
            jitter,
            jitter_seed,
        } => {
            if let Some(ms) = jitter {
                use std::hash::BuildHasher;
                // RandomState's keys come from the OS's random numbers.
                let seed = jitter_seed
                    .unwrap_or_else(|| std::hash::RandomState::new().hash_one(std::process::id()));
                nsspec::executor::set_jitter(std::time::Duration::from_millis(ms.into()), seed);
            }
            let snapshots = if no_snapshots {
                Snapshots::Off
            } else if accept_snapshots {
                Snapshots::Accept
            } else {
                Snapshots::compare_from_env()
            };
            let options = RunOptions {
                json,
                verbose,
                snapshots,
                jobs,
                junit,
            };
            run(&paths, &filter, &options)
        }
        Command::List { paths } => match load(&paths, &[]) {
            Err(code) => code,
            Ok(plans) => {
                let mut text = String::new();
                for (_, p) in &plans {
                    let about = p.description.as_deref().unwrap_or(&p.name);
                    text.push_str(&format!(
                        "{:<32} {}\n",
                        p.id,
                        catalogue::escape_controls(about.lines().next().unwrap_or(""))
                    ));
                }
                print_all(&text)
            }
        },
        Command::Probe { format } => {
            let host = Host::probe();
            let text = match format {
                Format::Human => host.table(),
                Format::Json => format!(
                    "{}\n",
                    serde_json::to_string_pretty(&host).unwrap_or_default()
                ),
            };
            print_all(&text)
        }
        Command::Check { paths } => match load(&paths, &[]) {
            Err(code) => code,
            Ok(plans) => print_all(&format!("{} scenario(s) valid\n", plans.len())),
        },
    }
}

/// Reads and validates every selected scenario; prints all errors and returns exit 2 on any.
fn load(paths: &[PathBuf], filter: &[String]) -> Result<Vec<(Source, Plan)>, ExitCode> {
    let sources = if paths.is_empty() {
        catalogue::builtin()
    } else {
        catalogue::from_paths(paths).map_err(|e| {
            say!("error: {e}");
            ExitCode::from(2)
        })?
    };
    let sources: Vec<Source> = sources
        .into_iter()
        .filter(|s| filter.is_empty() || filter.iter().any(|f| s.id.contains(f.as_str())))
        .collect();
    if sources.is_empty() {
        say!("error: no scenario matches the selection");
        return Err(ExitCode::from(2));
    }
    let mut plans = Vec::new();
    let mut bad = 0;
    for s in sources {
        match s.load() {
            Ok(p) => plans.push((s, p)),
            Err(e) => {
                say!("{e}");
                bad += 1;
            }
        }
    }
    if bad > 0 {
        say!("error: {bad} invalid scenario file(s); nothing was run");
        return Err(ExitCode::from(2));
    }
    Ok(plans)
}

/// SIGINT, SIGTERM and SIGHUP while scenarios run (Ctrl-C, a CI job's cancellation, a closed
/// terminal): blocked, and read from a signalfd that stops the run (`executor::run_many`), so
/// that nsspec kills what still runs, waits until nothing of the run is left, reports what
/// finished (and writes the JUnit report), and only then dies of the signal, as a shell or CI
/// runner expects of an interrupted program. Dying at once would leave supervisors, scenario
/// processes and cgroups being torn down after `nsspec` has returned. A signal inherited as
/// ignored (`nohup`, a background job of a non-interactive shell) stays ignored.
///
/// A closed standard output (`nsspec run | head -1`) ends the run the same way, for the same
/// reason, and nsspec then dies of SIGPIPE as it would have at the write. SIGPIPE is blocked
/// for that, not read from the signalfd: the kernel raises it for a write to any closed pipe,
/// and one to stderr (a reader of the timing marks gone) must not stop a run. [`Out`] tells
/// instead, through `closed`, once a write to stdout fails with EPIPE; the run stops on `stop`,
/// an epoll of both.
struct Interrupts {
    signals: Option<nix::sys::signalfd::SignalFd>,
    set: nix::sys::signal::SigSet,
    closed: std::os::fd::OwnedFd,
    stop: std::os::fd::OwnedFd,
}

impl Interrupts {
    /// `ignored`: the signals ignored on entry ([`Host::signals_ignored`]).
    fn install(ignored: u64) -> Option<Interrupts> {
        use nix::sys::signal::{SigSet, Signal};
        use nix::sys::signalfd::{SfdFlags, SignalFd};
        use std::os::fd::{FromRawFd, OwnedFd};
        let mut set = SigSet::empty();
        for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
            if ignored & (1 << (signal as i32 - 1)) == 0 {
                set.add(signal);
            }
        }
        let mut blocked = set;
        blocked.add(Signal::SIGPIPE);
        blocked.thread_block().ok()?;
        let fds = (|| {
            let signals = match set.iter().next() {
                Some(_) => Some(
                    SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
                        .ok()?,
                ),
                None => None,
            };
            // SAFETY: plain system calls; each descriptor is owned once it is valid.
            let closed = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
            let closed = (closed >= 0).then(|| unsafe { OwnedFd::from_raw_fd(closed) })?;
            let stop = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
            let stop = (stop >= 0).then(|| unsafe { OwnedFd::from_raw_fd(stop) })?;
            for fd in signals
                .as_ref()
                .map(|s| s.as_raw_fd())
                .into_iter()
                .chain([closed.as_raw_fd()])
            {
                let mut event = libc::epoll_event {
                    events: libc::EPOLLIN as u32,
                    u64: 0,
                };
                // SAFETY: valid descriptors and event.
                if unsafe { libc::epoll_ctl(stop.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) }
                    != 0
                {
                    return None;
                }
            }
            Some((signals, closed, stop))
        })();
        match fds {
            Some((signals, closed, stop)) => Some(Interrupts {
                signals,
                set,
                closed,
                stop,
            }),
            None => {
                let _ = blocked.thread_unblock();
                None
            }
        }
    }

    /// What ends the run, if anything has: the signal received (the lowest-numbered of those
    /// pending, which is the one the kernel would deliver first), else SIGPIPE once stdout is
    /// closed. Left pending, not read from the signalfd: while it stays readable, [`Out`]
    /// gives up on a reader that stopped reading instead of waiting for it with the signal
    /// blocked (the summary and the JUnit report come after such a write), and
    /// [`Interrupts::die_of`] names the signal the report named.
    fn received(&self) -> Option<nix::sys::signal::Signal> {
        self.signal().or_else(|| {
            self.output_closed()
                .then_some(nix::sys::signal::Signal::SIGPIPE)
        })
    }

    fn signal(&self) -> Option<nix::sys::signal::Signal> {
        let mut pending = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigpending fills the set it is given.
        if unsafe { libc::sigpending(pending.as_mut_ptr()) } != 0 {
            return None;
        }
        // SAFETY: initialised by the successful sigpending above.
        let pending = unsafe { pending.assume_init() };
        self.set
            .iter()
            // SAFETY: sigismember reads a valid set.
            .filter(|s| unsafe { libc::sigismember(&pending, *s as i32) } == 1)
            .min_by_key(|s| *s as i32)
    }

    /// Whether a write to stdout found its reader gone ([`Out`]).
    fn output_closed(&self) -> bool {
        let mut fd = libc::pollfd {
            fd: self.closed.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no waiting.
        unsafe { libc::poll(&mut fd, 1, 0) == 1 }
    }

    /// Ends nsspec by `signal`, whose action is the default one (nsspec changes no
    /// disposition); the exit status only if that did not end it. `run`'s output, which does
    /// not go through std's stdout, is flushed by then. Only `signal` is unblocked: another
    /// of the set, pending too, must not end nsspec first under a name the report did not give.
    /// SIGPIPE is pending already when a write raised it.
    fn die_of(self, signal: nix::sys::signal::Signal) -> ExitCode {
        drop(self.signals);
        let mut only = nix::sys::signal::SigSet::empty();
        only.add(signal);
        let _ = only.thread_unblock();
        let _ = nix::sys::signal::raise(signal);
        ExitCode::from(128 + signal as u8)
    }
}

/// How a stopped run's reports name what stopped it.
fn stop_cause(signal: Option<nix::sys::signal::Signal>) -> String {
    match signal {
        Some(nix::sys::signal::Signal::SIGPIPE) => {
            "interrupted by SIGPIPE (its output was closed)".to_string()
        }
        Some(s) => format!("interrupted by {s}"),
        None => "interrupted".to_string(),
    }
}

/// `run`'s standard output. Each write waits until the descriptor can take it or until one of
/// the interrupting signals has come, and then fails: a reader that stops reading (a pager, a
/// stuck pipeline) cannot keep nsspec from stopping the run, cleaning up and dying of the
/// signal, which a write blocked with the signals blocked would. At most PIPE_BUF bytes a write:
/// poll(2)'s POLLOUT on a pipe promises room for that much. A write that finds the reader
/// gone (EPIPE) says so on `closed`, which stops the run (see [`Interrupts`]).
struct Out {
    stop: Option<std::os::fd::RawFd>,
    closed: Option<std::os::fd::RawFd>,
    stopped: bool,
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(stop) = self.stop {
            let mut fds = [
                libc::pollfd {
                    fd: libc::STDOUT_FILENO,
                    events: libc::POLLOUT,
                    revents: 0,
                },
                libc::pollfd {
                    fd: stop,
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            while !self.stopped {
                // SAFETY: `fds` is a valid array of two pollfd for the duration of the call.
                let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
                if n < 0 && nix::errno::Errno::last() == nix::errno::Errno::EINTR {
                    continue;
                }
                if n < 0 || fds[0].revents != 0 {
                    break;
                }
                self.stopped = fds[1].revents != 0;
            }
            if self.stopped {
                return Err(std::io::Error::other("a signal stopped the run"));
            }
        }
        let len = buf.len().min(libc::PIPE_BUF);
        // SAFETY: writing `len` bytes of `buf`, which holds at least that many.
        let n = unsafe { libc::write(libc::STDOUT_FILENO, buf.as_ptr().cast(), len) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EPIPE)
                && let Some(closed) = self.closed
            {
                let one = 1u64;
                // SAFETY: writing the 8 bytes of `one` to our eventfd.
                unsafe { libc::write(closed, (&raw const one).cast(), 8) };
            }
            Err(e)
        } else {
            Ok(n as usize)
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// How `run` reports and paces.
struct RunOptions {
    json: bool,
    verbose: bool,
    snapshots: Snapshots,
    jobs: Option<u16>,
    junit: Option<PathBuf>,
}

fn run(paths: &[PathBuf], filter: &[String], options: &RunOptions) -> ExitCode {
    let RunOptions {
        json,
        verbose,
        snapshots,
        jobs,
        ref junit,
    } = *options;
    if let Some(path) = junit
        && let Some(why) = nsspec::junit::target_problem(path)
    {
        say!(
            "error: cannot write the JUnit report to {}: {why}",
            path.display()
        );
        return ExitCode::from(2);
    }
    let plans = match load(paths, filter) {
        Ok(p) => p,
        Err(code) => return code,
    };
    nsspec::timing::mark("runner: scenarios loaded");
    if let Some((max, seed)) = nsspec::executor::jitter() {
        let ms = max.as_millis();
        say!(
            "nsspec: jitter: each process of a scenario fast or slow (stalling up to {ms} ms \
             before each step); `--jitter {ms} --jitter-seed {seed}` draws the same again"
        );
    }
    // Asking costs a few cgroup file reads; one scenario needs no answer.
    let jobs = jobs
        .map(usize::from)
        .or_else(|| {
            (plans.len() > 1)
                .then(|| std::thread::available_parallelism().ok().map(|n| n.get()))
                .flatten()
        })
        .unwrap_or(1);
    let host = Host::probe_for(&plans.iter().map(|(_, p)| p).collect::<Vec<_>>());
    nsspec::timing::mark("runner: host probed");
    let started = std::time::Instant::now();
    let interrupts = Interrupts::install(host.signals_ignored);
    let mut stdout = std::io::LineWriter::new(Out {
        stop: interrupts.as_ref().map(|i| i.stop.as_raw_fd()),
        closed: interrupts.as_ref().map(|i| i.closed.as_raw_fd()),
        stopped: false,
    });
    // The first write error: the run goes on (its JUnit report and exit status still tell),
    // and ends in exit 2 since its report was lost.
    let mut lost: Option<std::io::Error> = None;
    let mut keep = |r: std::io::Result<()>| {
        if let (Err(e), None) = (r, &lost) {
            lost = Some(e);
        }
    };
    if !json {
        let mode = match &host.mode {
            Mode::Root => match host.lacking_note() {
                Some(note) => format!("as root, {note}"),
                None => "as root".to_string(),
            },
            Mode::Rootless => "rootless (in a user namespace of its own)".to_string(),
            Mode::Unavailable(why) => format!("nowhere: {why}"),
        };
        keep(writeln!(
            stdout,
            "running {} scenario(s) from {} on Linux {}, {mode}",
            plans.len(),
            if paths.is_empty() {
                "the built-in catalogue"
            } else {
                "the given paths"
            },
            host.kernel_release
        ));
    }
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut kept = Vec::new();
    // A supervisor that dies (killed by us when a signal stops the run, or by anyone) leaves
    // its children to us rather than to the host's init: reaped below, so that nothing of the
    // run is left when nsspec returns, not even a zombie. Not inherited by what we fork.
    // SAFETY: plain prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    if let Some(i) = &interrupts {
        let signals = i.signals.as_ref().map(|s| s.as_raw_fd());
        nsspec::executor::runner_only(&[signals.unwrap_or(-1), i.closed.as_raw_fd()]);
    }
    let stop = interrupts
        .as_ref()
        .map(|i| std::os::fd::AsFd::as_fd(&i.stop));
    let stopped = nsspec::runner::run_all(&plans, &host, snapshots, jobs, stop, |r| {
        match r.status {
            Status::Passed => passed += 1,
            Status::Failed => failed += 1,
            Status::Skipped => skipped += 1,
        }
        if json {
            keep(writeln!(
                stdout,
                "{}",
                serde_json::to_string(&r).unwrap_or_default()
            ));
        } else {
            keep(print_human(&mut stdout, &r, verbose));
        }
        keep(stdout.flush());
        if junit.is_some() {
            kept.push(r);
        }
        nsspec::timing::mark("runner: result printed");
    });
    nsspec::executor::reap_adopted();
    // A signal after the last scenario finished ends nsspec too, once its reports are out.
    let signal = interrupts.as_ref().and_then(Interrupts::received);
    let unfinished = plans.len().saturating_sub(passed + failed + skipped);
    let mut lost_junit = false;
    let interruption = stopped.then(|| stop_cause(signal));
    if !json {
        let interrupted = interruption.as_ref().map_or(String::new(), |i| {
            format!(", {unfinished} not finished: {i}")
        });
        keep(writeln!(
            stdout,
            "\n{passed} passed, {failed} failed, {skipped} skipped{interrupted} ({:.2}s)",
            started.elapsed().as_secs_f64()
        ));
        keep(stdout.flush());
    }
    if let Some(path) = junit {
        let mode = match &host.mode {
            Mode::Root => "root".to_string(),
            Mode::Rootless => "rootless".to_string(),
            Mode::Unavailable(why) => format!("unavailable: {why}"),
        };
        let reported: std::collections::HashSet<&str> = kept
            .iter()
            .map(|r: &ScenarioResult| r.id.as_str())
            .collect();
        let unreported: Vec<&str> = plans
            .iter()
            .map(|(_, p)| p.id.as_str())
            .filter(|id| !reported.contains(id))
            .collect();
        let why = interruption.as_ref().map_or(
            "the scenario produced no result (see the run's standard error)".to_string(),
            |i| format!("not finished: the run was {i}"),
        );
        let report = nsspec::junit::report(
            &kept,
            &unreported,
            &why,
            &format!("nsspec on Linux {}", host.kernel_release),
            &[("kernel", host.kernel_release.clone()), ("mode", mode)],
            started.elapsed(),
        );
        if let Err(e) = nsspec::junit::write(&report, path) {
            say!(
                "error: cannot write the JUnit report to {}: {e}",
                path.display()
            );
            lost_junit = true;
        }
    }
    nsspec::timing::mark("runner: end");
    if snapshots == Snapshots::Accept {
        note_unwritable_snapshots(&plans, paths.is_empty());
    }
    if stopped && signal.is_some() {
        say!(
            "nsspec: {}: {unfinished} scenario(s) stopped or not started; nothing of the run \
             is left",
            stop_cause(signal)
        );
    }
    // Checked last, after every write (a slow reader of stdout can take long): a signal that
    // came at any point of the run ends nsspec by that signal.
    drop(stdout);
    if let Some(interrupts) = interrupts
        && let Some(signal) = signal.or_else(|| interrupts.received())
    {
        return interrupts.die_of(signal);
    }
    if lost_junit {
        ExitCode::from(2)
    } else if let Some(e) = lost {
        lost_output(e)
    } else if unfinished > 0 {
        if !stopped {
            // A scenario that never reported is no pass: silence must not exit 0.
            say!("error: {unfinished} scenario(s) produced no result");
        }
        ExitCode::from(1)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `--accept-snapshots` writes only the snapshots of files in a `scenarios/` folder: says so
/// when it was asked for others, rather than let a run that wrote nothing look like one that
/// had nothing to write.
fn note_unwritable_snapshots(plans: &[(Source, Plan)], builtin: bool) {
    if builtin {
        say!(
            "note: --accept-snapshots writes no snapshot of the built-in catalogue (its snapshots \
             are part of the binary): name the repository's folder to update them, as in \
             `nsspec run --accept-snapshots scenarios`"
        );
        return;
    }
    let loose: Vec<&str> = plans
        .iter()
        .filter(|(source, _)| !source.snapshot_writable())
        .map(|(source, _)| source.display.as_str())
        .collect();
    if loose.is_empty() {
        return;
    }
    const SHOWN: usize = 5;
    let more = loose.len().saturating_sub(SHOWN);
    say!(
        "note: --accept-snapshots wrote no snapshot for {} scenario file(s) outside a \
         `scenarios/` folder (a snapshot lives in the `snapshots/` folder beside it): {}{}",
        loose.len(),
        loose[..loose.len().min(SHOWN)].join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    );
}

fn print_human(out: &mut impl Write, r: &ScenarioResult, verbose: bool) -> std::io::Result<()> {
    let tag = match r.status {
        Status::Passed => "PASS",
        Status::Failed => "FAIL",
        Status::Skipped => "SKIP",
    };
    let note = match (&r.status, &r.snapshot) {
        (Status::Skipped, _) => format!("  ({})", r.messages.join("; ")),
        (_, SnapshotState::Missing(p)) => format!("  {} ms (no snapshot at {p})", r.elapsed_ms),
        (_, SnapshotState::Written(p)) => format!("  {} ms (snapshot written: {p})", r.elapsed_ms),
        _ => format!("  {} ms", r.elapsed_ms),
    };
    writeln!(out, "{tag}  {}{note}", r.id)?;
    if r.status == Status::Failed {
        for m in &r.messages {
            for line in m.lines() {
                writeln!(out, "      {line}")?;
            }
        }
    }
    if verbose && !r.pids_limit.is_empty() {
        writeln!(out, "      process limit: {}", r.pids_limit)?;
    }
    if (verbose || r.status == Status::Failed)
        && let Some(rec) = &r.record
    {
        writeln!(out, "      observation record:")?;
        for line in rec.lines() {
            writeln!(out, "        {line}")?;
        }
    }
    Ok(())
}
