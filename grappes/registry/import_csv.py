"""``grappes registre importer``: a federation's spreadsheet of declarations.

One row per ESMS, the same columns as the form; the rows sharing a ``finess_ej`` make one
declaration (OG-level columns must then agree). The optional column ``declaration`` (any
label) groups rows instead, for ESMS that declare one by one for the same OG. Every
row is loaded or rejected with its line and field; the loaded declarations go in ONE
transaction. Each declaration is owned by the déclarant account of its contact e-mail,
created without a password when missing (an admin activates it with
``grappes registre compte mot-de-passe``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from grappes.registry.declarations import (
    DeclarationSaisie,
    EsmsSaisie,
    parse_bool,
    split_list,
)
from grappes.registry.errors import SaisieInvalide
from grappes.registry.vues import Rejet

REQUIRED = ("finess_ej", "finess_et", "contact_nom", "contact_email", "consentement")
ESMS_COLUMNS = ("finess_et", "champ", "commune", "raison_sociale")
OG_COLUMNS = (
    "raison_sociale_ej", "dui_editeur", "dui_statut", "editeur_segur", "distance_max_km",
    "champs_acceptes", "partenaires_souhaites", "partenaires_refuses", "porteur",
    "contact_nom", "contact_email", "contact_telephone", "texte_libre", "consentement",
    "consentement_contacts_coordinateur",
)  # fmt: skip
COLUMNS = ("declaration", "finess_ej", *ESMS_COLUMNS, *OG_COLUMNS)


def decode(data: bytes) -> str:
    if b"\x00" in data:
        raise SaisieInvalide([("fichier", "fichier binaire (octets nuls) : CSV texte attendu")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


@dataclass
class Groupe:
    """The rows of one OG: (line, row) pairs, in file order."""

    lignes: list[tuple[int, dict[str, str]]]


def read_rows(data: bytes) -> tuple[list[Groupe], list[Rejet], int]:
    """Parse the CSV into OG groups; file-level problems raise ``SaisieInvalide``."""
    text = decode(data)
    first = text.splitlines()[0] if text.strip() else ""
    sep = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=sep)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise SaisieInvalide([("en-tête", f"colonne(s) manquante(s) : {', '.join(missing)} "
                               f"(colonnes possibles : {', '.join(COLUMNS)})")])
    reader.fieldnames = header
    groups: dict[str, Groupe] = {}
    rejets: list[Rejet] = []
    n = 0
    for i, raw in enumerate(reader, start=2):
        n += 1
        if None in raw:
            rejets.append(Rejet(i, "ligne", "plus de cellules que de colonnes dans l'en-tête"))
            continue
        row = {k: (v if v is not None else "") for k, v in raw.items() if k in COLUMNS}
        ej = row.get("finess_ej", "").strip().upper()
        if not ej:
            rejets.append(Rejet(i, "finess_ej", "numéro FINESS de l'OG manquant"))
            continue
        key = row.get("declaration", "").strip() or ej
        groups.setdefault(key, Groupe([])).lignes.append((i, row))
    return list(groups.values()), rejets, n


def to_saisie(g: Groupe) -> tuple[DeclarationSaisie | None, list[Rejet]]:
    """One declaration from an OG's rows, or the rejects explaining why not."""
    first_line, first = g.lignes[0]
    rejets: list[Rejet] = []
    for line, row in g.lignes[1:]:
        for col in ("finess_ej", *OG_COLUMNS):
            if col in row and row[col] != first.get(col, "") and row[col].strip():
                rejets.append(Rejet(line, col, f"diffère de la ligne {first_line} pour le même "
                                    "OG : une déclaration par OG"))
    def boolean(col: str) -> bool | None:
        try:
            return parse_bool(first.get(col, ""), col)
        except SaisieInvalide as exc:
            rejets.append(Rejet(first_line, col, exc.erreurs[0][1]))
            return None

    km_text = first.get("distance_max_km", "").strip().replace(",", ".")
    km: float | None = None
    if km_text:
        try:
            km = float(km_text)
        except ValueError:
            rejets.append(Rejet(first_line, "distance_max_km",
                                f"nombre attendu, pas {km_text[:20]!r}"))
    saisie = DeclarationSaisie(
        finess_ej=first["finess_ej"],
        esms=[EsmsSaisie(r.get("finess_et", ""), r.get("champ", ""), r.get("commune", ""),
                         r.get("raison_sociale", "")) for _, r in g.lignes],
        contact_nom=first.get("contact_nom", ""),
        contact_email=first.get("contact_email", ""),
        consentement=bool(boolean("consentement")),
        raison_sociale_ej=first.get("raison_sociale_ej", ""),
        dui_editeur=first.get("dui_editeur", ""),
        dui_statut=first.get("dui_statut", "").strip() or "inconnu",
        editeur_segur=boolean("editeur_segur"),
        distance_max_km=km,
        champs_acceptes=[c.upper() for c in split_list(first.get("champs_acceptes"))],
        partenaires_souhaites=split_list(first.get("partenaires_souhaites")),
        partenaires_refuses=split_list(first.get("partenaires_refuses")),
        porteur=first.get("porteur", "").strip().lower() or "possible",
        contact_telephone=first.get("contact_telephone", ""),
        texte_libre=first.get("texte_libre", ""),
        consentement_contacts_coordinateur=bool(boolean("consentement_contacts_coordinateur")),
    )
    return (None if rejets else saisie), rejets


def line_of(g: Groupe, field: str) -> int:
    """The file line an error of ``valider`` is about (``esms[3].champ`` -> 3rd row)."""
    if field.startswith("esms[") and "]" in field:
        k = int(field[5:field.index("]")])
        if 1 <= k <= len(g.lignes):
            return g.lignes[k - 1][0]
    return g.lignes[0][0]


def field_name(field: str) -> str:
    return field.split(".", 1)[1] if field.startswith("esms[") and "." in field else field
