"""The last-known copy of the API key table, to check keys while the database is down.

What it holds: for each key, its id, name, scopes, creation and revocation times and
the sha256 of its secret, which is what the table holds, and never a secret (the
database has none either: a secret is shown once, when the key is created). The file
is written 0600 and atomically, in the model directory, after each read of the whole
table (app.auth.keys.KeyStore.sync); what that means for revocation is written there.
"""

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from app.state_files import read_json, write_bytes

log = logging.getLogger("nextbest")

FILE = ".api-keys.json"  # in the model directory; not an artifact (no manifest)
COLUMNS = ("key_id", "secret_sha256", "scopes", "name", "created_at", "revoked_at")

# One row of the api_key table, in COLUMNS order.
Row = tuple[str, str, str, str, datetime, datetime | None]


def dump(rows: Sequence[Row]) -> bytes:
    """The copy's bytes: equal tables give equal bytes, so an unchanged one is not
    written again."""
    ordered = sorted(rows, key=lambda row: row[0])
    keys = [dict(zip(COLUMNS, _plain(row), strict=True)) for row in ordered]
    return json.dumps({"api_keys": keys}, sort_keys=True, indent=1).encode()


def save(path: Path, data: bytes) -> bool:
    """Write the copy (0600); False when there is no directory to write it in yet (no
    model trained: try again later). Best effort: a failed write is logged."""
    if not path.parent.is_dir():
        return False
    try:
        write_bytes(path, data, 0o600)
    except OSError as exc:
        log.warning("cannot keep a copy of the API keys in %s: %s", path, exc)
    return True


def load(path: Path) -> list[Row] | None:
    """The rows of the copy; None (logged) when there is none or it cannot be read."""
    try:
        return [_row(key) for key in read_json(path)["api_keys"]]
    except FileNotFoundError:
        log.warning("no copy of the API keys at %s: keys not seen before get a 503", path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("the copy of the API keys %s is unusable, ignoring it: %s", path, exc)
    return None


def _plain(row: Row) -> list[Any]:
    return [v.isoformat() if isinstance(v, datetime) else v for v in row]


def _row(key: dict[str, Any]) -> Row:
    """A row from the copy, its types checked (a corrupt copy must not admit a key)."""
    key_id, digest, scopes, name = (key[c] for c in COLUMNS[:4])
    if not all(isinstance(v, str) for v in (key_id, digest, scopes, name)) or len(digest) != 64:
        raise ValueError(f"malformed key {key_id!r:.40}")
    revoked = key["revoked_at"]
    return (
        key_id,
        digest,
        scopes,
        name,
        datetime.fromisoformat(key["created_at"]),
        None if revoked is None else datetime.fromisoformat(revoked),
    )
