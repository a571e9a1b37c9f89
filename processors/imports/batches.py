"""One batch of an import file: the rows the import runner stores in one transaction.

Input: the file's rows and row problems, as :mod:`processors.files.source` reads them. Output: a
:class:`Batch`, which every kind of import target (contact lists in :mod:`processors.imports.runner`,
suppression lists in :mod:`processors.imports.suppression_entries`) stores with the job's
``progressed`` event. No state, no I/O: its own module so that the target modules share
it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from processors.files import source as files
from processors.imports.drafting import Row


@dataclass
class Batch:
    rows: list[Row] = field(default_factory=list)
    problems: list[files.RowProblem] = field(default_factory=list)
    last_line: int = 0
    end_offset: int = 0
