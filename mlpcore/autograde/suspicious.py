"""Code in a submission that reaches into the grader instead of doing the exercise.

An exercise needs NumPy and arithmetic. It never needs the interpreter's frames or garbage
collector, another function's closure or code object, tracing hooks, IPython's input and exception
hooks, ctypes, ``exec`` of built strings, or mlpcore's private modules (the guard that stops the
reference answers, the grading package's helpers). Some of that cannot be prevented from inside
the learner's kernel, so it is *flagged*: the submission gets the status ``suspicious``, with the
cell and line, for the instructor to judge. Nothing is removed or scored by this module.

Only the learner's code is read: answer cells and cells the learner added, not the course's own
cells (a starter cell that imports ``check`` from ``mlpcore.grading`` is the course's).
"""

from __future__ import annotations

import ast

# Attribute and function names that only code reaching into the interpreter or the grader uses.
REACHING_ATTRIBUTES = {
    "_getframe": "reads the interpreter's call frames", "f_back": "walks call frames",
    "f_locals": "reads another frame's variables", "f_globals": "reads another frame's globals",
    "tb_frame": "walks a traceback's frames", "tb_next": "walks a traceback's frames",
    "__closure__": "reads a function's closure", "__code__": "reads or replaces a function's code",
    "__globals__": "reads a function's globals", "__wrapped__": "unwraps a wrapped function",
    "settrace": "installs a tracing hook", "setprofile": "installs a profiling hook",
    "get_objects": "searches the garbage collector", "get_referrers": "searches the garbage collector",
    "get_referents": "searches the garbage collector",
    "input_transformers_post": "rewrites every cell through IPython", "input_transformers_cleanup": "rewrites every cell through IPython",
    "ast_transformers": "rewrites every cell through IPython", "showtraceback": "replaces IPython's error display",
    "set_custom_exc": "replaces IPython's error handling", "_render_traceback_": "replaces how errors are shown",
    "_learner_depth": "changes the reference's guard", "getsource": "reads a function's source",
    "reload": "reloads a module", "__array_ufunc__": "overrides NumPy's operations",
    "__array_function__": "overrides NumPy's functions", "FunctionType": "builds a function from code",
    "CodeType": "builds code objects", "modules": "reads or replaces loaded modules",
    "addaudithook": "installs an audit hook",
}
# Modules an exercise never imports.
REACHING_MODULES = {
    "ctypes": "calls C directly", "gc": "searches the garbage collector", "inspect": "inspects live objects",
    "importlib": "re-imports modules", "mlpcore.guard": "imports the reference's guard",
    "mlpcore.grading": "imports the grading package", "mlpcore.autograde": "imports the grader",
    "builtins": "changes Python's built-in names",
}
# The grading package's one public name, imported by the course's own cells.
ALLOWED_IMPORTS = {("mlpcore.grading", "check"), ("mlpcore.grading", "check_classifier")}
REACHING_CALLS = {"exec": "runs code built as a string", "eval": "evaluates code built as a string",
                  "compile": "compiles code built as a string", "__import__": "imports by name at run time"}


def _reasons(tree: ast.AST):
    """``(line number, why)`` for each reaching construct in a parsed cell."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in REACHING_ATTRIBUTES:
            yield node.lineno, REACHING_ATTRIBUTES[node.attr]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in REACHING_ATTRIBUTES:
            yield node.lineno, REACHING_ATTRIBUTES[node.name]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in REACHING_CALLS:
            yield node.lineno, REACHING_CALLS[node.func.id]
        elif isinstance(node, ast.Name) and node.id == "__builtins__":
            yield node.lineno, REACHING_MODULES["builtins"]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                why = _module_reason(alias.name)
                if why:
                    yield node.lineno, why
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [alias.name for alias in node.names]
            if all((node.module, name) in ALLOWED_IMPORTS for name in names):
                continue
            why = _module_reason(node.module) or next(
                (_module_reason(f"{node.module}.{name}") for name in names if _module_reason(f"{node.module}.{name}")), None)
            if why:
                yield node.lineno, why


def _module_reason(module: str) -> str | None:
    for name, why in REACHING_MODULES.items():
        if module == name or module.startswith(name + "."):
            return why
    return None


def find_reaching_code(notebook, release, limit: int = 5) -> list[str]:
    """Where the learner's cells of ``notebook`` reach into the grader: ``["cell relu line 3:
    sys._getframe(1) (reads the interpreter's call frames)", ...]``, at most ``limit``."""
    from IPython.core.inputtransformer2 import TransformerManager
    from nbgrader.utils import is_locked

    course_sources = {cell.source for cell in release.cells if cell.cell_type == "code"}
    locked = {cell.metadata["nbgrader"]["grade_id"] for cell in release.cells if is_locked(cell)}
    transform = TransformerManager().transform_cell
    found = []
    for index, cell in enumerate(notebook.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or grade_id in locked or cell.source in course_sources:
            continue
        try:
            tree = ast.parse(transform(cell.source))
        except SyntaxError:
            continue  # it fails when it runs
        lines = cell.source.splitlines()
        where = f"cell {grade_id}" if grade_id else f"cell {index + 1} (one of your own)"
        for line, why in sorted(set(_reasons(tree))):
            code = lines[line - 1].strip() if line <= len(lines) else ""
            found.append(f"{where} line {line}: {code[:100]} ({why})")
            if len(found) >= limit:
                return found
    return found
