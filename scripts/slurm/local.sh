#!/usr/bin/env bash
# Starts or stops a one-node Slurm cluster on this machine, for running
# `srun --mpi=pmix titrate train --transport mpi ...` in tests and demos.
#
#   scripts/slurm/local.sh start    # munged, slurmctld and slurmd
#   scripts/slurm/local.sh env      # prints `export SLURM_CONF=...`
#   scripts/slurm/local.sh status   # sinfo
#   scripts/slurm/local.sh stop     # ends the three daemons
#
# Needs Debian 12's slurm-wlm 22.05 and munge (scripts/setup.sh installs
# them) and root, because slurmd starts job steps as their user.
# Everything lives under STATE_DIR (default .build/slurm-local): a private
# munge key and socket, the configuration, spool, logs and PID files. The
# system's munge key and /etc/slurm are not touched.
#
# The node is this host (its hostname must resolve to 127.0.0.1) with 2
# CPUs. CommunicationParameters=NoInAddrAny,NoCtldInAddrAny makes slurmd and slurmctld
# bind to 127.0.0.1 instead of every address; `ss -ltn` after `start`
# shows the ports.
set -euo pipefail

repository=$(cd "$(dirname "$0")/../.." && pwd)
state=${STATE_DIR:-$repository/.build/slurm-local}
node=$(hostname)
cpus=${SLURM_LOCAL_CPUS:-2}
controller_port=${SLURM_LOCAL_CONTROLLER_PORT:-6817}
node_port=${SLURM_LOCAL_NODE_PORT:-6818}

write_configuration() {
  mkdir -p "$state"/{munge,spool/ctld,spool/d,log,run}
  chmod 700 "$state/munge"
  cat >"$state/slurm.conf" <<EOF
ClusterName=titrate-local
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$controller_port
SlurmdPort=$node_port
SrunPortRange=60001-60100
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$state/munge/munge.socket
StateSaveLocation=$state/spool/ctld
SlurmdSpoolDir=$state/spool/d
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=60 State=UP OverSubscribe=YES
EOF
}

start_munge() {
  if [[ ! -f "$state/munge/munge.key" ]]; then
    dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$state/munge/munge.key"
  fi
  munged --force --key-file="$state/munge/munge.key" \
    --socket="$state/munge/munge.socket" --pid-file="$state/run/munged.pid" \
    --log-file="$state/log/munged.log" --seed-file="$state/munge/munge.seed"
}

wait_for_node() {
  for _ in $(seq 1 60); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; then return 0; fi
    sleep 0.5
  done
  echo "local.sh: node $node did not become idle within 30 s; read the logs in $state/log" >&2
  sinfo -N >&2 || true
  return 1
}

# Ends the daemon whose PID is in $1: SIGTERM, then SIGKILL after 3 s.
# Started from the Swift test runner, the daemons inherit a signal mask
# that blocks SIGTERM (seen with Swift 6.3 on Linux), hence the fallback.
stop_daemon() {
  local pid_file=$1
  if [[ -f "$pid_file" ]]; then
    local pid
    pid=$(cat "$pid_file")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid"
        for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
    fi
    rm -f "$pid_file"
  fi
}

export SLURM_CONF=$state/slurm.conf
case ${1:-} in
  start)
    write_configuration
    start_munge
    slurmctld -f "$SLURM_CONF"
    slurmd -f "$SLURM_CONF" -N "$node"
    wait_for_node
    echo "slurm: node $node up with $cpus CPUs; export SLURM_CONF=$SLURM_CONF"
    ;;
  env)
    echo "export SLURM_CONF=$SLURM_CONF"
    ;;
  status)
    sinfo
    ;;
  stop)
    # The controller stops itself and slurmd on request, which needs no
    # signal. stop_daemon then ends whatever is left.
    if [[ -f "$state/run/slurmctld.pid" ]]; then scontrol shutdown 2>/dev/null || true; fi
    for _ in $(seq 1 30); do
      [[ -f "$state/run/slurmctld.pid" ]] && kill -0 "$(cat "$state/run/slurmctld.pid")" \
        2>/dev/null || break
      sleep 0.1
    done
    stop_daemon "$state/run/slurmd.pid"
    stop_daemon "$state/run/slurmctld.pid"
    stop_daemon "$state/run/munged.pid"
    ;;
  *)
    echo "usage: $0 start|env|status|stop" >&2
    exit 2
    ;;
esac
