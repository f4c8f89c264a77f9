-- sqlfluff:dialect:postgres
-- Writing a load into a PostgreSQL target: one partition of raw.invoice_lines
-- per load, created, filled with COPY ... FREEZE (no later vacuum of its rows,
-- no WAL where the server allows it) and attached, in the load's transaction.

-- name: lock_loads
-- Serialises concurrent loads (the load id is the next one of raw.loads).
lock table raw.loads in share row exclusive mode;

-- name: try_lock_loads
-- The same lock when it is free at once (else lock_not_available).
lock table raw.loads in share row exclusive mode nowait;

-- name: lock_holders
-- Who holds a lock on raw.loads: the session a waiting load names.
select
    activity.pid,
    coalesce(nullif(activity.application_name, ''), activity.usename) as who,
    to_char(activity.xact_start, 'YYYY-MM-DD HH24:MI:SS') as since
from pg_locks as held
inner join pg_stat_activity as activity on held.pid = activity.pid
where
    held.relation = 'raw.loads'::regclass
    and held.granted
    and held.pid != pg_backend_pid()
order by activity.xact_start;

-- name: set_lock_timeout
-- How long the load's next lock may wait ('0': for ever), for this transaction.
select set_config('lock_timeout', {{ bind(timeout) }}, true);

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

-- name: empty_partition
-- A replaced load's rows (row locks only: readers of raw are not stopped; the
-- empty partition stays attached).
delete from raw.invoice_lines_load_{{ load_id }};

-- name: analyze_partition
-- Planner statistics of the new partition only: analysing the partitioned
-- table would sample every load, a cost that grows with the history.
analyze raw.invoice_lines_load_{{ load_id }};
