"""The `nextbest` command as a user runs it."""

import csv
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.auth.keys import KeyStore
from app.cli import IMPORT_ORDER, cli
from app.db import tables
from app.db.engine import make_engine
from app.demo.generate import generate
from app.settings import get_settings

runner = CliRunner()


def nextbest(database_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["--database-url", database_url, *args])
    return result.exit_code, result.output


def test_import_prints_a_report_and_writes_rejects(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,country\nc1,GB\n,FR\nc2,DE\n")
    rejects = tmp_path / "rejects.csv"
    code, output = nextbest(
        database_url, "import", "customers", str(path), "--rejects", str(rejects)
    )
    assert code == 0, output
    assert re.search(r"accepted\s+2\b", output) and re.search(r"rejected\s+1\b", output)
    with rejects.open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["line"], r["field"], r["raw"]) for r in rows] == [("3", "customer_id", ",FR")]


def test_unreadable_file_exits_1_and_changes_nothing(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    code, output = nextbest(database_url, "import", "customers", str(path))
    assert code == 1
    assert "empty" in output and "nothing was imported" in output
    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.import_run)).scalar() == 0
    engine.dispose()


def test_unknown_table_is_a_usage_error(database_url: str, tmp_path: Path) -> None:
    code, output = nextbest(database_url, "import", "orders", str(tmp_path / "x.csv"))
    assert code == 2
    assert "unknown table 'orders'" in output


def test_import_from_another_database(database_url: str, tmp_path: Path) -> None:
    shop = tmp_path / "shop.db"
    with sqlite3.connect(shop) as conn:
        conn.execute("CREATE TABLE clients (ref INTEGER, land TEXT)")
        conn.executemany("INSERT INTO clients VALUES (?, ?)", [(i, "GB") for i in range(5000)])
    query = "SELECT ref AS customer_id, land AS country FROM clients"
    code, output = nextbest(
        database_url, "import", "customers", "--from-sql", f"sqlite:///{shop}", query
    )
    assert code == 0, output
    assert "inserted 5,000" in output
    code, output = nextbest(
        database_url, "import", "customers", "--from-sql", f"sqlite:///{shop}", "SELECT nonsense"
    )
    assert code == 1 and "no such column" in output


def test_demo_data_writes_every_table(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["demo-data", "--out", str(tmp_path), "--customers", "50"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{t}.csv" for t in IMPORT_ORDER)


def test_demo_imports_into_its_own_sqlite_trains_and_prints_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("NEXTBEST_DATABASE_URL", "NEXTBEST_MODEL_DIR"):
        monkeypatch.setenv(variable, "")  # restored (removed) after the test, whatever demo sets
        monkeypatch.delenv(variable)
    get_settings.cache_clear()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["demo", "--no-serve", "--customers", "200", "--port", "8123"])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    imported = [line for line in result.output.splitlines() if "imported" in line]
    assert len(imported) == len(IMPORT_ORDER) + 1  # and the planted offer events
    assert all(line.endswith(" new, 0 rejected)") for line in imported), imported
    key = result.output.split("API key for the demo", 1)[1].splitlines()[1].strip()
    assert f"curl -s -H 'Authorization: Bearer {key}' 'http://127.0.0.1:8123/healthz'" in (
        result.output
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'nextbest-demo' / 'nextbest.db'}")
    found = KeyStore(engine).check(key)
    engine.dispose()
    assert found is not None and found.allows("admin")
    assert "/cross-sell?limit=5'" in result.output and "trained model" in result.output
    assert "/profile'" in result.output and "/v1/segments'" in result.output
    assert "Web console: http://127.0.0.1:8123/ui/" in result.output
    (model,) = [p for p in (tmp_path / "nextbest-demo" / "models").iterdir() if p.is_dir()]
    assert (model / "manifest.json").is_file()
    with sqlite3.connect(tmp_path / "nextbest-demo" / "nextbest.db") as conn:
        (customers,) = conn.execute("SELECT count(*) FROM customer").fetchone()
        (purchases,) = conn.execute("SELECT count(*) FROM purchase").fetchone()
    assert customers == 200 and purchases > 1000


def test_train_on_an_empty_database_says_what_is_missing(database_url: str, tmp_path: Path) -> None:
    code, output = nextbest(database_url, "train", "--model-dir", str(tmp_path / "models"))
    assert code == 1
    assert "no sale lines" in output and "import purchases" in output
    assert not (tmp_path / "models").exists()


def test_train_writes_an_artifact_and_evaluate_prints_the_table(
    database_url: str, tmp_path: Path
) -> None:
    files = generate(tmp_path / "data", customers=300, seed=5, as_of=date(2026, 3, 1))
    for table in ("customers", "items", "purchases"):
        assert nextbest(database_url, "import", table, str(files[table]))[0] == 0
    code, output = nextbest(
        database_url, "train", "--model-dir", str(tmp_path / "models"), "--holdout-days", "60"
    )
    assert code == 0, output
    (artifact,) = [p for p in (tmp_path / "models").iterdir() if p.is_dir()]
    manifest = json.loads((artifact / "manifest.json").read_text())
    assert manifest["version"] == artifact.name and manifest["version"] in output
    with (artifact / "model.npz").open("rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == manifest["sha256"]
    with files["purchases"].open() as f:
        sales = sum(1 for row in csv.DictReader(f) if row["kind"] == "sale")
    assert 0.9 * sales < manifest["data"]["purchase_lines"] <= sales  # returned lines drop
    assert manifest["parameters"]["factors"] == 64
    assert manifest["metrics"]["holdout_days"] == 60 and manifest["metrics"]["customers"] > 10
    assert 0 < manifest["metrics"]["NDCG@10"] < 1 and "NDCG@10" in output
    segments = manifest["segments"]  # as of the newest sale, not of the clock
    assert "2026-02-20" < segments["as_of"] < "2026-03-01"
    assert sum(segments["counts"].values()) == manifest["data"]["customers"]
    assert segments["counts"]["champions"] > 0 and "segments as of 2026-02-" in output
    code, output = nextbest(database_url, "evaluate", "--cutoff", "2026-01-01", "--json")
    assert code == 0, output
    report = json.loads(output)
    assert report["customers evaluated"] > 20
    assert list(report["results"])[-1] == "NextBest cross-sell"
    for metrics in report["results"].values():
        assert set(metrics) == {"HR@10", "Recall@10", "NDCG@10", "MAP@10", "coverage"}
        assert all(0 <= v <= 1 for v in metrics.values())


def test_the_import_help_names_every_target() -> None:
    from app.cli import TABLES
    from app.ingest.targets import TARGETS

    assert tuple(TARGETS) == TABLES


def test_train_as_a_process_prints_everything_and_exits_with_its_status(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """`main()` ends a successful training without the interpreter's teardown: the
    output must still arrive whole, and failures keep their exit status."""
    shutil.copy(sqlite_template, tmp_path / "nextbest.db")
    url = f"sqlite:///{tmp_path / 'nextbest.db'}"
    env = {**os.environ, "NEXTBEST_DATABASE_URL": url, "NEXTBEST_MODEL_DIR": str(tmp_path / "m")}
    command = [sys.executable, "-m", "app.cli", "train"]
    empty = subprocess.run(command, env=env, capture_output=True, text=True)
    assert empty.returncode == 1 and "no sale lines" in empty.stderr
    files = generate(tmp_path / "data", customers=100, seed=5, as_of=date(2026, 3, 1))
    for table in ("customers", "items", "purchases"):
        assert nextbest(url, "import", table, str(files[table]))[0] == 0
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert " saved to " in lines[-2] and lines[-1].startswith("active")


def test_import_json_report_holds_the_refusals_and_their_reasons(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,country,created_at\nc1,GB,\n,FR,\nc2,DE,31/12/2020\n")
    code, output = nextbest(database_url, "import", "customers", str(path), "--json")
    assert code == 0, output
    report = json.loads(output)
    assert (report["submitted"], report["accepted"], report["rejected"]) == (3, 1, 2)
    assert sum(report["reject_reasons"].values()) == 2
    assert [(r["position"], r["field"]) for r in report["rejects"]] == [
        (3, "customer_id"),
        (4, "created_at"),
    ]


def test_init_db_says_whether_it_created_upgraded_or_found_the_schema(tmp_path: Path) -> None:
    from app.db.migrate import HEAD, downgrade

    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert nextbest(url, "init-db")[1].startswith(f"created the schema (revision {HEAD})")
    assert nextbest(url, "init-db")[1].startswith("the schema is already at the newest")
    downgrade(url, "0003")
    assert nextbest(url, "init-db")[1].startswith(
        f"upgraded the schema from revision 0003 to {HEAD}"
    )
