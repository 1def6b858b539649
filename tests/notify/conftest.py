from tests.teams.conftest import (  # noqa: F401 - shared fixtures
    Clock,
    World,
    channel,
    clock,
    mail_app,
    sink,
    smtp_sink,
    world,
)
