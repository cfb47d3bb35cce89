"""The API reference (docs/reference/*.md, rendered from the docstrings by mkdocstrings at every docs
build) covers the public API, and the site's navigation lists every algorithm and policy kind: a new
public name, algorithm or policy class without its entry fails here, not silently on the site.

The rendering itself (every ``:::`` entry found, every docstring parsed, every link valid) is checked
by ``mkdocs build --strict`` in ``make test``; this module checks what the pages must contain.
"""

import importlib
import inspect
import pathlib
import pkgutil
import re
import typing
from typing import Any

import pytest
import yaml
from stable_baselines3.common.base_class import BaseAlgorithm

import sb3_inril
from sb3_inril.common.inril import InRILMixin

ROOT = pathlib.Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"
FIELD_START = r"^\s*:(?=(?:param|parameter|arg|key|keyword|type|raises?|except|returns?|rtype|var|ivar|cvar|yields?)\b)"
DIRECTIVE = re.compile(r"^:::[ \t]+(?P<identifier>[\w.]+)[ \t]*$", re.MULTILINE)


def resolve(identifier: str) -> Any:
    """The object an mkdocstrings identifier names: the longest importable module, then attributes."""
    parts = identifier.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(identifier)


def reference_entries() -> dict[str, list[str]]:
    """Each reference page (relative to docs/) and the identifiers it renders."""
    return {
        f"reference/{page.name}": DIRECTIVE.findall(page.read_text(encoding="utf-8"))
        for page in sorted(REFERENCE.glob("*.md"))
    }


def documented_objects() -> dict[int, str]:
    """id() of every object the reference renders, with the page that renders it."""
    return {id(resolve(identifier)): page for page, identifiers in reference_entries().items() for identifier in identifiers}


def nav_pages() -> list[str]:
    def walk(node: Any) -> Any:
        if isinstance(node, str):
            yield node
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                yield from walk(value)

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    return list(walk(config["nav"]))


def package_modules() -> list[Any]:
    """Every module of the package (``__main__`` runs a program: left out)."""
    modules = [sb3_inril]
    for info in pkgutil.walk_packages(sb3_inril.__path__, prefix="sb3_inril."):
        if not info.name.endswith("__main__"):
            modules.append(importlib.import_module(info.name))
    return modules


def algorithm_classes() -> list[type]:
    """Every IN-RIL algorithm the package defines (the mixins themselves are no algorithm)."""
    found = {
        obj
        for module in package_modules()
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, InRILMixin) and issubclass(obj, BaseAlgorithm) and obj.__module__.startswith("sb3_inril.")
    }
    return sorted(found, key=lambda cls: cls.__name__)


ALGORITHMS = algorithm_classes()


def test_every_entry_resolves_and_every_page_is_in_the_nav():
    entries = reference_entries()
    assert entries, "no reference page"
    for identifiers in entries.values():
        for identifier in identifiers:
            resolve(identifier)  # raises on a name that no longer exists
    missing = sorted(set(entries) - set(nav_pages()))
    assert not missing, f"reference pages outside mkdocs.yml's nav: {missing}"


def test_the_algorithms_are_found():
    names = {cls.__name__ for cls in ALGORITHMS}
    assert {"InRILPPO", "InRILA2C", "InRILSAC", "InRILTD3", "InRILTQC"} <= names


@pytest.mark.parametrize("name", [name for name in sb3_inril.__all__ if not name.startswith("__")])
def test_reference_covers_every_public_name(name):
    assert id(getattr(sb3_inril, name)) in documented_objects(), (
        f"sb3_inril.{name} is public (__all__) but no docs/reference/*.md page renders it (add '::: sb3_inril.{name}')"
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda cls: cls.__name__)
def test_every_algorithm_has_a_reference_entry_and_a_page_in_the_nav(algorithm):
    assert id(algorithm) in documented_objects(), f"{algorithm.__name__} has no entry in docs/reference/"
    page = f"modules/{algorithm.__module__.rsplit('.', 1)[-1]}.md"  # sb3_inril.ppo.inril_ppo -> modules/inril_ppo.md
    assert (ROOT / "docs" / page).is_file(), f"{algorithm.__name__}: no page docs/{page}"
    assert page in nav_pages(), f"{algorithm.__name__}: docs/{page} is not in mkdocs.yml's nav"


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda cls: cls.__name__)
def test_every_policy_kind_is_documented(algorithm):
    """Each policy alias an algorithm accepts is named in the support table, and the package's own
    policy classes (residual, diffusion) are rendered on a reference page of the nav."""
    support_table = (ROOT / "docs" / "algorithms.md").read_text(encoding="utf-8")
    documented = documented_objects()
    for alias, policy in algorithm.policy_aliases.items():
        assert f"`{alias}`" in support_table, f"{algorithm.__name__}'s policy {alias!r} is not in docs/algorithms.md"
        if policy.__module__.startswith("sb3_inril."):
            assert id(policy) in documented, f"{algorithm.__name__}'s {alias} ({policy.__qualname__}) has no reference entry"


def documented_parameters(docstring: str) -> dict[str, str]:
    """``:param name: text`` fields of a Sphinx-style docstring, with their (joined) text."""
    # A field starts a line with its keyword (a continuation line may start with a role, ":class:`...`").
    fields = re.split(FIELD_START, inspect.cleandoc(docstring), flags=re.MULTILINE)
    params = {}
    for field in fields:
        match = re.match(r"param (?:[^:]*\s)?(?P<name>\w+):(?P<text>.*)", field, re.DOTALL)
        if match:
            params[match["name"]] = " ".join(match["text"].split())
    return params


def test_the_inril_arguments_are_all_documented():
    """The ``InRILMixin`` docstring is the reference's (and every page's) source for the IN-RIL
    arguments: every argument of the constructor is documented there, nothing else is, and every value
    a ``Literal`` argument takes is named (the hand-written tables it replaces missed
    ``il_trains_shared_features`` and ``"denoising"``)."""
    signature = inspect.signature(InRILMixin.__init__)
    arguments = [
        name
        for name, parameter in signature.parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and not name.startswith("_")
    ]
    documented = documented_parameters(InRILMixin.__doc__ or "")
    assert sorted(set(arguments) - set(documented)) == [], "IN-RIL arguments missing from InRILMixin's docstring"
    assert sorted(set(documented) - set(arguments) - {"kwargs"}) == [], "documented arguments InRILMixin does not take"
    for name in arguments:
        annotation = signature.parameters[name].annotation  # the objects themselves: the module does not postpone them
        literals = [
            value for arg in _flatten(annotation) if typing.get_origin(arg) is typing.Literal for value in typing.get_args(arg)
        ]
        for value in literals:
            assert f'"{value}"' in documented[name], f"{name}: the value {value!r} is not named in its docstring"


def _flatten(annotation: Any) -> list[Any]:
    """The members of a union annotation (``A | B | None``), or the annotation itself."""
    if typing.get_origin(annotation) is typing.Literal:
        return [annotation]
    args = typing.get_args(annotation)
    return [member for arg in args for member in _flatten(arg)] if args else [annotation]


def test_parameter_parsing():
    doc = """
    Summary.

    :param alpha: first line
        second line
    :param int beta: one line, then
        :class:`a role` on the next
    :return: nothing
    """
    assert documented_parameters(doc) == {
        "alpha": "first line second line",
        "beta": "one line, then :class:`a role` on the next",
    }
