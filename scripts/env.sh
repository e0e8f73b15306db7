#!/usr/bin/env bash
# Run a command inside the project's Python 3.12 environment, creating or updating it first when needed.
#
#   bash scripts/env.sh python scripts/build_assets.py
#   bash scripts/env.sh python -m pytest
#
# The environment lives outside the clone (default ~/.cache/roarm-lab/venv-py312; set ROARM_LAB_VENV to move it)
# and is rebuilt when pyproject.toml, constraints.txt or this script change. Isaac Lab 3.0.0 needs Python 3.12:
# set ROARM_LAB_PYTHON to a python3.12 if it is not found on PATH or under pyenv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROARM_LAB_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/roarm-lab/venv-py312}"

is_py312() { [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; }

find_python312() {
  local candidates=("${ROARM_LAB_PYTHON:-}" "$(command -v python3.12 || true)")
  local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
  candidates+=("$pyenv_root"/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12)
  for py in "${candidates[@]}"; do
    if is_py312 "$py"; then echo "$py"; return 0; fi
  done
  return 1
}

# The LeRobot plugins are distributions of their own (LeRobot finds them by their names' prefixes).
PLUGINS=("$ROOT/source/lerobot_plugins/lerobot_robot_roarm_m3" \
         "$ROOT/source/lerobot_plugins/lerobot_teleoperator_roarm_m3")

stamp() {
  cat "$ROOT/pyproject.toml" "$ROOT/constraints.txt" "$ROOT/scripts/env.sh" "${PLUGINS[@]/%//pyproject.toml}" \
    | sha256sum | cut -d' ' -f1
}

if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.roarm-lab-stamp" 2>/dev/null)" != "$(stamp)" ]; then
  if ! PY="$(find_python312)"; then
    echo "error: Python 3.12 not found (Isaac Lab 3.0.0 requires it). Install it (e.g. 'pyenv install 3.12')" \
         "or point ROARM_LAB_PYTHON at a python3.12 executable." >&2
    exit 1
  fi
  echo "[roarm-lab] setting up $VENV with $PY (first run downloads ~7 GB: Isaac Lab, torch)..." >&2
  if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
  fi
  # (grep drops pip's warnings about this machine's unused local index entries)
  "$VENV/bin/python" -m pip install --quiet --upgrade pip 2> >(grep -v "is ignored: it is neither" >&2)
  "$VENV/bin/python" -m pip install --quiet -c "$ROOT/constraints.txt" -e "$ROOT[dev]" \
    "${PLUGINS[@]/#/--editable=}" 2> >(grep -v "is ignored: it is neither" >&2)
  # PhysX without Isaac Sim (Isaac Lab's OvPhysX backend, the `physx` preset kit-less): the versions isaaclab[ovphysx]
  # 3.0.0 pins, installed without their dependencies because ovphysx declares packaging<24 while Isaac Lab's stack
  # pins packaging 25 (Isaac Lab's own images override that requirement the same way; ovphysx runs with 25).
  "$VENV/bin/python" -m pip install --quiet --no-deps ovphysx==0.6.4.72118723 ovstage==0.2.1.385922 \
    2> >(grep -v "is ignored: it is neither" >&2)
  stamp > "$VENV/.roarm-lab-stamp"
fi

# The editable installs must point at this clone (a second clone shares the cached environment).
points_here() {
  "$VENV/bin/python" -c "import importlib, pathlib, sys; m = importlib.import_module(sys.argv[1]); sys.exit(not pathlib.Path(m.__file__).resolve().is_relative_to(pathlib.Path(sys.argv[2]).resolve()))" "$1" "$ROOT" 2>/dev/null
}
if ! points_here roarm_lab || ! points_here lerobot_robot_roarm_m3 || ! points_here lerobot_teleoperator_roarm_m3; then
  "$VENV/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e "$ROOT" "${PLUGINS[@]/#/--editable=}"
fi

export PATH="$VENV/bin:$PATH" VIRTUAL_ENV="$VENV"
cd "$ROOT"
exec "$@"
