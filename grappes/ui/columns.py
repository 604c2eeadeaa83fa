"""French column settings for the app's tables (``st.column_config``), one helper per kind.

Why: a table that shows ``700000`` or ``esms_autonomes_isoles`` cannot be read by the people
the tool is for. Amounts use Streamlit's ``euro`` format with no decimals; the page makes the
browser format numbers in French (``grappes.ui.page.FRENCH_SCRIPT``), so they read
``700 000 €``; counts use the ``localized`` format (thousands separated), distances one
decimal. Every table of the app goes through :class:`TableView`, so the headers, widths and the
decision-first column order are declared in one place per table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

#: row height (px) of the tables whose text must be read whole (reasons, « pourquoi non
#: financée »): Streamlit's grid wraps a cell's text only when rows are taller than 4rem
#: (64 px); 76 px gives three lines.
WRAP_ROW_HEIGHT = 76


@dataclass
class TableView:
    """A table as shown: the frame (only the shown columns, in order; a column set to None in
    ``config`` is kept for the code and hidden), its column settings, and the row height
    (``WRAP_ROW_HEIGHT``: long text wrapped instead of cut)."""

    frame: pd.DataFrame
    config: dict[str, Any] = field(default_factory=dict)
    row_height: int | None = None

    @property
    def labels(self) -> list[str]:
        """The headers a user reads, in order (for tests: no snake_case)."""
        out = []
        for col in self.frame.columns:
            if col in self.config and self.config[col] is None:
                continue  # hidden
            conf = self.config.get(col)
            label = conf.get("label") if isinstance(conf, dict) else None
            out.append(str(label or col))
        return out

    def show(self, key: str, height: int | None = None) -> None:
        """Draw it, or a French sentence instead of an empty grid (Streamlit writes "empty")."""
        if self.frame.empty:
            st.caption("Aucune ligne.")
            return
        kwargs: dict[str, Any] = {"height": height} if height else {}
        if self.row_height:
            kwargs["row_height"] = self.row_height
        st.dataframe(self.frame, hide_index=True, column_config=self.config,
                     column_order=list(self.frame.columns), key=key, **kwargs)


def euros(label: str, help: str | None = None, width: str | int | None = None) -> Any:
    """Whole euros, French grouping: '700 000 €'."""
    return st.column_config.NumberColumn(label, help=help, format="euro", step=1, width=width)


def integer(label: str, help: str | None = None, width: str | int | None = None) -> Any:
    return st.column_config.NumberColumn(label, help=help, format="localized", step=1,
                                         width=width)


def km(label: str, help: str | None = None) -> Any:
    """Kilometres with one decimal (decimal comma in French)."""
    return st.column_config.NumberColumn(label, help=help, format="localized", step=0.1,
                                         width="small")


def text(label: str, help: str | None = None, width: str | int = "medium") -> Any:
    return st.column_config.TextColumn(label, help=help, width=width)


def check(label: str, help: str | None = None) -> Any:
    return st.column_config.CheckboxColumn(label, help=help, width="small")


def percent(label: str, help: str | None = None) -> Any:
    """A share 0..1 shown as '40 %'."""
    return st.column_config.NumberColumn(label, help=help, format="percent", width="small")
