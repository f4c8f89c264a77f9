{# Every customer is new exactly once: new users over all months = customers. #}
with

new_users as (

    select sum(new_users) as total from {{ ref('monthly_users') }}

),

customers as (

    select count(*) as total from {{ ref('customers') }}

)

select
    new_users.total as new_users,
    customers.total as customers

from new_users
cross join customers
where new_users.total <> customers.total
