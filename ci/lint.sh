#!/usr/bin/env bash
# Lint with the rules in pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
pip install "ruff>=0.6"
ruff check .
