"""The OpenAPI document describes the user activity exactly as the reference does."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

DATA = Path(__file__).parent.parent / "data"
SEED_TYPES = json.loads((DATA / "seed_activity_types.json").read_text())
SEED_FIELDS = json.loads((DATA / "seed_response_fields.json").read_text())
ENUM_LINE = re.compile(r"^\* `(\d+)` - (.+)$")


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow `$ref` (also a lone one under allOf) to the component it names."""
    if "allOf" in node and len(node["allOf"]) == 1:
        node = {**node, **node["allOf"][0]}
        del node["allOf"]
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        outer = {k: v for k, v in node.items() if k != "$ref"}
        return {**schema["components"]["schemas"][name], **outer}
    return node


def facts(schema: dict[str, Any], name: str, node: dict[str, Any]) -> dict[str, Any]:
    """The facts the reference states of one property, read from the schema."""
    resolved = resolve(schema, node)
    if "enum" in resolved:
        kind = "enum"
    elif "type" not in resolved and "properties" not in resolved:
        kind = "any"
    else:
        kind = resolved.get("type", "object")
    return {
        "name": name,
        "type": kind,
        "format": resolved.get("format"),
        "maxLength": resolved.get("maxLength"),
        "nullable": bool(node.get("nullable") or resolved.get("nullable")),
        "readOnly": bool(node.get("readOnly") or resolved.get("readOnly")),
    }


def component_of(schema: dict[str, Any], path: str, method: str, part: str) -> Any:
    operation = schema["paths"][path][method]
    if part == "request":
        node = operation["requestBody"]["content"]["application/json"]["schema"]
    else:
        node = operation["responses"]["200"]["content"]["application/json"]["schema"]
    return resolve(schema, node)


def test_schema_response_component_matches_the_reference(
    schema: dict[str, Any],
) -> None:
    component = component_of(schema, "/api/user-activities/{id}/", "get", "response")

    got = [facts(schema, n, p) for n, p in component["properties"].items()]

    assert got == SEED_FIELDS["response"]


@pytest.mark.parametrize("method", ["put", "patch"])
def test_schema_request_component_matches_the_reference(
    schema: dict[str, Any], method: str
) -> None:
    """PUT's body requires what the reference requires (`user` and `text`); PATCH,
    a partial update, requires nothing. The server accepts a body without `user`
    (it would be ignored anyway), which only makes it more lenient than documented.
    """
    component = component_of(schema, "/api/user-activities/{id}/", method, "request")

    got = [facts(schema, n, p) for n, p in component["properties"].items()]

    expected = [
        {k: v for k, v in field.items() if k != "required"}
        for field in SEED_FIELDS["request"]
    ]
    assert got == expected
    required = [f["name"] for f in SEED_FIELDS["request"] if f["required"]]
    assert component.get("required", []) == (required if method == "put" else [])


def test_schema_create_and_update_share_the_components(schema: dict[str, Any]) -> None:
    list_path, detail_path = "/api/user-activities/", "/api/user-activities/{id}/"
    post = schema["paths"][list_path]["post"]
    put = schema["paths"][detail_path]["put"]

    assert (
        post["requestBody"]["content"]["application/json"]["schema"]
        == put["requestBody"]["content"]["application/json"]["schema"]
    )
    assert (
        post["responses"]["201"]["content"]["application/json"]["schema"]
        == put["responses"]["200"]["content"]["application/json"]["schema"]
    )
    assert list(schema["paths"][detail_path]["delete"]["responses"]) == [
        "204",
        "401",
        "403",
        "404",
    ]


def test_schema_documents_the_reference_endpoints_errors(
    schema: dict[str, Any],
) -> None:
    """The reference page lists 401 and 404 for its endpoint; edits add 400 and 403."""
    detail_path = "/api/user-activities/{id}/"
    operations = schema["paths"][detail_path]

    assert list(operations["get"]["responses"]) == ["200", "401", "404"]
    for method in ("put", "patch"):
        assert list(operations[method]["responses"]) == [
            "200",
            "400",
            "401",
            "403",
            "404",
        ]


@pytest.mark.parametrize("part", ["request", "response"])
def test_schema_activity_type_enum_has_the_reference_labels(
    schema: dict[str, Any], part: str
) -> None:
    component = component_of(schema, "/api/user-activities/{id}/", "put", part)
    enum = resolve(schema, component["properties"]["activity_type"])

    labels = [
        [int(m.group(1)), m.group(2)]
        for m in map(ENUM_LINE.match, enum["description"].splitlines())
        if m
    ]

    assert enum["type"] == "integer"
    assert enum["enum"] == [value for value, _ in SEED_TYPES]
    assert labels == SEED_TYPES
    assert len(labels) == 91


def test_schema_workspace_group_carries_the_reference_description(
    schema: dict[str, Any],
) -> None:
    for part in ("request", "response"):
        component = component_of(schema, "/api/user-activities/{id}/", "put", part)
        assert (
            component["properties"]["workspace_group"]["description"]
            == SEED_FIELDS["workspace_group_description"]
        )


def test_schema_user_profile_picture_is_a_nullable_uri(schema: dict[str, Any]) -> None:
    component = component_of(schema, "/api/user-activities/{id}/", "get", "response")
    user = resolve(schema, component["properties"]["user"])

    assert user["properties"]["profile_picture"] == {
        "type": "string",
        "format": "uri",
        "nullable": True,
        "readOnly": True,
    }


@pytest.mark.parametrize(
    ("path", "method"),
    [("/api/user-activities/", "get"), ("/api/user-activities/{id}/", "get")],
)
def test_schema_documents_the_stream_seq_header(
    schema: dict[str, Any], path: str, method: str
) -> None:
    headers = schema["paths"][path][method]["responses"]["200"]["headers"]

    assert list(headers) == ["X-Stream-Seq"]
    assert headers["X-Stream-Seq"]["schema"] == {"type": "string"}
    assert "`7=42,9=3`" in headers["X-Stream-Seq"]["description"]


def test_schema_list_documents_filters_and_cursor(schema: dict[str, Any]) -> None:
    parameters = schema["paths"]["/api/user-activities/"]["get"]["parameters"]

    by_name = {p["name"]: p for p in parameters if p["in"] == "query"}

    assert set(by_name) == {
        "activity_type",
        "cursor",
        "is_active",
        "page_size",
        "updated_since",
        "user",
        "workspace_group",
    }
    assert by_name["activity_type"]["schema"]["type"] == "array"
    assert by_name["activity_type"]["explode"] is True
    assert by_name["workspace_group"]["schema"]["type"] == "integer"
    assert by_name["updated_since"]["schema"]["format"] == "date-time"


def test_schema_is_public_and_lists_token_and_cookie_auth(
    schema: dict[str, Any],
) -> None:
    assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "cookieAuth"}
    assert schema["openapi"].startswith("3.")


def test_docs_page_uses_only_local_assets(db: Any) -> None:
    client = APIClient()

    page = client.get("/api/docs/")

    html = page.content.decode()
    assert page.status_code == 200
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    for host in ("cdn.", "unpkg", "jsdelivr", "cdnjs"):
        assert host not in html
    assets = re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        served.close()
