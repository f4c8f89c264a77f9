{#
    Every customer is new exactly once: new users over all months equal the
    distinct known customers of the invoices, and the rows of customers.
#}
with

new_users as (

    select sum(new_users) as total from {{ ref('monthly_users') }}

),

invoice_customers as (

    select count(distinct customer_id) as total from {{ ref('invoices') }}

),

customers as (

    select count(*) as total from {{ ref('customers') }}

)

select
    new_users.total as new_users,
    invoice_customers.total as invoice_customers,
    customers.total as customers

from new_users
cross join invoice_customers
cross join customers
where
    new_users.total <> invoice_customers.total
    or customers.total <> invoice_customers.total
