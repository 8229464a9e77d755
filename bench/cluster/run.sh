#!/usr/bin/env bash
# Builds the cluster benchmark in Release (with ferry itself) and runs it:
#   bench/cluster/run.sh [--tiny-tables N] [--bulk-rows N] [other Ferry.ClusterBench options]
# The report goes to stdout and to bench/cluster/out/report-<time>.txt; progress to stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dotnet build "$here/Ferry.ClusterBench/Ferry.ClusterBench.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly
mkdir -p "$here/out"
report="$here/out/report-$(date -u +%Y%m%dT%H%M%SZ).txt"
"$here/Ferry.ClusterBench/bin/Release/net10.0/Ferry.ClusterBench" "$@" | tee "$report"
echo "report saved to $report" >&2
