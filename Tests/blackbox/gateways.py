#!/usr/bin/env python3
"""Black-box checks of several gateways on one PostgreSQL, on the release binary, as operators run them.

A throwaway PostgreSQL server, two api_v2 stand-ins that count how many requests they run at once, and three
`voicegate --server` processes listing both as their workers, sharing the store and the reference folder:
  - syntheses through all three at once: every one served, both workers used, neither ever runs two at once;
  - one key with 200 characters a day hammered through the three: exactly 200 admitted between them;
  - a key revoked through one gateway is refused by another within a second;
  - `kill -9` of a gateway while it holds a worker: the others go on, and that worker serves them again within
    10 s of its lease's last renewal;
  - PostgreSQL stopped under load: requests get 503 store_unavailable, no gateway dies, all serve again once it is
    back.
Prints the figures and exits 1 on any failure.

    python3 Tests/blackbox/gateways.py [--binary .build/release/voicegate]
"""
import argparse, json, os, shutil, signal, subprocess, sys, tempfile, threading, time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "Benchmarks"))
from hammer import QuietServer, Upstream, free_port, wav  # noqa: E402
from tenants import call, synthesize, until  # noqa: E402
from postgres import PostgresServer  # noqa: E402

ADMIN = "gateways-admin-key-0123456789abcdef"


class Counting(Upstream):
    """The stand-in, taking its time, counting requests whose inference overlaps (what mixes voices in api_v2);
    `slow` in the text takes 5 s. The count ends when the answer is ready, before it is written: a gateway may start
    the next request the moment it has read this one, sooner than this thread gets to run again."""

    def do_POST(self):
        server = self.server
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        text = request.get("text", "")
        with server.lock:
            server.running += 1
            server.total += 1
            server.started.append(time.monotonic())
            if server.running > server.overlap:
                server.overlap = server.running
                if server.running > 1:
                    server.overlaps.append(f"{text!r} began while {list(server.now.values())} ran")
            me = object()
            server.now[id(me)] = text
        try:
            time.sleep(5 if "slow" in text else 0.1)
        finally:
            with server.lock:
                server.running -= 1
                server.now.pop(id(me), None)
        self.answer(200, "audio/wav", wav(0.2, 32000))


def start_double():
    server = QuietServer(("127.0.0.1", 0), Counting)
    server.lock, server.running, server.total, server.overlap, server.started = threading.Lock(), 0, 0, 0, []
    server.overlaps, server.now = [], {}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/voicegate")
    args = ap.parse_args()
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            failures.append(what)

    work = tempfile.mkdtemp(prefix="voicegate-gateways-")
    pg = PostgresServer()
    url = pg.database("gateways")
    doubles = [start_double(), start_double()]
    workers = ",".join(f"http://127.0.0.1:{d.server_address[1]}" for d in doubles)
    reference = wav(4, 16000)
    gateways = {}

    def start(name):
        port = free_port()
        env = dict(os.environ, API_KEY=ADMIN, PORT=str(port), DATA_DIR=os.path.join(work, name), SOVITS_REF_DIR=os.path.join(work, "refs"),
                   SOVITS_WORKERS=workers, STORE_URL=url, GATEWAY_NAME=name, LOG_LEVEL="warning", HEALTH_INTERVAL="1",
                   QUEUE_TIMEOUT="30")
        process = subprocess.Popen([args.binary, "--server"], env=env, stdout=subprocess.DEVNULL,
                                   stderr=open(os.path.join(work, f"{name}.log"), "w"))
        gateways[name] = (process, port)
        until(lambda: call(port, "GET", "/health")[0] == 200, 30)

    try:
        for name in ["gw1", "gw2", "gw3"]:
            start(name)
        ports = [port for _, port in gateways.values()]
        check(all(call(p, "GET", "/health")[0] == 200 for p in ports), "three gateways up on one PostgreSQL")

        # Every request served, both workers used, never two at once on one.
        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(lambda i: synthesize(ports[i % 3], ADMIN, f"Request {i}.", reference, 60)[0], range(60)))
        check(statuses.count(200) == 60, f"60 syntheses through three gateways: {statuses.count(200)} served")
        check(all(d.total > 0 for d in doubles), f"both workers used: {[d.total for d in doubles]} requests")
        check(all(d.overlap == 1 for d in doubles), f"no worker ever ran two at once: most at once {[d.overlap for d in doubles]}")

        # One quota between the three.
        status, _, body = call(ports[0], "POST", "/api/v1/keys", ADMIN, json.dumps({"name": "team", "characters_per_day": 200}).encode(),
                               "application/json")
        team = json.loads(body).get("key", "") if status == 201 else ""
        check(status == 201, "a key with 200 characters a day, made through gw1")
        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(lambda i: synthesize(ports[i % 3], team, "Ten chars!", reference, 60)[0], range(30)))
        check(statuses.count(200) == 20 and statuses.count(429) == 10,
              f"30 texts of 10 characters through three gateways: {statuses.count(200)} admitted (200 characters), {statuses.count(429)} refused")

        # Revoked through one, refused by another within a second.
        check(call(ports[1], "DELETE", "/api/v1/keys/team", ADMIN)[0] == 204, "the key revoked through gw2")
        took = until(lambda: synthesize(ports[2], team, "Hi.", reference)[0] == 401, 1.0)
        check(took is not None, f"and refused by gw3 {took if took is None else round(took, 3)} s later")

        # kill -9 while holding a worker.
        slow = threading.Thread(target=lambda: synthesize(ports[0], ADMIN, "A slow one.", reference, 30), daemon=True)
        slow.start()
        check(until(lambda: any(d.running for d in doubles), 10) is not None, "gw1 runs a slow request on a worker")
        held = next(d for d in doubles if d.running)
        gateways["gw1"][0].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        stop = threading.Event()

        def traffic(port):
            while not stop.is_set():
                synthesize(port, ADMIN, f"After the kill via {port}.", reference, 30)

        threads = [threading.Thread(target=traffic, args=(p,), daemon=True) for p in ports[1:] for _ in range(3)]
        for t in threads:
            t.start()
        back = until(lambda: any(s > killed + 5.2 for s in held.started), 20)
        stop.set()
        for t in threads:
            t.join(30)
        check(back is not None and back < 16,
              f"the worker gw1 held serves the others again {back if back is None else round(back, 1)} s after the kill "
              "(its request ends at 5 s; the lease expires 10 s after its last renewal)")
        check(all(d.overlap == 1 for d in doubles), f"still never two at once: {[d.overlap for d in doubles]} {[d.overlaps for d in doubles]}")

        # PostgreSQL stopped under load.
        stop = threading.Event()
        seen = {}

        def load(port):
            while not stop.is_set():
                status, _, body = synthesize(port, ADMIN, "Under load.", reference, 30)
                code = json.loads(body).get("error") if status != 200 and body.startswith(b"{") else status
                seen[code] = seen.get(code, 0) + 1

        threads = [threading.Thread(target=load, args=(p,), daemon=True) for p in ports[1:] for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(1)
        pg.stop()
        # A request that cannot claim its worker waits for the store's bound (5 s) and answers 503.
        time.sleep(15)
        during = dict(seen)
        pg.start()
        seen.clear()
        recovered = until(lambda: seen.get(200, 0) >= 4, 40)
        stop.set()
        for t in threads:
            t.join(40)
        check("store_unavailable" in during, f"while PostgreSQL was away: {during}")
        check(all(gateways[n][0].poll() is None for n in ["gw2", "gw3"]), "no gateway died")
        check(recovered is not None, f"serving again {recovered if recovered is None else round(recovered, 1)} s after PostgreSQL came back")
        check(all(d.overlap == 1 for d in doubles), f"never two at once on a worker, through it all: {[d.overlap for d in doubles]}")
    finally:
        for process, _ in gateways.values():
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
        pg.close()
        for d in doubles:
            d.shutdown()
        if failures:
            for name in gateways:
                print(f"--- {name}.log (tail)\n" + open(os.path.join(work, f"{name}.log")).read()[-2000:])
        shutil.rmtree(work, ignore_errors=True)
    print("gateways: " + ("all checks passed" if not failures else f"{len(failures)} failed"))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
