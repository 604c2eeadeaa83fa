"""Who speaks for an OG (issue 18): the rules that turn stored attachments into "this
declaration speaks for its OG".

An account is **attached** to a FINESS EJ when its attachment row is approved. An OG is
**contested** when two or more accounts claim it (a pending request or an approval each):
none of its declarations is then used (matching, invitations, acceptances, contacts) until a
coordinator or the ARS refuses or revokes the extra claims. A declaration **speaks** for its
OG when its owner is attached to the OG and the OG is not contested. Everything that needs
the answer asks :func:`parlent` (one query for any number of declarations).

The EJ's territory (which coordinators and which ARS decide) is read from the FINESS
number itself: its first two characters are the département (three for the overseas
départements, 97x), the convention of the FINESS repository.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from grappes.registry import adapters
from grappes.registry.errors import SaisieInvalide
from grappes.registry.models import Rattachement

DEMANDE, APPROUVE, REFUSE, REVOQUE = "demande", "approuve", "refuse", "revoque"
#: states that count as a claim on the OG (two claimants = contested)
REVENDIQUE = (DEMANDE, APPROUVE)


def territoire_ej(finess_ej: str) -> tuple[str, str]:
    """(département, région) of a FINESS EJ, from its number; ``SaisieInvalide`` if the
    number is malformed or names no known département."""
    number = str(finess_ej or "").strip().upper()
    reason = adapters.check_finess(number)
    if reason:
        raise SaisieInvalide([("finess_ej", f"{reason} ({number[:20]!r})")])
    dep = number[:3] if number.startswith("97") else number[:2]
    region = adapters.region_of_departement(dep)
    if not region:
        raise SaisieInvalide([("finess_ej", f"département {dep!r} inconnu pour {number}")])
    return dep, region


@dataclass(frozen=True)
class EtatOg:
    """The claims on one OG: approved accounts, pending accounts."""

    approuves: frozenset[int]
    demandes: frozenset[int]

    @property
    def conteste(self) -> bool:
        return len(self.approuves | self.demandes) >= 2

    def parle(self, compte_id: int | None) -> bool:
        return compte_id is not None and compte_id in self.approuves and not self.conteste


def etats(s: Session, ejs: Iterable[str] | Select) -> dict[str, EtatOg]:
    """The claims on each of ``ejs`` (an OG nobody claims is absent). ``ejs`` may be a
    SELECT of FINESS EJ numbers: the database then filters on it (no list of hundreds of
    bound numbers to build and send)."""
    if isinstance(ejs, Select):
        where = Rattachement.finess_ej.in_(ejs)
    else:
        wanted = sorted({str(e) for e in ejs})
        if not wanted:
            return {}
        where = Rattachement.finess_ej.in_(wanted)
    approved: dict[str, set[int]] = {}
    pending: dict[str, set[int]] = {}
    s.flush()  # Core rows below (no ORM autoflush): pending claims must be seen
    for ej, compte_id, statut in s.connection().execute(
            select(Rattachement.finess_ej, Rattachement.compte_id, Rattachement.statut)
            .where(where, Rattachement.statut.in_(REVENDIQUE))):
        (approved if statut == APPROUVE else pending).setdefault(ej, set()).add(compte_id)
    return {ej: EtatOg(frozenset(approved.get(ej, ())), frozenset(pending.get(ej, ())))
            for ej in set(approved) | set(pending)}


def parlent(s: Session, declarations: Iterable[tuple[int, int | None, str]],
            ejs: Select | None = None) -> set[int]:
    """Ids of the declarations ``(id, owner account, finess_ej)`` that speak for their OG
    (``ejs``: a SELECT giving at least their FINESS EJ numbers, used as the filter)."""
    rows = list(declarations)
    state = etats(s, ejs if ejs is not None else (ej for _, _, ej in rows))
    return {i for i, owner, ej in rows if ej in state and state[ej].parle(owner)}


def parle(s: Session, compte_id: int | None, finess_ej: str) -> bool:
    """Whether ``compte_id`` speaks for ``finess_ej`` now."""
    state = etats(s, [finess_ej]).get(str(finess_ej))
    return state is not None and state.parle(compte_id)


def motif_exclusion(state: EtatOg | None, compte_id: int | None) -> str:
    """Why a declaration does not speak for its OG, in French (empty when it does)."""
    if state is not None and state.conteste:
        return "revendication contestée (plusieurs comptes pour cet OG)"
    if state is None or compte_id not in state.approuves:
        return "compte non rattaché à cet OG"
    return ""
