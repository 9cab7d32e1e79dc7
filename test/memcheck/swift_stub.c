/*
 * swift_stub.c -- preloaded after the ASan runtime into the instrumented
 * server (test/memcheck.sh); without it the server hangs before main().
 *
 * libp11-kit, pulled in through libldap and gnutls, calls newlocale() in a
 * constructor that runs before ASan's own.  ASan then initialises inside
 * newlocale's malloc, its dlsym("swift_demangle") fails, and dlerror()
 * translates the message with gettext under the locale lock newlocale
 * holds, which corrupts glibc's _nl_state_lock.  With the symbol defined,
 * dlerror has nothing to translate.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 */
#include <stddef.h>
#include <stdint.h>

char	   *swift_demangle(const char *name, size_t len, char *out, size_t *outlen, uint32_t flags);

char *
swift_demangle(const char *name, size_t len, char *out, size_t *outlen, uint32_t flags)
{
	return NULL;
}
