#!/usr/bin/env python3
"""Measures what the operator console costs: CPU while idle, and how long a keystroke takes to show,
idle and while 200 requests a second flow through the gateway. Drives the release binary in tmux.

    python3 Benchmarks/console.py [--idle-seconds 20]
Needs tmux. Keystroke latency includes tmux's own capture (an upper bound on what the console adds).
"""
import argparse, os, socket, statistics, subprocess, sys, tempfile, threading, time, http.client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def tmux(*args):
    return subprocess.run(["tmux", *args], capture_output=True, text=True).stdout

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def keystroke_latency(session, samples=30):
    """Types a character into the text field and waits until it is on screen."""
    times = []
    for i in range(samples):
        ch = "abcdefghijklmnopqrstuvwxyz"[i % 26]
        before = tmux("capture-pane", "-p", "-t", session)
        start = time.perf_counter()
        tmux("send-keys", "-t", session, "-l", ch)
        while tmux("capture-pane", "-p", "-t", session) == before:
            if time.perf_counter() - start > 2:
                sys.exit("a keystroke did not show within 2 s")
        times.append((time.perf_counter() - start) * 1000)
        time.sleep(0.05)
    return statistics.median(times), max(times)

def load(port, rate, stop):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    interval, next_at, sent = 1 / rate, time.perf_counter(), 0
    while not stop.is_set():
        conn.request("GET", "/health"); conn.getresponse().read(); sent += 1
        next_at += interval
        time.sleep(max(0, next_at - time.perf_counter()))
    stop.sent = sent

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--idle-seconds", type=int, default=20)
    args = ap.parse_args()
    subprocess.run(["swift", "build", "-c", "release", "--product", "voicegate"], cwd=ROOT, check=True)
    bindir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    work = tempfile.mkdtemp(prefix="voicegate-console-")
    port = free_port()
    session = f"vgbench{os.getpid()}"
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", "-c", work,
         f"env LANG=C.UTF-8 PORT={port} {bindir}/voicegate")
    try:
        deadline = time.time() + 20
        while "Request log" not in tmux("capture-pane", "-p", "-t", session):
            if time.time() > deadline: sys.exit("the console did not start")
            time.sleep(0.1)
        pid = int(tmux("list-panes", "-t", session, "-F", "#{pane_pid}").split()[0])  # env execs voicegate
        assert "voicegate" in open(f"/proc/{pid}/cmdline").read()
        time.sleep(2)
        c0, t0 = cpu_seconds(pid), time.time()
        time.sleep(args.idle_seconds)
        idle = (cpu_seconds(pid) - c0) / (time.time() - t0) * 100
        tmux("send-keys", "-t", session, "Tab")
        tmux("send-keys", "-t", session, "C-u")
        idle_p50, idle_max = keystroke_latency(session)
        stop = threading.Event()
        worker = threading.Thread(target=load, args=(port, 200, stop))
        worker.start()
        time.sleep(30)  # 6000 requests: the log's 5000-line history is full before measuring
        c1, t1 = cpu_seconds(pid), time.time()
        busy_p50, busy_max = keystroke_latency(session)
        busy_cpu = (cpu_seconds(pid) - c1) / (time.time() - t1) * 100
        stop.set(); worker.join()
        print(f"\nconsole idle CPU: {idle:.2f}% of one core over {args.idle_seconds} s")
        print(f"keystroke to screen, idle: median {idle_p50:.1f} ms, max {idle_max:.1f} ms (30 keys)")
        print(f"keystroke to screen at 200 req/s with a full history: median {busy_p50:.1f} ms, max {busy_max:.1f} ms; "
              f"gateway+console CPU {busy_cpu:.1f}% of one core")
    finally:
        tmux("send-keys", "-t", session, "C-c")
        time.sleep(1)
        tmux("kill-session", "-t", session)

if __name__ == "__main__":
    main()
