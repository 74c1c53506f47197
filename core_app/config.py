"""One settings object for the whole system; every value can come from a DENTOPS_* variable."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
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

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'dentops.db'}"
        if self.warehouse_path == Path():
            self.warehouse_path = self.data_dir / "warehouse.duckdb"
        if self.key_file == Path():
            self.key_file = self.data_dir / "keys.json"
        if self.backup_key_file == Path():
            self.backup_key_file = self.data_dir / "backup.key"
        return self
