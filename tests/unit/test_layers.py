"""The dependency rule (DESIGN §2): entrypoints → adapters → domain, never backwards."""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "reasonflow"

Rule = Callable[[str], bool]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> Iterator[str]:
    """Every module ``source`` imports, anywhere in the file, with relative imports resolved."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                assert node.module is not None
                yield node.module
                continue
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            if node.module is None:
                # ``from . import x`` may import submodule x: name each one.
                yield from (".".join([*base, alias.name]) for alias in node.names)
            else:
                yield ".".join([*base, node.module])


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def stdlib_or_domain(name: str) -> bool:
    top = name.partition(".")[0]
    return (
        top == "__future__" or top in sys.stdlib_module_names or within(name, "reasonflow.domain")
    )


def not_within(*packages: str) -> Rule:
    return lambda name: not any(within(name, p) for p in packages)


def violations(source: str, module: str, allowed: Rule, is_package: bool = False) -> list[str]:
    return sorted({m for m in imported_modules(source, module, is_package) if not allowed(m)})


def layer_violations(layer: str, allowed: Rule) -> dict[str, list[str]]:
    found = {}
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        bad = violations(source, module_name(path), allowed, path.name == "__init__.py")
        if bad:
            found[str(path.relative_to(SRC))] = bad
    return found


def test_the_domain_imports_only_the_standard_library_and_itself() -> None:
    assert list((PACKAGE / "domain").glob("*.py")), "no domain modules found"
    assert layer_violations("domain", stdlib_or_domain) == {}


def test_the_domain_imports_no_adapter_or_entrypoint() -> None:
    rule = not_within("reasonflow.adapters", "reasonflow.entrypoints")
    assert layer_violations("domain", rule) == {}


def test_adapters_import_no_entrypoint() -> None:
    assert layer_violations("adapters", not_within("reasonflow.entrypoints")) == {}


def test_the_http_layer_imports_no_adapter() -> None:
    """HTTP speaks to use cases and the composition root, never to an adapter."""
    assert list((PACKAGE / "entrypoints" / "http").glob("*.py")), "no HTTP modules found"
    assert layer_violations("entrypoints/http", not_within("reasonflow.adapters")) == {}


# -- the checker itself ------------------------------------------------------------

BAD_DOMAIN_MODULE = """
from __future__ import annotations
import json, os.path
from typing import TYPE_CHECKING
from reasonflow.domain.model import Email
from . import rules
import sqlalchemy
if TYPE_CHECKING:
    from reasonflow.adapters.sql import emails
def later():
    from ..entrypoints import settings
    import msgspec.json
"""


def test_the_checker_catches_third_party_and_outer_layer_imports_anywhere() -> None:
    assert violations(BAD_DOMAIN_MODULE, "reasonflow.domain.services", stdlib_or_domain) == [
        "msgspec.json",
        "reasonflow.adapters.sql",
        "reasonflow.entrypoints",
        "sqlalchemy",
    ]


@pytest.mark.parametrize(
    ("source", "module", "is_package", "bad"),
    [
        ("from ... import entrypoints", "reasonflow.adapters.sql.emails", False, True),
        ("from ...entrypoints.settings import S", "reasonflow.adapters.sql.emails", False, True),
        ("from ..entrypoints import bootstrap", "reasonflow.adapters", True, True),
        ("from .. import entrypoints", "reasonflow.adapters", True, True),
        ("from ..entrypoints import local", "reasonflow.adapters.llm.client", False, False),
        ("from .. import entrypoints", "reasonflow.adapters.jobs", True, False),
        ("from ..domain import ports", "reasonflow.adapters.jobs", False, False),
        ("import reasonflow.entrypoints.cli", "reasonflow.adapters.jobs.memory", False, True),
        ("from reasonflow.domain import model", "reasonflow.adapters.jobs.memory", False, False),
    ],
)
def test_the_checker_resolves_relative_imports(
    source: str, module: str, is_package: bool, bad: bool
) -> None:
    rule = not_within("reasonflow.entrypoints")
    assert bool(violations(source, module, rule, is_package)) is bad
