"""The organisation template (.docx): its styles, header, footer and logo are what every
document is built on; kept in the instance folder, uploads validated and audited."""

from __future__ import annotations

import io
from pathlib import Path

import docx
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.documents import trail
from csirt.documents.errors import TemplateInvalidError

MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
TEMPLATE_FILENAME = "organisation-template.docx"
TEMPLATE_SETTING = "documents.template"  # what the audit trail names the template


def template_path(instance_path: Path) -> Path:
    """Where the organisation template is kept (instance folder)."""
    return instance_path / "documents" / TEMPLATE_FILENAME


def load_template(instance_path: Path) -> bytes | None:
    """The organisation template's bytes, if one was uploaded."""
    path = template_path(instance_path)
    return path.read_bytes() if path.is_file() else None


def save_template(session: Session, user: User, data: bytes, instance_path: Path) -> None:
    """Validate (size, opens with python-docx) and store the organisation template; audited."""
    if not data:
        raise TemplateInvalidError("the file is empty")
    if len(data) > MAX_TEMPLATE_BYTES:
        raise TemplateInvalidError(
            f"the file is larger than {MAX_TEMPLATE_BYTES // 1024 // 1024} MB"
        )
    try:
        docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several unrelated types for bad input
        raise TemplateInvalidError("not a .docx file python-docx can open") from exc
    path = template_path(instance_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
    trail.record(
        session, user, TEMPLATE_SETTING, AuditAction.DOCUMENT_TEMPLATE_UPLOAD, {"size": len(data)}
    )


def delete_template(session: Session, user: User, instance_path: Path) -> bool:
    """Remove the organisation template (builders fall back to the house style)."""
    path = template_path(instance_path)
    if not path.is_file():
        return False
    path.unlink()
    trail.record(session, user, TEMPLATE_SETTING, AuditAction.DOCUMENT_TEMPLATE_DELETE)
    return True
