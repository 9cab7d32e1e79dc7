# Web identity credentials (EKS IAM roles for service accounts): the token
# file and AWS_ROLE_ARN sent, unsigned, to a loopback STS that checks them
# and answers AssumeRoleWithWebIdentity's documented XML; the token file read
# again at every refresh; STS errors reported with their code; the regional
# STS endpoint of seqdist.region; refresh ahead of expiry, a failed refresh
# logged while valid, expired credentials refused; no token or secret in the
# server log.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use SeqdistTest;

my @issued = map { "ASIAWEBIDENTITY0$_:web-identity-secret-$_-0123456789abcdef:web+identity/session=token-$_" } 1 .. 4;
my $jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6c2VxZGlzdCJ9.c2lnbmF0dXJl';
my $role = 'arn:aws:iam::123456789012:role/seqdist-irsa';
my @secrets = ((map { (split /:/)[ 1, 2 ] } @issued), $jwt);
my $dynamo = start_dynamo(credentials => \@issued);
my $sts = start_credential_provider(
	mode => 'sts',
	credentials => \@issued,
	args => [ '--role-arn', $role, '--web-identity-token', $jwt, '--lifetime', '12' ]);

my $dir = tempdir(DIR => $PostgreSQL::Test::Utils::tmp_check, CLEANUP => 1);
PostgreSQL::Test::Utils::append_to_file("$dir/token", $jwt);
my %env = (
	AWS_ACCESS_KEY_ID => undef,
	AWS_SECRET_ACCESS_KEY => undef,
	HOME => $dir,
	AWS_WEB_IDENTITY_TOKEN_FILE => "$dir/token",
	AWS_ROLE_ARN => $role,
	AWS_ROLE_SESSION_NAME => 'seqdist-tap');
my $conf = "seqdist.block_size = 1\nseqdist.max_block_size = 1\nseqdist.refill = off\n"
  . "seqdist.credential_refresh = 6s\nseqdist.sts_endpoint = '$sts->{url}/'\n";
my $take = "SELECT seqdist.seqdist_nextval('s') > 0";
my $setup = "CREATE EXTENSION seqdist; CREATE SEQUENCE s;";

my $node = new_node('web_identity', $dynamo, conf => $conf, env => \%env);
$node->safe_psql('postgres', "$setup SELECT seqdist.create_table(); SELECT seqdist.register('s', 'web-identity-test');");
my $t0 = time;    # the credentials were issued before this
is($node->safe_psql('postgres', $take), 't', 'credentials through STS AssumeRoleWithWebIdentity');
is( $node->safe_psql(
		'postgres', "SELECT detail FROM seqdist.health() WHERE check_name = 'credentials'"),
	'from web identity (STS AssumeRoleWithWebIdentity), accepted',
	'health names web identity');
is(credential_provider_stats($sts)->{issued}, 1, 'one STS call for the instance');
like(slurp_file($sts->{log}), qr{POST / -> 200}, 'a POST of the Query API, answered 200');

# refreshed ahead of expiry, with the token file read again
sleep(6.5 - (time - $t0)) if time - $t0 < 6.5;
my $t1 = time;
is($node->safe_psql('postgres', $take), 't', 'values within the refresh window');
is(credential_provider_stats($sts)->{issued}, 2, 'refreshed ahead of expiry');

# the token file rotates to a token STS refuses: the refresh fails while
# the credentials are valid, a LOG line
open(my $fh, '>', "$dir/token") or die;
print $fh "not-the-identity-token\n";
close $fh;
sleep(7.5 - (time - $t1)) if time - $t1 < 7.5;
my $offset = -s $node->logfile;
is($node->safe_psql('postgres', $take), 't', 'a failed refresh while valid is no error');
ok( $node->wait_for_log(
		qr/LOG:  could not refresh AWS credentials from web identity \(STS AssumeRoleWithWebIdentity\); the current ones stay valid until .*\n.*DETAIL:  STS at .* answered HTTP 400: InvalidIdentityToken/,
		$offset),
	'a failed refresh is a LOG line with STS\'s error code');
sleep(13.2 - (time - $t1)) if time - $t1 < 13.2;
like(
	error_of($node, $take),
	qr/ERROR:  28000: AWS credentials from web identity \(STS AssumeRoleWithWebIdentity\) expired at .* and could not be refreshed/,
	'expired credentials are refused with 28000, naming the provider');

# the token file holds the right token again: new credentials at once
open($fh, '>', "$dir/token") or die;
print $fh "$jwt\n";
close $fh;
sleep(1.1);
is($node->safe_psql('postgres', $take), 't', 'the token file is read again at the next refresh');

# a role STS does not let this identity assume
my $denied = new_node('denied', $dynamo, conf => $conf,
	env => { %env, AWS_ROLE_ARN => 'arn:aws:iam::123456789012:role/other' });
$denied->safe_psql('postgres', $setup);
my $err = error_of($denied, "SELECT seqdist.register('s', 'web-identity-test')");
like($err, qr/ERROR:  28000: could not obtain AWS credentials from web identity/,
	'a role that cannot be assumed: 28000');
like($err, qr/DETAIL:  STS at .* answered HTTP 403: AccessDenied: Not authorized/,
	'with STS\'s code and message');
like($err, qr/HINT:  Check AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE/, 'and a hint');

# no token file
my $missing = new_node('missing', $dynamo, conf => $conf,
	env => { %env, AWS_WEB_IDENTITY_TOKEN_FILE => "$dir/absent" });
$missing->safe_psql('postgres', $setup);
like(error_of($missing, "SELECT seqdist.register('s', 'web-identity-test')"),
	qr/DETAIL:  The web identity token file ".*absent" cannot be opened/,
	'a missing token file is named');

# without seqdist.sts_endpoint: the regional endpoint of seqdist.region
my $regional = new_node(
	'regional', $dynamo,
	conf => "seqdist.region = 'eu-west-3'\nseqdist.request_timeout = 1s\nseqdist.connect_timeout = 1s\n",
	env => \%env);
$regional->safe_psql('postgres', $setup);
like(error_of($regional, "SELECT seqdist.register('s', 'web-identity-test')"),
	qr{DETAIL:  .*https://sts\.eu-west-3\.amazonaws\.com/},
	'the STS endpoint is the regional one of seqdist.region');

# the STS endpoint is for superusers only
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_settings WHERE name = 'seqdist.sts_endpoint'",
		extra_params => [ '-U', 'app' ]),
	'0', 'seqdist.sts_endpoint is not visible to other roles');

# no token or secret in any server log
for my $n ($node, $denied, $missing, $regional)
{
	my $text = slurp_file($n->logfile);
	my @found = grep { index($text, $_) >= 0 } @secrets;
	is("@found", '', 'no token or secret in the log of ' . $n->name);
}

done_testing();
