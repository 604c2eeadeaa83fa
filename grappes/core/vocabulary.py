"""The programme's shared words: reason codes, labels and default thresholds, one home each.

Every layer (ingest, solver, programme rules, scenarios, exports, app) names the same things;
keeping the codes and their French labels here is what makes "hors_region" mean the same
sentence in the CLI, the app and the files. Codes are stable identifiers for programs; labels
are what a user reads.
"""

from __future__ import annotations

#: French label of each aggregated legal status (``statut_agrege``).
STATUT_LABELS: dict[str, str] = {
    "public": "public",
    "prive_non_lucratif": "privé non lucratif",
    "prive_commercial": "privé commercial",
    "etranger": "étranger",
    "inconnu": "statut inconnu",
    "": "statut inconnu",
}

#: French label of each DUI status (``dui_statut``).
DUI_STATUT_LABELS: dict[str, str] = {
    "aucun": "aucun DUI",
    "non_conforme": "non conforme",
    "a_mettre_a_niveau": "à mettre à niveau",
    "conforme": "conforme",
    "inconnu": "inconnu",
    "": "inconnu",
}

#: French label of each role of a registry account (``grappes.registry.policy.ROLES``).
ROLE_LABELS: dict[str, str] = {"declarant": "déclarant", "coordinateur": "coordinateur",
                               "ars": "ARS", "admin": "administrateur"}

#: French label of each state of a registry declaration (``grappes.registry``).
DECLARATION_STATUT_LABELS: dict[str, str] = {"active": "active", "retiree": "retirée"}

#: French label of each state of a grappe proposed in the registry.
GRAPPE_STATUT_LABELS: dict[str, str] = {
    "proposee": "proposée",
    "invitations_envoyees": "invitations envoyées",
    "acceptee": "acceptée par tous",
    "incomplete": "incomplète (un membre a décliné ou s'est retiré)",
    "constituee": "constituée",
    "annulee": "annulée",
}

#: French label of each state of an invitation sent to a member of a proposed grappe.
INVITATION_STATUT_LABELS: dict[str, str] = {
    "en_attente": "en attente de réponse",
    "acceptee": "acceptée",
    "declinee": "déclinée",
}


#: French label of each field (``champ``).
CHAMP_LABELS: dict[str, str] = {
    "PA": "personnes âgées",
    "PH": "personnes handicapées",
    "DOM": "domicile",
    "PDS": "publics en difficulté spécifique",
    "PDE": "protection de l'enfance",
    "AHI": "accueil, hébergement, insertion",
    "PJM": "protection juridique des majeurs",
    "hors_champ": "hors champ",
}

#: French label of each OG typology (size in the loaded file).
TYPOLOGIE_LABELS: dict[str, str] = {"petit": "petit OG", "moyen": "OG moyen", "gros": "gros OG"}

#: French sentence per reason code of ESMS set aside before grouping.
SET_ASIDE_TEXT: dict[str, str] = {
    "sanitaire": "établissement sanitaire : hors du champ médico-social du programme",
    "hors_champ": "champ {champ} non éligible à cet appel à projets",
    "hors_programme": "hors du champ du programme (catégorie ni PA, PH, DOM, PDS, PDE, AHI, PJM)",
    "champ_non_traite": "champ {champ} non traité dans cette proposition",
    "deja_finance": "déjà financé (ESMS numérique ou SONS) : non compté",
    "non_segur": "montée de version avec un éditeur non référencé Ségur : non éligible, "
    "non compté",
    "exclu": "exclu par l'utilisateur",
    "sans_og": "OG (FINESS EJ) manquant : rattachement impossible",
    "sans_coordonnees": "coordonnées manquantes : distances impossibles à calculer",
    "hors_region": "hors de la région étudiée",
}

#: Codes of the solver's explanation for an ESMS left out of every grappe
#: (``grappes.solver.explain``).
UNPLACED_SOLVER_CODES: tuple[str, ...] = (
    "og_conflit_dui",
    "og_trop_grand",
    "aucun_partenaire",
    "conflit_dui",
    "trop_peu_esms",
    "non_retenu",
    "zone_certifiee",
)

#: Short French label of every reason code of an ESMS without grappe (summaries, where the
#: sentence is too long and the code means nothing to a reader).
UNPLACED_LABELS: dict[str, str] = {
    "sanitaire": "établissement sanitaire",
    "hors_champ": "champ non éligible",
    "hors_programme": "hors du programme",
    "champ_non_traite": "champ non traité",
    "deja_finance": "déjà financé",
    "non_segur": "éditeur non Ségur",
    "exclu": "exclu",
    "sans_og": "sans OG",
    "sans_coordonnees": "sans coordonnées",
    "hors_region": "hors région",
    "og_conflit_dui": "OG à plusieurs DUI",
    "og_trop_grand": "OG au-delà du maximum",
    "aucun_partenaire": "aucun partenaire proche",
    "conflit_dui": "conflit d'éditeur DUI",
    "trop_peu_esms": "trop peu d'ESMS proches",
    "non_retenu": "non retenu",
    "zone_certifiee": "aucun regroupement voisin possible",
}


#: Codes of ESMS the solver sets aside before grouping, in the order they are tested.
SET_ASIDE_CODES: tuple[str, ...] = (
    "sanitaire",
    "hors_champ",
    "champ_non_traite",
    "deja_finance",
    "non_segur",
    "exclu",
    "sans_og",
    "sans_coordonnees",
)

#: Set-aside codes, with the scope filter's "hors_region": ESMS that take no part in the checks.
SOLVER_SET_ASIDE: frozenset[str] = frozenset((*SET_ASIDE_CODES, "hors_region"))

#: Hard-rule codes of a grouping (``grappes.programme.validate.Violation.code``), in the order
#: they are reported.
VIOLATION_CODES: tuple[str, ...] = (
    "vide",
    "non_eligible",
    "trop_peu_esms",
    "trop_esms",
    "trop_peu_og",
    "champ_mixte",
    "medicalise_minoritaire",
    "dui_multiple",
    "trop_loin",
    "og_scinde",
)

#: Short French label of each violation code (tables, benchmark).
VIOLATION_LABELS: dict[str, str] = {
    "vide": "vide",
    "non_eligible": "non éligible",
    "trop_peu_esms": "trop petit",
    "trop_esms": "trop grand",
    "trop_peu_og": "trop peu d'OG",
    "champ_mixte": "champ mixte",
    "medicalise_minoritaire": "médicalisé minoritaire",
    "dui_multiple": "conflit éditeur",
    "trop_loin": "trop loin",
    "og_scinde": "OG scindé",
    "separes": "séparation demandée",
}

#: Codes the solver's check of a set of whole OGs of one field returns
#: (``grappes.solver.evaluate.Evaluator.check``), in the order it tests them: the violation
#: codes such a set can break (eligibility, field and split OGs are settled before grouping),
#: then "separes", the user's "keep these OGs apart" (a constraint of the call, not a rule).
UNIT_CHECK_CODES: tuple[str, ...] = (
    *(c for c in VIOLATION_CODES if c not in ("non_eligible", "champ_mixte", "og_scinde")),
    "separes",
)

#: Default OG typology of a loaded file (000: "petites structures" < 15 ESMS, "gros OG" ≥ 50).
#: Descriptive only (``grappes verifier``): grouping and costing read the thresholds of the rule set
#: (``regroupement.petit_og``, ``regroupement.gros_og``).
OG_MOYEN_MIN = 15
OG_GROS_MIN = 50

#: Short French label of each grid criterion code (tables and legends; the rule set keeps the
#: call's full sentence in ``Criterion.label``, shown in tooltips).
CRITERE_LABELS: dict[str, str] = {
    "esms_autonomes_isoles": "ESMS autonomes isolés",
    "plusieurs_og_region": "plusieurs OG de la région",
    "plusieurs_departements": "plusieurs départements",
    "feuille_de_route": "feuille de route SI",
    "besoins_utilisateurs": "besoins des utilisateurs",
    "usagers_acteurs": "usagers acteurs",
    "usagers_representes": "usagers représentés",
    "pilotage_donnee": "pilotage par la donnée",
    "ressources_dediees": "ressources dédiées",
    "fonction_dpo": "fonction DPO",
    "interoperabilite": "interopérabilité",
    "autofinancement": "autofinancement > 20 %",
}

#: French label of each partner-finder target type (``PartnerOption.type``).
PARTNER_TYPE_LABELS: dict[str, str] = {
    "grappe": "grappe",
    "og": "OG sans grappe",
    "nouvelle": "nouvelle grappe",
}

#: French label of each funding-selection mode (``funding_select.MODES``).
MODE_LABELS: dict[str, str] = {
    "sequentiel": "séquentiel (fenêtre par fenêtre, comme l'ARS)",
    "global": "global, a posteriori (comparaison : toutes les candidatures connues d'avance)",
}


def label_of(code: str, labels: dict[str, str]) -> str:
    """The label of a code, or the code made readable ('a_b' -> 'a b') when none is known:
    a user never reads a snake_case identifier."""
    text = str(code)
    return labels.get(text, text.replace("_", " "))
