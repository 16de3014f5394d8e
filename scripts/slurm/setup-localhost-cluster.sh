#!/usr/bin/env bash
# Bring up a real one-node SLURM cluster on this machine, from Debian's packages:
# munged, mariadbd, slurmdbd (accounting: the Snakemake SLURM executor polls job state
# with `sacct`), slurmctld and slurmd, all on localhost, started directly (no systemd),
# so that it also works inside a container without cgroups.
#
# Usage (as root, or through sudo):  scripts/slurm/setup-localhost-cluster.sh [USER...]
#   USER...  extra login names allowed to submit jobs (root and $SUDO_USER always are).
# Idempotent: rerunning it installs nothing twice, rewrites the config files, restarts a
# SLURM daemon only when its config changed, and leaves running daemons alone otherwise.
# Stop everything with scripts/slurm/teardown-localhost-cluster.sh.
# State lives under /var/lib/{slurm,mysql}, logs under /var/log/slurm, pids under /run.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    exec sudo --preserve-env=SUDO_USER "$0" "$@"
fi

# Names used by the profile/README: the cluster, the default partition, the account.
CLUSTER=harness
PARTITION=debug
ACCOUNT=harness
PACKAGES=(slurm-wlm munge mariadb-server slurmdbd)

ETC=/etc/slurm
# Fake GPUs (GRES): plain files standing for device files, so that jobs asking for GPUs
# (sbatch --gpus=N, as the Snakemake executor submits them) are scheduled on a machine
# without any. SLURM counts and hands them out (CUDA_VISIBLE_DEVICES); nothing is a GPU.
FAKE_GPUS=2
FAKE_GPU_DIR=/var/lib/slurm/fake-gpus
LOGDIR=/var/log/slurm
RUNDIR=/run/slurm
STATEDIR=/var/lib/slurm
NODE=$(hostname -s)

log() { printf '[slurm-setup %(%H:%M:%S)T] %s\n' -1 "$*"; }
die() { log "ERROR: $*"; exit 1; }

# alive PIDFILE: true when the pid file names a running process.
alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND once a second until it succeeds.
wait_for() {
    local limit=$1 what=$2; shift 2
    local i
    for ((i = 0; i < limit; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    die "timed out after ${limit}s waiting for $what (logs: $LOGDIR)"
}

install_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then
        log "packages already installed: ${PACKAGES[*]}"
        return
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # The packages' postinst scripts try to start services; without systemd they just warn.
    apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
}

# install_file SRC DEST MODE OWNER: replace DEST by SRC when they differ; true if replaced.
install_file() {
    local src=$1 dest=$2 mode=$3 owner=$4
    if [[ -f $dest ]] && cmp -s "$src" "$dest"; then
        rm -f "$src"
        return 1
    fi
    install -m "$mode" -o "$owner" -g "$owner" "$src" "$dest"
    rm -f "$src"
    return 0
}

start_munge() {
    install -d -o munge -g munge -m 0755 /run/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        log "creating munge key"
        mungekey --create --keyfile=/etc/munge/munge.key
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
    if ! alive /run/munge/munged.pid; then
        log "starting munged"
        runuser -u munge -- /usr/sbin/munged
    fi
    wait_for 20 "munge credentials" bash -c 'munge -n | unmunge'
}

start_mariadb() {
    install -d -o mysql -g mysql -m 0755 /run/mysqld
    if [[ ! -d /var/lib/mysql/mysql ]]; then
        log "initialising the MariaDB data directory"
        mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
    fi
    if ! alive /run/mysqld/mysqld.pid; then
        log "starting mariadbd"
        nohup /usr/sbin/mariadbd --user=mysql --datadir=/var/lib/mysql \
            --pid-file=/run/mysqld/mysqld.pid --socket=/run/mysqld/mysqld.sock \
            --bind-address=127.0.0.1 >>"$LOGDIR/mariadbd.log" 2>&1 &
    fi
    wait_for 60 "mariadbd" mariadb-admin --socket=/run/mysqld/mysqld.sock ping
}

# A random password for the slurm DB user, kept across reruns in slurmdbd.conf.
db_password() {
    local old
    old=$(sed -n 's/^StoragePass=//p' "$ETC/slurmdbd.conf" 2>/dev/null || true)
    if [[ -n $old ]]; then echo "$old"; else od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; fi
}

write_configs() {
    local pass=$1 changed=1 tmp
    # slurmd -C prints this node's real CPUs/sockets/cores/threads and memory, which is
    # what slurmd registers with; configuring more would drain the node.
    local hw
    hw=$(slurmd -C | head -n1 | sed 's/^NodeName=[^ ]* //')
    local cpus mem
    cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$hw")
    mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
    [[ -n $cpus && -n $mem ]] || die "could not read CPUs/RealMemory from 'slurmd -C': $hw"

    tmp=$(mktemp)
    cat >"$tmp" <<EOF
# Generated by scripts/slurm/setup-localhost-cluster.sh for host $NODE; rerun it to refresh.
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
AuthType=auth/munge
SlurmUser=slurm
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$STATEDIR/slurmctld
SlurmdSpoolDir=$STATEDIR/slurmd
SlurmctldPidFile=$RUNDIR/slurmctld.pid
SlurmdPidFile=$RUNDIR/slurmd.pid
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
# No cgroups/systemd in containers: track processes through /proc, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
MpiDefault=none
ReturnToService=2
# Several small jobs share the node: schedule cores and memory, not whole nodes.
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((mem / cpus))
# Accounting through slurmdbd (sacct is how Snakemake's executor sees jobs end).
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
AccountingStorageEnforce=associations
JobCompType=jobcomp/none
# Generic resources: $FAKE_GPUS fake GPUs (gres.conf), tracked in accounting (AllocTRES).
GresTypes=gpu
AccountingStorageTRES=gres/gpu
NodeName=$NODE NodeAddr=127.0.0.1 $hw Gres=gpu:$FAKE_GPUS State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    install_file "$tmp" "$ETC/slurm.conf" 0644 root && changed=0

    tmp=$(mktemp)
    cat >"$tmp" <<EOF
# Generated by scripts/slurm/setup-localhost-cluster.sh. No cgroup plugin is configured in
# slurm.conf (proctrack/linuxproc, task/none), so nothing here is enforced.
ConstrainCores=no
ConstrainRAMSpace=no
EOF
    install_file "$tmp" "$ETC/cgroup.conf" 0644 root && changed=0

    install -d -m 0755 "$FAKE_GPU_DIR"
    local i
    for ((i = 0; i < FAKE_GPUS; i++)); do touch "$FAKE_GPU_DIR/nvidia$i"; done
    tmp=$(mktemp)
    cat >"$tmp" <<EOF
# Generated by scripts/slurm/setup-localhost-cluster.sh: fake GPUs (plain files, no devices).
NodeName=$NODE Name=gpu File=$FAKE_GPU_DIR/nvidia[0-$((FAKE_GPUS - 1))]
EOF
    install_file "$tmp" "$ETC/gres.conf" 0644 root && changed=0

    tmp=$(mktemp)
    cat >"$tmp" <<EOF
# Generated by scripts/slurm/setup-localhost-cluster.sh.
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=slurm
PidFile=$RUNDIR/slurmdbd.pid
LogFile=$LOGDIR/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StoragePort=3306
StorageUser=slurm
StoragePass=$pass
StorageLoc=slurm_acct_db
EOF
    install_file "$tmp" "$ETC/slurmdbd.conf" 0600 slurm && changed=0
    return $changed
}

setup_database() {
    local pass=$1
    mariadb --socket=/run/mysqld/mysqld.sock <<EOF
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$pass';
ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$pass';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
EOF
}

# restart_or_start NAME PIDFILE RESTART COMMAND...
restart_or_start() {
    local name=$1 pidfile=$2 restart=$3; shift 3
    if alive "$pidfile" && [[ $restart == yes ]]; then
        local pid
        pid=$(cat "$pidfile")
        log "config changed: stopping $name ($pid)"
        kill "$pid"
        wait_for 30 "$name to stop" bash -c "! kill -0 $pid 2>/dev/null"
    fi
    if ! alive "$pidfile"; then
        log "starting $name"
        "$@"
    fi
}

setup_accounts() {
    if [[ -z $(sacctmgr -n -P list cluster "$CLUSTER" format=cluster) ]]; then
        sacctmgr -i add cluster "$CLUSTER" >/dev/null
    fi
    if [[ -z $(sacctmgr -n -P list account "$ACCOUNT" format=account) ]]; then
        sacctmgr -i add account "$ACCOUNT" Cluster="$CLUSTER" \
            Description="harness CI" Organization=harness >/dev/null
    fi
    local users=(root "$@") u
    [[ -n ${SUDO_USER:-} ]] && users+=("$SUDO_USER")
    for u in "${users[@]}"; do
        if [[ -z $(sacctmgr -n -P list assoc user="$u" account="$ACCOUNT" format=user) ]]; then
            sacctmgr -i add user "$u" Account="$ACCOUNT" DefaultAccount="$ACCOUNT" >/dev/null
        fi
    done
}

node_idle() { sinfo -h -n "$NODE" -o %T | grep -Eq '^(idle|mixed|allocated)'; }

main() {
    local t0=$SECONDS restart=no pass
    install_packages
    install -d -o slurm -g slurm -m 0755 "$LOGDIR" "$RUNDIR" \
        "$STATEDIR" "$STATEDIR/slurmctld" "$STATEDIR/slurmd"
    pass=$(db_password)
    write_configs "$pass" && restart=yes
    start_munge
    start_mariadb
    setup_database "$pass"
    restart_or_start slurmdbd "$RUNDIR/slurmdbd.pid" "$restart" /usr/sbin/slurmdbd
    wait_for 60 "slurmdbd" sacctmgr -n list cluster
    setup_accounts "$@"
    restart_or_start slurmctld "$RUNDIR/slurmctld.pid" "$restart" /usr/sbin/slurmctld
    restart_or_start slurmd "$RUNDIR/slurmd.pid" "$restart" /usr/sbin/slurmd
    wait_for 60 "slurmctld" scontrol ping
    wait_for 60 "node $NODE to be idle" node_idle
    wait_for 60 "sacct" sacct -n -X --starttime now-1hours
    log "cluster '$CLUSTER' up in $((SECONDS - t0))s: partition '$PARTITION', account '$ACCOUNT'"
    sinfo
}

main "$@"
