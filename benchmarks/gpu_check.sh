#!/usr/bin/env bash
# The GPU check: one script for a machine with an NVIDIA GPU, inside ~10 minutes of GPU time.
#
#   bash benchmarks/gpu_check.sh [--dry-run] [--wheels DIR] [--out gpu_check.json] [--device cuda:0]
#                                [--num-envs 4096] [--reach-iterations 150] [--object-iterations 300]
#                                [--budget-s 540] [--python PY]
#
# Stages, each in its own process (Isaac Lab runs one simulation per process) with its share of the budget:
#   1. Reach, PPO alone, 4096 envs on Newton (MuJoCo-Warp): env-steps/s, iterations/s, time to <= 1 cm median
#      final TCP error (20 % of the budget);
#   2. the same on PhysX (OvPhysX; skipped where ovphysx is not installed) (20 %);
#   3. Lift and 4. PickPlace as train.py runs them: the clone of the scripted expert, then --object-iterations
#      PPO iterations from it, evaluated on 1000 held-out episodes (30 % each).
# Figures go to one JSON file (--out); a Reach stage cut by its time share keeps the iterations it ran ("cut"),
# an object stage cut is recorded as missing. With the merge (<= 60 s) it all fits in 10 minutes.
#
# Environment: the Python that runs it (--python, default: the project's environment when scripts/env.sh made
# one, else python3) must have torch with CUDA. A machine without network installs the rest from a directory of
# wheels carried with the tree: --wheels DIR installs benchmarks/gpu_wheels.txt from DIR (pip --no-index
# --no-deps). Make DIR on a machine with network: pip download --no-deps -r benchmarks/gpu_wheels.txt -d DIR.
# --dry-run prints every command and what the Python lacks, and runs nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROARM_LAB_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/roarm-lab/venv-py312}"
DRY=0 WHEELS="" OUT="gpu_check.json" DEVICE="cuda:0" NUM_ENVS=4096 REACH_IT=150 OBJECT_IT=300 BUDGET=540
PY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --wheels) WHEELS="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    --device) DEVICE="$2"; shift ;;
    --num-envs) NUM_ENVS="$2"; shift ;;
    --reach-iterations) REACH_IT="$2"; shift ;;
    --object-iterations) OBJECT_IT="$2"; shift ;;
    --budget-s) BUDGET="$2"; shift ;;
    --python) PY="$2"; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for n in "$NUM_ENVS" "$REACH_IT" "$OBJECT_IT" "$BUDGET"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "error: counts and --budget-s must be positive integers, got '$n'" >&2; exit 2; }
done
if [ -z "$PY" ]; then
  if [ -x "$VENV/bin/python" ]; then PY="$VENV/bin/python"; else PY="$(command -v python3)"; fi
fi
if [ -n "$WHEELS" ] && [ ! -d "$WHEELS" ]; then echo "error: --wheels $WHEELS is not a directory" >&2; exit 2; fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")"
STAGE="$PY $ROOT/benchmarks/gpu_check.py"
export PYTHONPATH="$ROOT/source${PYTHONPATH:+:$PYTHONPATH}"
run() {  # run [share-seconds] command...: print it; run it unless --dry-run; a stage past its share is cut
  local limit="$1"; shift
  echo "+ timeout $limit $*"
  [ "$DRY" = 1 ] && return 0
  timeout --signal=INT --kill-after=20 "$limit" "$@" || echo "[gpu_check] stage exited $? (cut or failed): $*" >&2
}

echo "[gpu_check] python: $PY; device: $DEVICE; $NUM_ENVS envs; budget ${BUDGET}s; figures -> $OUT"
if [ -n "$WHEELS" ]; then
  echo "+ $PY -m pip install --no-index --no-deps --find-links $WHEELS -r $ROOT/benchmarks/gpu_wheels.txt"
  [ "$DRY" = 1 ] || "$PY" -m pip install --quiet --no-index --no-deps --find-links "$WHEELS" \
    -r "$ROOT/benchmarks/gpu_wheels.txt"
fi
# what this Python lacks of the list (informational in a dry run; fatal for a real one)
MISSING="$("$PY" - "$ROOT/benchmarks/gpu_wheels.txt" <<'PYEOF'
import importlib.metadata as md, sys
missing = []
for line in open(sys.argv[1]):
    line = line.strip()
    if line and not line.startswith("#"):
        name, version = line.split("==")
        try:
            if md.version(name) != version:
                missing.append(f"{line} (has {md.version(name)})")
        except md.PackageNotFoundError:
            missing.append(line)
print(" ".join(missing))
PYEOF
)"
CUDA="$("$PY" -c 'import torch; print(torch.cuda.is_available())' 2>/dev/null || echo "no torch")"
echo "[gpu_check] torch CUDA available: $CUDA; missing from benchmarks/gpu_wheels.txt: ${MISSING:-none}"
if [ "$DRY" != 1 ]; then
  if [ "$CUDA" != "True" ] && [[ "$DEVICE" == cuda* ]]; then
    echo "error: no CUDA device for torch ($CUDA); this check is for a GPU machine (--dry-run shows the plan)" >&2
    exit 2
  fi
  if [ -n "$MISSING" ]; then
    echo "error: the Python lacks what the check needs (see above); carry wheels and pass --wheels DIR" >&2
    exit 2
  fi
fi

share() { echo $(( BUDGET * $1 / 100 )); }
PARTS=()
run "$(share 20)" $STAGE reach --physics newton_mjwarp --num_envs "$NUM_ENVS" --iterations "$REACH_IT" \
  --device "$DEVICE" --out "$WORK/reach_newton.json"
PARTS+=("$WORK/reach_newton.json")
if "$PY" -c 'import ovphysx, ovstage' 2>/dev/null || [ "$DRY" = 1 ]; then
  run "$(share 20)" $STAGE reach --physics physx --num_envs "$NUM_ENVS" --iterations "$REACH_IT" \
    --device "$DEVICE" --out "$WORK/reach_physx.json"
  PARTS+=("$WORK/reach_physx.json")
else
  echo "[gpu_check] PhysX stage skipped: ovphysx/ovstage not installed"
fi
for task in RoArm-Lift RoArm-PickPlace; do
  run "$(share 30)" $STAGE object --task "$task" --num_envs "$NUM_ENVS" --iterations "$OBJECT_IT" \
    --device "$DEVICE" --log_root "$WORK/logs" --out "$WORK/$task.json"
  PARTS+=("$WORK/$task.json")
done
run 60 $STAGE merge --out "$OUT" "${PARTS[@]}"
[ "$DRY" = 1 ] && echo "[gpu_check] dry run: nothing ran" || echo "[gpu_check] figures in $OUT (logs in $WORK/logs)"
