"""``dlr-conformance contract``: the schema as shipped, OpenAPI 3.1 and AsyncAPI 3.0 documents that the ecosystem's
own validators accept, and models generated from the OpenAPI document that parse the documented example."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.support.cli import Result, invoke
from tests.support.process import Finished
from tests.support.process import run as run_process
from tests.support.tools import NODE_MODULES, ROOT, require, run

SCHEMA = ROOT / "schema"
EXAMPLE = json.loads((SCHEMA / "examples" / "valid" / "documented-example.json").read_text(encoding="utf-8"))
# The platform documentation's sentences, quoted here independently of the code under test.
RETRY = (
    "If the client’s server is unreachable or does not return a 200 OK, the callback is queued to be retried again. "
    "After three failed attempts, with an interval of 5 minutes between them, the callback is discarded."
)
EXPECTS = "When a client receives a callback, the Fortytwo API server expects to receive an HTTP 200 OK."


def _contract(*args: str, cwd: Path) -> Result:
    return invoke("contract", *args, cwd=cwd)


def _document(fmt: str, tmp_path: Path) -> dict[str, Any]:
    proc = _contract("--format", fmt, cwd=tmp_path)
    assert proc.code == 0, proc.stderr
    assert proc.stderr == ""
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


@pytest.fixture(scope="module")
def openapi_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The OpenAPI document as the command prints it."""
    return _document("openapi", tmp_path_factory.mktemp("openapi"))


def _components_match_the_schema(schemas: dict[str, Any]) -> None:
    """Built from the shipped schema: the root and every definition, same keywords, references moved."""
    shipped = json.loads((SCHEMA / "callback.schema.json").read_text(encoding="utf-8"))
    definitions = shipped.pop("definitions")
    assert set(schemas) == {"Callback", *definitions}
    text = json.dumps(schemas)
    assert "#/definitions/" not in text
    assert '"$schema"' not in text
    assert '"$id"' not in text
    assert schemas["Callback"]["properties"]["data"]["items"] == {"$ref": "#/components/schemas/callback_info"}
    for name, definition in definitions.items():
        assert json.dumps(definition).replace("#/definitions/", "#/components/schemas/") == json.dumps(schemas[name])


def test_default_is_the_schema_as_shipped(tmp_path: Path) -> None:
    proc = _contract(cwd=tmp_path)
    assert proc.code == 0
    assert proc.stdout == (SCHEMA / "callback.schema.json").read_text(encoding="utf-8")


def test_output_file(tmp_path: Path) -> None:
    proc = _contract("--format", "asyncapi", "-o", "out/asyncapi.json", cwd=tmp_path)
    assert (proc.code, proc.stdout, proc.stderr) == (0, "", "")
    assert json.loads((tmp_path / "out" / "asyncapi.json").read_text(encoding="utf-8"))["asyncapi"] == "3.0.0"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "yaml"], "--format: invalid choice: 'yaml'"),
        (["-o", "."], "-o/--output"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    proc = _contract(*args, cwd=tmp_path)
    assert proc.code == 4
    assert proc.stdout == ""
    assert proc.stderr.startswith("dlr-conformance contract: error: ")
    assert message in proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr


def test_openapi_is_valid(openapi_doc: dict[str, Any]) -> None:
    validate(openapi_doc)  # raises on an invalid OpenAPI 3.1 document
    assert openapi_doc["openapi"] == "3.1.0"


def test_openapi_webhook_is_the_callback(openapi_doc: dict[str, Any]) -> None:
    (name,) = openapi_doc["webhooks"]
    (method,) = openapi_doc["webhooks"][name]
    operation = openapi_doc["webhooks"][name][method]
    assert method == "post"
    (media_type,) = operation["requestBody"]["content"]
    body = operation["requestBody"]["content"]["application/json"]
    assert media_type == "application/json"
    assert operation["requestBody"]["required"] is True
    assert body["schema"] == {"$ref": "#/components/schemas/Callback"}
    assert [example["value"] for example in body["examples"].values()] == [EXAMPLE]
    assert list(operation["responses"]) == ["200"]  # the one acceptable answer
    assert EXPECTS in operation["description"]
    assert RETRY in operation["description"]
    _components_match_the_schema(openapi_doc["components"]["schemas"])


def _versions(doc: dict[str, Any]) -> None:
    from conformance import __version__
    from conformance.contract.schema import schema_version

    assert doc["info"]["x-dlr-conformance"] == {
        "tool": f"dlr-conformance {__version__}",
        "schema": f"callback.schema.json {schema_version()}",
    }
    assert doc["info"]["version"] == schema_version()
    assert __version__ in doc["info"]["description"]


def test_both_documents_carry_the_versions(openapi_doc: dict[str, Any], tmp_path: Path) -> None:
    _versions(openapi_doc)
    _versions(_document("asyncapi", tmp_path))


def test_asyncapi_describes_an_http_post_answered_200(tmp_path: Path) -> None:
    doc = _document("asyncapi", tmp_path)
    assert doc["asyncapi"] == "3.0.0"
    (operation,) = doc["operations"].values()
    assert operation["action"] == "receive"
    assert operation["bindings"]["http"]["method"] == "POST"
    assert RETRY in operation["description"]
    message = doc["components"]["messages"]["deliveryReport"]
    assert message["contentType"] == "application/json"
    assert message["payload"] == {"$ref": "#/components/schemas/Callback"}
    assert [example["payload"] for example in message["examples"]] == [EXAMPLE]
    assert doc["components"]["messages"]["accepted"]["bindings"]["http"]["statusCode"] == 200
    _components_match_the_schema(doc["components"]["schemas"])


def _asyncapi_parser(path: Path) -> Finished:
    node = shutil.which("node")
    assert node, "Node.js is needed for the AsyncAPI parser (the machine has it; scripts/test.sh installs the parser)"
    return run_process(
        [node, Path(__file__).with_name("validate_asyncapi.cjs"), path],
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "NODE_PATH": str(require(NODE_MODULES))},
    )


def test_asyncapi_passes_the_asyncapi_parser(tmp_path: Path) -> None:
    """@asyncapi/parser, the AsyncAPI project's own validator (the one `asyncapi validate` runs)."""
    out = tmp_path / "asyncapi.json"
    assert _contract("--format", "asyncapi", "-o", str(out), cwd=tmp_path).code == 0
    proc = _asyncapi_parser(out)
    assert proc.code == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "valid AsyncAPI 3.0.0"


def test_asyncapi_parser_rejects_a_broken_document(tmp_path: Path) -> None:
    """The validator above is not a rubber stamp: the same document with an impossible action fails."""
    doc = _document("asyncapi", tmp_path)
    doc["operations"]["receiveDeliveryReport"]["action"] = "post"
    out = tmp_path / "broken.json"
    out.write_text(json.dumps(doc), encoding="utf-8")
    proc = _asyncapi_parser(out)
    assert proc.code == 1
    assert '"severity":0' in proc.stdout


@pytest.fixture(scope="module")
def models(openapi_doc: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Pydantic models generated from the OpenAPI document by datamodel-code-generator, imported."""
    folder = tmp_path_factory.mktemp("models")
    (folder / "openapi.json").write_text(json.dumps(openapi_doc), encoding="utf-8")
    codegen = Path(sys.executable).parent / "datamodel-codegen"
    run(
        [
            codegen,
            "--input",
            "openapi.json",
            "--input-file-type",
            "openapi",
            "--output-model-type",
            "pydantic_v2.BaseModel",
            "--target-python-version",
            "3.11",
            "--formatters",
            "builtin",
            "--output",
            "callback_models.py",
        ],
        cwd=folder,
        timeout=300,
    )
    spec = importlib.util.spec_from_file_location("callback_models", folder / "callback_models.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["callback_models"] = module  # pydantic resolves the postponed annotations through it
    spec.loader.exec_module(module)
    yield module
    del sys.modules["callback_models"]


def test_generated_models_parse_the_documented_example(models: Any) -> None:
    callback = models.Callback.model_validate(EXAMPLE)
    assert callback.api_job_id == EXAMPLE["api_job_id"]
    (record,) = callback.data
    assert record.root.message_id == "14466445287300014003"
    assert record.root.error_code == 943
    assert record.root.sms_from.root == "Fortytwo"
    assert callback.model_dump(mode="json", by_alias=True, exclude_unset=True) == EXAMPLE


@pytest.mark.parametrize("name", ["to-too-short", "data-empty", "error-code-out-of-short-range", "sender-missing"])
def test_generated_models_reject_what_the_schema_rejects(models: Any, name: str) -> None:
    from pydantic import ValidationError

    payload = json.loads((SCHEMA / "examples" / "invalid" / f"{name}.json").read_text(encoding="utf-8"))
    with pytest.raises(ValidationError):
        models.Callback.model_validate(payload)
