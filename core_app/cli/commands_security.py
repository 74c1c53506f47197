"""Commands for the safeguards: audit chain, encryption keys, backups, break-glass access."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Annotated

import typer

from core_app.cli.context import Session, fail, refusals
from core_app.cli.output import emit, table
from core_app.config import Settings
from core_app.domain.staff import BREAK_GLASS_ACTIONS, Action
from core_app.service_layer import audit_chain, backups, break_glass, keys

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
EXIT_BROKEN = 7

audit_app = typer.Typer(help="The audit log's hash chain.", no_args_is_help=True)
keys_app = typer.Typer(help="Patient-data encryption keys.", no_args_is_help=True)
break_glass_app = typer.Typer(
    help="Emergency access beyond your role: time-limited, reason required, audited.",
    no_args_is_help=True,
)


@audit_app.command("verify")
def verify(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Recompute the chain; exit 7 and name the first broken entry if anything changed."""
    session: Session = ctx.obj
    report = session.run(lambda app, actor: audit_chain.verify_chain(app.uow(), actor))
    broken = report.broken
    if broken is None:
        human = f"audit chain ok: {report.verified} entries verified (head seq {report.head_seq})"
    else:
        human = (
            f"audit chain BROKEN at seq {broken.seq}, entry id {broken.audit_id}: "
            f"{broken.problem} ({report.verified} entries verified before it)"
        )
    emit({"audit_chain": report}, as_json=as_json, human=human)
    if not report.ok:
        raise typer.Exit(EXIT_BROKEN)


@keys_app.command("rotate")
def rotate(
    ctx: typer.Context,
    resume: Annotated[
        bool, typer.Option(help="Finish an interrupted rotation (no new key).")
    ] = False,
    batch: Annotated[int, typer.Option(min=1, help="Rows per transaction.")] = keys.BATCH,
    as_json: JsonOpt = False,
) -> None:
    """Make a new key the active one and re-encrypt every encrypted value with it."""
    session: Session = ctx.obj
    report = session.run(lambda app, actor: keys.rotate(app, actor, resume=resume, batch=batch))
    emit(
        {"rotation": report},
        as_json=as_json,
        human=f"active key {report.active_key_id}; re-encrypted "
        + ", ".join(f"{t}: {n} rows" for t, n in report.rows_reencrypted.items())
        + "\nrestart long-running dentops processes (API, dashboards) to load the new key",
    )


@keys_app.command("status")
def status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Encrypted values per key id, per column."""
    session: Session = ctx.obj
    report = session.run(keys.status)
    rows = [
        {"column": name, **{k: counts.get(k, 0) for k in report.key_ids}}
        for name, counts in report.values.items()
    ]
    emit(
        {"keys": report},
        as_json=as_json,
        human=f"active key {report.active_key_id}\n{table(rows, ['column', *report.key_ids])}",
    )


@keys_app.command("retire")
def retire(ctx: typer.Context, key_id: str, as_json: JsonOpt = False) -> None:
    """Remove a key from the key file; refused while any value still uses it."""
    session: Session = ctx.obj
    report = session.run(lambda app, actor: keys.retire(app, actor, key_id))
    emit(
        {"retired": key_id, "keys": report},
        as_json=as_json,
        human=f"key {key_id} retired; keys left: {', '.join(report.key_ids)}",
    )


def backup(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="New file for the encrypted backup.")],
    as_json: JsonOpt = False,
) -> None:
    """A consistent online copy of the database, encrypted with the backup key."""
    session: Session = ctx.obj
    report = session.run(lambda app, actor: backups.backup(app, actor, out))
    emit(
        {"backup": report},
        as_json=as_json,
        human=f"backup {report.path}: {report.tables} tables, {report.rows} rows"
        + (
            f"\nnew backup key in {Settings().backup_key_file}: keep a copy away from the backups"
            if report.created_key
            else ""
        ),
    )


def restore(
    source: Annotated[Path, typer.Option("--from", help="The backup file.")],
    as_json: JsonOpt = False,
) -> None:
    """Restore a backup into an empty database, then check every table against its manifest."""
    with refusals():
        report = backups.restore(Settings(), source)
    emit(
        {"restore": report},
        as_json=as_json,
        human=f"restored {report.tables} tables, {report.rows} rows into {report.database}; "
        "every table matches the manifest"
        + (
            f"\nwarning: the key file lacks keys {', '.join(report.missing_key_ids)}"
            if report.missing_key_ids
            else ""
        ),
    )


@break_glass_app.command("open")
def open_grant(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option(help="Why (required, 10+ characters).")],
    minutes: Annotated[int, typer.Option(help="How long (1-240).")] = 30,
    action: Annotated[
        list[str] | None,
        typer.Option(
            help=f"Action to grant (repeatable): {', '.join(sorted(BREAK_GLASS_ACTIONS))}."
        ),
    ] = None,
    clinic: Annotated[int | None, typer.Option(help="Clinic (default: your own).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Open an emergency grant for yourself; every use is audited and reviewed by an admin."""
    session: Session = ctx.obj
    wanted = [_action(a) for a in action] if action else list(break_glass.DEFAULT_ACTIONS)
    grant_id = session.run(
        lambda app, actor: break_glass.open_grant(
            app.uow(), actor, reason=reason, minutes=minutes, actions=wanted, clinic_id=clinic
        )
    )
    emit(
        {"grant_id": grant_id, "minutes": minutes, "actions": wanted},
        as_json=as_json,
        human=f"BREAK-GLASS grant {grant_id} open for {minutes} min: "
        f"{', '.join(wanted)}; every action is audited and will be reviewed",
    )


def _action(name: str) -> Action:
    try:
        return Action(name)
    except ValueError:
        fail(f"unknown action {name!r}", code="invalid_input", status=2)


@break_glass_app.command("list")
def list_grants(
    ctx: typer.Context,
    all_grants: Annotated[bool, typer.Option("--all", help="Reviewed ones too.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Grants awaiting review (admins)."""
    session: Session = ctx.obj
    grants = session.run(
        lambda app, actor: break_glass.list_grants(app.uow(), actor, unreviewed_only=not all_grants)
    )
    rows = [
        {
            "grant": g.grant_id,
            "user": g.username,
            "actions": ",".join(g.actions),
            "opened": f"{g.opened_at.astimezone(UTC):%Y-%m-%d %H:%M}",
            "open": "yes" if g.is_open else "no",
            "uses": g.uses,
            "reviewed": "yes" if g.reviewed_at else "no",
            "reason": g.reason,
        }
        for g in grants
    ]
    emit(
        {"grants": grants},
        as_json=as_json,
        human=table(
            rows, ["grant", "user", "actions", "opened", "open", "uses", "reviewed", "reason"]
        ),
    )


@break_glass_app.command("review")
def review(
    ctx: typer.Context,
    grant_id: int,
    note: Annotated[str, typer.Option(help="What the review found.")],
    as_json: JsonOpt = False,
) -> None:
    """Mark a grant reviewed (admins; not your own)."""
    session: Session = ctx.obj
    session.run(lambda app, actor: break_glass.review_grant(app.uow(), actor, grant_id, note=note))
    emit({"reviewed": grant_id}, as_json=as_json, human=f"grant {grant_id} reviewed")
