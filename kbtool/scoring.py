"""Z-scores for register files: read -> normalise -> z-scores, keeping the input columns.

NIK and names are personal data of children (UU 27/2022): kbtool never writes them in clear, so
the columns read as `child_id` or `name`, and those that carry parents' names, NIKs, addresses or
phone numbers, are left out of the result. `source_file` and `source_line` say which register row
each result row belongs to, so the register itself stays the place to look a child up.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from kbtool.growth import ZSCORE_COLUMNS, compute_zscores
from kbtool.growth.zscores import load_kernel
from kbtool.reader import ReadOptions, normalise_header, read_files

# columns written in front of the computed ones, to find each row in its register
SOURCE_COLUMNS = ("source_file", "source_line")

# e-PPGBM and posyandu headers (normalised) of other personal data in registers
PERSONAL_HEADERS = frozenset(
    normalise_header(name)
    for name in (
        "nama_ortu",
        "nama_orang_tua",
        "nama_ibu",
        "nama_ayah",
        "nik_ortu",
        "nik_ibu",
        "nik_ayah",
        "no_kk",
        "nomor_kk",
        "alamat",
        "no_hp",
        "no_telp",
        "telepon",
        "hp",
    )
)


@dataclass
class ScoredTable:
    """Every accepted input row with its computed columns, plus what was rejected and why.

    `table` holds the input columns under their own headers (less personal data, listed in
    `withheld`), then SOURCE_COLUMNS and ZSCORE_COLUMNS; an input header that collides with one
    of those is renamed `<name>_input` (listed in `renamed`).
    """

    table: pd.DataFrame
    rejects: pd.DataFrame
    rows_read: int
    sources: list[dict[str, object]]
    withheld: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_scored(self) -> int:
        return len(self.table)


def personal_columns(headers: Sequence[str], column_map: dict[str, str]) -> list[str]:
    """The input headers holding personal data: the child's NIK and name, parents' data."""
    identifiers = {column_map.get("child_id"), column_map.get("name")}
    return [
        header
        for header in headers
        if header in identifiers or normalise_header(header) in PERSONAL_HEADERS
    ]


def score_files(
    sources: Sequence[str | Path],
    options: ReadOptions | None = None,
    *,
    full_precision: bool = False,
    lang: str = "en",
) -> ScoredTable:
    """Read register files with the shared reader and append WHO z-scores to every row."""
    options = replace(options or ReadOptions(), keep_raw=True)
    # load the compiled z-score kernel while the files are read: it takes ~1 s of its own
    loading = threading.Thread(target=load_kernel, name="kbtool-load-kernel", daemon=True)
    loading.start()
    batch = read_files(sources, options)
    loading.join()
    scores = compute_zscores(batch.rows, full_precision=full_precision, lang=lang)
    raw = batch.raw if batch.raw is not None else pd.DataFrame(index=batch.rows.index)
    withheld = personal_columns(list(raw.columns), batch.column_map)
    raw = raw.drop(columns=withheld)
    computed = (*SOURCE_COLUMNS, *ZSCORE_COLUMNS)
    renamed = {name: f"{name}_input" for name in raw.columns if name in computed}
    located = batch.rows.loc[:, list(SOURCE_COLUMNS)]
    table = pd.concat([raw.rename(columns=renamed), located, scores], axis=1)
    table = table.reset_index(drop=True)
    rejects = batch.rejects.copy()
    if len(rejects):
        # a rejected cell of a personal column is reported without its value
        rejects.loc[rejects["column"].isin(withheld), "value"] = "(withheld)"
    per_file = [
        {
            "file": str(source),
            "rows_read": int((batch.rows["source_file"] == str(source)).sum())
            + int((batch.rejects["file"] == str(source)).sum()),
        }
        for source in sources
    ]
    return ScoredTable(
        table=table,
        rejects=rejects,
        rows_read=batch.rows_read,
        sources=per_file,
        withheld=withheld,
        renamed=renamed,
        warnings=list(batch.warnings),
    )
