#!/usr/bin/env bash
# The whole test suite, on a fresh machine or an old one: a virtualenv with the project and its test
# dependencies, Debian's Chromium for the HTML report's browser test, then ruff, mypy and pytest.
# Environment: PYTHON (default python3), VENV (default .venv).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
TOOLS=.tools

# -- what the machine needs (as root, with apt-get; nothing to do where it is installed) --------------------------
apt_install() {
  echo "installing Debian's $*"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
as_root() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

# tests/ecosystem validate the AsyncAPI export with the AsyncAPI project's parser, on Node.js.
if [ ! -d "$TOOLS/asyncapi/node_modules/@asyncapi/parser" ] && ! command -v npm >/dev/null 2>&1 && as_root; then
  apt_install nodejs npm
fi
# The HTML report is opened in a real browser by tests/report; CI must not skip that test.
if ! command -v chromium >/dev/null 2>&1; then
  if as_root; then
    apt_install chromium
  else
    echo "chromium is not installed: the browser test will be skipped (CI installs it)"
  fi
fi
# The PostgreSQL example receiver (docs/examples/postgres) is tested against a real server: Debian's postgresql
# (initdb, postgres, psql); CI must not skip that test either.
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
  if as_root; then
    apt_install postgresql
  else
    echo "postgresql is not installed: the PostgreSQL example's test will be skipped (CI installs it)"
  fi
fi

# -- the project's environment -----------------------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
# The project with its test extra: with uv where it can be had (3 s on the 2-core machine against 29 s with pip,
# the same versions resolved), else with pip. --native-tls: the machine's certificate store, as pip uses it.
install_project() {
  if "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==0.13.9" >/dev/null 2>&1; then
    "$VENV/bin/uv" pip install --quiet --native-tls --python "$VENV/bin/python" -e '.[test]' && return
    echo "uv could not install the project: installing it with pip" >&2
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
}

# tests/ecosystem install the package into fresh virtualenvs and validate the AsyncAPI export; they run offline,
# so this set-up step fetches what they need into .tools/ (git-ignored): a wheelhouse with the package's
# dependencies, its build backend and widespread third-party pytest plugins (for the coexistence test; none but
# pytest-xdist, which the test extra has, is ever installed into $VENV, where they would change this suite's own
# run), and the AsyncAPI project's parser. Offline first: nothing is downloaded again once everything is there.
PLUGINS=(pytest-timeout pytest-xdist pytest-randomly pytest-json-report pytest-rerunfailures pytest-cov
  pytest-asyncio pytest-mock pytest-repeat pytest-base-url)
wheelhouse() {
  "$VENV/bin/python" -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$TOOLS/wheelhouse" \
    --find-links "$TOOLS/wheelhouse" "$@" . 'hatchling>=1.21' "${PLUGINS[@]}"
}
tools() {
  wheelhouse --no-index 2>/dev/null || wheelhouse
  rm -f "$TOOLS"/wheelhouse/dlr_conformance-*.whl  # the tests build the package's wheel fresh
  # @asyncapi/parser pinned: the validator's rules change between releases; raise it on purpose.
  if [ ! -d "$TOOLS/asyncapi/node_modules/@asyncapi/parser" ]; then
    mkdir -p "$TOOLS/asyncapi"
    npm install --prefix "$TOOLS/asyncapi" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      @asyncapi/parser@3.6.3
  fi
}

# The tools, and the project with the linters, do not depend on each other: they are prepared side by side (most
# of it is waiting on pip and npm), and the tests start once both are ready.
mkdir -p "$TOOLS"
tools >"$TOOLS/set-up.log" 2>&1 &
tools_job=$!
install_project
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/mypy"
if ! wait "$tools_job"; then
  cat "$TOOLS/set-up.log" >&2
  echo "preparing $TOOLS/ failed (above)" >&2
  exit 1
fi
grep -v "^WARNING: Location" "$TOOLS/set-up.log" || true

# Python may keep what it compiled (in __pycache__, git-ignored) for the tests' many processes: pytest rewrites the
# assertions of every plugin package it loads (Hypothesis, this one, ...) in each of its processes, which a machine
# that sets PYTHONDONTWRITEBYTECODE would have it compile again every time.
unset PYTHONDONTWRITEBYTECODE
"$VENV/bin/pytest" "$@"
