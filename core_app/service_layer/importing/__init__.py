"""Import and export of the interchange format (docs/import-format.md)."""

from core_app.service_layer.importing.load import FileCounts, ImportReport, import_directory
from core_app.service_layer.importing.options import ImportOptions
from core_app.service_layer.importing.problems import ImportProblem, ImportRefused

__all__ = [
    "FileCounts",
    "ImportOptions",
    "ImportProblem",
    "ImportRefused",
    "ImportReport",
    "import_directory",
]
