"""Start and stop the real stack on loopback: Redis, the database, both simulators, web, workers."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.loopback import app_env, local_config, migrate, start_logged, wait_http
from bench.metrics import Role
from bizproc_app.config import Config

CLIENT_ID = "local.bench000000000.00000001"
CLIENT_SECRET = "bench-client-secret"  # noqa: S105 - the local simulator's
LINKLY_USER, LINKLY_PASS = "bench", "bench-linkly-pa55word"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Options:
    """What the stack is made of."""

    web_workers: int = 2
    workers: int = 2
    database: str | None = None  # a PostgreSQL URL; None: SQLite in the temp dir
    rate_limit: bool = False  # the Bitrix24 simulator's leaky bucket (default 2/s, burst 50)
    profile: str | None = None  # a directory: run web and workers under py-spy record
    trace_memory: str | None = None  # a directory: tracemalloc snapshots of the web workers
    web_processes: int = 1  # separate gunicorn instances; more than one: a balancer in front
    settings: dict[str, Any] = field(default_factory=dict)  # app config overrides


@dataclass
class Stack:
    """Every process of one benchmark run; stop() ends them all."""

    opts: Options
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bizproc-bench-")))
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    roles: list[Role] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    config: Config | None = None
    argvs: dict[str, tuple[list[str], dict[str, str] | None]] = field(default_factory=dict)

    def _start(self, name: str, argv: list[str], ours: bool, env: dict[str, str] | None = None):
        proc = start_logged(argv, self.tmp / f"{name}.log", env or self.env, new_session=True)
        self.procs[name] = proc
        self.argvs[name] = (argv, env)
        self.roles = [r for r in self.roles if r.name != name] + [Role(name, proc.pid, ours)]
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal a process group (a crash when SIGKILL) and reap it."""
        proc = self.procs[name]
        with _quiet():
            os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def restart(self, name: str) -> None:
        """Start a stopped process again with the same command line (a supervisor's restart)."""
        ours = next(r.ours for r in self.roles if r.name == name)
        argv, env = self.argvs[name]
        self._start(name, argv, ours, env)
        if name == "redis":
            self._wait_redis(int(argv[argv.index("--port") + 1]))

    def _py(self, name: str, module_argv: list[str]) -> list[str]:
        """python -m ..., under py-spy when profiling our processes."""
        argv = [sys.executable, "-m", *module_argv]
        if self.opts.profile and name.startswith(("web", "worker", "scheduler")):
            spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
            out = Path(self.opts.profile) / f"{name}.speedscope.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            return [
                spy, "record", "--subprocesses", "--format", "speedscope",  # CPU samples only
                "--rate", "200", "-o", str(out), "--", *argv,
            ]  # fmt: skip
        return argv

    def start(self) -> None:
        """Start everything and wait until each answers."""
        ports, webs = self._ports()
        self._configure()
        self._start_services(ports)
        self._wait_redis(ports["redis"])
        if self.opts.database:
            self._reset_postgres()
        migrate(self.env, timeout=120)
        self._start_web(ports["web"], webs)
        for i in range(1, self.opts.workers + 1):
            self._start(f"worker-{i}", self._py(f"worker-{i}", ["workers"]), ours=True)
        self._start("scheduler", self._py("scheduler", ["workers.scheduler"]), ours=True)
        late = wait_http([f"{self.urls['web']}/healthz", f"{self.urls['linkly']}/_sim/",
                          f"{self.urls['bitrix']}/_sim/"])  # fmt: skip
        if late:
            raise RuntimeError(f"{late} did not answer within 30s")

    def _ports(self) -> tuple[dict[str, int], list[int]]:
        """A free port for each service (and self.urls); the web processes' own ports."""
        ports = {k: free_port() for k in ("redis", "linkly", "bitrix", "web")}
        webs = [ports["web"]]
        if self.opts.web_processes > 1:  # the balancer takes the public port
            webs = [free_port() for _ in range(self.opts.web_processes)]
        self.urls = {
            "redis": f"redis://127.0.0.1:{ports['redis']}/0",
            "linkly": f"http://127.0.0.1:{ports['linkly']}",
            "bitrix": f"http://127.0.0.1:{ports['bitrix']}",
            "web": f"http://127.0.0.1:{ports['web']}",
        }
        return ports, webs

    def _configure(self) -> None:
        """The app's config on this stack (with the options' overrides), and its environment."""
        database = self.opts.database or f"sqlite:///{self.tmp / 'bench.sqlite3'}"
        self.config = local_config(
            Config(),
            web=self.urls["web"],
            database=database,
            redis=self.urls["redis"],
            linkly=self.urls["linkly"],
            portal=self.urls["bitrix"],
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
        ).replace(**self.opts.settings)
        self.env = app_env(self.config, PYTHONUNBUFFERED="1")

    def _start_services(self, ports: dict[str, int]) -> None:
        """Redis and both simulators."""
        redis_bin = shutil.which("redis-server") or "redis-server"
        self._start(
            "redis",
            [redis_bin, "--bind", "127.0.0.1", "--port", str(ports["redis"]), "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp)],
            ours=False,
        )  # fmt: skip
        self._start(
            "linkly-sim",
            [sys.executable, "-m", "simulators.linkly", "--port", str(ports["linkly"]),
             "--username", LINKLY_USER, "--password", LINKLY_PASS, "--pair-code-ttl", "86400",
             "--allow-http", "--notify-workers", "64", "--notify-timeout", "10",
             "--token-lifetime", "86400", "--input-timeout", "600"],
            ours=False,
        )  # fmt: skip
        self._start(
            "bitrix-sim",
            [sys.executable, "-m", "simulators.bitrix24", "--port", str(ports["bitrix"]),
             "--app-url", self.urls["web"], "--client-id", CLIENT_ID,
             "--client-secret", CLIENT_SECRET, "--handler-timeout", "30",
             "--rate-limit" if self.opts.rate_limit else "--no-rate-limit"],
            ours=False,
        )  # fmt: skip

    def _start_web(self, public_port: int, webs: list[int]) -> None:
        """One gunicorn per port in `webs`; more than one: a balancer on the public port."""
        for i, port in enumerate(webs, 1):
            name = "web" if len(webs) == 1 else f"web-{i}"
            self._start(
                name,
                self._py(
                    name,
                    ["gunicorn", "--bind", f"127.0.0.1:{port}",
                     "--workers", str(self.opts.web_workers), "--backlog", "2048",
                     "--worker-class", "gthread", "--threads", "8",  # as in the Procfile
                     *(["-c", "python:bench.memtrace"] if self.opts.trace_memory else []),
                     "bizproc_app:create_app()"],
                ),
                ours=True,
                env={**self.env, "BENCH_MEMTRACE_DIR": self.opts.trace_memory or ""},
            )  # fmt: skip
        if len(webs) > 1:
            self._start(
                "balancer",
                [sys.executable, "-m", "bench.balancer", "--port", str(public_port),
                 *[f"127.0.0.1:{w}" for w in webs]],
                ours=False,
            )  # fmt: skip

    def start_extra(self, name: str, argv: list[str], ours: bool, env: dict[str, str]) -> None:
        """Start another process of this run (the baseline's)."""
        self._start(name, argv, ours, env)

    def _wait_redis(self, port: int) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("redis did not start")

    def _reset_postgres(self) -> None:
        """Start from an empty schema, as the simulators do."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.opts.database or "")
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()

    def dead(self) -> list[str]:
        """Names of processes that exited."""
        return [n for n, p in self.procs.items() if p.poll() is not None]

    def stop(self, names: list[str] | None = None) -> None:
        """Our processes first, then simulators and Redis (so nothing loses Redis mid-job)."""
        names = list(self.procs) if names is None else names
        ours = {r.name for r in self.roles if r.ours}
        self._stop([n for n in names if n in ours])
        self._stop([n for n in names if n not in ours])

    def _stop(self, names: list[str]) -> None:
        """SIGINT (py-spy writes its profile), then SIGTERM, then SIGKILL; bounded in time."""
        chosen = [(n, p) for n, p in reversed(self.procs.items()) if n in names]
        for _, proc in chosen:
            if proc.poll() is None:
                with _quiet():
                    os.killpg(proc.pid, signal.SIGINT if self.opts.profile else signal.SIGTERM)
        for _, proc in chosen:
            try:
                proc.wait(timeout=30 if self.opts.profile else 10)
            except subprocess.TimeoutExpired:
                with _quiet():
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def log_tail(self, name: str, lines: int = 20) -> str:
        """The end of a process's log."""
        path = self.tmp / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class _quiet:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return exc[0] is not None and issubclass(exc[0], ProcessLookupError | PermissionError)
