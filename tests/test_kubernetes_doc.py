"""docs/kubernetes.md: every snippet on the page loads. YAML blocks are parsed (and what the page says
of them holds: a ReadWriteMany exchange, one BLAS thread per kernel, the formgrader service and its role),
Python blocks, and the chart's ``hub.extraConfig``, run against a traitlets configuration, the
``mlpcore grade`` lines parse with mlpcore's own command line, and the Dockerfile copies files that exist."""

import re
import shlex
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from traitlets.config import Config

from mlpcore.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "kubernetes.md"
DOCKERFILE_INSTRUCTIONS = {"FROM", "RUN", "COPY", "ADD", "ENV", "USER", "WORKDIR", "ARG", "LABEL", "EXPOSE",
                           "ENTRYPOINT", "CMD", "VOLUME", "SHELL", "HEALTHCHECK", "STOPSIGNAL", "ONBUILD"}


def _blocks(language: str) -> list[str]:
    text = PAGE.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def _documents() -> list[dict]:
    return [document for block in _blocks("yaml") for document in yaml.safe_load_all(block) if document]


def _run_config(code: str) -> Config:
    """Python configuration as JupyterHub or nbgrader runs it: ``c`` and ``get_config`` given."""
    config = Config()
    exec(compile(code, str(PAGE), "exec"), {"c": config, "get_config": lambda: config})
    return config


def test_every_block_has_a_language_this_test_reads():
    fences = re.findall(r"^```(\w*)$", PAGE.read_text(encoding="utf-8"), flags=re.MULTILINE)
    languages = fences[::2]  # opening fences (the closing ones have no language)
    assert set(languages) <= {"yaml", "python", "sh", "dockerfile"}, languages
    assert all(fence == "" for fence in fences[1::2])
    assert len(_blocks("yaml")) == 3 and len(_blocks("python")) == 1


def test_the_chart_values_give_each_kernel_one_blas_thread_and_mount_the_exchange():
    (values,) = [document for document in _documents() if "singleuser" in document]
    environment = values["singleuser"]["extraEnv"]
    assert {environment[name] for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")} == {"1"}
    assert Path(environment["JUPYTER_CONFIG_PATH"]).relative_to("/opt/mlpcore") == Path(
        "mlpcore/autograde/student_jupyter")
    assert (ROOT / "mlpcore" / "autograde" / "student_jupyter").is_dir()
    storage = values["singleuser"]["storage"]
    assert storage["extraVolumes"][0]["persistentVolumeClaim"]["claimName"] == "nbgrader-exchange"
    assert storage["extraVolumeMounts"][0]["mountPath"] == environment["MLPCORE_EXCHANGE"]

    hub = values["hub"]
    assert hub["loadRoles"]["grade-mlpcore"]["scopes"] == ["access:services!service=mlpcore"]
    assert hub["loadRoles"]["grade-mlpcore"]["groups"] == ["formgrade-mlpcore"]
    assert "formgrade-mlpcore" in hub["config"]["JupyterHub"]["load_groups"]
    assert hub["services"]["mlpcore"]["url"] == "http://mlpcore-formgrader:8888"


def test_the_chart_extra_config_runs_and_gives_each_person_a_uid_of_their_own():
    (values,) = [document for document in _documents() if "singleuser" in document]
    for code in values["hub"]["extraConfig"].values():
        config = _run_config(code)
    uid = config.KubeSpawner.uid
    spawner = lambda user_id: SimpleNamespace(user=SimpleNamespace(id=user_id, name=f"u{user_id}"))  # noqa: E731
    uids = {uid(spawner(user_id)) for user_id in range(1, 2001)}
    assert len(uids) == 2000 and min(uids) > 65535  # unique, and clear of the image's own accounts
    assert config.KubeSpawner.fs_gid == config.KubeSpawner.gid == 100


def test_the_exchange_is_a_read_write_many_volume_opened_as_nbgrader_requires():
    by_kind = {}
    for document in _documents():
        if "kind" in document:
            by_kind.setdefault(document["kind"], []).append(document)
    (claim,) = by_kind["PersistentVolumeClaim"]
    assert claim["metadata"]["name"] == "nbgrader-exchange" and claim["spec"]["accessModes"] == ["ReadWriteMany"]
    (job,) = by_kind["Job"]
    assert "chmod 1777 /srv/nbgrader/exchange" in " ".join(job["spec"]["template"]["spec"]["containers"][0]["command"])


def test_formgrader_runs_as_the_service_the_chart_names_with_the_sandbox_it_needs():
    (deployment,) = [document for document in _documents() if document.get("kind") == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["seccompProfile"]["type"] == "Unconfined"
    assert pod["securityContext"]["runAsUser"] != 0
    (container,) = pod["containers"]
    environment = {entry["name"]: entry.get("value") for entry in container["env"]}
    assert environment["JUPYTERHUB_SERVICE_NAME"] == "mlpcore"
    assert environment["JUPYTERHUB_SERVICE_PREFIX"] == "/services/mlpcore/"
    assert environment["JUPYTERHUB_CLIENT_ID"] == "service-mlpcore"
    assert "--ServerApp.default_url=/formgrader" in container["command"]
    (service,) = [document for document in _documents() if document.get("kind") == "Service"]
    assert service["metadata"]["name"] == deployment["metadata"]["name"]


def test_the_python_configuration_loads_with_the_plugins_it_names():
    from mlpcore.autograde.late import plugin
    from mlpcore.autograde.lms import CanvasExportPlugin

    (code,) = _blocks("python")
    config = _run_config(code)
    late = plugin(config)
    assert (late.per_day, late.cap, late.grace_minutes) == (0.20, 1.0, 5)
    canvas = CanvasExportPlugin(config=config)
    assert (canvas.id_column, canvas.column_names) == ("SIS User ID", {"02-forward": "Forward pass (4321)"})


@pytest.mark.parametrize("line", [line for block in _blocks("sh") for line in block.splitlines() if line.strip()])
def test_each_command_parses_with_mlpcores_command_line(line):
    words = shlex.split(line)
    assert words[0] == "mlpcore"
    args = build_parser().parse_args(words[1:])
    assert args.scheduler == "tcp://dask-scheduler:8786"


def test_the_dockerfile_copies_what_the_repository_has():
    (dockerfile,) = _blocks("dockerfile")
    lines = [line for line in dockerfile.splitlines() if line.strip() and not line.startswith("#")]
    assert {line.split()[0] for line in lines} <= DOCKERFILE_INSTRUCTIONS
    assert lines[0].startswith("FROM ")
    for line in lines:
        if line.startswith("COPY "):
            source = [word for word in line.split()[1:] if not word.startswith("--")][0]
            assert (ROOT / source).exists(), line
    assert "bubblewrap" in dockerfile and "python -m mlpcore.autograde.exchange --install" in dockerfile
