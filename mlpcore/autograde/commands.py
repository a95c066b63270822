"""The course commands of ``mlpcore``: release, grade, feedback, report, similarity, check and demo.

The course root (the folder with ``nbgrader_config.py``, ``solutions/`` and
``course/``) is ``--course-root``, else the current folder when it is one, else
the source checkout this package was installed from.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import course
from ..course import course_root
from . import sandbox, worker

DEMO_OUTPUT = Path("grading") / "demo"


def _positive(kind):
    def parse(text):
        value = kind(text)
        if not 0 < value < float("inf"):  # also refuses nan, for which every comparison is false
            raise argparse.ArgumentTypeError(f"should be a positive number, got {text}")
        return value
    return parse


def _root_option(parser) -> None:
    parser.add_argument("--course-root", metavar="DIR", help="the course root (default: here, or the source checkout)")


def _output_option(parser, default="grading") -> None:
    parser.add_argument("--output", type=Path, default=None, metavar="DIR",
                        help=f"the grading folder (default: COURSE_ROOT/{default})")


def _grading_options(parser) -> None:
    parser.add_argument("--workers", type=_positive(int), default=None,
                        help="parallel grading processes (default: one per core)")
    parser.add_argument("--timeout", type=_positive(float), default=worker.DEFAULT_SETTINGS["notebook_timeout"],
                        metavar="S", help="time limit per notebook in seconds (default: %(default)g)")
    parser.add_argument("--cell-timeout", type=_positive(int), default=worker.DEFAULT_SETTINGS["cell_timeout"],
                        metavar="S", help="time limit per cell; a cell over it is interrupted (default: %(default)s)")
    parser.add_argument("--memory", type=_positive(int), default=worker.DEFAULT_SETTINGS["memory_mb"], metavar="MB",
                        help="memory limit per kernel in MB (default: %(default)s)")
    parser.add_argument("--disk", type=_positive(int), default=worker.DEFAULT_SETTINGS["tmp_mb"], metavar="MB",
                        help="in bubblewrap, the size of each of a kernel's writable folders (/tmp, /dev/shm, home, "
                             "working folder), in MB of memory (default: %(default)s)")
    parser.add_argument("--kernel-start-timeout", type=_positive(int),
                        default=worker.DEFAULT_SETTINGS["kernel_startup_timeout"], metavar="S",
                        help="seconds a kernel has to start; a submission whose kernel did not start is graded "
                             f"again, up to {worker.GRADER_RETRIES} times, with twice as long each time (default: %(default)s)")
    parser.add_argument("--sandbox", choices=sandbox.CHOICES, default=worker.DEFAULT_SETTINGS["sandbox"],
                        help="run each kernel in bubblewrap and unable to start processes (bwrap: an error where "
                             "either cannot work), with the file-system fence and the process filter only (none), "
                             "or with what works here (auto, the default; the output says what was in force)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="grade on an existing Dask cluster (e.g. tcp://10.0.0.5:8786) instead of this machine")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _settings(args) -> dict:
    return {"notebook_timeout": args.timeout, "cell_timeout": min(args.cell_timeout, int(args.timeout)),
            "memory_mb": args.memory, "kernel_startup_timeout": args.kernel_start_timeout, "sandbox": args.sandbox,
            "tmp_mb": args.disk}


def run_release(args) -> int:
    written = course.release(course_root(args.course_root), args.assignments)
    for path in written:
        print(f"released {path}")
    return 0


def gradebook_table(results) -> str:
    """The class's scores as a text table, one line per student."""
    lines = [f"{'student':<14} {'score':>11}  {'status':<16} reason", "-" * 78]
    for result in results:
        reason = result["reasons"][0] if result["reasons"] else ""
        lines.append(f"{result['student_id']:<14} {result['score']:>5g} / {result['max_score']:<3g}  "
                     f"{result['status']:<16} {reason[:60]}")
    return "\n".join(lines)


def _grade(root: Path, assignment: str, submissions: Path, output: Path, args, force=False) -> dict:
    from .grade import grade_class

    return grade_class(root, assignment, submissions, output, workers=args.workers, settings=_settings(args),
                       scheduler=args.scheduler, progress=not args.no_progress, force=force,
                       feedback=not getattr(args, "no_feedback", False))


def formgrader_command(root: Path, output: Path) -> str:
    """The command that opens formgrader on the class graded into ``output``."""
    output = Path(output).resolve()
    if output == root / "grading":
        return "make formgrader   (or: mlpcore lab --instructor)"
    if output.is_relative_to(root):
        relative = output.relative_to(root)
        return f"make formgrader GRADING={relative}   (or: mlpcore lab --instructor --grading {relative})"
    # Outside the course root formgrader cannot be served from it; nbgrader_config.py there points at the course.
    return f"cd {output} && jupyter lab   (mlpcore grade wrote an nbgrader_config.py there)"


def _print_locations(root: Path, output: Path, assignment: str) -> None:
    print(f"\ngradebook    {output / 'gradebook.db'}   (nbgrader export, run in {output}, writes nbgrader-export.csv)")
    print(f"formgrader   {formgrader_command(root, output)}")
    print(f"grades       {output / 'grades.csv'}  and per exercise {output / 'exercises.csv'}")
    print(f"feedback     {output / 'feedback'}/<student>/{assignment}/")
    print(f"report       {output / f'report-{assignment}.html'}  and .png")
    print(f"copying      mlpcore similarity {assignment}   (which answers look copied; the report links it)")


def run_grade(args) -> int:
    root = course_root(args.course_root)
    output = args.output or root / "grading"
    submissions = args.submissions or root / "grading" / "submitted"
    done = _grade(root, args.assignment, submissions, output, args, force=args.force)
    print(gradebook_table(done["outcomes"]))
    _print_locations(root, output, args.assignment)
    return 0


def run_feedback(args) -> int:
    from .feedback import write_feedback

    root = course_root(args.course_root)
    output = args.output or root / "grading"
    written = write_feedback(root, output, args.assignment, students=args.students or None)
    if not written:
        raise FileNotFoundError(f"nothing graded for {args.assignment} in {output}: run mlpcore grade first")
    print(f"wrote {len(written)} feedback pages under {output / 'feedback'}")
    return 0


def run_report(args) -> int:
    from .grade import load_outcomes
    from .report import write_report

    root = course_root(args.course_root)
    output = args.output or root / "grading"
    outcomes = load_outcomes(output, args.assignment)
    if not outcomes:
        raise FileNotFoundError(f"nothing graded for {args.assignment} in {output}: run mlpcore grade first")
    written = write_report(outcomes, output, args.assignment)
    print(f"report: {written['html']} and {written['png']}")
    return 0


def run_similarity(args) -> int:
    from .grade import load_outcomes
    from .report import write_report
    from .similarity import similarity_report

    root = course_root(args.course_root)
    output = args.output or root / "grading"
    summary = similarity_report(root, output, args.assignment, known=args.known, bank=args.bank, workers=args.workers)
    print(f"{summary['students']} submissions of {args.assignment} compared in {summary['seconds']:.1f} s")
    for exercise in summary["exercises"]:
        pairs, clusters, matches = (exercise[key] for key in ("flagged_pairs", "clusters", "flagged_source_matches"))
        found = ("too short to tell" if exercise["too_short"] else
                 f"{pairs} pair{'s' * (pairs != 1)} flagged, {clusters} cluster{'s' * (clusters != 1)}, "
                 f"{matches} match{'es' * (matches != 1)} with a public source flagged")
        print(f"  {exercise['exercise']:<24} {found}")
    print(f"similarity report  {summary['index']}   (names students: for the instructor only)")
    outcomes = load_outcomes(output, args.assignment)
    if outcomes:  # the class report links the similarity report
        print(f"class report       {write_report(outcomes, output, args.assignment)['html']}")
    return 0


def run_check(args) -> int:
    from .selfcheck import check_notebook, format_report

    result = check_notebook(args.notebook, timeout=args.cell_timeout,
                            progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(format_report(result))
    return 0


def run_demo(args) -> int:
    from .sample_class import ASSIGNMENT, STUDENTS, expected_statuses, write_sample_class

    root = course_root(args.course_root)
    output = args.output or root / DEMO_OUTPUT
    submissions = output / "submitted"
    print(f"1. release: nbgrader generate_assignment {ASSIGNMENT} -> {root / course.RELEASE_DIRECTORY / ASSIGNMENT}")
    course.release(root, [ASSIGNMENT])
    write_sample_class(root, submissions)
    print(f"2. a sample class of {len(STUDENTS)} students in {submissions}:")
    for student, (description, _) in STUDENTS.items():
        print(f"     {student:<5} {description}")
    print("3. grade in parallel (feedback and the class report come with it):")
    done = _grade(root, ASSIGNMENT, submissions, output, args)
    print()
    print(gradebook_table(done["outcomes"]))
    _print_locations(root, output, ASSIGNMENT)
    expected = expected_statuses()
    wrong = {r["student_id"]: r["status"] for r in done["outcomes"] if expected.get(r["student_id"]) != r["status"]}
    if wrong:
        print(f"\nunexpected statuses (expected {[expected[s] for s in wrong]}): {wrong}", file=sys.stderr)
        return 1
    return 0


def add_commands(commands) -> None:
    """Add the course commands to ``mlpcore``'s sub-command parser."""
    release = commands.add_parser("release", help="regenerate course/ from solutions/ with nbgrader")
    release.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all")
    _root_option(release)
    release.set_defaults(run=run_release)

    grade = commands.add_parser("grade", help="autograde a class in parallel (gradebook, grades.csv, feedback, report)")
    grade.add_argument("assignment", metavar="ASSIGNMENT")
    grade.add_argument("--submissions", type=Path, metavar="DIR",
                       help="DIR/<student>/ASSIGNMENT/<notebook>.ipynb (default: COURSE_ROOT/grading/submitted)")
    _output_option(grade)
    _grading_options(grade)
    grade.add_argument("--force", action="store_true", help="regrade every submission, changed or not")
    grade.add_argument("--no-feedback", action="store_true", help="skip the feedback pages")
    _root_option(grade)
    grade.set_defaults(run=run_grade)

    feedback = commands.add_parser("feedback", help="per-student HTML feedback (no hidden test code)")
    feedback.add_argument("assignment", metavar="ASSIGNMENT")
    feedback.add_argument("--students", nargs="*", metavar="STUDENT", help="default: everyone graded")
    _output_option(feedback)
    _root_option(feedback)
    feedback.set_defaults(run=run_feedback)

    report = commands.add_parser("report", help="the class report: score distribution, hardest exercises, statuses")
    report.add_argument("assignment", metavar="ASSIGNMENT")
    _output_option(report)
    _root_option(report)
    report.set_defaults(run=run_report)

    similarity = commands.add_parser(
        "similarity", help="which answers of a graded class look copied (from each other, the reference, known "
                           "solutions): ranked pairs with side-by-side views; flags, never changes a score")
    similarity.add_argument("assignment", metavar="ASSIGNMENT")
    _output_option(similarity)
    similarity.add_argument("--known", type=Path, metavar="DIR",
                            help="a folder of known solutions (.py files or notebooks) to match answers with")
    similarity.add_argument("--bank", type=Path, metavar="DIR",
                            help="a folder of independently written solutions: they make the weights better")
    similarity.add_argument("--workers", type=_positive(int), default=None,
                            help="processes reading the class (default: one per core)")
    _root_option(similarity)
    similarity.set_defaults(run=run_similarity)

    check = commands.add_parser("check", help="score one notebook locally, hidden tests included (self-study)")
    check.add_argument("notebook", type=Path, metavar="NOTEBOOK.ipynb")
    check.add_argument("--cell-timeout", type=_positive(int), default=120, metavar="S")
    check.set_defaults(run=run_check)

    demo = commands.add_parser("demo", help="release, grade, feedback and report for an embedded sample class")
    _output_option(demo, default=str(DEMO_OUTPUT))
    _grading_options(demo)
    _root_option(demo)
    demo.set_defaults(run=run_demo, timeout=120.0, cell_timeout=10)

    from .lab import add_lab_command

    add_lab_command(commands)
