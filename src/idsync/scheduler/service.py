"""``idsync serve``: the long-running service.

The main thread runs the scheduler loop (cycles on schedule or on request); a background thread
serves ``/health`` and ``/metrics`` on loopback with its own store connection. SIGTERM and SIGINT
set a flag that the running cycle checks between run profiles, so the run in progress finishes
and commits and the rest of the cycle waits for the next start.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from idsync.engine.core import RunContext
from idsync.engine.run_profiles import RunResult, run_profile
from idsync.errors import ConfigurationError
from idsync.locks import Liveness, held_locks, process_command, run_lock_name
from idsync.model import RunProfile
from idsync.scheduler.cycle import CycleRunner
from idsync.scheduler.lock import CycleLock, CycleRunning, owner_alive, owner_record
from idsync.scheduler.metrics import ServiceCounters, health, render_metrics
from idsync.scheduler.settings import load_settings, load_state, next_cycle_start, now
from idsync.store import Store
from idsync.store.database import utcnow

log = logging.getLogger("idsync.serve")

SERVICE_KEY = "service"
REQUEST_KEY = "cycle_request"
#: One run profile on one connector, asked of the service (the web UI's "Run"): executed by
#: the loop, like a cycle, so the service process is the one that runs directory work.
RUN_REQUEST_KEY = "run_request"
#: How often the loop looks at settings and requests (enable/disable, `cycle start`).
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Tls:
    """The certificate and key files the service's HTTP endpoint serves HTTPS with."""

    certfile: str
    keyfile: str


#: Adds routes to the service's application before it starts (the web UI), and returns what
#: to close when the service stops.
AppExtension = Callable[[Starlette], Any]


class Service:
    def __init__(self, workspace: str | Path, *, host: str = "127.0.0.1", port: int = 0,
                 max_cycles: int | None = None, tls: Tls | None = None,
                 extend_app: AppExtension | None = None) -> None:
        self.workspace = str(Path(workspace).expanduser())
        self.host = host
        self.port = port
        self.max_cycles = max_cycles
        self.tls = tls
        self.extend_app = extend_app
        self._extension: Any = None
        #: called once the HTTP endpoint listens (``idsync serve`` prints the UI's address)
        self.on_started: Callable[[], None] | None = None
        self.stop_event = threading.Event()
        self.counters = ServiceCounters(started_at=time.time())
        self._http: Any = None
        self._http_thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def run(self) -> int:
        store = Store.open(self.workspace)
        try:
            self._register(store)
            self._install_signals()
            self._start_http()
            self._announce(store)
            if self.on_started is not None:
                self.on_started()
            self._loop(store)
        finally:
            self._stop_http()
            self._unregister(store)
            store.close()
        log.info("service stopped")
        return 0

    def _register(self, store: Store) -> None:
        with store.transaction():
            current = store.settings.get(SERVICE_KEY)
            if current and owner_alive(current):
                raise CycleRunning(f"idsync serve already runs on this workspace (pid "
                                   f"{current['pid']})")
            store.settings.set(SERVICE_KEY, {**owner_record(), "started_at": utcnow()})

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def _announce(self, store: Store) -> None:
        url = self.url
        with store.transaction():
            record = store.settings.get(SERVICE_KEY) or {}
            record["url"] = url
            store.settings.set(SERVICE_KEY, record)
        log.info("service started", extra={"url": url, "workspace": self.workspace})

    def _unregister(self, store: Store) -> None:
        with store.transaction():
            current = store.settings.get(SERVICE_KEY)
            if current and current.get("pid") == owner_record()["pid"]:
                store.settings.set(SERVICE_KEY, None)

    def _install_signals(self) -> None:
        def stop(signum: int, _frame: Any) -> None:
            log.info("stop requested", extra={"signal": signal.Signals(signum).name})
            self.stop_event.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    # --- the scheduler loop ---------------------------------------------------------------

    def _loop(self, store: Store) -> None:
        cycles = 0
        while not self.stop_event.is_set():
            run = take_run_request(store)
            if run is not None:
                self._run_one(store, run)
                continue
            policy, reason = self._due(store)
            if policy is not None:
                self._cycle(store, policy, reason)
                cycles += 1
                if self.max_cycles is not None and cycles >= self.max_cycles:
                    return
                continue
            self.stop_event.wait(POLL_SECONDS)

    def _due(self, store: Store) -> tuple[str | None, str]:
        """The policy of the cycle to start now, or None."""
        # Read first, and take the write lock only to consume a request that is there.
        if store.settings.get(REQUEST_KEY):
            with store.transaction():
                request = store.settings.get(REQUEST_KEY)
                store.settings.set(REQUEST_KEY, None)
            if request:
                return request.get("policy") or load_settings(store).next_cycle_policy, \
                    "requested"
        settings = load_settings(store)
        if not settings.sync_cycle_enabled or settings.suspended:
            return None, ""
        moment = now()
        if moment >= next_cycle_start(settings, load_state(store), moment):
            return settings.next_cycle_policy, "scheduled"
        return None, ""

    def _cycle(self, store: Store, policy: str, reason: str) -> None:
        started = time.monotonic()
        runner = CycleRunner(store, self.workspace, should_stop=self.stop_event.is_set,
                             on_run=self._count_run)
        try:
            result = runner.run(policy, reason=reason)
        except CycleRunning as exc:
            # Someone runs a cycle by hand: the schedule moves on rather than queueing.
            log.warning("cycle skipped", extra={"reason": str(exc)})
            self.stop_event.wait(POLL_SECONDS)
            return
        except Exception:
            # A bug or an unexpected failure must not end the service; the next cycle retries.
            log.exception("cycle failed")
            self.counters.cycles["failed"] += 1
            self.stop_event.wait(POLL_SECONDS)
            return
        self.counters.cycles[result.status.value] += 1
        self.counters.last_cycle_seconds = time.monotonic() - started

    def _run_one(self, store: Store, request: dict[str, Any]) -> None:
        """One requested run profile, under its connector's run lock (``run_profile``); not
        while a cycle runs (one started by hand elsewhere since the request was made)."""
        holder = CycleLock(store).holder()
        if holder:
            log.warning("requested run skipped: a sync cycle runs",
                        extra={"connector": request.get("connector"),
                               "profile": request.get("profile")})
            return
        engine = RunContext(store, self.workspace)
        try:
            run = run_profile(engine, str(request["connector"]),
                              RunProfile(request["profile"]),
                              command=f"{request['profile']} requested by "
                                      f"{request.get('by') or 'an administrator'}: "
                                      f"{process_command()}")
            self._count_run(run)
        except Exception:
            # A connector that cannot even be built: logged, the service goes on.
            log.exception("requested run failed")
        finally:
            engine.close()

    def _count_run(self, run: RunResult) -> None:
        self.counters.runs[(run.connector, run.profile, run.status)] += 1

    # --- health and metrics ---------------------------------------------------------------

    def _start_http(self) -> None:
        reader = Store.open(self.workspace, migrate=False)
        lock = threading.Lock()

        def health_endpoint(_request: Request) -> JSONResponse:
            with lock:
                return JSONResponse(health(reader, self.counters))

        def metrics_endpoint(_request: Request) -> PlainTextResponse:
            with lock:
                return PlainTextResponse(render_metrics(reader, self.counters),
                                         media_type="text/plain; version=0.0.4")

        app = Starlette(routes=[Route("/health", health_endpoint),
                                Route("/metrics", metrics_endpoint)])
        if self.extend_app is not None:
            self._extension = self.extend_app(app)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: without it asyncio leaves Nagle on for a socket
        # handed over this way, and each answer on a kept-alive connection (every click in the
        # web UI) waited ~40 ms for the client's delayed ACK (bench/ui_pages.py's floor).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        tls: dict[str, Any] = ({"ssl_certfile": self.tls.certfile,
                                "ssl_keyfile": self.tls.keyfile} if self.tls else {})
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", **tls)
        server = uvicorn.Server(config)
        # uvicorn leaves signals alone outside the main thread: the main thread owns SIGTERM.
        self._http = (server, reader, sock)
        self._http_thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                             name="idsync-http", daemon=True)
        self._http_thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)

    def _stop_http(self) -> None:
        if self._http is None:
            return
        server, reader, sock = self._http
        server.should_exit = True
        if self._http_thread is not None:
            self._http_thread.join(timeout=5)
        sock.close()
        reader.close()
        if self._extension is not None and hasattr(self._extension, "close"):
            self._extension.close()
        self._http = None


def request_cycle(store: Store, policy: str | None) -> None:
    """Ask the running service to start a cycle now."""
    with store.transaction():
        store.settings.set(REQUEST_KEY, {"policy": policy, "requested_at": utcnow()})


def request_run(store: Store, connector: str, profile: RunProfile, *, by: str) -> None:
    """Ask the running service to run one profile on one connector now. Refused while a
    cycle runs or is requested, while the connector runs, or while another run request
    waits: one thing at a time, as a cycle would."""
    record = store.connectors.get(connector)  # unknown: a one-line error
    with store.transaction():
        if CycleLock(store).holder() or store.settings.get(REQUEST_KEY):
            raise CycleRunning("a sync cycle is running or about to start: run this profile "
                               "after it (or stop it first)")
        busy = [v for v in held_locks(store) if v.row.name == run_lock_name(record.id)
                and v.state is Liveness.ALIVE]
        if busy:
            raise ConfigurationError(f"connector {record.name} is running "
                                     f"{busy[0].row.profile or 'a run'} now: wait for it")
        waiting = store.settings.get(RUN_REQUEST_KEY)
        if waiting:
            raise ConfigurationError(f"a run is already requested ({waiting.get('profile')} on "
                                     f"{waiting.get('connector')}): wait for it to start")
        store.settings.set(RUN_REQUEST_KEY, {"connector": record.name,
                                             "profile": profile.value, "by": by,
                                             "requested_at": utcnow()})


def pending_requests(store: Store) -> dict[str, Any]:
    """What the service has been asked to start and has not taken yet (shown while it waits
    for the loop's next look, at most ``POLL_SECONDS``)."""
    return {"cycle": store.settings.get(REQUEST_KEY),
            "run": store.settings.get(RUN_REQUEST_KEY)}


def take_run_request(store: Store) -> dict[str, Any] | None:
    """Consume the waiting run request, if any (read first: the write lock only when one
    is there)."""
    if not store.settings.get(RUN_REQUEST_KEY):
        return None
    with store.transaction():
        request = store.settings.get(RUN_REQUEST_KEY)
        store.settings.set(RUN_REQUEST_KEY, None)
    return request
