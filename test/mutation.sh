#!/usr/bin/env bash
# mutation.sh -- does the suite catch a wrong extension?  Applies one-line
# mutations, one at a time, to a copy of the tree, builds and installs the
# mutated extension, runs the suites that should catch it (through the copy's
# test/run_all.sh) and reports each mutation caught or not.  Every mutation
# must be caught; exits non-zero if one is not (or no longer applies).
# Reinstalls the unmutated extension at the end.  About ten minutes.
#
#   bash test/mutation.sh            every mutation
#   bash test/mutation.sh NAME...    only these (names below)
#
# As root or as a user with sudo, like test/run_all.sh (which it runs); not
# part of the default run.  A mutation is caught when its suites fail: each
# one undoes a guarantee a test states, so a failing test must name it.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
set -u
SEQDIST_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$SEQDIST_ROOT/test/lib.sh"

# name @ file @ perl substitution (applied to the whole file) @ suites
MUTATIONS=(
	'backend_cache_plus_one@src/backend_cache.c@s/(seq->next = block->first \+ seq->params\.increment);/$1 + 1;/@pg_regress'
	'block_count_off_by_one@src/counter.c@s/(block->count = n);/$1 + 1;/@pg_regress'
	'bounds_check_skipped@src/counter.c@s/if \(first < params->min_value \|\| first > params->max_value \|\|\n\s*newlast < params->min_value \|\| newlast > params->max_value\)/if (false)/@tap:003'
	'update_condition_dropped@src/counter.c@s/"attribute_exists\(#lv\) AND #inc = :inc AND #lv <= :limit AND /"attribute_exists(#lv) AND #inc = :inc AND (#lv <= :limit OR #lv > :limit) AND /@tap:003'
	'adaptive_floor_removed@src/block_size.c@s/size = Max\(size \/ 2, base\);/size = size \/ 2;/@tap:007'
	'cancel_delayed@src/http.c@s/if \(http_abort_check\(\) \|\|/if ((http_abort_check() \&\& (pg_usleep(1100000L), true)) ||/@tap:002'
	'spare_block_dropped@src/instance_scan.c@s/slot->spare_count = block->count;/slot->spare_count = 0;/@tap:008'
	'worker_ignores_sighup@src/refill_worker.c@s/ProcessConfigFile\(PGC_SIGHUP\);/;/@tap:015'
	'worker_fixed_size_ignored@src/refill_worker.c@s/job->size = view\.block_size;/job->size = refill_policy_job_size(&view.demand);/@tap:015'
	'suppressed_count_dropped@src/refill_worker.c@s/if \(refill_suppressed > 0\)/if (false)/@tap:015'
)

seqdist_install_dependencies
# the plain build, whose objects the copies start from (only the mutated
# file is compiled again)
make -C "$SEQDIST_ROOT" -s PG_CONFIG="$SEQDIST_PG_BIN/pg_config" >/dev/null || die "the build failed"

WORK=$(mktemp -d /tmp/seqdist-mutation.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
caught=0
missed=0
results=()
for m in "${MUTATIONS[@]}"; do
	IFS='@' read -r name file subst suites <<<"$m"
	if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
	copy=$WORK/$name
	mkdir -p "$copy"
	tar -C "$SEQDIST_ROOT" --exclude=./.git --exclude=./test/tmp -cf - . | tar -C "$copy" -xf -
	if ! MUTATION="$subst" perl -0pi -e 'BEGIN { $n = 0 } $n += eval "$ENV{MUTATION}"; END { exit($n ? 0 : 1) }' "$copy/$file" ||
	   cmp -s "$SEQDIST_ROOT/$file" "$copy/$file"; then
		results+=("NOT APPLIED $name: $file no longer has the line it mutates")
		missed=$((missed + 1))
		continue
	fi
	say "mutation $name ($file), suites: $suites"
	diff -u "$SEQDIST_ROOT/$file" "$copy/$file" | sed -n '/^[-+][^-+]/p'
	# shellcheck disable=SC2086
	bash "$copy/test/run_all.sh" $suites >"$WORK/$name.log" 2>&1
	status=$?
	# a failed run keeps its scratch directory: this script's own
	kept=$(sed -n 's/^the run.s files are kept in //p' "$WORK/$name.log")
	[ -n "$kept" ] && [[ "$kept" == /tmp/seqdist.* ]] && rm -rf "$kept"
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$WORK/$name.log" | tail -1)
	failing=$(grep -E '^[[:space:]]*not ok' "$WORK/$name.log" | head -3 | sed 's/^[[:space:]]*//' | tr '\n' ';')
	if [ "$status" -ne 0 ] && [[ "$summary" =~ ^[0-9]+\ passed,\ [1-9][0-9]*\ failed ]]; then
		results+=("caught      $name ($suites): $summary; $failing")
		caught=$((caught + 1))
	else
		results+=("NOT CAUGHT  $name ($suites): ${summary:-no summary line, exit $status}")
		missed=$((missed + 1))
		tail -20 "$WORK/$name.log"
	fi
	rm -rf "$copy"
done

say "reinstalling the unmutated extension"
seqdist_build_install

echo
printf '%s\n' "${results[@]}"
echo "$caught caught, $missed not caught"
[ "$missed" -eq 0 ]
