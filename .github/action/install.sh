#!/usr/bin/env bash
# The action's install step: dlr-conformance from the action's own checkout ($GITHUB_ACTION_PATH, the ref the
# workflow pins in `uses:`) into a virtualenv of its own under $RUNNER_TEMP, so that nothing of the job's Python
# changes. The package is not on an index; its dependencies come from the job's pip configuration (PyPI by default).
# The virtualenv is kept for a second use of the same action ref in the job. Outputs: cli, python.
set -euo pipefail
: "${GITHUB_ACTION_PATH:?}" "${RUNNER_TEMP:?}" "${GITHUB_OUTPUT:?}"

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "dlr-conformance needs Python 3.11 or newer as python3 (found: $(python3 -V 2>&1 || echo none));" \
    "add actions/setup-python with python-version 3.11 or newer before this step." >&2
  exit 1
fi

key=$(printf '%s' "$GITHUB_ACTION_PATH" | sha256sum | cut -c1-12)
venv="$RUNNER_TEMP/dlr-conformance-$key"
if ! "$venv/bin/dlr-conformance" --version >/dev/null 2>&1; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$GITHUB_ACTION_PATH"
fi
"$venv/bin/dlr-conformance" --version
{
  echo "cli=$venv/bin/dlr-conformance"
  echo "python=$venv/bin/python"
} >>"$GITHUB_OUTPUT"
