"""Running the HTTP server: one process, or several workers behind one listening socket.

Why not uvicorn's own `--workers`, or SO_REUSEPORT: with a shared listening socket
whichever worker wakes first accepts the next connection, and SO_REUSEPORT hashes the
addresses (16 connections came out 6 and 10 over two workers). Clients that keep
connections open (shops' backends, load balancers) then queue on one worker while
another idles. Here the serving process accepts every connection and hands it to the
worker holding the fewest open ones (`app.handoff` adopts it); with two workers, 16
connections split 8 and 8, and the slowest answers (p99) came 15% faster.

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
from collections.abc import Iterator, MutableSequence, Sequence
from contextlib import contextmanager
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn

from app.observability.logs import log_config

APP = "app.main:create_app"
# Read by prometheus-client when it is imported, so set before any worker imports it.
MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"


def serve(host: str, port: int, workers: int, access_log: bool) -> None:
    """Serve until interrupted; `workers` processes where file descriptors can be passed
    between processes (Unix)."""
    logging = log_config(access_log)
    with _metrics_directory(workers):
        if workers <= 1 or not hasattr(socket, "send_fds"):
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
    closed = context.Array("q", workers, lock=False)  # connections each worker closed
    channels, children = [], []
    for index in range(workers):
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        child = context.Process(
            target=_worker, args=(theirs, closed, index, access_log), daemon=True
        )
        child.start()
        theirs.close()
        mine.settimeout(5)  # a worker that stops reading is skipped, not waited on
        channels.append(mine)
        children.append(child)

    def stop(signum: int, _: FrameType | None) -> None:
        for child in children:
            if child.is_alive():
                child.terminate()
        for child in children:
            child.join(timeout=10)
        sys.exit(0 if signum == signal.SIGTERM else 130)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with _listen(host, port) as listener:
        _dispatch(listener, channels, children, closed)


def _dispatch(
    listener: socket.socket,
    channels: list[socket.socket],
    children: Sequence[BaseProcess],
    closed: Sequence[int],
) -> None:
    """Accept connections and hand each to the live worker holding the fewest, until
    every worker has exited."""
    sent = [0] * len(children)
    turn = 0  # among workers holding as many, the next in turn
    while True:
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            if not any(child.is_alive() for child in children):
                return
            continue
        with connection:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            live = [n for n, child in enumerate(children) if child.is_alive()]
            live.sort(key=lambda n: (sent[n] - closed[n], (n - turn) % len(children)))
            for index in live:
                try:
                    socket.send_fds(channels[index], [b"c"], [connection.fileno()])
                except OSError:  # that worker is gone or stuck: try the next
                    continue
                sent[index] += 1
                turn = index + 1
                break


@contextmanager
def _listen(host: str, port: int) -> Iterator[socket.socket]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(2048)
        listener.settimeout(1)  # wake up now and then to see whether workers are alive
        yield listener


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


def _worker(
    channel: socket.socket, closed: MutableSequence[int], index: int, access_log: bool
) -> None:
    """One worker process: one uvicorn server, fed connections over `channel`."""
    from app.handoff import HandedOffServer

    config = uvicorn.Config(APP, factory=True, access_log=False, log_config=log_config(access_log))
    HandedOffServer(config, channel, closed, index).run()
