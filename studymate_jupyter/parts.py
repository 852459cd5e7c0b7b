"""Swappable parts (the assistant, the retriever): their base class, and how a name finds one."""

from __future__ import annotations

import importlib
import inspect
from abc import ABCMeta
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Generic, TypeVar, cast

from traitlets import TraitError
from traitlets.config import LoggingConfigurable
from traitlets.traitlets import MetaHasTraits

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


class _PartMeta(ABCMeta, MetaHasTraits):
    """Both metaclasses: traits on the class, and abstract methods that must be written."""


class Part(LoggingConfigurable, metaclass=_PartMeta):
    """A swappable part: its settings are `config=True` traits, set as
    `c.<ClassName>.<trait>` like any Jupyter setting, and it is built with `parent=` the
    StudyMate app, from which it takes that configuration and its logger."""


P = TypeVar("P", bound=Part)
_OWN = __name__.partition(".")[0]


@dataclass(frozen=True)
class PartKind(Generic[P]):
    """One kind of part, named by the trait `StudyMate.<trait>`: an entry point installed in
    the group `entry_points` (StudyMate's own built-in parts are entry points too), or
    "package.module:Class"."""

    trait: str
    base: type[Part]  # the abstract class P: mypy takes only concrete classes as type[P]
    entry_points: str

    def find(self, name: str) -> type[P]:
        """The class `name` stands for, or a TraitError that says what may be given."""
        installed = {point.name: point for point in entry_points(group=self.entry_points)}
        if name in installed:
            return self._checked(name, lambda: installed[name].load())
        module, colon, attribute = name.partition(":")
        if not (colon and module and attribute):
            raise TraitError(
                f"StudyMate.{self.trait}: there is no {self.trait} {name!r}. "
                f"{self._choices(installed)}"
            )
        return self._checked(name, lambda: getattr(importlib.import_module(module), attribute))

    def _checked(self, name: str, load: Callable[[], object]) -> type[P]:
        try:
            found = load()
        except Exception as exc:  # an import runs the module's code: anything may fail
            raise TraitError(
                f"StudyMate.{self.trait}: {name!r} could not be loaded "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        if not (isinstance(found, type) and issubclass(found, self.base)):
            raise TraitError(f"StudyMate.{self.trait}: {name!r} is not {self._a_subclass}")
        if inspect.isabstract(found):
            missing = ", ".join(sorted(found.__abstractmethods__))
            raise TraitError(f"StudyMate.{self.trait}: {name!r} does not implement {missing}")
        return cast("type[P]", found)

    def _choices(self, installed: Mapping[str, EntryPoint]) -> str:
        # StudyMate's own first, as its documentation lists them, then the others by name.
        ordered = sorted(
            installed.values(), key=lambda p: (p.module.partition(".")[0] != _OWN, p.name)
        )
        names = ", ".join(f'"{point.name}"' for point in ordered)
        return (
            f"Choose one of {names} (installed in the entry-point group "
            f'{self.entry_points}), or "package.module:Class" naming {self._a_subclass}.'
        )

    @property
    def _a_subclass(self) -> str:
        base = self.base.__name__
        return f"{'an' if base[0] in 'AEIOU' else 'a'} {base} subclass"
