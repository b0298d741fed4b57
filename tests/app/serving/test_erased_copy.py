"""The last-known copy of the erasures: a server started without its database still
keeps the customers erased since training (whom its model holds) out of answers, and
without a usable copy answers 503 about named customers rather than serve one of them.
"""

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from app.db import tables
from app.db.erase import customer_hash
from app.errors import NotFound, Unavailable
from app.serving.erasure import COPY, ErasedSet


def erased_in(engine: Engine, customer_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(tables.erased_customer).values(
                customer_sha256=customer_hash(customer_id), erased_at=datetime.now(UTC)
            )
        )


def test_erasures_are_kept_and_restored(engine: Engine, down: Engine, tmp_path: Path) -> None:
    erased_in(engine, "C-gone")
    online = ErasedSet(engine, tmp_path)
    online.sync()
    online.keep()
    copy = tmp_path / COPY
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert json.loads(copy.read_text()) == {"customer_sha256": [customer_hash("C-gone")]}
    offline = ErasedSet(down, tmp_path)  # a process started during the outage
    offline.restore()
    with pytest.raises(NotFound):
        offline.check("C-gone")
    offline.check("C-here")


@pytest.mark.parametrize("content", [None, b"{", b'{"customer_sha256": ["not a hash"]}'])
def test_without_a_usable_erasure_copy_named_customers_wait(
    engine: Engine, down: Engine, tmp_path: Path, content: bytes | None
) -> None:
    if content is not None:
        (tmp_path / COPY).write_bytes(content)
    offline = ErasedSet(down, tmp_path)
    offline.restore()
    with pytest.raises(Unavailable):  # 503: it cannot tell who was erased
        offline.check("C-here")
    offline.check(None)  # an anonymous answer names nobody
    offline.engine = engine  # the database is back
    offline.sync()
    offline.check("C-here")
