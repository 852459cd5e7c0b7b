"""The StudyMate server extension: every setting, and the wiring of services into handlers."""

from __future__ import annotations

import gc
import math
import os
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Bunch, Enum, Float, Int, List, TraitError, Unicode, default, validate

from .assistant import Assistant
from .assistant.openai_compat import DEFAULT_BASE_URL, DEFAULT_MODEL, OpenAIProvider
from .chat.events import ServerEvents
from .chat.hub import Hub
from .chat.replies import Replies
from .chat.service import ChatService
from .handlers import library, rest
from .handlers.base import Compression, HandlerContext, Limits
from .handlers.library import DOCUMENT_ID
from .handlers.socket import ChatSocket
from .identity import COURSE_OWNER, Identity, default_owner_id, names_users
from .library.retrieval import Retriever
from .library.service import IngestLimits, LibraryService
from .parts import PartKind
from .services import Services
from .store import chats as chat_rows
from .store.db import Database, UnusableDatabase

# Where a hub hands every server its database URL when StudyMate.db_url is not set.
DB_URL_ENV = "STUDYMATE_DB_URL"
CHAT_ID = r"(?P<chat_id>[\w-]{1,128})"

# The built-in parts are entry points of this package too (pyproject.toml), found as another
# package's are.
ASSISTANTS: PartKind[Assistant] = PartKind("assistant", Assistant, "studymate.assistants")
RETRIEVERS: PartKind[Retriever] = PartKind("retriever", Retriever, "studymate.retrievers")
# The StudyMate.openai_* settings, deprecated for OpenAIProvider's own (kept for one release).
MOVED_TO_PROVIDER = {"openai_base_url": "base_url", "openai_model": "model"}
# What zlib takes; raw deflate has no 256-byte window (8 bits).
ZLIB_RANGES = {
    "compression_level": (0, 9),
    "compression_mem_level": (1, 9),
    "compression_window_bits": (9, 15),
}


class StudyMate(ExtensionApp):
    """StudyMate: chat with your course material from JupyterLab, notebooks and scripts."""

    name = "studymate"
    load_other_extensions = True

    db_url = Unicode(
        "",
        config=True,
        help="""SQLAlchemy URL of the StudyMate store: `sqlite:///path` or, for a course on
        JupyterHub, `postgresql+psycopg://user:password@host/db` (the `postgresql` extra;
        docs/jupyterhub.md). Empty (the default): $STUDYMATE_DB_URL if set, else a SQLite
        file `studymate/studymate.db` under the Jupyter data dir. Its password is never logged
        or shown in an error.""",
    )
    synchronous = Enum(
        ["NORMAL", "FULL"],
        default_value="NORMAL",
        config=True,
        help="""SQLite durability. NORMAL (default): an acknowledged message survives a crash
        of the server process. FULL: it also survives a power loss, at a cost per commit.""",
    )
    busy_timeout = Int(
        5000,
        config=True,
        help="Milliseconds a write waits for another process holding the SQLite file "
        "(default 5000; more than 0).",
    )
    assistant = Unicode(
        "extractive",
        config=True,
        help="""The assistant that answers: "extractive" (default, offline: answers with
        sentences quoted from the library's passages), "openai" (a language model behind any
        OpenAI-compatible server, set as OpenAIProvider), the name of a provider installed in
        the entry-point group `studymate.assistants`, or "package.module:Class" for an
        Assistant subclass. Checked when the server starts: an unknown one stops StudyMate
        with the choices.""",
    )
    openai_base_url = Unicode(
        DEFAULT_BASE_URL, config=True, help="Deprecated: use OpenAIProvider.base_url."
    )
    openai_model = Unicode(DEFAULT_MODEL, config=True, help="Deprecated: use OpenAIProvider.model.")
    openai_api_key = Unicode(
        config=True,
        help="""Deprecated: put the key in an environment variable instead, named by
        OpenAIProvider.api_key_env (default OPENAI_API_KEY).""",
    )
    owner_id = Unicode(
        config=True,
        help="""The user_id of the server's one owner when one shared token or password is the
        identity (the default jupyter-server setup). Default: the operating-system user name.""",
    )
    single_user = Bool(
        None,
        allow_none=True,
        config=True,
        help="""True: every authenticated request is the owner (owner_id). False: user_id is the
        identity provider's username. None (default): True exactly when jupyter-server's
        shared-token/password identity provider is in use.""",
    )
    instructors = List(
        Unicode(),
        config=True,
        help="""User names that may add, re-index and remove documents of the course library,
        which every user on the same database reads (`--StudyMate.instructors=alice`).""",
    )
    instructor_groups = List(
        Unicode(),
        config=True,
        help="""JupyterHub groups whose members are instructors, as `instructors` (read from
        the hub's user model of the request).""",
    )
    max_content_bytes = Int(
        1024 * 1024,
        config=True,
        help="Largest message content accepted, in UTF-8 bytes (default 1 MiB; more than 0); "
        "larger: too_large.",
    )
    max_unsent_bytes = Int(
        4 * 1024 * 1024,
        config=True,
        help="Output one connection may have waiting to be sent, in bytes (default 4 MiB; more "
        "than 0). A client that stops reading past it is closed with 1013 and its output "
        "freed; it resyncs when it reconnects. Typing frames are dropped for it first, past a "
        "quarter of this. One frame larger than the limit is still sent to a connection that "
        "has nothing waiting.",
    )
    freeze_startup_objects = Bool(
        True,
        config=True,
        help="""True (default): once the server is up, move every object it made while starting
        out of the garbage collector's view (gc.freeze), so a full collection scans only what
        came after. A Jupyter server starts with millions of objects, and each full collection
        of them stopped every chat for about 200 ms, several times a second under load. False:
        leave the collector as Python sets it.""",
    )
    rate_limit = Float(
        100.0,
        config=True,
        help="Frames a second one connection may send, sustained (default 100; 0 disables the "
        "limit; not negative).",
    )
    rate_burst = Int(
        400,
        config=True,
        help="Frames one connection may send at once before rate_limit applies (default 400; "
        "at least 1).",
    )
    retriever = Unicode(
        "hybrid",
        config=True,
        help="""How the library ranks passages: "hybrid" (default: BM25, MiniLM and wordllama
        fused per page, all offline; vectors are computed in the background after a document
        is indexed), "bm25" (SQLite FTS5 alone, no vectors), the name of a retriever installed
        in the entry-point group `studymate.retrievers`, or "package.module:Class" for a
        Retriever subclass.
        Checked when the server starts: an unknown one stops StudyMate with the choices.""",
    )
    max_document_bytes = Int(
        100 * 1024 * 1024,
        config=True,
        help="Largest file the library indexes, in bytes (default 100 MiB; more than 0), and the "
        "most text taken from one (a PDF's compressed streams can hold far more); larger ones "
        "fail.",
    )
    parse_timeout = Float(
        300.0,
        config=True,
        help="Seconds a document may take to parse before it fails (default 300; more than 0).",
    )
    parse_memory = Int(
        2 * 1024 * 1024 * 1024,
        config=True,
        help="Bytes of memory the parser process may use (default 2 GiB; more than 0); more "
        "fails the file.",
    )
    stream_frame_rate = Float(
        20.0,
        config=True,
        help="Most frames a second a streaming reply sends each subscriber (default 20; more "
        "than 0).",
    )
    compression = Bool(
        True,
        config=True,
        help="""Compress /ws/chat frames (permessage-deflate, RFC 7692) for a client that offers
        it, as browsers do (default True). False: every connection's frames go uncompressed.
        A frame that inflates past jupyter-server's websocket_max_message_size (10 MiB by
        default) closes its connection with 1009, as a frame that large would.""",
    )
    compression_level = Int(
        6,
        config=True,
        help="zlib level the server compresses its frames with: 1 (fastest) to 9 (smallest), "
        "0 sends them deflated but not compressed (default 6).",
    )
    compression_mem_level = Int(
        5,
        config=True,
        help="zlib memLevel of each compressing connection, 1 to 9: its compressor holds "
        "2**(mem_level + 9) bytes beside its window (default 5: 16 KiB; zlib's own is 8).",
    )
    compression_window_bits = Int(
        12,
        config=True,
        help="Base-2 logarithm of the compression window in bytes, 9 to 15 (default 12: 4 KiB; "
        "15 is 32 KiB, deflate's largest). The server compresses with it and asks it of a "
        "client that allows it (client_max_window_bits, as browsers do); a connection keeps "
        "about 4 windows of compressor and 1 of decompressor state.",
    )

    #: The services, once initialize_settings has built them.
    services: Services | None = None
    #: Why StudyMate's settings were refused when the server gave them, if they were.
    refused: str | None = None

    @validate("assistant")
    def _valid_assistant(self, proposal: Bunch) -> str:
        ASSISTANTS.find(proposal["value"])
        return str(proposal["value"])

    @validate("retriever")
    def _valid_retriever(self, proposal: Bunch) -> str:
        RETRIEVERS.find(proposal["value"])
        return str(proposal["value"])

    @validate(
        "busy_timeout",
        "max_content_bytes",
        "max_unsent_bytes",
        "rate_burst",
        "max_document_bytes",
        "parse_timeout",
        "parse_memory",
        "stream_frame_rate",
    )
    def _positive(self, proposal: Bunch) -> float:
        value: float = proposal["value"]  # an int for the Int traits, and it stays one
        if not (math.isfinite(value) and value > 0):
            raise TraitError(f"StudyMate.{proposal['trait'].name} must be more than 0, not {value}")
        return value

    @validate("rate_limit")
    def _not_negative(self, proposal: Bunch) -> float:
        value = float(proposal["value"])
        if not (math.isfinite(value) and value >= 0):
            raise TraitError(
                f"StudyMate.rate_limit must be 0 (no limit) or more, not {proposal['value']}"
            )
        return value

    @validate("compression_level", "compression_mem_level", "compression_window_bits")
    def _zlib_range(self, proposal: Bunch) -> int:
        name, value = proposal["trait"].name, int(proposal["value"])
        low, high = ZLIB_RANGES[name]
        if not low <= value <= high:
            raise TraitError(f"StudyMate.{name} must be {low} to {high}, not {value}")
        return value

    @default("owner_id")
    def _default_owner_id(self) -> str:
        return default_owner_id()

    def database_url(self) -> str:
        """db_url; when it is empty, STUDYMATE_DB_URL (a hub hands every server the same one,
        postgresql+psycopg://...), else the SQLite file under the Jupyter data dir."""
        if self.db_url:
            return str(self.db_url)
        if os.environ.get(DB_URL_ENV):
            return os.environ[DB_URL_ENV]
        return f"sqlite:///{Path(jupyter_data_dir()) / 'studymate' / 'studymate.db'}"

    def make_assistant(self, library: LibraryService) -> Assistant:
        """The assistant `c.StudyMate.assistant` names, built as every assistant is."""
        assistant = ASSISTANTS.find(str(self.assistant))(library=library, parent=self)
        if isinstance(assistant, OpenAIProvider):
            self._carry_deprecated_settings(assistant)
        return assistant

    def _carry_deprecated_settings(self, provider: OpenAIProvider) -> None:
        """Apply the StudyMate.openai_* settings a config still has, unless OpenAIProvider's
        own are set, and say what replaces them."""
        own = self.config.get("OpenAIProvider", {})
        for old, new in MOVED_TO_PROVIDER.items():
            value = getattr(self, old)
            if value != self.traits()[old].default_value:
                self.log.warning(
                    "StudyMate.%s is deprecated and goes in the next release: set "
                    "OpenAIProvider.%s instead",
                    old,
                    new,
                )
                if new not in own:
                    setattr(provider, new, value)
        if self.openai_api_key:
            self.log.warning(
                "StudyMate.openai_api_key is deprecated and goes in the next release: put the "
                "key in the environment variable OpenAIProvider.api_key_env names (%s)",
                provider.api_key_env,
            )
            provider.configured_key = str(self.openai_api_key)

    def make_retriever(self) -> Retriever:
        """The retriever `c.StudyMate.retriever` names, built as every retriever is."""
        return RETRIEVERS.find(str(self.retriever))(parent=self)

    def build_services(self, root_dir: Path) -> Services:
        """The services, on this app's settings. The server and in-process clients share it."""
        db = Database(
            self.database_url(),
            synchronous=self.synchronous,  # type: ignore[arg-type]  # Enum trait: NORMAL|FULL
            busy_timeout_ms=self.busy_timeout,
        )
        hub = Hub()
        library = LibraryService(
            db,
            hub,
            root_dir,
            self.make_retriever(),
            IngestLimits(
                int(self.max_document_bytes), float(self.parse_timeout), int(self.parse_memory)
            ),
        )
        replies = Replies(
            db, hub, self.make_assistant(library), frame_interval=1 / self.stream_frame_rate
        )
        events = ServerEvents.for_database(db, hub, library.retriever.forget)
        return Services(db, hub, library, replies, ChatService(db, hub, replies), events)

    def _link_jupyter_server_extension(self, serverapp: Any) -> None:
        # Linking is where the server gives StudyMate its settings. For a refused one
        # jupyter-server would log the validator's traceback and load the extension all the
        # same, on settings nobody chose: one line instead, and no services.
        try:
            super()._link_jupyter_server_extension(serverapp)
        except TraitError as exc:
            self.refused = str(exc)

    def initialize_settings(self) -> None:
        assert self.serverapp is not None  # set before initialize_settings runs
        if self.refused is not None:
            self.log.error("StudyMate did not start: %s", self.refused)
            return
        try:
            self.services = services = self.build_services(Path(self.serverapp.root_dir))
        except UnusableDatabase as exc:
            # One line, not the traceback jupyter-server logs for an extension that raises: the
            # problem is the file, not the code. No services: initialize_handlers adds no route.
            self.log.error("StudyMate did not start: StudyMate.db_url: %s", exc)
            return
        # Only the server marks interrupted replies: it is the one that was streaming them.
        interrupted = services.db.write_sync(chat_rows.fail_interrupted_replies)
        if interrupted:
            self.log.warning(
                "StudyMate: %d reply(s) cut off by a stop were marked as failed", interrupted
            )
        single = self.single_user
        if single is None:
            single = not names_users(self.serverapp.identity_provider)
        self.handler_context = HandlerContext(
            chats=services.chats,
            library=services.library,
            assistant=services.replies.assistant,
            identity=Identity(
                str(self.owner_id),
                bool(single),
                frozenset(self.instructors),
                frozenset(self.instructor_groups),
            ),
            limits=Limits(
                int(self.max_content_bytes),
                float(self.rate_limit),
                float(self.rate_burst),
                int(self.max_unsent_bytes),
            ),
            compression=Compression(
                int(self.compression_level),
                int(self.compression_mem_level),
                int(self.compression_window_bits),
            )
            if self.compression
            else None,
        )
        # Runs once the server's event loop does: the IOLoop exists from the start of
        # ServerApp.initialize so that extensions can schedule such work on it.
        self.serverapp.io_loop.add_callback(self._resume)

    def initialize_handlers(self) -> None:
        if self.services is None:  # StudyMate did not start: a setting or its database was refused
            return
        kwargs: dict[str, Any] = {"context": self.handler_context}
        api = "studymate/api"
        self.handlers.extend(
            [
                ("ws/chat", ChatSocket, kwargs),
                (f"{api}/me", rest.MeHandler, kwargs),
                (f"{api}/chats", rest.ChatsHandler, kwargs),
                (f"{api}/chats/{CHAT_ID}", rest.ChatHandler, kwargs),
                (f"{api}/chats/{CHAT_ID}/messages", rest.MessagesHandler, kwargs),
                (f"{api}/chats/{CHAT_ID}/export", rest.ExportHandler, kwargs),
                (f"{api}/messages/search", rest.MessageSearchHandler, kwargs),
                (f"{api}/documents", library.DocumentsHandler, kwargs),
                (f"{api}/documents/{DOCUMENT_ID}", library.DocumentHandler, kwargs),
                (
                    f"{api}/documents/{DOCUMENT_ID}/chunks/(?P<chunk_id>[\\w-]{{1,64}})",
                    library.PassageHandler,
                    kwargs,
                ),
                (f"{api}/search", library.SearchHandler, kwargs),
                (f"{api}/retrieval", library.RetrievalHandler, kwargs),
                (f"{api}/assistant", rest.AssistantHandler, kwargs),
            ]
        )

    async def _resume(self) -> None:
        """Index again the documents a stopped server left half-indexed, and answer the
        questions it left unanswered."""
        assert self.services is not None  # scheduled only once the services are built
        if self.freeze_startup_objects:
            gc.collect()  # what is garbage already is freed, not kept for good
            gc.freeze()
            self.log.info(
                "StudyMate: %d objects of the server's start left out of garbage collection",
                gc.get_freeze_count(),
            )
        if self.services.events is not None:  # PostgreSQL: other servers share the database
            self.services.events.start()
        self.services.library.resume(self._serves())
        # A hub's single-user server serves its one user: the others' questions are for theirs.
        queued = await self.services.replies.resume(os.environ.get("JUPYTERHUB_USER"))
        if queued:
            self.log.info("StudyMate: answering %d question(s) left by a stop", queued)

    def _serves(self) -> set[str] | None:
        """The owners whose documents this server indexes again after a stop: on JupyterHub,
        its one user's (and the course's, for an instructor by name); elsewhere everyone's."""
        user = os.environ.get("JUPYTERHUB_USER")
        if user is None:
            return None
        return {user, COURSE_OWNER} if user in self.instructors else {user}

    async def stop_extension(self) -> None:
        if self.services is not None:  # None: StudyMate did not start
            await self.services.close()
