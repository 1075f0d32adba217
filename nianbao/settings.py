"""Settings from the environment (prefix NIANBAO_), with embedded defaults under var/."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NIANBAO_", extra="ignore")

    data_dir: Path = Path("var")
    warehouse_url: str = ""
    raw_store: str = ""
    sources_dir: Path = Path("sources")

    def model_post_init(self, __context: object) -> None:
        if not self.warehouse_url:
            self.warehouse_url = f"sqlite:///{self.data_dir / 'warehouse.db'}"
        if not self.raw_store:
            self.raw_store = str(self.data_dir / "raw")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
