"""nbgrader's settings in the students' JupyterLab (mlpcore lab): the course id, the exchange, and the
folder the file browser shows as the Assignment List's folder (see mlpcore/autograde/exchange.py)."""

from mlpcore.autograde.exchange import configure

configure(c)  # noqa: F821 (c is provided by traitlets when nbgrader loads this file)
