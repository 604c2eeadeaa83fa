"""Write the bundled synthetic sample region (Centre-Val de Loire) into ``data/sample/``.

Both formats of the register: etalab CSV extracts and the FINESS+ JSON flow (``.json.gz``).

Run from the repository root: ``python data/build/make_sample.py``. The output is committed;
running it twice gives byte-identical files (fixed seed, deterministic generator), and
``tests/test_synthetic_sample.py`` checks that the committed files are up to date.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grappes.ingest.sample import SAMPLE_FINESS_PLUS, SAMPLE_REGION, SAMPLE_SEED  # noqa: E402
from grappes.synthetic.sample import build_sample  # noqa: E402


def main(folder: Path | None = None) -> None:
    target = folder or ROOT / "data" / "sample"
    paths = build_sample(target)
    for path in (*paths, target / SAMPLE_FINESS_PLUS, target / "README.md"):
        size = path.stat().st_size / 1024
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} ({size:,.0f} Ko)")
    print(f"région {SAMPLE_REGION}, graine {SAMPLE_SEED}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
