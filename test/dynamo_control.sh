#!/bin/sh
# dynamo_control.sh -- drive the control API of local_dynamodb.js.
#
#   dynamo_control.sh PORT faults '{"rules":[{"target":"UpdateItem","mode":"http500","count":2}]}'
#   dynamo_control.sh PORT faults            # show the current rules
#   dynamo_control.sh PORT stats             # request counters (JSON)
#   dynamo_control.sh PORT reset             # zero the counters, clear the rules
#   dynamo_control.sh PORT put_item '{"TableName":...,"Item":{...}}'  # behind every client's back
#
# Talks to 127.0.0.1 only (never through a configured HTTP proxy).  Prints the
# JSON answer; exits non-zero if the request fails or is refused.
#
# The one client of the control API: the shell scripts (seqdist_dynamo_control
# in lib.sh), the TAP tests (SeqdistTest.pm), memcheck.sh (also from SQL) and
# the self-test all go through it.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
set -eu

usage() {
    echo "usage: $0 PORT faults ['{\"rules\":[...]}'] | PORT stats | PORT reset | PORT put_item JSON" >&2
    exit 2
}

[ $# -ge 2 ] || usage
port=$1
cmd=$2
case "$port" in
    '' | *[!0-9]*) usage ;;
esac
base="http://127.0.0.1:$port/__control"
curl_() {
    curl --silent --show-error --fail-with-body --noproxy '*' --max-time 10 "$@"
}

case "$cmd" in
    faults)
        if [ $# -eq 3 ]; then
            curl_ -X POST -H 'Content-Type: application/json' --data-binary "$3" "$base/faults"
        elif [ $# -eq 2 ]; then
            curl_ "$base/faults"
        else
            usage
        fi
        ;;
    stats)
        [ $# -eq 2 ] || usage
        curl_ "$base/stats"
        ;;
    reset)
        [ $# -eq 2 ] || usage
        curl_ -X POST "$base/reset"
        ;;
    put_item)
        [ $# -eq 3 ] || usage
        curl_ -X POST -H 'Content-Type: application/json' --data-binary "$3" "$base/put_item"
        ;;
    *)
        usage
        ;;
esac
