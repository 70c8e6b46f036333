"""Static validation of resource descriptions (jsonschema structure + hand-written semantic and file checks).

Library entry points:
- `validate_rdf(data, source=, root=, perform_io=, settings=, http=) -> ValidationResult`
- `load_schema(name)` -> compiled, cached `Draft202012Validator` of a shipped schema
- `stage.validate_work(settings)` and `stage.static_status(settings, rid, vid)` for the pipeline
"""

from collection_compiler.adapters.jsonschemas import load_schema
from collection_compiler.validation.result import ALERT, ERROR, INFO, WARNING, Detail, Issue, ValidationResult
from collection_compiler.validation.validator import CHECKER, VALIDATOR_VERSION, validate_rdf

__all__ = ["ALERT", "CHECKER", "ERROR", "INFO", "VALIDATOR_VERSION", "WARNING", "Detail", "Issue",
           "ValidationResult", "load_schema", "validate_rdf"]
