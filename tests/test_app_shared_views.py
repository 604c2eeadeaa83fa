"""What a second visitor gets without recomputing it (issue 20, warm start): the views of an
unedited proposal are built once for every session, an edited one's per session, and the map
is serialised once."""

from __future__ import annotations

import json
import uuid

import pydeck as pdk
from streamlit.testing.v1 import AppTest

from grappes.ui.proposalmap import SerialisedDeck


def _memo_page(key: str, edited: bool) -> None:
    import uuid as _uuid

    import streamlit as st

    from grappes.ui.proposalstate import view_memo

    class Grouping:  # what view_memo reads of a what-if scenario: its edits
        history = ["OG séparés : 1 et 2"] if edited else []

    state = st.session_state
    if "scenario" not in state:
        state["scenario"], state["scenario_key"] = Grouping(), key
    state["value"] = view_memo("test_view", state["scenario"], lambda: _uuid.uuid4().hex)


def _visit(key: str, edited: bool, reruns: int = 0) -> str:
    test = AppTest.from_function(_memo_page, args=(key, edited), default_timeout=30).run()
    assert not test.exception
    value = str(test.session_state["value"])
    for _ in range(reruns):  # a rerun of the same session keeps its value
        assert test.run().session_state["value"] == value
    return value


def test_an_unedited_proposal_is_built_once_for_every_visitor():
    key = f"test|{uuid.uuid4().hex}"
    first = _visit(key, edited=False)
    assert _visit(key, edited=False) == first
    assert _visit(f"{key}-autre", edited=False) != first  # another proposal


def test_an_edited_grouping_is_built_per_session():
    key = f"test|{uuid.uuid4().hex}"
    first, second = _visit(key, edited=True, reruns=1), _visit(key, edited=True)
    assert first != second


def test_the_serialised_map_is_the_decks_json_and_streamlit_draws_it():
    layer = pdk.Layer("ScatterplotLayer", data=[{"lon": 1.9, "lat": 47.9, "nom": "EHPAD A"}],
                      get_position="[lon, lat]", get_radius=300, pickable=True)
    deck = pdk.Deck(layers=[layer], map_style=None, tooltip={"text": "{nom}"})
    frozen = SerialisedDeck(deck)
    assert json.loads(frozen.to_json()) == json.loads(deck.to_json())
    assert len(frozen.to_json()) < len(deck.to_json()) * 0.7  # no indentation sent

    def page(deck: object) -> None:
        import streamlit as st

        from grappes.ui.proposalmap import SerialisedDeck

        st.pydeck_chart(SerialisedDeck(deck), key="carte")

    test = AppTest.from_function(page, args=(deck,), default_timeout=30).run()
    assert not test.exception
    drawn = test.get("deck_gl_json_chart")[0].proto
    assert json.loads(drawn.json) == json.loads(deck.to_json())
    assert json.loads(drawn.tooltip) == deck._tooltip  # the tooltip travels beside the JSON


def test_a_deferred_draw_keeps_its_place_and_is_never_lost():
    def page(keep: bool) -> None:
        import streamlit as st

        from grappes.ui import deferred

        if keep:
            deferred.start()
        sent = st.session_state["sent"] = []
        slot = st.container()
        st.markdown("tableau")
        sent.append("tableau")

        def draw() -> None:
            with slot:
                st.markdown("carte")
            sent.append("carte")

        deferred.later(draw)
        # a folded panel or the solver settings (``placed``): in its place, in the sidebar
        st.sidebar.markdown("région")
        deferred.placed(lambda: (st.markdown("réglages"), sent.append("réglages")),
                        where=st.sidebar)
        st.sidebar.markdown("champ")
        st.markdown("fin")
        sent.append("fin")
        deferred.finish()

    for keep in (True, False):
        test = AppTest.from_function(page, args=(keep,), default_timeout=30).run()
        assert not test.exception
        # the map's place is above the table whether drawn last or at once
        assert [m.value for m in test.main.markdown] == ["carte", "tableau", "fin"]
        assert [m.value for m in test.sidebar.markdown] == ["région", "réglages", "champ"]
        # sent last when the run keeps it, else at once
        assert test.session_state["sent"] == (["tableau", "fin", "carte", "réglages"] if keep
                                              else ["tableau", "carte", "réglages", "fin"])

