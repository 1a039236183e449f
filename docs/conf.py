"""Sphinx configuration for the neuro-sync documentation (`make docs`).

The build never touches the network: intersphinx only uses inventories found on this machine
(see `LOCAL_INVENTORIES`); without them the docs build the same, minus the outside links.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.pycode import ModuleAnalyzer

import neuro_sync

project = "neuro-sync"
author = "neuro-sync developers"
copyright = "2026, neuro-sync developers"
release = neuro_sync.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3

# The docstrings quote names in single backticks: make those cross-references (unresolved
# ones render as code, and do not warn: nitpicky stays off).
default_role = "py:obj"
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
# Show defaults as written (a sentinel default would otherwise render as `<object object>`).
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# `Attributes:` sections as fields of the class, not separate attribute entries that would
# duplicate the dataclass fields autodoc already lists.
napoleon_use_ivar = True

# Offline inventories, from Debian's python3-doc and python-requests-doc when installed.
LOCAL_INVENTORIES = {
    "python": ("https://docs.python.org/3", "/usr/share/doc/python3/html/objects.inv"),
    "requests": (
        "https://requests.readthedocs.io/en/latest",
        "/usr/share/doc/python-requests-doc/html/objects.inv",
    ),
}
intersphinx_mapping = {
    name: (url, inventory)
    for name, (url, inventory) in LOCAL_INVENTORIES.items()
    if Path(inventory).is_file()
}

html_theme = "alabaster"
html_title = f"neuro-sync {release}"
html_static_path = ["_static"]
# Wide code blocks scroll instead of being cut off at the right; the page uses the window's
# width (see _static/neuro-sync.css).
html_css_files = ["neuro-sync.css"]
html_theme_options = {"page_width": "auto", "body_max_width": "none"}

def _data_doc_from_its_module(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """A constant re-exported by `neuro_sync` (a type alias, an enum member) has no docstring
    of its own, and autodoc would show its type's. Use the `#:` comment or the string after
    the assignment in the module that defines it instead, or nothing."""
    if what != "data" or not name.startswith("neuro_sync."):
        return
    short = name.rsplit(".", 1)[1]
    for modname, module in sorted(sys.modules.items()):
        if modname.startswith("neuro_sync.") and getattr(module, short, None) is obj:
            docs = ModuleAnalyzer.for_module(modname).find_attr_docs().get(("", short))
            if docs:
                lines[:] = list(docs)
                return
    lines.clear()


def setup(app: Sphinx) -> None:
    # Before napoleon (priority 500), so the replaced docstring is still parsed as Google style.
    app.connect("autodoc-process-docstring", _data_doc_from_its_module, priority=400)
