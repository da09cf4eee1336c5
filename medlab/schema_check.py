"""JSON Schema checks without jsonschema's import cost on the path where everything is valid.

``import jsonschema`` takes 1-2 s on a machine with the Jupyter packages: it imports every
format checker when it is imported, and ``rfc3987-syntax`` compiles ~35 Lark grammars then.
Every eval-set item and every structured answer is checked against a schema, so paying it
would tax every run. :class:`SchemaChecker` keeps jsonschema's semantics and error objects
but decides validity with ``fastjsonschema`` (the schema compiled once to Python code, ~20 ms
to import): a valid instance never imports jsonschema; an invalid one is explained by
``jsonschema.Draft202012Validator.iter_errors``, so callers see the same errors, messages and
paths as before. A schema that uses a keyword outside the subset both libraries read alike
(``$ref``, ``prefixItems``, ``unevaluatedProperties``, ``multipleOf``, ...) goes to jsonschema
alone.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

# Keywords that fastjsonschema (its draft 2019 code generator) and jsonschema (draft 2020-12)
# read alike, but for ``pattern``, where fastjsonschema is stricter (its ``$`` matches only at
# the very end, not before a final newline). Stricter is harmless where a failing subschema
# fails the instance (invalid verdicts are re-checked by jsonschema), not under ``not``,
# ``oneOf`` or ``if``, where a subschema's failure can make the instance valid: a ``pattern``
# there sends the schema to jsonschema alone.
_SAME = frozenset(
    {
        "$schema", "title", "description", "default", "examples", "$comment", "format",
        "deprecated", "readOnly", "writeOnly", "type", "enum", "const", "properties",
        "required", "additionalProperties", "patternProperties", "propertyNames", "items",
        "minItems", "maxItems", "minLength", "maxLength", "pattern", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "minProperties", "maxProperties", "contains",
        "oneOf", "anyOf", "allOf", "not", "if", "then", "else",
    }
)  # fmt: skip
_STRICTER = frozenset({"pattern"})
_NEGATED = ("not", "if")  # a subschema whose failure can make the instance valid (and oneOf)


def _fast_ok(schema: Any, exact: bool = False) -> bool:
    """Whether a valid verdict of fastjsonschema on ``schema`` is jsonschema's (``exact``: and
    an invalid one too)."""
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict) or not schema.keys() <= _SAME:
        return False
    if "items" in schema and not isinstance(schema["items"], dict | bool):
        return False  # an array of schemas is draft 2019 tuple validation, an error in 2020-12
    if exact and schema.keys() & _STRICTER:
        return False
    subschemas = [
        *[(s, exact) for k in ("properties", "patternProperties") for s in schema.get(k, {}).values()],
        *[(s, exact) for k in ("anyOf", "allOf") for s in schema.get(k, [])],
        *[(s, True) for s in schema.get("oneOf", [])],
        *[(schema[k], exact) for k in ("additionalProperties", "propertyNames", "items", "contains",
                                       "then", "else") if k in schema],
        *[(schema[k], True) for k in _NEGATED if k in schema],
    ]  # fmt: skip
    return all(_fast_ok(s, e) for s, e in subschemas)


class SchemaChecker:
    """``iter_errors(instance)`` with jsonschema's errors; fast when the instance is valid."""

    def __init__(self, schema: dict[str, Any]):
        self.schema = schema
        self._fast = None
        self._slow: jsonschema.Draft202012Validator | None = None
        if _fast_ok(schema):
            import fastjsonschema

            # a schema it cannot compile goes to jsonschema alone, which reports it its own way
            with contextlib.suppress(fastjsonschema.JsonSchemaDefinitionException):
                self._fast = fastjsonschema.compile(schema, use_default=False, use_formats=False)

    def is_valid(self, instance: Any) -> bool:
        return self._fast_valid(instance) or next(self.iter_errors(instance), None) is None

    def iter_errors(self, instance: Any) -> Iterator[jsonschema.ValidationError]:
        """Every error jsonschema reports (none, without importing it, for a valid instance)."""
        if self._fast_valid(instance):
            return iter(())
        return self._jsonschema().iter_errors(instance)

    def _fast_valid(self, instance: Any) -> bool:
        if self._fast is None:
            return False
        try:
            self._fast(instance)
        except Exception:  # JsonSchemaValueException, or e.g. TypeError on an odd instance
            return False
        return True

    def _jsonschema(self) -> jsonschema.Draft202012Validator:
        if self._slow is None:
            from jsonschema import Draft202012Validator

            self._slow = Draft202012Validator(self.schema)
        return self._slow


_CHECKERS: dict[str, SchemaChecker] = {}


def checker(schema: dict[str, Any]) -> SchemaChecker:
    """A checker for ``schema``, compiled once per distinct schema in this process (keyed by
    its JSON text in its own key order, which decides the order of jsonschema's errors)."""
    key = json.dumps(schema, ensure_ascii=False, default=str)
    found = _CHECKERS.get(key)
    if found is None:
        if len(_CHECKERS) >= 256:  # schemas built per call must not grow memory without bound
            _CHECKERS.clear()
        found = _CHECKERS[key] = SchemaChecker(copy.deepcopy(schema))
    return found
