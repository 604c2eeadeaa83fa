"""Tables of the follow-up for people: the ARS dashboard, the XLSX export, ``suivi etat``.

One function per table, from evaluated states (``FollowupState``), with French headers;
``write_workbook`` lays them out for French Excel (euros, percentages and dates as real
number formats; text cells neutralised against formulas).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from grappes.core.formatting import euros, percent_fr
from grappes.exports.french_excel import neutralise_frame
from grappes.followup.evaluate import STATE_LABELS, FollowupState, TrancheState, TrancheStatus
from grappes.followup.indicators import INDICATORS
from grappes.followup.months import add_months, label, month_end, month_of

Paid = Mapping[str, Mapping[int, date | None]]


def _paid(st: FollowupState, paid: Paid | None) -> Mapping[int, date | None]:
    """Payment dates of a grappe: given, else those its record carries."""
    if paid is not None and st.grappe.grappe_id in paid:
        return paid[st.grappe.grappe_id]
    return st.grappe.versements


def grappes_frame(states: Sequence[FollowupState], paid: Paid | None = None) -> pd.DataFrame:
    rows = []
    for st in states:
        g = st.grappe
        usage = next((t for t in st.tranches if t.tranche.regle.trigger == "cibles_usage"), None)
        versed = _paid(st, paid)
        rows.append({
            "grappe": g.grappe_id, "region": g.region, "regles": g.regles,
            "signature": g.signature, "porteur": g.porteur_nom or g.porteur,
            "n_esms": len(g.members), "montant_total": g.montant_total,
            "montant_payable": st.amount_payable,
            "montant_verse": sum(t.montant for t in g.tranches if versed.get(t.rang)),
            "a_risque": "oui" if st.at_risk else "non",
            "echeance_usage": usage.deadline if usage else None,
            "tranche_usage": STATE_LABELS[usage.state] if usage else "",
            "date_prevue": usage.expected_on if usage else None,
            "esms_signales": len(st.flags),
        })
    return pd.DataFrame(rows, columns=[
        "grappe", "region", "regles", "signature", "porteur", "n_esms", "montant_total",
        "montant_payable", "montant_verse", "a_risque", "echeance_usage", "tranche_usage",
        "date_prevue", "esms_signales"])


def tranches_frame(states: Sequence[FollowupState], paid: Paid | None = None) -> pd.DataFrame:
    rows = []
    for st in states:
        versed = _paid(st, paid)
        for t in st.tranches:
            rows.append({
                "grappe": st.grappe.grappe_id, "tranche": t.tranche.rang,
                "libelle": t.tranche.regle.label, "part": t.tranche.regle.share,
                "montant": t.tranche.montant, "etat": STATE_LABELS[t.state],
                "payable_le": t.payable_on, "versee_le": versed.get(t.tranche.rang),
                "prevue_le": t.expected_on, "au_plus_tot": t.expected_earliest,
                "au_plus_tard": t.expected_latest, "echeance": t.deadline,
                "verification_service_regulier": _check(t),
                "verification_le": t.verification.le if t.verification else None,
                "verification_par": t.verification.par if t.verification else "",
                "motif": t.reason,
            })
    return pd.DataFrame(rows, columns=[
        "grappe", "tranche", "libelle", "part", "montant", "etat", "payable_le", "versee_le",
        "prevue_le", "au_plus_tot", "au_plus_tard", "echeance", "verification_service_regulier",
        "verification_le", "verification_par", "motif"])


def _check(t: TrancheStatus) -> str:
    """« vérification de service régulier » of a tranche: not needed, to record, or done."""
    if not t.tranche.regle.service_check:
        return "sans objet"
    return "signée" if t.verification else "à enregistrer"


def flags_frame(states: Sequence[FollowupState]) -> pd.DataFrame:
    """ESMS that hold a grappe back, worst first: what to fix first."""
    rows = [{
        "grappe": st.grappe.grappe_id, "finess_et": f.finess_et,
        "raison_sociale": f.raison_sociale, "indicateur": f.indicator_label,
        "taux": f.last_rate, "cible": f.target, "prevu": label(f.expected),
        "echeance": f.deadline, "motif": f.reason,
    } for st in states for f in st.flags]
    return pd.DataFrame(rows, columns=["grappe", "finess_et", "raison_sociale", "indicateur",
                                       "taux", "cible", "prevu", "echeance", "motif"])


def targets_frame(states: Sequence[FollowupState]) -> pd.DataFrame:
    """Per ESMS (and the grappe, ``finess_et`` « grappe ») and per indicator: the target,
    the month it was first met (``AAAA-MM``, empty: not yet), the last month measured and
    its rate. A month counts once it has ended."""
    rows = []
    for st in states:
        names = {m.finess_et: m.raison_sociale for m in st.grappe.members}
        for a in st.attainments:
            rows.append({
                "grappe": st.grappe.grappe_id, "finess_et": a.finess_et or "grappe",
                "raison_sociale": names.get(a.finess_et, "") if a.finess_et else "",
                "indicateur": INDICATORS[a.indicator].short, "indicateur_code": a.indicator,
                "cible": a.target, "atteinte": label(a.first_met),
                "dernier_mois": label(a.last_month), "taux": a.last_rate,
            })
    return pd.DataFrame(rows, columns=["grappe", "finess_et", "raison_sociale", "indicateur",
                                       "indicateur_code", "cible", "atteinte", "dernier_mois",
                                       "taux"])


def rates_frame(states: Sequence[FollowupState]) -> pd.DataFrame:
    rows = [{
        "grappe": st.grappe.grappe_id, "finess_et": r.finess_et or "grappe",
        "indicateur": INDICATORS[r.indicator].short, "mois": label(r.mois),
        "numerateur": r.numerateur, "denominateur": r.denominateur, "taux": r.taux,
    } for st in states for r in (*st.rates, *st.grappe_rates)]
    return pd.DataFrame(rows, columns=["grappe", "finess_et", "indicateur", "mois",
                                       "numerateur", "denominateur", "taux"])


def calendar_frame(states: Sequence[FollowupState], paid: Paid | None = None,
                   horizon_months: int = 12) -> pd.DataFrame:
    """Cumulative amounts by month: committed (signed), payable, paid, and forecast
    (payable + pending tranches at their expected month)."""
    if not states:
        return pd.DataFrame(columns=["mois", "engage", "payable", "verse", "prevu"])
    start = min(month_of(st.grappe.signature) for st in states)
    end = add_months(month_of(max(st.as_of for st in states)), horizon_months)
    months = []
    m = start
    while m <= end:
        months.append(m)
        m = add_months(m, 1)
    rows = []
    for m in months:
        last = month_end(m)
        engage = payable = verse = prevu = 0.0
        for st in states:
            versed = _paid(st, paid)
            if st.grappe.signature <= last:
                engage += st.grappe.montant_total
            for t in st.tranches:
                if t.state == TrancheState.PAYABLE and t.payable_on and t.payable_on <= last:
                    payable += t.tranche.montant
                    prevu += t.tranche.montant
                elif t.expected_on and t.expected_on <= last:
                    prevu += t.tranche.montant
                elif t.state == TrancheState.AWAITING_CHECK and last >= st.as_of:
                    prevu += t.tranche.montant  # due as soon as the verification is signed
                when = versed.get(t.tranche.rang)
                if when and when <= last:
                    verse += t.tranche.montant
        rows.append({"mois": label(m), "engage": engage, "payable": payable, "verse": verse,
                     "prevu": prevu})
    return pd.DataFrame(rows)


#: column -> number format in the workbook
_FORMATS = {
    "montant_total": "euro", "montant_payable": "euro", "montant_verse": "euro",
    "montant": "euro", "engage": "euro", "payable": "euro", "verse": "euro", "prevu": "euro",
    "part": "pct", "taux": "pct", "cible": "pct",
    "signature": "date", "echeance_usage": "date", "date_prevue": "date", "payable_le": "date",
    "versee_le": "date", "prevue_le": "date", "au_plus_tot": "date", "au_plus_tard": "date",
    "echeance": "date", "verification_le": "date",
}


def write_workbook(states: Sequence[FollowupState], paid: Paid | None, path: Path) -> Path:
    """The ARS workbook: grappes, tranches, ESMS to chase, targets met (month per ESMS and
    indicator), calendar, monthly rates."""
    sheets = {
        "grappes": grappes_frame(states, paid),
        "tranches": tranches_frame(states, paid),
        "esms_signales": flags_frame(states),
        "cibles": targets_frame(states),
        "calendrier": calendar_frame(states, paid),
        "taux_mensuels": rates_frame(states),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        book = writer.book
        fmts = {"euro": book.add_format({"num_format": "#,##0.00 €"}),
                "pct": book.add_format({"num_format": "0.0 %"}),
                "date": book.add_format({"num_format": "dd/mm/yyyy"})}
        bold = book.add_format({"bold": True})
        for name, df in sheets.items():
            out = neutralise_frame(df)
            for col in out.columns:
                if _FORMATS.get(col) == "date":
                    out[col] = pd.to_datetime(out[col], errors="coerce")
            out.to_excel(writer, sheet_name=name, index=False)
            ws = writer.sheets[name]
            for i, col in enumerate(out.columns):
                width = max(12, min(60, len(col) + 2))
                ws.set_column(i, i, width, fmts.get(_FORMATS.get(col, "")))
                ws.write(0, i, col, bold)
            ws.freeze_panes(1, 0)
    return path


#: What a person reads above each column on the Suivi page (the files keep the codes).
DISPLAY_LABELS: dict[str, str] = {
    "grappe": "Grappe", "region": "Région", "regles": "Appel à projets", "signature": "Signature",
    "porteur": "Porteur", "n_esms": "ESMS", "montant_total": "Montant total",
    "montant_payable": "Payable", "montant_verse": "Versé", "a_risque": "À risque",
    "echeance_usage": "Échéance des cibles", "tranche_usage": "Tranche d'usage",
    "date_prevue": "Date prévue", "esms_signales": "ESMS signalés", "tranche": "Tranche",
    "libelle": "Libellé", "part": "Part", "montant": "Montant", "etat": "État",
    "payable_le": "Payable le", "versee_le": "Versée le", "prevue_le": "Prévue le",
    "au_plus_tot": "Au plus tôt", "au_plus_tard": "Au plus tard", "echeance": "Échéance",
    "motif": "Motif", "finess_et": "FINESS ET", "raison_sociale": "Établissement",
    "indicateur": "Indicateur", "taux": "Taux", "cible": "Cible", "prevu": "Prévu",
    "mois": "Mois", "numerateur": "Numérateur", "denominateur": "Dénominateur",
    "indicateur_code": "Code", "atteinte": "Cible atteinte (mois)",
    "dernier_mois": "Dernier mois mesuré",
    "verification_service_regulier": "Vérification de service régulier",
    "verification_le": "Signée le", "verification_par": "Enregistrée par",
}


#: columns shown as euros, as percentages (shares 0–1), and as dates in the page's tables
DISPLAY_EUROS = frozenset({"montant_total", "montant_payable", "montant_verse", "montant"})
DISPLAY_SHARES = frozenset({"part", "taux", "cible"})


def _display_cell(column: str, value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if column in DISPLAY_EUROS:
        return euros(float(value))
    if column in DISPLAY_SHARES:
        return percent_fr(float(value))
    if isinstance(value, (date, pd.Timestamp)):
        return value.strftime("%d/%m/%Y")
    return value


def _plain(value: object) -> object:
    """A cell as JSON wants it: dates as ``AAAA-MM-JJ``, no NaN/NaT, numpy as Python."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """The rows of ``frame`` for JSON: plain ISO dates (``2024-05-31``), null for empty."""
    cols = [str(c) for c in frame.columns]
    return [{c: _plain(v) for c, v in zip(cols, row, strict=True)}
            for row in frame.itertuples(index=False, name=None)]


def for_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as the page shows it: French headers, amounts as « 40 000 € », shares as
    « 40 % », dates as « 10/05/2026 », empty cells instead of None/NaT. For reading only:
    the XLSX export keeps numbers and dates."""
    shown = pd.DataFrame({c: [_display_cell(str(c), v) for v in frame[c]] for c in frame.columns},
                         index=frame.index, dtype=object)
    return shown.rename(columns=lambda c: DISPLAY_LABELS.get(str(c), str(c)))
