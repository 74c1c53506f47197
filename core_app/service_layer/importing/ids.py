"""Ids behind the import's keys: `provider#12` is stored (id 12); `provider+Main/Dr Ada` gets
its id when the import creates it."""

from __future__ import annotations


class Ids:
    def __init__(self) -> None:
        self.created: dict[str, int] = {}

    def __getitem__(self, key: str) -> int:
        _, stored, number = key.partition("#")
        return int(number) if stored else self.created[key]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and ("#" in key or key in self.created)

    def add(self, key: str, value: int) -> None:
        self.created[key] = value

    def get(self, key: str) -> int | None:
        _, stored, number = key.partition("#")
        return int(number) if stored else self.created.get(key)
