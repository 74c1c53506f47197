"""SMS through a Twilio-style HTTP API: POST a form to
`{base_url}/2010-04-01/Accounts/{account_sid}/Messages.json` with basic auth. Each request carries
`Idempotency-Key: dentops-reminder-<id>`, so a provider that honours it sends a message retried
after a crash once."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

from core_app.domain.reminder import DeliveryError, OutgoingMessage


class HttpSmsChannel:
    #: the provider drops a second request with the same idempotency key
    deduplicates = True

    def __init__(
        self,
        *,
        base_url: str,
        account_sid: str,
        auth_token: str,
        sender: str,
        timeout_s: float = 10.0,
    ) -> None:
        self.url = (
            f"{base_url.rstrip('/')}/2010-04-01/Accounts/"
            f"{urllib.parse.quote(account_sid, safe='')}/Messages.json"
        )
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("the SMS base URL must be http:// or https://")
        token = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._authorization = f"Basic {token}"
        self.sender = sender
        self.timeout_s = timeout_s

    def send(self, message: OutgoingMessage) -> str:
        body = urllib.parse.urlencode(
            {"To": message.to_address, "From": self.sender, "Body": message.text}
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.url,
            data=body,
            method="POST",
            headers={
                "Authorization": self._authorization,
                "Content-Type": "application/x-www-form-urlencoded",
                "Idempotency-Key": message.idempotency_id,
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            retryable = error.code >= 500 or error.code == 429
            raise DeliveryError(f"sms provider: HTTP {error.code}", retryable=retryable) from None
        except TimeoutError:
            raise DeliveryError("sms provider: timed out", retryable=True) from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise DeliveryError(f"sms provider: {type(error).__name__}", retryable=True) from None
        return str(answer.get("sid") or message.idempotency_id)
