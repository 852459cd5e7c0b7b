"""The question box hands the text to its callbacks when the front end reports Enter."""

from __future__ import annotations

from studymate_jupyter.widget.question import QuestionBox


def test_a_submit_message_from_the_front_end_sends_the_text_the_user_saw() -> None:
    box = QuestionBox()
    sent: list[str] = []
    box.on_submit(sent.append)
    box.value = "What is a gradi"  # the front end's last value sync lagged behind the keys
    box._on_custom_msg(box, {"type": "submit", "text": "What is a gradient?\nAnd why?"}, [])
    assert sent == ["What is a gradient?\nAnd why?"]
    assert box.value == "What is a gradient?\nAnd why?"


def test_other_custom_messages_send_nothing() -> None:
    box = QuestionBox()
    sent: list[str] = []
    box.on_submit(sent.append)
    box._on_custom_msg(box, {"type": "focus"}, [])
    box._on_custom_msg(box, "submit", [])
    assert sent == []
