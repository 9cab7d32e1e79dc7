# A COPY that fills a migrated identity column, started while the migration
# of that column's sequence is still open, waits for the migration and then
# takes counter values, rather than deciding before the wait that the
# sequence is native and meeting the fence once the migration commits.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);
use SeqdistTest;

my $dynamo = start_dynamo();
my $node = new_node('copywait', $dynamo);
$node->safe_psql('postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE TABLE idc (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
	INSERT INTO idc (v) SELECT 'before' FROM generate_series(1, 3);
});
my $file = $node->basedir . '/rows.txt';
open(my $fh, '>', $file) or die;
print $fh "copied\n" x 5;
close $fh;
chmod 0644, $file;

# The migration holds its locks until its transaction ends, 3 s later
my ($aout, $aerr) = ('', '');
my $a = IPC::Run::start(
	[
		'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', $node->host,
		'-p', $node->port, '-d', 'postgres', '-c',
		q{BEGIN; SELECT count(*) FROM seqdist.migrate('idc'); SELECT pg_sleep(3); COMMIT;}
	],
	'>', \$aout, '2>', \$aerr);
# wait until the migration holds the sequence's lock
$node->poll_query_until('postgres', q{
	SELECT count(*) > 0 FROM pg_locks
	WHERE relation = 'idc_id_seq'::regclass AND mode = 'ShareRowExclusiveLock' AND granted})
  or die 'the migration did not take the lock';

my $started = time;
my ($ret, $out, $err) = $node->psql('postgres', "COPY idc (v) FROM '$file'");
$a->finish;
is($a->result(0), 0, 'the migration committed') or diag $aerr;
is($ret, 0, 'the COPY that waited for the migration succeeded') or diag $err;
unlike($err, qr/reached maximum value/, 'it did not meet the fence');
is($node->safe_psql('postgres', q{SELECT count(*), count(DISTINCT id) FROM idc}), '8|8',
	'all rows are there, every id distinct');
is($node->safe_psql('postgres', q{SELECT count(*) FROM seqdist.verify('idc') WHERE ok}), '1',
	'verify: the migration is whole');
# the copied rows' ids came from the counter, which the migration seeded
# beyond the native position
is($node->safe_psql('postgres', q{SELECT min(id) > 3 FROM idc WHERE v = 'copied'}), 't',
	'the copied rows took values beyond the native ones');

# DROP EXTENSION while an identity column is migrated: no dependency stops
# it, and the fenced native sequence would fail every insert afterwards
($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\nDROP EXTENSION seqdist");
isnt($ret, 0, 'DROP EXTENSION is refused while a sequence is migrated');
like($err, qr/2BP01/, 'with SQLSTATE 2BP01');
like($err, qr/seqdist\.rollback/, 'and a hint naming the rollback');
$node->safe_psql('postgres', q{INSERT INTO idc (v) VALUES ('after refused drop')});
is($node->safe_psql('postgres', q{SELECT count(*) FROM seqdist.rollback()}), '1', 'rolled back');
($ret, $out, $err) = $node->psql('postgres', 'DROP EXTENSION seqdist');
is($ret, 0, 'after the rollback DROP EXTENSION works') or diag $err;
$node->safe_psql('postgres', q{INSERT INTO idc (v) VALUES ('native again')});
is($node->safe_psql('postgres', q{SELECT count(*), count(DISTINCT id) FROM idc}), '10|10',
	'inserts work natively after the extension is gone, every id distinct');

done_testing();
