"""Hooks of the OpenAPI schema generation (drf-spectacular)."""

from typing import Any


def canonical_paths_only(endpoints: list[Any], **_: Any) -> list[Any]:
    """Drop the slashless aliases of the API's routes: the schema names each
    operation once, at its canonical path with the trailing slash."""
    return [endpoint for endpoint in endpoints if endpoint[0].endswith("/")]
