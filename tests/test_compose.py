"""docker-compose.yml and the Dockerfile stay consistent with the repository (no Docker needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
AIRFLOW_SERVICES = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


def test_the_stack_has_every_service(compose) -> None:
    services = compose["services"]
    assert {"postgres", "redis", "airflow-init"} | AIRFLOW_SERVICES <= set(services)
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    commands = {name: " ".join(services[name]["command"]) for name in AIRFLOW_SERVICES}
    assert commands == {"airflow-apiserver": "airflow api-server", "airflow-scheduler": "airflow scheduler",
                        "airflow-dag-processor": "airflow dag-processor",
                        "airflow-triggerer": "airflow triggerer --skip-serve-logs",
                        "airflow-worker": "airflow celery worker --skip-serve-logs"}


def test_airflow_services_use_the_project_image_and_celery(compose) -> None:
    for name in AIRFLOW_SERVICES | {"airflow-init"}:
        service = compose["services"][name]
        assert service["image"] == "nianbao-airflow:latest"
        build = service["build"]
        assert (REPO / build["context"] / build["dockerfile"]).is_file()
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg://")
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")
        assert env["NIANBAO_WAREHOUSE_URL"].startswith("postgresql+psycopg://")
        if name != "airflow-init":
            assert service["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_mounted_paths_exist_and_volumes_are_declared(compose) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for mount in service.get("volumes", []):
            source, target = mount.split(":")[:2]
            assert target.startswith("/"), (name, mount)
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), f"{name} mounts {source}, which is not in the repository"
            else:
                assert source in declared, f"{name} uses the undeclared volume {source}"
    dags_folder = compose["services"]["airflow-scheduler"]["environment"]["AIRFLOW__CORE__DAGS_FOLDER"]
    mounts = dict(m.split(":")[:2][::-1] for m in compose["services"]["airflow-scheduler"]["volumes"])
    assert mounts[dags_folder] == "./dags"


def test_init_commands_exist_in_the_code(compose) -> None:
    from typer.main import get_command

    from nianbao.cli import app
    from nianbao.stages.__main__ import main as stages_main

    script = "\n".join(compose["services"]["airflow-init"]["command"])
    assert "nianbao db upgrade" in script and "db" in get_command(app).commands  # type: ignore[attr-defined]
    for sub in re.findall(r"python -m nianbao\.stages (\S+)", script):
        with pytest.raises(SystemExit) as exited:
            stages_main([sub, "--help"])
        assert exited.value.code == 0


def test_the_dockerfile_copies_what_exists() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    copied = [part for line in dockerfile.splitlines() if line.startswith("COPY ")
              for part in line.split()[1:-1]]
    assert "requirements.lock" in copied and "dags" in copied and "nianbao" in copied
    for path in copied:
        assert (REPO / path).exists(), f"the Dockerfile copies {path}, which is not in the repository"
    ignored = [line.strip() for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    assert ".venv" in ignored and "var" in ignored
    assert not set(copied) & set(ignored)


@pytest.mark.postgres
def test_the_init_step_creates_the_warehouse_role_and_database_once(postgres_server) -> None:
    """What `airflow-init` runs first: `python -m nianbao.stages create-database URL --admin-url ADMIN`."""
    import uuid

    from sqlalchemy import create_engine, make_url, text

    from nianbao.stages.__main__ import create_database

    name = f"nianbao_init_{uuid.uuid4().hex[:10]}"
    url = make_url(postgres_server).set(username=name, password=f"pw-{name}", database=name) \
        .render_as_string(hide_password=False)
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    try:
        assert create_database(url, postgres_server) == f"database {name} ready"
        assert create_database(url, postgres_server) == f"database {name} ready"   # twice: no error
        owned = create_engine(url)
        try:
            with owned.connect() as conn:
                assert conn.scalar(text("SELECT current_user")) == name
                conn.execute(text("CREATE TABLE t (x int)"))   # the role owns its database
        finally:
            owned.dispose()
        assert create_database("sqlite:///var/x.db", postgres_server) == "sqlite: nothing to create"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()


# ---------------------------------------------------------------- production settings

def required_secrets() -> dict[str, str]:
    from stack.cluster import generated_secrets

    return generated_secrets()


def test_the_stack_refuses_to_start_without_its_secrets(compose) -> None:
    from stack.compose import ComposeError, environment

    secrets = required_secrets()
    environment(compose, "airflow-scheduler", secrets)      # all given: accepted
    for name in secrets:
        if name == "AIRFLOW_ADMIN_PASSWORD":
            continue
        missing = {k: v for k, v in secrets.items() if k != name}
        with pytest.raises(ComposeError, match=name):
            environment(compose, "airflow-scheduler", missing)
        with pytest.raises(ComposeError, match=name):
            environment(compose, "airflow-scheduler", {**missing, name: ""})


def test_every_airflow_service_shares_the_secrets_airflow_needs(compose) -> None:
    from stack.compose import environment

    for name in AIRFLOW_SERVICES | {"airflow-init"}:
        env = environment(compose, name, required_secrets())
        assert len(env["AIRFLOW__API_AUTH__JWT_SECRET"]) >= 64          # Airflow warns below 64 bytes
        assert env["AIRFLOW__CORE__FERNET_KEY"] and env["AIRFLOW__API__SECRET_KEY"]
        # the async engine uses psycopg too: no asyncpg in the image
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"].startswith("postgresql+psycopg://")
        assert int(env["AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT"]) >= 3600


def test_the_compose_environment_is_valid_nianbao_settings(compose, monkeypatch) -> None:
    """Optional settings are passed as `${NAME:-}`: empty must mean unset, not a parse error."""
    from nianbao.settings import ENV_PREFIX, Settings
    from stack.compose import environment

    env = environment(compose, "airflow-worker", required_secrets())
    nianbao = {k: v for k, v in env.items() if k.startswith(ENV_PREFIX)}
    assert "NIANBAO_ALERT_SMTP_PORT" in nianbao and nianbao["NIANBAO_ALERT_SMTP_PORT"] == ""
    for name in list(__import__("os").environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    for name, value in nianbao.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.alert_smtp_port is None and settings.warehouse.startswith("postgresql+psycopg://")


def test_every_long_running_service_has_a_healthcheck_and_serves_no_logs(compose) -> None:
    services = compose["services"]
    for name in AIRFLOW_SERVICES | {"postgres", "redis"}:
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    for name in ("airflow-triggerer", "airflow-worker"):
        assert "--skip-serve-logs" in services[name]["command"], name   # logs come from the shared volume
        volumes = [m.split(":")[1] for m in services[name]["volumes"]]
        assert "/opt/airflow/logs" in volumes


def test_the_image_installs_the_runtime_lock_without_dev_tools() -> None:
    runtime = (REPO / "requirements.lock").read_text(encoding="utf-8")
    dev = (REPO / "requirements-dev.lock").read_text(encoding="utf-8")
    pinned = set(re.findall(r"^([a-z0-9_.-]+)==", runtime, re.M))
    for tool in ("pytest", "ruff", "mypy", "hypothesis", "reportlab"):
        assert tool not in pinned, f"{tool} is in the image's lock"
        assert re.search(rf"^{tool}==", dev, re.M), f"{tool} is missing from the dev lock"
    dev_pins = dict(re.findall(r"^([a-z0-9_.-]+)==(\S+)", dev, re.M))
    assert {name: version for name, version in re.findall(r"^([a-z0-9_.-]+)==(\S+)", runtime, re.M)
            if dev_pins.get(name) != version} == {}, "the two locks pin different versions"
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "requirements.lock" in dockerfile and "requirements-dev.lock" not in dockerfile
