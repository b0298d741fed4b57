"""A database outage staged for real: a TCP proxy in front of the PostgreSQL server that
a test stops (connections refused, open ones cut) and starts again, without stopping
the server the rest of the suite uses."""

import contextlib
import socket
import threading

from sqlalchemy.engine import make_url


class Proxy:
    """Forwards a local port to the database server; `stop` is an outage, `start` ends it."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.listener: socket.socket | None = None
        self.open: list[socket.socket] = []

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port, self.listener = listener.getsockname()[1], listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut the open ones (as a server going down does)."""
        assert self.listener is not None
        for conn in [self.listener, *self.open]:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)  # wakes the threads blocked on them
            conn.close()
        self.listener = None
        self.open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self.open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)


def proxy_for(database_url: str) -> tuple[Proxy, str]:
    """A started proxy to the server of `database_url`, and the URL that goes through it
    (a short connect timeout: an outage is found out in seconds)."""
    real = make_url(database_url)
    proxy = Proxy(real.host or "127.0.0.1", real.port or 5432)
    proxy.start()
    via = real.set(port=proxy.port, query={"connect_timeout": "2"})
    return proxy, via.render_as_string(hide_password=False)
