"""Benchmark of .xlsx input: which reader, and ``webex-bulk validate`` on a workbook vs the CSV.

Writes the benchmark's mixed tenant rows as workbooks with openpyxl (it writes inline strings:
three XML elements a cell), reads every row with openpyxl (read-only), python-calamine and
webex-bulk's own streaming reader, then runs ``webex-bulk validate`` on the workbook and on the
same rows as CSV. Each measurement is a subprocess: wall time and peak RSS. Prints a table;
writes JSON.

    python scripts/bench_xlsx.py [--rows 50000] [--small 10000] [--json PATH]

Targets: validate at least 10k rows/s; peak RSS at --rows at most 1.5× the one at --small.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_validate import COLUMNS, Tenant, command

ROOT = Path(__file__).resolve().parent.parent

# Runs the command, then prints its wall time, CPU time and peak RSS (children only). CPU time
# says what the code costs when the machine is shared; wall time what a person waits.
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"exit": code, "seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "peak_rss_kb": usage.ru_maxrss}))
"""

# Each reader reads every row of the first sheet and does nothing else with it.
READERS = {
    "openpyxl read-only": """
import sys
from openpyxl import load_workbook
book = load_workbook(sys.argv[1], read_only=True, data_only=True)
for row in book.worksheets[0].iter_rows(values_only=True):
    pass
book.close()
""",
    "python-calamine": """
import sys
from python_calamine import CalamineWorkbook
for row in CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0).iter_rows():
    pass
""",
    "webex-bulk (quick reader)": """
import sys
from pathlib import Path
from webex_bulk.input.xlsx_source import open_workbook
with open_workbook(Path(sys.argv[1]), None) as sheet:
    for record in sheet.records():
        pass
""",
}


def rows_of(count: int) -> list[dict[str, str]]:
    """About ``count`` mixed tenant rows (the validate benchmark's generator)."""
    tenant = Tenant()
    found: list[dict[str, str]] = []
    site = 0
    while len(found) < count:
        users = min(700, max(1, int((count - len(found)) / 1.32)))
        found.extend(tenant.location_rows(site) + tenant.site_rows(site, users))
        site += 1
    return found[:count]


def write_workbook(path: Path, rows: list[dict[str, str]]) -> None:
    """The rows as a one-sheet workbook, text cells, empty cells left out."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Tenant"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append([row.get(column) or None for column in COLUMNS])
    book.save(path)


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    """The same rows as a CSV file."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        table = csv.DictWriter(handle, COLUMNS, restval="")
        table.writeheader()
        table.writerows(rows)


def measure(argv: list[str]) -> dict[str, float]:
    """Run a command in a fresh wrapper; its exit code, wall time and peak RSS."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout)
    if result["exit"] not in (0, 3):
        raise SystemExit(f"{' '.join(argv[:3])}… failed with exit {result['exit']}")
    return result


def figures(count: int, run: dict[str, float]) -> dict[str, float]:
    """Rows per second and peak RSS of one measurement."""
    return {
        "seconds": round(run["seconds"], 2),
        "cpu_seconds": round(run["cpu_seconds"], 2),
        "rows_per_second": round(count / run["seconds"]),
        "rows_per_cpu_second": round(count / run["cpu_seconds"]),
        "peak_rss_mb": round(run["peak_rss_kb"] / 1024, 1),
    }


def main() -> None:
    """Generate, measure, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--json", type=Path, default=ROOT / "bench/results/xlsx.json")
    args = parser.parse_args()
    readers = {
        name: code
        for name, code in READERS.items()
        if name.startswith("webex") or importlib.util.find_spec(name.split()[0].replace("-", "_"))
    }
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, size in (("small", args.small), ("large", args.rows)):
            rows = rows_of(size)
            book, text = Path(tmp) / f"tenant-{size}.xlsx", Path(tmp) / f"tenant-{size}.csv"
            write_workbook(book, rows)
            write_csv(text, rows)
            out = Path(tmp) / f"out-{size}"
            runs = {
                f"read: {name}": measure([sys.executable, "-c", code, str(book)])
                for name, code in readers.items()
            }
            for kind, path in (("xlsx", book), ("csv", text)):
                runs[f"validate {kind}"] = measure(
                    [*command(), "validate", str(path), "--out", str(out / kind)]
                )
            results[label] = {name: figures(len(rows), run) for name, run in runs.items()}
            results[label]["file"] = {"rows": len(rows), "xlsx_bytes": book.stat().st_size}
    small, large = results["small"], results["large"]
    ratios = {
        name: round(large[name]["peak_rss_mb"] / small[name]["peak_rss_mb"], 2)
        for name in large
        if name != "file"
    }
    validate = large["validate xlsx"]
    summary = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "runs": results,
        "rss_ratio_large_to_small": ratios,
        "targets": {"rows_per_second": 10_000, "rss_ratio": 1.5},
        "met": {
            "rows_per_second": validate["rows_per_second"] >= 10_000,
            "rows_per_cpu_second": validate["rows_per_cpu_second"] >= 10_000,
            "rss_ratio": ratios["validate xlsx"] <= 1.5,
        },
    }
    rows_small, rows_large = small["file"]["rows"], large["file"]["rows"]
    print(f"{'':<26}{rows_small:>8} rows{'':<22}{rows_large:>8} rows")
    heads = f"{'rows/s':>8}{'rows/cpu-s':>11}{'RSS MB':>8}"
    print(f"{'':<26}{heads}{'':<3}{heads}{'RSS ×':>7}")
    for name in ratios:
        cells = [
            f"{run[name]['rows_per_second']:>8}{run[name]['rows_per_cpu_second']:>11}"
            f"{run[name]['peak_rss_mb']:>8.1f}"
            for run in (small, large)
        ]
        print(f"{name:<26}{cells[0]}{'':<3}{cells[1]}{ratios[name]:>7.2f}")
    print(
        f"validate xlsx: {validate['rows_per_second']} rows/s, "
        f"{validate['rows_per_cpu_second']} rows per CPU second (target ≥ 10000); peak RSS "
        f"{ratios['validate xlsx']:.2f}× from {rows_small} to {rows_large} rows (target ≤ 1.5×)"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
