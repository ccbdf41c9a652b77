"""Statistics for review bodies, auditors and central authorities: aggregated figures only
(`comity.stats.service`), as server-rendered SVG bar charts each with the same figures in a
table, and as a CSV download. Reading them is audited by the service."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from comity.documents.messages import KIND_TITLES
from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.law import get_law
from comity.stats import service as stats
from comity.stats.permissions import READ_ROLES
from comity.web.core import PageUser, WebUser, node_of, render, require_roles
from comity.web.i18n import N_

router = APIRouter(include_in_schema=False)

DEFAULT_DAYS = 90

DIRECTIONS = {"incoming": N_("Incoming"), "outgoing": N_("Outgoing")}
OUTCOMES = {
    "accepted": N_("Accepted"),
    "extended": N_("Extended"),
    "followed-by-request": N_("Followed by a request for assistance"),
    "executed": N_("Executed"),
    "refused": N_("Refused"),
    "withdrawn": N_("Withdrawn"),
    "expired": N_("Expired"),
    "pending": N_("Awaiting an answer"),
}


def ground_labels() -> dict[str, str]:
    """Ground code → its short title in the law data (translated in the documents' catalog,
    like every law-data text)."""
    return {code: ground.short_title for code, ground in get_law().grounds.items()}


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: float


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart laid out here, drawn by the template as SVG."""

    id: str
    bars: list[Bar]
    height: int
    width: int = 560
    label_width: int = 0
    bar_area: int = 360
    row: int = 28


def chart(chart_id: str, items: list[tuple[str, int]]) -> Chart:
    """Lay out one bar per (label key, value); widths scaled to the largest value."""
    row, area = 28, 360
    top = max((value for _, value in items), default=0) or 1
    bars = [
        Bar(label, value, index * row, round(area * value / top, 1))
        for index, (label, value) in enumerate(items)
    ]
    return Chart(chart_id, bars, max(1, len(bars)) * row)


def parse_day(value: str, field: str, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ComityError(f"{field}: give a date as YYYY-MM-DD", field=field) from None


def period(start: str, end: str) -> tuple[date, date]:
    today = utc_now().date()
    last = parse_day(end, "to", today)
    first = parse_day(start, "from", last - timedelta(days=DEFAULT_DAYS - 1))
    stats.check_period(first, last)
    return first, last


def _figures(request: Request, user: WebUser, start: str, end: str) -> stats.Statistics:
    require_roles(user, READ_ROLES, "statistics")
    first, last = period(start, end)
    node = node_of(request)
    with transaction(node.sessions) as session:
        return stats.compute(session, first, last, user.username)


@router.get("/stats")
def stats_page(request: Request, user: PageUser) -> Response:
    params = request.query_params
    result = _figures(request, user, params.get("from", ""), params.get("to", ""))
    kinds = sorted(result.by_kind)
    charts = {
        direction: chart(
            f"chart-kind-{direction}",
            [(k, result.by_kind[k].get(direction, 0)) for k in kinds],
        )
        for direction in DIRECTIONS
    }
    charts["party"] = chart(
        "chart-party", [(p, sum(v.values())) for p, v in result.by_party.items()]
    )
    charts["grounds"] = chart(
        "chart-grounds", [(g.ground, g.count) for g in result.refusal_grounds]
    )
    charts["preservation"] = chart(
        "chart-preservation", [(o, result.preservation.get(o, 0)) for o in OUTCOMES]
    )
    grounds = ground_labels()
    return render(
        request,
        "stats/index.html",
        user,
        result=result,
        kinds=kinds,
        charts=charts,
        KIND_TITLES=KIND_TITLES,
        DIRECTIONS=DIRECTIONS,
        GROUNDS=grounds,
        ground_bars=[grounds.get(g.ground, g.ground) for g in result.refusal_grounds],
        kind_bars=[KIND_TITLES.get(k, k) for k in kinds],
        OUTCOMES=OUTCOMES,
        csv_query=f"from={result.start.isoformat()}&to={result.end.isoformat()}",
    )


@router.get("/stats.csv")
def stats_csv(request: Request, user: PageUser) -> Response:
    params = request.query_params
    result = _figures(request, user, params.get("from", ""), params.get("to", ""))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["section", "key", "value"])
    for section, key, value in result.figures():
        writer.writerow([section, key, value])
    name = f"comity-stats-{node_of(request).participant_id}-{result.start}-{result.end}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
