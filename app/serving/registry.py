"""The serving side of the model registry: the active version in memory, swapped when
another one is activated (app.training.versions holds the table).

Why a swap by reference: a request takes `registry.current` once and answers from
that object, so a new model never mixes with the old one inside an answer, and no
lock sits on the request path.
"""

import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.errors import Unavailable
from app.observability.metrics import model_served
from app.serving.erasure import ErasedSet
from app.serving.memory import release_freed
from app.serving.services import Policies, Services, build
from app.training import active_copy, versions
from models.artifact import ArtifactError
from models.trained import artifacts, load, validate

log = logging.getLogger("nextbest")


class Registry:
    """Holds the current model's services; `refresh` loads newer models and new purchases."""

    def __init__(self, model_dir: Path, engine: Engine, policies: Policies | None = None) -> None:
        self.model_dir, self.engine = model_dir, engine
        self.policies = policies or Policies()  # what the answers follow, from the settings
        self.current: Services | None = None
        self.recorded: str | None = None  # the active version this process last recorded
        self.failed: set[str] = set()
        self.lock = threading.Lock()
        self.erased = ErasedSet(engine, model_dir)  # kept out of answers (app.serving.erasure)
        self.gone = threading.Event()  # a swapped-out model was freed since the last trim

    def get(self) -> Services:
        """The model to answer from, or 503 when none has been trained yet."""
        current = self.current
        if current is None:
            raise Unavailable(
                f"no trained model in {self.model_dir}: run `nextbest train`, then restart "
                "or wait for the server to pick it up"
            )
        return current

    def for_customer(self, customer_id: str | None) -> Services:
        """The services to answer about `customer_id` from (None: an anonymous caller);
        404 for an erased customer. Blocking (it may read the erasures another worker
        announced): for `def` routes and commands; async routes use
        `app.api.deps.serving`."""
        self.erased.follow()
        self.erased.check(customer_id)
        return self.get()

    def refresh(self) -> None:
        """Load the active version if it is not the one serving, read new erasures and
        new purchases.

        A database that cannot be read leaves everything as it is (the model keeps
        serving; `live.poll` tries again next time): the caller logs and retries. A
        process that has no model yet loads one from disk (`_load_offline`), and keeps
        out the customers erased as of the last copy of the erasures.
        """
        with self.lock:
            self._load_active()
            current = self.current
        if self.gone.is_set():  # the last request answering from the old model has ended
            self.gone.clear()
            release_freed()
        try:
            self.erased.sync()
        except SQLAlchemyError as exc:
            log.warning("erased customers cannot be read now, retrying later: %s", exc)
            self.erased.restore()
        else:
            self.erased.keep()
        if current is None:
            return
        try:
            current.live.forget(self.erased.drain())
            while current.live.poll(self.engine):
                pass
        except SQLAlchemyError as exc:
            log.warning("new purchases cannot be read now, retrying later: %s", exc)

    def _load_active(self) -> None:
        """Switch to the registry's active version; without any registered version, to
        the newest artifact on disk (models trained before the registry existed)."""
        try:
            active = versions.active(self.engine)
            registered = active is not None or bool(versions.listed(self.engine))
        except SQLAlchemyError as exc:
            self._load_offline(exc)
            return
        if active is not None:
            self._record(active.version)
            self._switch(self.model_dir / active.version)
        elif not registered:
            self._load_newest()

    def _record(self, version: str) -> None:
        """Leave the active version in the model directory, for a start during an outage
        (a file read when the version changes, not at every refresh)."""
        if version != self.recorded and active_copy.remember(self.model_dir, version):
            self.recorded = version

    def _load_offline(self, exc: SQLAlchemyError) -> None:
        """Without the registry: keep the model serving, or (a start during an outage)
        load the version last recorded as active, else the newest artifact that loads.

        Why not wait for the database: a valid model on disk answers reads within the
        degraded rules, where no model answers nothing. The registry is read again on
        every refresh, and the active version replaces this one once it can be.
        """
        if self.current is not None:
            log.warning(
                "model registry unreadable, keeping model %s: %s", self.current.version, exc
            )
            return
        recorded = active_copy.recall(self.model_dir)
        if recorded is not None and self._switch(self.model_dir / recorded):
            log.warning(
                "model registry unreadable, no model loaded (%s): serving %s, the active version "
                "last recorded in %s, until the registry can be read",
                exc.__class__.__name__,
                recorded,
                self.model_dir / active_copy.FILE,
            )
            return
        self._load_newest()
        if self.current is None:
            log.error(
                "model registry unreadable and no model in %s loads: nothing to serve "
                "until the database is back (%s)",
                self.model_dir,
                exc,
            )
            return
        log.warning(
            "model registry unreadable, no model loaded (%s), no usable record of the active "
            "version in %s: serving the newest artifact that loads, %s, which may not be "
            "the active one, until the registry can be read",
            exc.__class__.__name__,
            self.model_dir,
            self.current.version,
        )

    def _load_newest(self) -> None:
        """The newest artifact on disk that loads, if newer than the current one."""
        current = self.current.version if self.current else ""
        for path in artifacts(self.model_dir):
            if path.name <= current or self._switch(path):
                return

    def _switch(self, path: Path) -> bool:
        """Load, check and swap to the artifact at `path`; True when it serves now.

        The whole model is loaded and validated (sha256, format, shapes against the
        vocabularies, finite factors) before the one reference changes, so a broken
        artifact never serves; it is logged and not tried again.
        """
        if self.current is not None and self.current.version == path.name:
            return True
        if path.name in self.failed:
            return False
        try:
            model, manifest = load(path)
            validate(model)
        except (ArtifactError, KeyError, ValueError, OSError) as exc:
            kept = f"keeping {self.current.version}" if self.current else "no model serving"
            log.error("cannot load model %s (%s): %s", path, kept, exc)
            self.failed.add(path.name)
            return False
        swapped_out, self.current = self.current, build(model, manifest, self.policies)
        del model  # the services hold what they use of it
        previous = swapped_out.version if swapped_out else None
        if swapped_out is not None:  # requests may still answer from it: trimmed once freed
            weakref.finalize(swapped_out, self.gone.set)
            del swapped_out
        release_freed()  # what loading left behind
        model_served(previous, self.current.version)
        log.info("serving model %s", manifest["version"])
        return True


class Refresher:
    """A daemon thread calling each task (`registry.refresh`, `keys.sync`) every
    `interval` seconds; one task failing does not skip the others."""

    def __init__(self, tasks: Sequence[Callable[[], object]], interval: float) -> None:
        self.tasks, self.interval = tuple(tasks), interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="nextbest-refresh", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            for task in self.tasks:
                try:
                    task()
                except Exception:  # a database hiccup must not end the refreshing
                    log.exception("refresh failed; retrying in %s s", self.interval)
