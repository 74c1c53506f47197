"""One settings object for the whole system; every value can come from a DENTOPS_* variable."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DENTOPS_", extra="ignore")

    data_dir: Path = Field(
        Path("data"), description="Where the SQLite file, keys and the warehouse live."
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the operational database; default: SQLite under data_dir.",
    )
    warehouse_path: Path = Field(
        Path(), description="DuckDB warehouse file; default: data_dir/warehouse.duckdb."
    )
    key_file: Path = Field(
        Path(),
        description="JSON key file (encryption + pseudonymisation keys), mode 0600; "
        "default: data_dir/keys.json. Created by `dentops init`, never committed.",
    )
    backup_key_file: Path = Field(
        Path(),
        description="Key of the encrypted backups (mode 0600; keep a copy away from the "
        "backups, never in git); default: data_dir/backup.key, created by the first backup.",
    )
    sqlite_busy_timeout_s: float = Field(
        60.0, description="How long a SQLite writer waits for the lock before giving up."
    )
    transaction_retries: int = Field(
        8, description="Retries of a use case after a serialization failure or lock timeout."
    )
    # --- reminders (docs/reminders.md); credentials only from the environment, never committed
    smtp_host: str = Field("", description="SMTP server for email reminders; empty: file channel.")
    smtp_port: int = Field(25, description="SMTP server port.")
    smtp_from: str = Field("reminders@dentops.invalid", description="Sender of email reminders.")
    smtp_username: str = Field("", description="SMTP login (empty: no login).")
    smtp_password: SecretStr = Field(SecretStr(""), description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    sms_base_url: str = Field(
        "", description="Base URL of a Twilio-style SMS API; empty: file channel."
    )
    sms_account_sid: str = Field("", description="SMS API account id (basic-auth user).")
    sms_auth_token: SecretStr = Field(SecretStr(""), description="SMS API token.")
    sms_from: str = Field("", description="Sender number or name of text messages.")
    channel_timeout_s: float = Field(10.0, description="Timeout of one SMTP or SMS request.")
    reminder_outbox_file: Path = Field(
        Path(), description="The demo channel's JSON-lines file; default: data_dir/reminders.jsonl."
    )
    reminder_lease_s: float = Field(
        300.0, description="How long a dispatcher holds claimed reminders (> channel timeout)."
    )
    reminder_max_attempts: int = Field(5, description="Attempts before a reminder fails.")
    reminder_backoff_s: float = Field(60.0, description="First retry delay; doubles each time.")
    reminder_batch_size: int = Field(50, description="Reminders claimed per dispatcher batch.")

    # --- API (issue 8): sessions, sign-in limits, card processor ---
    session_idle_timeout_s: int = Field(
        1800, gt=0, description="An API session unused this long expires (seconds)."
    )
    session_max_lifetime_s: int = Field(
        12 * 3600, gt=0, description="An API session expires this long after sign-in (seconds)."
    )
    sign_in_max_failures: int = Field(
        5, gt=0, description="Failed sign-ins of one username within the window that lock it."
    )
    sign_in_failure_window_s: int = Field(
        900, gt=0, description="How far back failed sign-ins count towards a lock (seconds)."
    )
    sign_in_lockout_s: int = Field(
        900, gt=0, description="How long a locked username stays locked (seconds)."
    )
    api_workers: int = Field(
        0,
        ge=0,
        le=64,
        description="API worker processes; 0: one per CPU, at most 4 (`dentops api --workers`).",
    )
    api_threads: int = Field(
        0, ge=0, description="Threads serving API requests; 0: 1 on SQLite, 16 on PostgreSQL."
    )
    card_processor: str = Field(
        "in_person", description="`in_person` (record card payments taken at the desk) or `stripe`."
    )
    stripe_api_key: str = Field(
        "", description="Stripe secret key (only with card_processor=stripe)."
    )
    stripe_api_base: str = Field(
        "", description="Override of Stripe's API address (tests point it at a loopback server)."
    )
    stripe_webhook_secret: str = Field("", description="Signing secret of the Stripe webhook.")
    stripe_webhook_tolerance_s: int = Field(
        300, gt=0, description="Stripe events signed longer ago than this are refused (seconds)."
    )

    def worker_processes(self) -> int:
        """The API's worker processes (`api_workers`, 0: one per CPU, at most 4)."""
        return self.api_workers or max(1, min(4, os.cpu_count() or 1))

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'dentops.db'}"
        if self.warehouse_path == Path():
            self.warehouse_path = self.data_dir / "warehouse.duckdb"
        if self.reminder_outbox_file == Path():
            self.reminder_outbox_file = self.data_dir / "reminders.jsonl"
        if self.key_file == Path():
            self.key_file = self.data_dir / "keys.json"
        if self.backup_key_file == Path():
            self.backup_key_file = self.data_dir / "backup.key"
        return self
