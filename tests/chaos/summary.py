"""The one summary table `./run chaos` prints: a row per part, its loss columns, and the notes of anything
that went wrong."""

from __future__ import annotations

from dataclasses import dataclass, field

HEADERS = ("part", "what happened", "rows lost", "rows duplicated", "integrity failures", "failed cases")


@dataclass
class Row:
    """One part's line. A loss column is None where the part does not measure it (shown as "-")."""

    part: str
    what: str
    lost: int | None
    duplicated: int | None
    integrity: int | None
    failed: int
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.integrity or self.failed)

    def cells(self) -> tuple[str, ...]:
        shown = ["-" if n is None else str(n) for n in (self.lost, self.duplicated, self.integrity)]
        return (self.part, self.what, *shown, str(self.failed))


def render(rows: list[Row], seed: int) -> str:
    """The table as aligned text (a Markdown pipe table), the notes under it, and the verdict."""
    lines = [HEADERS, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]

    def format_line(line: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) + " |"

    out = [format_line(HEADERS), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [format_line(row.cells()) for row in rows]
    for row in rows:
        out += [f"  {row.part}: {note}" for note in row.notes[:20]]
    verdict = "every loss column reads 0" if all(row.clean for row in rows) else "FAILED: see the columns above"
    out.append(f"chaos seed {seed}: {verdict}")
    return "\n".join(out)
