"""Writing the file: the plan's invoices block by block (each block a run of whole
days, about `BLOCK_LINES` lines), formatted with table look-ups and streamed to the file
by a background thread. Rows of an overlap window between extracts are spooled and
written a second time at the start of the next extract, so memory stays bounded at
any size.
"""

from __future__ import annotations

import gzip
import itertools
import queue
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from lgs.generate.catalogue import Catalogue, catalogue
from lgs.generate.customers import COUNTRIES, FIRST_CUSTOMER_ID
from lgs.generate.kinds import NUMBER_PREFIX
from lgs.generate.lines import BlockLines, Lines
from lgs.generate.plan import Plan
from lgs.generate.sampling import I64

HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
BLOCK_LINES = 250_000  # lines generated, formatted and written at a time
SPOOL_IN_MEMORY = 64 << 20  # bytes of an overlap window kept in memory, the rest on disk


def _distinct_texts(values: I64, fmt: Callable[[int], str]) -> tuple[list[str], I64]:
    """The text of each distinct value, and each value's index into them."""
    uniq, inv = np.unique(values, return_inverse=True)
    return [fmt(v) for v in uniq.tolist()], inv


def _minute_text(minutes: int) -> str:
    s = str(np.datetime64(minutes, "m"))
    return f"{s[:10]} {s[11:16]}:00"


def _price_text(mils: int) -> str:
    return repr(mils / 1000)


def _invoice_texts(plan: Plan, idx: I64) -> tuple[list[str], list[str]]:
    """Invoice number text and the row ending (customer, country, newline) of invoices."""
    numbers = [
        NUMBER_PREFIX.get(k, "") + str(v)
        for k, v in zip(plan.kind[idx].tolist(), plan.number[idx].tolist(), strict=True)
    ]
    endings = [
        f",{FIRST_CUSTOMER_ID + c}.0,{COUNTRIES[k]}\n" if c >= 0 else f",,{COUNTRIES[k]}\n"
        for c, k in zip(plan.customer[idx].tolist(), plan.country[idx].tolist(), strict=True)
    ]
    return numbers, endings


def format_lines(cat: Catalogue, plan: Plan, lines: Lines) -> str:
    """CSV text of lines (already in file order): seven look-ups per row, every table
    entry but the invoice number carrying its leading comma."""
    minute_s, minute_i = _distinct_texts(lines.minute, lambda v: "," + _minute_text(v))
    qty_s, qty_i = _distinct_texts(lines.quantity, lambda v: f",{v}")
    price_s, price_i = _distinct_texts(lines.price, lambda v: "," + _price_text(v))
    inv_u, inv_i = np.unique(lines.invoice, return_inverse=True)
    number_s, ending_s = _invoice_texts(plan, inv_u)
    n = len(lines.invoice)
    tokens: list[str] = [""] * (7 * n)
    inv_list = inv_i.tolist()
    tokens[0::7] = map(number_s.__getitem__, inv_list)
    tokens[1::7] = map(cat.code_fields.__getitem__, lines.code.tolist())
    tokens[2::7] = map(cat.description_fields.__getitem__, lines.description.tolist())
    tokens[3::7] = map(qty_s.__getitem__, qty_i.tolist())
    tokens[4::7] = map(minute_s.__getitem__, minute_i.tolist())
    tokens[5::7] = map(price_s.__getitem__, price_i.tolist())
    tokens[6::7] = map(ending_s.__getitem__, inv_list)
    return "".join(tokens)


class _Sink:
    """Output file, written by a background thread (gzip, which releases the GIL, then
    compresses one block while the next is generated). Gzip when the name ends in .gz,
    with no time stamp or file name in the header, so output is reproducible."""

    def __init__(self, out: Path) -> None:
        self.raw: IO[bytes] = open(out, "wb")  # noqa: SIM115 (closed in close())
        self.fh: IO[bytes] = (
            gzip.GzipFile(filename="", mode="wb", compresslevel=1, fileobj=self.raw, mtime=0)
            if out.name.endswith(".gz")
            else self.raw
        )
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="lgs-generate-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.fh.write(item)
                except BaseException as exc:  # reported by write() / close()
                    self.error = exc

    def write(self, data: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(data)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        try:
            if self.fh is not self.raw:
                self.fh.close()
        finally:
            self.raw.close()
        if self.error is not None:
            raise self.error


def blocks(plan: Plan) -> list[tuple[int, int]]:
    """Invoice ranges of whole days, about BLOCK_LINES lines each, cut at the overlap
    window boundaries (a row's day is its invoice's: later lines stay on its day)."""
    day = plan.minute // 1440
    bounds = {0, len(day)}
    for a, b in plan.overlap_windows:
        bounds.add(int(np.searchsorted(day, a, side="left")))
        bounds.add(int(np.searchsorted(day, b, side="left")))
    cum = np.cumsum(plan.lines)
    target = BLOCK_LINES
    while target < (cum[-1] if len(cum) else 0):
        i = int(np.searchsorted(cum, target, side="left"))
        if i < len(day):
            bounds.add(int(np.searchsorted(day, day[i], side="left")))
            bounds.add(int(np.searchsorted(day, day[i], side="right")))
        target += BLOCK_LINES
    b = sorted(bounds)
    return [(x, y) for x, y in itertools.pairwise(b) if y > x]


def _progress_bar(rows: int, name: str) -> Any:
    """A tqdm bar on stderr (imported here: importing tqdm costs more than writing a
    small file, and most runs show no bar)."""
    from tqdm import tqdm

    return tqdm(
        total=rows,
        desc=f"lgs generate {name}",
        unit=" rows",
        unit_scale=True,
        leave=False,
        file=sys.stderr,
    )


def write_file(plan: Plan, seed: int, out: Path, rows: int, progress: bool | None) -> int:
    """Write the plan's lines to ``out``; the rows written (the overlap counted twice).
    ``progress``: a progress bar on stderr (None: when stderr is a terminal)."""
    cat = catalogue()
    day = plan.minute // 1440
    window_ranges = [
        (int(np.searchsorted(day, a, side="left")), int(np.searchsorted(day, b, side="left")))
        for a, b in plan.overlap_windows
    ]
    window_ends = {end for _, end in window_ranges}
    maker = BlockLines(plan, cat, seed)
    sink = _Sink(out)
    written = 0
    spool: IO[bytes] | None = None
    show = sys.stderr.isatty() if progress is None else progress
    bar = _progress_bar(rows, out.name) if show else None
    try:
        sink.write(HEADER.encode())
        for i0, i1 in blocks(plan):
            lines = maker.lines(i0, i1)
            data = format_lines(cat, plan, lines).encode()
            sink.write(data)
            count = len(lines.invoice)
            if any(a <= i0 and i1 <= b for a, b in window_ranges):
                if spool is None:
                    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
                spool.write(data)
                count *= 2
            if i1 in window_ends and spool is not None:
                spool.seek(0)
                while chunk := spool.read(16 << 20):
                    sink.write(chunk)
                spool.close()
                spool = None
            written += count
            if bar is not None:
                bar.update(count)
    finally:
        if bar is not None:
            bar.close()
        sink.close()
        if spool is not None:
            spool.close()
    return written
