"""Read the FINESS+ open-data JSON flow (``finess-structures-journalier-AAAAMMJJ.json.gz``).

Since 2026 the ANS publishes the register as one JSON object (project reference
``finess-plus.md``): ``pmej[]`` (legal entities, the OGs) each holding ``ege[]`` (the
establishments), plus groups ``gco[]`` / ``gcc[]``. The daily file is several hundred MB once
decompressed, so it is read as a stream (inflated by zlib-ng,
:mod:`grappes.ingest.gzip_stream`), 256 KB of text at a time
(:mod:`grappes.ingest.json_chunks`): the whole ``pmej`` of each chunk are decoded in one go
into typed structures (:mod:`grappes.ingest.finess_plus_schema`, the fast path), turned
into plain column values, and dropped; a run holding anything unusual is read record by record
by the exact reader instead (same result). Memory stays bounded by the output table.

The traps of the real files are handled here (numbers refer to ``finess-plus.md``):

1. keys are matched case-insensitively (every key is lower-cased while parsing);
2. coded values are read as a bare code or as ``{code, system}``;
3. the geographic address is the one with ``usageAdresse`` "03", wherever it is in the list;
4. the two coordinate pairs are tried in every order, as WGS84 degrees and as metres in the
   territory's legal CRS, and the first reading that falls in the commune's territory wins;
5. no coordinates: commune centre (the shared pipeline flags it); a commune-level BAN key
   (no "_"): the point is flagged as the commune centre;
6. closed (``dateFermeture``) and inactive (``etatObjet`` "I") entities are counted apart;
7. the département comes from the INSEE commune code (3 characters overseas, 2A/2B);
8. telephone fields are not used (two numbers in one field do not matter);
9. a decimal comma in a number is a format drift: read anyway and reported.

Rows then go through the same validation and classification as the etalab readers
(``grappes.ingest.pipeline.normalise``), so the table is the same; ``ligne`` is the
establishment's rank in the file and every reject also carries its JSON path
(``pmej[812].ege[3]``). Groups become known partnerships between OGs (``LoadResult.liens``),
used by the solver like a ``--liens`` file.
"""

from __future__ import annotations

import gc
import io
import json
import os
import re
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import combinations
from pathlib import Path
from sys import intern
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from grappes.core.formatting import integer_fr, preview
from grappes.core.model import LoadResult, Rejet
from grappes.core.structure import MAX_DEPTH, REASON_DEEP, path_join
from grappes.ingest.base import (
    Parsed,
    Progress,
    Source,
    format_lines,
    raw_frame,
    source_name,
    text_array,
)
from grappes.ingest.errors import IngestError
from grappes.ingest.finess_plus_schema import (
    UNSET,
    Coded,
    Coords,
    InfosEge,
    InfosPm,
    Pmej,
    decode_run,
)
from grappes.ingest.gzip_stream import CORRUPT_ERRORS, corrupt_detail, gunzip_head, open_gzip
from grappes.ingest.json_chunks import JsonBroken, JsonChunks

KIND = "finess_plus"
GZIP_MAGIC = b"\x1f\x8b"
#: The JSON text (decompressed) may not exceed this: the 2026 daily file is several hundred MB
#: once decompressed; 4 GB leaves room for growth and stops a gzip bomb early.
MAX_JSON_BYTES = 4 * 1024**3
#: Bytes decompressed to recognise a gzip file's content.
SNIFF_BYTES = 4096
#: usageAdresse of the geographic address (trap 3)
USAGE_GEOGRAPHIQUE = "03"
#: Field names used in rejects, as written in the file
FIELD_NAMES: dict[str, str] = {
    "finess_et": "numFinessEge",
    "finess_ej": "numFinessPm",
    "categorie": "categorieEntiteGeographiqueExercice",
    "commune": "adresse.cogCommune",
}
_JSON_STARTS = (b"{", b"[")
#: The keys of the flow, spelled as in the real files (trap 1: the published schema differs
#: in case, e.g. ``categorieEntiteGeographiqueExercice``). A key is matched whatever its case
#: (:func:`canonical_key`); an object whose keys are all spelled so takes the fast path of
#: :mod:`grappes.ingest.json_chunks`, any other the exact (slower) reader.
KEYS = frozenset(
    (
        "schemaVersion",
        "generatedAt",
        "pmej",
        "gco",
        "gcc",
        "informationsGeneralesPMEJ",
        "numFinessPm",
        "pmSmsseId",
        "denominationPm",
        "denominationLonguePmSmsse",
        "statutJuridique",
        "typePersonneMorale",
        "siren",
        "dateCreation",
        "dateFermeture",
        "etatObjet",
        "dateDerniereMaj",
        "ege",
        "informationsGeneralesEGE",
        "egeId",
        "numFinessEge",
        "nomEgeLong",
        "nomEgeCourt",
        "siret",
        "dateOuverture",
        "datePremiereAutorisation",
        "categorieentiteGeographiqueExercice",
        "modefixationtarifaire",
        "roleEge",
        "typeBudget",
        "adresse",
        "usageAdresse",
        "cogCommune",
        "codePostal",
        "typeVoie",
        "numeroVoie",
        "libelleVoie",
        "ligneAcheminement",
        "ligneUne",
        "ligneSix",
        "complementVoie",
        "coordonneesGeographique",
        "coordonneeX",
        "coordonneeY",
        "directionLongitude",
        "directionLatitude",
        "cleInInteropBAN",
        "scoreBAN",
        "contact",
        "typeContact",
        "roleContact",
        "telecom",
        "telephone",
        "evenement",
        "engagement",
        "code",
        "system",
        "display",
        "libelle",
        "gccId",
        "nomGcc",
        "typeGcc",
        "gccIdentifiantExterne",
        "pmejDuGcc",
        "egeDuGcc",
        "gcoId",
        "nomGco",
        "typeGco",
        "pmejDuGco",
        "egeDuGco",
        "typeRoleEntiteGroupe",
        "idEgePorteuse",
        "idEgeNonPorteuse",
        "roleRelationEge",
    )
)
_CANONICAL = {key.lower(): key for key in KEYS}
assert len(_CANONICAL) == len(KEYS), "two spellings of one key"


def canonical_key(name: str) -> str:
    """A key as spelled in :data:`KEYS` whatever its case; an unknown key in lower case."""
    low = name.lower()
    return _CANONICAL.get(low, low)


REASON_TWICE = "clé donnée deux fois dans le même objet (laquelle garder est ambigu)"
REASON_TWICE_VALUES = (
    "clé donnée deux fois avec des valeurs différentes (laquelle garder est ambigu)"
)


# --------------------------------------------------------------------------- recognising


def _json_head(head: bytes) -> bytes:
    """The first non-blank bytes of a JSON text (BOM and whitespace skipped)."""
    return head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")


def sniff_bytes(head: bytes) -> bool:
    """True when a file starting with ``head`` is a FINESS+ flow (gzip or plain JSON object).

    A gzip file whose content is not a JSON object raises ``IngestError`` (no other reader
    takes gzip input). The presence of ``pmej`` is checked while streaming: in the real files
    the groups come first and ``pmej`` may start megabytes later.
    """
    if head.startswith(GZIP_MAGIC):
        inner = _json_head(gunzip_head(head, SNIFF_BYTES))
        # JSON of any shape, or a head too damaged to tell: the stream reader says what is wrong
        if not inner or inner[:1] in b'{["-0123456789' or inner.startswith((b"true", b"null")):
            return True
        msg = (
            "fichier compressé gzip qui ne contient pas de JSON : attendu le flux FINESS+ "
            "« finess-structures-journalier-AAAAMMJJ.json.gz » (un objet JSON avec pmej), "
            "ou un extrait etalab CSV décompressé"
        )
        raise IngestError(msg)
    return _json_head(head).startswith(b"{")


# --------------------------------------------------------------------------- byte sources


#: a ``\\uD800``-``\\uDFFF`` escape; group 1 the backslashes before ``u`` (odd: an escape)
_SURROGATE = re.compile(
    rb"(\\+)u([dD][89abAB][0-9a-fA-F]{2})(?![\\]u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<![\\]u[dD][89abAB][0-9a-fA-F]{2})(\\+)u([dD][c-fC-F][0-9a-fA-F]{2})"
)
#: a surrogate escape, searched first (a literal prefix: fast) before the full pattern
_SURROGATE_HINT = re.compile(rb"\\u[dD][89a-fA-F]")
#: what a lone surrogate escape becomes (same length): a noncharacter the reader then finds
SURROGATE_MARK = "\uffff"
_MARK_ESCAPE = b"uFFFF"


def _mark_surrogate(match: re.Match[bytes]) -> bytes:
    slashes = match.group(1) or match.group(3)
    if len(slashes) % 2 == 0:  # an escaped backslash followed by text: not an escape
        return match.group(0)
    return slashes + _MARK_ESCAPE


#: backslashes tried one by one before the search of the rest of the chunk
_WALKED = 256


def _surrogate_hint(data: bytes) -> bool:
    """True when ``data`` holds ``\\u`` then a surrogate's first digits (``_SURROGATE_HINT``).

    Tried at each backslash, found by ``bytes.find`` (few in a real chunk), rather than
    searched through the whole chunk: 0.05 s less on a national file. Past ``_WALKED``
    backslashes (a text written with ``\\u`` escapes), the search of the rest.
    """
    at = data.find(b"\\")
    for _ in range(_WALKED):
        if at < 0:
            return False
        if _SURROGATE_HINT.match(data, at):
            return True
        at = data.find(b"\\", at + 1)
    return _SURROGATE_HINT.search(data, at) is not None


class _JsonBytes:
    """The bytes of the JSON text: decompressed, counted, lone surrogate escapes marked.

    - More than ``limit`` bytes raise ``IngestError`` (a gzip bomb is stopped early).
    - The JSON escapes of lone UTF-16 surrogates (``\\udc00``) are replaced by ``\\uFFFF``
      (a noncharacter, same length): left as they are, the event reader turns them into
      bytes that are not UTF-8 and stops the whole file with an English codec error; marked,
      the file reads on and the record holding one is rejected, naming its field. ``found``
      counts the replacements.

    One plain ``read(size)`` (no ``io`` buffering layers: they cost more than the gzip
    decompression itself on a national file).
    """

    def __init__(self, raw: Any, limit: int, what: str) -> None:
        self.raw = raw
        self.limit = limit
        self.what = what
        self.count = 0
        self.found = 0
        self.pending = b""  # an escape cut by the end of the last read

    def read(self, size: int) -> bytes:
        data = self.pending
        self.pending = b""
        while True:
            chunk = self.raw.read(size)
            self.count += len(chunk)
            if self.count > self.limit:
                msg = (
                    f"{self.what} trop volumineux : plus de "
                    f"{integer_fr(self.limit / 1_000_000)} Mo une fois décompressé (limite de "
                    "sécurité contre les archives piégées)"
                )
                raise IngestError(msg)
            data = data + chunk if data else chunk
            if not chunk:
                break
            cut = data.find(b"\\", max(0, len(data) - 16))
            if cut < 0:
                break
            if cut > 0:  # an escape may be cut: it waits for the next read
                data, self.pending = data[:cut], data[cut:]
                break
        if _surrogate_hint(data):  # the full pattern is slow on a long text
            data, n = _SURROGATE.subn(_mark_surrogate, data)
            self.found += n
        return data


class _Prefixed(io.RawIOBase):
    """A non-seekable stream whose first bytes were already read for sniffing."""

    def __init__(self, head: bytes, raw: Any) -> None:
        self.head = head
        self.raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@dataclass
class _Opened:
    """An open main file: the raw stream, its size on disk ('' stream: 0) and whether gzip."""

    raw: BinaryIO
    size: int
    gz: bool
    close: bool


def _open(src: Source, max_bytes: int) -> _Opened:
    """Open ``src`` for streaming; refuse a compressed file above ``max_bytes`` before reading."""
    limit_mb = max_bytes / 1_000_000
    if isinstance(src, bytes | bytearray):
        raw: BinaryIO = io.BytesIO(bytes(src))
        size, close = len(src), True
    elif isinstance(src, str | Path):
        path = Path(src)
        if not path.is_file():
            what = "est un dossier" if path.is_dir() else "est introuvable"
            msg = f"fichier {path} {what}"
            raise IngestError(msg)
        size = os.stat(path).st_size
        raw, close = path.open("rb"), True
    elif hasattr(src, "read"):
        raw, close = src, False  # type: ignore[assignment]
        size = int(getattr(src, "size", 0) or 0)
    else:
        msg = f"fichier : type d'entrée non pris en charge ({type(src).__name__})"
        raise IngestError(msg)
    head = raw.read(2)
    if hasattr(raw, "seekable") and raw.seekable():
        raw.seek(0)
    else:
        raw = io.BufferedReader(_Prefixed(head, raw))  # type: ignore[assignment]
    gz = head == GZIP_MAGIC
    if gz and size > max_bytes:
        if close:
            raw.close()
        msg = f"fichier compressé trop volumineux : {integer_fr(size / 1_000_000)} Mo "
        msg += f"(limite {integer_fr(limit_mb)} Mo, option --max-mo)"
        raise IngestError(msg)
    return _Opened(raw, size, gz, close)


# --------------------------------------------------------------------------- JSON events


class _Broken(Exception):
    """The JSON stream ended or broke inside a value."""


@dataclass
class _Problem:
    """A value of an item that makes its record unusable: too deep, or a key given twice."""

    parts: list[Any]  # path inside the item: original key names and list indices
    reason: str

    def path(self, where: str) -> str:
        out = where
        for part in self.parts:
            out = path_join(out, part)
        return out

    def field(self) -> str:
        """The last key of the path (the field at fault)."""
        names = [p for p in self.parts if isinstance(p, str)]
        return names[-1] if names else "structure"

    def ege_index(self) -> int | None:
        """The index of the ``ege`` holding the problem, None when it is above the ege."""
        if (
            len(self.parts) >= 2
            and str(self.parts[0]).lower() == "ege"
            and isinstance(self.parts[1], int)
        ):
            return self.parts[1]
        return None


REASON_SURROGATE = (
    "caractère invalide : demi-paire de substitution UTF-16 isolée (\\udXXX), texte "
    "illisible ; corrigez ce champ dans le fichier"
)


def _marked(value: Any) -> list[_Problem]:
    """Problems for the strings holding a lone-surrogate marker (iterative walk)."""
    found: list[_Problem] = []
    stack: list[tuple[Any, list[Any]]] = [(value, [])]
    while stack:
        node, parts = stack.pop()
        if isinstance(node, str):
            if SURROGATE_MARK in node:
                found.append(_Problem(parts, REASON_SURROGATE))
        elif isinstance(node, dict):
            stack.extend((v, [*parts, k]) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, [*parts, i]) for i, v in enumerate(node))
    return found


def _parts(stack: list[Any], names: list[str]) -> list[Any]:
    """The path of the value being added to ``stack[-1]`` (``names``: keys as written)."""
    parts: list[Any] = []
    last = len(stack) - 1
    for i, node in enumerate(stack):
        if type(node) is dict:
            parts.append(names[i])
        else:
            parts.append(len(node) - (0 if i == last else 1))
    return parts


def _build(events: Any, event: str, value: Any) -> tuple[Any, list[_Problem]]:
    """The Python value starting with (``event``, ``value``), keys spelled as in
    :data:`KEYS` whatever their case (trap 1).

    Iterative (no recursion on the data). A value nested deeper than ``MAX_DEPTH`` is
    skipped unread and a key given twice (whatever its case) is kept as a problem of the
    item: a list given twice is joined (so that its establishments are all accounted for),
    a scalar given twice with different values keeps the last; either way the record is
    rejected by the caller, naming the path.
    """
    if event == "start_map":
        root: Any = {}
    elif event == "start_array":
        root = []
    else:
        return value, []
    problems: list[_Problem] = []
    stack: list[Any] = [root]
    keys: list[str] = [""]
    names: list[str] = [""]
    for ev, val in events:
        if ev == "map_key":
            keys[-1] = canonical_key(val)
            names[-1] = val
            continue
        if ev == "end_map" or ev == "end_array":
            stack.pop()
            keys.pop()
            names.pop()
            if not stack:
                return root, problems
            continue
        top = stack[-1]
        if ev == "start_map" or ev == "start_array":
            if len(stack) >= MAX_DEPTH:
                problems.append(_Problem(_parts(stack, names), REASON_DEEP))
                _skip(events, ev)
                child: Any = None
                ev = "skipped"
            else:
                child = {} if ev == "start_map" else []
        else:
            child = val
        if type(top) is dict:
            key = keys[-1]
            if key in top:
                old = top[key]
                if type(old) is type(child) and type(old) in (list, dict):
                    child = old  # joined: nothing read is dropped before the record is judged
                    problems.append(_Problem(_parts(stack, names), REASON_TWICE))
                elif old != child or type(old) in (list, dict) or type(child) in (list, dict):
                    problems.append(_Problem(_parts(stack, names), REASON_TWICE_VALUES))
            top[key] = child
        else:
            top.append(child)
        if ev == "start_map" or ev == "start_array":
            stack.append(child)
            keys.append("")
            names.append("")
    raise _Broken


def _skip(events: Any, event: str) -> None:
    """Consume the rest of a value that is not needed."""
    if event not in ("start_map", "start_array"):
        return
    depth = 1
    for ev, _ in events:
        if ev == "start_map" or ev == "start_array":
            depth += 1
        elif ev == "end_map" or ev == "end_array":
            depth -= 1
            if depth == 0:
                return
    raise _Broken


# --------------------------------------------------------------------------- values


def code(value: Any) -> str:
    """A coded value given bare (``"500"``) or as ``{code, system}`` (trap 2); '' if none."""
    if type(value) is str:  # the usual case first: this runs a dozen times per establishment
        return value.strip()
    if isinstance(value, dict):
        value = value.get("code", "")
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e18:
        value = int(value)
    if isinstance(value, bool | list | dict) or not isinstance(value, int | float):
        return preview(value)  # a wrong type: shown as found, then refused by the checks
    return preview(value, 40)


#: A string field (numbers written as JSON numbers become their text): read as a code.
text = code


def label(value: Any) -> str:
    """The label of a coded object when the file gives one (``display``/``libelle``)."""
    if isinstance(value, dict):
        return text(value.get("display") or value.get("libelle") or "")
    return ""


def number(value: Any) -> tuple[float, bool]:
    """(value, drift): a coordinate given as text with a decimal point (trap 9).

    A decimal comma is a format drift: the value is still read, and ``drift`` says so.
    """
    if value is None or value == "":
        return np.nan, False
    if isinstance(value, int | float):
        return float(value), False
    raw = str(value).strip()
    drift = "," in raw and "." not in raw
    try:
        return float(raw.replace(",", ".") if drift else raw), drift
    except ValueError:
        return np.nan, False


def geographic_address(addresses: Any) -> dict[str, Any] | None:
    """The address with ``usageAdresse`` "03" (trap 3); else the only address; else None."""
    if not isinstance(addresses, list):
        return None
    items = []
    for a in addresses:
        if isinstance(a, dict):
            if code(a.get("usageAdresse")).zfill(2) == USAGE_GEOGRAPHIQUE:
                return a
            items.append(a)
    untyped = [a for a in items if not code(a.get("usageAdresse"))]
    return untyped[0] if len(items) == 1 and untyped else None


def normalise_commune(value: str) -> str:
    """An INSEE commune code as 5 characters (a number that lost its leading zero is restored)."""
    value = value.strip().upper()
    if value.isdigit() and len(value) == 4:
        return "0" + value
    return value


# --------------------------------------------------------------------------- collecting


@dataclass
class _Columns:
    """Column values of the establishments kept for the table, in file order."""

    finess_et: list[str] = field(default_factory=list)
    finess_ej: list[str] = field(default_factory=list)
    raison_sociale: list[str] = field(default_factory=list)
    raison_sociale_ej: list[str] = field(default_factory=list)
    categorie: list[str] = field(default_factory=list)
    categorie_libelle: list[str] = field(default_factory=list)
    commune: list[str] = field(default_factory=list)
    statut_juridique: list[str] = field(default_factory=list)
    libmft: list[str] = field(default_factory=list)
    pairs: array[float] = field(default_factory=lambda: array("d"))  # 4 floats per row
    ban_commune: list[bool] = field(default_factory=list)
    ordinal: list[int] = field(default_factory=list)


_TEXT_COLUMNS = (
    "finess_et", "finess_ej", "raison_sociale", "raison_sociale_ej", "categorie",
    "categorie_libelle", "commune", "statut_juridique", "libmft",
)  # fmt: skip


class _Paths:
    """The path of every ``ege`` (``pmej[812].ege[3]``) by ordinal - 1, kept as two integer
    arrays: the text is made only for the few that a message names."""

    def __init__(self) -> None:
        self.pmej = array("q")
        self.ege = array("q")

    def add(self, pmej: int, ege: int) -> int:
        """Note the path of the next ``ege``; its ordinal (1 for the first of the file)."""
        self.pmej.append(pmej)
        self.ege.append(ege)
        return len(self.pmej)

    def __len__(self) -> int:
        return len(self.pmej)

    def __getitem__(self, k: int) -> str:
        return f"pmej[{self.pmej[k]}].ege[{self.ege[k]}]"


@dataclass
class _State:
    """Everything gathered while streaming (one ``pmej`` at a time)."""

    cols: _Columns = field(default_factory=_Columns)
    paths: _Paths = field(default_factory=_Paths)  # path of every ege, by ordinal - 1
    memo: dict[Any, Any] = field(default_factory=dict)  # column values of repeated codes
    rejets: list[Rejet] = field(default_factory=list)
    set_aside: dict[str, list[str]] = field(
        default_factory=lambda: {"fermes": [], "inactifs": [], "og_fermes": []}
    )
    drift: list[str] = field(default_factory=list)
    padded: list[str] = field(default_factory=list)  # commune codes given on 4 digits
    pm_finess: dict[str, str] = field(default_factory=dict)  # pmSmsseId -> numFinessPm
    ege_pm: dict[str, str] = field(default_factory=dict)  # egeId -> numFinessPm
    groups: list[tuple[str, str, list[str], list[str]]] = field(default_factory=list)
    pmej: int = 0
    pmej_fermes: int = 0
    counter: Any = None  # the _JsonBytes source (bytes read so far)
    marks: Any = None  # the same (lone surrogates replaced so far)
    cursor: Any = None  # the JsonChunks cursor (where the text is being read)
    top: dict[str, Any] = field(default_factory=dict)
    top_twice: list[str] = field(default_factory=list)  # top-level scalars given twice
    keys_twice: dict[str, int] = field(default_factory=dict)  # pmej/gco/gcc arrays given twice
    scratch: bytearray = field(default_factory=bytearray)  # decode_run's re-encoding buffer


def _mft_labels() -> dict[str, str]:
    """Tariff-setting mode labels by code (TRE_R74, wording of the etalab files)."""
    from grappes.core.nomenclature import MFT_LIBELLES

    return dict(MFT_LIBELLES)


_COORDINATE_KEYS = ("coordonneeX", "coordonneeY", "directionLongitude", "directionLatitude")


def _closed(obj: dict[str, Any], infos: dict[str, Any]) -> str:
    """'fermes' (dateFermeture set), 'inactifs' (etatObjet I) or '' for an active entity."""
    if text(infos.get("dateFermeture")):
        return "fermes"
    if code(obj.get("etatObjet")).upper() == "I":
        return "inactifs"
    return ""


def _take_pmej(
    pm: Any, index: int, state: _State, mft: dict[str, str], problems: list[_Problem]
) -> None:
    """Turn one ``pmej`` into rows, set-asides and rejects (one ``Rejet`` per bad ``ege``).

    ``problems`` (a value too deep, a key given twice): one inside an ``ege`` rejects that
    ``ege``; one above them rejects every ``ege`` of the entity, each with its path.
    """
    state.pmej += 1
    where = f"pmej[{index}]"
    if state.marks is not None and state.marks.found:
        problems = problems + _marked(pm)
    if not isinstance(pm, dict):
        reason = "élément qui n'est pas un objet JSON : ignoré"
        if problems:
            reason = f"{problems[0].path(where)} : {problems[0].reason}"
        state.rejets.append(Rejet(0, "pmej", reason, preview(pm), "", path=where))
        return
    by_ege: dict[int, _Problem] = {}
    above: _Problem | None = None
    for problem in problems:
        j = problem.ege_index()
        if j is None:
            above = above or problem
        else:
            by_ege.setdefault(j, problem)
    infos = pm.get("informationsGeneralesPMEJ")
    infos = infos if isinstance(infos, dict) else {}
    finess_ej = text(infos.get("numFinessPm")).upper()
    pm_id = text(infos.get("pmSmsseId"))
    if pm_id:
        state.pm_finess[pm_id] = finess_ej
    pm_closed = _closed(pm, infos)
    if pm_closed:
        state.pmej_fermes += 1
    name_ej = text(infos.get("denominationLonguePmSmsse")) or text(infos.get("denominationPm"))
    statut = code(infos.get("statutJuridique"))
    eges = pm.get("ege") or []
    if not isinstance(eges, list):
        eges = [eges]
    if above is not None and not eges:
        reason = f"{above.path(where)} : {above.reason} ; entité juridique rejetée"
        state.rejets.append(Rejet(0, "pmej", reason, "", "", path=where))
    cols = state.cols
    for j, ege in enumerate(eges):
        path = f"{where}.ege[{j}]"
        ordinal = state.paths.add(index, j)
        problem = above or by_ege.get(j)
        if problem is not None:
            reason = f"{problem.path(where)} : {problem.reason}"
            if problem is above:
                reason += " ; toute l'entité juridique est rejetée"
            state.rejets.append(Rejet(ordinal, problem.field(), reason, "", "", path=path))
            continue
        if not isinstance(ege, dict):
            reason = "établissement qui n'est pas un objet JSON"
            state.rejets.append(Rejet(ordinal, "ege", reason, preview(ege), "", path=path))
            continue
        e_infos = ege.get("informationsGeneralesEGE")
        if not isinstance(e_infos, dict):
            reason = "informationsGeneralesEGE manquant : établissement illisible"
            state.rejets.append(
                Rejet(ordinal, "informationsGeneralesEGE", reason, "", "", path=path)
            )
            continue
        ege_id = text(e_infos.get("egeId"))
        if ege_id:
            state.ege_pm[ege_id] = finess_ej
        finess_et = text(e_infos.get("numFinessEge")).upper()
        closed = _closed(ege, e_infos) or ("og_fermes" if pm_closed else "")
        if closed:
            state.set_aside[closed].append(f"{path} ({finess_et})")
            continue
        address = geographic_address(ege.get("adresse")) or {}
        raw_commune = text(address.get("cogCommune"))
        commune = normalise_commune(raw_commune)
        if len(commune) != len(raw_commune.strip()):
            state.padded.append(f"{path} (« {preview(raw_commune, 10)} » → {commune})")
        coords = address.get("coordonneesGeographique")
        coords = coords if isinstance(coords, dict) else {}
        values = []
        for key in _COORDINATE_KEYS:
            value = coords.get(key)
            if type(value) is float:  # the usual case, without a call
                values.append(value)
                continue
            value, drift = number(value)
            values.append(value)
            if drift:
                state.drift.append(f"{path}.{key.lower()}")
        ban = text(coords.get("cleInInteropBAN"))
        categorie_raw = ege.get("categorieentiteGeographiqueExercice")
        mft_raw = ege.get("modefixationtarifaire")
        cols.finess_et.append(finess_et)
        cols.finess_ej.append(finess_ej)
        cols.raison_sociale.append(
            text(e_infos.get("nomEgeLong")) or text(e_infos.get("nomEgeCourt"))
        )
        cols.raison_sociale_ej.append(name_ej)
        # repeated values share one string (a few MB less per 100,000 establishments)
        cols.categorie.append(intern(code(categorie_raw)))
        cols.categorie_libelle.append(intern(label(categorie_raw)))
        cols.commune.append(intern(commune))
        cols.statut_juridique.append(statut)
        cols.libmft.append(intern(label(mft_raw) or mft.get(code(mft_raw).zfill(2), "")))
        cols.pairs.extend(values)
        cols.ban_commune.append(bool(ban) and "_" not in ban)
        cols.ordinal.append(ordinal)


def _typed_text(value: Any) -> str:
    """:func:`text` of a field typed by :mod:`grappes.ingest.finess_plus_schema` (str/None)."""
    return value.strip() if type(value) is str else ""


def _typed_code(value: Any) -> str:
    """:func:`code` of a typed coded value: a text, a ``Coded`` or None."""
    if type(value) is str:
        return value.strip()
    if type(value) is Coded:
        return _typed_text(value.code)
    return ""


def _typed_label(value: Any) -> str:
    """:func:`label` of a typed coded value."""
    if type(value) is Coded:
        return _typed_text(value.display or value.libelle)
    return ""


def _typed_closed(etat: Any, infos: Any) -> str:
    """:func:`_closed` of typed structures (``infos`` None when not given)."""
    if infos is not None and _typed_text(infos.dateFermeture):
        return "fermes"
    if _typed_code(etat).upper() == "I":
        return "inactifs"
    return ""


def _typed_address(addresses: Any) -> Any:
    """:func:`geographic_address` of a typed address list (the structure, or None)."""
    if not addresses:
        return None
    for a in addresses:
        if _typed_code(a.usageAdresse).zfill(2) == USAGE_GEOGRAPHIQUE:
            return a
    if len(addresses) == 1 and not _typed_code(addresses[0].usageAdresse):
        return addresses[0]
    return None


def _take_run_typed(items: list[Pmej], index: int, state: _State, mft: dict[str, str]) -> None:
    """:func:`_take_pmej` of each ``pmej`` of a run decoded by the fast path, the first
    numbered ``index`` (same rows, same rules).

    The structures guarantee the types (a text is a ``str`` or None...): what
    :func:`_take_pmej` checks with ``isinstance`` is known here, the rest is the same steps in
    the same order. ``tests/test_ingest_finess_plus_fast.py`` compares the two on the same
    records. This runs once per establishment of a national file (100,000 times): the usual
    cases are written inline, and the coded values, repeated across the file (categories,
    tariff modes, communes), are turned into their column values once (``state.memo``).
    """
    cols = state.cols
    paths_pmej, paths_ege = state.paths.pmej, state.paths.ege
    pairs = cols.pairs
    ege_pm = state.ege_pm
    communes, codes = state.memo.setdefault("communes", {}), state.memo.setdefault("codes", {})
    finess_et_col, finess_ej_col = cols.finess_et, cols.finess_ej
    name_col, name_ej_col = cols.raison_sociale, cols.raison_sociale_ej
    categorie_col, categorie_libelle_col = cols.categorie, cols.categorie_libelle
    commune_col, statut_col, libmft_col = cols.commune, cols.statut_juridique, cols.libmft
    ban_col, ordinal_col = cols.ban_commune, cols.ordinal
    for pm in items:
        state.pmej += 1
        infos = pm.informationsGeneralesPMEJ
        if type(infos) is not InfosPm:
            infos = None
        finess_ej = pm_id = name_ej = statut = ""
        if infos is not None:
            finess_ej = _typed_text(infos.numFinessPm).upper()
            pm_id = _typed_text(infos.pmSmsseId)
            name_ej = _typed_text(infos.denominationLonguePmSmsse) or _typed_text(
                infos.denominationPm
            )
            statut = _typed_code(infos.statutJuridique)
        if pm_id:
            state.pm_finess[pm_id] = finess_ej
        pm_closed = _typed_closed(pm.etatObjet, infos)
        if pm_closed:
            state.pmej_fermes += 1
        eges = pm.ege
        if not eges:
            index += 1
            continue
        for j, ege in enumerate(eges):
            paths_pmej.append(index)
            paths_ege.append(j)
            ordinal = len(paths_pmej)
            e_infos = ege.informationsGeneralesEGE
            if type(e_infos) is not InfosEge:
                reason = "informationsGeneralesEGE manquant : établissement illisible"
                state.rejets.append(
                    Rejet(
                        ordinal,
                        "informationsGeneralesEGE",
                        reason,
                        "",
                        "",
                        path=state.paths[-1],
                    )
                )
                continue
            value = e_infos.egeId
            if type(value) is str and (value := value.strip()):
                ege_pm[value] = finess_ej
            value = e_infos.numFinessEge
            finess_et = value.strip().upper() if type(value) is str else ""
            closed = ""
            value = e_infos.dateFermeture
            if type(value) is str and value.strip():
                closed = "fermes"
            else:
                etat = ege.etatObjet
                # "A" (active), the usual value, settled without the call
                if etat is not UNSET and etat != "A" and _typed_code(etat).upper() == "I":
                    closed = "inactifs"
                elif pm_closed:
                    closed = "og_fermes"
            if closed:
                state.set_aside[closed].append(f"{state.paths[-1]} ({finess_et})")
                continue
            # the geographic address (trap 3): usually the first, its usage a bare "03"
            addresses = ege.adresse
            address = None
            if addresses:
                first = addresses[0]
                if first.usageAdresse == USAGE_GEOGRAPHIQUE:
                    address = first
                else:
                    address = _typed_address(addresses)
            if address is not None:
                raw_commune = address.cogCommune
                if type(raw_commune) is not str:
                    raw_commune = ""
                coords = address.coordonneesGeographique
            else:
                raw_commune = ""
                coords = None
            commune = communes.get(raw_commune)
            if commune is None:
                raw = raw_commune.strip()
                commune = communes[raw_commune] = (intern(normalise_commune(raw)), len(raw))
            if len(commune[0]) != commune[1]:
                state.padded.append(
                    f"{state.paths[-1]} (« {preview(raw_commune.strip(), 10)} » → {commune[0]})"
                )
            if type(coords) is Coords:
                # the usual case first: four numbers written as texts with a decimal point
                try:
                    pairs.extend(
                        (
                            float(coords.coordonneeX),  # type: ignore[arg-type]
                            float(coords.coordonneeY),  # type: ignore[arg-type]
                            float(coords.directionLongitude),  # type: ignore[arg-type]
                            float(coords.directionLatitude),  # type: ignore[arg-type]
                        )
                    )
                except (TypeError, ValueError):
                    _typed_coordinates(coords, state.paths[-1], state)
                ban = coords.cleInInteropBAN
                ban_col.append(type(ban) is str and bool(ban.strip()) and "_" not in ban)
            else:
                pairs.extend(_NO_PAIRS)
                ban_col.append(False)
            categorie_raw = ege.categorieentiteGeographiqueExercice
            mft_raw = ege.modefixationtarifaire
            if type(categorie_raw) is str and type(mft_raw) is str:  # texts: hashable, repeated
                coded = codes.get((categorie_raw, mft_raw))
                if coded is None:
                    coded = codes[categorie_raw, mft_raw] = _ege_codes(categorie_raw, mft_raw, mft)
            else:  # a {code, system} object (trap 2), null or absent
                coded = _ege_codes(categorie_raw, mft_raw, mft)
            finess_et_col.append(finess_et)
            finess_ej_col.append(finess_ej)
            value = e_infos.nomEgeLong
            name = value.strip() if type(value) is str else ""
            if not name:
                value = e_infos.nomEgeCourt
                name = value.strip() if type(value) is str else ""
            name_col.append(name)
            name_ej_col.append(name_ej)
            categorie_col.append(coded[0])
            categorie_libelle_col.append(coded[1])
            commune_col.append(commune[0])
            statut_col.append(statut)
            libmft_col.append(coded[2])
            ordinal_col.append(ordinal)
        index += 1


_NO_PAIRS = (np.nan, np.nan, np.nan, np.nan)


def _ege_codes(categorie_raw: Any, mft_raw: Any, mft: dict[str, str]) -> tuple[str, str, str]:
    """Category code, category label and tariff-mode label of typed coded values."""
    return (
        intern(_typed_code(categorie_raw)),
        intern(_typed_label(categorie_raw)),
        intern(_typed_label(mft_raw) or mft.get(_typed_code(mft_raw).zfill(2), "")),
    )


def _typed_coordinates(coords: Coords, path: str, state: _State) -> None:
    """The four coordinates of ``coords``, one by one with :func:`number` (trap 9)."""
    given = (
        coords.coordonneeX,
        coords.coordonneeY,
        coords.directionLongitude,
        coords.directionLatitude,
    )
    for key, value in zip(_COORDINATE_KEYS, given, strict=True):
        if type(value) is not float:
            value, drift = number(None if value is UNSET else value)
            if drift:
                state.drift.append(f"{path}.{key.lower()}")
        state.cols.pairs.append(value)


def _list(value: Any) -> list[Any]:
    """A member list as given; a single object stands for a list of one; anything else: []."""
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, dict) else []


def _take_group(kind: str, group: Any, index: int, state: _State, problems: list[_Problem]) -> None:
    """Remember a ``gco``/``gcc`` group: its name and member ids (resolved at the end)."""
    where = f"{kind}[{index}]"
    if state.marks is not None and state.marks.found:
        problems = problems + _marked(group)
    if problems:
        reason = f"{problems[0].path(where)} : {problems[0].reason} ; groupe ignoré"
        state.rejets.append(Rejet(0, kind, reason, "", "", path=where))
        return
    if not isinstance(group, dict):
        state.rejets.append(
            Rejet(0, kind, "groupe qui n'est pas un objet JSON : ignoré", "", "", path=where)
        )
        return
    if code(group.get("etatObjet")).upper() == "I":
        return
    pm_ids: list[str] = []
    ege_ids: list[str] = []
    if kind == "gco" and text(group.get("pmSmsseId")):
        pm_ids.append(text(group.get("pmSmsseId")))
    for member in _list(group.get(f"pmejDu{kind.capitalize()}")):
        if isinstance(member, dict) and text(member.get("pmSmsseId")):
            pm_ids.append(text(member.get("pmSmsseId")))
    for member in _list(group.get(f"egeDu{kind.capitalize()}")):
        if isinstance(member, dict) and text(member.get("egeId")):
            ege_ids.append(text(member.get("egeId")))
    name = text(group.get("nomGcc")) or where
    state.groups.append((where, name, pm_ids, ege_ids))


#: level of the records in the file: the top-level object (1) holds the arrays (2) of records
_RECORD_LEVEL = 2
_ARRAYS = ("pmej", "gco", "gcc")


def _exact(record_text: str) -> tuple[Any, list[_Problem]]:
    """A record flagged by the fast path, read event by event: its problems with their paths.

    Used for the rare records with a key given twice or spelled in another case, or nested
    too deep (:mod:`grappes.ingest.json_chunks` hands back their text).
    """
    import ijson

    events = ijson.basic_parse(io.BytesIO(record_text.encode("utf-8")), use_float=True)
    try:
        ev, val = next(events)
        return _build(events, ev, val)
    except (_Broken, StopIteration) as exc:
        raise JsonBroken("fin de fichier prématurée", truncated=True) from exc
    except ijson.JSONError as exc:
        raise JsonBroken(" ".join(str(exc).split())[:160]) from exc


def _item(text: JsonChunks) -> tuple[Any, list[_Problem]]:
    """The next record of an array: built by the C scanner, or by ``_exact`` when flagged."""
    record = text.record()
    if record.text is None:
        return record.value, []
    return _exact(record.text)


def _take_run(text: JsonChunks, index: int, state: _State, mft: dict[str, str]) -> int:
    """Read the whole ``pmej`` buffered after the cursor in one go (the fast path).

    Returns how many were taken (the cursor is then past the last one), 0 when there is
    no whole record buffered ahead, -1 when the run must be read by the exact reader
    (:func:`grappes.ingest.finess_plus_schema.decode_run` refused it, or a lone surrogate
    was met: the exact reader names its field).
    """
    if state.marks is not None and state.marks.found:
        return -1
    run = text.batch()
    if run is None:
        return 0
    items = decode_run(run[0], KEYS, state.scratch)
    if items is None:
        return -1
    _take_run_typed(items, index + 1, state, mft)
    text.pos = run[1]
    return len(items)


def _scalar(text: JsonChunks) -> Any:
    """The scalar value at the cursor."""
    record = text.record()
    return record.value if record.text is None else json.loads(record.text)


def _stream(raw: Any, state: _State, progress: Progress | None, total: int, counted: Any) -> None:
    """Walk the top-level object; parse each ``pmej`` / group item and hand it over.

    The structure around the records (the top-level object, the arrays) is checked here,
    character by character; each record is parsed whole by ``JsonChunks.record``.
    """
    mft = _mft_labels()
    text = JsonChunks(raw, KEYS, MAX_DEPTH + _RECORD_LEVEL, _RECORD_LEVEL)
    state.cursor = text
    try:
        first = text.peek()
        if not first:
            msg = "fichier JSON vide : aucun objet à lire"
            raise IngestError(msg)
        if first != "{":
            if first != "[":
                _scalar(text)  # invalid JSON raises JsonBroken: "JSON invalide"
            shape = "un tableau [...]" if first == "[" else "une valeur isolée"
            msg = (
                f"structure JSON inattendue : le fichier commence par {shape} ; le flux "
                "FINESS+ est un objet {…} avec les tableaux pmej, gco et gcc"
            )
            raise IngestError(msg)
        text.pos += 1
        seen_pmej = False
        seen_items: dict[str, int] = {}
        closed = text.peek() == "}"
        if closed:
            text.pos += 1
        while not closed:
            if text.peek() != '"':
                text.expect('"')  # raises with the character found
            key = str(_scalar(text)).lower()
            text.expect(":")
            char = text.peek()
            if key in _ARRAYS:
                if char != "[":
                    shown = "{…}" if char == "{" else preview(_scalar(text)) if char else ""
                    msg = f"structure JSON inattendue : « {shown} »"
                    msg += f" pour {key}, un tableau [...] est attendu"
                    raise IngestError(msg)
                text.pos += 1
                seen_pmej = seen_pmej or key == "pmej"
                if key in seen_items:
                    state.keys_twice[key] = state.keys_twice.get(key, 1) + 1
                # a key given twice goes on numbering: every path stays unique
                index = seen_items.get(key, 0) - 1
                ended = text.peek() == "]"
                if ended:
                    text.pos += 1
                exact_until = 0  # a run refused by the fast path: read one by one up to here
                while not ended:
                    if key == "pmej" and text.base + text.pos >= exact_until:
                        done = _take_run(text, index, state, mft)
                        if done == 0 and text.fill():
                            # no whole record buffered ahead (the next one is cut by the end
                            # of the chunk): read on, rather than parse that one alone
                            done = _take_run(text, index, state, mft)
                        if done < 0:
                            exact_until = text.batch_end
                        elif done:
                            index += done
                            if progress is not None:
                                progress(_position(counted, total), total)
                            ended = text.expect(",]") == "]"
                            continue
                    index += 1
                    item, problems = _item(text)
                    if key == "pmej":
                        _take_pmej(item, index, state, mft, problems)
                        if progress is not None and index % 2000 == 0:
                            progress(_position(counted, total), total)
                    else:
                        _take_group(key, item, index, state, problems)
                    ended = text.expect(",]") == "]"
                seen_items[key] = index + 1
            elif char in ("[", "{"):
                text.pos = text.skip()  # not needed: never built
            else:
                val = _scalar(text)
                if key in state.top and state.top[key] != val:
                    state.top_twice.append(key)
                state.top[key] = val
            closed = text.expect(",}") == "}"
        if not seen_pmej:
            msg = (
                "objet JSON sans tableau « pmej » : ce n'est pas le flux FINESS+ des structures "
                "(finess-structures-journalier-AAAAMMJJ.json.gz)"
            )
            raise IngestError(msg)
        if text.peek():
            msg = "contenu inattendu après la fin de l'objet JSON principal"
            raise IngestError(msg)
    except JsonBroken as exc:
        detail = "fin de fichier prématurée" if exc.truncated else f"JSON invalide ({exc.detail})"
        raise IngestError(_broken_message(state, detail)) from exc
    except EOFError as exc:
        raise IngestError(_broken_message(state, "fichier compressé gzip tronqué")) from exc
    except CORRUPT_ERRORS as exc:
        detail = f"fichier compressé gzip corrompu ({corrupt_detail(exc)})"
        raise IngestError(_broken_message(state, detail)) from exc
    except OSError as exc:
        raise IngestError(_broken_message(state, f"lecture impossible ({exc})")) from exc


def _position(counted: Any, total: int) -> int:
    try:
        return min(int(counted.tell()), total) if total else 0
    except (OSError, ValueError, AttributeError):
        return 0


def _broken_message(state: _State, detail: str) -> str:
    """Where a malformed stream broke: after which pmej, in which ege."""
    done = state.pmej
    where = f"pendant pmej[{done}]" if done or state.paths else "avant le premier pmej"
    last = f", dernier établissement lu : {state.paths[-1]}" if state.paths else ""
    if state.cursor is not None:
        last += f", vers l'octet {integer_fr(state.cursor.offset())} du JSON"
    elif state.counter is not None:
        last += f", vers l'octet {integer_fr(state.counter.count)} du JSON"
    return (
        f"flux FINESS+ illisible {where} ({done} entité(s) juridique(s) lue(s){last}) : "
        f"{detail}. Rien n'a été chargé : retéléchargez le fichier."
    )


# --------------------------------------------------------------------------- coordinates


def choose_positions(
    pairs: np.ndarray, departement: pd.Series, centroid_lon: pd.Series, centroid_lat: pd.Series
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WGS84 lon/lat of each row from its two coordinate pairs, whatever their order (trap 4).

    ``pairs`` is n x 4: coordonneeX, coordonneeY, directionLongitude, directionLatitude. Each
    pair is read as (lon, lat), (lat, lon), then as projected (x, y) and (y, x) in the
    territory's legal CRS (Lambert-93, or the overseas UTM: ``grappes.geo.crs``). The first reading
    inside the département's territory and within ``MAX_KM_FROM_COMMUNE`` of the commune
    centroid wins. Third value: True where a pair was given at all. Rows where no reading is
    plausible keep the first reading that looks like degrees (the shared pipeline then
    reports it and falls back to the centroid).
    """
    from grappes.geo.crs import default_epsg_for_departement, plausible_for_departement, to_wgs84
    from grappes.geo.distances import haversine_km
    from grappes.ingest.classify import MAX_KM_FROM_COMMUNE, MAX_KM_FROM_COMMUNE_GUYANE

    n = len(pairs)
    dep_codes, dep_names = pd.factorize(departement.astype("string").fillna(""))
    dep_names = np.asarray(dep_names, dtype=object)
    deps = dep_names[dep_codes] if n else np.array([], dtype=object)
    epsg = np.array(
        [default_epsg_for_departement(str(d)) for d in dep_names], dtype="float64"
    )[dep_codes]
    c_lon = centroid_lon.to_numpy(dtype="float64", na_value=np.nan)
    c_lat = centroid_lat.to_numpy(dtype="float64", na_value=np.nan)
    limit = np.where(deps == "973", MAX_KM_FROM_COMMUNE_GUYANE, MAX_KM_FROM_COMMUNE)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    fallback_lon = np.full(n, np.nan)
    fallback_lat = np.full(n, np.nan)
    given = np.zeros(n, dtype=bool)
    for a, b in ((0, 1), (2, 3)):
        pa, pb = pairs[:, a], pairs[:, b]
        present = np.isfinite(pa) & np.isfinite(pb)
        given |= present
        degrees = present & (np.abs(pa) <= 180) & (np.abs(pb) <= 180)
        projected = present & ~degrees
        readings: list[Any] = [(pa, pb, degrees), (pb, pa, degrees), (pa, pb), (pb, pa)]
        for k, reading in enumerate(readings):
            if k < 2:
                rlon, rlat, usable = reading
            else:  # projected: only the rows still without a position are transformed
                x, y = reading
                usable = projected
                need = projected & ~np.isfinite(lon)
                rlon, rlat = np.full(n, np.nan), np.full(n, np.nan)
                if need.any():
                    rlon[need], rlat[need] = to_wgs84(x[need], y[need], epsg[need])
            todo = usable & ~np.isfinite(lon) & np.isfinite(rlon) & np.isfinite(rlat)
            if k == 0:
                first = todo & ~np.isfinite(fallback_lon)
                fallback_lon[first], fallback_lat[first] = rlon[first], rlat[first]
            if not todo.any():
                continue
            ok = np.zeros(n, dtype=bool)
            ok[todo] = plausible_for_departement(rlon[todo], rlat[todo], deps[todo])
            near = np.ones(n, dtype=bool)
            check = ok & np.isfinite(c_lon) & np.isfinite(c_lat)
            near[check] = (
                haversine_km(rlon[check], rlat[check], c_lon[check], c_lat[check]) <= limit[check]
            )
            take = ok & near
            lon[take], lat[take] = rlon[take], rlat[take]
    rest = ~np.isfinite(lon)
    lon[rest], lat[rest] = fallback_lon[rest], fallback_lat[rest]
    return lon, lat, given


# --------------------------------------------------------------------------- groups


def group_links(state: _State) -> tuple[pd.DataFrame, dict[str, int]]:
    """Known partnerships: every pair of OGs of a group (``finess_ej_a < finess_ej_b``).

    Members are given by internal ids (``pmSmsseId`` for an OG, ``egeId`` for an
    establishment, standing for its OG); ids that name nothing in the file are counted.
    """
    pairs: set[tuple[str, str]] = set()
    unknown = 0
    used = 0
    for _, _, pm_ids, ege_ids in state.groups:
        ogs: set[str] = set()
        for pm in pm_ids:
            og = state.pm_finess.get(pm, "")
            ogs.add(og) if og else None
            unknown += not og
        for ege in ege_ids:
            og = state.ege_pm.get(ege, "")
            ogs.add(og) if og else None
            unknown += not og
        if len(ogs) >= 2:
            used += 1
            pairs.update(combinations(sorted(ogs), 2))
    ordered = sorted(pairs)
    frame = pd.DataFrame(
        {"finess_ej_a": [a for a, _ in ordered], "finess_ej_b": [b for _, b in ordered]},
        dtype="string",
    )
    stats = {"groupes": len(state.groups), "groupes_utiles": used, "membres_inconnus": unknown}
    return frame, stats


# --------------------------------------------------------------------------- reader


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a flow is read, then restored.

    Why: reading builds millions of short-lived containers, none in a reference cycle (the
    records are trees, dropped one run at a time); their allocations keep triggering
    collections that walk every object alive in the process (pandas, numpy...), a tenth of
    the reading time on a national file. Reference counting still frees everything.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class FinessPlusReader:
    """Reader of the FINESS+ structures flow (JSON, plain or gzip), streamed."""

    kind = KIND

    def sniff(self, head_text: str) -> bool:
        """A decoded text that is a JSON object (the ``pmej`` check happens while reading)."""
        return head_text.lstrip("\ufeff \t\r\n").startswith("{")

    def read(
        self, text: str, *, encoding: str = "", progress: Progress | None = None
    ) -> LoadResult:
        """Read an already decoded JSON text (small files; large ones use ``read_source``)."""
        result = self.read_source(text.encode("utf-8"), progress=progress)
        result.encoding = encoding or result.encoding
        return result

    def read_source(
        self,
        src: Source,
        *,
        max_bytes: int = 300 * 1024 * 1024,
        max_json_bytes: int = MAX_JSON_BYTES,
        progress: Progress | None = None,
    ) -> LoadResult:
        """Stream ``src`` (path, bytes or binary stream; gzip or plain JSON) into a LoadResult.

        ``max_bytes`` bounds the compressed file, ``max_json_bytes`` the JSON text (the
        decompressed content, or a plain JSON file). Raises ``IngestError`` with a French
        message saying where a malformed stream broke; nothing is returned half-loaded.
        """
        opened = _open(src, max_bytes)
        if not opened.gz and opened.size > max_json_bytes:
            msg = f"fichier JSON trop volumineux : {integer_fr(opened.size / 1_000_000)} Mo "
            msg += f"(limite {integer_fr(max_json_bytes / 1_000_000)} Mo)"
            raise IngestError(msg)
        state = _State()
        with _collector_paused():
            try:
                inner: Any = open_gzip(opened.raw) if opened.gz else opened.raw
                what = "flux FINESS+" if opened.gz else "fichier JSON"
                counted = _JsonBytes(inner, max_json_bytes, what)
                state.counter = state.marks = counted
                _stream(counted, state, progress, opened.size, opened.raw)
            finally:
                if opened.close:
                    opened.raw.close()
            if progress is not None:
                progress(opened.size, opened.size)
            result = self._finish(state)
        result.encoding = "utf-8"
        result.meta["compresse"] = opened.gz
        result.meta["octets_json"] = counted.count
        result.meta["fichier"] = source_name(src)
        return result

    def _finish(self, state: _State) -> LoadResult:
        """Validate, classify and account (the shared pipeline, then the FINESS+ specifics)."""
        from grappes.ingest.classify import departement_from_commune_code, resolve_territory
        from grappes.ingest.pipeline import normalise

        cols = state.cols
        n = len(cols.finess_et)
        commune = pd.Series(text_array(cols.commune), dtype="string")
        dep = departement_from_commune_code(commune)
        pairs = np.frombuffer(cols.pairs, dtype="float64").reshape(n, 4)
        terr = resolve_territory(commune, dep)
        lon, lat, given = choose_positions(pairs, terr["departement"], terr["lon"], terr["lat"])
        rows = raw_frame(
            {
                "ligne": cols.ordinal,
                "finess_et": cols.finess_et,
                "finess_ej": cols.finess_ej,
                "raison_sociale": cols.raison_sociale,
                "raison_sociale_ej": cols.raison_sociale_ej,
                "categorie": cols.categorie,
                "categorie_libelle": cols.categorie_libelle,
                "commune": commune,
                "departement": dep,
                "statut_juridique": cols.statut_juridique,
                "libmft": cols.libmft,
                "lon": lon,
                "lat": lat,
            },
            n,
        )
        del pairs
        # the column lists are in the frame now: free them before the pipeline's peak
        for name in _TEXT_COLUMNS:
            setattr(cols, name, [])
        cols.pairs = array("d")
        warnings: list[str] = []
        names = {"schemaversion": "version_schema", "generatedat": "genere_le"}
        meta: dict[str, Any] = {
            names.get(k, k): v for k, v in state.top.items() if isinstance(v, str)
        }
        # coordinates are per record here: missing ones are warned row by row, never as a
        # "file without geolocation"
        parsed = Parsed(
            rows=rows,
            rejets=[],
            warnings=warnings,
            meta=meta,
            has_coordinates=True,
            territory=terr,  # communes resolved once (normalised by normalise_commune)
        )
        meta["ege_sans_coordonnees"] = int((~given).sum())
        result = normalise(parsed, kind=KIND, encoding="utf-8")
        self._flag_ban_centres(result, cols)
        paths = state.paths
        rejets = [
            replace(r, path=paths[r.line - 1], field=FIELD_NAMES.get(r.field, r.field))
            if r.source == "" and not r.path and 0 < r.line <= len(paths)
            else r
            for r in result.rejets
        ]
        rejets.extend(state.rejets)
        rejets.sort(key=lambda r: (r.source, r.line, r.path))
        result.rejets = rejets
        self._account(result, state, n)
        links, stats = group_links(state)
        result.liens = links if len(links) else None
        result.meta.update({f"liens_{k}": v for k, v in stats.items()})
        result.meta["liens_paires"] = len(links)
        if len(links):
            result.warnings.append(
                f"Groupes FINESS+ (gcc/gco) : {stats['groupes_utiles']} groupe(s) d'OG, "
                f"{len(links)} partenariat(s) connu(s) entre OG, pris en compte automatiquement "
                "par la proposition comme des liens --liens."
            )
        if stats["membres_inconnus"]:
            result.warnings.append(
                f"Groupes FINESS+ : {stats['membres_inconnus']} membre(s) désigné(s) par un "
                "identifiant absent du fichier (ignorés)."
            )
        if state.top_twice:
            result.warnings.append(
                "En-tête du flux : clé(s) donnée(s) deux fois avec des valeurs différentes, la "
                f"dernière est gardée : {', '.join(preview(k) for k in state.top_twice[:5])}."
            )
        for key, count in state.keys_twice.items():
            result.warnings.append(
                f"Tableau « {key} » donné {count} fois au premier niveau du fichier : tous ses "
                "éléments sont lus, numérotés à la suite."
            )
        if state.padded:
            shown = ", ".join(state.padded[:5]) + (" …" if len(state.padded) > 5 else "")
            result.warnings.append(
                f"Code commune à 4 chiffres (zéro de tête perdu) complété pour "
                f"{len(state.padded)} établissement(s) : {shown} ; vérifiez la commune."
            )
        if state.drift:
            shown = ", ".join(state.drift[:5]) + (" …" if len(state.drift) > 5 else "")
            result.warnings.append(
                f"Dérive de format : {len(state.drift)} coordonnée(s) écrites avec une virgule "
                f"décimale au lieu du point ({shown}) : lues quand même, vérifiez la version du "
                "flux."
            )
        return result

    @staticmethod
    def _flag_ban_centres(result: LoadResult, cols: _Columns) -> None:
        """Trap 5: a commune-level BAN key means the point is the commune centre."""
        table = result.etablissements
        if not len(table) or not any(cols.ban_commune):
            return
        commune_level = pd.Series(cols.ban_commune, index=cols.ordinal)
        flag = commune_level.reindex(table["ligne"].to_numpy()).fillna(False).to_numpy(dtype=bool)
        flag = flag.copy()
        flag &= (table["coord_source"] == "fichier").to_numpy(dtype=bool)
        if flag.any():
            table.loc[flag, "coord_source"] = "centroide_commune"
            result.warnings.append(
                f"clé BAN de niveau commune (sans « _ ») pour {int(flag.sum())} établissement(s) :"
                " le point est le centre de la commune, pas l'adresse "
                f"({format_lines(table.loc[flag, 'ligne'].to_numpy())})"
            )

    @staticmethod
    def _account(result: LoadResult, state: _State, n_rows: int) -> None:
        """Every ``ege`` is loaded, set aside (closed / inactive) or rejected: count them."""
        aside = state.set_aside
        n_aside = sum(len(v) for v in aside.values())
        ege_rejets = {r.path for r in result.rejets if ".ege[" in r.path}
        meta = result.meta
        meta["pmej"] = state.pmej
        meta["pmej_fermes"] = state.pmej_fermes
        meta["ege_total"] = len(state.paths)
        meta["ege_charges"] = len(result.etablissements)
        meta["ege_fermes"] = len(aside["fermes"])
        meta["ege_inactifs"] = len(aside["inactifs"])
        meta["ege_og_fermes"] = len(aside["og_fermes"])
        meta["ege_rejetes"] = len(ege_rejets)
        meta["ege_mis_de_cote"] = aside
        if n_aside:
            result.warnings.append(
                f"{n_aside} établissement(s) fermé(s) ou inactif(s) présents dans le fichier, mis "
                f"de côté (non chargés, ce ne sont pas des erreurs) : {len(aside['fermes'])} "
                f"avec dateFermeture, {len(aside['inactifs'])} avec etatObjet « I », "
                f"{len(aside['og_fermes'])} d'une entité juridique fermée."
            )
        total = meta["ege_charges"] + n_aside + meta["ege_rejetes"]
        if total != len(state.paths):  # pragma: no cover - accounting invariant
            msg = f"comptage FINESS+ incohérent : {total} != {len(state.paths)}"
            raise AssertionError(msg)
        del n_rows
