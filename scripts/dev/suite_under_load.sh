#!/usr/bin/env bash
# Run the test suite RUNS times in a row while another process keeps every core busy (the check that the suite
# holds on a loaded machine). stress-ng (Debian: apt-get install stress-ng) is used where it is installed, busy
# shell loops otherwise. Stops at the first failing run.
#
#   bash scripts/dev/suite_under_load.sh [RUNS] [pytest arguments...]     # e.g. 3, or 1 -m "not slow"
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-3}"
shift || true
cores="$(nproc)"
pids=()
if command -v stress-ng >/dev/null; then
  stress-ng --cpu "$cores" --quiet &
  pids+=("$!")
  echo "[load] stress-ng --cpu $cores"
else
  for _ in $(seq "$cores"); do (while :; do :; done) & pids+=("$!"); done
  echo "[load] $cores busy shell loops"
fi
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
for i in $(seq "$runs"); do
  start="$(date +%s)"
  if ! bash scripts/env.sh python -m pytest -p no:cacheprovider "$@"; then
    echo "[load] run $i of $runs FAILED after $(( $(date +%s) - start )) s"
    exit 1
  fi
  echo "[load] run $i of $runs passed in $(( $(date +%s) - start )) s with $cores cores busy"
done
