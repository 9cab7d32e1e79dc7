# The order of the credential chain, as the AWS SDKs have it: environment,
# shared credentials file, shared config file ("[profile NAME]" sections,
# AWS_CONFIG_FILE), web identity, container credentials, instance metadata;
# the first source that is configured is the one used.  A profile that
# assumes a role through credential_source is refused with a clear error
# (role_arn with source_profile: 036).
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
my @remote = map { "ASIACHAINKEY00000$_:chain-secret-$_-0123456789abcdef:chain-session-token-$_" } 1 .. 3;
my $dynamo = start_dynamo(
	credentials => [ "$good{AWS_ACCESS_KEY_ID}:$good{AWS_SECRET_ACCESS_KEY}", @remote ]);
my $role = 'arn:aws:iam::123456789012:role/seqdist';
my $jwt = 'eyJhbGciOiJSUzI1NiJ9.chain.c2ln';
my $sts = start_credential_provider(mode => 'sts', credentials => [ $remote[0] ],
	args => [ '--role-arn', $role, '--web-identity-token', $jwt ]);
my $agent = start_credential_provider(mode => 'container', credentials => [ $remote[1] ],
	args => [ '--path', '/creds' ]);
my $imds = start_credential_provider(mode => 'imds', credentials => [ $remote[2] ]);

my $dir = tempdir(DIR => $PostgreSQL::Test::Utils::tmp_check, CLEANUP => 1);
my $wrong = "aws_access_key_id = AKIDWRONG0000000\naws_secret_access_key = wrong-secret-in-a-file\n";
my $right = "aws_access_key_id = $good{AWS_ACCESS_KEY_ID}\naws_secret_access_key = $good{AWS_SECRET_ACCESS_KEY}\n";
PostgreSQL::Test::Utils::append_to_file("$dir/credentials_wrong", "[default]\n$wrong");
PostgreSQL::Test::Utils::append_to_file("$dir/credentials_right", "[default]\n$right");
PostgreSQL::Test::Utils::append_to_file("$dir/config",
	"[default]\nregion = us-east-1\n$wrong\n[profile seqdist]\nregion = us-east-1\n$right\n"
	  . "[seqdist]\n$wrong\n[profile assumer]\nrole_arn = $role\ncredential_source = Ec2InstanceMetadata\n");
PostgreSQL::Test::Utils::append_to_file("$dir/token", $jwt);
mkdir "$dir/home";
mkdir "$dir/home/.aws";
PostgreSQL::Test::Utils::append_to_file("$dir/home/.aws/config", "[default]\n$right");

my %none = (AWS_ACCESS_KEY_ID => undef, AWS_SECRET_ACCESS_KEY => undef, HOME => "$dir/nohome");
my %web = (AWS_WEB_IDENTITY_TOKEN_FILE => "$dir/token", AWS_ROLE_ARN => $role);
my %container = (AWS_CONTAINER_CREDENTIALS_FULL_URI => "$agent->{url}/creds");
my %metadata = (AWS_EC2_METADATA_DISABLED => undef, AWS_EC2_METADATA_SERVICE_ENDPOINT => $imds->{url});
my $conf = "seqdist.sts_endpoint = '$sts->{url}'\n";
my $take = "SELECT seqdist.seqdist_nextval('s') > 0";
my $n = 0;
my $first = 1;

# A node with env; its health detail, or its error when it has no value
sub source_of
{
	my (%env) = @_;
	my $node = new_node('chain' . $n++, $dynamo, conf => $conf, env => \%env);
	$node->safe_psql('postgres', 'CREATE EXTENSION seqdist; CREATE SEQUENCE s;'
		  . ($first ? ' SELECT seqdist.create_table();' : ''));
	$first = 0;
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT seqdist.register('s', 'chain'); $take",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return $err if $ret != 0;
	return $node->safe_psql('postgres',
		"SELECT detail FROM seqdist.health() WHERE check_name = 'credentials'");
}

is(source_of(%web, %container, %metadata, AWS_SHARED_CREDENTIALS_FILE => "$dir/credentials_wrong"),
	'from environment, accepted', 'the environment comes first');
is(source_of(%none, %web, %container, %metadata,
		AWS_SHARED_CREDENTIALS_FILE => "$dir/credentials_right", AWS_CONFIG_FILE => "$dir/config"),
	'from shared credentials file, accepted',
	'then the shared credentials file, before the config file');
is(source_of(%none, %web, %container, %metadata,
		AWS_CONFIG_FILE => "$dir/config", AWS_PROFILE => 'seqdist'),
	'from shared config file, accepted',
	'then the shared config file: AWS_PROFILE=seqdist is its [profile seqdist]');
is(source_of(%none, HOME => "$dir/home"),
	'from shared config file, accepted', '~/.aws/config of the server\'s user, [default]');
is(credential_provider_stats($_)->{requests}, 0, 'no remote provider asked so far') for ($sts, $agent, $imds);

is(source_of(%none, %web, %container, %metadata),
	'from web identity (STS AssumeRoleWithWebIdentity), accepted', 'then web identity');
is(source_of(%none, %container, %metadata),
	'from the container credentials endpoint, accepted', 'then container credentials');
is(source_of(%none, %metadata),
	'from the EC2 instance metadata service (IMDSv2), accepted', 'then the instance metadata service');
is(credential_provider_stats($_)->{issued}, 1, 'each remote provider asked once') for ($sts, $agent, $imds);

# the first configured source is used, even when it fails
like(source_of(%none, %container, %metadata, AWS_CONTAINER_CREDENTIALS_FULL_URI => "$agent->{url}/elsewhere"),
	qr/ERROR:  28000: could not obtain AWS credentials from the container credentials endpoint/,
	'a configured provider that fails is an error, not a step to the next one');
is(credential_provider_stats($imds)->{issued}, 1, 'the instance metadata service was not asked');

# a profile that assumes a role
like(source_of(%none, AWS_CONFIG_FILE => "$dir/config", AWS_PROFILE => 'assumer'),
	qr/ERROR:  0A000: profile "assumer" of shared config file ".*" assumes a role with credential_source, which seqdist does not support/,
	'a profile with role_arn and credential_source: 0A000, a clear message');
my $assumer = new_node('assumer', $dynamo, conf => $conf,
	env => { %none, %metadata, AWS_CONFIG_FILE => "$dir/config", AWS_PROFILE => 'assumer' });
$assumer->safe_psql('postgres', 'CREATE EXTENSION seqdist');
like( $assumer->safe_psql(
		'postgres', "SELECT detail FROM seqdist.health() WHERE check_name = 'credentials'"),
	qr/profile "assumer" of shared config file ".*" assumes a role with credential_source, which seqdist does not support/,
	'health says so too, and does not go on to the instance metadata service');
is(credential_provider_stats($imds)->{issued}, 1, 'the instance metadata service was not asked');

done_testing();
