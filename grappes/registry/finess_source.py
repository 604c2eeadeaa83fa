"""Which FINESS file the registry uses: the ONE resolution shared by the CLI and the pages.

Why: the declaration form's « Rechercher mon établissement » needs a FINESS file, and no
guide asked anyone to set ``GRAPPES_FINESS``. So the source is, in this order:

1. the argument given by the caller (``Registry(finess=…)``, ``--finess`` of a command);
2. the environment variable ``GRAPPES_FINESS``;
3. the file stored in the database by ``grappes registre init --finess FICHIER``
   (table ``parametres``, key ``finess``);
4. the bundled région exemple (``sample``), by default.

A file that somebody chose (1–3) is authoritative: every declared ESMS must be in it and
belong to the declared OG. The default sample only helps to search: a real territory is not
in it, so a declared ESMS absent from it is checked for its format and Luhn key only.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from grappes.registry import adapters
from grappes.registry.config import dossier_fichiers
from grappes.registry.db import Database
from grappes.registry.errors import RegistreError
from grappes.registry.models import Parametre

ENV_FINESS = "GRAPPES_FINESS"
SAMPLE = "sample"
#: key of the FINESS file in the ``parametres`` table
CLE_FINESS = "finess"

Origine = Literal["argument", "environnement", "base", "defaut"]

ORIGINE_LABELS: dict[str, str] = {
    "argument": "donné à la commande",
    "environnement": "variable GRAPPES_FINESS",
    "base": "enregistré par « grappes registre init --finess »",
    "defaut": "fichier d'exemple intégré (par défaut)",
}


@dataclass(frozen=True)
class SourceFiness:
    """The FINESS source in force and where it comes from."""

    valeur: str
    origine: Origine

    @property
    def stricte(self) -> bool:
        """True when somebody chose this file: declared ESMS must then be in it."""
        return self.origine != "defaut"

    @property
    def libelle(self) -> str:
        """French description for a page or a command."""
        nom = "région exemple intégrée" if self.valeur == SAMPLE else self.valeur
        return f"{nom} ({ORIGINE_LABELS[self.origine]})"


def valeur_enregistree(db: Database) -> str | None:
    """The FINESS file stored in the database; None when none is, or when the database has
    no ``parametres`` table yet (not initialised, or older than r0007)."""
    try:
        with db.read() as s:
            row = s.get(Parametre, CLE_FINESS)
            return row.valeur if row is not None and row.valeur.strip() else None
    except (RegistreError, SQLAlchemyError):
        return None


def resoudre(explicite: str | None, db: Database | None) -> SourceFiness:
    """The FINESS source, by the order of the module docstring."""
    if explicite and explicite.strip():
        return SourceFiness(explicite.strip(), "argument")
    env = os.environ.get(ENV_FINESS, "").strip()
    if env:
        return SourceFiness(env, "environnement")
    stored = valeur_enregistree(db) if db is not None else None
    if stored:
        return SourceFiness(stored, "base")
    return SourceFiness(SAMPLE, "defaut")


def charger(valeur: str) -> pd.DataFrame:
    """The FINESS table of ``valeur`` indexed by FINESS ET; a French error when unreadable."""
    try:
        return adapters.finess_index(valeur)
    except Exception as exc:
        raise RegistreError(f"fichier FINESS illisible ({valeur}) : {exc}") from exc


def verifier(fichier: str) -> tuple[str, int]:
    """Load ``fichier`` to check it: the value to store (an absolute path, or ``sample``) and
    how many ESMS it holds. An unreadable or empty file raises a French ``RegistreError``."""
    valeur = fichier.strip()
    if not valeur:
        raise RegistreError("fichier FINESS : aucun chemin donné")
    if valeur != SAMPLE:
        path = Path(valeur).expanduser()
        if not path.is_file():
            raise RegistreError(f"fichier FINESS introuvable : {valeur}")
        valeur = str(path.resolve())
    table = charger(valeur)
    if table.empty:
        raise RegistreError(f"fichier FINESS sans aucun ESMS : {valeur}")
    return valeur, len(table)


def stocker(s: Session, valeur: str, now: datetime) -> None:
    """Make ``valeur`` (checked by :func:`verifier`) the registry's FINESS file, in the
    caller's transaction, so that the change and its audit entry are written together."""
    row = s.get(Parametre, CLE_FINESS)
    if row is None:
        s.add(Parametre(cle=CLE_FINESS, valeur=valeur, modifie_le=now))
    else:
        row.valeur, row.modifie_le = valeur, now


#: endings kept on an uploaded file's name: the FINESS reader chooses its format by them
_SUFFIXES = (".json.gz", ".csv.gz", ".json", ".csv", ".txt", ".gz")


def _nom_sur(nom: str, contenu: bytes, now: datetime) -> str:
    """A file name safe on any system that keeps the reader's ending: the upload's own name
    cut down to letters, digits and dashes, the date and the start of the content's SHA-256
    (two uploads never overwrite each other, and a stored path never changes content)."""
    bas = Path(nom).name.lower()
    suffixe = next((x for x in _SUFFIXES if bas.endswith(x)), "")
    racine = re.sub(r"[^a-z0-9]+", "-", bas[: len(bas) - len(suffixe)]).strip("-")[:40]
    empreinte = hashlib.sha256(contenu).hexdigest()[:12]
    return f"finess-{now:%Y%m%d-%H%M%S}-{racine or 'fichier'}-{empreinte}{suffixe}"


def conserver(db: Database, nom: str, contenu: bytes, now: datetime) -> tuple[str, int]:
    """Keep an uploaded FINESS file in the registry's folder and check it
    (:func:`verifier`); nothing is kept when it is unreadable. The caller stores it."""
    if not contenu:
        raise RegistreError(f"fichier FINESS vide : {nom}")
    dossier = dossier_fichiers(db.sqlite_file)
    try:
        dossier.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RegistreError(f"dossier des fichiers inutilisable ({dossier}) : {exc.strerror}"
                            ) from exc
    cible = dossier / _nom_sur(nom, contenu, now)
    temporaire = cible.with_name(cible.name + ".partiel")
    temporaire.write_bytes(contenu)
    os.replace(temporaire, cible)  # atomic: no reader ever sees half a file
    try:
        return verifier(str(cible))
    except RegistreError:
        cible.unlink(missing_ok=True)
        raise
