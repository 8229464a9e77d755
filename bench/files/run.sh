#!/usr/bin/env bash
# bench/files: Ferry's files process vs `rclone copy`, between buckets of one local s3rver.
#   bench/files/run.sh [--files 10000] [--min-kb 10] [--max-kb 200] [--parallelism 16]
# Needs node (s3rver from tests/s3rver), PostgreSQL binaries (as for the tests) and rclone (apt-get install -y rclone).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v rclone >/dev/null || { echo "rclone is missing: apt-get install -y rclone" >&2; exit 1; }
dotnet build "$here/Ferry.FilesBench/Ferry.FilesBench.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly
mkdir -p "$here/../out"
report="$here/../out/files-report-$(date -u +%Y%m%dT%H%M%SZ).txt"
"$here/Ferry.FilesBench/bin/Release/net10.0/Ferry.FilesBench" "$@" | tee "$report"
echo "report saved to $report" >&2
