"""Small JSON state files kept in the model directory, never seen half-written.

Why a temporary file and `os.replace`: several workers write the same file, and any of
them may be stopped in the middle of a write; a rename within one directory is atomic,
so a reader finds the old contents or the new ones, never a mix. The temporary file is
created 0600 and given `mode` before the rename, so the contents never sit on disk with
wider rights than asked for.
"""

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_json(path: Path, value: Any, mode: int = 0o600) -> bytes:
    """Replace `path` with `value` as JSON (keys sorted: equal values, equal bytes)."""
    data = json.dumps(value, sort_keys=True, indent=1).encode()
    write_bytes(path, data, mode)
    return data


def write_bytes(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace `path` with `data` atomically; raises OSError (nothing is left behind)."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())  # a copy read after a crash must be whole, not empty
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def read_json(path: Path) -> Any:
    """The JSON value in `path`; FileNotFoundError when there is none, ValueError
    (or another OSError) when it cannot be read."""
    return json.loads(path.read_bytes())
