"""README's tables of settings are the traits' own help, so they cannot drift from the code."""

from __future__ import annotations

from studymate_jupyter.settings_table import CLASSES, README, main, render


def test_readme_shows_every_setting_as_its_trait_documents_it():
    assert main(["--check"]) == 0, "run: python -m studymate_jupyter.settings_table"


def test_every_configurable_part_has_its_table_in_readme():
    text = README.read_text(encoding="utf-8")
    for cls in CLASSES:
        assert f"<!-- settings: {cls.__name__} -->" in text


def test_a_changed_help_text_makes_the_table_stale(monkeypatch):
    from studymate_jupyter.assistant.openai_compat import OpenAIProvider

    text = README.read_text(encoding="utf-8")
    monkeypatch.setattr(OpenAIProvider.class_traits()["model"], "help", "Another sentence.")
    assert "| `model` | `'llama3.2'` | Another sentence. |" in render(text)
