"""Hostile text is shown escaped (never interpreted) by the app pages."""

from __future__ import annotations

import pytest

from grappes.registry.affichage import echapper
from tests.registry.test_registry_data import HOSTILE


@pytest.mark.parametrize("value", HOSTILE)
def test_escaped_for_markdown(value):
    out = echapper(value)
    assert "<script" not in out and "<img" not in out
    assert "\x1b" not in out and "\x01" not in out
    if "<script>" in value:
        assert "&lt;script&gt;" in out


def test_plain_text_kept_readable():
    assert echapper("Résidence Les Tilleuls") == "Résidence Les Tilleuls"
    assert echapper(None) == ""


def test_every_registry_role_has_a_label() -> None:
    from grappes.core.vocabulary import ROLE_LABELS
    from grappes.registry.policy import ROLES

    assert set(ROLE_LABELS) == set(ROLES)
