"""The contract: the callback JSON Schema in ``schema/``, loaded once, payload validation with plain-English
errors (a compiled quick yes first, jsonschema the authority on every no), ECMA patterns, a body's encoding.

Modules: ``schema`` (loading, validating, encoding).
May import: nothing of the project (the ground floor).
"""

from conformance.contract.schema import (
    KNOWN_STATUSES,
    KNOWN_TYPES,
    SCHEMA_FILE,
    ContractError,
    MalformedJSON,
    documented_example,
    encode,
    errors,
    is_valid,
    load_schema,
    parse,
    schema_dir,
    schema_version,
)

__all__ = [
    "KNOWN_STATUSES",
    "KNOWN_TYPES",
    "SCHEMA_FILE",
    "ContractError",
    "MalformedJSON",
    "documented_example",
    "encode",
    "errors",
    "is_valid",
    "load_schema",
    "parse",
    "schema_dir",
    "schema_version",
]
