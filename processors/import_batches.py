"""One batch of an import file: the rows the import runner stores in one transaction.

Input: the file's rows and row problems, as :mod:`processors.files` reads them. Output: a
:class:`Batch`, which every kind of import target (contact lists in :mod:`processors.imports`,
suppression lists in :mod:`processors.suppression_files`) stores with the job's
``progressed`` event. No state, no I/O: its own module so that the target modules share
it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from processors import files
from processors.import_drafting import Row


@dataclass
class Batch:
    rows: list[Row] = field(default_factory=list)
    problems: list[files.RowProblem] = field(default_factory=list)
    last_line: int = 0
    end_offset: int = 0
