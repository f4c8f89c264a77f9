"""The figures of the real file the generator draws from (`calibration.toml`), and the
invented words of product descriptions (`vocabulary.toml`), as typed constants.

Every table is documented in the TOML file; the names here are the same. Month keys
are month numbers (months since 1970-01), the unit the generator counts months in.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

_HERE = Path(__file__).parent
_TABLES: dict[str, Any] = tomllib.loads((_HERE / "calibration.toml").read_text(encoding="utf-8"))
_WORDS: dict[str, Any] = tomllib.loads((_HERE / "vocabulary.toml").read_text(encoding="utf-8"))


class Price(NamedTuple):
    """A price distribution: log-normal around ``median`` pounds (fixed when sigma is 0)."""

    median: float
    sigma: float


@dataclass(frozen=True)
class CumulativeTable:
    """Integers drawn from a cumulative table: share of values at most ``at[i]``."""

    at: tuple[int, ...]
    cumulative_share: tuple[float, ...]


@dataclass(frozen=True)
class FrequencyTable:
    """``top_share`` of the values are the keys of ``counts`` (weighted by them)."""

    top_share: float
    counts: dict[int, int]


@dataclass(frozen=True)
class NonProductLine:
    """A non-product line that is an invoice of its own (kind X, or its cancellation CS)."""

    code: str
    description: str
    weight: float  # among X invoices
    cancel_weight: float  # among CS invoices
    no_customer_share: float  # of X invoices
    cancel_no_customer_share: float  # of CS invoices
    price: Price
    max_quantity: int


@dataclass(frozen=True)
class ExtraLine:
    """The extra last line of an order (postage, carriage, ...)."""

    code: str
    description: str
    price: Price


def _minutes(text: str) -> int:
    return int(np.datetime64(text.replace(" ", "T"), "m").astype(np.int64))


def _month_number(key: str) -> int:
    year, month = (int(x) for x in key.split("-"))
    return (year - 1970) * 12 + month - 1


def _cumulative(name: str) -> CumulativeTable:
    t = _TABLES[name]
    return CumulativeTable(tuple(t["at"]), tuple(t["cumulative_share"]))


def _frequencies(t: dict[str, Any]) -> FrequencyTable:
    return FrequencyTable(t["top_share"], {int(k): v for k, v in t["counts"].items()})


def _non_product_line(t: dict[str, Any]) -> NonProductLine:
    return NonProductLine(
        t["code"],
        t["description"],
        t["weight"][0],
        t["weight"][1],
        t["no_customer_share"][0],
        t["no_customer_share"][1],
        Price(*t["price"]),
        t["max_quantity"],
    )


# --- the real file --------------------------------------------------------------------
REAL_ROWS: int = _TABLES["real_file"]["rows"]
REAL_CUSTOMERS: int = _TABLES["real_file"]["customers"]
REAL_START: str = _TABLES["real_file"]["start"]
REAL_END: str = _TABLES["real_file"]["end"]
REAL_SPAN_DAYS: float = (_minutes(REAL_END) - _minutes(REAL_START)) / 1440
REAL_OVERLAP_DAYS: int = _TABLES["real_file"]["overlap_days"]
PRODUCTS: int = _TABLES["shop"]["products"]
DCGS_PRODUCTS: int = _TABLES["shop"]["dcgs_products"]

# --- invoices -------------------------------------------------------------------------
MONTH_COLUMNS: tuple[str, ...] = tuple(_TABLES["months"]["columns"])
MONTHS: dict[int, tuple[float, ...]] = {
    _month_number(k): tuple(v) for k, v in _TABLES["months"].items() if k != "columns"
}
MEAN_LINES_PER_ORDER: float = _TABLES["mean_lines"]["order"]
MEAN_LINES_PER_DOTCOM_ORDER: float = _TABLES["mean_lines"]["dotcom_order"]
FIRST_HOUR: int = _TABLES["weekday_hours"]["first_hour"]
INVOICES_BY_WEEKDAY_HOUR: tuple[tuple[int, ...], ...] = tuple(
    tuple(day) for day in _TABLES["weekday_hours"]["invoices"]
)
LINES_PER_ORDER = _cumulative("lines_per_order")
LINES_PER_DOTCOM_ORDER = _cumulative("lines_per_dotcom_order")
LINES_PER_ORDER_CANCEL = FrequencyTable(
    1.0, {int(k): v for k, v in _TABLES["lines_per_order_cancel"].items()}
)

# --- cancellations --------------------------------------------------------------------
CANCEL_LAG_EDGES: tuple[int, ...] = tuple(_TABLES["cancel_lag"]["edges"])
CANCEL_LAG_SMALL: tuple[int, ...] = tuple(_TABLES["cancel_lag"]["small"])
CANCEL_LAG_LARGE: tuple[int, ...] = tuple(_TABLES["cancel_lag"]["large"])
CANCEL_LARGE_LINES: int = _TABLES["cancel_lag"]["large_lines"]

# --- lines ----------------------------------------------------------------------------
QUANTITY_BY_PRICE_BAND: tuple[FrequencyTable, ...] = tuple(
    _frequencies(t) for t in _TABLES["quantity_by_price_band"]
)
DOTCOM_QUANTITY = _frequencies(_TABLES["dotcom_quantity"])
BULK_FROM_QUANTITY: tuple[int, ...] = tuple(_TABLES["bulk_price"]["from_quantity"])
BULK_SHARE: tuple[float, ...] = tuple(_TABLES["bulk_price"]["share"])
WRITE_OFF_QUANTITY = _cumulative("write_off_quantity")
ZERO_PRICE_QUANTITY = _cumulative("zero_price_quantity")
WRITE_OFF_NOTES: dict[str, float] = dict(_TABLES["write_off_notes"])
ZERO_PRICE_NOTES: dict[str, float] = dict(_TABLES["zero_price_notes"])
ZERO_PRICE_PRODUCT_DESCRIPTION_SHARE: float = _TABLES["zero_price"]["product_description_share"]
NON_PRODUCT_LINES: tuple[NonProductLine, ...] = tuple(
    _non_product_line(t) for t in _TABLES["non_product_lines"]
)
EXTRA_LINES: dict[str, ExtraLine] = {
    name: ExtraLine(t["code"], t["description"], Price(*t["price"]))
    for name, t in _TABLES["extra_lines"].items()
}

# --- catalogue ------------------------------------------------------------------------
PRODUCT_PRICE_POINTS: dict[float, int] = {
    float(k): v for k, v in _TABLES["product_price_points"].items()
}
CODE_PREFIXES: dict[int, int] = {int(k): v for k, v in _TABLES["code_prefixes"].items()}
FAMILY_SIZES: dict[int, int] = {int(k): v for k, v in _TABLES["family_sizes"].items()}

# --- customers and countries ----------------------------------------------------------
CUSTOMER_COUNTRIES: dict[str, int] = dict(_TABLES["customer_countries"])
DOTCOM_COUNTRIES: dict[str, int] = dict(_TABLES["dotcom_countries"])
OTHER_NO_CUSTOMER_COUNTRIES: dict[str, int] = dict(_TABLES["other_no_customer_countries"])
HEAVY_CUSTOMER_COUNTRIES: tuple[str, ...] = tuple(_TABLES["heavy_customers"]["countries"])

# --- words of invented descriptions -----------------------------------------------------
COLOURS: tuple[str, ...] = tuple(_WORDS["colours"])
MOTIFS: tuple[str, ...] = tuple(_WORDS["motifs"])
ITEMS: tuple[str, ...] = tuple(_WORDS["items"])
SIZES: tuple[str, ...] = tuple(_WORDS["sizes"])
QUOTE_WORDS: tuple[str, ...] = tuple(_WORDS["quote_words"])
PACK_SIZES: tuple[int, ...] = tuple(_WORDS["pack_sizes"])
