"""Cards drawn by pages (``grappes.ui.registre_commun.cartes_par_pages``): the registry's
invitations of a déclarant and grappes of a coordinator. A click on « more » draws the next
page under the first, those needing the user first."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _cards_page() -> None:
    import streamlit as st

    from grappes.ui.registre_commun import cartes_par_pages

    items = list(range(25))
    cartes, plus = cartes_par_pages(items, lambda i: i % 5 == 0, "essai", "carte(s)")
    for i in cartes:
        st.markdown(f"carte {i}")
    plus()


def shown(at: AppTest) -> list[int]:
    return [int(m.value.split()[1]) for m in at.markdown if m.value.startswith("carte ")]


def test_more_draws_the_next_page_those_needing_the_user_first():
    from grappes.ui.registre_commun import CARTES_PAR_PAGE

    at = AppTest.from_function(_cards_page, default_timeout=30).run()
    assert not at.exception, at.exception
    first = [0, 5, 10, 15, 20]
    assert shown(at) == (first + [i for i in range(25) if i not in first])[:CARTES_PAR_PAGE]
    more = at.button(key="essai_suivantes")
    assert more.label == (f"Afficher {CARTES_PAR_PAGE} carte(s) de plus "
                          f"(encore {25 - CARTES_PAR_PAGE})")
    more.click().run()
    assert len(shown(at)) == 2 * CARTES_PAR_PAGE
    at.button(key="essai_suivantes").click().run()
    assert sorted(shown(at)) == list(range(25))
    assert not [b for b in at.button if b.key == "essai_suivantes"]
