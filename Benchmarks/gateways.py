#!/usr/bin/env python3
"""Several gateways sharing one GPU pool through PostgreSQL, against one gateway alone, in the same run.

Starts a throwaway PostgreSQL server and runs pool-bench: 4 api_v2 doubles of 200 ms inference, 32 clients keeping a
backlog, each round one gateway (SQLite, leases in memory) and then N gateways (PostgreSQL, leases claimed there; the
clients spread over the gateways). Reports throughput against 4 x one worker's and the idle gap each double sees
between one request's end and the next one's start, with the p99 against the single gateway's.

    python3 Benchmarks/gateways.py [--gateways 2] [--workers 4] [--rounds 3] [--seconds 10]
Needs: postgresql (Debian package), a release build (swift build -c release).
"""
import argparse, os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from postgres import PostgresServer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateways", type=int, default=2)
    ap.add_argument("--workers", default="1,4")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    args = ap.parse_args()
    bindir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    binary = os.path.join(bindir, "pool-bench")
    if not os.path.exists(binary):
        sys.exit(f"{binary} is missing: swift build -c release")
    pg = PostgresServer()
    try:
        url = pg.database("pool_bench")
        result = subprocess.run([binary, "--gateways", str(args.gateways), "--store-url", url,
                                 "--workers", args.workers, "--rounds", str(args.rounds), "--seconds", str(args.seconds), "--no-switches"])
        sys.exit(result.returncode)
    finally:
        pg.close()


if __name__ == "__main__":
    main()
