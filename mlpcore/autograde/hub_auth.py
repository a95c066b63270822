"""The demo hub's authenticator (``make hub``): a password per account, on a hub that listens on
127.0.0.1 alone. Not for a class: the README shows PAM, LTI 1.3 and OAuth for that."""

from __future__ import annotations

import hmac
import json
from pathlib import Path

from jupyterhub.auth import Authenticator
from traitlets import Unicode


class PasswordFileAuthenticator(Authenticator):
    """Each account's own password, from a JSON file ``{"account": "password"}`` that only root reads."""

    passwords_file = Unicode(help="The JSON file of passwords (mode 600)").tag(config=True)

    async def authenticate(self, handler, data):
        known = json.loads(Path(self.passwords_file).read_text())
        name, given = data.get("username", ""), data.get("password", "")
        expected = known.get(name)
        # compare_digest: the time taken says nothing of how much of a password was right
        if expected is not None and hmac.compare_digest(expected.encode(), given.encode()):
            return name
        return None
