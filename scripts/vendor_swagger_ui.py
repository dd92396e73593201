"""Vendor Swagger UI into src/diary/static/vendor/swagger-ui for /api/v1/docs.

Usage (from the repository root; needs npm)::

    python scripts/vendor_swagger_ui.py 5.35.0

Copies swagger-ui-bundle.js, swagger-ui.css and the licence files from the
swagger-ui-dist npm package, and moves the icons that swagger-ui.css carries as
``data:`` URIs into files beside it (img/icon-N.svg): Diary's Content-Security-Policy
is ``default-src 'self'``, which blocks ``data:`` images.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from urllib.parse import unquote

TARGET = Path(__file__).resolve().parent.parent / "src/diary/static/vendor/swagger-ui"
FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt"]
# url("data:…") with CSS escapes (\") inside, url('data:…') or url(data:…).
DATA_URI = re.compile(
    r"""url\((?:"(data:image/(?:[^"\\]|\\.)*)"|'(data:image/(?:[^'\\]|\\.)*)'|(data:image/[^)]*))\)"""
)
EXTENSIONS = {"image/svg+xml": ".svg", "image/png": ".png", "image/gif": ".gif", "image/jpeg": ".jpg"}


def main(version: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"swagger-ui-dist@{version}"], cwd=tmp, check=True)
        with tarfile.open(next(Path(tmp).glob("swagger-ui-dist-*.tgz"))) as tar:
            tar.extractall(tmp, filter="data")
        package = Path(tmp) / "package"
        if TARGET.exists():
            shutil.rmtree(TARGET)
        (TARGET / "img").mkdir(parents=True)
        for name in FILES:
            shutil.copy(package / name, TARGET / name)
    css = (TARGET / "swagger-ui.css").read_text()
    css = re.sub(r"/\*# sourceMappingURL=.*?\*/", "", css)
    css = DATA_URI.sub(_to_file, css)
    (TARGET / "swagger-ui.css").write_text(css)
    (TARGET / "VERSION").write_text(
        f"swagger-ui-dist {version} from the npm registry, by scripts/vendor_swagger_ui.py:\n"
        "swagger-ui-bundle.js, swagger-ui.css (data: icons moved to img/), LICENSE "
        "(Apache-2.0), NOTICE. Served by /api/v1/docs.\n"
    )


def _to_file(match: re.Match) -> str:
    uri = re.sub(r"\\(.)", r"\1", next(group for group in match.groups() if group))
    header, _, payload = uri.partition(",")
    data = base64.b64decode(payload) if header.endswith(";base64") else unquote(payload).encode()
    mime = header[len("data:"):].split(";")[0]
    name = "icon-" + hashlib.sha256(data).hexdigest()[:12] + EXTENSIONS[mime]
    (TARGET / "img" / name).write_bytes(data)
    return f'url("img/{name}")'


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "5.35.0")
