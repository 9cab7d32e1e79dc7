# A request in flight shows a wait event and stops promptly on query cancel,
# statement_timeout, backend termination and the request timeout; nothing is
# handed out twice afterwards.
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

# how long a stop may take, as the README states it (from sending the cancel
# to the client seeing the error, psql's own start included); the measured
# figures are printed as notes
my $prompt = 0.5;

my $dynamo = start_dynamo();
# one value per request, so that every call goes to DynamoDB
my $node = new_node('cancel', $dynamo, conf => "seqdist.block_size = 1\nseqdist.max_block_size = 1\nseqdist.refill = off\n");
$node->safe_psql('postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE SEQUENCE s;
	SELECT seqdist.register('s');
});
is($node->safe_psql('postgres', "SELECT seqdist.seqdist_nextval('s')"),
	'1', 'first value before any fault');

# Start a session whose request hangs; return the harness, outputs and pid.
sub hanging_session
{
	my ($settings) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[
			'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', $node->host,
			'-p', $node->port, '-d', 'postgres', '-c',
			"$settings SELECT seqdist.seqdist_nextval('s')"
		],
		'>', \$out, '2>', \$err);
	my $pid;
	ok( $node->poll_query_until(
			'postgres', q{
			SELECT count(*) = 1 FROM pg_stat_activity
			WHERE query LIKE '%seqdist_nextval%' AND pid <> pg_backend_pid()
			  AND wait_event_type = 'Extension' AND wait_event = 'Extension'}),
		'the in-flight request shows the Extension wait event');
	$pid = $node->safe_psql('postgres', q{
		SELECT pid FROM pg_stat_activity
		WHERE query LIKE '%seqdist_nextval%' AND pid <> pg_backend_pid()});
	return ($h, \$out, \$err, $pid);
}

dynamo_faults($dynamo, { target => 'UpdateItem', mode => 'hang' });

# query cancel
{
	my ($h, $out, $err, $pid) =
	  hanging_session("SET seqdist.request_timeout = '60s';");
	my $t0 = time;
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	$h->finish;
	my $took = time - $t0;
	note(sprintf('measured: pg_cancel_backend stopped the request in %.3f s', $took));
	cmp_ok($took, '<', $prompt, 'pg_cancel_backend stops the request promptly');
	like($$err, qr/canceling statement due to user request/,
		'the session reports the cancel');
}

# statement_timeout
{
	my ($h, $out, $err, $pid) = hanging_session(
		"SET seqdist.request_timeout = '60s'; SET statement_timeout = '1500ms';");
	# from the statement's start as the server saw it: psql's start is not
	# the statement's
	my $t0 = $node->safe_psql('postgres',
		"SELECT extract(epoch FROM query_start) FROM pg_stat_activity WHERE pid = $pid");
	$h->finish;
	my $took = time - $t0;
	note(sprintf('measured: statement_timeout of 1.5 s ended the statement after %.3f s', $took));
	cmp_ok($took, '<', 1.5 + $prompt, 'statement_timeout stops the request promptly');
	like($$err, qr/canceling statement due to statement timeout/,
		'the session reports the statement timeout');
}

# backend termination
{
	my ($h, $out, $err, $pid) =
	  hanging_session("SET seqdist.request_timeout = '60s';");
	my $t0 = time;
	$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
	$h->finish;
	my $took = time - $t0;
	note(sprintf('measured: pg_terminate_backend ended the session in %.3f s', $took));
	cmp_ok($took, '<', $prompt, 'pg_terminate_backend stops the request promptly');
	like($$err, qr/terminating connection due to administrator command/,
		'the session reports the termination');
}

# the request timeout itself, with retries
{
	my $t0 = time;
	my ($ret, $out, $err) = $node->psql('postgres', q{
		SET seqdist.request_timeout = '200ms';
		SET seqdist.max_attempts = 2;
		SET seqdist.retry_base_delay = '10ms';
		SELECT seqdist.seqdist_nextval('s');
	});
	my $took = time - $t0;
	note(sprintf('measured: two attempts of 200 ms failed after %.3f s', $took));
	isnt($ret, 0, 'a hanging endpoint makes seqdist_nextval fail');
	like($err, qr/could not reach DynamoDB.*\n.*UpdateItem failed after 2 attempt/,
		'the error says DynamoDB could not be reached and how often it was tried');
	cmp_ok($took, '<', 0.4 + 0.02 + $prompt, 'the failure takes about the request timeout');
}

dynamo_faults($dynamo);
is($node->safe_psql('postgres', "SELECT seqdist.seqdist_nextval('s')"),
	'2', 'after the hangs the next value follows on: none was handed out');
ok($node->log_contains('canceling statement due to user request'),
	'the server log has the cancel');
my %credentials = test_credentials();
unlike(PostgreSQL::Test::Utils::slurp_file($node->logfile),
	qr/\Q$credentials{AWS_SECRET_ACCESS_KEY}\E/, 'the server log holds no secret');

done_testing();
