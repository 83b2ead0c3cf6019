#!/usr/bin/env bash
# Torch is an optional test backend, never a dependency of tinyml. Install it only from a local
# CPU wheel (pip's find-links folder on these machines): a plain `pip install torch` from the
# registry would pull several GB of CUDA packages. Without the wheel, torch's tests skip.
set -euo pipefail
wheel=""
for folder in ${PIP_FIND_LINKS:-} /opt/wheels; do
    found=$(ls "$folder"/torch-2.13.0+cpu-*.whl 2>/dev/null | head -n 1 || true)
    if [ -n "$found" ]; then wheel=$found; break; fi
done
if [ -n "$wheel" ]; then
    pip install "$wheel"
else
    echo "no local CPU build of torch 2.13.0: the torch backend's tests will be skipped"
fi
