"""The one settings model: its documentation, its secrets, its paths (from NIANBAO_HOME, never the
current directory); read commands that never create a warehouse; a registry error that stops a
harvest; and a crawl process that is told its settings by its parent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nianbao.settings import ENV_PREFIX, Settings, configuration_markdown
from nianbao.stages.context import StageContext

ROOT = Path(__file__).resolve().parents[1]
SANDBOX_SOURCES = yaml.safe_load((ROOT / "sources" / "sandbox.yaml").read_text(encoding="utf-8"))


def clean_env(**variables: str) -> dict[str, str]:
    """This environment without any NIANBAO_ variable, plus these."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    return {**env, **{f"{ENV_PREFIX}{name.upper()}": value for name, value in variables.items()}}


def nianbao(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nianbao", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120)


def files_under(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*")) if directory.exists() else []


# ---------------------------------------------------------------- the model
def test_docs_configuration_is_generated_from_the_model() -> None:
    documented = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert documented == configuration_markdown(), "run `python -m nianbao.settings > docs/configuration.md`"
    for name in Settings.model_fields:
        assert f"`{ENV_PREFIX}{name.upper()}`" in documented


def test_paths_derive_from_the_home_directory_not_the_current_one(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NIANBAO_HOME", str(tmp_path / "home"))
    settings = Settings()
    assert settings.data_path == tmp_path / "home"
    assert settings.warehouse == f"sqlite:///{tmp_path / 'home' / 'warehouse.db'}"
    assert settings.raw_store_url == str(tmp_path / "home" / "raw")
    assert settings.sources_dir == ROOT / "sources"
    monkeypatch.delenv("NIANBAO_HOME")
    assert not str(Settings().data_path).startswith(str(tmp_path))   # the default is no relative path either
    assert Settings().data_path.is_absolute()
    moved = StageContext.from_settings(settings, data_dir=tmp_path / "elsewhere")
    assert moved.raw_store == str(tmp_path / "elsewhere" / "raw")
    assert moved.crawl_index == moved.warehouse_url == f"sqlite:///{tmp_path / 'elsewhere' / 'warehouse.db'}"


def test_secrets_are_never_shown(monkeypatch) -> None:
    secrets = {"NIANBAO_WAREHOUSE_URL": "postgresql://nianbao:pw-9f2c@db/nianbao",
               "NIANBAO_ALERT_WEBHOOK_URL": "https://oapi.dingtalk.com/robot/send?access_token=tok-51ab",
               "NIANBAO_ALERT_WEBHOOK_TOKEN": "tok-77de", "NIANBAO_ALERT_WEBHOOK_SECRET": "SEC-e1e1",
               "NIANBAO_ALERT_SMTP_PASSWORD": "smtp-0c0c", "NIANBAO_ALERT_SMTP_HOST": "mail.example.org",
               "NIANBAO_ALERT_SMTP_TO": "ops@example.org"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    assert not any(part in shown for part in ("pw-9f2c", "tok-51ab", "tok-77de", "SEC-e1e1", "smtp-0c0c"))
    assert settings.warehouse == secrets["NIANBAO_WAREHOUSE_URL"]


# ---------------------------------------------------------------- read commands
def test_db_current_reports_no_revision_without_creating_a_warehouse(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = nianbao("db", "current", cwd=tmp_path, env=clean_env(home=str(home)))
    assert result.returncode == 0 and result.stdout.startswith("current: none")
    assert files_under(home) == []


@pytest.mark.parametrize("command", [["alerts"], ["status"], ["query", "SELECT 1"],
                                     ["export", "--year", "2023", "--format", "csv", "--out", "out"]])
def test_read_commands_never_create_a_warehouse(command: list[str], tmp_path: Path) -> None:
    empty, home = tmp_path / "empty", tmp_path / "home"
    empty.mkdir()
    result = nianbao(*command, cwd=empty, env=clean_env(home=str(home)))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no warehouse at" in result.stderr and str(home / "warehouse.db") in result.stderr
    assert files_under(empty) == [] and files_under(home) == []


# ---------------------------------------------------------------- the registry
def test_a_registry_error_stops_a_harvest_with_its_file_and_line(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    good, bad = (dict(entry) for entry in SANDBOX_SOURCES[:2])
    (sources / "good.yaml").write_text(yaml.safe_dump([good], allow_unicode=True), encoding="utf-8")
    bad["level"] = "planet"
    (sources / "bad.yaml").write_text(yaml.safe_dump([bad], allow_unicode=True, sort_keys=False), encoding="utf-8")
    line = next(n for n, text in enumerate((sources / "bad.yaml").read_text().splitlines(), 1) if "planet" in text)
    home = tmp_path / "home"
    result = nianbao("harvest", "--fast", "--sandbox-url", "http://127.0.0.1:9", cwd=tmp_path,
                     env=clean_env(home=str(home), sources_dir=str(sources)))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{sources / 'bad.yaml'}:{line}: [{bad['id']}] level" in result.stderr
    assert not (home / "crawl").exists()                                 # nothing was crawled

    from nianbao.stages import harvest
    from nianbao.stages.registry import RegistryProblem

    context = StageContext.from_settings(Settings(home=home, sources_dir=sources))
    with pytest.raises(RegistryProblem, match=r"bad\.yaml:\d+"):
        harvest(context, today=__import__("datetime").date(2025, 4, 15), notifiers=[])


# ---------------------------------------------------------------- the crawl process
@pytest.mark.slow
def test_the_crawl_process_gets_its_settings_from_its_parent_not_the_environment(
        sandbox_portal_factory, monkeypatch, tmp_path: Path) -> None:
    from nianbao.stages.crawl import launch_crawler

    portal = sandbox_portal_factory(sites=["hongze"])
    sources = tmp_path / "sources"
    sources.mkdir()
    entries = [entry for entry in SANDBOX_SOURCES if entry["id"] == "sandbox-hongze"]
    (sources / "sandbox.yaml").write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    wrong = tmp_path / "wrong"
    for name, value in {"HOME": wrong, "DATA_DIR": wrong, "SOURCES_DIR": wrong, "RAW_STORE": wrong / "raw",
                        "WAREHOUSE_URL": f"sqlite:///{wrong / 'w.db'}", "SANDBOX_URL": "http://127.0.0.1:9"}.items():
        monkeypatch.setenv(f"{ENV_PREFIX}{name}", str(value))
    data = tmp_path / "data"
    context = StageContext(data_dir=data, warehouse_url=f"sqlite:///{data / 'idx.db'}", raw_store=str(data / "store"),
                           sources_dir=sources, sandbox_url=portal.url,
                           settings=Settings(recheck_interval=7))
    outcome = launch_crawler(context, ["sandbox-hongze"], fast=True, timeout=120)
    assert outcome.finish_reason == "finished", outcome.summary
    assert outcome.summary["documents"]["new"] > 0
    assert (data / "idx.db").exists() and any((data / "store").rglob("*"))
    assert not wrong.exists()
    assert portal.requests, "the crawl asked the parent's sandbox URL"
    config = json.loads(launch_config(context))
    assert config["recheck_interval"] == 7 and config["sources_dir"] == str(sources)


def launch_config(context: StageContext) -> str:
    from nianbao.stages.crawl import crawl_config

    return crawl_config(context).to_json()


def test_the_crawl_config_survives_json_and_the_scrapy_settings(tmp_path: Path) -> None:
    from scrapy.settings import Settings as ScrapySettings

    from crawler.config import CrawlConfig

    config = CrawlConfig(data_dir=tmp_path, sources_dir=tmp_path / "s", sandbox_url="http://127.0.0.1:1",
                         recheck_interval=5.0, scrapy={"RETRY_TIMES": 0})
    assert config.raw_store == str(tmp_path / "raw") and config.crawl_index == f"sqlite:///{tmp_path / 'warehouse.db'}"
    assert CrawlConfig.from_json(config.to_json()) == config
    scrapy = ScrapySettings()
    scrapy.setdict(config.scrapy_settings(tmp_path / "summary.json"))
    assert CrawlConfig.from_scrapy(scrapy) == CrawlConfig(**{**vars(config), "scrapy": {}})
    with pytest.raises(ValueError, match="unknown crawl settings: data_dri"):
        CrawlConfig.from_json(json.dumps({"data_dri": "x", "sources_dir": "y"}))
    with pytest.raises(ValueError, match="NIANBAO_DATA_DIR"):
        CrawlConfig.from_scrapy(ScrapySettings())
