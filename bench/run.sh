#!/usr/bin/env bash
# Builds the benchmark in Release and runs it: bench/run.sh [--rows N] [other Ferry.Bench options]
# The report goes to stdout and to bench/out/; progress to stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dotnet build "$here/Ferry.Bench/Ferry.Bench.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly
mkdir -p "$here/out"
report="$here/out/report-$(date -u +%Y%m%dT%H%M%SZ).txt"
"$here/Ferry.Bench/bin/Release/net10.0/Ferry.Bench" "$@" | tee "$report"
echo "report saved to $report" >&2
