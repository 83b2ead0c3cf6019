#!/usr/bin/env bash
# The README's test command, exactly as a new user runs it, with the mpi extra the README's
# "More than one process" section adds, so the mpirun tests run (they skip without it).
# (The tests set Open MPI's two OMPI_ALLOW_RUN_AS_ROOT variables when run as root, as CI is,
# and bound each mpirun with a timeout.)
set -euo pipefail
cd "$(dirname "$0")/.."
pip install -e ".[test,data,plots,tensorboard,mpi,onnx]" && python -m pytest
