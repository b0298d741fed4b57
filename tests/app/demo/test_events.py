"""The demo's planted offer events: valid, never shown to the holdout or to customers
who opted out, and earning something the KPIs can attribute."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.cli import IMPORT_ORDER
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.demo.events import offer_events
from app.demo.generate import generate
from app.ingest.importer import import_records, run_import
from app.ingest.sources import CsvSource
from app.ingest.targets import TARGETS
from app.reporting.kpis import Holdout, kpi_report, period_of
from models.holdout import in_holdout


def test_planted_events_import_cleanly_and_show_in_the_kpis(tmp_path: Path) -> None:
    files = generate(tmp_path / "data", customers=400, seed=3)
    events = offer_events(files, 0.1)
    opted_out = {
        line.split(",")[0]
        for line in files["customers"].read_text().splitlines()[1:]
        if ",true," in line
    }
    shown = {e["customer_id"] for e in events}
    assert shown and not shown & opted_out
    assert not any(in_holdout(c, 0.1) for c in shown)
    assert {e["event"] for e in events} == {"impression", "click", "accept", "dismiss"}
    assert offer_events(files, 0.1) == events  # seeded: the same every time
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    engine = make_engine(url)
    for table in IMPORT_ORDER:
        run_import(engine, TARGETS[table], CsvSource(files[table]))
    assert import_records(engine, TARGETS["events"], list(events)).rejected == 0
    now = datetime.now(UTC)
    period = period_of(now - timedelta(days=90), now, now)
    report = kpi_report(engine, period, "kind", Holdout(0.1, ""), 14)
    engine.dispose()
    offers = report["overall"]["offers"]
    assert offers["impressions"] > 0 and offers["attributed_purchases"] > 0
    assert offers["attributed_revenue"] > 0
    assert report["overall"]["outcomes"]["holdout_shown_offers"] == 0
    assert {g["group"] for g in report["groups"]} >= {"cross_sell", "upgrade"}
