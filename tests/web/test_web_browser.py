"""The whole flow in headless Chromium (Debian's, through Playwright): an analyst signs in,
uploads a generated research file and watches the run; an attorney reviews the queue (one
decision, then the rest in bulk), signs off and downloads the documents. And an Illinois run:
the analyst chooses Illinois and uploads the two exports; the attorney opens the review queue
(with its decision forms) and a person's rule tree.

Screenshots go to $CLEARSLATE_SCREENSHOTS (default: the test's temporary folder); they are
for a person to look at and are not kept in the repository.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import zipfile
from pathlib import Path

import pytest

from conftest import PASSWORD, _free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"
)


@pytest.fixture
def server(workspace_factory):
    import uvicorn

    ws = workspace_factory(None, run_jobs=False)  # the server below runs the jobs itself
    ws.app.state.ws.settings.run_jobs = True
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(ws.app, host="127.0.0.1", port=port, log_level="warning",
                                        access_log=False))  # fmt: skip
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", ws
    srv.should_exit = True
    thread.join(timeout=30)


def test_whole_flow_in_chromium(server, research_file, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base, ws = server
    shots = Path(os.environ.get("CLEARSLATE_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page.on("pageerror", lambda e: pytest.fail(f"script error: {e}"))

        def sign_in(name: str) -> None:
            page.goto(f"{base}/login")
            page.get_by_label("User name").fill(name)
            page.get_by_label("Password").fill(PASSWORD)
            page.keyboard.press("Enter")  # by keyboard

        sign_in("ana")
        expect(page.get_by_role("heading", name="Runs")).to_be_visible()
        page.get_by_role("link", name="Start a new run").click()
        page.get_by_label("Research file(s)").set_input_files(str(research_file))
        page.get_by_label("County").fill("LOS ANGELES")
        page.get_by_label("As-of date").fill("2020-07-01")
        page.screenshot(path=shots / "1-new-run.png", full_page=True)
        page.get_by_role("button", name="Start the run").click()
        expect(page.get_by_role("heading", name="Run 1")).to_be_visible()
        if page.locator("#bar").count():
            page.screenshot(path=shots / "2-progress.png")
        expect(page.get_by_role("heading", name="Outcomes")).to_be_visible(timeout=300_000)
        page.screenshot(path=shots / "3-results.png", full_page=True)
        page.get_by_role("link", name="All determinations (search)").click()
        page.get_by_role("link", name="Sign out").count()  # (a button: below)
        page.get_by_label("Outcome").select_option("review")
        page.get_by_role("button", name="Search").click()
        page.screenshot(path=shots / "4-determinations.png", full_page=True)
        page.locator("table a").first.click()
        expect(page.get_by_role("heading", name="Why: the decision tree")).to_be_visible()
        page.screenshot(path=shots / "5-person.png", full_page=True)
        page.get_by_role("button", name="Sign out").click()

        sign_in("att")
        page.get_by_role("link", name="Run 1").click()
        page.get_by_role("link", name="Review queue").click()
        page.screenshot(path=shots / "6-review.png", full_page=True)
        first = page.locator("form.decide").first
        first.get_by_label("Reduce").check()
        first.get_by_placeholder("Note (optional)").fill("Checked the court file")
        first.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Decision saved.")).to_be_visible()
        bulk = page.locator("section.bulk")
        bulk.get_by_label("Dismiss").check()
        bulk.get_by_label("Note").fill("Reviewed in bulk")
        bulk.get_by_role("button", name="Apply to").click()
        expect(page.get_by_text("Decisions saved.")).to_be_visible()
        expect(page.get_by_text("0 open.")).to_be_visible()
        page.get_by_role("link", name="Sign off the run").click()
        page.get_by_role("button", name="Sign off run 1").click()
        expect(page.get_by_text("Signed off. The documents are being built.")).to_be_visible()
        download_link = page.get_by_role("link", name="Download all documents (zip)")
        expect(download_link).to_be_visible(timeout=300_000)
        page.screenshot(path=shots / "7-signed-off.png", full_page=True)
        with page.expect_download() as info:
            download_link.click()
        zip_path = tmp_path / "documents.zip"
        info.value.save_as(zip_path)
        assert "documents_manifest.json" in zipfile.ZipFile(zip_path).namelist()
        page.get_by_role("button", name="Sign out").click()

        sign_in("adm")
        page.get_by_role("link", name="Audit log").click()
        page.get_by_role("link", name="Verify the hash chain").click()
        expect(page.get_by_text("is intact")).to_be_visible()
        page.screenshot(path=shots / "8-audit.png", full_page=True)
        page.get_by_role("link", name="Policies").click()
        page.get_by_role("link", name="los-angeles").click()
        page.get_by_label("Age threshold (0: off)").fill("abc")
        page.get_by_role("button", name="Save policy").click()
        expect(page.locator("#age_threshold-error")).to_be_visible()
        page.screenshot(path=shots / "9-policy-errors.png", full_page=True)
        browser.close()
    actions = [r.action for r in _audit_rows(ws)]
    for action in ("login", "upload", "run_started", "run_done", "person_view", "decision",
                   "sign_off", "documents_built", "download", "audit_verified"):  # fmt: skip
        assert action in actions, action


def test_illinois_run_in_chromium(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from clearslate.synth.illinois import generate_illinois

    base, _ws = server
    exports = tmp_path / "il"
    generate_illinois(exports, people=200, seed=5)
    shots = Path(os.environ.get("CLEARSLATE_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("pageerror", lambda e: pytest.fail(f"script error: {e}"))
        for name in ("ana", "att"):
            page.goto(f"{base}/login")
            page.get_by_label("User name").fill(name)
            page.get_by_label("Password").fill(PASSWORD)
            page.keyboard.press("Enter")
            if name == "ana":
                page.get_by_role("link", name="Start a new run").click()
                page.get_by_role("radio", name="Illinois").check()
                page.get_by_label("court) export").set_input_files(
                    str(exports / "court_export.csv")
                )
                page.get_by_label("State Police export").set_input_files(
                    str(exports / "isp_export.csv")
                )
                page.get_by_label("Illinois policy").select_option("il:statewide")
                page.get_by_label("As-of date").fill("2024-01-01")
                page.screenshot(path=shots / "il-1-new-run.png", full_page=True)
                page.get_by_role("button", name="Start the run").click()
                expect(page.get_by_text("cannabis charges decided")).to_be_visible(timeout=300_000)
                page.screenshot(path=shots / "il-2-results.png", full_page=True)
                page.get_by_role("button", name="Sign out").click()
        page.get_by_role("link", name="Run 1").click()
        page.get_by_role("link", name="Review queue").click()
        expect(page.get_by_role("columnheader", name="Not decided here")).to_be_visible()
        assert page.locator("form.decide").count() > 0  # an attorney decides Illinois items too
        page.screenshot(path=shots / "il-3-review.png", full_page=True)
        page.locator("article.item a").first.click()
        expect(page.get_by_role("heading", name="Why: the decision tree")).to_be_visible()
        page.screenshot(path=shots / "il-4-person.png", full_page=True)
        browser.close()


def _audit_rows(ws):
    from clearslate.web import audit

    with ws.db.read() as conn:
        return list(audit.rows(conn))
