"""REST endpoints of the study library: documents, cited passages, search, how it ranks."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..protocol import NewDocument
from .base import StudyMateHandler

DOCUMENT_ID = r"(?P<document_id>[\w-]{1,64})"


class DocumentsHandler(StudyMateHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json({"documents": await self.context.library.list_documents(self.user_id)})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.parse_body(NewDocument)
        document = await self.context.library.add(
            self.user_id, body.path, body.library, instructor=self.is_instructor
        )
        self.write_json(document, status=202 if document["status"] != "ready" else 200)


class DocumentHandler(StudyMateHandler):
    @web.authenticated
    @authorized
    async def get(self, document_id: str) -> None:
        self.write_json(await self.context.library.get(self.user_id, document_id))

    @web.authenticated
    @authorized
    async def delete(self, document_id: str) -> None:
        await self.context.library.remove(self.user_id, document_id, instructor=self.is_instructor)
        self.set_status(204)
        self.finish()


class PassageHandler(StudyMateHandler):
    @web.authenticated
    @authorized
    async def get(self, document_id: str, chunk_id: str) -> None:
        self.write_json(await self.context.library.passage(self.user_id, document_id, chunk_id))


class SearchHandler(StudyMateHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        question = self.get_query_argument("q", "")
        k = self.int_argument("k")
        results = await self.context.library.search_results(self.user_id, question, k)
        self.write_json({"results": results})


class RetrievalHandler(StudyMateHandler):
    """How the library ranks passages (the same for every user: it is the server's setting)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json(self.context.library.retrieval_info())
