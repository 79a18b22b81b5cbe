"""The OpenAPI contract: every status a route can answer, with its body, and
request schemas that state every rule the server enforces.

Routes name what they can answer, as domain error types or the outcomes below
(``responses=answers(SIGNED_IN, JSON_BODY, EmailsNotFound)``); the statuses come
from the one error table (``errors.ANSWERS``), so the document cannot drift
from what the handlers send. ``complete`` then finishes the document Litestar
builds: request bodies get msgspec's own JSON schema (the one it validates
with, so ``additionalProperties: false``, lengths, patterns and formats are
exact), and error answers their headers (``WWW-Authenticate``, ``Retry-After``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import (
    JsonRenderPlugin,
    OpenAPIRenderPlugin,
    RapidocRenderPlugin,
    RedocRenderPlugin,
    StoplightRenderPlugin,
    SwaggerRenderPlugin,
    YamlRenderPlugin,
)

from reasonflow.domain.errors import DomainError
from reasonflow.entrypoints.http import dto
from reasonflow.entrypoints.http.errors import ANSWERS


class ErrorBody(msgspec.Struct, kw_only=True):
    """Every error answer: Litestar's shape, ``extra`` only when it has something."""

    status_code: int
    #: A short message to show a user: never a secret, a trace or an email's text.
    detail: str
    #: An object for the batch rules (``email_ids``, ``conflicts``), a list of
    #: ``{message, key, source}`` for a request that does not fit the schema.
    extra: dict[str, Any] | list[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """An answer that is not a domain error: Litestar's own, or the edge's."""

    status: int
    description: str


SIGNED_IN = Outcome(401, "No bearer token, or one that is invalid or expired")
INVALID = Outcome(400, "The request does not fit the schema (body, query or path)")
TOO_LARGE = Outcome(413, "The JSON body is larger than JSON_MAX_BYTES (1 MiB by default)")
UPLOAD_TOO_LARGE = Outcome(413, "The upload is larger than IMPORT_MAX_BYTES (25 MiB by default)")
#: What any route with a JSON body can answer before its handler runs.
JSON_BODY = (INVALID, TOO_LARGE)

Answerable = type[DomainError] | Outcome | tuple[Outcome, ...] | int


def _described(kind: type[DomainError]) -> str:
    own = kind.__dict__.get("__doc__")
    if own:
        return str(own).strip().splitlines()[0].rstrip(".")
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", kind.__name__).lower()
    return words[0].upper() + words[1:]


def status_of(kind: type[DomainError]) -> int:
    """The status the error table gives ``kind`` (its first matching entry)."""
    return next(answer.status for known, answer in ANSWERS.items() if issubclass(kind, known))


def _flatten(items: Iterable[Answerable]) -> Iterable[Outcome]:
    for item in items:
        if isinstance(item, tuple):
            yield from item
        elif isinstance(item, Outcome):
            yield item
        elif isinstance(item, int):
            yield Outcome(item, HTTPStatus(item).phrase)
        else:
            yield Outcome(status_of(item), _described(item))


def answers(*items: Answerable) -> dict[int, ResponseSpec]:
    """``responses=`` for a route: one ``ErrorBody`` answer per status, described
    by every error that gives it."""
    described: dict[int, list[str]] = {}
    for outcome in _flatten(items):
        reasons = described.setdefault(outcome.status, [])
        if outcome.description not in reasons:
            reasons.append(outcome.description)
    return {
        status: ResponseSpec(
            data_container=ErrorBody, generate_examples=False, description="; ".join(reasons)
        )
        for status, reasons in sorted(described.items())
    }


#: Structs whose schema is msgspec's own: what the server validates with.
EXACT_SCHEMAS: tuple[type[msgspec.Struct], ...] = (
    ErrorBody,
    dto.Registration,
    dto.Credentials,
    dto.EmailIn,
    dto.ApproveIn,
    dto.ClassifyIn,
    dto.ProcessIn,
    dto.EmailEventOut,
)

#: Headers some answers always carry.
HEADERS: dict[str, dict[str, dict[str, Any]]] = {
    "401": {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with: Bearer",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    "429": {
        "Retry-After": {
            "description": "Seconds to wait before trying again",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
    "503": {
        "Retry-After": {
            "description": "Seconds to wait before trying again, when known",
            "required": False,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}

#: ``POST /api/v1/emails/import`` reads its body itself; what it takes.
IMPORT_BODY = {
    "required": True,
    "description": "One message (message/rfc822) or a mailbox (application/mbox), "
    "at most IMPORT_MAX_BYTES; text/plain and application/octet-stream are read "
    "as either.",
    "content": {
        media: {"schema": {"type": "string", "format": "binary"}}
        for media in sorted(
            {"message/rfc822", "application/mbox", "application/octet-stream", "text/plain"}
        )
    },
}

#: ``streamBatchStatus`` answers Server-Sent Events: ``email`` events (one per
#: finished email), ``progress`` events whose data is the status body, and
#: keep-alive comments.
EVENT_STREAM = {
    "text/event-stream": {
        "schema": {
            "type": "object",
            "description": "One event: `email` with one finished email's outcome "
            "(EmailEventOut) as JSON in `data` and its sequence number as `id`, or "
            "`progress` with the status body (JobOut) and `<last email id>-<revision>` "
            "as `id`; keep-alive comments between changes. `Last-Event-ID` resumes.",
            "properties": {
                "event": {"type": "string", "enum": ["email", "progress"]},
                "data": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": {
                        "anyOf": [
                            {"$ref": "#/components/schemas/EmailEventOut"},
                            {"$ref": "#/components/schemas/JobOut"},
                        ]
                    },
                },
                "id": {"type": "string"},
                "retry": {"type": "integer"},
            },
        }
    }
}

#: Parameters the server checks itself, stated for clients.
JOB_ID = {
    "type": "string",
    "pattern": "^(cls|prc)_[0-9a-f]{16}$",
    "description": "A job id; anything else is not found (404).",
}


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """The document Litestar built, finished (a copy; ``document`` is untouched)."""
    doc = copy.deepcopy(document)
    _, components = msgspec.json.schema_components(
        EXACT_SCHEMAS, ref_template="#/components/schemas/{name}"
    )
    doc.setdefault("components", {}).setdefault("schemas", {}).update(components)
    _no_nul_as_not(doc["components"]["schemas"])
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in operation["responses"].items():
                if status in HEADERS:
                    response["headers"] = copy.deepcopy(HEADERS[status])
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter.get("name") == "job_id":
                    parameter["schema"] = dict(JOB_ID)
                if parameter.get("in") == "header":
                    parameter["schema"] = _not_null(parameter.get("schema", {}))
            if operation.get("operationId") == "importEmails":
                operation["requestBody"] = copy.deepcopy(IMPORT_BODY)
            if operation.get("operationId") == "streamBatchStatus":
                operation["responses"]["200"]["content"] = copy.deepcopy(EVENT_STREAM)
    return doc


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A header is a string or absent, never JSON ``null``: an optional header's
    ``oneOf [string, null]`` becomes its string alternative."""
    choices = [c for c in schema.get("oneOf", []) if c.get("type") != "null"]
    if len(choices) == 1 and len(choices) < len(schema["oneOf"]):
        rest = {k: v for k, v in schema.items() if k != "oneOf"}
        return {**rest, **choices[0]}
    return schema


def _no_nul_as_not(node: object) -> None:
    """State "no NUL" as ``not: {pattern: "\\x00"}`` rather than msgspec's
    ``pattern: ^[^\\x00]*$``: the same strings, and generators (schemathesis,
    Hypothesis) draw long texts for it in a fraction of the time."""
    if isinstance(node, dict):
        if node.get("pattern") == dto.NO_NUL:
            del node["pattern"]
            node["not"] = {"pattern": "\\x00"}
        for value in node.values():
            _no_nul_as_not(value)
    elif isinstance(node, list):
        for value in node:
            _no_nul_as_not(value)


class _Completing:
    """Renders the completed document, built once per app."""

    _done: tuple[int, dict[str, Any]] | None = None

    def completed(self, openapi_schema: dict[str, Any]) -> dict[str, Any]:
        if self._done is None or self._done[0] != id(openapi_schema):
            self._done = (id(openapi_schema), complete(openapi_schema))
        return self._done[1]


class ContractJson(_Completing, JsonRenderPlugin):
    """``/schema/openapi.json``: the completed document."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, self.completed(openapi_schema))


class ContractYaml(_Completing, YamlRenderPlugin):
    """``/schema/openapi.yaml``: the same, as YAML."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, self.completed(openapi_schema))


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """``/schema`` (Redoc), ``/schema/openapi.json`` and ``.yaml`` (the completed
    document), and the other viewers, which read the JSON one."""
    return [
        RedocRenderPlugin(path=["/redoc", "/"]),
        ContractJson(),
        ContractYaml(),
        SwaggerRenderPlugin(),
        StoplightRenderPlugin(),
        RapidocRenderPlugin(),
    ]
