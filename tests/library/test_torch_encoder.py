"""The optional torch encoder gives the numpy encoder's vectors. Collected only where torch is
installed (tests/conftest.py): the default install has none, so .ci/run runs this file in a
step of its own, in a venv with torch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from studymate_jupyter.library.encoders import (
    MiniLmEncoder,
    TorchMiniLmEncoder,
    minilm_encoder,
    minilm_folder,
)
from studymate_jupyter.library.hybrid import HybridRetriever

REFERENCE = Path(__file__).with_name("minilm_reference.json")


def test_torch_minilm_gives_the_vectors_numpy_and_sentence_transformers_give():
    reference = json.loads(REFERENCE.read_text())
    folder = minilm_folder()
    assert folder is not None
    on_torch = TorchMiniLmEncoder(folder).encode(reference["texts"])
    in_numpy = MiniLmEncoder(folder).encode(reference["texts"])
    assert np.abs(on_torch - in_numpy).max() < 1e-5
    assert np.abs(on_torch - np.array(reference["vectors"], dtype=np.float32)).max() < 1e-4


def test_the_hybrid_retriever_encodes_with_torch_where_it_is_installed():
    folder = minilm_folder()
    assert folder is not None
    assert isinstance(minilm_encoder(folder), TorchMiniLmEncoder)
    assert any(isinstance(e, TorchMiniLmEncoder) for e in HybridRetriever().encoders())
