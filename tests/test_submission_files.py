"""A submission's files are data: links and special files are named, never followed or opened;
the gradebook is checked and backed up before a grading run writes to it."""

import os
import sqlite3
from pathlib import Path

import pytest

from mlpcore.autograde import files, gradebook, worker
from mlpcore.autograde.grade import fingerprint


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "instructor" / "solution.ipynb"
    path.parent.mkdir()
    path.write_text("the instructor's solution")
    return path


def test_only_regular_files_are_read_and_the_rest_is_named(tmp_path, secret):
    folder = tmp_path / "submission"
    (folder / "sub").mkdir(parents=True)
    (folder / "answer.ipynb").write_text("mine")
    (folder / "sub" / "data.csv").write_text("1,2")
    (folder / "linked.ipynb").symlink_to(secret)
    (folder / "linked-folder").symlink_to(secret.parent, target_is_directory=True)
    os.link(secret, folder / "hard.ipynb")
    os.mkfifo(folder / "pipe")
    found = files.read_folder(folder)
    assert found.files == {"answer.ipynb": b"mine", "sub/data.csv": b"1,2"}
    refused = " | ".join(found.refused)
    assert f"linked.ipynb is a symbolic link (to {secret})" in refused
    assert "linked-folder is a symbolic link" in refused
    assert "hard.ipynb is a hard link (2 names for one file)" in refused
    assert "pipe is a FIFO (named pipe): only regular files are read" in refused
    assert files.folder_size(folder) == len(b"mine") + len(b"1,2")


def test_a_file_swapped_for_a_link_after_the_look_is_not_followed(tmp_path, secret):
    link = tmp_path / "answer.ipynb"
    link.symlink_to(secret)
    with pytest.raises(OSError):
        files.read_regular_file(link)  # O_NOFOLLOW on the open itself, whatever a walk saw before
    with pytest.raises(files.TooBig):
        files.read_regular_file(secret, max_bytes=3)


def test_a_job_carries_no_linked_bytes_and_names_the_links(tmp_path, secret):
    folder = tmp_path / "ada" / "02-forward"
    folder.mkdir(parents=True)
    (folder / "forward.ipynb").symlink_to(secret)
    job = worker.make_job("ada", "02-forward", folder, {}, {}, b"", {})
    assert job.files == {} and len(job.refused) == 1 and "symbolic link" in job.refused[0]
    assert b"the instructor's solution" not in repr(job).encode()


def test_a_changed_link_target_does_not_change_the_fingerprint(tmp_path, secret):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "answer.ipynb").symlink_to(secret)
    before = fingerprint(folder, "digest", {})
    secret.write_text("changed")
    assert fingerprint(folder, "digest", {}) == before  # the target is never read, not even to hash it


def test_writing_refuses_paths_that_leave_the_folder_and_existing_links(tmp_path, secret):
    with pytest.raises(ValueError, match="not a path inside"):
        files.write_tree(tmp_path / "out", {"../escape.txt": b"x"})
    (tmp_path / "out").mkdir(exist_ok=True)
    (tmp_path / "out" / "graded.ipynb").symlink_to(secret)
    with pytest.raises(FileExistsError):
        files.write_tree(tmp_path / "out", {"graded.ipynb": b"overwrite"})
    assert secret.read_text() == "the instructor's solution"


def _gradebook(path: Path) -> None:
    with sqlite3.connect(path) as database:
        database.execute("create table grades (student text, score real)")
        database.execute("insert into grades values ('ada', 9)")


def test_each_run_backs_the_gradebook_up_and_keeps_the_newest(tmp_path, monkeypatch):
    assert gradebook.back_up(tmp_path) is None  # nothing to back up yet
    _gradebook(tmp_path / "gradebook.db")
    monkeypatch.setattr(gradebook, "BACKUPS_KEPT", 2)
    copies = [gradebook.back_up(tmp_path) for _ in range(3)]
    kept = sorted((tmp_path / "backups").glob("gradebook-*.db"))
    assert kept == copies[1:]
    with sqlite3.connect(kept[-1]) as database:
        assert database.execute("select * from grades").fetchall() == [("ada", 9.0)]


def test_a_damaged_gradebook_stops_the_run_and_names_the_backup(tmp_path):
    _gradebook(tmp_path / "gradebook.db")
    backup = gradebook.back_up(tmp_path)
    (tmp_path / "gradebook.db").write_text('{"cells": []}')  # what nbgrader wrote through a kernel's link
    with pytest.raises(gradebook.DamagedGradebook, match=rf"is not an SQLite database .*newest backup is {backup}"):
        gradebook.back_up(tmp_path)
    assert (tmp_path / "gradebook.db").read_text() == '{"cells": []}'  # left as it is, for the instructor
