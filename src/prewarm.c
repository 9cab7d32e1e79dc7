/*-------------------------------------------------------------------------
 *
 * prewarm.c
 *		The prewarm list: which sequences this instance served, on disk.
 *
 * After a restart (or a crash, or a failover to a server that kept its data
 * directory) every sequence's instance cache is empty, and each one's first
 * seqdist_nextval would wait for its own DynamoDB round trip.  So the
 * refill worker writes, every PREWARM_DUMP_INTERVAL_MS and when it stops,
 * the list of sequences whose slots handed out values since the instance
 * started, with what a slot needs to reserve a block without a database
 * connection: database and sequence oids, the definition and counter key
 * the blocks were reserved under, the block size and the demand.  When it
 * starts after the instance started, it reads the list and reserves a block
 * for each, most demanded first (refill_worker.c).
 *
 * The file holds no secret: oids, sequence parameters, counter keys and
 * hashes of the store's settings.  It is written to a temporary file,
 * fsync'd and renamed over the old one (durable_rename), so a crash leaves
 * the old list or the new one, never half of one.  It carries the cluster's
 * system identifier and a CRC-32C; a file that is damaged, of another
 * format or of another cluster is ignored with a LOG line, and nothing is
 * prewarmed.
 *
 * What the list says is only a hint: the adopted slot reserves under the
 * definition it recorded, and the first backend to take from it brings the
 * definition from the catalog; if they differ (the list was written before
 * an ALTER that committed before a crash), the prewarmed block is dropped,
 * a gap.  A sequence dropped since is no longer one of its counter's
 * clients, so the conditional reservation fails; nothing else happens.
 *
 * Locking: a scan of the instance cache (instance_scan.c) for the dump;
 * the file is the refill worker's alone.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xlog.h"
#include "common/file_perm.h"
#include "port/pg_crc32c.h"
#include "storage/fd.h"
#include "utils/guc.h"

#include "prewarm.h"

#define PREWARM_MAGIC 0x53445057	/* "SDPW" */
#define PREWARM_VERSION 1
#define PREWARM_TEMP_FILE PREWARM_FILE ".tmp"
/* A list larger than this is not ours: 10 million sequences at most */
#define PREWARM_MAX_ENTRIES 10000000

typedef struct PrewarmHeader
{
	uint32		magic;
	uint32		version;
	uint64		system_id;
	uint32		entry_size;
	uint32		count;
} PrewarmHeader;

/*---- settings ----*/
static bool prewarm_on = true;

static int	prewarm_by_rate(const void *a, const void *b);

void
prewarm_init(void)
{
	DefineCustomBoolVariable("seqdist.prewarm",
							 "Keeps the list of sequences in use in the data directory and reserves their blocks right after a restart.",
							 "Off, the list is neither written nor read, and each sequence's first call after a restart waits for DynamoDB.",
							 &prewarm_on, true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
}

bool
prewarm_enabled(void)
{
	return prewarm_on;
}

/* Write all of len bytes; false with errno set otherwise */
static bool
prewarm_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0)
	{
		ssize_t		w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
		{
			if (w == 0)
				errno = ENOSPC;
			return false;
		}
		p += w;
		len -= w;
	}
	return true;
}

int
prewarm_dump(void)
{
	InstanceScan scan;
	InstanceView view;
	long		max = instance_cache_scan_begin(&scan, INSTANCE_SCAN_STATS);
	PrewarmEntry *entries = palloc0(sizeof(PrewarmEntry) * Max(max, 1));
	PrewarmHeader header;
	pg_crc32c	crc;
	int			n = 0;
	int			fd;
	bool		ok;

	while (n < max && instance_cache_scan_next(&scan, &view))
	{
		PrewarmEntry *e;

		/* served since the instance started, and enough known to reserve */
		if (view.taken == 0 || !view.key_complete)
			continue;
		e = &entries[n++];
		e->dbid = view.ticket.dbid;
		e->relid = view.ticket.relid;
		e->def = view.ticket.def;
		e->block_size = view.block_size;
		e->fixed_size = view.fixed_size;
		e->rate = view.demand.rate;
		memcpy(e->key, view.key, INSTANCE_KEY_MAX);
		e->key[INSTANCE_KEY_MAX - 1] = '\0';
	}
	instance_cache_scan_end(&scan);

	memset(&header, 0, sizeof(header));
	header.magic = PREWARM_MAGIC;
	header.version = PREWARM_VERSION;
	header.system_id = GetSystemIdentifier();
	header.entry_size = sizeof(PrewarmEntry);
	header.count = n;
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, &header, sizeof(header));
	COMP_CRC32C(crc, entries, sizeof(PrewarmEntry) * n);
	FIN_CRC32C(crc);

	fd = open(PREWARM_TEMP_FILE, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY, pg_file_create_mode);
	if (fd < 0)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("seqdist could not create file \"%s\": %m", PREWARM_TEMP_FILE)));
		pfree(entries);
		return -1;
	}
	ok = prewarm_write_all(fd, &header, sizeof(header)) &&
		prewarm_write_all(fd, entries, sizeof(PrewarmEntry) * n) &&
		prewarm_write_all(fd, &crc, sizeof(crc));
	if (!ok)
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("seqdist could not write file \"%s\": %m", PREWARM_TEMP_FILE)));
	if (close(fd) != 0 && ok)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("seqdist could not close file \"%s\": %m", PREWARM_TEMP_FILE)));
		ok = false;
	}
	pfree(entries);
	/* fsyncs the file, renames it, fsyncs the directory */
	if (!ok || durable_rename(PREWARM_TEMP_FILE, PREWARM_FILE, LOG) != 0)
	{
		(void) unlink(PREWARM_TEMP_FILE);
		return -1;
	}
	return n;
}

/* Why a list read from the file cannot be used; NULL if it can */
static const char *
prewarm_problem(const char *data, size_t len, int *count)
{
	PrewarmHeader header;
	pg_crc32c	crc;
	pg_crc32c	stored;
	size_t		body;

	if (len < sizeof(header) + sizeof(crc))
		return "the file is too short";
	memcpy(&header, data, sizeof(header));
	if (header.magic != PREWARM_MAGIC)
		return "it is not a seqdist prewarm list";
	if (header.version != PREWARM_VERSION || header.entry_size != sizeof(PrewarmEntry))
		return "it was written by another version of seqdist";
	if (header.system_id != GetSystemIdentifier())
		return "it was written by another database cluster";
	if (header.count > PREWARM_MAX_ENTRIES)
		return "its length is wrong";
	body = (size_t) header.count * sizeof(PrewarmEntry);
	if (len != sizeof(header) + body + sizeof(crc))
		return "its length is wrong";
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, data, sizeof(header) + body);
	FIN_CRC32C(crc);
	memcpy(&stored, data + sizeof(header) + body, sizeof(stored));
	if (!EQ_CRC32C(crc, stored))
		return "its checksum does not match";
	*count = (int) header.count;
	return NULL;
}

/* Is an entry of a checked file one a slot can take? */
static bool
prewarm_entry_usable(const PrewarmEntry *e)
{
	const CounterParams *p = &e->def.params;

	return memchr(e->key, '\0', INSTANCE_KEY_MAX) != NULL && e->key[0] != '\0' &&
		OidIsValid(e->dbid) && OidIsValid(e->relid) &&
		p->increment != 0 && p->min_value < p->max_value &&
		e->block_size >= 0 && isfinite(e->rate) && e->rate >= 0;
}

PrewarmEntry *
prewarm_load(int *n)
{
	int			fd;
	struct stat st;
	char	   *data;
	size_t		got = 0;
	const char *problem;
	int			count = 0;
	int			kept = 0;
	PrewarmEntry *entries;

	*n = 0;
	fd = open(PREWARM_FILE, O_RDONLY | PG_BINARY, 0);
	if (fd < 0)
	{
		if (errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("seqdist could not open file \"%s\": %m", PREWARM_FILE)));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || st.st_size < 0 ||
		(uint64) st.st_size > sizeof(PrewarmHeader) + (uint64) PREWARM_MAX_ENTRIES * sizeof(PrewarmEntry) + sizeof(pg_crc32c))
	{
		close(fd);
		ereport(LOG,
				(errmsg("seqdist ignores file \"%s\": %s", PREWARM_FILE,
						"its length is wrong")));
		return NULL;
	}
	data = palloc(Max(st.st_size, 1));
	while (got < (size_t) st.st_size)
	{
		ssize_t		r = read(fd, data + got, st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += r;
	}
	close(fd);

	problem = prewarm_problem(data, got, &count);
	if (problem)
	{
		ereport(LOG,
				(errmsg("seqdist ignores file \"%s\": %s", PREWARM_FILE, problem),
				 errdetail("No sequence is prewarmed; the file is replaced at the next write.")));
		pfree(data);
		return NULL;
	}
	entries = palloc(sizeof(PrewarmEntry) * Max(count, 1));
	for (int i = 0; i < count; i++)
	{
		PrewarmEntry *e = &entries[kept];

		memcpy(e, data + sizeof(PrewarmHeader) + (size_t) i * sizeof(PrewarmEntry),
			   sizeof(PrewarmEntry));
		if (prewarm_entry_usable(e))
			kept++;
	}
	pfree(data);
	if (kept < count)
		ereport(LOG,
				(errmsg("seqdist skips %d unusable entries of file \"%s\"", count - kept,
						PREWARM_FILE)));
	qsort(entries, kept, sizeof(PrewarmEntry), prewarm_by_rate);
	*n = kept;
	return entries;
}

/* Most demanded first */
static int
prewarm_by_rate(const void *a, const void *b)
{
	double		ra = ((const PrewarmEntry *) a)->rate;
	double		rb = ((const PrewarmEntry *) b)->rate;

	return ra > rb ? -1 : ra < rb ? 1 : 0;
}
