"""One settings object, read from the environment (prefix ``NEXTBEST_``).

Every knob the service has lives here so that a deployment is configured by
environment variables only (the Docker image relies on that).
"""

from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service configuration; see the README for what each variable does."""

    model_config = SettingsConfigDict(env_prefix="NEXTBEST_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///nextbest.db",
        description="SQLAlchemy URL; SQLite file by default, PostgreSQL or MySQL/MariaDB too.",
    )
    model_dir: Path = Field(default=Path("nextbest-models"), description="Trained artifacts.")
    max_bulk_rows: int = Field(
        default=10_000, ge=1, description="Most rows one bulk ingestion request may carry."
    )
    max_body_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024, description="Largest request body accepted."
    )
    refresh_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How often the server reads new purchases and looks for a newer model; "
        "0 turns the background refresh off.",
    )
    default_currency: str = Field(default="USD", min_length=3, max_length=3)
    premium_min_ratio: float = Field(
        default=1.1, ge=1.0, description="Premium alternatives cost at least this x the item."
    )
    premium_max_ratio: float = Field(
        default=2.5, ge=1.0, description="Premium alternatives cost at most this x the item."
    )

    upsell_min_probability: float = Field(
        default=0.25,
        ge=0.0,
        le=1.0,
        description="An upgrade is suggested when its learned probability within 90 days "
        "is at least this.",
    )
    upsell_max_price_multiple: float = Field(
        default=4.0, ge=1.0, description="A suggested plan costs at most this x the current one."
    )
    upsell_renewal_window_days: int = Field(
        default=30, ge=0, description="An annual renewal this close: upgrade at renewal."
    )
    upsell_trial_grace_days: int = Field(
        default=7, ge=0, description="No suggestion during a trial's first days."
    )
    upsell_min_billing_saving: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="Annual billing is offered only when it saves at least this share of "
        "twelve monthly payments.",
    )
    upsell_churn_lift: float = Field(
        default=3.0,
        ge=1.0,
        description="A customer is at risk (retain, not upgrade) when the learned chance of "
        "cancelling within 90 days is this many times the usual...",
    )
    upsell_churn_floor: float = Field(
        default=0.1, ge=0.0, le=1.0, description="...and at least this probability."
    )

    holdout_share: float = Field(
        default=0.1,
        ge=0.0,
        lt=1.0,
        description="Share of customers (by id hash) who get no offers, to measure uplift.",
    )
    holdout_salt: str = Field(
        default="",
        max_length=64,
        description="Changing it draws a new holdout group (a new experiment).",
    )
    offer_cap: int = Field(
        default=3, ge=0, description="Most offers shown to a customer per offer_window_days."
    )
    offer_window_days: float = Field(default=7.0, gt=0)
    offer_cooldown_days: float = Field(
        default=30.0, ge=0, description="A dismissed offer is not shown again for this long."
    )
    attribution_days: float = Field(
        default=14.0,
        gt=0,
        description="A purchase or plan change this soon after an offer's impression or "
        "acceptance is attributed to it.",
    )
    bundle_discount: float = Field(
        default=0.1, ge=0.0, lt=1.0, description="Suggested discount on a bundle's total price."
    )

    model_metric: str = Field(
        default="NDCG@10",
        description="The holdout metric a new model must not be worse on to become active.",
    )
    model_tolerance: float = Field(
        default=0.0,
        ge=0.0,
        lt=1.0,
        description="How much worse (relative) a new model may be and still be activated.",
    )
    key_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        description="How long a worker trusts an API key it checked; a revocation takes "
        "effect within this long.",
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Worker processes of `nextbest serve` (one per core is typical); "
        "`--workers` overrides it.",
    )

    @model_validator(mode="after")
    def _band_is_a_range(self) -> Self:
        if self.premium_max_ratio < self.premium_min_ratio:
            raise ValueError("NEXTBEST_PREMIUM_MAX_RATIO is below NEXTBEST_PREMIUM_MIN_RATIO")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
