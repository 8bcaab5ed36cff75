#!/usr/bin/env bash
# A one-node SLURM cluster on 127.0.0.1 for the SLURM test.
#   tests/slurm/cluster.sh start STATE_DIR   install (Debian packages) if missing, configure, start munged, slurmctld, slurmd
#   tests/slurm/cluster.sh stop STATE_DIR    stop every daemon started here, by its PID
# Needs root. The configuration goes to /etc/slurm/slurm.conf, where job steps (srun inside
# a job, which runs without the SLURM_* environment) look for it; an existing configuration
# that this script did not write is never overwritten, and `stop` removes the one it wrote.
set -euo pipefail
cmd=${1:?usage: cluster.sh start|stop STATE_DIR}
state=${2:?usage: cluster.sh start|stop STATE_DIR}
mkdir -p "$state"
state=$(cd "$state" && pwd)
conf=/etc/slurm/slurm.conf
marker="# written by neurosieve tests/slurm/cluster.sh"

stop() {
  for name in slurmd slurmctld munged; do
    pidfile="$state/$name.pid"
    if [ -s "$pidfile" ]; then
      pid=$(cat "$pidfile")
      if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$pid" 2>/dev/null || true
      fi
      rm -f "$pidfile"
    fi
  done
  if [ -f "$conf" ] && head -n 1 "$conf" | grep -qF "$marker"; then rm -f "$conf"; fi
}

if [ "$cmd" = stop ]; then
  stop
  exit 0
fi
[ "$cmd" = start ] || { echo "unknown command $cmd" >&2; exit 2; }

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  echo "installing SLURM and munge from Debian's packages" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
fi

# munge: a key and a daemon of our own
mkdir -p "$state/munge" /etc/munge
[ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
chmod 400 /etc/munge/munge.key
munged --force --socket="$state/munge/munge.socket" --pid-file="$state/munged.pid" \
  --log-file="$state/munged.log" --seed-file="$state/munge/munged.seed"

host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
mkdir -p "$state/ctld" "$state/spool" /etc/slurm
if [ -f "$conf" ] && ! head -n 1 "$conf" | grep -qF "$marker"; then
  echo "$conf exists and was not written by this script: refusing to overwrite a real cluster's configuration" >&2
  stop
  exit 1
fi
cat > "$conf" <<CONF
$marker
ClusterName=neurosieve-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$state/munge/munge.socket
CryptoType=crypto/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
# squeue-based status checks need finished jobs to stay visible for a while
MinJobAge=3600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -f "$conf"
slurmd -f "$conf"
for _ in $(seq 60); do
  if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "SLURM up: $(sinfo -h -o '%P %D %T %c CPUs %m MB')"
    exit 0
  fi
  sleep 1
done
echo "SLURM did not come up; logs follow" >&2
tail -n 30 "$state"/*.log >&2 || true
stop
exit 1
