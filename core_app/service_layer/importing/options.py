"""The options of an import, checked before any file is read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from core_app.domain.catalog import DEFAULT_CATALOG
from core_app.domain.exceptions import ValidationError
from core_app.domain.hours import HoursBlock, parse_weekly_hours, zone
from core_app.domain.practice import ProviderKind, require_currency

_NAMESPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,29}$")
_HYGIENIST_NAME = re.compile(r"\b(hyg\w*|rdh)\b", re.IGNORECASE)
AUTO = "auto"


def namespace_for(folder: Path) -> str:
    """The default namespace: the folder's name, reduced to letters, digits, `.`, `_`, `-`."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", folder.resolve().name).strip("-._")
    return (cleaned or "import")[:30]


@dataclass(frozen=True)
class ImportOptions:
    """`namespace` prefixes every source key (`<namespace>:appointments:<id>`); `clinic` names
    the clinic of rows that name none; the rest apply to clinics and providers created."""

    namespace: str
    clinic: str
    timezone: str | None = None
    currency: str = "USD"
    country: str = "US"
    hours: str = "mon-fri 08:00-17:00"
    provider_kind: str = AUTO
    procedure: str = "D0120"

    @classmethod
    def for_folder(cls, folder: Path, **given: str | None) -> ImportOptions:
        """Options with the folder's defaults for namespace and clinic (None: the default)."""
        values = {name: value for name, value in given.items() if value is not None}
        values.setdefault("namespace", namespace_for(folder))
        values.setdefault("clinic", namespace_for(folder))
        return cls(**values)

    def check(self) -> tuple[HoursBlock, ...]:
        """Refuse unusable options; returns the parsed hours."""
        if not _NAMESPACE.match(self.namespace):
            raise ValidationError(
                f"namespace {self.namespace!r}: use 1-30 letters, digits, '.', '_' or '-'"
            )
        if not self.clinic.strip():
            raise ValidationError("the default clinic name must not be empty")
        if self.timezone is not None:
            zone(self.timezone)
        require_currency(self.currency)
        if not re.fullmatch(r"[A-Z]{2}", self.country):
            raise ValidationError(f"country must be an ISO 3166 code such as US: {self.country!r}")
        if self.provider_kind not in (AUTO, *(str(k) for k in ProviderKind)):
            raise ValidationError("provider kind must be auto, dentist or hygienist")
        if self.procedure not in {entry.code for entry in DEFAULT_CATALOG}:
            raise ValidationError(f"default procedure {self.procedure!r} is not a catalog code")
        return parse_weekly_hours(self.hours)

    def kind_for(self, name: str) -> ProviderKind:
        if self.provider_kind != AUTO:
            return ProviderKind(self.provider_kind)
        return ProviderKind.HYGIENIST if _HYGIENIST_NAME.search(name) else ProviderKind.DENTIST

    def source_ref(self, table: str, key: str) -> str:
        return f"{self.namespace}:{table}:{key}"

    def prefix(self, table: str) -> str:
        return f"{self.namespace}:{table}:"
