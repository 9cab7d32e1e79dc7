# tap.sh -- TAP output for the shell-driven suites (sourced, not run).
#
# report STATUS DESCRIPTION prints "ok N - ..." for status 0 and
# "not ok N - ..." otherwise, counting both in testno and failed.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.

testno=0
failed=0

report()
{
	testno=$((testno + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $testno - $2"
	else
		echo "not ok $testno - $2"
		failed=$((failed + 1))
	fi
}
