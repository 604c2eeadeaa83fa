"""End to end: ``streamlit run app.py`` in a real headless Chromium (Playwright, no download).

The page must load on the sample region with its proposal, show the map and the grappes
table, serve the CSV download, and never call a server other than localhost (no tile
server, no usage statistics): the app has to work offline.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
BROWSER_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason=f"navigateur absent ({CHROMIUM}) : apt-get install chromium pour ce test",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"streamlit s'est arrêté : {out[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"streamlit n'écoute pas sur le port {port} après {timeout} s")


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, proc, 30)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_page_map_table_and_csv_download(server):
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000},
                                    accept_downloads=True)
            page.on("request", lambda r: outside.append(r.url)
                    if not r.url.startswith((server, "data:", "blob:")) else None)
            page.goto(server, timeout=30_000)
            page.get_by_text("Grappes valides").first.wait_for(timeout=120_000)
            page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for(
                timeout=30_000)
            grid = page.locator("[data-testid='stDataFrame']:visible")
            grid.first.wait_for(timeout=30_000)
            assert grid.count() >= 2  # grappes (+ members of one grappe) and unplaced ESMS
            assert page.get_by_text("Traceback").count() == 0

            page.get_by_role("tab", name="Exports").click()
            button = page.get_by_role("button", name="Grappes (CSV)")
            button.wait_for(timeout=30_000)
            with page.expect_download(timeout=60_000) as info:
                button.click()
            download = info.value
            assert download.suggested_filename == "grappes.csv"
            data = Path(download.path()).read_bytes()
        finally:
            browser.close()
    assert data.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(io.BytesIO(data), sep=";", encoding="utf-8-sig", dtype=str)
    assert len(table) > 0 and {"grappe", "nb_esms", "financement"} <= set(table.columns)
    assert outside == [], f"requêtes hors de localhost : {outside[:5]}"
