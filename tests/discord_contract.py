"""Checks every REST body the bot sent against Discord's OpenAPI spec and Discord's limits.

The spec (../shared/discord-api-spec/openapi.json, else the copy in tests/; Discord's own, MIT) catches wrong shapes and
types; it says nothing of the 6000-character total over a message's embeds and a few other
limits (components included, Components V2's among them), which `limit_problems` checks from
Discord's documentation. Nor does it read a message's flags: with IS_COMPONENTS_V2 a message
takes the V2 components where the spec's schemas allow each, without it action rows alone; the
allowed types are read from the spec, so a new component type needs no change here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:discord-openapi"
# The workplace's copy beside the repository when it is there (CI has it); the vendored copy,
# the same file, lets a fresh clone run the tests on its own.
SHARED_SPEC = Path(__file__).resolve().parents[2] / "shared" / "discord-api-spec" / "openapi.json"
VENDORED_SPEC = Path(__file__).parent / "discord-api-spec" / "openapi.json"
SPEC = SHARED_SPEC if SHARED_SPEC.is_file() else VENDORED_SPEC

EMBED_TOTAL = 6000
EMBEDS_PER_MESSAGE = 10
EMBED_FIELDS = 25
EMBED_LIMITS = {"title": 256, "description": 4096}
FIELD_NAME, FIELD_VALUE = 256, 1024
FOOTER_TEXT, AUTHOR_NAME = 2048, 256
CONTENT = 2000
CHOICES = 25
CHOICE_NAME = 100
CUSTOM_ID = 100
BUTTON_LABEL = 80
ACTION_ROWS = 5  # without IS_COMPONENTS_V2
ROW_COMPONENTS = 5  # buttons in an action row; a select menu fills one alone
SELECT_MENUS = frozenset({3, 5, 6, 7, 8})
ACTION_ROW, TEXT_DISPLAY = 1, 10
IS_COMPONENTS_V2 = 1 << 15
V2_COMPONENTS = 40  # in all, nested ones included
V2_TEXT = 4000  # over all text displays
NOT_WITH_V2 = ("content", "embeds", "poll", "sticker_ids")
# Where a component holds others: an action row's or container's or section's `components`,
# a section's `accessory`.
NESTING_KEYS = ("components", "accessory", "component")
COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
COMMAND_DESCRIPTION = 100
COMMAND_OPTIONS = 25


@dataclass(frozen=True)
class _Operation:
    pattern: re.Pattern[str]
    template: str
    method: str
    validator: Draft202012Validator | None


@cache
def _spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text(encoding="utf-8"))


def _pointer(*parts: str) -> str:
    return "/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


@cache
def _operations() -> list[_Operation]:
    spec = _spec()
    registry = Registry().with_resource(
        SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    operations = []
    for template, item in spec["paths"].items():
        regex = "^" + re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(template)) + "$"
        for method, operation in item.items():
            if method == "parameters":
                continue
            content = operation.get("requestBody", {}).get("content", {})
            validator = None
            if "application/json" in content:
                ref = (
                    SPEC_URI
                    + "#"
                    + _pointer(
                        "paths",
                        template,
                        method,
                        "requestBody",
                        "content",
                        "application/json",
                        "schema",
                    )
                )
                validator = Draft202012Validator({"$ref": ref}, registry=registry)
            operations.append(_Operation(re.compile(regex), template, method.upper(), validator))
    # Literal segments beat placeholders: "/users/@me" before "/users/{user_id}".
    operations.sort(key=lambda op: op.template.count("{"))
    return operations


def find_operation(method: str, path: str) -> _Operation | None:
    path = path.split("?", 1)[0]
    for operation in _operations():
        if operation.method == method.upper() and operation.pattern.match(path):
            return operation
    return None


def _leaves(error: ValidationError) -> list[ValidationError]:
    return (
        [error] if not error.context else [leaf for sub in error.context for leaf in _leaves(sub)]
    )


def _depth(errors: list[ValidationError]) -> int:
    return max(len(leaf.absolute_path) for error in errors for leaf in _leaves(error))


def _meant(error: ValidationError) -> ValidationError:
    """Inside anyOf/oneOf (an interaction callback's types, a choice's value types), the error
    of the alternative the body meant: not one whose `type` refused it; of the others, the one
    that got deepest into the body with the fewest errors. So a problem names its field."""
    while error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        meant = [
            errors
            for errors in branches.values()
            if not any(
                sub.validator in ("enum", "const") and list(sub.relative_path) == ["type"]
                for sub in errors
            )
        ]
        if not meant:
            break
        chosen = min(
            meant,
            key=lambda errors: (-_depth(errors), sum(len(_leaves(sub)) for sub in errors)),
        )
        error = max(chosen, key=lambda sub: _depth([sub]))
    return error


def schema_problems(method: str, path: str, body: Any) -> list[str]:
    operation = find_operation(method, path)
    if operation is None:
        return [f"{method} {path}: no such route in Discord's OpenAPI spec"]
    if body is None or operation.validator is None:
        return []
    error = best_match(operation.validator.iter_errors(body))
    if error is None:
        return []
    error = _meant(error)
    where = "/".join(str(step) for step in error.absolute_path) or "(body)"
    return [f"{method} {operation.template}: {where}: {error.message[:300]}"]


def _embed_length(embed: dict[str, Any]) -> int:
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for field in embed.get("fields") or []:
        total += len(field.get("name") or "") + len(field.get("value") or "")
    return total


def _message_problems(where: str, message: dict[str, Any], *, edit: bool = False) -> list[str]:
    problems = []
    content = message.get("content") or ""
    if len(content) > CONTENT:
        problems.append(f"{where}: content is {len(content)} characters (limit {CONTENT})")
    embeds = message.get("embeds") or []
    if len(embeds) > EMBEDS_PER_MESSAGE:
        problems.append(f"{where}: {len(embeds)} embeds (limit {EMBEDS_PER_MESSAGE})")
    total = sum(_embed_length(embed) for embed in embeds)
    if total > EMBED_TOTAL:
        problems.append(f"{where}: embeds total {total} characters (limit {EMBED_TOTAL})")
    for number, embed in enumerate(embeds):
        for key, limit in EMBED_LIMITS.items():
            if len(embed.get(key) or "") > limit:
                problems.append(f"{where}: embed {number} {key} over {limit}")
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS:
            problems.append(
                f"{where}: embed {number} has {len(fields)} fields (limit {EMBED_FIELDS})"
            )
        for field in fields:
            if not field.get("name") or len(field["name"]) > FIELD_NAME:
                problems.append(f"{where}: embed {number} field name empty or over {FIELD_NAME}")
            if not field.get("value") or len(field["value"]) > FIELD_VALUE:
                problems.append(f"{where}: embed {number} field value empty or over {FIELD_VALUE}")
        if len((embed.get("footer") or {}).get("text") or "") > FOOTER_TEXT:
            problems.append(f"{where}: embed {number} footer over {FOOTER_TEXT}")
        if len((embed.get("author") or {}).get("name") or "") > AUTHOR_NAME:
            problems.append(f"{where}: embed {number} author name over {AUTHOR_NAME}")
    problems += _component_problems(where, message, edit=edit)
    mentions = message.get("allowed_mentions")
    if mentions is None or mentions.get("parse"):
        problems.append(f"{where}: allowed_mentions must be set and parse nothing")
    return problems


def with_nested(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every component, each followed by those nested in it: a row's or container's
    `components`, a section's `accessory`, a label's `component`."""
    found = []
    for component in components:
        found.append(component)
        inner = list(component.get("components") or [])
        inner += [component[key] for key in ("accessory", "component") if component.get(key)]
        found += with_nested(inner)
    return found


def _component_problems(where: str, message: dict[str, Any], *, edit: bool = False) -> list[str]:
    problems = []
    top = message.get("components") or []
    everything = with_nested(top)
    for component in everything:
        if len(component.get("custom_id") or "") > CUSTOM_ID:
            problems.append(f"{where}: custom_id over {CUSTOM_ID} characters")
        if len(component.get("label") or "") > BUTTON_LABEL:
            problems.append(f"{where}: button label over {BUTTON_LABEL} characters")
        if component.get("type") == ACTION_ROW:
            row = component.get("components") or []
            if len(row) > ROW_COMPONENTS:
                problems.append(
                    f"{where}: an action row has {len(row)} components (limit {ROW_COMPONENTS})"
                )
            if len(row) > 1 and any(c.get("type") in SELECT_MENUS for c in row):
                problems.append(f"{where}: a select menu must be alone in its action row")
    v2 = bool(int(message.get("flags") or 0) & IS_COMPONENTS_V2)
    if v2:
        problems += _v2_problems(where, message, everything)
    elif len(top) > ACTION_ROWS:
        problems.append(f"{where}: {len(top)} action rows (limit {ACTION_ROWS})")
    # An edit may leave out the flags: the message keeps those it was sent with.
    if v2 or not edit:
        problems += _type_problems(where, top, v2=v2)
    return problems


def _v2_problems(
    where: str, message: dict[str, Any], everything: list[dict[str, Any]]
) -> list[str]:
    """Components V2's own limits, which the spec's per-component schemas cannot express."""
    problems = []
    if len(everything) > V2_COMPONENTS:
        problems.append(
            f"{where}: {len(everything)} components, nested ones included "
            f"(limit {V2_COMPONENTS} with IS_COMPONENTS_V2)"
        )
    # In UTF-16 units, the stricter count (an emoji is two), as the renderers budget.
    text = sum(
        len((c.get("content") or "").encode("utf-16-le")) // 2
        for c in everything
        if c.get("type") == TEXT_DISPLAY
    )
    if text > V2_TEXT:
        problems.append(
            f"{where}: text displays total {text} characters "
            f"(limit {V2_TEXT} with IS_COMPONENTS_V2)"
        )
    refused = [key for key in NOT_WITH_V2 if message.get(key)]
    if refused:
        problems.append(f"{where}: {' and '.join(refused)} cannot go with IS_COMPONENTS_V2")
    return problems


@cache
def _component_rules() -> tuple[frozenset[int], dict[int, dict[str, frozenset[int]]]]:
    """From the spec's message schemas: the component types a message takes at its top level,
    and for each type, the types each of its keys ("components", "accessory") takes."""
    schemas = _spec()["components"]["schemas"]
    children: dict[int, dict[str, frozenset[int]]] = {}

    def types_of(schema: dict[str, Any]) -> frozenset[int]:
        found = set()
        for ref in _refs(schema):
            target = schemas[ref.rsplit("/", 1)[1]]["properties"]
            (number,) = target["type"]["enum"]
            found.add(number)
            if number not in children:
                children[number] = {}  # before recursing: a type may nest in itself
                children[number] = {
                    key: types_of(target[key]) for key in NESTING_KEYS if key in target
                }
        return frozenset(found)

    top = types_of(schemas["MessageCreateRequest"]["properties"]["components"])
    return top, children


def _refs(schema: dict[str, Any]) -> list[str]:
    """The component schemas a property refers to: itself, its items, or a oneOf of them."""
    if "$ref" in schema:
        return [schema["$ref"]]
    if "items" in schema:
        return _refs(schema["items"])
    return [ref for option in schema.get("oneOf", ()) for ref in _refs(option)]


@cache
def _component_names() -> dict[int, str]:
    types = _spec()["components"]["schemas"]["MessageComponentTypes"]["oneOf"]
    return {option["const"]: option["title"] for option in types}


def _type_problems(where: str, top: list[dict[str, Any]], *, v2: bool) -> list[str]:
    """Each component's type where the spec allows it. Without IS_COMPONENTS_V2 a message takes
    action rows alone at its top level, which the spec (blind to flags) does not say."""
    allowed_top, children = _component_rules()
    names = _component_names()
    problems: list[str] = []

    def walk(components: list[dict[str, Any]], allowed: frozenset[int], holder: str) -> None:
        for component in components:
            kind = component.get("type")
            if kind not in allowed:
                name = names.get(kind, "unknown component") if isinstance(kind, int) else "?"
                problems.append(f"{where}: {holder} takes no {name} (type {kind})")
                continue
            for key, types in children.get(kind, {}).items():
                inner = component.get(key) or []
                walk(inner if isinstance(inner, list) else [inner], types, f"a {names[kind]}")

    if v2:
        walk(top, allowed_top, "a Components V2 message")
    else:
        walk(top, frozenset({ACTION_ROW}), "a message without IS_COMPONENTS_V2")
    return problems


def _command_problems(where: str, commands: list[dict[str, Any]]) -> list[str]:
    problems = []
    for command in commands:
        name = command.get("name", "")
        if command.get("type", 1) == 1:
            if not COMMAND_NAME.match(name) or name != name.lower():
                problems.append(f"{where}: command name {name!r} is not 1-32 lowercase characters")
            if not 1 <= len(command.get("description", "")) <= COMMAND_DESCRIPTION:
                problems.append(f"{where}: /{name} description must be 1-{COMMAND_DESCRIPTION}")
        problems += _option_problems(f"{where}: /{name}", command.get("options") or [])
    return problems


def _option_problems(where: str, options: list[dict[str, Any]]) -> list[str]:
    problems = []
    if len(options) > COMMAND_OPTIONS:
        problems.append(f"{where}: {len(options)} options (limit {COMMAND_OPTIONS})")
    for option in options:
        if not COMMAND_NAME.match(option.get("name", "")):
            problems.append(f"{where}: option name {option.get('name')!r} invalid")
        if not 1 <= len(option.get("description", "")) <= COMMAND_DESCRIPTION:
            problems.append(f"{where} {option.get('name')}: description must be 1-100")
        if len(option.get("choices") or []) > CHOICES:
            problems.append(f"{where} {option.get('name')}: more than {CHOICES} choices")
        problems += _option_problems(f"{where} {option.get('name')}", option.get("options") or [])
    return problems


def limit_problems(method: str, path: str, body: Any) -> list[str]:
    where = f"{method} {path.split('?', 1)[0]}"
    if not isinstance(body, (dict, list)):
        return []
    if isinstance(body, list):
        return _command_problems(where, body) if "/commands" in path else []
    if path.endswith("/callback"):
        data = body.get("data") or {}
        if body.get("type") == 8:
            choices = data.get("choices") or []
            problems = []
            if len(choices) > CHOICES:
                problems.append(f"{where}: {len(choices)} autocomplete choices (limit {CHOICES})")
            for choice in choices:
                if not 1 <= len(choice.get("name", "")) <= CHOICE_NAME:
                    problems.append(f"{where}: choice name must be 1-{CHOICE_NAME} characters")
                if len(str(choice.get("value", ""))) > CHOICE_NAME:
                    problems.append(f"{where}: choice value over {CHOICE_NAME} characters")
            return problems
        if body.get("type") in (4, 7):
            return _message_problems(where, data, edit=body["type"] == 7)
        return []
    if method in ("POST", "PATCH") and (
        "/messages" in path or path.startswith("/webhooks/") or path.endswith("/threads")
    ):
        if path.endswith("/threads"):
            # A forum post carries its first message; a thread in a text channel has none.
            return _message_problems(where, body["message"]) if "message" in body else []
        return _message_problems(where, body, edit=method == "PATCH")
    return []


def problems_in(requests: list[Any]) -> list[str]:
    found: list[str] = []
    for request in requests:
        found += schema_problems(request.method, request.path, request.json)
        found += limit_problems(request.method, request.path, request.json)
    return found
