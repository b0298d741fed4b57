"""The model registry: the newest artifact in memory, swapped when a newer one appears.

Why a swap by reference: a request takes `registry.current` once and answers from
that object, so a new model never mixes with the old one inside an answer, and no
lock sits on the request path.
"""

import gc
import logging
import threading
from pathlib import Path

from sqlalchemy import Engine

from app.errors import Unavailable
from app.serving.live import LivePurchases
from app.serving.offers import OfferPolicy
from app.serving.recommender import Recommender
from app.training.train import artifacts, load
from models.artifact import ArtifactError
from models.premium import Band
from models.upsell import Policy

log = logging.getLogger("nextbest")


class Registry:
    """Holds the current Recommender; `refresh` loads newer models and new purchases."""

    def __init__(
        self,
        model_dir: Path,
        engine: Engine,
        band: Band | None = None,
        policy: Policy | None = None,
        offer_policy: OfferPolicy | None = None,
    ) -> None:
        self.model_dir, self.engine = model_dir, engine
        self.band = band or Band()  # premium alternatives' price band, from the settings
        self.policy = policy or Policy()  # the upsell rules' thresholds, from the settings
        self.offer_policy = offer_policy or OfferPolicy()  # guardrails, holdout, bundles
        self.current: Recommender | None = None
        self.failed: set[str] = set()
        self.lock = threading.Lock()

    def get(self) -> Recommender:
        """The model to answer from, or 503 when none has been trained yet."""
        current = self.current
        if current is None:
            raise Unavailable(
                f"no trained model in {self.model_dir}: run `nextbest train`, then restart "
                "or wait for the server to pick it up"
            )
        return current

    def refresh(self) -> None:
        """Load a newer artifact if there is one, then read purchases since training."""
        with self.lock:
            self._load_newer()
            current = self.current
        if current is not None:
            while current.live.poll(self.engine):
                pass

    def _load_newer(self) -> None:
        """Load the newest artifact that loads; one that failed is not tried again."""
        current = self.current.version if self.current else ""
        for path in artifacts(self.model_dir):
            if path.name <= current:
                return
            if path.name in self.failed:
                continue
            try:
                model, manifest = load(path)
            except (ArtifactError, KeyError, ValueError, OSError) as exc:
                log.error("cannot load model %s, trying an older one: %s", path, exc)
                self.failed.add(path.name)
                continue
            live = LivePurchases(model.vocab.item_db_ids, model.vocab.last_purchase_id)
            self.current = Recommender(
                model, manifest, live, self.band, self.policy, self.offer_policy
            )
            gc.collect()
            gc.freeze()  # the model's objects never die: keep them out of GC passes
            log.info("serving model %s", manifest["version"])
            return


class Refresher:
    """A daemon thread calling `registry.refresh()` every `interval` seconds."""

    def __init__(self, registry: Registry, interval: float) -> None:
        self.registry, self.interval = registry, interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="nextbest-refresh", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.registry.refresh()
            except Exception:  # a database hiccup must not end the refreshing
                log.exception("refresh failed; retrying in %s s", self.interval)
