"""Notifications: mail behind a Protocol (SMTP or console), in-app notifications, preferences
and reminders (``csirt reminders send`` / ``csirt reminders digest``).

Every message about a case is content-free unless the case is TLP:CLEAR or TLP:GREEN: it carries
the case reference and a link, never the title, the summary or anything from a tip.
"""
