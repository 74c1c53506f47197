{#- Models land in exactly the schema their folder names (staging, intermediate, marts), not in
    "<target schema>_<custom schema>": the raw contract and `dentops kpi` rely on these names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
