"""Running the HTTP server: one process, or several sharing the port with SO_REUSEPORT.

Why not uvicorn's own `--workers`: its workers share one listening socket, and
whichever worker is idle first accepts the next connection. Clients that keep
connections open (shops' backends, load balancers) then pile onto one worker while the
others idle. With SO_REUSEPORT every worker has its own socket and the kernel spreads
new connections across them evenly.
"""

import multiprocessing
import signal
import socket
import sys
from types import FrameType

import uvicorn

APP = "app.main:create_app"


def serve(host: str, port: int, workers: int, access_log: bool) -> None:
    """Serve until interrupted; `workers` processes when the platform has SO_REUSEPORT."""
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, access_log=access_log)
        return
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


def _worker(host: str, port: int, access_log: bool) -> None:
    """One worker process: its own socket on the shared port, one uvicorn server."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    config = uvicorn.Config(APP, factory=True, access_log=access_log)
    uvicorn.Server(config).run(sockets=[sock])
