"""Headless Chromium (Debian's) driven by Playwright, for tests of what a person sees."""
from __future__ import annotations

import shutil
from contextlib import contextmanager

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


@contextmanager
def browser_page():
    """A fresh page in headless Chromium; every request leaving the machine is recorded and refused."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.outside = []

        def guard(route):
            url = route.request.url
            if url.startswith(("file://", "http://127.0.0.1", "http://localhost", "data:")):
                return route.continue_()
            page.outside.append(url)
            return route.abort()

        page.route("**/*", guard)
        try:
            yield page
        finally:
            browser.close()


def log_in(page, base: str, user: str, lands_on: str) -> None:
    """Log in through the login form as ``user`` (password ``password-<user>``, as the fixtures make
    them) and wait to land on ``lands_on``."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", f"password-{user}")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{lands_on}")
