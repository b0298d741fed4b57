"""Campaign lists for a CRM: who to contact about an upgrade or an item, as JSON or CSV."""

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.api.deps import AsOf, RegistryDep, seconds
from app.api.recommend import RESPONSES
from app.errors import ErrorResponse, NextBestError
from app.ingest.ids import ExternalId
from app.serving.answers import CampaignAnswer, CampaignTarget

router = APIRouter(prefix="/v1", tags=["campaigns"])

CSV_COLUMNS = (
    "rank",
    "customer_id",
    "offer_id",
    "probability",
    "value",
    "expected_value",
    "channel",
    "reason",
)
Id = Annotated[ExternalId | None, Query()]


class NotAcceptable(NextBestError):
    """The Accept header asks for a format the list is not made in."""

    status = 406
    code = "not_acceptable"


@router.get(
    "/campaigns/targets",
    operation_id="campaign_targets",
    response_model=CampaignAnswer,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "The list, as JSON or (Accept: text/csv) CSV",
        },
        404: {"model": ErrorResponse, "description": "Unknown plan or item"},
        406: {"model": ErrorResponse, "description": "Accept is neither JSON nor CSV"},
        **RESPONSES,
    },
)
def campaign_targets(
    request: Request,
    registry: RegistryDep,
    kind: Annotated[Literal["upgrade", "cross_sell"], Query(description="The offer")],
    plan: Annotated[Id, Query(description="upgrade: the plan to upgrade to (default any)")] = None,
    item: Annotated[Id, Query(description="cross_sell: the item to offer (required)")] = None,
    limit: Annotated[int, Query(ge=1, le=5000, description="How many customers")] = 200,
    as_of: AsOf = None,
) -> CampaignAnswer | Response:
    """The customers most worth contacting about one offer, by expected value, with
    the guardrails and the holdout applied as the offers route applies them.

    Send `Accept: text/csv` for a CSV file to import into a CRM. The guardrails are
    read from the database (in a thread: `def`). An upgrade list holds the customers
    `/upsell` answers `upgrade` (to `plan`) at the same moment; with `as_of`, the list
    is the one of that moment, from what was recorded up to it.
    """
    wants_csv = _wants_csv(request.headers.get("accept", ""))
    answer = registry.get().campaigns.targets(
        registry.engine, kind, plan, item, limit, seconds(as_of)
    )
    if wants_csv:
        name = f"{kind}-{plan or item or 'any'}.csv".replace("/", "_")
        return Response(
            _csv(answer["targets"]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return answer


def _wants_csv(accept: str) -> bool:
    """CSV when Accept names text/csv first among what is offered; JSON for JSON, */* or
    nothing; 406 for anything else (a malformed or unsupported Accept)."""
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()]
    for kind in kinds or ["*/*"]:
        if kind == "text/csv":
            return True
        if kind in ("application/json", "*/*", "application/*"):
            return False
    raise NotAcceptable(
        f"Accept {accept!r} is not one this list is made in: send application/json or text/csv"
    )


def _csv(rows: list[CampaignTarget]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
