"""`nextbest serve` and `nextbest openapi`: the HTTP API and its contract.

Workers come from uvicorn's own supervisor (`workers=N`): it starts them, restarts one
that dies, and kills and replaces one that stops answering its health pings. All of them
accept on one listening socket. Balancing long-lived connections across workers and
hosts is the load balancer's job (README "Deploying"). Several workers keep their
metrics in a fresh directory made here before they start (PROMETHEUS_MULTIPROC_DIR,
which they inherit) and removed when the server stops, so any worker's /metrics counts
the whole server and a restart starts from zero.
"""

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from app.cli.common import cli
from app.settings import get_settings


@cli.command()
def openapi() -> None:
    """Print the OpenAPI contract (the committed copy is openapi/openapi.json)."""
    from app.main import create_app

    typer.echo(json.dumps(create_app().openapi(), indent=2, sort_keys=True))


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Worker processes; default $NEXTBEST_WORKERS, else 1"),
    ] = None,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request")
    ] = False,
) -> None:
    """Serve the HTTP API (uvicorn); each worker loads the active model at start."""
    import uvicorn

    from app.observability.logs import log_config
    from app.observability.scrape import MULTIPROC

    count = workers or get_settings().workers
    with _metrics_directory(count, MULTIPROC):
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=count,
            access_log=False,  # the service logs its own lines, by route template
            proxy_headers=False,  # set behind a proxy: NEXTBEST is not told which one
            log_config=log_config(access_log),
        )


@contextmanager
def _metrics_directory(workers: int, variable: str) -> Iterator[None]:
    """A fresh multi-process metrics directory for several workers, removed afterwards;
    none for one (its metrics stay in memory)."""
    if workers <= 1:
        os.environ.pop(variable, None)  # one that was left set would mix old counts in
        yield
        return
    directory = tempfile.mkdtemp(prefix="nextbest-metrics-")
    os.environ[variable] = directory
    try:
        yield
    finally:
        os.environ.pop(variable, None)
        shutil.rmtree(directory, ignore_errors=True)
