"""Altair charts of the follow-up: small multiples per ESMS, and the ARS money calendar."""

from __future__ import annotations

import altair as alt

from grappes.followup.evaluate import FollowupState
from grappes.followup.export import calendar_frame, rates_frame
from grappes.followup.indicators import INDICATORS

#: French number formatting inside the charts (axes, tooltips): Vega formats with d3's
#: English locale by default, so the money axis read « 800,000 ». A narrow no-break space
#: groups thousands (it never breaks a label in two), a comma marks the decimals.
FRENCH_NUMBERS = alt.Locale(number=alt.NumberLocale(
    decimal=",", thousands="\u202f", grouping=[3], currency=["", "\u00a0€"],
    percent="\u202f%", minus="\u2212"))


def small_multiples(state: FollowupState) -> alt.Chart:
    """One panel per ESMS (and the grappe), one line per indicator, the targets dashed."""
    df = rates_frame([state]).dropna(subset=["taux"])
    names = {m.finess_et: (m.raison_sociale or m.finess_et)[:30] for m in state.grappe.members}
    names["grappe"] = "Grappe (chiffres additionnés)"
    df["esms"] = df["finess_et"].map(names).fillna(df["finess_et"])
    targets = {a.indicator: a.target for a in state.attainments}
    short = {code: ind.short for code, ind in INDICATORS.items()}
    df["cible"] = df["indicateur"].map({short[c]: t for c, t in targets.items()})
    base = alt.Chart().encode(
        x=alt.X("mois:O", title="Mois"),
        color=alt.Color("indicateur:N", title="Indicateur"),
    )
    lines = base.mark_line(point=True).encode(
        y=alt.Y("taux:Q", title="Taux", axis=alt.Axis(format="%")),
        tooltip=["mois", "indicateur", alt.Tooltip("taux:Q", format=".0%")],
    )
    rules = base.mark_rule(strokeDash=[4, 4], opacity=0.5).encode(y="mean(cible):Q")
    return (alt.layer(lines, rules, data=df).properties(width=220, height=140)
            .facet(facet=alt.Facet("esms:N", title=None), columns=3)
            .configure(locale=FRENCH_NUMBERS))


def money_calendar(states: list[FollowupState], paid=None) -> alt.Chart:
    """Cumulative committed / payable / paid / forecast amounts by month."""
    cal = calendar_frame(states, paid)
    long = cal.melt(id_vars="mois", var_name="montant", value_name="euros")
    long["montant"] = long["montant"].map({"engage": "engagé", "payable": "payable",
                                           "verse": "versé", "prevu": "prévu"})
    return alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("mois:O", title="Mois"),
        y=alt.Y("euros:Q", title="Montant cumulé (€)", axis=alt.Axis(format=",.0f")),
        color=alt.Color("montant:N", title=""),
        tooltip=["mois", "montant", alt.Tooltip("euros:Q", format=",.0f")],
    ).properties(height=320).configure(locale=FRENCH_NUMBERS)
