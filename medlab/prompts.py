"""Versioned system prompts: ``prompts/<name>/v<N>.md`` files, loaded by reference.

A prompt file is YAML front matter (name, version, date, description, language, output_schema,
parent, changelog, optional ``variables`` with defaults) and a body, a Jinja2 template rendered
in a sandbox with ``StrictUndefined`` (a missing variable is an error that names it). A prompt is
addressed as ``"name@vN"``, or ``"name"`` for its latest version. Its ``sha256`` covers the
normalised file (front matter + body), so runs record exactly which text produced which result.

Published versions are immutable: ``prompts/LOCK.json`` maps each published reference to its
hash; ``python -m medlab.prompts --lock`` adds new versions and refuses to change existing
entries, ``--check`` (and the test suite) fails when a published file was edited.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import hashlib
import json
import os
import re
import sys
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment

from medlab.schemas import SCHEMAS

REQUIRED_FIELDS = (
    "name",
    "version",
    "date",
    "description",
    "language",
    "output_schema",
    "parent",
    "changelog",
)
LANGUAGES = ("zh", "en")
LOCK_NAME = "LOCK.json"
_FILE_RE = re.compile(r"^v(\d+)\.md$")
_REF_RE = re.compile(r"^([A-Za-z0-9_\-]+)(?:@v?(\d+))?$")
MAX_RENDER_CHARS = 1_000_000  # a rendered prompt, and any string or list a template builds


class _BoundedEnvironment(SandboxedEnvironment):
    """The sandbox, plus a size bound: ``'x' * 10**9``, ``'x'.ljust(10**9)``, ``10**10**9`` and
    filters asked for huge widths are refused before they allocate; the output is counted as it
    is produced (a loop cannot add up to more than ``MAX_RENDER_CHARS`` either)."""

    intercepted_binops = frozenset(["*", "**"])

    @staticmethod
    def _check_size(value: Any, what: str) -> Any:
        if isinstance(value, (str, list, tuple)) and len(value) > MAX_RENDER_CHARS:
            raise PromptError(f"template {what} is over the {MAX_RENDER_CHARS}-character limit")
        return value

    @staticmethod
    def _check_args(args: tuple, kwargs: dict, what: str) -> None:
        for a in (*args, *kwargs.values()):
            if isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_RENDER_CHARS:
                raise PromptError(f"template {what}: argument {a} is over the limit")

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            seq, n = (left, right) if isinstance(right, int) else (right, left)
            sized = isinstance(seq, (str, list, tuple)) and isinstance(n, int)
            if sized and len(seq) * max(n, 0) > MAX_RENDER_CHARS:
                raise PromptError(
                    f"template builds a sequence of {len(seq) * n} items, over the "
                    f"{MAX_RENDER_CHARS}-character limit"
                )
        elif operator == "**" and isinstance(left, int) and isinstance(right, int):
            bits = max(abs(left), 2).bit_length() * right
            if bits > 64 * 1024:
                raise PromptError(f"template computes {left}**{right}: too large a number")
        return super().call_binop(context, operator, left, right)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        self._check_args(args, kwargs, "call")
        return self._check_size(super().call(__context, __obj, *args, **kwargs), "call result")


def _bounded_filter(f: Any) -> Any:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _BoundedEnvironment._check_args(args[1:], kwargs, "filter")
        return _BoundedEnvironment._check_size(f(*args, **kwargs), "filter result")

    for attr in ("jinja_pass_arg",):  # keep how jinja passes the context to the filter
        if hasattr(f, attr):
            setattr(wrapped, attr, getattr(f, attr))
    return wrapped


_ENV = _BoundedEnvironment(undefined=StrictUndefined, keep_trailing_newline=False, autoescape=False)
_ENV.filters = {name: _bounded_filter(f) for name, f in _ENV.filters.items()}


def _render_bounded(template: str, variables: dict[str, Any]) -> str:
    out, size = [], 0
    for chunk in _ENV.from_string(template).generate(variables):
        size += len(chunk)
        if size > MAX_RENDER_CHARS:
            raise PromptError(f"rendered prompt is over the {MAX_RENDER_CHARS}-character limit")
        out.append(chunk)
    return "".join(out)


class PromptError(ValueError):
    """A prompt file is malformed, a variable is missing, or the lock is violated."""


class PromptNotFoundError(PromptError, LookupError):
    """No prompt with that name or version; the message lists what exists."""


def prompts_dir() -> Path:
    """``$MEDLAB_PROMPTS_DIR``, else the ``prompts/`` folder next to the package."""
    env = os.environ.get("MEDLAB_PROMPTS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "prompts"


def normalise(text: str) -> str:
    """Newlines to ``\\n``, no BOM, no trailing whitespace on lines or at the end."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n") + "\n"


@dataclass(frozen=True)
class Prompt:
    """One version of a system prompt. ``text`` is the system prompt as sent (the body rendered
    with its default variables; the raw template if a variable has no default)."""

    name: str
    version: int
    text: str
    sha256: str
    schema: str | None
    language: str
    meta: dict[str, Any]
    path: Path
    template: str = ""
    variables: dict[str, Any] = field(default_factory=dict)
    published: bool = False
    edited: bool = False  # published, then its file changed: runs refuse it unless allowed

    def __hash__(self) -> int:  # meta is a dict, so hash by reference and content hash
        return hash((self.name, self.version, self.sha256))

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}"

    @property
    def required_variables(self) -> list[str]:
        """Variables the template uses that have no default."""
        used = meta.find_undeclared_variables(_ENV.parse(self.template))
        return sorted(used - set(self.variables))

    def render(self, **variables: Any) -> str:
        """The system prompt with ``variables`` (over the front-matter defaults) filled in."""
        used = meta.find_undeclared_variables(_ENV.parse(self.template))
        unknown = sorted(set(variables) - used - set(self.variables))
        if unknown:
            raise PromptError(
                f"{self.ref}: unknown variable(s) {', '.join(unknown)}; it uses {', '.join(sorted(used)) or 'none'}"
            )
        missing = sorted(used - set(self.variables) - set(variables))
        if missing:
            raise PromptError(
                f"{self.ref}: missing variable(s) {', '.join(repr(m) for m in missing)}"
            )
        try:
            return _render_bounded(self.template, {**self.variables, **variables}).strip()
        except TemplateError as exc:
            raise PromptError(f"{self.ref}: template error: {exc}") from exc


def _line_of(front: list[str], key: str) -> int:
    """1-based file line of a top-level front-matter key (line 1 is the opening ``---``)."""
    for i, line in enumerate(front):
        if re.match(rf"^{re.escape(key)}\s*:", line):
            return i + 2
    return 1


def parse_prompt_file(path: str | Path) -> Prompt:
    """Read and check one prompt file; errors name the file, line and field."""
    path = Path(path)
    raw = normalise(path.read_text(encoding="utf-8"))
    lines = raw.split("\n")
    if lines[0] != "---" or "---" not in lines[1:]:
        raise PromptError(
            f"{path}:1: a prompt file starts with YAML front matter between '---' lines"
        )
    close = lines.index("---", 1)
    front, body = lines[1:close], "\n".join(lines[close + 1 :]).strip("\n") + "\n"
    try:
        fm = yaml.safe_load("\n".join(front)) or {}
    except yaml.YAMLError as exc:
        mark, context = getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None)
        line = mark.line + 2 if mark else 1
        where = f" ({exc.context} at line {context.line + 2})" if context and exc.context else ""
        raise PromptError(
            f"{path}:{line}: malformed front matter: {getattr(exc, 'problem', exc)}{where}"
        ) from None
    if not isinstance(fm, dict):
        raise PromptError(f"{path}:2: front matter must be a mapping of fields")

    def bad(key: str, why: str) -> PromptError:
        return PromptError(f"{path}:{_line_of(front, key)}: front matter field {key!r} {why}")

    for key in REQUIRED_FIELDS:
        if key not in fm:
            raise PromptError(
                f"{path}:{close + 1}: front matter misses field {key!r} (required: {', '.join(REQUIRED_FIELDS)})"
            )
    m = _FILE_RE.match(path.name)
    if fm["name"] != path.parent.name:
        raise bad("name", f"is {fm['name']!r} but the folder is {path.parent.name!r}")
    if not isinstance(fm["version"], int) or (m and fm["version"] != int(m.group(1))):
        raise bad("version", f"is {fm['version']!r} but the file is {path.name}")
    if isinstance(fm["date"], dt.date):
        fm["date"] = fm["date"].isoformat()
    else:
        try:
            dt.date.fromisoformat(str(fm["date"]))
        except ValueError:
            raise bad("date", f"is {fm['date']!r}, expected YYYY-MM-DD") from None
    if fm["language"] not in LANGUAGES:
        raise bad("language", f"is {fm['language']!r}, expected one of {', '.join(LANGUAGES)}")
    if fm["output_schema"] is not None and fm["output_schema"] not in SCHEMAS:
        raise bad(
            "output_schema",
            f"is {fm['output_schema']!r}, expected null or one of {', '.join(SCHEMAS)}",
        )
    if fm["parent"] is not None and not (isinstance(fm["parent"], str) and "@v" in fm["parent"]):
        raise bad("parent", f"is {fm['parent']!r}, expected null or a reference like 'name@v1'")
    for key in ("description", "changelog"):
        if not isinstance(fm[key], str) or not fm[key].strip():
            raise bad(key, "must be a non-empty string")
    variables = fm.get("variables") or {}
    if not isinstance(variables, dict):
        raise bad("variables", "must be a mapping of variable name to default value")
    try:
        _ENV.parse(body)
    except TemplateError as exc:
        raise PromptError(
            f"{path}:{close + 1 + (getattr(exc, 'lineno', 0) or 0)}: template error: {exc}"
        ) from None

    sha = hashlib.sha256(raw.encode("utf-8")).hexdigest()
    ref = f"{fm['name']}@v{fm['version']}"
    locked = read_lock(path.parent.parent).get(ref)
    if locked and locked != sha:
        warnings.warn(
            f"{ref} was edited after it was published ({path}); publish a new version instead",
            stacklevel=2,
        )
    prompt = Prompt(
        fm["name"],
        fm["version"],
        body,
        sha,
        fm["output_schema"],
        fm["language"],
        fm,
        path,
        body,
        dict(variables),
        locked == sha,
        bool(locked) and locked != sha,
    )
    return prompt if prompt.required_variables else replace(prompt, text=prompt.render())


def _index(root: Path | None = None) -> dict[str, dict[int, Path]]:
    root = root or prompts_dir()
    index: dict[str, dict[int, Path]] = {}
    for path in sorted(root.glob("*/v*.md")):
        m = _FILE_RE.match(path.name)
        if m:
            index.setdefault(path.parent.name, {})[int(m.group(1))] = path
    return index


def load_prompt(ref: str | Prompt) -> Prompt:
    """``"name@vN"`` (or ``"name@N"``), ``"name"`` for the latest version, or a ``.md`` path."""
    if isinstance(ref, Prompt):
        return ref
    if ref.endswith(".md") and Path(ref).is_file():
        return parse_prompt_file(ref)
    m = _REF_RE.match(ref.strip())
    if not m:
        raise PromptNotFoundError(f"bad prompt reference {ref!r}; expected 'name' or 'name@vN'")
    index = _index()
    name, version = m.group(1), m.group(2)
    if name not in index:
        known = "; ".join(
            f"{n} ({', '.join(f'v{v}' for v in sorted(vs))})" for n, vs in index.items()
        )
        raise PromptNotFoundError(
            f"unknown prompt {name!r} in {prompts_dir()}; available: {known or 'none'}"
        )
    versions = index[name]
    v = max(versions) if version is None else int(version)
    if v not in versions:
        raise PromptNotFoundError(
            f"prompt {name!r} has no version v{v}; available: {', '.join(f'v{x}' for x in sorted(versions))}"
        )
    return parse_prompt_file(versions[v])


def list_prompts() -> list[Prompt]:
    """Every version of every prompt, sorted by name and version."""
    return [parse_prompt_file(p) for vs in _index().values() for _, p in sorted(vs.items())]


def diff_prompts(a: str | Prompt, b: str | Prompt) -> str:
    """Unified diff of two prompt files (front matter and body), labelled with their refs."""
    pa, pb = load_prompt(a), load_prompt(b)
    la = normalise(pa.path.read_text(encoding="utf-8")).splitlines(keepends=True)
    lb = normalise(pb.path.read_text(encoding="utf-8")).splitlines(keepends=True)
    return "".join(difflib.unified_diff(la, lb, fromfile=pa.ref, tofile=pb.ref))


def read_lock(root: Path | None = None) -> dict[str, str]:
    path = (root or prompts_dir()) / LOCK_NAME
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def check_lock(root: Path | None = None) -> list[str]:
    """Problems with published prompts: edited or deleted files. Empty means all is well."""
    root = root or prompts_dir()
    index = _index(root)
    problems = []
    for ref, sha in read_lock(root).items():
        name, _, v = ref.partition("@v")
        path = index.get(name, {}).get(int(v))
        if path is None:
            problems.append(f"{ref}: published but its file is gone")
        elif (
            hashlib.sha256(normalise(path.read_text(encoding="utf-8")).encode()).hexdigest() != sha
        ):
            problems.append(
                f"{ref}: {path.name} changed after publication (sha256 was {sha[:12]}); restore it and publish a new version"
            )
    return problems


def lock_prompts(root: Path | None = None) -> list[str]:
    """Publish every prompt version not yet in the lock file; returns the refs added.
    Refuses (PromptError) when a published version's text changed."""
    root = root or prompts_dir()
    problems = check_lock(root)
    if problems:
        raise PromptError("published prompts are immutable:\n" + "\n".join(problems))
    lock = read_lock(root)
    added = []
    for vs in _index(root).values():
        for path in vs.values():
            p = parse_prompt_file(path)
            if p.ref not in lock:
                lock[p.ref] = p.sha256
                added.append(p.ref)
    (root / LOCK_NAME).write_text(
        json.dumps(dict(sorted(lock.items())), indent=2) + "\n", encoding="utf-8"
    )
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m medlab.prompts", description="Publish or check prompt versions."
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--lock", action="store_true", help="add new versions to LOCK.json")
    group.add_argument("--check", action="store_true", help="fail if a published prompt changed")
    args = parser.parse_args(argv)
    try:
        if args.lock:
            added = lock_prompts()
            print(f"published: {', '.join(added)}" if added else "nothing new to publish")
            return 0
        problems = check_lock()
    except PromptError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        "\n".join(problems) if problems else f"all published prompts unchanged ({len(read_lock())})"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
