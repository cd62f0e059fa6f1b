"""deploy/kubernetes: valid manifests with the structure a deployment relies on, whose
commands work as written.

No cluster runs here. The kustomization is rendered with ``kubectl kustomize`` (or
``kustomize build``) when one of them is installed, otherwise by reading the resources it
lists; every object is validated offline against the Kubernetes 1.30 schemas in strict mode
(kubernetes-validate: unknown fields are errors). Then the migration Job's, the API's and the
worker's commands run as processes with the environment the manifests give them, the Secrets
they reference filled with test values, against PostgreSQL: the external database they expect.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest
import yaml

from amtune.worker.demo import tuning_job_request
from tests.conftest import postgres_database
from tests.service.processes import free_port

REPO = Path(__file__).resolve().parents[2]
KUSTOMIZATION = REPO / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.30"

Manifest = dict[str, Any]


def kustomization() -> Manifest:
    document: Manifest = yaml.safe_load((KUSTOMIZATION / "kustomization.yaml").read_text())
    return document


def render() -> list[Manifest]:
    """The objects ``kubectl apply -k deploy/kubernetes`` would send."""
    if kubectl := shutil.which("kubectl"):
        command = [kubectl, "kustomize", str(KUSTOMIZATION)]
    elif kustomize := shutil.which("kustomize"):
        command = [kustomize, "build", str(KUSTOMIZATION)]
    else:
        return [
            yaml.safe_load((KUSTOMIZATION / name).read_text())
            for name in kustomization()["resources"]
        ]
    rendered = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


@pytest.fixture(scope="module")
def objects() -> dict[tuple[str, str], Manifest]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in render()}


def pod_spec(obj: Manifest) -> Manifest:
    spec: Manifest = obj["spec"]["template"]["spec"]
    return spec


def container(obj: Manifest) -> Manifest:
    (only,) = pod_spec(obj)["containers"]
    assert isinstance(only, dict)
    return only


def secret_refs(obj: Manifest) -> dict[str, tuple[str, str]]:
    refs = {}
    for item in container(obj).get("env", []):
        ref = item.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            refs[item["name"]] = (ref["name"], ref["key"])
    return refs


def env_of(obj: Manifest, secret_values: Mapping[tuple[str, str], str]) -> dict[str, str]:
    """The container's environment, with each referenced Secret key filled in."""
    env = {}
    for item in container(obj).get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = secret_values[(ref["name"], ref["key"])]
    return env


# --- static checks ------------------------------------------------------------------------


def test_every_object_is_valid_kubernetes(objects: dict[tuple[str, str], Manifest]) -> None:
    for obj in objects.values():
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    with pytest.raises(kubernetes_validate.ValidationError):
        broken = json.loads(json.dumps(objects[("Deployment", "amtune-api")]))
        broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_lists_every_manifest(objects: dict[tuple[str, str], Manifest]) -> None:
    files = {path.name for path in KUSTOMIZATION.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization()["resources"]) == files
    assert set(objects) == {
        ("Job", "amtune-migrate"),
        ("Deployment", "amtune-api"),
        ("Service", "amtune-api"),
        ("PodDisruptionBudget", "amtune-api"),
        ("Deployment", "amtune-worker"),
    }


def test_api_is_replicated_probed_served_and_protected(
    objects: dict[tuple[str, str], Manifest],
) -> None:
    api = objects[("Deployment", "amtune-api")]
    assert api["spec"]["replicas"] >= 2
    labels = api["spec"]["template"]["metadata"]["labels"]
    assert api["spec"]["selector"]["matchLabels"].items() <= labels.items()
    main = container(api)
    assert main["command"][:2] == ["amtune", "serve"]
    (port,) = main["ports"]
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    env = {item["name"]: item.get("value") for item in main["env"]}
    assert env["AMTUNE_HOST"] == "0.0.0.0"
    assert env["AMTUNE_PORT"] == str(port["containerPort"])
    # Long enough for a stopping process to finish its in-flight requests (cli.py).
    from amtune.cli import GRACEFUL_SHUTDOWN_SECONDS

    assert pod_spec(api)["terminationGracePeriodSeconds"] > GRACEFUL_SHUTDOWN_SECONDS

    service = objects[("Service", "amtune-api")]
    assert service["spec"]["selector"].items() <= labels.items()
    (service_port,) = service["spec"]["ports"]
    assert service_port["targetPort"] == port["name"]

    budget = objects[("PodDisruptionBudget", "amtune-api")]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert 1 <= budget["spec"]["minAvailable"] < api["spec"]["replicas"]


def test_migrations_run_as_a_job(objects: dict[tuple[str, str], Manifest]) -> None:
    job = objects[("Job", "amtune-migrate")]
    assert container(job)["command"] == ["amtune", "migrate"]
    assert pod_spec(job)["restartPolicy"] in {"OnFailure", "Never"}
    api = objects[("Deployment", "amtune-api")]
    assert secret_refs(job)["AMTUNE_DATABASE_URL"] == secret_refs(api)["AMTUNE_DATABASE_URL"], (
        "the Job migrates the database the API serves"
    )


def test_worker_pool_reaches_the_api_through_the_service(
    objects: dict[tuple[str, str], Manifest],
) -> None:
    worker = objects[("Deployment", "amtune-worker")]
    command = container(worker)["command"]
    assert command[:2] == ["amtune", "worker"]
    assert "--tuning-job" not in command, "a pool serves every tuning job of its team"
    service = objects[("Service", "amtune-api")]
    endpoint = command[command.index("--endpoint") + 1]
    assert endpoint == f"http://{service['metadata']['name']}:{service['spec']['ports'][0]['port']}"
    assert set(secret_refs(worker)) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    workdir = {item["name"]: item.get("value") for item in container(worker)["env"]}
    mounts = {m["mountPath"] for m in container(worker)["volumeMounts"]}
    assert workdir["AMTUNE_WORKDIR"] in mounts, "job directories go to a writable volume"


def test_secrets_are_referenced_never_inlined(objects: dict[tuple[str, str], Manifest]) -> None:
    assert not [key for key in objects if key[0] in {"Secret", "ConfigMap"}]
    assert "secretGenerator" not in kustomization()
    sensitive = re.compile(r"SECRET|PASSWORD|DATABASE_URL|ACCESS_KEY")
    documented = (KUSTOMIZATION / "kustomization.yaml").read_text()
    for obj in objects.values():
        if obj["kind"] not in {"Deployment", "Job"}:
            continue
        for item in container(obj).get("env", []):
            if sensitive.search(item["name"]):
                assert "value" not in item, f"{obj['metadata']['name']}: {item['name']} inlined"
        # Each referenced key is one the documented `kubectl create secret` commands create.
        for name, key in secret_refs(obj).values():
            assert f"kubectl create secret generic {name}" in documented
            assert f"--from-literal={key}=" in documented


def test_pods_run_as_the_images_user(objects: dict[tuple[str, str], Manifest]) -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    targets = set(re.findall(r"^FROM \S+ AS (\S+)$", dockerfile, flags=re.MULTILINE))
    image_targets = {"amtune": "api", "amtune-sample-worker": "sample-worker"}
    assert {image["name"] for image in kustomization()["images"]} == set(image_targets)
    for obj in objects.values():
        if obj["kind"] in {"Deployment", "Job"}:
            assert pod_spec(obj)["securityContext"]["runAsUser"] == 10001
            assert "USER 10001:10001" in dockerfile
            image = container(obj)["image"].split(":")[0]
            assert image_targets[image] in targets


# --- the commands, run -----------------------------------------------------------------------


@pytest.fixture
def external_database() -> Iterator[str]:
    """The external PostgreSQL the manifests point at, as a URL in the Secret."""
    yield from postgres_database()


def run(command: list[str], env: Mapping[str, str], **kwargs: Any) -> Any:
    return subprocess.run(
        command, env=dict(env), capture_output=True, text=True, check=False, **kwargs
    )


def as_process(command: list[str]) -> list[str]:
    """The container's command from this virtualenv (``amtune`` is the image's entry point)."""
    assert command[0] == "amtune"
    return [sys.executable, "-m", "amtune", *command[1:]]


@pytest.mark.slow
@pytest.mark.postgres
def test_the_manifests_commands_run(
    objects: dict[tuple[str, str], Manifest], external_database: str, tmp_path: Path
) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AMTUNE_", "AWS_"))}
    server_secret = {
        ("amtune-server", "database-url"): external_database,
        ("amtune-server", "secret-key"): secrets.token_hex(32),
    }

    job = objects[("Job", "amtune-migrate")]
    migrated = run(as_process(container(job)["command"]), {**base, **env_of(job, server_secret)},
                   timeout=120)  # fmt: skip
    assert (migrated.returncode, migrated.stdout.strip()) == (0, "migrated to head"), migrated

    api = objects[("Deployment", "amtune-api")]
    api_env = {**base, **env_of(api, server_secret)}
    # The one-off step of the README: a team (the API listens on 0.0.0.0, so it needs one).
    team = run([sys.executable, "-m", "amtune", "teams", "create", "k8s"], api_env, timeout=120)
    assert team.returncode == 0, team.stderr
    key = json.loads(team.stdout)

    port = free_port()  # the container's 8000 may be taken here
    api_env["AMTUNE_PORT"] = str(port)
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "api.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            as_process(container(api)["command"]), env=api_env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        probes = container(api)
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                ready = httpx.get(url + probes["readinessProbe"]["httpGet"]["path"], timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        alive = httpx.get(url + probes["livenessProbe"]["httpGet"]["path"], timeout=2)
        assert alive.json() == {"status": "ok"}
        assert httpx.get(f"{url}/v1/tuning-jobs").status_code == 403, "closed: teams exist"

        import boto3

        sm = boto3.client(
            "sagemaker", endpoint_url=url, region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        )  # fmt: skip
        sm.create_hyper_parameter_tuning_job(**tuning_job_request("k8s", max_jobs=1,
                                                                  max_parallel=1))  # fmt: skip

        worker = objects[("Deployment", "amtune-worker")]
        worker_secret = {
            ("amtune-worker-key", "access-key-id"): key["AccessKeyId"],
            ("amtune-worker-key", "secret-access-key"): key["SecretAccessKey"],
        }
        worker_env = {**base, **env_of(worker, worker_secret)}
        worker_env["AMTUNE_WORKDIR"] = str(tmp_path / "jobs")  # the pod's emptyDir
        # One tuning job (AMTUNE_TUNING_JOB), so that the worker ends when it does.
        worker_env["AMTUNE_TUNING_JOB"] = "k8s"
        command = [
            part.replace("http://amtune-api:8000", url).replace("/app/", f"{REPO}/")
            for part in container(worker)["command"]
        ]
        command[command.index("--") + 1] = sys.executable  # the image's python
        worked = run(as_process(command), worker_env, timeout=300)
        assert worked.returncode == 0, worked.stdout + worked.stderr
        described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="k8s")
        assert described["HyperParameterTuningJobStatus"] == "Completed"
    finally:
        server.terminate()
        assert server.wait(timeout=60) == 0, log.read_text()
