#!/usr/bin/env python3
"""Black-box checks of long-form jobs on the release binary, as their users run them (the `voicegate jobs` CLI):

  - two gateways on one PostgreSQL: a 60-item job submitted through one, `kill -9` of the gateway running it in the
    middle: the other resumes it within 10 s with the item that was running, loses no finished item, and every
    item is synthesized once (the one cut off by the kill at most twice);
  - one gateway on SQLite: `kill -9` mid-job, then a restart on the same data folder resumes it within 10 s;
  - `voicegate jobs submit` of a subtitle file waits with its progress line and saves FLAC and subtitles that
    Python's soundfile and the SRT reader below read; `jobs get --out` saves a finished job's files.
Prints the figures and exits 1 on any failure.

    python3 Tests/blackbox/jobs.py [--binary .build/release/voicegate]
"""
import argparse, json, os, re, shutil, signal, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.append(os.path.join(HERE, "..", "..", "Benchmarks"))
from gateways import start_double  # noqa: E402
from hammer import form, free_port, wav  # noqa: E402
from tenants import call, until  # noqa: E402
from postgres import PostgresServer  # noqa: E402

ADMIN = "jobs-admin-key-0123456789abcdef"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/voicegate")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            failures.append(what)

    work = tempfile.mkdtemp(prefix="voicegate-jobs-")
    double = start_double()
    worker = f"http://127.0.0.1:{double.server_address[1]}"
    processes = {}

    def start(name, env):
        port = free_port()
        full = dict(os.environ, API_KEY=ADMIN, PORT=str(port), SOVITS_BASE_URL=worker, GATEWAY_NAME=name, LOG_LEVEL="info",
                    HEALTH_INTERVAL="1", **env)
        log = open(os.path.join(work, f"{name}.log"), "a")
        processes[name] = (subprocess.Popen([binary, "--server"], env=full, stdout=subprocess.DEVNULL, stderr=log), port)
        until(lambda: call(port, "GET", "/health")[0] == 200, 30)
        return port

    def cli(port, *arguments, timeout=120):
        env = dict(os.environ, VOICEGATE_URL=f"http://127.0.0.1:{port}", VOICEGATE_KEY=ADMIN)
        return subprocess.run([binary, "jobs", *arguments], env=env, capture_output=True, text=True, timeout=timeout, cwd=work)

    def job(port, job_id):
        status, _, body = call(port, "GET", f"/api/v1/jobs/{job_id}", ADMIN)
        return json.loads(body) if status == 200 else {}

    def make_voice(port):
        boundary = b"voiceboundary"
        body = form(boundary, [(b"name", b"narrator"), (b"prompt_text", b"A voice for the long jobs.")], wav(4, 16000))
        return call(port, "POST", "/api/v1/voices", ADMIN, body, "multipart/form-data; boundary=voiceboundary")[0]

    def kill_mid_job(port, job_id, names):
        """Waits for 5 finished items, then kill -9 of the gateway running the job; its name and the time."""
        until(lambda: (job(port, job_id).get("done") or 0) >= 5 and job(port, job_id).get("runner") in names, 60)
        runner = job(port, job_id).get("runner")
        processes[runner][0].send_signal(signal.SIGKILL)
        processes[runner][0].wait(10)
        return runner, time.monotonic()

    chapter = os.path.join(work, "chapter.txt")
    with open(chapter, "w") as f:
        f.write(" ".join(f"This is sentence number {i} of the chapter." for i in range(60)))

    pg = PostgresServer()
    try:
        # Two gateways on one PostgreSQL, sharing the reference folder (and so the jobs folder).
        url = pg.database("jobs")
        shared = {"STORE_URL": url, "SOVITS_REF_DIR": os.path.join(work, "refs")}
        ports = {name: start(name, dict(shared, DATA_DIR=os.path.join(work, name))) for name in ["gw1", "gw2"]}
        check(make_voice(ports["gw1"]) == 201, "a voice saved through gw1")
        submitted = cli(ports["gw1"], "submit", chapter, "--voice", "narrator", "--no-wait")
        job_id = submitted.stdout.strip()
        check(submitted.returncode == 0 and re.fullmatch(r"[0-9a-f]{32}", job_id) is not None,
              f"voicegate jobs submit --no-wait: {job_id or submitted.stderr.strip()}")
        before = double.total
        runner, killed = kill_mid_job(ports["gw1"], job_id, ["gw1", "gw2"])
        other = "gw2" if runner == "gw1" else "gw1"
        at_kill = job(ports[other], job_id)
        done_at_kill = at_kill.get("done") or 0
        files_at_kill = {item["index"]: item["duration_ms"] for item in at_kill.get("items", []) if item["status"] == "done"}
        claimed = until(lambda: job(ports[other], job_id).get("runner") == other, 20)
        claimed = claimed and time.monotonic() - killed
        progressed = until(lambda: (job(ports[other], job_id).get("done") or 0) > done_at_kill, 20)
        progressed = progressed and time.monotonic() - killed
        # The item then waits for the worker's place, which the dead gateway held: its lease ends 10 s after its
        # last renewal (the shared workers' rule), so the next item finishes a little later than the claim.
        check(claimed is not None and claimed < 10,
              f"kill -9 of {runner} after {done_at_kill} items: {other} took the job over {claimed if claimed is None else round(claimed, 1)} s later, "
              f"its next item done at {progressed if progressed is None else round(progressed, 1)} s")
        finished = until(lambda: job(ports[other], job_id).get("status") == "done", 120)
        final = job(ports[other], job_id)
        check(finished is not None and final.get("done") == 60, f"the job done on {other}: {final.get('done')}/60 items")
        kept = all(next((i["duration_ms"] for i in final.get("items", []) if i["index"] == index), None) == ms for index, ms in files_at_kill.items())
        check(kept, f"the {len(files_at_kill)} items finished before the kill kept as they were")
        runs = double.total - before
        # The item running at the kill is made again; so is one answered a few milliseconds before it whose row had
        # not landed yet (the next item starts on the last one's answer, before its file and row are in place).
        check(60 <= runs <= 62, f"{runs} syntheses for 60 items (each once, the ones cut off by the kill at most twice)")
        got = cli(ports[other], "get", job_id, "--out", os.path.join(work, "got"))
        audio = os.path.join(work, "got", f"{job_id}.wav")
        import soundfile
        seconds = soundfile.info(audio).duration if os.path.exists(audio) else 0
        check(got.returncode == 0 and abs(seconds - final.get("audio_seconds", -1)) < 0.01,
              f"voicegate jobs get --out: {seconds:.2f} s of audio, the job says {final.get('audio_seconds')}")

        # One gateway on SQLite: killed mid-job, resumed by its restart.
        solo_env = {"DATA_DIR": os.path.join(work, "solo")}
        solo = start("solo", solo_env)
        make_voice(solo)
        job_id = cli(solo, "submit", chapter, "--voice", "narrator", "--no-wait").stdout.strip()
        _, killed = kill_mid_job(solo, job_id, ["solo"])
        solo = start("solo", solo_env)
        restarted = time.monotonic()
        done_at_restart = job(solo, job_id).get("done") or 0
        resumed = until(lambda: (job(solo, job_id).get("done") or 0) > done_at_restart, 20)
        check(resumed is not None and resumed < 10,
              f"kill -9 on SQLite, restarted {restarted - killed:.1f} s later: the job resumed {resumed if resumed is None else round(resumed, 1)} s after the restart")
        until(lambda: job(solo, job_id).get("status") == "done", 120)
        check(job(solo, job_id).get("done") == 60, "and finished: 60/60 items")

        # A subtitle file through the CLI, waiting, saved as FLAC with both subtitle files.
        srt = os.path.join(work, "dub.srt")
        with open(srt, "w") as f:
            for i in range(8):
                f.write(f"{i + 1}\n00:00:{i * 2:02d},000 --> 00:00:{i * 2 + 1:02d},500\nLine {i}, spoken.\n\n")
        waited = cli(solo, "submit", srt, "--voice", "narrator", "--format", "flac", "--out", os.path.join(work, "dub"))
        flac = os.path.join(work, "dub", "dub.flac")
        info = soundfile.info(flac) if os.path.exists(flac) else None
        cues = open(os.path.join(work, "dub", "dub.srt")).read().count("-->") if os.path.exists(os.path.join(work, "dub", "dub.srt")) else 0
        check(waited.returncode == 0 and info is not None and info.format == "FLAC" and cues == 8 and "8/8 items" in waited.stderr,
              f"voicegate jobs submit dub.srt --format flac: exit {waited.returncode}, "
              f"{info.duration if info else 0:.2f} s of FLAC, {cues} cues, progress: {waited.stderr.strip().splitlines()[-1:]}")
        starts = re.findall(r"(\d\d):(\d\d):(\d\d),(\d{3}) -->", open(os.path.join(work, "dub", "dub.srt")).read()) if cues else []
        check([int(s[2]) * 1000 + int(s[3]) for s in starts] == [i * 2000 for i in range(8)], "each line placed at its cue")
    finally:
        for process, _ in processes.values():
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
        pg.close()
        double.shutdown()
        if failures:
            for name in processes:
                print(f"--- {name}.log (tail)\n" + open(os.path.join(work, f"{name}.log")).read()[-3000:])
        shutil.rmtree(work, ignore_errors=True)
    print("jobs: " + ("all checks passed" if not failures else f"{len(failures)} failed"))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
