#!/usr/bin/env python3
"""Black box: nothing a client does exhausts the release binary.

1. The reproducer of the libdispatch trap: soft descriptor limit 1024, 1,100 idle connections. Before the
   connection limits the process died (SIGILL); now the soft limit is raised and the connections are capped.
2. Hard and soft limit 256 (so nothing can be raised): three times that in silent connections, connections that
   trickle their request head a byte every 2 s, and uploads crawling at 200 bytes/s, from 32 loopback addresses,
   topped up as the gateway closes them, for --seconds; an honest client on 127.0.0.1 asks /health and
   synthesizes every 2 s and must always be served. Descriptors and RSS must return to their baseline.
3. DATA_DIR on a 3 MB tmpfs (needs root to mount): new recordings until the disk is full. A full disk must be
   507 storage_full with Retry-After (never 500), /health degraded with the reason, counted in /metrics; then the
   janitor makes room once the grace allows and uploads succeed again; no accepted history row is lost.

    python3 Tests/blackbox/exhaustion.py --binary .build/release/voicegate [--seconds 20]
"""
import argparse, json, os, socket, subprocess, sys, tempfile, threading, time, uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hammer import free_port, wav  # noqa: E402
from tenants import call as tenants_call  # noqa: E402

KEY = "exhaustion-key-0123456789abcdef"


def form(text, reference):
    """A synthesis upload of `reference`: the body and its content type."""
    boundary = "bx" + uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\n{text}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="reference_audio"; filename="r.wav"\r\n'
            f'Content-Type: audio/wav\r\n\r\n').encode() + reference + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def call(port, path, body=None, content_type=None, timeout=30):
    return tenants_call(port, "POST" if body else "GET", path, key=KEY, body=body, content_type=content_type, timeout=timeout)


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])


def start(binary, port, data, limit_cmd, extra=None):
    env = dict(os.environ, API_KEY=KEY, PORT=str(port), DATA_DIR=data, LOG_LEVEL="warning", CLIENT_HEADER_TIMEOUT="5")
    env.update(extra or {})
    log = open(os.path.join(tempfile.gettempdir(), f"exhaustion-{port}.log"), "w")
    p = subprocess.Popen(["/bin/sh", "-c", f'{limit_cmd} && exec "$0" --server', binary], env=env,
                         stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + 30
    while time.time() < deadline:
        if call(port, "/health")[0] in (200, 503):
            return p
        time.sleep(0.1)
    sys.exit(f"the gateway on {port} did not start")


REFERENCE = os.path.join(tempfile.gettempdir(), f"exhaustion-ref-{os.getpid()}.wav")


def honest(port, problems, label):
    """curl, a process of its own as a real client is (this script's threads share one interpreter lock)."""
    if not os.path.exists(REFERENCE):
        open(REFERENCE, "wb").write(wav(4))
    base = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "30"]
    health = subprocess.run(base + [f"http://127.0.0.1:{port}/health"], capture_output=True, text=True).stdout
    if health != "200":
        problems.append(f"{label}: /health {health or 'no answer'}")
    synthesis = subprocess.run(base + ["-H", f"X-API-Key: {KEY}", "-F", "text=Still here.", "-F", f"reference_audio=@{REFERENCE}",
                                       f"http://127.0.0.1:{port}/api/v1/voice/synthesize"], capture_output=True, text=True).stdout
    if synthesis != "200":
        problems.append(f"{label}: synthesize {synthesis or 'no answer'}")
    return health == "200" and synthesis == "200"


def reproducer(binary, problems):
    port, data = free_port(), tempfile.mkdtemp(prefix="exhaustion-repro-")
    p = start(binary, port, data, "ulimit -Sn 1024")
    socks = []
    for _ in range(1100):
        try:
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError:
            pass
    time.sleep(5)
    alive = p.poll() is None
    served = alive and honest(port, problems, "reproducer")
    for s in socks:
        s.close()
    print(f"reproducer: ulimit -Sn 1024, {len(socks)} idle connections held 5 s: process {'alive' if alive else f'DIED ({p.returncode})'}, "
          f"honest client {'served' if served else 'NOT served'}")
    if not alive:
        problems.append(f"reproducer: the process died with {p.returncode}")
    p.terminate(); p.wait(timeout=30)


class Flood:
    """Silent, trickling and crawling connections from 32 addresses, each kind kept at `count` open."""

    def __init__(self, port, count):
        self.port, self.count, self.stop = port, count, threading.Event()
        self.kinds = {"silent": [], "trickling": [], "crawling": []}
        self.opened = 0

    def open(self, kind, i):
        s = socket.socket()
        s.setblocking(True)
        s.settimeout(2)
        try:
            s.bind((f"127.0.0.{2 + i % 32}", 0))
            s.connect(("127.0.0.1", self.port))
            if kind == "trickling":
                s.send(b"GET /health HTTP/1.1\r\n")
            elif kind == "crawling":
                s.send(f"POST /api/v1/voice/synthesize HTTP/1.1\r\nHost: x\r\nX-API-Key: {KEY}\r\n"
                       "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 170000\r\n\r\n--b\r\n".encode())
            self.opened += 1
            return s
        except OSError:
            s.close()
            return None

    def alive(self, s):
        try:
            s.setblocking(False)
            data = s.recv(4096)
            s.setblocking(True)
            return data != b""  # an answer (503, 408) also means the gateway is done with it
        except BlockingIOError:
            s.setblocking(True)
            return True
        except OSError:
            return False

    def run(self):
        tick = 0
        while not self.stop.is_set():
            for kind, conns in self.kinds.items():
                kept = [s for s in conns if self.alive(s) or s.close()]
                while len(kept) < self.count and not self.stop.is_set():
                    s = self.open(kind, len(kept))
                    if s is None:
                        break
                    kept.append(s)
                self.kinds[kind] = kept
            for s in self.kinds["crawling"]:
                try:
                    s.send(b"a" * 100)  # 100 bytes every 0.5 s
                except OSError:
                    pass
            if tick % 4 == 0:
                for s in self.kinds["trickling"]:
                    try:
                        s.send(b"X")  # a header byte every 2 s
                    except OSError:
                        pass
            tick += 1
            self.stop.wait(0.5)
        for conns in self.kinds.values():
            for s in conns:
                s.close()


def flood(binary, seconds, problems):
    port, data = free_port(), tempfile.mkdtemp(prefix="exhaustion-flood-")
    p = start(binary, port, data, "ulimit -n 256")
    honest(port, problems, "warm-up")
    time.sleep(1)
    base_fds, base_rss = fds(p.pid), rss_kib(p.pid)
    f = Flood(port, 256)
    thread = threading.Thread(target=f.run)
    thread.start()
    served, rounds, peak_fds, peak_rss = 0, 0, 0, 0
    started = time.time()
    while time.time() - started < seconds:
        time.sleep(2)
        rounds += 1
        served += honest(port, problems, f"flood round {rounds}")
        peak_fds, peak_rss = max(peak_fds, fds(p.pid)), max(peak_rss, rss_kib(p.pid))
    f.stop.set()
    thread.join()
    deadline = time.time() + 20
    while time.time() < deadline and fds(p.pid) > base_fds + 4:
        time.sleep(0.5)
    time.sleep(2)
    after_fds, after_rss = fds(p.pid), rss_kib(p.pid)
    _, _, metrics = call(port, "/metrics")
    counts = {line.split(" ")[0]: line.split(" ")[1] for line in metrics.decode().splitlines()
              if line.startswith("voicegate_connections_") and not line.startswith("#")}
    print(f"flood: ulimit -n 256, 3 x 256 attackers from 32 addresses ({f.opened} connections opened in {seconds} s): "
          f"honest client served {served}/{rounds} rounds; descriptors {base_fds} -> peak {peak_fds} -> {after_fds}; "
          f"RSS {base_rss // 1024} -> peak {peak_rss // 1024} -> {after_rss // 1024} MiB")
    print("  " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    if p.poll() is not None:
        problems.append(f"flood: the process died with {p.returncode}")
    if served != rounds:
        problems.append(f"flood: the honest client was served {served} of {rounds} rounds")
    if after_fds > base_fds + 4:
        problems.append(f"flood: descriptors {after_fds} after, {base_fds} before")
    if after_rss > base_rss + 32 * 1024:
        problems.append(f"flood: RSS {after_rss} KiB after, {base_rss} KiB before")
    p.terminate(); p.wait(timeout=30)


def full_disk(binary, problems):
    if os.geteuid() != 0:
        print("full disk: skipped (mounting a tmpfs needs root)")
        return
    data = tempfile.mkdtemp(prefix="exhaustion-disk-")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", data]).returncode != 0:
        print("full disk: skipped (mount refused)")
        return
    port = free_port()
    p = start(binary, port, data, "true", {"QUEUE_TIMEOUT": "2", "SOVITS_TIMEOUT": "3", "HEALTH_INTERVAL": "0.5"})
    try:
        statuses, ok, first_full = [], 0, None
        for i in range(40):
            body, ctype = form(f"Recording {i}.", wav(5 + i / 100, rate=16000))  # 160 kB, each one new
            status, headers, answer = call(port, "/api/v1/voice/synthesize", body, ctype)
            statuses.append(status)
            if status == 200:
                ok += 1
            elif first_full is None:
                first_full = (i, status, headers.get("Retry-After"), json.loads(answer or b"{}").get("error"))
                break
        if first_full is None:
            problems.append("full disk: 40 new recordings fitted in 3 MB?")
            return
        i, status, retry, code = first_full
        health = json.loads(call(port, "/health")[2])
        _, _, metrics = call(port, "/metrics")
        full_count = [l for l in metrics.decode().splitlines() if l.startswith("voicegate_storage_full_total")]
        print(f"full disk: 3 MB tmpfs, {ok} new recordings stored, then #{i + 1}: {status} {code} Retry-After {retry}; "
              f"/health {health.get('status')} ({health.get('message')}); {full_count}")
        if status != 507 or code != "storage_full" or not retry:
            problems.append(f"full disk: the refusal was {status} {code} Retry-After {retry}")
        if health.get("status") != "degraded":
            problems.append(f"full disk: /health said {health.get('status')}")
        # The janitor makes room once the uploads are past the grace (2 + 3 + 10 s): uploads work again.
        recovered_after = None
        started = time.time()
        while time.time() - started < 60:
            time.sleep(2)
            body, ctype = form("After the janitor.", wav(4.5, rate=16000))
            if call(port, "/api/v1/voice/synthesize", body, ctype)[0] == 200:
                recovered_after = time.time() - started
                ok += 1
                break
        health = json.loads(call(port, "/health")[2])
        print(f"full disk: uploads accepted again after {recovered_after and round(recovered_after)} s; /health {health.get('status')}")
        if recovered_after is None:
            problems.append("full disk: uploads never recovered")
        # Every accepted synthesis is in the history (rows that could not be written waited).
        deadline = time.time() + 20
        rows = 0
        while time.time() < deadline:
            status, _, page = call(port, "/api/v1/history?limit=200&status=200")
            rows = len(json.loads(page).get("items", [])) if status == 200 else 0
            if rows >= ok:
                break
            time.sleep(1)
        print(f"full disk: {rows} history rows with status 200 for {ok} accepted syntheses")
        if rows < ok:
            problems.append(f"full disk: {ok} syntheses accepted, {rows} in the history")
        if p.poll() is not None:
            problems.append(f"full disk: the process died with {p.returncode}")
    finally:
        p.terminate(); p.wait(timeout=30)
        subprocess.run(["umount", data])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/voicegate")
    ap.add_argument("--seconds", type=int, default=20)
    args = ap.parse_args()
    problems = []
    reproducer(args.binary, problems)
    flood(args.binary, args.seconds, problems)
    full_disk(args.binary, problems)
    for problem in problems:
        print("FAIL " + problem)
    print(f"{3 - len({p.split(':')[0] for p in problems})} passed, {len({p.split(':')[0] for p in problems})} failed")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
