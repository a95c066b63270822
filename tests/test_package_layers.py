"""mlpcore is three layers, each installable and importable without the ones above it:

1. the numerics (``pip install mlpcore``: NumPy, matplotlib): the reference MLP a learner reads;
2. the checks (``mlpcore.grading``, ``mlpcore.schema``): compare a learner's function with the
   reference, in a notebook or in the grader;
3. the course tools (``pip install 'mlpcore[course]'``: nbgrader, Jupyter): release, grading,
   feedback, report, the lab and the command line.

A module imports only from its own layer or those below, and no module imports itself back through
others (not even inside a function), so each part can be read, tested and changed on its own.
"""

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mlpcore"

NUMERICS, CHECKS, COURSE = 1, 2, 3
# What the first two layers may import at module level besides the standard library and mlpcore:
# the base install's own dependencies (pyproject.toml's [project] dependencies).
BASE_REQUIREMENTS = {"numpy", "matplotlib", "array_api_compat", "tqdm", "threadpoolctl", "cupy"}


def layer(module: str) -> int:
    parts = module.split(".")
    if parts[1:2] in (["autograde"], ["course"], ["cli"], ["__main__"]):
        return COURSE
    if parts[1:2] in (["grading"], ["schema"]):
        return CHECKS
    return NUMERICS


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "student_jupyter" in path.parts:  # configuration files Jupyter reads, not modules of the package
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = modules()


def imports(module: str, path: Path, top_level_only: bool = False) -> list[tuple[str, int]]:
    """``[(imported module, line), ...]``: mlpcore's modules by their full name, others by their top name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in tree.body if top_level_only else ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            submodules = [f"{name}.{alias.name}" for alias in node.names if f"{name}.{alias.name}" in MODULES]
            found += [(sub, node.lineno) for sub in submodules]
            if len(submodules) < len(node.names):
                found.append((name, node.lineno))
    return [(name if name.split(".")[0] == "mlpcore" else name.split(".")[0], line) for name, line in found]


def test_no_module_imports_from_a_layer_above_its_own():
    upward = [f"{module} (line {line}) imports {name}"
              for module, path in MODULES.items() for name, line in imports(module, path)
              if name in MODULES and layer(name) > layer(module)]
    assert upward == []


def test_the_numerics_and_the_checks_need_only_the_base_install_at_import():
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    foreign = [f"{module} (line {line}) imports {name}"
               for module, path in MODULES.items() if layer(module) < COURSE
               for name, line in imports(module, path, top_level_only=True)
               if not name.startswith("mlpcore") and name not in stdlib | BASE_REQUIREMENTS]
    assert foreign == []


def import_cycles() -> list[list[str]]:
    """The groups of mlpcore's modules that import one another round a cycle (any import, lazy or not)."""
    graph = {module: {name for name, _ in imports(module, path) if name in MODULES} - {module}
             for module, path in MODULES.items()}
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in graph:
        if module not in index:
            visit(module)
    return cycles


def test_no_modules_import_one_another_round_a_cycle():
    assert import_cycles() == []


def test_the_cycle_finder_finds_a_cycle(monkeypatch, tmp_path):
    # The test above must be able to fail: two modules that import each other inside functions.
    (tmp_path / "mlpcore").mkdir()
    (tmp_path / "mlpcore" / "__init__.py").write_text("")
    (tmp_path / "mlpcore" / "a.py").write_text("def f():\n    from . import b\n")
    (tmp_path / "mlpcore" / "b.py").write_text("def g():\n    from .a import f\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "mlpcore")
    monkeypatch.setattr(sys.modules[__name__], "MODULES", modules())
    assert import_cycles() == [["mlpcore.a", "mlpcore.b"]]


BASE_INSTALL_SCRIPT = textwrap.dedent("""
    import importlib.util, subprocess, sys
    import mlpcore, mlpcore.grading
    for tool in ("nbgrader", "jupyter_server", "notebook", "nbval", "pytest"):
        assert importlib.util.find_spec(tool) is None, tool + " came with the base install"
    X, y = mlpcore.data.load_digits()
    model = mlpcore.MLP([64, 32, 10], seed=0)
    model.fit(X[:1200], y[:1200], epochs=20, progress=False)
    accuracy = (model.predict(X[1200:]) == y[1200:]).mean()
    assert accuracy > 0.8, accuracy
    mlpcore.grading.check("relu", lambda Z: Z * (Z > 0))
    run = subprocess.run([sys.executable, "-m", "mlpcore", "grade", "02-forward"], capture_output=True, text=True)
    assert run.returncode == 2 and "pip install 'mlpcore[course]'" in run.stderr, run.stderr
    print("trained to", accuracy)
""")


def test_pip_install_without_extras_trains_and_checks_without_nbgrader_or_jupyter(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              str(ROOT)], capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    run = subprocess.run([str(python), "-c", BASE_INSTALL_SCRIPT], capture_output=True, text=True, cwd=tmp_path,
                         env={**environment, "MPLBACKEND": "Agg"}, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "trained to" in run.stdout


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer(m) < COURSE))
def test_each_numerics_or_checks_module_imports_alone(module):
    # Imported first in a fresh interpreter: no hidden reliance on an import made elsewhere.
    run = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
