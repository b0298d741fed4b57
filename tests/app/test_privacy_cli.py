"""`nextbest customers export|erase ID`: the privacy requests from the command line."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.db.engine import make_engine
from app.ingest.importer import import_records
from app.ingest.targets import TARGETS
from app.serving.erasure import STAMP

runner = CliRunner()


def nextbest(database_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["--database-url", database_url, *args])
    return result.exit_code, result.output


def test_export_then_erase_from_the_command_line(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEXTBEST_MODEL_DIR", str(tmp_path / "models"))
    (tmp_path / "models").mkdir()  # where servers follow the erasures
    engine = make_engine(database_url)
    import_records(engine, TARGETS["customers"], [{"customer_id": "c1", "country": "FR"}])
    import_records(engine, TARGETS["items"], [{"item_id": "i1", "price": 3}])
    line = {"order_id": "o1", "customer_id": "c1", "item_id": "i1", "unit_price": 3}
    line["purchased_at"] = "2026-11-01T00:00:00Z"
    assert import_records(engine, TARGETS["purchases"], [line]).accepted == 1
    engine.dispose()

    code, output = nextbest(database_url, "customers", "export", "c1")
    assert code == 0, output
    exported = json.loads(output)
    assert exported["customer"]["country"] == "FR" and exported["model"] is None
    assert [p["item_id"] for p in exported["tables"]["purchase"]] == ["i1"]

    code, output = nextbest(database_url, "customers", "erase", "c1")
    assert code == 0 and "purchase 1" in output and "customer 1" in output, output
    assert (tmp_path / "models" / STAMP).is_file()  # running servers are told
    assert nextbest(database_url, "customers", "erase", "c1")[0] == 1
    assert nextbest(database_url, "customers", "export", "c1")[0] == 1
