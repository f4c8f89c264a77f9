-- Writing a load into a DuckDB target: the engine is the target, so the typed
-- rows go straight from the staged text into raw.invoice_lines, in the load's
-- transaction.

-- name: insert_lines
insert into raw.invoice_lines
select
    typed.load_id,
    typed.source_file,
    typed.extract_no,
    typed.source_row,
    typed.invoice_no,
    typed.stock_code,
    typed.description,
    cast(typed.quantity as bigint) as quantity,
    cast(typed.invoice_date as timestamp) as invoice_date,
    cast(typed.unit_price as decimal(18, 4)) as unit_price,
    typed.customer_id,
    typed.country
from ({{ inline(lines) }}) as typed;
