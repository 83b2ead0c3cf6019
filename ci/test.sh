#!/usr/bin/env bash
# The README's test command, exactly as a new user runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
pip install -e ".[test,data,plots,tensorboard,onnx]" && python -m pytest
