"""Domain exceptions: each names the problem in words a member of staff understands."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the request; nothing was written."""

    code = "domain_error"


class ValidationError(DomainError):
    code = "invalid_input"


class NotFound(DomainError):
    code = "not_found"

    def __init__(self, entity: str, entity_id: object) -> None:
        super().__init__(f"{entity} {entity_id} does not exist")
        self.entity = entity
        self.entity_id = entity_id


class SlotUnavailable(DomainError):
    """The provider, chair or patient already holds an overlapping active appointment."""

    code = "slot_unavailable"

    def __init__(self, *, resource: str, resource_id: int, holder_appointment_id: int) -> None:
        super().__init__(
            f"{resource} {resource_id} is held by appointment {holder_appointment_id} at that time"
        )
        self.resource = resource
        self.resource_id = resource_id
        self.holder_appointment_id = holder_appointment_id


class OutsideHours(DomainError):
    code = "outside_hours"


class ProcedureNotAllowed(DomainError):
    code = "procedure_not_allowed"


class BookingInPast(DomainError):
    code = "booking_in_past"


class IllegalTransition(DomainError):
    code = "illegal_transition"


class OverbookRefused(DomainError):
    code = "overbook_refused"


class RefundExceedsPayment(DomainError):
    code = "refund_exceeds_payment"


class CurrencyMismatch(DomainError):
    code = "currency_mismatch"


class IdempotencyConflict(DomainError):
    """The idempotency key was used before for a request with different content."""

    code = "idempotency_conflict"


class PermissionDenied(DomainError):
    code = "permission_denied"


class AuthenticationFailed(DomainError):
    code = "authentication_failed"
