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
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Integer, Select, Table, bindparam, event, inspect, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Dialect, Result
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ClassManager, SessionTransaction, make_transient_to_detached
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
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


def connection(session: Session) -> Connection:
    """Return the connection of the session's transaction (beginning it if need be).

    Kept for the transaction's life: asking the session each time costs more than a query.
    """
    conn = session.info.get(_CONNECTION)
    if not isinstance(conn, Connection):
        conn = session.info[_CONNECTION] = session.connection()
    return conn


_CONNECTION = "govbot_connection"  # session.info key, while its transaction lasts


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_connection(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CONNECTION, None)


def prepared_sqlite_index(statement: Select[Any], table: Table, index: str) -> Prepared:
    """Prepare `statement`, run through `index` on SQLite (see `sqlite_index`)."""
    return Prepared(sqlite_index(statement, table, index))


def run(
    session: Session, statement: Executable | PerDialect, params: Mapping[str, Any]
) -> Result[Any]:
    """Run a Core statement on the session's connection, inside its transaction.

    Skips the session's ORM execution layer, which a statement on tables does not need; like
    an ORM query, it first flushes pending changes, so the statement sees them.
    """
    _autoflush(session)
    conn = connection(session)
    if isinstance(statement, PerDialect):
        statement = statement.pick(conn.dialect.name)
    return conn.execute(statement, params)


def _autoflush(session: Session) -> None:
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()


class Prepared:
    """A fixed statement every command runs: compiled once per database, run on the driver.

    SQLAlchemy's execution layer (events, result objects, type processing per row) costs
    several times what SQLite takes to answer a one-row lookup. A prepared statement keeps
    the SQL and the type conversions SQLAlchemy chose, and hands the driver the values
    directly; driver errors come out as SQLAlchemy's, as they would from `execute`. While
    anything listens to statement events or echoes SQL, it runs through SQLAlchemy instead,
    so that whatever counts, traces or logs statements sees every one.
    """

    def __init__(self, statement: Executable | PerDialect) -> None:
        self.statement = statement
        self._plans: weakref.WeakKeyDictionary[Dialect, _Plan] = weakref.WeakKeyDictionary()

    def rows(self, session: Session, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run it in the session's transaction and return every row, values converted."""
        _autoflush(session)
        conn = connection(session)
        statement = self._for(conn.dialect)
        if conn.engine.echo or conn.dispatch.before_cursor_execute:
            result = conn.execute(statement, params)
            return [tuple(row) for row in result] if result.returns_rows else []
        plan = self._plans.get(conn.dialect)
        if plan is None:
            plan = self._plans[conn.dialect] = _Plan(statement, conn.dialect)
        return plan.run(conn, params)

    def first(self, session: Session, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Run it and return the first row, or None."""
        found = self.rows(session, params)
        return found[0] if found else None

    def _for(self, dialect: Dialect) -> Executable:
        if isinstance(self.statement, PerDialect):
            return self.statement.pick(dialect.name)
        return self.statement


class _Plan:
    """A statement compiled for one database: its SQL, parameter order and conversions."""

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, cast(ClauseElement, statement).compile(dialect=dialect))
        self.sql = compiled.string
        self.dialect = dialect
        binds = compiled.binds
        names = compiled.positiontup or list(dict.fromkeys(compiled.bind_names.values()))
        if any(binds[name].expanding for name in names):
            raise ValueError("a prepared statement takes no expanding (IN) parameters")
        self.positional = compiled.positiontup is not None
        # (name, whether the caller must give it, the value written in the statement, converter)
        self.params = [
            (
                name,
                binds[name].required,
                binds[name].value,
                binds[name].type.dialect_impl(dialect).bind_processor(dialect),
            )
            for name in names
        ]
        columns: Iterable[Any] = (
            getattr(statement, "selected_columns", None)
            or getattr(statement, "exported_columns", None)
            or ()
        )
        self.results = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]
        self.returns_rows = bool(self.results)

    def run(self, conn: Connection, given: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        values = []
        for name, required, default, convert in self.params:
            value = given[name] if required or name in given else default
            values.append(value if convert is None else convert(value))
        bound: Any = values if self.positional else dict(zip(self._names, values, strict=True))
        driver = conn.connection.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        try:
            cursor.execute(self.sql, bound)
            fetched = cursor.fetchall() if self.returns_rows else []
        except self.dialect.loaded_dbapi.Error as error:
            if self.dialect.is_disconnect(error, driver, cursor):
                conn.invalidate(error)
            raise DBAPIError.instance(
                self.sql, bound, error, self.dialect.loaded_dbapi.Error, dialect=self.dialect
            ) from error
        finally:
            cursor.close()
        if not any(self.results):
            return [tuple(row) for row in fetched]
        converters = self.results
        return [
            tuple(
                value if convert is None or value is None else convert(value)
                for value, convert in zip(row, converters, strict=True)
            )
            for row in fetched
        ]

    @functools.cached_property
    def _names(self) -> list[str]:
        return [name for name, _, _, _ in self.params]


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
            return cast(T, known)
    obj = build(model, values)
    if not readonly(session):
        session.add(obj)
    return obj


def load_row(session: Session, model: type[T], row: Sequence[Any]) -> T:
    """Load a row holding every column of the model's table, in the table's order."""
    return load(session, model, dict(zip(_column_keys(model), row, strict=True)))


@functools.cache
def _column_keys(model: type[SQLModel]) -> tuple[str, ...]:
    return tuple(table(model).columns.keys())


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
    manager: ClassManager[Any] = inspect(model).class_manager
    return manager


@functools.cache
def _key_columns(model: type[SQLModel]) -> tuple[str, ...]:
    return tuple(column.key for column in table(model).primary_key.columns)


def _primary_key(model: type[SQLModel], values: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(values[name] for name in _key_columns(model))
