# Shell functions shared by the demo and the test runner (sourced, not run).
#
# Everything here talks to 127.0.0.1 only and stops only the processes it
# started, by their pid.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.

SEQDIST_PG_MAJOR=15
# The PostgreSQL installation to build against and test with: Debian's
# PostgreSQL 15 unless SEQDIST_PG_BIN names another one's bin directory.
SEQDIST_PG_BIN=${SEQDIST_PG_BIN:-/usr/lib/postgresql/$SEQDIST_PG_MAJOR/bin}
SEQDIST_APT_PACKAGES="build-essential perl curl ca-certificates valgrind
 postgresql-$SEQDIST_PG_MAJOR postgresql-server-dev-$SEQDIST_PG_MAJOR
 libcurl4-openssl-dev libjansson-dev libssl-dev libipc-run-perl nodejs npm
 clang libclang-rt-14-dev lcov"
# the pg17 suite makes its Debian 13 root with debootstrap (test/debian13.sh)
SEQDIST_APT_PACKAGES="$SEQDIST_APT_PACKAGES debootstrap"

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly, or through sudo.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Install the Debian packages that are missing, then the pinned npm packages.
seqdist_install_dependencies() {
	local missing=() p
	for p in $SEQDIST_APT_PACKAGES; do
		# node may come from another Debian-format package of the same name
		if [ "$p" = nodejs ] && command -v node >/dev/null; then continue; fi
		if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing Debian packages: ${missing[*]}"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
	if [ ! -d "$SEQDIST_ROOT/test/node_modules/dynalite" ] ||
	   [ "$SEQDIST_ROOT/test/package-lock.json" -nt "$SEQDIST_ROOT/test/node_modules/.package-lock.json" ]; then
		say "installing the pinned npm packages (test/package-lock.json)"
		(cd "$SEQDIST_ROOT/test" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
	fi
}

seqdist_build_install() {
	say "building and installing seqdist"
	make -C "$SEQDIST_ROOT" -s PG_CONFIG="$SEQDIST_PG_BIN/pg_config" >/dev/null || die "the build failed"
	as_root make -C "$SEQDIST_ROOT" -s install PG_CONFIG="$SEQDIST_PG_BIN/pg_config" >/dev/null ||
		die "make install failed"
}

# The coverage build (make COVERAGE=1), made in a copy of the sources in a
# new directory outside the tree and installed in place of the plain build.
# The servers write their .gcda files next to its objects, so the directory
# belongs to the user the servers run as ($1, empty for the current user).
# Sets SEQDIST_COVERAGE_DIR.
seqdist_build_install_coverage() {
	local user=$1
	SEQDIST_COVERAGE_DIR=$(mktemp -d /tmp/seqdist-coverage.XXXXXX)
	say "building and installing seqdist with coverage in $SEQDIST_COVERAGE_DIR"
	tar -C "$SEQDIST_ROOT" -cf - Makefile seqdist.control src sql expected |
		tar -C "$SEQDIST_COVERAGE_DIR" -xf -
	rm -f "$SEQDIST_COVERAGE_DIR"/src/*.o "$SEQDIST_COVERAGE_DIR"/*.so
	make -C "$SEQDIST_COVERAGE_DIR" -s COVERAGE=1 PG_CONFIG="$SEQDIST_PG_BIN/pg_config" >/dev/null || return 1
	as_root make -C "$SEQDIST_COVERAGE_DIR" -s COVERAGE=1 install PG_CONFIG="$SEQDIST_PG_BIN/pg_config" >/dev/null || return 1
	if [ -n "$user" ]; then
		chown -R "$user" "$SEQDIST_COVERAGE_DIR"
	fi
	chmod 755 "$SEQDIST_COVERAGE_DIR"
	export SEQDIST_COVERAGE_DIR
}

# PostgreSQL refuses to run as root.  When we are root, copy the tree to a
# scratch directory owned by an unprivileged user and re-run the given script
# there as that user; print where its files are kept.
seqdist_drop_root() {
	local script=$1; shift
	local user=postgres scratch
	id "$user" >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /bin/bash "$user"
	scratch=$(mktemp -d /tmp/seqdist.XXXXXX)
	tar -C "$SEQDIST_ROOT" --exclude=./.git --exclude=./tmp_check --exclude=./results \
		--exclude=./log -cf - . | tar -C "$scratch" -xf -
	chown -R "$user" "$scratch"
	chmod 755 "$scratch"
	say "running as the unprivileged user '$user' in $scratch"
	local status=0
	runuser -u "$user" -- env SEQDIST_UNPRIVILEGED=1 HOME="$scratch" PATH="$PATH" \
		SEQDIST_PG_BIN="$SEQDIST_PG_BIN" \
		SEQDIST_COVERAGE_DIR="${SEQDIST_COVERAGE_DIR:-}" \
		bash "$scratch/$script" "$@" || status=$?
	if [ "$status" -eq 0 ]; then
		rm -rf "$scratch"
	else
		echo "the run's files are kept in $scratch"
	fi
	return "$status"
}

# The common start of demo, tests and benchmark: unless this is already the
# unprivileged re-run, install what is missing and build and install the
# extension (skipped when $SEQDIST_NO_BUILD is set; the coverage build
# instead when $SEQDIST_COVERAGE is set), then, as root, re-run the script as
# an unprivileged user and exit with its status.
# $1: the script, relative to the tree; the rest: its arguments.
seqdist_bootstrap() {
	local script=$1; shift
	[ -n "${SEQDIST_UNPRIVILEGED:-}" ] && return 0
	if [ -n "${SEQDIST_COVERAGE:-}" ]; then
		seqdist_install_dependencies
		local user=
		if [ "$(id -u)" -eq 0 ]; then
			user=postgres
			id "$user" >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /bin/bash "$user"
		fi
		seqdist_build_install_coverage "$user" || die "the coverage build failed"
	elif [ -z "${SEQDIST_NO_BUILD:-}" ]; then
		seqdist_install_dependencies
		seqdist_build_install
	fi
	if [ "$(id -u)" -eq 0 ]; then
		seqdist_drop_root "$script" "$@"
		exit $?
	fi
}

# A free TCP port on 127.0.0.1 (the kernel picks one).
seqdist_free_port() {
	perl -MIO::Socket::INET -e \
		'my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0) or die; print $s->sockport, "\n";'
}

# Start the local DynamoDB (dynalite behind the signature-checking proxy)
# as a child of this shell and wait until it listens.  Sets DYNAMO_PORT and
# DYNAMO_PID; if it does not start, prints its log and returns non-zero.
# $1: a directory for its log (dynamo.log); the rest: the key pairs it
# accepts, AKID:SECRET[:TOKEN] (default: the test key pair).
seqdist_start_dynamo() {
	local dir=$1 pair args=(); shift
	[ $# -gt 0 ] || set -- "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"
	for pair; do args+=(--credentials "$pair"); done
	mkdir -p "$dir"
	if ! read -r -t 30 DYNAMO_PORT DYNAMO_PID < <(exec node "$SEQDIST_ROOT/test/local_dynamodb.js" \
		--port 0 --announce --log-file "$dir/dynamo.log" --region "$AWS_REGION" "${args[@]}" </dev/null); then
		# the process substitution's pid: the server, if it hangs instead of exiting
		seqdist_stop_pid "$!"
		cat "$dir/dynamo.log" >&2
		echo "local DynamoDB did not start" >&2
		return 1
	fi
}

# The control API of the local DynamoDB on $DYNAMO_PORT (faults, stats, reset:
# see test/dynamo_control.sh, the one client of it).
seqdist_dynamo_control() {
	sh "$SEQDIST_ROOT/test/dynamo_control.sh" "$DYNAMO_PORT" "$@"
}

# Stop a process we started, by pid, and wait for it.
seqdist_stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
}

# A throwaway local DynamoDB and PostgreSQL (seqdist preloaded, unix socket
# only) in a new scratch directory; both are stopped and the directory
# removed when the script exits.  Sets WORK, PGPORT_LOCAL, DYNAMO_PORT.
# $1: a name for the scratch directory.
seqdist_start_local_stack() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/seqdist-$1.XXXXXX")
	SEQDIST_PG_STARTED=
	trap seqdist_stop_local_stack EXIT
	seqdist_start_dynamo "$WORK/dynamo" || exit 1
	PGPORT_LOCAL=$(seqdist_free_port)
	"$SEQDIST_PG_BIN/initdb" -D "$WORK/pgdata" -A trust -U postgres >/dev/null
	cat >>"$WORK/pgdata/postgresql.conf" <<CONF
listen_addresses = ''
port = $PGPORT_LOCAL
unix_socket_directories = '$WORK'
shared_preload_libraries = 'seqdist'
seqdist.endpoint = 'http://127.0.0.1:$DYNAMO_PORT'
seqdist.region = '$AWS_REGION'
CONF
	"$SEQDIST_PG_BIN/pg_ctl" -D "$WORK/pgdata" -l "$WORK/postgresql.log" -w start >/dev/null
	SEQDIST_PG_STARTED=1
}

seqdist_stop_local_stack() {
	if [ -n "${SEQDIST_PG_STARTED:-}" ]; then
		"$SEQDIST_PG_BIN/pg_ctl" -D "$WORK/pgdata" -m fast -w stop >/dev/null 2>&1 || true
	fi
	seqdist_stop_pid "${DYNAMO_PID:-}"
	rm -rf "$WORK"
}

# Print a template with every @NAME@ replaced by the value of the shell
# variable NAME; a placeholder without a value (or an empty one) is an error.
# $1: the template; the rest: the names.
seqdist_fill() {
	local template=$1 name values=(); shift
	for name; do values+=("$name=${!name}"); done
	perl -e '
		my $file = shift;
		my %value = map { split /=/, $_, 2 } @ARGV;
		open(my $fh, "<", $file) or die "$file: $!\n";
		while (<$fh>) {
			s/\@(\w+)\@/length($value{$1} \/\/ "") ? $value{$1} : die "$file: no value for \@$1\@\n"/ge;
			print;
		}' "$template" "${values[@]}"
}

# The settings the pg_regress suite expects, for the local DynamoDB on
# $DYNAMO_PORT.
seqdist_regress_conf() {
	seqdist_fill "$SEQDIST_ROOT/test/regress.conf" DYNAMO_PORT AWS_REGION
}

# Export the test credentials (test/credentials.env), and unset what would
# send the AWS credential chain elsewhere.
seqdist_test_credentials() {
	unset AWS_SESSION_TOKEN AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE \
		AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
		AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_EC2_METADATA_SERVICE_ENDPOINT
	export AWS_EC2_METADATA_DISABLED=true
	set -a
	. "$SEQDIST_ROOT/test/credentials.env"
	set +a
}
