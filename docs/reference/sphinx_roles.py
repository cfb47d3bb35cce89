"""A Griffe extension for the API reference: the package's docstrings are Sphinx-style. Their
attributes documented by ``#:`` comments get those comments as docstrings, and their
cross-reference roles (``:class:`Demonstrations```, ``:meth:`il_step```, ``:func:`~sb3_inril.load_demonstrations```)
become links to the reference pages.

mkdocstrings' Sphinx docstring parser reads the ``:param ...:`` fields but leaves inline roles as text.
Each role is resolved in the scope of the object whose docstring holds it (a bare method name in a
class docstring is that class's method; a name imported into the module is its origin) and written as an
*optional* autorefs link: a target that the reference renders becomes a link, any other (a private
helper, a module the reference leaves out) stays code, without a warning. Loaded by mkdocs.yml
(``plugins: mkdocstrings: handlers: python: options: extensions``); not part of the site
(``exclude_docs``).
"""

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|data|obj|exc|const|type):`(?P<tilde>~?)(?P<target>[\w.]+)(?:\(\))?`")


def resolve(obj: griffe.Object, target: str) -> str:
    """The full path of ``target`` as written in ``obj``'s docstring (unchanged when it can not be resolved)."""
    head, _, rest = target.partition(".")
    scopes = [obj] if obj.is_class or obj.is_module else []
    if obj.parent is not None:
        scopes.append(obj.parent)
    for scope in scopes:
        try:
            path = scope.resolve(head)
        except (griffe.NameResolutionError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            continue
        return f"{path}.{rest}" if rest else path
    return target


def link(obj: griffe.Object, match: re.Match[str]) -> str:
    target = match["target"]
    shown = target.rsplit(".", 1)[-1] if match["tilde"] else target
    return f'<autoref identifier="{resolve(obj, target)}" optional><code>{shown}</code></autoref>'


def attribute_comment(obj: griffe.Object) -> str:
    """The ``#:`` comment lines right above an attribute (Sphinx's attribute documentation), joined."""
    if obj.lineno is None or obj.filepath is None or isinstance(obj.filepath, list):
        return ""
    lines = obj.lines_collection[obj.filepath]
    comment: list[str] = []
    index = obj.lineno - 2  # the line above the attribute's first line (lineno counts from 1)
    while index >= 0 and lines[index].strip().startswith("#:"):
        comment.insert(0, lines[index].strip()[2:].strip())
        index -= 1
    return " ".join(comment)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx cross-reference roles into optional autorefs links, in every docstring of a package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        # Once the whole package is loaded: a class docstring names methods defined below it.
        self.rewrite(pkg)

    def rewrite(self, obj: griffe.Object) -> None:
        if obj.docstring is None and obj.is_attribute:
            comment = attribute_comment(obj)
            if comment:
                obj.docstring = griffe.Docstring(comment, lineno=obj.lineno, parent=obj)
        if obj.docstring is not None and ":`" in obj.docstring.value:
            obj.docstring.value = ROLE.sub(lambda match: link(obj, match), obj.docstring.value)
        for member in obj.members.values():
            if not member.is_alias:
                self.rewrite(member)  # type: ignore[arg-type]  # not an alias: an Object
