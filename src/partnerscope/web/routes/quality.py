"""Data quality: the import ledger and the quarantine (the rows the latest import of each file
did not load, with file, row, column, value and reason), read from the warehouse opened
read-only; for analysts."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from partnerscope.web.params import FilterText, PageNo, PerPage
from partnerscope.web.render import page
from partnerscope.web.security import ANALYSTS, Ctx, UtcDateTime, allow

pages = APIRouter()
api = APIRouter(tags=["portfolio"])

BUSY = "data is being imported; try again in a moment"


class ImportOut(BaseModel):
    import_id: int
    batch_id: int | None
    source: str
    file: str
    fingerprint: str | None
    rows_in: int | None
    loaded: int | None
    quarantined: int | None
    inserted: int | None
    updated: int | None
    unchanged: int | None
    superseded: int | None
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None


class QuarantineCount(BaseModel):
    source: str
    rule: str
    column: str | None
    rows: int


class QuarantineRow(BaseModel):
    import_id: int
    source: str
    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    message: str


class QualityOut(BaseModel):
    #: the latest imports, newest first
    imports: list[ImportOut]
    #: rows not loaded by the latest import of each file, counted by reason
    summary: list[QuarantineCount]
    #: files loaded before but since deleted: their rows are left out unless ``deleted``
    deleted_files: list[str] = []
    total: int
    page: int
    per_page: int
    rows: list[QuarantineRow]


@dataclass(frozen=True)
class QualityQuery:
    file: str | None = None
    rule: str | None = None
    source: str | None = None
    page: int = 1
    per_page: int = 50
    #: also the rows of files deleted since they were loaded
    deleted: bool = False

    def params(self, **changes: Any) -> str:
        values = {**asdict(self), **changes}
        return urlencode(
            {k: v for k, v in values.items() if v not in (None, "") and v is not False}
        )


def quality_query(
    file: Annotated[str | None, Query(max_length=500, description="a file as listed")] = None,
    rule: Annotated[str | None, Query(max_length=64, description="e.g. not_date")] = None,
    source: FilterText = None,
    page: PageNo = 1,
    per_page: PerPage = 50,
    deleted: Annotated[
        bool, Query(description="also the rows of files deleted since they were loaded")
    ] = False,
) -> QualityQuery:
    return QualityQuery(file or None, rule or None, source or None, page, per_page, deleted)


Quality = Annotated[QualityQuery, Depends(quality_query)]
IMPORTS_SHOWN = 100
_IMPORT_COLUMNS = tuple(ImportOut.model_fields)
_QUARANTINE_COLUMNS = ("import_id", "source", "file", "row", "column", "value", "rule", "message")


def quality_view(ctx: Ctx, query: QualityQuery) -> QualityOut:
    """The import ledger and the rows the latest import of each file did not load, read from
    the warehouse opened read-only for this request (the web never writes it). While an
    ingest or run holds the warehouse, answer 503: it frees it within moments."""
    import duckdb

    from partnerscope.errors import WorkspaceBusyError, WorkspaceError

    try:
        warehouse = ctx.workspace.warehouse(read_only=True)
    except WorkspaceBusyError:
        raise HTTPException(503, BUSY, headers={"retry-after": "5"}) from None
    except duckdb.ConnectionException:
        # this process holds a writing connection to it (e.g. a command run in-process)
        raise HTTPException(503, BUSY, headers={"retry-after": "5"}) from None
    except WorkspaceError as exc:
        raise HTTPException(404, str(exc)) from None
    from partnerscope.ingest.quarantine_files import quarantine_counts, quarantine_scope

    quoted = ", ".join(f'"{c}"' for c in _IMPORT_COLUMNS)
    with warehouse:
        con = warehouse.con
        # rows of a file since deleted are left out, as `partnerscope quarantine` does
        scope = quarantine_scope(
            con,
            ctx.workspace.root,
            deleted=query.deleted,
            file=query.file,
            rule=query.rule,
            source=query.source,
        )
        base, params = scope.base, scope.params
        imports = con.execute(
            f"SELECT {quoted} FROM _imports ORDER BY import_id DESC LIMIT ?", [IMPORTS_SHOWN]
        ).fetchall()
        summary = quarantine_counts(
            con, quarantine_scope(con, ctx.workspace.root, deleted=query.deleted)
        )
        total = con.execute(f"SELECT count(*) {base}", params).fetchone()
        cells = ", ".join(f'q."{c}"' for c in _QUARANTINE_COLUMNS)
        rows = con.execute(
            f'SELECT {cells} {base} ORDER BY q.source, q.file, q."row", q."column" '
            "LIMIT ? OFFSET ?",
            [*params, query.per_page, (query.page - 1) * query.per_page],
        ).fetchall()
    return QualityOut(
        imports=[ImportOut(**dict(zip(_IMPORT_COLUMNS, r, strict=True))) for r in imports],
        summary=[QuarantineCount(source=s, rule=r, column=c, rows=n) for s, r, c, n in summary],
        deleted_files=scope.gone,
        total=int(total[0]) if total else 0,
        page=query.page,
        per_page=query.per_page,
        rows=[QuarantineRow(**dict(zip(_QUARANTINE_COLUMNS, r, strict=True))) for r in rows],
    )


@api.get("/quality", response_model=QualityOut)
def quality_api(ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))], query: Quality) -> QualityOut:
    """The import ledger and the quarantine (rows not loaded, with file, row, column, value
    and reason); 503 while data is being imported."""
    return quality_view(ctx, query)


@pages.get("/quality", response_class=HTMLResponse)
def quality_page(
    request: Request, ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))], query: Quality
) -> HTMLResponse:
    view = quality_view(ctx, query)
    return page(
        request,
        ctx,
        "quality.html.j2",
        title="Data quality",
        subtitle=f"{len(view.imports)} latest imports · {view.total:,} quarantined rows shown",
        view=view,
        query=query,
        pages=max(1, math.ceil(view.total / query.per_page)),
        files=sorted({i.file for i in view.imports}),
        rules=sorted({s.rule for s in view.summary}),
    )
