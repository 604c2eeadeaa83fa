"""``grappes exemple --sortie DIR``: copy the bundled synthetic files so users see the formats.

The sample is given in both formats of the register: the etalab CSV extracts and the FINESS+
JSON flow (``finess-structures-…json.gz``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from grappes.core.errors import GrappesError, UnusableInput
from grappes.core.formatting import integer_fr
from grappes.ingest.sample import SAMPLE_REGION, finess_plus_sample_path, sample_paths

_KIND = (
    "établissements (extrait FINESS etalab cs1100507, avec géolocalisation)",
    "entités juridiques / OG (extrait FINESS etalab cs1100501)",
    "DUI actuel de chaque ESMS (fichier à remplir par les OG)",
)


def copy_sample(out: Path) -> list[Path]:
    """Copy the three bundled sample files (and their README) into ``out``; return the copies.

    Raises
    ------
    ValueError
        When ``out`` exists and is not a folder (French message).
    FileNotFoundError
        When a bundled file is missing.
    """
    if out.exists() and not out.is_dir():
        msg = f"{out} existe déjà et n'est pas un dossier : choisissez un autre --sortie"
        raise UnusableInput(msg)
    sources = list(sample_paths())
    readme = sources[0].parent / "README.md"
    if readme.is_file():
        sources.append(readme)
    sources.append(finess_plus_sample_path())
    out.mkdir(parents=True, exist_ok=True)
    copies = []
    for src in sources:
        dest = out / src.name
        shutil.copyfile(src, dest)
        copies.append(dest)
    return copies


def register(app: typer.Typer) -> None:
    """Add the ``sample`` command to the ``grappes`` application."""

    @app.command("exemple")
    def sample(
        out: Annotated[
            Path,
            typer.Option(
                "--sortie",
                "-o",
                help="Dossier où copier les fichiers exemples (créé s'il n'existe pas).",
            ),
        ],
    ) -> None:
        """Copier les fichiers de la région exemple synthétique (Centre-Val de Loire)."""
        console = Console()
        try:
            copies = copy_sample(out)
        except (GrappesError, OSError) as exc:
            console.print(f"[red]Erreur :[/red] {exc}")
            raise typer.Exit(code=1) from exc
        table = Table(title=f"Région exemple synthétique ({SAMPLE_REGION} Centre-Val de Loire)")
        table.add_column("fichier")
        table.add_column("contenu")
        table.add_column("taille", justify="right")
        kinds = (
            *_KIND,
            "description et calibrage (tout est fictif)",
            "les mêmes établissements au format FINESS+ (flux JSON finess-structures, un seul "
            "fichier suffit)",
        )
        for path, kind in zip(copies, kinds, strict=False):
            size = f"{integer_fr(path.stat().st_size / 1024)} Ko"
            table.add_row(str(path), kind, size)
        console.print(table)
        console.print(
            "Toutes les données sont [bold]fictives[/bold] (noms « FICTIF », numéros "
            "aléatoires) ; les communes et leurs populations sont réelles."
        )
        etab, ej, dui = copies[:3]
        console.print("\nPour essayer ensuite :")
        console.print(f"  grappes verifier {etab} --ej {ej} --dui {dui}", markup=False)
        console.print(f"  grappes verifier {copies[-1]} --dui {dui}", markup=False)
        console.print("  grappes proposer --exemple --sortie resultats", markup=False)
