"""One way to run ``streamlit run app.py`` for the browser tests, and the chromium settings.

Every browser test file starts the app the same way (free local port, the checkout first on
``PYTHONPATH``, no usage statistics) and stops it the same way; only the environment (a
registry database, say) and the page differ.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"


#: the marks of every browser test module: skipped without chromium, except on CI where a
#: missing browser must fail (``.ci/run`` installs it)
BROWSER_MARKS = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason=f"navigateur absent ({CHROMIUM}) : apt-get install chromium pour ce test",
    ),
]
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AppUrl(str):
    """The app's URL, with the file that receives the server's output (for failure messages)."""

    log: Path


def log_tail(log: Path | str | None, size: int = 3000) -> str:
    """The end of the server's output. It goes to a file: a pipe nobody reads fills up after
    64 KB of log and then blocks the server in the middle of a page run."""
    if not log or not Path(log).exists():
        return ""
    return Path(log).read_bytes()[-size:].decode("utf-8", errors="replace")


SCRIPT_STATE = """() => { const a = document.querySelector('[data-testid=stApp]');
    return a ? a.getAttribute('data-test-script-state') + '/'
               + a.getAttribute('data-test-connection-state') : 'absent'; }"""


def diagnose(page, url: str) -> str:
    """What the page and the server were doing: state, visible text, end of the server log."""
    try:
        state = page.evaluate(SCRIPT_STATE)
        text = page.locator("body").inner_text(timeout=5_000)[:1500]
    except Exception as exc:  # the page itself may be gone: say so, keep the log
        state, text = "inconnu", f"page illisible : {exc}"
    return (f"\nétat du script : {state}\n--- texte de la page ---\n{text}"
            f"\n--- journal du serveur ---\n{log_tail(getattr(url, 'log', None))}")


def wait_idle(page, url: str, timeout: float = 180_000) -> None:
    """Wait until the page's script run has ended (Streamlit marks ``stApp`` with
    ``data-test-script-state``), failing with the page text and the server log."""
    page.wait_for_timeout(300)  # a rerun just asked for has reached the server
    try:
        page.wait_for_function(
            "() => { const a = document.querySelector('[data-testid=stApp]');"
            " return a && a.getAttribute('data-test-script-state') === 'notRunning'; }",
            timeout=timeout)
    except Exception as exc:
        raise AssertionError(f"la page ne finit pas son calcul : {exc}"
                             f"{diagnose(page, url)}") from None


def upload(page, url: str, index: int, path: Path, timeout: float = 180_000) -> None:
    """Put ``path`` in the ``index``-th file uploader, wait until the widget shows it and the
    page has run again with it (never act on the elements of the previous run)."""
    widget = page.locator("[data-testid=stFileUploader]").nth(index)
    chooser = widget.locator("[data-testid=stFileUploaderDropzoneInput]")
    chooser.wait_for(state="attached", timeout=60_000)
    chooser.set_input_files(str(path))
    try:  # the chip shows a shortened name ("etalab-...2-0000.csv"): its last characters
        widget.locator("[data-testid=stFileChipName]", has_text=path.name[-8:]) \
            .first.wait_for(timeout=60_000)
    except Exception as exc:
        raise AssertionError(f"fichier non reçu : {path.name} : {exc}"
                             f"{diagnose(page, url)}") from None
    wait_idle(page, url, timeout)


def login(browser, url: str, email: str, password: str, timeout: float = 60_000):
    """A new browser context on the registry page ``url``, logged in as ``email`` (the
    registry's browser tests and ``bench/bench_registry_page.py``)."""
    page = browser.new_context(viewport={"width": 1400, "height": 1800}).new_page()
    page.goto(url, timeout=timeout)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_text(f"Connecté : {email}").wait_for(timeout=timeout)
    return page


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit s'est arrêté : {log_tail(log)}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"streamlit n'écoute pas sur le port {port} après {timeout} s")


@contextmanager
def streamlit_app(page: str = "", env: dict[str, str] | None = None,
                  timeout: float = 60, launcher: list[str] | None = None,
                  root: Path = ROOT) -> Iterator[AppUrl]:
    """Run the app on a free local port; yields the URL of ``page`` ('' = the main page).

    For the page benchmark (``bench/bench_registry_page.py``): ``launcher`` stands for
    ``python -m streamlit`` (``bench/streamlit_chrono.py`` times each script run on the
    server), ``root`` is the checkout whose app runs (another one: the code before a change)."""
    port = free_port()
    full_env = dict(os.environ, **(env or {}),
                    PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory(prefix="streamlit-") as tmp, \
            open(Path(tmp) / "serveur.log", "wb") as log:
        proc = subprocess.Popen(
            [*(launcher or [sys.executable, "-m", "streamlit"]), "run", str(root / "app.py"),
             "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=root, env=full_env, stdout=log, stderr=subprocess.STDOUT,
        )
        url = AppUrl(f"http://127.0.0.1:{port}/{page}")
        url.log = Path(log.name)
        try:
            wait_for_port(port, proc, url.log, timeout)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
