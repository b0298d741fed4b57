"""The services of one loaded model, wired in one place.

Why here and only here: each service receives the data and the services it uses, and
none holds a reference to an owner, so the graph of one model is a tree of plain
references. When the registry swaps to another model, the last reference to the old
one goes and the whole graph is freed at once, without a garbage collection.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.serving.answers import SegmentsAnswer
from app.serving.baskets import BasketAnswers
from app.serving.campaigns import CampaignLists, Ranked
from app.serving.catalog import Catalog
from app.serving.cross_sell import CrossSellAnswers
from app.serving.customers import Customers
from app.serving.export import Holdings
from app.serving.live import LivePurchases
from app.serving.offer_candidates import Candidates
from app.serving.offers import OfferAnswers, OfferPolicy
from app.serving.premium import PremiumOffers
from app.serving.profile import Profiles
from app.serving.reasons import Reasons, iso
from app.serving.related import RelatedAnswers
from app.serving.segments import overview
from app.serving.suggestions import ColdStart, Suggestions
from app.serving.upsell import UpsellAnswers
from models.premium import Band, unit_rows
from models.segments import Segments
from models.trained import Model
from models.upsell import Policy


@dataclass(frozen=True)
class Policies:
    """The deployment's settings the answers follow (NEXTBEST_*)."""

    band: Band = field(default_factory=Band)  # premium alternatives' price band
    upsell: Policy = field(default_factory=Policy)  # the upsell rules' thresholds
    offers: OfferPolicy = field(default_factory=OfferPolicy)  # guardrails, holdout, bundles


@dataclass(frozen=True)
class Services:
    """Everything one loaded model answers with."""

    version: str
    manifest: dict[str, Any]
    live: LivePurchases  # purchases since training, polled by the registry
    catalog: Catalog
    customers: Customers
    cross_sell: CrossSellAnswers
    related: RelatedAnswers
    baskets: BasketAnswers
    upsell: UpsellAnswers
    offers: OfferAnswers
    campaigns: CampaignLists
    profiles: Profiles
    segments: SegmentsAnswer
    holdings: Holdings  # what the model holds about a customer, for the export
    customer_ids: list[str]  # the model's customers, by index
    segment_codes: Segments  # their RFM segments as of training


def build(model: Model, manifest: dict[str, Any], policies: Policies | None = None) -> Services:
    """The services of `model` (its manifest says its version and when it was trained)."""
    policies = policies or Policies()
    version = str(manifest["version"])
    engine, vocab = model.engine, model.vocab
    live = LivePurchases(vocab.item_db_ids, vocab.last_purchase_id)
    catalog = Catalog.of(vocab)
    customers = Customers(vocab.customer_ids, engine.owned, live, model.segments.as_of)
    suggestions = Suggestions(catalog, Reasons(engine, vocab), engine.buyers, version)
    cold_start = ColdStart(suggestions, engine.popular, vocab.group, vocab.groups)
    unit = unit_rows(engine.cross_sell.als.item_factors)
    premium = PremiumOffers(vocab, engine.buyers, engine.owned, unit, policies.band)
    rules = engine.baskets.confidence().tocsr()
    cross_sell = CrossSellAnswers(
        engine.cross_sell, engine.cycles, catalog, customers, suggestions, cold_start, premium
    )
    upsell = UpsellAnswers(model.upsell, model.plans, policies.upsell, version)
    candidates = Candidates(
        catalog,
        customers,
        engine.buyers,
        engine.cycles,
        engine.baskets,
        upsell,
        vocab.items.names,
        version,
    )
    ranked = Ranked(
        model.prospects,
        vocab.customer_ids,
        engine.owned,
        rules,
        engine.cross_sell.als,
        engine.buyers,
        vocab.items.names,
    )
    return Services(
        version=version,
        manifest=manifest,
        live=live,
        catalog=catalog,
        customers=customers,
        cross_sell=cross_sell,
        related=RelatedAnswers(
            engine.baskets, engine.cross_sell.content, unit, catalog, suggestions, premium
        ),
        baskets=BasketAnswers(
            engine.cross_sell, rules, catalog, customers, suggestions, cold_start
        ),
        upsell=upsell,
        offers=OfferAnswers(
            cross_sell, upsell, candidates, catalog, customers, policies.offers, version
        ),
        campaigns=CampaignLists(
            ranked, upsell, catalog, policies.offers, version, _ranked_as_of(manifest)
        ),
        profiles=Profiles(model.segments, customers, upsell, version),
        segments=overview(model.segments, version),
        holdings=Holdings(version, customers, vocab, model.segments),
        customer_ids=vocab.customer_ids,
        segment_codes=model.segments,
    )


def _ranked_as_of(manifest: dict[str, Any]) -> dict[str, str | None]:
    """The moment each kind of campaign list is ranked as of: upgrade prospects stand
    for the newest SaaS record training read, item prospects for the training itself."""
    moments: dict[str, str | None] = {"upgrade": None, "cross_sell": None}
    for kind, stamp in (
        ("upgrade", manifest.get("upsell", {}).get("ranked_at")),
        ("cross_sell", manifest.get("created_at")),
    ):
        if stamp:
            moments[kind] = iso(int(datetime.fromisoformat(stamp).timestamp()))
    return moments
