# Differential test: seqdist's functions against native sequences.
#
# For hundreds of generated sequence definitions, twin sequences with the same
# name are created in two schemas, nat.s_N and sd.s_N (so that every message,
# which names the sequence unqualified, is byte for byte the same), and sd.s_N
# is registered with seqdist.  One session runs a generated list of operations
# with the native functions on nat.s_N, another session runs the same list
# with seqdist.seqdist_* on sd.s_N.  Every result (the value, or the error's
# SQLSTATE and message) must be identical: the value streams, the bounds and
# CYCLE, currval, lastval and setval, in the same order, across definitions
# and transactions (each definition's operations run in their own transaction).
#
# Options (command line, or environment):
#   --seed N    SEQDIST_DIFF_SEED     the generator's seed, 0 <= N < 2^32
#                                     (default 20261123, the seed CI uses)
#   --count N   SEQDIST_DIFF_COUNT    at least this many valid definitions
#                                     (default 320)
#   --show N,.. SEQDIST_DIFF_SHOW     print these definitions' results even
#                                     when they match
#               SEQDIST_DIFF_SELFTEST=1  native functions on both sides, no
#                                     seqdist, no DynamoDB: checks the harness
# e.g.  prove -v test/t/010_differential.pl :: --seed 42
#
# A mismatch prints the seed, the CREATE SEQUENCE statement, the operations
# and both result lists side by side.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use Getopt::Long;
use Math::BigInt;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeqdistTest;

my $seed = $ENV{SEQDIST_DIFF_SEED} // 20261123;
my $want = $ENV{SEQDIST_DIFF_COUNT} // 320;
my $show = $ENV{SEQDIST_DIFF_SHOW} // '';
GetOptions('seed=s' => \$seed, 'count=i' => \$want, 'show=s' => \$show)
  or die "usage: $0 [--seed N] [--count N] [--show N,...]\n";
my %show = map { $_ => 1 } split /,/, $show;
die "--seed must be an integer in [0, 2^32)\n"
  unless $seed =~ /^\d+$/ && $seed < 4294967296;
my $selftest = $ENV{SEQDIST_DIFF_SELFTEST} ? 1 : 0;

note "seed $seed (rerun with --seed $seed or SEQDIST_DIFF_SEED=$seed)";
note "selftest mode: native functions on both sides" if $selftest;

#
# A small deterministic PRNG (xorshift64), independent of perl's rand(),
# seeded per definition from (seed, definition number), so that a definition
# and its operations can be reproduced on their own.
#
package DiffRng
{
	no warnings 'portable';

	sub new
	{
		my ($class, $seed, $stream) = @_;
		my $x = (($seed & 0xFFFFFFFF) << 32) | ($stream & 0xFFFFFFFF);
		$x ^= 0x9E3779B97F4A7C15;
		$x = 0x2545F4914F6CDD1D if $x == 0;
		my $self = bless { x => $x }, $class;
		$self->next for 1 .. 16;
		return $self;
	}

	sub next
	{
		my ($self) = @_;
		my $x = $self->{x};
		$x ^= $x << 13;
		$x ^= $x >> 7;
		$x ^= $x << 17;
		return $self->{x} = $x;
	}

	# uniform integer in [0, n), n small
	sub below { my ($self, $n) = @_; return ($self->next >> 11) % $n; }

	# true with probability p
	sub chance { my ($self, $p) = @_; return ($self->next >> 11) < $p * 2**53; }

	# uniform integer in [lo, hi] (small perl integers)
	sub between { my ($self, $lo, $hi) = @_; return $lo + $self->below($hi - $lo + 1); }

	sub pick { my ($self, @l) = @_; return $l[ $self->below(scalar @l) ]; }

	# uniform Math::BigInt in [lo, hi]
	sub big_between
	{
		my ($self, $lo, $hi) = @_;
		my $span = $hi - $lo + 1;
		my $r = Math::BigInt->new($self->next >> 1);
		$r = $r * Math::BigInt->new(2)**63 + Math::BigInt->new($self->next >> 1);
		return $lo + $r % $span;
	}
}

package main;

sub B { return Math::BigInt->new($_[0]); }

my $I64MAX = B('9223372036854775807');
my $I64MIN = B('-9223372036854775808');
my %TYPE = (
	bigint => [ $I64MIN, $I64MAX ],
	integer => [ B(-2147483648), B(2147483647) ],
	smallint => [ B(-32768), B(32767) ]);

# The effective parameters of a definition, with PostgreSQL's defaults.
sub effective
{
	my ($d) = @_;
	my ($tmin, $tmax) = @{ $TYPE{ $d->{type} // 'bigint' } };
	my $inc = $d->{inc};
	my $min = $d->{min} // ($inc > 0 ? B(1) : $tmin);
	my $max = $d->{max} // ($inc > 0 ? $tmax : B(-1));
	my $start = $d->{start} // ($inc > 0 ? $min : $max);
	return { inc => $inc, min => $min, max => $max, start => $start,
		cycle => $d->{cycle} };
}

# The options of CREATE SEQUENCE for a definition.
sub def_options
{
	my ($d) = @_;
	my @o;
	push @o, "AS $d->{type}" if defined $d->{type};
	push @o, "INCREMENT BY $d->{inc}" if $d->{inc} != 1 || $d->{say_inc};
	if (defined $d->{min}) { push @o, "MINVALUE $d->{min}"; }
	elsif ($d->{no_min}) { push @o, 'NO MINVALUE'; }
	if (defined $d->{max}) { push @o, "MAXVALUE $d->{max}"; }
	elsif ($d->{no_max}) { push @o, 'NO MAXVALUE'; }
	push @o, "START WITH $d->{start}" if defined $d->{start};
	push @o, "CACHE $d->{cache}" if defined $d->{cache};
	push @o, $d->{cycle} ? 'CYCLE' : ($d->{say_nocycle} ? 'NO CYCLE' : ());
	return join(' ', @o);
}

sub pick_type
{
	my ($r, $min, $max) = @_;
	for my $t (qw(smallint integer))
	{
		return $t
		  if $min >= $TYPE{$t}[0] && $max <= $TYPE{$t}[1] && $r->chance(0.12);
	}
	return $r->chance(0.1) ? 'bigint' : undef;
}

sub pick_cache { return $_[0]->pick(undef, 1, 1, 2, 3, 5, 10, 32, 1000); }

# A random start inside [min, max]: a bound, or anywhere.
sub pick_start
{
	my ($r, $min, $max) = @_;
	my $c = $r->below(10);
	return undef if $c < 2;    # the default
	return $min if $c == 2;
	return $max if $c == 3;
	return $r->big_between($min, $max);
}

# One generated definition (not always valid: CREATE decides).
sub gen_def
{
	my ($r) = @_;
	my %d = (cycle => 0);
	my $kind = $r->pick(qw(small small small small edge edge edge type type
		  bigstep bigstep generic generic));
	$d{kind} = $kind;
	if ($kind eq 'small')
	{
		# 2 to 10 values, somewhere near 0 or at an int64 limit
		my $count = $r->between(2, 10);
		my $c = $r->below(10);
		my $min =
		    $c < 7 ? B($r->between(-30, 30))
		  : $c < 8 ? $I64MAX - $count + 1
		  : $c < 9 ? $I64MIN
		  :          B($r->between(-3, 0));
		my $max = $min + $count - 1;
		my $step = $r->pick(1, 1, 1, 1, 2, 3, $count - 1, $count, $count + 1,
			7, 1000, 'max');
		$step = 1 if $step eq '0';
		my $up = $r->chance(0.55);
		$d{inc} =
		    $step eq 'max' ? ($up ? $I64MAX : $r->pick($I64MIN, -$I64MAX))
		  : ($up ? B($step) : B(0) - $step);
		@d{qw(min max)} = ($min, $max);
		$d{start} = pick_start($r, $min, $max);
		$d{type} = pick_type($r, $min, $max);
	}
	elsif ($kind eq 'edge' || $kind eq 'type')
	{
		# close to the limits of the type (or of an explicit bound there)
		$d{type} =
		  $kind eq 'edge'
		  ? $r->pick(undef, undef, 'bigint')
		  : $r->pick('integer', 'integer', 'smallint');
		my ($tmin, $tmax) = @{ $TYPE{ $d{type} // 'bigint' } };
		my $mag = $r->pick(1, 1, 2, 3, 7, 100, 65536, B(2)**31, B(2)**62, 'max');
		$mag = ($mag eq 'max') ? $tmax : B($mag);
		my $up = $r->chance(0.5);
		$d{inc} = $up ? $mag : ($r->chance(0.2) ? $tmin : -$mag);
		if ($up)
		{
			$d{max} = $r->chance(0.5) ? undef : $tmax - $r->between(0, 3);
			$d{min} = $r->pick(undef, undef, $tmin, B(-5), $tmax - 1000);
		}
		else
		{
			$d{min} = $r->chance(0.5) ? undef : $tmin + $r->between(0, 3);
			$d{max} = $r->pick(undef, undef, $tmax, B(5), $tmin + 1000);
		}
		$d{no_min} = !defined $d{min} && $r->chance(0.2);
		$d{no_max} = !defined $d{max} && $r->chance(0.2);
		my $e = effective(\%d);
		# start a few steps before the bound it runs towards
		my $k = $r->between(0, 6);
		my $jitter = B($r->between(0, 5));
		$jitter = $mag - 1 if $jitter >= $mag;
		my $s =
		  $up
		  ? $e->{max} - $mag * $k - $jitter
		  : $e->{min} + $mag * $k + $jitter;
		$s = $e->{min} if $s < $e->{min};
		$s = $e->{max} if $s > $e->{max};
		$d{start} = $r->chance(0.15) ? undef : $s;
		$d{cycle} = $r->chance(0.35);
	}
	elsif ($kind eq 'bigstep')
	{
		# increments close to, equal to or larger than the range
		my $min = B($r->between(-1000, 1000));
		my $size = $r->between(2, 500);
		my $max = $min + $size - 1;
		my $mag = $r->pick($size - 1, $size, $size + 1, 2 * $size, 1000000,
			'max');
		$mag = 1 if $mag eq '0';
		my $up = $r->chance(0.5);
		$d{inc} =
		    $mag eq 'max' ? ($up ? $I64MAX : $I64MIN)
		  : ($up ? B($mag) : B(0) - $mag);
		@d{qw(min max)} = ($min, $max);
		$d{start} = pick_start($r, $min, $max);
		$d{cycle} = $r->chance(0.5);
	}
	else
	{
		# anything: defaults, NO MINVALUE, wide random bounds
		$d{type} = $r->pick(undef, undef, undef, 'bigint', 'integer', 'smallint');
		my ($tmin, $tmax) = @{ $TYPE{ $d{type} // 'bigint' } };
		my $mag = $r->chance(0.5) ? 1 : $r->between(1, 100);
		$d{inc} = $r->chance(0.5) ? B($mag) : B(0) - $mag;
		$d{say_inc} = $r->chance(0.3);
		my $lim = $r->pick(B(50), B(30000), B(10)**6, B(10)**12, $tmax);
		$lim = $tmax if $lim > $tmax;
		my $c = $r->below(10);
		if ($c < 4) { $d{min} = $r->big_between(-$lim, $lim); }
		elsif ($c < 5) { $d{no_min} = 1; }
		$c = $r->below(10);
		if ($c < 4)
		{
			my $lo = defined $d{min} ? $d{min} + 1 : -$lim;
			$lo = -$lim if $lo > $lim;
			$d{max} = $r->big_between($lo, $lim);
		}
		elsif ($c < 5) { $d{no_max} = 1; }
		my $e = effective(\%d);
		$d{start} =
		  $e->{min} < $e->{max}
		  ? pick_start($r, $e->{min}, $e->{max})
		  : undef;
		$d{cycle} = $r->chance(0.3);
		$d{say_nocycle} = !$d{cycle} && $r->chance(0.3);
	}
	$d{cache} = pick_cache($r);
	return \%d;
}

#
# The operations for one definition.  A rough model of the sequence (the next
# value nextval would return) only aims the operations at the interesting
# places (the bounds, the wrap); it decides nothing: the native side does.
#
sub gen_ops
{
	my ($r, $n, $d, $alive) = @_;
	my $e = effective($d);
	my ($inc, $min, $max) = @{$e}{qw(inc min max)};
	my $name = "s_$n";
	my $p = $e->{start};    # next value, in the model
	my @ops;
	my $values = ($max - $min) / abs($inc) + 1;    # values in one cycle

	my $steps_left = sub {
		return $inc > 0
		  ? ($p > $max ? 0 : ($max - $p) / $inc + 1)
		  : ($p < $min ? 0 : ($p - $min) / (-$inc) + 1);
	};
	my $model_nextval = sub {
		return if ($inc > 0 ? $p > $max : $p < $min) && !$e->{cycle};
		$p = $p + $inc;
		if ($inc > 0 && $p > $max) { $p = $e->{cycle} ? $min : $p; }
		if ($inc < 0 && $p < $min) { $p = $e->{cycle} ? $max : $p; }
	};
	my $nextval_run = sub {
		my $left = $steps_left->();
		my $k;
		if ($left <= 20)
		{
			$k = $left + ($e->{cycle}
				? $r->between(1, $values < 8 ? $values + 1 : 8)
				: $r->between(1, 2));
		}
		else { $k = $r->between(1, 4); }
		$k = 25 if $k > 25;
		for (1 .. $k)
		{
			push @ops, [ 'nextval', $name ];
			$model_nextval->();
			push @ops, [ 'currval', $name ] if $r->chance(0.1);
			push @ops, ['lastval'] if $r->chance(0.1);
			# DDL on another sequence in between: no effect on this one
			push @ops, [ 'ddl', "t_$n" ] if $r->chance(0.02);
		}
	};
	my $setval = sub {
		my @in = ($min, $max, $e->{start}, $r->big_between($min, $max));
		push @in, $p if $p >= $min && $p <= $max;
		push @in, $min + abs($inc), $max - abs($inc)
		  if abs($inc) <= $max - $min;
		my @out;
		push @out, $min - 1, $min - $r->between(2, 100) if $min > $I64MIN + 100;
		push @out, $max + 1, $max + $r->between(2, 100) if $max < $I64MAX - 100;
		push @out, $I64MIN if $min > $I64MIN;
		push @out, $I64MAX if $max < $I64MAX;
		push @out, B(0) if $min > 0 || $max < 0;
		my $v =
		  (@out && $r->chance(0.3)) ? $r->pick(@out) : $r->pick(@in);
		my $form = $r->below(10);
		if ($form < 4) { push @ops, [ 'setval', $name, $v ]; }
		else { push @ops, [ 'setval', $name, $v, $form < 7 ? 't' : 'f' ]; }
		if ($v >= $min && $v <= $max)
		{
			$p = $v;
			$model_nextval->() if $form < 7;
		}
		push @ops, [ 'currval', $name ] if $r->chance(0.6);
		push @ops, ['lastval'] if $r->chance(0.5);
	};

	push @ops, [ 'currval', $name ] if $r->chance(0.4);
	push @ops, ['lastval'] if $r->chance(0.3);
	$setval->() if $r->chance(0.25);
	$nextval_run->();
	push @ops, [ 'currval', $name ] if $r->chance(0.7);
	push @ops, ['lastval'] if $r->chance(0.7);
	for (1 .. $r->between(1, 3))
	{
		last if @ops > 45;
		$setval->();
		$nextval_run->();
		push @ops, [ 'currval', $name ] if $r->chance(0.5);
		push @ops, ['lastval'] if $r->chance(0.5);
	}
	if (@$alive && $r->chance(0.2))
	{
		# the session's state of an earlier sequence
		my $other = 's_' . $r->pick(@$alive);
		push @ops, [ $r->pick('currval', 'currval', 'nextval'), $other ];
		push @ops, ['lastval'];
	}
	if ($r->chance(0.08))
	{
		# lastval once the sequence it refers to is gone
		push @ops, [ 'drop', $name ], ['lastval'];
	}
	return \@ops;
}

sub op_text
{
	my ($op) = @_;
	my ($f, $seq, $v, $flag) = @$op;
	return 'lastval()' if $f eq 'lastval';
	return "DROP SEQUENCE $seq" if $f eq 'drop';
	return "CREATE SEQUENCE $seq; DROP SEQUENCE $seq" if $f eq 'ddl';
	return "$f($seq)" if $f ne 'setval';
	return "setval($seq, $v)" unless defined $flag;
	return "setval($seq, $v, " . ($flag eq 't' ? 'true' : 'false') . ')';
}

#
# The cluster, the schemas, and the functions that run the operations.
#
my ($dynamo, $node);
if ($selftest)
{
	$node = new_node('diff', undef, preload => 0);
}
else
{
	$dynamo = start_dynamo();
	$node = new_node('diff', $dynamo);
	$node->safe_psql('postgres',
		'CREATE EXTENSION seqdist; SELECT seqdist.create_table();');
}
$node->safe_psql('postgres', q{
CREATE SCHEMA nat;
CREATE SCHEMA sd;
CREATE SCHEMA diff;
CREATE TABLE diff.ops (def int, pos int, op text, seq text, arg bigint, flag boolean,
                       PRIMARY KEY (def, pos));
CREATE TABLE diff.res (side text, def int, pos int, result text);

-- Create nat.<name> and sd.<name>, register sd.<name>.  'ok', or why not.
CREATE FUNCTION diff.setup(name text, opts text, key text, do_register boolean)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text;
    msg text;
BEGIN
    BEGIN
        EXECUTE format('CREATE SEQUENCE nat.%I %s', name, opts);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        RETURN 'invalid ' || st || ': ' || msg;
    END;
    BEGIN
        EXECUTE format('CREATE SEQUENCE sd.%I %s', name, opts);
        IF do_register THEN
            PERFORM seqdist.register(format('sd.%I', name)::regclass, key);
        END IF;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        RETURN 'setup failed ' || st || ': ' || msg;
    END;
    RETURN 'ok';
END $$;

-- Run the operations of definitions lo..hi on schema sch with the functions
-- <prefix>nextval, <prefix>currval, <prefix>lastval, <prefix>setval; one
-- transaction per definition; each result goes to diff.res.
CREATE PROCEDURE diff.run(prefix text, sch text, lo int, hi int)
LANGUAGE plpgsql AS $$
DECLARE
    d int;
    o record;
    v bigint;
    res text;
    st text;
    msg text;
BEGIN
    FOR d IN SELECT DISTINCT def FROM diff.ops WHERE def BETWEEN lo AND hi ORDER BY def
    LOOP
        FOR o IN SELECT * FROM diff.ops WHERE def = d ORDER BY pos
        LOOP
            BEGIN
                CASE o.op
                WHEN 'nextval', 'currval' THEN
                    EXECUTE format('SELECT %s%s($1)', prefix, o.op) INTO v
                        USING format('%I.%I', sch, o.seq)::regclass;
                WHEN 'lastval' THEN
                    EXECUTE format('SELECT %slastval()', prefix) INTO v;
                WHEN 'setval' THEN
                    IF o.flag IS NULL THEN
                        EXECUTE format('SELECT %ssetval($1, $2)', prefix) INTO v
                            USING format('%I.%I', sch, o.seq)::regclass, o.arg;
                    ELSE
                        EXECUTE format('SELECT %ssetval($1, $2, $3)', prefix) INTO v
                            USING format('%I.%I', sch, o.seq)::regclass, o.arg, o.flag;
                    END IF;
                WHEN 'drop' THEN
                    EXECUTE format('DROP SEQUENCE %I.%I', sch, o.seq);
                WHEN 'ddl' THEN
                    EXECUTE format('CREATE SEQUENCE %I.%I', sch, o.seq);
                    EXECUTE format('DROP SEQUENCE %I.%I', sch, o.seq);
                END CASE;
                res := CASE WHEN o.op IN ('drop', 'ddl') THEN 'done'
                            ELSE 'value ' || coalesce(v::text, 'NULL') END;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
                res := 'ERROR ' || st || ': ' || replace(msg, E'\n', '\n');
            END;
            INSERT INTO diff.res VALUES (sch, d, o.pos, res);
        END LOOP;
        COMMIT;
    END LOOP;
END $$;
});

sub quote_lit { my $s = shift; $s =~ s/'/''/g; return "'$s'"; }

#
# Generate definitions until enough of them are valid.  Each candidate's
# validity is decided by CREATE SEQUENCE itself; invalid ones are skipped.
#
my (@defs, %invalid_by_state);
my $t0 = time;
for (my $n = 1; @defs < $want; )
{
	my @chunk;
	for (1 .. 100)
	{
		my $r = DiffRng->new($seed, $n);
		my $d = gen_def($r);
		push @chunk, { n => $n, d => $d, r => $r, opts => def_options($d) };
		$n++;
	}
	my $sql = "SELECT v.n, diff.setup(v.name, v.opts, v.key, "
	  . ($selftest ? 'false' : 'true')
	  . ") FROM (VALUES "
	  . join(",\n",
		map { "($_->{n}, 's_$_->{n}', " . quote_lit($_->{opts}) . ", 'diff-$seed-$_->{n}')" }
		  @chunk)
	  . ") v(n, name, opts, key) ORDER BY v.n";
	my %res = map { split /\|/, $_, 2 } split /\n/, $node->safe_psql('postgres', $sql);
	for my $c (@chunk)
	{
		my $st = $res{ $c->{n} } // 'no answer';
		if ($st eq 'ok') { push @defs, $c; }
		elsif ($st =~ /^invalid (\w+)/)
		{
			note "skipped: CREATE SEQUENCE s_$c->{n} $c->{opts}: $st"
			  if ++$invalid_by_state{$1} <= 3;
		}
		else
		{
			fail("definition $c->{n}: setup (create twin, register)");
			diag("seed $seed, CREATE SEQUENCE s_$c->{n} $c->{opts}\n  $st");
		}
	}
}
my $invalid = 0;
$invalid += $_ for values %invalid_by_state;
note sprintf('%d valid definitions, %d invalid candidates skipped (%s), setup %ds',
	scalar @defs, $invalid,
	join(', ', map { "$_: $invalid_by_state{$_}" } sort keys %invalid_by_state),
	time - $t0);

# the operations, in the order the definitions were made
my @alive;
my @rows;
for my $c (@defs)
{
	$c->{ops} = gen_ops($c->{r}, $c->{n}, $c->{d}, \@alive);
	my $dropped = grep { $_->[0] eq 'drop' } @{ $c->{ops} };
	push @alive, $c->{n} unless $dropped;
	my $pos = 0;
	for my $op (@{ $c->{ops} })
	{
		my ($f, $seq, $v, $flag) = @$op;
		push @rows, sprintf("(%d, %d, '%s', %s, %s, %s)", $c->{n}, ++$pos, $f,
			defined $seq ? "'$seq'" : 'NULL', defined $v ? "'$v'" : 'NULL',
			defined $flag ? "'$flag'" : 'NULL');
	}
}
$node->safe_psql('postgres', 'INSERT INTO diff.ops VALUES ' . join(",\n", @rows));
note scalar(@rows) . ' operations';

#
# Two sessions, native and seqdist, each running every definition in order
# (one long-lived psql each; with an older PostgreSQL::Test::Cluster that
# lacks background_psql, one psql per batch on each side instead: lastval
# then starts afresh with each batch, on both sides alike).
#
my @sides = (
	{ sch => 'nat', prefix => '', init => [] },
	{
		sch => 'sd',
		prefix => $selftest ? '' : 'seqdist.seqdist_',
		init => $selftest ? [] : ['SET seqdist.allow_rewind = on']
	});
my $persistent = $node->can('background_psql') ? 1 : 0;
note 'one psql session per side for the whole run' if $persistent;
note 'no background_psql: one psql per side per batch' unless $persistent;

# run SQL on a side; returns its stderr ('' when all went well)
sub side_sql
{
	my ($side, $sql) = @_;
	if ($persistent)
	{
		my $s = $side->{session};
		$s->{stderr} = '';
		my ($out, $err) = $s->query($sql);
		return $err ? ($s->{stderr} || 'error') : '';
	}
	my ($ret, $out, $err) =
	  $node->psql('postgres', join(";\n", @{ $side->{init} }, $sql));
	return $ret == 0 ? '' : ($err || "psql exit code $ret");
}

for my $side (@sides)
{
	next unless $persistent;
	$side->{session} = $node->background_psql('postgres', on_error_stop => 0);
	$side->{session}->set_query_timer_restart();
	for my $sql (@{ $side->{init} })
	{
		my $err = side_sql($side, $sql);
		is($err, '', "$side->{sch} session: $sql");
	}
}
my %elapsed = (nat => 0, sd => 0);
my $batch = 40;
for (my $i = 0; $i < @defs; $i += $batch)
{
	my $lo = $defs[$i]{n};
	my $hi = $defs[ $i + $batch - 1 < $#defs ? $i + $batch - 1 : $#defs ]{n};
	for my $side (@sides)
	{
		my $t = time;
		my $err = side_sql($side,
			"CALL diff.run('$side->{prefix}', '$side->{sch}', $lo, $hi)");
		$elapsed{ $side->{sch} } += time - $t;
		diag("CALL diff.run on $side->{sch} for definitions $lo..$hi failed: $err")
		  if $err ne '';
	}
}
$_->{session} && $_->{session}->quit for @sides;
note "run time: native session $elapsed{nat}s, seqdist session $elapsed{sd}s";

#
# Compare, definition by definition.
#
my %res;
for my $line (split /\n/,
	$node->safe_psql('postgres', 'SELECT side, def, pos, result FROM diff.res'))
{
	my ($side, $def, $pos, $result) = split /\|/, $line, 4;
	$res{$side}{$def}[ $pos - 1 ] = $result;
}

my %coverage;
my $label_sd = $selftest ? 'native (sd, selftest)' : 'seqdist';
for my $c (@defs)
{
	my $ops = $c->{ops};
	my $nat_res = $res{nat}{ $c->{n} } // [];
	my $sd_res = $res{sd}{ $c->{n} } // [];
	my @bad =
	  grep { ($nat_res->[$_] // '<missing>') ne ($sd_res->[$_] // '<missing>') }
	  0 .. $#$ops;
	for my $x (@$nat_res)
	{
		next unless defined $x;
		$coverage{ $x =~ /^ERROR (\w+)/ ? "error $1" : 'value' }++;
	}
	if ($c->{d}{cycle})
	{
		# a nextval that returned the bound it starts over from, after
		# another nextval of this definition succeeded: a wrap
		my $e = effective($c->{d});
		my $restart = 'value ' . ($e->{inc} > 0 ? $e->{min} : $e->{max});
		my $seen = 0;
		for my $j (0 .. $#$ops)
		{
			next unless $ops->[$j][0] eq 'nextval' && $ops->[$j][1] eq "s_$c->{n}";
			my $x = $nat_res->[$j] // '';
			$coverage{'wrap (CYCLE)'}++ if $seen && $x eq $restart;
			$seen = 1 if $x =~ /^value/;
		}
	}
	my $ok = ok(!@bad && @$nat_res == @$ops,
		sprintf('definition %d (%s): %d operations give identical results',
			$c->{n}, $c->{d}{kind}, scalar @$ops));
	next if $ok && !$show{ $c->{n} };
	# identical results once, different ones side by side
	my $text = "seed $seed, definition $c->{n} (rerun: --seed $seed --show $c->{n})\n"
	  . "CREATE SEQUENCE s_$c->{n} $c->{opts}\n"
	  . sprintf("   %3s  %-42s %s\n", '#', 'operation',
		"result (native | $label_sd where they differ)");
	for my $j (0 .. $#$ops)
	{
		my ($x, $y) =
		  ($nat_res->[$j] // '<missing>', $sd_res->[$j] // '<missing>');
		$text .= sprintf(" %s %3d  %-42s %s\n", $x eq $y ? ' ' : '*', $j + 1,
			op_text($ops->[$j]), $x eq $y ? $x : "$x | $y");
	}
	$ok ? note($text) : diag($text);
}

note 'results seen on the native side: '
  . join(', ', map { "$_: $coverage{$_}" } sort keys %coverage);
my $min_defs = $want < 300 ? $want : 300;
cmp_ok(scalar @defs, '>=', $min_defs,
	"at least $min_defs definitions were compared");
ok(($coverage{'error 2200H'} // 0) >= 50 && ($coverage{'error 22003'} // 0) >= 20
	  && ($coverage{'error 55000'} // 0) >= 20 && ($coverage{'wrap (CYCLE)'} // 0) >= 20,
	'the operations reached the bounds, wrapped, and hit every error class')
  or diag(explain \%coverage);

done_testing();
