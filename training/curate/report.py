"""The curation report: what was kept, masked and dropped, and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CurationReport:
    """Counters filled while curating; ``to_dict`` goes into the dataset manifest's ``extra``.

    windows_dropped / samples_masked / modalities_dropped map a reason to a count; loader counts
    (rows dropped or masked while reading files) are summed over recordings.
    """

    recordings: int = 0
    recordings_without_windows: int = 0
    windows_considered: int = 0
    windows_kept: int = 0
    windows_dropped: Counter = field(default_factory=Counter)
    samples_masked: Counter = field(default_factory=Counter)
    modalities_dropped: Counter = field(default_factory=Counter)
    modalities_kept: Counter = field(default_factory=Counter)
    loader: Counter = field(default_factory=Counter)

    def drop(self, reason: str) -> None:
        self.windows_dropped[reason] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "recordings": self.recordings,
            "recordings_without_windows": self.recordings_without_windows,
            "windows_considered": self.windows_considered,
            "windows_kept": self.windows_kept,
            "windows_dropped": dict(sorted(self.windows_dropped.items())),
            "samples_masked": dict(sorted(self.samples_masked.items())),
            "modalities_kept": dict(sorted(self.modalities_kept.items())),
            "modalities_dropped": dict(sorted(self.modalities_dropped.items())),
            "loader": dict(sorted(self.loader.items())),
        }

    def summary_lines(self) -> list[str]:
        """Human-readable lines for the command's final output."""
        d = self.to_dict()

        def fmt(c: dict) -> str:
            return ", ".join(f"{k} {v}" for k, v in c.items()) or "none"

        return [
            f"recordings: {self.recordings} ({self.recordings_without_windows} too short for a "
            "window)",
            f"windows: {self.windows_considered} considered, {self.windows_kept} kept, "
            f"{sum(self.windows_dropped.values())} dropped ({fmt(d['windows_dropped'])})",
            f"modalities kept: {fmt(d['modalities_kept'])}; dropped from clips: "
            f"{fmt(d['modalities_dropped'])}",
            f"samples masked: {fmt(d['samples_masked'])}",
            f"rows dropped/masked while loading: {fmt(d['loader'])}",
        ]
