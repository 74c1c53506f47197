"""The demo channel: appends each message as one JSON line to a file under the data directory.
Before appending it looks for the message's idempotency id in the file, so a message retried
after a crash is written once."""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from core_app.domain.reminder import DeliveryError, OutgoingMessage


class FileChannel:
    deduplicates = True

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: OutgoingMessage) -> str:
        line = json.dumps(
            {
                "id": message.idempotency_id,
                "channel": str(message.channel),
                "to": message.to_address,
                "subject": message.subject,
                "text": message.text,
                "written_at": datetime.now(UTC).isoformat(),
            }
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "r+") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)  # one writer at a time: check, then append
                handle.seek(0)
                marker = f'"id": "{message.idempotency_id}"'
                if not any(marker in existing for existing in handle):
                    handle.write(line + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
        except OSError as error:
            raise DeliveryError(f"file channel: {type(error).__name__}", retryable=True) from None
        return message.idempotency_id
