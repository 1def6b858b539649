"""What the inventory's console pages and API share: the register as a CSV download."""

from __future__ import annotations

from datetime import datetime

from flask import Response, current_app


def csv_response(text: str) -> Response:
    """The register as a CSV download (UTF-8 with BOM)."""
    day = datetime.now(current_app.config["CSIRT"].tz).date().isoformat()
    return Response(
        text.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="inventory-{day}.csv"'},
    )
