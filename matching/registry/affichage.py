"""Showing user text safely in the app: every value typed by a user is escaped before it
reaches Markdown (HTML, Markdown syntax, control characters), so hostile input is displayed
as typed and never interpreted."""

from __future__ import annotations

import html
import re

#: Markdown's punctuation (CommonMark backslash escapes); ``<``, ``>`` and ``&`` are left to
#: the HTML escaping below, which runs after (a backslash before ``&lt;`` would show it raw)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:=])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def echapper(value: object) -> str:
    """Text safe for ``st.markdown``: HTML entities, escaped Markdown, visible controls."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # quotes stay as typed: an entity (&#x27;) would show raw once its « # » is escaped
    return html.escape(text, quote=False).replace("\n", "  \n")


def commune_libelle(code: str) -> str:
    """« Tours (37261) » for a stored INSEE code: the declaration keeps the code (the
    solver's key), people read the name (the commune reference of ``geo``). An unknown code
    is shown as stored."""
    from matching.registry.adapters import lieu

    place = lieu(code)
    return f"{place.commune_nom} ({place.commune})" if place else str(code or "")


#: the state shown once a constituted grappe went to the ARS (``soumise_ars`` is a flag
#: beside the ``constituee`` state, not a state of its own)
SOUMISE_ARS = "constituée, soumise à l'ARS"


def etat_grappe(statut: str, soumise_ars: bool = False) -> str:
    """The French state of a registry grappe, « soumise à l'ARS » once submitted."""
    from matching.core.vocabulary import GRAPPE_STATUT_LABELS

    if statut == "constituee" and soumise_ars:
        return SOUMISE_ARS
    return GRAPPE_STATUT_LABELS.get(statut, statut)
