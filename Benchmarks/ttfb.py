#!/usr/bin/env python3
"""Time to first byte of streamed mp3 and opus against wav, through the gateway, from a streaming upstream.

Starts the api_v2 double (`sovits-double PORT DELAY_MS tone`: each text segment streams after DELAY_MS, as a GPU's
fragments would, as a tone rather than silence so the encoders have real work) and `voicegate --server` in front of it with a saved voice, then sends the same
`POST /v1/audio/speech` in wav, mp3 and opus, interleaved, for --rounds rounds. For each it records:
  - first byte: when the first body byte arrives. For wav that is the 44-byte header the gateway writes as soon as
    the upstream's header is in, before any audio; opus's first bytes are its header pages, also before any audio;
    an mp3 stream has no header, its first byte is its first frame. So this figure compares unlike things;
  - first audio: when the first byte of encoded audio arrives (wav: past the header; opus: past the two header
    pages; mp3: the first frame): the same moment for every format, the fair comparison.
Prints medians and p90s and each format's median overhead against wav in the same rounds.

    python3 Benchmarks/ttfb.py [--rounds 40] [--delay-ms 200]
"""
import argparse, http.client, json, os, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "blackbox"))
from hammer import free_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "ttfb-bench-key-0123456789abcdef"
TEXT = "The first fragment comes quickly, the second follows, and the third ends it."


def wait(port):
    for _ in range(200):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/health")
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def audio_offset(fmt, data):
    """Where the first encoded audio byte is in `data`, or None until it has arrived."""
    if fmt == "wav":
        return 44 if len(data) > 44 else None
    if fmt == "mp3":
        return 0 if data else None
    # Ogg: skip the OpusHead and OpusTags pages (27-byte header + segment table + body each).
    offset = 0
    for _ in range(2):
        if len(data) < offset + 27:
            return None
        segments = data[offset + 26]
        if len(data) < offset + 27 + segments:
            return None
        offset += 27 + segments + sum(data[offset + 27:offset + 27 + segments])
    return offset if len(data) > offset else None


def measure(port, fmt):
    body = json.dumps({"model": "tts-1", "input": TEXT, "voice": "bench", "response_format": fmt})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    connection.request("POST", "/v1/audio/speech", body, {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200, response.read()
    data, first_byte, first_audio = b"", None, None
    while True:
        chunk = response.read1(65536)
        if not chunk:
            break
        now = time.perf_counter()
        data += chunk
        first_byte = first_byte or now
        if first_audio is None and audio_offset(fmt, data) is not None:
            first_audio = now
    connection.close()
    return (first_byte - started) * 1000, (first_audio - started) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--delay-ms", type=int, default=200)
    args = ap.parse_args()
    build = os.path.join(ROOT, ".build", "release")
    work = tempfile.mkdtemp(prefix="voicegate-ttfb-")
    upstream, port = free_port(), free_port()
    env = dict(os.environ, DATA_DIR=work, API_KEY=KEY, PORT=str(port), SOVITS_BASE_URL=f"http://127.0.0.1:{upstream}", LOG_LEVEL="error")
    subprocess.run([os.path.join(build, "voicegate"), "voices", "add", "bench", os.path.join(ROOT, "assets", "sample-voice.wav"),
                    "--prompt-text", "The sample voice.", "--language", "en"], env=env, check=True, stdout=subprocess.DEVNULL)
    double = subprocess.Popen([os.path.join(build, "sovits-double"), str(upstream), str(args.delay_ms), "tone"], stdout=subprocess.DEVNULL)
    gateway = subprocess.Popen([os.path.join(build, "voicegate"), "--server"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(upstream)
        wait(port)
        formats = ["wav", "mp3", "opus"]
        for fmt in formats:
            measure(port, fmt)  # warm up
        results = {fmt: [] for fmt in formats}
        for i in range(args.rounds):
            for fmt in formats[i % 3:] + formats[:i % 3]:
                results[fmt].append(measure(port, fmt))
    finally:
        gateway.terminate()
        double.terminate()
        gateway.wait()
        double.wait()

    def p90(values):
        return sorted(values)[int(len(values) * 0.9)]

    print(f"{args.rounds} rounds, upstream streams a fragment every {args.delay_ms} ms; milliseconds")
    print(f"{'format':7} {'first byte median':>18} {'p90':>7} {'first audio median':>19} {'p90':>7} {'audio vs wav (median of round diffs)':>38}")
    for fmt in formats:
        firsts = [r[0] for r in results[fmt]]
        audios = [r[1] for r in results[fmt]]
        diffs = [a[1] - w[1] for a, w in zip(results[fmt], results["wav"])]
        print(f"{fmt:7} {statistics.median(firsts):18.1f} {p90(firsts):7.1f} {statistics.median(audios):19.1f} {p90(audios):7.1f} "
              f"{statistics.median(diffs):+38.2f}")


if __name__ == "__main__":
    main()
