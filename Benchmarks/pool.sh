#!/usr/bin/env bash
# The worker pool: 1, 2 and 4 api_v2 doubles of 200 ms inference behind one in-process gateway, 32 clients:
# throughput against N x one worker's, the idle gap each double sees under backlog against a direct client's, and
# weights switches for a two-voice workload with affinity and with round-robin.
#   Benchmarks/pool.sh [--rounds 3] [--seconds 10]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product pool-bench >/dev/null
exec .build/release/pool-bench "$@"
