"""How a job reads its file: the stored layout as the reader's, and the mapping as column positions."""

from __future__ import annotations

from domain import data_mapping
from domain.record_import import ContactColumn, RowPlan
from processors.files import source as files
from schemas.imports import FieldMap, FileLayout

DEFAULT_CONTACT_INFO_TYPE = 1  # home phone, as the product's list builder assumes


def layout_of(layout: FileLayout) -> files.Layout:
    return files.Layout(
        format=layout.format,
        encoding=layout.encoding,
        delimiter=layout.delimiter,
        quote_char=layout.quote_char,
        header=layout.header,
        skip_lines=layout.skip_lines,
        columns=tuple(files.Column(c.name, c.start, c.length) for c in layout.columns),
    )


def row_plan(fields: list[FieldMap], columns: list[str], channel: str) -> tuple[list[FieldMap], RowPlan]:
    """The mapping applied (guessed from the header when the job has none, and read as a list
    of ``channel`` reads it) and its positions."""
    fields = data_mapping.for_channel(fields or data_mapping.default_mapping(columns), channel)
    resolved = data_mapping.resolve(fields, columns)
    plan = RowPlan(
        client_id=resolved.client_id,
        client_column=columns[resolved.client_id],
        contacts=tuple(
            ContactColumn(c.position, columns[c.position], c.contact_info_type or DEFAULT_CONTACT_INFO_TYPE)
            for c in resolved.contact_info
        ),
        fields=tuple((target, index, columns[index]) for target, index in resolved.targets.items()),
        custom=tuple((c.name, c.position) for c in resolved.custom),
    )
    return fields, plan
