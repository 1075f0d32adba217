"""nianbao — the application layer: settings, pipeline stages, alerts, the CLI."""

__version__ = "0.1.0"
