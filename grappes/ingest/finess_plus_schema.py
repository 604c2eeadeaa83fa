"""The FINESS+ records as typed ``msgspec`` structures: the fast path of the reader.

Why: building every ``pmej`` as Python dicts with the C scanner of ``json``, then checking
each object's keys in Python (duplicates, case), cost more than ``json.load`` on a national
file (issue 21, item 6). ``msgspec`` decodes a run of whole ``pmej`` (about 256 KB of text)
in one call, straight into the fields the reader uses, with their types checked in C.

It must stay exact, so a run is decoded here only when nothing in it needs the exact reader
of :mod:`grappes.ingest.finess_plus`; otherwise :func:`decode_run` returns None and the
caller reads the same records one by one as before. A run is refused (None) when:

- a value has a type the structures do not name (a list for a number, an object for a
  text, a huge integer...): the exact reader rejects that ``ege`` with its French message;
- an object holds a key the structures do not know, which includes every key written in
  another case than in the real files (``EGE`` for ``ege``: ``forbid_unknown_fields``);
- an object gives a key twice: ``msgspec`` would silently keep the last value. Every
  colon of the text outside a string ends a key, every colon inside one is kept verbatim by
  decoding and encoding; so the colons of the text are counted and compared with those of
  what was decoded, encoded back (fields never given are left out, ``omit_defaults``): a
  key given twice loses its first value and makes the count fall short. Blanks do not
  matter; an escaped colon (``\\u003a``), which would add one back, is refused outright;
- an ``evenement``/``engagement`` item (free content, built as dicts) holds two keys
  differing only by their case, or a key of the flow in another case.

The depth trap is the caller's (the chunk depth scan of
:mod:`grappes.ingest.json_chunks`), as are lone surrogates.
"""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
from msgspec import UNSET, Struct, UnsetType

__all__ = ["UNSET"]

#: a text the reader uses (``null`` reads as empty, as a missing key)
Text = str | None | UnsetType
#: a coded value the reader uses: bare (``"500"``) or ``{code, system}`` (trap 2)
#: (defined below, after Coded)
Scalar = str | int | float | bool | None


class _Node(Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    """Every structure: unknown keys refused, keys never given left out when encoded."""


class Coded(_Node):
    """A coded value given as an object (trap 2)."""

    code: Text = UNSET
    system: Scalar | UnsetType = UNSET
    display: Text = UNSET
    libelle: Text = UNSET


CodedValue = str | Coded | None | UnsetType
#: a field the reader does not use: any scalar, a coded object or a list of scalars
Loose = str | int | float | bool | None | Coded | list[Scalar] | UnsetType
#: a coordinate: a number, or a text (a decimal comma is trap 9)
Coordinate = str | float | int | None | UnsetType


class Coords(_Node):
    """``coordonneesGeographique`` of an address."""

    coordonneeX: Coordinate = UNSET
    coordonneeY: Coordinate = UNSET
    directionLongitude: Coordinate = UNSET
    directionLatitude: Coordinate = UNSET
    cleInInteropBAN: Text = UNSET
    scoreBAN: Loose = UNSET


class Adresse(_Node):
    """An item of ``adresse``."""

    usageAdresse: CodedValue = UNSET
    cogCommune: Text = UNSET
    codePostal: Loose = UNSET
    typeVoie: Loose = UNSET
    numeroVoie: Loose = UNSET
    libelleVoie: Loose = UNSET
    ligneAcheminement: Loose = UNSET
    ligneUne: Loose = UNSET
    ligneSix: Loose = UNSET
    complementVoie: Loose = UNSET
    coordonneesGeographique: Coords | UnsetType | None = UNSET


class TypeContact(_Node):
    """``typeContact`` of a contact."""

    roleContact: Loose = UNSET


class Telecom(_Node):
    """``telecom`` of a contact (trap 8: never read)."""

    telephone: Loose = UNSET


class Contact(_Node):
    """An item of ``contact`` (not used by the reader)."""

    typeContact: TypeContact | Scalar | UnsetType = UNSET
    telecom: Telecom | Scalar | UnsetType = UNSET
    roleContact: Loose = UNSET


class RoleEge(_Node):
    """An item of ``roleEge`` (not used by the reader)."""

    idEgePorteuse: Loose = UNSET
    idEgeNonPorteuse: Loose = UNSET
    roleRelationEge: Loose = UNSET


#: ``evenement`` / ``engagement``: free content, checked by :func:`_free_clash`
Free = list[Any] | None | UnsetType


class InfosEge(_Node):
    """``informationsGeneralesEGE``."""

    egeId: Text = UNSET
    numFinessEge: Text = UNSET
    nomEgeLong: Text = UNSET
    nomEgeCourt: Text = UNSET
    dateFermeture: Text = UNSET
    siret: Loose = UNSET
    dateOuverture: Loose = UNSET
    datePremiereAutorisation: Loose = UNSET
    etatObjet: Loose = UNSET
    dateDerniereMaj: Loose = UNSET


class Ege(_Node):
    """An establishment (an item of ``ege``)."""

    informationsGeneralesEGE: InfosEge | UnsetType | None = UNSET
    categorieentiteGeographiqueExercice: CodedValue = UNSET
    modefixationtarifaire: CodedValue = UNSET
    etatObjet: CodedValue = UNSET
    typeBudget: Loose = UNSET
    adresse: list[Adresse] | UnsetType | None = UNSET
    contact: list[Contact] | UnsetType | None = UNSET
    engagement: Free = UNSET
    evenement: Free = UNSET
    roleEge: list[RoleEge] | UnsetType | None = UNSET
    dateDerniereMaj: Loose = UNSET
    dateFermeture: Loose = UNSET


class InfosPm(_Node):
    """``informationsGeneralesPMEJ``."""

    numFinessPm: Text = UNSET
    pmSmsseId: Text = UNSET
    denominationPm: Text = UNSET
    denominationLonguePmSmsse: Text = UNSET
    statutJuridique: CodedValue = UNSET
    dateFermeture: Text = UNSET
    typePersonneMorale: Loose = UNSET
    siren: Loose = UNSET
    dateCreation: Loose = UNSET
    etatObjet: Loose = UNSET
    dateDerniereMaj: Loose = UNSET


class Pmej(_Node):
    """A legal entity (an item of ``pmej``) and its establishments."""

    informationsGeneralesPMEJ: InfosPm | UnsetType | None = UNSET
    ege: list[Ege] | UnsetType | None = UNSET
    etatObjet: CodedValue = UNSET
    adresse: list[Adresse] | UnsetType | None = UNSET
    contact: list[Contact] | UnsetType | None = UNSET
    engagement: Free = UNSET
    evenement: Free = UNSET
    dateDerniereMaj: Loose = UNSET
    dateFermeture: Loose = UNSET


_DECODER = msgspec.json.Decoder(list[Pmej])
_ENCODER = msgspec.json.Encoder()
_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError)


def decode_run(
    text: str, keys: frozenset[str], scratch: bytearray | None = None
) -> list[Pmej] | None:
    """The ``pmej`` of ``text`` (whole items separated by commas), or None (see the module).

    ``keys``: the keys of the flow as spelled in the real files (a free ``evenement`` item
    holding one in another case goes to the exact reader, as everywhere else). ``scratch``:
    a buffer the caller keeps from one run to the next, for the re-encoding (a new buffer
    for each run costs its page faults; one per reading, never shared between threads).
    """
    if _escaped_colon(text):  # it would upset the colon count: rare
        return None
    try:
        items = _DECODER.decode(f"[{text}]")
    except _DECODE_ERRORS:
        return None
    # every colon of the text ends a key or lies in a text; encoded back, the same
    # values give the same colons, less one per key given twice (its first value dropped)
    if scratch is None:
        scratch = bytearray()
    _ENCODER.encode_into(items, scratch)
    # counted by numpy (four times faster than bytearray.count); the view dies at once, so
    # the buffer can grow again for the next run
    if int(np.count_nonzero(np.frombuffer(scratch, dtype=np.uint8) == 58)) != text.count(":"):
        return None
    if any(_free_clash(item, keys) for item in items):
        return None
    return items


#: backslashes looked at one by one before a plain search of the whole text
_ESCAPES_WALKED = 64


def _escaped_colon(text: str) -> bool:
    """True when ``text`` may hold an escaped colon (``\\u003a``, or any ``\\u003.``).

    The backslashes of a real run are few (an escaped quote in a name): jumping from one to
    the next (``str.find`` of one character) costs less than searching the whole run
    for the five characters. An escaped backslash is skipped whole, so ``\\\\u003a`` (a
    backslash, then the text ``u003a``) is not taken for an escape. Past
    ``_ESCAPES_WALKED`` backslashes, the plain search (which may say True for such a text:
    the run then only goes to the exact reader).
    """
    at = text.find("\\")
    for _ in range(_ESCAPES_WALKED):
        if at < 0:
            return False
        if text.startswith("u003", at + 1):
            return True
        at = text.find("\\", at + 2)
    return "\\u003" in text


def _free_clash(pm: Pmej, keys: frozenset[str]) -> bool:
    """True when a free item of the entity or of one of its ege has clashing keys."""
    values: list[Any] = []
    if pm.evenement or pm.engagement:
        values += (pm.evenement, pm.engagement)
    for ege in pm.ege or ():
        if ege.evenement or ege.engagement:
            values += (ege.evenement, ege.engagement)
    if not values:
        return False
    lower = {key.lower() for key in keys}
    stack = [v for v in values if v]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            lowered = [key.lower() for key in node]
            if len(set(lowered)) != len(lowered):
                return True
            if any(k not in keys and k.lower() in lower for k in node):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False
