"""Outgoing webhooks: signed deliveries of case events to other systems, retried with back-off."""
