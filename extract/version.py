"""The extractor's version, stored with every record it reads (provenance.extractor_version)."""

EXTRACTOR_VERSION = "0.1.0"
