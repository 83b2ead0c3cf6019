"""The API reference, generated from tinyml's own ``__all__`` lists when the site is built.

Each public module gets a page listing every name it exports (``autoclass`` /
``autofunction`` / ``autodata``); ``tinyml.layers`` gets one page per layer family, the
family being the module that defines the class (``tinyml.layers.conv``), so a new layer
file is a new page with nothing to edit here. A public name without a docstring stops the
build, and so does a public method or property of an exported class with none (inherited
docstrings count, as autodoc shows them): the reference would have nothing to say about it.
With ``nitpicky`` on (docs/conf.py), a cross-reference to nothing fails it too; the internals
page documents the private modules that public docstrings name, so those references resolve.

Layer docstrings have a ``Shape`` section (as PyTorch's), which numpydoc does not know and
would drop: :func:`keep_unknown_sections` turns it into a rubric at the top of ``Notes``
before numpydoc parses the docstring.
"""

import importlib
import importlib.util
import inspect
import os
import re

from sphinx.errors import ExtensionError

# module -> (page title, one-line description); the order of the API index.
MODULES = {
    "tinyml": ("tinyml", "the top-level API: nets, learners, backends, saving and loading"),
    "tinyml.layers": ("Layers", "every layer, one page per family, with its math"),
    "tinyml.losses": ("Losses", "loss functions, each returning (loss, gradient)"),
    "tinyml.optim": ("Optimizers and schedules", "optimizers, learning-rate schedules, "
                                                 "gradient clipping"),
    "tinyml.optim.schedules": ("Learning-rate schedules", "what sets an optimizer's rate "
                                                          "before each step"),
    "tinyml.callbacks": ("Callbacks", "what fit calls at each event"),
    "tinyml.metrics": ("Metrics", "accuracy, precision, recall, F1, confusion matrices"),
    "tinyml.data": ("Data", "digits, IDX files, Fashion-MNIST, the DataLoader"),
    "tinyml.viz": ("Pictures", "training curves, filters, feature maps, confusion matrices"),
    "tinyml.io": ("Files", "the .npz format: atomic saves, checked loads"),
    "tinyml.init": ("Initializers", "weight initializers by name"),
    "tinyml.models": ("Models", "small ready-made nets"),
    "tinyml.backend": ("Backends", "NumPy, CuPy, PyTorch, array_api_strict: the shim"),
    "tinyml.backend.adapters": ("Array libraries", "one adapter per library: what tinyml "
                                                   "knows about it"),
    "tinyml.testing": ("Testing", "check_layer and the gradient checks, for your own layers"),
    "tinyml.distributed": ("More than one process", "data-parallel training over MPI"),
    "tinyml.onnx": ("ONNX export", "a trained net as an ONNX file"),
}
GENERATED = "api/generated"


def public_names(module):
    """The names `module` exports: its ``__all__``, else its public functions and classes
    defined in it."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [name for name, value in vars(module).items()
            if not name.startswith("_") and (inspect.isfunction(value) or inspect.isclass(value))
            and getattr(value, "__module__", None) == module.__name__]


def directive(module_name, name, value, documented):
    """The autodoc directive that documents `value`, exported as `module_name.name`; an object
    documented on an earlier page (a re-export) gets ``:no-index:``, so links go to the first."""
    target = f"{module_name}.{name}"
    again = "   :no-index:\n" if id(value) in documented else ""
    if not isinstance(value, (int, float, str, bool)):
        documented.add(id(value))
    if inspect.isclass(value):
        # a class assembled from parts, one file per job (the Optimizer), shows their members
        inherited = "   :inherited-members:\n" if vars(value).get("_api_inherited_members") else ""
        return f".. autoclass:: {target}\n   :members:\n{inherited}{again}"
    if callable(value):
        return f".. autofunction:: {target}\n{again}"
    return f".. autodata:: {target}\n   :annotation:\n{again}"


def undocumented(value):
    if inspect.ismodule(value) or not (callable(value) or inspect.isclass(value)):
        return False
    return not (inspect.getdoc(value) or "").strip()


def undocumented_members(cls, qualified):
    """The public methods and properties of tinyml class `cls` (inherited ones included) that
    have no docstring, even inherited from a base (autodoc shows the base's)."""
    missing = []
    fields = getattr(cls, "__dataclass_fields__", {})
    for name in dir(cls):
        if name.startswith("_") or name in fields:
            continue
        owner = next((c for c in cls.__mro__ if name in vars(c)), None)
        if owner is None or not owner.__module__.startswith("tinyml"):
            continue
        raw = vars(owner)[name]
        if isinstance(raw, property):
            docs = [vars(c)[name].__doc__ for c in cls.__mro__
                    if isinstance(vars(c).get(name), property)]
            documented = any((doc or "").strip() for doc in docs)
        elif inspect.isfunction(raw) or isinstance(raw, (staticmethod, classmethod)):
            documented = bool((inspect.getdoc(getattr(cls, name)) or "").strip())
        else:
            continue
        if not documented:
            missing.append(f"{qualified}.{name}")
    return missing


def underline(title, char="="):
    return f"{title}\n{char * len(title)}\n"


def module_page(module_name, title, blurb, documented):
    module = importlib.import_module(module_name)
    lines = [underline(title), f".. module:: {module_name}\n", f"{blurb.capitalize()}.\n"]
    summary = (inspect.getdoc(module) or "").split("\n\n")[0]
    if summary:
        lines.append(summary + "\n")
    missing = []
    for name in public_names(module):
        value = getattr(module, name)
        if inspect.ismodule(value):
            continue
        if undocumented(value):
            missing.append(f"{module_name}.{name}")
        if inspect.isclass(value):
            missing += undocumented_members(value, f"{module_name}.{name}")
        lines.append(directive(module_name, name, value, documented))
    return "\n".join(lines), missing


def layer_family_pages():
    """{family module: [class names]} of tinyml.layers' exports, in export order."""
    layers = importlib.import_module("tinyml.layers")
    families = {}
    for name in layers.__all__:
        value = getattr(layers, name)
        if inspect.isclass(value) and value.__module__.startswith("tinyml.layers."):
            families.setdefault(value.__module__, []).append(name)
    return families


def family_summary(module_name):
    """The first line of the family module's docstring (what the family is)."""
    module = importlib.import_module(module_name)
    return (inspect.getdoc(module) or module_name).split("\n\n")[0].replace("\n", " ")


# What every layer has (documented once, on tinyml.Layer): left out of each layer's entry.
LAYER_CONTRACT = {"forward", "backward", "output_shape", "declared_input_shape", "build",
                  "built"}


def internal_modules(documented_modules):
    """The modules of tinyml that docstrings name with :mod: but that no page documents
    (fusions, the recurrence steps, ...): the internals page documents them, so every such
    reference resolves and ``nitpicky`` can hold the rest."""
    package = os.path.dirname(importlib.import_module("tinyml").__file__)
    named = set()
    for folder, _, files in os.walk(package):
        for file in files:
            if file.endswith(".py"):
                with open(os.path.join(folder, file), encoding="utf-8") as handle:
                    named.update(re.findall(r":mod:`~?(tinyml(?:\.\w+)+)`", handle.read()))
    return sorted(name for name in named if name not in documented_modules
                  and importlib.util.find_spec(name) is not None)


def internals_page(out, documented_modules):
    """A page of the internal modules other pages refer to, each with its docstring and the
    documented functions it defines (internals are not public API: a function without a
    docstring is left out rather than refused)."""
    lines = [underline("Internals"),
             "Modules of tinyml that the reference mentions but that are not part of the "
             "public API: read them as the textbook's appendix.\n"]
    missing = []
    for name in internal_modules(documented_modules):
        lines.append(f".. automodule:: {name}\n   :members:\n   :ignore-module-all:\n")
    write(os.path.join(out, "internals.rst"), "\n".join(lines))
    return missing


def layers_pages(out):
    """The layers index page and one page per family; returns the undocumented names."""
    families, entries = layer_family_pages(), []
    missing = undocumented_members(importlib.import_module("tinyml.core").Layer,
                                   "tinyml.layers.Layer")
    for module_name, names in families.items():
        slug = module_name.rsplit(".", 1)[1].strip("_")
        layers = importlib.import_module("tinyml.layers")
        unique = list(dict.fromkeys(getattr(layers, name) for name in names))  # aliases once
        title = ", ".join(cls.__name__ for cls in unique)
        lines = [underline(title), f".. module:: {module_name}\n",
                 family_summary(module_name) + "\n",
                 f"Defined in ``{module_name}``; import from ``tinyml.layers``.\n"]
        for value in unique:
            name = value.__name__
            if undocumented(value):
                missing.append(f"tinyml.layers.{name}")
            missing += [member for member in undocumented_members(value, f"tinyml.layers.{name}")
                        if member.rsplit(".", 1)[1] not in LAYER_CONTRACT]
            lines.append(f".. autoclass:: tinyml.layers.{name}\n   :members:\n"
                         f"   :exclude-members: {', '.join(sorted(LAYER_CONTRACT))}\n")
        write(os.path.join(out, f"layers.{slug}.rst"), "\n".join(lines))
        entries.append(f"layers.{slug}")
    layer_module = importlib.import_module("tinyml.layers")
    index = [underline("Layers"), ".. module:: tinyml.layers\n",
             (inspect.getdoc(layer_module) or "") + "\n",
             "Every layer derives from :class:`tinyml.Layer`, whose page says how to write "
             "one (:meth:`~tinyml.Layer.save_for_backward`, :meth:`~tinyml.Layer.saved`).\n",
             ".. toctree::\n   :maxdepth: 1\n\n" + "\n".join(f"   {e}" for e in entries) + "\n"]
    write(os.path.join(out, "layers.rst"), "\n".join(index))
    return missing


_WRITTEN = set()  # the pages this build generated; any other .rst in GENERATED is stale


def write(path, text):
    """Write only when the text changes, so Sphinx rebuilds only what changed."""
    _WRITTEN.add(os.path.abspath(path))
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def generate(app):
    out = os.path.join(app.srcdir, GENERATED)
    os.makedirs(out, exist_ok=True)
    _WRITTEN.clear()
    missing, pages, documented = [], [], set()
    for module_name, (title, blurb) in MODULES.items():
        try:
            importlib.import_module(module_name)
        except ImportError:  # a module that has not landed yet
            continue
        slug = module_name.replace("tinyml.", "") if module_name != "tinyml" else "tinyml"
        if module_name == "tinyml.layers":
            missing += layers_pages(out)
        else:
            text, lacking = module_page(module_name, title, blurb, documented)
            missing += lacking
            write(os.path.join(out, f"{slug}.rst"), text)
        pages.append((slug, title, blurb))
    documented_modules = {*MODULES, *layer_family_pages()}
    missing += internals_page(out, documented_modules)
    pages.append(("internals", "Internals", "modules the reference mentions"))
    index = [underline("API reference"),
             "Generated from the docstrings of every public name. Layers give their forward "
             "and backward math.\n",
             ".. toctree::\n   :maxdepth: 2\n\n" + "\n".join(f"   {slug}" for slug, _, _ in pages)
             + "\n"]
    write(os.path.join(out, "index.rst"), "\n".join(index))
    remove_stale_pages(out)
    if missing:
        raise ExtensionError("public names without a docstring (the API reference would be "
                             "empty for them): " + ", ".join(missing))


def remove_stale_pages(out):
    """Delete the pages of modules that are gone (a renamed module's old page would otherwise
    stay outside every toctree and duplicate the new page's objects)."""
    for name in os.listdir(out):
        path = os.path.abspath(os.path.join(out, name))
        if name.endswith(".rst") and path not in _WRITTEN:
            os.remove(path)


# The sections numpydoc knows; it drops any other (tinyml's layers have "Shape", as PyTorch's).
KNOWN_SECTIONS = {"Parameters", "Returns", "Yields", "Receives", "Raises", "Warns",
                  "Other Parameters", "Attributes", "Methods", "See Also", "Notes", "Warnings",
                  "References", "Examples"}


def keep_unknown_sections(app, what, name, obj, options, lines):
    """Move each section numpydoc does not know (``Shape``) to a rubric at the top of
    ``Notes``, where numpydoc keeps free text, before numpydoc parses the docstring."""
    headers = [i for i in range(len(lines) - 1)
               if lines[i].strip() and set(lines[i + 1].strip()) == {"-"}
               and len(lines[i + 1].strip()) >= 3 and _indent(lines[i]) == 0]
    unknown = [i for i in headers if lines[i].strip() not in KNOWN_SECTIONS]
    moved = []
    for start in reversed(unknown):
        end = next((i for i in headers if i > start), len(lines))
        moved[:0] = [f".. rubric:: {lines[start].strip()}", "", *lines[start + 2:end], ""]
        del lines[start:end]
    if not moved:
        return
    notes = [i for i in range(len(lines) - 1)
             if lines[i].strip() == "Notes" and set(lines[i + 1].strip()) == {"-"}]
    if notes:
        lines[notes[0] + 2:notes[0] + 2] = moved
    else:
        lines += ["", "Notes", "-----", *moved]


def _indent(line):
    return len(line) - len(line.lstrip())


def setup(app):
    app.connect("builder-inited", generate)
    app.connect("autodoc-process-docstring", keep_unknown_sections, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
