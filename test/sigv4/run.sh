#!/bin/sh
#
# run.sh
#	Build the SigV4 checker and run every SigV4 check, printing TAP.
#
# Usage: test/sigv4/run.sh [--seed N] [--count N]
#	--seed, --count	passed to the cross-check (defaults 20261123 and 1000)
#
# Tests:
#	1  build test/sigv4/sigv4_check, warnings as errors
#	2  the signer allocates and frees through malloc and free only
#	3  AWS's published POST test vectors (subtest)
#	4  the signer's own rules (subtest)
#	5  cross-check against @smithy/signature-v4 (subtest)
#	6  test vectors and rules under valgrind: no error, no leak
#	7  cross-check under valgrind: no error, no leak
#	8  test vectors, rules and cross-check built with AddressSanitizer and
#	   UndefinedBehaviorSanitizer
#
# valgrind is a declared dependency (test/lib.sh installs it): without it
# tests 6 and 7 fail.  Exits non-zero if any test fails.  Environment: CC
# (default cc).
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cc=${CC:-cc}
crosscheck_args=
while [ $# -gt 0 ]; do
	case $1 in
		--seed|--count)
			[ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }
			crosscheck_args="$crosscheck_args $1 $2"
			shift 2 ;;
		*)
			echo "usage: $0 [--seed N] [--count N]" >&2
			exit 2 ;;
	esac
done

cflags="-std=gnu99 -Wall -Wextra -Werror -O2 -Wmissing-prototypes \
	-Wdeclaration-after-statement -Wpointer-arith -Wformat-security"
sources="$root/src/sigv4.c $here/sigv4_check.c"
# the checker tracks and fails the signer's allocations (see sigv4_check.c)
libs="-Wl,--wrap=malloc -Wl,--wrap=free -lcrypto -ljansson"
driver=$here/sigv4_check
vectors=$here/vectors

work=$(mktemp -d "${TMPDIR:-/tmp}/sigv4.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT INT TERM

. "$root/test/tap.sh"

# Run a command whose output is TAP and show it as an indented subtest.
subtest()
{
	name=$1
	shift
	echo "# Subtest: $name"
	"$@" >"$work/out" 2>&1
	status=$?
	sed 's/^/    /' "$work/out"
	report $status "$name"
}

# Run a command; if it fails, show as diagnostics what is not passing TAP
# (compiler, valgrind and sanitizer reports, failed tests).
quiet()
{
	name=$1
	shift
	"$@" >"$work/out" 2>&1
	status=$?
	if [ $status -ne 0 ]; then
		grep -v -E '^(ok |#|1\.\.)' "$work/out" | head -n 60 | sed 's/^/# /'
	fi
	report $status "$name"
}

have_node_modules()
{
	[ -d "$root/test/node_modules/@smithy/signature-v4" ] &&
		[ -d "$root/test/node_modules/@smithy/protocol-http" ] &&
		[ -d "$root/test/node_modules/@aws-crypto/sha256-js" ]
}

crosscheck()
{
	if ! have_node_modules; then
		echo "Bail out! test/node_modules is missing: run npm ci in test/"
		return 1
	fi
	# shellcheck disable=SC2086
	node "$here/crosscheck.js" $crosscheck_args "$@"
}

# Run the vector and rule checks with the checker given as "$@".
vectors_and_rules()
{
	"$@" vectors "$vectors" && "$@" rules
}

# The checker's --wrap sees malloc and free only; an allocation through any
# other function would escape its failure injection and its wipe check.
malloc_only()
{
	# shellcheck disable=SC2086
	$cc $cflags -I"$root/src" -c "$root/src/sigv4.c" -o "$work/sigv4.o" || return 1
	others=$(nm -u "$work/sigv4.o" | awk '{ print $2 }' |
		grep -E '^(calloc|realloc|reallocarray|strn?dup|v?asprintf|aligned_alloc|posix_memalign|memalign|p?valloc|CRYPTO_[a-z_]*(alloc|free|dup))$')
	if [ -n "$others" ]; then
		echo "src/sigv4.c calls" $others
		return 1
	fi
}

echo "1..8"

# shellcheck disable=SC2086
quiet "build sigv4_check with $cc -Wall -Wextra -Werror" \
	$cc $cflags -I"$root/src" $sources -o "$driver" $libs
built=$status
quiet "the signer allocates and frees through malloc and free only" malloc_only

if [ $built -eq 0 ]; then
	subtest "published SigV4 POST test vectors" "$driver" vectors "$vectors"
	subtest "the signer's own rules" "$driver" rules
	subtest "cross-check against @smithy/signature-v4" crosscheck
else
	report 1 "published SigV4 POST test vectors (not built)"
	report 1 "the signer's own rules (not built)"
	report 1 "cross-check against @smithy/signature-v4 (not built)"
fi

valgrind_opts="--error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible -q"
if ! command -v valgrind >/dev/null 2>&1; then
	echo "# valgrind is not installed; test/lib.sh installs it"
	report 1 "test vectors and rules under valgrind (valgrind not installed)"
	report 1 "cross-check under valgrind (valgrind not installed)"
elif [ $built -ne 0 ]; then
	report 1 "test vectors and rules under valgrind (not built)"
	report 1 "cross-check under valgrind (not built)"
else
	# shellcheck disable=SC2086
	quiet "test vectors and rules under valgrind: no error, no leak" \
		vectors_and_rules valgrind $valgrind_opts "$driver"
	printf '#!/bin/sh\nexec valgrind %s "%s" "$@"\n' "$valgrind_opts" "$driver" \
		>"$work/valgrind-driver"
	chmod +x "$work/valgrind-driver"
	quiet "cross-check under valgrind: no error, no leak" \
		crosscheck --driver "$work/valgrind-driver"
fi

sanitized()
{
	# shellcheck disable=SC2086
	$cc $cflags -O1 -g -fno-omit-frame-pointer \
		-fsanitize=address,undefined -fno-sanitize-recover=all \
		-I"$root/src" $sources -o "$work/sigv4_check_asan" $libs &&
		vectors_and_rules "$work/sigv4_check_asan" &&
		crosscheck --driver "$work/sigv4_check_asan"
}
quiet "test vectors, rules and cross-check under -fsanitize=address,undefined" sanitized

if [ $failed -ne 0 ]; then
	echo "# $failed of $testno tests failed"
	exit 1
fi
echo "# all $testno tests passed"
exit 0
