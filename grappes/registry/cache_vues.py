"""The per-process cache of the reader-independent part of grappe views (issue 19, item 6).

Under 50 concurrent sessions on 2 cores, a read's latency is its CPU cost times the number
of sessions waiting: « mes invitations » rebuilt every grappe from its members' rows on
each call (~800 rows per call on the bench). What does not depend on the reader is kept
here: the grappe's row, its members with their OG names, places, owner accounts and
consent, the latest invitation state of each member and who speaks for its OG.

Validity: each entry is tagged with the ``grappes.revision`` it was built at; the database
itself bumps the revision, in the writing transaction, on every write that changes one of
these facts (triggers of migration r0008). A read first reads the revisions of the grappes
it shows and uses an entry only when its revision is the one in the database.

Composition and states apart: each entry is also tagged with ``grappes.revision_membres``,
which the database bumps only when the grappe's composition changes (its members, their
declarations' shown columns, the attachments of their OGs: migration r0009). When only the
revision moved (an answer to an invitation, the grappe's state), the entry's members are
still right: the reader reads again just the grappe's row and its invitation states
(:meth:`CacheVues.compositions`), not the members, their declarations and attachments.
With 10 processes, each answer made every process reload the whole grappe before.

What is NOT here, on purpose: contacts (personal data: read fresh on each call, so that a
withdrawn or erased contact is never shown from memory and none lingers in the process) and
everything that depends on the reader (the policy's answers, the audit of other people's
contacts): applied after, on every call (``LectureMixin._vues_grappes``).

Only committed states are stored: a write transaction may read entries but never stores
one (its own uncommitted revision could be rolled back and later reused by another write).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple


class Cle(NamedTuple):
    """A grappe's two revisions as read in the database, before its rows."""

    revision: int  # any change of its view (r0008)
    membres: int  # a change of its composition (r0009)


@dataclass(frozen=True)
class MembreBrut:
    """A member as stored, without its contact."""

    declaration_id: int
    finess_ej: str
    esms: tuple[str, ...]
    compte_id: int | None
    raison_sociale_ej: str
    departement: str | None
    region: str | None
    consentement_coordinateur: bool
    invitation: str  # the latest invitation's state ('' when none)
    parle: bool  # its declaration speaks for its OG (issue 18)


@dataclass(frozen=True)
class GrappeBrute:
    """A grappe as stored, with its members, at ``revision``."""

    id: int
    revision: int
    appariement_id: int
    code: str
    champ: str
    departements: tuple[str, ...]
    region: str
    statut: str
    porteur_ej: str
    total: float | None
    regles_enfreintes: tuple[str, ...]
    avertissements: tuple[str, ...]
    soumise_ars: bool
    version: int
    membres: tuple[MembreBrut, ...]
    #: ``grappes.revision_membres`` when its members were read (see the module docstring)
    revision_membres: int = 0

    @property
    def comptes(self) -> frozenset[int]:
        return frozenset(m.compte_id for m in self.membres if m.compte_id is not None)

    @property
    def tous_acceptes(self) -> bool:
        return bool(self.membres) and all(m.invitation == "acceptee" for m in self.membres)

    @property
    def rattache(self) -> bool:
        return bool(self.membres) and all(m.parle for m in self.membres)


class CacheVues:
    """A bounded, thread-safe map grappe id -> :class:`GrappeBrute` (least recently used
    entries go first). One per :class:`~grappes.registry.api.Registry`, i.e. per database
    and process."""

    def __init__(self, taille: int = 4096) -> None:
        self._taille = taille
        self._entrees: OrderedDict[int, GrappeBrute] = OrderedDict()
        self._verrou = threading.Lock()
        #: grappes being loaded by a reader: the others wait for it instead of loading the
        #: same rows again (50 sessions starting together on a cold cache)
        self._en_cours: dict[int, threading.Event] = {}

    def lire(self, cles: Mapping[int, Cle]) -> dict[int, GrappeBrute]:
        """The entries whose revision is the one given (the database's, read just before)."""
        out: dict[int, GrappeBrute] = {}
        with self._verrou:
            for gid, cle in cles.items():
                entry = self._entrees.get(gid)
                if entry is not None and entry.revision == cle.revision:
                    self._entrees.move_to_end(gid)
                    out[gid] = entry
        return out

    def compositions(self, cles: Mapping[int, Cle]) -> dict[int, GrappeBrute]:
        """The entries whose members are still right (their ``revision_membres`` is the
        one given) but whose state may not be: the caller reads again the grappe's row and
        its invitation states, and keeps the members."""
        out: dict[int, GrappeBrute] = {}
        with self._verrou:
            for gid, cle in cles.items():
                entry = self._entrees.get(gid)
                if entry is not None and entry.revision_membres == cle.membres:
                    out[gid] = entry
        return out

    def ranger(self, grappes: list[GrappeBrute]) -> None:
        """Store committed states (never from a write transaction)."""
        with self._verrou:
            for g in grappes:
                old = self._entrees.get(g.id)
                if old is None or old.revision <= g.revision:
                    self._entrees[g.id] = g
                    self._entrees.move_to_end(g.id)
            while len(self._entrees) > self._taille:
                self._entrees.popitem(last=False)

    def reserver(self, ids: list[int]) -> tuple[list[int], list[threading.Event]]:
        """Of ``ids``, those the caller must load (reserved for it until :meth:`liberer`)
        and the events of those another reader is loading. The caller loads its own first
        and frees them before waiting for the others (no reader waits while holding a
        reservation: no deadlock)."""
        mine: list[int] = []
        others: list[threading.Event] = []
        with self._verrou:
            for gid in ids:
                event = self._en_cours.get(gid)
                if event is None:
                    self._en_cours[gid] = threading.Event()
                    mine.append(gid)
                else:
                    others.append(event)
        return mine, others

    def liberer(self, ids: list[int]) -> None:
        with self._verrou:
            for gid in ids:
                event = self._en_cours.pop(gid, None)
                if event is not None:
                    event.set()

    def __len__(self) -> int:
        return len(self._entrees)
