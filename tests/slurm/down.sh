#!/usr/bin/env bash
# tests/slurm/down.sh STATE_DIR -- stop the cluster tests/slurm/up.sh started
# in STATE_DIR and delete STATE_DIR (KEEP=1: keep it, e.g. for its logs).
#
# Cancels the cluster's jobs first (a slurmstepd outlives slurmd), then stops
# slurmd + slurmctld, then munged, each by the pid in its pid file and only
# after /proc/PID/comm confirms the name (a recycled pid is never hit);
# SIGKILL after 15 s.  A slurmstepd left over (e.g. slurmctld died first)
# is recognised as ours only if it holds a file under STATE_DIR open; it and
# its descendants are killed.  Nothing is killed by name.
# Idempotent; safe in a trap, also after a half-failed up.sh.
set -uo pipefail
PATH=$PATH:/usr/sbin:/sbin
[ $# -eq 1 ] || { echo "usage: $0 STATE_DIR" >&2; exit 2; }
[ -d "$1" ] || exit 0
ST=$(cd "$1" && pwd -P)
export SLURM_CONF=$ST/slurm.conf

# pid_named PIDFILE NAME: print the pid if that process is alive and is NAME
pid_named() {
    local pid
    [ -s "$1" ] || return 1
    pid=$(cat "$1" 2>/dev/null) || return 1
    case $pid in ''|*[!0-9]*) return 1 ;; esac
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 1
    echo "$pid"
}

# term_wait TENTHS PID...: SIGTERM, wait up to TENTHS/10 s, then SIGKILL
term_wait() {
    local tenths=$1 p left; shift
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null
    for _ in $(seq "$tenths"); do
        left=()
        for p in "$@"; do kill -0 "$p" 2>/dev/null && left+=("$p"); done
        [ ${#left[@]} -eq 0 ] && return 0
        sleep 0.1
    done
    kill -KILL "${left[@]}" 2>/dev/null
    sleep 0.2
}

# 1. jobs, while slurmctld can still cancel them
if pid_named "$ST/run/slurmctld.pid" slurmctld >/dev/null && [ -f "$SLURM_CONF" ]; then
    jobs=$(squeue -h -o '%A' 2>/dev/null | tr '\n' ' ')
    if [ -n "${jobs// /}" ]; then
        # shellcheck disable=SC2086
        scancel $jobs 2>/dev/null
        for _ in $(seq 150); do
            [ -z "$(squeue -h -o '%A' 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
fi

# 2. slurmd and slurmctld together (each needs ~2 s after SIGTERM)
pids=()
p=$(pid_named "$ST/run/slurmd.pid" slurmd) && pids+=("$p")
p=$(pid_named "$ST/run/slurmctld.pid" slurmctld) && pids+=("$p")
term_wait 150 "${pids[@]}"

# 3. leftover slurmstepd of this cluster: it keeps its log under STATE_DIR open
tree() {  # PID and all its descendants
    local c
    echo "$1"
    for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$c"; done
}
stray=()
for d in /proc/[0-9]*; do
    [ "$(cat "$d/comm" 2>/dev/null)" = slurmstepd ] || continue
    for fd in "$d"/fd/*; do
        case $(readlink "$fd" 2>/dev/null) in
            "$ST"/*) mapfile -t -O ${#stray[@]} stray < <(tree "${d#/proc/}"); break ;;
        esac
    done
done
if [ ${#stray[@]} -gt 0 ]; then
    echo "down.sh: killing leftover slurmstepd and its processes: ${stray[*]}" >&2
    term_wait 20 "${stray[@]}"   # slurmstepd ignores SIGTERM: SIGKILL after 2 s
fi

# 4. munged last
p=$(pid_named "$ST/run/munged.pid" munged) && term_wait 150 "$p"

still=""
for n in slurmd slurmctld munged; do
    p=$(pid_named "$ST/run/$n.pid" "$n") && still="$still $n($p)"
done
[ -z "$still" ] || { echo "down.sh: still running:$still" >&2; exit 1; }
if [ "${KEEP:-0}" = 1 ]; then
    echo "down.sh: cluster stopped, kept $ST" >&2
else
    rm -rf "$ST"
    echo "down.sh: cluster stopped, removed $ST" >&2
fi
