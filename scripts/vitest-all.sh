#!/usr/bin/env bash
# Every suite (unit, integration, interop) in one vitest run, then one plain summary line for CI.
set -uo pipefail
report=$(mktemp /tmp/burrow-vitest-XXXXXX.json)
npx vitest run --reporter=default --reporter=json --outputFile.json="$report"
status=$?
node scripts/test-summary.mjs "$report" "$status"
summary=$?
rm -f "$report"
exit "$summary"
