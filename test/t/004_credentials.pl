# Where credentials come from (environment, shared credentials file with a
# profile, settings, session tokens), what happens without any, and that no
# secret ever reaches a message or the server log.
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

my $setup = q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE SEQUENCE s;
	SELECT seqdist.register('s', 'credentials-test');
};
my $take = "SELECT seqdist.seqdist_nextval('s') > 0";

# environment (the default for test nodes)
my $env_node = new_node('env', $dynamo);
$env_node->safe_psql('postgres', $setup);
is($env_node->safe_psql('postgres', $take), 't', 'credentials from the environment');
is( $env_node->safe_psql(
		'postgres',
		"SELECT detail FROM seqdist.health() WHERE check_name = 'credentials'"),
	'from environment, accepted',
	'health says where the credentials came from');

# shared credentials file, profile chosen by AWS_PROFILE
my $dir = tempdir(DIR => $PostgreSQL::Test::Utils::tmp_check, CLEANUP => 1);
PostgreSQL::Test::Utils::append_to_file(
	"$dir/credentials",
	"[default]\n"
	  . "aws_access_key_id = AKIDWRONGDEFAULT0\n"
	  . "aws_secret_access_key = wrong-default-secret\n\n"
	  . "# the profile seqdist should use\n"
	  . "[ seqdist ]\n"
	  . "aws_access_key_id=$good{AWS_ACCESS_KEY_ID}\n"
	  . "aws_secret_access_key = $good{AWS_SECRET_ACCESS_KEY}\n");
my $file_node = new_node(
	'file', $dynamo,
	env => {
		@no_env,
		AWS_SHARED_CREDENTIALS_FILE => "$dir/credentials",
		AWS_PROFILE => 'seqdist'
	});
$file_node->safe_psql('postgres', $setup);
is($file_node->safe_psql('postgres', $take),
	't', 'credentials from the shared credentials file, AWS_PROFILE selects the profile');

# ~/.aws/credentials of the server's user, default profile
my $home = tempdir(DIR => $PostgreSQL::Test::Utils::tmp_check, CLEANUP => 1);
mkdir "$home/.aws";
PostgreSQL::Test::Utils::append_to_file("$home/.aws/credentials",
	    "[default]\naws_access_key_id = $good{AWS_ACCESS_KEY_ID}\n"
	  . "aws_secret_access_key = $good{AWS_SECRET_ACCESS_KEY}\n");
my $home_node = new_node('home', $dynamo, env => { @no_env, HOME => $home });
$home_node->safe_psql('postgres', $setup);
is($home_node->safe_psql('postgres', $take),
	't', 'credentials from ~/.aws/credentials, default profile');

# temporary credentials: the session token is sent and signed
my $token_node = new_node(
	'token', $dynamo,
	# one value per request, so that every call shows the credentials at work
	conf => "seqdist.block_size = 1\nseqdist.max_block_size = 1\nseqdist.refill = off\n",
	env => \%temp);
$token_node->safe_psql('postgres', $setup);
is($token_node->safe_psql('postgres', $take),
	't', 'temporary credentials with a session token');
my ($ret, $out, $err) = $token_node->psql(
	'postgres',
	"SET seqdist.aws_access_key_id = '$temp{AWS_ACCESS_KEY_ID}';
	 SET seqdist.aws_secret_access_key = '$temp{AWS_SECRET_ACCESS_KEY}';
	 SET seqdist.aws_session_token = 'not-the-token';
	 $take",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like(
	$err,
	qr/ERROR:  28000: DynamoDB rejected seqdist's credentials/,
	'a wrong session token is rejected with 28000');
($ret, $out, $err) = $token_node->psql(
	'postgres',
	"SET seqdist.aws_access_key_id = '$temp{AWS_ACCESS_KEY_ID}';
	 SET seqdist.aws_secret_access_key = '$temp{AWS_SECRET_ACCESS_KEY}';
	 $take");
like(
	$err,
	qr/DynamoDB rejected seqdist's credentials/,
	'settings override the environment: without its token the temporary key is refused');

# no credentials anywhere
my $empty_home = tempdir(DIR => $PostgreSQL::Test::Utils::tmp_check, CLEANUP => 1);
my $none = new_node('none', $dynamo, env => { @no_env, HOME => $empty_home });
$none->safe_psql('postgres', 'CREATE EXTENSION seqdist; CREATE SEQUENCE s');
($ret, $out, $err) = $none->psql(
	'postgres',
	"SELECT seqdist.register('s')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like(
	$err,
	qr/ERROR:  28000: no AWS credentials found for seqdist/,
	'without credentials: 28000 and a clear message');
like(
	$err,
	qr/HINT:  Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
	'the hint lists where credentials may come from');
is( $none->safe_psql(
		'postgres',
		"SELECT ok FROM seqdist.health() WHERE check_name = 'credentials'"),
	'f',
	'health reports the missing credentials');
is($none->safe_psql('postgres', 'SELECT count(*) FROM seqdist.sequences'),
	'0', 'a failed registration leaves no local registration behind');

# no secret in any server log, although requests failed and settings were
# set.  The test clusters run with log_statement = all, which logs the SET
# statements this test typed itself, as PostgreSQL logs any statement; those
# lines are the user's text, not seqdist's, and are left out.
for my $node ($env_node, $file_node, $home_node, $token_node, $none)
{
	my $log = join "\n", grep { !/LOG:  statement: .*SET seqdist\.aws_/ }
	  split /\n/, PostgreSQL::Test::Utils::slurp_file($node->logfile);
	unlike(
		$log,
		qr/\Q$good{AWS_SECRET_ACCESS_KEY}\E|\Q$temp{AWS_SECRET_ACCESS_KEY}\E|\Q$temp{AWS_SESSION_TOKEN}\E|wrong-default-secret/,
		'no secret in the log of ' . $node->name);
}

done_testing();
