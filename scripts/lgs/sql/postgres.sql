-- sqlfluff:dialect:postgres
-- Writing a load into a PostgreSQL target: one partition of raw.invoice_lines
-- per load, created, filled with COPY ... FREEZE (no later vacuum of its rows,
-- no WAL where the server allows it) and attached, in the load's transaction.

-- name: lock_loads
-- Serialises concurrent loads (the load id is the next one of raw.loads).
lock table raw.loads in share row exclusive mode;

-- name: create_partition
create table raw.invoice_lines_load_{{ load_id }} (
    like raw.invoice_lines including defaults,
    check (load_id = {{ load_id }})
);

-- name: copy_partition
copy raw.invoice_lines_load_{{ load_id }}
from stdin with (format csv, freeze true);

-- name: attach_partition
-- (sqlfluff's PostgreSQL dialect does not know ATTACH PARTITION.)
alter table raw.invoice_lines  -- noqa: PRS
attach partition raw.invoice_lines_load_{{ load_id }} for values in ({{ load_id }});

-- name: drop_partition
drop table if exists raw.invoice_lines_load_{{ load_id }};

-- name: analyze_partition
-- Planner statistics of the new partition only: analysing the partitioned
-- table would sample every load, a cost that grows with the history.
analyze raw.invoice_lines_load_{{ load_id }};
