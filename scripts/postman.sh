#!/usr/bin/env bash
# Runs postman/ (the collection and environment for exploring the simulator)
# with newman against a freshly started `vipps-golive simulator --control` on
# a free loopback port. newman is installed locally into .tools/ (npm) the
# first time. Every request in the collection asserts its status and body.
#
# Usage: scripts/postman.sh [--release] [extra newman options...]
# Exit:  0 every assertion held; 1 some failed; 2 could not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TOOLS="$ROOT/.tools"
RUN="$TOOLS/postman-run"
PROFILE=debug
if [[ "${1:-}" == "--release" ]]; then PROFILE=release; shift; fi

command -v npm >/dev/null || { echo "postman.sh: npm not found (hint: install Node.js 18+)" >&2; exit 2; }

# 1. newman, locally and only when missing (.tools/ is gitignored).
NEWMAN="$TOOLS/node_modules/.bin/newman"
if [[ ! -x "$NEWMAN" ]]; then
  echo "installing newman into $TOOLS ..."
  mkdir -p "$TOOLS"
  npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error newman@6 >/dev/null \
    || { echo "postman.sh: npm could not install newman" >&2; exit 2; }
fi

# 2. Build and start the simulator (control on: the collection approves through /__sim/).
# shellcheck source=lib/simulator.sh
source "$ROOT/scripts/lib/simulator.sh"
start_simulator postman.sh --control

# 3. The collection, with the environment's base_url pointed at this simulator.
set +e
"$NEWMAN" run postman/vipps-golive-simulator.postman_collection.json \
  --environment postman/vipps-golive-simulator.postman_environment.json \
  --env-var "base_url=$BASE" \
  --reporters cli --color off "$@"
STATUS=$?
set -e
echo "the simulator's journal of this run: $RUN/journal.jsonl (try: $BIN audit --journal $RUN/journal.jsonl)"
[[ $STATUS -eq 0 ]] && exit 0 || exit 1
