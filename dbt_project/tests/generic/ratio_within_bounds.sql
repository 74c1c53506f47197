{#- numerator / denominator lies in [lower, upper] on every row with a positive denominator;
    a positive numerator over a zero denominator fails too (it would be an infinite ratio). -#}
{% test ratio_within_bounds(model, numerator, denominator, lower=0, upper=1) %}
select *
from {{ model }}
where ({{ denominator }} > 0
        and (cast({{ numerator }} as {{ dbt.type_float() }}) / {{ denominator }} < {{ lower }}
            or cast({{ numerator }} as {{ dbt.type_float() }}) / {{ denominator }} > {{ upper }}))
    or (coalesce({{ denominator }}, 0) = 0 and {{ numerator }} > 0)
{% endtest %}
