#!/usr/bin/env bash
# Installs this release as a systemd service on Debian 12, or upgrades to it. Run as root from
# the unpacked release; nothing is downloaded:
#
#   tar -xzf openconsult-<version>-linux-x64-node<major>.tar.gz
#   sudo openconsult-<version>/deploy/install.sh
#
# What it does:
#   1. bin/openconsult check: Node.js and the Debian runtime libraries (names what is missing);
#   2. a system user `openconsult` (no login, no home) if there is none;
#   3. copies the release to /opt/openconsult/releases/<version>/ (owned by root, read-only to
#      the service);
#   4. /etc/openconsult/openconsult.env from config/openconsult.sample.env, if there is none
#      (edit it: PUBLIC_URL, ANNOUNCED_ADDRESS, SMS, TURN);
#   5. the systemd units (service, daily backup and its timer);
#   6. first install: enables them (start it yourself once the settings are right);
#      upgrade: takes a backup with the running release, points /opt/openconsult/current at the
#      new one, restarts, waits until /readyz answers, and switches back if it does not.
#
# Data stays in /var/lib/openconsult throughout: the database (consultations, unused links,
# pending timers), the generated API key and session secret (sessions stay valid).
# OPENCONSULT_PREFIX (default /opt/openconsult) and OPENCONSULT_ETC (default /etc/openconsult)
# move the install.
set -euo pipefail

release="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
prefix="${OPENCONSULT_PREFIX:-/opt/openconsult}"
etc="${OPENCONSULT_ETC:-/etc/openconsult}"
units=/etc/systemd/system

say() { printf 'install: %s\n' "$*"; }
fail() {
	printf 'install: %s\n' "$*" >&2
	exit 1
}

[[ "$(id -u)" == 0 ]] || fail "run as root (sudo $0)"
[[ -f "$release/BUNDLE.json" ]] || fail "$release is not an unpacked openconsult release"
version="$(sed -n 's/^  "version": "\([^"]*\)",$/\1/p' "$release/BUNDLE.json" | head -n1)"
commit="$(sed -n 's/^  "commit": "\([^"]*\)",$/\1/p' "$release/BUNDLE.json" | head -n1)"
[[ -n "$version" ]] || fail "no version in $release/BUNDLE.json"

# 1. Will it run here?
"$release/bin/openconsult" check

# 2. The service's user.
if ! id -u openconsult >/dev/null 2>&1; then
	useradd --system --user-group --home-dir /var/lib/openconsult --no-create-home --shell /usr/sbin/nologin openconsult
	say "created system user openconsult"
fi

# 3. The release, under its version (and commit, so a rebuilt release never overwrites a running one).
dest="$prefix/releases/$version-${commit:0:12}"
if [[ "$release" != "$dest" ]]; then
	if [[ -d "$dest" ]]; then
		say "$dest is already installed: using it"
	else
		mkdir -p "$prefix/releases"
		rm -rf "$dest.partial"
		cp -a "$release" "$dest.partial"
		chown -R root:root "$dest.partial"
		chmod -R go-w "$dest.partial"
		mv "$dest.partial" "$dest"
		say "installed the release in $dest"
	fi
fi

# 4. Settings (never overwritten).
install -d -m 0750 -g openconsult "$etc"
if [[ ! -f "$etc/openconsult.env" ]]; then
	install -m 0640 -g openconsult "$dest/config/openconsult.sample.env" "$etc/openconsult.env"
	say "wrote $etc/openconsult.env from the sample: edit PUBLIC_URL, ANNOUNCED_ADDRESS, SMS and TURN settings"
fi

# 5. Units.
for unit in openconsult.service openconsult-backup.service openconsult-backup.timer; do
	sed -e "s#/opt/openconsult/current#$prefix/current#g" -e "s#/etc/openconsult/#$etc/#g" \
		"$dest/deploy/systemd/$unit" >"$units/$unit.partial"
	chmod 0644 "$units/$unit.partial"
	mv "$units/$unit.partial" "$units/$unit"
done
systemctl daemon-reload

switch_to() {
	ln -sfn "$1" "$prefix/current.partial"
	mv -T "$prefix/current.partial" "$prefix/current"
}

port="$(sed -n 's/^PORT=\([0-9]*\)$/\1/p' "$etc/openconsult.env" | tail -n1)"
ready() {
	local node="$prefix/current/node/bin/node"
	[[ -x "$node" ]] || node=node
	for _ in $(seq 1 60); do
		if "$node" -e \
			"fetch('http://127.0.0.1:${port:-3000}/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" 2>/dev/null; then
			return 0
		fi
		sleep 1
	done
	return 1
}

# 6. First install, or upgrade.
previous="$(readlink -f "$prefix/current" 2>/dev/null || true)"
if [[ -z "$previous" ]]; then
	switch_to "$dest"
	systemctl enable openconsult.service openconsult-backup.timer >/dev/null
	systemctl start openconsult-backup.timer
	say "installed openconsult $version. Check $etc/openconsult.env, then: systemctl start openconsult"
	exit 0
fi
if [[ "$previous" == "$dest" ]]; then
	say "openconsult $version is already the current release"
	exit 0
fi
if systemctl is-active --quiet openconsult.service; then
	say "backing up the database with the running release"
	systemctl start openconsult-backup.service
fi
switch_to "$dest"
say "restarting on $version (was $previous)"
systemctl restart openconsult.service
if ! ready; then
	say "openconsult $version did not become ready: switching back to $previous"
	switch_to "$previous"
	systemctl restart openconsult.service
	fail "upgrade failed; see journalctl -u openconsult. The previous release is running again."
fi
say "openconsult $version is running. Previous release kept in $previous (to go back: see README, Operations)"
