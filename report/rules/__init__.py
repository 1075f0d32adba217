"""The rules of the validator, one module per family; the registry is `report.validate.RULES`."""
