-- The loader's reading engine: DuckDB (in process for a PostgreSQL target, the
-- target itself for DuckDB) reads the file's text into temporary tables, checks
-- every value and splits the rows into extracts. Nothing here writes to raw.

-- name: stage
-- Every value as text, numbered in file order (DuckDB's reader keeps it).
create temporary table load_text as
select
    row_number() over () as source_row,
    invoice_no,
    stock_code,
    description,
    quantity,
    invoice_date,
    unit_price,
    customer_id,
    country
from
    read_csv(
        {{ bind(path) }},
        header = true,
        columns = {
            'invoice_no': 'varchar',
            'stock_code': 'varchar',
            'description': 'varchar',
            'quantity': 'varchar',
            'invoice_date': 'varchar',
            'unit_price': 'varchar',
            'customer_id': 'varchar',
            'country': 'varchar'
        },
        auto_detect = false,
        delim = ',',
        quote = '"',
        escape = '"',
        strict_mode = true,
        null_padding = false,
        compression = {{ bind(compression) }}
    );

-- name: count_rows
select count(*) as source_rows
from load_text;

-- name: find_bad_rows
-- A row's problem is the first column failing its check (what each column
-- expects is in lgs.load.EXPECTED). Patterns are full matches. PostgreSQL text
-- cannot hold NUL: it is refused here, by name, for both targets; so is year 0,
-- which DuckDB reads and PostgreSQL does not, and a date outside the plausible
-- window (settings.invoice_date_window: `earliest` to before `after_latest`).
create temporary table load_bad as
select *
from (
    select
        source_row,
        case
            when
                invoice_no is null
                or trim(invoice_no) = ''
                or contains(invoice_no, chr(0))
                then 'invoice_no'
            when
                stock_code is null
                or trim(stock_code) = ''
                or contains(stock_code, chr(0))
                then 'stock_code'
            when
                quantity is null
                or not regexp_full_match(quantity, '-?[0-9]{1,15}')
                then 'quantity'
            when
                invoice_date is null
                or not regexp_full_match(
                    invoice_date,
                    '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}(:[0-9]{2})?'
                )
                or try_cast(invoice_date as timestamp) is null
                or starts_with(invoice_date, '0000')
                or cast(invoice_date as timestamp) < {{ bind(earliest) }}
                or cast(invoice_date as timestamp) >= {{ bind(after_latest) }}
                then 'invoice_date'
            when
                unit_price is null
                or not regexp_full_match(
                    unit_price, '-?[0-9]{1,14}([.][0-9]{1,4})?'
                )
                then 'unit_price'
            when
                customer_id is not null
                and not regexp_full_match(customer_id, '[0-9]{1,18}([.]0+)?')
                then 'customer_id'
            when contains(description, chr(0)) then 'description'
            when contains(country, chr(0)) then 'country'
        end as problem,
        invoice_no,
        stock_code,
        description,
        quantity,
        invoice_date,
        unit_price,
        customer_id,
        country
    from load_text
) as flagged
where problem is not null;

-- name: count_bad_rows
select count(*) as bad_rows
from load_bad;

-- name: drop_bad_rows
delete from load_text
where source_row in (select load_bad.source_row from load_bad);

-- name: bad_rows
select
    source_row,
    problem,
    invoice_no,
    stock_code,
    description,
    quantity,
    invoice_date,
    unit_price,
    customer_id,
    country
from load_bad
order by source_row
limit {{ bind(limit) }};

-- name: first_row
select min(source_row) as first_row
from load_text;

-- name: next_extract_start
-- The first row after `first_row` more than one day below the running maximum
-- of the invoice dates from `first_row` on (the extract starting there): the
-- first row of the next extract.
select min(source_row) as first_row
from (
    select
        source_row,
        invoiced_at,
        max(invoiced_at) over (
            order by source_row
            rows between unbounded preceding and current row
        ) as running_max
    from (
        select
            source_row,
            cast(invoice_date as timestamp) as invoiced_at
        from load_text
        where source_row >= {{ bind(first_row) }}
    ) as dated
) as scanned
where invoiced_at < running_max - interval '1 day';

-- name: typed_lines
-- The good rows as raw.invoice_lines columns; the target types the text.
select
    {{ bind(load_id) }} as load_id,
    {{ bind(source_file) }} as source_file,
    {%- if starts | length == 1 %}
        1 as extract_no,
    {%- else %}
        case
            {%- for first in starts | reverse %}
                when source_row >= {{ first }}
                    then {{ starts | length - loop.index0 }}
            {%- endfor %}
        end as extract_no,
    {%- endif %}
    source_row,
    invoice_no,
    stock_code,
    description,
    quantity,
    invoice_date,
    unit_price,
    customer_id,
    country
from load_text;

-- name: export_lines
-- For a PostgreSQL target: the typed rows as a CSV file its COPY reads.
-- (sqlfluff's DuckDB dialect does not know COPY's options.)
copy ({{ inline(lines) }}) to {{ bind(csv_path) }} (header false);  -- noqa: PRS
