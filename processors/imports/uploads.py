"""The uploaded file of an import job: kept while the job may read it, deleted once it is over.

An upload holds a list's personal data in full. The gateway writes it to
``<data>/imports/<job>/upload`` (0600, in a 0700 directory); the import runner reads it,
and reads it again from the last stored batch when a stopped job resumes. Once the job's
final event is stored (completed or failed: a finished job never runs again) the runner
deletes the file, and its directory when nothing else is left in it. A process stopped
between the two leaves the file behind, so a runner deletes, when it starts, the uploads
of jobs that are already over.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

from domain.import_job import ImportJob

log = logging.getLogger(__name__)

UPLOADS_DIR = "imports"


def discard(data_dir: Path, job: ImportJob) -> None:
    """Delete the upload of ``job`` (finished), and its directory when that is left empty."""
    uploads = (data_dir / UPLOADS_DIR).resolve()
    path = (data_dir / job.stored_as).resolve()
    if not path.is_relative_to(uploads) or path.parent == uploads:
        log.warning("import job %s: its file %s is not in %s; left as it is", job.id, path, uploads)
        return
    try:
        path.unlink(missing_ok=True)
    except OSError as error:
        log.warning("import job %s: cannot delete its uploaded file %s: %s", job.id, path, error.strerror)
        return
    with contextlib.suppress(OSError):  # not empty: what else is there is kept
        path.parent.rmdir()


def discard_finished(data_dir: Path, load: Callable[[UUID], ImportJob | None]) -> int:
    """Delete the uploads of the jobs already over; how many jobs had one left."""
    uploads = data_dir / UPLOADS_DIR
    if not uploads.is_dir():
        return 0
    discarded = 0
    for folder in sorted(uploads.iterdir()):
        try:
            job_id = UUID(folder.name)
        except ValueError:
            continue
        # No job yet is an upload still arriving (its job is requested once it is whole).
        job = load(job_id)
        if job is not None and job.finished:
            discard(data_dir, job)
            discarded += 1
    return discarded
