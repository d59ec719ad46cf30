#!/usr/bin/env bash
# tests/slurm/up.sh STATE_DIR -- start a throw-away one-node SLURM cluster.
#
# munged + slurmctld + slurmd, all as root, no systemd, every file (config,
# key, sockets, pid files, logs, spool, state) under STATE_DIR; /etc is not
# touched.  Prints "export SLURM_CONF=STATE_DIR/slurm.conf" on stdout (also
# written to STATE_DIR/env.sh), so:
#
#     eval "$(bash tests/slurm/up.sh "$ST")"
#     ... sbatch / squeue / scontrol ...
#     bash tests/slurm/down.sh "$ST"
#
# Needs the Debian packages slurmctld slurmd slurm-client munge
# (scripts/install-deps --with-slurm); it does not install anything itself.
#
# Tuned for tests, not production:
#   cred_expire=CRED_EXPIRE (default 10 s): a requeued job may restart only
#     this long after the requeue (SLURM's default is 120 s);
#   sched_interval=2, bf_interval=1: pending jobs are looked at every ~2 s;
#   EnforcePartLimits=ALL: an impossible request (more CPUs than the node
#     has) is rejected by sbatch instead of pending forever;
#   KillWait=5, MinJobAge=3600 (finished jobs stay in `scontrol show job`),
#   jobcomp/filetxt: one line per finished job in STATE_DIR/log/jobcomp.txt.
#
# Environment:
#   SLURM_TEST_CPUS=N      CPUs declared for the node (default: slurmd -C);
#                          more than the hardware works (config_overrides)
#   SLURM_TEST_PORT=P      slurmctld port P, slurmd P+1 (default: the first
#                          free pair from 6817 up)
#   SLURM_TEST_CRED_EXPIRE seconds (default 10)
#   SLURM_TEST_TIMEOUT     seconds to wait for the node to become idle (60)
# On failure: stops whatever it started, keeps STATE_DIR (logs), exits 1.
set -euo pipefail
PATH=$PATH:/usr/sbin:/sbin
me=up.sh
die() { echo "$me: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: $0 STATE_DIR" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "must run as root (the daemons run as root here)"
for b in munged mungekey slurmctld slurmd sbatch sinfo scontrol; do
    command -v "$b" >/dev/null 2>&1 || die "$b not found: run scripts/install-deps --with-slurm"
done

t0=$(date +%s%N)
mkdir -p "$1"
ST=$(cd "$1" && pwd -P)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
CRED_EXPIRE=${SLURM_TEST_CRED_EXPIRE:-10}
TIMEOUT=${SLURM_TEST_TIMEOUT:-60}
NODE=localhost

# Refuse to start over a live cluster of the same state dir.
for pf in "$ST/run/munged.pid" "$ST/run/slurmctld.pid" "$ST/run/slurmd.pid"; do
    if [ -s "$pf" ] && kill -0 "$(cat "$pf")" 2>/dev/null; then
        die "$pf names a live process: run tests/slurm/down.sh $ST first"
    fi
done

port_busy() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
if [ -n "${SLURM_TEST_PORT:-}" ]; then
    CTLD_PORT=$SLURM_TEST_PORT
    port_busy "$CTLD_PORT" && die "port $CTLD_PORT is in use"
    port_busy $((CTLD_PORT + 1)) && die "port $((CTLD_PORT + 1)) is in use"
else
    CTLD_PORT=""
    for p in $(seq 6817 2 6857); do
        if ! port_busy "$p" && ! port_busy $((p + 1)); then CTLD_PORT=$p; break; fi
    done
    [ -n "$CTLD_PORT" ] || die "no free port pair in 6817..6858"
fi
SLURMD_PORT=$((CTLD_PORT + 1))

rm -rf "$ST/munge" "$ST/run" "$ST/log" "$ST/ctld" "$ST/spool" "$ST/slurm.conf" "$ST/env.sh"
# munged refuses a socket directory that is not o+x, all the way down.
chmod 755 "$ST"
mkdir -p "$ST/munge" "$ST/run" "$ST/log" "$ST/ctld" "$ST/spool"
chmod 755 "$ST/munge" "$ST/run" "$ST/log"
chmod 700 "$ST/ctld"

on_exit() {
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        for f in "$ST/log/slurmctld.log" "$ST/log/slurmd.log" "$ST/log/munged.log"; do
            [ -f "$f" ] && { echo "----- tail $f" >&2; tail -n 30 "$f" >&2; }
        done
        echo "$me: failed; stopping what was started (logs kept in $ST)" >&2
        KEEP=1 bash "$HERE/down.sh" "$ST" >&2 || true
    fi
}
trap on_exit EXIT

# --- munge: private key and socket ------------------------------------------
SOCK=$ST/munge/socket
mungekey --create --keyfile="$ST/munge/key" >/dev/null 2>&1 ||
    head -c 1024 /dev/urandom > "$ST/munge/key"
chmod 600 "$ST/munge/key"
munged --key-file="$ST/munge/key" --socket="$SOCK" \
       --pid-file="$ST/run/munged.pid" --log-file="$ST/log/munged.log" \
       --seed-file="$ST/munge/seed"
ok=0
for _ in $(seq 50); do
    if munge -n -S "$SOCK" 2>/dev/null | unmunge -S "$SOCK" >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.1
done
[ "$ok" = 1 ] || die "munged does not answer on $SOCK"

# --- slurm.conf ---------------------------------------------------------------
CPUS=${SLURM_TEST_CPUS:-$(slurmd -C 2>/dev/null | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' | head -n1)}
CPUS=${CPUS:-$(nproc)}
cat > "$ST/slurm.conf" <<EOF
# tests/slurm/up.sh: throw-away single-node cluster, every file under $ST
ClusterName=sweeptest
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK,cred_expire=$CRED_EXPIRE
StateSaveLocation=$ST/ctld
SlurmdSpoolDir=$ST/spool
SlurmctldPidFile=$ST/run/slurmctld.pid
SlurmdPidFile=$ST/run/slurmd.pid
SlurmctldLogFile=$ST/log/slurmctld.log
SlurmdLogFile=$ST/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$ST/log/jobcomp.txt
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
EnforcePartLimits=ALL
ReturnToService=2
MpiDefault=none
MinJobAge=3600
KillWait=5
InactiveLimit=0
NodeName=$NODE NodeHostname=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
chmod 644 "$ST/slurm.conf"
echo "export SLURM_CONF=$ST/slurm.conf" > "$ST/env.sh"
export SLURM_CONF=$ST/slurm.conf

# --- daemons (both daemonize and write their pid files) ----------------------
slurmctld -f "$SLURM_CONF" -c -i
slurmd -f "$SLURM_CONF" -N "$NODE"

state=""
deadline=$(( $(date +%s) + TIMEOUT ))
while [ "$(date +%s)" -lt "$deadline" ]; do
    state=$(sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null | head -n1 || true)
    [ "$state" = idle ] && break
    sleep 0.2
done
[ "$state" = idle ] || die "node $NODE is '${state:-unknown}', not idle, after ${TIMEOUT}s"
for pf in munged slurmctld slurmd; do
    [ -s "$ST/run/$pf.pid" ] || die "no pid file $ST/run/$pf.pid"
done

ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "$me: node $NODE idle, $CPUS CPUs, ports $CTLD_PORT/$SLURMD_PORT, ${ms} ms" >&2
echo "export SLURM_CONF=$SLURM_CONF"
