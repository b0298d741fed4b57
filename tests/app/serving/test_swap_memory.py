"""Swapping models frees the one swapped out: a process that activates and rolls back
thirty times holds the memory of one model, not of thirty.

The registry answers from one model's services at a time; when it swaps, the old
services must become unreachable at once (no reference cycle, nothing frozen out of
the garbage collector), or every activation keeps the previous model in memory.
"""

import weakref
from pathlib import Path

import pytest

from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.serving.registry import Registry
from app.training import versions
from app.training.train import train

from ..api.test_cross_sell_api import load_demo

SWAPS = 30


def rss_bytes() -> int:
    """This process's resident memory, from Linux's /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
def test_thirty_activations_and_rollbacks_keep_the_memory_of_one_model(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    upgrade(url)
    load_demo(url, tmp_path, 2000)
    engine = make_engine(url)
    first = train(engine, tmp_path / "models").manifest["version"]
    second = train(engine, tmp_path / "models").manifest["version"]
    registry = Registry(tmp_path / "models", engine)

    def serve(version: str) -> None:
        versions.activate(engine, version, "test")
        registry.refresh()
        assert registry.get().version == version

    serve(first)
    serve(second)
    after_first = rss_bytes()
    gone = weakref.ref(registry.get().cross_sell)  # the services of `second`
    serve(first)
    assert gone() is None  # freed the moment it was swapped out
    for _ in range(SWAPS - 1):
        serve(second)
        serve(first)
    engine.dispose()
    grown = rss_bytes() - after_first
    assert grown < 0.10 * after_first, f"grew {grown / 2**20:.0f} MiB over {SWAPS} swaps"
