//! `costs`: what the individual operations nsspec performs per scenario cost on this machine,
//! each timed alone (median over many repetitions). The evidence behind bench/FINDINGS.md.
//!
//! Usage: `costs [REPETITIONS]` (default 300), as root.

use std::time::Instant;

/// Runs `f` in a forked child that exits 0 when `f` returns true; times fork to reap.
fn in_child(f: impl Fn() -> bool) -> bool {
    // SAFETY: single-threaded process; the child only makes system calls before _exit.
    match unsafe { libc::fork() } {
        -1 => false,
        0 => {
            let ok = f();
            // SAFETY: _exit is always safe to call.
            unsafe { libc::_exit(i32::from(!ok)) }
        }
        pid => {
            let mut status = 0;
            // SAFETY: `status` is a valid out-pointer.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
        }
    }
}

fn unshare(flags: libc::c_int) -> bool {
    // SAFETY: unshare has no memory-safety preconditions.
    unsafe { libc::unshare(flags) == 0 }
}

fn private() -> bool {
    // SAFETY: valid NUL-terminated strings or null, as mount(2) allows.
    unsafe {
        libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) == 0
    }
}

fn mount_proc() -> bool {
    // SAFETY: as above.
    unsafe {
        libc::mount(
            c"proc".as_ptr(),
            c"/proc".as_ptr(),
            c"proc".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            std::ptr::null(),
        ) == 0
    }
}

/// The namespace inodes through one descriptor of /proc/self/ns.
fn ns_via_dirfd() -> bool {
    // SAFETY: a valid NUL-terminated path.
    let dir = unsafe {
        libc::open(
            c"/proc/self/ns".as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if dir < 0 {
        return false;
    }
    let names = [
        c"pid", c"mnt", c"uts", c"ipc", c"user", c"net", c"cgroup", c"time",
    ];
    let ok = names.iter().all(|n| {
        // SAFETY: `st` is a valid out-pointer; `n` is NUL-terminated.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        unsafe { libc::fstatat(dir, n.as_ptr(), &mut st, 0) == 0 }
    });
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(dir) };
    ok
}

const NS: [&str; 8] = ["pid", "mnt", "uts", "ipc", "user", "net", "cgroup", "time"];

fn measure(name: &str, reps: usize, f: &dyn Fn() -> bool) {
    let mut t = Vec::with_capacity(reps);
    for _ in 0..reps {
        let start = Instant::now();
        if !f() {
            eprintln!("costs: `{name}` failed (run as root)");
            std::process::exit(1);
        }
        t.push(start.elapsed().as_secs_f64() * 1e6);
    }
    t.sort_by(|a, b| a.total_cmp(b));
    let mean = t.iter().sum::<f64>() / t.len() as f64;
    println!(
        "{:>9.1} µs median {:>9.1} µs mean   {name}",
        t[t.len() / 2],
        mean
    );
}

fn main() {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    // Ballast like the nsspec runner's heap (a few MiB touched), so fork costs are comparable.
    let ballast_mib: usize = std::env::var("COSTS_BALLAST_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let ballast = vec![1u8; ballast_mib << 20];
    println!(
        "# {reps} repetitions each; ballast {ballast_mib} MiB; times include fork+reap where a child is used"
    );
    measure("fork + _exit + reap (empty child)", reps, &|| {
        in_child(|| true)
    });
    measure("  child: unshare(NEWNS)", reps, &|| {
        in_child(|| unshare(libc::CLONE_NEWNS))
    });
    measure("  child: unshare(NEWNS) + MS_REC|MS_PRIVATE", reps, &|| {
        in_child(|| unshare(libc::CLONE_NEWNS) && private())
    });
    measure("  child: unshare(NEWUTS)", reps, &|| {
        in_child(|| unshare(libc::CLONE_NEWUTS))
    });
    measure("  child: unshare(NEWIPC)", reps, &|| {
        in_child(|| unshare(libc::CLONE_NEWIPC))
    });
    measure(
        "  child: unshare(NEWNS|NEWUTS|NEWIPC) + private (nsspec supervisor)",
        reps,
        &|| {
            in_child(|| {
                unshare(libc::CLONE_NEWNS | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC) && private()
            })
        },
    );
    measure(
        "  child: unshare(NEWPID|NEWNS), fork init: private + mount proc (the floor)",
        reps,
        &|| nsspec_bench::floor_once().is_ok(),
    );
    measure(
        "  child: unshare(NEWNS|UTS|IPC)+private, unshare(NEWPID), fork init: unshare(NEWNS)+private+mount proc (nsspec's namespace work)",
        reps,
        &|| {
            in_child(|| {
                unshare(libc::CLONE_NEWNS | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC)
                    && private()
                    && unshare(libc::CLONE_NEWPID)
                    && in_child(|| unshare(libc::CLONE_NEWNS) && private() && mount_proc())
            })
        },
    );
    measure("read /proc/self/mountinfo", reps, &|| {
        std::fs::read("/proc/self/mountinfo").is_ok()
    });
    measure("read /proc/self/status", reps, &|| {
        std::fs::read("/proc/self/status").is_ok()
    });
    measure("8 × fstatat(/proc/self/ns/*) (ns_inodes)", reps, &|| {
        NS.iter()
            .all(|k| std::fs::metadata(format!("/proc/self/ns/{k}")).is_ok())
    });
    measure("  in a fresh child (cold proc dentries)", reps, &|| {
        in_child(|| {
            NS.iter()
                .all(|k| std::fs::metadata(format!("/proc/self/ns/{k}")).is_ok())
        })
    });
    measure(
        "  in a fresh child, relative to one open(/proc/self/ns) (dirfd + 8 × fstatat)",
        reps,
        &|| in_child(ns_via_dirfd),
    );
    measure("  in a fresh child, only 2 kinds (pid, mnt)", reps, &|| {
        in_child(|| {
            ["pid", "mnt"]
                .iter()
                .all(|k| std::fs::metadata(format!("/proc/self/ns/{k}")).is_ok())
        })
    });
    measure(
        "  1 × fstatat(/proc/self/ns/pid) in a fresh child",
        reps,
        &|| in_child(|| std::fs::metadata("/proc/self/ns/pid").is_ok()),
    );
    measure("3 × pipe2 + close", reps, &|| {
        (0..3).all(|_| {
            let mut fds = [0; 2];
            // SAFETY: `fds` is a valid out-array of two descriptors.
            let ok = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == 0;
            // SAFETY: closing descriptors we just created.
            unsafe {
                libc::close(fds[0]);
                libc::close(fds[1]);
            }
            ok
        })
    });
    drop(ballast);
}
