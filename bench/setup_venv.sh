#!/usr/bin/env bash
# Create bench/.venv (gitignored): patera from this checkout plus the peer
# frameworks the in-process benchmark compares against. The peers are benchmark
# tools only and never dependencies of patera.
#
# Usage: bash bench/setup_venv.sh      (re-running upgrades in place)
# PYTHON=python3.12 bash bench/setup_venv.sh   to pick the interpreter.
# FALCON="falcon<4" bash bench/setup_venv.sh   for a Falcon whose wheel compiles nearly all of it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
venv="$here/.venv"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
# The project itself (editable, so the bench measures the working tree).
"$venv/bin/python" -m pip install --quiet -e "$root"
# Peers and tools: compared frameworks, servers for later socket benchmarks,
# the multipart parser Starlette/FastAPI need for uploads, and a profiler.
"$venv/bin/python" -m pip install --quiet \
    starlette fastapi litestar python-multipart \
    uvicorn hypercorn \
    pyinstrument
# Falcon from its compiled (Cython) wheel, never the pure-Python sdist: the comparison
# is meant to be against the fast Falcon users get from PyPI. --only-binary makes pip
# fail rather than quietly build the slow variant when no wheel fits this interpreter.
# FALCON="falcon<4" picks a release whose wheels compile nearly every module (Falcon 3).
"$venv/bin/python" -m pip install --quiet --only-binary falcon "${FALCON:-falcon}"
"$venv/bin/python" - <<'PY'
import importlib.metadata as md
for name in ("patera", "pydantic", "starlette", "fastapi", "litestar", "falcon", "python-multipart", "uvicorn", "hypercorn", "pyinstrument"):
    try:
        print(f"  {name:18} {md.version(name)}")
    except md.PackageNotFoundError:
        print(f"  {name:18} (missing)")
PY
# Which Falcon build is installed (the same line bench/run.py prints).
(cd "$root" && "$venv/bin/python" -c "from bench.apps.falcon_app import build_kind; print('  falcon build:', build_kind())")

echo "bench venv ready: $venv/bin/python bench/run.py"
command -v wrk >/dev/null || echo "e2e.py and soak.py need wrk: apt-get install wrk"
