"""Batch writer: resolves references, drops in-file duplicates, upserts by natural key.

Rows travel column by column (`Batch`), because per-row dicts cost more than the
database's own work on large imports. It works the same on SQLite, PostgreSQL and
MySQL: per batch it reads the rows that already exist for the batch's keys, inserts
the new ones (COPY on PostgreSQL) and updates the changed ones; a large batch is
staged in a temporary table instead and compared by the database. If the database
refuses a batch (a constraint the row models do not know about, a concurrent
writer), the batch is retried row by row inside savepoints, so one bad row never
takes the good ones down with it.

Rows of erased customers are refused (`app.db.erase`): a customer row with an erased
id, and any row naming one, even with --create-missing. Their reject keeps no copy of
the row, which would bring the erased data back into the import log.

Offer events are append-only: an event id names one event for good. Sent again as it
was, it is a replay (accepted, unchanged); sent again with anything changed, it is
refused, naming the field, and the stored event stays as it was: cool-downs, caps and
KPIs already counted it. An event about an offer naming an unknown item or plan is
refused too (app.ingest.offer_ids).
"""

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from math import prod
from typing import Any

from sqlalchemy import JSON, Connection, and_, bindparam, select, update
from sqlalchemy.exc import DBAPIError

from app.db import tables
from app.db.bulk import in_values, insert_columns, upsert_columns
from app.db.erase import any_erased, erased_among
from app.ingest.offer_ids import named
from app.ingest.report import ImportReport, Reject
from app.ingest.targets import Ref, Target

ERASED = (
    "this customer was erased on request: an erased customer is not imported again "
    "(the row is not kept)"
)
# From this many rows a batch is compared with the stored rows by the database
# (a staging table), not by reading them back.
STAGED_ROWS = 5000
# Reading back through one IN list per key column makes the database probe every
# combination of the lists' values; past this many probes per row, stage instead.
# (Usage readings at scattered times: 2,000 rows of 2,000 customers, 3 metrics and
# 700 moments were 4 M probes a batch, and 425 k readings took over 10 minutes.)
PROBES_PER_ROW = 20


@dataclass
class Batch:
    """Validated rows of one target, column by column, with where each row came from.

    `columns` holds every field of the target's row model (defaults filled in);
    `fields` are the ones the source supplied, the only ones an update may change.
    `rejects` are rows the source or validation already turned down; they travel
    with the batch so that only the writer touches the report and the database.
    """

    fields: frozenset[str]
    columns: dict[str, list[Any]]
    positions: list[int] = field(default_factory=list)
    raws: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    @classmethod
    def empty(cls, target: Target, fields: Iterable[str]) -> "Batch":
        """A batch with no rows yet for `target`."""
        return cls(frozenset(fields), {name: [] for name in target.columns})

    def __len__(self) -> int:
        return len(self.positions)

    def add(self, position: int, raw: str, values: dict[str, Any]) -> None:
        """Append one validated row (a dict with every field of the target)."""
        self.positions.append(position)
        self.raws.append(raw)
        for name, column in self.columns.items():
            column.append(values[name])

    def keys(self, key: Sequence[str]) -> list[tuple[Any, ...]]:
        """The natural key of each row."""
        return list(zip(*(self.columns[k] for k in key), strict=True))

    def take(self, rows: Sequence[int]) -> "Batch":
        """A batch of the given rows only (in that order), without the rejects."""
        return Batch(
            self.fields,
            {name: [column[i] for i in rows] for name, column in self.columns.items()},
            [self.positions[i] for i in rows],
            [self.raws[i] for i in rows],
        )


def _bare_rows(ref: Ref, externals: list[str]) -> dict[str, list[Any]]:
    """The smallest valid rows for ids that --create-missing has to create."""
    n = len(externals)
    columns: dict[str, list[Any]] = {ref.natural: externals, "attributes": [{}] * n}
    if ref.table is tables.customer:
        columns |= {"marketing_opt_out": [False] * n, "created_at": [datetime.now(UTC)] * n}
    else:
        columns["active"] = [True] * n
    return columns


def _db_error(exc: DBAPIError) -> str:
    first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return f"the database refused the row: {first[:300]}"


def _conflict(key: Any, field: str, stored: Any, sent: Any, reference: bool) -> str:
    """Why a row under a stored key of an append-only table is refused."""
    shown = f"another {field}" if reference else f"{field} {_shown(stored)}, not {_shown(sent)}"
    return (
        f"event_id {key!r} is stored already, with {shown}: a stored event is never "
        "changed (a new event needs a new event_id)"
    )


def _shown(value: Any) -> str:
    return repr(value.isoformat() if isinstance(value, datetime) else value)


class BatchWriter:
    """Writes batches of one target inside the caller's transaction."""

    def __init__(
        self,
        conn: Connection,
        target: Target,
        report: ImportReport,
        run_id: int,
        create_missing: bool = False,
    ) -> None:
        self.conn = conn
        self.target = target
        self.report = report
        self.run_id = run_id
        self.create_missing = create_missing
        self._ids: dict[str, dict[str, int]] = {}
        self._seen: dict[int, int] = {}
        self._rejects: list[Reject] = []
        self._erasures: bool | None = None  # whether any customer was ever erased
        self._erased: set[str] = set()  # erased ids this import met

    def reject(self, position: int, field: str | None, reason: str, raw: str) -> None:
        """Record a row as rejected; it is stored with the import run."""
        item = Reject(position, field, reason, raw)
        self.report.reject(item)
        self._rejects.append(item)

    def write(self, batch: Batch) -> None:
        """Write one batch: every row, and every reject it carries, ends with a verdict."""
        for item in batch.rejects:
            self.report.reject(item)
        self._rejects.extend(batch.rejects)
        batch = self._resolve(self._refuse_erased(self._dedupe(batch)))
        if self.target.append_only:
            batch = self._keep_stored(self._refuse_unknown_offers(batch))
        if batch:
            self._store(batch)
        self.flush_rejects()

    def flush_rejects(self) -> None:
        """Persist the rejects gathered so far."""
        if self._rejects:
            insert_columns(
                self.conn,
                tables.import_reject,
                {
                    "run_id": [self.run_id] * len(self._rejects),
                    "position": [r.position for r in self._rejects],
                    "field": [visible(r.field) for r in self._rejects],
                    "reason": [visible(r.reason) for r in self._rejects],
                    "raw": [visible(r.raw) for r in self._rejects],
                },
            )
            self._rejects.clear()

    def known_ids(self, ref: Ref, externals: Iterable[str | None]) -> dict[str, int]:
        """Internal ids for external ids of `ref`'s table, cached for the whole import."""
        cache = self._ids.setdefault(ref.table.name, {})
        wanted = sorted({e for e in externals if e is not None and e not in cache})
        if not wanted:
            return cache
        natural = ref.table.c[ref.natural]
        query = select(natural, ref.table.c.id).where(in_values(self.conn, natural, wanted))
        cache.update({ext: pk for ext, pk in self.conn.execute(query)})
        missing = [e for e in wanted if e not in cache]
        if missing and ref.table is tables.customer and self._any_erased():
            self._erased |= erased_among(self.conn, missing)
            missing = [e for e in missing if e not in self._erased]
        if missing and ref.creatable and self.create_missing:
            insert_columns(self.conn, ref.table, _bare_rows(ref, missing))
            self.report.created[ref.table.name] += len(missing)
            query = select(natural, ref.table.c.id).where(in_values(self.conn, natural, missing))
            cache.update({ext: pk for ext, pk in self.conn.execute(query)})
        return cache

    def _dedupe(self, batch: Batch) -> Batch:
        seen, key = self._seen, self.target.key
        hashes = list(map(hash, batch.keys(key)))
        if len(set(hashes)) == len(hashes) and seen.keys().isdisjoint(hashes):
            seen.update(zip(hashes, batch.positions, strict=True))  # the usual case
            return batch
        keep = []
        for i, (position, values) in enumerate(zip(batch.positions, batch.keys(key), strict=True)):
            first = seen.setdefault(hash(values), position)
            if first == position:
                keep.append(i)
                continue
            shown = ", ".join(f"{k}={v!r}" for k, v in zip(key, values, strict=True))
            reason = f"duplicate key ({shown}): already given at {self.report.unit} {first}"
            self.reject(position, key[0], reason, batch.raws[i])
        return batch if len(keep) == len(batch) else batch.take(keep)

    def _resolve(self, batch: Batch) -> Batch:
        """Replace the external ids in reference columns by internal ones."""
        bad: dict[int, str] = {}
        for ref in self.target.refs:
            externals = batch.columns[ref.field]
            cache = self.known_ids(ref, externals)
            ids = list(map(cache.get, externals))  # None (anonymous) stays None
            batch.columns[ref.field] = ids
            if ids.count(None) == externals.count(None):
                continue  # every reference is known
            for i, (external, pk) in enumerate(zip(externals, ids, strict=True)):
                if pk is None and external is not None and i not in bad:
                    bad[i] = ref.field
                    if ref.table is tables.customer and external in self._erased:
                        self.reject(batch.positions[i], ref.field, ERASED, "")
                        continue
                    self.reject(
                        batch.positions[i], ref.field, self._unknown(ref, external), batch.raws[i]
                    )
        if not bad:
            return batch
        return batch.take([i for i in range(len(batch)) if i not in bad])

    def _any_erased(self) -> bool:
        if self._erasures is None:
            self._erasures = any_erased(self.conn)
        return self._erasures

    def _refuse_erased(self, batch: Batch) -> Batch:
        """Customer rows with an erased id, turned down (one read per batch, none while
        no customer has ever been erased)."""
        if self.target.table is not tables.customer or not batch or not self._any_erased():
            return batch
        ids = batch.columns["customer_id"]
        erased = erased_among(self.conn, sorted(set(ids)))
        if not erased:
            return batch
        for position, customer_id in zip(batch.positions, ids, strict=True):
            if customer_id in erased:
                self.reject(position, "customer_id", ERASED, "")
        return batch.take([i for i, c in enumerate(ids) if c not in erased])

    def _refuse_unknown_offers(self, batch: Batch) -> Batch:
        """Events whose offer names an item or plan that was never imported, turned
        down (one read per batch for each)."""
        if self.target.table is not tables.offer_event or not batch:
            return batch
        names = [named(o) for o in batch.columns["offer_id"]]
        items = self._present(tables.item.c.item_id, {i for n in names for i in n.items})
        plans = self._present(tables.plan.c.plan_id, {p for n in names for p in n.plans})
        keep = []
        for i, (offer, name) in enumerate(zip(batch.columns["offer_id"], names, strict=True)):
            missing = [f"item '{x}'" for x in name.items if x not in items]
            missing += [f"plan '{x}'" for x in name.plans if x not in plans]
            if not missing:
                keep.append(i)
                continue
            reason = f"offer id {offer!r} names unknown {', '.join(missing)}: import it first"
            self.reject(batch.positions[i], "offer_id", reason, batch.raws[i])
        return batch if len(keep) == len(batch) else batch.take(keep)

    def _present(self, natural: Any, wanted: set[str]) -> set[str]:
        """Which of the `wanted` natural ids are stored."""
        if not wanted:
            return set()
        query = select(natural).where(in_values(self.conn, natural, sorted(wanted)))
        return set(self.conn.execute(query).scalars())

    def _keep_stored(self, batch: Batch) -> Batch:
        """The rows of an append-only target whose key is new; the others are replays
        (counted, unchanged) or conflicts (refused, naming the first field that differs)."""
        keys = batch.keys(self.target.key)
        existing = self._existing(batch, keys) if batch else {}
        if not existing:
            return batch
        fields = sorted(batch.fields.difference(self.target.key))
        keep, replays = [], 0
        for i, key in enumerate(keys):
            old = existing.get(key)
            if old is None:
                keep.append(i)
                continue
            changed = next((f for f in fields if old[f] != batch.columns[f][i]), None)
            if changed is None:
                replays += 1
                continue
            references = {r.field for r in self.target.refs}
            reason = _conflict(
                key[0], changed, old[changed], batch.columns[changed][i], changed in references
            )
            self.reject(batch.positions[i], changed, reason, batch.raws[i])
        self.report.accepted += replays
        self.report.unchanged += replays
        return batch if len(keep) == len(batch) else batch.take(keep)

    def _unknown(self, ref: Ref, external: str) -> str:
        hint = "import it first"
        if ref.creatable:
            hint += ", or pass --create-missing (create_missing=true) to create it"
        return f"unknown {ref.table.name} '{external}': {hint}"

    def _store(self, batch: Batch) -> None:
        try:
            with self.conn.begin_nested():
                inserted, updated = self._upsert(batch)
        except DBAPIError as exc:
            if len(batch) == 1:
                self.reject(batch.positions[0], None, _db_error(exc), batch.raws[0])
                return
            for i in range(len(batch)):
                self._store(batch.take([i]))
            return
        self.report.accepted += len(batch)
        self.report.inserted += inserted
        self.report.updated += updated
        self.report.unchanged += len(batch) - inserted - updated

    def _upsert(self, batch: Batch) -> tuple[int, int]:
        if self._staged(batch) and self._comparable(batch):
            fields = sorted(batch.fields.difference(self.target.key))
            return upsert_columns(
                self.conn, self.target.table, self.target.key, fields, self._columns(batch)
            )
        keys = batch.keys(self.target.key)
        existing = self._existing(batch, keys)
        if not existing:
            self._insert(batch)
            return len(batch), 0
        new: list[int] = []
        changed: list[dict[str, Any]] = []
        fields = sorted(batch.fields.difference(self.target.key))
        for i, key in enumerate(keys):
            old = existing.get(key)
            if old is None:
                new.append(i)
            elif any(old[f] != batch.columns[f][i] for f in fields):
                changed.append({"pk": old["id"]} | {f"v_{f}": batch.columns[f][i] for f in fields})
        if new:
            self._insert(batch.take(new))
        if changed:
            table = self.target.table
            statement = (
                update(table)
                .where(table.c.id == bindparam("pk"))
                .values({f: bindparam(f"v_{f}") for f in fields})
            )
            self.conn.execute(statement, changed)
        return len(new), len(changed)

    def _existing(self, batch: Batch, keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Any]:
        table = self.target.table
        key = self.target.key
        wanted = sorted(batch.fields | set(key))
        # One IN list per key column finds a small superset through the unique index on
        # every database (SQLite does not index row-value IN lists); exact matches are
        # picked out below.
        condition = and_(
            *(in_values(self.conn, table.c[k], sorted(set(batch.columns[k]))) for k in key)
        )
        query = select(table.c.id, *(table.c[f] for f in wanted)).where(condition)
        wanted_keys = set(keys)
        found = {}
        for row in self.conn.execute(query).mappings():
            row_key = tuple(row[k] for k in key)
            if row_key in wanted_keys:
                found[row_key] = row
        return found

    def _staged(self, batch: Batch) -> bool:
        """Whether the database compares the batch with the stored rows (a staging table):
        for a large batch, or when the IN lists' combinations far outnumber its rows."""
        if len(batch) >= STAGED_ROWS:
            return True
        probes = prod(len(set(batch.columns[k])) for k in self.target.key)
        return probes > PROBES_PER_ROW * len(batch)

    def _comparable(self, batch: Batch) -> bool:
        """Whether every column compares in SQL (PostgreSQL's JSON has no equality)."""
        table = self.target.table
        return not any(isinstance(table.c[name].type, JSON) for name in batch.columns)

    def _columns(self, batch: Batch) -> dict[str, list[Any]]:
        columns = batch.columns
        if self.target.table is tables.customer:
            now = datetime.now(UTC)
            columns = columns | {"created_at": [t or now for t in columns["created_at"]]}
        return columns

    def _insert(self, batch: Batch) -> None:
        insert_columns(self.conn, self.target.table, self._columns(batch))


class BackgroundWriter:
    """Runs a BatchWriter in a second thread, so parsing overlaps with database work.

    The database driver releases the GIL while the server works, so reading the next
    batch of a file proceeds meanwhile. Only the background thread touches the writer,
    its connection and the report's verdicts; errors it meets are raised again in the
    caller's thread.
    """

    def __init__(self, writer: BatchWriter, depth: int = 2) -> None:
        self.writer = writer
        self._queue: queue.Queue[Batch | None] = queue.Queue(depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="nextbest-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self.writer.write(batch)
                except BaseException as exc:  # re-raised in the caller's thread
                    self._error = exc

    def write(self, batch: Batch) -> None:
        """Queue a batch (waits while `depth` batches are already queued)."""
        self._raise()
        self._queue.put(batch)

    def close(self) -> None:
        """Wait for every queued batch to be written."""
        self._queue.put(None)
        self._thread.join()
        self._raise()

    def abandon(self) -> None:
        """Stop after the current batch; the caller is failing and will roll back."""
        self._error = self._error or RuntimeError("abandoned")
        self._queue.put(None)
        self._thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error


@contextmanager
def in_background(writer: BatchWriter) -> Iterator[BackgroundWriter]:
    """A BackgroundWriter that is closed on success and abandoned on failure."""
    background = BackgroundWriter(writer)
    try:
        yield background
    except BaseException:
        background.abandon()
        raise
    background.close()


def visible(text: str | None) -> str | None:
    """`text` with each NUL character written as the JSON escape \\u0000.

    Why: a rejected row is stored as it came, but PostgreSQL text cannot hold NUL; a
    row refused for a NUL (in a value or in a field's name) must still be recorded,
    the same way on every database.
    """
    return text.replace("\x00", "\\u0000") if text is not None and "\x00" in text else text
