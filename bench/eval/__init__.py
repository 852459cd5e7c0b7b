"""Retrieval evaluation: hit@1 / hit@5 of each ranking through the server's code path."""
