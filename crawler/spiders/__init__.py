"""The one spider: `reports`."""
