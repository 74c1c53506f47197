"""Wiring: settings to keys, engine, mappers and units of work; adapters are composed here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session, sessionmaker

from core_app.adapters.crypto import KeyRing, create_key_file, install_keyring, load_key_file
from core_app.adapters.db import backend_name, make_engine, serialise_on_the_audit_chain
from core_app.adapters.orm import start_mappers
from core_app.config import Settings
from core_app.domain.exceptions import ValidationError
from core_app.domain.staff import SYSTEM, Role
from core_app.service_layer import users
from core_app.service_layer.unit_of_work import Clock, UnitOfWork, system_clock


@dataclass
class App:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    keyring: KeyRing
    clock: Clock = system_clock
    exclusive: bool = False

    def uow(self) -> UnitOfWork:
        return UnitOfWork(
            self.session_factory, clock=self.clock, retries=self.settings.transaction_retries
        )

    @property
    def backend(self) -> str:
        return backend_name(self.engine)

    def close(self) -> None:
        self.engine.dispose()
        if self.exclusive:  # back to the write-ahead log that everyone else expects
            shared = make_engine(
                self.settings.database_url, busy_timeout_s=self.settings.sqlite_busy_timeout_s
            )
            with shared.connect():
                pass
            shared.dispose()


def connect(settings: Settings, *, clock: Clock = system_clock, exclusive: bool = False) -> App:
    """The practice's database and keys. `exclusive`: nobody else uses the database meanwhile
    (a new database being filled in bulk; see `core_app.adapters.db.make_engine`)."""
    start_mappers()
    keyring = load_key_file(settings.key_file)
    install_keyring(keyring)
    engine = make_engine(
        settings.database_url, busy_timeout_s=settings.sqlite_busy_timeout_s, exclusive=exclusive
    )
    factory = sessionmaker(engine, expire_on_commit=False)
    if engine.dialect.name == "postgresql":
        serialise_on_the_audit_chain(factory)
    return App(
        settings=settings,
        engine=engine,
        session_factory=factory,
        keyring=keyring,
        clock=clock,
        exclusive=exclusive,
    )


@dataclass(frozen=True)
class InitReport:
    database: str
    key_file: str
    created_keys: bool
    schema_revision: str | None
    admin_created: bool


def initialise(
    settings: Settings, *, admin_username: str | None, admin_password: str | None
) -> InitReport:
    """Create keys (if missing), migrate the schema to head and add the first admin. Re-runnable."""
    from core_app.adapters import migrate  # Alembic costs ~0.5 s of import: only for init

    created_keys = not settings.key_file.exists()
    if created_keys:
        create_key_file(settings.key_file)
    app = connect(settings)
    try:
        migrate.upgrade(app.engine)
        admin_created = False
        if not users.has_users(app.uow()):
            if not admin_username or not admin_password:
                raise ValidationError(
                    "no staff user exists yet: give --admin-username and --admin-password "
                    "(or DENTOPS_ADMIN_USERNAME / DENTOPS_ADMIN_PASSWORD)"
                )
            users.add_user(
                app.uow(), SYSTEM, username=admin_username, password=admin_password, role=Role.ADMIN
            )
            admin_created = True
        return InitReport(
            database=app.engine.url.render_as_string(hide_password=True),
            key_file=str(settings.key_file),
            created_keys=created_keys,
            schema_revision=migrate.current_revision(app.engine),
            admin_created=admin_created,
        )
    finally:
        app.close()


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())
