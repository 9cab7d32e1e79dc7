# Container credentials (ECS task roles, EKS Pod Identity) from a loopback
# endpoint that checks the Authorization header: the token file before the
# token variable, the hosts a plain-http FULL_URI may name, RELATIVE_URI on
# the ECS address, one request for concurrent backends, refresh ahead of
# expiry, a failed refresh logged while valid, expired credentials refused,
# and no secret in the server log.
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

my @issued = map { "ASIACONTAINERKEY0$_:container-secret-$_-0123456789abcdef:container-session-token-$_-ZXhhbXBsZQ" } 1 .. 4;
my $auth_token = 'pod-identity-authorization-token-0123456789';
my @secrets = ((map { (split /:/)[ 1, 2 ] } @issued), $auth_token);
my $dynamo = start_dynamo(credentials => \@issued);
my $path = '/v1/credentials/task-0001';
my $agent = start_credential_provider(
	mode => 'container',
	credentials => \@issued,
	args => [ '--path', $path, '--auth-token', $auth_token ]);

my $dir = tempdir(DIR => $PostgreSQL::Test::Utils::tmp_check, CLEANUP => 1);
PostgreSQL::Test::Utils::append_to_file("$dir/token", "$auth_token\n");
my %env = (
	AWS_ACCESS_KEY_ID => undef,
	AWS_SECRET_ACCESS_KEY => undef,
	HOME => $dir,
	AWS_CONTAINER_CREDENTIALS_FULL_URI => "$agent->{url}$path",
	AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE => "$dir/token",
	# the file wins over the variable, which is wrong here
	AWS_CONTAINER_AUTHORIZATION_TOKEN => 'wrong-token-from-the-variable');
my $conf = "seqdist.block_size = 1\nseqdist.max_block_size = 1\nseqdist.refill = off\n"
  . "seqdist.credential_refresh = 6s\n";
my $take = "SELECT seqdist.seqdist_nextval('s') > 0";
my $setup = "CREATE EXTENSION seqdist; CREATE SEQUENCE s;";

# several backends that need credentials at once: one request
credential_provider_control($agent, { delay => 1500, lifetime => 12 });
my $node = new_node('container', $dynamo, conf => $conf, env => \%env);
$node->safe_psql('postgres', "$setup SELECT seqdist.create_table(); SELECT seqdist.register('s', 'container-test');");
is(credential_provider_stats($agent)->{issued}, 1, 'credentials from the container endpoint');
credential_provider_control($agent, { delay => 0 });
restart_node($node);
credential_provider_control($agent, { delay => 1500 });
my $t0 = time;
my @bg = map { $node->background_psql('postgres') } 1 .. 4;
$_->query_until(qr/sent/, "\\echo sent\n$take;\n") for @bg;
my @got = map { $_->query_safe('SELECT 1') } @bg;    # each waits for its value first
$_->quit for @bg;
is(credential_provider_stats($agent)->{issued},
	2, 'four backends needing credentials at once: one request to the endpoint');
credential_provider_control($agent, { delay => 0 });
is( $node->safe_psql(
		'postgres', "SELECT detail FROM seqdist.health() WHERE check_name = 'credentials'"),
	'from the container credentials endpoint, accepted',
	'health names the container credentials endpoint');

# refreshed ahead of expiry (12 s credentials, issued after the 1.5 s delay,
# refreshed 6 s before they expire)
sleep(9 - (time - $t0)) if time - $t0 < 9;
my $t1 = time;
is($node->safe_psql('postgres', $take), 't', 'values within the refresh window');
is(credential_provider_stats($agent)->{issued}, 3, 'refreshed ahead of expiry');

# the endpoint fails while the credentials are valid: a LOG line
credential_provider_control($agent, { fail => 'reset' });
sleep(7.5 - (time - $t1)) if time - $t1 < 7.5;
my $offset = -s $node->logfile;
is($node->safe_psql('postgres', $take), 't', 'a failed refresh while valid is no error');
ok( $node->wait_for_log(
		qr/LOG:  could not refresh AWS credentials from the container credentials endpoint; the current ones stay valid until/,
		$offset),
	'a failed refresh is a LOG line');
sleep(13.2 - (time - $t1)) if time - $t1 < 13.2;
like(
	error_of($node, $take),
	qr/ERROR:  28000: AWS credentials from the container credentials endpoint expired at .* and could not be refreshed/,
	'expired credentials are refused with 28000, naming the provider');
credential_provider_control($agent, { fail => 'none', lifetime => 3600 });
sleep(1.1);
is($node->safe_psql('postgres', $take), 't', 'the endpoint answers again: values again');

# the Authorization header: a wrong token, no token
my $wrong = new_node(
	'wrong_token', $dynamo,
	conf => $conf,
	env => { %env, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE => undef });
$wrong->safe_psql('postgres', $setup);
my $err = error_of($wrong, "SELECT seqdist.register('s', 'container-test')");
like($err, qr/ERROR:  28000: could not obtain AWS credentials from the container credentials endpoint/,
	'a wrong authorization token: 28000');
like($err, qr/DETAIL:  .*answered HTTP 403/, 'the endpoint refused the token (403)');
unlike($err, qr/wrong-token-from-the-variable/, 'the token is not in the message');
my $none = new_node(
	'no_token', $dynamo,
	conf => $conf,
	env => { %env, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE => undef, AWS_CONTAINER_AUTHORIZATION_TOKEN => undef });
$none->safe_psql('postgres', $setup);
like(error_of($none, "SELECT seqdist.register('s', 'container-test')"),
	qr/DETAIL:  .*answered HTTP 401/, 'no authorization token: the endpoint answers 401');

# FULL_URI over plain http: loopback (localhost too) or the ECS/EKS addresses only
my $before = credential_provider_stats($agent)->{requests};
my $remote = new_node(
	'remote_http', $dynamo,
	conf => $conf,
	env => { %env, AWS_CONTAINER_CREDENTIALS_FULL_URI => "http://192.0.2.10$path" });
$remote->safe_psql('postgres', $setup);
like(
	error_of($remote, "SELECT seqdist.register('s', 'container-test')"),
	qr/DETAIL:  AWS_CONTAINER_CREDENTIALS_FULL_URI over http must name a loopback address/,
	'a FULL_URI over http to another host is refused before any request');
my $localhost = new_node(
	'localhost', $dynamo,
	conf => $conf,
	env => { %env, AWS_CONTAINER_CREDENTIALS_FULL_URI => "http://localhost:$agent->{port}$path" });
$localhost->safe_psql('postgres', "$setup SELECT seqdist.register('s', 'container-test')");
is($localhost->safe_psql('postgres', $take), 't', 'a FULL_URI naming localhost is allowed');

# RELATIVE_URI is taken on the ECS address, before FULL_URI
my $relative = new_node(
	'relative', $dynamo,
	conf => $conf,
	env => { %env, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI => '/v2/credentials/relative' });
$relative->safe_psql('postgres', $setup);
like(
	error_of($relative, "SELECT seqdist.register('s', 'container-test')"),
	qr{DETAIL:  .*http://169\.254\.170\.2/v2/credentials/relative},
	'RELATIVE_URI is asked on 169.254.170.2, before FULL_URI');

# no secret or token in any server log
for my $n ($node, $wrong, $none, $remote, $localhost, $relative)
{
	my $text = slurp_file($n->logfile);
	my @found = grep { index($text, $_) >= 0 } @secrets, 'wrong-token-from-the-variable';
	is("@found", '', 'no secret or token in the log of ' . $n->name);
}

done_testing();
