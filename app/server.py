"""Running the HTTP server: one process, or several sharing the port with SO_REUSEPORT.

Why not uvicorn's own `--workers`: its workers share one listening socket, and
whichever worker is idle first accepts the next connection. Clients that keep
connections open (shops' backends, load balancers) then pile onto one worker while the
others idle. With SO_REUSEPORT every worker has its own socket and the kernel spreads
new connections across them evenly.

Several workers keep their metrics in a fresh directory made here before they start
(PROMETHEUS_MULTIPROC_DIR, which they inherit) and removed when the server stops, so
any worker's /metrics counts the whole server and a restart starts from zero.
"""

import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn

from app.observability.logs import log_config

APP = "app.main:create_app"
# Read by prometheus-client when it is imported, so set before any worker imports it.
MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"


def serve(host: str, port: int, workers: int, access_log: bool) -> None:
    """Serve until interrupted; `workers` processes when the platform has SO_REUSEPORT."""
    logging = log_config(access_log)
    with _metrics_directory(workers):
        if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
            uvicorn.run(
                APP,
                factory=True,
                host=host,
                port=port,
                workers=workers,
                access_log=False,  # the service logs its own access lines (app.observability)
                log_config=logging,
            )
            return
        _serve_workers(host, port, workers, access_log)


def _serve_workers(host: str, port: int, workers: int, access_log: bool) -> None:
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(target=_worker, args=(host, port, access_log), daemon=True)
        for _ in range(workers)
    ]
    for child in children:
        child.start()

    def stop(signum: int, _: FrameType | None) -> None:
        for child in children:
            if child.is_alive():
                child.terminate()
        for child in children:
            child.join(timeout=10)
        sys.exit(0 if signum == signal.SIGTERM else 130)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.join()


@contextmanager
def _metrics_directory(workers: int) -> Iterator[None]:
    """A fresh multi-process metrics directory for several workers, removed afterwards;
    none for one (its metrics stay in memory)."""
    if workers <= 1:
        os.environ.pop(MULTIPROC, None)  # one that was left set would mix old counts in
        yield
        return
    directory = tempfile.mkdtemp(prefix="nextbest-metrics-")
    os.environ[MULTIPROC] = directory
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC, None)
        shutil.rmtree(directory, ignore_errors=True)


def _worker(host: str, port: int, access_log: bool) -> None:
    """One worker process: its own socket on the shared port, one uvicorn server."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    config = uvicorn.Config(APP, factory=True, access_log=False, log_config=log_config(access_log))
    uvicorn.Server(config).run(sockets=[sock])
