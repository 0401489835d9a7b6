"""Regenerate the bundled synthetic samples of Kota Metro posyandu registers, deterministically.

    python data/samples/generate.py            # writes next to this script
    python data/samples/generate.py --out-dir /tmp/samples --children 500
    python data/samples/generate.py --out-dir /tmp/effect --effect-haz 0.3   # a known effect

Same arguments, byte-identical files. Every person in them is synthetic (see README.md here).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the generator lives in tests/
from tests.synthetic import (
    DEFAULT_SEED,
    generate_register,
    write_canonical_csv,
    write_eppgbm_csv,
    write_eppgbm_xlsx,
)

# about 2,300 children with visits, 35,000 rows: the canonical file stays under 5 MB
DEFAULT_CHILDREN = 2700
DEFAULT_YEARS = (2022, 2023, 2024)
EPPGBM_YEAR = 2024
# the xlsx copy is only kept when it is small enough to sit in the repository comfortably
XLSX_MAX_BYTES = 2_000_000
# posyandu whose e-PPGBM z-scores and statuses are computed with a known mistake, for
# `kbtool audit` to find (README.md here); every other posyandu's agree with WHO
EPPGBM_MISTAKES = {
    "Posyandu Mawar 2": "age_in_completed_months",
    "Posyandu Kenanga 1": "no_position_correction",
    "Posyandu Tulip 2": "stale_age",
}


def main(argv: list[str] | None = None) -> int:
    """Write the canonical CSV, the e-PPGBM-like CSV and (if small) its xlsx twin."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--children", type=int, default=DEFAULT_CHILDREN)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--years", type=int, nargs="+", default=list(DEFAULT_YEARS))
    parser.add_argument("--eppgbm-year", type=int, default=EPPGBM_YEAR)
    parser.add_argument("--no-xlsx", action="store_true", help="skip the .xlsx copy")
    parser.add_argument(
        "--effect-haz",
        type=float,
        default=0.0,
        help="inject a programme effect: HAZ this much higher in the --groups kelurahan from "
        "their since year on",
    )
    parser.add_argument(
        "--groups",
        type=Path,
        default=Path(__file__).resolve().parent / "kampung_kb.csv",
        help="the groups file of --effect-haz (kelurahan, group, since)",
    )
    args = parser.parse_args(argv)

    out_dir: Path = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    years = sorted(args.years)
    register = generate_register(
        args.children, years=years, seed=args.seed, **_effect(args.effect_haz, args.groups)
    )

    canonical = out_dir / f"posyandu_metro_{years[0]}_{years[-1]}.csv"
    write_canonical_csv(register, canonical)
    written = [canonical]

    one_year = register[register["visit_date"].dt.year == args.eppgbm_year]
    eppgbm = out_dir / f"eppgbm_metro_{args.eppgbm_year}.csv"
    mistakes = {name: m for name, m in EPPGBM_MISTAKES.items() if name in set(one_year.posyandu)}
    write_eppgbm_csv(one_year, eppgbm, seed=args.seed, mistakes=mistakes)
    written.append(eppgbm)

    if not args.no_xlsx:
        xlsx = eppgbm.with_suffix(".xlsx")
        write_eppgbm_xlsx(one_year, xlsx, seed=args.seed, mistakes=mistakes)
        if xlsx.stat().st_size > XLSX_MAX_BYTES:
            xlsx.unlink()
            print(f"skipped {xlsx.name}: larger than {XLSX_MAX_BYTES:,} bytes", file=sys.stderr)
        else:
            written.append(xlsx)

    for path in written:
        print(f"wrote {path} ({path.stat().st_size:,} bytes)", file=sys.stderr)
    return 0


def _effect(haz: float, groups: Path) -> dict[str, object]:
    """generate_register's programme arguments: the groups file's kelurahan and start years."""
    if not haz:
        return {}
    from kbtool.compare import read_groups

    programme = read_groups(groups)
    if programme.unit != "kelurahan" or programme.since is None:
        raise SystemExit(f"{groups}: --effect-haz needs kelurahan and since columns")
    return {
        "programme": dict(zip(programme.names, programme.since, strict=True)),
        "programme_haz": haz,
    }


if __name__ == "__main__":
    sys.exit(main())
