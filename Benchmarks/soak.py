#!/usr/bin/env python3
"""Soak: the release gateway under full load for --minutes, in front of a fast GPT-SoVITS double.

32 connections upload the 170 kB reference (5.3 s of 16 kHz speech-band tone) as fast as the gateway answers
(SOVITS_MAX_CONCURRENCY=256, the double answers at once), in 30 s rounds of wrk. After each round: requests/s,
the gateway's RSS and open descriptors, the SQLite store's size and history rows. The comparison is within the
same run: the last minute's throughput against the first's (target: within 10%), RSS at the end (target: under
64 MiB), and what one history row costs on disk.

First, for --floor-minutes, the same load goes to `proxy-floor` (Hummingbird + AsyncHTTPClient with nothing else:
it drops the upload and forwards a fixed /tts to the same double): what this stack alone holds under this load,
measured beside the gateway so that its figures can be read against the floor's. The floor then stays up, and
after every gateway round it gets --floor-round seconds of the same load: the machine's own speed at that moment
(these 2-core machines drift and swing by a fifth between rounds), so that the last minute can also be compared
with the first as gateway/floor, which a slower machine does not move and a slower gateway does.

    python3 Benchmarks/soak.py [--minutes 30] [--connections 32] [--history-max-rows 1000000] [--floor-round 5]
Needs: wrk, sox (Debian packages), a release build (swift build -c release). Listens on 127.0.0.1 only.
"""
import argparse, os, re, shutil, socket, sqlite3, statistics, subprocess, sys, tempfile, time, uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serving import free_port, wait_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LUA = os.path.join(ROOT, "Benchmarks", "wrk-post.lua")


def status(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--round", type=int, default=30, help="seconds of one wrk run")
    ap.add_argument("--history-max-rows", type=int, default=1_000_000)
    ap.add_argument("--binary", help="the voicegate binary (default: the release build)")
    ap.add_argument("--floor-minutes", type=float, default=1, help="minutes of the same load on proxy-floor first (0: none)")
    ap.add_argument("--floor-round", type=int, default=5, help="seconds of load on proxy-floor after each gateway round (0: none)")
    args = ap.parse_args()
    for tool in ["wrk", "sox"]:
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install {tool}")
    bindir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    binary = args.binary or os.path.join(bindir, "voicegate")
    double_binary = os.path.join(os.path.dirname(binary), "sovits-double")
    floor_binary = os.path.join(os.path.dirname(binary), "proxy-floor")
    for b in [binary, double_binary] + ([floor_binary] if args.floor_minutes > 0 or args.floor_round > 0 else []):
        if not os.path.exists(b):
            sys.exit(f"{b} is missing: swift build -c release")
    work = tempfile.mkdtemp(prefix="voicegate-soak-")
    ref = os.path.join(work, "ref.wav")
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", ref, "synth", "5.3", "sine", "180", "vol", "0.3"], check=True)
    boundary = "soak" + uuid.uuid4().hex
    body = os.path.join(work, "body")
    with open(body, "wb") as out:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\nHello from the soak.\r\n'.encode())
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="reference_audio"; filename="ref.wav"\r\n'
                  f'Content-Type: audio/wav\r\n\r\n'.encode() + open(ref, "rb").read() + f"\r\n--{boundary}--\r\n".encode())
    key = "soak-" + uuid.uuid4().hex
    upstream, port = free_port(), free_port()
    double = subprocess.Popen([double_binary, str(upstream), "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(upstream)
    wrk_env = dict(os.environ, BODY_FILE=body, CONTENT_TYPE=f"multipart/form-data; boundary={boundary}", API_KEY=key, API_KEYS_FILE="")

    def load(url, seconds=args.round):
        out = subprocess.run(["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{seconds}s", "-s", LUA, url],
                             env=wrk_env, capture_output=True, text=True).stdout
        m = re.search(r"RESULT requests=(\d+) seconds=([\d.]+) p50_ms=([\d.]+) p99_ms=([\d.]+) errors=(\d+)", out)
        if not m:
            sys.exit(f"wrk said:\n{out}")
        if int(m[5]):
            sys.exit(f"{m[5]} failed requests in a round")
        return int(m[1]) / float(m[2]), float(m[3]), float(m[4])

    def memory(pid):
        return {k: status(pid, f) / 1024 for k, f in [("rss", "VmRSS"), ("anon", "RssAnon"), ("file", "RssFile")]}

    floor, proc = None, None
    if args.floor_minutes > 0 or args.floor_round > 0:
        floor_port = free_port()
        proc = subprocess.Popen([floor_binary, str(floor_port), str(upstream), ref], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(floor_port)
    if args.floor_minutes > 0:
        time.sleep(1)
        floor = {"idle": memory(proc.pid)}
        floor_started, rates = time.time(), []
        while time.time() - floor_started < args.floor_minutes * 60:
            rates.append(load(f"http://127.0.0.1:{floor_port}/")[0])
        floor["load"], floor["rps"] = memory(proc.pid), statistics.mean(rates)
        print(f"proxy-floor, the same load for {args.floor_minutes:g} min: {floor['rps']:.0f} req/s; RSS idle {floor['idle']['rss']:.1f} MiB "
              f"(anon {floor['idle']['anon']:.1f}, file {floor['idle']['file']:.1f}), under load {floor['load']['rss']:.1f} MiB "
              f"(anon {floor['load']['anon']:.1f}, file {floor['load']['file']:.1f})")

    env = dict(os.environ, API_KEY=key, SOVITS_BASE_URL=f"http://127.0.0.1:{upstream}", PORT=str(port), DATA_DIR=work,
               SOVITS_MAX_CONCURRENCY="256", QUEUE_MAX="1000", LOG_LEVEL="warning", HISTORY_MAX_ROWS=str(args.history_max_rows))
    gateway = subprocess.Popen([binary, "--server"], env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "gateway.log"), "w"))
    wait_port(port)
    db = os.path.join(work, "voicegate.db")

    def store_figures():
        size = sum(os.path.getsize(db + s) for s in ["", "-wal"] if os.path.exists(db + s))
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
                rows = c.execute("SELECT COUNT(*) FROM synthesis_history").fetchone()[0]
        except sqlite3.Error:
            rows = None
        return size, rows

    print(f"soak: {args.minutes:g} min, {args.connections} connections, 170 kB upload, SOVITS_MAX_CONCURRENCY=256, "
          f"HISTORY_MAX_ROWS={args.history_max_rows}, {os.cpu_count()} cores")
    time.sleep(1)
    idle = memory(gateway.pid)
    print(f"gateway RSS idle {idle['rss']:.1f} MiB (anon {idle['anon']:.1f}, file {idle['file']:.1f})")
    print("\n| minute | req/s | p50 ms | p99 ms | floor req/s | gateway/floor | RSS MiB | anon MiB | file MiB | descriptors | store MB | history rows |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    rounds = []
    loaded = 0.0  # minutes of load on the gateway: the floor's rounds do not count
    try:
        while loaded < args.minutes:
            rps, p50, p99 = load(f"http://127.0.0.1:{port}/api/v1/voice/synthesize")
            loaded += args.round / 60
            size, rows = store_figures()
            r = {"minute": loaded, "rps": rps, "p50": p50, "p99": p99, **memory(gateway.pid),
                 "fds": len(os.listdir(f"/proc/{gateway.pid}/fd")), "store": size / 1e6, "rows": rows}
            r["floor"] = load(f"http://127.0.0.1:{floor_port}/", args.floor_round)[0] if args.floor_round > 0 else None
            rounds.append(r)
            beside = f"{r['floor']:.0f} | {rps / r['floor']:.3f}" if r["floor"] else "- | -"
            print(f"| {r['minute']:.1f} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {beside} | {r['rss']:.1f} | {r['anon']:.1f} | {r['file']:.1f} | "
                  f"{r['fds']} | {r['store']:.1f} | {r['rows']} |", flush=True)
    finally:
        peak = status(gateway.pid, "VmHWM") / 1024
        gateway.terminate(); gateway.wait(timeout=60)
        if proc:
            proc.terminate(); proc.wait(timeout=30)
        double.terminate(); double.wait(timeout=30)
    per_minute = max(1, round(60 / args.round))
    first = statistics.mean(r["rps"] for r in rounds[:per_minute])
    last = statistics.mean(r["rps"] for r in rounds[-per_minute:])
    size, rows = store_figures()
    with sqlite3.connect(db) as c:
        pages, page_size = c.execute("PRAGMA page_count").fetchone()[0], c.execute("PRAGMA page_size").fetchone()[0]
    end = rounds[-1]
    print(f"\nfirst minute {first:.0f} req/s, last minute {last:.0f} req/s: last/first = {last / first:.3f} (target >= 0.90)")
    if args.floor_round > 0:
        ratio = lambda rs: statistics.mean(r["rps"] / r["floor"] for r in rs)
        print(f"against the floor beside each round: first minute {ratio(rounds[:per_minute]):.3f}, last minute {ratio(rounds[-per_minute:]):.3f}: "
              f"last/first = {ratio(rounds[-per_minute:]) / ratio(rounds[:per_minute]):.3f} (the machine's drift taken out); "
              f"the floor itself went {statistics.mean(r['floor'] for r in rounds[:per_minute]):.0f} -> "
              f"{statistics.mean(r['floor'] for r in rounds[-per_minute:]):.0f} req/s")
    print(f"RSS at the end {end['rss']:.1f} MiB (target < 64), peak {peak:.1f} MiB; descriptors at the end {end['fds']}")
    print(f"gateway: idle {idle['rss']:.1f} -> {end['rss']:.1f} MiB under load (+{end['rss'] - idle['rss']:.1f}; anon +{end['anon'] - idle['anon']:.1f}, "
          f"file +{end['file'] - idle['file']:.1f})")
    if floor:
        print(f"proxy-floor: idle {floor['idle']['rss']:.1f} -> {floor['load']['rss']:.1f} MiB under the same load "
              f"(+{floor['load']['rss'] - floor['idle']['rss']:.1f}; anon +{floor['load']['anon'] - floor['idle']['anon']:.1f}); "
              f"gateway/floor RSS under load {end['rss'] / floor['load']['rss']:.2f}, anonymous {end['anon'] / floor['load']['anon']:.2f}")
    print(f"history: {rows} rows in {pages * page_size / 1e6:.1f} MB: {pages * page_size / max(1, rows):.0f} bytes a row, indexes included")
    ok = last / first >= 0.9 and end["rss"] < 64
    print("soak: " + ("targets met" if ok else "TARGETS MISSED"))
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
