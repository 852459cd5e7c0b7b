from __future__ import annotations

import pytest

from studymate_jupyter.client import Outbox, Outgoing


def test_queued_messages_are_sent_in_the_order_they_were_written() -> None:
    outbox = Outbox()
    for n in range(5):
        outbox.push(Outgoing(id=f"m{n}", content=str(n), chat_id="c"))
    assert [item.id for item in outbox.take_sendable()] == ["m0", "m1", "m2", "m3", "m4"]
    assert outbox.take_sendable() == []


def test_an_echoed_message_leaves_the_queue_and_the_rest_is_resent_after_a_reconnect() -> None:
    outbox = Outbox()
    for n in range(3):
        outbox.push(Outgoing(id=f"m{n}", content=str(n), chat_id="c"))
    outbox.take_sendable()
    assert outbox.ack("m0") is not None
    assert outbox.ack("m0") is None
    outbox.connection_lost()
    assert [item.id for item in outbox.take_sendable()] == ["m1", "m2"]


def test_messages_to_a_new_chat_wait_until_the_first_one_has_created_it() -> None:
    outbox = Outbox()
    outbox.push(Outgoing(id="first", content="hi", chat_id=None, new_chat=1))
    outbox.push(Outgoing(id="second", content="again", chat_id=None, new_chat=1))
    assert [item.id for item in outbox.take_sendable()] == ["first"]
    assert outbox.take_sendable() == []
    outbox.ack("first")
    outbox.resolve_new_chat(1, "chat-1")
    [second] = outbox.take_sendable()
    assert (second.id, second.chat_id) == ("second", "chat-1")


def test_the_first_message_of_a_new_chat_is_resent_alone_after_a_reconnect() -> None:
    outbox = Outbox()
    outbox.push(Outgoing(id="first", content="hi", chat_id=None, new_chat=1))
    outbox.push(Outgoing(id="second", content="again", chat_id=None, new_chat=1))
    outbox.take_sendable()
    outbox.connection_lost()
    assert [item.id for item in outbox.take_sendable()] == ["first"]


def test_a_message_id_is_queued_once() -> None:
    outbox = Outbox()
    outbox.push(Outgoing(id="m", content="x", chat_id="c"))
    with pytest.raises(ValueError, match="already queued"):
        outbox.push(Outgoing(id="m", content="x", chat_id="c"))
