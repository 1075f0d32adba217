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
                        "airflow-dag-processor": "airflow dag-processor", "airflow-triggerer": "airflow triggerer",
                        "airflow-worker": "airflow celery worker"}


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
