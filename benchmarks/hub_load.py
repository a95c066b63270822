"""A class on the course's JupyterHub at once: N students log in, start their servers and press Validate
on 02-forward together, while the hub is probed for how fast it still answers.

``python -m benchmarks.hub_load [--students 20]`` (or ``make bench-hub``; as root: it makes the accounts,
and deletes them after). Each student's server runs 02-forward (the solution's answers, uploaded
through the server's contents API) with nbgrader's Validate, which runs every cell and every check in
a kernel of the student's own server. Meanwhile, twice a second, it records:

- how long the hub's own page takes (``/hub/home``) and a student's JupyterLab page (``/user/NAME/lab``,
  through the proxy), idle and under load: the page loads' median, p95 and worst;
- every kernel the students' servers run: whether it has one BLAS thread (``OPENBLAS_NUM_THREADS`` and
  ``OMP_NUM_THREADS`` of 1 in its environment, from the spawner) and its most threads at once.

It prints a summary and writes ``benchmarks/out/hub_load.json``. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import requests

from mlpcore.autograde.hub import accounts
from mlpcore.autograde.hub_session import missing, pids_of, process_environment, running_hub
from mlpcore.autograde.sample_class import ASSIGNMENT, NOTEBOOK, fill, solution_answers

from .common import machine

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out"
PROBE_SECONDS = 0.5


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def _summary(values: list[float]) -> dict:
    if not values:
        return {"count": 0}
    return {"count": len(values), "median_s": statistics.median(values), "p95_s": _percentile(values, 0.95),
            "max_s": max(values)}


class Probe:
    """Three samplers, each in a thread of its own, twice a second until stopped: the hub's own page
    (``/hub/home``), a student's JupyterLab page through the proxy, and the students' kernels' threads."""

    def __init__(self, hub, students: list[str], uids: set[int]):
        self.hub, self.students, self.uids = hub, students, uids
        self.stopped = threading.Event()
        self.hub_pages, self.lab_pages, self.errors = [], [], []
        self.kernels = {}  # pid: {"one_blas_thread": bool, "max_threads": int}
        self.threads = [threading.Thread(target=self._every, args=(work,), daemon=True)
                        for work in (self._hub_page, self._lab_page, self._kernels)]
        self.turn, self.session = 0, None

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join()

    def _every(self, work) -> None:
        while not self.stopped.is_set():
            work()
            self.stopped.wait(PROBE_SECONDS)

    def _timed(self, record: list, account: str, path: str, session=None) -> None:
        started = time.monotonic()
        try:
            reply = (session.get(f"{self.hub.url}{path}", timeout=120, allow_redirects=False) if session
                     else self.hub.get(account, path))
            if reply.status_code != 200:
                self.errors.append(f"{path}: {reply.status_code}")
            else:
                record.append(time.monotonic() - started)
        except requests.RequestException as exc:
            self.errors.append(f"{path}: {exc}")

    def _hub_page(self) -> None:
        if self.session is None:  # the hub's pages take the login cookie, not a token
            self.session, _ = self.hub.login(self.students[0], self.hub.passwords[self.students[0]])
        self._timed(self.hub_pages, self.students[0], "/hub/home", self.session)

    def _lab_page(self) -> None:
        self.turn += 1
        student = self.students[self.turn % len(self.students)]
        self._timed(self.lab_pages, student, f"/user/{student}/lab")

    def _kernels(self) -> None:
        for pid in pids_of(self.uids):
            try:
                if b"ipykernel" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    continue
                environment = process_environment(pid)
                threads = int(next(line.split()[1] for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                                   if line.startswith("Threads:")))
            except (OSError, StopIteration):
                continue
            seen = self.kernels.setdefault(pid, {"max_threads": 0})
            seen["one_blas_thread"] = (environment.get("OPENBLAS_NUM_THREADS"), environment.get("OMP_NUM_THREADS")) \
                == ("1", "1")
            seen["max_threads"] = max(seen["max_threads"], threads)


def _upload(hub, student: str, notebook) -> None:
    base = f"{hub.url}/user/{student}/api/contents/{ASSIGNMENT}"
    headers = hub.token(student)
    requests.put(base, json={"type": "directory"}, headers=headers, timeout=120).raise_for_status()
    requests.put(f"{base}/{NOTEBOOK}.ipynb", json={"type": "notebook", "format": "json", "content": notebook},
                 headers=headers, timeout=120).raise_for_status()


def _validate(hub, student: str) -> dict:
    started = time.monotonic()
    reply = hub.post(student, f"/user/{student}/assignments/validate", data={"path": f"{ASSIGNMENT}/{NOTEBOOK}.ipynb"})
    seconds = time.monotonic() - started
    value = reply.json().get("value", {}) if reply.ok else {}
    passed = reply.ok and reply.json().get("success") and not any(value.get(key) for key in ("failed", "changed",
                                                                                              "passed_nothing"))
    return {"student": student, "seconds": seconds, "passed": bool(passed), "status": reply.status_code}


def run(students: int) -> dict:
    names = accounts("mlpload", students=students)
    release = nbformat.read(ROOT / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    answered = json.loads(nbformat.writes(fill(release, solution_answers(ROOT))))
    result = {"students": students, "machine": machine()}
    with running_hub(names) as hub, ThreadPoolExecutor(max_workers=students) as pool:
        people = names["students"]
        started = time.monotonic()
        list(pool.map(hub.token, people))  # each logs in through the form
        result["login_all_s"] = time.monotonic() - started
        started = time.monotonic()
        list(pool.map(hub.server, people))
        result["servers_ready_all_s"] = time.monotonic() - started
        list(pool.map(lambda student: _upload(hub, student, answered), people))

        import pwd

        probe = Probe(hub, people, {pwd.getpwnam(student).pw_uid for student in people})
        probe.start()
        time.sleep(5)  # the idle hub first
        idle = (len(probe.hub_pages), len(probe.lab_pages))
        started = time.monotonic()
        validations = list(pool.map(lambda student: _validate(hub, student), people))
        result["validate_all_s"] = time.monotonic() - started
        probe.stop()
    result["validations"] = validations
    result["validate"] = {**_summary([v["seconds"] for v in validations]),
                          "passed": sum(v["passed"] for v in validations)}
    result["hub_page_idle"] = _summary(probe.hub_pages[:idle[0]])
    result["hub_page_under_load"] = _summary(probe.hub_pages[idle[0]:])
    result["lab_page_idle"] = _summary(probe.lab_pages[:idle[1]])
    result["lab_page_under_load"] = _summary(probe.lab_pages[idle[1]:])
    result["probe_errors"] = probe.errors
    result["kernels"] = {"seen": len(probe.kernels),
                         "one_blas_thread": sum(k.get("one_blas_thread", False) for k in probe.kernels.values()),
                         "max_threads_in_a_kernel": max((k["max_threads"] for k in probe.kernels.values()), default=0)}
    return result


def _print(result: dict) -> None:
    def line(name, summary):
        if not summary.get("count"):
            return f"{name:<28} none"
        return (f"{name:<28} {summary['count']:>4} loads   median {summary['median_s']:.3f} s   "
                f"p95 {summary['p95_s']:.3f} s   worst {summary['max_s']:.3f} s")

    print(f"{result['students']} students on {result['machine']['cores']} cores ({result['machine']['cpu']})")
    print(f"logged in: {result['login_all_s']:.1f} s; servers ready: {result['servers_ready_all_s']:.1f} s; "
          f"every Validate done: {result['validate_all_s']:.1f} s")
    validate = result["validate"]
    print(f"Validate of {ASSIGNMENT}: {validate['passed']} of {result['students']} passed; per student median "
          f"{validate['median_s']:.1f} s, p95 {validate['p95_s']:.1f} s, worst {validate['max_s']:.1f} s")
    print(line("hub page, idle", result["hub_page_idle"]))
    print(line("hub page, under load", result["hub_page_under_load"]))
    print(line("JupyterLab page, idle", result["lab_page_idle"]))
    print(line("JupyterLab page, under load", result["lab_page_under_load"]))
    kernels = result["kernels"]
    print(f"kernels seen: {kernels['seen']}, with one BLAS thread: {kernels['one_blas_thread']}; most threads in one "
          f"kernel process: {kernels['max_threads_in_a_kernel']}")
    if result["probe_errors"]:
        print(f"probe errors ({len(result['probe_errors'])}): {result['probe_errors'][:5]}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hub_load", description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=20)
    args = parser.parse_args(argv)
    why = missing()
    if why:
        print(f"skipped: {why}")
        return 0
    result = run(args.students)
    _print(result)
    OUT.mkdir(exist_ok=True)
    (OUT / "hub_load.json").write_text(json.dumps(result, indent=1))
    print(f"wrote {OUT / 'hub_load.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
