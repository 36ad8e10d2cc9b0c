"""Schemathesis hooks (SCHEMATHESIS_HOOKS): values for the part types the synthesis form declares.

The document says reference_audio is WAV, MP3, FLAC or OGG audio of 3-10 s: a schema-valid request carries such
a file, so positive tests must send one (random bytes are rightly refused with 400 unsupported_audio_format).
`text` is declared text/plain too: schemathesis 4.32's coverage phase fills a required part without an encoding
with "" whatever its minLength (`_generate_multipart_body_from_custom_strategies`), and the gateway rightly answers
400 empty_text. Empty, blank and too long texts are tested in BadInputTests.
"""
import struct
from pathlib import Path

import schemathesis
from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parent.parent / "VoiceGateCoreTests" / "Fixtures"


def _guard_lambda_descriptions():
    """Hypothesis names each filter by parsing its lambda's source with ast.parse, which on CPython 3.11.7 can raise
    SystemError("AST constructor recursion depth mismatch", a CPython bug in ast's recursion bookkeeping) deep in
    schemathesis's coverage phase (seen on POST /api/v1/workers/{name}/drain): an error of the tool, not of the
    gateway. The name only labels a strategy."""
    from hypothesis.internal import lambda_sources

    describe = lambda_sources.lambda_description

    def guarded(f):
        try:
            return describe(f)
        except SystemError:
            return "lambda"

    lambda_sources.lambda_description = guarded


_guard_lambda_descriptions()


def wav(seconds: float, rate: int, channels: int = 1) -> bytes:
    frames = int(seconds * rate)
    samples = b"".join(struct.pack("<h", (i * 7919) % 20000 - 10000) for i in range(frames * channels))
    block = channels * 2
    return (b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, 16)
            + b"data" + struct.pack("<I", len(samples)) + samples)


schemathesis.openapi.media_type("audio/wav", st.sampled_from([wav(3.5, 8000), wav(5, 16000), wav(9.5, 8000, channels=2)]))
schemathesis.openapi.media_type("audio/mpeg", st.sampled_from([(FIXTURES / name).read_bytes() for name in ("tone-cbr.mp3", "tone-vbr.mp3")]))
schemathesis.openapi.media_type("audio/flac", st.just((FIXTURES / "tone.flac").read_bytes()))
schemathesis.openapi.media_type("audio/ogg", st.just((FIXTURES / "tone.ogg").read_bytes()))
schemathesis.openapi.media_type("text/plain; charset=utf-8", st.text(
    alphabet=st.characters(categories=("L", "N", "P", "Zs")), min_size=1, max_size=200
).filter(lambda text: text.strip()).map(lambda text: text.encode()))
# A job's subtitle file: a real one (any text is rightly refused with 400 invalid_subtitles).
SUBTITLES = [
    "1\n00:00:00,000 --> 00:00:01,000\nHello there.\n\n2\n00:00:01,500 --> 00:00:02,000\n<i>Again.</i>\n",
    "WEBVTT\n\n00:00.000 --> 00:00.800\nOne line.\n",
]
# A voice's name is declared text/plain; charset=us-ascii: names of the declared pattern.
schemathesis.openapi.media_type("text/plain; charset=us-ascii", st.from_regex(r"\A[A-Za-z0-9_-]{1,64}\Z").map(lambda text: text.encode()))


@schemathesis.hook
def before_call(context, case, **kwargs):
    """A speech request names a saved voice: a random name is rightly a 400 unknown_voice, so a well-formed voice
    (a non-empty string, or {"id": non-empty string}) becomes `sample`, which run.sh saves. Malformed ones stay, so
    negative cases still test them. Applies to every phase (map_body does not reach the coverage phase).

    The stateful phase links a voice's form fields into later JSON bodies as the bytes the form part was made of
    (the name above is text/plain bytes); requests then fails in json.dumps before sending anything ("Object of
    type bytes is not JSON serializable", counted as an errored scenario). They go as the text they are."""
    if isinstance(case.body, dict) and "json" in (case.media_type or ""):
        for field, value in list(case.body.items()):
            if isinstance(value, bytes):
                case.body[field] = value.decode("latin-1")
    if case.operation.path == "/api/v1/jobs" and case.method.upper() == "POST" and isinstance(case.body, dict):
        _job(case.body)
        return
    if case.operation.path != "/v1/audio/speech" or not isinstance(case.body, dict):
        return
    voice = case.body.get("voice")
    if isinstance(voice, str) and voice:
        case.body["voice"] = "sample"
    elif isinstance(voice, dict) and isinstance(voice.get("id"), str) and voice["id"]:
        case.body["voice"] = dict(voice, id="sample")


def _job(body):
    """A job names a saved voice (`sample`), a real subtitle file, and a callback host the operator allows (run.sh sets
    JOB_CALLBACK_HOSTS=callback.invalid: the job's end tries it and finds no such host). Malformed values stay."""
    if isinstance(body.get("voice"), str) and body["voice"]:
        body["voice"] = "sample"
    if isinstance(body.get("subtitles"), str) and body["subtitles"]:
        body["subtitles"] = SUBTITLES[len(body["subtitles"]) % len(SUBTITLES)]
    if isinstance(body.get("callback_url"), str):
        body["callback_url"] = "http://callback.invalid/hook"


@schemathesis.hook
def after_call(context, case, response):
    """A drained worker takes nothing until resumed: with the one embedded worker drained, every later synthesis
    would rightly be a 503 workers_draining. A successful drain is resumed at once (both routes are still tested).

    A job schemathesis submits is cancelled at once: hundreds of them would queue behind each other on the one
    embedded worker, and a later request for a job's events (which end with the job) would wait for all of them.
    Jobs that run are tested in JobsAPITests and Tests/blackbox/jobs.py."""
    import requests

    if case.operation.path == "/api/v1/jobs" and case.method.upper() == "POST" and response.status_code == 202:
        sent = response.request
        job = response.json().get("id", "")
        requests.post(sent.url + f"/{job}/cancel", headers={"X-API-Key": sent.headers.get("X-API-Key", "")}, timeout=10)
        return
    if not case.operation.path.endswith("/drain") or response.status_code != 200:
        return

    sent = response.request
    requests.post(sent.url[: -len("/drain")] + "/resume", headers={"X-API-Key": sent.headers.get("X-API-Key", "")}, timeout=10)
