"""Public functions that share their name with their module: ``medlab.report``,
``medlab.judge``, ``medlab.agreement``.

``medlab.report`` is imported lazily as the function ``medlab.report.report``; but once anything
imports the module ``medlab.report``, Python sets the package's attribute to the module.
``callable_module(__name__)`` at the end of such a module makes the module itself call its
function, so ``medlab.report(run)`` works whatever was imported before.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any


class _CallableModule(ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(self, self.__name__.rpartition(".")[2])(*args, **kwargs)


def callable_module(name: str) -> None:
    """Make module ``name`` callable as its function of the same last name."""
    sys.modules[name].__class__ = _CallableModule


__all__ = ["callable_module"]
