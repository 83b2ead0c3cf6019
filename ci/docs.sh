#!/usr/bin/env bash
# The documentation site, as the README builds it: warnings are errors (a broken reference, a
# public name without a docstring, a gallery example that fails), then every code block of the
# site and of the docstrings runs as a doctest.
set -euo pipefail
cd "$(dirname "$0")/.."
pip install -e ".[docs]"
timeout 1200 sphinx-build -W --keep-going -q docs docs/_build/html
timeout 1200 sphinx-build -W --keep-going -q -b doctest docs docs/_build/doctest
