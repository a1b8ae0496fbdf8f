#!/usr/bin/env bash
# The GPU check (docs/benchmarks.md, "GPU check"), for a machine with an NVIDIA GPU, Python
# and PyTorch but no package registry.
#
#   bench/gpu_check.sh wheels [PYTHON_VERSION]
#       Here, where pip reaches a registry: VTM, its API client and its reporting package built
#       as wheels, and what `vtm serve` needs beyond such a machine's usual packages downloaded
#       for that machine's Python (default 3.12, manylinux x86_64), into .whl/ (git-ignored).
#   bench/gpu_check.sh [bench/gpu_check.py options]
#       There, in a copy of this repository with .whl/: installs the wheels into a folder of
#       their own (nothing of the machine's Python changes) and runs bench/gpu_check.py, which
#       prints its checks and the wall-time ratio VTM/direct as JSON; exit 0 when all pass.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=.whl
# What `vtm serve` imports that a GPU machine's PyTorch image usually lacks; pip adds their
# own dependencies. MLflow, TensorBoard and matplotlib stay out: VTM imports them only when a
# run logs to MLflow, a trainer writes event files, or a report is drawn.
SERVER_DEPS=(fastapi "uvicorn>=0.30" "sqlalchemy>=2.0.30" "alembic>=1.13" "pydantic>=2.7"
  "pydantic-settings>=2.3" "watchfiles>=0.22" "croniter>=6.0" "nvidia-ml-py>=12.535"
  "httpx>=0.27" "typer>=0.12" "rich>=13.7" "pyyaml>=6.0" "psutil>=5.9")

if [[ "${1:-}" == wheels ]]; then
  version=${2:-3.12}
  rm -rf "$WHEELS" && mkdir -p "$WHEELS"
  python3 -m pip wheel --quiet --no-deps --wheel-dir "$WHEELS" ./ ./clients/python \
    ./clients/reporting ./testkit
  platforms=()
  for tag in manylinux_2_28 manylinux_2_27 manylinux_2_17 manylinux2014 manylinux1; do
    platforms+=(--platform "${tag}_x86_64")
  done
  python3 -m pip download --quiet --only-binary=:all: --python-version "$version" \
    --implementation cp "${platforms[@]}" --dest "$WHEELS" "${SERVER_DEPS[@]}"
  du -sh "$WHEELS"
  exit 0
fi

python=${PYTHON:-python3}
site=$(mktemp -d /tmp/vtm-gpu-check-site-XXXX)
"$python" -m pip install --quiet --no-index --no-deps --no-compile --target "$site" "$WHEELS"/*.whl
export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}" PATH="$site/bin:$PATH"
exec "$python" bench/gpu_check.py "$@"
