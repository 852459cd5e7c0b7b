"""The course library on a real hub: the instructor (alice, in the hub group `instructors`,
which the documented config names in StudyMate.instructor_groups) adds a course PDF from her
own server; both students' servers are told, a student's question cites it from the stored
text (the PDF exists only in alice's home), and no student can change it or see another's
documents."""

from __future__ import annotations

from typing import Any

from hub_process import STUDENTS, HubProcess
from library.pdfs import text_pdf

from studymate_jupyter.pytest_plugin import ChatClient, Frame

# Pages long enough (over 30 words) to be passages of their own.
THERMODYNAMICS = [
    [
        "Lecture 1. Temperature",
        "Temperature measures the average kinetic energy of the particles of a body.",
        "Two bodies in contact exchange heat until their temperatures are equal.",
        "That state is thermal equilibrium, the subject of the zeroth law.",
        "Thermometers work because they reach equilibrium with what they measure.",
    ],
    [
        "Lecture 2. Entropy",
        "Entropy counts the microscopic arrangements compatible with a macroscopic state.",
        "The second law says the entropy of an isolated system never decreases.",
        "Heat therefore flows by itself only from a hotter body to a colder one.",
        "No engine converts all the heat it takes in into work for that reason.",
    ],
]
COURSE_PDF = "course/thermodynamics.pdf"


def is_ready(document_id: str):
    def ready(frame: Frame) -> bool:
        document: dict[str, Any] = frame["data"].get("document") or {}
        return (
            frame["type"] == "library"
            and document.get("id") == document_id
            and document.get("status") in ("ready", "failed")
        )

    return ready


async def test_a_course_pdf_the_instructor_adds_is_told_to_cited_by_and_kept_from_students(
    hub: HubProcess,
):
    students: dict[str, ChatClient] = {name: await hub.connect(name) for name in STUDENTS}
    home = hub.workdir / "home" / "alice"
    (home / "course").mkdir(parents=True, exist_ok=True)
    (home / COURSE_PDF).write_bytes(text_pdf(THERMODYNAMICS))

    # The instructor is one by her hub group; the students are not.
    assert hub.studymate("alice", "GET", "me")[1]["instructor"] is True
    for name in STUDENTS:
        assert hub.studymate(name, "GET", "me")[1]["instructor"] is False

    status, added = hub.studymate(
        "alice", "POST", "documents", {"path": COURSE_PDF, "library": "course"}
    )
    assert status == 202, added
    assert added["library"] == "course"

    # Both students' servers were told (across servers: LISTEN/NOTIFY) as it was indexed.
    for client in students.values():
        told = (await client.recv_until(is_ready(added["id"]), timeout=90))[-1]
        assert told["data"]["document"]["status"] == "ready"
        assert told["data"]["document"]["library"] == "course"

    # A student's question cites its page, read from the text stored in the database.
    reply = (await students["bob"].reply_to("What does the second law say about entropy?"))[-1]
    citations = reply["data"]["message"]["citations"]
    assert {(c["document_id"], c["library"], c["page_start"]) for c in citations} == {
        (added["id"], "course", 2)
    }
    status, passage = hub.studymate(
        "carol", "GET", f"documents/{added['id']}/chunks/{citations[0]['chunk_id']}"
    )
    assert status == 200, passage
    assert "second law" in passage["text"]
    assert not (hub.workdir / "home" / "carol" / COURSE_PDF).exists()

    # No student removes it or adds to the course; it stays listed for everyone.
    for name in STUDENTS:
        status, answer = hub.studymate(name, "DELETE", f"documents/{added['id']}")
        assert (status, answer["code"]) == (403, "forbidden")
        status, answer = hub.studymate(
            name, "POST", "documents", {"path": COURSE_PDF, "library": "course"}
        )
        assert (status, answer["code"]) == (403, "forbidden")
    for name in ["alice", *STUDENTS]:
        _, listed = hub.studymate(name, "GET", "documents")
        assert [(d["id"], d["library"]) for d in listed["documents"]] == [(added["id"], "course")]

    # A student's own document stays theirs: carol neither lists nor reads bob's.
    bob_home = hub.workdir / "home" / "bob"
    (bob_home / "mine.md").write_text(
        "# My summary\n\nHeat flows from hot to cold bodies by itself; entropy of an isolated "
        "system never decreases, so a perfect engine is impossible. I wrote this summary "
        "myself after the second lecture of the course.\n"
    )
    status, own = hub.studymate("bob", "POST", "documents", {"path": "mine.md"})
    assert (status, own["library"]) == (202, "personal")
    await students["bob"].recv_until(is_ready(own["id"]), timeout=90)
    _, listed = hub.studymate("carol", "GET", "documents")
    assert own["id"] not in [d["id"] for d in listed["documents"]]
    status, answer = hub.studymate("carol", "GET", f"documents/{own['id']}")
    assert (status, answer["code"]) == (404, "not_found")
    assert hub.studymate("bob", "DELETE", f"documents/{own['id']}")[0] == 204

    # The instructor removes it: both students are told, and it is gone for them.
    assert hub.studymate("alice", "DELETE", f"documents/{added['id']}")[0] == 204
    for name, client in students.items():
        await client.recv_until(
            lambda f: (
                f["type"] == "library"
                and f["data"].get("event") == "removed"
                and f["data"]["document_id"] == added["id"]
            ),
            timeout=30,
        )
        assert hub.studymate(name, "GET", "documents")[1]["documents"] == []
