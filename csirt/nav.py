"""The console's main navigation, rendered once per app, permission set, locale and root.

The base layout showed ~15 links, each with a ``url_for`` and a permission check, on every
page. What the list holds depends only on the reader's permissions (a function of their roles),
the language and the app's endpoints, so its HTML is kept per app for each such combination;
a role change gives another permission set and so another entry at once.
"""

from __future__ import annotations

from flask import current_app, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape

from csirt.auth.permissions import Permission

# (endpoint, label, permission needed or None), in the order shown.
LINKS = (
    ("console.dashboard", _l("Dashboard"), None),
    ("cases.index", _l("Cases"), Permission.CASE_VIEW),
    ("intake_console.inbox", _l("Intake"), Permission.INTAKE_READ),
    ("triage.deadlines", _l("Deadlines"), Permission.CASE_VIEW),
    ("teams.my_work", _l("My work"), None),
    ("teams.index", _l("Teams"), Permission.TEAM_VIEW),
    ("documents.index", _l("Documents"), Permission.DOCUMENT_VIEW),
    ("inventory.index", _l("Inventory"), Permission.INVENTORY_VIEW),
    ("measures_console.index", _l("Public follow-up"), Permission.MEASURE_PUBLISH),
    ("alerts.index", _l("Alerts"), Permission.ALERT_VIEW),
    ("audit_review.index", _l("Audit"), Permission.AUDIT_VIEW),
    ("admin.users", _l("Users"), Permission.USER_MANAGE),
    ("admin.security", _l("Security"), Permission.SETTINGS_MANAGE),
    ("webhooks.index", _l("Webhooks"), Permission.WEBHOOK_MANAGE),
    ("auth.account", _l("Account"), None),
)


def main_nav() -> Markup:
    """The ``<li>`` items of the signed-in reader's main navigation."""
    permissions = current_user.permissions
    key = (permissions, str(get_locale()), request.script_root)
    cache: dict[object, Markup] = current_app.extensions.setdefault("csirt_nav", {})
    html = cache.get(key)
    if html is None:
        endpoints = current_app.view_functions
        html = Markup("\n      ").join(
            Markup('<li><a href="{}">{}</a></li>').format(url_for(endpoint), escape(str(label)))
            for endpoint, label, needed in LINKS
            if endpoint in endpoints and (needed is None or needed in permissions)
        )
        if len(cache) < 256:  # permission sets x languages: a handful in practice
            cache[key] = html
    return html
