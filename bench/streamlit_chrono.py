"""``streamlit run`` with each script run timed on the server (bench only, issue 19).

Started instead of ``python -m streamlit`` by ``bench/bench_registry_page.py``: it wraps
Streamlit's ``ScriptRunner._run_script`` and appends one JSON line per run to the file named
by ``GRAPPES_CHRONO_RUNS``: wall time, the script thread's CPU time, and whether the run was
a fragment's (``st.fragment``) or the whole page's. The browser's time of a click minus the
server's time of the run it caused is the browser's (and the websocket's) share.

With ``GRAPPES_CHRONO_PROFIL`` (a folder), each run is also profiled (cProfile) into
``<folder>/run-<n>-<page|fragment>.prof``; profiling slows the run, time with it unset.
"""

from __future__ import annotations

import cProfile
import json
import os
import sys
import threading
import time
from pathlib import Path


def install() -> None:
    """Wrap the script runner (no effect without ``GRAPPES_CHRONO_RUNS``)."""
    out = os.environ.get("GRAPPES_CHRONO_RUNS")
    if not out:
        return
    from streamlit.runtime.scriptrunner import script_runner

    profil = os.environ.get("GRAPPES_CHRONO_PROFIL")
    original = script_runner.ScriptRunner._run_script
    lock = threading.Lock()
    count = [0]

    def timed(self, rerun_data) -> None:
        fragment = bool(getattr(rerun_data, "fragment_id_queue", None))
        with lock:
            count[0] += 1
            n = count[0]
        prof = cProfile.Profile() if profil else None
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            if prof is not None:
                prof.runcall(original, self, rerun_data)
            else:
                original(self, rerun_data)
        finally:
            wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
            line = {"n": n, "fragment": fragment, "mur_s": round(wall, 4),
                    "cpu_s": round(cpu, 4), "fin": time.time()}
            with lock, open(out, "a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")
            if prof is not None:
                kind = "fragment" if fragment else "page"
                prof.dump_stats(str(Path(profil) / f"run-{n:03d}-{kind}.prof"))

    script_runner.ScriptRunner._run_script = timed


def main() -> None:
    install()
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
