"""Email over SMTP (smtplib). The Message-ID is derived from the reminder's id, so a message
sent again after a crash carries the same id (mail clients and archives see one message)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from core_app.domain.reminder import DeliveryError, OutgoingMessage


class SmtpChannel:
    #: an SMTP server does not drop a second message with the same Message-ID
    deduplicates = False

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        timeout_s: float = 10.0,
        username: str = "",
        password: str = "",
        starttls: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout_s = timeout_s
        self.username = username
        self.password = password
        self.starttls = starttls

    def message_id(self, message: OutgoingMessage) -> str:
        domain = self.sender.rpartition("@")[2] or "dentops.invalid"
        return f"<{message.idempotency_id}@{domain}>"

    def compose(self, message: OutgoingMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to_address
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = self.message_id(message)
        mail["X-Dentops-Reminder"] = message.idempotency_id
        mail.set_content(message.text)
        return mail

    def send(self, message: OutgoingMessage) -> str:
        mail = self.compose(message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as client:
                if self.starttls:
                    client.starttls()
                if self.username:
                    client.login(self.username, self.password)
                refused = client.send_message(mail)
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryError("smtp: recipient refused", retryable=False) from None
        except smtplib.SMTPResponseException as error:
            permanent = 500 <= error.smtp_code < 600
            raise DeliveryError(f"smtp: {error.smtp_code}", retryable=not permanent) from None
        except (TimeoutError, OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"smtp: {type(error).__name__}", retryable=True) from None
        if refused:
            raise DeliveryError("smtp: recipient refused", retryable=False)
        return self.message_id(message)
