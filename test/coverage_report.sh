#!/usr/bin/env bash
# coverage_report.sh -- line coverage of src/ from a coverage build
# (make COVERAGE=1) whose servers have run and written their .gcda files.
#
#   bash test/coverage_report.sh BUILD_DIR [TARGET_PERCENT]
#
# Prints per-file line coverage and the total (gcov), then the lines no test
# executed, file by file, and TAP: one test, that the total reaches the
# target (default 92).  Also writes BUILD_DIR/coverage.info and an HTML
# report in BUILD_DIR/html (lcov, genhtml).
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
set -u
dir=${1:?usage: coverage_report.sh BUILD_DIR [TARGET_PERCENT]}
target=${2:-92}
cd "$dir" || exit 2

if ! ls src/*.gcda >/dev/null 2>&1; then
	echo "1..1"
	echo "not ok 1 - line coverage of src/: no .gcda file was written in $dir/src"
	exit 1
fi

# gcov writes FILE.c.gcov here, in the build directory (whose paths the
# .gcno files record): one line per source line, "#####" where a line was
# never executed, "-" where it holds no code
rm -f ./*.gcov
gcov -o src src/*.c >/dev/null 2>&1

echo "# line coverage of src/ (lines executed / lines with code)"
perl -e '
	my ($all, $run) = (0, 0);
	my @uncovered;
	printf "#   %-22s %6s %6s %7s\n", "file", "lines", "run", "cover";
	for my $gcov (sort glob("*.c.gcov"))
	{
		(my $file = "src/$gcov") =~ s/\.gcov$//;
		open(my $fh, "<", $gcov) or die "$gcov: $!";
		my ($n, $x, @missed) = (0, 0);
		while (<$fh>)
		{
			next unless /^\s*([^:]+):\s*(\d+):/;
			my ($count, $line) = ($1, $2);
			next if $count =~ /^-$/ || $line == 0;
			$n++;
			if ($count =~ /^#+$|^=+$/) { push @missed, $line; } else { $x++; }
		}
		close $fh;
		next unless $n;
		$all += $n;
		$run += $x;
		printf "#   %-22s %6d %6d %6.1f%%\n", $file, $n, $x, 100 * $x / $n;
		# consecutive lines as ranges
		my @r;
		for my $l (@missed)
		{
			if (@r && $r[-1][1] == $l - 1) { $r[-1][1] = $l; } else { push @r, [ $l, $l ]; }
		}
		push @uncovered, "#   $file: " . join(", ", map { $_->[0] == $_->[1] ? $_->[0] : "$_->[0]-$_->[1]" } @r)
		  if @r;
	}
	printf "#   %-22s %6d %6d %6.1f%%\n", "total", $all, $run, 100 * $run / $all;
	print "# lines never executed:\n", map { "$_\n" } @uncovered;
	open(my $t, ">", "total") or die; printf $t "%.1f\n", 100 * $run / $all; close $t;
'
total=$(cat total)

if command -v lcov >/dev/null && command -v genhtml >/dev/null; then
	lcov --quiet --capture --directory src --base-directory . --output-file coverage.info >/dev/null 2>&1 &&
		genhtml --quiet --output-directory html coverage.info >/dev/null 2>&1 &&
		echo "# HTML report: $dir/html/index.html"
fi

echo "1..1"
if perl -e 'exit(!($ARGV[0] >= $ARGV[1]))' "$total" "$target"; then
	echo "ok 1 - line coverage of src/ is $total% (target $target%)"
else
	echo "not ok 1 - line coverage of src/ is $total%, below the target of $target%"
	exit 1
fi
