"""Strict reading of numeric text tables (CSV, TUM) with file:line errors and exact timestamps."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Table:
    """Parsed columns (float64, or int64 for integer/time columns) and each row's file line."""

    path: Path
    columns: dict[str, np.ndarray]
    lines: np.ndarray  # (N,) int64, 1-based line numbers in the file

    def __len__(self) -> int:
        return len(self.lines)


def seconds_text_to_ns(text: str) -> int:
    """Exact decimal seconds (``1311868164.363181``, ``1.4037e+09``) to integer nanoseconds."""
    d = Decimal(text.strip())
    if not d.is_finite():
        raise InvalidOperation(text)
    return int((d * 1_000_000_000).to_integral_value())


def _parse(text: str, kind: str) -> float | int:
    t = text.strip()
    if kind == "float":
        return math.nan if t == "" else float(t)
    if kind == "int":
        return int(t) if t.lstrip("+-").isdigit() else int(Decimal(t).to_integral_exact())
    if kind == "s_to_ns":
        return seconds_text_to_ns(t)
    raise ValueError(f"unknown column kind {kind!r}")


def read_table(
    path: str | Path,
    columns: dict[str, str],
    *,
    delimiter: str | None = ",",
    header: bool = True,
    names: list[str] | None = None,
    comment: str = "#",
    min_rows: int = 1,
) -> Table:
    """Read the named columns of a delimited text table.

    ``columns`` maps a column name to its kind: ``float`` (empty -> NaN; ``nan``/``inf`` parse as
    such and are the caller's to mask), ``int`` (exact integers, e.g. ns or us timestamps) or
    ``s_to_ns`` (decimal seconds -> exact int ns). With ``header`` the first non-comment line names
    the columns (names are stripped; a leading ``#`` is allowed, as in EuRoC); otherwise ``names``
    gives them. ``delimiter=None`` splits on whitespace. Raises FileNotFoundError, or ValueError
    naming the file, line and column.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a UTF-8 text table ({exc}); is the file corrupt?") from None
    raw = text.splitlines()
    header_names = names
    start = 0
    if header:
        for i, line in enumerate(raw):
            if line.strip():
                body = line.strip()
                header_names = [
                    h.strip() for h in (body.split(delimiter) if delimiter else body.split())
                ]
                if header_names and header_names[0].startswith("#"):
                    header_names[0] = header_names[0].lstrip("#").strip()
                start = i + 1
                break
    if not header_names:
        raise ValueError(f"{path}: no header line and no column names given")
    missing = [c for c in columns if c not in header_names]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; the file has {header_names}")
    idx = {c: header_names.index(c) for c in columns}
    ncol = len(header_names)
    values: dict[str, list] = {c: [] for c in columns}
    lines: list[int] = []
    for i in range(start, len(raw)):
        line = raw[i].strip()
        if not line or line.startswith(comment):
            continue
        fields = line.split(delimiter) if delimiter else line.split()
        if len(fields) < ncol:
            raise ValueError(
                f"{path}:{i + 1}: expected {ncol} fields, found {len(fields)} "
                "(truncated or malformed line)"
            )
        for c, kind in columns.items():
            try:
                values[c].append(_parse(fields[idx[c]], kind))
            except (ValueError, InvalidOperation, OverflowError):
                raise ValueError(
                    f"{path}:{i + 1}: column {c!r}: cannot parse {fields[idx[c]]!r} as {kind}"
                ) from None
        lines.append(i + 1)
    if len(lines) < min_rows:
        raise ValueError(f"{path}: expected at least {min_rows} data rows, found {len(lines)}")
    cols = {
        c: np.asarray(v, dtype=np.float64 if kind == "float" else np.int64)
        for (c, kind), v in zip(columns.items(), values.values())
    }
    return Table(path, cols, np.asarray(lines, dtype=np.int64))


def ordered_rows(table: Table, ts: np.ndarray, what: str) -> tuple[np.ndarray, int]:
    """Rows to keep so that ``ts`` is strictly increasing: of rows with the same timestamp the
    last one is kept (a later row corrects an earlier one; evo's interpolation in the metric
    fixtures also uses the later row after such a duplicate).

    Returns (keep mask, number of duplicates dropped). A timestamp smaller than its predecessor
    raises ValueError naming the file and line.
    """
    d = np.diff(ts)
    back = np.flatnonzero(d < 0)
    if back.size:
        k = int(back[0]) + 1
        raise ValueError(
            f"{table.path}:{int(table.lines[k])}: {what} timestamp {int(ts[k])} goes "
            f"backwards (previous row, line {int(table.lines[k - 1])}: "
            f"{int(ts[k - 1])}); sort the file or fix the clock"
        )
    keep = np.ones(len(ts), dtype=bool)
    keep[:-1] = d > 0
    dup = int((~keep).sum())
    if dup:
        log.warning(
            "%s: dropped %d rows with duplicate %s timestamps (first at line %d)",
            table.path,
            dup,
            what,
            int(table.lines[np.flatnonzero(~keep)[0]]),
        )
    return keep, dup


def finite_rows(table: Table, names: list[str]) -> np.ndarray:
    """(N,) bool: rows whose listed columns are all finite."""
    ok = np.ones(len(table), dtype=bool)
    for n in names:
        ok &= np.isfinite(table.columns[n])
    return ok
