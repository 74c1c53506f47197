"""Which channel adapter sends what, from the settings; and one dispatch run for an app (the
CLI and the Prefect flow call `run_dispatch`).

Email goes over SMTP when `DENTOPS_SMTP_HOST` is set, text messages through the SMS provider
when `DENTOPS_SMS_BASE_URL` is set; otherwise each goes to the demo's JSON-lines file.
"""

from __future__ import annotations

from datetime import timedelta

from core_app.adapters.channels.file import FileChannel
from core_app.adapters.channels.sms import HttpSmsChannel
from core_app.adapters.channels.smtp import SmtpChannel
from core_app.config import Settings
from core_app.domain.reminder import Channel, ReminderChannel
from core_app.domain.staff import Actor
from core_app.service_layer import reminders
from core_app.service_layer.bootstrap import App
from core_app.service_layer.dispatch import DispatchOptions, DispatchReport, dispatch_due


def channels_for(settings: Settings) -> dict[Channel, ReminderChannel]:
    demo = FileChannel(settings.reminder_outbox_file)
    email: ReminderChannel = demo
    sms: ReminderChannel = demo
    if settings.smtp_host:
        email = SmtpChannel(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            timeout_s=settings.channel_timeout_s,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value(),
            starttls=settings.smtp_starttls,
        )
    if settings.sms_base_url:
        sms = HttpSmsChannel(
            base_url=settings.sms_base_url,
            account_sid=settings.sms_account_sid,
            auth_token=settings.sms_auth_token.get_secret_value(),
            sender=settings.sms_from,
            timeout_s=settings.channel_timeout_s,
        )
    return {Channel.EMAIL: email, Channel.SMS: sms}


def options_for(settings: Settings, *, max_batches: int | None = None) -> DispatchOptions:
    return DispatchOptions(
        batch_size=settings.reminder_batch_size,
        lease=timedelta(seconds=settings.reminder_lease_s),
        max_attempts=settings.reminder_max_attempts,
        backoff=timedelta(seconds=settings.reminder_backoff_s),
        max_batches=max_batches,
    )


def run_dispatch(
    app: App, actor: Actor, *, max_batches: int | None = None, catch_up: bool = True
) -> dict[str, object]:
    """One dispatcher run: schedule reminders for upcoming appointments that have none (bulk
    loads write none), then send what is due."""
    scheduled = reminders.schedule_upcoming(app.uow(), actor) if catch_up else 0
    report: DispatchReport = dispatch_due(
        app.uow(),
        actor,
        channels_for(app.settings),
        options=options_for(app.settings, max_batches=max_batches),
    )
    return {"caught_up": scheduled, **report.as_dict()}
