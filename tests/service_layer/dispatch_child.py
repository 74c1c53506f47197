"""A dispatcher in its own process, for the crash test: dispatches once at a fixed clock
(argv[1], ISO) with the settings from the environment (DENTOPS_*), SMTP for email."""

from __future__ import annotations

import sys
from datetime import datetime

from core_app.config import Settings
from core_app.domain.staff import SYSTEM
from core_app.service_layer import bootstrap
from core_app.service_layer.dispatch import DispatchOptions, dispatch_due
from core_app.service_layer.reminder_channels import channels_for


def main() -> None:
    now = datetime.fromisoformat(sys.argv[1])
    settings = Settings()
    app = bootstrap.connect(settings, clock=lambda: now)
    report = dispatch_due(
        app.uow(), SYSTEM, channels_for(settings), options=DispatchOptions(batch_size=50)
    )
    print(report.as_dict())  # only reached if nobody kills us


if __name__ == "__main__":
    main()
