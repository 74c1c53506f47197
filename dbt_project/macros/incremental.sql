{#- Incremental builds (see README.md, "Incremental runs").

    Bookkeeping, in the warehouse, written in the same transaction as the model it describes
    (dbt runs pre- and post-hooks inside the model's transaction), so a build killed at any
    point leaves every model and its bookkeeping together as they were or as they became:

    - intermediate._incremental_state: per model, the raw watermarks (raw._watermarks) it was
      last built from ('raw.<table>'), the last change-log entry it read from each producer
      ('changes:<producer>') and a few fingerprints (e.g. 'first_day:<clinic_id>').
      extract_load reads `updated_at >= watermark` and watermarks never move back, so every raw
      row loaded after a model was built has `updated_at >=` the watermark the model recorded:
      those rows are the model's changes.
    - intermediate._changes: the change log of the producers (fct_appointments, fct_payments,
      int_appointments_prior_counted): the key, clinic and days of every row whose content
      changed, in its old and its new version (a rescheduled appointment logs its old day and
      its new day). Consumers (the KPI marts, the ML marts) read the entries after their own
      cursor. An entry without row_id is a reset: the producer was rebuilt in full, so its
      consumers recompute everything.

    DuckDB-specific in places (`union all by name`, `delete ... using` forms are avoided but
    `exists` semi-joins and temp tables are plain SQL). -#}

{% macro create_incremental_bookkeeping() %}
create schema if not exists intermediate;
create table if not exists intermediate._incremental_state (
    model_name varchar, state_key varchar, watermark timestamp, seq bigint
);
create table if not exists intermediate._changes (
    model_name varchar, seq bigint, row_id bigint, clinic_id bigint, day_1 date, day_2 date
);
{% endmacro %}

{#- The raw watermark of `raw_table` this model was last built from (the start of time when
    there is none): the model's changes are the rows with updated_at at or after it. -#}
{% macro changed_since(raw_table) -%}
coalesce(
    (select max(watermark) from intermediate._incremental_state
     where model_name = '{{ this.identifier }}' and state_key = 'raw.{{ raw_table }}'),
    cast('0001-01-01' as timestamp)
)
{%- endmacro %}

{#- The last sequence number a producer has given out (entries may have been pruned, cursors
    stay). -#}
{% macro producer_seq(producer) -%}
greatest(
    coalesce((select max(seq) from intermediate._changes where model_name = '{{ producer }}'), 0),
    coalesce((select max(seq) from intermediate._incremental_state
              where state_key = 'changes:{{ producer }}'), 0)
)
{%- endmacro %}

{#- The producer's change-log entries this model has not read yet. -#}
{% macro changes_from(producer) -%}
(select * from intermediate._changes
 where model_name = '{{ producer }}'
   and seq > coalesce(
       (select max(seq) from intermediate._incremental_state
        where model_name = '{{ this.identifier }}' and state_key = 'changes:{{ producer }}'),
       0))
{%- endmacro %}

{#- True when a producer was rebuilt in full since this model read it: recompute everything. -#}
{% macro producer_was_reset(producer) -%}
exists (select 1 from {{ changes_from(producer) }} as reset where reset.row_id is null)
{%- endmacro %}

{#- Post-hook of every incremental model: what it was built from. `producers`: the change logs it
    reads; `fingerprints`: a query of (state_key, watermark) rows to keep. A producer also prunes
    the entries every consumer has read. -#}
{% macro record_incremental_state(producers=[], fingerprints=none, is_producer=false) %}
delete from intermediate._incremental_state where model_name = '{{ this.identifier }}';
insert into intermediate._incremental_state
select '{{ this.identifier }}', 'raw.' || table_name, watermark, cast(null as bigint) from raw._watermarks;
{%- for producer in producers %}
insert into intermediate._incremental_state
select '{{ this.identifier }}', 'changes:{{ producer }}', cast(null as timestamp), {{ producer_seq(producer) }};
{%- endfor %}
{%- if fingerprints %}
insert into intermediate._incremental_state
select '{{ this.identifier }}', state_key, watermark, cast(null as bigint) from ({{ fingerprints }}) as fingerprints;
{%- endif %}
{%- if is_producer %}
delete from intermediate._changes
where model_name = '{{ this.identifier }}'
  and seq <= (select min(seq) from intermediate._incremental_state where state_key = 'changes:{{ this.identifier }}');
{%- endif %}
{% endmacro %}

{#- Pre-hook of a producer: a full build logs a reset, so that its consumers recompute all. -#}
{% macro log_reset_unless_incremental() %}
{%- if not is_incremental() %}
insert into intermediate._changes
select '{{ this.identifier }}', {{ producer_seq(this.identifier) }} + 1, null, null, null, null
{%- else %}
select 1
{%- endif %}
{% endmacro %}

{#- The final select of a model that replaces whole keys (a clinic-day, a patient) on an
    incremental run: the recomputed rows of the affected keys, and one marker row per affected
    key, so that a key with no rows any more (an appointment moved away from the only day it
    was on) is deleted too. A full build is just the rows. -#}
{% macro rows_with_markers(rows, affected) -%}
{%- if is_incremental() %}
select *, false as _is_marker from {{ rows }}
union all by name
select *, true as _is_marker from {{ affected }}
{%- else %}
select * from {{ rows }}
{%- endif %}
{%- endmacro %}

{#- Incremental strategy `replace_keys`: delete every stored row of the keys in the new batch,
    insert the new rows (markers left out). A model with meta.change_log logs the rows whose
    content changed (old and new versions) to intermediate._changes first. -#}
{% macro get_incremental_replace_keys_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set temp = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- if keys is string %}{% set keys = [keys] %}{% endif -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    {%- set temp_columns = adapter.get_columns_in_relation(temp) | map(attribute='name') | list -%}
    {%- set key_match -%}
        {%- for key in keys %}stored.{{ key }} = batch.{{ key }}{{ ' and ' if not loop.last }}{% endfor -%}
    {%- endset -%}
    {%- set new_rows -%}
        (select {{ columns }} from {{ temp }}{% if '_is_marker' in temp_columns %} where not _is_marker{% endif %})
    {%- endset -%}
    {%- set log = (config.get('meta') or {}).get('change_log') -%}
    {%- if log %}
    insert into intermediate._changes (model_name, seq, row_id, clinic_id, day_1, day_2)
    select
        '{{ this.identifier }}',
        {{ producer_seq(this.identifier) }} + 1,
        {{ log['row_id'] }}, {{ log['clinic_id'] }}, {{ log.get('day_1', 'null') }}, {{ log.get('day_2', 'null') }}
    from (
        (select {{ columns }} from {{ target }} as stored
         where exists (select 1 from {{ temp }} as batch where {{ key_match }})
         except
         select * from {{ new_rows }} as fresh)
        union all
        (select * from {{ new_rows }} as fresh
         except
         select {{ columns }} from {{ target }} as stored
         where exists (select 1 from {{ temp }} as batch where {{ key_match }}))
    ) as changed;
    {%- endif %}
    delete from {{ target }} as stored
    where exists (select 1 from {{ temp }} as batch where {{ key_match }});
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ new_rows }} as fresh
{% endmacro %}

{#- Each clinic's first recorded day, a fingerprint of fct_appointments (new patients are those
    registered on or after it): when it moves, the clinic's rows are recomputed. -#}
{% macro clinic_first_days() -%}
select
    clinic_id,
    'first_day:' || cast(clinic_id as {{ dbt.type_string() }}) as state_key,
    cast(min(date_day) as {{ dbt.type_timestamp() }}) as watermark
from {{ ref('int_clinic_days_spanned') }}
group by clinic_id
{%- endmacro %}

{#- The clinics whose fingerprint differs from the one this model recorded. -#}
{% macro clinics_with_moved_first_day() -%}
select first_days.clinic_id
from ({{ clinic_first_days() }}) as first_days
left join intermediate._incremental_state as state
    on state.model_name = '{{ this.identifier }}'
    and state.state_key = first_days.state_key
where state.watermark is distinct from first_days.watermark
{%- endmacro %}

{#- `where`/`and` clause of an incremental build only. -#}
{% macro when_incremental(clause) -%}
{%- if is_incremental() %} {{ clause }}{% endif -%}
{%- endmacro %}

{#- At compile time, on an incremental build: must this model recompute everything? When a
    producer it reads was rebuilt in full, or a clinic changed (timezone, currency, country). -#}
{% macro incremental_reset(producers, clinics_relation) %}
    {%- if not is_incremental() or not execute %}{{ return(false) }}{% endif -%}
    {%- set query -%}
        select
        {%- for producer in producers %} {{ producer_was_reset(producer) }} or{% endfor %}
            exists (select 1 from {{ clinics_relation }} where updated_at >= {{ changed_since('clinics') }})
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0]) }}
{% endmacro %}

{#- Whether a row's clinic and day are among the affected ones (CTE affected_days), on a partial
    build; always true otherwise. -#}
{% macro in_affected_days(partial, clinic_column, day_column) -%}
{%- if partial -%}
exists (
    select 1 from affected_days
    where affected_days.clinic_id = {{ clinic_column }} and affected_days.date_day = {{ day_column }}
)
{%- else -%}
true
{%- endif -%}
{%- endmacro %}

{#- The keys whose stored rows an incremental build replaces: the affected ones, or all stored
    ones when everything is recomputed. -#}
{% macro replaced_keys(partial, affected, keys) -%}
{%- if partial -%}
{{ affected }}
{%- else -%}
(select distinct {{ keys | join(', ') }} from {{ this }})
{%- endif -%}
{%- endmacro %}

{#- ` and` the row's clinic and patient are among the affected ones (CTE affected_patients), on
    a partial build. -#}
{% macro patient_in_scope(partial, alias) -%}
{%- if partial %}
    and exists (
        select 1 from affected_patients
        where affected_patients.clinic_id = {{ alias }}.clinic_id
            and affected_patients.patient_key = {{ alias }}.patient_key
    )
{%- endif -%}
{%- endmacro %}

{#- After `name as`: a CTE that is a plain read of a table, to be inlined where it is used, not
    copied whole into a temporary result (DuckDB materializes a CTE read more than once, which
    for a million-row table costs more than the rest of an incremental build of the model). -#}
{% macro inlined() -%}
    {{ return(adapter.dispatch('inlined')()) }}
{%- endmacro %}

{% macro default__inlined() -%}
{%- endmacro %}

{% macro duckdb__inlined() -%}
not materialized
{%- endmacro %}

{% macro postgres__inlined() -%}
not materialized
{%- endmacro %}
