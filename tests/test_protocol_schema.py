"""The JSON Schema of the protocol names every frame the protocol page documents, every frame
the server really sends matches it exactly (no field missing, none undeclared), and the copy
the TypeScript panel's types are generated from is the current one."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema

from studymate_jupyter.protocol.__main__ import main as protocol_main
from studymate_jupyter.protocol.schema import protocol_schema
from studymate_jupyter.pytest_plugin import is_final_reply

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL_PAGE = ROOT / "docs" / "protocol.md"
# labextension/src/protocol.generated.ts is generated from this copy at build time.
PANEL_SCHEMA = ROOT / "labextension" / "protocol.schema.json"

NOTES = """# Light

Light travels more slowly in glass than in air; the ratio of the two speeds is the
refractive index of the glass, about one and a half for ordinary window glass.
"""


def documented_types(heading: str) -> set[str]:
    """The frame types in the first column of the table under ``## {heading}``."""
    section = PROTOCOL_PAGE.read_text(encoding="utf-8").split(f"\n## {heading}\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(\w+)`", section, flags=re.MULTILINE))


def declared_types(schema: dict[str, Any], union: str) -> set[str]:
    defs = schema["$defs"]
    members = [defs[ref["$ref"].rsplit("/", 1)[1]] for ref in defs[union]["oneOf"]]
    return {member["properties"]["type"]["const"] for member in members}


def validator_for(schema: dict[str, Any], name: str) -> jsonschema.Draft202012Validator:
    root = {"$ref": f"#/$defs/{name}", "$defs": schema["$defs"]}
    jsonschema.Draft202012Validator.check_schema(root)
    return jsonschema.Draft202012Validator(root)


def test_the_schema_declares_exactly_the_frames_the_protocol_page_documents() -> None:
    schema = protocol_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    client, server = documented_types("Client → server"), documented_types("Server → client")
    assert {"auth", "message", "typing", "load_messages", "stop"} <= client
    assert {"auth_ok", "message", "typing", "messages", "error", "library"} <= server
    assert declared_types(schema, "ClientFrame") == client
    assert declared_types(schema, "ServerFrame") == server


def test_the_schema_is_printed_by_the_protocol_module() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "studymate_jupyter.protocol", "--schema"],
        capture_output=True,
        check=True,
        text=True,
    )
    assert json.loads(printed.stdout) == protocol_schema()


def test_the_panels_copy_of_the_schema_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "protocol.schema.json"
    protocol_main(["--schema", "-o", str(fresh)])
    assert PANEL_SCHEMA.read_text(encoding="utf-8") == fresh.read_text(encoding="utf-8"), (
        "labextension/protocol.schema.json differs from the protocol: regenerate it with\n"
        "  python -m studymate_jupyter.protocol --schema -o labextension/protocol.schema.json\n"
        "then `cd labextension && npm run typecheck` shows what the panel must change"
    )


def test_the_seed_clients_frames_match_the_client_schema() -> None:
    check = validator_for(protocol_schema(), "ClientFrame")
    seed_message = {"id": "m1", "role": "user", "content": "hi", "timestamp": "2026-01-01"}
    check.validate({"type": "auth", "data": {"user_id": "ada", "chat_id": "c"}})
    check.validate({"type": "message", "data": {"message": seed_message, "chat_id": "c"}})
    check.validate({"type": "typing", "data": {"chat_id": "c", "is_typing": True}})
    check.validate({"type": "load_messages", "data": {"chat_id": "c", "limit": 500}})
    for wrong in (
        {"type": "load_messages", "data": {"chat_id": "c", "limit": 501}},
        {"type": "message", "data": {"message": {"id": "m", "role": "assistant", "content": ""}}},
        {"type": "shout", "data": {}},
    ):
        assert not check.is_valid(wrong), wrong


async def test_every_frame_the_server_sends_matches_the_schema(chat_ws, api, jp_root_dir) -> None:
    schema = protocol_schema()
    full, delta = await chat_ws(), await chat_ws()
    await full.send("auth", {})
    await full.recv_until(lambda f: f["type"] == "auth_ok")

    (jp_root_dir / "notes.md").write_text(NOTES, encoding="utf-8")
    document = await api("documents", method="POST", body={"path": "notes.md"})
    await full.recv_until(
        lambda f: f["type"] == "library" and f["data"]["document"]["status"] == "ready"
    )

    chat = await api("chats", method="POST", body={"title": "Optics"})
    await delta.send("auth", {"chat_id": chat["id"], "stream": "delta"})
    await full.reply_to("How fast is light in glass?", chat_id=chat["id"])
    await delta.recv_until(lambda f: f["type"] == "message_delta" and "status" in f["data"])
    await full.recv_until(lambda f: f["type"] == "chat_updated")
    reply = next(f for f in reversed(full.seen) if is_final_reply(f))["data"]["message"]
    ref = {"chat_id": chat["id"], "message_id": reply["id"]}
    await full.send("react", {**ref, "emoji": "👍"})
    await full.recv_until(lambda f: f["type"] == "reaction")
    await full.send("feedback", {**ref, "rating": "down", "note": "Say more."})
    await full.recv_until(lambda f: f["type"] == "feedback")
    await full.send("load_messages", {"chat_id": chat["id"]})
    await full.send("typing", {"chat_id": chat["id"], "is_typing": True})
    await delta.recv_until(lambda f: f["type"] == "typing" and f["data"]["role"] == "user")
    await full.send("load_messages", {"chat_id": "no-such-chat"})
    await full.recv_until(lambda f: f["type"] == "error")

    await api(f"documents/{document['id']}", method="DELETE")
    await full.recv_until(lambda f: f["type"] == "library" and f["data"]["event"] == "removed")
    await api(f"chats/{chat['id']}", method="DELETE")
    await full.recv_until(lambda f: f["type"] == "chat_deleted")

    check = validator_for(schema, "ServerFrame")
    frames = full.seen + delta.seen
    for frame in frames:
        problems = [error.message for error in check.iter_errors(frame)]
        assert not problems, (frame["type"], problems)
    assert any(is_final_reply(f) for f in full.seen)
    assert {f["type"] for f in frames} == declared_types(schema, "ServerFrame")
