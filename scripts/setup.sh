#!/usr/bin/env bash
# Sets up whatever is missing, idempotently and offline (npm registry and Debian packages only):
#   1. the mediasoup worker, built from Debian 12 libraries and cached outside the clone;
#   2. npm dependencies (again only when package-lock.json changed);
#   3. the worker copied where mediasoup looks for it;
#   4. with --test: what the tests drive: Debian's Chromium and Firefox ESR, nftables (cutting
#      the network for real), coturn (TURN), nginx, shellcheck and systemd-analyze (deploy files),
#      promtool (the alert rules; Debian's prometheus package, whose server is not started),
#      PostgreSQL and Redis (the region mode; the tests start them as ordinary processes on
#      loopback, never as system services), WebKitGTK's WebKitWebDriver and Xvfb (Safari's engine);
#      and `npm audit --omit=dev` (scripts/audit.ts: fails on critical advisories only);
#   5. the build: server (tsc) and browser assets (esbuild).
# Used by `npm start`, `npm test` and `npm run bench`; safe to run any number of times.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
log() { printf 'setup [%3ss]: %s\n' "$SECONDS" "$*" >&2; }

if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  log "Node.js 20.19 or newer is needed (found $(node --version)). See README.md."
  exit 1
fi

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "missing Debian packages: $*. Install them as root: apt-get install -y $*"
    exit 1
  fi
  log "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2; }
}

# 1. The worker (build-worker.sh installs its own build dependencies and caches the binary).
worker="$(bash scripts/build-worker.sh)"

# 2. npm dependencies. mediasoup's own install script is not allowed to run (package.json
#    allowScripts): it would try to download a prebuilt worker from outside the registry.
stamp=node_modules/.openconsult-installed
want="$(cat package.json package-lock.json | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing npm dependencies"
  MEDIASOUP_WORKER_BIN="$worker" npm ci --no-audit --no-fund >&2
  echo "$want" > "$stamp"
  log "npm dependencies installed"
fi

# 3. The worker where mediasoup looks for it by default (so no environment is needed at run time).
dest=node_modules/mediasoup/worker/out/Release/mediasoup-worker
if ! cmp -s "$worker" "$dest" 2>/dev/null; then
  mkdir -p "$(dirname "$dest")"
  cp "$worker" "$dest.tmp" && mv "$dest.tmp" "$dest"
  log "mediasoup worker installed from $worker"
fi

# 4. What the tests drive: Chromium, nftables, coturn.
if [ "$mode" = "--test" ]; then
  missing=()
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
  command -v nft >/dev/null || missing+=(nftables)
  command -v turnserver >/dev/null || missing+=(coturn)
  command -v firefox-esr >/dev/null || missing+=(firefox-esr)
  command -v nginx >/dev/null || missing+=(nginx-light)
  command -v shellcheck >/dev/null || missing+=(shellcheck)
  command -v systemd-analyze >/dev/null || missing+=(systemd)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v promtool >/dev/null || missing+=(prometheus)
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  # WebKit, Safari's engine: WebKitGTK's MiniBrowser driven by WebKitWebDriver under Xvfb.
  command -v WebKitWebDriver >/dev/null || missing+=(webkit2gtk-driver)
  command -v Xvfb >/dev/null || missing+=(xvfb)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
  # Debian replaces these with security updates without notice: say which ones this run drives.
  log "versions: node $(node --version), $("${CHROMIUM_PATH:-/usr/bin/chromium}" --version 2>/dev/null | head -n1)," \
    "$(firefox-esr --version 2>/dev/null | head -n1), $(dpkg-query -W -f='${Package} ${Version}\n' coturn nginx-light 2>/dev/null | paste -sd,)"
  log "versions: $(nft --version 2>/dev/null | head -n1), $(ip -V 2>/dev/null | head -n1), $(promtool --version 2>&1 | head -n1)"
  for postgres_bin in /usr/lib/postgresql/*/bin/postgres; do :; done   # the last (newest) one
  log "versions: $("$postgres_bin" --version), $(redis-server --version | cut -d' ' -f1-3)"
  log "versions: WebKitGTK $(dpkg-query -W -f='${Version}' libwebkit2gtk-4.1-0 2>/dev/null), $(dpkg-query -W -f='${Package} ${Version}\n' webkit2gtk-driver xvfb 2>/dev/null | paste -sd,)"
  # Known advisories in the runtime dependencies: fails on critical only; cached per lock file.
  npx tsx scripts/audit.ts
fi

# 5. Build (both steps are incremental or fast).
npx tsc -p tsconfig.build.json
npx tsx scripts/build-client.ts
log "ready"
