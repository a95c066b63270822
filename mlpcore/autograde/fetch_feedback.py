"""``nbgrader fetch_feedback`` that brings a student only their own feedback.

nbgrader's own looks up every submission in the account's exchange cache (``Exchange.cache``, one per
account by default) and fetches the feedback of each. Where one account plays several students
(nbgrader's ``--student``: a teacher trying the course, a shared lab account), every student would get
the others' pages too. This one keeps what nbgrader found for the student's own submissions: the
cache entries ``STUDENT+ASSIGNMENT+TIMESTAMP`` of the student given (``--student``, otherwise the
account's login, as ``nbgrader submit`` names them). :func:`mlpcore.autograde.exchange.configure`
installs it as nbgrader's ``ExchangeFactory.fetch_feedback``.
"""

import os

from nbgrader.exchange.default import ExchangeFetchFeedback
from nbgrader.utils import get_username


class FetchFeedback(ExchangeFetchFeedback):
    """nbgrader's ``fetch_feedback``, for the student's own submissions in the cache only."""

    def init_src(self):
        super().init_src()
        student = self.coursedir.student_id if self.coursedir.student_id != "*" else get_username()
        assignment = self.coursedir.assignment_id or "*"
        own = set()  # the timestamps of this student's submissions of the assignment
        if os.path.isdir(self.cache_path):
            for name in os.listdir(self.cache_path):
                parts = name.split("+")
                if len(parts) == 3 and parts[0] == student and assignment in ("*", parts[1]):
                    own.add(parts[2])
        others = [found for found in self.feedback_files if found[1] not in own]
        if others:
            self.log.info("Left out the feedback of %d submission(s) in this cache made as other students than %s",
                          len(others), student)
        self.feedback_files = [found for found in self.feedback_files if found[1] in own]
