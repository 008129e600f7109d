"""Pagination shared by every listing: ``?limit=&offset=`` in, ``{items, total, limit, offset}`` out."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlmodel import Session, func, select
from sqlmodel.sql.expression import SelectOfScalar

from api.errors import ErrorBody

T = TypeVar("T")
DENIED = {403: {"model": ErrorBody, "description": "another firm's records, or a role the endpoint needs"}}
NOT_FOUND = {404: {"model": ErrorBody, "description": "no such record in the mirror"}}


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class PageParams(BaseModel):
    limit: int
    offset: int


async def _page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="page size")] = 100,
    offset: Annotated[int, Query(ge=0, le=2**62, description="rows to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Paging = Annotated[PageParams, Depends(_page_params)]


def fetch(session: Session, query: SelectOfScalar, paging: PageParams, *order_by) -> tuple[list, int]:
    """The rows of one page of ``query`` and the total row count."""
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(*order_by).offset(paging.offset).limit(paging.limit)).all()
    return list(rows), total
