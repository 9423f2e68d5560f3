#!/usr/bin/env bash
# Accessibility and phone-width check of report pages (issue 24 points 4, 5):
# axe-core in the system Chromium, each page at 1280 px and at 390 px wide.
#
#   scripts/axe.sh REPORT.html...
#   scripts/axe.sh --install      (only install the packages; CI does it first)
#
# Installs puppeteer-core and axe-core (pinned below) from npm into
# .tools/axe on first use (`npm install --prefix`, nothing global; Chromium
# is never downloaded: puppeteer-core drives the system's). Prints, as JSON,
# each page's width as laid out and every axe violation (scripts/axe.mjs).
#
# Exit status: 0 no serious or critical violation and no page wider than its
# window; 1 one of those; 2 bad usage or the browser failed; 77 the check
# cannot run here (no Chromium, no node or npm, or npm could not install the
# packages, e.g. offline): callers skip with a notice.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="${AXE_TOOLS:-$root/.tools/axe}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
PUPPETEER_CORE=24.43.1
AXE_CORE=4.11.1

if [ "$#" -eq 0 ]; then
  echo "usage: scripts/axe.sh REPORT.html..." >&2
  exit 2
fi
if [ "$1" != "--install" ] && [ ! -x "$chromium" ]; then
  echo "axe: no Chromium at $chromium (apt-get install chromium, or set CHROMIUM)" >&2
  exit 77
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "axe: node and npm are needed (apt-get install nodejs npm)" >&2
  exit 77
fi
installed() {
  node -e 'const [d, n, v] = process.argv.slice(1);
    process.exit(require(d + "/node_modules/" + n + "/package.json").version === v ? 0 : 1)' \
    "$tools" "$1" "$2" 2>/dev/null
}
if ! installed puppeteer-core "$PUPPETEER_CORE" || ! installed axe-core "$AXE_CORE"; then
  mkdir -p "$tools"
  # --ignore-scripts: no install script runs, so nothing is downloaded
  # beyond the two packages and their dependencies.
  if ! PUPPETEER_SKIP_DOWNLOAD=1 timeout 240 npm install --prefix "$tools" --no-audit --no-fund \
    --fetch-retries=1 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=10000 \
    --ignore-scripts --loglevel=error "puppeteer-core@$PUPPETEER_CORE" "axe-core@$AXE_CORE" >&2; then
    echo "axe: npm could not install puppeteer-core@$PUPPETEER_CORE and axe-core@$AXE_CORE into $tools (offline?)" >&2
    exit 77
  fi
fi
if [ "$1" = "--install" ]; then
  echo "axe: puppeteer-core@$PUPPETEER_CORE and axe-core@$AXE_CORE are in $tools" >&2
  exit 0
fi
exec node "$root/scripts/axe.mjs" "$tools" "$chromium" "$@"
