"""Where a second visitor's wait goes, in the browser (issue 20, item 9).

Not a test. Run from the repository root::

    PYTHONPATH=. python bench/profile_visit.py [--visits 3] [--whatif 3]

Starts ``streamlit run app.py`` (headless, free port, extra ``--server.*`` options may follow
``--``), opens the page once (the cold visitor, not reported), then ``--visits`` new tabs on the
warm server. In each tab an init script records, in the page's own clock
(``performance.now()``, 0 = navigation start): the HTML and the JS bundle loaded, the websocket
opened, every message received (its size; its kind and element decoded in Python from the
same frames), the first ``stApp``, headline figure (``stMetricValue``) and table
(``stDataFrame``) in the DOM and at their next animation frame (painted), the script run's
end, and the browser's long tasks (main thread busy ≥ 50 ms: parsing, React, drawing).
With ``--whatif N`` it then clicks « Exclure » N times in « Et si… » and gives the same
timeline from the click. Prints one timeline per visit and a median summary.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_app import free_port, launch, wait_idle  # noqa: E402

#: recorded in the page from its first script on (before Streamlit's bundle runs)
INIT_SCRIPT = """
(() => {
  const T = window.__grappesT = {events: [], seen: {}};
  const mark = (name, extra) => T.events.push([name, performance.now(), extra ?? null]);
  T.mark = mark;
  const Orig = window.WebSocket;
  window.WebSocket = class extends Orig {
    constructor(...args) {
      super(...args);
      mark('ws_create');
      this.addEventListener('open', () => mark('ws_open'));
      this.addEventListener('message', (e) => {
        const d = e.data;
        mark('msg', d && (d.byteLength ?? d.size ?? d.length));
      });
    }
  };
  const once = (name, test) => {
    if (T.seen[name] || !test()) return;
    T.seen[name] = true;
    mark(name);
    requestAnimationFrame(() => requestAnimationFrame(() => mark(name + '_painted')));
  };
  const watch = () => {
    const q = (s) => Array.from(document.querySelectorAll(s)).find(
      (e) => e.checkVisibility ? e.checkVisibility() : e.offsetParent !== null);
    once('stApp', () => q('[data-testid=stApp]'));
    once('metric', () => q('[data-testid=stMetricValue]'));
    once('table', () => q('[data-testid=stDataFrame]'));
    once('map', () => q('[data-testid=stDeckGlJsonChart] canvas'));
    once('title', () => q('h1'));
    once('tabs', () => q('[data-testid=stTabs]'));
    once('sidebar', () => q('[data-testid=stSidebarUserContent] [data-testid=stSelectbox]'));
    once('metric_in_dom', () => document.querySelector('[data-testid=stMetricValue]'));
    once('skeleton', () => document.querySelector('[data-testid=stSkeleton]'));
    once('whatif_result', () => Array.from(document.querySelectorAll(
      '[data-testid=stMarkdownContainer]')).some((e) => /Après \\d+ modification/.test(
      e.textContent) && !(T.seenResult || []).includes(e.textContent)));
    const app = q('[data-testid=stApp]');
    const state = app && app.getAttribute('data-test-script-state');
    if (state !== T.state) { T.state = state; mark('state', state); }
  };
  new MutationObserver(watch).observe(document, {childList: true, subtree: true,
                                                  attributes: true});
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) T.events.push(['longtask', e.startTime, e.duration]);
    }).observe({type: 'longtask', buffered: true});
  } catch (e) { /* no long task API */ }
})();
"""

NAV = """() => { const n = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource').map(r => [r.name, r.startTime,
    r.responseEnd, r.transferSize, r.encodedBodySize, r.decodedBodySize]);
  return {html: n ? n.responseEnd : null, dcl: n ? n.domContentLoadedEventEnd : null,
          load: n ? n.loadEventEnd : null, res}; }"""


def new_page(browser: Any) -> Any:
    """A page 1400 × 1000 in a new context (a new visitor) or in a shared one."""
    if hasattr(browser, "new_context"):
        return browser.new_page(viewport={"width": 1400, "height": 1000})
    page = browser.new_page()
    page.set_viewport_size({"width": 1400, "height": 1000})
    return page


def describe(payload: bytes) -> str:
    """A websocket frame as « kind: element » (Streamlit's ForwardMsg protobuf)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = ForwardMsg()
    try:
        msg.ParseFromString(payload)
    except Exception:  # not a ForwardMsg (should not happen)
        return "?"
    kind = msg.WhichOneof("type") or "?"
    if kind == "delta":
        delta = msg.delta
        sub = delta.WhichOneof("type") or "?"
        if sub == "new_element":
            return f"delta:{delta.new_element.WhichOneof('type')}"
        if sub == "add_block":
            return f"block:{delta.add_block.WhichOneof('type')}"
        return f"delta:{sub}"
    if kind == "script_finished":
        return f"script_finished:{msg.script_finished}"
    return kind


class Frames:
    """The websocket frames the page receives, in order (Playwright's own record)."""

    def __init__(self, page: Any) -> None:
        self.frames: list[bytes] = []
        page.on("websocket", lambda ws: ws.on(
            "framereceived", lambda p: self.frames.append(
                p if isinstance(p, bytes) else p.encode())))


def timeline(page: Any, frames: Frames, since: float = 0.0,
             first_frame: int = 0) -> tuple[list[str], dict[str, float]]:
    """The page's events from ``since`` (page clock, ms) as printable lines, and the key
    moments (seconds from ``since``)."""
    events = page.evaluate("() => window.__grappesT.events")
    kinds = [describe(f) for f in frames.frames]
    lines, key = [], {}
    msg_index = 0
    run_msgs = 0
    run_bytes = 0
    biggest: list[tuple[int, str]] = []
    for name, at, extra in events:
        if name == "msg":
            kind = kinds[msg_index] if msg_index < len(kinds) else "?"
            msg_index += 1
            if msg_index <= first_frame or at < since:
                continue
            run_msgs += 1
            run_bytes += int(extra or 0)
            biggest.append((int(extra or 0), kind))
            if kind.startswith(("new_session", "script_finished")):
                key.setdefault(kind.split(":")[0], (at - since) / 1000)
            if int(extra or 0) >= 5000 or kind.startswith(
                    ("new_session", "script_finished", "delta:metric", "delta:arrow")):
                lines.append(f"  {(at - since) / 1000:7.3f} s  msg {int(extra or 0):>8} o  {kind}")
            continue
        if at < since:
            continue
        if name == "longtask":
            if extra >= 100:
                lines.append(f"  {(at - since) / 1000:7.3f} s  long task {extra:.0f} ms")
            key["long tasks (ms)"] = key.get("long tasks (ms)", 0.0) + extra
            continue
        label = f"{name}={extra}" if name == "state" else name
        lines.append(f"  {(at - since) / 1000:7.3f} s  {label}")
        key.setdefault(label, (at - since) / 1000)
    key["messages"] = run_msgs
    key["kB received"] = run_bytes / 1000
    biggest.sort(reverse=True)
    lines.append("  largest messages: " + ", ".join(f"{k} {n / 1000:.0f} kB"
                                                   for n, k in biggest[:5]))
    return lines, key


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def opened(browser: Any, url: str) -> tuple[Any, Frames]:
    """A new visitor's page, recorded from its first script (``INIT_SCRIPT``, the websocket's
    frames), once the headline figures are shown and the run has ended."""
    page = new_page(browser)
    page.add_init_script(INIT_SCRIPT)
    frames = Frames(page)
    page.goto(url, timeout=60_000)
    page.locator("[data-testid=stMetricValue]:visible").first.wait_for(timeout=300_000)
    wait_idle(page)
    return page, frames


def visit(browser: Any, url: str, server: int) -> dict[str, float]:
    cpu = cpu_seconds(server)
    page, frames = opened(browser, url)
    page.wait_for_timeout(300)
    nav = page.evaluate(NAV)
    lines, key = timeline(page, frames)
    print(f"  html {nav['html'] / 1000:.3f} s, DOMContentLoaded {nav['dcl'] / 1000:.3f} s, "
          f"load {nav['load'] / 1000:.3f} s")
    for name, start, end, _transfer, encoded, decoded in nav["res"]:
        if end - start > 50 or (decoded or 0) > 200_000:
            print(f"  resource {start / 1000:.3f}–{end / 1000:.3f} s "
                  f"{(encoded or 0) / 1000:.0f} kB ({(decoded or 0) / 1000:.0f} kB) "
                  f"{name.rsplit('/', 1)[-1][:60]}")
    print("\n".join(lines))
    page.close()
    key.update(html=nav["html"] / 1000, dcl=nav["dcl"] / 1000, load=nav["load"] / 1000)
    key["server CPU (s)"] = cpu_seconds(server) - cpu
    return key


def whatif(browser: Any, url: str, runs: int) -> list[dict[str, float]]:
    page, frames = opened(browser, url)
    page.get_by_role("tab", name="Et si…").click()
    wait_idle(page)
    out = []
    for n in range(1, runs + 1):
        box = page.locator(".st-key-exclude_et [data-testid=stSelectbox]")
        box.scroll_into_view_if_needed()
        box.click()
        page.get_by_role("option").first.click()
        wait_idle(page)
        button = page.get_by_role("button", name=re.compile(r"^Exclure .+ de la grappe"))
        button.wait_for(timeout=60_000)
        page.evaluate("() => { const T = window.__grappesT; T.seen.whatif_result = false;"
                      " T.seenResult = Array.from(document.querySelectorAll("
                      "'[data-testid=stMarkdownContainer]')).map(e => e.textContent); }")
        since = page.evaluate("() => performance.now()")
        first = len(frames.frames)
        button.click()
        page.get_by_text(f"Après {n} modification").first.wait_for(timeout=120_000)
        wait_idle(page)
        page.wait_for_timeout(300)
        lines, key = timeline(page, frames, since, first)
        print(f"-- « Exclure » n° {n}")
        print("\n".join(lines))
        out.append(key)
    page.close()
    return out


def summary(title: str, keys: list[dict[str, float]]) -> None:
    print(f"== {title} (median of {len(keys)})")
    names: list[str] = []
    for k in keys:
        names += [n for n in k if n not in names]
    for name in names:
        values = [k[name] for k in keys if name in k]
        print(f"  {name:<32} {statistics.median(values):8.3f}  "
              f"({', '.join(f'{v:.3f}' for v in values)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=3)
    parser.add_argument("--whatif", type=int, default=0)
    parser.add_argument("--cached", action="store_true",
                        help="the visitors share one browser context (its HTTP cache): a "
                             "returning visitor, Streamlit's scripts already loaded")
    parser.add_argument("--app-root", type=Path, default=ROOT,
                        help="the checkout whose app.py runs (another version, to compare)")
    parser.add_argument("server_options", nargs="*",
                        help="extra streamlit options after --, e.g. "
                             "--server.enableWebsocketCompression=true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(args.app_root / "app.py"),
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         *args.server_options],
        cwd=args.app_root, env=dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(args.app_root), os.environ.get("PYTHONPATH", "")])),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        with sync_playwright() as p:
            browser = launch(p)
            if args.cached:
                browser = browser.new_context()
            deadline = time.monotonic() + 60
            while True:
                try:
                    page = browser.new_page()
                    page.goto(url, timeout=5_000)
                    break
                except Exception:
                    page.close()
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
            page.locator("[data-testid=stMetricValue]:visible").first.wait_for(timeout=300_000)
            wait_idle(page)
            page.close()
            keys = []
            for n in range(args.visits):
                print(f"-- 2nd visitor n° {n + 1} (load {os.getloadavg()[0]:.1f})")
                keys.append(visit(browser, url, proc.pid))
            summary("second visitor, seconds from navigation start", keys)
            if args.whatif:
                summary("« Exclure », seconds from the click", whatif(browser, url, args.whatif))
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
