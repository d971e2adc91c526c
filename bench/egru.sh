#!/bin/sh
# The EGRU character language model on s2 (s2emu, modelled energy) and on this host's CPU
# (PyTorch, measured or estimated energy), like for like: one table of accuracy, energy per
# token, method, latency, activity sparsity and effective MACs, then the energy report with
# the CPU as a baseline. Reuses the cached model of tests/egru unless --train MINUTES.
#   bench/egru.sh [--build DIR] [--model M.npz | --train MINUTES] [--tokens N]
set -eu
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/egru_bench.py "$@"
