#!/usr/bin/perl
# tap_count.pl -- count the results of a TAP log: prints "PASSED FAILED SKIPPED".
#
# Every test line ("ok N", "not ok N", at any indentation) counts once:
#  - "ok ... # SKIP ..." counts as skipped, never as passed, and so does a
#    plan "1..0 # SKIP ..." (a file that skipped all its tests);
#  - the line that closes a subtest (the first result line after results
#    indented deeper than it) sums up its children, which are counted
#    already: it counts only when it fails although none of its children
#    did (a subtest that crashed or broke its plan after passing children).
#  - "not ok ... # TODO" is an expected failure and counts as skipped.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

my ($passed, $failed, $skipped) = (0, 0, 0);
# results seen at each indentation since the last result less indented
my (%seen, %fails);
while (my $line = <>)
{
	if ($line =~ /^\s*1\.\.0\s*#\s*skip\b/i)
	{
		$skipped++;
		next;
	}
	next unless $line =~ /^(\s*)(not )?ok\s+\d+(.*)$/;
	my ($indent, $not, $rest) = (length($1), defined $2, $3);
	my ($children, $child_fails) = (0, 0);
	for my $deeper (grep { $_ > $indent } keys %seen)
	{
		$children += $seen{$deeper};
		$child_fails += $fails{$deeper};
		delete $seen{$deeper};
		delete $fails{$deeper};
	}
	my $directive = $rest =~ /#\s*(skip|todo)\b/i ? lc $1 : '';
	if ($children > 0)
	{
		# a subtest's summary line
		if ($not && $child_fails == 0 && $directive ne 'todo')
		{
			$failed++;
			$child_fails++;
		}
		$seen{$indent} += $children;
		$fails{$indent} += $child_fails;
		next;
	}
	$seen{$indent}++;
	if ($directive eq 'skip' || ($not && $directive eq 'todo'))
	{
		$skipped++;
	}
	elsif ($not)
	{
		$failed++;
		$fails{$indent}++;
	}
	else
	{
		$passed++;
	}
	$fails{$indent} //= 0;
}
print "$passed $failed $skipped\n";
