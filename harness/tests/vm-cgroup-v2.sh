#!/bin/sh
# Cgroup v2 cases a hybrid (v1) host cannot show: run as root in a vm/run guest, which mounts
# cgroup2 (nsdelegate) with pids. $1: nsspec; $2: util-linux unshare; $3: setpriv. Prints one
# "case NAME: exit N" line per case, after its summary lines; vm/ci.sh checks them.
N=$1 U=$2 SETPRIV=$3
CG=/sys/fs/cgroup
fb=harness/tests/faults/fork-bomb.yaml
g1=scenarios/pid/getpid-is-one.yaml
rf=scenarios/cgroup/root-fixed-at-creation.yaml
chmod 755 . harness harness/tests harness/tests/faults scenarios scenarios/pid scenarios/cgroup
chmod 644 $fb $g1 $rf
# nobody runs a copy: the folders above the build's binary need not be searchable by others
# (a checkout or CARGO_TARGET_DIR under /root).
cp "$N" /tmp/nsspec-any && chmod 755 /tmp/nsspec-any
show() { grep -e '^PASS' -e '^FAIL' -e '^SKIP' -e 'passed,' -e 'cannot' | cut -c1-700; }
# Runs "$@" in a subshell moved into the cgroup $1 (made first), then removes it.
case_in() {
  name=$1 dir=$2; shift 2
  (echo 0 > "$dir/cgroup.procs" && "$@") > "/tmp/$name.out" 2>&1
  rc=$?
  show < "/tmp/$name.out"
  echo "case $name: exit $rc"
  find "$CG" -depth -type d -path "$CG/t-*" -exec rmdir {} + 2>/dev/null
}

# 1: plain `unshare -C` below the root: the host's mount shows the namespace's root as /..
mkdir $CG/t-ns
case_in cgns $CG/t-ns "$U" -C "$N" run $fb $g1 $rf

# 2a: rootless, the parent directory delegated but not its cgroup.procs (the common ancestor's)
mkdir -p $CG/t-w/s && echo +pids > $CG/t-w/cgroup.subtree_control
chown 65534 $CG/t-w $CG/t-w/s $CG/t-w/s/cgroup.procs
case_in partial $CG/t-w/s "$SETPRIV" --reuid=65534 --regid=65534 --clear-groups /tmp/nsspec-any run $fb $g1

# 2b: in a threaded cgroup whose parent is threaded, and in one whose parent is the threaded root
mkdir -p $CG/t-td/t1/t2
echo threaded > $CG/t-td/t1/cgroup.type && echo threaded > $CG/t-td/t1/t2/cgroup.type
echo +pids > $CG/t-td/cgroup.subtree_control && echo +pids > $CG/t-td/t1/cgroup.subtree_control
case_in threaded $CG/t-td/t1/t2 "$N" run $fb $g1
mkdir -p $CG/t-td/t1
echo threaded > $CG/t-td/t1/cgroup.type && echo +pids > $CG/t-td/cgroup.subtree_control
case_in threaded-root $CG/t-td/t1 "$N" run $fb $g1

# 4: a pids limit on nsspec's own cgroup (a unit's TasksMax): 18 free, a quarter of it is 4
mkdir $CG/t-lim && echo 20 > $CG/t-lim/pids.max
case_in room $CG/t-lim sh -c "$N probe | grep 'room for fork bombs'; $N run $fb $g1"
