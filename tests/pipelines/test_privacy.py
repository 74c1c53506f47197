"""No patient name, phone or email reaches the warehouse: every text column of every table in
the DuckDB file (raw, staging, intermediate, marts) is searched for the values the core holds,
read through the core's audited query; nor do the pipeline's logs carry them."""

from __future__ import annotations

import re

import duckdb

from core_app.service_layer import bootstrap, patients, users
from tests.pipelines.activity import CANARY
from tests.pipelines.conftest import ADMIN, Reference, Warehouse

PAGE = 500


def patient_identities(practice: Warehouse) -> tuple[set[str], set[str]]:
    """(names, contacts) of every patient: first and last names, and full names, phones,
    emails (lower case)."""
    names: set[str] = set()
    contacts: set[str] = set()
    app = bootstrap.connect(practice.settings)
    try:
        actor = users.actor_for(app.uow(), ADMIN)
        for clinic_id in practice.summary["clinic_ids"]:
            offset = 0
            while page := patients.list_patients(
                app.uow(), actor, clinic_id=clinic_id, limit=PAGE, offset=offset
            ):
                for p in page:
                    names |= {p.first_name.lower(), p.last_name.lower()}
                    contacts |= {f"{p.first_name} {p.last_name}".lower()}
                    contacts |= {c.lower() for c in (p.phone, p.email) if c}
                offset += PAGE
    finally:
        app.close()
    return names, contacts


def text_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    rows = con.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE data_type = 'VARCHAR' AND table_schema NOT IN ('information_schema', 'pg_catalog')"
    ).fetchall()
    return [(str(s), str(t), str(c)) for s, t, c in rows]


def test_no_patient_name_phone_or_email_in_any_text_column(reference: Reference):
    names, contacts = patient_identities(reference.practice)
    assert "zebulon" in names and "+1 555 0199" in contacts  # the patient added this morning
    assert len(names) > 50 and len(contacts) > 800
    hits = []
    with duckdb.connect(str(reference.practice.warehouse_path), read_only=True) as con:
        columns = text_columns(con)  # the file's tables, before the search's own
        con.execute("CREATE TEMP TABLE names AS SELECT unnest(?) AS needle", [sorted(names)])
        con.execute("CREATE TEMP TABLE contacts AS SELECT unnest(?) AS needle", [sorted(contacts)])
        for schema, table, column in columns:
            source = f'"{schema}"."{table}"'
            value = f'lower("{column}")'
            found = con.execute(
                f"SELECT count(*) FROM {source} WHERE {value} IN (SELECT needle FROM names) "  # noqa: S608
                f"OR EXISTS (SELECT 1 FROM contacts WHERE contains({value}, needle))"
            ).fetchall()[0][0]
            if found:
                hits.append(f"{schema}.{table}.{column}: {found}")
    assert {s for s, _, _ in columns} >= {"raw", "staging", "marts"}
    assert len(columns) > 50
    assert hits == []


def test_the_warehouse_file_holds_no_phone_or_email_pattern(reference: Reference):
    data = reference.practice.warehouse_path.read_bytes()
    assert not re.search(rb"\+1 555 \d{7}", data)
    assert b"@example." not in data


def test_the_pipeline_run_logs_no_patient_data(reference: Reference):
    """Full names, phones and emails (single names are common words: flow runs get random
    names such as 'poetic-vulture', which may match a surname)."""
    _, contacts = patient_identities(reference.practice)
    output = reference.output.lower()
    assert "raw.appointments" in output  # the log is there
    assert [c for c in contacts if c in output] == []


def test_the_canary_patient_reaches_neither_the_warehouse_nor_the_run_output(
    reference: Reference,
):
    """The canary planted this morning (distinctive first and last name, phone, email, notes):
    searched as substrings of every text column, in the file's bytes and in what `dentops
    pipeline run` printed (stdout, stderr, logs)."""
    found = []
    with duckdb.connect(str(reference.practice.warehouse_path), read_only=True) as con:
        for schema, table, column in text_columns(con):
            for name, value in CANARY.items():
                hits = con.execute(
                    f'SELECT count(*) FROM "{schema}"."{table}" '  # noqa: S608
                    f'WHERE contains(lower("{column}"), ?)',
                    [value.lower()],
                ).fetchall()[0][0]
                if hits:
                    found.append(f"{name} in {schema}.{table}.{column}")
    data = reference.practice.warehouse_path.read_bytes().lower()
    output = reference.output.lower()
    assert found == []
    assert [n for n, v in CANARY.items() if v.lower().encode() in data] == []
    assert [n for n, v in CANARY.items() if v.lower() in output] == []
