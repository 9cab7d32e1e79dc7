# Prewarm after a restart: the instance keeps the list of sequences it
# served in its data directory (written when the worker stops, atomically,
# with no secret in it); after a restart the worker reserves a block for
# each before backends ask, so their first calls do not wait for DynamoDB.
# seqdist.prewarm = off restores the old behaviour; a damaged file is
# ignored with a LOG line; a sequence altered or dropped after the list was
# written is never served under its old definition.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeqdistTest;

my $nseq = 30;
my $dynamo = start_dynamo();
my $node = new_node('prewarm', $dynamo,
	conf => "seqdist.block_size = 100\n" . "seqdist.runway = '2s'\n");
$node->safe_psql('postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
});
$node->safe_psql('postgres',
	join('', map { "CREATE SEQUENCE s$_; SELECT seqdist.register('s$_');\n" } 1 .. $nseq));
my $list = $node->data_dir . '/seqdist_prewarm.list';

# every sequence in use by two clients
my $script = "$PostgreSQL::Test::Utils::tmp_check/pick.sql";
PostgreSQL::Test::Utils::append_to_file($script,
	"\\set i random(1, $nseq)\n" . "SELECT seqdist.seqdist_nextval(('s' || :i)::regclass);\n");
$node->command_ok(
	[
		'pgbench', '-n', '-c', '2', '-j', '2', '-T', '2',
		'-f', $script, '-h', $node->host, '-p', $node->port, 'postgres'
	],
	"load on $nseq sequences");

# After a restart, what the first call of each sequence did, summed:
# blocks by the worker and by backends, and backend waits.
sub first_touch
{
	$node->safe_psql('postgres',
		"SELECT seqdist.seqdist_nextval(('s' || i)::regclass) FROM generate_series(1, $nseq) i");
	return split /\|/, $node->safe_psql('postgres',
		"SELECT coalesce(sum(blocks_by_worker), 0), coalesce(sum(blocks_by_backend), 0), coalesce(sum(backend_waits), 0) FROM seqdist.stats");
}

sub prewarm_line
{
	my ($offset) = @_;
	$node->wait_for_log(qr/seqdist prewarmed \d+ of \d+ sequences/, $offset);
	slurp_file($node->logfile, $offset) =~ /seqdist prewarmed (\d+) of (\d+) sequences/;
	return ($1, $2);
}

# 1. a restart with prewarm on
my $offset = -s $node->logfile;
$node->restart;
ok(-f $list, 'the prewarm list was written in the data directory');
like(slurp_file($node->logfile, $offset), qr/seqdist wrote the prewarm list of $nseq sequences/,
	'it was written at shutdown, with every sequence in use');
my %cred = test_credentials();
my $bytes = slurp_file($list);
ok(index($bytes, $cred{AWS_SECRET_ACCESS_KEY}) < 0 && index($bytes, $cred{AWS_ACCESS_KEY_ID}) < 0,
	'the list holds no credential');
ok(!-e "$list.tmp", 'no temporary file is left behind');
my ($done, $listed) = prewarm_line($offset);
is($listed, $nseq, 'after the restart the worker read the list');
is($done, $nseq, 'and reserved a block for each sequence');
my ($by_worker, $by_backend, $waits) = first_touch();
note("measured: prewarm on: blocks by worker $by_worker, by backends $by_backend, backend waits $waits");
is($by_backend, 0, 'no backend reserved a block for its first call');
is($waits, 0, 'no backend waited for DynamoDB on its first call');
is($by_worker, $nseq, 'the worker had reserved them, one request each');
# each request reserved the block and its spare: the first values taken
# set off no second round of requests, one per sequence, a few ticks later
sleep(1);
is($node->safe_psql('postgres', 'SELECT sum(blocks_by_worker) FROM seqdist.stats'), $nseq,
	'a second later the worker had sent nothing more: every sequence still had its spare');

# 2. prewarm off: the old behaviour, each first call reserves its own block
$node->append_conf('postgresql.conf', "seqdist.prewarm = off\n");
$offset = -s $node->logfile;
$node->restart;
($by_worker, $by_backend, $waits) = first_touch();
note("measured: prewarm off: blocks by worker $by_worker, by backends $by_backend, backend waits $waits");
unlike(slurp_file($node->logfile, $offset), qr/seqdist prewarmed/,
	'with prewarm off the list is not read');
is($by_backend, $nseq, 'each first call reserved its own block');
is($waits, $nseq, 'and waited for it');

$offset = -s $node->logfile;
$node->stop;
unlike(slurp_file($node->logfile, $offset), qr/seqdist wrote the prewarm list/,
	'nor written');

# 3. a damaged file, and a file of another cluster, are ignored
$node->append_conf('postgresql.conf', "seqdist.prewarm = on\n");
my $good = slurp_file($list);
for my $case (
	[ 'garbage', "this is not a prewarm list\n" x 20, qr/it is not a seqdist prewarm list/ ],
	[ 'a flipped byte', do { my $b = $good; substr($b, 40, 1) = chr(ord(substr($b, 40, 1)) ^ 0x55); $b }, qr/its checksum does not match/ ],
	[ 'another cluster', do { my $b = $good; substr($b, 8, 8) = "\x01\x02\x03\x04\x05\x06\x07\x08"; $b }, qr/another database cluster/ ],
	[ 'a truncated file', substr($good, 0, length($good) - 7), qr/its length is wrong/ ])
{
	my ($name, $content, $why) = @$case;
	open(my $fh, '>:raw', $list) or die "cannot write $list: $!";
	print $fh $content;
	close $fh;
	$offset = -s $node->logfile;
	$node->start;
	$node->wait_for_log(qr/seqdist ignores file "seqdist_prewarm.list"/, $offset);
	like(slurp_file($node->logfile, $offset), $why, "$name: ignored with a LOG line saying why");
	($by_worker, $by_backend, $waits) = first_touch();
	is($by_backend, $nseq, "$name: nothing was prewarmed, every sequence still works");
	$node->stop;
	# the stop wrote a good list again
}

# 4. A list written before an ALTER and a DROP, then a crash: the altered
# sequence is never served under its old definition, the dropped one is
# just skipped.
$node->start;
first_touch();
$node->restart;    # the list now holds all 30
$node->safe_psql('postgres', q{
	SELECT seqdist.seqdist_nextval('s2');
	ALTER SEQUENCE s2 INCREMENT BY 7;
	DROP SEQUENCE s3;
});
$offset = -s $node->logfile;
$node->stop('immediate');
$node->start;
($done, $listed) = prewarm_line($offset);
note("measured: after ALTER, DROP and a crash: prewarmed $done of $listed");
is($listed, $nseq, 'the list from before the ALTER and the DROP was read');
cmp_ok($done, '<=', $nseq - 2, 'neither the altered nor the dropped sequence got a block');
my ($a, $b) = split /\|/, $node->safe_psql('postgres',
	"SELECT seqdist.seqdist_nextval('s2'), seqdist.seqdist_nextval('s2')");
is($b - $a, 7, 'the altered sequence hands out values of its new increment');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 's3'"), '0',
	'the dropped sequence stays dropped');

# 5. The block and its spare of one prewarm request follow each other, for
# any increment: a descending sequence by 7, taken across the split.
$node->safe_psql('postgres', "CREATE SEQUENCE d7 INCREMENT BY -7; SELECT seqdist.register('d7')");
my $last = $node->safe_psql('postgres',
	"SELECT min(seqdist.seqdist_nextval('d7')) FROM generate_series(1, 5)");
$offset = -s $node->logfile;
$node->restart;
prewarm_line($offset);
my ($requests, $cached) = split /\|/, $node->safe_psql('postgres',
	"SELECT blocks_by_worker, cached_values FROM seqdist.stats WHERE sequence = 'd7'::regclass");
is($requests, 1, 'the descending sequence was prewarmed by one request');
cmp_ok($cached, '>=', 2, 'which reserved its block and its spare');
my @v = split /\n/, $node->safe_psql('postgres',
	"SELECT seqdist.seqdist_nextval('d7') FROM generate_series(1, $cached)");
my $steps = grep { $v[$_] == $v[$_ - 1] - 7 } 1 .. $#v;
is($steps, $#v, "the $cached values of block and spare follow each other by -7, across the split");
cmp_ok($v[0], '<', $last, 'after the values handed out before the restart');

done_testing();
