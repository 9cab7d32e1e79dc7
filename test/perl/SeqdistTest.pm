# SeqdistTest: shared helpers for seqdist's TAP tests.
#
# start_dynamo() runs test/local_dynamodb.js (dynalite behind a proxy that
# checks signatures and injects faults) on a free 127.0.0.1 port; the process
# is stopped by pid when the test ends, whatever happens.  With a path it
# keeps its data on disk, and stop_dynamo() / restart_dynamo() take it down
# and bring it back on the same port with its data.  The credentials
# come from test/credentials.env, as the shell scripts' do.  new_node() makes a
# PostgreSQL::Test::Cluster with seqdist preloaded and pointed at it.
package SeqdistTest;

use strict;
use warnings;

use Exporter 'import';
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(start_dynamo stop_dynamo restart_dynamo dynamo_faults dynamo_stats dynamo_reset dynamo_put_item new_node
  test_credentials temporary_credentials no_credentials test_region start_forward_proxy proxied_requests);

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
#   path => DIR, port => N) -> { port, pid, ... }
# (default: the test key pair, data in memory, a free port; temporary: the
# temporary key pair with its session token too).  The server is
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
	my %env = (test_credentials(), %{ $opts{env} // {} });
	{
		local %ENV = %ENV;
		delete $ENV{$_} for qw(AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
		  AWS_SESSION_TOKEN AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE);
		while (my ($k, $v) = each %env)
		{
			if (defined $v) { $ENV{$k} = $v; }
			else { delete $ENV{$k}; }
		}
		$node->start;
	}
	push @nodes, $node;
	return $node;
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
