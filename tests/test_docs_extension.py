"""The documentation's own extension: sections numpydoc would drop are kept, and a public name
or method without a docstring is found (the build then fails)."""

import sys
import types
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs" / "_ext"))
tinyml_api = pytest.importorskip("tinyml_api")


def test_a_shape_section_moves_into_notes_before_numpydoc_reads_it():
    lines = ["Summary.", "", "Parameters", "----------", "x : int", "", "Shape", "-----",
             "input (N, F) -> output (N, F).", "", "Notes", "-----", "The math."]
    tinyml_api.keep_unknown_sections(None, "class", "X", None, {}, lines)
    assert "Shape" not in [line.strip() for line in lines]
    notes = lines.index("Notes")
    assert lines[notes + 2:notes + 5] == [".. rubric:: Shape", "",
                                          "input (N, F) -> output (N, F)."]
    assert lines[-1] == "The math."


def test_a_shape_section_without_notes_gets_notes():
    lines = ["Summary.", "", "Shape", "-----", "(N, F)."]
    tinyml_api.keep_unknown_sections(None, "class", "X", None, {}, lines)
    assert lines[-6:] == ["Notes", "-----", ".. rubric:: Shape", "", "(N, F).", ""]


def test_undocumented_public_names_and_methods_are_found():
    module = types.ModuleType("tinyml.fake")

    class Documented:
        """Has a docstring."""

        def method(self):
            """So does this."""

        def bare(self):
            pass

        @property
        def value(self):
            return 1

    def bare_function():
        pass

    for obj in (Documented, bare_function):
        obj.__module__ = "tinyml.fake"
    module.Documented, module.bare_function = Documented, bare_function
    module.__all__ = ["Documented", "bare_function"]
    sys.modules["tinyml.fake"] = module
    try:
        _, missing = tinyml_api.module_page("tinyml.fake", "Fake", "a fake module", set())
    finally:
        del sys.modules["tinyml.fake"]
    assert sorted(missing) == ["tinyml.fake.Documented.bare", "tinyml.fake.Documented.value",
                               "tinyml.fake.bare_function"]


def test_every_public_name_of_tinyml_has_a_docstring():
    """What the site's build checks, run here too so a missing docstring fails the suite."""
    missing = []
    for module_name, (title, blurb) in tinyml_api.MODULES.items():
        try:
            __import__(module_name)
        except ImportError:
            continue
        if module_name != "tinyml.layers":
            missing += tinyml_api.module_page(module_name, title, blurb, set())[1]
    assert not missing
