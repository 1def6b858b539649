"""Peak memory and time of one intake worker under a corpus of hostile uploads (issue 13, 5).

One gunicorn worker (one thread) serves ``wsgi:intake`` on a fresh SQLite database; each file of
the corpus is posted anonymously to ``POST /api/v1/reports`` in turn. For each: the status, the
seconds, and the worker's peak resident memory so far (VmHWM). The target: every bomb a 4xx in
under 10 s and a worker that never goes above 300 MiB, the heaviest accepted image included.

    .venv/bin/python -m bench.bench_bombs
"""

from __future__ import annotations

import http.client
import io
import json
import subprocess
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

from PIL import Image

from bench.harness import GunicornServer, WorkerSettings, _proc_status_kib, process_tree
from tests.security.test_reporter_bombs import (
    DOCX,
    bad_crc_docx,
    encrypted_docx,
    pixel_bomb,
    zip_bomb,
)

SECRET = "bench-secret-key-0123456789abcdef0123456789"
LIMIT_MIB = 300


def largest_accepted(format_name: str) -> bytes:
    """A 6,300 x 6,300 RGB image (39.7 megapixels, just under the limit), under 20 MB."""
    side = 6_300
    gradient = Image.linear_gradient("L").resize((side, side))
    texture = Image.effect_noise((side, side), 8) if format_name == "JPEG" else gradient
    image = Image.merge("RGB", (gradient, texture, gradient.rotate(90)))
    out = io.BytesIO()
    image.save(out, format=format_name, **({"quality": 80} if format_name == "JPEG" else {}))
    return out.getvalue()


def inflating_docx(megabytes: int = 99) -> bytes:
    """A .docx inflating to ``megabytes`` MB in 1 MB entries (below the per-entry ratio check)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        block = b" " * (1024 * 1024 - 64)
        for number in range(megabytes):
            archive.writestr(f"word/part{number}.xml", block)
    return out.getvalue()


def corpus() -> list[tuple[str, bytes, str]]:
    return [
        ("pixel bomb 12,600 x 12,600 PNG", pixel_bomb(), "image/png"),
        ("pixel bomb 20,000 x 20,000 PNG", pixel_bomb(20_000), "image/png"),
        ("zip bomb .docx declaring 195 MB", zip_bomb(195), DOCX),
        ("zip bomb .docx declaring 95 MB", zip_bomb(95), DOCX),
        (".docx with a bad CRC", bad_crc_docx(), DOCX),
        (".docx with an encrypted entry", encrypted_docx(), DOCX),
        (".docx inflating to 99 MB in 1 MB parts", inflating_docx(99), DOCX),
        ("largest accepted PNG (39.7 MP)", largest_accepted("PNG"), "image/png"),
        ("largest accepted JPEG (39.7 MP)", largest_accepted("JPEG"), "image/jpeg"),
    ]


def post(server: GunicornServer, data: bytes, content_type: str) -> tuple[int, float]:
    boundary = uuid.uuid4().hex
    document = json.dumps({"answers": {"what_happened": "bench"}})
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="document"\r\n\r\n{document}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
            f'filename="file"\r\nContent-Type: {content_type}\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    began = time.monotonic()
    connection.request(
        "POST",
        "/api/v1/reports",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, time.monotonic() - began


def worker_peak_mib(server: GunicornServer) -> float:
    workers = [pid for pid in process_tree(server.process.pid) if pid != server.process.pid]
    return max((_proc_status_kib(pid, "VmHWM") for pid in workers), default=0) / 1024


def main() -> None:
    files = corpus()
    folder = Path(tempfile.mkdtemp(prefix="bench-bombs-"))
    database = folder / "bombs.sqlite3"
    url = f"sqlite:///{database}"
    env = {
        "CSIRT_DATABASE_URL": url,
        "CSIRT_SECRET_KEY": SECRET,
        "CSIRT_INSTANCE_PATH": str(folder / "instance"),
        "CSIRT_COOKIE_SECURE": "false",
        "CSIRT_MAX_UPLOAD_MB": "25",
    }
    subprocess.run(
        [".venv/bin/csirt", "db", "upgrade"], env={**env, "PATH": "/usr/bin:/bin"}, check=True
    )
    with GunicornServer(
        "wsgi:intake",
        settings=WorkerSettings(workers=1, threads=1),
        env=env,
        ready_path="/report/",
    ) as server:
        idle = worker_peak_mib(server)
        print(f"worker peak at start: {idle:.0f} MiB (limit {LIMIT_MIB} MiB)")
        print(f"{'file':<36} {'size':>9} {'status':>6} {'seconds':>8} {'peak MiB':>9}")
        worst = idle
        for name, data, content_type in files:
            status, seconds = post(server, data, content_type)
            peak = worker_peak_mib(server)
            worst = max(worst, peak)
            print(f"{name:<36} {len(data) / 1024:>7.0f}KB {status:>6} {seconds:>8.2f} {peak:>9.0f}")
        verdict = "ok" if worst < LIMIT_MIB else "OVER"
        print(f"worker peak over the corpus: {worst:.0f} MiB ({verdict})")


if __name__ == "__main__":
    main()
