"""The marts equal the independent pandas oracle, on PostgreSQL (`dev`) and DuckDB.

Exact for counts, keys, scores, segments and timestamps; to the penny for money. On
small generated data with the edge cases (two overlapping extracts, cancellations,
adjustments, zero prices, duplicates, lines without customer), and on the real UCI file
when it is present; with deduplication on and off, both RFM populations and an explicit
RFM as-of date (each branch of customer_rfm: default as-of with either population, an
explicit as-of with either population).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import oracle
import pytest
from tests_support import GeneratedData, Warehouse, assert_marts_match_oracle

# Each branch of the SQL the vars select, in as few builds as cover them (each build costs
# about a minute on DuckDB): deduplication off (the published notebook figures) with the
# other RFM population and another wholesale threshold; an explicit as-of date with either
# population (the default population with the default as-of is `built_small`).
VARIANTS: list[dict[str, Any]] = [
    {
        "dedupe_overlapping_extracts": False,
        "rfm_population": "positive_lines",
        "wholesale_min_units_per_purchase": 150,
    },
    {"rfm_as_of": "2011-03-01", "rfm_population": "positive_lines"},
    {"rfm_as_of": "2010-12-05"},
]
# On the real file (both targets): deduplication off with the other population.
REAL_VARIANTS: list[dict[str, Any]] = [
    {"dedupe_overlapping_extracts": False, "rfm_population": "positive_lines"},
]


@functools.cache
def _oracle_cached(files: tuple[str, ...], variables_json: str) -> dict[str, Any]:
    variables = json.loads(variables_json)
    return oracle.compute_marts(
        [Path(f) for f in files],
        dedupe_overlapping_extracts=variables.get("dedupe_overlapping_extracts", True),
        rfm_population=variables.get("rfm_population", "all_orders"),
        rfm_as_of=variables.get("rfm_as_of"),
        wholesale_min_units_per_purchase=variables.get("wholesale_min_units_per_purchase", 400),
    )


def _oracle(files: list[Path], variables: dict[str, Any]) -> dict[str, Any]:
    """The oracle's marts (computed once per data and settings, shared by the targets)."""
    return _oracle_cached(tuple(str(f) for f in files), json.dumps(variables, sort_keys=True))


def test_generated_data_matches_oracle(built_small: Warehouse, small_data: GeneratedData) -> None:
    loads = built_small.query("select rows_loaded, extracts from raw.loads")
    assert loads.values.tolist() == [[small_data.rows, 2]], "two overlapping extracts"
    expected = _oracle([small_data.path], {})
    assert expected["_totals"]["rows_dropped"].iloc[0] > 0, "the overlap must drop rows"
    assert not oracle.check_invariants(expected)
    assert_marts_match_oracle(built_small, expected)


def test_vars_switch_the_definitions(warehouse: Warehouse, small_data: GeneratedData) -> None:
    """Deduplication off, the positive-lines population, an explicit as-of date: each
    built with its tests (schema, singular and unit tests run under the variant too)."""
    warehouse.load(small_data.path)
    for variables in VARIANTS:
        warehouse.dbt("build", "--full-refresh", vars=variables)
        expected = _oracle([small_data.path], variables)
        assert_marts_match_oracle(warehouse, expected)
        if variables == VARIANTS[0]:
            # an incremental run with the other deduplication setting would mix the
            # two definitions: it stops with a clear error and changes nothing
            refused = warehouse.dbt("run", check=False)
            assert refused.returncode != 0
            assert "dedupe_overlapping_extracts is True" in refused.stdout
            assert "--full-refresh" in refused.stdout
            assert_marts_match_oracle(warehouse, expected)


def test_two_files_take_each_invoice_from_the_latest(
    warehouse: Warehouse, small_data: GeneratedData, tmp_path: Path
) -> None:
    """A second file re-delivering invoices supersedes the first (across loads)."""
    second = tmp_path / "second.csv"
    lines = small_data.path.read_text().splitlines(keepends=True)
    # the last 40 % of the file again, as a later load
    second.write_text(lines[0] + "".join(lines[int(len(lines) * 0.6) :]))
    warehouse.load(small_data.path)
    warehouse.load(second)
    warehouse.dbt("build", vars={"line_tests_scope": "all"})
    expected = _oracle([small_data.path, second], {})
    assert_marts_match_oracle(warehouse, expected)
    dropped = warehouse.scalar(
        "select line_count from marts.data_quality where metric = 'overlap_lines_dropped'"
    )
    assert int(dropped) == int(expected["_totals"]["rows_dropped"].iloc[0]) > 0

    # Two faults that reach the warehouse without the loader, checked in two dbt calls
    # (each costs a start and a parse); the build above passed every test on clean data.
    # 1. a duplicated line of the first load: the line-level tests check the newest load
    #    by default, so only line_tests_from_load (what `lgs run` passes) finds it;
    # 2. a line dated 2099 (which the loader refuses) is caught by the staging test on
    #    plausible dates.
    first_load = int(warehouse.scalar("select min(load_id) from raw.loads"))
    warehouse.execute(
        "insert into intermediate.int_invoice_lines_deduplicated"
        " select * from intermediate.int_invoice_lines_deduplicated"
        f" where load_id = {first_load} and source_row = ("
        "select min(source_row) from intermediate.int_invoice_lines_deduplicated"
        f" where load_id = {first_load})"
    )
    newest = int(warehouse.scalar("select max(load_id) from raw.loads"))
    warehouse.execute(
        "insert into raw.invoice_lines select load_id, source_file, extract_no,"
        " source_row + 1000000, invoice_no, stock_code, description, quantity,"
        " cast('2099-12-01 10:00:00' as timestamp), unit_price, customer_id, country"
        f" from raw.invoice_lines where load_id = {newest} and source_row = 1"
    )
    lines = ("--select", "int_invoice_lines_deduplicated,test_type:data")
    assert warehouse.dbt("test", *lines, check=False).returncode == 0
    staging = ("stg_retail__invoice_lines,test_type:data",)
    widened = warehouse.dbt(
        "test", *lines, *staging, vars={"line_tests_from_load": first_load}, check=False
    )
    assert widened.returncode != 0
    # the duplicate also breaks the two reconciliations of the lines (multi-parent tests
    # that the selection of the lines' model includes)
    assert _failures(widened.stdout) == {
        "invoice_dates_are_plausible": 1,
        "unique_combination_of_columns_int_invoice_lines_deduplicated_load_id__source_row__True": 1,
        "int_months_aggregated_reconcile_with_lines": 1,
        "invoices_reconcile_with_lines": 1,
    }, widened.stdout


def _failures(output: str) -> dict[str, int]:
    """The failed tests of a dbt output and the rows each found (`N of M FAIL k name`)."""
    return {name: int(rows) for rows, name in re.findall(r"\d+ of \d+ FAIL (\d+) (\S+)", output)}


@pytest.mark.real
@pytest.mark.slow
def test_real_file_matches_oracle(warehouse: Warehouse, real_ii: Path) -> None:
    result = warehouse.load(real_ii)
    assert result.rows_loaded == 1_067_370
    warehouse.dbt("build")
    expected = _oracle([real_ii], {})
    assert int(expected["_totals"]["rows_dropped"].iloc[0]) == 22_523
    assert_marts_match_oracle(warehouse, expected)
    dropped = warehouse.scalar(
        "select line_count from marts.data_quality where metric = 'overlap_lines_dropped'"
    )
    assert int(dropped) == 22_523
    for variables in REAL_VARIANTS:
        warehouse.dbt("run", "--full-refresh", vars=variables)
        expected = _oracle([real_ii], variables)
        assert_marts_match_oracle(warehouse, expected)
