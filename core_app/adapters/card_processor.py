"""Card processors behind one interface: in person (the card terminal at the desk: the
payment is complete when recorded) and Stripe (a payment intent now, the payment when Stripe's
signed webhook says it succeeded). Only this module talks to Stripe."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import stripe


class ProcessorUnavailable(Exception):
    """The processor refused the request or could not be reached."""


class InvalidEvent(Exception):
    """A webhook payload whose signature, timestamp or content does not check out."""


@dataclass(frozen=True)
class IntentStarted:
    processor: str
    intent_id: str | None  # None: nothing to wait for (in person)
    client_secret: str | None
    status: str


@dataclass(frozen=True)
class ProcessorEvent:
    event_id: str
    event_type: str
    intent_id: str | None
    amount_cents: int | None
    currency: str | None
    metadata: dict[str, str]


class CardProcessor(Protocol):
    name: str
    completes_at_once: bool

    def start(
        self, *, amount_cents: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> IntentStarted: ...

    def verify_event(self, payload: bytes, signature: str | None) -> ProcessorEvent: ...


class InPersonProcessor:
    """The card was charged on the desk's terminal: record it, nothing to wait for."""

    name = "in_person"
    completes_at_once = True

    def start(
        self, *, amount_cents: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> IntentStarted:
        return IntentStarted(self.name, None, None, "succeeded")

    def verify_event(self, payload: bytes, signature: str | None) -> ProcessorEvent:
        raise InvalidEvent("the in-person processor sends no webhook events")


class StripeProcessor:
    name = "stripe"
    completes_at_once = False

    def __init__(
        self, *, api_key: str, webhook_secret: str, tolerance_s: int, api_base: str = ""
    ) -> None:
        addresses: Any = {"api": api_base} if api_base else None
        self._client = stripe.StripeClient(api_key, base_addresses=addresses, max_network_retries=0)
        self._webhook_secret = webhook_secret
        self._tolerance_s = tolerance_s

    def start(
        self, *, amount_cents: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> IntentStarted:
        try:
            intent = self._client.v1.payment_intents.create(
                params={
                    "amount": amount_cents,
                    "currency": currency.lower(),
                    "metadata": metadata,
                    "automatic_payment_methods": {"enabled": True},
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:  # the code only: messages may echo the request
            raise ProcessorUnavailable(f"stripe: {type(error).__name__}") from None
        return IntentStarted(self.name, intent.id, intent.client_secret, str(intent.status))

    def verify_event(self, payload: bytes, signature: str | None) -> ProcessorEvent:
        """Check the Stripe-Signature over the raw body and its timestamp's age."""
        if not self._webhook_secret:
            raise InvalidEvent("no webhook secret is configured")
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"), signature, self._webhook_secret, self._tolerance_s
            )
            event = json.loads(payload)
            obj = event["data"]["object"]
            return ProcessorEvent(
                event_id=str(event["id"]),
                event_type=str(event["type"]),
                intent_id=str(obj["id"]) if obj.get("object") == "payment_intent" else None,
                amount_cents=_int_or_none(obj.get("amount_received", obj.get("amount"))),
                currency=str(obj["currency"]).upper() if obj.get("currency") else None,
                metadata={str(k): str(v) for k, v in (obj.get("metadata") or {}).items()},
            )
        except stripe.SignatureVerificationError as error:
            raise InvalidEvent(f"signature check failed: {error.user_message or error}") from None
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            raise InvalidEvent("the event is not a Stripe event") from None


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def make_processor(
    kind: str, *, api_key: str, webhook_secret: str, tolerance_s: int, api_base: str = ""
) -> CardProcessor:
    if kind == "stripe":
        return StripeProcessor(
            api_key=api_key,
            webhook_secret=webhook_secret,
            tolerance_s=tolerance_s,
            api_base=api_base,
        )
    if kind == "in_person":
        return InPersonProcessor()
    raise ValueError(f"unknown card processor {kind!r}: use in_person or stripe")
