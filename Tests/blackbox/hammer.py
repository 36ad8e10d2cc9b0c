#!/usr/bin/env python3
"""Black-box checks of the release binary: thousands of mutated multipart uploads, then thousands of upstream faults.

Starts `voicegate --server` in front of an api_v2 stand-in (fast, in this process, faults chosen by the request's
text) and, over real sockets, sends what broken and hostile clients send: flipped bytes, cut bodies, duplicated
and inserted delimiters, odd part headers (bytes >= 0x80 in names, no colon, bare LF, huge values), lying
Content-Length, bad boundaries, chunked bodies. Then a run of upstream faults (reset mid-body, garbage instead of
HTTP, impossible WAV headers, a header declaring 2 GB, 422, the 16 kHz silence, a chunked answer cut short).

Checks: the process stays up; every answer is a documented status, and every error an ErrorResponse with an
X-Request-ID; no partial upload file stays behind; open descriptors return to their baseline and memory does
not grow from the first half of a phase to the second. Prints the figures and exits 1 on any failure.

    python3 Tests/blackbox/hammer.py [--binary .build/release/voicegate] [--requests 3000] [--faults 10000]
"""
import argparse
import json
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DOCUMENTED = {200, 400, 401, 404, 405, 502, 503, 504}
KEY = "blackbox-key-0123456789abcdef"


def wav(seconds, rate=8000, silent=False, sample_rate_field=None, channels=1, data_size=None, samples=None):
    frames = int(seconds * rate)
    data = bytes(frames * 2 * channels) if silent else bytes((i * 37 + (i >> 7)) & 0xFF for i in range(frames * 2 * channels))
    if samples is not None:
        data = data[:samples]
    rate_field = rate if sample_rate_field is None else sample_rate_field
    size = len(data) if data_size is None else data_size
    return (b"RIFF" + struct.pack("<I", (36 + size) & 0xFFFFFFFF) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, channels, rate_field, (rate_field * channels * 2) & 0xFFFFFFFF, channels * 2, 16)
            + b"data" + struct.pack("<I", size & 0xFFFFFFFF) + data)


# --- the upstream stand-in ---------------------------------------------------------------------------------

class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = b'{"openapi":"3.1.0","paths":{"/tts":{},"/set_gpt_weights":{}}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        fault = request.get("text", "").partition("fault:")[2].split()[0] if "fault:" in request.get("text", "") else "none"
        streaming = bool(request.get("streaming_mode"))
        if fault == "garbage":
            self.wfile.write(b"SSH-2.0-OpenSSH_9.2p1\r\n\x00\xff")
            self.close_connection = True
            return
        if fault == "reset":
            audio = wav(1, 32000)
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Content-Length", str(len(audio)))
            self.end_headers()
            self.wfile.write(audio[:3000])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if fault == "cut":
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            piece = wav(0.1, 32000, data_size=0)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
            self.close_connection = True
            return
        if fault == "422":
            return self.answer(422, "application/json", b'{"detail":[{"type":"missing","loc":["body","text"],"msg":"Field required"}]}')
        if fault == "format":
            return self.answer(200, "audio/wav", wav(0.05, 32000, sample_rate_field=0xFFFFFFF0, channels=2))
        if fault == "size":
            return self.answer(200, "audio/wav", wav(0.05, 32000, data_size=0x7FFFFFF0))
        if fault == "oom":
            return self.answer(200, "audio/wav", wav(1, 16000, silent=True))
        audio = wav(0.2, 32000, data_size=0 if streaming else None)
        self.answer(200, "audio/wav", audio)

    def answer(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the gateway drops upstream connections whose client left: not this script's problem


def start_upstream():
    """The stand-in on a free port of 127.0.0.1, served from a background thread."""
    upstream = QuietServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    return upstream


# --- a raw HTTP/1.1 client -----------------------------------------------------------------------------------

class Answer:
    def __init__(self, status=None, headers=None, body=b"", complete=False, error=None):
        self.status, self.headers, self.body, self.complete, self.error = status, headers or {}, body, complete, error


def exchange(port, raw, timeout=15.0, half_close=False):
    """Sends raw bytes, reads one response. `complete`: the body arrived whole per its framing."""
    try:
        connection = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError as e:
        return Answer(error=type(e).__name__)
    with connection as s:
        try:
            s.sendall(raw)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the gateway may answer and close before the whole body is sent: read what it said
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            if b"\r\n\r\n" not in data:
                return Answer(error="no response" if not data else "partial head")
            head, _, rest = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
            if "content-length" in headers:
                want = int(headers["content-length"])
                while len(rest) < want:
                    chunk = s.recv(65536)
                    if not chunk:
                        return Answer(status, headers, rest)
                    rest += chunk
                return Answer(status, headers, rest[:want], complete=True)
            if headers.get("transfer-encoding") == "chunked":
                body = b""
                while True:
                    while b"\r\n" not in rest:
                        chunk = s.recv(65536)
                        if not chunk:
                            return Answer(status, headers, body)
                        rest += chunk
                    size_line, _, rest = rest.partition(b"\r\n")
                    size = int(size_line.split(b";")[0], 16)
                    while len(rest) < size + 2:
                        chunk = s.recv(65536)
                        if not chunk:
                            return Answer(status, headers, body)
                        rest += chunk
                    if size == 0:
                        return Answer(status, headers, body, complete=True)
                    body += rest[:size]
                    rest = rest[size + 2:]
            return Answer(status, headers, rest, complete=True)
        except (socket.timeout, ConnectionResetError, OSError) as e:
            return Answer(error=type(e).__name__)


def request(body, content_type, extra_headers=b"", length=None, chunked=None):
    head = (b"POST /api/v1/voice/synthesize HTTP/1.1\r\nHost: gateway\r\nX-API-Key: " + KEY.encode()
            + b"\r\nContent-Type: " + content_type + b"\r\n" + extra_headers)
    if chunked:
        out, i = b"", 0
        while i < len(body):
            n = chunked[i % len(chunked)]
            out += b"%x\r\n%s\r\n" % (len(body[i:i + n]), body[i:i + n])
            i += n
        return head + b"Transfer-Encoding: chunked\r\n\r\n" + out + b"0\r\n\r\n"
    return head + b"Content-Length: %d\r\n\r\n" % (len(body) if length is None else length) + body


def form(boundary, fields, reference, file_headers=None):
    out = b""
    for name, value in fields:
        out += b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"" + name + b"\"\r\n\r\n" + value + b"\r\n"
    out += b"--" + boundary + b"\r\n" + (file_headers or b"Content-Disposition: form-data; name=\"reference_audio\"; filename=\"r.wav\"\r\nContent-Type: audio/wav\r\n") + b"\r\n"
    out += reference + b"\r\n--" + boundary + b"--\r\n"
    return out


# --- mutations ------------------------------------------------------------------------------------------------

def mutate(rng, base, boundary, reference):
    """One hostile request: (raw bytes, half_close, kind)."""
    ctype = b"multipart/form-data; boundary=" + boundary
    kind = rng.choice(["flip", "cut", "dup-delim", "insert-delim", "odd-header", "lying-long", "lying-short",
                       "boundary", "chunked", "fields", "valid"])
    body = bytearray(base)
    if kind == "flip":
        for _ in range(rng.randint(1, 20)):
            body[rng.randrange(len(body))] = rng.randrange(256)
        return request(bytes(body), ctype), False, kind
    if kind == "cut":
        return request(bytes(body[:rng.randrange(len(body))]), ctype), False, kind
    if kind == "dup-delim":
        delim = b"\r\n--" + boundary
        at = base.find(delim, rng.randrange(len(base)))
        at = at if at >= 0 else base.find(delim)
        return request(base[:at] + delim * rng.randint(1, 3) + base[at:], ctype), False, kind
    if kind == "insert-delim":
        at = rng.randrange(len(base))
        piece = rng.choice([b"\r\n--" + boundary + b"\r\n", b"\r\n--" + boundary + b"--", b"--" + boundary, b"\r\n--" + boundary[:-1]])
        return request(base[:at] + piece + base[at:], ctype), False, kind
    if kind == "odd-header":
        header = rng.choice([
            b"N\xc3\xa4me: x\r\n", b"\x80\xff: y\r\n", b"NoColonHere\r\n", b"Content-Disposition: form-data; name=\"reference_audio\"\n",
            b"X-Long: " + b"a" * rng.choice([100, 20000, 200000]) + b"\r\n", b": empty-name\r\n", b"Sp ace: x\r\n",
            b"Content-Disposition: form-data; name=\"" + bytes(rng.randrange(256) for _ in range(8)) + b"\"\r\n"])
        file_headers = header + b"Content-Disposition: form-data; name=\"reference_audio\"; filename=\"r.wav\"\r\n"
        return request(form(boundary, [(b"text", b"Hello there.")], reference, file_headers), ctype), False, kind
    if kind == "lying-long":
        return request(bytes(body), ctype, length=len(body) + rng.randint(1, 5000)), True, kind
    if kind == "lying-short":
        return request(bytes(body), ctype, length=rng.randrange(len(body))), False, kind
    if kind == "boundary":
        bad = rng.choice([b"", b"x" * 71, b"caf\xc3\xa9", b"\"\"", b"a;b", b"other-boundary", boundary + b"x"])
        return request(bytes(body), b"multipart/form-data; boundary=" + bad), False, kind
    if kind == "chunked":
        sizes = [rng.choice([1, 2, 7, 100, 1024, 4093, 65536]) for _ in range(3)]
        return request(bytes(body), ctype, chunked=sizes), False, kind
    if kind == "fields":
        fields = [(b"text", rng.choice([b"", b" ", b"x" * 6000, b"\xff\xfe", b"Hello"])),
                  (rng.choice([b"language", b"speed", b"seed", b"stream", b"temperature"]),
                   rng.choice([b"nan", b"-1e309", b"99999999999999999999999", b"\x00", b"en", b"1.0"]))]
        return request(form(boundary, fields, reference), ctype), False, kind
    return request(bytes(body), ctype), False, kind


# --- the process ------------------------------------------------------------------------------------------------

def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_answer(a, problems, kind):
    if a.status is None:
        return
    if a.status not in DOCUMENTED:
        problems.append(f"{kind}: undocumented status {a.status}")
    if a.status >= 400:
        if "x-request-id" not in a.headers:
            problems.append(f"{kind}: {a.status} without X-Request-ID")
        try:
            e = json.loads(a.body)
            if not (e.get("success") is False and isinstance(e.get("error"), str) and isinstance(e.get("message"), str) and "details" in e):
                problems.append(f"{kind}: {a.status} body is not an ErrorResponse: {a.body[:200]!r}")
        except ValueError:
            problems.append(f"{kind}: {a.status} body is not JSON: {a.body[:200]!r}")


def settle(pid, baseline, seconds=8):
    """Descriptors once idle connections have closed: back to the baseline, or what is left after `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline and fds(pid) > baseline:
        time.sleep(0.25)
    return fds(pid)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/voicegate")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--faults", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    upstream = start_upstream()
    data = tempfile.mkdtemp(prefix="voicegate-blackbox-")
    port = free_port()
    env = dict(os.environ, API_KEY=KEY, PORT=str(port), DATA_DIR=data, LOG_LEVEL="error", CLIENT_IDLE_TIMEOUT="2",
               SOVITS_BASE_URL=f"http://127.0.0.1:{upstream.server_address[1]}", SOVITS_TIMEOUT="5",
               SOVITS_MAX_CONCURRENCY="8", QUEUE_MAX="256", HEALTH_INTERVAL="1")
    log = open(os.path.join(data, "server.log"), "w")
    server = subprocess.Popen([args.binary, "--server"], env=env, stdout=log, stderr=subprocess.STDOUT)
    problems = []
    try:
        for _ in range(100):
            a = exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", timeout=1)
            if a.status == 200:
                break
            time.sleep(0.1)
        boundary = b"blackbox7MA4YWxkTrZu0gW"
        reference = wav(3.5)
        base = form(boundary, [(b"text", b"Hello there."), (b"language", b"en")], reference)
        # Warm up at the run's concurrency: the reference stored, and the upstream client's pool holding as many
        # kept-alive connections as the runs will use (those are reused, not leaked).
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(lambda _: exchange(port, request(base, b"multipart/form-data; boundary=" + boundary)), range(20 * args.concurrency)))
        fd0, rss0 = settle(server.pid, 0, 3), rss_kib(server.pid)

        def phase(name, jobs, checker):
            counts, peak, mid = {}, rss0, None
            lock = threading.Lock()

            def run(job):
                nonlocal peak, mid
                raw, half_close, kind, i = job
                a = exchange(port, raw, half_close=half_close)
                label = a.status if a.status is not None else a.error
                with lock:
                    counts[label] = counts.get(label, 0) + 1
                    checker(a, kind, problems)
                    if i % 200 == 0:
                        peak = max(peak, rss_kib(server.pid))
                    if i == len(jobs) // 2:
                        mid = rss_kib(server.pid)
                if server.poll() is not None:
                    raise SystemExit(f"the gateway died (exit {server.returncode}) during {name}")

            started = time.time()
            with ThreadPoolExecutor(args.concurrency) as pool:
                list(pool.map(run, jobs))
            elapsed = time.time() - started
            fd1, rss1 = settle(server.pid, fd0), rss_kib(server.pid)
            partial = [f for f in os.listdir(os.path.join(data, "refs", ".incoming")) if f.endswith(".part")]
            print(f"{name}: {len(jobs)} requests in {elapsed:.1f} s; statuses {dict(sorted(counts.items(), key=str))}")
            print(f"  descriptors {fd0} before, {fd1} after; RSS {rss0 / 1024:.1f} MiB before, {(mid or rss1) / 1024:.1f} MiB half-way, "
                  f"{rss1 / 1024:.1f} MiB after, peak {max(peak, rss1) / 1024:.1f} MiB; partial upload files left: {len(partial)}")
            if fd1 > fd0 + 2:
                targets = sorted(os.readlink(f"/proc/{server.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{server.pid}/fd"))
                problems.append(f"{name}: descriptors grew from {fd0} to {fd1}: {targets}")
            if mid is not None and rss1 - mid > 8 * 1024:
                problems.append(f"{name}: RSS grew {(rss1 - mid) / 1024:.1f} MiB in the second half")
            if partial:
                problems.append(f"{name}: partial files left: {partial[:5]}")
            return counts

        jobs = []
        for i in range(args.requests):
            raw, half_close, kind = mutate(rng, base, boundary, reference)
            jobs.append((raw, half_close, kind, i))

        def mutation_checker(a, kind, problems):
            if a.status is None and kind not in ("lying-long",):
                problems.append(f"{kind}: no answer ({a.error})")
            check_answer(a, problems, kind)
            if a.status == 200 and kind == "boundary":
                problems.append(f"{kind}: a body sent with another boundary was answered 200")

        phase("mutated uploads", jobs, mutation_checker)

        expected = {"garbage": 502, "format": 502, "size": 502, "422": 502, "oom": 502, "reset": 200, "cut": 200, "none": 200}
        faults = list(expected)
        jobs = []
        for i in range(args.faults):
            fault = faults[i % len(faults)]
            stream = b"true" if fault == "cut" or (fault == "format" and i % 2) else b"false"
            body = form(boundary, [(b"text", b"fault:" + fault.encode() + b" please"), (b"stream", stream)], reference)
            jobs.append((request(body, b"multipart/form-data; boundary=" + boundary), False, fault, i))

        def fault_checker(a, kind, problems):
            check_answer(a, problems, kind)
            want = expected[kind]
            if a.status != want:
                problems.append(f"fault {kind}: answered {a.status or a.error}, expected {want}")
            elif kind in ("reset", "cut") and a.complete:
                problems.append(f"fault {kind}: the cut answer looked complete")
            elif kind == "none" and not a.complete:
                problems.append("fault none: a good answer was cut")

        phase("upstream faults", jobs, fault_checker)
        health = exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5)
        if health.status != 200:
            problems.append(f"/health answered {health.status or health.error} at the end")
        if server.poll() is not None:
            problems.append(f"the gateway exited with {server.returncode}")
    finally:
        server.terminate()
        try:
            code = server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            code = "killed"
        upstream.shutdown()
    unique = sorted(set(problems))
    for p in unique[:40]:
        print("PROBLEM:", p)
    print(f"gateway exit status after SIGTERM: {code}")
    if unique or code != 0:
        print(f"black box: {len(problems)} problems ({len(unique)} distinct)")
        sys.exit(1)
    print("black box: the gateway stayed up, every answer was documented, nothing was left behind")


if __name__ == "__main__":
    main()
