"""Rows read with SQLAlchemy Core, handed to use cases as the table objects they expect.

The ORM's query path (compile state, loading context, result wrapping) costs several times
what the database does for the few one-row lookups every command makes. These helpers run
such a lookup as a Core statement on the unit of work's own connection and turn the row into
the same object an ORM query would have returned: in a writing unit it joins the session's
identity map as a clean, loaded object (changes to it are flushed as usual); in a read-only
unit it stays outside the session, which writes nothing anyway.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import Integer, Select, Table, bindparam, inspect, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Result
from sqlalchemy.orm import ClassManager, make_transient_to_detached
from sqlalchemy.sql import Executable
from sqlmodel import Session, SQLModel

T = TypeVar("T", bound=SQLModel)

# session.info key: the unit of work only reads (set by Store.unit_of_work).
READONLY = "govbot_readonly"


def table(model: type[SQLModel]) -> Table:
    """Return a model's Core table."""
    found: Table = model.__table__  # type: ignore[attr-defined]
    return found


class PerDialect:
    """One query, with a variant for a database whose planner needs telling how to run it."""

    def __init__(self, default: Executable, **variants: Executable) -> None:
        self.default = default
        self.variants = variants

    def pick(self, dialect: str) -> Executable:
        """Return the variant for this database (`sqlite`, `postgresql`), else the default."""
        return self.variants.get(dialect, self.default)


def sqlite_index(statement: Select[Any], table: Table, index: str) -> PerDialect:
    """Run `statement` through `index` on SQLite (INDEXED BY), and as it is elsewhere.

    SQLite's planner can prefer an index that matches more terms of a query but reads far
    more rows, such as every past term of a member when only the current one is wanted.
    """
    compiled = statement.compile(dialect=sqlite.dialect(paramstyle="named"))
    sql = compiled.string
    plain = f"FROM {table.name} "
    if sql.count(plain) != 1:
        raise ValueError(f"cannot place INDEXED BY in: {sql}")
    sql = sql.replace(plain, f"FROM {table.name} INDEXED BY {index} ")
    binds = [
        bindparam(name, value=bind.value, type_=Integer() if bind.type._isnull else bind.type)
        for bind, name in compiled.bind_names.items()
    ]
    textual = text(sql).bindparams(*binds).columns(*statement.selected_columns)
    return PerDialect(statement, sqlite=textual)


def run(
    session: Session, statement: Executable | PerDialect, params: Mapping[str, Any]
) -> Result[Any]:
    """Run a Core statement on the session's connection, inside its transaction.

    Skips the session's ORM execution layer, which a statement on tables does not need; like
    an ORM query, it first flushes pending changes, so the statement sees them.
    """
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    conn: Connection = session.connection()
    if isinstance(statement, PerDialect):
        statement = statement.pick(conn.dialect.name)
    return conn.execute(statement, params)


def readonly(session: Session) -> bool:
    """Say whether the session's unit of work only reads."""
    return bool(session.info.get(READONLY, False))


def load(session: Session, model: type[T], values: Mapping[str, Any]) -> T:
    """Turn a row's column values into the model object a query would have loaded.

    A writing session tracks it like any loaded object, and hands back the one it already
    tracks with that primary key (as a query does); a read-only session leaves it apart.
    """
    if not readonly(session):
        key = session.identity_key(model, _primary_key(model, values))
        known = session.identity_map.get(key)
        if known is not None:
            return known  # type: ignore[return-value]
    obj = build(model, values)
    if not readonly(session):
        session.add(obj)
    return obj


def build(model: type[T], values: Mapping[str, Any]) -> T:
    """Make a detached model object with these column values, as if loaded and then let go.

    No validation runs: the values come from the database (or are a stand-in's defaults).
    """
    obj: T = _manager(model).new_instance()
    obj.__dict__.update(values)
    make_transient_to_detached(obj)
    return obj


def stand_in(model: type[T], **values: Any) -> T:
    """Make an unsaved model object from some values and the model's defaults for the rest."""
    return build(model, {**_defaults(model), **values})


@functools.cache
def _defaults(model: type[SQLModel]) -> dict[str, Any]:
    return {
        name: field.default
        for name, field in model.model_fields.items()
        if not field.is_required() and field.default_factory is None
    }


@functools.cache
def _manager(model: type[SQLModel]) -> ClassManager[Any]:
    return inspect(model).class_manager


@functools.cache
def _key_columns(model: type[SQLModel]) -> tuple[str, ...]:
    return tuple(column.key for column in table(model).primary_key.columns)


def _primary_key(model: type[SQLModel], values: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(values[name] for name in _key_columns(model))
