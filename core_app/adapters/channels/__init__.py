"""Reminder channels: email over SMTP, SMS through a Twilio-style HTTP API, and a JSON-lines
file for the demo. Each implements `core_app.domain.reminder.ReminderChannel`."""
