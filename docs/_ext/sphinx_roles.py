"""Griffe extension used by the docs build (mkdocs.yml): Sphinx cross-reference roles in docstrings as code.

The numpydoc docstrings write ``:func:`rnnmem.memory_function``` and ``:meth:`~rnnmem.RNN.replace```, which
Markdown would show literally. This turns each role into inline code (``~`` keeps the last component, as in Sphinx),
leaving the line count unchanged so that docstring warnings keep their line numbers. Nothing is imported from
rnnmem: the API pages are built by static analysis.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|meth|class|attr|mod|data|exc|obj|const|term):`(~?)([^`<]+?)(?:\s*<([^>]+)>)?`")


def _code(match: re.Match) -> str:
    tilde, text, target = match.groups()
    if target:  # :role:`title <target>`
        return f"`{text.strip()}`"
    text = text.strip()
    if tilde:
        text = text.rsplit(".", 1)[-1]
    return f"`{text}`"


def roles_to_code(text: str) -> str:
    """Replace every Sphinx role of ``text`` by inline code."""
    return _ROLE.sub(_code, text)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles in every docstring once the object tree is loaded."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = roles_to_code(obj.docstring.value)
