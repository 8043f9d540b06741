#!/usr/bin/env bash
# Installs what Titrate needs on a fresh Debian 12 machine: the C libraries
# (OpenBLAS, HDF5 with its command-line tools, libsodium, Open MPI with
# mpirun, ZeroMQ) and, with --python, the Python packages the tests use for
# reference values and interop (numpy, scipy, h5py). With --slurm it also
# installs Slurm 22.05 and munge, which the Slurm launch test uses through
# scripts/slurm/local.sh. The packages register slurmctld, slurmd and munge
# as system services, so this is opt-in. Safe to run again: it installs
# only what is missing.
set -euo pipefail

want_python=0
want_slurm=0
for argument in "$@"; do
  case "$argument" in
    --python) want_python=1 ;;
    --slurm) want_slurm=1 ;;
    *) echo "setup.sh: unknown option '$argument' (known: --python, --slurm)" >&2; exit 2 ;;
  esac
done

# libsodium-dev: secure aggregation (X25519, ChaCha20, XChaCha20-Poly1305).
# libopenmpi-dev and openmpi-bin: `--transport mpi` (Open MPI 4.1 and mpirun).
# libzmq3-dev: `titrate aggregator` and `titrate site` (ZeroMQ 4.3 with CURVE).
packages=(pkg-config libopenblas-dev libhdf5-dev hdf5-tools libsodium-dev libopenmpi-dev openmpi-bin libzmq3-dev)
# slurmctld, slurmd, slurm-client and munge: `srun --mpi=pmix` and `salloc`
# on a one-node cluster (scripts/slurm/local.sh).
if [ "$want_slurm" -eq 1 ]; then packages+=(slurmctld slurmd slurm-client munge); fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: missing Debian packages: ${missing[*]}; run as root or install them with apt-get" >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "$want_python" -eq 1 ]; then
  if ! python3 -c "import numpy, scipy, h5py" 2>/dev/null; then
    echo "setup.sh: installing numpy, scipy and h5py from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check numpy scipy h5py
  fi
fi
