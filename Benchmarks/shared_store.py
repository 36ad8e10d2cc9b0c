#!/usr/bin/env python3
"""What sharing the store costs a request: the same gateway, the same work, on SQLite and on PostgreSQL.

A saved voice (no upload: the gateway's own work dominates) synthesized by a fast GPT-SoVITS double
(SOVITS_MAX_CONCURRENCY=256), 16 connections, in rounds of wrk that take turns so that the machine's noise falls on all:
  sqlite       the embedded default: limits counted in memory, history written in batches
  pg           STORE_URL=postgres://, WORKERS_SHARED=false, a key without limits: the same as sqlite but for the
               batches' database
  pg-limits    the same with a key with requests_per_minute and characters_per_day: each admission counts the minute
               (one transaction of four statements) and charges the characters (one conditional upsert) in PostgreSQL
  pg-workers   STORE_URL=postgres://, WORKERS_SHARED=true, no limits: each request claims its place on the worker in
               PostgreSQL and gives it back (two statements and a NOTIFY)
Medians of the rounds, and each against sqlite's.

    python3 Benchmarks/shared_store.py [--rounds 5] [--seconds 10] [--connections 16]
Needs: wrk, postgresql (Debian packages), a release build (swift build -c release). Listens on 127.0.0.1 only.
"""
import argparse, json, os, re, shutil, statistics, subprocess, sys, tempfile, urllib.error, urllib.request, uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serving import free_port, wait_port  # noqa: E402
from postgres import PostgresServer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LUA = os.path.join(ROOT, "Benchmarks", "wrk-post.lua")


def call(port, method, path, key, body=None, content_type="application/json"):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method,
                                     headers={"X-API-Key": key, "Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}")


def multipart(fields, files=()):
    boundary = "bench" + uuid.uuid4().hex
    out = b""
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for name, filename, data in files:
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f'Content-Type: audio/wav\r\n\r\n').encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    args = ap.parse_args()
    for tool in ["wrk", "sox"]:
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install {tool}")
    bindir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    binary, double_binary = os.path.join(bindir, "voicegate"), os.path.join(bindir, "sovits-double")
    work = tempfile.mkdtemp(prefix="voicegate-shared-")
    ref = os.path.join(work, "ref.wav")
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", ref, "synth", "4", "sine", "180", "vol", "0.3"], check=True)
    pg = PostgresServer()
    upstream = free_port()
    double = subprocess.Popen([double_binary, str(upstream), "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(upstream)
    admin = "bench-" + uuid.uuid4().hex
    gateways, bodies = {}, {}
    try:
        for name, store in [("sqlite", None), ("pg", pg.database("bench_pg")), ("pg-limits", pg.database("bench_limits")),
                            ("pg-workers", pg.database("bench_workers"))]:
            port, data = free_port(), os.path.join(work, name)
            env = dict(os.environ, API_KEY=admin, SOVITS_BASE_URL=f"http://127.0.0.1:{upstream}", PORT=str(port), DATA_DIR=data,
                       SOVITS_MAX_CONCURRENCY="256", QUEUE_MAX="1000", LOG_LEVEL="warning", GATEWAY_NAME=name)
            if store:
                env["STORE_URL"] = store
                env["WORKERS_SHARED"] = "true" if name == "pg-workers" else "false"
            gateways[name] = subprocess.Popen([binary, "--server"], env=env, stdout=subprocess.DEVNULL,
                                              stderr=open(os.path.join(work, f"{name}.log"), "w"))
            wait_port(port)
            limits = {"requests_per_minute": 1_000_000_000, "characters_per_day": 1_000_000_000} if name == "pg-limits" else {}
            key = call(port, "POST", "/api/v1/keys", admin, json.dumps({"name": "bench", "role": "admin", **limits}).encode())["key"]
            body, content_type = multipart([("name", "bench-voice"), ("prompt_text", "A tone.")], [("reference_audio", "ref.wav", open(ref, "rb").read())])
            call(port, "POST", "/api/v1/voices", key, body, content_type)
            body, content_type = multipart([("text", "Hello from the benchmark."), ("voice", "bench-voice")])
            path = os.path.join(work, f"{name}.body")
            open(path, "wb").write(body)
            bodies[name] = (port, key, path, content_type)
        results = {name: [] for name in gateways}
        for round_ in range(args.rounds):
            for name, (port, key, path, content_type) in bodies.items():
                env = dict(os.environ, BODY_FILE=path, CONTENT_TYPE=content_type, API_KEY=key, API_KEYS_FILE="")
                out = subprocess.run(["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{args.seconds}s", "-s", LUA,
                                      f"http://127.0.0.1:{port}/api/v1/voice/synthesize"], env=env, capture_output=True, text=True).stdout
                m = re.search(r"RESULT requests=(\d+) seconds=([\d.]+) p50_ms=([\d.]+) p99_ms=([\d.]+) errors=(\d+)", out)
                if not m or int(m[5]):
                    sys.exit(f"{name}: wrk said:\n{out}")
                results[name].append((int(m[1]) / float(m[2]), float(m[3]), float(m[4])))
                print(f"round {round_ + 1} {name}: {results[name][-1][0]:.0f} req/s", file=sys.stderr, flush=True)
        print(f"\n{args.rounds} rounds of {args.seconds} s, {args.connections} connections, {os.cpu_count()} cores; medians\n")
        print("| store | req/s | p50 ms | p99 ms | req/s against sqlite |")
        print("|---|---|---|---|---|")
        base = statistics.median(r[0] for r in results["sqlite"])
        for name, rows in results.items():
            rps, p50, p99 = (statistics.median(r[i] for r in rows) for i in range(3))
            print(f"| {name} | {rps:.0f} | {p50:.2f} | {p99:.2f} | {rps / base:.2f} |")
    finally:
        for process in list(gateways.values()) + [double]:
            process.terminate()
            process.wait(timeout=60)
        pg.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
