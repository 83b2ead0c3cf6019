#!/usr/bin/env bash
# The suite on the lowest versions pyproject.toml allows (ci/oldest-constraints.txt), in a
# throwaway virtual environment, so the machine's newest packages stay as they are. Torch is
# left out: it is an optional test backend, covered by the newest-versions run. So is the onnx
# extra: ndonnx needs NumPy 2, and its tests skip here (they run in ci/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
python -m venv "$folder/venv"
"$folder/venv/bin/python" -m pip install -q -c ci/oldest-constraints.txt -e ".[test,data,plots,tensorboard]"
"$folder/venv/bin/python" -c 'import array_api_compat, array_api_strict, numpy, sklearn
print("oldest versions: numpy", numpy.__version__, "| array-api-compat",
      array_api_compat.__version__, "| array-api-strict", array_api_strict.__version__,
      "| scikit-learn", sklearn.__version__)'
"$folder/venv/bin/python" -m pytest -q
