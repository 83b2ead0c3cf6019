"""Sphinx configuration of tinyml's site: the PyData theme, numpydoc, sphinx-gallery, and a
local copy of MathJax, so the math renders with no network (a reader may be offline)."""

import importlib.util
import os
import shutil
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_ext"))
sys.path.insert(0, os.path.dirname(HERE))  # the tinyml of this checkout, not another one

from figure_scraper import figure_scraper  # noqa: E402

project = "tinyml"
author = "the tinyml developers"
copyright = "2026, the tinyml developers"
release = version = "0.1.0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "sphinx_design",
    "tinyml_api",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "examples/*.py", "examples/README.txt"]
nitpicky = True
nitpick_ignore = [  # outside tinyml, and no intersphinx offline
    ("py:class", "numpy.ndarray"), ("py:class", "collections.abc.Callable"),
    ("py:meth", "str.format"),
    ("py:class", "tinyml.backend._random.HostRandom"),  # a private default in a signature
]
suppress_warnings = ["config.cache"]  # sphinx-gallery's configuration holds functions

# numpydoc: the docstrings are numpydoc already. A public name or method with no docstring
# fails the build: tinyml_api checks them (numpydoc's own validation trips on wrapped __init__s).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()  # tinyml_api checks the public names itself
numpydoc_xref_param_type = False
# tinyml_api moves the sections numpydoc does not know (Shape) into Notes before numpydoc
# parses a docstring; numpydoc still warns when it reads the raw class docstring for a
# signature, with nothing lost.
warnings.filterwarnings("ignore", message="Unknown section", category=UserWarning)

autodoc_member_order = "bysource"
autodoc_default_options = {"undoc-members": False}

# MathJax 3 from the django-static-mathjax package (the docs extra), copied into _static.
_mathjax = importlib.util.find_spec("mathjax")
if _mathjax is None or not _mathjax.submodule_search_locations:
    raise RuntimeError("the docs need a local MathJax: pip install -e \".[docs]\"")
MATHJAX_SOURCE = os.path.join(_mathjax.submodule_search_locations[0], "static", "mathjax", "es5")
MATHJAX_STATIC = os.path.join(HERE, "_build", "mathjax_static")
mathjax_path = "mathjax/tex-chtml.js"
mathjax3_config = {"options": {"enableMenu": False}}


def _copy_mathjax():
    target = os.path.join(MATHJAX_STATIC, "mathjax")
    if not os.path.exists(os.path.join(target, "tex-chtml.js")):
        shutil.copytree(MATHJAX_SOURCE, target, dirs_exist_ok=True)
    return MATHJAX_STATIC


html_theme = "pydata_sphinx_theme"
html_static_path = ["_static", _copy_mathjax()]
html_css_files = ["tinyml.css"]
html_title = "tinyml"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "navbar_end": ["navbar-icon-links"],
}
html_sidebars = {"index": []}
html_show_sourcelink = False

intersphinx_mapping = {}  # no network at build time

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_signature": False,
    "image_scrapers": (figure_scraper,),
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "reset_modules": ("matplotlib",),
}

doctest_global_setup = """
import importlib.util
import os
import tempfile

import numpy as np
import tinyml
tinyml.set_backend("numpy")
tinyml.seed(0)
# A page's blocks that need an extra skip without it (``:skipif: onnx_missing``); CI builds the
# site where the test command installed every extra, so they run there.
onnx_missing = any(importlib.util.find_spec(name) is None for name in ("ndonnx", "onnxruntime"))
"""

myst_heading_anchors = 3
