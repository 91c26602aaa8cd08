"""A CSV push is read as the JSON push of the same events: each cell trimmed, a blank cell (or a
column the header lacks) as an absent field, the dims gathered from their columns; a row with
text beyond the header's columns is rejected on its own (`invalid_csv_row`)."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.metrics.conftest import query

# Every header names the required columns and channel (each push's events get a channel of their
# own); category, region and source may be left out. Any order.
ALWAYS = ("event_id", "metric", "value", "occurred_at", "channel")
HEADERS = st.sets(st.sampled_from(["category", "region", "source"])).flatmap(
    lambda optional: st.permutations([*ALWAYS, *sorted(optional)])
)

# Cells as an ERP writes them: plain, padded with spaces, blank, or wrong in the ways a push can be.
ID_NUMBERS = st.integers(0, 4)  # few, so that a batch repeats some
# Valid spellings weigh more, so that most pushes store some rows to compare.
ID_SPELLINGS = st.sampled_from(["{id}", "{id}", "{id}", " {id} ", "", "  "])
METRICS = st.sampled_from(["gmv", "gmv", "orders", " gmv ", "conversion_rate", "no_such_metric", ""])
VALUES = st.sampled_from(["12.5", "12.5", "-3", "0.10", " 7 ", "1e2", "abc", ""])
TIMES = st.sampled_from(
    [
        "2025-03-01T10:00:00+08:00",
        "2025-03-01T10:00:00+08:00",
        "2025-03-01T23:59:59Z",  # the next business day in Shanghai
        " 2025-03-02T00:00:00+08:00 ",
        "2025-03-01T10:00:00",  # no zone
        "",
    ]
)
CATEGORIES = st.sampled_from(["home", " home ", "beauty", "", "  "])
REGIONS = st.sampled_from(["east", " east", "", "north"])
SOURCES = st.sampled_from(["erp", " erp ", ""])
SHAPES = st.sampled_from(["whole", "whole", "whole", "short", "blank_extra", "text_extra"])


@dataclass(frozen=True)
class Row:
    id_number: int
    id_spelling: str
    metric: str
    value: str
    occurred_at: str
    category: str
    region: str
    source: str
    shape: str

    def cells(self, side: str, channel: str) -> dict[str, str]:
        return {
            "event_id": self.id_spelling.format(id=f"{side}-{self.id_number}"),
            "metric": self.metric,
            "value": self.value,
            "occurred_at": self.occurred_at,
            "category": self.category,
            "channel": channel,
            "region": self.region,
            "source": self.source,
        }


ROWS = st.builds(Row, ID_NUMBERS, ID_SPELLINGS, METRICS, VALUES, TIMES, CATEGORIES, REGIONS, SOURCES, SHAPES)


def csv_body(rows: list[Row], order: list[str], side: str, channel: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(order)
    for row in rows:
        cells = row.cells(side, channel)
        record = [cells[name] for name in order]
        if row.shape == "short":
            record = record[:-2]  # the last two columns' cells are missing: blank
        elif row.shape == "blank_extra":
            record += ["", " "]
        elif row.shape == "text_extra":
            record += ["garden"]
        writer.writerow(record)
    return out.getvalue().encode()


def json_item(row: Row, order: list[str], side: str, channel: str) -> dict[str, Any]:
    """The event a CSV row stands for, spelled as JSON: trimmed, blank cells (and columns the
    header lacks) left out."""
    cells = row.cells(side, channel)
    for name in cells:
        if name not in order or (row.shape == "short" and name in order[-2:]):
            cells[name] = ""
    item: dict[str, Any] = {
        name: cells[name].strip() for name in ("event_id", "metric", "value", "occurred_at", "source")
    }
    item = {name: text for name, text in item.items() if text}
    item["dims"] = {d: cells[d].strip() for d in ("category", "channel", "region") if cells[d].strip()}
    return item


def answered(client: httpx.Client, body: bytes, content_type: str) -> dict[str, Any]:
    response = client.post("/v1/events", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    return dict(response.json())


def sums(reader: httpx.Client, channel: str) -> list[Any]:
    """What a push under this channel stored: per metric and business day, by category and region."""
    results = query(
        reader,
        *(
            {
                "id": f"{metric}-{day}",
                "metric": metric,
                "start": day,
                "end": day,
                "filters": {"channel": channel},
                "group_by": ["category", "region"],
            }
            for metric in ("gmv", "orders")
            for day in ("2025-03-01", "2025-03-02")
        ),
    )
    return [(result["id"], result["groups"]) for result in results]


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(ROWS, min_size=1, max_size=12), order=HEADERS)
def test_a_csv_push_answers_and_stores_like_the_same_events_pushed_as_json(
    ingest: httpx.Client, reader: httpx.Client, rows: list[Row], order: list[str]
) -> None:
    run = uuid.uuid4().hex[:10]
    csv_side, json_side = f"c{run}", f"j{run}"  # the event ids and the channel of each push
    csv_answer = answered(ingest, csv_body(rows, order, csv_side, csv_side), "text/csv")

    # Rows with text beyond the header have no JSON spelling: each is rejected where it stands.
    whole = [index for index, row in enumerate(rows) if row.shape != "text_extra"]
    items = [json_item(rows[index], order, json_side, json_side) for index in whole]
    json_answer = answered(
        ingest, httpx.Request("POST", "/", json={"events": items}).content, "application/json"
    )

    assert (csv_answer["accepted"], csv_answer["duplicates"]) == (
        json_answer["accepted"],
        json_answer["duplicates"],
    )
    expected = [
        (
            whole[r["index"]],
            r["code"],
            r["event_id"] and r["event_id"].replace(json_side, csv_side),
            r["detail"].replace(json_side, csv_side),
        )
        for r in json_answer["rejected"]
    ]
    misshapen = {index for index, row in enumerate(rows) if row.shape == "text_extra"}
    rejected = [(r["index"], r["code"], r["event_id"], r["detail"]) for r in csv_answer["rejected"]]
    assert [r for r in rejected if r[0] not in misshapen] == sorted(expected, key=lambda r: r[0])
    assert [r[:3] for r in rejected if r[0] in misshapen] == [
        (index, "invalid_csv_row", rows[index].cells(csv_side, csv_side)["event_id"].strip() or None)
        for index in sorted(misshapen)
    ]
    assert sums(reader, csv_side) == sums(reader, json_side)
