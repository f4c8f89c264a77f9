-- sqlfluff:dialect:postgres
-- The raw layer and its load log, on every target (PostgreSQL and DuckDB).
-- Rows are kept as received, typed only where the conversion is loss-free.

-- name: create_schema
create schema if not exists raw;

-- name: create_loads
create table if not exists raw.loads (
    load_id bigint not null,
    file_name text not null,
    file_path text not null,
    file_sha256 text not null,
    file_format text not null,
    extracts integer not null,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_rejected bigint not null,
    started_at timestamp not null,
    finished_at timestamp not null,
    status text not null,
    replaced_by_load_id bigint
);

-- name: create_invoice_lines
-- On PostgreSQL each load is a partition of its own (postgres.sql).
create table if not exists raw.invoice_lines (
    load_id bigint not null,
    source_file text not null,
    extract_no integer not null,
    source_row bigint not null,
    invoice_no text not null,
    stock_code text not null,
    description text,
    quantity bigint not null,
    invoice_date timestamp not null,
    unit_price numeric(18, 4) not null,
    customer_id text,
    country text
){% if partitioned %} partition by list (load_id){% endif %};

-- name: create_rejected_lines
create table if not exists raw.rejected_lines (
    load_id bigint not null,
    source_row bigint not null,
    column_name text not null,
    value text,
    expected text not null,
    invoice_no text,
    stock_code text,
    description text,
    quantity text,
    invoice_date text,
    unit_price text,
    customer_id text,
    country text
);

-- name: previous_loads
-- Earlier loads of the same file (same sha256) that are still in place.
select load_id
from raw.loads
where file_sha256 = {{ bind(sha256) }} and status = 'loaded'
order by load_id;

-- name: next_load_id
select coalesce(max(load_id), 0) + 1 as load_id
from raw.loads;

-- name: mark_replaced
-- The earlier loads of the file (previous_loads, in the same transaction).
update raw.loads
set
    status = 'replaced',
    replaced_by_load_id = {{ bind(load_id) }}
where file_sha256 = {{ bind(sha256) }} and status = 'loaded';

-- name: delete_lines
delete from raw.invoice_lines
where load_id = {{ bind(load_id) }};

-- name: extract_rows
select
    extract_no,
    count(*) as extract_lines
from raw.invoice_lines
where load_id = {{ bind(load_id) }}
group by extract_no
order by extract_no;

-- name: record_load
insert into raw.loads (
    load_id,
    file_name,
    file_path,
    file_sha256,
    file_format,
    extracts,
    rows_read,
    rows_loaded,
    rows_rejected,
    started_at,
    finished_at,
    status
) values (
    {{ bind(load_id) }},
    {{ bind(file_name) }},
    {{ bind(file_path) }},
    {{ bind(sha256) }},
    {{ bind(file_format) }},
    {{ bind(extracts) }},
    {{ bind(rows_read) }},
    {{ bind(rows_loaded) }},
    {{ bind(rows_rejected) }},
    {{ bind(started_at) }},
    {{ bind(finished_at) }},
    'loaded'
);

-- name: record_rejected_line
insert into raw.rejected_lines (
    load_id,
    source_row,
    column_name,
    value,
    expected,
    invoice_no,
    stock_code,
    description,
    quantity,
    invoice_date,
    unit_price,
    customer_id,
    country
) values (
    {{ bind(load_id) }},
    {{ bind(source_row) }},
    {{ bind(column_name) }},
    {{ bind(value) }},
    {{ bind(expected) }},
    {{ bind(invoice_no) }},
    {{ bind(stock_code) }},
    {{ bind(description) }},
    {{ bind(quantity) }},
    {{ bind(invoice_date) }},
    {{ bind(unit_price) }},
    {{ bind(customer_id) }},
    {{ bind(country) }}
);
