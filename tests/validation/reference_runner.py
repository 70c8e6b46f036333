"""Run the reference validator (bioimageio.spec, in its own venv) on YAML files; print JSON verdicts.

Used only by the differential test and during development; the project never imports bioimageio.spec.
Usage: <refspec python> reference_runner.py FILE...
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("BIOIMAGEIO_CACHE_PATH", "/tmp/refspec-cache")

from bioimageio.spec import ValidationContext, build_description  # noqa: E402
from ruyaml import YAML  # noqa: E402

out = []
for path in sys.argv[1:]:
    try:
        data = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8"))
        context = ValidationContext(perform_io_checks=False, root=Path(os.path.dirname(path) or "."))
        descr = build_description(data, context=context, format_version="discover")
        summary = descr.validation_summary
        first = next(({"loc": list(map(str, e.loc)), "msg": e.msg} for d in summary.details for e in d.errors), None)
        out.append({"path": path, "status": summary.status, "first_error": first})
    except Exception as e:  # the reference crashing counts as a failure
        out.append({"path": path, "status": "failed", "first_error": {"loc": [], "msg": f"{type(e).__name__}: {e}"}})
print(json.dumps(out))
