#!/usr/bin/env bash
# Builds the fault suite in Release (with ferry itself) and runs it; needs root (network namespaces):
#   bench/faults/run.sh [--iterations N] [--kinds worker-kill,partition] [other Ferry.FaultBench options]
# The report goes to stdout and to bench/faults/out/report-<time>.md; progress to stderr and out/progress-<time>.log.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dotnet build "$here/Ferry.FaultBench/Ferry.FaultBench.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly
mkdir -p "$here/out"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
report="$here/out/report-$stamp.md"
status=0
"$here/Ferry.FaultBench/bin/Release/net10.0/Ferry.FaultBench" "$@" 2> >(tee "$here/out/progress-$stamp.log" >&2) | tee "$report" || status=$?
echo "report saved to $report" >&2
exit "$status"
