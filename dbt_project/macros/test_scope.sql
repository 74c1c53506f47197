{#- Data tests of an incremental build check the rows the build wrote (README.md, "Tests on
    incremental builds").

    The strategy `replace_keys` deletes every stored row of the batch's keys and inserts the
    new rows, so after an incremental build of a model only the rows of those keys are new; the
    others passed the same tests when they were written (a full build tests every row). So, for
    a model this invocation built incrementally, a test that checks rows one by one (not_null,
    accepted_values, expression_is_true, ...) or keys (unique, unique_combination_of_columns
    over columns that include the model's unique key: two rows with such a key are always
    written together) or a child's references (relationships: parents are never deleted, the
    core deletes nothing) reads only the rows of the written keys. Every other test (a
    running total, the singular tests, a uniqueness that can span keys) and every test of a
    model built in full reads the whole table.

    Bookkeeping: `replace_keys` writes the batch's keys to intermediate._scope_<model> and the
    invocation that wrote them to intermediate._test_scopes, in the model's own transaction.
    A test scopes itself only to keys written by the running invocation. -#}

{#- Tests whose verdict on a table is the conjunction of their verdicts on its rows. -#}
{% macro row_wise_tests() -%}
{{ return(['not_null', 'accepted_values', 'relationships', 'not_negative', 'not_greater_than',
           'expression_is_true', 'ratio_within_bounds', 'columns_not_null', 'columns_not_negative']) }}
{%- endmacro %}

{#- Tests whose verdict is per group of rows sharing some columns. -#}
{% macro key_wise_tests() -%}
{{ return({'unique': 'column_name', 'unique_combination_of_columns': 'combination_of_columns'}) }}
{%- endmacro %}

{#- The keys (a list of columns) of the model under test, when the running test may read only
    the rows this invocation wrote in it; none otherwise. -#}
{% macro written_rows_keys(relation) %}
    {%- if not execute or model is not mapping or model.get('resource_type') != 'test' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set meta = model.get('test_metadata') or {} -%}
    {%- set tested = graph.nodes.get(model.get('attached_node') or '') -%}
    {%- if not meta or not tested or tested.config.materialized != 'incremental'
        or tested.config.incremental_strategy != 'replace_keys'
        or relation.identifier != tested.alias -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set keys = tested.config.unique_key -%}
    {%- if keys is string %}{% set keys = [keys] %}{% endif -%}
    {%- set kwargs = meta.get('kwargs') or {} -%}
    {%- if meta.name in key_wise_tests() -%}
        {%- set columns = kwargs.get(key_wise_tests()[meta.name]) -%}
        {%- if columns is string %}{% set columns = [columns] %}{% endif -%}
        {%- for key in keys -%}
            {%- if key not in (columns or []) %}{{ return(none) }}{% endif -%}
        {%- endfor -%}
    {%- elif meta.name not in row_wise_tests() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set written -%}
        select count(*) from intermediate._test_scopes
        where model_name = '{{ tested.alias }}' and invocation_id = '{{ invocation_id }}'
    {%- endset -%}
    {%- if run_query(written).columns[0].values()[0] == 0 %}{{ return(none) }}{% endif -%}
    {{ return(keys) }}
{% endmacro %}

{#- dbt's `where` config, and the written rows' scope of an incremental build. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set keys = written_rows_keys(relation) -%}
    {%- if where or keys -%}
        {%- set filtered -%}
        (select * from {{ relation }} as tested where {{ where or 'true' }}
        {%- if keys %}
            and exists (
                select 1 from intermediate."_scope_{{ relation.identifier }}" as written
                where {% for key in keys %}written.{{ key }} = tested.{{ key }}{{ ' and ' if not loop.last }}{% endfor %}
            )
        {%- endif %}) dbt_subquery
        {%- endset -%}
        {% do return(filtered) %}
    {%- else -%}
        {% do return(relation) %}
    {%- endif -%}
{%- endmacro %}

{#- In replace_keys, after the batch is merged: the batch's keys, for the tests. -#}
{% macro record_test_scope(temp, keys) %}
    drop table if exists intermediate."_scope_{{ this.identifier }}";
    create table intermediate."_scope_{{ this.identifier }}" as
    select distinct {{ keys | join(', ') }} from {{ temp }};
    delete from intermediate._test_scopes where model_name = '{{ this.identifier }}';
    insert into intermediate._test_scopes values ('{{ this.identifier }}', '{{ invocation_id }}');
{% endmacro %}
