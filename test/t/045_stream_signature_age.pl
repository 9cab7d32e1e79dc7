# A stream of requests sends no signature older than a minute: the
# requests of a bulk call are signed when the stream starts, none starts
# once its signature is 60 s old, and the caller signs the rest anew and
# sends them again.  DynamoDB refuses an X-Amz-Date too far from its clock
# ("Signature expired"); here the local DynamoDB accepts 65 s only, and a
# migration sends its creations one at a time, each delayed a second, so
# that its stream lasts longer than that.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use Time::Local qw(timegm);
use SeqdistTest;

my $tables = 72;      # creations, one a second: a stream of about 73 s
my $delay_ms = 1000;
my $skew_s = 65;      # above the stream's cut-off of 60 s, with the X-Amz-Date's whole seconds and a stall to spare

my $dynamo = start_dynamo(max_skew_s => $skew_s);
my $node = new_node('sigage', $dynamo, conf => "seqdist.refill = off\n");

$node->safe_psql('postgres', qq{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE SCHEMA aged;
	DO \$\$ BEGIN FOR i IN 1 .. $tables LOOP
		EXECUTE format('CREATE TABLE aged.t%s (id serial PRIMARY KEY, v text)', i);
		EXECUTE format('INSERT INTO aged.t%s (id, v) VALUES (%s, ''x'')', i, 10 * i);
	END LOOP; END \$\$;
});

# "20260102T030405Z" -> seconds since the epoch
sub amz_time
{
	my ($date) = @_;
	$date =~ /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/ or return undef;
	return timegm($6, $5, $4, $3, $2 - 1, $1);
}

dynamo_reset($dynamo);
dynamo_faults($dynamo, { target => 'PutItem', mode => 'delay', ms => $delay_ms });
my $started = time;
my ($ret, $out, $err) = $node->psql('postgres',
	q{SET seqdist.bulk_concurrency = 1;
	  SELECT status, count(*) FROM seqdist.migrate('aged') GROUP BY 1});
my $took = time - $started;
my $stats = dynamo_stats($dynamo);
dynamo_faults($dynamo);
note explain $stats;
note sprintf('the migration took %.1f s', $took);

is($out, "migrated|$tables", "all $tables sequences are migrated in one call");
unlike($err, qr/WARNING|ERROR/, 'no sequence is skipped, nothing fails');
# what makes the test: signed only once, the last creations would be older
# than the local DynamoDB accepts
cmp_ok($took, '>', $skew_s + 2,
	"the stream lasts longer than the $skew_s s a signature is accepted for");

my $put = $stats->{by_operation}{PutItem} // {};
is($stats->{signature_failures}, 0, 'no request is refused for its signature');
is_deeply($stats->{by_auth_error}, {},
	'no InvalidSignatureException ("Signature expired"), nor any other refusal');
is($put->{total}, $tables,
	'one PutItem per sequence: each sent once, when it was signed anew too');
cmp_ok($stats->{max_signature_age_ms}, '<', $skew_s * 1000,
	'the oldest signature DynamoDB saw was within its window');
cmp_ok($stats->{max_signature_age_ms}, '>', 55 * 1000,
	'and near the cut-off: the stream sent requests signed almost a minute before');
my ($first, $last) = (amz_time($put->{first_date} // ''), amz_time($put->{last_date} // ''));
ok(defined $first && defined $last && $last - $first >= 60,
	'the requests not started within a minute were signed anew: their X-Amz-Date is a minute '
	  . 'later than the first ones\' (' . ($put->{first_date} // 'none') . ' to '
	  . ($put->{last_date} // 'none') . ')');

is($node->safe_psql('postgres', q{SELECT count(*) FROM seqdist.verify('aged') WHERE ok}), $tables,
	'verify: every sequence is ok');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM seqdist.migrated_sequences m,
	       LATERAL seqdist._counter_item_by_key(m.counter_key) i
	 WHERE m.seqrelid::text LIKE 'aged.%'
	   AND jsonb_array_length(i->'clients') = 1
	   AND (i->>'last_value')::bigint >= 10 * (regexp_match(m.seqrelid::text, 't([0-9]+)_id_seq'))[1]::int}),
	$tables, "each counter has this one client and is at or beyond its table's maximum");
($ret, $out, $err) = $node->psql('postgres', qq{
	DO \$\$ DECLARE n bigint; bad int := 0; BEGIN
		FOR i IN 1 .. $tables LOOP
			EXECUTE format('INSERT INTO aged.t%s (v) VALUES (''y'') RETURNING id', i) INTO n;
			IF n <= 10 * i THEN bad := bad + 1; END IF;
		END LOOP;
		RAISE NOTICE 'bad %', bad;
	END \$\$});
like($err, qr/NOTICE:  bad 0/, "every table's next value lies beyond its maximum");

done_testing();
