#!/usr/bin/env bash
# vm/ci.sh — CI for the VM path: installs what it needs, boots a Debian kernel under QEMU (TCG
# when KVM does not work) and checks the guest's results, not merely that QEMU started.
#
#   bash vm/ci.sh            from the repository root, as root (apt-get), after cargo build
#
# Environment: NSSPEC_VM_CI_KERNEL (default 6.1), NSSPEC_VM_CI_MATRIX=1 to also run the
# 4-kernel matrix, NSSPEC_VM_CI_CARGO=0 to skip `cargo test` in the VM.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd -P)
kernel=${NSSPEC_VM_CI_KERNEL:-6.1}

step() { printf '\n=== vm: %s\n' "$*"; }
passed=0
ok() { passed=$((passed + 1)); printf 'ok: %s\n' "$*"; }
fail() { printf 'FAILED: %s\n' "$*"; printf 'vm-ci: %d passed, 1 failed\n' "$passed"; exit 1; }
in_guest() { # OUT ARGS...: vm/run ARGS with its stdout in OUT, shown; fails unless it exits 0
  local out=$1 rc
  shift
  set +e
  vm/run "$@" > "$out"
  rc=$?
  set -e
  cat "$out"
  [ "$rc" -eq 0 ] || fail "vm/run exited $rc"
}
timed() { # NAME CMD...: run, print the wall time
  local s e
  s=$(date +%s%N)
  "${@:2}"
  local rc=$?
  e=$(date +%s%N)
  printf '%s: %d ms\n' "$1" $(( (e - s) / 1000000 ))
  return $rc
}

step "install QEMU, busybox, cpio, jq, decompressors, binutils, shellcheck"
need=()
bookworm=0
grep -qs '^VERSION_CODENAME=bookworm$' /etc/os-release && bookworm=1
# On Debian 12 QEMU comes from bookworm-backports (below), not first 7.2 and then again.
[ "$bookworm" = 1 ] || command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then need+=(busybox-static); fi
for tool in cpio jq lz4 zstd shellcheck; do command -v "$tool" >/dev/null || need+=("$tool"); done
command -v objcopy >/dev/null || need+=(binutils)
command -v pgrep >/dev/null || need+=(procps)
# A dropped connection or a background apt job holding the lock must not fail CI.
apt_patient=(-o Acquire::Retries=3 -o DPkg::Lock::Timeout=300)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get "${apt_patient[@]}" update -qq
  apt-get "${apt_patient[@]}" install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# QEMU 8 or later runs the guest on two vCPUs (see vm/run, --cpus). Debian 12 ships 7.2 and
# 10.0 in its backports: take that one, through a package list of our own so that this
# machine's apt sources stay as they were. The packages stay installed (meant for CI machines
# and VMs: apt will not update them, as it does not know that source afterwards).
# The test's own reading of the version, not vm/run's: the vCPU check below must not share the
# code it checks.
qemu_major() { qemu-system-x86_64 --version 2>/dev/null | sed -n '1s/^QEMU emulator version \([0-9]*\).*/\1/p'; }
qemu_major=$(qemu_major || true)
if [ "${qemu_major:-0}" -lt 8 ] && [ "$bookworm" = 1 ]; then
  apt_tmp=$(mktemp -d)
  chmod 755 "$apt_tmp" # apt downloads as the _apt user
  mkdir -p "$apt_tmp/parts" "$apt_tmp/lists/partial"
  cp /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list "$apt_tmp/parts/" 2>/dev/null || true
  [ ! -f /etc/apt/sources.list ] || cp /etc/apt/sources.list "$apt_tmp/parts/main.list"
  # A second entry for a suite the machine already lists would conflict (Signed-By).
  if ! grep -rqs 'bookworm-backports' "$apt_tmp/parts"; then
    printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm-backports' \
      'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
      > "$apt_tmp/parts/nsspec-backports.sources"
  fi
  apt_opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt_tmp/parts"
    -o "Dir::State::Lists=$apt_tmp/lists" "${apt_patient[@]}")
  export DEBIAN_FRONTEND=noninteractive
  if apt-get "${apt_opts[@]}" update -qq &&
    apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends -t bookworm-backports \
      qemu-system-x86 >/dev/null; then
    echo "QEMU from bookworm-backports"
  else
    echo "note: QEMU from bookworm-backports did not install; Debian 12's own, one vCPU per guest"
    command -v qemu-system-x86_64 >/dev/null ||
      { apt-get "${apt_patient[@]}" update -qq && apt-get "${apt_patient[@]}" install -y -qq --no-install-recommends qemu-system-x86 >/dev/null; }
  fi
  rm -rf "$apt_tmp"
fi
qemu-system-x86_64 --version | head -n 1

step "shellcheck the VM scripts"
shellcheck vm/run vm/matrix vm/fetch-kernel vm/ci.sh
shellcheck -s sh vm/init
# No $( ) or <( ) in vm/run or vm/matrix (comments aside): bash 5.2 runs a pending trap when it
# parses one it is about to expand, in a state where the trap's own text is a syntax error
# (exit 2; see the note in vm/run and the TERM check further down).
for script in vm/run vm/matrix; do
  subst=$(sed -E 's/(^|[[:space:]])#.*$//' "$script" | grep -nE '\$\(([^(]|$)|[<>]\(' || true)
  [ -z "$subst" ] || fail "$script expands \$( ) or <( ) again (bash 5.2 then fails a trap that fires there):
$subst"
done
ok "shellcheck clean; no \$( ) or <( ) in vm/run or vm/matrix"

step "vm/matrix's own logic, with a stand-in for vm/run (no VM)"
# A copy of vm/matrix beside a vm/run that records its arguments and answers as told by the
# kernel's name (kernels given as files need no fetching): the vCPU rule for parallel VMs and
# the report of a kernel whose run failed are checked without booting anything.
mx=$(mktemp -d)
tmp_usage=$(mktemp)
mkdir -p "$mx/vm" "$mx/k"
cp vm/matrix vm/fetch-kernel "$mx/vm/"
cat > "$mx/vm/run" <<'STANDIN'
#!/usr/bin/env bash
printf '%s\n' "$*" >> "$MX_CALLS"
kernel=
while [ $# -gt 0 ]; do [ "$1" != --kernel ] || kernel=$2; shift; done
case "$kernel" in
  */bad) echo "error: scenarios/none.yaml: No such file or directory" >&2; exit 2 ;;
  */qemufail) printf '%s\n' 'vm/run: QEMU failed (exit 1):' '  qemu-system-x86_64: cannot load kernel' >&2; exit 125 ;;
  */hang) echo '{"id":"pid/x","status":"passed","record":"r"}'; echo "vm/run: the run did not finish" >&2; exit 124 ;;
  # Stopping takes a while, as vm/run's does (it stops QEMU): a second signal to vm/matrix
  # then comes during its clean-up.
  */slow*) trap 'echo "stopped $$" >> "$MX_CALLS.term"; kill $!; sleep 0.5; exit 143' TERM; echo "running $$" >> "$MX_CALLS.term"
    sleep 60 & wait ;;
  */other) echo '{"id":"pid/x","status":"failed","snapshot":"differs","record":"line 1\nline 2\n"}'; exit 1 ;;
  *) echo '{"id":"pid/x","status":"passed","record":"r"}' ;;
esac
STANDIN
chmod +x "$mx/vm/run"
: > "$mx/k/good1"; : > "$mx/k/good2"; : > "$mx/k/bad"; : > "$mx/k/slow"; : > "$mx/k/slow2"; : > "$mx/k/qemufail"; : > "$mx/k/hang"; : > "$mx/k/other"
matrix_run() { # EXPECTED-EXIT ARGS...: run the copy; the vm/run calls it made go to $mx/calls
  local want=$1 rc=0
  shift
  : > "$mx/calls"
  MX_CALLS=$mx/calls NSSPEC_VM_CPUS='' "$mx/vm/matrix" --nsspec /bin/true "$@" > "$mx/out" 2> "$mx/err" || rc=$?
  [ "$rc" -eq "$want" ] || fail "vm/matrix $* exited $rc, not $want: $(cat "$mx/err")"
}
two="$mx/k/good1,$mx/k/good2"
matrix_run 0 --kernels "$two" -j 2
[ "$(grep -c -- '--cpus 1 ' "$mx/calls")" -eq 2 ] ||
  fail "vm/matrix -j 2 on two kernels did not give each VM one vCPU: $(cat "$mx/calls")"
matrix_run 0 --kernels "$two" -j 1
! grep -q -- '--cpus' "$mx/calls" ||
  fail "vm/matrix -j 1 chose a vCPU count (vm/run's default applies to a VM on its own)"
matrix_run 0 --kernels "$two" -j 2 --cpus 2
if [ "$(grep -c -- '--cpus 2 ' "$mx/calls")" -ne 2 ] || grep -q -- '--cpus 1' "$mx/calls"; then
  fail "vm/matrix overrode an explicit --cpus 2: $(cat "$mx/calls")"
fi
matrix_run 125 --kernels "$mx/k/good1,$mx/k/bad" -j 2
if ! grep -qx "vm/matrix: kernel $mx/k/bad: vm/run exited 2:" "$mx/err" ||
  ! grep -qx '  error: scenarios/none.yaml: No such file or directory' "$mx/err"; then
  fail "vm/matrix did not show why a kernel's run failed: $(cat "$mx/err")"
fi
# A kernel without results is no difference between kernels.
! grep -q '^pid/x .*\*' "$mx/out" || fail "a kernel whose VM failed made pid/x differ: $(cat "$mx/out")"
matrix_run 125 --kernels "$mx/k/good1,$mx/k/qemufail" -j 1
grep -qx '    qemu-system-x86_64: cannot load kernel' "$mx/err" ||
  fail "vm/matrix dropped the indented detail of vm/run's reason: $(cat "$mx/err")"
matrix_run 124 --kernels "$mx/k/good1,$mx/k/hang" -j 1
matrix_run 125 --kernels "$mx/k/hang,$mx/k/qemufail" -j 1
# A kernel name nothing knows is a usage error before any VM runs.
matrix_run 2 --kernels "$mx/k/good1,bogus" -j 1
[ ! -s "$mx/calls" ] || fail "vm/matrix ran vm/run despite an unknown kernel name"
# So is a point release: a Debian suite has one kernel, which would stand in for it.
matrix_run 2 --kernels "$mx/k/good1,6.1.150" -j 1
[ ! -s "$mx/calls" ] || fail "vm/matrix ran vm/run for a point release"
grep -q "a Debian suite has one kernel" "$mx/err" || fail "vm/matrix did not say why 6.1.150 is refused: $(cat "$mx/err")"
# A kernel listed twice: its results are kept per name, so two runs would mix into one.
matrix_run 2 --kernels "$mx/k/good1,$mx/k/good1" -j 1
[ ! -s "$mx/calls" ] || fail "vm/matrix ran vm/run for a kernel listed twice"
matrix_run 0 --help
grep -q '^vm/matrix' "$mx/out" || fail "vm/matrix --help printed nothing on stdout"
! grep -q 'shellcheck' "$mx/out" || fail "vm/matrix --help printed a shellcheck directive: $(cat "$mx/out")"
# vm/run's options that concern the guest pass through.
matrix_run 0 --kernels "$mx/k/good1" -j 1 --env A=1 --include /etc/hostname --collect /tmp -v
grep -q -- '--env A=1 --include /etc/hostname --collect /tmp -v ' "$mx/calls" ||
  fail "vm/matrix did not pass --env, --include, --collect, -v to vm/run: $(cat "$mx/calls")"
# --junit: the folder made here, collected from each guest, one report per kernel in it.
matrix_run 0 --kernels "$mx/k/good1,$mx/k/good2" -j 1 --junit "$mx/j" -- -f pid/
[ -d "$mx/j" ] || fail "vm/matrix --junit did not make its folder"
for n in 1 2; do
  grep -q -- "--collect $mx/j -- /bin/true run --json --junit $mx/j/kernel-$n.xml -f pid/\$" "$mx/calls" ||
    fail "vm/matrix --junit did not collect the folder and ask kernel $n for its report: $(cat "$mx/calls")"
done
# The stand-in writes no report: each kernel gets one with an <error> all the same, also where
# an earlier run left a green one.
mkdir -p "$mx/j2"
echo '<testsuites tests="1" failures="0" errors="0"/>' > "$mx/j2/kernel-2.xml"
matrix_run 125 --kernels "$mx/k/good1,$mx/k/bad" -j 1 --junit "$mx/j2"
grep -q '<error message="vm/run exited 2 before nsspec wrote its report' "$mx/j2/kernel-2.xml" ||
  fail "vm/matrix --junit wrote no report with an error for a failed kernel: $(cat "$mx/j2/kernel-2.xml" 2>&1)"
# The table, and --diff: the record of pid/x differs between the two kernels.
matrix_run 1 --kernels "$mx/k/good1,$mx/k/other" -j 1 --diff
grep -qE '^pid/x +PASS\* +FAIL!snap\*$' "$mx/out" ||
  fail "vm/matrix's table row for pid/x is wrong: $(cat "$mx/out")"
grep -qE '^\(vm/run exit\) +0 +1$' "$mx/out" || fail "vm/matrix's exit row is wrong: $(cat "$mx/out")"
grep -qx "  pid/x: $mx/k/good1 | $mx/k/other" "$mx/out" || fail "vm/matrix did not group the kernels: $(cat "$mx/out")"
if ! grep -qx '    -r' "$mx/out" || ! grep -qx '    +line 1' "$mx/out" || ! grep -qx '    +line 2' "$mx/out"; then
  fail "vm/matrix --diff did not show the two records: $(cat "$mx/out")"
fi
# Runs the copy on the two slow stand-ins, waits until both runs are going, and sends it
# TERM $1 times, 0.1 s apart; $mx/calls.term says which runs were stopped.
term_matrix() {
  local n mpid
  : > "$mx/calls.term"
  TMPDIR=$mx/scratch MX_CALLS=$mx/calls "$mx/vm/matrix" --nsspec /bin/true --kernels "$mx/k/slow,$mx/k/slow2" -j 2 > /dev/null 2>&1 &
  mpid=$!
  for _ in $(seq 100); do [ "$(grep -c '^running' "$mx/calls.term")" -lt 2 ] || break; sleep 0.1; done
  kill -TERM "$mpid"
  for ((n = 2; n <= $1; n++)); do sleep 0.1; kill -TERM "$mpid" 2>/dev/null || true; done
  wait "$mpid" || true
}
mkdir "$mx/scratch"
# TERM to vm/matrix must reach each vm/run (which stops its QEMU on TERM), not just a shell
# around it.
term_matrix 1
if [ "$(grep -c '^stopped' "$mx/calls.term")" -ne 2 ]; then
  fail "TERM to vm/matrix did not reach both vm/runs: $(cat "$mx/calls.term")"
fi
# Two TERMs 0.1 s apart (as `timeout -s TERM` and then the process group would): the second
# comes during the clean-up, which must finish all the same, its scratch folder removed.
term_matrix 2
left=$(find "$mx/scratch" -mindepth 1 -maxdepth 1)
[ -z "$left" ] || fail "vm/matrix left its scratch folder after two TERMs: $left"
[ "$(grep -c '^stopped' "$mx/calls.term")" -eq 2 ] || fail "two TERMs to vm/matrix did not stop both vm/runs: $(cat "$mx/calls.term")"
rm -rf "$mx"
# vm/run's own bad usage and missing build, before anything is packed or booted (125).
set +e
vm/run --timeout 0 -- /bin/true 2> "$tmp_usage"; rc=$?
set -e
if ! { [ "$rc" -eq 125 ] && grep -q "1 or more" "$tmp_usage"; }; then
  fail "vm/run --timeout 0: exit $rc, $(cat "$tmp_usage")"
fi
set +e
CARGO_TARGET_DIR=/nonexistent vm/run 2> "$tmp_usage"; rc=$?
set -e
if ! { [ "$rc" -eq 125 ] && grep -q "/nonexistent/x86_64-unknown-linux-gnu/release/nsspec is not built" "$tmp_usage"; }; then
  fail "vm/run did not look for nsspec under CARGO_TARGET_DIR: exit $rc, $(cat "$tmp_usage")"
fi
set +e
vm/run --kernel "" -- /bin/true 2> "$tmp_usage"; rc=$?
set -e
if ! { [ "$rc" -eq 125 ] && grep -q "^vm/run: --kernel takes" "$tmp_usage"; }; then
  fail "vm/run --kernel '': exit $rc, $(cat "$tmp_usage")"
fi
# vm/run's own failures are 125, not the 1 of a failed scenario.
set +e
# No kernel cached (a cache that cannot be made, even by root): the TMPDIR is refused before any fetch.
TMPDIR=/nonexistent XDG_CACHE_HOME=/dev/null/cache vm/run -- /bin/true 2> "$tmp_usage"; rc=$?
set -e
if ! { [ "$rc" -eq 125 ] && grep -q "cannot make a scratch folder in /nonexistent" "$tmp_usage"; }; then
  fail "vm/run with TMPDIR=/nonexistent: exit $rc, $(cat "$tmp_usage")"
fi
rm -f "$tmp_usage"
ok "vm/matrix: one vCPU per VM only when several run at once; a failed kernel's reason shown, left out of the comparison, 124/125 as documented; unknown names and point releases exit 2; options passed on; --junit collects a report per kernel; TERM reaches every vm/run"

step "build nsspec (release)"
cargo build --release --quiet
nsspec=${CARGO_TARGET_DIR:-$repo/target}/x86_64-unknown-linux-gnu/release/nsspec
expected=$("$nsspec" list | grep -cE '^[a-z0-9_-]+/[a-z0-9_-]+' || true)
[ "$expected" -gt 0 ] || fail "nsspec list shows no scenarios"
echo "built-in catalogue: $expected scenarios"

step "fetch kernel $kernel"
kdir=$(vm/fetch-kernel "$kernel")
release=$(basename "$kdir")
echo "$release in $kdir"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step "vm/fetch-kernel on a host whose apt lists no Debian archive (an Ubuntu CI runner)"
# /etc/apt's sources hidden in a mount namespace of its own (private: nothing reaches the host),
# a cache of its own: the kernel comes from deb.debian.org, saying so.
set +e
# shellcheck disable=SC2016  # expanded by the inner sh, from its arguments
unshare --mount --propagation private sh -c '
  mount -t tmpfs none /etc/apt/sources.list.d &&
  if [ -e /etc/apt/sources.list ]; then mount --bind /dev/null /etc/apt/sources.list; fi &&
  exec env -u NSSPEC_DEBIAN_MIRROR XDG_CACHE_HOME="$1" vm/fetch-kernel "$2"' sh "$tmp/xc" "$kernel" \
  > "$tmp/fk.out" 2> "$tmp/fk.err"
rc=$?
set -e
if ! { [ "$rc" -eq 0 ] && [ -f "$(cat "$tmp/fk.out")/vmlinuz" ] &&
  grep -q 'no Debian mirror in /etc/apt: using http://deb.debian.org/debian' "$tmp/fk.err"; }; then
  fail "vm/fetch-kernel without a Debian mirror: exit $rc, $(cat "$tmp/fk.out" "$tmp/fk.err")"
fi
rm -rf "$tmp/xc"
ok "no Debian archive in /etc/apt: the kernel came from deb.debian.org, with a note"

step "vm/matrix refuses a malformed scenario on the host, before any kernel boots"
set +e
vm/matrix --kernels "$kernel" -- harness/tests/malformed/await-cycle-two-processes.yaml > /dev/null 2> "$tmp/mx.err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "vm/matrix on a malformed scenario exited $rc, not 2: $(cat "$tmp/mx.err")"
grep -q 'await-cycle-two-processes.yaml:9:27: ' "$tmp/mx.err" || fail "vm/matrix did not show where: $(cat "$tmp/mx.err")"
ok "malformed scenario: exit 2 with file:line:column, nothing booted"

step "nsspec's folders come into the guest whole, with the snapshots/ beside a scenarios/ folder"
mkdir -p "$tmp/own/scenarios/g" "$tmp/own/snapshots"
cp scenarios/pid/getpid-is-one.yaml "$tmp/own/scenarios/g/a.yaml"
"$nsspec" run --accept-snapshots "$tmp/own/scenarios" > /dev/null
sed -i 's/NSpid/NSpid 0/' "$tmp/own/snapshots/g__a.snap"
set +e
vm/run --kernel "$kernel" --timeout 120 -- "$nsspec" run "$tmp/own/scenarios" > "$tmp/own.out" 2>&1
rc=$?
set -e
if ! { [ "$rc" -eq 1 ] && grep -q "differs from the snapshot $tmp/own/snapshots/g__a.snap" "$tmp/own.out"; }; then
  fail "a scenario folder outside the repository, or its snapshot, did not reach the guest: exit $rc, $(cat "$tmp/own.out")"
fi
ok "a folder of one's own: its scenario ran in the guest against its snapshot"

step "the built-in catalogue inside Linux $release (human report)"
set +e
timed "boot-to-result" vm/run --kernel "$kernel" --timeout 300 -- "$nsspec" run > "$tmp/human.out"
rc=$?
set -e
cat "$tmp/human.out"
[ "$rc" -eq 0 ] || fail "vm/run exited $rc"
grep -q "on Linux ${release%%-*}" "$tmp/human.out" || fail "the report does not say it ran on Linux $release"
# As root in the guest, only scenarios written for other kernel versions may be skipped.
skipped=$(grep -c '^SKIP' "$tmp/human.out" || true)
if grep '^SKIP' "$tmp/human.out" | grep -v 'kernel' ; then fail "a scenario was skipped in the guest for a reason other than its kernel version"; fi
grep -qx "$((expected - skipped)) passed, 0 failed, $skipped skipped ([0-9.]*s)" "$tmp/human.out" ||
  fail "the guest's summary is not '$((expected - skipped)) passed, 0 failed, $skipped skipped'"
ok "catalogue passed in the guest (summary line checked; $skipped skipped for their kernel version)"
# A step's feature newer than the guest's kernel is tried before its scenario is skipped (a
# vendor kernel's backport would run it): Debian's kernels before 6.11 lack the pidfd ioctls.
if [ "$(printf '%s\n' 6.11 "${release%%-*}" | sort -V | head -n 1)" != 6.11 ]; then
  grep -q '^SKIP  nsfs/pidfd-names-its-process-namespaces  (needs the pidfd ioctls .*tried here: ENOTTY' "$tmp/human.out" ||
    fail "the guest's pidfd_ns scenario was not skipped for the ENOTTY a trial of the pidfd ioctls gave"
  ok "a feature newer than Linux ${release%%-*} was tried: ENOTTY, so its scenario was skipped"
fi

step "the built-in catalogue inside Linux $release (JSON)"
set +e
vm/run --kernel "$kernel" --timeout 300 -- "$nsspec" run --json > "$tmp/run.jsonl"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "vm/run --json exited $rc"
total=$(jq -s 'length' "$tmp/run.jsonl")
good=$(jq -s '[.[] | select(.status == "passed" and (.record | type) == "string")] | length' "$tmp/run.jsonl")
[ "$total" -eq "$expected" ] || fail "the guest reported $total results, expected $expected"
versioned=$(jq -s '[.[] | select(.status == "skipped" and (.messages | join(" ") | test("kernel")))] | length' "$tmp/run.jsonl")
[ "$good" -eq "$((expected - versioned))" ] || {
  jq -c 'select(.status != "passed") | {id, status, messages}' "$tmp/run.jsonl"
  fail "only $good of $expected scenarios passed in the guest ($versioned skipped for their kernel version)"
}
ok "$good/$expected scenarios passed with records (JSON over the stdout channel)"

step "guest CPUs: two by default where the host has two cores and KVM or QEMU 8+ runs the guest"
set +e
guest_cpus=$(env -u NSSPEC_VM_CPUS NSSPEC_VM_TIMING=1 vm/run -- nproc 2>"$tmp/cpus.err")
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "vm/run -- nproc exited $rc"
chosen=$(sed -n 's/.*accelerator chosen (\([a-z]*\), [a-z]*, \([0-9]*\) vCPU).*/\1 \2/p' "$tmp/cpus.err")
read -r used_accel used_cpus <<< "$chosen"
qemu_now=$(qemu_major)
want=1
if [ "$(nproc)" -ge 2 ] && { [ "$used_accel" = kvm ] || [ "${qemu_now:-0}" -ge 8 ]; }; then want=2; fi
[ "${used_cpus:-}" = "$want" ] || fail "vm/run chose ${used_cpus:-?} vCPUs ($used_accel, QEMU $qemu_now), expected $want"
[ "$guest_cpus" = "$want" ] || fail "the guest has $guest_cpus CPUs, expected $want"
ok "the guest has $want vCPU(s) ($used_accel, QEMU $qemu_now, $(nproc) host cores)"

step "cgroup v2 in the guest: the fork bomb stops at pids.max, and no scenario cgroup is left"
in_guest "$tmp/cgroup.out" --kernel "$kernel" --timeout 120 --include "$nsspec" -- /bin/sh -c \
  "$nsspec run -v harness/tests/faults/fork-bomb.yaml; echo left: \$(ls /sys/fs/cgroup | grep -c nsspec-)"
grep -q '^PASS  fork-bomb' "$tmp/cgroup.out" || fail "the fork bomb was not stopped with EAGAIN"
grep -q 'process limit: cgroup v2 pids.max=64' "$tmp/cgroup.out" || fail "no cgroup v2 pids limit in the guest"
grep -qx 'left: 0' "$tmp/cgroup.out" || fail "a scenario cgroup was left behind"
ok "cgroup v2 pids limit (processes cloned into the cgroup), nothing left"

step "cgroup v2 in the guest: a scenario's cgroup2 mount keeps the host's root flags"
# A cgroup2 mount from the initial cgroup namespace sets the one superblock's flags to its own
# options: a plain one cleared the guest's nsdelegate (vm/init mounts with it).
in_guest "$tmp/flags.out" --kernel "$kernel" --timeout 120 --include "$nsspec" -- /bin/sh -c \
  "$nsspec run -v --no-snapshots harness/tests/fixtures/mount-cgroup-keeps-the-host-flags.yaml; \
   grep ' - cgroup2 ' /proc/self/mountinfo"
grep -q '^PASS  mount-cgroup-keeps-the-host-flags' "$tmp/flags.out" || fail "the cgroup2 mount step did not pass"
grep -q ' - cgroup2 [^ ]* [^ ]*nsdelegate' "$tmp/flags.out" || fail "a scenario's cgroup2 mount cleared the guest's nsdelegate"
ok "a scenario's cgroup2 mount leaves the host's cgroup2 flags (nsdelegate) as they were"

step "cgroup v2 corners: a cgroup namespace below the root, partial delegation, threaded cgroups, a limit on nsspec's own cgroup"
# Each fails every scenario ("cannot fork init") or ignores the limit when the harness
# misjudges where a scenario cgroup can go; unmet needs must skip with the reason instead.
in_guest "$tmp/corners.out" --kernel "$kernel" --timeout 180 --include "$nsspec" --include "$(command -v unshare)" \
  --include "$(command -v setpriv)" -- /bin/sh harness/tests/vm-cgroup-v2.sh "$nsspec" \
  "$(command -v unshare)" "$(command -v setpriv)"
for c in cgns partial threaded threaded-root room; do
  grep -qx "case $c: exit 0" "$tmp/corners.out" || fail "cgroup v2 case $c did not pass"
done
! grep -q -e '^FAIL' -e 'cannot fork' "$tmp/corners.out" || fail "a scenario failed in a cgroup v2 corner"
grep -q "no cgroup2 mount shows nsspec's own cgroup" "$tmp/corners.out" \
  || fail "below a cgroup namespace's root the skip does not say the host's cgroup2 mount is outside it"
grep -q '^PASS  fork-bomb' "$tmp/corners.out" || fail "rootless with partial delegation, the fork bomb did not run under RLIMIT_NPROC"
grep -q 'fork bombs may take at most a quarter of the PIDs this host has free, 4 now' "$tmp/corners.out" \
  || fail "the pids.max of nsspec's own cgroup was not counted in the room for fork bombs"
ok "cgroup v2 corners: unusable places skip with reasons, none fails; a limit on nsspec's own cgroup bounds fork bombs"

step "programs go into the guest without their debug sections; --keep-debug packs them whole"
cargo build --quiet --bin nsspec
dbg=${CARGO_TARGET_DIR:-$repo/target}/x86_64-unknown-linux-gnu/debug/nsspec
[[ $(readelf -S -W "$dbg") == *' .debug_info '* ]] || fail "the debug nsspec has no DWARF to strip"
host_size=$(stat -c %s "$dbg")
for mode in default --keep-debug; do
  set +e
  # shellcheck disable=SC2046  # no option in the default case
  vm/run --kernel "$kernel" --timeout 120 $([ "$mode" = default ] || echo "$mode") --include "$dbg" -- \
    /bin/sh -c "stat -c %s '$dbg'; '$dbg' --version" > "$tmp/debug.out"
  rc=$?
  set -e
  [ "$rc" -eq 0 ] || fail "vm/run ($mode) exited $rc"
  guest_size=$(sed -n 1p "$tmp/debug.out")
  grep -q '^nsspec ' "$tmp/debug.out" || fail "the packed debug nsspec did not run in the guest ($mode)"
  if [ "$mode" = default ]; then
    [ "$guest_size" -lt $((host_size / 2)) ] || fail "the guest's debug nsspec has $guest_size bytes of the host's $host_size: not stripped"
    stripped=$guest_size
  else
    [ "$guest_size" -eq "$host_size" ] || fail "--keep-debug: the guest's copy has $guest_size bytes, the host's $host_size"
  fi
done
ok "debug sections stripped by default ($host_size bytes → $stripped in the guest, and it runs); --keep-debug packs all $host_size"

step "no cgroup mounted at all: cgroup scenarios still pass (the supervisor mounts cgroup2 privately), and the flags stay"
# Out of sight, the flags (vm/init mounted cgroup2 with nsdelegate) are learnt from a mount in a
# cgroup namespace of a child's own; util-linux's unshare shows them the same way afterwards.
unshare_bin=$(command -v unshare)
in_guest "$tmp/nocgroup.out" --kernel "$kernel" --timeout 120 --include "$nsspec" --include "$unshare_bin" -- /bin/sh -c \
  "umount /sys/fs/cgroup && $nsspec run -v scenarios/cgroup \
     harness/tests/fixtures/mount-cgroup-keeps-the-host-flags.yaml; \
   $unshare_bin -Cm sh -c 'mount -t cgroup2 none /sys/fs/cgroup && grep \" - cgroup2 \" /proc/self/mountinfo'"
grep -q "the scenario's cgroup (for cgroup steps, no limit) is cgroup v2 nsspec-" "$tmp/nocgroup.out" ||
  fail "the private cgroup2 fallback was not used"
grep -q '^PASS  mount-cgroup-keeps-the-host-flags' "$tmp/nocgroup.out" ||
  fail "with no cgroup2 in sight, a scenario's cgroup2 mount did not pass"
grep -q ' - cgroup2 [^ ]* [^ ]*nsdelegate' "$tmp/nocgroup.out" ||
  fail "with no cgroup2 in sight, the cgroup2 mounts cleared the guest's nsdelegate"
ok "cgroup steps without a cgroup mount; the guest's cgroup2 flags kept"

step "no cgroup mounted, nsspec killed mid-scenario: the guardian still removes the scenario's cgroups"
# The supervisor's private cgroup2 mount dies with it: the guardian has to mount one of its own.
in_guest "$tmp/linger.out" --kernel "$kernel" --timeout 120 --include "$nsspec" -- /bin/sh -c \
  "umount /sys/fs/cgroup && { $nsspec run harness/tests/faults/cgroup-linger.yaml & pid=\$!; \
   sleep 3; echo running: \$(grep -lx nsspec /proc/[0-9]*/comm | wc -l); kill -9 \$pid; \
   sleep 2; mount -t cgroup2 none /sys/fs/cgroup; \
   echo left: \$(ls /sys/fs/cgroup | grep -c nsspec-); \
   echo procs: \$(grep -lx nsspec /proc/[0-9]*/comm | wc -l); }"
# Runner, guardian, supervisor, host, init and nested were all under way when it was killed.
grep -qx 'running: 6' "$tmp/linger.out" || fail "the scenario was not under way when nsspec was killed"
grep -qx 'left: 0' "$tmp/linger.out" || fail "a scenario cgroup was left behind"
grep -qx 'procs: 0' "$tmp/linger.out" || fail "a scenario process was left behind"
ok "guardian: nothing left after kill -9 of nsspec, cgroup2 mounted by no one"

step "a failing scenario propagates exit status 1"
set +e
vm/run --kernel "$kernel" --timeout 120 -- "$nsspec" run harness/tests/fixtures/broken-expectation.yaml > "$tmp/broken.out"
rc=$?
set -e
cat "$tmp/broken.out"
[ "$rc" -eq 1 ] || fail "expected exit 1 from the broken scenario, got $rc"
grep -q '^FAIL  broken-expectation' "$tmp/broken.out" || fail "the guest's report does not name the failing scenario"
ok "broken-expectation: exit 1"

step "no scenario process starts a core_pattern pipe, a process outside nsspec does"
# The guest's core_pattern is ours to change: a pipe whose helper leaves a mark. `kill` with
# SIGSEGV and SIGQUIT and a `crash` inside nsspec must not start it (RLIMIT_CORE 1); a shell
# child killed the same way outside nsspec must (or this check could not fail).
in_guest "$tmp/core.out" --kernel "$kernel" --timeout 120 --include "$nsspec" -- /bin/sh -c \
  "printf '#!/bin/sh\\necho dumped >> /tmp/dumped\\ncat > /dev/null\\n' > /tmp/helper && \
   chmod +x /tmp/helper && echo '|/tmp/helper' > /proc/sys/kernel/core_pattern && \
   $nsspec run harness/tests/faults/kill-dumps-no-core.yaml; echo nsspec: \$?; sleep 1; \
   echo inside: \$(cat /tmp/dumped 2>/dev/null | wc -l); \
   (sleep 60 & p=\$!; kill -SEGV \$p; wait \$p); sleep 1; \
   echo outside: \$(cat /tmp/dumped 2>/dev/null | wc -l)"
grep -qx 'nsspec: 0' "$tmp/core.out" || fail "kill-dumps-no-core did not pass"
grep -qx 'inside: 0' "$tmp/core.out" || fail "a scenario process started the core_pattern pipe"
grep -qx 'outside: 1' "$tmp/core.out" || fail "the core_pattern pipe did not run for a process outside nsspec: the check cannot tell"
ok "core-dumping kills and crashes in scenarios start no core_pattern pipe (a process outside does)"

step "files written in the guest come back; deletions of pending snapshots too"
probe=snapshots/zz-vm-ci-probe.snap.new
rm -f "$probe"
vm/run --kernel "$kernel" --timeout 120 -- /bin/sh -c "printf 'from the guest %s\n' \"\$(uname -r)\" > $probe"
grep -qsx "from the guest $release" "$probe" || fail "$probe did not come back from the guest"
vm/run --kernel "$kernel" --timeout 120 -- /bin/sh -c "rm $probe"
[ ! -e "$probe" ] || { rm -f "$probe"; fail "$probe was deleted in the guest but not here"; }
# A collected folder that exists only on the host can be written in the guest.
reports=$(mktemp -d)
vm/run --kernel "$kernel" --timeout 120 --collect "$reports" -- "$nsspec" run --junit "$reports/r.xml" scenarios/pid/getpid-is-one.yaml > /dev/null
grep -q "<property name=\"kernel\" value=\"$release\"/>" "$reports/r.xml" ||
  fail "the guest's JUnit report did not come back through --collect: $(ls -la "$reports")"
rm -rf "$reports"
ok "results channel: a new file came back, its deletion too; a JUnit report through --collect"

step "all of stderr arrives, however slowly it is read; a leftover writer does not hold the run"
# 260 KB of stderr read at about 20 KB/s: when the program exits, its last 64 KB are still in
# the guest's pipe, three seconds of reading away. (init once killed its relays two seconds
# after the program's exit, losing them; this caught that every time.)
slow_reader() {
  local l n=0
  while IFS= read -r l; do
    printf '%s\n' "$l"
    n=$((n + 1))
    [ $((n % 1000)) -ne 0 ] || sleep 0.3
  done
}
set +e
vm/run --kernel "$kernel" --timeout 120 -- /bin/sh -c 'seq 1 45000 >&2; exit 3' 2>&1 >/dev/null |
  slow_reader > "$tmp/burst.err"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 3 ] || fail "vm/run exited $rc, not the program's 3: $(grep '^vm/run:' "$tmp/burst.err")"
grep -v '^vm/run: note: ' "$tmp/burst.err" > "$tmp/burst.lines" || true
if ! seq 1 45000 | cmp -s - "$tmp/burst.lines"; then
  fail "stderr arrived incomplete or altered: $(wc -l < "$tmp/burst.lines") lines, ending: $(tail -n 2 "$tmp/burst.lines" | tr '\n' '|')"
fi
set +e
s=$(date +%s)
vm/run --kernel "$kernel" --timeout 60 -- /bin/sh -c 'sleep 600 & echo bye >&2' 2> "$tmp/leftover.err"
rc=$?
e=$(date +%s)
set -e
[ "$rc" -eq 0 ] || fail "a program leaving a background writer: vm/run exited $rc"
grep -qx bye "$tmp/leftover.err" || fail "the program's stderr did not arrive: $(cat "$tmp/leftover.err")"
[ $((e - s)) -lt 30 ] || fail "a leftover background process held the run for $((e - s)) s"
# stderr without a final newline: init's end marker then shares its line, and must not show.
set +e
vm/run --kernel "$kernel" --timeout 60 -- /bin/sh -c 'printf "no newline" >&2; exit 4' 2> "$tmp/nonl.err"
rc=$?
set -e
[ "$rc" -eq 4 ] || fail "printf 'no newline' >&2; exit 4: vm/run exited $rc"
[ "$(grep -v '^vm/run: note: ' "$tmp/nonl.err")" = "no newline" ] ||
  fail "stderr without a final newline arrived as: $(cat -A "$tmp/nonl.err")"
ok "45000 lines of slowly read stderr all arrived, status 3; a leftover writer stopped (run took $((e - s)) s); a last line without newline arrived alone"

step "vm/run | head: the VM stops once the reader is gone, exit 141 as of SIGPIPE"
for chan in stdout stderr; do
  redir=; [ "$chan" = stdout ] || redir='>&2'
  set +e
  s=$(date +%s)
  vm/run --kernel "$kernel" --timeout 120 -- /bin/sh -c "seq 1 2000000 $redir; exit 7" 2>&1 | head -n 2 > /dev/null
  rc=${PIPESTATUS[0]}
  e=$(date +%s)
  set -e
  [ "$rc" -eq 141 ] || fail "vm/run ($chan) | head: exit $rc, not 141"
  [ $((e - s)) -lt 30 ] || fail "vm/run ($chan) | head took $((e - s)) s: the VM was not stopped"
done
ok "a reader going away on stdout or stderr stops the VM: exit 141"

step "a hang is cut off: exit 124 within --timeout"
set +e
s=$(date +%s)
vm/run --kernel "$kernel" --timeout 15 -- /bin/sleep 600 2> "$tmp/hang.err"
rc=$?
e=$(date +%s)
set -e
cat "$tmp/hang.err"
[ "$rc" -eq 124 ] || fail "expected exit 124 for a hang, got $rc"
[ $((e - s)) -le 25 ] || fail "the hang took $((e - s)) s to be cut off (limit 15 s)"
pgrep -f "nsspec-vm\\.[A-Za-z0-9]*/initramfs" >/dev/null && fail "a QEMU of vm/run outlived it"
ok "hang: exit 124 after $((e - s)) s, no QEMU left"

step "a run stopped at --timeout still reports: the finished results, a JUnit report, exit 124"
# Files named on the command line are packed, and the folder of a --junit report comes back,
# made in the guest: here one under the repository's target/ (left out of what the repository
# brings back otherwise), with a space in its name.
mkdir -p "$tmp/stopped"
printf 'name: hang\nnamespaces: [pid]\ntimeout: 600\nsteps:\n  - pause: {}\n' > "$tmp/stopped/hang.yaml"
reports="$repo/target/vm-ci reports"
rm -rf "$reports"; mkdir -p "$reports"
set +e
vm/run --kernel "$kernel" --timeout 25 -- "$nsspec" run --junit "$reports/r.xml" \
  scenarios/pid/getpid-is-one.yaml "$tmp/stopped/hang.yaml" > "$tmp/stopped.out" 2> "$tmp/stopped.err"
rc=$?
set -e
cat "$tmp/stopped.out" "$tmp/stopped.err"
[ "$rc" -eq 124 ] || fail "expected exit 124 for a run stopped at --timeout, got $rc"
grep -q '^PASS  pid/getpid-is-one' "$tmp/stopped.out" || fail "the finished scenario's result did not come back"
grep -q '1 not finished: interrupted by SIGTERM' "$tmp/stopped.out" || fail "no summary of the stopped run"
grep -q 'not finished: the run was interrupted by SIGTERM' "$reports/r.xml" || fail "the JUnit report did not come back with the unfinished scenario"
rm -rf "$reports"
grep -q 'did not finish within --timeout 25s: the guest sent it SIGTERM' "$tmp/stopped.err" || fail "vm/run did not say why it stopped the run"
ok "stopped at --timeout: results, summary and JUnit came back, exit 124"

step "kill -9 of vm/run: QEMU stops with it, and the next run removes its scratch folder"
scratch_root=${TMPDIR:-/tmp}
# Starts vm/run on a guest that sleeps, in the background ($vpid), and waits (30 s at most) until
# its QEMU runs: $owner is then the owner file of its scratch folder.
start_sleeping_vm() {
  vm/run --kernel "$kernel" --timeout 120 -- /bin/sleep 600 > /dev/null 2>&1 &
  vpid=$!
  owner=
  for _ in $(seq 300); do
    owner=$(grep -l "^$vpid " "$scratch_root"/nsspec-vm.*/owner 2>/dev/null | head -n 1 || true)
    [ -n "$owner" ] && pgrep -f "${owner%/owner}/initramfs" >/dev/null && break
    sleep 0.1
  done
  [ -n "$owner" ] || { kill "$vpid" 2>/dev/null; fail "vm/run's scratch folder (with an owner file) did not appear"; }
}
start_sleeping_vm
scratch=${owner%/owner}
kill -KILL "$vpid"
wait "$vpid" 2>/dev/null || true
for _ in $(seq 50); do pgrep -f "$scratch/initramfs" >/dev/null || break; sleep 0.1; done
pgrep -f "$scratch/initramfs" >/dev/null && fail "QEMU outlived vm/run after kill -9"
[ -d "$scratch" ] || fail "the killed run's scratch folder vanished by itself (the test proves nothing)"
vm/run --kernel "$kernel" --timeout 120 -- /bin/true || fail "a run after kill -9 failed"
[ ! -e "$scratch" ] || fail "the next vm/run did not remove the killed run's scratch folder $scratch"
ok "kill -9: QEMU gone, stale scratch removed by the next run"

step "a short --timeout keeps the guest's SIGTERM grace; a signal in vm/run's set-up leaves nothing"
# --timeout 10: the guest sends SIGTERM at 8 s of its uptime and the program's end comes back
# before QEMU is stopped at 10 s. Counting in whole seconds lost that grace.
set +e
vm/run --kernel "$kernel" --timeout 10 -- /bin/sh -c 'echo started; sleep 600' > "$tmp/short.out" 2> "$tmp/short.err"
rc=$?
set -e
[ "$rc" -eq 124 ] || fail "expected exit 124 at --timeout 10, got $rc: $(cat "$tmp/short.err")"
grep -q 'the guest sent it SIGTERM' "$tmp/short.err" ||
  fail "at --timeout 10 the program's SIGTERM did not come back in time: $(tail -n 5 "$tmp/short.err")"
# A copy of vm/ that pauses between starting a channel reader and recording it: a TERM there
# used to leave the reader behind, holding vm/run's stdout, so that a capture never ended.
race=$(mktemp -d)
cp -r vm "$race/vm"
# shellcheck disable=SC2016 # $tmp is vm/run's, expanded there
sed -i 's/^console_reader &$/console_reader \&\ntouch "$tmp\/paused"; sleep 3/' "$race/vm/run"
grep -qF "touch \"\$tmp/paused\"; sleep 3" "$race/vm/run" || fail "the race copy of vm/run was not made"
( out=$("$race/vm/run" --kernel "$kernel" -- /bin/true 2>&1) || true; echo "$out" > "$race/captured" ) &
cap=$!
vpid=''
paused=''
for _ in $(seq 300); do
  vpid=$(pgrep -of "^bash $race/vm/run" || true)
  owner=$(grep -l "^${vpid:-none} " "$scratch_root"/nsspec-vm.*/owner 2>/dev/null | head -n 1 || true)
  [ -z "$owner" ] || [ ! -e "${owner%/owner}/paused" ] || { paused=1; break; }
  sleep 0.05
done
[ -n "$paused" ] || fail "the race copy of vm/run did not reach its pause"
kill -TERM "$vpid"
for _ in $(seq 50); do kill -0 "$cap" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$cap" 2>/dev/null; then
  pkill -f "^bash $race/vm/run" || true
  fail "a TERM between a reader's start and its record left a process holding vm/run's output"
fi
pgrep -f "^bash $race/vm/run" >/dev/null && fail "a process of the terminated vm/run was left"
grep -q "terminated; stopping the VM" "$race/captured" || fail "vm/run did not say it was terminated: $(cat "$race/captured")"
# kill -9 in the same place: its readers wait in open() of channels no QEMU will open, and the
# next run, which removes the killed run's scratch folder, lets them out too.
"$race/vm/run" --kernel "$kernel" -- /bin/true > /dev/null 2>&1 &
vpid=$!
paused=''
for _ in $(seq 300); do
  owner=$(grep -l "^$vpid " "$scratch_root"/nsspec-vm.*/owner 2>/dev/null | head -n 1 || true)
  [ -z "$owner" ] || [ ! -e "${owner%/owner}/paused" ] || { paused=1; break; }
  sleep 0.05
done
[ -n "$paused" ] || fail "the race copy of vm/run did not reach its pause (kill -9)"
readers=$(pgrep -P "$vpid" | tr '\n' ' ')
[ -n "$readers" ] || fail "the paused vm/run had no readers to leave behind"
kill -KILL "$vpid"
wait "$vpid" 2>/dev/null || true
vm/run --kernel "$kernel" --timeout 120 -- /bin/true > /dev/null || fail "a run after kill -9 failed"
sleep 0.5
for r in $readers; do
  if kill -0 "$r" 2>/dev/null && grep -q "$race/vm/run" "/proc/$r/cmdline" 2>/dev/null; then
    for r2 in $readers; do kill "$r2" 2>/dev/null || true; done
    fail "a reader of a vm/run killed with -9 ($r) outlived the next run"
  fi
done
rm -rf "$race"
ok "--timeout 10: the program's SIGTERM came back (exit 124); a TERM mid-set-up left nothing; a kill -9 there left readers that the next run let out"

step "a TERM while vm/run waits for one of two command substitutions of a command; two TERMs"
# With $( ), bash 5.2 ran the TERM trap when it went on to parse the second one, where the
# trap's text is a syntax error: exit 2 ("unexpected EOF while looking for matching `)'"), not
# 143. A realpath that is slow once, for one argument of the program, holds vm/run inside the
# first of the two substitutions with which it checks that argument for /proc, /sys and /dev
# paths; no VM boots.
slow=$(mktemp -d)
cat > "$slow/realpath" <<'SLOW'
#!/bin/sh
for a; do
  case "$a" in */slow-arg) [ -e "${a%/*}/started" ] || { : > "${a%/*}/started"; exec sleep 2; } ;; esac
done
PATH=${PATH#*:} exec realpath "$@"
SLOW
chmod +x "$slow/realpath"
PATH="$slow:$PATH" vm/run --kernel "$kernel" -- /bin/true "$slow/slow-arg" > /dev/null 2> "$slow/err" &
vpid=$!
for _ in $(seq 300); do [ ! -e "$slow/started" ] || break; sleep 0.05; done
[ -e "$slow/started" ] || { kill "$vpid" 2>/dev/null; fail "vm/run did not reach the slow realpath"; }
kill -TERM "$vpid"
set +e
wait "$vpid"
rc=$?
set -e
[ "$rc" -eq 143 ] || fail "a TERM during a command substitution: exit $rc, not 143: $(cat "$slow/err")"
grep -q "terminated; stopping the VM" "$slow/err" || fail "vm/run did not say it was terminated: $(cat "$slow/err")"
! grep -l "^$vpid " "$scratch_root"/nsspec-vm.*/owner 2>/dev/null || fail "the terminated run left its scratch folder"
rm -rf "$slow"
# A second TERM while vm/run stops its QEMU (its cleanup waits 0.2 s for it) ran the trap again,
# whose exit ended the cleanup before the scratch folder was removed.
start_sleeping_vm
kill -TERM "$vpid"
sleep 0.1
kill -TERM "$vpid" 2>/dev/null || true
wait "$vpid" 2>/dev/null || true
[ ! -e "${owner%/owner}" ] || fail "a second TERM during vm/run's cleanup left its scratch folder ${owner%/owner}"
ok "a TERM during a command substitution: exit 143, nothing left; a second TERM during the cleanup: nothing left"

step "scripts that name their interpreter through env; an output that cannot be written"
# shellcheck disable=SC2016 # the script's own $BASH_VERSION
printf '#!/usr/bin/env bash\necho "bash $BASH_VERSION"\nexit 4\n' > "$tmp/env.sh"
chmod +x "$tmp/env.sh"
set +e
vm/run --kernel "$kernel" --timeout 120 -- "$tmp/env.sh" > "$tmp/env.out" 2> "$tmp/env.err"
rc=$?
set -e
[ "$rc" -eq 4 ] || fail "a #!/usr/bin/env bash script: exit $rc, $(cat "$tmp/env.err")"
grep -q '^bash [0-9]' "$tmp/env.out" || fail "the env script printed: $(cat "$tmp/env.out")"
set +e
vm/run --kernel "$kernel" --timeout 120 -- /bin/sh -c 'seq 1 100000' > /dev/full 2> "$tmp/full.err"
rc=$?
set -e
[ "$rc" -eq 125 ] || fail "vm/run > /dev/full: exit $rc, not 125: $(cat "$tmp/full.err")"
grep -q "cannot write the program's standard output" "$tmp/full.err" ||
  fail "vm/run > /dev/full did not say why: $(cat "$tmp/full.err")"
ok "#!/usr/bin/env bash ran in the guest (exit 4); a full stdout stopped the VM with exit 125"

step "a kernel panic is reported: exit 125"
set +e
vm/run --kernel "$kernel" --timeout 120 -- /bin/sh -c 'echo c > /proc/sysrq-trigger' > /dev/null 2> "$tmp/panic.err"
rc=$?
set -e
grep '^vm/run:' "$tmp/panic.err"
[ "$rc" -eq 125 ] || fail "expected exit 125 for a panic, got $rc"
grep -q 'kernel panic' "$tmp/panic.err" || fail "the panic was not reported as one"
ok "panic: exit 125, reported"

if [ "${NSSPEC_VM_CI_CARGO:-1}" != 0 ]; then
  # The scenario trials, with vm/run as cargo's runner. The CLI tests stay on the host: some
  # bound wall time (a hang cut off within its limit + 1 s), which emulation stretches tenfold.
  step "cargo test --test scenarios with vm/run as the cargo runner"
  set +e
  CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER=$repo/vm/run NSSPEC_VM_KERNEL=$kernel \
    cargo test --test scenarios 2>&1 | tee "$tmp/cargo.out"
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -eq 0 ] || fail "cargo test in the VM exited $rc"
  grep -qE "test result: ok. [0-9]+ passed; 0 failed; [0-9]+ ignored" "$tmp/cargo.out" ||
    fail "the scenario trials did not all pass in the VM"
  trials=$(grep -E "test result: ok. [0-9]+ passed; 0 failed; [0-9]+ ignored" "$tmp/cargo.out" |
    awk -v n="$expected" '{ gsub(";", ""); if ($4 + $8 == n) found = 1 } END { print found + 0 }')
  [ "$trials" -eq 1 ] || fail "no test binary ran one trial per scenario ($expected) in the VM"
  ok "cargo test in the VM"
fi

if [ "${NSSPEC_VM_CI_MATRIX:-0}" = 1 ]; then
  step "kernel matrix"
  vm/matrix || fail "the kernel matrix failed"
  ok "matrix"
fi

printf '\nvm-ci: %d passed, 0 failed\n' "$passed"
