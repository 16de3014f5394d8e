#!/usr/bin/env bash
# Stop the daemons started by setup-localhost-cluster.sh (by their pid files, in reverse
# order). Keeps packages, configs and state; `--purge` also deletes the SLURM state and
# the accounting database so that the next setup starts from scratch.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    exec sudo "$0" "$@"
fi

log() { printf '[slurm-teardown] %s\n' "$*"; }

stop() {
    local name=$1 pidfile=$2 pid i
    if [[ -s $pidfile ]] && pid=$(cat "$pidfile") && kill -0 "$pid" 2>/dev/null; then
        log "stopping $name ($pid)"
        kill "$pid"
        for ((i = 0; i < 30; i++)); do
            kill -0 "$pid" 2>/dev/null || return 0
            sleep 1
        done
        log "$name ($pid) still running after 30s; sending SIGKILL"
        kill -9 "$pid" 2>/dev/null || true
    fi
}

stop slurmd /run/slurm/slurmd.pid
stop slurmctld /run/slurm/slurmctld.pid
stop slurmdbd /run/slurm/slurmdbd.pid
if [[ ${1:-} == --purge ]] && [[ -S /run/mysqld/mysqld.sock ]]; then
    log "dropping the accounting database"
    mariadb --socket=/run/mysqld/mysqld.sock -e 'DROP DATABASE IF EXISTS slurm_acct_db;'
fi
stop mariadbd /run/mysqld/mysqld.pid
stop munged /run/munge/munged.pid
if [[ ${1:-} == --purge ]]; then
    log "removing SLURM state under /var/lib/slurm"
    rm -rf /var/lib/slurm/slurmctld /var/lib/slurm/slurmd
fi
