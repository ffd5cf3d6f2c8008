"""Build a raw-channel record from parsed JSON/XML, field by field, with readable errors.

The field list and types come from the record classes in ``models.raw``, so the wire
contract is written once.
"""

from __future__ import annotations

import json
import re
import types
from datetime import datetime
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

import faust

from intake.errors import ErrorCode, IntakeError
from intake.markup import plain_text

R = TypeVar("R", bound=faust.Record)


def _base_type(annotation: Any) -> tuple[type, bool]:
    """(type, optional) for ``str``, ``int``, ``float`` or ``X | None``."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0], True
    return annotation, False


# whitespace, control characters and invisible format characters (zero-width space and
# joiners, BOM, word joiner, direction marks) a form or a copy-paste leaves at the ends;
# str.strip with a set: a regex anchored at the end tried every position of the text
_EDGES = (
    "".join(
        ch
        for ch in map(chr, range(0x3001))
        if ch.isspace()
        or ch <= "\x1f"
        or ch == "\x7f"
        or "\u200b" <= ch <= "\u200f"
        or ch == "\u2060"
    )
    + "\ufeff"
)


def trim(text: str) -> str:
    """``text`` without whitespace and invisible characters at either end."""
    return text.strip(_EDGES)


# Invisible format characters inside a text: soft hyphen, zero-width space and non-joiner,
# direction marks and embeddings, word joiner and invisible operators, BOM. Copied from
# web pages and chat apps, they split a phone number (masking then misses it) and words
# (jieba, keywords and district names then miss them). The zero-width joiner stays: it
# holds emoji sequences together.
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def clean_text(text: str) -> str:
    """``text`` without web-form markup (:func:`intake.markup.plain_text`), trimmed
    (:func:`trim`) and without invisible format characters inside."""
    text = trim(plain_text(text))
    return _INVISIBLE.sub("", text) if _INVISIBLE.search(text) is not None else text


#: Free-text fields may be blank here: the shared check reports EMPTY_CONTENT for them.
TEXT_FIELDS = frozenset({"title", "content", "subject", "detail"})


@cache
def _field_specs(record: type[faust.Record]) -> tuple[tuple[str, type, bool, bool], ...]:
    """``(name, type, optional, has default)`` of each field (read once per record class)."""
    return tuple(
        (name, *_base_type(annotation), name in record._options.defaults)
        for name, annotation in record._options.fields.items()
    )


def build(record: type[R], obj: Any, what: str) -> R:
    """Validate ``obj`` (a dict) against ``record``'s fields and construct it.

    Numbers are accepted where text is expected (ids often arrive as numbers) and
    numeric strings where numbers are expected (XML carries only text); anything else
    of the wrong type is an error. A blank required id or time counts as missing (blank
    ids would all map to one appeal).
    """
    if not isinstance(obj, dict):
        raise IntakeError(
            ErrorCode.WRONG_TYPE, f"{what} must be a JSON object, got {type(obj).__name__}"
        )
    values: dict[str, Any] = {}
    for name, kind, optional, defaulted in _field_specs(record):
        value = obj.get(name)
        if isinstance(value, str) and name not in TEXT_FIELDS:
            value = trim(value)  # " GD1 " and "GD1" are one ticket (and one appeal id)
        if value is None or (isinstance(value, str) and not trim(value) and optional):
            if defaulted or optional:
                values[name] = None
                continue
            raise IntakeError(
                ErrorCode.MISSING_FIELD, f"{what}: required field '{name}' is missing"
            )
        if isinstance(value, str) and not value and name not in TEXT_FIELDS:
            raise IntakeError(ErrorCode.MISSING_FIELD, f"{what}: required field '{name}' is blank")
        values[name] = _coerce(value, kind, f"{what}.{name}")
    return record(**values)


def _coerce(value: Any, kind: type, where: str) -> Any:
    if kind is str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    elif kind in (int, float):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return kind(value)
        if isinstance(value, str):
            try:
                return kind(value.strip())
            except ValueError:
                pass
    elif kind is datetime:
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.strip())
            except ValueError:
                raise IntakeError(
                    ErrorCode.BAD_TIMESTAMP, f"{where}: {value!r:.40} is not ISO 8601"
                ) from None
            if parsed.tzinfo is None:
                raise IntakeError(
                    ErrorCode.BAD_TIMESTAMP, f"{where}: {value!r:.40} has no UTC offset"
                )
            return parsed
    else:  # records parsed here use only str/int/float/datetime
        return value
    raise IntakeError(
        ErrorCode.WRONG_TYPE,
        f"{where} must be {kind.__name__}, got {type(value).__name__} {value!r:.40}",
    )


def parse_json_record(data: bytes, record: type[R], what: str) -> R:
    """Decode JSON bytes (UTF-8 or legacy GB18030) and :func:`build` ``record`` from them."""
    import orjson

    from intake.decoding import decode

    text = decode(data)
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise IntakeError(ErrorCode.BAD_JSON, f"{what} is not JSON: {exc}") from None
    if isinstance(obj, dict) and any(
        isinstance(v, float) and abs(v) >= 2**63 for v in obj.values()
    ):
        # orjson reads integers beyond 64 bits as floats, dropping digits: two 20-digit
        # ticket numbers would become one appeal id. The text is valid JSON (orjson read
        # it), and the standard parser keeps such integers exact.
        try:
            obj = json.loads(text)
        except RecursionError:
            raise IntakeError(ErrorCode.BAD_JSON, f"{what} is nested too deeply") from None
    return build(record, obj, what)
