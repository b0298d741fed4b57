"""An erasure one worker announces is followed by another worker's first `follow`,
whichever code path asks first (the export, the CLI, a per-customer route)."""

from pathlib import Path

from sqlalchemy import Engine

from app.serving.erasure import ErasedSet

from .test_erased_copy import erased_in


def test_a_worker_that_never_asked_before_follows_an_announced_erasure(
    engine: Engine, tmp_path: Path
) -> None:
    eraser, other = ErasedSet(engine, tmp_path), ErasedSet(engine, tmp_path)
    erased_in(engine, "C-gone")
    eraser.add("C-gone")  # records it here and announces it to the other workers
    other.follow()  # the first thing this process asks of its erasures
    assert other.erased("C-gone")
    assert not other.erased("C-here")
