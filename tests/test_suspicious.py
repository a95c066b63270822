"""Code that reaches into the grader is flagged (mlpcore/autograde/suspicious.py), in the notebook's
cells and in every Python file the submission brings; the course's solutions and every variant of the
submission bank are not."""

import importlib.util
import inspect
import py_compile
import re
from pathlib import Path

import nbformat
import pytest

from mlpcore import course
from mlpcore.autograde.suspicious import find_reaching_code, find_reaching_files
from submission_bank import CORRECT

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent

# Ways a determined student tried to get the points without the work: (code, the line of it that
# must be named). Marked "#20" where the red team of issue #20 passed unflagged with it.
REACHING = {
    "a frame read": ("import sys\nexpected = sys._getframe(1).f_locals['expected']", 2),
    "a traceback walk": ("try:\n    check('relu', relu)\nexcept Exception as e:\n    t = e.__traceback__.tb_next", 4),
    "the garbage collector": ("import gc\nraw = [f for f in gc.get_objects() if callable(f)]", 1),
    "a closure": ("raw = softmax.__closure__[0].cell_contents", 1),
    "the guard's counter": ("import mlpcore.guard\nmlpcore.guard._learner_depth = 0", 1),
    "a reloaded guard": ("import importlib, mlpcore\nimportlib.reload(mlpcore.guard)", 1),
    "a function rebuilt from code": ("import types\nf = types.FunctionType(g.__code__, {})", 2),
    "the reference's source": ("import inspect, mlpcore\nexec(inspect.getsource(mlpcore.activations.softmax))", 1),
    "a private helper": ("from mlpcore.grading.network_exercises import _network", 1),
    "an input transformer": ("get_ipython().input_transformers_post.append(lambda lines: lines)", 1),
    "a tracing hook": ("import sys\nsys.settrace(lambda *a: None)", 2),
    "a lying ndarray": ("class Liar(np.ndarray):\n    def __array_ufunc__(self, *a, **k):\n        return True", 2),
    "a built string": ("exec('che' + 'ck = print')", 1),
    "a built-in replaced": ("import builtins\nsetattr(builtins, 'len', lambda x: 0)", 1),
    "a fake module": ("import sys\nsys.modules['mlpcore.grading'] = object()", 2),
    "C directly": ("import ctypes", 1),
    "the error display": ("get_ipython().showtraceback = lambda *a, **k: None", 1),
    # The guard, by names built at run time (#20) or passed around.
    "the guard by a built name": ('setattr(mlpcore.guard, "_learner" + "_depth", 0)', 1),  # 20
    "a module's attribute by a built name": ('guard = getattr(mlpcore, "gu" + "ard")', 1),
    "an f-string name": ("setattr(module, f\"_learner_{'depth'}\", 0)", 1),
    "a joined name": ('delattr(module, "".join(["_learner", "_depth"]))', 1),
    "a name from chr": ('found = hasattr(module, chr(95) + "learner_depth")', 1),
    "a decoded name": ('depth = getattr(module, b"_learner_depth".decode())', 1),
    "a name in a variable": ("for name in names:\n    value = getattr(module, name)", 2),
    "a closure by getattr": ('cells = getattr(softmax, "__closure__")', 1),
    "getattr handed to reduce": ('import functools\nguard = functools.reduce(getattr, ["guard"], mlpcore)', 2),
    "an attrgetter": ('import operator\nguard = operator.attrgetter("gu" + "ard")(mlpcore)', 2),
    "the lookup itself": ("guard = object.__getattribute__(mlpcore, name)", 1),
    "a module's __dict__": ('guard = mlpcore.__dict__["gu" + "ard"]', 1),
    "vars of a module": ('vars(module)["_learner" + "_depth"] = 0', 1),
    "the notebook's globals": ('everything = globals()["__built" + "ins__"]', 1),
    "a built-in's module": ("everything = len.__self__", 1),
    "every class there is": ("classes = object.__subclasses__()", 1),
    "a private helper by attribute": ('mlpcore.grading.network_exercises._network(Z, None, params, "relu")', 1),
    "mlpcore's command line": ('mlpcore.cli.main(["check", "forward.ipynb"])', 1),
    "a patch by name": ('from unittest import mock\nmock.patch("mlpcore.guard._learner_depth", 0).start()', 2),
    "a module found by name": ('import pydoc\nguard = pydoc.locate("mlpcore." + "guard")', 1),
    "an unpickled call": ("import pickle\nresult = pickle.loads(payload)", 2),
    "an array that unpickles": ('weights = np.load("weights.npy", allow_pickle=True)', 1),
    # Copying the package or importing it again, under another name (#20).
    "a module from a file": ('import importlib.util\nspec = importlib.util.spec_from_file_location("mine", path)', 1),
    "runpy": ("import runpy\nrunpy.run_path(path)", 1),
    "a copied package": ("import shutil, tempfile\n"
                         'copy = shutil.copytree(os.path.dirname(mlpcore.__file__), tempfile.mkdtemp() + "/mine")', 2),  # 20
    "a copy imported by name": ("from shutil import copyfile", 1),
    "the reference's file": ("source = open(mlpcore.activations.__file__).read()", 1),
    "the package's folder": ("folder = mlpcore.__path__[0]", 1),
    "the package's spec": ("origin = mlpcore.__spec__.origin", 1),
    "pkgutil": ("import pkgutil", 1),
    "zipimport": ("import zipimport", 1),
    "a Python file read": ('text = open("/tmp/copy/activations.py").read()', 1),
    "the installed packages": ('import glob\nfound = glob.glob("/usr/lib/python3/site-packages/*")', 2),
    "where Python lives": ("import sys\nbase = sys.prefix", 2),
    # Where Python finds modules (#20).
    "sys.path.insert": ('import sys\nsys.path.insert(0, "/tmp/copy")', 2),  # 20
    "sys.path.append": ("sys.path.append(folder)", 1),
    "sys.path assigned": ('sys.path = ["/tmp/copy"] + sys.path', 1),
    "sys.path by name": ("from sys import path\npath.insert(0, folder)", 1),
    "a site folder": ("import site\nsite.addsitedir(folder)", 1),
    "PYTHONPATH": ('os.environ["PYTHONPATH"] = "/tmp/copy"', 1),
    # Another process, which computes every answer with an unguarded mlpcore (#20).
    "subprocess": ('import subprocess\nout = subprocess.run(["python3", "answers.py"])', 1),  # 20
    "a fork": ("pid = os.fork()", 1),  # 20
    "a spawn": ('os.spawnv(os.P_WAIT, "/usr/bin/python3", ["python3", "answers.py"])', 1),
    "an exec": ('os.execv("/usr/bin/python3", ["python3", "answers.py"])', 1),
    "os.system": ('os.system("python3 answers.py > answers.txt")', 1),
    "os.popen": ('answers = os.popen("python3 answers.py").read()', 1),
    "posix_spawn": ('os.posix_spawn("/usr/bin/python3", ["python3"], {})', 1),
    "a process pool": ("from multiprocessing import Pool", 1),  # 20
    "a fork context": ('import multiprocessing as mp\npool = mp.get_context("fork").Pool(1)', 1),
    "a process executor": ("from concurrent.futures import ProcessPoolExecutor", 1),
    "a pseudo-terminal": ('import pty\npty.spawn("sh")', 1),
    "posix itself": ("import posix\npid = posix.fork()", 1),
    "every name of os": ("from os import *\npid = fork()", 1),
    "a private module": ("import _posixsubprocess", 1),
    "asyncio's processes": ('import asyncio\nproc = asyncio.create_subprocess_exec("python3")', 2),
    "a second kernel": ("from jupyter_client.manager import start_new_kernel", 1),
    "psutil": ('import psutil\npsutil.Popen(["python3", "answers.py"])', 1),
    "a shell escape": ("!python3 answers.py", 1),
    "a shell escape assigned": ("answers = !python3 answers.py", 1),
    "a shell line magic": ("%system python3 answers.py", 1),
    "sx": ("%sx python3 answers.py", 1),
    "a shell alias": ("%ls", 1),
    "IPython's system": ('get_ipython().system("python3 answers.py")', 1),
    "a magic by a built name": ('get_ipython().run_line_magic("sy" + "stem", "ls")', 1),
    "a timed shell": ('%timeit os.system("ls")', 1),
    "a file run": ("%run answers.py", 1),
    "an extension": ("%load_ext answers", 1),
    "timeit of a built string": ('import timeit\ntimeit.timeit("os." + "fork()", number=1)', 2),
    "timeit of a string": ('import timeit\ntimeit.timeit("os.fork()", number=1)', 2),
    "a profiled string": ('import cProfile\ncProfile.run("os." + "fork()")', 2),
    "code in docstrings": ("import doctest", 1),
    "code in %config": ("%config InteractiveShell.x = __import__('os').fork()", 1),  # IPython runs it with exec
    "an expression in a magic's line": ("%cd {__import__('os').fork()}", 1),  # IPython evaluates it
    "a magic's computed argument": ('get_ipython().run_line_magic("timeit", code)', 1),
    "a module imported by a magic": ("%aimport subprocess", 1),
}
# Cell magics: the whole cell is the magic, so each is a cell of its own.
REACHING_CELLS = {
    "a bash cell": ("%%bash\npython3 answers.py", 1),  # 20
    "a script cell": ("%%script python3\nimport mlpcore", 1),
    "a python3 cell": ("%%python3\nimport mlpcore", 1),
    "a shell cell": ("%%!\npython3 answers.py", 1),
    "a timed fork": ("%%timeit\nos.fork()", 2),
    "a Python file written": ("%%writefile helper2.py\nimport mlpcore", 1),
    "PYTHONPATH by magic": ("%env PYTHONPATH=/tmp/copy", 1),
}
# What an honest learner writes around the exercises, which must not be flagged.
HONEST = [
    "%timeit relu(Z)", "%timeit -n 3 -r 2 relu(Z)", "%%time\nrelu(Z)", "%prun -s cumulative relu(Z)",
    "%config InlineBackend.figure_format = 'retina'", "import cProfile\ncProfile.run('relu(Z)')",
    "%matplotlib inline", "%load_ext autoreload\n%autoreload 2", "%whos", "relu?",
    "import time\nstart = time.perf_counter()",
    "import timeit\nseconds = timeit.timeit(lambda: relu(Z), number=10)",
    "from threadpoolctl import threadpool_limits\nwith threadpool_limits(limits=1, user_api='blas'):\n    relu(Z)",
    "import os\nprint(os.cpu_count(), os.environ.get('OMP_NUM_THREADS'), os.path.join('data', 'x.csv'))",
    "from concurrent.futures import ThreadPoolExecutor\nfrom multiprocessing.dummy import Pool",
    "import sys\nprint(sys.getsizeof(Z), sys.float_info.eps, sys.version)",
    "weights = np.load('weights.npz')\nopen('notes.txt', 'w').write('loss went down')",
    "import pickle\nwith open('model.pkl', 'wb') as f:\n    pickle.dump(params, f)",
    "import copy\nsaved = copy.deepcopy(params)\nW = params['W1'].copy()",
    "import helper\nfrom helper import relu_of_mine",
    "value = getattr(optimizer, 'lr')\nsetattr(optimizer, 'lr', 0.1)\nprint(hasattr(model, 'params'))",
    "mlpcore.grading.check('relu', relu)\nprint(mlpcore.__version__)",
    "import math, warnings, functools, itertools, collections\nfrom functools import reduce",
    "class Layer:\n    def __init__(self):\n        self._cache = None\n        self.__dict_like = {}",
    '"""Uses mlpcore.activations.relu as the model answer: see helper.py and sys.path in the docs."""',
]


def _notebook_with(source: str, own_cell: bool = False):
    """A submitted notebook with ``source`` after the relu answer (or in a cell of its own), and its release."""
    release = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import mlpcore\nfrom mlpcore.grading import check"),
        nbformat.v4.new_code_cell("# YOUR CODE HERE", metadata={"nbgrader": {"grade_id": "relu", "solution": True}}),
    ])
    relu = "def relu(Z):\n    return np.maximum(Z, 0)\n"
    cells = [release.cells[0], nbformat.v4.new_code_cell(
        relu if own_cell else relu + source, metadata={"nbgrader": {"grade_id": "relu", "solution": True}})]
    if own_cell:
        cells.append(nbformat.v4.new_code_cell(source))
    return nbformat.from_dict(nbformat.v4.new_notebook(cells=cells)), release


def _lines(found: list[str], where: str) -> set[int]:
    return {int(match.group(1)) for reason in found for match in [re.match(rf"{re.escape(where)} line (\d+):", reason)] if match}


@pytest.mark.parametrize("attempt", REACHING)
def test_reaching_into_the_grader_is_named_with_its_line(attempt):
    source, line = REACHING[attempt]
    found = find_reaching_code(*_notebook_with(source))
    assert line + 2 in _lines(found, "cell relu"), (attempt, found)  # after the two lines of relu


@pytest.mark.parametrize("attempt", REACHING_CELLS)
def test_a_cell_magic_that_reaches_is_named_with_its_line(attempt):
    source, line = REACHING_CELLS[attempt]
    found = find_reaching_code(*_notebook_with(source, own_cell=True))
    assert line in _lines(found, "cell 3 (one of your own)"), (attempt, found)


@pytest.mark.parametrize("source", HONEST)
def test_what_honest_learners_write_around_the_exercises_is_not_flagged(source):
    assert find_reaching_code(*_notebook_with(source)) == []
    assert find_reaching_code(*_notebook_with(source, own_cell=True)) == []


def test_the_course_s_own_cells_and_its_solutions_are_not_flagged():
    for assignment in course.assignments(ROOT):
        for solution in course.notebooks(ROOT, assignment):
            release = nbformat.read(ROOT / course.RELEASE_DIRECTORY / assignment / solution.name, as_version=4)
            notebook = nbformat.read(solution, as_version=4)
            assert find_reaching_code(notebook, release) == [], solution.name
            # Even a learner who edits every course cell a little: none of them reaches.
            empty = nbformat.v4.new_notebook(cells=[])
            assert find_reaching_code(notebook, empty, limit=100) == [], solution.name


@pytest.mark.parametrize("exercise", sorted(CORRECT))
def test_no_correct_variant_of_the_bank_is_flagged(exercise):
    for function in CORRECT[exercise]:
        found = find_reaching_code(*_notebook_with(inspect.getsource(function)))
        assert found == [], (function.__name__, found)


# ------------------------------------------------------------------ the files a submission brings

GUARD_HELPER = 'import mlpcore\n\nsetattr(mlpcore.guard, "_learner" + "_depth", 0)\n'  # #20, beside the notebook
REACHING_FILES = {
    "a helper beside the notebook": ({"helper.py": GUARD_HELPER}, "helper.py", 3),  # 20
    "a helper in a package": ({"tools/__init__.py": "", "tools/run.py": "import os\n\npid = os.fork()\n"},
                              "tools/run.py", 3),
    "an IPython script": ({"answers.ipy": "x = 1\n!python3 answers.py\n"}, "answers.ipy", 2),
    "a start-up file": ({"sitecustomize.py": "x = 1\n"}, "sitecustomize.py", None),
    "a user start-up file": ({"usercustomize.py": "x = 1\n"}, "usercustomize.py", None),
    "a path file": ({"evil.pth": "import helper\n"}, "evil.pth", None),
    "compiled Python": ({"helper.pyc": b"\x00" * 32}, "helper.pyc", None),
    "an extension module": ({"fast.cpython-311-x86_64-linux-gnu.so": b"\x7fELF"}, "fast.cpython-311-x86_64-linux-gnu.so", None),
    "a copy of mlpcore": ({"mlpcore/__init__.py": "from .activations import relu\n"}, "mlpcore/__init__.py", None),
    "Python this scan cannot read": ({"broken.py": "def f(:\n"}, "broken.py", None),
    # Source in UTF-7, where "+AAo-" is a new line: Python runs the line a UTF-8 reader sees as a comment.
    "a hidden line": ({"hidden.py": "# coding: utf-7\nx = 1  #+AAo-import subprocess\n"}, "hidden.py", 3),
}


def _write(folder: Path, files: dict) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


@pytest.mark.parametrize("attempt", REACHING_FILES)
def test_a_file_the_submission_brings_is_read_and_named_with_its_line(attempt, tmp_path):
    files, where, line = REACHING_FILES[attempt]
    found = find_reaching_files(_write(tmp_path, files))
    assert any(reason.startswith(f"{where}") for reason in found), (attempt, found)
    if line:
        assert line in _lines(found, where), (attempt, found)


def test_an_unchecked_compiled_file_in_pycache_is_flagged(tmp_path):
    # Python uses an unchecked hash-based .pyc without looking at its source: the source may lie.
    _write(tmp_path, {"helper.py": "def relu(Z):\n    return Z\n"})
    py_compile.compile(str(tmp_path / "helper.py"), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    assert [reason.split(":")[0] for reason in find_reaching_files(tmp_path)] == [
        f"__pycache__/helper.{importlib.util.cache_from_source('x.py').rsplit('.', 2)[-2]}.pyc"]


def test_honest_files_are_not_flagged(tmp_path):
    _write(tmp_path, {
        "helper.py": "import numpy as np\nfrom pathlib import Path\n\nDATA = Path(__file__).parent / 'data'\n\n"
                     "def relu_of_mine(Z):\n    return np.maximum(Z, 0)\n",
        "data/train.csv": "1,2,3\n", "notes.md": "# notes\n", "weights.npz": b"PK\x03\x04",
        ".ipynb_checkpoints/forward-checkpoint.ipynb": "{}",
    })
    py_compile.compile(str(tmp_path / "helper.py"))  # what importing it leaves: a timestamped .pyc
    for bank in ("submission_bank.py", "more_submissions.py", "stated_rules_submissions.py", "gradcheck_submissions.py",
                 "teacher_submissions.py"):
        (tmp_path / bank).write_text((TESTS / bank).read_text())  # every variant, right or wrong, as a helper
    assert find_reaching_files(tmp_path) == []


def test_code_nested_deeper_than_python_parses_neither_crashes_the_scan_nor_passes_a_file(tmp_path):
    deep = "x" + ".a" * 50_000  # RecursionError in Python's own parser
    assert find_reaching_code(*_notebook_with(deep, own_cell=True)) == []  # the kernel cannot run it either
    found = find_reaching_files(_write(tmp_path, {"deep.py": deep}))
    assert [reason.split(":")[0] for reason in found] == ["deep.py"] and "could not be read" in found[0]
