{#- A running total (per group, in order) never drops below zero: e.g. a clinic's collections
    summed day by day, since a refund can only follow the payment it returns. -#}
{% test running_total_not_negative(model, column_name, partition_by, order_by) %}
with running as (
    select
        {{ partition_by | join(', ') }},
        {{ order_by }},
        sum({{ column_name }}) over (
            partition by {{ partition_by | join(', ') }}
            order by {{ order_by }}
            rows between unbounded preceding and current row
        ) as running_total
    from {{ model }}
)
select * from running where running_total < 0
{% endtest %}
