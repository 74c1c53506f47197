{#- Clinic-local time from a naive UTC timestamp.
    DuckDB-specific by default (ICU's timezone(), built into DuckDB; PostgreSQL reads the same SQL);
    other engines get their own dispatch implementation here. -#}
{% macro utc_to_local(utc_timestamp, timezone_name) -%}
    {{ return(adapter.dispatch('utc_to_local')(utc_timestamp, timezone_name)) }}
{%- endmacro %}

{% macro default__utc_to_local(utc_timestamp, timezone_name) -%}
    timezone({{ timezone_name }}, timezone('UTC', {{ utc_timestamp }}))
{%- endmacro %}

{% macro spark__utc_to_local(utc_timestamp, timezone_name) -%}
    from_utc_timestamp({{ utc_timestamp }}, {{ timezone_name }})
{%- endmacro %}
