# Bulk migration: the DynamoDB requests of many sequences go out
# concurrently and bounded (seqdist.bulk_concurrency), in a fixed number
# of requests per sequence; lost answers and failures in the middle of a
# batch neither duplicate a write nor leave a sequence half-migrated; a
# migration in batches (CALL seqdist.migrate_in_batches) commits step by
# step.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use SeqdistTest;

my $tables = 60;
my $dynamo = start_dynamo();
my $node = new_node('bulk', $dynamo, conf => "seqdist.refill = off\n");

$node->safe_psql('postgres', qq{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE SCHEMA bulk;
	DO \$\$ BEGIN FOR i IN 1 .. $tables LOOP
		EXECUTE format('CREATE TABLE bulk.t%s (id serial PRIMARY KEY, v text)', i);
		EXECUTE format('INSERT INTO bulk.t%s (id, v) VALUES (%s, ''x'')', i, 100 * i);
	END LOOP; END \$\$;
});

sub ops
{
	my $stats = dynamo_stats($dynamo);
	my %n = map { $_ => ($stats->{by_operation}{$_}{total} // 0) } qw(GetItem BatchGetItem PutItem UpdateItem);
	return (\%n, $stats);
}

sub migrated_count
{
	return $node->safe_psql('postgres',
		q{SELECT count(*) FROM seqdist.migrated_sequences WHERE seqrelid::text LIKE 'bulk.%'});
}

# every migrated table's next value lies beyond what it holds
sub check_inserts
{
	my ($what) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', qq{
		DO \$\$ DECLARE m bigint; n bigint; bad int := 0; BEGIN
			FOR i IN 1 .. $tables LOOP
				EXECUTE format('SELECT max(id) FROM bulk.t%s', i) INTO m;
				EXECUTE format('INSERT INTO bulk.t%s (v) VALUES (''y'') RETURNING id', i) INTO n;
				IF n <= m THEN bad := bad + 1; END IF;
			END LOOP;
			RAISE NOTICE 'bad %', bad;
		END \$\$});
	like($err, qr/NOTICE:  bad 0/, "$what: every table's next value lies beyond its maximum");
}

#---- concurrent, bounded, a fixed number of requests ------------------------

dynamo_reset($dynamo);
dynamo_faults($dynamo, { target => '*', mode => 'delay', ms => 150 });
my ($ret, $out, $err) = $node->psql('postgres',
	q{SET seqdist.bulk_concurrency = 16;
	  SELECT status, count(*) FROM seqdist.migrate('bulk') GROUP BY 1});
is($out, "migrated|$tables", "all $tables sequences are migrated in one call");
like($err, qr/NOTICE:  seqdist migrate: $tables of $tables sequences done \($tables migrated, 0 skipped\)/,
	'the call reports its progress');
my ($n, $stats) = ops();
note explain $stats;
is($n->{GetItem}, 0, 'no item is read alone');
is($n->{BatchGetItem}, 1, 'the items are read in one BatchGetItem (100 keys a request)');
is($n->{PutItem}, $tables, 'one creation per new counter');
is($n->{UpdateItem}, 0, 'no other write');
cmp_ok($stats->{max_in_flight}, '>', 1, 'requests go out concurrently');
cmp_ok($stats->{max_in_flight}, '<=', 16, 'no more in flight than seqdist.bulk_concurrency');
dynamo_faults($dynamo);
is($node->safe_psql('postgres', q{SELECT count(*) FROM seqdist.verify('bulk') WHERE ok}), $tables,
	'verify: every sequence is ok');
check_inserts('after the bulk migration');

#---- rollback, then join the existing counters again, with lost answers ----

dynamo_reset($dynamo);
dynamo_faults($dynamo, { target => '*', mode => 'delay', ms => 100 });
is($node->safe_psql('postgres', q{SET seqdist.bulk_concurrency = 16;
	SELECT count(*) FROM seqdist.rollback('bulk') WHERE status = 'rolled back'}),
	$tables, 'all sequences rolled back');
($n, $stats) = ops();
is($n->{BatchGetItem}, 1, 'rollback: the positions are read at once when it commits');
is($n->{UpdateItem}, $tables, 'rollback: one leave per counter');
cmp_ok($stats->{max_in_flight}, '>', 1, 'rollback: the leaves go out concurrently');
cmp_ok($stats->{max_in_flight}, '<=', 16, 'rollback: no more in flight than seqdist.bulk_concurrency');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM generate_series(1, $tables) i,
	       LATERAL (SELECT nextval(format('bulk.t%s_id_seq', i)) AS v) n
	 WHERE n.v > (SELECT 100 * i + 1)}), $tables,
	'rollback: every native sequence goes on beyond its counter');
dynamo_reset($dynamo);
# the first 5 creations and the first 5 joins are applied but their answers lost
dynamo_faults($dynamo,
	{ target => 'PutItem', mode => 'after_forward_reset', count => 5 },
	{ target => 'UpdateItem', mode => 'after_forward_reset', count => 5 });
($ret, $out, $err) = $node->psql('postgres',
	q{SELECT status, count(*) FROM seqdist.migrate('bulk') GROUP BY 1});
is($out, "migrated|$tables", 'migrating again joins every existing counter, through lost answers');
($n, $stats) = ops();
note explain $stats;
is($stats->{by_fault}{after_forward_reset}, 10, 'ten answers were lost');
my $clients = $node->safe_psql('postgres', qq{
	SELECT count(*) FROM seqdist.migrated_sequences m,
	       LATERAL seqdist._counter_item_by_key(m.counter_key) i
	 WHERE m.seqrelid::text LIKE 'bulk.%'
	   AND jsonb_array_length(i->'clients') = 1
	   AND (i->>'last_value')::bigint >= 100 * (regexp_match(m.seqrelid::text, 't([0-9]+)_id_seq'))[1]::int});
is($clients, $tables, 'each counter has this one client and is beyond its table');
is($node->safe_psql('postgres', q{SELECT count(*) FROM seqdist.verify('bulk') WHERE ok}), $tables,
	'verify: every sequence is ok after the lost answers');
check_inserts('after migrating again');

#---- DynamoDB failing in the middle: skipped whole, nothing changed --------

$node->safe_psql('postgres', q{SELECT count(*) FROM seqdist.rollback('bulk')});
$node->safe_psql('postgres', qq{
	CREATE SCHEMA fresh;
	DO \$\$ BEGIN FOR i IN 1 .. 10 LOOP
		EXECUTE format('CREATE TABLE fresh.f%s (id bigserial PRIMARY KEY)', i);
	END LOOP; END \$\$;
});
dynamo_reset($dynamo);
dynamo_faults($dynamo, { target => 'PutItem', mode => 'http500' });
($ret, $out, $err) = $node->psql('postgres',
	q{SET seqdist.max_attempts = 2; SET seqdist.retry_base_delay = 10;
	  SELECT status, count(*) FROM seqdist.migrate('fresh') GROUP BY 1},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
is($out, 'skipped|10', 'every sequence whose counter cannot be written is skipped');
like($err, qr/WARNING:  01000: sequence fresh\.f\d+_id_seq not migrated: DynamoDB is unavailable.*\n.*DETAIL:  SQLSTATE 08006; nothing of this sequence was changed/,
	'with a WARNING naming the sequence and the error');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM seqdist.migrated_sequences WHERE seqrelid::text LIKE 'fresh.%'
	UNION ALL SELECT count(*) FROM seqdist.sequences WHERE seqrelid::text LIKE 'fresh.%'
	UNION ALL SELECT count(*) FROM pg_attrdef d WHERE d.adrelid::regclass::text LIKE 'fresh.%'
	          AND pg_get_expr(d.adbin, d.adrelid) LIKE 'seqdist.%'}), "0\n0\n0",
	'nothing of them was changed locally');
dynamo_faults($dynamo);
is($node->safe_psql('postgres', q{SELECT count(*) FROM seqdist.migrate('fresh') WHERE status = 'migrated'}),
	10, 'once DynamoDB answers, they migrate');

# an answer of the wrong shape to the reads: refused, nothing changed
$node->safe_psql('postgres', q{SELECT count(*) FROM seqdist.rollback('fresh')});
dynamo_faults($dynamo, { target => 'BatchGetItem', mode => 'wrongshape' });
$err = error_of($node, q{SELECT count(*) FROM seqdist.migrate('fresh')});
like($err, qr/ERROR:  08P01: malformed response from DynamoDB to BatchGetItem/,
	'an answer to the reads that lists no items is an error, not "no counter"');
is($node->safe_psql('postgres', q{SELECT count(*) FROM seqdist.migrated_sequences WHERE seqrelid::text LIKE 'fresh.%'}),
	'0', 'and nothing was migrated');
dynamo_faults($dynamo);

#---- in batches: one transaction per batch ---------------------------------

($ret, $out, $err) = $node->psql('postgres', q{CALL seqdist.migrate_in_batches('bulk', 25)},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
is($ret, 0, 'CALL seqdist.migrate_in_batches succeeds');
like($err, qr/NOTICE:  00000: seqdist migrate: 25 of $tables sequences done \(25 migrated, 0 skipped\).*NOTICE:  00000: seqdist migrate: 50 of $tables .*NOTICE:  00000: seqdist migrate: $tables of $tables sequences done \($tables migrated, 0 skipped\)/s,
	'it reports each batch');
is(migrated_count(), $tables, 'every sequence is migrated');
is($node->safe_psql('postgres', q{SELECT count(*) FROM seqdist.verify('bulk') WHERE ok}), $tables,
	'verify: every sequence is ok');
check_inserts('after the migration in batches');

# each batch is its own transaction: a batch that fails leaves the earlier ones committed
$node->safe_psql('postgres', q{SELECT count(*) FROM seqdist.rollback('bulk')});
$node->safe_psql('postgres', q{
	CREATE FUNCTION public.stop_at_t40() RETURNS event_trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF EXISTS (SELECT FROM pg_event_trigger_ddl_commands() c WHERE c.objid = 'bulk.t40'::regclass) THEN
			RAISE EXCEPTION USING ERRCODE = 'admin_shutdown', MESSAGE = 'stopped at t40';
		END IF;
	END $$;
	CREATE EVENT TRIGGER stop_at_t40 ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
		EXECUTE FUNCTION public.stop_at_t40();
});
($ret, $out, $err) = $node->psql('postgres', q{CALL seqdist.migrate_in_batches('bulk', 25)});
isnt($ret, 0, 'a batch that is stopped ends the call');
like($err, qr/stopped at t40/, 'with its error');
# the sequences sort by name: t10_id_seq .. t19_id_seq, t1_id_seq, t20_id_seq ..:
# t40's is the 34th, in the second batch
is(migrated_count(), 25, 'the batch before it stays committed; the stopped batch left nothing');
$node->safe_psql('postgres', q{DROP EVENT TRIGGER stop_at_t40});
($ret, $out, $err) = $node->psql('postgres', q{CALL seqdist.migrate_in_batches('bulk')});
is(migrated_count(), $tables, 'called again, it migrates the rest');

# and back, in batches
($ret, $out, $err) = $node->psql('postgres', q{CALL seqdist.rollback_in_batches('bulk', 25)},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
is($ret, 0, 'CALL seqdist.rollback_in_batches succeeds');
like($err, qr/NOTICE:  00000: seqdist rollback: 25 of $tables sequences done \(25 rolled back, 0 skipped\).*NOTICE:  00000: seqdist rollback: $tables of $tables sequences done \($tables rolled back, 0 skipped\)/s,
	'it reports each batch');
is(migrated_count(), 0, 'no sequence is migrated any more');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM generate_series(1, $tables) i
	 WHERE nextval(format('bulk.t%s_id_seq', i))
	       > (seqdist._counter_item_by_key(format('postgres.bulk.t%s_id_seq', i))->>'last_value')::bigint}),
	$tables, 'every native sequence goes on beyond its counter');
$node->safe_psql('postgres', q{CALL seqdist.migrate_in_batches('bulk')});

# bad input
$err = error_of($node, q{CALL seqdist.migrate_in_batches('bulk', 0)});
like($err, qr/ERROR:  22023: batch size must be at least 1, not 0/, 'a batch size below 1 is refused');
$err = error_of($node, q{BEGIN; CALL seqdist.migrate_in_batches('bulk', 10); COMMIT;});
like($err, qr/ERROR:  2D000: invalid transaction termination/,
	'inside a transaction block, the first COMMIT is refused');
$err = error_of($node, q{CALL seqdist.migrate_in_batches('no_such_schema')});
like($err, qr/ERROR:  42704: no sequence, table or schema named no_such_schema/, 'an unknown scope is refused');

#---- a timeout while a sequence's lock is awaited: the session stays usable --

$node->safe_psql('postgres', q{CREATE SCHEMA held; CREATE TABLE held.h (id bigserial PRIMARY KEY)});
# another session takes a native value and keeps its transaction open: it
# holds the sequence's lock, which the registration waits for
my ($hout, $herr) = ('', '');
my $holder = IPC::Run::start(
	[
		'psql', '-X', '-q', '-A', '-t', '-h', $node->host, '-p', $node->port, '-d', 'postgres',
		'-c', q{BEGIN; SELECT nextval('held.h_id_seq'); SELECT pg_sleep(8); COMMIT;}
	],
	'>', \$hout, '2>', \$herr);
$node->poll_query_until('postgres', q{
	SELECT count(*) > 0 FROM pg_locks
	WHERE relation = 'held.h_id_seq'::regclass AND mode = 'RowExclusiveLock' AND granted})
  or die 'the other session did not take the lock';
($ret, $out, $err) = $node->psql('postgres',
	q{SET statement_timeout = '1s';
	  SELECT count(*) FROM seqdist.migrate('held');
	  RESET statement_timeout;
	  SELECT 'usable';
	  SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 'held.h'::regclass;},
	on_error_stop => 0);
like($err, qr/canceling statement due to statement timeout/, 'the migration waiting for the lock times out');
unlike($err, qr/current transaction is aborted/, 'the session is not left in an aborted transaction');
is($out, "usable\n0", 'the next statements run, and no lock of the migration is left');
$holder->finish;
is($node->safe_psql('postgres', q{SELECT count(*) FROM seqdist.migrate('held') WHERE status = 'migrated'}),
	'1', 'once the other session is gone, it migrates');
$node->safe_psql('postgres', q{SELECT count(*) FROM seqdist.rollback('held')});

#---- a dropped sequence's leave that cannot be sent does not fail the DROP --

# a cluster without credentials in its environment: the session brings them
my $nocreds = new_node('nocreds', $dynamo, env => { no_credentials() });
my %cred = test_credentials();
my $session = "SET seqdist.aws_access_key_id = '$cred{AWS_ACCESS_KEY_ID}';\n"
  . "SET seqdist.aws_secret_access_key = '$cred{AWS_SECRET_ACCESS_KEY}';\n";
$nocreds->safe_psql('postgres', $session . q{
	CREATE EXTENSION seqdist;
	CREATE SEQUENCE dropme;
	SELECT seqdist.register('dropme');});
# the credentials are gone by the time the DROP commits
($ret, $out, $err) = $nocreds->psql('postgres', $session . q{
	BEGIN;
	DROP SEQUENCE dropme;
	RESET seqdist.aws_access_key_id;
	RESET seqdist.aws_secret_access_key;
	COMMIT;
	SELECT to_regclass('dropme') IS NULL;});
is($out, 't', 'the DROP commits though its leave cannot be signed') or diag $err;
like($err, qr/WARNING:  could not remove a dropped sequence from the clients of counter "postgres\.public\.dropme"/,
	'the leave that failed is a WARNING');
$nocreds->stop;

#---- a backend's file descriptors: sockets count with its open files ------

# A cluster whose processes may open 160 files: PostgreSQL keeps its own
# files within what it has left, and the sockets of a batch must fit in it
# too, or an open somewhere (a relation, a shared memory segment, a
# socket) fails with EMFILE.
my $wrap = PostgreSQL::Test::Utils::tempdir();
my $real = $node->config_data('--bindir') . '/pg_ctl';
open(my $fh, '>', "$wrap/pg_ctl") or die "$wrap/pg_ctl: $!";
print $fh "#!/bin/sh\nexec prlimit --nofile=160:160 -- '$real' \"\$@\"\n";
close $fh;
chmod 0755, "$wrap/pg_ctl";
my $lowfd;
{
	local $ENV{PATH} = "$wrap:$ENV{PATH}";
	$lowfd = new_node('lowfd', $dynamo, conf => "seqdist.refill = off\n");
}
my $limit = `prlimit --pid $lowfd->{_pid} --nofile --noheadings --output SOFT`;
$limit =~ s/\s+//g;
is($limit, '160', 'the cluster runs with 160 file descriptors');
$lowfd->safe_psql('postgres', q{
	CREATE EXTENSION seqdist;
	CREATE SCHEMA many;
	DO $$ BEGIN FOR i IN 1 .. 150 LOOP
		EXECUTE format('CREATE TABLE many.m%s (id bigserial PRIMARY KEY, v text)', i);
		EXECUTE format('INSERT INTO many.m%s (v) VALUES (''x'')', i);
	END LOOP; END $$;
});
($ret, $out, $err) = $lowfd->psql('postgres',
	q{SET seqdist.bulk_concurrency = 100;
	  SELECT status, count(*) FROM seqdist.migrate('many') GROUP BY 1});
is($out, 'migrated|150', '150 sequences migrate with 100 requests in flight and 160 descriptors');
unlike($err, qr/Too many open files|ERROR|WARNING/, 'no descriptor ran out')
  or diag($err);
is($lowfd->safe_psql('postgres', q{SELECT count(*) FROM seqdist.rollback('many') WHERE status = 'rolled back'}),
	'150', 'and roll back');
$lowfd->stop;

$node->stop;
stop_dynamo($dynamo);
done_testing();
