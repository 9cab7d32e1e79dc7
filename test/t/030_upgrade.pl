# Upgrading from 1.0: a database whose SQL objects are at 1.0 works with
# this build's library (which keeps serving 1.0's entry points), ALTER
# EXTENSION seqdist UPDATE brings it to the default version while sessions
# hold cached values, values continue beyond every value handed out before
# (in a session that was open across the update, in new sessions and after a
# restart), the stats view works before and after, and the upgraded objects
# are exactly those of a fresh install of the default version.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeqdistTest;

my $dynamo = start_dynamo();
my $node = new_node('upgrade', $dynamo,
	conf => "seqdist.refill = on\nseqdist.runway = '1s'\n");

sub q1 { my $db = @_ > 1 ? shift : 'postgres'; return $node->safe_psql($db, $_[0]); }

my $default_version = q1(
	"SELECT default_version FROM pg_available_extensions WHERE name = 'seqdist'");
isnt($default_version, '1.0', "the default version ($default_version) is an upgrade of 1.0");
is(q1("SELECT path IS NOT NULL FROM pg_extension_update_paths('seqdist')
	WHERE source = '1.0' AND target = '$default_version'"),
	't', "an update path leads from 1.0 to $default_version");

# 1. Version 1.0, as it was installed, with registered sequences in use
q1(q{
	CREATE EXTENSION seqdist VERSION '1.0';
	SELECT seqdist.create_table();
	CREATE SEQUENCE orders_id_seq CACHE 10;
	CREATE TABLE orders (id bigint PRIMARY KEY DEFAULT seqdist.seqdist_nextval('orders_id_seq'), note text);
	SELECT seqdist.register('orders_id_seq');
	CREATE SEQUENCE down_seq INCREMENT -3 MAXVALUE -1 START -1;
	SELECT seqdist.register('down_seq');
	CREATE ROLE watcher LOGIN IN ROLE pg_monitor;
});
is(q1("SELECT extversion FROM pg_extension WHERE extname = 'seqdist'"), '1.0',
	'CREATE EXTENSION seqdist VERSION 1.0 installs 1.0');

my %seen;
my $duplicates = 0;
sub taken
{
	for (@_) { $duplicates++ if $seen{$_}++; }
	return @_;
}
taken(split /\n/, q1("INSERT INTO orders (note) SELECT 'before' FROM generate_series(1, 300) RETURNING id"));
my @down = taken(split /\n/, q1("SELECT seqdist.seqdist_nextval('down_seq') FROM generate_series(1, 50)"));

# a session that takes values across the update, holding cached ones
my $session = $node->background_psql('postgres', on_error_stop => 0);
my $before_in_session = $session->query_safe("SELECT seqdist.seqdist_nextval('orders_id_seq')");
taken($before_in_session);

is(q1("SELECT count(*) FROM seqdist.stats WHERE sequence IN ('orders_id_seq'::regclass, 'down_seq'::regclass) AND requests > 0"),
	2, 'at 1.0 the stats view shows both sequences');

# a second database stays at 1.0 throughout
$node->safe_psql('postgres', 'CREATE DATABASE stays');
q1('stays', q{
	CREATE EXTENSION seqdist VERSION '1.0';
	CREATE SEQUENCE stays_seq;
	SELECT seqdist.register('stays_seq');
});
taken(map { "stays:$_" } split /\n/,
	q1('stays', "SELECT seqdist.seqdist_nextval('stays_seq') FROM generate_series(1, 20)"));

my $max_before = q1('SELECT max(id) FROM orders');
$max_before = $before_in_session if $before_in_session > $max_before;
my $min_down = (sort { $a <=> $b } @down)[0];

# 2. The update
q1('ALTER EXTENSION seqdist UPDATE');
is(q1("SELECT extversion FROM pg_extension WHERE extname = 'seqdist'"), $default_version,
	"ALTER EXTENSION seqdist UPDATE brings it to $default_version");

my $after_in_session = $session->query_safe("SELECT seqdist.seqdist_nextval('orders_id_seq')");
taken($after_in_session);
cmp_ok($after_in_session, '>', $before_in_session,
	'a session open across the update goes on past its own values');
$session->quit;

my @after = taken(split /\n/,
	q1("INSERT INTO orders (note) SELECT 'after' FROM generate_series(1, 300) RETURNING id"));
is(scalar(grep { $_ <= $max_before } @after), 0,
	"after the update new sessions take values beyond every value handed out ($max_before)");
my @down_after = taken(split /\n/, q1("SELECT seqdist.seqdist_nextval('down_seq') FROM generate_series(1, 50)"));
is(scalar(grep { $_ >= $min_down } @down_after), 0,
	"a descending sequence goes on below every value handed out ($min_down)");

like(q1("SELECT requests || ' ' || coalesce(runway_seconds::text, 'idle') FROM seqdist.stats WHERE sequence = 'orders_id_seq'::regclass"),
	qr/^[1-9]\d* /, 'after the update the stats view works');
my ($ret, $out, $err) = $node->psql('postgres', 'SET ROLE watcher; SELECT count(*) > 0 FROM seqdist.stats');
is("$ret $out $err", '0 t ', 'pg_monitor still reads the stats view after the update');
is(q1('stays', "SELECT count(*) FROM seqdist.stats WHERE sequence = 'stays_seq'::regclass"), 1,
	'a database left at 1.0 keeps its stats view working with the same library');
taken(map { "stays:$_" } split /\n/,
	q1('stays', "SELECT seqdist.seqdist_nextval('stays_seq') FROM generate_series(1, 20)"));

# 3. A restart (the library upgrade's step) drops every cached value
my $max_after = q1('SELECT max(id) FROM orders');
$node->restart;
my @restarted = taken(split /\n/,
	q1("INSERT INTO orders (note) SELECT 'restarted' FROM generate_series(1, 100) RETURNING id"));
is(scalar(grep { $_ <= $max_after } @restarted), 0,
	"after a restart values go on beyond every value handed out ($max_after)");
q1('stays', 'ALTER EXTENSION seqdist UPDATE');
my @stays = taken(map { "stays:$_" } split /\n/,
	q1('stays', "SELECT seqdist.seqdist_nextval('stays_seq') FROM generate_series(1, 20)"));
is(scalar(@stays), 20, 'the database left at 1.0 updates after the restart and goes on');
is($duplicates, 0, 'no value was handed out twice');

# 4. The upgraded objects are those of a fresh install of the default version:
#    every member of the extension with its definition, privileges and
#    comment, and the extension's configuration tables.
my $objects = q{
	WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'seqdist'),
	members AS (
		SELECT d.classid, d.objid
		FROM pg_depend d, ext
		WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e')
	SELECT pg_describe_object(m.classid, m.objid, 0) || ' | ' || coalesce(
		CASE m.classid
		WHEN 'pg_proc'::regclass THEN (
			SELECT concat_ws(' ', pg_get_function_arguments(p.oid), '->', pg_get_function_result(p.oid),
				p.prolang::regproc, p.provolatile, p.proisstrict, p.proparallel, p.prosecdef,
				p.proconfig::text, p.probin, md5(p.prosrc), p.proacl::text)
			FROM pg_proc p WHERE p.oid = m.objid)
		WHEN 'pg_class'::regclass THEN (
			SELECT concat_ws(' ', c.relkind, c.relacl::text,
				CASE c.relkind WHEN 'v' THEN pg_get_viewdef(c.oid) END,
				(SELECT string_agg(concat_ws(' ', a.attname, format_type(a.atttypid, a.atttypmod),
						a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid)), ', ' ORDER BY a.attnum)
				 FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
				 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
				(SELECT string_agg(pg_get_constraintdef(k.oid), ', ' ORDER BY k.conname)
				 FROM pg_constraint k WHERE k.conrelid = c.oid),
				(SELECT string_agg(pg_get_indexdef(i.indexrelid), ', ' ORDER BY i.indexrelid::regclass::text)
				 FROM pg_index i WHERE i.indrelid = c.oid))
			FROM pg_class c WHERE c.oid = m.objid)
		WHEN 'pg_event_trigger'::regclass THEN (
			SELECT concat_ws(' ', e.evtevent, e.evtenabled, e.evtfoid::regproc, e.evttags::text)
			FROM pg_event_trigger e WHERE e.oid = m.objid)
		END, '') || ' | ' || coalesce(pg_catalog.obj_description(m.objid, m.classid::regclass::name), '')
	FROM members m
	UNION ALL
	SELECT 'configuration: ' || coalesce((SELECT string_agg(c::regclass::text || ' ' || coalesce(w, ''), ', ')
		FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(c, w)
		WHERE e.extname = 'seqdist'), 'none')
	ORDER BY 1
};
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
q1('fresh', 'CREATE EXTENSION seqdist');
is(q1('fresh', "SELECT extversion FROM pg_extension WHERE extname = 'seqdist'"), $default_version,
	"a fresh CREATE EXTENSION installs $default_version");
my $upgraded = q1($objects);
my $fresh = q1('fresh', $objects);
cmp_ok(scalar(split /\n/, $fresh), '>', 20, 'the listing of the fresh install has every member');
is($upgraded, $fresh, 'the upgraded extension has the same objects as a fresh install');
is(q1('stays', $objects), $fresh, 'so has the database updated after the restart');

# The stats entry point checks that the SQL function matches it
($ret, $out, $err) = $node->psql('postgres', q{
	CREATE FUNCTION public.stats_mismatched(OUT dbid oid, OUT seqrelid oid)
	RETURNS SETOF record AS '$libdir/seqdist', 'seqdist_stats_1_0' LANGUAGE C;
	SELECT * FROM public.stats_mismatched();
}, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  42P17: function stats_mismatched declares 2 result columns, but seqdist's seqdist_stats_1_0 returns 19/,
	'a SQL function whose columns do not match the entry point gets a clear error');

done_testing();
