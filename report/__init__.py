"""The report format: catalogue of labels and keys, the report record, and the validator.

Pure domain code: no I/O, imports nothing from the other nianbao packages.
"""
