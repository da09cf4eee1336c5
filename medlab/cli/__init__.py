"""The ``medlab`` command line: a thin layer over the Python API.

One module per command group holds its sub-commands' argument parsers (``add_parsers``) and their
``cli_*`` implementations: ``eval`` (eval, runs), ``compare`` (compare, report), ``judge``
(judge, agreement), ``chat``, ``serve``, ``notebooks``, ``models`` (build-standins, plan) and
``catalog`` (evalsets, prompts); ``options`` holds the model and generation options several share.
A command module imports the library it drives inside its ``cli_*`` function, so that parsing
the command line (and ``medlab --help``) loads none of it.

Errors: a mistake in what the user gave (a malformed eval set or prompt, an unknown name, a
missing run or file) prints one line ``medlab <command>: <message>`` and exits 2; any other
failure prints one line and exits 1; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from medlab.cli import catalog, chat, compare, judge, models, notebooks, serve
from medlab.cli import eval as eval_
from medlab.cli.options import model_kwargs

__all__ = ["USER_ERRORS", "build_parser", "error_line", "main", "model_kwargs"]

# in the order ``medlab --help`` lists them
COMMAND_GROUPS = (eval_, compare, judge, chat, serve, notebooks, models, catalog)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.add_parsers(sub)
    _add_debug(parser, top=True)
    return parser


def _add_debug(parser: argparse.ArgumentParser, top: bool = False) -> None:
    """``--debug`` before or after the sub-command."""
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="show the Python traceback of an error",
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _add_debug(sub)


USER_ERRORS = (ValueError, LookupError, FileNotFoundError, NotADirectoryError)


def error_line(exc: BaseException) -> str:
    """One line for an exception: its message (a KeyError's without the quotes)."""
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    if not isinstance(exc, USER_ERRORS):
        message = f"{type(exc).__name__}: {message}"
    return " ".join(str(message).split()) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"medlab {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        hint = "" if isinstance(exc, USER_ERRORS) else " (--debug shows the traceback)"
        print(f"medlab {args.command}: {error_line(exc)}{hint}", file=sys.stderr)
        return 2 if isinstance(exc, USER_ERRORS) else 1
