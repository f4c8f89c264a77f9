"""`lgs`: the command line of the London Gift Shop analytics project.

    lgs warehouse start|stop|status|url   the warehouse (`dev` = embedded PostgreSQL)
    lgs load FILE...                      invoice files into the raw layer
    lgs generate --rows N --seed S --out FILE   realistic synthetic invoices
    lgs run                               everything `make run` does
    lgs charts | report | bench           outputs read from the marts

Every command takes `--target dev|postgres|duckdb` (default `dev`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from lgs import settings
from lgs.errors import LgsError


def _add_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        choices=settings.TARGETS,
        default="dev",
        help="warehouse: dev (embedded PostgreSQL, default), postgres (yours, PG* variables), "
        "duckdb",
    )


def cmd_warehouse(args: argparse.Namespace) -> int:
    from lgs import warehouse

    return warehouse.command(args.action, args.target, port=args.port)


def cmd_load(args: argparse.Namespace) -> int:
    from lgs import warehouse
    from lgs.load import load_file

    if args.target == "dev":
        warehouse.ensure_running()
    for file in args.files:
        result = load_file(file, args.target, replace=args.replace, max_rejects=args.max_rejects)
        print(result.summary())
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from lgs.generate import generate

    result = generate(
        args.rows,
        args.seed,
        Path(args.out),
        start=args.start,
        end=args.end,
        extracts=args.extracts,
        first_invoice_no=args.first_invoice_no,
        customers=args.customers,
        progress=sys.stderr.isatty(),
    )
    print(
        f"{result.path}: {result.rows:,} rows, {result.invoices:,} invoices, "
        f"{result.customers:,} customers, {result.extracts} extract(s) in {result.seconds:.1f} s"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from lgs import run

    return run.run(data=args.data, target=args.target)


def cmd_lint(args: argparse.Namespace) -> int:
    """sqlfluff (dbt templater) over the SQL, compiled against a throw-away DuckDB file."""
    import subprocess
    import tempfile

    from lgs.dbt import environment

    with tempfile.TemporaryDirectory(prefix="lgs-lint-") as scratch:
        env = environment("duckdb")
        env["LGS_DUCKDB_PATH"] = str(Path(scratch) / "lint.duckdb")
        env["DBT_TARGET_PATH"] = str(Path(scratch) / "target")
        env["DBT_LOG_PATH"] = str(Path(scratch) / "logs")
        sqlfluff = Path(sys.executable).with_name("sqlfluff")
        paths = [p for p in args.paths if (settings.project_dir() / p).exists()]
        result = subprocess.run(
            [str(sqlfluff), "lint", *paths],
            cwd=settings.project_dir(),
            env=env,
            check=False,
        )
    return result.returncode


def _module_arguments(module: str, parser: argparse.ArgumentParser) -> None:
    """Let a command's module add its own options (`add_arguments(parser)`), if it exists."""
    import importlib
    import importlib.util

    if importlib.util.find_spec(f"lgs.{module}") is None:
        return
    add = getattr(importlib.import_module(f"lgs.{module}"), "add_arguments", None)
    if add is not None:
        add(parser)


def _lazy(module: str) -> Callable[[argparse.Namespace], int]:
    def call(args: argparse.Namespace) -> int:
        import importlib

        return int(importlib.import_module(f"lgs.{module}").command(args))

    return call


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lgs", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    wh = sub.add_parser("warehouse", help="start, stop or describe the warehouse")
    wh.add_argument("action", choices=["start", "stop", "status", "url"])
    wh.add_argument(
        "--port",
        type=int,
        metavar="N",
        help="start the embedded PostgreSQL on port N for this command (default LGS_PG_PORT, "
        "else 54329). dbt and later lgs commands read LGS_PG_PORT: `export LGS_PG_PORT=N` to "
        "keep using a server started with --port N (the command says so); status and url "
        "show the port the server really runs on",
    )
    _add_target(wh)
    wh.set_defaults(func=cmd_warehouse)

    ld = sub.add_parser(
        "load", help="load invoice files (UCI CSV/xlsx, older layout, pg_dump of retail)"
    )
    ld.add_argument("files", nargs="+", metavar="FILE")
    ld.add_argument("--replace", action="store_true", help="reload a file that was already loaded")
    ld.add_argument(
        "--max-rejects",
        type=int,
        default=0,
        metavar="N",
        help="accept a file with up to N unreadable rows, kept in raw.rejected_lines "
        "(default 0: refuse the file)",
    )
    _add_target(ld)
    ld.set_defaults(func=cmd_load)

    gen = sub.add_parser(
        "generate", help="write a realistic synthetic invoice file (II CSV layout)"
    )
    gen.add_argument("--rows", type=int, default=1_067_370)
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--out", required=True, help="output file (.csv or .csv.gz)")
    gen.add_argument("--start", default="2009-12-01", help="first day (default 2009-12-01)")
    gen.add_argument(
        "--end", default="2011-12-09 12:50", help="last instant (default 2011-12-09 12:50)"
    )
    gen.add_argument(
        "--extracts", type=int, default=2, help="overlapping extracts in the file (default 2)"
    )
    gen.add_argument("--first-invoice-no", type=int, default=489434)
    gen.add_argument(
        "--customers", type=int, default=None, help="customer pool size (default: scales with rows)"
    )
    _add_target(gen)
    gen.set_defaults(func=cmd_generate)

    rn = sub.add_parser(
        "run", help="everything `make run` does: warehouse, load, dbt build, charts, report"
    )
    rn.add_argument(
        "--data", default=None, help="a file or folder to load (default: data/, else generated)"
    )
    _add_target(rn)
    rn.set_defaults(func=cmd_run)

    lint = sub.add_parser("lint", help="sqlfluff over the models, tests, macros and analyses")
    lint.add_argument("paths", nargs="*", default=["models", "tests", "analyses"])
    lint.set_defaults(func=cmd_lint)

    for name, text in (
        ("charts", "draw the PNG charts from the marts"),
        ("report", "write the self-contained HTML report from the marts"),
        ("docs", "generate the dbt docs (and a single-file page) and serve them on 127.0.0.1"),
        ("bench", "measure load, build and refresh times against the pandas way"),
    ):
        extra = sub.add_parser(name, help=text)
        _add_target(extra)
        _module_arguments(name, extra)
        extra.set_defaults(func=_lazy(name))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except LgsError as exc:
        print(f"lgs: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except ValueError as exc:  # settings from the environment
        print(f"lgs: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lgs: interrupted; nothing was changed", file=sys.stderr)
        return 130


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, default=str))


if __name__ == "__main__":
    sys.exit(main())
