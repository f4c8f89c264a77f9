"""The shop's catalogue: invented stock codes, descriptions and prices of products, and
the codes of non-product lines, gift vouchers and stock notes.

The catalogue is drawn from a fixed seed, so that every generated file describes the
same shop. Texts are stored once (`Catalogue.code_texts`, `description_texts`, already
CSV-escaped) and referred to by index everywhere else.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lgs.generate import calibration as real
from lgs.generate.sampling import F64, I64
from lgs.generate.trading_calendar import parse_minutes

CATALOGUE_SEED = 20091201
PRICE_POINT_SHARE = 0.967  # products priced at one of the price points (others log-normal)
LOWER_CASE_CODE_SHARE = 0.08  # families whose letter suffix is lower case
# Awkward descriptions: on products selling this share of lines.
SHARE_COMMA = 0.0140  # with a comma (real 1.45 % of lines)
SHARE_QUOTE = 0.0022  # with a double quote (real 0.23 %)
SHARE_TRAILING_SPACE = 0.186  # with a trailing space (with leading: real 20.0 %)
SHARE_LEADING_SPACE = 0.0025
# Descriptions and prices change once between these dates, for these shares of products.
CHANGES_FROM, CHANGES_TO = "2010-02-01", "2011-11-01"
DESCRIPTION_CHANGE_SHARE = 0.12
PRICE_CHANGE_SHARE = 0.25
DOTCOM_PRICE_FACTOR = (1.95, 2.05)  # the dotcom shop charges about twice the base price
DESCRIPTION_LENGTH = 35


@dataclass
class Catalogue:
    """Stock codes, descriptions (CSV-escaped), prices and popularity of the shop.

    Per product (regular products first, then the DCGS products of the dotcom shop):
    its code, its description and price before and after their one change (at the
    given minute; never when the two are equal), its bulk and dotcom prices, its price
    band (0: below 1 pound, 1: below 4, 2: 4 and above). Prices are in mils."""

    code_texts: list[str]
    description_texts: list[str]  # CSV-escaped
    code_fields: list[str]  # the same with a leading comma, as written in a row
    description_fields: list[str]
    product_code: I64  # index into code_texts
    description_before: I64  # index into description_texts
    description_after: I64
    description_changes_at: I64  # minute
    price_before: I64
    price_after: I64
    price_changes_at: I64
    bulk_price_before: I64
    bulk_price_after: I64
    dotcom_price_before: I64
    dotcom_price_after: I64
    price_band: I64
    product_of_code: I64  # per code: its regular product, or -1
    popularity_cdf: F64  # of regular products (cumulative, normalised)
    regular_products: int
    products_with_comma: I64
    products_with_quote: I64
    dcgs_products: I64
    non_product_code: dict[tuple[str, str], int]  # (code, description) -> code index
    non_product_description: dict[tuple[str, str], int]
    bad_debt_code: int
    bad_debt_description: int
    gift_voucher_code: I64
    gift_voucher_description: I64
    gift_voucher_price: I64
    write_off_notes: I64
    write_off_note_share: F64
    zero_price_notes: I64
    zero_price_note_share: F64
    empty_description: int


def csv_field(text: str) -> str:
    """RFC-4180 minimal quoting, as Python's csv module (and the real file) does."""
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


class _Texts:
    """Codes and descriptions, each stored once, with their indices."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.descriptions: list[str] = []  # CSV-escaped
        self._code_index: dict[str, int] = {}
        self._description_index: dict[str, int] = {}

    def code(self, text: str) -> int:
        if text not in self._code_index:
            self._code_index[text] = len(self.codes)
            self.codes.append(text)
        return self._code_index[text]

    def description(self, text: str) -> int:
        if text not in self._description_index:
            self._description_index[text] = len(self.descriptions)
            self.descriptions.append(csv_field(text))
        return self._description_index[text]


def invent_description(rng: np.random.Generator, kind: int) -> str:
    """An invented product description; kind 1 with a comma, 2 with a double quote."""
    u = rng.random(9)

    def pick(seq: Sequence[str], x: float) -> str:
        return seq[int(x * len(seq))]

    col, mot, item, size = (
        pick(real.COLOURS, u[0]),
        pick(real.MOTIFS, u[1]),
        pick(real.ITEMS, u[2]),
        pick(real.SIZES, u[3]),
    )
    n = real.PACK_SIZES[int(u[4] * len(real.PACK_SIZES))]
    if kind == 1:
        forms = (
            f"{item} , {mot} DESIGN",
            f"{item}, {col}",
            f"{mot} {item}, {size}",
            f"{col} {mot} {item},{size}",
            f"SET OF {n} {item}S, {mot}",
        )
    elif kind == 2:
        word = pick(real.QUOTE_WORDS, u[5])
        forms = (
            f'{mot} {item} {n}"',
            f'{col} "{word}" {item}',
            f'LETTER "{chr(65 + int(u[6] * 26))}" {item}',
            f'{item} "{word}"',
            f'{col} {item} {n}" {mot}',
        )
    else:
        forms = (
            f"{col} {mot} {item}",
            f"{mot} {item}",
            f"SET OF {n} {mot} {item}S",
            f"PACK OF {n} {mot} {item}",
            f"{size} {mot} {item}",
            f"{item} {mot} DESIGN",
            f"{size} {col} {item}",
            f"{mot} {col} {item}",
            f"SET/{n} {col} {mot} {item}",
        )
    text = forms[int(u[7] * len(forms))][:DESCRIPTION_LENGTH]
    if kind == 0 and u[8] < 0.03:
        text = text.replace(" ", "  ", 1)
    elif kind == 0 and u[8] > 0.994:
        text = (text.rstrip() + f" pack/{n}")[:DESCRIPTION_LENGTH]
    return text


def _cdf(weights: Sequence[float]) -> F64:
    w = np.asarray(weights, dtype=np.float64)
    return np.cumsum(w) / w.sum()


def _regular_products(
    rng: np.random.Generator, texts: _Texts
) -> tuple[list[int], list[str], list[float]]:
    """Code index, description and price of each regular product, in families of
    variants sharing a five-digit base (A, B, C ... in other colours)."""
    family_sizes = np.array(list(real.FAMILY_SIZES), dtype=np.int64)
    prefixes = np.array(list(real.CODE_PREFIXES), dtype=np.int64)
    price_points = np.array(list(real.PRODUCT_PRICE_POINTS), dtype=np.float64)
    family_cdf = _cdf(list(real.FAMILY_SIZES.values()))
    prefix_cdf = _cdf(list(real.CODE_PREFIXES.values()))
    price_cdf = _cdf(list(real.PRODUCT_PRICE_POINTS.values()))
    used: set[int] = set()
    codes: list[int] = []
    descriptions: list[str] = []
    prices: list[float] = []
    while len(codes) < real.PRODUCTS:
        size = int(family_sizes[np.searchsorted(family_cdf, rng.random(), side="right")])
        size = min(size, real.PRODUCTS - len(codes))
        while True:
            prefix = int(prefixes[np.searchsorted(prefix_cdf, rng.random(), side="right")])
            base = prefix * 1000 + int(rng.random() * 1000)
            if base not in used:
                used.add(base)
                break
        stem = invent_description(rng, 0)
        if rng.random() < PRICE_POINT_SHARE:
            price = float(price_points[np.searchsorted(price_cdf, rng.random(), side="right")])
        else:
            price = round(min(295.0, max(0.04, 6.45 * math.exp(1.3 * rng.standard_normal()))), 2)
        lower = rng.random() < LOWER_CASE_CODE_SHARE
        for j in range(size):
            if size == 1:
                suffix = "" if rng.random() > 0.03 else "A"
                text = stem
            else:
                suffix = chr(65 + j) if j < 26 else "Z"
                text = _variant_description(stem, j, base)
            if lower:
                suffix = suffix.lower()
            if size > 1 and rng.random() < 0.005:
                suffix += "L"
            codes.append(texts.code(f"{base:05d}{suffix}"))
            descriptions.append(text)
            prices.append(price)
    return codes, descriptions, prices


def _variant_description(stem: str, j: int, base: int) -> str:
    """The description of variant j of a family: the stem in another colour."""
    colour = real.COLOURS[(j * 7 + int(base)) % len(real.COLOURS)]
    words = stem.split(" ")
    at = [k for k, w in enumerate(words) if w in real.COLOURS]
    if at:
        words[at[0]] = colour
    text = " ".join(words) if j else stem
    if j and text == stem:
        text = (stem.rstrip() + " " + colour)[:DESCRIPTION_LENGTH]
    return text


def _popularity(rng: np.random.Generator, prices: list[float]) -> F64:
    """Share of lines of each regular product: a long tail, cheap lines a little more."""
    n = len(prices)
    rank = np.arange(n)
    weights = np.exp(-((rank / 300.0) ** 0.6)) * np.exp(0.3 * rng.standard_normal(n))
    weights = weights[rng.permutation(n)] * np.array(prices) ** -0.1
    return weights / weights.sum()


def _add_awkward_descriptions(
    rng: np.random.Generator, share: F64, descriptions: list[str]
) -> None:
    """Give products selling the real share of lines a comma, a double quote, a
    trailing or a leading space."""
    n = len(share)
    taken = np.zeros(n, dtype=bool)

    def by_share(target: float) -> list[int]:
        order = rng.permutation(n)
        order = order[~taken[order]]
        k = int(np.searchsorted(np.cumsum(share[order]), target)) + 1
        taken[order[:k]] = True
        return [int(i) for i in order[:k]]

    for i in by_share(SHARE_COMMA):
        descriptions[i] = invent_description(rng, 1)
    for i in by_share(SHARE_QUOTE):
        descriptions[i] = invent_description(rng, 2)
    taken[:] = False
    for i in by_share(SHARE_TRAILING_SPACE):
        descriptions[i] = descriptions[i].rstrip()[: DESCRIPTION_LENGTH - 1] + " "
    for i in by_share(SHARE_LEADING_SPACE):
        descriptions[i] = " " + descriptions[i][: DESCRIPTION_LENGTH - 1]


def _add_dcgs_products(
    rng: np.random.Generator,
    texts: _Texts,
    codes: list[int],
    descriptions: list[str],
    prices: list[float],
) -> None:
    """The products of the dotcom shop (DCGS codes), nearly half without description."""
    numbers = rng.choice(np.arange(1, 80), real.DCGS_PRODUCTS - 4, replace=False).tolist()
    dcgs_codes = [f"DCGS{i:04d}" for i in numbers]
    dcgs_codes += ["DCGSSBOY", "DCGSSGIRL", "DCGSLBOY", "DCGSLGIRL"]
    for c in dcgs_codes:
        codes.append(texts.code(c))
        descriptions.append("" if rng.random() < 0.45 else invent_description(rng, 0))
        prices.append(float(rng.choice([0.83, 1.25, 2.5, 3.29, 4.95, 8.5])))


def _changed_description(rng: np.random.Generator, text: str) -> str:
    """The description after its change, or the same text (most products)."""
    r = rng.random()
    if not text or r > DESCRIPTION_CHANGE_SHARE:
        return text
    if r < 0.05:
        return text.rstrip() if text.endswith(" ") else (text[: DESCRIPTION_LENGTH - 1] + " ")
    if r < 0.08:
        short = text.replace("CHRISTMAS", "XMAS").replace("SET OF ", "SET/")
        return short.replace(" AND ", " & ") or text
    size = real.SIZES[int(rng.integers(len(real.SIZES)))]
    return (text.strip() + " " + size)[:DESCRIPTION_LENGTH]


def _price_changes(
    rng: np.random.Generator, price_before: I64, changes_from: int, changes_to: int
) -> tuple[I64, I64, F64]:
    """Prices after their change (a rise of 3-25 %, for a quarter of the products),
    the minute of the change, and each product's dotcom factor."""
    n = len(price_before)
    never = np.iinfo(np.int64).max
    rise = rng.uniform(1.03, 1.25, n)
    after = np.where(
        price_before >= 1000,
        np.rint(price_before * rise / 50) * 50,
        np.rint(price_before * rise / 10) * 10,
    ).astype(np.int64)
    changes = rng.random(n) < PRICE_CHANGE_SHARE
    after = np.where(changes, np.maximum(after, price_before + 10), price_before)
    changes_at = np.where(changes, rng.integers(changes_from, changes_to, n), never)
    dotcom_factor = rng.uniform(*DOTCOM_PRICE_FACTOR, n)
    return after, changes_at, dotcom_factor


def _bulk_price(price: I64) -> I64:
    """85 % of the base price (in mils), to the penny."""
    return (np.maximum(np.rint(price * 0.085), 1) * 10).astype(np.int64)


def _dotcom_price(price: I64, factor: F64) -> I64:
    return (np.rint(price * factor / 10 + 1) * 10).astype(np.int64)


@functools.lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The shop's catalogue (the same for every file)."""
    rng = np.random.default_rng(CATALOGUE_SEED)
    texts = _Texts()
    codes, descriptions, prices = _regular_products(rng, texts)
    n_regular = len(codes)
    share = _popularity(rng, prices)
    _add_awkward_descriptions(rng, share, descriptions)
    _add_dcgs_products(rng, texts, codes, descriptions, prices)
    n_all = len(codes)
    product_code = np.array(codes, dtype=np.int64)
    description_before = np.array([texts.description(t) for t in descriptions], dtype=np.int64)
    changed = [_changed_description(rng, t) for t in descriptions]
    description_after = np.array([texts.description(t) for t in changed], dtype=np.int64)
    changes_from, changes_to = parse_minutes(CHANGES_FROM), parse_minutes(CHANGES_TO)
    never = np.iinfo(np.int64).max
    description_changes_at = np.where(
        description_after != description_before,
        rng.integers(changes_from, changes_to, n_all),
        never,
    )
    price_before = np.rint(np.array(prices) * 100).astype(np.int64) * 10
    price_after, price_changes_at, dotcom_factor = _price_changes(
        rng, price_before, changes_from, changes_to
    )
    pounds = price_before / 1000.0
    price_band = np.where(pounds < 1.0, 0, np.where(pounds < 4.0, 1, 2)).astype(np.int64)
    regular_texts = [texts.descriptions[i] for i in description_before[:n_regular].tolist()]
    non_product_code: dict[tuple[str, str], int] = {}
    non_product_description: dict[tuple[str, str], int] = {}
    for line in (*real.NON_PRODUCT_LINES, *real.EXTRA_LINES.values()):
        key = (line.code, line.description)
        non_product_code[key] = texts.code(line.code)
        non_product_description[key] = texts.description(line.description)
    bad_debt_code, bad_debt_description = texts.code("B"), texts.description("Adjust bad debt")
    gift_values = range(10, 100, 10)
    gift_code = [texts.code(f"gift_0001_{v}") for v in gift_values]
    gift_description = [
        texts.description(f"Dotcomgiftshop Gift Voucher £{v}.00" if v <= 50 else "")
        for v in gift_values
    ]
    write_off_notes = [texts.description(t) for t in real.WRITE_OFF_NOTES]
    zero_price_notes = [texts.description(t) for t in real.ZERO_PRICE_NOTES]
    product_of_code = np.full(len(texts.codes), -1, dtype=np.int64)
    product_of_code[product_code[:n_regular]] = np.arange(n_regular)
    return Catalogue(
        code_texts=texts.codes,
        description_texts=texts.descriptions,
        code_fields=["," + c for c in texts.codes],
        description_fields=["," + d for d in texts.descriptions],
        product_code=product_code,
        description_before=description_before,
        description_after=description_after,
        description_changes_at=description_changes_at,
        price_before=price_before,
        price_after=price_after,
        price_changes_at=price_changes_at,
        bulk_price_before=_bulk_price(price_before),
        bulk_price_after=_bulk_price(price_after),
        dotcom_price_before=_dotcom_price(price_before, dotcom_factor),
        dotcom_price_after=_dotcom_price(price_after, dotcom_factor),
        price_band=price_band,
        product_of_code=product_of_code,
        popularity_cdf=np.cumsum(share),
        regular_products=n_regular,
        products_with_comma=np.array(
            [i for i, t in enumerate(regular_texts) if "," in t and '""' not in t],
            dtype=np.int64,
        ),
        products_with_quote=np.array(
            [i for i, t in enumerate(regular_texts) if '""' in t], dtype=np.int64
        ),
        dcgs_products=np.arange(n_regular, n_all, dtype=np.int64),
        non_product_code=non_product_code,
        non_product_description=non_product_description,
        bad_debt_code=bad_debt_code,
        bad_debt_description=bad_debt_description,
        gift_voucher_code=np.array(gift_code, dtype=np.int64),
        gift_voucher_description=np.array(gift_description, dtype=np.int64),
        gift_voucher_price=np.array(
            [round(v * 0.851 * 100) * 10 for v in gift_values], dtype=np.int64
        ),
        write_off_notes=np.array(write_off_notes, dtype=np.int64),
        write_off_note_share=np.array(list(real.WRITE_OFF_NOTES.values())),
        zero_price_notes=np.array(zero_price_notes, dtype=np.int64),
        zero_price_note_share=np.array(list(real.ZERO_PRICE_NOTES.values())),
        empty_description=texts.description(""),
    )
