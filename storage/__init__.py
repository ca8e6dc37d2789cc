"""Persistence for zhoubao: SQLAlchemy models, Alembic migrations and repositories.

`storage.facts` holds plain dataclasses (no SQLAlchemy) that repositories return
and the pure core consumes.
"""
