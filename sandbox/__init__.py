"""The sandbox: report documents with known truth, and a replica of government portals."""
