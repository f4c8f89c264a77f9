"""`lgs load --replace` on PostgreSQL: readers of raw are not stopped while it runs.

(Its place in the load order, and the incremental marts after it, are checked in
test_incremental.py on both targets.)
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from tests_support import Warehouse

from lgs import embedded
from lgs.generate import generate


def test_replace_does_not_wait_for_readers_of_raw(
    pg_server: embedded.ServerStatus, base_dir: Path, tmp_path: Path
) -> None:
    wh = Warehouse.fresh("dev", "replace_readers", base_dir)
    data = generate(300, 41, tmp_path / "file.csv", end="2011-11-30 18:00")
    first = wh.load(data.path)
    with wh.active():
        reader, watcher = wh.target.connect(), wh.target.connect()
    watcher.autocommit = True
    # a reader in the middle of a transaction over raw: it holds its read locks
    cur = reader.cursor()
    cur.execute("select count(*) from raw.invoice_lines")
    (rows,) = cur.fetchone()
    cur.execute("select count(*) from raw.loads")
    results: dict[str, Any] = {}

    def replace() -> None:
        try:
            results["load"] = wh.load(data.path, replace=True)
        except Exception as exc:  # every error is a finding
            results["load"] = exc

    waited = False
    with wh.active():  # the loader's thread reads the warehouse's settings
        thread = threading.Thread(target=replace, daemon=True)
        thread.start()
        deadline = time.monotonic() + 120
        while thread.is_alive() and time.monotonic() < deadline:
            check = watcher.cursor()
            check.execute(
                "select count(*) from pg_stat_activity"
                " where application_name = 'lgs' and wait_event_type = 'Lock'"
            )
            if check.fetchone()[0]:
                waited = True
                break
            time.sleep(0.02)
        reader.rollback()  # let a waiting load go on
        thread.join(120)
    assert not waited, "the replace waited for a reader of raw"
    result = results["load"]
    assert not isinstance(result, Exception), result
    assert result.status == "replaced" and result.load_id == first.load_id + 1
    assert result.rows_loaded == rows
    counts = wh.query(
        "select load_id, count(*) as n from raw.invoice_lines group by load_id order by 1"
    )
    assert counts.values.tolist() == [[result.load_id, rows]]
    for conn in (reader, watcher):
        conn.close()
