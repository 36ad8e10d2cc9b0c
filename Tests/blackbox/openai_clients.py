#!/usr/bin/env python3
"""The official `openai` Python package against the release binary, as apps use it.

Starts `voicegate --server` on the embedded espeak-ng engine (real speech) with a voice saved by
`voicegate voices add` and `VOICE_ALIASES=alloy=anna`, then, through `openai.OpenAI(base_url=.../v1)`:
  - `audio.speech.create` for mp3, opus, flac, wav and pcm: each decodes with a real decoder (mpg123, opusdec,
    flac) to as long as the wav of the same text, and every file format opens in libsndfile (Python's `soundfile`,
    what speech and ML tooling reads audio with) with its real length: FLAC's STREAMINFO carries it;
  - `with_streaming_response` delivers an mp3 that decodes the same;
  - `stream_format="sse"`: delta events whose audio decodes, and a done event with usage;
  - errors arrive as the client's own exceptions (BadRequestError for aac, AuthenticationError for a wrong key),
    and a spent quota is a RateLimitError the client does not retry (the server sees one request, not three).
Prints the figures and exits 1 on any failure.

    python3 Tests/blackbox/openai_clients.py [--binary .build/release/voicegate]
"""
import argparse
import base64
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

import openai

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hammer import free_port  # noqa: E402

ADMIN = "openai-admin-key-0123456789"
TEXT = "Hello from VoiceGate. The official client asked for this sentence."
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


def wav_seconds(data):
    """Duration of a WAV whose header may say "unknown size" (a stream): from the bytes after the data chunk."""
    rate = struct.unpack("<I", data[24:28])[0]
    channels, bits = struct.unpack("<H", data[22:24])[0], struct.unpack("<H", data[34:36])[0]
    offset = data.find(b"data") + 8
    return (len(data) - offset) / (rate * channels * bits // 8)


def decoded_seconds(fmt, data, work):
    source = os.path.join(work, f"in.{fmt}")
    out = os.path.join(work, "out.wav")
    with open(source, "wb") as f:
        f.write(data)
    if fmt == "mp3":
        subprocess.run(["mpg123", "-q", "-w", out, source], check=True)
    elif fmt == "opus":
        subprocess.run(["opusdec", "--quiet", source, out], check=True)
    elif fmt == "flac":
        subprocess.run(["flac", "-s", "-d", "-f", "-o", out, source], check=True)
    with open(out, "rb") as f:
        return wav_seconds(f.read())


def soundfile_seconds(fmt, data, work):
    """What libsndfile makes of the file: frames read / rate. A FLAC with no length in STREAMINFO fails here
    ("array is too big"), though `flac -t` passes it."""
    import soundfile
    path = os.path.join(work, f"sf.{'ogg' if fmt == 'opus' else fmt}")
    open(path, "wb").write(data)
    info = soundfile.info(path)
    samples, rate = soundfile.read(path)
    # An MP3 states no length (a LAME tag is written at the end, which a stream cannot go back to): libsndfile
    # estimates it from the bitrate. Every other format's stated length must be exact.
    if (abs(info.frames - len(samples)) > 0.02 * len(samples)) if fmt == "mp3" else info.frames != len(samples):
        raise SystemExit(f"{fmt}: soundfile.info says {info.frames} frames, read gives {len(samples)}")
    return len(samples) / rate


def admin_call(port, method, path, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method,
                                     headers={"X-API-Key": ADMIN, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.loads(r.read() or b"{}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/voicegate")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    work = tempfile.mkdtemp(prefix="voicegate-openai-")
    env = dict(os.environ, DATA_DIR=os.path.join(work, "data"), API_KEY=ADMIN, VOICE_ALIASES="alloy=anna", LOG_LEVEL="error")
    subprocess.run([binary, "voices", "add", "anna", os.path.join(ROOT, "assets", "sample-voice.wav"),
                    "--prompt-text", "The sample voice of VoiceGate.", "--language", "en"], env=env, check=True)
    port = free_port()
    env["PORT"] = str(port)
    server = subprocess.Popen([binary, "--server"], env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "server.log"), "w"))
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=ADMIN)

        reference = wav_seconds(client.audio.speech.create(model="tts-1", voice="alloy", input=TEXT, response_format="wav").content)
        check(reference > 2, f"wav: {reference:.3f} s of speech")
        for fmt in ("mp3", "opus", "flac"):
            data = client.audio.speech.create(model="tts-1", voice="alloy", input=TEXT, response_format=fmt).content
            seconds = decoded_seconds(fmt, data, work)
            # LAME pads to whole frames and adds its delay; Opus and FLAC are sample exact.
            slack = 0.08 if fmt == "mp3" else 0.01
            check(abs(seconds - reference) <= slack, f"{fmt}: {len(data)} bytes decode to {seconds:.3f} s (wav {reference:.3f} s)")
            by_soundfile = soundfile_seconds(fmt, data, work)
            check(abs(by_soundfile - reference) <= slack, f"{fmt}: soundfile reads {by_soundfile:.3f} s (wav {reference:.3f} s)")
        wav_file = client.audio.speech.create(model="tts-1", voice="alloy", input=TEXT, response_format="wav").content
        check(abs(soundfile_seconds("wav", wav_file, work) - reference) <= 0.01, "wav: soundfile reads the same length")
        pcm = client.audio.speech.create(model="tts-1", voice="anna", input=TEXT, response_format="pcm")
        rate = int(pcm.response.headers["content-type"].split("rate=")[1])
        check(abs(len(pcm.content) / 2 / rate - reference) < 0.01, f"pcm: {len(pcm.content)} bytes at {rate} Hz")
        default = client.audio.speech.create(model="tts-1", voice="anna", input=TEXT)
        check(default.response.headers["content-type"] == "audio/mpeg", "no response_format: mp3")

        with client.audio.speech.with_streaming_response.create(model="tts-1", voice="alloy", input=TEXT, response_format="mp3") as response:
            chunks = list(response.iter_bytes())
        streamed = b"".join(chunks)
        check(abs(decoded_seconds("mp3", streamed, work) - reference) <= 0.08, f"with_streaming_response: {len(chunks)} chunks, {len(streamed)} bytes decode")

        raw = client.audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input=TEXT, stream_format="sse",
                                         instructions="None").content.decode()
        events = [json.loads(line[6:]) for line in raw.split("\n\n") if line.startswith("data: ")]
        audio = b"".join(base64.b64decode(e["audio"]) for e in events if e["type"] == "speech.audio.delta")
        check(events[-1]["type"] == "speech.audio.done" and events[-1]["usage"]["input_tokens"] == len(TEXT),
              f"sse: {len(events) - 1} deltas, then done with usage {events[-1].get('usage')}")
        check(abs(decoded_seconds("mp3", audio, work) - reference) <= 0.08, "sse: the deltas' audio decodes")

        try:
            client.audio.speech.create(model="tts-1", voice="alloy", input=TEXT, response_format="aac")
            check(False, "aac refused")
        except openai.BadRequestError as e:
            check("mp3, opus, flac, wav, pcm" in e.message and e.body.get("param") == "response_format", f"aac: BadRequestError: {e.message}")
        try:
            openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="wrong").audio.speech.create(model="tts-1", voice="alloy", input=TEXT)
            check(False, "a wrong key is refused")
        except openai.AuthenticationError as e:
            check(e.status_code == 401, "wrong key: AuthenticationError")

        secret = admin_call(port, "POST", "/api/v1/keys", json.dumps({"name": "small", "characters_per_day": 80}).encode())["key"]
        admin_call(port, "PATCH", "/api/v1/voices/anna", json.dumps({"shared": True}).encode())
        small = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=secret)
        small.audio.speech.create(model="tts-1", voice="alloy", input=TEXT, response_format="wav")
        started = time.monotonic()
        try:
            small.audio.speech.create(model="tts-1", voice="alloy", input=TEXT)
            check(False, "a spent quota is refused")
        except openai.RateLimitError as e:
            elapsed = time.monotonic() - started
            time.sleep(0.5)
            rows = admin_call(port, "GET", "/api/v1/history?key=small")["items"]
            refused = [r for r in rows if r["status"] == 429]
            check(len(refused) == 1 and e.response.headers.get("x-should-retry") == "false",
                  f"spent quota: RateLimitError after {elapsed:.2f} s, {len(refused)} request reached the server (no retries)")
        # The voices CLI beside the running server: list, a bad name refused, a removed voice gone from the API.
        listed = subprocess.run([binary, "voices", "list"], env=env, capture_output=True, text=True, check=True).stdout
        check("anna" in listed and "alloy" in listed and "yes" in listed, "voices list: anna, shared, alias alloy")
        bad = subprocess.run([binary, "voices", "add", "../x", os.path.join(ROOT, "assets", "sample-voice.wav"), "--prompt-text", "x"],
                             env=env, capture_output=True, text=True)
        check(bad.returncode == 1 and "name" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1,
              f"voices add ../x: exit {bad.returncode}, {bad.stderr.strip()}")
        subprocess.run([binary, "voices", "add", "brief", os.path.join(ROOT, "assets", "sample-voice.wav"), "--prompt-text", "x"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        client.audio.speech.create(model="tts-1", voice="brief", input="Briefly.", response_format="wav")
        subprocess.run([binary, "voices", "remove", "brief"], env=env, check=True, stdout=subprocess.DEVNULL)
        try:
            client.audio.speech.create(model="tts-1", voice="brief", input="Gone?")
            check(False, "a removed voice is refused")
        except openai.BadRequestError as e:
            check(e.body.get("code") == "unknown_voice", "voices remove: the running server refuses it at once")
        check(server.poll() is None, "the server is still running")
    finally:
        server.terminate()
        server.wait(timeout=20)
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("openai_clients: all checks passed")


if __name__ == "__main__":
    main()
