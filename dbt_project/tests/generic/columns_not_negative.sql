{#- No listed column is below zero on any row (nulls pass: not_null checks those). One scan and
    one test node for all the columns of a model. Fails with one row: each column's count of
    negative values. -#}
{% test columns_not_negative(model, columns) %}
select *
from (
    select
    {%- for column in columns %}
        sum(case when {{ column }} < 0 then 1 else 0 end) as {{ column }}_negatives{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ model }}
) as counted
where {% for column in columns %}{{ column }}_negatives > 0{{ ' or ' if not loop.last }}{% endfor %}
{% endtest %}
