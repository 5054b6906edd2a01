"""Schemathesis hooks for the simulators' run (tests/schemathesis/run.sh).

The vendor specs reach schemathesis with the errata of `tests/simulators/src/spec/mod.rs`
already applied (the `serve` example writes them out). This file adds what a spec cannot say:

- `conforms_to_spec_with_errata`: schemathesis's `response_schema_conformance`, except that an
  answer whose response object carries the `x-nzsync-empty-body` mark (the `EmptyBody`
  erratum: DAS answers an event list with no events with 200, no body and no Content-Type)
  may come without a body. OpenAPI 2.0 cannot describe "this schema, or nothing".
- The parts of the specs the simulators deliberately do not implement, which answer 501
  (see the crate's "Not yet" list), are kept out of the generated requests here when they
  are a value of a parameter, and in `domino.toml` / `zoho.toml` when they are whole
  operations:
  - the iCalendar format: the `text/calendar` request body of the calendar writes and
    `format=icalendar`;
  - the calendar actions `delegate`, `counter`, `requestInfo`, `processAll` and
    `removeCancelled`.
"""

import schemathesis
from schemathesis.specs.openapi.checks import response_schema_conformance

EMPTY_BODY_MARK = "x-nzsync-empty-body"

# Calendar action types the simulator answers with 501 (lower case).
UNIMPLEMENTED_ACTIONS = {"delegate", "counter", "requestinfo", "processall", "removecancelled"}


@schemathesis.hook
def before_load_schema(context, raw_schema):
    """Drop the iCalendar request bodies (the simulator answers them 501)."""
    for path_item in raw_schema.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict) and "consumes" in operation:
                operation["consumes"] = [
                    media for media in operation["consumes"] if media != "text/calendar"
                ]


@schemathesis.hook
def filter_query(context, query):
    """Keep out `format=icalendar` and the calendar actions the simulator does not implement."""
    if not isinstance(query, dict):
        return True
    fmt = query.get("format")
    if isinstance(fmt, str) and fmt.strip().lower() == "icalendar":
        return False
    kind = query.get("type")
    operation = context.operation
    if (
        operation is not None
        and operation.path.endswith("/action")
        and isinstance(kind, str)
        and kind.strip().lower() in UNIMPLEMENTED_ACTIONS
    ):
        return False
    return True


def _empty_body_allowed(case, status_code):
    responses = case.operation.definition.raw.get("responses", {})
    response = responses.get(str(status_code)) or responses.get(status_code)
    return isinstance(response, dict) and response.get(EMPTY_BODY_MARK) is True


@schemathesis.check
def conforms_to_spec_with_errata(ctx, response, case):
    """The answer matches the schema its status has in the spec, errata applied."""
    if not response.content and _empty_body_allowed(case, response.status_code):
        return True
    return response_schema_conformance(ctx, response, case)
