"""`studymate add`: through a running server's REST API, or in-process without one."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from library.pdfs import text_pdf

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
