{#- One row (none before any activity): the day "as of" which stock figures (accounts-receivable ageing) and the demand
    history are stated. The `as_of_date` var when given; otherwise the latest clinic-local day
    with any recorded activity (a booking, a status change, a charge, a payment or a refund), so
    the same raw data always builds the same marts, whatever the wall clock says. -#}
with activity as (
    select booked_local as local_at from {{ ref('stg_core__appointments') }}
    union all
    select completed_local from {{ ref('stg_core__appointments') }}
    union all
    select {{ utc_to_local('greatest(coalesce(confirmed_at, booked_at), coalesce(checked_in_at, booked_at), coalesce(no_show_at, booked_at), coalesce(cancelled_at, booked_at))', 'timezone') }}
    from {{ ref('stg_core__appointments') }}
    union all
    select cast(charged_date as {{ dbt.type_timestamp() }}) from {{ ref('stg_core__charges') }}
    union all
    select cast(received_date as {{ dbt.type_timestamp() }}) from {{ ref('stg_core__payments') }}
    union all
    select cast(refunded_date as {{ dbt.type_timestamp() }}) from {{ ref('stg_core__refunds') }}
)

{%- if var('as_of_date') %}
select cast('{{ var("as_of_date") }}' as date) as as_of_date
{%- else %}
select cast(max(local_at) as date) as as_of_date
from activity
-- no activity yet (a new practice): no row, so the as-of marts are empty rather than undated
having max(local_at) is not null
{%- endif %}
