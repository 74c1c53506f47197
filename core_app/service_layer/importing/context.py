"""What every stage of an import plan shares: options, the practice, the stored records under the
namespace, the problems found so far and the moment of the import."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from core_app.adapters.interchange import (
    StoredAppointment,
    StoredPatient,
    StoredPayment,
    stored_appointments,
    stored_patients,
    stored_payments,
)
from core_app.service_layer.importing.options import ImportOptions
from core_app.service_layer.importing.parse import Parsed
from core_app.service_layer.importing.problems import Problems
from core_app.service_layer.importing.world import ClinicPlan, World
from core_app.service_layer.unit_of_work import UnitOfWork


@dataclass
class Stored:
    """Records imported before under this namespace, by source key (the file's id)."""

    patients: dict[str, StoredPatient]
    appointments: dict[str, StoredAppointment]
    payments: dict[str, StoredPayment]

    @classmethod
    def load(cls, uow: UnitOfWork, options: ImportOptions) -> Stored:
        connection = uow.session.connection()
        patients = options.prefix("patients")
        appointments = options.prefix("appointments")
        payments = options.prefix("payments")
        return cls(
            patients={
                (p.source_ref or "")[len(patients) :]: p
                for p in stored_patients(connection, patients)
            },
            appointments={
                (a.source_ref or "")[len(appointments) :]: a
                for a in stored_appointments(connection, appointments)
            },
            payments={
                (p.source_ref or "")[len(payments) :]: p
                for p in stored_payments(connection, payments)
            },
        )


@dataclass
class Context:
    uow: UnitOfWork
    options: ImportOptions
    world: World
    stored: Stored
    parsed: Parsed
    problems: Problems
    now: int
    reported: set[str] = field(default_factory=set)

    def clinic(self, name: str, file: str, line: int, column: str) -> ClinicPlan | None:
        """The clinic of that name; if it cannot be had, say why once (at its first mention)."""
        found = self.world.clinic(name)
        if isinstance(found, ClinicPlan):
            return found
        if name not in self.reported:
            self.reported.add(name)
            self.problems.add(file, line, column, found)
        else:
            self.problems.bad.add((file, line))
        return None

    def uow_connection(self) -> Connection:
        return self.uow.session.connection()

    def fail(self, file: str, line: int, column: str, reason: str) -> None:
        self.problems.add(file, line, column, reason)
