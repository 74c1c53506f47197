{#- Money is integer cents with its currency beside it; this renders cents as major units for
    reading (never for sums: sum the cents). -#}
{% macro cents_to_major(cents_column, scale=2) -%}
    round(cast({{ cents_column }} as {{ dbt.type_numeric() }}) / 100, {{ scale }})
{%- endmacro %}

{#- Division that gives NULL instead of an error when the denominator is 0. -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ dbt.type_float() }}) / nullif({{ denominator }}, 0))
{%- endmacro %}
