"""Which units of the data run the programme, and from which year: the groups file matched to
the units the data holds, checked so that a comparison is possible."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kbtool.arrays import FloatArray
from kbtool.compare.groups import OTHERS, Programme, unit_key
from kbtool.errors import InputError

# the comparison units' start year: never
NEVER = np.inf


@dataclass(frozen=True)
class Assignment:
    """The units of the data (sorted), whether each runs the programme and since when (NEVER for
    the others; NaN for every unit when the groups file has no `since`), and the units the file
    names that the data lacks."""

    unit: str
    group: str
    units: list[str]
    treated: npt.NDArray[np.bool_]
    since: FloatArray
    years: list[int]
    missing: list[str]

    @property
    def timed(self) -> bool:
        """Whether start years are known (a before/after comparison is possible)."""
        return not np.isnan(self.since).any()

    @property
    def staggered(self) -> bool:
        """Whether treated units started in different years."""
        return self.timed and len(set(self.since[self.treated].tolist())) > 1

    def group_of(self, units: Sequence[str]) -> list[str]:
        """The group label of each of `units` (the programme's, or OTHERS)."""
        treated = {u for u, t in zip(self.units, self.treated, strict=True) if t}
        return [self.group if u in treated else OTHERS for u in units]


def assign(programme: Programme, units: Sequence[str], years: Sequence[int]) -> Assignment:
    """Match the groups file to the data's `units` and `years`; InputError when no comparison
    can be made (no named unit in the data, a single unit, no comparison unit, a start year
    without a year before it or from it on in the data)."""
    kind = programme.unit
    units = sorted(set(units))
    years = sorted(set(years))
    if len(units) < 2:
        raise InputError(
            f"the data holds {len(units)} {kind} ({', '.join(units) or 'none'}): a comparison "
            f"needs {kind} with and without the programme"
        )
    named = dict(zip(programme.keys(), range(len(programme.names)), strict=True))
    position = [named.get(unit_key(u, kind)) for u in units]
    treated = np.array([p is not None for p in position])
    if not treated.any():
        listed = ", ".join(units[:8]) + (f", ... ({len(units)} in all)" if len(units) > 8 else "")
        raise InputError(
            f"{programme.source}: none of its {len(programme.names)} {kind} is in the data "
            f"(it has {listed}); check the spelling or the unit column "
            "(kelurahan, posyandu, kecamatan)"
        )
    if treated.all():
        raise InputError(
            f"{programme.source}: every {kind} of the data is in the programme: there is no "
            f"comparison group; the data must also hold {kind} without it"
        )
    found = {p for p in position if p is not None}
    missing = [name for i, name in enumerate(programme.names) if i not in found]
    since = np.full(len(units), np.nan)
    if programme.since is not None:
        since = np.array(
            [NEVER if p is None else float(programme.since[p]) for p in position], dtype=np.float64
        )
        # every start year needs a year of data before it and one from it on
        outside = treated & ((since <= years[0]) | (since > years[-1]))
        if outside.any():
            late = zip(np.array(units)[outside], since[outside], strict=True)
            shown = ", ".join(f"{u} {int(s)}" for u, s in late)
            raise InputError(
                f"{programme.source}: since lies outside what the data can compare ({shown}): "
                f"the data covers {years[0]}-{years[-1]}, and a start year needs a year of data "
                f"before it and one from it on, so {years[0] + 1}-{years[-1]} here"
            )
    return Assignment(kind, programme.group, units, treated, since, years, missing)
