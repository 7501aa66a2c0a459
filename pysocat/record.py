"""A small stand-in for `dataclasses` (the subset pysocat uses), for start-up time.

`dataclasses` imports inspect, ast, dis and tokenize and compiles new methods for every
class, which cost a one-shot relay about a quarter of its start-up time. Here each
decorated class gets one shared, generic __init__/__eq__/__repr__ driven by its field
list. Supported: `@dataclass`, `@dataclass(frozen=..., eq=...)`, `field(default=...,
default_factory=..., repr=..., compare=...)`, inheritance of fields, and `replace()`.
"""
from __future__ import annotations

_MISSING = object()


class FrozenInstanceError(AttributeError):
    pass


class Field:
    __slots__ = ("name", "default", "factory", "repr", "compare")

    def __init__(self, default: object = _MISSING, default_factory: object = _MISSING, repr: bool = True,
                 compare: bool = True) -> None:
        self.name = ""
        self.default, self.factory, self.repr, self.compare = default, default_factory, repr, compare


def field(*, default: object = _MISSING, default_factory: object = _MISSING, repr: bool = True,
          compare: bool = True) -> object:
    return Field(default, default_factory, repr, compare)


def _init(self: object, *args: object, **kwargs: object) -> None:
    fields: tuple[Field, ...] = type(self).__record_fields__  # type: ignore[attr-defined]
    if len(args) > len(fields):
        raise TypeError(f"{type(self).__name__}() takes {len(fields)} arguments, {len(args)} given")
    setter = object.__setattr__
    for index, spec in enumerate(fields):
        if index < len(args):
            value = args[index]
            if spec.name in kwargs:
                raise TypeError(f"{type(self).__name__}() got multiple values for {spec.name!r}")
        elif spec.name in kwargs:
            value = kwargs.pop(spec.name)
        elif spec.factory is not _MISSING:
            value = spec.factory()  # type: ignore[operator]
        elif spec.default is not _MISSING:
            value = spec.default
        else:
            raise TypeError(f"{type(self).__name__}() missing argument {spec.name!r}")
        setter(self, spec.name, value)
    if kwargs:
        raise TypeError(f"{type(self).__name__}() got an unexpected argument {next(iter(kwargs))!r}")


def _values(self: object) -> tuple[object, ...]:
    return tuple(getattr(self, f.name) for f in type(self).__record_fields__ if f.compare)  # type: ignore[attr-defined]


def _eq(self: object, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented  # type: ignore[return-value]
    return _values(self) == _values(other)


def _hash(self: object) -> int:
    return hash(_values(self))


def _repr(self: object) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in type(self).__record_fields__ if f.repr)  # type: ignore[attr-defined]
    return f"{type(self).__name__}({shown})"


def _frozen_setattr(self: object, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _process(cls: type, frozen: bool, eq: bool) -> type:
    inherited: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for spec in base.__dict__.get("__record_fields__", ()):
            inherited[spec.name] = spec
    for name in cls.__dict__.get("__annotations__", {}):
        value = cls.__dict__.get(name, _MISSING)
        spec = value if isinstance(value, Field) else Field(default=value)
        spec.name = name
        inherited[name] = spec
        if isinstance(value, Field):
            if spec.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
    cls.__record_fields__ = tuple(inherited.values())  # type: ignore[attr-defined]
    cls.__init__ = _init  # type: ignore[misc]
    if "__repr__" not in cls.__dict__:
        cls.__repr__ = _repr  # type: ignore[assignment]
    if eq:
        cls.__eq__ = _eq  # type: ignore[assignment]
        cls.__hash__ = _hash if frozen else None  # type: ignore[assignment]
    if frozen:
        cls.__setattr__ = _frozen_setattr  # type: ignore[assignment]
        cls.__delattr__ = _frozen_delattr  # type: ignore[assignment]
    return cls


def dataclass(cls: type | None = None, *, frozen: bool = False, eq: bool = True):  # type: ignore[no-untyped-def]
    if cls is None:
        return lambda klass: _process(klass, frozen, eq)
    return _process(cls, frozen, eq)


def replace(obj: object, **changes: object) -> object:
    values = {f.name: getattr(obj, f.name) for f in type(obj).__record_fields__}  # type: ignore[attr-defined]
    values.update(changes)
    return type(obj)(**values)


__all__ = ["dataclass", "field", "replace", "FrozenInstanceError"]
