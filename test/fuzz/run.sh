#!/bin/sh
#
# run.sh
#	Build the libFuzzer harnesses with AddressSanitizer and
#	UndefinedBehaviorSanitizer and run each for a bounded time, printing TAP.
#
# Usage: test/fuzz/run.sh [SECONDS]	(default 20 per harness; the environment
#	variable SEQDIST_FUZZ_SECONDS does the same)
#
# Each harness first runs over its seed corpus in test/fuzz/corpus/<name>/
# (every seed must pass), then fuzzes from a scratch copy of the corpus, so
# that the repository's corpus changes only when someone adds a seed.  A
# crash leaves its input in the scratch directory, whose path is printed.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:-${SEQDIST_FUZZ_SECONDS:-20}}
cc=${FUZZ_CC:-clang}
pg_includes=$("${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" --includedir-server)
work=$(mktemp -d "${TMPDIR:-/tmp}/seqdist-fuzz.XXXXXX") || exit 2
# -Wno-ignored-attributes: PostgreSQL's headers were configured for gcc and
# name its gnu_printf format archetype, which clang does not know
flags="-g -O1 -Wall -Wextra -Werror -Wno-ignored-attributes -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
. "$root/test/tap.sh"

# name, then the sources besides the harness
fuzz()
{
	name=$1
	shift
	bin=$work/$name
	# shellcheck disable=SC2086
	$cc $flags -I"$root/src" -I"$pg_includes" "$here/${name}_fuzz.c" "$@" -o "$bin" -lcrypto -ljansson \
		>"$work/$name.build" 2>&1
	status=$?
	[ $status -ne 0 ] && sed 's/^/# /' "$work/$name.build" | head -30
	report $status "build the $name harness with $cc, sanitizers on"
	[ $status -eq 0 ] || return
	"$bin" -runs=0 "$here/corpus/$name" >"$work/$name.seeds" 2>&1
	status=$?
	[ $status -ne 0 ] && tail -20 "$work/$name.seeds" | sed 's/^/# /'
	report $status "$name: every seed of the corpus passes"
	mkdir -p "$work/$name.corpus"
	cp "$here/corpus/$name"/* "$work/$name.corpus/"
	(cd "$work" && "$bin" -max_total_time="$seconds" -print_final_stats=1 \
		"$work/$name.corpus" >"$work/$name.log" 2>&1)
	status=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log")
	echo "# measured: $name fuzzed for $seconds s: ${runs:-?} executions"
	if [ $status -ne 0 ]; then
		grep -E 'ERROR|SUMMARY|Test unit written' "$work/$name.log" | head -10 | sed 's/^/# /'
		echo "# crash inputs kept in $work"
	fi
	report $status "$name: no crash, leak or sanitizer report in $seconds s of fuzzing"
}

fuzz sigv4 "$root/src/sigv4.c"
fuzz decimal128 "$root/src/decimal128.c"
fuzz credentials "$root/src/credentials_file.c"
fuzz dynamo_answer "$root/src/dynamo_answer.c" "$root/src/decimal128.c"
fuzz credparse "$root/src/credentials_parse.c"

echo "1..$testno"
if [ $failed -ne 0 ]; then
	exit 1
fi
rm -rf "$work"
exit 0
