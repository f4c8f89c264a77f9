"""`lgs bench` (`make bench`): how the pipeline behaves as the data grows, measured.

Every figure comes from the same run on this machine, for 1x (the real UCI file when
it is present, else 1,067,370 generated rows), 10x and, with `--with-100x`, 100x
generated rows:

- load time and rows per second into each target;
- full `dbt build --full-refresh` (models and tests) and its peak memory (dbt and, for
  PostgreSQL, the server processes);
- incremental refresh after appending one new day of invoices (about 2,000 lines):
  `dbt build` (models and tests) and `dbt run` (models only);
- the pandas way on the same file: the test suite's pandas computation of every mart
  (`scripts/tests/oracle.py`, `read_csv` + `groupby` + `qcut`, as the notebooks did) in
  a child process, its time and peak memory (capped, so that 100x cannot take the
  machine down);
- ratios: full build / pandas, incremental / full, 10x / 1x.

dbt's own start-up (reading the project, connecting) is part of every dbt figure; the
`dbt elapsed` column is dbt's own `run_results.json` time without it.

Results are printed as a table and written as JSON (`<output>/bench.json`). The bench
uses its own database (`lgs_bench`) and DuckDB file (`<state>/bench/`), never the
warehouse `make run` built.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

from lgs import embedded, settings, targets
from lgs.dbt import dbt_executable, environment
from lgs.errors import LgsError

BASE_ROWS = 1_067_370
DAY_ROWS = 2_000
BENCH_DATABASE = "lgs_bench"
PANDAS_MEMORY_CAP = 16 * 1024**3  # the pandas way gets 16 GB of this machine's 24
PANDAS_TIMEOUT = 45 * 60


@dataclass
class Step:
    seconds: float
    peak_mb: float | None = None
    dbt_elapsed: float | None = None
    note: str = ""


@dataclass
class Result:
    scale: int
    target: str
    rows: int
    data: str
    load: Step | None = None
    full_build: Step | None = None
    charts_report: Step | None = None
    day_load: Step | None = None
    incremental_build: Step | None = None
    incremental_run: Step | None = None
    full_run: Step | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# --- measuring ---------------------------------------------------------------------------------


class PeakMemory:
    """Samples the resident memory of process trees (proportional set size where the
    kernel offers it, so PostgreSQL's shared buffers are not counted once per backend)."""

    def __init__(self, roots: list[int], interval: float = 0.25) -> None:
        self.roots = roots
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            self._stop.wait(self.interval)

    def sample(self) -> int:
        total = 0
        for root in self.roots:
            try:
                proc = psutil.Process(root)
                procs = [proc, *proc.children(recursive=True)]
            except psutil.Error:
                continue
            for one in procs:
                try:
                    info = one.memory_full_info()
                    total += getattr(info, "pss", 0) or info.rss
                except psutil.Error:
                    continue
        return total


def _server_pids(target: str) -> list[int]:
    if target != "dev":
        return []
    state = embedded.status()
    return [state.pid] if state.running and state.pid else []


def run_dbt(args: list[str], target: str, env: dict[str, str]) -> Step:
    """Run dbt, measuring wall time, peak memory and dbt's own elapsed time."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [dbt_executable(), *args, "--target", target],
        cwd=settings.project_dir(),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    with PeakMemory([proc.pid, *_server_pids(target)]) as memory:
        output, _ = proc.communicate()
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        tail = "\n".join(output.splitlines()[-30:])
        raise LgsError(f"dbt {' '.join(args)} failed on {target} during the bench:\n{tail}")
    elapsed = None
    results = Path(env["DBT_TARGET_PATH"]) / "run_results.json"
    if results.exists():
        elapsed = float(json.loads(results.read_text()).get("elapsed_time", 0.0))
    return Step(seconds, memory.peak / 1024**2, elapsed)


def run_pandas(path: Path) -> Step:
    """The pandas way on `path`, in a child process with a memory cap and a timeout."""
    # the oracle and its lifecycle half (oracle_lifecycle.py) live side by side
    folder = settings.project_dir() / "scripts" / "tests"
    code = (
        "import resource, sys, time\n"
        f"sys.path.insert(0, {str(folder)!r})\n"
        "import oracle\n"
        "t = time.monotonic()\n"
        f"marts = oracle.compute_marts([{str(path)!r}])\n"
        "print(time.monotonic() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (PANDAS_MEMORY_CAP, PANDAS_MEMORY_CAP))

    started = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=PANDAS_TIMEOUT,
            preexec_fn=cap,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Step(PANDAS_TIMEOUT, None, None, f"did not finish in {PANDAS_TIMEOUT // 60} min")
    seconds = time.monotonic() - started
    if result.returncode != 0:
        memory_error = "MemoryError" in result.stderr or result.returncode < 0
        cap_gb = PANDAS_MEMORY_CAP // 1024**3
        note = f"out of memory (capped at {cap_gb} GB)" if memory_error else "failed"
        return Step(seconds, cap_gb * 1024.0 if memory_error else None, None, note)
    compute_seconds, maxrss_kb = result.stdout.split()
    return Step(seconds, int(maxrss_kb) / 1024, float(compute_seconds))


# --- data ----------------------------------------------------------------------------------------


def _real_file() -> Path | None:
    folder = Path(
        os.environ.get("LGS_REAL_DATA_DIR") or settings.project_dir().parent / "shared" / "data"
    )
    path = folder / "online_retail_II.csv.gz"
    return path if path.exists() else None


def _data_file(scale: int, rows: int, folder: Path, use_real: bool) -> tuple[Path, int, str, int]:
    """(file, rows, description, next invoice number) for one scale."""
    from lgs.generate import generate

    real = _real_file() if use_real and scale == 1 else None
    if real is not None:
        return real, BASE_ROWS, "real UCI II CSV", 581_588
    path = folder / f"generated_{rows * scale}_seed42.csv.gz"
    meta = path.with_suffix(".json")
    if not path.exists() or not meta.exists():
        print(f"  generating {rows * scale:,} rows for {scale}x ...", flush=True)
        result = generate(rows * scale, 42, path)
        meta.write_text(json.dumps({"last_invoice_no": result.last_invoice_no}))
    last = int(json.loads(meta.read_text())["last_invoice_no"])
    return path, rows * scale, f"{rows * scale:,} generated rows", last + 1


def _day_files(folder: Path, first_invoice_no: int) -> list[Path]:
    """Two days after the data ends (2011-12-09): one for build, one for run."""
    from lgs.generate import generate

    files = []
    invoice = first_invoice_no
    for day in ("2011-12-10", "2011-12-11"):
        path = folder / f"day_{day}_{invoice}.csv"
        result = generate(
            DAY_ROWS, 7, path, start=day, end=f"{day} 18:00", extracts=1, first_invoice_no=invoice
        )
        invoice = result.last_invoice_no + 1
        files.append(path)
    return files


# --- one target at one scale ---------------------------------------------------------


def _fresh_target(target: str, folder: Path) -> dict[str, str]:
    """Environment overrides pointing `target` at an empty bench database."""
    if target == "duckdb":
        path = folder / "bench.duckdb"
        for stale in folder.glob("bench.duckdb*"):
            stale.unlink()
        return {"LGS_DUCKDB_PATH": str(path)}
    if target == "dev":
        embedded.start()
    with targets.connection(target) as conn:
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute(f'drop database if exists "{BENCH_DATABASE}" with (force)')
        cur.execute(f'create database "{BENCH_DATABASE}"')
    return (
        {"LGS_PG_DATABASE": BENCH_DATABASE} if target == "dev" else {"PGDATABASE": BENCH_DATABASE}
    )


def _charts_and_report(target: str, out: Path) -> Step:
    """`lgs charts` and `lgs report` from scratch, in one process as `make run` does."""
    import shutil

    from lgs import charts, report

    shutil.rmtree(out, ignore_errors=True)
    with settings.overridden({"LGS_OUTPUT_DIR": str(out)}):
        started = time.monotonic()
        charts.render(target)
        report.render(target)
        return Step(time.monotonic() - started)


def bench_one(
    scale: int, target: str, data: Path, rows: int, label: str, days: list[Path], folder: Path
) -> Result:
    from lgs.load import load_file

    result = Result(scale, target, rows, label)
    overrides = _fresh_target(target, folder)
    with settings.overridden(overrides):
        env = environment(target)
        env["DBT_TARGET_PATH"] = str(folder / f"dbt-target-{target}")
        env["DBT_LOG_PATH"] = str(folder / f"dbt-logs-{target}")
        started = time.monotonic()
        loaded = load_file(data, target, progress=False)
        result.load = Step(time.monotonic() - started)
        result.extra["rows_per_second"] = loaded.rows_loaded / result.load.seconds
        print(
            f"  {target} {scale}x: loaded {loaded.rows_loaded:,} rows "
            f"in {result.load.seconds:.1f} s",
            flush=True,
        )
        result.full_build = run_dbt(["build", "--full-refresh"], target, env)
        print(f"  {target} {scale}x: full build {result.full_build.seconds:.1f} s", flush=True)
        result.charts_report = _charts_and_report(target, folder / f"outputs-{target}-{scale}x")
        started = time.monotonic()
        day = load_file(days[0], target, progress=False)
        result.day_load = Step(time.monotonic() - started)
        result.extra["day_rows"] = day.rows_loaded
        result.incremental_build = run_dbt(["build"], target, env)
        load_file(days[1], target, progress=False)
        result.incremental_run = run_dbt(["run"], target, env)
        result.full_run = run_dbt(["run", "--full-refresh"], target, env)
        print(
            f"  {target} {scale}x: incremental build {result.incremental_build.seconds:.1f} s, "
            f"run {result.incremental_run.seconds:.1f} s; full run {result.full_run.seconds:.1f} s",
            flush=True,
        )
    return result


# --- the whole bench --------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgres": embedded.server_version(),
        "duckdb": __import__("duckdb").__version__,
        "dbt": subprocess.run(
            [dbt_executable(), "--version"], capture_output=True, text=True, check=False
        ).stdout.splitlines()[1:2],
    }


def bench(
    scales: list[int],
    target_names: list[str],
    *,
    rows: int = BASE_ROWS,
    use_real: bool = True,
    out: Path | None = None,
) -> dict[str, Any]:
    folder = settings.state_dir() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    pandas: dict[int, Step] = {}
    for scale in scales:
        data, n_rows, label, next_invoice = _data_file(scale, rows, folder, use_real)
        days = _day_files(folder, next_invoice)
        print(f"{scale}x: {label} ({data.name})", flush=True)
        names = [t for t in target_names if scale < 100 or t == "duckdb"]
        for target in names:
            results.append(bench_one(scale, target, data, n_rows, label, days, folder))
        print(f"  pandas {scale}x ...", flush=True)
        pandas[scale] = run_pandas(data)
        print(f"  pandas {scale}x: {pandas[scale].seconds:.1f} s {pandas[scale].note}", flush=True)
    report = {
        "machine": machine(),
        "results": [asdict(r) for r in results],
        "pandas": {str(k): asdict(v) for k, v in pandas.items()},
        "ratios": ratios(results, pandas),
    }
    out = out or settings.output_dir() / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print()
    print(table(results, pandas, report["ratios"]))
    print(f"\nwritten to {out}")
    return report


def ratios(results: list[Result], pandas: dict[int, Step]) -> list[dict[str, Any]]:
    rows = []
    by_key = {(r.scale, r.target): r for r in results}
    for r in results:
        assert r.full_build and r.incremental_build and r.incremental_run and r.full_run
        entry: dict[str, Any] = {
            "scale": r.scale,
            "target": r.target,
            "full_build_over_pandas": (
                r.full_build.seconds / pandas[r.scale].seconds if not pandas[r.scale].note else None
            ),
            "incremental_build_over_full_build": r.incremental_build.seconds / r.full_build.seconds,
            "incremental_run_over_full_run": r.incremental_run.seconds / r.full_run.seconds,
        }
        base = by_key.get((1, r.target))
        if base is not None and r.scale > 1 and base.full_build and base.incremental_run:
            entry[f"full_build_{r.scale}x_over_1x"] = r.full_build.seconds / base.full_build.seconds
            entry[f"incremental_run_{r.scale}x_over_1x"] = (
                r.incremental_run.seconds / base.incremental_run.seconds
            )
        rows.append(entry)
    return rows


def _fmt(step: Step | None, memory: bool = False) -> str:
    if step is None:
        return "-"
    text = f"{step.seconds:,.1f} s"
    if memory and step.peak_mb is not None:
        text += f" / {step.peak_mb:,.0f} MB"
    if step.note:
        text += f" ({step.note})"
    return text


def table(results: list[Result], pandas: dict[int, Step], ratio_rows: list[dict[str, Any]]) -> str:
    header = (
        "| scale | target | rows | load (rows/s) | full build (peak mem) | dbt elapsed | "
        "charts+report | +1 day: load | incr. build | incr. run | full run | pandas (peak mem) |"
    )
    lines = [header, "|" + "---|" * 12]
    for r in results:
        lines.append(
            f"| {r.scale}x | {r.target} | {r.rows:,} "
            f"| {_fmt(r.load)} ({r.extra['rows_per_second']:,.0f}) "
            f"| {_fmt(r.full_build, True)} "
            f"| {(r.full_build.dbt_elapsed or 0) if r.full_build else 0:,.1f} s "
            f"| {_fmt(r.charts_report)} "
            f"| {_fmt(r.day_load)} | {_fmt(r.incremental_build)} | {_fmt(r.incremental_run)} "
            f"| {_fmt(r.full_run)} | {_fmt(pandas.get(r.scale), True)} |"
        )
    lines.append("")
    lines.append(
        "| scale | target | full build / pandas | incr. build / full build "
        "| incr. run / full run | vs 1x |"
    )
    lines.append("|---|---|---|---|---|---|")
    for q in ratio_rows:
        scale_ratios = ", ".join(
            f"{k.removesuffix('_over_1x').replace('_', ' ')} x{v:.1f}"
            for k, v in q.items()
            if k.endswith("_over_1x")
        )
        full_vs_pandas = q["full_build_over_pandas"]
        lines.append(
            f"| {q['scale']}x | {q['target']} | "
            f"{'-' if full_vs_pandas is None else f'{full_vs_pandas:.2f}'} | "
            f"{q['incremental_build_over_full_build']:.0%} | "
            f"{q['incremental_run_over_full_run']:.0%} | "
            f"{scale_ratios or '-'} |"
        )
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scales", default="1,10", help="comma-separated data scales (default 1,10)"
    )
    parser.add_argument(
        "--with-100x", action="store_true", help="also 100x (about 107M rows, duckdb only)"
    )
    parser.add_argument(
        "--targets", default="dev,duckdb", help="comma-separated targets (default dev,duckdb)"
    )
    parser.add_argument("--rows", type=int, default=BASE_ROWS, help="rows of generated 1x data")
    parser.add_argument(
        "--no-real", action="store_true", help="generate 1x even when the real file exists"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON output (default <output>/bench.json)"
    )


def command(args: argparse.Namespace) -> int:
    scales = sorted(
        {int(s) for s in args.scales.split(",") if s.strip()} | ({100} if args.with_100x else set())
    )
    names = [t.strip() for t in args.targets.split(",") if t.strip()]
    for name in names:
        targets.check_target(name)
    bench(scales, names, rows=args.rows, use_real=not args.no_real, out=args.out)
    return 0
