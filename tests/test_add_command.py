"""`studymate add`: through a running server's REST API, or in-process without one."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from library.pdfs import text_pdf

from studymate_jupyter import add_command
from studymate_jupyter.pytest_plugin import ServerProcess

LINES = [
    "Kinetic energy is the energy of motion; it equals one half of mass times speed squared.",
    "Potential energy is stored energy that depends on position, such as height in a field.",
    "Energy is conserved: in a closed system the total of kinetic and potential energy stays.",
]


def write_course(root) -> None:
    (root / "physics").mkdir(parents=True)
    (root / "physics" / "energy.pdf").write_bytes(text_pdf([LINES, LINES[::-1]]))
    (root / "physics" / "waves.md").write_text(
        "# Waves\n\nA wave carries energy from one place to another without carrying matter. "
        "Its speed equals frequency times wavelength, for sound and light alike.\n"
    )
    (root / "physics" / ".cache").mkdir()
    (root / "physics" / ".cache" / "skip.md").write_text("# hidden\n")
    (root / "physics" / "data.bin").write_bytes(b"\0\1")


def studymate(*args: str, cwd, env=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studymate_jupyter.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


async def test_adding_a_folder_goes_through_the_running_server(tmp_path):
    server = ServerProcess(tmp_path)
    write_course(server.root_dir)
    await asyncio.to_thread(server.start)
    try:
        listener = await server.connect()
        done = await asyncio.to_thread(
            studymate,
            "add",
            "physics",
            "--url",
            server.url,
            "--token",
            server.token,
            cwd=server.root_dir,
        )
        assert done.returncode == 0, done.stderr
        assert "ready   physics/energy.pdf (2 pages" in done.stdout
        assert "ready   physics/waves.md" in done.stdout
        documents = server.get("studymate/api/documents")["documents"]
        assert sorted(d["path"] for d in documents) == ["physics/energy.pdf", "physics/waves.md"]
        # It returned once the vector step was over too (or there was none to wait for).
        assert {d["vectors"] for d in documents} <= {"ready", "off", "failed"}
        frames = await listener.recv_until(
            lambda f: f["type"] == "library" and f["data"]["document"]["status"] == "ready"
        )
        assert frames, "a connected client saw the progress"
    finally:
        await asyncio.to_thread(server.stop)


def test_without_a_server_files_are_indexed_in_process_with_reasons_for_failures(tmp_path):
    root = tmp_path / "root"
    write_course(root)
    (root / "physics" / "broken.pdf").write_bytes(b"%PDF-1.7 garbage")
    env = {
        **os.environ,
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    env.pop("STUDYMATE_URL", None)
    done = studymate("add", "physics/*.pdf", "physics/waves.md", cwd=root, env=env)
    assert done.returncode == 1, "one file failed"
    assert "ready   physics/energy.pdf" in done.stdout
    assert "failed  physics/broken.pdf: corrupt or unreadable PDF" in done.stderr
    assert (tmp_path / "data" / "studymate" / "studymate.db").exists()

    again = studymate("add", "physics/energy.pdf", cwd=root, env=env)
    assert again.returncode == 0
    assert "ready   physics/energy.pdf" in again.stdout


def test_a_path_outside_the_root_is_refused_with_its_reason(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "elsewhere.md"
    outside.write_text("# not yours\n")
    env = {
        **os.environ,
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    done = studymate("add", str(outside), "--local", cwd=root, env=env)
    assert done.returncode == 1
    assert "must stay inside the server's root directory" in done.stderr


def indexed(path: str, vectors: str, progress: float = 0.0) -> dict:
    """A document as GET documents lists it once its text is indexed."""
    return {
        "id": path,
        "path": path,
        "filename": path.rsplit("/", 1)[-1],
        "status": "ready",
        "error": None,
        "pages": 2,
        "chunks": 3,
        "vectors": vectors,
        "vectors_progress": progress,
    }


def scripted(*answers: list[dict]):
    """A poll of the library that answers these lists in turn, then the last one forever."""
    calls = []

    async def poll() -> list[dict]:
        calls.append(None)
        return answers[min(len(calls), len(answers)) - 1]

    return poll, calls


@pytest.fixture
def quick_polls(monkeypatch):
    monkeypatch.setattr(add_command, "POLL_SECONDS", 0.01)


async def test_after_indexing_the_command_waits_for_the_vectors_as_a_second_step(
    quick_polls, capsys
):
    poll, calls = scripted(
        [indexed("a.pdf", "pending", 0.2), indexed("b.md", "off")],
        [indexed("a.pdf", "pending", 0.7), indexed("b.md", "off")],
        [indexed("a.pdf", "ready", 1.0), indexed("b.md", "off")],
    )
    assert await add_command._follow(poll, 2, {}) == 0
    assert len(calls) == 3, "it polled until the vectors were ready"
    out, err = capsys.readouterr()
    assert "vectors: computed by the server in the background" in err
    assert "Ctrl-C stops waiting, not the server." in err
    assert "ready   a.pdf (2 pages, 3 passages)" in out


async def test_ctrl_c_during_the_vector_step_says_the_server_goes_on(quick_polls, capsys):
    computing = [indexed("a.pdf", "pending", 0.4), indexed("b.md", "pending", 0.1)]
    polled_twice = asyncio.Event()
    calls = []

    async def poll() -> list[dict]:
        calls.append(None)
        if len(calls) >= 2:
            polled_twice.set()
        return computing

    waiting = asyncio.ensure_future(add_command._follow(poll, 2, {}))
    await asyncio.wait_for(polled_twice.wait(), 10)
    waiting.cancel()  # what asyncio.run does to the command on Ctrl-C
    with pytest.raises(asyncio.CancelledError):
        await waiting
    _, err = capsys.readouterr()
    assert "stopped waiting: the server goes on computing the vectors of 2 file(s)" in err


async def test_in_process_the_vectors_are_said_to_be_computed_here(quick_polls, capsys):
    poll, _ = scripted([indexed("a.pdf", "pending", 0.5)], [indexed("a.pdf", "ready", 1.0)])
    assert await add_command._follow(poll, 1, {}, "here") == 0
    assert "vectors: computed in this process" in capsys.readouterr().err


async def test_vectors_that_failed_are_reported_but_the_file_was_added(quick_polls, capsys):
    poll, _ = scripted([indexed("a.pdf", "pending", 0.5)], [indexed("a.pdf", "failed", 0.5)])
    assert await add_command._follow(poll, 1, {}) == 0
    out, err = capsys.readouterr()
    assert "ready   a.pdf" in out
    assert "vectors failed  a.pdf: it is searchable by its words only" in err


def add_to_course(server: ServerProcess, path: str) -> subprocess.CompletedProcess[str]:
    return studymate(
        "add", "--course", path, "--url", server.url, "--token", server.token, cwd=server.root_dir
    )


async def test_an_instructor_adds_to_the_course_library_through_the_running_server(tmp_path):
    server = ServerProcess(
        tmp_path, extra_args=["--StudyMate.owner_id=alice", "--StudyMate.instructors=alice"]
    )
    write_course(server.root_dir)
    await asyncio.to_thread(server.start)
    try:
        done = await asyncio.to_thread(add_to_course, server, "physics/waves.md")
        assert done.returncode == 0, done.stderr
        assert "passages, course library)" in done.stdout
        (document,) = server.get("studymate/api/documents")["documents"]
        assert (document["path"], document["library"]) == ("physics/waves.md", "course")
    finally:
        await asyncio.to_thread(server.stop)


async def test_anyone_else_is_refused_the_course_library_and_nothing_is_added(tmp_path):
    server = ServerProcess(tmp_path, extra_args=["--StudyMate.instructors=alice"])
    write_course(server.root_dir)
    await asyncio.to_thread(server.start)
    try:
        done = await asyncio.to_thread(add_to_course, server, "physics/waves.md")
        assert done.returncode == 1
        assert (
            "failed  physics/waves.md: only instructors can change the course library"
            in done.stderr
        )
        assert server.get("studymate/api/documents")["documents"] == []
    finally:
        await asyncio.to_thread(server.stop)


def test_in_process_the_instructors_of_the_jupyter_config_files_apply(tmp_path):
    root = tmp_path / "root"
    write_course(root)
    config = tmp_path / "config"
    config.mkdir()
    env = {
        **os.environ,
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_CONFIG_DIR": str(config),
    }
    env.pop("STUDYMATE_URL", None)
    refused = studymate("add", "--course", "physics/waves.md", "--local", cwd=root, env=env)
    assert refused.returncode == 1
    assert "only instructors can change the course library" in refused.stderr

    (config / "jupyter_server_config.py").write_text(
        'c.StudyMate.owner_id = "alice"\nc.StudyMate.instructors = ["alice"]\n'
    )
    added = studymate("add", "--course", "physics/waves.md", "--local", cwd=root, env=env)
    assert added.returncode == 0, added.stderr
    assert "ready   physics/waves.md (1 pages, 1 passages, course library)" in added.stdout
