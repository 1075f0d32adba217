"""Full-text search of the report prose (the six sections), Chinese by character bigrams.

Text is cut into tokens by `tokens`: each run of Chinese characters into its
overlapping bigrams (政府信息 → 政府 府信 信息), each Latin word or number whole and
lower-cased. SQLite keeps them in an FTS5 table (a query is a phrase of its bigrams, so it
matches the exact character sequence); PostgreSQL in a tsvector with a GIN index (a
query asks for all its bigrams, then the section text is checked for the exact words).
The index holds the current reports; the loader keeps it in step (warehouse.wide).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

TABLE = "report_text"
_WORD = re.compile(r"[0-9A-Za-z]+")
_PIECES = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[0-9A-Za-z]+")
SNIPPET_CHARS = 60


def tokens(body: str) -> list[str]:
    """Bigrams of each Chinese run (a lone character stays whole), Latin words and numbers lower-cased."""
    result: list[str] = []
    for piece in _PIECES.findall(body or ""):
        if _WORD.fullmatch(piece):
            result.append(piece.lower())
        elif len(piece) == 1:
            result.append(piece)
        else:
            result.extend(piece[i:i + 2] for i in range(len(piece) - 1))
    return result


def is_search_table(name: str) -> bool:
    """The index and (SQLite) its FTS5 shadow tables: built by migrations, outside the models."""
    return name == TABLE or name.startswith(TABLE + "_")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter: the search index is dialect-specific DDL, not part of the models."""
    return not (type_ == "table" and name is not None and is_search_table(name))


# ---------------------------------------------------------------- schema (migrations)
def create_statements(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"CREATE VIRTUAL TABLE {TABLE} USING fts5(body, report_id UNINDEXED, section UNINDEXED, "
                "tokenize = 'unicode61')"]
    return [f"CREATE TABLE {TABLE} (report_id INTEGER NOT NULL, section VARCHAR(40) NOT NULL, "
            "body TSVECTOR NOT NULL, PRIMARY KEY (report_id, section))",
            f"CREATE INDEX ix_{TABLE}_body ON {TABLE} USING GIN (body)"]


def drop_statements() -> list[str]:
    return [f"DROP TABLE IF EXISTS {TABLE}"]


# ---------------------------------------------------------------- maintenance
def index_reports(conn: Connection, report_ids: Sequence[int]) -> None:
    if not report_ids:
        return
    rows = conn.execute(text("SELECT report_id, section, text FROM report_sections "
                             "WHERE report_id IN :ids").bindparams(_expanding("ids")),
                        {"ids": list(report_ids)}).all()
    values = [{"r": report_id, "s": section, "b": " ".join(tokens(body))} for report_id, section, body in rows]
    if not values:
        return
    if conn.dialect.name == "sqlite":
        conn.execute(text(f"INSERT INTO {TABLE} (body, report_id, section) VALUES (:b, :r, :s)"), values)
    else:
        conn.execute(text(f"INSERT INTO {TABLE} (report_id, section, body) "
                          "VALUES (:r, :s, array_to_tsvector(string_to_array(:b, ' ')))"), values)


def unindex_reports(conn: Connection, report_ids: Sequence[int]) -> None:
    if report_ids:
        conn.execute(text(f"DELETE FROM {TABLE} WHERE report_id IN :ids").bindparams(_expanding("ids")),
                     {"ids": list(report_ids)})


def clear(conn: Connection) -> None:
    conn.execute(text(f"DELETE FROM {TABLE}"))


def _expanding(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)


# ---------------------------------------------------------------- querying
@dataclass(frozen=True)
class Hit:
    report_id: int
    section: str
    snippet: str


def _fts5_query(words: list[str]) -> str:
    phrases = []
    for word in words:
        parts = tokens(word)
        if parts:
            phrases.append('"' + " ".join(part.replace('"', '""') for part in parts) + '"')
    return " AND ".join(phrases)


def _tsquery(words: list[str]) -> str:
    lexemes = {part for word in words for part in tokens(word)}
    return " & ".join("'" + lexeme.replace("'", "''").replace("\\", "\\\\") + "'" for lexeme in sorted(lexemes))


def matching_sections(conn: Connection, query: str, *, limit: int = 200,
                      report_ids_sql: str | None = None, params: dict[str, Any] | None = None) -> list[Hit]:
    """Sections of current reports containing every word of `query` (words split on spaces).

    `report_ids_sql` (a SELECT of report ids) narrows the search, e.g. to a year or region.
    """
    words = [word for word in query.split() if tokens(word)]
    if not words:
        return []
    bound: dict[str, Any] = dict(params or {})
    narrow = f" AND t.report_id IN ({report_ids_sql})" if report_ids_sql else ""
    if conn.dialect.name == "sqlite":
        bound["q"] = _fts5_query(words)
        sql = (f"SELECT t.report_id, t.section, s.text FROM {TABLE} t "
               "JOIN report_sections s ON s.report_id = t.report_id AND s.section = t.section "
               f"WHERE {TABLE} MATCH :q{narrow} ORDER BY t.rowid DESC LIMIT :limit")  # newest first, stops early
    else:
        bound["q"] = _tsquery(words)
        exact = " AND ".join(f"strpos(lower(s.text), :w{i}) > 0" for i in range(len(words)))
        bound.update({f"w{i}": word.lower() for i, word in enumerate(words)})
        sql = (f"SELECT t.report_id, t.section, s.text FROM {TABLE} t "
               "JOIN report_sections s ON s.report_id = t.report_id AND s.section = t.section "
               f"WHERE t.body @@ CAST(:q AS tsquery) AND {exact}{narrow} LIMIT :limit")
    bound["limit"] = limit
    rows = conn.execute(text(sql), bound).all()
    return [Hit(int(report_id), section, snippet(body, words)) for report_id, section, body in rows]


def snippet(body: str, words: list[str]) -> str:
    """Text around the first word found, about SNIPPET_CHARS characters."""
    lowered = body.lower()
    positions = [lowered.find(word.lower()) for word in words]
    found = [p for p in positions if p >= 0]
    start = max(0, (min(found) if found else 0) - SNIPPET_CHARS // 3)
    piece = body[start:start + SNIPPET_CHARS].replace("\n", " ")
    return ("…" if start else "") + piece + ("…" if start + SNIPPET_CHARS < len(body) else "")
