# SeqdistTest: shared helpers for seqdist's TAP tests.
#
# start_dynamo() runs test/local_dynamodb.js (dynalite behind a proxy that
# checks signatures and injects faults) on a free 127.0.0.1 port; the process
# is stopped by pid when the test ends, whatever happens.  With a path it
# keeps its data on disk, and stop_dynamo() / restart_dynamo() take it down
# and bring it back on the same port with its data.  The credentials
# come from test/credentials.env, as the shell scripts' do.  new_node() makes a
# PostgreSQL::Test::Cluster with seqdist preloaded and pointed at it.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
package SeqdistTest;

use strict;
use warnings;

use Exporter 'import';
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(start_dynamo stop_dynamo restart_dynamo dynamo_faults dynamo_stats dynamo_reset dynamo_put_item new_node
  test_credentials temporary_credentials no_credentials test_region start_forward_proxy proxied_requests
  start_credential_provider credential_provider_control credential_provider_stats
  restart_node error_of);

my @started;
my @nodes;

# test/credentials.env, which the shell scripts read too
my %credentials;
{
	my $file = "$ENV{SEQDIST_ROOT}/test/credentials.env";
	open(my $fh, '<', $file) or die "$file: $!";
	while (<$fh>)
	{
		next if /^\s*(#|$)/;
		/^(\w+)=(\S*)$/ or die "$file:$.: not NAME=value";
		$credentials{$1} = $2;
	}
	close $fh;
}

# The key pair every test cluster uses unless a test says otherwise.
sub test_credentials
{
	return (
		AWS_ACCESS_KEY_ID => $credentials{AWS_ACCESS_KEY_ID},
		AWS_SECRET_ACCESS_KEY => $credentials{AWS_SECRET_ACCESS_KEY});
}

# The region the local DynamoDB signs for
sub test_region { return $credentials{AWS_REGION}; }

# A second key pair that is valid only with its session token.
sub temporary_credentials
{
	return (
		AWS_ACCESS_KEY_ID => $credentials{SEQDIST_TEMP_ACCESS_KEY_ID},
		AWS_SECRET_ACCESS_KEY => $credentials{SEQDIST_TEMP_SECRET_ACCESS_KEY},
		AWS_SESSION_TOKEN => $credentials{SEQDIST_TEMP_SESSION_TOKEN});
}

# For new_node's env: no AWS credential in the server's environment.
sub no_credentials
{
	return (
		AWS_ACCESS_KEY_ID => undef,
		AWS_SECRET_ACCESS_KEY => undef,
		AWS_SESSION_TOKEN => undef);
}

# start_dynamo(credentials => ['AKID:SECRET[:TOKEN]', ...], temporary => 1,
#   path => DIR, port => N, max_skew_s => N) -> { port, pid, ... }
# (default: the test key pair, data in memory, a free port, 15 minutes of
# accepted clock skew as AWS; temporary: the temporary key pair with its
# session token too; max_skew_s: how old an X-Amz-Date may be).  The server is
# this process's child, which announces its port and pid once it listens; its
# log is dynamo.log in the test's log directory.  With path, dynalite keeps
# its tables in DIR, so that restart_dynamo finds them again.
sub start_dynamo
{
	my (%opts) = @_;
	my @keys = ("$credentials{AWS_ACCESS_KEY_ID}:$credentials{AWS_SECRET_ACCESS_KEY}");
	push @keys, "$credentials{SEQDIST_TEMP_ACCESS_KEY_ID}:$credentials{SEQDIST_TEMP_SECRET_ACCESS_KEY}"
	  . ":$credentials{SEQDIST_TEMP_SESSION_TOKEN}"
	  if $opts{temporary};
	my $dynamo = {
		credentials => $opts{credentials} // \@keys,
		path => $opts{path},
		port => $opts{port} // 0,
		max_skew_s => $opts{max_skew_s},
	};
	return _spawn_dynamo($dynamo);
}

# Start the server described by $dynamo, on $dynamo->{port} (0: any); sets
# its port and pid.
sub _spawn_dynamo
{
	my ($dynamo) = @_;
	my $log = "$PostgreSQL::Test::Utils::log_path/dynamo.log";
	my @args = ('--port', $dynamo->{port}, '--announce', '--log-file', $log,
		'--region', $credentials{AWS_REGION},
		map { ('--credentials', $_) } @{ $dynamo->{credentials} });
	push @args, '--path', $dynamo->{path} if defined $dynamo->{path};
	push @args, '--max-skew-s', $dynamo->{max_skew_s} if defined $dynamo->{max_skew_s};
	return _start_announced($dynamo, $log, 'local DynamoDB', 'node',
		"$ENV{SEQDIST_ROOT}/test/local_dynamodb.js", @args);
}

# stop_dynamo($dynamo, signal => 'KILL'): stop the server (SIGTERM unless
# told otherwise) and wait until it has exited; its port stays its own for
# restart_dynamo.
sub stop_dynamo
{
	my ($dynamo, %opts) = @_;
	return unless $dynamo->{announce};
	kill($opts{signal} // 'TERM', $dynamo->{pid});
	{
		local $?;
		close $dynamo->{announce};    # and wait for it to exit
	}
	delete $dynamo->{announce};
	return;
}

# restart_dynamo($dynamo, signal => ...): stop it if it runs, and start it
# again on the same port (with the same data, if it has a path).
sub restart_dynamo
{
	my ($dynamo, %opts) = @_;
	stop_dynamo($dynamo, %opts);
	my $tries = 0;
	for (;;)
	{
		my $ok = eval { _spawn_dynamo($dynamo); 1 };
		return $dynamo if $ok;
		# the port may take a moment to be free again
		die $@ if ++$tries >= 10;
		select(undef, undef, undef, 0.2);
	}
}

# start_forward_proxy() -> { port, pid, log }: test/forward_proxy.js, an HTTP
# forward proxy on 127.0.0.1 that logs every request it relays to {log}.
sub start_forward_proxy
{
	my $log = "$PostgreSQL::Test::Utils::log_path/forward_proxy.log";
	my $proxy = _start_announced({}, $log, 'forward proxy', 'node',
		"$ENV{SEQDIST_ROOT}/test/forward_proxy.js", '--port', '0',
		'--announce', '--log-file', $log);
	$proxy->{log} = $log;
	return $proxy;
}

# The requests the forward proxy relayed so far, one "METHOD target" each
# (their number in scalar context).
sub proxied_requests
{
	my ($proxy) = @_;
	my @relayed;
	@relayed = map { /^REQUEST (.*)$/ ? ($1) : () }
	  split /\n/, PostgreSQL::Test::Utils::slurp_file($proxy->{log})
	  if -e $proxy->{log};
	return @relayed;    # in scalar context: how many
}

# start_credential_provider(mode => 'imds'|'container'|'sts', credentials =>
#   ['AKID:SECRET:TOKEN', ...], args => [...]) -> { port, pid, log, url }:
# test/credential_provider.js, a loopback server that issues temporary
# credentials following one provider's documented protocol.
sub start_credential_provider
{
	my (%opts) = @_;
	my $log = "$PostgreSQL::Test::Utils::log_path/credential_provider_$opts{mode}.log";
	my $server = _start_announced({}, $log, "$opts{mode} credential provider", 'node',
		"$ENV{SEQDIST_ROOT}/test/credential_provider.js", '--mode', $opts{mode},
		'--port', '0', '--announce', '--log-file', $log,
		(map { ('--credentials', $_) } @{ $opts{credentials} }),
		@{ $opts{args} // [] });
	$server->{log} = $log;
	$server->{url} = "http://127.0.0.1:$server->{port}";
	return $server;
}

# credential_provider_control($server, {fail => 'http500'|'hang'|'reset'|'none',
#   lifetime => SECONDS})
sub credential_provider_control
{
	my ($server, $change) = @_;
	require HTTP::Tiny;
	my $r = HTTP::Tiny->new(timeout => 10)->post("$server->{url}/__control",
		{ content => encode_json($change), headers => { 'Content-Type' => 'application/json' } });
	die "credential provider control failed: $r->{status}" unless $r->{success};
	return decode_json($r->{content});
}

# {issued => N, requests => N}: credentials issued and requests answered so far
sub credential_provider_stats
{
	my ($server) = @_;
	require HTTP::Tiny;
	my $r = HTTP::Tiny->new(timeout => 10)->get("$server->{url}/__stats");
	die "credential provider stats failed: $r->{status}" unless $r->{success};
	return decode_json($r->{content});
}

# Run a server as this process's child, described by the hash $server (new
# or one that ran before); it prints "PORT PID" once it listens, which sets
# $server's port and pid.  It is stopped by pid when the test ends, whatever
# happens; one that does not announce itself within 30 s is killed at once.
sub _start_announced
{
	my ($server, $log, $what, @cmd) = @_;
	my $pid = open(my $announce, '-|', @cmd) or die "cannot run $cmd[0]: $!";
	@$server{qw(pid announce)} = ($pid, $announce);
	push @started, $server unless grep { $_ == $server } @started;
	my $line = eval {
		local $SIG{ALRM} = sub { die "timed out\n" };
		alarm 30;
		my $l = <$announce>;
		alarm 0;
		$l;
	};
	unless (defined $line && $line =~ /^(\d+) (\d+)$/)
	{
		kill 'KILL', $pid;
		{
			local $?;
			close $announce;
		}
		delete $server->{announce};
		die "$what did not start (see $log)";
	}
	@$server{qw(port pid)} = ($1, $2);
	return $server;
}

# The control API through test/dynamo_control.sh, the client the shell
# scripts use; returns its JSON answer, decoded.
sub _control
{
	my ($dynamo, @args) = @_;
	open(my $fh, '-|', 'sh', "$ENV{SEQDIST_ROOT}/test/dynamo_control.sh",
		$dynamo->{port}, @args)
	  or die "cannot run dynamo_control.sh: $!";
	my $answer = do { local $/; <$fh> };
	close $fh or die "dynamo_control.sh $args[0] failed: $answer";
	return decode_json($answer);
}

# dynamo_faults($dynamo, {target => 'UpdateItem', mode => 'http500', count => 2}, ...)
sub dynamo_faults
{
	my ($dynamo, @rules) = @_;
	return _control($dynamo, 'faults', encode_json({ rules => \@rules }));
}

sub dynamo_stats { return _control($_[0], 'stats'); }

# dynamo_put_item($dynamo, {TableName => ..., Item => {...}}): overwrite an
# item behind every client's back, as an operator could
sub dynamo_put_item { return _control($_[0], 'put_item', encode_json($_[1])); }
sub dynamo_reset { return _control($_[0], 'reset'); }

# new_node($name, $dynamo, %opts): a cluster with seqdist preloaded, started
# with the test credentials in its environment unless opts say otherwise.
#   env => { NAME => value, ... }   extra or replacement environment
#   preload => 0                    do not preload seqdist
#   conf => "..."                   extra postgresql.conf lines
# error_of($node, $sql): what psql printed on stderr for $sql, with
# VERBOSITY verbose (so that the SQLSTATE shows)
sub error_of
{
	my ($node, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return $err;
}

sub new_node
{
	my ($name, $dynamo, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	my $preload = $opts{preload} // 1;
	$node->append_conf('postgresql.conf',
		($preload ? "shared_preload_libraries = 'seqdist'\n" : '')
		  . ($dynamo ? "seqdist.endpoint = 'http://127.0.0.1:$dynamo->{port}'\n" : '')
		  . "seqdist.region = '$credentials{AWS_REGION}'\n"
		  . "seqdist.table_name = 'seqdist_tap'\n"
		  . ($opts{conf} // ''));
	# no instance metadata unless a test asks for it: there is no metadata
	# service here, and the chain would otherwise end there
	$node->{seqdist_env} =
	  { test_credentials(), AWS_EC2_METADATA_DISABLED => 'true', %{ $opts{env} // {} } };
	_with_node_env($node, sub { $node->start; });
	push @nodes, $node;
	return $node;
}

# Run $code with the environment the node was created with (test/credentials.env
# and the AWS variables of the chain cleared first, as new_node does).
sub _with_node_env
{
	my ($node, $code) = @_;
	local %ENV = %ENV;
	delete $ENV{$_} for qw(AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
	  AWS_SESSION_TOKEN AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE
	  AWS_CONFIG_FILE AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME
	  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI
	  AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
	  AWS_EC2_METADATA_DISABLED AWS_EC2_METADATA_SERVICE_ENDPOINT
	  AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE AWS_METADATA_SERVICE_TIMEOUT
	  AWS_METADATA_SERVICE_NUM_ATTEMPTS);
	while (my ($k, $v) = each %{ $node->{seqdist_env} })
	{
		if (defined $v) { $ENV{$k} = $v; }
		else { delete $ENV{$k}; }
	}
	$code->();
	return;
}

# restart_node($node): restart a new_node cluster with the environment it was
# started with (a plain restart would give it this script's).
sub restart_node
{
	my ($node) = @_;
	_with_node_env($node, sub { $node->restart; });
	return;
}

END
{
	local $?;    # the test's exit status: close sets $? to the server's
	# For a coverage run: a fast shutdown lets every server process write its
	# coverage data, which the immediate teardown of the clusters would lose.
	if ($ENV{SEQDIST_COVERAGE})
	{
		for my $node (@nodes)
		{
			$node->stop('fast', fail_ok => 1) if defined $node->{_pid};
		}
	}
	for my $dynamo (@started)
	{
		next unless $dynamo->{announce};
		kill 'TERM', $dynamo->{pid};
		close $dynamo->{announce};    # and wait for it to exit
	}
}

1;
