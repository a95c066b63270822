"""The course's JupyterHub configuration (``jupyterhub -f``), from the settings ``make hub`` wrote into
``$MLPCORE_HUB_STATE/hub.json``: see mlpcore/autograde/hub.py."""

import json
import os
from pathlib import Path

from mlpcore.autograde.hub import configure

configure(c, json.loads(Path(os.environ["MLPCORE_HUB_STATE"], "hub.json").read_text()))  # noqa: F821 (c: traitlets')
