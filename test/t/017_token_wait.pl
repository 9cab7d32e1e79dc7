# Waiters for a slot's fetching token wait no longer than its holder's
# settings allow: the longest DynamoDB call they permit (request_timeout x
# max_attempts, plus backoff) plus a margin.  Past that, a waiter whose
# holder is still there gets 55P03 instead of waiting on.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);
use SeqdistTest;

my $dynamo = start_dynamo();
my $node = new_node('token_wait', $dynamo,
	conf => "seqdist.refill = off\nseqdist.block_size = 1\nseqdist.max_block_size = 1\n");
$node->safe_psql('postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE SEQUENCE w CACHE 1;
	SELECT seqdist.register('w');
});
is($node->safe_psql('postgres', "SELECT seqdist.seqdist_nextval('w')"), '1',
	'the sequence hands out values before any fault');

# The holder moves the counter: a consistent read, then a conditional
# write, both under the token.  Its settings allow one call 3 s x 2
# attempts plus 5 ms of backoff, so waiters wait at most 6.005 s + 1 s.
# Its read hangs once and is then slow, and so is its write: it holds the
# token for about 11 s, longer than its settings allow for one call.
my $bound = 3 * 2 + 0.005 + 1;
dynamo_faults($dynamo,
	{ target => 'GetItem', mode => 'hang', count => 1 },
	{ target => 'GetItem', mode => 'delay', ms => 2500, count => 1 },
	{ target => 'UpdateItem', mode => 'hang', count => 1 },
	{ target => 'UpdateItem', mode => 'delay', ms => 2500, count => 1 });

sub session
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[
			'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose',
			'-h', $node->host, '-p', $node->port, '-d', 'postgres', '-c', $sql
		],
		'>', \$out, '2>', \$err);
	return ($h, \$out, \$err);
}

# Wait until the one session calling function has a request in flight; its pid
sub in_flight
{
	my ($function, $name) = @_;
	my $where = "query LIKE '%$function%' AND pid <> pg_backend_pid()";
	ok( $node->poll_query_until(
			'postgres', "SELECT count(*) = 1 FROM pg_stat_activity
			 WHERE $where AND wait_event_type = 'Extension'"),
		$name);
	return $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE $where");
}

my $t0 = time;
my ($holder, $holder_out, $holder_err) = session(q{
	SET seqdist.request_timeout = '3s'; SET seqdist.max_attempts = 2;
	SET seqdist.retry_base_delay = '5ms'; SET seqdist.retry_max_delay = '5ms';
	SELECT seqdist.seqdist_setval('w', 100)});
my $holder_pid = in_flight('seqdist_setval', 'the holder has a request in flight');

my ($waiter, $waiter_out, $waiter_err) = session("SELECT seqdist.seqdist_nextval('w')");
$waiter->finish;
my $waited = time - $t0;
my $holder_running = $node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE pid = $holder_pid AND state = 'active'");
note(sprintf('measured: the waiter gave up %.3f s after the holder started (bound %.3f s)',
	$waited, $bound));
like($$waiter_err, qr/ERROR:  55P03: gave up waiting for process $holder_pid, which is reserving a block of counter "[^"]*w"/,
	'the waiter gets 55P03 naming the holder');
like($$waiter_err, qr/seqdist\.request_timeout times seqdist\.max_attempts/,
	'the error says which settings bound the wait');
cmp_ok($waited, '<', $bound + 1.5, 'the waiter gives up within the bound');
cmp_ok($waited, '>', $bound - 0.5, 'the waiter waited for the holder until the bound');
is($holder_running, '1', 'the holder was still reserving when the waiter gave up');

$holder->finish;
is($?, 0, 'the holder, slow as it was, completes its move') or diag($$holder_err);
dynamo_faults($dynamo);
is($node->safe_psql('postgres', "SELECT seqdist.seqdist_nextval('w')"), '101',
	'values go on from the holder\'s move');

# A holder within its settings is waited for: a slow read and write
is($node->safe_psql('postgres', "SELECT seqdist.seqdist_setval('w', 200)"), '200', 'reset');
dynamo_faults($dynamo,
	{ target => 'UpdateItem', mode => 'delay', ms => 1500, count => 1 });
($holder, $holder_out, $holder_err) = session(q{
	SET seqdist.request_timeout = '2s'; SET seqdist.max_attempts = 1;
	SELECT seqdist.seqdist_nextval('w')});
in_flight('seqdist_nextval', 'a second holder has a slow request in flight');
($waiter, $waiter_out, $waiter_err) = session("SELECT seqdist.seqdist_nextval('w')");
$waiter->finish;
is($?, 0, 'a waiter behind a holder within its bound gets its value') or diag($$waiter_err);
$holder->finish;
is($?, 0, 'and so does the holder') or diag($$holder_err);
my @got = sort { $a <=> $b } (${$holder_out} =~ /(\d+)/, ${$waiter_out} =~ /(\d+)/);
is("@got", '201 202', 'the two got distinct values, one each');

done_testing();
