"""The building blocks of an HTML page made from a template in `lgs/templates`.

A page is data: `Part`s (a heading) of `Section`s, each with any of a title, a reading (a
few sentences), a `Chart` (a PNG embedded as a `data:` URI), notes (a bullet list) and a
`Table` of `Cell`s. `render` fills a Jinja2 template with autoescape on (every text the
data holds is escaped, whatever it contains) and inlines a CSS file, so the page is one
self-contained file that opens offline. Which sections a page has, and what they say, is
the business of the module that builds it (`lgs.report`).
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import jinja2
import markupsafe

TEMPLATES = "templates"  # inside the `lgs` package (package data)


@dataclass(frozen=True)
class Chart:
    """A PNG embedded in the page as a `data:` URI."""

    src: str
    width: int
    height: int
    alt: str

    @classmethod
    def from_png(cls, image: bytes, alt: str) -> Chart:
        width, height = png_size(image)
        encoded = base64.b64encode(image).decode("ascii")
        return cls(f"data:image/png;base64,{encoded}", width, height, alt)


@dataclass(frozen=True)
class Cell:
    text: str
    value: float | int | None = None  # the exact number (`data-value`), when it is one
    numeric: bool = False  # right-aligned
    strong: bool = False


@dataclass(frozen=True)
class Column:
    title: str
    numeric: bool = False


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    data: dict[str, str] = field(default_factory=dict)  # `data-*` attributes (the row's key)


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Section:
    id: str
    title: str  # "" for none
    reading: tuple[str, ...] = ()  # sentences computed from the data
    chart: Chart | None = None
    notes: tuple[str, ...] = ()  # a bullet list
    table: Table | None = None


@dataclass(frozen=True)
class Part:
    id: str
    title: str
    sections: tuple[Section, ...]


def png_size(image: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR)."""
    if image[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG image")
    return int.from_bytes(image[16:20], "big"), int.from_bytes(image[20:24], "big")


def data_value(value: float | int) -> str:
    """The exact value for `data-value` attributes (read by tests and tools): an integer as
    it is, anything else as the shortest repr of the float."""
    return str(value) if isinstance(value, int) else repr(float(value))


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("lgs", TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["data_value"] = data_value
    return environment


def render(template: str, *, style: str, **context: Any) -> str:
    """`template` filled with `context` (autoescaped), the CSS file `style` inlined as `css`."""
    css = (resources.files("lgs") / TEMPLATES / style).read_text(encoding="utf-8")
    # our own file, not data: inlined as it is (escaping would break its quotes)
    return _environment().get_template(template).render(css=markupsafe.Markup(css), **context)
