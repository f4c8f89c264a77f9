"""A small progress bar for long work: drawn on a terminal, silent otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Work in `phases` steps: `phase(text, size)` starts the next one, `advance(done)`
    reports how much of its `size` is done; the bar covers all phases."""

    def __init__(
        self, phases: int, label: str, *, stream: TextIO | None = None, enabled: bool | None = None
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.phases = max(phases, 1)
        self.label = label
        self.started = time.monotonic()
        self._phase = 0
        self._text = ""
        self._size = 0
        self._last = 0.0

    def phase(self, text: str, size: int = 0) -> None:
        self._phase += 1
        self._text = text
        self._size = size
        self._draw(0.0, force=True)

    def advance(self, done: int) -> None:
        if self._size:
            self._draw(min(done / self._size, 1.0))

    def _draw(self, within: float, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        share = min((self._phase - 1 + within) / self.phases, 1.0)
        bar = "#" * int(share * 24)
        self.stream.write(
            f"\r{self.label[:28]:<28} [{bar:<24}] {share:4.0%} {self._text[:30]:<30} "
            f"{now - self.started:5.1f}s"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()
