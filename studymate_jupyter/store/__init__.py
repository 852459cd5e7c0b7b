"""Persistence: SQLAlchemy models, the one Database object, and repositories."""
