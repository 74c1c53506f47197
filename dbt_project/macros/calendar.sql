{#- Calendar helpers. The weekday numbering is the core's: Monday 0 .. Sunday 6. -#}
{% macro weekday_monday0(date_expr) -%}
    {{ return(adapter.dispatch('weekday_monday0')(date_expr)) }}
{%- endmacro %}

{% macro default__weekday_monday0(date_expr) -%}
    (cast(extract(isodow from {{ date_expr }}) as integer) - 1)
{%- endmacro %}

{% macro spark__weekday_monday0(date_expr) -%}
    ((dayofweek({{ date_expr }}) + 5) % 7)
{%- endmacro %}

{#- Minutes since midnight of a TIME value (portable). -#}
{% macro minute_of_day(time_expr) -%}
    (cast(extract(hour from {{ time_expr }}) as integer) * 60 + cast(extract(minute from {{ time_expr }}) as integer))
{%- endmacro %}

{#- One row per day from first_day to last_day (both included), as column `date_day`, for each row
    of `bounds_relation` (a CTE with columns first_day, last_day and any keys to carry along).
    DuckDB-specific by default (generate_series as a lateral table function; PostgreSQL reads the
    same SQL). -#}
{% macro days_between(bounds_relation, carry_columns) -%}
    {{ return(adapter.dispatch('days_between')(bounds_relation, carry_columns)) }}
{%- endmacro %}

{% macro default__days_between(bounds_relation, carry_columns) -%}
    select
        {% for column in carry_columns %}bounds.{{ column }},
        {% endfor %}cast(series.day_value as date) as date_day
    from {{ bounds_relation }} as bounds,
        generate_series(bounds.first_day, bounds.last_day, interval '1 day') as series(day_value)
{%- endmacro %}
