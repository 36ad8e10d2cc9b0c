#!/usr/bin/env python3
"""Black-box checks of keys, history and metrics on the release binary, as operators run it.

Starts `voicegate --server` in front of the api_v2 stand-in of hammer.py and checks, over real sockets and real
processes:
  - `voicegate keys add/list/set/revoke` against the running server's store: a new key is accepted, a disabled
    or revoked one refused, each within a second, and `keys list` never prints a key;
  - `GET /metrics` parses with the Prometheus client's own text parser and counts what was sent;
  - `kill -9` during a burst of syntheses leaves a database that opens (integrity_check ok) and holds every
    synthesis that finished more than 500 ms before the kill; the server starts again on it and serves them.
Prints the figures and exits 1 on any failure.

    python3 Tests/blackbox/tenants.py [--binary .build/release/voicegate]
"""
import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hammer import free_port, start_upstream, wav  # noqa: E402

from prometheus_client.parser import text_string_to_metric_families

ADMIN = "tenants-admin-key-0123456789"
BOUNDARY = "tenantsBoundary7MA4YWxk"


def call(port, method, path, key=None, body=None, content_type=None, timeout=10):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method)
    if key:
        request.add_header("X-API-Key", key)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
    except (urllib.error.URLError, ConnectionError):
        return 0, {}, b""


def synthesis_body(text, reference):
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="text"\r\n\r\n{text}\r\n'.encode(),
             f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="reference_audio"; filename="r.wav"\r\n'
             f'Content-Type: audio/wav\r\n\r\n'.encode() + reference + b"\r\n",
             f"--{BOUNDARY}--\r\n".encode()]
    return b"".join(parts)


def synthesize(port, key, text, reference, timeout=10):
    return call(port, "POST", "/api/v1/voice/synthesize", key, synthesis_body(text, reference),
                f"multipart/form-data; boundary={BOUNDARY}", timeout)


def until(condition, limit=3.0):
    """Seconds until condition() holds, or None after `limit`."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if condition():
            return time.monotonic() - start
        time.sleep(0.02)
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/voicegate")
    parser.add_argument("--burst-seconds", type=float, default=3.0)
    args = parser.parse_args()
    problems = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            problems.append(what)

    upstream = start_upstream()
    data = tempfile.mkdtemp(prefix="voicegate-tenants-")
    port = free_port()
    env = dict(os.environ, API_KEY=ADMIN, PORT=str(port), DATA_DIR=data, LOG_LEVEL="warning", HEALTH_INTERVAL="1",
               SOVITS_BASE_URL=f"http://127.0.0.1:{upstream.server_address[1]}", SOVITS_TIMEOUT="5",
               SOVITS_MAX_CONCURRENCY="4", QUEUE_MAX="256")
    log = open(os.path.join(data, "server.log"), "a")

    def start():
        server = subprocess.Popen([args.binary, "--server"], env=env, stdout=log, stderr=subprocess.STDOUT)
        if until(lambda: call(port, "GET", "/health")[0] == 200 if server.poll() is None else True, 20) is None or server.poll() is not None:
            raise SystemExit(f"the server did not start; see {data}/server.log")
        return server

    def cli(*argv):
        return subprocess.run([args.binary, "keys", *argv], env=env, capture_output=True, text=True, timeout=30)

    reference = wav(3.5)
    server = start()
    try:
        # --- the CLI against the running server ---------------------------------------------------------------
        made = cli("add", "cli-app", "--rpm", "600", "--chars-per-day", "100000")
        secret = made.stdout.strip()
        check(made.returncode == 0 and len(secret) > 30, f"keys add prints the key once (exit {made.returncode})")
        health = lambda k: call(port, "GET", "/api/v1/voice/health", k)[0]
        waited = until(lambda: health(secret) == 200)
        check(waited is not None and waited < 1.0, f"the new key is accepted by the running server after {waited} s")
        status, _, _ = synthesize(port, secret, "From the command line.", reference)
        check(status == 200, f"the new key synthesizes ({status})")
        listed = cli("list")
        check(listed.returncode == 0 and "cli-app" in listed.stdout and "default" in listed.stdout, "keys list names every key")
        check(secret not in listed.stdout and ADMIN not in listed.stdout, "keys list prints no key")
        def use_today():
            out = cli("list").stdout.splitlines()
            columns = out[0].split("  ")
            columns = [c.strip() for c in columns if c.strip()]
            row = next(l for l in out if l.startswith("cli-app")).split()
            return dict(zip(columns, row))
        waited = until(lambda: use_today().get("REQUESTS TODAY") == "1" and use_today().get("CHARS TODAY") == "22")
        check(waited is not None, f"keys list shows the use today within a second ({use_today()})")
        cli("set", "cli-app", "--disable")
        waited = until(lambda: health(secret) == 401)
        check(waited is not None and waited < 1.0, f"a disabled key is refused after {waited} s")
        cli("set", "cli-app", "--enable", "--rpm", "none")
        waited = until(lambda: health(secret) == 200)
        check(waited is not None and waited < 1.0, f"an enabled key is accepted again after {waited} s")
        revoked = cli("revoke", "cli-app")
        waited = until(lambda: health(secret) == 401)
        check(revoked.returncode == 0 and waited is not None and waited < 1.0, f"a revoked key is refused after {waited} s")
        again = cli("revoke", "cli-app")
        check(again.returncode == 1 and "no key is named cli-app" in again.stderr, "revoking a missing key is one clear line")

        # --- metrics through the Prometheus parser -----------------------------------------------------------
        status, headers, body = call(port, "GET", "/metrics", ADMIN)
        families = {f.name: f for f in text_string_to_metric_families(body.decode())}
        check(status == 200, f"/metrics answers 200 to the admin key ({status})")
        requests = families.get("voicegate_http_requests")
        app = [s for s in (requests.samples if requests else []) if s.labels.get("key") == "cli-app"
               and s.labels.get("route") == "/api/v1/voice/synthesize" and s.name.endswith("_total")]
        check(sum(s.value for s in app) == 1, "metrics count the key's synthesis by route, status and key")
        for name in ["voicegate_queue_wait_seconds", "voicegate_time_to_first_byte_seconds", "voicegate_upstream_seconds",
                     "voicegate_real_time_factor"]:
            check(name in families and families[name].type == "histogram", f"{name} is a histogram")
        for name in ["voicegate_queue_waiting", "voicegate_requests_in_flight", "voicegate_upstream_up"]:
            check(name in families and families[name].type == "gauge", f"{name} is a gauge")
        check(call(port, "GET", "/metrics")[0] == 401, "/metrics without a key is 401")

        # --- kill -9 during a burst of writes ------------------------------------------------------------------
        made = cli("add", "burst")
        burst = made.stdout.strip()
        until(lambda: health(burst) == 200)
        finished = []  # (request id, monotonic time the answer was complete)
        lock = threading.Lock()
        stop = time.monotonic() + args.burst_seconds

        def worker(n):
            i = 0
            while time.monotonic() < stop:
                i += 1
                try:
                    status, headers, _ = synthesize(port, burst, f"Burst {n}-{i}.", reference, timeout=5)
                except Exception:
                    return
                if status == 200:
                    with lock:
                        finished.append((headers.get("X-Request-ID"), time.monotonic()))

        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(worker, n) for n in range(8)]
            time.sleep(args.burst_seconds)
            killed_at = time.monotonic()
            server.send_signal(signal.SIGKILL)
            server.wait()
            for f in futures:
                f.result()
        db = sqlite3.connect(os.path.join(data, "voicegate.db"))
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        stored = {row[0] for row in db.execute("SELECT request_id FROM synthesis_history WHERE key_name = 'burst'")}
        db.close()
        settled = [rid for rid, t in finished if t < killed_at - 0.5]
        missing = [rid for rid in settled if rid not in stored]
        recent = len(finished) - len(settled)
        print(f"     burst: {len(finished)} syntheses finished in {args.burst_seconds} s, {len(stored)} rows stored, "
              f"{recent} finished in the last 500 ms before kill -9")
        check(integrity == "ok", f"after kill -9 the database passes integrity_check ({integrity})")
        check(len(settled) > 50 and not missing, f"every synthesis finished 500 ms before the kill is stored ({len(missing)} missing)")

        server = start()
        status, _, body = call(port, "GET", "/api/v1/history?key=burst&limit=500", ADMIN)
        served = {item["request_id"] for item in json.loads(body)["items"]} if status == 200 else set()
        check(stored <= served or len(served) == 500, f"the restarted server serves the history ({len(served)} rows)")
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        upstream.shutdown()
    if problems:
        print(f"{len(problems)} problems; server log in {data}/server.log")
        sys.exit(1)
    print("all tenant checks passed")


if __name__ == "__main__":
    main()
