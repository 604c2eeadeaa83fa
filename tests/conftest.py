"""What every test shares: a terminal of fixed width (issue 21).

rich wraps what the commands print at the terminal's width (``COLUMNS``, 80 when unset), so
a test that reads a command's output would pass at 200 columns and fail at 80. Every test
runs with the same width, 200 columns, and without colour forced by the environment: the
suite gives the same result in any terminal, with or without a TTY. CI also runs the
command-line tests with ``COLUMNS=80`` (``.ci/run``) to prove it.
"""

from __future__ import annotations

import pytest

#: the width every test sees
TEST_COLUMNS = "200"


@pytest.fixture(autouse=True)
def _fixed_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", TEST_COLUMNS)
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "LINES"):
        monkeypatch.delenv(name, raising=False)
