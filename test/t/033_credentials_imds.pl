# Credentials from the EC2 instance metadata service, IMDSv2 only, served by
# a loopback server that follows the documented protocol: asked once per
# instance, refreshed ahead of expiry, a failed refresh while they are valid
# only logged, expired ones never used, a hung service cancellable,
# AWS_EC2_METADATA_DISABLED honoured, and no secret in the server log.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use Time::HiRes qw(time sleep);
use SeqdistTest;

my @issued = map { "ASIAIMDSKEY000$_:imds-secret-$_-0123456789abcdef:imds-session-token-$_-ZXhhbXBsZQ" } 1 .. 4;
my @secrets = map { (split /:/)[ 1, 2 ] } @issued;
my $dynamo = start_dynamo(credentials => \@issued);
my $imds = start_credential_provider(mode => 'imds', credentials => \@issued);
my $empty_home = tempdir(DIR => $PostgreSQL::Test::Utils::tmp_check, CLEANUP => 1);

my %imds_env = (
	AWS_ACCESS_KEY_ID => undef,
	AWS_SECRET_ACCESS_KEY => undef,
	AWS_EC2_METADATA_DISABLED => undef,
	AWS_EC2_METADATA_SERVICE_ENDPOINT => $imds->{url},
	HOME => $empty_home);
# one value per request, so that every call needs the credentials
my $conf = "seqdist.block_size = 1\nseqdist.max_block_size = 1\nseqdist.refill = off\n";
my $take = "SELECT seqdist.seqdist_nextval('s') > 0";

my $node = new_node('imds', $dynamo, conf => $conf, env => \%imds_env);
$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE SEQUENCE s;
	SELECT seqdist.register('s', 'imds-test');
});
is($node->safe_psql('postgres', $take), 't', 'credentials from the instance metadata service');
is( $node->safe_psql(
		'postgres', "SELECT detail FROM seqdist.health() WHERE check_name = 'credentials'"),
	'from the EC2 instance metadata service (IMDSv2), accepted',
	'health names the instance metadata service');
my $log = slurp_file($imds->{log});
like(
	$log,
	qr{PUT /latest/api/token -> 200.*GET /latest/meta-data/iam/security-credentials/ -> 200.*GET /latest/meta-data/iam/security-credentials/seqdist-role -> 200}s,
	'IMDSv2: a session token first, then the role, then its credentials');
unlike($log, qr{-> 401}, 'seqdist never sent a request without a session token');

# and the loopback service follows the protocol of the loopback service itself: IMDSv1 is refused
my $v1 = HTTP::Tiny->new->get("$imds->{url}/latest/meta-data/iam/security-credentials/");
is($v1->{status}, 401, 'the metadata service refuses an IMDSv1 GET without a session token');


# once per instance: more backends and requests, no more credentials
$node->safe_psql('postgres', $take) for 1 .. 5;
my @bg = map { $node->background_psql('postgres') } 1 .. 3;
$_->query_safe("$take; $take") for @bg;
$_->quit for @bg;
is(credential_provider_stats($imds)->{issued},
	1, 'one set of credentials for the whole instance, whatever the backends and requests');

# short-lived credentials, refreshed ahead of their expiry
credential_provider_control($imds, { lifetime => 12 });
$node->append_conf('postgresql.conf', "seqdist.credential_refresh = 6s\n");
restart_node($node);
my $t0 = time;
is($node->safe_psql('postgres', $take), 't', 'new credentials after a restart');
is(credential_provider_stats($imds)->{issued}, 2, 'a restart asks the service again');
$node->safe_psql('postgres', $take);
is(credential_provider_stats($imds)->{issued}, 2, 'fresh credentials are used as they are');
sleep(7.5 - (time - $t0)) if time - $t0 < 7.5;
my $t1 = time;
is($node->safe_psql('postgres', $take), 't', 'values within the refresh window');
is(credential_provider_stats($imds)->{issued},
	3, 'credentials are refreshed ahead of their expiry (6 s before it)');

# a failed refresh while the credentials are valid: a LOG line, no error
credential_provider_control($imds, { fail => 'http500' });
sleep(7.5 - (time - $t1)) if time - $t1 < 7.5;
my $offset = -s $node->logfile;
is($node->safe_psql('postgres', $take), 't',
	'a failed refresh while the credentials are still valid is no error');
ok( $node->wait_for_log(
		qr/LOG:  could not refresh AWS credentials from the EC2 instance metadata service \(IMDSv2\); the current ones stay valid until/,
		$offset),
	'a failed refresh is a LOG line');

# expired credentials are never used
sleep(13.2 - (time - $t1)) if time - $t1 < 13.2;
my ($ret, $out, $err) =
  $node->psql('postgres', $take, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like(
	$err,
	qr/ERROR:  28000: AWS credentials from the EC2 instance metadata service \(IMDSv2\) expired at .* and could not be refreshed/,
	'expired credentials: 28000, naming the provider');
like($err, qr/DETAIL:  .*HTTP 500/, 'the DETAIL says why the refresh failed');

# the service answers again: so does seqdist
credential_provider_control($imds, { fail => 'none', lifetime => 3600 });
sleep(1.1);    # past the pause after a failure
is($node->safe_psql('postgres', $take), 't', 'the service answers again: values again');
is(credential_provider_stats($imds)->{issued}, 4, 'with new credentials');

# a hung service: the statement stays cancellable (statement_timeout)
credential_provider_control($imds, { fail => 'hang' });
my $hang_node = new_node(
	'imds_hang', $dynamo,
	conf => $conf,
	env => { %imds_env, AWS_METADATA_SERVICE_TIMEOUT => '30' });
$hang_node->safe_psql('postgres', 'CREATE EXTENSION seqdist; CREATE SEQUENCE s');
my $start = time;
($ret, $out, $err) = $hang_node->psql(
	'postgres',
	"SET statement_timeout = '300ms'; SELECT seqdist.register('s', 'imds-test')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
my $elapsed = time - $start;
like($err, qr/ERROR:  57014: canceling statement due to statement timeout/,
	'a hung metadata service: the statement is canceled');
ok($elapsed < 10, sprintf('canceled while the service hangs (%.2f s, timeout 30 s)', $elapsed));
note(sprintf('measured: statement_timeout of 300 ms ended a hung metadata request after %.3f s', $elapsed));

# the SDKs' timeout: 1 s by default, then no metadata service
my $timeout_node = new_node('imds_timeout', $dynamo, conf => $conf, env => \%imds_env);
$timeout_node->safe_psql('postgres', 'CREATE EXTENSION seqdist; CREATE SEQUENCE s');
$start = time;
($ret, $out, $err) = $timeout_node->psql('postgres', "SELECT seqdist.register('s', 'imds-test')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
$elapsed = time - $start;
like($err, qr/ERROR:  28000: no AWS credentials found for seqdist/,
	'a metadata service that does not answer means no credentials');
like($err, qr/DETAIL:  PUT \Q$imds->{url}\E\/latest\/api\/token failed after 1 attempt/,
	'the DETAIL names the token request that timed out');
ok($elapsed < 5, sprintf('given up after the 1 s timeout (%.2f s)', $elapsed));
note(sprintf('measured: a silent metadata service was given up after %.3f s (timeout 1 s, 1 attempt)', $elapsed));
credential_provider_control($imds, { fail => 'none' });

# AWS_EC2_METADATA_DISABLED: the service is not asked
my $before = credential_provider_stats($imds)->{requests};
my $disabled = new_node('imds_disabled', $dynamo, conf => $conf,
	env => { %imds_env, AWS_EC2_METADATA_DISABLED => 'true' });
$disabled->safe_psql('postgres', 'CREATE EXTENSION seqdist; CREATE SEQUENCE s');
($ret, $out, $err) = $disabled->psql('postgres', "SELECT seqdist.register('s', 'imds-test')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  28000: no AWS credentials found for seqdist/,
	'AWS_EC2_METADATA_DISABLED=true: no credentials');
is(credential_provider_stats($imds)->{requests}, $before, 'and the metadata service was not asked');

# an endpoint nobody listens on
my $closed = new_node('imds_closed', $dynamo, conf => $conf,
	env => { %imds_env, AWS_EC2_METADATA_SERVICE_ENDPOINT => 'http://127.0.0.1:9' });
$closed->safe_psql('postgres', 'CREATE EXTENSION seqdist; CREATE SEQUENCE s');
is( $closed->safe_psql(
		'postgres', "SELECT ok FROM seqdist.health() WHERE check_name = 'credentials'"),
	'f', 'health: no metadata service, no credentials');

# no secret in any server log
for my $n ($node, $hang_node, $timeout_node, $disabled, $closed)
{
	my $text = slurp_file($n->logfile);
	my @found = grep { index($text, $_) >= 0 } @secrets;
	is("@found", '', 'no issued secret or session token in the log of ' . $n->name);
}

done_testing();
