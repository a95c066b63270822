"""``make hub``'s configuration, checked without starting a hub (these run everywhere, root or not;
tests/test_hub.py starts one): what the hub is told, and the message a user without root reads."""

import os
from pathlib import Path

import pytest
from traitlets.config import Config

from mlpcore.autograde import hub

SETTINGS = {"port": 8765, "state": "/srv/hub", "exchange": "/srv/hub/exchange", "course": "/srv/hub/course",
            "python_bin": "/opt/hub/bin", "passwords_file": "/srv/hub/passwords.json",
            "proxy": "/opt/hub/configurable-http-proxy", "accounts": hub.accounts()}


def test_the_hub_listens_on_localhost_alone_with_its_password_file():
    c = Config()
    hub.configure(c, SETTINGS)
    assert (c.JupyterHub.ip, c.JupyterHub.port, c.JupyterHub.hub_ip) == ("127.0.0.1", 8765, "127.0.0.1")
    assert c.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:8767"
    assert c.JupyterHub.authenticator_class == "mlpcore.autograde.hub_auth.PasswordFileAuthenticator"
    assert c.Authenticator.allowed_users == {"mlpcore-instructor", "mlpcore-student1", "mlpcore-student2"}


def test_every_server_gets_one_blas_thread_the_exchange_and_the_students_jupyterlab():
    c = Config()
    hub.configure(c, SETTINGS)
    environment = c.Spawner.environment
    assert {environment[name] for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")} == {"1"}
    assert environment["MLPCORE_EXCHANGE"] == "/srv/hub/exchange"
    student_config = Path(environment["JUPYTER_CONFIG_PATH"])
    assert (student_config / "labconfig" / "page_config.json").is_file()  # formgrader, Create Assignment off
    assert c.Spawner.cmd == ["/opt/hub/bin/jupyterhub-singleuser"] and c.Spawner.default_url == "/lab"


def test_formgrader_is_the_courses_service_for_the_instructors_group_only():
    c = Config()
    hub.configure(c, SETTINGS)
    (service,) = c.JupyterHub.services
    assert (service["name"], service["user"], service["cwd"]) == ("mlpcore", "grader-mlpcore", "/srv/hub/course")
    assert "--ServerApp.default_url=/formgrader" in service["command"]
    assert c.JupyterHub.load_groups == {"formgrade-mlpcore": {"users": ["mlpcore-instructor"]},
                                        "nbgrader-mlpcore": {"users": ["mlpcore-student1", "mlpcore-student2"]}}
    (role,) = c.JupyterHub.load_roles
    assert role["groups"] == ["formgrade-mlpcore"] and role["scopes"] == ["access:services!service=mlpcore"]


def test_without_root_make_hub_says_why_and_changes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert hub.main(["setup", "--state", str(tmp_path / "state")]) == 2
    said = capsys.readouterr().err
    assert "run it as root" in said and "each student's files are their own" in said
    assert not (tmp_path / "state").exists()
    with pytest.raises(hub.HubNeedsRoot):
        hub.setup(tmp_path / "state")
