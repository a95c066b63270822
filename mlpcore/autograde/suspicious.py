"""Code in a submission that reaches into the grader instead of doing the exercise.

An exercise needs NumPy and arithmetic. It never needs the interpreter's frames or garbage
collector, another function's closure or code object, tracing hooks, IPython's input and exception
hooks, ctypes, ``exec`` of built strings, mlpcore's private modules (the guard that stops the
reference answers, the grading package's helpers), attribute names computed at run time, another
copy of mlpcore (copied files, ``sys.path``, importlib), or another process (which imports an
unguarded mlpcore of its own). Some of that cannot be prevented from inside the learner's kernel, so
it is *flagged*: the submission gets the status ``suspicious``, with the cell or file and the line,
for the instructor to judge. Nothing is removed or scored by this module.

Only the learner's code is read: answer cells and cells the learner added, not the course's own
cells (a starter cell that imports ``check`` from ``mlpcore.grading`` is the course's), and every
Python file the submission brings (a helper the notebook imports runs in the same kernel).

The rules are names and shapes of code, read without running it, so each one is chosen to be
something no exercise of the course needs: tests/test_suspicious.py keeps every solution notebook
(every cell of it), every variant of the submission bank and the usual cells around the exercises
(timing, threads, plots, files of data) unflagged.
"""

from __future__ import annotations

import ast
import fnmatch
import io
import os
import re
import sys
import tokenize
from pathlib import Path

# ------------------------------------------------------------------ what reaches, and why

# Attribute and function names that only code reaching into the interpreter or the grader uses
# (defining one, such as __array_ufunc__, is flagged too).
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
# Attribute names that reach, on whatever object they are read (a module is reached under many names).
_STARTS_A_PROCESS = "starts a process, which can import an unguarded mlpcore of its own"
_RUNS_A_STRING = "runs code built as a string"
ATTRIBUTES_ON_ANYTHING = {
    **REACHING_ATTRIBUTES,
    # The reference's guard, however its module was reached.
    "guard": "reaches the reference's guard", "refusals": "changes the reference's guard",
    "learner_code": "changes the reference's guard",
    # Names looked up by name: the lookups a scan cannot follow.
    "__dict__": "reads or changes an object's attributes by name",
    "__getattribute__": "looks attributes up by name", "__setattr__": "sets attributes by name",
    "__delattr__": "deletes attributes by name", "__builtins__": "changes Python's built-in names",
    "__self__": "reaches a built-in function's module", "__subclasses__": "searches every class there is",
    "__import__": "imports by name at run time",
    **dict.fromkeys(["user_ns", "user_global_ns"], "reads or changes the notebook's names by name"),
    # Where a module's files are: the way to a copy of mlpcore.
    **dict.fromkeys(["__file__", "__path__", "__spec__", "__loader__", "__cached__"], "finds a module's files"),
    **dict.fromkeys(["meta_path", "path_hooks", "path_importer_cache"], "changes how Python imports"),
    # Another process.
    **dict.fromkeys(["fork", "forkpty", "posix_spawn", "posix_spawnp", "system", "popen", "Popen",
                     "execl", "execle", "execlp", "execlpe", "execv", "execve", "execvp", "execvpe",
                     "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe",
                     "getoutput", "getstatusoutput", "system_raw", "system_piped", "ProcessPoolExecutor",
                     "create_subprocess_exec", "create_subprocess_shell"], _STARTS_A_PROCESS),
    # IPython's ways to run a string as a cell, and its magics by name.
    **dict.fromkeys(["run_cell", "run_cell_async", "run_code", "run_ast_nodes", "runcode", "ex", "ev",
                     "safe_execfile", "safe_execfile_ipy", "safe_run_module"], _RUNS_A_STRING + " through IPython"),
    **dict.fromkeys(["magics_manager", "alias_manager", "register_magic_function"], "reaches IPython's magics"),
}

# Modules and names, dotted, that an exercise never imports or touches: matched against every import,
# every name an attribute chain spells (``os.fork``, ``sys.path.insert``, ``shutil.copytree``) and
# every tail of it (``something.sys.path``), as glob patterns; a pattern also covers what is below it.
REACHING_MODULES = {
    "ctypes": "calls C directly", "gc": "searches the garbage collector", "inspect": "inspects live objects",
    "importlib": "re-imports modules", "mlpcore.guard": "reaches the reference's guard",
    "mlpcore.grading": "reaches into the grading package", "mlpcore.autograde": "reaches into the grader",
    "builtins": "changes Python's built-in names",
    # Another copy of mlpcore: code loaded from files, copied files, where Python finds modules.
    **dict.fromkeys(["runpy", "zipimport", "pkgutil", "pkg_resources", "importlib_metadata", "importlib_resources",
                     "imp", "modulefinder", "pydoc", "code", "codeop", "unittest.mock", "mock"],
                    "imports or runs modules by name"),
    "doctest": "runs code written in docstrings",
    "shutil.copy*": "copies files (a copy of mlpcore?)",
    **dict.fromkeys(["sys.path", "site", "sysconfig"], "reads or changes where Python finds modules"),
    **dict.fromkeys(["sys.prefix", "sys.exec_prefix", "sys.base_prefix", "sys.base_exec_prefix", "sys.executable"],
                    "finds where Python and its packages are installed"),
    # Unpickling calls whatever the pickle names (setattr on the guard, say).
    **dict.fromkeys(["pickle.load*", "pickle.Unpickler", "cloudpickle.load*", "dill", "marshal", "shelve", "copyreg"],
                    "unpickles data, which can call any function"),
    # Another process.
    **dict.fromkeys(["subprocess", "multiprocessing", "concurrent.futures.process", "pty", "posix", "nt", "os.fork*",
                     "os.spawn*", "os.exec*", "os.system", "os.popen", "os.posix_spawn*", "asyncio.subprocess",
                     "asyncio.create_subprocess*", "pexpect", "ptyprocess", "terminado", "psutil", "sh", "plumbum",
                     "dask", "distributed", "loky", "joblib", "jupyter_client", "nbclient", "nbconvert", "papermill",
                     "ipyparallel", "webbrowser", "IPython.utils.process", "IPython.utils._process*", "mlpcore.threads",
                     "numpy.f2py", "numpy.distutils"],
                    _STARTS_A_PROCESS),
}
# Exceptions to the table: the grading package's public names and the set-up call of the threads (the
# course's own cells import them), and multiprocessing's pool of threads (threads share the kernel's guard).
ALLOWED_NAMES = {"mlpcore.grading.check", "mlpcore.grading.check_classifier", "mlpcore.threads.course_kernel",
                 "multiprocessing.dummy"}
# The parts of mlpcore the course hands learners (DESIGN.md's public contract and what the notebooks
# use); its guard, grading, grader, command line and anything private are not for an answer.
MLPCORE_PUBLIC = {"MLP", "activations", "backend", "data", "gradcheck", "init", "layers", "losses", "network",
                  "optim", "regularization", "shapes", "plots", "model", "rng"}

REACHING_CALLS = {"exec": _RUNS_A_STRING, "eval": "evaluates code built as a string",
                  "compile": "compiles code built as a string", "__import__": "imports by name at run time",
                  "globals": "reads or changes the notebook's names by name"}
# Built-ins that look an attribute up by a name: fine with a constant name (read as ``x.name``), flagged
# with a name computed at run time, or when handed around (``reduce(getattr, names, module)``).
ATTRIBUTE_BUILTINS = {"getattr", "setattr", "delattr", "hasattr"}
_COMPUTED_NAME = "looks an attribute up by a name computed at run time, which this scan cannot follow"
# Functions that run a string of Python like exec: a constant one is read like a cell, one built at run
# time is flagged. True where a function may be passed instead (timeit.timeit(lambda: f(x))).
RUNS_A_STRING = {**dict.fromkeys(["timeit.timeit", "timeit.repeat", "timeit.Timer"], True),
                 **dict.fromkeys(["cProfile.run", "cProfile.runctx", "profile.run", "profile.runctx", "pdb.run",
                                  "pdb.runeval", "pdb.runctx"], False)}
_STRING_ARGUMENTS = {"stmt", "setup", "statement", "cmd", "expression"}
# Names a module's own code may read, but whose objects reach the interpreter's machinery.
REACHING_NAMES = {"__builtins__": "changes Python's built-in names", "__loader__": "finds a module's files",
                  "__spec__": "finds a module's files"}

# Text inside strings: environment variables that change where Python (or a new process) finds code,
# the folders of installed packages and mlpcore's own files, and names of Python files.
REACHING_TEXT = [
    (re.compile(r"\b(PYTHON(PATH|HOME|STARTUP|USERBASE)|LD_PRELOAD|LD_LIBRARY_PATH)\b"),
     "changes where Python or a new process finds code"),
    (re.compile(r"(site|dist)-packages|mlpcore[/\\]"), "names the files of installed packages"),
    (re.compile(r"^\S*\.(py[cdiow]?|ipy|pth|so)$"),
     "names a Python file (to read a copy of mlpcore's source, or to write code to import)"),
]

# IPython's magics: those an honest notebook uses, and those whose argument is Python (read here;
# %config runs "cfg." + its line with exec).
SAFE_MAGICS = {"matplotlib", "who", "whos", "who_ls", "precision", "pprint", "xmode", "pinfo", "pinfo2", "pdef",
               "pdoc", "psource", "pfile", "psearch", "lsmagic", "magic", "quickref", "history", "hist", "config",
               "reset", "reset_selective", "xdel", "pwd", "cd", "dhist", "doctest_mode", "colors", "automagic",
               "autocall", "autoawait", "autoreload", "aimport", "env", "page", "tb", "html", "HTML", "javascript",
               "js", "latex", "markdown", "svg", "SVG", "time", "timeit", "prun", "capture"}
CODE_MAGICS = {"time", "timeit", "prun", "capture", "config"}
SAFE_EXTENSIONS = {"autoreload"}
# Magics that run a shell, or another interpreter (IPython's aliases of ls, cp, ... are shell commands).
SHELL_MAGICS = {"system", "sx", "sc", "!", "bash", "sh", "script", "perl", "ruby", "python", "python2", "python3",
                "pypy", "pip", "conda", "mamba", "micromamba", "uv", "alias", "rehashx", "killbgscripts", "cat",
                "cp", "ldir", "lf", "lk", "ll", "ls", "lx", "mkdir", "mv", "rm", "rmdir", "clear", "less", "man",
                "more"}
_MAGIC_CALLS = {"run_line_magic": "line", "run_cell_magic": "cell", "magic": "line",
                "find_line_magic": "find", "find_cell_magic": "find", "find_magic": "find"}

# ------------------------------------------------------------------ reading a piece of code


class _Scan(ast.NodeVisitor):
    """Collects ``(line, why)`` for each reaching construct of a parsed piece of code.

    ``aliases`` maps the names that imports bound to what they name (``np`` -> ``numpy``,
    ``path`` -> ``sys.path``), so that a chain of attributes is read as the dotted name it spells.
    """

    def __init__(self, aliases: dict[str, str]):
        self.aliases = aliases
        self.found: list[tuple[int, str]] = []

    def flag(self, node: ast.AST, why: str | None) -> None:
        if why:
            self.found.append((node.lineno, why))

    # --- names, attributes and the dotted names they spell

    def chain(self, node: ast.AST) -> tuple[list[str], str]:
        """The attribute names of ``node`` from its root, and what the root is: ``(["sys", "path",
        "insert"], "module")`` for ``s.path.insert`` after ``import sys as s``, ``"name"`` for a
        variable, ``"expression"`` for a call or a subscript (scanned as itself, its names left out).
        ``getattr(x, "name")`` is read as the attribute it names."""
        if isinstance(node, ast.Attribute):
            parts, root = self.chain(node.value)
            return parts + [node.attr], root
        name = _constant_attribute(node)
        if name is not None:
            parts, root = self.chain(node.args[0])
            self.visit_arguments_of(node, skip_first=True)
            return parts + [name], root
        if isinstance(node, ast.Name):
            return _root(node.id, self.aliases)
        self.visit(node)
        return [], "expression"

    def check_chain(self, node: ast.AST, parts: list[str], root: str) -> None:
        # A root name is a variable's or a module's, not an attribute: its attributes are read.
        for part in parts[1:] if root != "expression" else parts:
            self.flag(node, ATTRIBUTES_ON_ANYTHING.get(part))
        for name in _dotted_names(parts, root):
            self.flag(node, dotted_reason(name))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.check_chain(node, *self.chain(node))

    def visit_Name(self, node: ast.Name) -> None:
        # A name used as a value, not called: getattr or exec handed to something else that calls them.
        if node.id in REACHING_NAMES:
            self.flag(node, REACHING_NAMES[node.id])
        elif isinstance(node.ctx, ast.Load) and (node.id in ATTRIBUTE_BUILTINS or node.id in REACHING_CALLS
                                                 or node.id == "vars"):
            self.flag(node, f"hands {node.id} to other code, which calls it where this scan cannot see with what")
        elif isinstance(node.ctx, ast.Load) and node.id in self.aliases:
            self.flag(node, dotted_reason(self.aliases[node.id]))

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            for why in text_reasons(node.value):
                self.flag(node, why)

    # --- calls

    def visit_arguments_of(self, call: ast.Call, skip_first: bool = False) -> None:
        for argument in call.args[1 if skip_first else 0:]:
            self.visit(argument)
        for keyword in call.keywords:
            self.visit(keyword.value)

    def visit_Call(self, node: ast.Call) -> None:
        if _constant_attribute(node) is not None:  # getattr(x, "name"): the attribute x.name
            return self.visit_Attribute(node)
        func = node.func
        if isinstance(func, ast.Name) and func.id in REACHING_CALLS:
            self.flag(node, REACHING_CALLS[func.id])
        elif isinstance(func, ast.Name) and func.id == "vars" and node.args:
            self.flag(node, "reads or changes an object's attributes by name")
        elif isinstance(func, ast.Name) and func.id in ATTRIBUTE_BUILTINS:
            self.attribute_builtin(node)
        elif not isinstance(func, ast.Name):
            self.visit(func)
            self.method_call(node)
        for keyword in node.keywords:  # np.load(..., allow_pickle=True)
            if keyword.arg == "allow_pickle" and not (isinstance(keyword.value, ast.Constant) and keyword.value.value is False):
                self.flag(node, REACHING_MODULES["pickle.load*"])
        self.visit_arguments_of(node)

    def attribute_builtin(self, node: ast.Call) -> None:
        """setattr / delattr / hasattr (getattr with a constant name is read as an attribute)."""
        if len(node.args) < 2 or any(isinstance(a, ast.Starred) for a in node.args[:2]):
            return self.flag(node, _COMPUTED_NAME)
        name = node.args[1]
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            return self.flag(node, _COMPUTED_NAME)
        parts, root = self.chain(node.args[0])
        self.check_chain(node, parts + [name.value], root)

    def method_call(self, node: ast.Call) -> None:
        """Calls of methods and module functions that need a look at their arguments."""
        parts, root = _static_chain(node.func, self.aliases)
        last = parts[-1] if parts else ""
        if last in ("attrgetter", "methodcaller"):
            for argument in node.args[:1] if last == "methodcaller" else node.args:
                if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
                    self.flag(node, _COMPUTED_NAME)
                else:
                    for part in argument.value.split("."):
                        self.flag(node, ATTRIBUTES_ON_ANYTHING.get(part))
        elif last in _MAGIC_CALLS:
            self.found.extend(_magic_reasons(node, _MAGIC_CALLS[last], self.aliases))
        elif root == "module" and ".".join(parts) in RUNS_A_STRING:
            takes_a_function = RUNS_A_STRING[".".join(parts)]
            strings = node.args[:2] + [k.value for k in node.keywords if k.arg in _STRING_ARGUMENTS]
            for string in strings:
                if isinstance(string, ast.Constant) and isinstance(string.value, str):
                    self.found.extend((node.lineno, why) for _, why in scan_python(string.value, self.aliases))
                elif not (takes_a_function and isinstance(string, (ast.Lambda, ast.Name, ast.Attribute))):
                    self.flag(node, f"{'.'.join(parts)} runs code built as a string, like exec")

    # --- imports and definitions

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.flag(node, import_reason(alias.name))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            return  # the submission's own modules, which are read as files
        for alias in node.names:
            if alias.name == "*":
                self.flag(node, import_reason(node.module) or _star_reason(node.module))
            else:
                full = f"{node.module}.{alias.name}"
                self.flag(node, import_reason(node.module) if full not in ALLOWED_NAMES else None)
                self.flag(node, dotted_reason(full) or ATTRIBUTES_ON_ANYTHING.get(alias.name))

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.flag(node, REACHING_ATTRIBUTES.get(node.name))
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef


def _constant_attribute(node: ast.AST) -> str | None:
    """``"name"`` for ``getattr(x, "name")`` (and ``getattr(x, "name", default)``), else None."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
            and len(node.args) >= 2 and not any(isinstance(a, ast.Starred) for a in node.args[:2])
            and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
        return node.args[1].value
    return None


def _static_chain(node: ast.AST, aliases: dict) -> tuple[list[str], str]:
    """The chain of attribute names of ``node``, without scanning anything (see ``_Scan.chain``)."""
    if isinstance(node, ast.Attribute):
        parts, root = _static_chain(node.value, aliases)
        return parts + [node.attr], root
    if isinstance(node, ast.Name):
        return _root(node.id, aliases)
    return [], "expression"


# Modules whose names a notebook uses without a visible import (a helper imported them, say):
# names nobody gives a variable. Any other root is a module only where an import bound it, so that
# a variable called ``code`` or ``site`` is not read as the module of that name.
IMPLICIT_MODULES = {"mlpcore", "os", "sys", "shutil", "subprocess", "importlib", "pickle", "multiprocessing", "IPython"}


def _root(name: str, aliases: dict) -> tuple[list[str], str]:
    if name in aliases:
        return aliases[name].split("."), "module"
    return [name], "module" if name in IMPLICIT_MODULES else "name"


def _dotted_names(parts: list[str], root: str):
    """The dotted names a chain spells: the whole of it from a module, and each tail that starts at a
    module reached as an attribute (``helper.sys.path`` spells ``sys.path``)."""
    if root == "module":
        yield ".".join(parts)
    for start in range(1, len(parts) - 1):
        if parts[start] in IMPLICIT_MODULES:
            yield ".".join(parts[start:])


def dotted_reason(name: str) -> str | None:
    """Why the dotted ``name`` (a module, or a name in one) reaches; None when it does not."""
    if any(name == allowed or name.startswith(allowed + ".") for allowed in ALLOWED_NAMES):
        return None
    for pattern, why in REACHING_MODULES.items():
        if fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(name, pattern + ".*"):
            return why
    parts = name.split(".")
    if parts[0] == "mlpcore" and len(parts) > 1:
        if not _is_dunder(parts[1]) and parts[1] not in MLPCORE_PUBLIC:
            return f"reaches mlpcore.{parts[1]}, which is not among the functions an answer may use"
        if any(part.startswith("_") and not _is_dunder(part) for part in parts[1:]):
            return "reaches a private name of mlpcore"
    return None


def import_reason(module: str) -> str | None:
    """Why importing ``module`` reaches: the table, or one of Python's own private C modules
    (``_posixsubprocess`` starts processes, ``_pickle`` unpickles, ...)."""
    top = module.split(".")[0]
    if top.startswith("_") and not _is_dunder(top) and top in sys.stdlib_module_names:
        return "imports one of Python's private modules"
    return dotted_reason(module)


def _star_reason(module: str) -> str | None:
    # ``from os import *`` binds fork and system as plain names, which the table only knows dotted.
    if module != "mlpcore" and not module.startswith("mlpcore.") and any(
            pattern.startswith(module + ".") for pattern in REACHING_MODULES):
        return f"imports every name of {module}, among them some that start processes or reach into the grader"
    return None


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def text_reasons(text: str):
    """Why a string constant reaches: it names mlpcore's private parts, the interpreter's internals,
    the folders of installed packages, a Python file, or the variables that say where code is."""
    for match in re.finditer(r"(?<![\w./+-])mlpcore(\.\w+)+", text):  # not vnd.mlpcore.verdict+json
        why = dotted_reason(match.group(0))
        if why:
            yield why
    if text.startswith("_") and text in ATTRIBUTES_ON_ANYTHING:
        yield ATTRIBUTES_ON_ANYTHING[text]
    for pattern, why in REACHING_TEXT:
        if pattern.search(text):
            yield why


# ------------------------------------------------------------------ IPython's magics


def _magic_reasons(call: ast.Call, kind: str, aliases: dict) -> list[tuple[int, str]]:
    """``(line, why)`` for a call of IPython's magic machinery (what ``%name`` and ``!cmd`` become:
    always with constant strings, so one computed at run time is flagged)."""
    arguments = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in call.args]
    if not arguments or None in arguments or call.keywords:
        return [(call.lineno, "runs an IPython magic whose name or argument is computed at run time")]
    name, line_text = arguments[0].strip(), arguments[1] if len(arguments) > 1 else ""
    if kind == "line" and len(arguments) == 1:  # get_ipython().magic("timeit -n 3 f()")
        name, _, line_text = name.partition(" ")
    name = name.lstrip("%")
    # IPython evaluates each {expression} of a magic's line before the magic sees it.
    found = [(call.lineno, why) for expression in _expanded(line_text) for _, why in scan_python(expression, aliases)]
    if kind == "find":
        return found + ([] if name in SAFE_MAGICS else [(call.lineno, f"reaches IPython's %{name} magic")])
    if name in SHELL_MAGICS:
        return found + [(call.lineno, _STARTS_A_PROCESS.replace("a process", f"a process (%{name})"))]
    if name in ("load_ext", "reload_ext") and line_text.strip() in SAFE_EXTENSIONS:
        return found
    if name not in SAFE_MAGICS:
        return found + [(call.lineno, f"runs IPython's %{name} magic, which no exercise needs")]
    if name == "aimport":  # %aimport module, ...: imports
        found += [(call.lineno, import_reason(module)) for module in re.split(r"[\s,]+", line_text.strip("- "))
                  if module and import_reason(module)]
    elif name == "config" and line_text:
        found += [(call.lineno, why) for _, why in scan_python("cfg." + line_text, aliases)]
    elif name in CODE_MAGICS:
        if kind == "cell" and len(arguments) > 2:  # the cell's body, after its first line
            found += [(call.lineno + line, why) for line, why in scan_python(arguments[2], aliases)]
        found += [(call.lineno, why) for _, why in scan_python(_code_after_options(line_text), aliases)]
    return found


def _expanded(line: str) -> list[str]:
    """The expressions IPython evaluates in a magic's line: ``{expression}`` (and ``$name``)."""
    from IPython.utils.text import DollarFormatter

    try:
        return [field + (":" + spec if spec else "") for _, field, spec, _ in DollarFormatter().parse(line) if field]
    except ValueError:  # IPython leaves such a line as it is
        return []


def _code_after_options(line: str) -> str:
    """The code of ``%timeit -n 3 -r 2 f(x)``: the longest tail of the line that is Python."""
    words = line.split()
    for start in range(len(words)):
        try:
            ast.parse(_transform(" ".join(words[start:])))
        except UNPARSEABLE:
            continue
        return " ".join(words[start:])
    return ""


# ------------------------------------------------------------------ cells and files


def _transform(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(source)  # magics become plain calls, line for line
    except Exception as exc:  # IPython cannot run what it cannot transform either
        raise SyntaxError(f"IPython could not read it: {exc}") from exc


def aliases_of(trees) -> dict[str, str]:
    """What the imports of ``trees`` bind each name to: ``{"np": "numpy", "path": "sys.path"}``."""
    aliases = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:  # import a.b binds a; import a.b as c binds c to a.b
                    if alias.asname:
                        aliases[alias.asname] = alias.name
                    else:
                        aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name != "*":
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


# What Python's parser refuses besides bad syntax: null bytes, and nesting deeper than it goes.
UNPARSEABLE = (SyntaxError, ValueError, RecursionError, MemoryError)


def reasons(tree: ast.AST, aliases: dict | None = None) -> list[tuple[int, str]]:
    """``(line number, why)`` for each reaching construct of a parsed piece of code, sorted."""
    scan = _Scan(aliases if aliases is not None else aliases_of([tree]))
    try:
        scan.visit(tree)
    except RecursionError:  # Python compiled it, so it may run: say so rather than pass it
        return [(1, "is nested too deeply for this scan to read")]
    return sorted(set(scan.found))


def scan_python(source: str, aliases: dict) -> list[tuple[int, str]]:
    """:func:`reasons` for IPython source (a magic's code); nothing for source that does not parse."""
    try:
        return reasons(ast.parse(_transform(source)), aliases)
    except UNPARSEABLE:
        return []


def find_reaching_code(notebook, release, limit: int = 5) -> list[str]:
    """Where the learner's cells of ``notebook`` reach into the grader: ``["cell relu line 3:
    sys._getframe(1) (reads the interpreter's call frames)", ...]``, at most ``limit``."""
    from nbgrader.utils import is_locked

    course_sources = {cell.source for cell in release.cells if cell.cell_type == "code"}
    locked = {cell.metadata["nbgrader"]["grade_id"] for cell in release.cells if is_locked(cell)}
    parsed = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        try:
            parsed.append((index, cell, ast.parse(_transform(cell.source))))
        except UNPARSEABLE:
            continue  # it fails when it runs: the kernel parses it the same way
    # The cells share one namespace: an import in the course's first cell binds names for all of them.
    aliases = aliases_of(tree for _, _, tree in parsed)
    found = []
    for index, cell, tree in parsed:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in locked or cell.source in course_sources:
            continue
        where = f"cell {grade_id}" if grade_id else f"cell {index + 1} (one of your own)"
        found += _described(where, cell.source.splitlines(), reasons(tree, aliases))
        if len(found) >= limit:
            return found[:limit]
    return found


def _described(where: str, lines: list[str], found) -> list[str]:
    """One line of text per line of code: ``"cell relu line 3: <the code> (why; why)"``."""
    whys = {}
    for line, why in found:
        whys.setdefault(line, []).append(why)
    described = []
    for line, reasons_of_line in whys.items():
        code = lines[line - 1].strip() if line <= len(lines) else ""
        described.append(f"{where} line {line}: {code[:100]} ({'; '.join(reasons_of_line)})")
    return described


# What a file of the submission is, by its name, when that alone reaches.
MAX_SOURCE_BYTES = 1_000_000
STARTUP_FILES = {"sitecustomize.py", "usercustomize.py"}
COMPILED_SUFFIXES = {".so", ".pyd"}
SOURCE_SUFFIXES = {".py", ".pyw", ".ipy"}


def find_reaching_files(folder: Path, limit: int = 5) -> list[str]:
    """Where the files in ``folder`` (a submission, its notebooks aside) reach into the grader:
    ``["helper.py line 3: setattr(mlpcore.guard, ...) (changes the reference's guard)",
    "sitecustomize.py: Python runs it when it starts ..."]``, at most ``limit``.

    The notebook can import any Python file beside it, so each one is read like a cell; a file
    Python would run or import that this scan cannot read (compiled code, a start-up file, source
    that does not parse) is flagged by what it is. Links are not followed.
    """
    found = []
    for root, folders, files in os.walk(folder):
        folders.sort()
        for name in sorted(files):
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                continue
            relative = path.relative_to(folder).as_posix()
            of_file = list(_file_reasons(path, relative))
            found += [f"{relative}: {why}" for line, why in of_file if line is None]
            found += _described(relative, _source_lines(path), [(line, why) for line, why in of_file if line])
            if len(found) >= limit:
                return found[:limit]
    return found


def _file_reasons(path: Path, relative: str):
    """``(line or None, why)`` for one file of a submission."""
    parts = relative.split("/")
    suffix = path.suffix.lower()
    is_code = suffix in SOURCE_SUFFIXES | COMPILED_SUFFIXES | {".pyc", ".pyo"}
    if "mlpcore" in parts[:-1] or (is_code and path.name.split(".")[0] == "mlpcore"):
        yield None, "shadows the course's package mlpcore: the notebook would import this copy instead"
    if path.name in STARTUP_FILES:
        yield None, "Python runs it when it starts, wherever it finds it on its path"
    if suffix == ".pth":
        yield None, "Python runs the import lines of a .pth file it finds in a site folder"
    if suffix in COMPILED_SUFFIXES:
        yield None, "compiled code that the notebook can import as a module, which this scan cannot read"
    if suffix in (".pyc", ".pyo"):
        why = _compiled_python_reason(path, parts)
        if why:
            yield None, why
    if suffix in SOURCE_SUFFIXES:
        yield from _source_reasons(path)


def _compiled_python_reason(path: Path, parts: list[str]) -> str | None:
    # A .pyc in __pycache__ is used only beside its source. One that records the source's time (what
    # importing leaves there) is stale once the grader has copied the source, and is compiled again;
    # one that checks the source's hash matches it. An unchecked one is used whatever the source says,
    # and a .pyc elsewhere is imported with no source at all.
    if len(parts) > 1 and parts[-2] == "__pycache__":
        with path.open("rb") as file:
            header = file.read(8)
        flags = int.from_bytes(header[4:8], "little") if len(header) == 8 else 0
        if flags & 0b01 and not flags & 0b10:
            return "compiled Python that Python imports without checking it against its source"
        return None
    return "compiled Python that the notebook can import as a module, which this scan cannot read"


def _source_reasons(path: Path):
    if path.stat().st_size > MAX_SOURCE_BYTES:
        yield None, f"Python source over {MAX_SOURCE_BYTES // 1_000_000} MB, too long for this scan to read"
        return
    data = path.read_bytes()
    try:
        # Bytes, so that Python's own reading applies: a coding line (utf-7, say) changes what runs.
        tree = ast.parse(_transform(_decoded(data)) if path.suffix.lower() == ".ipy" else data)
    except (*UNPARSEABLE, UnicodeDecodeError, LookupError) as exc:
        # It cannot be imported either, but what it holds is not known: the instructor may look.
        yield None, f"could not be read as Python ({type(exc).__name__}: {exc}), so this scan did not check it"
        return
    yield from reasons(tree)


def _decoded(data: bytes) -> str:
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def _source_lines(path: Path) -> list[str]:
    try:
        return _decoded(path.read_bytes()).splitlines()
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return []
