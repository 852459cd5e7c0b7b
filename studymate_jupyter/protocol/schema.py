"""The protocol as one JSON Schema (draft 2020-12), for clients in other languages.

``python -m studymate_jupyter.protocol --schema`` prints it. ``$defs`` names every type as
this package does: ``ClientFrame`` and ``ServerFrame`` (unions tagged by ``type``), each
frame, and the records and REST bodies they carry.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import core_schema

from .bodies import ChatPatch, NewChat, NewDocument
from .client_frames import client_frame
from .records import (
    AssistantInfo,
    Chat,
    Me,
    MessageSearchPage,
    MessagesPage,
    Passage,
    RetrievalInfo,
    SearchResult,
)
from .server_frames import server_frame

DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _ExactRecords(GenerateJsonSchema):
    # What the server writes has exactly the declared keys, so a schema check of a client
    # (or of the server's own frames) catches a field that one side has and the other lacks.
    # Client frames are models and stay open: the server ignores keys it does not know.
    def typed_dict_schema(self, schema: core_schema.TypedDictSchema) -> JsonSchemaValue:
        json_schema = super().typed_dict_schema(schema)
        json_schema["additionalProperties"] = False
        return json_schema


_NAMED: list[tuple[str, JsonSchemaMode, TypeAdapter[Any]]] = [
    ("ClientFrame", "validation", client_frame),
    ("ServerFrame", "serialization", server_frame),
    ("Chat", "serialization", TypeAdapter(Chat)),
    ("Me", "serialization", TypeAdapter(Me)),
    ("MessagesPage", "serialization", TypeAdapter(MessagesPage)),
    ("Passage", "serialization", TypeAdapter(Passage)),
    ("SearchResult", "serialization", TypeAdapter(SearchResult)),
    ("RetrievalInfo", "serialization", TypeAdapter(RetrievalInfo)),
    ("AssistantInfo", "serialization", TypeAdapter(AssistantInfo)),
    ("MessageSearchPage", "serialization", TypeAdapter(MessageSearchPage)),
    ("NewChat", "validation", TypeAdapter(NewChat)),
    ("ChatPatch", "validation", TypeAdapter(ChatPatch)),
    ("NewDocument", "validation", TypeAdapter(NewDocument)),
]


def protocol_schema() -> dict[str, Any]:
    """The JSON Schema of every frame in both directions, and of the REST records."""
    named, schema = TypeAdapter.json_schemas(_NAMED, schema_generator=_ExactRecords)
    defs: dict[str, Any] = schema["$defs"]
    for (name, _mode), definition in named.items():
        # Models come back as a $ref to their definition; the two unions inline.
        if definition.get("$ref") != f"#/$defs/{name}":
            defs[name] = definition
    return {
        "$schema": DIALECT,
        "title": "StudyMate protocol",
        "description": "Every frame of /ws/chat, either way; REST records in $defs.",
        "anyOf": [{"$ref": "#/$defs/ClientFrame"}, {"$ref": "#/$defs/ServerFrame"}],
        "$defs": dict(sorted(defs.items())),
    }
