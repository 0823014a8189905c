"""Mongo-style filters, sorts, updates and pipelines for the SQLite document store.

Filters compile to SQL over SQLite's JSON1 functions (``json_type``, ``json_extract``,
``json_each``) with named parameters only, so nothing from a filter is spliced into SQL text.
Updates and the pipeline stages after the leading ``$match`` run in Python on decoded
documents. Anything outside the supported subset raises ``InvalidQuery`` naming it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..exceptions import InvalidQuery

__all__ = (
    "SqlFilter",
    "apply_update",
    "compile_filter",
    "dump_json",
    "json_path",
    "limit_skip",
    "run_stages",
    "sort_pairs",
    "split_pipeline",
    "upsert_seed",
)

_NUMBER_TYPES = "('integer', 'real')"
# Mongo's cross-type order (null < numbers < strings < objects < arrays < booleans).
_TYPE_RANK_SQL = (
    "CASE json_type(doc, {p}) WHEN 'integer' THEN 1 WHEN 'real' THEN 1 WHEN 'text' THEN 2 "
    "WHEN 'object' THEN 3 WHEN 'array' THEN 4 WHEN 'false' THEN 5 WHEN 'true' THEN 5 ELSE 0 END"
)
_COMPARISONS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_FIELD_OPERATORS = frozenset({"$eq", "$ne", "$in", "$nin", "$exists", *_COMPARISONS})
_UPDATE_OPERATORS = frozenset({"$set", "$unset", "$inc"})


def dump_json(value: Any) -> str:
    """Compact JSON text: the one encoding used for stored documents and compared values."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidQuery(f"Value is not JSON-serialisable: {exc}") from None


def _split_path(field: Any) -> list[str]:
    if not isinstance(field, str) or not field:
        raise InvalidQuery(f"Invalid field path {field!r}")
    parts = field.split(".")
    for part in parts:
        if not part or part.startswith("$") or '"' in part or "\\" in part:
            raise InvalidQuery(f"Invalid field path {field!r}")
    return parts


def _is_index(part: str) -> bool:
    return part.isascii() and part.isdigit()


def json_path(field: Any) -> str:
    """``a.b.0`` → ``$."a"."b"[0]`` (a numeric segment indexes an array)."""
    return "$" + "".join(f"[{p}]" if _is_index(p) else f'."{p}"' for p in _split_path(field))


class SqlFilter:
    """Accumulates SQL text and its named parameters while a filter compiles."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        #: the filter as given (an upsert seeds its new document from it)
        self.source: Mapping[str, Any] | None = None

    def bind(self, value: Any) -> str:
        name = f"q{len(self.params)}"
        self.params[name] = value
        return ":" + name

    # ------------------------------------------------------------------ filters

    def where(self, filter: Mapping[str, Any] | None) -> str:
        if filter is None:
            return "1"
        if not isinstance(filter, Mapping):
            raise InvalidQuery(f"A filter must be a mapping, got {type(filter).__name__}")
        clauses = [self._clause(key, value) for key, value in filter.items()]
        return "(" + " AND ".join(clauses) + ")" if clauses else "1"

    def _clause(self, key: Any, value: Any) -> str:
        if isinstance(key, str) and key.startswith("$"):
            if key not in ("$and", "$or"):
                raise InvalidQuery(f"Unknown top-level operator {key}")
            if not isinstance(value, (list, tuple)) or not value:
                raise InvalidQuery(f"{key} needs a non-empty list of filters")
            joiner = " AND " if key == "$and" else " OR "
            return "(" + joiner.join(self.where(sub) for sub in value) + ")"
        if key == "_id" and isinstance(value, str):
            return f"_key = {self.bind(dump_json(value))}"  # PERF: the primary key, not a JSON scan
        path = self.bind(json_path(key))
        if isinstance(value, Mapping) and value and any(str(k).startswith("$") for k in value):
            if not all(isinstance(k, str) and k.startswith("$") for k in value):
                raise InvalidQuery(f"Field {key!r} mixes operators with plain keys")
            return "(" + " AND ".join(self._operator(path, op, arg) for op, arg in value.items()) + ")"
        return self._matches(path, self._equals(value))

    def _operator(self, path: str, op: str, arg: Any) -> str:
        if op not in _FIELD_OPERATORS:
            raise InvalidQuery(f"Unknown operator {op}")
        if op == "$eq":
            return self._matches(path, self._equals(arg))
        if op == "$ne":
            return f"NOT {self._matches(path, self._equals(arg))}"
        if op in ("$in", "$nin"):
            if not isinstance(arg, (list, tuple)):
                raise InvalidQuery(f"{op} needs a list")
            tests = [self._equals(item) for item in arg]

            def any_of(t: str, v: str) -> str:
                return "(" + " OR ".join(test(t, v) for test in tests) + ")" if tests else "0"

            matched = self._matches(path, any_of)
            return matched if op == "$in" else f"NOT {matched}"
        if op == "$exists":
            if not isinstance(arg, (bool, int)):
                raise InvalidQuery("$exists needs true or false")
            return f"(json_type(doc, {path}) IS {'NOT ' if arg else ''}NULL)"
        return self._matches(path, self._compare(_COMPARISONS[op], op, arg))

    def _matches(self, path: str, test: Callable[[str, str], str]) -> str:
        """The field's own value, or any element when it is an array, passes ``test``."""
        direct = test(f"json_type(doc, {path})", f"json_extract(doc, {path})")
        elements = test("e.type", "e.value")
        return (
            f"COALESCE(({direct}) OR (json_type(doc, {path}) = 'array' AND "
            f"EXISTS (SELECT 1 FROM json_each(doc, {path}) AS e WHERE {elements})), 0)"
        )

    def _equals(self, value: Any) -> Callable[[str, str], str]:
        if value is None:
            return lambda t, v: f"({t} IS NULL OR {t} = 'null')"
        if isinstance(value, bool):
            literal = "'true'" if value else "'false'"
            return lambda t, v: f"{t} = {literal}"
        if isinstance(value, (int, float)):
            p = self.bind(value)
            return lambda t, v: f"({t} IN {_NUMBER_TYPES} AND {v} = {p})"
        if isinstance(value, str):
            p = self.bind(value)
            return lambda t, v: f"({t} = 'text' AND {v} = {p})"
        if isinstance(value, (Mapping, list, tuple)):
            kind = "'object'" if isinstance(value, Mapping) else "'array'"
            p = self.bind(dump_json(value if isinstance(value, Mapping) else list(value)))
            return lambda t, v: f"({t} = {kind} AND {v} = {p})"
        raise InvalidQuery(f"Unsupported value type in filter: {type(value).__name__}")

    def _compare(self, sql_op: str, op: str, value: Any) -> Callable[[str, str], str]:
        if value is None:
            if op in ("$gte", "$lte"):
                return self._equals(None)
            return lambda t, v: "0"
        if isinstance(value, bool):
            p = self.bind(int(value))
            return lambda t, v: f"({t} IN ('true', 'false') AND {v} {sql_op} {p})"
        if isinstance(value, (int, float)):
            p = self.bind(value)
            return lambda t, v: f"({t} IN {_NUMBER_TYPES} AND {v} {sql_op} {p})"
        if isinstance(value, str):
            p = self.bind(value)
            return lambda t, v: f"({t} = 'text' AND {v} {sql_op} {p})"
        raise InvalidQuery(f"{op} compares numbers, strings, booleans or null, not {type(value).__name__}")

    # ------------------------------------------------------------------ sorting

    def order_by(self, sort: Iterable[tuple[str, int]] | Mapping[str, int] | None) -> str:
        terms: list[str] = []
        for field, direction in sort_pairs(sort):
            p = self.bind(json_path(field))
            word = "ASC" if direction == 1 else "DESC"
            terms.append(f"{_TYPE_RANK_SQL.format(p=p)} {word}, json_extract(doc, {p}) {word}")
        terms.append("rowid ASC")
        return ", ".join(terms)


def compile_filter(filter: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """``(where_sql, params)`` for ``filter``."""
    sql = SqlFilter()
    return sql.where(filter), sql.params


def sort_pairs(sort: Any) -> list[tuple[str, int]]:
    if sort is None:
        return []
    items = sort.items() if isinstance(sort, Mapping) else sort
    if isinstance(items, (str, bytes)):
        raise InvalidQuery("sort must be a list of (field, 1 | -1) pairs")
    pairs: list[tuple[str, int]] = []
    try:
        for item in items:
            field, direction = item
            if direction not in (1, -1) or isinstance(direction, bool):
                raise InvalidQuery(f"Sort direction for {field!r} must be 1 or -1")
            _split_path(field)
            pairs.append((field, int(direction)))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InvalidQuery):
            raise
        raise InvalidQuery("sort must be a list of (field, 1 | -1) pairs") from None
    return pairs


def limit_skip(limit: Any, skip: Any) -> tuple[int, int]:
    """Validated ``(limit, skip)``; a limit of 0 or None means "no limit" (-1), as in Mongo."""
    for label, value in (("limit", limit), ("skip", skip)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise InvalidQuery(f"{label} must be a non-negative integer")
    return (limit or -1), (skip or 0)


# ---------------------------------------------------------------------- updates (Python)


def _walk(doc: Any, parts: list[str], create: bool) -> tuple[Any, str] | None:
    """The container holding the last path segment, or ``None`` when the path is absent."""
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict):
            if part not in node:
                if not create:
                    return None
                node[part] = {}
            node = node[part]
        elif isinstance(node, list) and _is_index(part) and int(part) < len(node):
            node = node[int(part)]
        elif not create:
            return None
        else:
            raise InvalidQuery(f"Cannot create field {'.'.join(parts)!r}: {part!r} is not an object")
    return node, parts[-1]


def _set(doc: dict[str, Any], field: str, value: Any) -> None:
    found = _walk(doc, _split_path(field), create=True)
    assert found is not None
    node, last = found
    if isinstance(node, dict):
        node[last] = copy.deepcopy(value)
    elif isinstance(node, list) and _is_index(last) and int(last) < len(node):
        node[int(last)] = copy.deepcopy(value)
    else:
        raise InvalidQuery(f"Cannot set field {field!r}")


def _get(doc: Any, field: str) -> tuple[bool, Any]:
    found = _walk(doc, _split_path(field), create=False)
    if found is None:
        return False, None
    node, last = found
    if isinstance(node, dict) and last in node:
        return True, node[last]
    if isinstance(node, list) and _is_index(last) and int(last) < len(node):
        return True, node[int(last)]
    return False, None


def apply_update(doc: dict[str, Any], update: Any) -> dict[str, Any]:
    """A new document: ``doc`` with the ``$set``/``$unset``/``$inc`` of ``update`` applied."""
    if not isinstance(update, Mapping) or not update:
        raise InvalidQuery("An update must be a non-empty mapping of update operators")
    seen: set[str] = set()
    result = copy.deepcopy(doc)
    for op, fields in update.items():
        if op not in _UPDATE_OPERATORS:
            raise InvalidQuery(f"Unsupported update operator {op!r} (use $set, $unset or $inc)")
        if not isinstance(fields, Mapping) or not fields:
            raise InvalidQuery(f"{op} needs a non-empty mapping of fields")
        for field, value in fields.items():
            _split_path(field)
            if field in seen:
                raise InvalidQuery(f"Field {field!r} is updated twice")
            seen.add(field)
            if field == "_id" or field.startswith("_id."):
                raise InvalidQuery("The _id field cannot be changed")
            if op == "$set":
                dump_json(value)
                _set(result, field, value)
            elif op == "$unset":
                found = _walk(result, _split_path(field), create=False)
                if found is not None and isinstance(found[0], dict):
                    found[0].pop(found[1], None)
            else:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise InvalidQuery(f"$inc needs a number for {field!r}")
                present, current = _get(result, field)
                if present and (isinstance(current, bool) or not isinstance(current, (int, float))):
                    raise InvalidQuery(f"Cannot $inc the non-numeric field {field!r}")
                _set(result, field, (current if present else 0) + value)
    return result


def upsert_seed(filter: Mapping[str, Any] | None) -> dict[str, Any]:
    """The document an upsert starts from: the filter's plain equality fields."""
    seed: dict[str, Any] = {}
    for key, value in (filter or {}).items():
        if not isinstance(key, str) or key.startswith("$"):
            continue
        if isinstance(value, Mapping) and any(str(k).startswith("$") for k in value):
            if "$eq" not in value:
                continue
            value = value["$eq"]
        _set(seed, key, value)
    return seed


# ---------------------------------------------------------------------- pipelines


def split_pipeline(pipeline: Any) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Leading ``$match`` stages (run in SQL) and the remaining stages (run in Python)."""
    if isinstance(pipeline, (str, bytes, Mapping)):
        raise InvalidQuery("A pipeline must be a list of stages")
    try:
        stages = list(pipeline)
    except TypeError:
        raise InvalidQuery("A pipeline must be a list of stages") from None
    for stage in stages:
        if not isinstance(stage, Mapping) or len(stage) != 1:
            raise InvalidQuery("Each pipeline stage must be a mapping with exactly one operator")
    matches: list[Mapping[str, Any]] = []
    while len(matches) < len(stages) and "$match" in stages[len(matches)]:
        matches.append(stages[len(matches)]["$match"])
    return matches, stages[len(matches):]


def _rank(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (5, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, Mapping):
        return (3, dump_json(value))
    return (4, dump_json(value))


def _expression(doc: Mapping[str, Any], expr: Any) -> Any:
    if isinstance(expr, str) and expr.startswith("$"):
        return _get(doc, expr[1:])[1]
    if isinstance(expr, Mapping):
        if any(str(k).startswith("$") for k in expr):
            raise InvalidQuery(f"Expression operators are not supported here: {list(expr)}")
        return {k: _expression(doc, v) for k, v in expr.items()}
    return expr


def _accumulate(op: str, values: list[Any]) -> Any:
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    present = [v for v in values if v is not None]
    if op == "$sum":
        return sum(numbers)
    if op == "$avg":
        return sum(numbers) / len(numbers) if numbers else None
    if op == "$min":
        return min(present, key=_rank) if present else None
    if op == "$max":
        return max(present, key=_rank) if present else None
    if op == "$first":
        return values[0] if values else None
    if op == "$last":
        return values[-1] if values else None
    if op == "$push":
        return list(values)
    raise InvalidQuery(f"Unsupported $group accumulator {op}")


def _group(docs: list[dict[str, Any]], spec: Any) -> list[dict[str, Any]]:
    if not isinstance(spec, Mapping) or "_id" not in spec:
        raise InvalidQuery("$group needs an _id expression")
    accumulators: dict[str, tuple[str, Any]] = {}
    for name, acc in spec.items():
        if name == "_id":
            continue
        if not isinstance(acc, Mapping) or len(acc) != 1:
            raise InvalidQuery(f"$group field {name!r} needs one accumulator")
        op, expr = next(iter(acc.items()))
        if op not in ("$sum", "$avg", "$min", "$max", "$first", "$last", "$push", "$count"):
            raise InvalidQuery(f"Unsupported $group accumulator {op}")
        accumulators[name] = ("$sum", 1) if op == "$count" else (op, expr)
    groups: dict[str, tuple[Any, list[dict[str, Any]]]] = {}
    for doc in docs:
        key = _expression(doc, spec["_id"])
        groups.setdefault(dump_json(key), (key, []))[1].append(doc)
    out: list[dict[str, Any]] = []
    for key, members in groups.values():
        row: dict[str, Any] = {"_id": key}
        for name, (op, expr) in accumulators.items():
            row[name] = _accumulate(op, [_expression(doc, expr) for doc in members])
        out.append(row)
    return out


def _project(docs: list[dict[str, Any]], spec: Any) -> list[dict[str, Any]]:
    if not isinstance(spec, Mapping) or not spec:
        raise InvalidQuery("$project needs a non-empty mapping of fields to 0 or 1")
    flags = {field: bool(flag) for field, flag in spec.items() if _split_path(field) and flag in (0, 1, True, False)}
    if len(flags) != len(spec):
        raise InvalidQuery("$project supports only 0/1 (exclude/include) values here")
    include = {f for f, on in flags.items() if on and f != "_id"}
    exclude = {f for f, on in flags.items() if not on and f != "_id"}
    if include and exclude:
        raise InvalidQuery("$project cannot mix inclusion and exclusion")
    keep_id = flags.get("_id", True)
    out: list[dict[str, Any]] = []
    for doc in docs:
        if include:
            row: dict[str, Any] = {"_id": doc["_id"]} if keep_id and "_id" in doc else {}
            for field in include:
                present, value = _get(doc, field)
                if present:
                    _set(row, field, value)
        else:
            row = copy.deepcopy(doc)
            for field in exclude | ({"_id"} if not keep_id else set()):
                found = _walk(row, _split_path(field), create=False)
                if found is not None and isinstance(found[0], dict):
                    found[0].pop(found[1], None)
        out.append(row)
    return out


def _count_non_negative(name: str, value: Any, *, positive: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (positive and value == 0):
        raise InvalidQuery(f"{name} needs a {'positive' if positive else 'non-negative'} integer")
    return value


def run_stages(docs: list[dict[str, Any]], stages: list[Mapping[str, Any]], backend_name: str) -> list[dict[str, Any]]:
    """Apply the Python-side stages of a pipeline to ``docs``."""
    for stage in stages:
        op, spec = next(iter(stage.items()))
        if op == "$sort":
            for field, direction in reversed(sort_pairs(spec)):
                docs = sorted(docs, key=lambda d: _rank(_get(d, field)[1]), reverse=direction == -1)
        elif op == "$skip":
            docs = docs[_count_non_negative("$skip", spec):]
        elif op == "$limit":
            docs = docs[: _count_non_negative("$limit", spec, positive=True)]
        elif op == "$count":
            if not isinstance(spec, str) or not spec or spec.startswith("$") or "." in spec:
                raise InvalidQuery("$count needs a field name")
            docs = [{spec: len(docs)}] if docs else []
        elif op == "$group":
            docs = _group(docs, spec)
        elif op == "$project":
            docs = _project(docs, spec)
        elif op == "$match":
            raise InvalidQuery(f"{backend_name} runs $match only at the start of a pipeline")
        else:
            raise InvalidQuery(f"Pipeline stage {op} is not supported by {backend_name}")
    return docs
