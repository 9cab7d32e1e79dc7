#!/usr/bin/perl
# scan.pl -- sorts the memory checkers' reports for test/memcheck.sh into
# those that count (seqdist's), those that do not (PostgreSQL's own), and the
# positive controls (canary.c's).
#
#   scan.pl sanitizer SRCDIR LIB LOGDIR STDERR
#       the ASan, UBSan and LSan reports in LOGDIR/asan.* and LOGDIR/ubsan.*
#       and in the server's stderr; LIB is the instrumented seqdist.so
#   scan.pl valgrind SRCDIR LOG
#       valgrind memcheck's log
#
# SRCDIR: the sources of the build that ran; a stack frame is seqdist's when
# it names one of its .c files (symbolized frames give no module) or
# seqdist.so (unsymbolized frames).  Prints "key count" lines, then "OTHER"
# lines (not counted, for notes), then "REPORT" and the reports that count.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;
use File::Find;

my ($mode, $srcdir, @args) = @ARGV;
my @names;
find(sub { push @names, $1 if /^(.+)\.c$/ }, $srcdir);
@names or die "no .c file in $srcdir\n";
my $srcs = join '|', map { quotemeta } sort @names;

my (%n, @other, @show);

sub slurp
{
	my $file = shift;
	open(my $fh, '<', $file) or die "$file: $!\n";
	local $/;
	my $text = <$fh>;
	close $fh;
	return $text;
}

# Counts a leak record of the canary and says whether it was one.
sub canary_leak
{
	my $record = shift;
	if ($record =~ /canary_leak_blocks/)
	{
		$n{canary_leak}++;
		return 1;
	}
	if ($record =~ /canary_leak_libs/)
	{
		$n{canary_jansson}++ if $record =~ /libjansson|json_/;
		$n{canary_curl}++ if $record =~ /libcurl|curl_easy_init/;
		return 1;
	}
	return 0;
}

sub sanitizer_ours
{
	my ($text, $lib) = @_;
	return $text =~ /^\s+#\d+ 0x[0-9a-f]+ in \S+ (?:\S*\/)?(?:$srcs)\.c:\d+/m
	  || index($text, "$lib+") >= 0
	  || $text =~ /\/seqdist\.so\+0x/;
}

sub scan_sanitizer_text
{
	my ($name, $text, $lib) = @_;
	$n{lsan_fatal}++ while $text =~ /LeakSanitizer has encountered a fatal error/g;

	# UBSan: the "runtime error" line and the stack or notes indented below it
	while ($text =~ /^(\S+:\d+:\d+: runtime error: .*(?:\n(?:[ \t].*|0x[0-9a-f]+: note.*))*)/mg)
	{
		my $r = $1;
		if ($r =~ /\bcanary\.c:\d+:\d+: runtime error: signed integer overflow/)
		{
			$n{canary_ubsan}++;
			next;
		}
		next if $r =~ /\bcanary\.c:\d+:\d+: runtime error/;    # the overflow canary, seen by UBSan too
		$n{ubsan}++;
		push @show, "== $name ==\n$r";
	}

	# ASan errors, up to ABORTING
	while ($text =~ /(==\d+==ERROR: AddressSanitizer:.*?)(?=\n==\d+==ABORTING|\z)/sg)
	{
		my $err = $1;
		if ($err =~ /heap-buffer-overflow/ && $err =~ /memcheck_canary_overflow/)
		{
			$n{canary_overflow}++;
			next;
		}
		$n{asan_errors}++;
		push @show, "== $name ==\n$err";
	}

	# leak reports, up to their SUMMARY line
	while ($text =~ /==\d+==ERROR: LeakSanitizer: detected memory leaks\n(.*?)(?=\nSUMMARY: AddressSanitizer|\z)/sg)
	{
		my $report = $1;
		$n{leak_reports}++;
		for my $blk (split /\n(?=(?:Direct|Indirect) leak of )/, $report)
		{
			next unless $blk =~ /^(?:Direct|Indirect) leak of/;
			$blk =~ s/\n\s*\n.*//s;
			next if canary_leak($blk);
			if (sanitizer_ours($blk, $lib))
			{
				$n{seqdist_leaks}++;
				push @show, "== $name ==\n$blk";
			}
			else { $n{other_leaks}++; }
		}
	}
}

sub scan_sanitizer
{
	my ($lib, $logdir, $stderr) = @_;
	$n{$_} = 0 for qw(asan_errors ubsan seqdist_leaks other_leaks leak_reports lsan_fatal
	  canary_overflow canary_leak canary_jansson canary_curl canary_ubsan);
	opendir(my $dh, $logdir) or die "$logdir: $!\n";
	scan_sanitizer_text($_, slurp("$logdir/$_"), $lib)
	  for sort grep { /^(asan|ubsan)\.\d+$/ } readdir $dh;
	scan_sanitizer_text('server stderr', slurp($stderr), $lib);
}

sub scan_valgrind
{
	my ($log) = @_;
	$n{$_} = 0 for qw(errors other_errors seqdist_leaks seqdist_possible other_leaks
	  canary_overflow canary_leak canary_jansson canary_curl);
	my $text = slurp($log);
	$text =~ s/^==\d+== ?//mg;
	for my $rec (split /\n\n+/, $text)
	{
		my $ours = $rec =~ /\((?:$srcs)\.c:\d+\)|\/seqdist\.so\)/;
		if ($rec =~ /^\S.* are (definitely|indirectly|possibly) lost in loss record/)
		{
			my $kind = $1;
			next if canary_leak($rec);
			if (!$ours)
			{
				$n{other_leaks}++;
				next;
			}
			if ($kind eq 'possibly')
			{
				$n{seqdist_possible}++;
				my @l = split /\n/, $rec;
				push @other, "POSSIBLY $l[0]", map { "POSSIBLY $_" } grep { /\((?:$srcs)\.c:\d+\)/ } @l;
				next;
			}
			$n{seqdist_leaks}++;
			push @show, $rec;
		}
		elsif ($rec =~ /^(Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|Argument .* of function|Jump to the invalid|Process terminating)/)
		{
			if ($rec =~ /memcheck_canary_overflow/ && $rec =~ /^Invalid read/)
			{
				$n{canary_overflow}++;
				next;
			}
			# uninitialised bytes that PostgreSQL itself passes around (WAL
			# padding written by XLogFlush, for one): not ours unless a seqdist
			# frame is on the stack or in the origin stack
			if ($rec =~ /^(Conditional jump|Use of uninitialised|Syscall param)/ && !$ours)
			{
				my ($first) = $rec =~ /^(.*)/;
				my ($fn) = $rec =~ /by 0x[0-9A-F]+: (\w+) /;
				$n{other_errors}++;
				push @other, "$first (in " . ($fn // '?') . ")";
				next;
			}
			$n{errors}++;
			push @show, $rec;
		}
	}
}

if ($mode eq 'sanitizer' && @args == 3) { scan_sanitizer(@args); }
elsif ($mode eq 'valgrind' && @args == 1) { scan_valgrind(@args); }
else { die "usage: scan.pl sanitizer SRCDIR LIB LOGDIR STDERR | valgrind SRCDIR LOG\n"; }

print "$_ $n{$_}\n" for sort keys %n;
print "OTHER $_\n" for @other;
print "REPORT\n$_\n" for @show;
