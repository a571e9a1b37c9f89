"""The import contracts of pyproject.toml ([tool.importlinter], checked by ``make lint``) hold on
the tree, and fail, naming the import, on a copy of the tree with a forbidden import added.

The copies are of the six top-level packages and pyproject.toml, in a temporary directory;
import-linter runs there, where the copy comes first on the module path. Each run reads the
import graph afresh (``--no-cache``), in well under a second.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("dialstream", "domain", "schemas", "processors", "projections", "gateway")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
BROKEN = 1


def lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "pyproject.toml", "--no-cache"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=60,
    )


def copy_of_tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_copy_keeps_every_contract_before_it_is_broken(tmp_path: Path) -> None:
    # Without this, a copy that failed for another reason would pass the tests below.
    result = lint_imports(copy_of_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_domain_importing_the_gateway_breaks_the_layers(tmp_path: Path) -> None:
    tree = copy_of_tree(tmp_path)
    (tree / "domain" / "layer_breach.py").write_text('"""Decides nothing."""\n\nfrom gateway import app\n')

    result = lint_imports(tree)

    assert result.returncode == BROKEN, result.stdout + result.stderr
    assert "Layers: entry points" in result.stdout and "BROKEN" in result.stdout
    assert "domain is not allowed to import gateway" in result.stdout
    assert "- domain.layer_breach -> gateway.app (l.3)" in result.stdout


def test_the_store_importing_domain_breaks_the_layers(tmp_path: Path) -> None:
    tree = copy_of_tree(tmp_path)
    (tree / "dialstream" / "store" / "layer_breach.py").write_text("from domain import errors\n")

    result = lint_imports(tree)

    assert result.returncode == BROKEN, result.stdout + result.stderr
    # domain and the store are independent siblings: the breach is named package to package.
    assert "dialstream.store is not allowed to import domain" in result.stdout
    assert "- dialstream.store.layer_breach -> domain.errors (l.1)" in result.stdout


def test_a_cycle_between_two_modules_of_a_package_is_refused(tmp_path: Path) -> None:
    tree = copy_of_tree(tmp_path)
    # The compliance processor reads the suppression index's port; a port that reached back into
    # the processor would close a circle between the two packages.
    port = tree / "processors" / "suppression" / "index.py"
    port.write_text(port.read_text() + "\nfrom processors.compliance import processor  # noqa: E402\n")

    result = lint_imports(tree)

    assert result.returncode == BROKEN, result.stdout + result.stderr
    assert "No cycles are allowed in processors." in result.stdout
    assert "- .suppression -> .compliance" in result.stdout
