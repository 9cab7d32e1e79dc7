# seqdist: PostgreSQL sequences backed by DynamoDB counters (PGXS build)
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.

MODULE_big = seqdist
OBJS = \
	src/seqdist.o \
	src/store.o \
	src/credentials.o \
	src/credentials_file.o \
	src/credentials_parse.o \
	src/credentials_remote.o \
	src/credentials_cache.o \
	src/http.o \
	src/sigv4.o \
	src/dynamo.o \
	src/decimal128.o \
	src/dynamo_answer.o \
	src/counter_item.o \
	src/counter.o \
	src/counter_share.o \
	src/counter_table.o \
	src/counter_json.o \
	src/block_size.o \
	src/instance_cache.o \
	src/instance_scan.o \
	src/refill_policy.o \
	src/refill_worker.o \
	src/prewarm.o \
	src/stats.o \
	src/sequence_catalog.o \
	src/registry.o \
	src/backend_cache.o \
	src/nextval.o \
	src/ddl_triggers.o \
	src/pending_ddl.o \
	src/admin.o \
	src/routing.o \
	src/migrate.o

EXTENSION = seqdist
DATA = $(wildcard sql/seqdist--*.sql)
PGFILEDESC = "seqdist - DynamoDB-backed sequences"

# pg_regress tests, in this order: sql/<name>.sql with expected/<name>.out.
# They need a server with seqdist preloaded and a DynamoDB endpoint: `make
# test` (test/run_all.sh) provides both; `make installcheck` runs them
# against a running server that has seqdist in shared_preload_libraries, the
# settings of test/regress.conf, credentials the endpoint accepts, and a
# DynamoDB without the tests' tables (README.md, "make installcheck").
REGRESS = create_extension nextval cache errors settings security

PG_CPPFLAGS = -Isrc
# -Wno-unused-parameter: fmgr entry points and hooks have fixed signatures
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter
SHLIB_LINK = -lcurl -ljansson -lssl -lcrypto

# make COVERAGE=1: a build for line coverage (gcc --coverage, no
# optimisation); test/run_all.sh coverage builds one in a copy of the tree
ifdef COVERAGE
PG_CFLAGS += -O0 --coverage
SHLIB_LINK += --coverage
endif

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies: rebuild everything when a header changes
$(OBJS): $(wildcard src/*.h)

.PHONY: demo test regress-list
regress-list:
	@echo $(REGRESS)

demo:
	bash test/demo.sh

test:
	bash test/run_all.sh
