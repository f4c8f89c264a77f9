"""Reading a file before the warehouse does: bounds on the work it can cause (blank-line
runs, gzip ratio) and, when DuckDB cannot read it, a precise diagnosis (file, line, what
was expected), found by re-reading it in Python. Used by `lgs.load`."""

from __future__ import annotations

import codecs
import csv
import gzip
import re
import zlib
from typing import Any, BinaryIO

from lgs.errors import InputError
from lgs.sources import COLUMNS, LAYOUTS, Source


class CheckedStream:
    """Reads the CSV bytes, checking gzip integrity and UTF-8, to name a broken file's
    problem precisely (file and line)."""

    def __init__(self, source: Source, *, decode: bool = True) -> None:
        self.source = source
        self.decode = decode  # False: gzip integrity only (UTF-8 is DuckDB's to check)
        self._raw: BinaryIO = open(source.csv_path, "rb")  # noqa: SIM115 (closed in close())
        self._stream: BinaryIO = (
            gzip.GzipFile(fileobj=self._raw) if source.gzipped else self._raw  # type: ignore[assignment]
        )
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._lines = 0

    def read(self, size: int = 1 << 20) -> bytes:
        try:
            # read1: what one step decompresses, so a truncated stream is named after the
            # last line it really holds (read() drops a partly decompressed chunk)
            chunk = self._stream.read1(size)
        except EOFError:
            raise InputError(
                f"{self.source.path}: the gzip stream ends before its end-of-stream marker, after "
                f"line {self._lines}: a truncated or partly downloaded file; copy it again"
            ) from None
        except (OSError, zlib.error) as exc:
            raise InputError(
                f"{self.source.path}: corrupt gzip data after line {self._lines}: {exc}"
            ) from None
        try:
            if self.decode:
                self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            line = self._lines + chunk[: max(exc.start, 0)].count(b"\n") + 1
            bad = (
                f"byte 0x{chunk[exc.start]:02x}"
                if exc.start < len(chunk)
                else "the end of the file"
            )
            raise InputError(
                f"{self.source.path}: line {line}: {bad} is not valid UTF-8; expected a UTF-8 "
                "file (convert it, e.g. `iconv -f latin1 -t utf-8`)"
            ) from None
        self._lines += chunk.count(b"\n")
        return chunk

    def close(self) -> None:
        self._stream.close()
        self._raw.close()


# Bounds on what a file may hold, checked in one streaming pass before the warehouse reads
# it: a 1 MB gzip of a header, one row and 1 GiB of newlines once kept a load (and its
# lock) busy for more than five minutes. Invoice files have no run of blank lines and
# compress about 7 to 1; these bounds leave a wide margin and stop at the first excess.
MAX_BLANK_LINES = 1_000  # in a row
MAX_GZIP_RATIO = 100  # decompressed bytes per compressed byte ...
MIN_GZIP_BOMB = 256 << 20  # ... once past 256 MiB decompressed
_BLANK_RUN = re.compile(rb"(?:\r?\n){2,}")


def check_bounds(source: Source) -> None:
    """Refuse a text file with a run of more than MAX_BLANK_LINES blank lines, or a gzip
    that decompresses to more than MAX_GZIP_RATIO times its size (past MIN_GZIP_BOMB)."""
    compressed = source.csv_path.stat().st_size
    stream = CheckedStream(source, decode=False)
    limit = max(MIN_GZIP_BOMB, MAX_GZIP_RATIO * compressed)
    total = lines = trailing = 0
    try:
        while chunk := stream.read():
            total += len(chunk)
            if source.gzipped and total > limit:
                # the bound, not the count so far: that depends on the reads' sizes
                raise InputError(
                    f"{source.path}: decompresses to more than {MAX_GZIP_RATIO} times its size "
                    f"(over {limit >> 20:,} MiB from {compressed / (1 << 20):,.1f} MiB); an "
                    "invoice file compresses about 7 to 1: refused as a possible gzip bomb"
                )
            runs = (
                [(m.start(), m.group().count(b"\n")) for m in _BLANK_RUN.finditer(chunk)]
                if b"\n\n" in chunk or b"\n\r\n" in chunk  # rare: C-speed test first
                else []
            )
            leading = len(chunk) - len(chunk.lstrip(b"\r\n"))
            if leading == len(chunk):  # a chunk of newlines only continues the run
                runs = [(0, chunk.count(b"\n") + trailing)]
            elif trailing and leading:
                runs.insert(0, (0, chunk[:leading].count(b"\n") + trailing))
            for start, newlines in runs:
                if newlines - 1 > MAX_BLANK_LINES:
                    line = lines + chunk[:start].count(b"\n") + 1
                    raise InputError(
                        f"{source.path}: after line {max(line - trailing, 1)}: more than "
                        f"{MAX_BLANK_LINES:,} blank lines in a row; an invoice file has none "
                        "(is it padded or damaged?)"
                    )
            stripped = chunk.rstrip(b"\r\n")
            newline_tail = chunk[len(stripped) :].count(b"\n")
            trailing = trailing + newline_tail if not stripped else newline_tail
            lines += chunk.count(b"\n")
    finally:
        stream.close()


def diagnose(source: Source, engine_message: str) -> InputError:
    """DuckDB refused the file: re-read it in Python to name the problem precisely."""
    stream = CheckedStream(source)
    try:
        while stream.read():
            pass
    except InputError as exc:
        return exc
    finally:
        stream.close()
    header = ",".join(LAYOUTS[source.layout])
    found = _first_malformed_record(source, header)
    if found is not None:
        return found
    line = re.search(r"[Ll]ine:? (\d+)", engine_message)
    where = f"line {line.group(1)}: " if line else ""
    first = engine_message.strip().splitlines()[0]
    first = re.sub(r"^[\w ]+ Error: ", "", first)
    return InputError(
        f"{source.path}: {where}cannot be read as CSV ({first}); expected 8 comma-separated "
        f"columns ({header}), with text holding commas or quotes in double quotes"
    )


def _first_malformed_record(source: Source, header: str) -> InputError | None:
    """The first record (after the header) without exactly 8 fields, or with broken quoting,
    named by the line it starts on; None when Python's reader finds none."""
    opener: Any = gzip.open if source.gzipped else open
    with opener(source.csv_path, "rt", encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text, strict=True)
        end = 0
        try:
            for record in reader:
                start, end = end + 1, reader.line_num
                if start == 1 or not record:  # the header (checked already); blank lines
                    continue
                if len(record) != len(COLUMNS):
                    spans = f" (it runs on to line {end}: is a double quote not closed?)"
                    return InputError(
                        f"{source.path}: line {start}: {len(record)} field(s) "
                        f"where 8 are expected{spans if end > start else ''}; expected the "
                        f"columns {header}, with text holding commas in double quotes"
                    )
        except csv.Error as exc:
            start = end + 1
            problem = (
                "a double-quoted field is never closed"
                if "end of data" in str(exc) or reader.line_num > start
                else f"broken quoting ({exc})"
            )
            return InputError(
                f"{source.path}: line {start}: {problem}; text holding commas "
                'or quotes must be in double quotes, with a quote inside written twice ("")'
            )
    return None
