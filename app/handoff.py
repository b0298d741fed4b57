"""A uvicorn worker that serves connections handed to it by the serving process.

Why: the serving process accepts every connection and gives it to the worker holding
the fewest open ones (`app.server` says why the kernel's ways are not enough). The
worker receives each connection's file descriptor over a Unix socket (SCM_RIGHTS) and
adopts it into its event loop; it counts the connections it closes in a shared array,
which the serving process reads to know how many each worker holds.
"""

import asyncio
import socket
from collections.abc import Callable, MutableSequence
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_FDS = 64  # file descriptors read from the channel per message, at most


class Adopted(asyncio.AbstractServer):
    """What uvicorn's shutdown closes in place of a listening server: the channel."""

    def __init__(self, loop: asyncio.AbstractEventLoop, channel: socket.socket) -> None:
        self.loop, self.channel, self.open = loop, channel, True

    def close(self) -> None:
        if self.open:
            self.loop.remove_reader(self.channel.fileno())
            self.channel.close()
            self.open = False

    async def wait_closed(self) -> None:
        return None

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self.loop

    def is_serving(self) -> bool:
        return self.open

    async def start_serving(self) -> None:
        return None

    async def serve_forever(self) -> None:
        raise NotImplementedError("connections arrive over the channel")


class HandedOffServer(uvicorn.Server):
    """uvicorn's server, fed connections over `channel` instead of a listening socket.

    `closed[index]` counts the connections this worker has closed (it alone writes it).
    """

    def __init__(
        self,
        config: uvicorn.Config,
        channel: socket.socket,
        closed: MutableSequence[int],
        index: int,
    ) -> None:
        config.http = counting_protocol(closed, index)
        super().__init__(config)
        self.channel, self.closed, self.index = channel, closed, index

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            raise SystemExit(3)  # uvicorn's STARTUP_FAILURE
        loop = asyncio.get_running_loop()

        def protocol() -> asyncio.Protocol:
            return self.config.http_protocol_class(  # type: ignore[call-arg]
                config=self.config,
                server_state=self.server_state,
                app_state=self.lifespan.state,
            )

        self.channel.setblocking(False)
        loop.add_reader(self.channel.fileno(), self._receive, loop, protocol)
        self.servers = [Adopted(loop, self.channel)]  # type: ignore[list-item]
        self.started = True

    def _receive(
        self, loop: asyncio.AbstractEventLoop, protocol: Callable[[], asyncio.Protocol]
    ) -> None:
        """Adopt every connection waiting on the channel; stop when the parent is gone."""
        while True:
            try:
                message, fds, _, _ = socket.recv_fds(self.channel, 1, MAX_FDS)
            except BlockingIOError:
                return
            if not message and not fds:  # the serving process closed its end
                self.should_exit = True
                self.servers[0].close()
                return
            for fd in fds:
                connection = socket.socket(fileno=fd)
                connection.setblocking(False)
                loop.create_task(self._adopt(loop, protocol, connection))

    async def _adopt(
        self,
        loop: asyncio.AbstractEventLoop,
        protocol: Callable[[], asyncio.Protocol],
        connection: socket.socket,
    ) -> None:
        try:
            await loop.connect_accepted_socket(protocol, connection)
        except OSError:  # the client went away before the worker took it over
            connection.close()
            self.closed[self.index] += 1


def counting_protocol(closed: MutableSequence[int], index: int) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol, counting each closed connection in `closed[index]`."""

    class Counted(HttpToolsProtocol):
        def connection_lost(self, exc: Any) -> None:
            super().connection_lost(exc)
            closed[index] += 1

    return Counted
