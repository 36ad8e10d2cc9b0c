"""A throwaway PostgreSQL server for the benchmarks and black boxes, as the Swift tests start theirs
(Tests/VoiceGateCoreTests/Support/PostgresServer.swift): Debian's initdb and pg_ctl on a temporary folder and a free
loopback port, fsync off, password authentication over TCP; as root it runs as the `postgres` user."""
import glob, os, shutil, subprocess, tempfile

from serving import free_port

USER, PASSWORD = "voicegate", "bench-secret"


class PostgresServer:
    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
        if not bins:
            raise SystemExit("PostgreSQL is missing: apt-get install postgresql")
        self.bin = os.path.dirname(bins[-1])
        self.folder = tempfile.mkdtemp(prefix="voicegate-pg-")
        self.port = free_port()
        with open(os.path.join(self.folder, "pwfile"), "w") as f:
            f.write(PASSWORD)
        if os.getuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            shutil.chown(os.path.join(self.folder, "pwfile"), "postgres", "postgres")
        self._run([f"{self.bin}/initdb", "-D", f"{self.folder}/data", "-U", USER, f"--pwfile={self.folder}/pwfile",
                   "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync"])
        self.start()

    def _run(self, argv):
        if os.getuid() == 0:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/tmp")

    def start(self):
        self._run([f"{self.bin}/pg_ctl", "-D", f"{self.folder}/data", "-l", f"{self.folder}/server.log", "-w", "-o",
                   f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off "
                   f"-c max_connections=300", "start"])

    def stop(self):
        self._run([f"{self.bin}/pg_ctl", "-D", f"{self.folder}/data", "stop", "-m", "immediate"])

    def database(self, name):
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-d", "postgres", "-qc", f"CREATE DATABASE {name}"],
                       check=True, env=dict(os.environ, PGPASSWORD=PASSWORD), stdout=subprocess.DEVNULL)
        return f"postgres://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{name}?sslmode=disable"

    def close(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
