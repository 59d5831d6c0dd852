"""What an import or a fetch did, as the lines the admin page and the commands print."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from training.models import MarketDataset


@dataclass
class ImportReport:
    dataset: MarketDataset
    file: str
    rows_read: int
    rows_stored: int
    duplicates_in_file: int
    already_stored: int
    first_open_time: datetime
    last_open_time: datetime
    warnings: list[str] = field(default_factory=list)
    replaced_sample: bool = False
    seconds: float = 0.0

    @property
    def rows_skipped(self) -> int:
        return self.duplicates_in_file + self.already_stored

    def lines(self) -> list[str]:
        d = self.dataset
        largest = f", largest {d.largest_gap} missing candles" if d.gap_count else ""
        out = [
            f"Imported {self.file} into {d}",
            f"  rows read: {self.rows_read}",
            f"  stored: {self.rows_stored}",
            f"  skipped: {self.rows_skipped} ({self.duplicates_in_file} repeated in the file, "
            f"{self.already_stored} already stored)",
            f"  time range of the file: {self.first_open_time:%Y-%m-%d %H:%M} to {self.last_open_time:%Y-%m-%d %H:%M} UTC",
            f"  dataset: {d.row_count} candles, {d.first_open_time:%Y-%m-%d %H:%M} to "
            f"{d.last_open_time:%Y-%m-%d %H:%M} UTC, gaps: {d.gap_count}{largest}",
            f"  fingerprint: {d.fingerprint}",
        ]
        if self.replaced_sample:
            out.append("  the offline sample that this dataset held was replaced")
        out += [f"  warning: {w}" for w in self.warnings]
        if self.seconds:
            out.append(f"  took {self.seconds:.2f} s ({self.rows_read / max(self.seconds, 1e-9):,.0f} rows/s)")
        return out

    def as_text(self) -> str:
        return "\n".join(self.lines())


@dataclass
class FetchReport:
    requested: tuple[datetime, datetime]
    missing_before: int
    requests: int
    retries: int
    import_report: ImportReport | None

    def lines(self) -> list[str]:
        start, end = self.requested
        out = [
            f"Requested {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC: {self.missing_before} candles were missing; "
            f"{self.requests} requests ({self.retries} retried)."
        ]
        if self.import_report is None:
            out.append("Nothing to store: every candle in the range is already stored (or none exists yet).")
        else:
            out += self.import_report.lines()
        return out

    def as_text(self) -> str:
        return "\n".join(self.lines())
