# Everyday recipes. `just --list` shows them. Install just with `cargo install just`.

# Run the whole test suite: unit tests, CLI tests and one trial per scenario.
test *ARGS:
    cargo test {{ARGS}}

# Run the built-in catalogue with the release binary (pass paths to run other scenarios).
run *ARGS:
    cargo run --release -- run {{ARGS}}

# Review changed or new snapshots after `just test` (--accept, --reject or --list for all).
review *ARGS:
    tools/review-snapshots {{ARGS}}

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --locked --workspace --all-targets -- -D warnings

# Validate scenario files without running them.
check *PATHS:
    cargo run --release -- check {{PATHS}}

# The built-in catalogue (or PATHS) runs N times idle, then N times with the other cores busy;
# any scenario whose status or record ever differs from the first run is reported.
# Flakiness soak: the catalogue (or PATHS) 2×N times, reporting any difference.
soak N="200" *PATHS:
    robust/soak {{N}} {{ if PATHS == "" { "" } else { "-- " + PATHS } }}

# Each process of a scenario is at random fast or slow (`nsspec run --jitter 50`), so that an
# order between processes' steps that the scenario leaves to the scheduler comes out both ways.
# Race hunt: the catalogue (or PATHS) N times with --jitter, reporting any difference.
races N="50" *PATHS:
    robust/soak {{N}} --idle-only --jitter 50 {{ if PATHS == "" { "" } else { "-- " + PATHS } }}

# SIGKILL chaos: N runs of nsspec killed at random moments; nothing of any may be left behind.
chaos N="300":
    robust/chaos {{N}}

# Fuzz the scenario parser and validator for SECONDS (installs cargo-fuzz if missing).
fuzz SECONDS="60":
    FUZZ_SECONDS={{SECONDS}} robust/ci.sh fuzz

# Measures the namespace floor, nsspec per scenario (CLI and in-process), the catalogue
# (`nsspec run` and `cargo test`), peak RSS and the VM, side by side in one run.
# Benchmarks against unshare(1), rewriting BENCHMARKS.md (as root; installs hyperfine).
bench *ARGS:
    bench/run {{ARGS}}

# The linker places the functions a run executes together; this lists them from callgrind
# traces of every catalogue file.
# Rewrite harness/link-order.txt (as root; installs valgrind).
link-order:
    bench/link-order

# KERNEL: 5.10, 6.1, 6.12, latest, or a bzImage/vmlinux path.
# Run the built-in catalogue (or ARGS for `nsspec run`) inside KERNEL under QEMU.
vm-run KERNEL="6.1" *ARGS:
    cargo build --release
    vm/run --kernel {{KERNEL}} -- "${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-gnu/release/nsspec" run {{ARGS}}

# `cargo test` with every test binary running inside KERNEL under QEMU (vm/run as cargo runner).
vm-test KERNEL="6.1" *ARGS:
    NSSPEC_VM_KERNEL={{KERNEL}} CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER={{justfile_directory()}}/vm/run cargo test {{ARGS}}

# ARGS: vm/matrix's options, then `--` and `nsspec run`'s: `just matrix 6.1,6.12 -- -f pid/`.
# The catalogue on several kernels, one table (vm/matrix's ARGS; `nsspec run`'s after `--`).
matrix KERNELS="5.10,6.1,6.12,latest" *ARGS:
    cargo build --release
    vm/matrix --kernels {{KERNELS}} {{ARGS}}

# Download (once) and cache a Debian cloud kernel for the VM recipes.
fetch-kernel VERSION:
    vm/fetch-kernel {{VERSION}}
