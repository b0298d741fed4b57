"""The tables ingestion can write, with their natural keys and references.

A natural key is what makes re-importing the same data add nothing: a row whose
key exists is compared and updated (or left alone), never inserted twice.
"""

from dataclasses import dataclass

from sqlalchemy import Table

from app.db import tables
from app.ingest import rows


@dataclass(frozen=True)
class Ref:
    """A field holding another table's natural key, stored as that table's integer id."""

    field: str
    table: Table
    natural: str
    creatable: bool  # --create-missing may create a bare row for an unknown id


@dataclass(frozen=True)
class Target:
    """One importable table: its row model, natural key and references.

    An append-only target (offer events) never changes a stored row: the same row
    again is a replay, a different one under a stored key is refused.
    """

    name: str
    table: Table
    row: type[rows.Row]
    key: tuple[str, ...]
    refs: tuple[Ref, ...] = ()
    append_only: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        """The input fields, which are also the names of the columns they fill."""
        return tuple(self.row.model_fields)

    @property
    def required(self) -> tuple[str, ...]:
        """Fields without a default: a file without these columns cannot be imported."""
        return tuple(name for name, f in self.row.model_fields.items() if f.is_required())


CUSTOMER = Ref("customer_id", tables.customer, "customer_id", creatable=True)
ITEM = Ref("item_id", tables.item, "item_id", creatable=True)


def _plan(field: str) -> Ref:
    return Ref(field, tables.plan, "plan_id", creatable=False)


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("customers", tables.customer, rows.CustomerRow, ("customer_id",)),
        Target("items", tables.item, rows.ItemRow, ("item_id",)),
        Target(
            "purchases",
            tables.purchase,
            rows.PurchaseRow,
            ("order_id", "item_id", "kind"),
            (CUSTOMER, ITEM),
        ),
        Target("plans", tables.plan, rows.PlanRow, ("plan_id",)),
        Target(
            "subscriptions",
            tables.subscription,
            rows.SubscriptionRow,
            ("subscription_id",),
            (CUSTOMER, _plan("plan_id")),
        ),
        Target(
            "plan-changes",
            tables.plan_change,
            rows.PlanChangeRow,
            ("customer_id", "changed_at"),
            (CUSTOMER, _plan("from_plan_id"), _plan("to_plan_id")),
        ),
        Target(
            "usage",
            tables.usage,
            rows.UsageRow,
            ("customer_id", "metric", "measured_at"),
            (CUSTOMER,),
        ),
        Target("tickets", tables.ticket, rows.TicketRow, ("ticket_id",), (CUSTOMER,)),
        Target(
            "events",
            tables.offer_event,
            rows.EventRow,
            ("event_id",),
            (CUSTOMER,),
            append_only=True,
        ),
    )
}

# `nextbest import` also accepts the table names of the schema.
ALIASES = {
    "customer": "customers",
    "item": "items",
    "purchase": "purchases",
    "plan": "plans",
    "subscription": "subscriptions",
    "plan_change": "plan-changes",
    "plan_changes": "plan-changes",
    "ticket": "tickets",
    "offer_event": "events",
}


def find_target(name: str) -> Target | None:
    """The target called `name` (route name or table name), or None."""
    return TARGETS.get(ALIASES.get(name, name))
