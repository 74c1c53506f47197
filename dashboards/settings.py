"""The dashboard's own settings (DENTOPS_DASHBOARD_*), beside the core's Settings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DashboardSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DENTOPS_DASHBOARD_", extra="ignore")

    idle_minutes: float = Field(
        15.0, gt=0, description="Sign a user out after this many minutes without activity."
    )
    cache_seconds: int = Field(60, ge=0, description="How long warehouse figures are cached.")
