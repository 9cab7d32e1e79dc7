#!/usr/bin/env bash
# debian13.sh -- seqdist on PostgreSQL 17: the build (with -Werror), the
# pg_regress suite and TAP files, run inside a Debian 13 (trixie) root made
# with debootstrap.  Debian 12 ships only PostgreSQL 15; Debian 13 ships 17.
#
#   bash test/debian13.sh           pg_regress and every TAP file but the long ones
#   bash test/debian13.sh all       pg_regress and every TAP file
#   bash test/debian13.sh 001 030   pg_regress and the TAP files named so
#
# Needs root (debootstrap, chroot, mount), through sudo if not run as root.
# The root is kept in $SEQDIST_CACHE_DIR (default /var/cache/seqdist-test),
# outside the clone, and reused when complete; a root that is missing or
# half-made is made again.  The packages come from the Debian mirror this
# machine's apt sources already use (read from /etc/apt at run time;
# $SEQDIST_DEBIAN_MIRROR and $SEQDIST_DEBIAN_SECURITY_MIRROR override).
#
# Inside the root the tree is copied to /build/seqdist, built by an
# unprivileged user, installed by root, and test/run_all.sh runs the suites
# as the unprivileged user 'postgres'.  /proc and a /dev/shm are mounted in
# the root for the run and unmounted after it (debootstrap made the device
# nodes of /dev).
#
# Prints the inner run's output, which ends with its line
# "N passed, N failed, N skipped"; exits 0 if nothing failed, 1 otherwise,
# and 77 after a line "skipped: ..." when debootstrap cannot reach the
# Debian archive.  test/run_all.sh runs it as the suite pg17.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
set -u
SEQDIST_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$SEQDIST_ROOT/test/lib.sh"

PG17_MAJOR=17
SUITE=trixie
# The TAP files the default run leaves out: the long ones, which 15 runs
# anyway (3.7 of the 6.3 minutes that every TAP file takes on 17); "all"
# runs them too.
PG17_LONG_TAP="006 007 010 013 045"
PG17_PACKAGES="build-essential perl curl ca-certificates
 postgresql-$PG17_MAJOR postgresql-server-dev-$PG17_MAJOR
 libcurl4-openssl-dev libjansson-dev libssl-dev libipc-run-perl nodejs npm"

if [ "$(id -u)" -ne 0 ]; then
	exec sudo env SEQDIST_CACHE_DIR="${SEQDIST_CACHE_DIR:-}" \
		SEQDIST_DEBIAN_MIRROR="${SEQDIST_DEBIAN_MIRROR:-}" \
		SEQDIST_DEBIAN_SECURITY_MIRROR="${SEQDIST_DEBIAN_SECURITY_MIRROR:-}" \
		bash "$0" "$@"
fi

TAP_ARGS=()
if [ $# -eq 0 ]; then
	for t in "$SEQDIST_ROOT"/test/t/*.pl; do
		t=$(basename "$t")
		[[ " $PG17_LONG_TAP " == *" ${t%%_*} "* ]] || TAP_ARGS+=("tap:${t%%_*}")
	done
elif [ "$1" = all ]; then
	TAP_ARGS=(tap)
else
	for t; do TAP_ARGS+=("tap:$t"); done
fi

CACHE=${SEQDIST_CACHE_DIR:-/var/cache/seqdist-test}
ROOT=$CACHE/debian13
mkdir -p "$CACHE"

# The URIs of the apt sources, one "URI SUITE" line per suite: one-line
# entries in sources.list and *.list, deb822 stanzas in *.sources.
apt_sources() {
	local files=()
	[ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
	for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && files+=("$f")
	done
	[ ${#files[@]} -gt 0 ] || return 0
	perl -e '
		for my $file (@ARGV) {
			open(my $fh, "<", $file) or next;
			local $/;
			my $text = <$fh>;
			if ($file =~ /\.sources$/) {
				for my $stanza (split /\n\s*\n/, $text) {
					my %f;
					my $last;
					for (split /\n/, $stanza) {
						next if /^#/;
						if (/^(\S+?):\s*(.*)$/) { $last = lc $1; $f{$last} = $2; }
						elsif (/^\s+(.*)$/ && $last) { $f{$last} .= " $1"; }
					}
					next unless ($f{types} // "") =~ /\bdeb\b/;
					next if ($f{enabled} // "yes") =~ /^no$/i;
					for my $uri (split " ", $f{uris} // "") {
						print "$uri $_\n" for split " ", $f{suites} // "";
					}
				}
			} else {
				for (split /\n/, $text) {
					next unless /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/;
					print "$1 $2\n";
				}
			}
		}' "${files[@]}"
}

# The archive: the first source of a plain release suite (no "-" in its
# name); the security archive: the first source of a "-security" suite.
MIRROR=${SEQDIST_DEBIAN_MIRROR:-$(apt_sources | awk '$2 !~ /-/ { print $1; exit }')}
SECURITY_MIRROR=${SEQDIST_DEBIAN_SECURITY_MIRROR:-$(apt_sources | awk '$2 ~ /-security$/ { print $1; exit }')}
if [ -z "$MIRROR" ]; then
	echo "skipped: no Debian archive in this machine's apt sources, so debootstrap cannot reach one"
	exit 77
fi

# One run at a time uses the root
exec 9>"$CACHE/debian13.lock"
flock 9

MOUNTED=()
unmount_all() {
	local i
	for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
		umount "${MOUNTED[i]}" || umount -l "${MOUNTED[i]}"
	done
	MOUNTED=()
}
trap unmount_all EXIT
trap 'exit 143' TERM INT HUP

mount_in_root() {
	local type=$1 target=$ROOT/$2
	if mountpoint -q "$target"; then
		umount "$target" || die "cannot unmount a stale $target"
	fi
	mount -t "$type" "seqdist-$type" "$target" || die "cannot mount $type on $target"
	MOUNTED+=("$target")
}

in_root() {
	chroot "$ROOT" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# 1. The base system, once: debootstrap into a scratch directory, renamed
# when complete.
if [ ! -e "$ROOT/.seqdist-base" ]; then
	command -v debootstrap >/dev/null || {
		say "installing debootstrap"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null ||
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; } ||
			die "cannot install debootstrap"
	}
	rm -rf "$ROOT" "$ROOT.partial"
	say "debootstrap: Debian 13 ($SUITE) from $MIRROR into $ROOT"
	started=$(date +%s)
	if ! debootstrap --variant=minbase "$SUITE" "$ROOT.partial" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1; then
		# mounts debootstrap left behind if it stopped half-way
		for m in proc sys dev/pts; do mountpoint -q "$ROOT.partial/$m" && umount -l "$ROOT.partial/$m"; done
		rm -rf "$ROOT.partial"
		# a skip only if the archive cannot be reached at all; any other
		# failure of debootstrap is a failure
		if ! curl -fsS --max-time 30 -o /dev/null "$MIRROR/dists/$SUITE/Release" 2>/dev/null; then
			tail -5 "$CACHE/debootstrap.log"
			echo "skipped: debootstrap cannot reach the Debian archive ($MIRROR)"
			exit 77
		fi
		tail -30 "$CACHE/debootstrap.log"
		die "debootstrap failed (log: $CACHE/debootstrap.log)"
	fi
	mv "$ROOT.partial" "$ROOT"
	date -u >"$ROOT/.seqdist-base"
	echo "debootstrap took $(( $(date +%s) - started )) s"
fi

# 2. Its apt sources, and no service started by a package's install script
# (a PostgreSQL package would otherwise create and start a cluster).
{
	echo "deb $MIRROR $SUITE main"
	echo "deb $MIRROR $SUITE-updates main"
	[ -n "$SECURITY_MIRROR" ] && echo "deb $SECURITY_MIRROR $SUITE-security main"
} >"$ROOT/etc/apt/sources.list"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
mkdir -p "$ROOT/etc/postgresql-common"
echo "create_main_cluster = false" >"$ROOT/etc/postgresql-common/createcluster.conf"

mount_in_root proc proc
mount_in_root tmpfs dev/shm

# 3. The packages, whenever the list differs from what the root has.
want=$(echo $PG17_PACKAGES)
if [ "$(cat "$ROOT/.seqdist-packages" 2>/dev/null)" != "$want" ]; then
	say "installing in the root: $want"
	started=$(date +%s)
	rm -f "$ROOT/.seqdist-packages"
	in_root apt-get update -qq >"$CACHE/apt.log" 2>&1 &&
	in_root apt-get install -y -qq --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		$want >>"$CACHE/apt.log" 2>&1 || {
		tail -30 "$CACHE/apt.log"
		die "installing the packages in the root failed (log: $CACHE/apt.log)"
	}
	echo "$want" >"$ROOT/.seqdist-packages"
	echo "the packages took $(( $(date +%s) - started )) s"
fi
in_root sh -c "/usr/lib/postgresql/$PG17_MAJOR/bin/postgres --version; gcc --version | head -1; node --version"
# The certificate authorities this machine added to its own (a TLS proxy's,
# for instance) and the npm registry it uses, so that npm in the root
# reaches the registry as it does outside
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
	mkdir -p "$ROOT/usr/local/share/ca-certificates"
	cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
	in_root update-ca-certificates >/dev/null 2>&1
fi
NPM_REGISTRY=$(npm config get registry 2>/dev/null || true)

# 4. The tree, built by an unprivileged user and installed by root.
in_root sh -c 'id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /bin/bash postgres'
# what an earlier run left: its tree, and the files of its failed suites
rm -rf "$ROOT/build/seqdist" "$ROOT"/tmp/seqdist.* "$ROOT"/tmp/seqdist-*
mkdir -p "$ROOT/build/seqdist" "$ROOT/build/npm-cache"
tar -C "$SEQDIST_ROOT" --exclude=./.git --exclude=./test/node_modules --exclude=./test/tmp \
	--exclude='*.o' --exclude='*.so' --exclude='*.bc' --exclude=./tmp_check --exclude=./results \
	--exclude=./log -cf - . | tar -C "$ROOT/build/seqdist" -xf -
# the root's own user, whose uid may differ from the host's user of that name
in_root chown -R postgres: /build/seqdist /build/npm-cache
as_builder() {
	in_root runuser -u postgres -- env HOME=/build npm_config_cache=/build/npm-cache \
		npm_config_cafile=/etc/ssl/certs/ca-certificates.crt \
		${NPM_REGISTRY:+npm_config_registry="$NPM_REGISTRY"} "$@"
}
say "building seqdist against PostgreSQL $PG17_MAJOR (-Werror)"
as_builder make -C /build/seqdist -s PG_CONFIG=/usr/lib/postgresql/$PG17_MAJOR/bin/pg_config >/dev/null ||
	{ echo "1..1"; echo "not ok 1 - the build on PostgreSQL $PG17_MAJOR"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
in_root make -C /build/seqdist -s install PG_CONFIG=/usr/lib/postgresql/$PG17_MAJOR/bin/pg_config >/dev/null ||
	die "make install failed in the root"
say "installing the pinned npm packages in the root"
as_builder sh -c 'cd /build/seqdist/test && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error' ||
	die "npm ci failed in the root"

# 5. The suites, as the unprivileged user (test/run_all.sh drops root).
say "running on PostgreSQL $PG17_MAJOR: pg_regress ${TAP_ARGS[*]}"
status=0
in_root env SEQDIST_PG_BIN=/usr/lib/postgresql/$PG17_MAJOR/bin SEQDIST_NO_BUILD=1 \
	bash /build/seqdist/test/run_all.sh pg_regress "${TAP_ARGS[@]}" || status=$?
[ "$status" -eq 0 ] || echo "(the paths above are inside the root $ROOT)"
exit "$status"
