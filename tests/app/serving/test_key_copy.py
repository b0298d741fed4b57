"""The last-known copy of the API keys a server keeps in the model directory: the table's
hashes and public facts, never a secret, written 0600; while the database is down, keys
are checked against it (a revocation in any reading wins), and a missing or corrupt copy
is a warning and a 503 for the keys it would have vouched for, never a crash nor a
wider door.
"""

import hashlib
import json
import logging
import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.auth import key_copy
from app.auth.keys import KeyStore, create_key, revoke_key


def made_keys(engine: Engine) -> dict[str, str]:
    """A live key and a revoked one, as text."""
    live = create_key(engine, {"read"}, "shop")[1]
    revoked = create_key(engine, {"read", "write"}, "old")[1]
    assert revoke_key(engine, revoked.split("_")[1])
    return {"live": live, "revoked": revoked}


def test_the_key_copy_holds_the_hashes_and_never_a_secret(engine: Engine, tmp_path: Path) -> None:
    keys = made_keys(engine)
    copy = tmp_path / "models" / key_copy.FILE
    copy.parent.mkdir()
    assert KeyStore(engine, copy=copy).sync()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    text = copy.read_text()
    for key in keys.values():
        secret = key.split("_", 2)[2]
        assert secret not in text and key not in text
        assert hashlib.sha256(secret.encode()).hexdigest() in text
    rows = {row["key_id"]: row for row in json.loads(text)["api_keys"]}
    assert set(rows) == {k.split("_")[1] for k in keys.values()}
    assert set(next(iter(rows.values()))) == set(key_copy.COLUMNS)
    assert [p.name for p in copy.parent.iterdir()] == [key_copy.FILE]  # no temporary file


def test_keys_are_checked_against_the_copy_while_the_database_is_down(
    engine: Engine, down: Engine, tmp_path: Path
) -> None:
    keys = made_keys(engine)
    copy = tmp_path / key_copy.FILE
    KeyStore(engine, copy=copy).sync()
    offline = KeyStore(down, ttl=0, copy=copy)  # a process started during the outage
    found = offline.check(keys["live"])
    assert found is not None and found.name == "shop" and found.scopes == {"read"}
    copy.unlink()  # read once, into memory: not a file read per request
    assert offline.check(keys["live"]) is not None
    assert offline.check(keys["revoked"]) is None  # 401
    assert offline.check(keys["live"][:-3] + "xyz") is None  # a known id, a wrong secret
    with pytest.raises(SQLAlchemyError):  # unknown to the copy: cannot be checked, 503
        offline.check("nb_0123456789ab_" + "x" * 43)


def test_a_revocation_wins_over_an_older_reading(
    engine: Engine, down: Engine, tmp_path: Path
) -> None:
    keys = {**made_keys(engine), "other": create_key(engine, {"read"}, "other")[1]}
    store = KeyStore(engine, ttl=0, copy=tmp_path / key_copy.FILE)
    store.sync()  # the copy says both are live
    assert store.check(keys["live"]) is not None and store.check(keys["other"]) is not None
    assert revoke_key(engine, keys["live"].split("_")[1])
    assert store.check(keys["live"]) is None  # the cache says revoked, the copy not yet
    assert revoke_key(engine, keys["other"].split("_")[1])
    store.sync()  # the copy says revoked, the cache of the other one not
    store.engine = down  # then the database goes away
    assert store.check(keys["live"]) is None and store.check(keys["other"]) is None


@pytest.mark.parametrize(
    "content",
    [
        None,
        b"{half a copy",
        b'{"api_keys": [{"key_id": "0123456789ab"}]}',
        b'{"api_keys": "every key"}',
        json.dumps(
            {
                "api_keys": [
                    {
                        "key_id": "0123456789ab",
                        "secret_sha256": "short",
                        "scopes": "admin",
                        "name": "x",
                        "created_at": "2024-01-01T00:00:00+00:00",
                        "revoked_at": None,
                    }
                ]
            }
        ).encode(),
    ],
    ids=["missing", "truncated", "a column short", "not a list", "a bad hash"],
)
def test_a_missing_or_corrupt_key_copy_is_a_warning_and_a_503(
    down: Engine, tmp_path: Path, content: bytes | None, caplog: pytest.LogCaptureFixture
) -> None:
    copy = tmp_path / key_copy.FILE
    if content is not None:
        copy.write_bytes(content)
    store = KeyStore(down, copy=copy)
    with caplog.at_level(logging.WARNING, logger="nextbest"), pytest.raises(SQLAlchemyError):
        store.check("nb_0123456789ab_" + "x" * 43)
    assert str(copy) in caplog.text
    assert not store.sync()  # the refresh logs and goes on
