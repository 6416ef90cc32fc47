//! The floor: `floor` does once what nsspec must do at least once per scenario — fork, unshare
//! (CLONE_NEWPID | CLONE_NEWNS), fork PID 1, make mounts private, mount a fresh procfs, exit,
//! reap — and `floor N` does it N times in one process, so that the cost of one more time can
//! be compared with nsspec running N copies of a trivial scenario in one invocation.
//!
//! Exit status 0 on success; 1 with the reason on stderr when a step failed.

fn main() {
    let n: usize = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 1,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: floor [ITERATIONS]");
            std::process::exit(2);
        }
    };
    for i in 0..n {
        if let Err(e) = nsspec_bench::floor_once() {
            eprintln!("floor: iteration {}: {e}", i + 1);
            std::process::exit(1);
        }
    }
}
