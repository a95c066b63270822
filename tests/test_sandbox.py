"""Every grading kernel in an OS sandbox (bubblewrap): what a submission can see and do from inside.

One student's notebook is graded with ``--sandbox bwrap``. Its relu answer is correct, and also
looks around: it prints what it can see and reach as one JSON line, and leaves a process behind.
The tests read that line from the autograded notebook. Skipped, with the reason, where bubblewrap
cannot run (``.ci/run`` installs it when it runs as root).
"""

import csv
import json
import os
import socket
from pathlib import Path

import nbformat
import pytest

from mlpcore.autograde import sandbox
from mlpcore.autograde.grade import grade_class, load_outcomes
from mlpcore.autograde.sample_class import ASSIGNMENT, NOTEBOOK, fill, solution_answers

ROOT = Path(__file__).resolve().parent.parent
FULL = 9.0
TMP_MB = 16
LINGERER = "4321.5"  # `sleep 4321.5`: a process the submission starts and leaves behind

PROBE = '''
import json, multiprocessing, os, socket, subprocess
seen = {{}}
seen["course_root"] = sorted(os.listdir({root!r})) if os.path.isdir({root!r}) else []
seen["solutions"] = os.path.exists({solutions!r})
seen["grading_folder"] = os.path.exists({output!r})
seen["processes"] = []
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            seen["processes"].append(open(f"/proc/{{pid}}/cmdline", "rb").read().replace(b"\\0", b" ").decode())
        except OSError:
            pass
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
    seen["network"] = "reached the grader's machine"
except OSError as exc:
    seen["network"] = type(exc).__name__
seen["started"] = {{}}
for name, start in (("subprocess", lambda: subprocess.Popen(["sleep", {lingerer!r}], start_new_session=True)),
                    ("fork", os.fork), ("multiprocessing", lambda: multiprocessing.Pool(2)),
                    ("system", lambda: os.system("sleep {lingerer}") or "exit status 0")):
    try:
        seen["started"][name] = repr(start())
    except Exception as exc:
        seen["started"][name] = type(exc).__name__
# Every writable place, filled as far as it goes (1 MB at a time, up to ten times the sandbox's size).
seen["filled"] = {{}}
for folder in ("/tmp/kernel", "/dev/shm", os.environ["HOME"], os.getcwd()):
    written, error = 0, None
    try:
        with open(os.path.join(folder, "filler"), "wb") as handle:
            for _ in range({tmp_mb} * 10):
                handle.write(b"x" * 2**20)
                handle.flush()
                written += 1
    except OSError as exc:
        error = exc.strerror
    seen["filled"][folder] = [written, error]
print("SANDBOX-SEEN " + json.dumps(seen))
'''


def _lingering() -> list[int]:
    pids = []
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and LINGERER.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                pids.append(int(pid))
        except OSError:
            continue
    return pids


@pytest.fixture(scope="module")
def sandboxed(tmp_path_factory):
    problem = sandbox.bwrap_problem()
    if problem:
        pytest.skip(f"bubblewrap cannot sandbox kernels here: {problem}")
    base = tmp_path_factory.mktemp("sandboxed")
    submissions, output = base / "submitted", base / "grading"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    answers = solution_answers(ROOT)
    answers["relu"] += PROBE.format(root=str(ROOT), solutions=str(ROOT / "solutions"), output=str(output),
                                    port=listener.getsockname()[1], tmp_mb=TMP_MB, lingerer=LINGERER)
    release = nbformat.read(ROOT / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    (submissions / "ada" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(fill(release, answers), submissions / "ada" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    try:
        grade_class(ROOT, ASSIGNMENT, submissions, output, workers=1, progress=False, feedback=False,
                    settings={"sandbox": "bwrap", "tmp_mb": TMP_MB, "cell_timeout": 60})
    finally:
        listener.close()
    graded = nbformat.read(output / "autograded" / "ada" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    lines = [line for cell in graded.cells for out in cell.get("outputs", [])
             for line in out.get("text", "").splitlines() if line.startswith("SANDBOX-SEEN ")]
    assert len(lines) == 1, "the probe did not run in the graded kernel"
    return {"seen": json.loads(lines[0].split(" ", 1)[1]), "outcome": load_outcomes(output, ASSIGNMENT)[0],
            "output": output}


def test_the_student_is_graded_normally_in_the_sandbox(sandboxed):
    outcome = sandboxed["outcome"]
    # Scored in full; flagged only for the processes the probe itself tries to start (refused).
    assert (outcome["status"], outcome["score"], outcome["sandbox"]) == ("suspicious", FULL, "bwrap+seccomp"), outcome["reasons"]
    assert all("process" in reason or "shell" in reason for reason in outcome["reasons"]), outcome["reasons"]
    [row] = csv.DictReader((sandboxed["output"] / "grades.csv").read_text().splitlines())
    assert row["sandbox"] == "bwrap+seccomp"
    report = (sandboxed["output"] / f"report-{ASSIGNMENT}.html").read_text()
    assert "Every kernel ran in a bubblewrap sandbox and could start no process" in report
    assert f"each a tmpfs of {TMP_MB} MB" in report and "none can be started (seccomp)" in report


def test_the_kernel_cannot_see_the_course_sources_or_the_grading_folder(sandboxed):
    seen = sandboxed["seen"]
    assert seen["solutions"] is False and seen["grading_folder"] is False
    # Of the checkout, only the package itself (and the environment, when it lives there) is in view.
    assert set(seen["course_root"]) <= {"mlpcore", ".venv"}, seen["course_root"]


def test_the_kernel_cannot_see_the_grader_or_reach_the_network(sandboxed):
    seen = sandboxed["seen"]
    assert seen["network"] in ("ConnectionRefusedError", "OSError", "TimeoutError"), seen["network"]
    assert not any("pytest" in line or "mlpcore.autograde.worker" in line for line in seen["processes"]), seen["processes"]
    assert len(seen["processes"]) <= 2, seen["processes"]  # bwrap's init and the kernel


def test_every_writable_folder_stops_at_its_size(sandboxed):
    filled = sandboxed["seen"]["filled"]
    assert len(filled) == 4, filled  # /tmp, /dev/shm, home, the working folder
    for folder, (written_mb, error) in filled.items():
        assert error == "No space left on device" and written_mb <= TMP_MB, (folder, written_mb, error)


def test_the_kernel_can_start_no_process(sandboxed):
    started = sandboxed["seen"]["started"]
    assert started == {"subprocess": "PermissionError", "fork": "PermissionError",
                       "multiprocessing": "PermissionError", "system": "32512"}, started  # 32512: sh never ran
    assert _lingering() == [], "a process the submission started outlived its sandbox"


def test_bwrap_that_cannot_run_is_a_clear_error_or_a_declared_fallback(monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "bwrap is not installed (install bubblewrap)")
    monkeypatch.setattr(sandbox, "process_blocking_problem", lambda: None)
    with pytest.raises(RuntimeError, match=r"--sandbox bwrap: bwrap is not installed .* or grade with --sandbox none"):
        sandbox.resolve("bwrap")
    assert sandbox.resolve("auto") == "seccomp" and sandbox.resolve("none") == "seccomp"
    assert sandbox.describe("seccomp").startswith("NOT SANDBOXED") and "not installed" in sandbox.describe("seccomp")
    with pytest.raises(ValueError, match="--sandbox should be one of auto, bwrap, none, got 'docker'"):
        sandbox.resolve("docker")


def test_a_lost_process_filter_is_never_reported_as_the_full_sandbox(monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: None)
    monkeypatch.setattr(sandbox, "process_blocking_problem", lambda: "the seccomp filter cannot be installed (no libseccomp)")
    with pytest.raises(RuntimeError, match=r"--sandbox bwrap: the seccomp filter cannot be installed"):
        sandbox.resolve("bwrap")
    assert sandbox.resolve("auto") == "bwrap" and sandbox.resolve("none") == "none"
    settings = {"memory_mb": 100, "notebook_timeout": 10, "max_file_mb": 1, "tmp_mb": 8}
    line = sandbox.describe("bwrap", settings)
    assert line.startswith("NOT FULLY SANDBOXED") and "no libseccomp" in line and "processes: NOT blocked" in line
    assert "processes: NOT blocked" in " ".join(sandbox.limits("none", settings))
    assert "disk: NOT limited" in " ".join(sandbox.limits("none", settings))


def test_the_process_filter_works_here_or_says_why():
    problem = sandbox.process_blocking_problem()
    if problem is not None:
        pytest.skip(problem)
    assert sandbox.resolve("none") == "seccomp"


def test_the_sandbox_binds_only_the_environment_and_the_package():
    paths = sandbox.python_paths()
    assert ROOT not in paths and ROOT / "solutions" not in paths
    assert any((path / "__init__.py").is_file() and path.name == "mlpcore" for path in paths)
    options = sandbox.bwrap_options(paths, [Path("/somewhere/writable")], tmp_mb=8)
    assert options[-1] == "--" and ["--bind", "/somewhere/writable", "/somewhere/writable"] == options[-4:-1]
    assert "--unshare-all" in options and ["--cap-drop", "ALL"] == options[options.index("--cap-drop"):][:2]
    assert options[options.index("--size") + 1] == str(8 * 2**20)


def test_the_sandbox_module_says_what_a_kernel_is_held_to_here():
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "mlpcore.autograde.sandbox"], capture_output=True, text=True, timeout=120)
    full = sandbox.full_sandbox_problem() is None
    assert run.returncode == (0 if full else 1), run.stdout + run.stderr
    assert "memory: 2048 MB" in run.stdout and "processes:" in run.stdout and "disk:" in run.stdout
    assert ("every kernel ran in a bubblewrap sandbox" in run.stdout) == full, run.stdout
