"""The package's shape, checked: imports point one way, and the math never names an array
library. Read from the source with ast, so a new module is checked without being listed."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "tinyml"

# Lower ranks sit below higher ones: a module may import only from its own rank or below.
RANKS = {
    "backend": 0,
    "init": 1, "io": 1, "data": 1,
    "distributed": 1,  # MPI's collectives on host and device buffers; layers and train use it
    "core": 2,
    "layers": 3, "optim": 3, "metrics": 3,
    "losses": 4,  # the fusion and last-layer tables name layer classes
    "callbacks": 5,  # reach the loop only through self.learner: the loop imports them
    "train": 6, "models": 6, "testing": 6,
    "viz": 6,  # host-side pictures: reads nets and layers, never the loop
    "onnx": 6,  # export: runs a net's forward on ndonnx arrays
    "cli": 7,
}
MATH = ("core", "layers", "losses", "optim", "train", "metrics", "init",
        "distributed")  # host buffers through tinyml.backend (host_namespace, host_copy)
ARRAY_LIBRARIES = {"numpy", "cupy", "cupyx", "torch", "array_api_compat", "array_api_strict",
                   "ndonnx", "spox"}


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts != ("__init__",) and parts != ("__main__",):
            yield path, parts


def imports(path, parts):
    """(top-level tinyml part or outside module, line) for each import in `path`."""
    tree = ast.parse(path.read_text())
    package = parts[:-1]  # what a relative import's first dot stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                name = node.module or ""
                if name.split(".")[0] == "tinyml":
                    yield "tinyml", name.split(".")[1] if "." in name else None, node.lineno
                else:
                    yield name.split(".")[0], None, node.lineno
            else:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                target = (*base, *(node.module.split(".") if node.module else ()))
                yield "tinyml", target[0] if target else None, node.lineno


CASES = list(modules())


@pytest.mark.parametrize(("path", "parts"), CASES, ids=["/".join(p) for _, p in CASES])
def test_imports_point_one_way(path, parts):
    own = RANKS[parts[0]]
    for top, part, line in imports(path, parts):
        if top != "tinyml" or part is None or part == parts[0]:
            continue
        assert RANKS[part] <= own, (
            f"tinyml/{'/'.join(parts)}.py:{line} imports tinyml.{part}, which sits above "
            f"tinyml.{parts[0]}"
        )


@pytest.mark.parametrize(("path", "parts"), [c for c in CASES if c[1][0] in MATH],
                         ids=["/".join(p) for _, p in CASES if p[0] in MATH])
def test_the_math_never_names_an_array_library(path, parts):
    named = [(top, line) for top, _, line in imports(path, parts) if top in ARRAY_LIBRARIES]
    assert not named, (f"tinyml/{'/'.join(parts)}.py imports {named}: take the namespace from "
                       "the arrays (tinyml.backend.array_namespace) instead")


def test_every_package_has_a_rank():
    tops = {parts[0] for _, parts in CASES}
    assert tops <= set(RANKS), f"new top-level parts without a rank: {tops - set(RANKS)}"


def test_importing_tinyml_needs_no_optional_extra():
    """The onnx extra (and matplotlib, tensorboardX) load only when a feature is used."""
    import subprocess
    import sys

    optional = ["ndonnx", "spox", "onnx", "onnxruntime"]
    code = ("import sys\n"
            f"for name in {optional!r}:\n"
            "    sys.modules[name] = None  # an import of it fails\n"
            "import tinyml\n"
            "print(tinyml.onnx.export.__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=PACKAGE.parent, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "export", done.stderr


# Concrete layers or losses a loop module may still name, by module: none. A layer says what the
# loop must know of it (Layer.takes_indices, Layer.uses_batch_statistics).
LOOP_NAMES_ALLOWED = {}


def _names_imported_from(path, parts, wanted):
    """(module, name) for each name `path` imports from the tinyml parts in `wanted`."""
    package = parts[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 0:
            target = tuple((node.module or "").split("."))[1:]
            if not (node.module or "").startswith("tinyml."):
                continue
        else:
            base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
            target = (*base, *(node.module.split(".") if node.module else ()))
        if target and target[0] in wanted:
            for alias in node.names:
                yield "tinyml." + ".".join(target), alias.name


def _is_concrete(value):
    """A layer class or a loss function (``(predicted, ground_truth)``) of tinyml's own."""
    import inspect

    from tinyml import Layer
    from tinyml.losses import Loss

    if inspect.isclass(value):
        return issubclass(value, Layer)
    if isinstance(value, Loss):
        return True
    try:
        names = list(inspect.signature(value).parameters)[:2]
    except (TypeError, ValueError):
        return False
    return names == ["predicted", "ground_truth"]


LOOP = [c for c in CASES if c[1][0] in ("train", "callbacks")]


@pytest.mark.parametrize(("path", "parts"), LOOP, ids=["/".join(p) for _, p in LOOP])
def test_the_loop_names_no_concrete_layer_or_loss(path, parts):
    """Which loss needs which last layer is tinyml.losses' table (last_layer, fusions): the
    loop and its callbacks import tables and checks from layers and losses, never a layer
    class or a loss function by name."""
    import importlib

    allowed = LOOP_NAMES_ALLOWED.get(parts, set())
    named = [name for module, name in _names_imported_from(path, parts, {"layers", "losses"})
             if name not in allowed and name != "__all__"
             and _is_concrete(getattr(importlib.import_module(module), name))]
    assert not named, (f"tinyml/{'/'.join(parts)}.py names {named}: put the rule in a table "
                       "of tinyml.losses (last_layer.py, fusions.py) and call it")

def backend_imports(package=PACKAGE):
    """Each module of tinyml.backend -> the modules of tinyml.backend it imports anywhere in its
    file (function bodies too: a deferred import still makes a cycle), packages by their name."""
    def module_name(parts):
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    def exists(parts):
        base = package.joinpath(*parts)
        return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()

    graph = {}
    for path in sorted((package / "backend").rglob("*.py")):
        parts = path.relative_to(package).with_suffix("").parts
        here = parts[:-1]  # the package a relative import's first dot stands for
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = here[:len(here) - (node.level - 1)]
                target = (*base, *(node.module.split(".") if node.module else ()))
                named = [(*target, alias.name) for alias in node.names]
                found = [name for name in named if exists(name)]
                targets.update(".".join(name) for name in found or [target])
        graph[module_name(parts)] = sorted(t for t in targets if t.startswith("backend"))
    return graph


def cycle_in(graph):
    """One import cycle of `graph` as a list of modules, or None."""
    done, path = set(), []

    def visit(node):
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        path.append(node)
        for target in graph.get(node, ()):
            found = visit(target)
            if found:
                return found
        path.pop()
        done.add(node)
        return None

    return next((found for node in graph if (found := visit(node))), None)


def test_the_backend_modules_import_without_a_cycle():
    """Each library's adapter sits below the modules that ask it, so every backend module
    can be imported first, in any order."""
    found = cycle_in(backend_imports())
    assert found is None, f"tinyml.backend has an import cycle: {' -> '.join(found)}"


def test_the_cycle_check_finds_a_cycle():
    assert cycle_in({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert cycle_in({"a": ["b"], "b": [], "c": ["a", "b"]}) is None
