"""The file-system fence of an unsandboxed grading kernel (mlpcore/autograde/kernel.py): Python-level
writes outside the submission's folder are refused and recorded, by every route the standard library
offers, and reads (a read-only SQLite database among them) pass unrecorded.

Each attack runs in a fresh Python process with the fence installed, as in a grading kernel."""

import json
import subprocess
import sys
import textwrap

import pytest

ATTACKS = {
    "os.open with dir_fd": "fd = os.open(OUTSIDE, os.O_RDONLY)\nos.close(os.open('x.txt', os.O_WRONLY | os.O_CREAT, dir_fd=fd))",
    "os.unlink with dir_fd": "fd = os.open(OUTSIDE, os.O_RDONLY)\nos.unlink('victim.txt', dir_fd=fd)",
    "os.rename with dir_fd": "fd = os.open(OUTSIDE, os.O_RDONLY)\nos.rename('victim.txt', 'moved.txt', src_dir_fd=fd, dst_dir_fd=fd)",
    "os.mkfifo": "os.mkfifo(os.path.join(OUTSIDE, 'pipe'))",
    "os.mkfifo with dir_fd": "fd = os.open(OUTSIDE, os.O_RDONLY)\nos.mkfifo('pipe', dir_fd=fd)",
    "os.chmod of an open descriptor": "fd = os.open(os.path.join(OUTSIDE, 'victim.txt'), os.O_RDONLY)\nos.chmod(fd, 0o777)",
    "os.fchmod": "fd = os.open(os.path.join(OUTSIDE, 'victim.txt'), os.O_RDONLY)\nos.fchmod(fd, 0o777)",
    "SQLite ATTACH": ("import sqlite3\nc = sqlite3.connect(':memory:')\n"
                      "c.execute(f\"ATTACH DATABASE '{os.path.join(OUTSIDE, 'book.db')}' AS book\")\n"
                      "c.execute('create table book.t (x)')"),
    "open for writing": "open(os.path.join(OUTSIDE, 'victim.txt'), 'a').write('x')",
}
ALLOWED = {
    "writes inside the folder": ("open('mine.txt', 'w').write('fine')\nfd = os.open('.', os.O_RDONLY)\n"
                                 "os.close(os.open('other.txt', os.O_WRONLY | os.O_CREAT, dir_fd=fd))\nos.mkfifo('pipe')\n"
                                 "import sqlite3\nc = sqlite3.connect(':memory:')\nc.execute(\"ATTACH DATABASE 'local.db' AS l\")"),
    "a read-only SQLite database outside": ("import sqlite3\n"
                                            "c = sqlite3.connect(f'file:{os.path.join(OUTSIDE, \"book.db\")}?mode=ro', uri=True)\n"
                                           "c.execute('select count(*) from t').fetchone()"),
    "reading outside": "open(os.path.join(OUTSIDE, 'victim.txt')).read()",
}

RUNNER = '''
import os, sys
from mlpcore.autograde.kernel import install_fence
OUTSIDE = {outside!r}
install_fence({inside!r}, {log!r})
os.chdir({inside!r})
try:
{code}
    print("RESULT done")
except Exception as exc:
    print("RESULT refused" if "grading:" in str(exc) or "not authorized" in str(exc) else f"RESULT other {{exc!r}}")
'''


def _attempt(tmp_path, code: str) -> tuple[str, list]:
    inside, outside = tmp_path / "submission", tmp_path / "course"
    inside.mkdir()
    outside.mkdir()
    (outside / "victim.txt").write_text("the class's data")
    import sqlite3

    sqlite3.connect(outside / "book.db").execute("create table t (x)").connection.commit()
    log = tmp_path / "violations.jsonl"
    script = RUNNER.format(outside=str(outside), inside=str(inside), log=str(log), code=textwrap.indent(code, "    "))
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    result = [line for line in run.stdout.splitlines() if line.startswith("RESULT")]
    assert result, run.stderr
    recorded = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    untouched = ((outside / "victim.txt").stat().st_mode & 0o777 != 0o777
                 and sorted(p.name for p in outside.iterdir()) == ["book.db", "victim.txt"])
    return result[0], recorded, untouched


@pytest.mark.parametrize("route", ATTACKS)
def test_a_write_outside_the_folder_is_refused_and_recorded(tmp_path, route):
    result, recorded, untouched = _attempt(tmp_path, ATTACKS[route])
    assert result == "RESULT refused", result
    assert recorded and all(str(tmp_path / "course") in entry["path"] for entry in recorded), recorded
    assert untouched, "the folder outside was changed"


@pytest.mark.parametrize("case", ALLOWED)
def test_writes_inside_and_reads_anywhere_pass_unrecorded(tmp_path, case):
    result, recorded, _ = _attempt(tmp_path, ALLOWED[case])
    assert result == "RESULT done" and recorded == [], (result, recorded)
