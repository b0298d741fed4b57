"""A trained model as one artifact: both engines, the segments, the vocabularies, and
how it is written, read back and checked before it may serve.

Why here, beside the science: training writes this and serving reads it; neither
should reach into the other for it. The files are the ones `models.artifact` writes
(arrays in an .npz loaded without pickle, and a manifest).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models import artifact
from models.campaigns import Prospects
from models.engine import Engine as Fitted
from models.segments import Segments
from models.upsell import UpsellModel
from models.vocab import Plans, Vocab

# 2: item kinds, pack sizes and currencies; 3: the upsell engine; 4: upgrade prospects;
# 5: RFM segments; 6: point-in-time subscriber features ("no usage reading");
# 7: engagement and payment-trouble features, the learned churn risk
FORMAT = "nextbest/7"


@dataclass(frozen=True)
class Model:
    """What an artifact holds: both engines, the segments and the vocabularies to serve them."""

    engine: Fitted  # cross-sell
    vocab: Vocab
    upsell: UpsellModel
    plans: Plans
    prospects: Prospects  # upgrade campaign candidates at training time (vocab customers)
    segments: Segments  # by customer index, as vocab.customer_ids


def save(model_dir: Path, model: Model, manifest: dict[str, Any]) -> Path:
    """Write the artifact into model_dir/<version>/."""
    arrays, scalars = artifact.pack(model)
    return artifact.save(model_dir / manifest["version"], arrays, {**manifest, "scalars": scalars})


def load(path: Path) -> tuple[Model, dict[str, Any]]:
    """Read one artifact directory back into a Model (sha256 checked)."""
    arrays, manifest = artifact.load(path)
    if manifest.get("format") != FORMAT:
        raise artifact.ArtifactError(f"{path}: format {manifest.get('format')!r} is not {FORMAT}")
    return artifact.unpack(Model, arrays, manifest["scalars"]), manifest


def validate(model: Model) -> None:
    """Refuse a model whose arrays do not fit its vocabularies or hold NaN factors.

    The sha256 proves the file is the one training wrote; this proves training wrote
    something servable (a bug or a bad run can write NaN factors with a valid sha256).
    """
    vocab, cross_sell = model.vocab, model.engine.cross_sell
    als, ease = cross_sell.als, cross_sell.ease
    problems = []
    if als.user_factors.shape[0] != len(vocab.customer_ids):
        problems.append(
            f"{als.user_factors.shape[0]} customer factors for {len(vocab.customer_ids)} customers"
        )
    if als.item_factors.shape[0] != len(vocab.item_ids):
        problems.append(f"{als.item_factors.shape[0]} item factors for {len(vocab.item_ids)} items")
    if ease.weights.shape != (len(ease.items), len(ease.items)):
        problems.append(f"EASE weights {ease.weights.shape} for {len(ease.items)} items")
    for name, values in (
        ("customer factors", als.user_factors),
        ("item factors", als.item_factors),
        ("EASE weights", ease.weights),
        ("upgrade propensity", model.upsell.propensity.coef),
        ("churn risk", model.upsell.churn.coef),
    ):
        if not np.isfinite(values).all():
            problems.append(f"{name} hold NaN or infinite values")
    if problems:
        raise artifact.ArtifactError("; ".join(problems))


def artifacts(model_dir: Path) -> list[Path]:
    """Complete artifacts under model_dir (the manifest is written last), newest first."""
    if not model_dir.is_dir():
        return []
    complete = [p for p in model_dir.iterdir() if (p / artifact.MANIFEST).is_file()]
    return sorted(complete, key=lambda p: p.name, reverse=True)
