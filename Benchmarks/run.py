#!/usr/bin/env python3
"""VoiceGate benchmark: the release gateway in front of a fast GPT-SoVITS double, against the double direct.

Runs wrk with a real multipart request (a 5 s WAV reference) through the gateway, and the equivalent JSON
POST /tts straight to the double, at 1 and 32 connections, in alternating rounds; reports medians and ratios.
Beside them, the same upload through proxy-floor: a do-nothing proxy on the same stack (Hummingbird, AsyncHTTPClient,
the same executor) that drops the body and forwards a fixed /tts, i.e. the most any gateway on this stack can reach.
The gateway is measured twice in each round: all requests with the one admin key, and spread over --keys client
keys (each request the next key in turn), so the cost of named keys, per-key limits and the synthesis history
(always on: every request is a row in the SQLite store) shows as a ratio in the same run.
Then measures the gateway's peak RSS while 32 clients upload 10 MiB references at once.

    python3 Benchmarks/run.py [--rounds 3] [--seconds 5] [--upstream-ms 0,10] [--keys 100] [--no-memory]
Needs: wrk, sox, curl (Debian packages). Everything listens on 127.0.0.1 only.
"""
import argparse, json, os, re, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.request, uuid
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serving import free_port, wait_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LUA = os.path.join(ROOT, "Benchmarks", "wrk-post.lua")

def multipart(boundary, fields, file_path):
    out = b""
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    out += f'--{boundary}\r\nContent-Disposition: form-data; name="reference_audio"; filename="ref.wav"\r\nContent-Type: audio/wav\r\n\r\n'.encode()
    out += open(file_path, "rb").read() + f"\r\n--{boundary}--\r\n".encode()
    return out

def make_keys(port, admin, count, path):
    """Client keys without limits (so none is refused), made through the admin API; one per line in `path`."""
    with open(path, "w") as out:
        for i in range(count):
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/keys", method="POST",
                                             data=json.dumps({"name": f"bench-{port}-{i}"}).encode(),
                                             headers={"X-API-Key": admin, "Content-Type": "application/json"})
            out.write(json.load(urllib.request.urlopen(request))["key"] + "\n")

def wrk(url, body_file, content_type, key, connections, seconds, keys_file=None):
    env = dict(os.environ, BODY_FILE=body_file, CONTENT_TYPE=content_type, API_KEY=key or "", API_KEYS_FILE=keys_file or "")
    threads = min(2, connections)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "-s", LUA, url],
                         env=env, capture_output=True, text=True, check=True).stdout
    m = re.search(r"RESULT requests=(\d+) seconds=([\d.]+) p50_ms=([\d.]+) p99_ms=([\d.]+) errors=(\d+)", out)
    requests, secs, p50, p99, errors = int(m[1]), float(m[2]), float(m[3]), float(m[4]), int(m[5])
    if errors:
        sys.exit(f"{errors} failed requests against {url}:\n{out}")
    return {"rps": requests / secs, "p50": p50, "p99": p99}

def rss_peak_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--upstream-ms", default="0,10",
                    help="inference delays of the upstream double, comma-separated (0: pure gateway overhead)")
    ap.add_argument("--keys", type=int, default=100, help="client keys the second gateway run spreads its requests over")
    ap.add_argument("--baseline-binary", help="another voicegate build (an earlier commit) measured in the same rounds")
    ap.add_argument("--no-memory", action="store_true", help="skip the 32 concurrent 10 MiB uploads")
    args = ap.parse_args()
    delays = [int(d) for d in args.upstream_ms.split(",")]
    for tool in ["wrk", "sox", "curl"]:
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install {tool}")
    subprocess.run(["swift", "build", "-c", "release", "--product", "voicegate"], cwd=ROOT, check=True)
    subprocess.run(["swift", "build", "-c", "release", "--product", "sovits-double"], cwd=ROOT, check=True)
    subprocess.run(["swift", "build", "-c", "release", "--product", "proxy-floor"], cwd=ROOT, check=True)
    bindir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    work = tempfile.mkdtemp(prefix="voicegate-bench-")
    refs = os.path.join(work, "refs"); os.makedirs(refs)
    ref = os.path.join(work, "ref5s.wav")
    subprocess.run(["sox", "-n", "-r", "32000", "-c", "1", "-b", "16", ref, "synth", "5", "sine", "180", "vol", "0.3"], check=True)
    big = os.path.join(work, "ref10mib.wav")  # 6.5 s of 192 kHz stereo float: just under 10 MiB, a valid reference
    subprocess.run(["sox", "-n", "-r", "192000", "-c", "2", "-b", "32", "-e", "floating-point", big, "synth", "6.5", "sine", "180"], check=True)

    key = "bench-" + uuid.uuid4().hex
    keys_file = os.path.join(work, "keys.txt")
    baseline_ports = {}
    procs = []

    def start(cmd, port, env=None, log=None):
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                             stderr=open(log, "a") if log else subprocess.DEVNULL)
        procs.append(p)
        wait_port(port)
        return p

    def stop(p):
        p.terminate()
        p.wait(timeout=30)
        procs.remove(p)

    def start_pair(delay_ms):
        upstream_port, gateway_port = free_port(), free_port()
        double = start([os.path.join(bindir, "sovits-double"), str(upstream_port), str(delay_ms)], upstream_port)
        env = dict(os.environ, API_KEY=key, SOVITS_BASE_URL=f"http://127.0.0.1:{upstream_port}", PORT=str(gateway_port),
                   SOVITS_REF_DIR=refs, DATA_DIR=work, SOVITS_MAX_CONCURRENCY="64", QUEUE_MAX="1000", LOG_LEVEL="info")
        gateway = start([os.path.join(bindir, "voicegate"), "--server"], gateway_port, env, os.path.join(work, "gateway.log"))
        make_keys(gateway_port, key, args.keys, keys_file)
        if args.baseline_binary:
            before_port = free_port()
            before_env = dict(env, PORT=str(before_port), DATA_DIR=os.path.join(work, "before"))
            start([args.baseline_binary, "--server"], before_port, before_env, os.path.join(work, "before.log"))
            baseline_ports[upstream_port] = before_port
        return double, gateway, upstream_port, gateway_port

    def start_floor(upstream_port):
        port = free_port()
        return start([os.path.join(bindir, "proxy-floor"), str(port), str(upstream_port), ref], port), port

    text = "Hello from the benchmark."
    boundary = "bench" + uuid.uuid4().hex
    gw_body = os.path.join(work, "gateway.body")
    open(gw_body, "wb").write(multipart(boundary, [("text", text), ("language", "en")], ref))
    # Direct: the same synthesis as GPT-SoVITS clients send it, with the reference already on its disk.
    direct_body = os.path.join(work, "direct.body")
    json.dump({"text": text, "text_lang": "en", "ref_audio_path": ref, "prompt_lang": "en", "prompt_text": "",
               "batch_size": 1, "media_type": "wav", "streaming_mode": False}, open(direct_body, "w"))
    content_type = f"multipart/form-data; boundary={boundary}"

    try:
        print(f"\nVoiceGate benchmark: {args.rounds} alternating rounds of {args.seconds} s, medians; "
              f"5 s WAV reference (320 kB multipart) vs direct JSON POST /tts; {os.cpu_count()} cores")
        print("\n| upstream | connections | direct req/s | floor req/s | gateway req/s | floor/direct | gateway/direct | gateway/floor "
              "| direct p50 ms | floor p50 ms | gateway p50 ms | added p50 ms | direct p99 ms | gateway p99 ms "
              f"| {args.keys} keys req/s | {args.keys} keys / 1 key | {args.keys} keys p50 ms |"
              + (" before req/s | 1 key / before | 100 keys / before | before p50 ms |" if args.baseline_binary else ""))
        print("|---" * (17 + (4 if args.baseline_binary else 0)) + "|")
        after_wrk = 0
        for delay in delays:
            double, gateway, upstream_port, gateway_port = start_pair(delay)
            floor, floor_port = start_floor(upstream_port)
            gw_url = f"http://127.0.0.1:{gateway_port}/api/v1/voice/synthesize"
            targets = [("gateway", gw_url, gw_body, content_type, key, None),
                       ("direct", f"http://127.0.0.1:{upstream_port}/tts", direct_body, "application/json", None, None),
                       ("floor", f"http://127.0.0.1:{floor_port}/", gw_body, content_type, None, None),
                       ("keys", gw_url, gw_body, content_type, None, keys_file)]
            if args.baseline_binary:
                targets.append(("before", f"http://127.0.0.1:{baseline_ports[upstream_port]}/api/v1/voice/synthesize", gw_body,
                                content_type, key, None))
            results = {}
            for c in [1, 32]:  # warm up all three
                for _, url, body, ctype, k, kf in targets:
                    wrk(url, body, ctype, k, c, 2, kf)
            # The double, like api_v2, serves one request at a time and finishes what wrk left queued when it
            # stopped: let it drain, or the next run measures the previous one's backlog.
            settle = 0.2 + 40 * delay / 1000
            for _ in range(args.rounds):
                for c in [1, 32]:
                    for kind, url, body, ctype, k, kf in targets:
                        results.setdefault((kind, c), []).append(wrk(url, body, ctype, k, c, args.seconds, kf))
                        time.sleep(settle)

            def med(kind, c, field):
                return statistics.median(r[field] for r in results[(kind, c)])

            for c in [1, 32]:
                d, f, g = med("direct", c, "rps"), med("floor", c, "rps"), med("gateway", c, "rps")
                dp, fp, gp = med("direct", c, "p50"), med("floor", c, "p50"), med("gateway", c, "p50")
                print(f"| {delay} ms | {c} | {d:.0f} | {f:.0f} | {g:.0f} | {f / d:.2f}x | {g / d:.2f}x | {g / f:.2f}x | "
                      f"{dp:.2f} | {fp:.2f} | {gp:.2f} | {gp - dp:+.2f} | "
                      f"{med('direct', c, 'p99'):.2f} | {med('gateway', c, 'p99'):.2f} | "
                      f"{med('keys', c, 'rps'):.0f} | {med('keys', c, 'rps') / g:.2f}x | {med('keys', c, 'p50'):.2f} |"
                      + (f" {med('before', c, 'rps'):.0f} | {g / med('before', c, 'rps'):.2f}x | "
                         f"{med('keys', c, 'rps') / med('before', c, 'rps'):.2f}x | {med('before', c, 'p50'):.2f} |"
                         if args.baseline_binary else ""), flush=True)
            after_wrk = max(after_wrk, rss_peak_kib(gateway.pid))
            stop(floor)
            stop(gateway)
            stop(double)

        if args.no_memory:
            return
        # Memory is measured on a fresh gateway, so the figure is the uploads' and not the earlier load's.
        double, gateway, _, gateway_port = start_pair(0)
        gw_url = f"http://127.0.0.1:{gateway_port}/api/v1/voice/synthesize"
        baseline = rss_peak_kib(gateway.pid)
        size = os.path.getsize(big)
        def upload(_):
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", f"X-API-Key: {key}",
                                "-F", "text=Memory test.", "-F", f"reference_audio=@{big}", gw_url], capture_output=True, text=True)
            return r.stdout
        with ThreadPoolExecutor(32) as pool:
            codes = list(pool.map(upload, range(32)))
        peak = rss_peak_kib(gateway.pid)
        ok = codes.count("200")
        print(f"\npeak RSS: {peak / 1024:.1f} MiB after 32 concurrent {size / 1048576:.2f} MiB uploads "
              f"on a fresh gateway ({ok}/32 answered 200; {baseline / 1024:.1f} MiB before them; "
              f"the gateways that served the wrk rounds peaked at {after_wrk / 1024:.1f} MiB)")
        if ok != 32:
            sys.exit(f"uploads failed: {codes}")
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
