"""Course tooling around nbgrader: release, parallel autograding that survives bad submissions,
feedback, the class report, a local check for self-study, and the demo class.

- :mod:`.grade` grades a class (``mlpcore grade``) and records it;
- :mod:`.worker` grades one submission in a scratch folder and child process;
- :mod:`.submission` reads a submission and restores the course's cells;
- :mod:`.execute` and :mod:`.kernel` run it with time, memory, output and file-system limits;
- :mod:`.outcome` turns the autograded notebooks into statuses, scores and named mistakes;
- :mod:`.gradebook` keeps the class's nbgrader gradebook;
- :mod:`.report`, :mod:`.feedback`, :mod:`.selfcheck`, :mod:`.sample_class` and :mod:`.commands`
  are the report, the feedback pages, ``mlpcore check``, the demo class and the command line.
"""
