#!/usr/bin/env python3
"""Take README's screenshot (docs/screenshot.png): the test user's dashboard in a
seeded app, in Debian's Chromium through Playwright.

Run: ``.venv/bin/python docs/screenshot.py`` (needs ``pip install -e '.[test]'``
and /usr/bin/chromium). Works in a temporary folder; touches nothing else.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent / "screenshot.png"
ENTRIES = [
    (timedelta(days=9, hours=3), "Started keeping a diary again. Small steps: one line a day."),
    (timedelta(days=2, hours=5), "Rain all morning, so I finally fixed the bike's back brake."),
    (timedelta(days=1, hours=2), "Long walk by the river with Sam. We talked about moving to the coast."),
    (timedelta(hours=3), "Baked bread for the first time. Dense, but edible. Next time: more water."),
    (timedelta(minutes=12), "Booked the train tickets for June!"),
]


def main() -> int:
    """Seed an app, serve it, log in as test@me.com and save the screenshot."""
    from flask_migrate import upgrade
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from diary import create_app
    from diary.extensions import db, security
    from diary.models import Entry
    from diary.models.types import utcnow
    from diary.services import accounts

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"INSTANCE_PATH": folder, "DATABASE_URL": ""})
        with app.app_context():
            upgrade()
            accounts.seed_demo_accounts()
            user = security.datastore.find_user(email="test@me.com")
            now = utcnow()
            db.session.add_all(Entry(user_id=user.id, content=text, created_at=now - ago,
                                     updated_at=now - ago) for ago, text in ENTRIES)
            db.session.commit()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=os.environ.get("DIARY_CHROMIUM", "/usr/bin/chromium"),
                    args=["--headless", "--no-sandbox", "--disable-gpu"])
                page = browser.new_page(base_url=f"http://localhost:{server.port}",
                                        viewport={"width": 900, "height": 760},
                                        color_scheme="light")
                page.goto("/login")
                page.get_by_label("Email address").fill("test@me.com")
                page.get_by_label("Password", exact=True).fill("password")
                page.get_by_role("button", name="Log in", exact=True).click()
                page.wait_for_load_state()
                page.get_by_role("heading", name="Hello, Test User").wait_for()
                page.screenshot(path=str(OUT))
                browser.close()
        finally:
            server.shutdown()
            with app.app_context():
                db.engine.dispose()
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
