# Secrets: the credential settings can be set only with SET in a session
# (never stored in a configuration file or a catalog), no log line shows a
# secret (statement text included), remote text reaches a DETAIL redacted
# before it is cut short and with its control characters escaped, the
# shared credentials file is read whole and no copy of its secret stays in
# the backend's memory.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Temp qw(tempdir);
use SeqdistTest;

my %good = test_credentials();
my %temp = temporary_credentials();
my $dynamo = start_dynamo(temporary => 1);
my @no_env = no_credentials();
my @settings = qw(aws_access_key_id aws_secret_access_key aws_session_token);

# the secrets this test tries to store, each of them distinct
my %planted = map { $_ => "planted-\U$_\E-0123456789" }
  qw(system role database role_db function conf stmt_error stmt_syntax activity);

# one value per request, so that every call shows the credentials at work
my $node = new_node(
	'secrets', $dynamo,
	conf => "seqdist.block_size = 1\nseqdist.max_block_size = 1\nseqdist.refill = off\n"
	  . "include_if_exists 'secrets.conf'\n",
	env => \%temp);
$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE SEQUENCE s;
	SELECT seqdist.register('s', 'secrets-test');
	CREATE ROLE app LOGIN;
});
my $take = "SELECT seqdist.seqdist_nextval('s') > 0";

sub psql_verbose
{
	my ($sql) = @_;
	my ($ret, $out, $err) =
	  $node->psql('postgres', $sql, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return $err;
}

# ALTER SYSTEM would write the secret to postgresql.auto.conf, and a reload
# would log "parameter ... changed to ..." with it
for my $name (@settings)
{
	like(
		psql_verbose("ALTER SYSTEM SET seqdist.$name = '$planted{system}'"),
		qr/ERROR:  55P02: parameter "seqdist\.$name" cannot be changed/,
		"ALTER SYSTEM SET seqdist.$name is refused with 55P02");
}
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
is( $node->safe_psql(
		'postgres', "SELECT count(*) FROM pg_file_settings WHERE name LIKE 'seqdist.aws%'"),
	'0',
	'no credential setting in any configuration file');

# ALTER ROLE / DATABASE ... SET would store it in pg_db_role_setting, which
# everyone can read (pg_roles.rolconfig)
my %catalog_set = (
	role => 'ALTER ROLE app SET',
	database => 'ALTER DATABASE postgres SET',
	role_db => 'ALTER ROLE app IN DATABASE postgres SET');
for my $how (sort keys %catalog_set)
{
	like(
		psql_verbose("$catalog_set{$how} seqdist.aws_secret_access_key = '$planted{$how}'"),
		qr/ERROR:  55P02: parameter "seqdist\.aws_secret_access_key" can only be set with SET in a session/,
		"$catalog_set{$how} seqdist.aws_secret_access_key is refused with 55P02");
}
like(
	psql_verbose(
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql SET seqdist.aws_session_token = '$planted{function}' AS 'SELECT 1'"
	),
	qr/ERROR:  55P02: parameter "seqdist\.aws_session_token" can only be set with SET in a session/,
	'a function SET clause (stored in pg_proc) is refused with 55P02');
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM pg_db_role_setting s, unnest(s.setconfig) c WHERE c LIKE 'seqdist.aws%'}
	),
	'0',
	'no credential in pg_db_role_setting');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_roles WHERE rolconfig IS NOT NULL}),
	'0', 'no credential in pg_roles.rolconfig');
# (where one was stored nevertheless, take it away for the rest of the test)
$node->safe_psql(
	'postgres', q{
	ALTER SYSTEM RESET ALL;
	ALTER ROLE app RESET ALL;
	ALTER DATABASE postgres RESET ALL;
	ALTER ROLE app IN DATABASE postgres RESET ALL;
	DROP FUNCTION IF EXISTS f();
	SELECT pg_reload_conf();
});

# the configuration file: refused at reload and at start, never applied
PostgreSQL::Test::Utils::append_to_file($node->data_dir . '/secrets.conf',
	"seqdist.aws_access_key_id = 'AKIDFROMCONF'\nseqdist.aws_secret_access_key = '$planted{conf}'\n");
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
ok( $node->poll_query_until(
		'postgres',
		q{SELECT count(*) > 0 FROM pg_file_settings WHERE name = 'seqdist.aws_secret_access_key' AND NOT applied}
	),
	'a credential in the configuration file is not applied at reload (pg_file_settings)');
is($node->safe_psql('postgres', q{SELECT current_setting('seqdist.aws_secret_access_key')}),
	'', 'a credential in the configuration file is not applied at reload');
{
	# restart with the node's own environment, not this script's
	local %ENV = (%ENV, %temp);
	$node->restart;
}
is($node->safe_psql('postgres', q{SELECT current_setting('seqdist.aws_secret_access_key')}),
	'', 'nor at server start');
unlink $node->data_dir . '/secrets.conf';
$node->reload;
is($node->safe_psql('postgres', $take), 't', 'the server serves values after refusing it');

# SET in a session still works, and overrides the environment
is( $node->safe_psql(
		'postgres',
		"SET seqdist.aws_access_key_id = '$good{AWS_ACCESS_KEY_ID}';
		 SET seqdist.aws_secret_access_key = '$good{AWS_SECRET_ACCESS_KEY}';
		 $take"),
	't',
	'credentials set with SET in a session are used');
like(
	psql_verbose(
		"SET seqdist.aws_access_key_id = '$good{AWS_ACCESS_KEY_ID}';
		 SET seqdist.aws_secret_access_key = 'not-the-secret';
		 $take"),
	qr/ERROR:  28000: DynamoDB rejected seqdist's credentials/,
	'a wrong secret set with SET is what the request is signed with');

# statements that carry a secret, failing after it or failing to parse: the
# STATEMENT: line of the error (and log_statement) would print them
# (psql sends statements joined by \; as one query string)
like(psql_verbose("SET seqdist.aws_secret_access_key = '$planted{stmt_error}' \\; SELECT 1/0"),
	qr/ERROR:  22012: division by zero/,
	'an error in a query string that sets a credential');
like(
	psql_verbose("SET seqdist.aws_secret_access_key = '$planted{stmt_syntax}' junk"),
	qr/ERROR:  42601: syntax error/,
	'a SET with a syntax error is a syntax error');

# pg_stat_activity shows other sessions' statements to pg_read_all_stats
my $bg = $node->background_psql('postgres', on_error_stop => 0);
$bg->query_until(qr/started/,
	"\\echo started\nSET seqdist.aws_session_token = '$planted{activity}' \\; SELECT pg_sleep(60);\n");
ok( $node->poll_query_until(
		'postgres',
		q{SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep'}),
	'the session that set a credential is running');
my $activity = $node->safe_psql('postgres',
	q{SELECT query FROM pg_stat_activity WHERE wait_event = 'PgSleep'});
unlike($activity, qr/\Q$planted{activity}\E/,
	'pg_stat_activity does not show a statement that sets a credential');
$node->safe_psql('postgres',
	q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep'});
$bg->quit;

# remote text: the session token 170 bytes into an answer that is cut at 200
# bytes, and control characters that would forge a log line
my $forged = "\nLOG:  forged line from the endpoint\e[31m";
dynamo_faults(
	$dynamo,
	{
		target => 'UpdateItem',
		mode => 'malformed',
		count => 1,
		body => ('x' x 170) . $temp{AWS_SESSION_TOKEN} . $forged
	});
my $err = psql_verbose($take);
like($err, qr/ERROR:  08P01: malformed response from DynamoDB/, 'a malformed answer: 08P01');
unlike($err, qr/\Q${\ substr($temp{AWS_SESSION_TOKEN}, 0, 8)}\E/,
	'no part of the session token in the DETAIL, although the quote is cut short');
unlike($err, qr/^LOG:  forged|\e/m, 'no control character of the answer in the DETAIL');
like($err, qr/\\x0aLOG:/, 'control characters are shown escaped');
dynamo_faults(
	$dynamo,
	{
		target => 'UpdateItem',
		mode => 'http500',
		body => qq({"__type":"x#Odd\\nType","message":"token $temp{AWS_SESSION_TOKEN}\\nLOG:  forged"})
	});
$err = psql_verbose($take);
like($err, qr/ERROR:  08006: DynamoDB is unavailable/, 'an error answer: 08006');
unlike($err, qr/\Q$temp{AWS_SESSION_TOKEN}\E/, 'the token echoed in an error message is redacted');
unlike($err, qr/^(LOG:  forged|Type)/m, 'no control character of an error answer in the DETAIL');
dynamo_faults($dynamo);

# the shared credentials file: a line longer than 4,095 characters is one
# line (a comment here), its tail is not read as a line of its own
my $dir = tempdir(DIR => $PostgreSQL::Test::Utils::tmp_check, CLEANUP => 1);
PostgreSQL::Test::Utils::append_to_file(
	"$dir/credentials",
	"[default]\n"
	  . "aws_access_key_id = $good{AWS_ACCESS_KEY_ID}\n"
	  . "aws_secret_access_key = $good{AWS_SECRET_ACCESS_KEY}\n"
	  . '#' . ('x' x 4094) . "aws_secret_access_key = wrong-secret-from-a-tail\n");
my $file_node = new_node(
	'file', $dynamo,
	conf => "seqdist.block_size = 1\nseqdist.max_block_size = 1\nseqdist.refill = off\n",
	env => { @no_env, AWS_SHARED_CREDENTIALS_FILE => "$dir/credentials" });
$file_node->safe_psql('postgres',
	"CREATE EXTENSION seqdist; CREATE SEQUENCE s; SELECT seqdist.register('s', 'secrets-test')");
is($file_node->safe_psql('postgres', $take),
	't', 'a line longer than 4,095 characters is not split into two');

# no copy of the file's secret stays in the backend's memory after requests
# (the file is read into a buffer that is wiped, not through stdio)
my $bg2 = $file_node->background_psql('postgres');
my $pid = $bg2->query_safe("SELECT pg_backend_pid()");
$bg2->query_safe("$take; $take; $take");
my $copies = count_in_memory($pid, $good{AWS_SECRET_ACCESS_KEY});
is($copies, 0, 'no copy of the secret in the memory of a backend that used the file');
$bg2->quit;

# a file too big to be a credentials file: a clear error, nothing read
my $comment = '#' . ('y' x 1023) . "\n";
PostgreSQL::Test::Utils::append_to_file("$dir/credentials", $comment x 1100);
my ($ret, $out, $ferr) = $file_node->psql('postgres', $take,
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like(
	$ferr,
	qr/ERROR:  F0000: shared credentials file ".*" is too large/,
	'a credentials file over 1 MB: F0000 and a clear message');

# no secret in any server log: not in a LOG line about settings, not in the
# STATEMENT: line of an error, not in log_statement (on in test clusters)
for my $n ($node, $file_node)
{
	my $log = PostgreSQL::Test::Utils::slurp_file($n->logfile);
	for my $secret (values %planted, $good{AWS_SECRET_ACCESS_KEY},
		$temp{AWS_SECRET_ACCESS_KEY}, $temp{AWS_SESSION_TOKEN}, 'not-the-secret')
	{
		unlike($log, qr/\Q$secret\E/, "no \"$secret\" in the log of " . $n->name);
	}
	unlike($log, qr/^LOG:  forged/m, 'no forged line in the log of ' . $n->name);
}

done_testing();

# How many times $needle occurs in the private memory of process $pid.
sub count_in_memory
{
	my ($pid, $needle) = @_;
	my $count = 0;
	open(my $maps, '<', "/proc/$pid/maps") or die "/proc/$pid/maps: $!";
	open(my $mem, '<:raw', "/proc/$pid/mem") or die "/proc/$pid/mem: $!";
	while (my $line = <$maps>)
	{
		my ($from, $to, $perms) = $line =~ /^([0-9a-f]+)-([0-9a-f]+) (\S+)/ or next;
		next unless $perms =~ /^rw.p/;
		my ($start, $len) = (hex($from), hex($to) - hex($from));
		next if $len > 512 * 1024 * 1024;
		my $buf = '';
		sysseek($mem, $start, 0) or next;
		my $got = sysread($mem, $buf, $len);
		next unless $got;
		my $at = 0;
		while (($at = index($buf, $needle, $at)) >= 0) { $count++; $at++; }
	}
	return $count;
}
