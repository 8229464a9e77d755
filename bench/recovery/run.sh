#!/usr/bin/env bash
# Builds the recovery benchmark in Release and runs it:
#   bench/recovery/run.sh [--entities 200] [--runs 50] [--snapshot-every 20] [--tail-runs 4] [--repeat 3] [--work DIR]
# The report goes to stdout and to bench/recovery/out/report-<time>.txt; progress to stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dotnet build "$here/Ferry.RecoveryBench/Ferry.RecoveryBench.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly
mkdir -p "$here/out"
report="$here/out/report-$(date -u +%Y%m%dT%H%M%SZ).txt"
"$here/Ferry.RecoveryBench/bin/Release/net10.0/Ferry.RecoveryBench" --hocon "$here/../../hocon" "$@" | tee "$report"
echo "report saved to $report" >&2
