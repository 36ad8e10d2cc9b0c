#!/usr/bin/env python3
"""Runs a command with STORE_URL set to a new database on a throwaway PostgreSQL server (Benchmarks/postgres.py),
then stops the server: `python3 Tests/blackbox/with_postgres.py Tests/schemathesis/run.sh .build/release/voicegate 100`
runs schemathesis against a gateway on PostgreSQL. Exits with the command's status."""
import os, subprocess, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Benchmarks"))
from postgres import PostgresServer  # noqa: E402

if len(sys.argv) < 2:
    sys.exit(__doc__)
server = PostgresServer()
try:
    url = server.database("with_postgres")
    print(f"with_postgres: STORE_URL={url.replace(':bench-secret@', ':***@')}", flush=True)
    status = subprocess.run(sys.argv[1:], env=dict(os.environ, STORE_URL=url)).returncode
finally:
    server.close()
sys.exit(status)
