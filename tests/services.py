"""Running a ``compose/*.sh start|stop DIR`` script for tests: the local services' one shape."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start(script: Path, directory: Path, timeout: float, unavailable: type[Exception], hint: str) -> str:
    """Run ``script start directory``; return the last line it prints (the address).

    Failing to start raises ``unavailable`` with the script's diagnostics and ``hint``: a test
    that needs the service fails loudly, it never skips.
    """
    try:
        result = subprocess.run(
            [str(script), "start", str(directory)],
            capture_output=True, text=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired as error:
        stderr = error.stderr.decode(errors="replace") if isinstance(error.stderr, bytes) else error.stderr or ""
        raise unavailable(
            f"{script.relative_to(ROOT)} start {directory} did not finish in {timeout} s.\n{stderr.strip()}"
        ) from error
    except OSError as error:
        raise unavailable(f"cannot run {script}: {error}") from error
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise unavailable(
            f"{script.relative_to(ROOT)} start {directory} failed (exit {result.returncode}); "
            f"{hint}.\n{result.stderr.strip()}"
        )
    return lines[-1]


def stop(script: Path, directory: Path, timeout: float) -> None:
    """Run ``script stop directory``: the service stops by its pid; its data stays."""
    result = subprocess.run(
        [str(script), "stop", str(directory)],
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{script.name} stop {directory} failed: {result.stderr.strip()}")
