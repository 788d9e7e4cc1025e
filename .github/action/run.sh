#!/usr/bin/env bash
# The action's run step: dlr-conformance with the action's inputs (INPUT_*) as its options. What may carry a secret
# (the target URL, the reader and preparer commands) goes through the tool's environment variables, never onto a
# command line; nothing here prints an input. The step itself succeeds: it records the tool's exit code as the
# output exit-code, so that the summary and the artifact steps run first and the action's last step exits with it.
set -uo pipefail
: "${DLR_ACTION_CLI:?}" "${DLR_ACTION_PYTHON:?}" "${GITHUB_OUTPUT:?}"

finish() {
  echo "exit-code=$1" >>"$GITHUB_OUTPUT"
  exit 0
}
usage_error() {
  echo "dlr-conformance action: $1" >&2
  finish 4
}

# An earlier run's reports in the workspace would be read as this one's by the summary and the artifact.
rm -f reports/report.html reports/junit.xml reports/summary.json

options=()
[ -z "${INPUT_EXAMPLES:-}" ] || options+=(--examples "$INPUT_EXAMPLES")
[ -z "${INPUT_SEED:-}" ] || options+=(--seed "$INPUT_SEED")
[ -z "${INPUT_MAX_RPS:-}" ] || options+=(--max-rps "$INPUT_MAX_RPS")
[ -z "${INPUT_STATUS_MAP:-}" ] || options+=(--status-map "$INPUT_STATUS_MAP")
[ -z "${INPUT_REQUIRE_CHECKED:-}" ] || options+=(--require-checked "$INPUT_REQUIRE_CHECKED")
case "${INPUT_STRICT:-}" in
  true | True | TRUE) options+=(--strict) ;;
  false | False | FALSE | "") ;;
  *) usage_error "the input strict must be true or false (got '${INPUT_STRICT}')." ;;
esac

extra=()
if [ -n "${INPUT_ARGS:-}" ]; then
  words=$(mktemp)
  split='
import shlex, sys
try:
    words = shlex.split(sys.argv[1])
except ValueError as error:
    sys.exit(f"dlr-conformance action: the input args cannot be split like a shell would ({error}).")
sys.stdout.write("".join(word + "\0" for word in words))
'
  "$DLR_ACTION_PYTHON" -c "$split" "$INPUT_ARGS" >"$words" || finish 4
  mapfile -d '' -t extra <"$words"
  rm -f "$words"
fi

[ -z "${INPUT_TARGET_URL:-}" ] || export DLR_TARGET_URL="$INPUT_TARGET_URL"
[ -z "${INPUT_STATE_CMD:-}" ] || export DLR_STATE_CMD="$INPUT_STATE_CMD"
[ -z "${INPUT_PREPARE_CMD:-}" ] || export DLR_PREPARE_CMD="$INPUT_PREPARE_CMD"
unset INPUT_TARGET_URL INPUT_STATE_CMD INPUT_PREPARE_CMD INPUT_ARGS

# The report paths come last: the summary step and the artifact read them there, whatever `args` says.
"$DLR_ACTION_CLI" "${options[@]}" "${extra[@]}" \
  --html reports/report.html --junitxml reports/junit.xml --json reports/summary.json
finish $?
