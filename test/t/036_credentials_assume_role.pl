# A profile that assumes a role: role_arn with a source_profile whose keys
# sign an STS AssumeRole request (SigV4, service "sts"), checked by a
# loopback STS with an independent signer; role_session_name and
# external_id sent; the temporary credentials cached once per instance and
# refreshed ahead of expiry; what is not supported (credential_source, a
# chain of roles) and a source profile without keys refused clearly; no
# secret in the server log.
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

my @issued = map { "ASIAASSUMEDROLE0$_:assumed-secret-$_-0123456789abcdef:assumed-session-token-$_" } 1 .. 3;
my ($source_akid, $source_secret) = ('AKIASOURCEPROFILE1', 'source-profile-secret-0123456789abcdef');
my $role = 'arn:aws:iam::123456789012:role/seqdist-app';
my @secrets = ((map { (split /:/)[ 1, 2 ] } @issued), $source_secret);
# DynamoDB accepts the assumed role's credentials only, not the source keys
my $dynamo = start_dynamo(credentials => \@issued);
my $sts = start_credential_provider(
	mode => 'sts',
	credentials => \@issued,
	args => [
		'--role-arn', $role, '--source-credentials', "$source_akid:$source_secret",
		'--external-id', 'seqdist-external-id', '--lifetime', '12'
	]);

my $dir = tempdir(DIR => $PostgreSQL::Test::Utils::tmp_check, CLEANUP => 1);
PostgreSQL::Test::Utils::append_to_file("$dir/credentials",
	"[source]\naws_access_key_id = $source_akid\naws_secret_access_key = $source_secret\n"
	  . "[badsource]\naws_access_key_id = $source_akid\naws_secret_access_key = not-the-source-secret\n");
PostgreSQL::Test::Utils::append_to_file(
	"$dir/config",
	"[profile app]\nrole_arn = $role\nsource_profile = source\n"
	  . "role_session_name = seqdist-app\nexternal_id = seqdist-external-id\n"
	  . "[profile bad]\nrole_arn = $role\nsource_profile = badsource\nexternal_id = seqdist-external-id\n"
	  . "[profile chained]\nrole_arn = $role\nsource_profile = app\n"
	  . "[profile nokeys]\nrole_arn = $role\nsource_profile = missing\n");
my %env = (
	AWS_ACCESS_KEY_ID => undef,
	AWS_SECRET_ACCESS_KEY => undef,
	HOME => $dir,
	AWS_SHARED_CREDENTIALS_FILE => "$dir/credentials",
	AWS_CONFIG_FILE => "$dir/config",
	AWS_PROFILE => 'app');
my $conf = "seqdist.block_size = 1\nseqdist.max_block_size = 1\nseqdist.refill = off\n"
  . "seqdist.credential_refresh = 6s\nseqdist.sts_endpoint = '$sts->{url}/'\n";
my $take = "SELECT seqdist.seqdist_nextval('s') > 0";
my $setup = "CREATE EXTENSION seqdist; CREATE SEQUENCE s;";

my $node = new_node('assume_role', $dynamo, conf => $conf, env => \%env);
$node->safe_psql('postgres', "$setup SELECT seqdist.create_table(); SELECT seqdist.register('s', 'assume-role-test');");
my $t0 = time;
is($node->safe_psql('postgres', $take), 't', 'credentials of the profile\'s role');
is( $node->safe_psql(
		'postgres', "SELECT detail FROM seqdist.health() WHERE check_name = 'credentials'"),
	'from a profile\'s role (STS AssumeRole), accepted',
	'health names the assumed role');
$node->safe_psql('postgres', $take) for 1 .. 3;
is(credential_provider_stats($sts)->{issued}, 1, 'one AssumeRole for the instance');
unlike(slurp_file($sts->{log}), qr/AssumeRole refused/, 'STS found the signature right');

sleep(6.5 - (time - $t0)) if time - $t0 < 6.5;
is($node->safe_psql('postgres', $take), 't', 'values within the refresh window');
is(credential_provider_stats($sts)->{issued}, 2, 'the role is assumed again ahead of expiry');

# a source profile whose secret STS does not accept
my $bad = new_node('bad_source', $dynamo, conf => $conf, env => { %env, AWS_PROFILE => 'bad' });
$bad->safe_psql('postgres', $setup);
my $err = error_of($bad, "SELECT seqdist.register('s', 'assume-role-test')");
like($err, qr/ERROR:  28000: could not obtain AWS credentials from a profile's role \(STS AssumeRole\)/,
	'a source profile with a wrong secret: 28000');
like($err, qr/DETAIL:  STS at .* answered HTTP 403: SignatureDoesNotMatch/, 'STS refused the signature');
like(slurp_file($sts->{log}), qr/AssumeRole refused: signature mismatch/,
	'the loopback STS saw a wrong signature');

# what is not supported, and a source profile without keys
my $chained = new_node('chained', $dynamo, conf => $conf, env => { %env, AWS_PROFILE => 'chained' });
$chained->safe_psql('postgres', $setup);
like(
	error_of($chained, "SELECT seqdist.register('s', 'assume-role-test')"),
	qr/ERROR:  0A000: profile "app" of shared config file ".*" assumes a role for another profile's role, which seqdist does not support/,
	'a chain of roles: 0A000');
my $nokeys = new_node('nokeys', $dynamo, conf => $conf, env => { %env, AWS_PROFILE => 'nokeys' });
$nokeys->safe_psql('postgres', $setup);
like(
	error_of($nokeys, "SELECT seqdist.register('s', 'assume-role-test')"),
	qr/ERROR:  28000: source profile "missing" of profile "nokeys" has no aws_access_key_id and aws_secret_access_key/,
	'a source profile without keys: 28000');

# no secret in any server log
for my $n ($node, $bad, $chained, $nokeys)
{
	my $text = slurp_file($n->logfile);
	my @found = grep { index($text, $_) >= 0 } @secrets;
	is("@found", '', 'no secret in the log of ' . $n->name);
}

done_testing();
