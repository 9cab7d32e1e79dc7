# Proxies are used only when seqdist.proxy says so: http_proxy, ALL_PROXY and
# the like in the server's environment are ignored (libcurl would otherwise
# honour them silently and send the session token through them).
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeqdistTest;

my $dynamo = start_dynamo();
my $proxy = start_forward_proxy();
my $proxy_url = "http://127.0.0.1:$proxy->{port}";

my $node = new_node(
	'proxy', $dynamo,
	conf => "seqdist.block_size = 1\nseqdist.max_block_size = 1\nseqdist.refill = off\n",
	env => {
		http_proxy => $proxy_url,
		HTTP_PROXY => $proxy_url,
		https_proxy => $proxy_url,
		HTTPS_PROXY => $proxy_url,
		all_proxy => $proxy_url,
		ALL_PROXY => $proxy_url
	});
my $take = "SELECT seqdist.seqdist_nextval('s') > 0";

sub psql_verbose
{
	my ($sql) = @_;
	my ($ret, $out, $err) =
	  $node->psql('postgres', $sql, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return $err;
}

my ($ret, $out, $err) = $node->psql('postgres', 'SHOW seqdist.proxy');
is($ret, 0, 'seqdist.proxy exists');
is($out, '', 'seqdist.proxy is empty by default');
$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE SEQUENCE s;
	SELECT seqdist.register('s', 'proxy-test');
});
is($node->safe_psql('postgres', "$take; $take; $take"), "t\nt\nt",
	'values are served with proxy variables in the environment');
is(scalar(proxied_requests($proxy)), 0,
	'with seqdist.proxy empty no request reaches the proxy of the environment');

# an explicit proxy is used
$node->safe_psql('postgres', "ALTER SYSTEM SET seqdist.proxy = '$proxy_url'");
$node->reload;
ok($node->poll_query_until('postgres', "SELECT current_setting('seqdist.proxy') = '$proxy_url'"),
	'seqdist.proxy is taken at reload');
is($node->safe_psql('postgres', "$take; $take"), "t\nt", 'values are served through the proxy');
my @relayed = proxied_requests($proxy);
ok(@relayed >= 2, 'with seqdist.proxy set requests go through it (' . scalar(@relayed) . ')');
ok((grep { $_ eq "POST http://127.0.0.1:$dynamo->{port}/" } @relayed) == @relayed,
	'every relayed request is a POST to the endpoint');

# a proxy that is down is not bypassed
$node->safe_psql('postgres', "ALTER SYSTEM SET seqdist.proxy = 'http://127.0.0.1:1'");
$node->reload;
ok($node->poll_query_until('postgres', "SELECT current_setting('seqdist.proxy') = 'http://127.0.0.1:1'"),
	'a proxy that is down is set');
like(psql_verbose($take), qr/ERROR:  08006: could not reach DynamoDB/,
	'a proxy that is down: 08006, the endpoint is not reached directly');

# what seqdist.proxy accepts, and who may set it
for my $bad ('socks5://127.0.0.1:1080', 'http://user:secret@127.0.0.1:3128',
	'127.0.0.1:3128', 'http://', 'http://127.0.0.1:3128/path', 'http://127.0.0.1:3128?x')
{
	like(
		psql_verbose("ALTER SYSTEM SET seqdist.proxy = '$bad'"),
		qr/ERROR:  22023: invalid value for parameter "seqdist\.proxy"/,
		"seqdist.proxy = '$bad' is refused");
}
like(psql_verbose("SET seqdist.proxy = '$proxy_url'"),
	qr/ERROR:  55P02: parameter "seqdist\.proxy" cannot be changed now/,
	'seqdist.proxy cannot be set in a session');
$node->safe_psql('postgres', 'CREATE ROLE plain LOGIN');
($ret, $out, $err) =
  $node->psql('postgres', "ALTER SYSTEM SET seqdist.proxy = '$proxy_url'",
	extra_params => [ '-U', 'plain' ]);
like($err, qr/permission denied to set parameter "seqdist\.proxy"/,
	'a non-superuser cannot set seqdist.proxy');

$node->safe_psql('postgres', 'ALTER SYSTEM RESET seqdist.proxy');
$node->reload;
ok($node->poll_query_until('postgres', "SELECT current_setting('seqdist.proxy') = ''"),
	'seqdist.proxy reset');
my $before = scalar(proxied_requests($proxy));
is($node->safe_psql('postgres', $take), 't', 'values are served without a proxy again');
is(scalar(proxied_requests($proxy)), $before, 'and no request went through the proxy');

done_testing();
