# seqdist: PostgreSQL sequences backed by DynamoDB counters (PGXS build)

MODULE_big = seqdist
OBJS = \
	src/seqdist.o \
	src/credentials.o \
	src/http.o \
	src/sigv4.o \
	src/dynamo.o \
	src/counter.o \
	src/nextval.o \
	src/admin.o

EXTENSION = seqdist
DATA = $(wildcard sql/seqdist--*.sql)
PGFILEDESC = "seqdist - DynamoDB-backed sequences"

# pg_regress tests: sql/<name>.sql with expected/<name>.out
REGRESS = $(patsubst sql/%.sql,%,$(filter-out sql/seqdist--%,$(sort $(wildcard sql/*.sql))))

PG_CPPFLAGS = -Isrc
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare
SHLIB_LINK = -lcurl -ljansson -lssl -lcrypto

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: demo test
demo:
	bash test/demo.sh

test:
	bash test/run_all.sh
