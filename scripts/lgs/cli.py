"""`lgs`: the command line of the London Gift Shop analytics project.

Every command is a click command registered on the `lgs` group below; each imports the
module that does its work when it runs, so `lgs --help` stays quick. Errors a user can
act on (`LgsError`) print one line `lgs: error: ...` and exit with their code (1; 2 for
refused input; 3 for an unreachable warehouse); Ctrl-C exits 130 saying nothing changed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from lgs import targets
from lgs.errors import LgsError
from lgs.targets import Target


def _target(ctx: click.Context, param: click.Parameter, value: str) -> Target:
    return targets.get(value)


target_option = click.option(
    "--target",
    type=click.Choice(targets.NAMES),
    default=targets.DEFAULT,
    show_default=True,
    callback=_target,
    help="the warehouse: " + "; ".join(f"{t.name}, {t.about}" for t in targets.TARGETS.values()),
)


def _print(lines: list[str]) -> int:
    """A command's lines for the user (where its outputs are), flushed at once."""
    for line in lines:
        print(line, flush=True)
    return 0


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def lgs() -> None:
    """The London Gift Shop analytics tool: warehouse, loader, generator, outputs.

    Every command that reads or writes a warehouse takes --target (default dev).
    """


@lgs.command()
@click.argument("action", type=click.Choice(["start", "stop", "status", "url"]))
@click.option(
    "--port",
    type=int,
    metavar="N",
    help="start the embedded PostgreSQL on port N for this command (default LGS_PG_PORT, "
    "see profiles.yml). dbt and later lgs commands read LGS_PG_PORT: `export LGS_PG_PORT=N` "
    "to keep using a server started with --port N (the command says so); status and url "
    "show the port the server really runs on",
)
@click.option(
    "--bi",
    is_flag=True,
    help="with url: what a BI tool needs (the BI role, where its password is, the schema "
    "it reads) instead of the owner's connection",
)
@click.option(
    "--show-password",
    is_flag=True,
    help="with url --bi: print the BI role's password itself (default: the file holding it)",
)
@target_option
def warehouse(action: str, port: int | None, bi: bool, show_password: bool, target: Target) -> int:
    """Start, stop or describe the warehouse (dev: the embedded PostgreSQL)."""
    from lgs import warehouse as module

    if (bi or show_password) and action != "url":
        raise click.UsageError("--bi and --show-password go with `url` only")
    if show_password and not bi:
        raise click.UsageError("--show-password goes with --bi (the superuser has no password)")
    return module.command(action, target, port=port, bi=bi, show_password=show_password)


@lgs.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--replace", is_flag=True, help="reload a file that was already loaded")
@click.option(
    "--max-rejects",
    type=int,
    default=0,
    metavar="N",
    help="accept a file with up to N unreadable rows, kept in raw.rejected_lines "
    "(default 0: refuse the file)",
)
@target_option
def load(files: tuple[str, ...], replace: bool, max_rejects: int, target: Target) -> int:
    """Load invoice files (UCI CSV/xlsx, the older layout, a pg_dump of retail)."""
    from lgs.load import load_file

    target.start()
    for file in files:
        print(load_file(file, target, replace=replace, max_rejects=max_rejects).summary())
    return 0


@lgs.command()
@click.option("--rows", type=int, default=1_067_370, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--out", required=True, help="output file (.csv or .csv.gz)")
@click.option("--start", default="2009-12-01", show_default=True, help="first day")
@click.option("--end", default="2011-12-09 12:50", show_default=True, help="last instant")
@click.option(
    "--extracts", type=int, default=2, show_default=True, help="overlapping extracts in the file"
)
@click.option("--first-invoice-no", type=int, default=489434, show_default=True)
@click.option(
    "--customers", type=int, default=None, help="customer pool (default: scales with rows)"
)
def generate(
    rows: int,
    seed: int,
    out: str,
    start: str,
    end: str,
    extracts: int,
    first_invoice_no: int,
    customers: int | None,
) -> int:
    """Write a realistic synthetic invoice file (II CSV layout)."""
    from lgs.generate import generate as write

    result = write(
        rows,
        seed,
        Path(out),
        start=start,
        end=end,
        extracts=extracts,
        first_invoice_no=first_invoice_no,
        customers=customers,
        progress=sys.stderr.isatty(),
    )
    print(
        f"{result.path}: {result.rows:,} rows, {result.invoices:,} invoices, "
        f"{result.customers:,} customers, {result.extracts} extract(s) in {result.seconds:.1f} s"
    )
    return 0


@lgs.command()
@click.option(
    "--data", default=None, help="a file or folder to load (default: data/, else generated)"
)
@target_option
def run(data: str | None, target: Target) -> int:
    """Everything `make run` does: warehouse, load, dbt build, charts, report."""
    from lgs import run as module

    return module.run(data=data, target=target)


@lgs.command()
@target_option
def publish(target: Target) -> int:
    """Publish the built marts for BI tools as one set (after a plain `dbt build`)."""
    from lgs import publish as module

    return _print([module.publish(target).summary()])


@lgs.command()
@click.argument("paths", nargs=-1)
def lint(paths: tuple[str, ...]) -> int:
    """sqlfluff over the models, tests, analyses and the loader's SQL."""
    from lgs import lint as module

    return module.lint(list(paths) or list(module.DEFAULT_PATHS))


@lgs.command()
@click.option("--out", metavar="DIR", default=None, help="folder for the PNG files")
@target_option
def charts(out: str | None, target: Target) -> int:
    """Draw the PNG charts from the marts (default <LGS_OUTPUT_DIR or output>/charts)."""
    from lgs import charts as module

    return _print(module.render(target, Path(out) if out else None))


@lgs.command()
@click.option("--out", metavar="FILE", default=None, help="the HTML file to write")
@target_option
def report(out: str | None, target: Target) -> int:
    """Write the self-contained HTML report (default <LGS_OUTPUT_DIR or output>/report.html)."""
    from lgs import report as module

    return _print(module.render(target, Path(out) if out else None))


@lgs.command()
@click.option("--port", type=int, default=8080, show_default=True, help="port on 127.0.0.1")
@click.option("--no-serve", is_flag=True, help="only generate the docs and the single page")
@target_option
def docs(port: int, no_serve: bool, target: Target) -> int:
    """Generate the dbt docs (and a single-file page) and serve them on 127.0.0.1."""
    from lgs import docs as module

    if not no_serve:
        module.check_port(port)
    _print(module.generate(target))
    if not no_serve:
        module.serve(target, port)
    return 0


@lgs.command()
@click.option("--scales", default="1,10", show_default=True, help="comma-separated data scales")
@click.option("--with-100x", is_flag=True, help="also 100x (about 107M rows, DuckDB only)")
@click.option(
    "--targets",
    "target_names",
    default="dev,duckdb",
    show_default=True,
    help="comma-separated targets",
)
@click.option("--rows", type=int, default=1_067_370, show_default=True, help="rows of 1x data")
@click.option("--no-real", is_flag=True, help="generate 1x even when the real file exists")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="JSON output")
def bench(
    scales: str, with_100x: bool, target_names: str, rows: int, no_real: bool, out: Path | None
) -> int:
    """Measure load, build and refresh times against the pandas way (output/bench.json)."""
    from lgs import bench as module

    chosen = {int(s) for s in scales.split(",") if s.strip()} | ({100} if with_100x else set())
    names = [targets.get(t.strip()) for t in target_names.split(",") if t.strip()]
    module.bench(sorted(chosen), names, rows=rows, use_real=not no_real, out=out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = lgs.main(args=argv, prog_name="lgs", standalone_mode=False)
    except click.ClickException as exc:  # a usage error: bad option, missing argument
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:  # click turns Ctrl-C into Abort
        print("lgs: interrupted; nothing was changed", file=sys.stderr)
        return 130
    except LgsError as exc:
        print(f"lgs: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except ValueError as exc:  # settings from the environment
        print(f"lgs: error: {exc}", file=sys.stderr)
        return 2
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
