from __future__ import annotations

from studymate_jupyter.client import MessageStore, pair_replies
from studymate_jupyter.protocol import Message, Role


def msg(mid: str, role: Role = "user", content: str = "", **extra: object) -> Message:
    message: Message = {
        "id": mid,
        "role": role,
        "content": content or mid,
        "chat_id": "c",
        "citations": [],
        "timestamp": "2026-01-01T00:00:00Z",
        "status": "complete",
    }
    message.update(extra)  # type: ignore[typeddict-item]
    return message


def ids(store: MessageStore) -> list[str]:
    return [m["id"] for m in store]


def test_upserting_a_known_id_merges_it_in_place_and_keeps_the_order() -> None:
    store = MessageStore([msg("u1"), msg("a1", "assistant", "Hel", status="streaming")])
    store.upsert(msg("u2"))
    _, is_new = store.upsert(msg("a1", "assistant", "Hello", status="complete"))
    assert not is_new
    assert ids(store) == ["u1", "a1", "u2"]
    assert store.get("a1") == msg("a1", "assistant", "Hello", status="complete")


def test_a_streamed_reply_is_one_message_whose_content_grows() -> None:
    store = MessageStore()
    for part in ("A", "An", "Ans", "Answer"):
        store.upsert(msg("a1", "assistant", part, status="streaming"))
    assert len(store) == 1
    assert store.messages[0]["content"] == "Answer"


def test_an_older_page_goes_in_front_without_duplicates() -> None:
    store = MessageStore([msg("m3"), msg("m4")])
    store.prepend([msg("m1"), msg("m2"), msg("m3")])
    assert ids(store) == ["m1", "m2", "m3", "m4"]


def test_a_reloaded_window_fills_in_what_was_missed_while_away() -> None:
    store = MessageStore([msg("m1"), msg("m2"), msg("a2", "assistant", "par", status="streaming")])
    window = [
        msg("m2"),
        msg("a2", "assistant", "partial answer", status="complete"),
        msg("m3"),
        msg("a3", "assistant"),
    ]
    store.merge_window(window, complete=False)
    assert ids(store) == ["m1", "m2", "a2", "m3", "a3"]
    assert store.get("a2") == window[1]


def test_a_complete_window_replaces_history_the_server_no_longer_has() -> None:
    store = MessageStore([msg("gone"), msg("m1")])
    store.merge_window([msg("m1"), msg("m2")], complete=True)
    assert ids(store) == ["m1", "m2"]


def test_live_messages_that_arrive_after_the_window_was_read_stay_at_the_end() -> None:
    store = MessageStore([msg("m1"), msg("m2"), msg("live")])
    store.merge_window([msg("m1"), msg("m2")], complete=True)
    assert ids(store) == ["m1", "m2", "live"]


def test_each_question_is_paired_with_the_next_reply_in_order() -> None:
    # u2 arrived while a1 streamed: replies still answer questions first come, first served.
    history = [msg("u1"), msg("a1", "assistant"), msg("u2"), msg("u3"), msg("a2", "assistant")]
    assert pair_replies(history) == {"u1": "a1", "u2": "a2"}


def test_an_explicit_reply_to_wins_over_the_order() -> None:
    history = [msg("u1"), msg("u2"), msg("a2", "assistant", reply_to="u2")]
    assert pair_replies(history) == {"u2": "a2"}
