# Without shared_preload_libraries the extension installs, but every function
# refuses to run and says how to fix it.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeqdistTest;

my $node = new_node('nopreload', undef, preload => 0);
$node->safe_psql('postgres', 'CREATE EXTENSION seqdist; CREATE SEQUENCE s');

for my $call ("seqdist.seqdist_nextval('s')", 'seqdist.create_table()',
	"seqdist.register('s')", 'seqdist.health()')
{
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT $call",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	like($err,
		qr/ERROR:  55000: seqdist must be loaded via shared_preload_libraries\n(.*\n)?HINT:  Add seqdist to shared_preload_libraries/,
		"$call without preloading: error 55000 with a hint");
}

# preloading it and restarting is all it takes
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'seqdist'");
$node->restart;
my ($ret, $out, $err) = $node->psql('postgres', "SELECT seqdist.seqdist_nextval('s')");
like($err, qr/sequence "s" is not registered with seqdist/,
	'once preloaded the function runs (and asks for registration)');

done_testing();
