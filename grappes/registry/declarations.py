"""A declaration as typed by a user (form or CSV row), and its checks.

Checks follow the project's rule for every input: each problem is reported with the field
it is about and a French reason; nothing is silently dropped or corrected. Text is stored
verbatim (HTML, SQL, quotes and control characters included: the API escapes nothing,
the pages escape on display); only NUL, which PostgreSQL cannot store, and values beyond
the length limits are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from grappes.registry import adapters
from grappes.registry.accounts import EMAIL_RE, normalise_email
from grappes.registry.errors import SaisieInvalide
from grappes.registry.vues import DeclarationVue

PORTEUR_CHOIX: dict[str, str] = {
    "volontaire": "volontaire pour porter le projet",
    "possible": "peut porter le projet si besoin",
    "non": "ne souhaite pas porter le projet",
}
#: Longest accepted values (characters).
MAX_TEXTE_LIBRE = 20_000
MAX_TEXTE = 1_000
MAX_ESMS = 500
PHONE_RE = re.compile(r"^[0-9+().\- ]{6,30}$")

CONSENT_TEXT = (
    "Finalité : mettre en relation des structures qui cherchent des partenaires pour former "
    "une grappe du programme ESMS numérique. Qui voit quoi et quand : les coordinateurs de "
    "votre territoire voient votre déclaration (vos coordonnées seulement si vous l'acceptez "
    "ci-dessous) ; les autres membres d'une grappe proposée voient vos coordonnées une fois "
    "que tous les membres ont accepté ; l'ARS les voit quand la grappe lui est soumise. "
    "Conservation : {mois} mois après votre dernière modification, puis effacement ; vous "
    "pouvez modifier ou retirer votre déclaration à tout moment (le retrait efface vos "
    "coordonnées)."
)


@dataclass
class EsmsSaisie:
    """One ESMS of a declaration. With a FINESS file configured only ``finess_et`` is needed."""

    finess_et: str
    champ: str = ""
    commune: str = ""
    raison_sociale: str = ""


@dataclass
class DeclarationSaisie:
    """Every field of the « formulaire de mise en relation » (issue 13)."""

    finess_ej: str
    esms: list[EsmsSaisie]
    contact_nom: str
    contact_email: str
    consentement: bool
    raison_sociale_ej: str = ""
    dui_editeur: str = ""
    dui_statut: str = adapters.DUI_INCONNU
    editeur_segur: bool | None = None
    distance_max_km: float | None = None
    champs_acceptes: list[str] = field(default_factory=list)
    partenaires_souhaites: list[str] = field(default_factory=list)
    partenaires_refuses: list[str] = field(default_factory=list)
    porteur: str = "possible"
    contact_telephone: str = ""
    texte_libre: str = ""
    consentement_contacts_coordinateur: bool = False


@dataclass(frozen=True)
class EsmsValide:
    finess_et: str
    raison_sociale: str
    champ: str
    categorie: str
    commune: str
    departement: str
    region: str
    lon: float | None
    lat: float | None


@dataclass(frozen=True)
class DeclarationValide:
    """A checked declaration, ready to store; ``departement`` is where most of its ESMS are."""

    saisie: DeclarationSaisie
    esms: tuple[EsmsValide, ...]
    departement: str
    region: str


def _text(errors: list, name: str, value: object, limit: int = MAX_TEXTE) -> str:
    text = "" if value is None else str(value)
    if "\x00" in text:
        errors.append((name, "caractère nul (\\x00) refusé"))
    if len(text) > limit:
        errors.append((name, f"trop long : {len(text)} caractères, {limit} au plus"))
    return text


def _finess(errors: list, name: str, value: str) -> str:
    number = str(value or "").strip().upper()
    reason = adapters.check_finess(number)
    if reason:
        errors.append((name, f"{reason} ({number[:20]!r})"))
    return number


def valider(
    saisie: DeclarationSaisie, finess: pd.DataFrame | None = None, stricte: bool = True
) -> DeclarationValide:
    """Check a declaration; raise ``SaisieInvalide`` listing every problem at once.

    ``finess`` is the loaded FINESS table indexed by FINESS ET (``adapters.finess_index``):
    an ESMS found in it must belong to the declared OG, and its field, commune and name come
    from it. ``stricte`` (a file somebody configured): an ESMS absent from it is refused.
    Not ``stricte`` (the bundled sample, used by default): an ESMS absent from it is checked
    as without a file (format, Luhn key, field and commune as typed).
    """
    e: list[tuple[str, str]] = []
    saisie.finess_ej = _finess(e, "finess_ej", saisie.finess_ej)
    for name in ("raison_sociale_ej", "dui_editeur", "contact_nom"):
        setattr(saisie, name, _text(e, name, getattr(saisie, name)))
    saisie.texte_libre = _text(e, "texte_libre", saisie.texte_libre, MAX_TEXTE_LIBRE)
    if not saisie.contact_nom.strip():
        e.append(("contact_nom", "nom de la personne à contacter manquant"))
    email = normalise_email(saisie.contact_email)
    if not EMAIL_RE.match(email):
        e.append(("contact_email", f"adresse e-mail invalide : {email[:80]!r}"))
    saisie.contact_email = email
    phone = str(saisie.contact_telephone or "").strip()
    if phone and not PHONE_RE.match(phone):
        e.append(("contact_telephone", "téléphone invalide : chiffres, espaces, + . - ( ) seuls"))
    saisie.contact_telephone = phone
    if saisie.dui_statut not in (*adapters.DUI_STATUTS, adapters.DUI_INCONNU):
        allowed = ", ".join((*adapters.DUI_STATUTS, adapters.DUI_INCONNU))
        e.append(("dui_statut", f"valeur {str(saisie.dui_statut)[:40]!r} : attendu {allowed}"))
    if saisie.porteur not in PORTEUR_CHOIX:
        e.append(("porteur", f"valeur {str(saisie.porteur)[:40]!r} : attendu "
                  + ", ".join(PORTEUR_CHOIX)))
    if saisie.distance_max_km is not None:
        try:
            km = float(saisie.distance_max_km)
        except (TypeError, ValueError):
            km = float("nan")
        if not (0 < km <= 2000):
            e.append(("distance_max_km", "distance en km attendue, entre 1 et 2000"))
        else:
            saisie.distance_max_km = km
    bad = [c for c in saisie.champs_acceptes if c not in adapters.CHAMPS]
    if bad:
        e.append(("champs_acceptes", f"champ(s) inconnu(s) : {', '.join(map(str, bad))[:80]} "
                  f"(attendu parmi {', '.join(adapters.CHAMPS)})"))
    for name in ("partenaires_souhaites", "partenaires_refuses"):
        values = [_finess(e, name, v) for v in getattr(saisie, name) if str(v).strip()]
        setattr(saisie, name, sorted(set(values)))
    if set(saisie.partenaires_souhaites) & set(saisie.partenaires_refuses):
        e.append(("partenaires_refuses", "un même FINESS est à la fois souhaité et refusé"))
    if not saisie.consentement:
        e.append(("consentement", "le consentement (RGPD) est nécessaire pour enregistrer"))
    esms = _check_esms(e, saisie, finess, stricte)
    if e:
        raise SaisieInvalide(e)
    deps = pd.Series([x.departement for x in esms])
    departement = str(deps.value_counts().sort_index().idxmax())
    region = next(x.region for x in esms if x.departement == departement)
    return DeclarationValide(saisie, tuple(esms), departement, region)


def _check_esms(
    e: list, saisie: DeclarationSaisie, finess: pd.DataFrame | None, stricte: bool = True
) -> list[EsmsValide]:
    if not saisie.esms:
        e.append(("esms", "au moins un ESMS (FINESS ET) est nécessaire"))
        return []
    if len(saisie.esms) > MAX_ESMS:
        e.append(("esms", f"{len(saisie.esms)} ESMS : {MAX_ESMS} au plus par déclaration"))
        return []
    index = finess  # indexed by FINESS ET (``adapters.finess_index``)
    out: list[EsmsValide] = []
    seen: set[str] = set()
    for i, item in enumerate(saisie.esms, 1):
        name = f"esms[{i}]"
        et = _finess(e, f"{name}.finess_et", item.finess_et)
        if et in seen:
            e.append((f"{name}.finess_et", f"{et} donné deux fois"))
            continue
        seen.add(et)
        raison = _text(e, f"{name}.raison_sociale", item.raison_sociale)
        if index is not None and et and (stricte or et in index.index):
            if et not in index.index:
                e.append((f"{name}.finess_et", f"{et} absent du fichier FINESS chargé"))
                continue
            row = index.loc[et]
            if isinstance(row, pd.DataFrame):
                row = row.iloc[0]
            if str(row["finess_ej"]) != saisie.finess_ej:
                e.append((f"{name}.finess_et", f"{et} dépend de l'OG {row['finess_ej']} dans le "
                          f"FINESS, pas de {saisie.finess_ej}"))
                continue
            if not saisie.raison_sociale_ej.strip():
                saisie.raison_sociale_ej = str(row.get("raison_sociale_ej", "") or "")
            lon, lat = float(row["lon"]), float(row["lat"])
            out.append(EsmsValide(
                et, raison or str(row["raison_sociale"]), str(row["champ"]),
                str(row["categorie"]), str(row["commune"]), str(row["departement"]),
                str(row["region"]), None if pd.isna(lon) else lon, None if pd.isna(lat) else lat,
            ))
            continue
        champ = str(item.champ or "").strip().upper()
        if champ not in adapters.CHAMPS:
            e.append((f"{name}.champ", f"champ {champ[:20]!r} : attendu parmi "
                      f"{', '.join(adapters.CHAMPS)}"))
        place = adapters.lieu(str(item.commune or ""))
        if place is None:
            e.append((f"{name}.commune",
                      f"code commune INSEE inconnu : {str(item.commune)[:20]!r}"))
            continue
        out.append(EsmsValide(et, raison, champ, "", place.commune, place.departement,
                              place.region, place.lon, place.lat))
    return out


def split_list(value: object) -> list[str]:
    """``"a, b; c"`` -> ``["a", "b", "c"]`` (the CSV and form list fields)."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return [p.strip() for p in re.split(r"[,;|\n]", text) if p.strip()]


def parse_bool(value: object, name: str) -> bool | None:
    text = str(value or "").strip().lower()
    if text in adapters.TRUE_WORDS:
        return True
    if text in adapters.FALSE_WORDS:
        return False
    if text == "":
        return None
    raise SaisieInvalide([(name, f"oui ou non attendu, pas {text[:20]!r}")])


def saisie_from_vue(d: DeclarationVue) -> DeclarationSaisie:
    """The form's values for editing a declaration the déclarant can read (contacts included).

    Why: « modifier sa déclaration à tout moment » re-opens the same form filled with what is
    stored, so an edit changes only what the déclarant changes. Consent is asked again (it is a
    new submission); the coordinator-visibility choice is kept as it was.
    """
    contact = d.contact
    return DeclarationSaisie(
        finess_ej=d.finess_ej,
        esms=[EsmsSaisie(e.finess_et, e.champ, e.commune, e.raison_sociale) for e in d.esms],
        contact_nom=contact.nom if contact else "",
        contact_email=contact.email if contact else "",
        consentement=False,
        raison_sociale_ej=d.raison_sociale_ej,
        dui_editeur=d.dui_editeur,
        dui_statut=d.dui_statut,
        editeur_segur=d.editeur_segur,
        distance_max_km=d.distance_max_km,
        champs_acceptes=list(d.champs_acceptes),
        partenaires_souhaites=list(d.partenaires_souhaites),
        partenaires_refuses=list(d.partenaires_refuses),
        porteur=d.porteur,
        contact_telephone=contact.telephone if contact else "",
        texte_libre=d.texte_libre or "",
        consentement_contacts_coordinateur=d.consentement_contacts_coordinateur,
    )
