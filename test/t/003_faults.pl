# A misbehaving DynamoDB: what is retried, what is not, what the errors say,
# and that no fault ever makes a value appear twice.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeqdistTest;

my $dynamo = start_dynamo();
my $node = new_node('faults', $dynamo,
	conf => "seqdist.retry_base_delay = '5ms'\nseqdist.max_attempts = 4\n"
	  . "seqdist.block_size = 1\nseqdist.max_block_size = 1\nseqdist.refill = off\n");
$node->safe_psql('postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE SEQUENCE s;
	SELECT seqdist.register('s');
	CREATE TABLE got (v bigint);
	CREATE FUNCTION take() RETURNS bigint LANGUAGE sql
		AS $$ INSERT INTO got VALUES (seqdist.seqdist_nextval('s')) RETURNING v $$;
});

sub update_items
{
	my $st = dynamo_stats($dynamo);
	return $st->{by_operation}{UpdateItem}{total} // 0;
}

# Run take() with a fault set; return (exit code, stdout, stderr, UpdateItem
# requests the proxy saw).
sub with_fault
{
	my ($rule, $sql) = @_;
	dynamo_reset($dynamo);
	dynamo_faults($dynamo, $rule) if $rule;
	my ($ret, $out, $err) = $node->psql('postgres', $sql // 'SELECT take()',
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	my $n = update_items();
	dynamo_faults($dynamo);
	return ($ret, $out, $err, $n);
}

my ($ret, $out, $err, $n);

# retryable faults that clear before the attempts run out: success
for my $mode (qw(http500 throttle throttling requestlimit reset down))
{
	($ret, $out, $err, $n) =
	  with_fault({ target => 'UpdateItem', mode => $mode, count => 2 });
	is($ret, 0, "$mode twice, then success: seqdist_nextval succeeds");
	is($n, 3, "$mode: two failed attempts and one good one");
}

# retryable faults that outlast the attempts: a clear error, class 08
($ret, $out, $err, $n) = with_fault({ target => 'UpdateItem', mode => 'throttle' });
like($err, qr/ERROR:  08006: DynamoDB is unavailable or throttling requests/,
	'persistent throttling: error 08006');
like($err, qr/DETAIL:  UpdateItem failed after 4 attempts: HTTP 400 ProvisionedThroughputExceededException/,
	'the detail names the AWS error type and the attempts');
is($n, 4, 'seqdist.max_attempts attempts were made');

($ret, $out, $err, $n) = with_fault({ target => 'UpdateItem', mode => 'http500' });
like($err, qr/ERROR:  08006: .*\n.*HTTP 500 InternalServerError/,
	'persistent 5xx: error 08006 with the remote error');

($ret, $out, $err, $n) = with_fault({ target => '*', mode => 'down' });
like($err, qr/ERROR:  08006: could not reach DynamoDB at "http:\/\/127\.0\.0\.1:\d+"/,
	'connection refused every time: could not reach DynamoDB');

# malformed answers are not trusted and not retried: nothing is handed out
($ret, $out, $err, $n) = with_fault({ target => 'UpdateItem', mode => 'malformed' });
like($err, qr/ERROR:  08P01: malformed response from DynamoDB to UpdateItem/,
	'a body that is not JSON: protocol violation');
is($n, 1, 'a malformed answer is not retried');

($ret, $out, $err, $n) = with_fault({ target => 'UpdateItem', mode => 'wrongshape' });
like($err, qr/ERROR:  08P01: malformed response from DynamoDB to UpdateItem/,
	'JSON of the wrong shape: protocol violation');

# a lost answer after the update applied: retried, the lost block is a gap
($ret, $out, $err, $n) =
  with_fault({ target => 'UpdateItem', mode => 'after_forward_reset', count => 1 });
is($ret, 0, 'an answer lost after the update applied is retried');
is($n, 2, 'one lost answer, one retry');

# a position outside the sequence's bounds in DynamoDB's answer: refused,
# nothing of that block is handed out
$node->safe_psql('postgres', q{
	CREATE SEQUENCE bounded MAXVALUE 100;
	SELECT seqdist.register('bounded');
});
($ret, $out, $err, $n) = with_fault(
	{
		target => 'UpdateItem', mode => 'wrongshape', count => 1,
		body => '{"Attributes":{"last_value":{"N":"150"}}}'
	},
	"SELECT seqdist.seqdist_nextval('bounded')");
like($err, qr/ERROR:  XX001: counter "postgres\.public\.bounded" returned a block outside the bounds of sequence "bounded"/,
	'an answered position beyond MAXVALUE: XX001, no value');
is($out, '', 'no value of that block was handed out');
is($node->safe_psql('postgres', "SELECT seqdist.seqdist_nextval('bounded')"), '1',
	'the next reservation starts where the counter really is');

# conditional check failures are answered, not retried blindly
$node->safe_psql('postgres', q{
	CREATE SEQUENCE tiny MAXVALUE 2;
	SELECT seqdist.register('tiny');
	SELECT seqdist.seqdist_nextval('tiny');
	SELECT seqdist.seqdist_nextval('tiny');
});
($ret, $out, $err, $n) =
  with_fault(undef, "SELECT seqdist.seqdist_nextval('tiny')");
like($err, qr/ERROR:  2200H: nextval: reached maximum value of sequence "tiny" \(2\)/,
	'an exhausted sequence fails with the native message and SQLSTATE');
is($n, 1, 'the conditional check failure was not retried');

# a validation error is not retried either (a counter key DynamoDB refuses)
$node->safe_psql('postgres', 'CREATE SEQUENCE big_key');
($ret, $out, $err, $n) = with_fault(undef,
	"SELECT seqdist.register('big_key', repeat('k', 1024) || 'x')");
like($err, qr/counter key must be between 1 and 1024 bytes long/,
	'an oversized counter key is refused');
is(dynamo_stats($dynamo)->{total}, 0, 'it is refused before any request');

# every value taken through all of this is distinct, and the values are
# increasing in the order they were taken
is($node->safe_psql('postgres', 'SELECT count(*) = count(DISTINCT v) FROM got'),
	't', 'no value was handed out twice');
my $values = $node->safe_psql('postgres', 'SELECT string_agg(v::text, \',\' ORDER BY ctid) FROM got');
my @v = split /,/, $values;
ok((grep { $v[$_] <= $v[ $_ - 1 ] } 1 .. $#v) == 0,
	"values increase in the order taken ($values)");
like($values, qr/^1,2,3,4,5,6,8$/, 'the lost answer left exactly one gap (7)');

done_testing();
