{#- Every listed column is not null on any row. One scan and one test node for all the columns of
    a model (a column-level not_null is one dbt node per column, and dbt's overhead per node is
    far above DuckDB's cost of the check). Fails with one row: each column's count of nulls. -#}
{% test columns_not_null(model, columns) %}
select *
from (
    select
    {%- for column in columns %}
        sum(case when {{ column }} is null then 1 else 0 end) as {{ column }}_nulls{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ model }}
) as counted
where {% for column in columns %}{{ column }}_nulls > 0{{ ' or ' if not loop.last }}{% endfor %}
{% endtest %}
