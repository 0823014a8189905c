"""Body and form limits, resolved once from the config (and per route by ``@limits``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

__all__ = ("BodyLimits",)


@dataclass(frozen=True, slots=True)
class BodyLimits:
    max_content_length: int | None = None
    max_form_memory_size: int = 500_000
    max_form_fields: int = 1000
    max_form_files: int = 1000
    max_part_header_size: int = 8192
    form_spool_max_size: int = 1_048_576

    @classmethod
    def from_config(cls, conf: Any) -> BodyLimits:
        get = conf.get
        return cls(
            max_content_length=get("MAX_CONTENT_LENGTH"),
            max_form_memory_size=get("MAX_FORM_MEMORY_SIZE", 500_000),
            max_form_fields=get("MAX_FORM_FIELDS", 1000),
            max_form_files=get("MAX_FORM_FILES", 1000),
            max_part_header_size=get("MAX_PART_HEADER_SIZE", 8192),
            form_spool_max_size=get("FORM_SPOOL_MAX_SIZE", 1_048_576),
        )

    def override(self, **values: Any) -> BodyLimits:
        return replace(self, **{k: v for k, v in values.items() if v is not None})
