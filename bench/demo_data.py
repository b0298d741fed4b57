"""Time of `nextbest demo-data` at several sizes (the issue asks for 100,000 customers in
well under a minute). Writes into a temporary directory and prints a Markdown table.

    python bench/demo_data.py
    python bench/demo_data.py --customers 10000 100000 200000
"""

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

from app.demo.generate import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    print(f"demo data generation, {os.cpu_count()} CPU cores\n")
    print("| customers | seconds | purchase lines | usage rows | MB written |")
    print("|---:|---:|---:|---:|---:|")
    for customers in args.customers:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            files = generate(Path(tmp), customers=customers, seed=7, as_of=date(2026, 11, 1))
            seconds = time.perf_counter() - start
            size = sum(p.stat().st_size for p in files.values()) / 1e6
            lines = {name: _rows(path) for name, path in files.items()}
        print(
            f"| {customers:,} | {seconds:.1f} | {lines['purchases']:,} | {lines['usage']:,} "
            f"| {size:,.0f} |"
        )


def _rows(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f) - 1


if __name__ == "__main__":
    main()
