"""What is wrong with an import, by file, line and column; the import is refused as a whole."""

from __future__ import annotations

from dataclasses import dataclass, field

from core_app.domain.exceptions import ValidationError
from core_app.service_layer.importing.csv_format import FILES

_FILE_ORDER = {spec.name: n for n, spec in enumerate(FILES)}


@dataclass(frozen=True)
class ImportProblem:
    """`line` is the record's first line in the file (the header is line 1; 0: the whole file);
    `column` is empty when the problem is the row or the file as a whole."""

    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.column + ': ' if self.column else ''}{self.reason}"

    def sort_key(self) -> tuple[int, str, int, str, str]:
        return (_FILE_ORDER.get(self.file, 9), self.file, self.line, self.column, self.reason)


class ImportRefused(ValidationError):
    """The files break the format or the core's rules; nothing was written."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = sorted(set(problems), key=ImportProblem.sort_key)
        first = "; ".join(str(p) for p in self.problems[:3])
        more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        super().__init__(
            f"{len(self.problems)} problem(s) in the import, nothing written: {first}{more}"
        )


@dataclass
class Problems:
    """Collects problems; `bad` remembers the rows that cannot be used further."""

    found: list[ImportProblem] = field(default_factory=list)
    bad: set[tuple[str, int]] = field(default_factory=set)

    def add(self, file: str, line: int, column: str, reason: str) -> None:
        self.found.append(ImportProblem(file, line, column, reason))
        self.bad.add((file, line))

    def is_bad(self, file: str, line: int) -> bool:
        return (file, line) in self.bad

    def __bool__(self) -> bool:
        return bool(self.found)

    def refuse_if_any(self) -> None:
        if self.found:
            raise ImportRefused(self.found)
