#!/usr/bin/env bash
#
# build-worker.sh - build the mediasoup C++ worker (mediasoup-worker) offline
# against the Debian 12 system libraries, and cache the resulting binary
# outside the repository.
#
# Why: the mediasoup npm package normally builds its worker with meson
# subprojects that are *downloaded* (openssl, libuv, libsrtp2, usrsctp,
# abseil, flatbuffers, catch2). We have no internet access except the npm
# registry and Debian apt, so instead we:
#   1. fetch the mediasoup sources with `npm pack mediasoup@<version>`,
#   2. replace every meson subproject with a tiny stub that just wraps the
#      corresponding Debian package via dependency() (meson uses a wrap's
#      `directory` as-is when it already exists, and never downloads),
#   3. apply our source patches (scripts/worker-patches/*.patch),
#   4. build only the `mediasoup-worker` executable (release, NDEBUG).
#
# Usage:
#   scripts/build-worker.sh               build if needed; print binary path
#   scripts/build-worker.sh --print-path  print the cache path that would be
#                                         used (does not build, may not exist)
#   scripts/build-worker.sh --force       rebuild even if a cached binary exists
#
# Output contract: progress/logs go to stderr; the LAST (and only) line on
# stdout is the absolute path of the cached binary. Typical use:
#   export MEDIASOUP_WORKER_BIN="$(scripts/build-worker.sh)"
#
# Environment:
#   OPENCONSULT_CACHE_DIR   cache root (default: ${XDG_CACHE_HOME:-~/.cache}/openconsult)
#   MEDIASOUP_TARBALL       optional path to an already downloaded
#                           mediasoup-<version>.tgz (skips `npm pack`)
#   BUILD_JOBS              ninja parallelism (default: 2)
#
# Cache layout:
#   <cache>/mediasoup-worker/<version>-<key>/mediasoup-worker
# where <key> = first 12 hex chars of a sha256 over this script and the patch
# files, so changing either triggers a rebuild into a new directory.
#
set -euo pipefail

readonly MEDIASOUP_VERSION="3.13.5"

# Debian packages needed to build (design.md section 6), plus the compiler and
# `patch`, which are needed too but usually already present.
readonly REQUIRED_PACKAGES=(
	meson ninja-build pkg-config
	libuv1-dev libssl-dev libsrtp2-dev libabsl-dev libusrsctp-dev
	flatbuffers-compiler libflatbuffers-dev
	g++ patch
)

SCRIPT_PATH="$(readlink -f "${BASH_SOURCE[0]}")"
SCRIPT_DIR="$(dirname "$SCRIPT_PATH")"
PATCH_DIR="$SCRIPT_DIR/worker-patches"
readonly SCRIPT_PATH SCRIPT_DIR PATCH_DIR

# --------------------------------------------------------------------------
# Logging helpers (everything goes to stderr; stdout is reserved for the path)
# --------------------------------------------------------------------------
START_TS=$(date +%s)
log() { printf '[build-worker +%3ss] %s\n' "$(($(date +%s) - START_TS))" "$*" >&2; }
die() { printf '[build-worker] ERROR: %s\n' "$*" >&2; exit 1; }

# --------------------------------------------------------------------------
# Argument parsing
# --------------------------------------------------------------------------
MODE=build
FORCE=0
for arg in "$@"; do
	case "$arg" in
		--print-path) MODE=print-path ;;
		--force) FORCE=1 ;;
		-h | --help)
			sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$SCRIPT_PATH" >&2
			exit 0
			;;
		*) die "unknown argument: $arg (see --help)" ;;
	esac
done

# --------------------------------------------------------------------------
# Cache key and paths
# --------------------------------------------------------------------------
# Hash this script plus every patch file (name + content, in sorted order).
compute_key() {
	{
		printf 'build-worker.sh %s\n' "$(sha256sum <"$SCRIPT_PATH" | cut -d' ' -f1)"
		if [[ -d "$PATCH_DIR" ]]; then
			local f
			while IFS= read -r f; do
				printf '%s %s\n' "$(basename "$f")" "$(sha256sum <"$f" | cut -d' ' -f1)"
			done < <(find "$PATCH_DIR" -maxdepth 1 -type f -name '*.patch' | LC_ALL=C sort)
		fi
	} | sha256sum | cut -c1-12
}

CACHE_ROOT="${OPENCONSULT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/openconsult}"
WORKER_CACHE="$CACHE_ROOT/mediasoup-worker"
KEY="$(compute_key)"
OUT_DIR="$WORKER_CACHE/$MEDIASOUP_VERSION-$KEY"
OUT_BIN="$OUT_DIR/mediasoup-worker"
readonly CACHE_ROOT WORKER_CACHE KEY OUT_DIR OUT_BIN

if [[ "$MODE" == print-path ]]; then
	printf '%s\n' "$OUT_BIN"
	exit 0
fi

# Fast path: already built (no lock needed, the binary is published by mv).
if [[ "$FORCE" -eq 0 && -x "$OUT_BIN" ]]; then
	log "cached: $OUT_BIN"
	printf '%s\n' "$OUT_BIN"
	exit 0
fi

# --------------------------------------------------------------------------
# System packages
# --------------------------------------------------------------------------
ensure_packages() {
	local missing=() p
	for p in "${REQUIRED_PACKAGES[@]}"; do
		if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
			missing+=("$p")
		fi
	done
	[[ ${#missing[@]} -eq 0 ]] && return 0

	if [[ "$(id -u)" -ne 0 ]]; then
		die "missing Debian packages: ${missing[*]}
  install them with:  sudo apt-get install -y ${missing[*]}"
	fi
	log "installing missing packages: ${missing[*]}"
	# Try without refreshing the index first (fast, works if lists are fresh);
	# only run `apt-get update` if that fails.
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
		log "apt-get install failed; running apt-get update and retrying"
		apt-get update >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
	fi
}

# --------------------------------------------------------------------------
# Subproject stubs
# --------------------------------------------------------------------------
# Print the `directory = ...` of a wrap file (where meson expects the sources).
wrap_directory() {
	local dir
	dir="$(sed -n 's/^[[:space:]]*directory[[:space:]]*=[[:space:]]*\([^[:space:]]*\).*/\1/p' "$1" | head -n1)"
	[[ -n "$dir" ]] || die "no 'directory =' in $1"
	printf '%s\n' "$dir"
}

# write_stub <subproject name> <meson.build body> [<meson_options.txt body>]
# Creates worker/subprojects/<wrap directory>/ with the given files, which
# makes meson use it instead of downloading the wrap.
write_stub() {
	local name="$1" body="$2" options="${3:-}"
	local wrap="$WORKER_DIR/subprojects/$name.wrap"
	[[ -f "$wrap" ]] || die "expected wrap file not found: $wrap"
	local dir
	dir="$WORKER_DIR/subprojects/$(wrap_directory "$wrap")"
	mkdir -p "$dir"
	printf "project('%s-system-stub', ['c', 'cpp'])\n\n%s\n" "$name" "$body" >"$dir/meson.build"
	# Options the parent passes via subproject(default_options: ...) must be
	# declared, so always write the file (possibly empty).
	printf '%s\n' "$options" >"$dir/meson_options.txt"
}

# Stubs mapping each variable read by worker/meson.build and
# worker/deps/libwebrtc/meson.build (via get_variable) to Debian packages.
# Variables used in `link_whole:` lists (only consumed by the non-default
# libmediasoup-worker target) are empty lists: with shared system libraries
# there is nothing to link whole.
create_subproject_stubs() {
	# OpenSSL (libssl-dev). Reads: openssl_dep, libcrypto_lib, libssl_lib.
	write_stub openssl "\
openssl_dep = dependency('openssl', version: '>= 3.0')
libcrypto_lib = []
libssl_lib = []"

	# libuv (libuv1-dev). Reads: libuv_dep, libuv.
	write_stub libuv "\
libuv_dep = dependency('libuv', version: '>= 1.44')
libuv = []" "\
option('build_tests', type: 'boolean', value: false)
option('build_benchmarks', type: 'boolean', value: false)"

	# libsrtp2 (libsrtp2-dev). Reads: libsrtp2_dep, libsrtp2.
	# The worker does `#include <srtp.h>` but Debian installs the headers in
	# <includedir>/srtp2/, so add that directory to the include path.
	write_stub libsrtp2 "\
_srtp = dependency('libsrtp2', version: '>= 2.4')
_srtp_inc = _srtp.get_variable(pkgconfig: 'includedir') / 'srtp2'
libsrtp2_dep = declare_dependency(
  dependencies: _srtp,
  include_directories: include_directories(_srtp_inc, is_system: true),
)
libsrtp2 = []" "\
option('crypto-library', type: 'combo', choices: ['none', 'openssl', 'nss', 'mbedtls'], value: 'openssl')
option('crypto-library-kdf', type: 'feature', value: 'auto')
option('tests', type: 'feature', value: 'disabled')"

	# usrsctp (libusrsctp-dev). Reads: usrsctp_dep, usrsctp.
	write_stub usrsctp "\
usrsctp_dep = dependency('usrsctp')
usrsctp = []" "\
option('sctp_build_programs', type: 'boolean', value: false)"

	# Abseil (libabsl-dev, 20220623 like the wrap). Reads absl_container_dep,
	# absl_container_lib (worker) and absl_strings_dep, absl_types_dep
	# (libwebrtc). The worker includes flat_hash_{map,set}, btree_{map,set},
	# inlined_vector, memory, string_view/match and optional.
	write_stub abseil-cpp "\
absl_container_dep = declare_dependency(dependencies: [
  dependency('absl_flat_hash_map', method: 'pkg-config'),
  dependency('absl_flat_hash_set', method: 'pkg-config'),
  dependency('absl_btree', method: 'pkg-config'),
  dependency('absl_inlined_vector', method: 'pkg-config'),
  dependency('absl_memory', method: 'pkg-config'),
])
absl_container_lib = []
absl_strings_dep = dependency('absl_strings', method: 'pkg-config')
absl_types_dep = declare_dependency(dependencies: [
  dependency('absl_optional', method: 'pkg-config'),
  dependency('absl_variant', method: 'pkg-config'),
])"

	# FlatBuffers runtime (libflatbuffers-dev). Reads: flatbuffers_dep,
	# flatbuffers_lib. The generator (fbs/meson.build) uses find_program('flatc')
	# which picks up Debian's flatc from PATH. Header and flatc versions match
	# (both from the same Debian source package).
	write_stub flatbuffers "\
flatbuffers_dep = dependency('flatbuffers')
flatbuffers_lib = []"

	# Catch2 is only used by the test executables, which we never build.
	# Returning a disabler() makes meson silently drop those targets (and
	# their test() definitions) instead of needing Catch2 at all.
	write_stub catch2 "\
catch2_dep = disabler()"
}

# --------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------
BUILD_TMP=""
cleanup_on_exit() {
	local rc=$?
	if [[ -n "$BUILD_TMP" && -d "$BUILD_TMP" ]]; then
		if [[ $rc -eq 0 ]]; then
			rm -rf "$BUILD_TMP"
		else
			log "build failed (exit $rc); build tree kept for inspection: $BUILD_TMP"
			log "(it is removed automatically by the next run)"
		fi
	fi
}
trap cleanup_on_exit EXIT

build_worker() {
	local t0 src
	BUILD_TMP="$(mktemp -d "$WORKER_CACHE/.build-$MEDIASOUP_VERSION-XXXXXX")"
	log "build dir: $BUILD_TMP"

	# 1. Sources from the npm registry (or a given tarball).
	t0=$(date +%s)
	local tgz
	if [[ -n "${MEDIASOUP_TARBALL:-}" ]]; then
		tgz="$(readlink -f "$MEDIASOUP_TARBALL")"
		[[ -f "$tgz" ]] || die "MEDIASOUP_TARBALL not found: $MEDIASOUP_TARBALL"
		log "using tarball $tgz"
	else
		command -v npm >/dev/null || die "npm not found (needed for 'npm pack')"
		log "npm pack mediasoup@$MEDIASOUP_VERSION"
		# Run in the temp dir so no project .npmrc/package.json interferes;
		# npm prints the file name on stdout: send it to stderr.
		(cd "$BUILD_TMP" && npm pack "mediasoup@$MEDIASOUP_VERSION" --silent >&2)
		tgz="$BUILD_TMP/mediasoup-$MEDIASOUP_VERSION.tgz"
		[[ -f "$tgz" ]] || die "npm pack did not produce $tgz"
	fi
	tar -xzf "$tgz" -C "$BUILD_TMP"
	src="$BUILD_TMP/package"
	WORKER_DIR="$src/worker"
	[[ -f "$WORKER_DIR/meson.build" ]] || die "unexpected package layout: no worker/meson.build"
	log "sources unpacked ($(($(date +%s) - t0))s)"

	# 2. Patches (paths are relative to the package root: a/worker/...).
	local p
	while IFS= read -r p; do
		log "applying $(basename "$p")"
		patch -p1 -d "$src" --forward --batch <"$p" >&2
	done < <(find "$PATCH_DIR" -maxdepth 1 -type f -name '*.patch' | LC_ALL=C sort)
	# Sanity check: the KTLS fix must be in the source we compile.
	grep -q 'operationType & BIO_CB_RETURN' "$WORKER_DIR/src/RTC/DtlsTransport.cpp" ||
		die "DtlsTransport.cpp KTLS fix not present after patching"

	# 3. Debian 12 ships meson 1.0.1 while the worker asks for >= 1.1.0; it
	#    builds fine with 1.0.x, so relax the requirement when needed.
	local meson_ver
	meson_ver="$(meson --version)"
	if ! printf '1.1.0\n%s\n' "$meson_ver" | sort -V -C; then
		log "meson $meson_ver < 1.1.0: relaxing worker's meson_version requirement"
		sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 1.0.0'/" "$WORKER_DIR/meson.build"
	fi

	# 4. Subproject stubs backed by system packages.
	create_subproject_stubs

	# 5. Configure. --wrap-mode=nodownload guarantees meson never tries the
	#    network (it would fail loudly instead).
	t0=$(date +%s)
	log "meson setup (release, NDEBUG)"
	meson setup "$WORKER_DIR/build" "$WORKER_DIR" \
		--buildtype=release -Db_ndebug=true \
		--wrap-mode=nodownload >&2
	log "configured ($(($(date +%s) - t0))s)"

	# 6. Generate the FlatBuffers headers first: the worker only gets the
	#    include directory from flatbuffers_generator_dep, not an order
	#    dependency on the generator target, so ninja would otherwise compile
	#    sources before FBS/*.h exist.
	local jobs="${BUILD_JOBS:-2}" fbs_target
	fbs_target="$(ninja -C "$WORKER_DIR/build" -t targets all 2>/dev/null |
		sed -n 's/^\(\(.*\/\)\{0,1\}fbs\/FBS\): .*/\1/p' | head -n1)"
	[[ -n "$fbs_target" ]] || die "flatbuffers generator target (fbs/FBS) not found in ninja targets"
	t0=$(date +%s)
	log "generating FlatBuffers headers (ninja $fbs_target)"
	ninja -C "$WORKER_DIR/build" "$fbs_target" >&2
	log "FBS headers generated ($(($(date +%s) - t0))s)"

	# 7. Build only the worker executable.
	t0=$(date +%s)
	log "compiling mediasoup-worker with ninja -j$jobs (takes a few minutes)"
	ninja -C "$WORKER_DIR/build" -j"$jobs" mediasoup-worker >&2
	log "compiled ($(($(date +%s) - t0))s)"

	local built="$WORKER_DIR/build/mediasoup-worker"
	verify_binary "$built"

	# 8. Publish atomically: copy to a temp name in the final dir, then mv.
	mkdir -p "$OUT_DIR"
	cp "$built" "$OUT_DIR/.mediasoup-worker.tmp.$$"
	chmod 0755 "$OUT_DIR/.mediasoup-worker.tmp.$$"
	mv -f "$OUT_DIR/.mediasoup-worker.tmp.$$" "$OUT_BIN"
	log "installed $OUT_BIN ($(du -h "$OUT_BIN" | cut -f1))"
}

# Check the binary is an ELF executable whose shared libraries all resolve,
# and that it actually starts (without the channel fds it exits with an
# error, which is expected).
verify_binary() {
	local bin="$1" ldd_out rc=0 out
	[[ -x "$bin" ]] || die "binary not found: $bin"
	[[ "$(head -c4 "$bin" | od -An -c | tr -d ' ')" == '177ELF' ]] || die "$bin is not an ELF file"
	ldd_out="$(ldd "$bin")" || die "ldd failed on $bin"
	if grep -q 'not found' <<<"$ldd_out"; then
		printf '%s\n' "$ldd_out" >&2
		die "unresolved shared libraries in $bin"
	fi
	log "ldd OK ($(grep -c '=>' <<<"$ldd_out") shared libs resolved)"
	out="$(timeout 10 "$bin" 2>&1)" || rc=$?
	# 124 = hung (timeout), >=128 = killed by a signal (e.g. SIGSEGV).
	if [[ $rc -eq 124 || $rc -ge 128 ]]; then
		die "mediasoup-worker smoke run failed (exit $rc): $out"
	fi
	log "smoke run OK (exit $rc as expected without channel fds): $(head -n1 <<<"$out")"
}

# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
mkdir -p "$WORKER_CACHE"

# Serialise concurrent runs: the second one waits, then finds the binary.
exec 9>"$WORKER_CACHE/.lock"
if ! flock -n 9; then
	log "another build is running; waiting for lock $WORKER_CACHE/.lock"
	flock 9
fi

if [[ "$FORCE" -eq 0 && -x "$OUT_BIN" ]]; then
	log "built by a concurrent run: $OUT_BIN"
	printf '%s\n' "$OUT_BIN"
	exit 0
fi

# Leftovers of failed/interrupted builds (safe to delete: we hold the lock).
find "$WORKER_CACHE" -maxdepth 1 -type d -name '.build-*' -exec rm -rf {} + 2>/dev/null || true

ensure_packages
log "building mediasoup-worker $MEDIASOUP_VERSION (key $KEY)"
build_worker
log "done in $(($(date +%s) - START_TS))s"
printf '%s\n' "$OUT_BIN"
