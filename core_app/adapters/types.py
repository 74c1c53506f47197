"""Column types: UTC timestamps that stay timezone-aware, and encrypted text."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Text
from sqlalchemy.types import TypeDecorator

from core_app.adapters.crypto import installed_keyring


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC; refuses naive datetimes; always returns aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; attach a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EncryptedText(TypeDecorator[str]):
    """Authenticated encryption of one column; `field` is bound in as associated data."""

    impl = Text
    cache_ok = True

    def __init__(self, field: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.field = field

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return installed_keyring().encrypt(str(value), field=self.field)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return installed_keyring().decrypt(value, field=self.field)


class EncryptedDate(TypeDecorator[date]):
    impl = Text
    cache_ok = True

    def __init__(self, field: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.field = field

    def process_bind_param(self, value: date | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return installed_keyring().encrypt(value.isoformat(), field=self.field)

    def process_result_value(self, value: str | None, dialect: Dialect) -> date | None:
        if value is None:
            return None
        return date.fromisoformat(installed_keyring().decrypt(value, field=self.field))
