"""DRF serializers built from the engine's typed records (``training.ml.results``), so the API schema
(drf-spectacular) and the stored record cannot drift: one field per dataclass field, nested records nested."""

from __future__ import annotations

import types
import typing
from dataclasses import fields

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from training.ml.results import Evidence, Record

_SCALARS = {int: serializers.IntegerField, float: serializers.FloatField, str: serializers.CharField}
_built: dict[type, type[serializers.Serializer]] = {}


def _field(tp, **kwargs) -> serializers.Field:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = next(arg for arg in typing.get_args(tp) if arg is not type(None))
        return _field(inner, allow_null=True, **kwargs)
    if isinstance(tp, type) and issubclass(tp, Evidence):
        return EvidenceField(**kwargs)
    if isinstance(tp, type) and issubclass(tp, Record):
        return record_serializer(tp)(**kwargs)
    if tp is bool:
        return serializers.BooleanField(**kwargs)
    if tp in _SCALARS:
        extra = {"allow_blank": True} if tp is str else {}
        return _SCALARS[tp](**kwargs, **extra)
    if origin is list or tp is list:
        (item,) = typing.get_args(tp) or (typing.Any,)
        if isinstance(item, type) and issubclass(item, Record):
            return record_serializer(item)(many=True, **kwargs)
        return serializers.ListField(child=_field(item), **kwargs)
    if origin is dict or tp is dict:
        _, value = typing.get_args(tp) or (str, typing.Any)
        return serializers.DictField(child=_field(value), **kwargs)  # a record's values are named in the schema
    return serializers.JSONField(**kwargs)


def record_serializer(cls: type[Record]) -> type[serializers.Serializer]:
    """A read-only serializer class named ``<Record>Serializer`` with one field per dataclass field."""
    if cls not in _built:
        hints = typing.get_type_hints(cls)
        attrs = {f.name: _field(hints[f.name]) for f in fields(cls)}
        attrs["__doc__"] = (cls.__doc__ or cls.__name__).strip().splitlines()[0]
        _built[cls] = type(f"{cls.__name__}Serializer", (serializers.Serializer,), attrs)
    return _built[cls]


def evidence_serializers() -> list[type[serializers.Serializer]]:
    """One serializer per registered backend's evidence record: its declared fields (the stored keys)."""
    from training.ml.backends import backend_classes

    out = []
    for cls in dict.fromkeys(backend.evidence_type for backend in backend_classes()):
        if cls not in _built:
            hints = typing.get_type_hints(cls)
            attrs = {name: _field(hints[name], required=False) for name in cls.declared()}
            attrs["__doc__"] = (cls.__doc__ or cls.__name__).strip().splitlines()[0]
            _built[cls] = type(f"{cls.__name__}Serializer", (serializers.Serializer,), attrs)
        out.append(_built[cls])
    return out


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="Evidence", serializers=evidence_serializers, resource_type_field_name=None, many=False
    )
)
class EvidenceField(serializers.Field):
    """A model's evidence as stored: its backend's keys (``Evidence.to_dict``); the schema lists each backend's
    evidence record."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value):
        return value.to_dict()
