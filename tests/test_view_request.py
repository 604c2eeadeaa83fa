"""The app's request is one typed ``View`` (issue 24, typed hand-offs): the sidebar, a loaded
scenario file and the comparison of calls name the same proposal by the same key."""

from __future__ import annotations

import numpy as np

from grappes.scenarios.view import View
from grappes.ui import scenfile


def test_one_view_one_key_whatever_the_widgets_hand_over():
    """A multiselect gives a list, a scenario file a tuple, a number input a numpy or float
    seed: the same choice must give the same key (a different key starts a new scenario)."""
    from_widgets = View("amorcage-t2-2021", "24", ["18", "36"], "PA", np.int64(3), 20)
    from_file = View("amorcage-t2-2021", "24", ("18", "36"), "PA", 3, 20.0)
    assert from_widgets == from_file and from_widgets.key() == from_file.key()
    assert scenfile.report_key("sample", from_widgets) == scenfile.report_key("sample", from_file)


def test_each_field_of_the_view_changes_its_key():
    base = View("amorcage-t2-2021", "24", (), "PA", 0, 20.0)
    others = [base.with_rules("generalisation-2022"),
              View("amorcage-t2-2021", "11", (), "PA", 0, 20.0),
              View("amorcage-t2-2021", "24", ("18",), "PA", 0, 20.0),
              View("amorcage-t2-2021", "24", (), None, 0, 20.0),
              View("amorcage-t2-2021", "24", (), "PA", 1, 20.0),
              View("amorcage-t2-2021", "24", (), "PA", 0, 5.0)]
    keys = {base.key(), *(v.key() for v in others)}
    assert len(keys) == 1 + len(others)
    assert base.with_rules("generalisation-2022").champ == "PA"
