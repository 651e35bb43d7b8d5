"""Read an .ics with libical (GObject bindings; run by Debian's python3, not the venv)
and print {"times": {UID: [start, end]}, "errors": [...]} with Unix seconds. The zones
come from the file's own VTIMEZONE; `errors` are libical's RFC 5545 restriction findings."""

import json
import sys

import gi

gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib  # noqa: E402

text = open(sys.argv[1], encoding="utf-8").read()
cal = ICalGLib.Component.new_from_string(text)
ok = ICalGLib.restriction_check(cal)
errors = []
comp = cal.get_first_component(ICalGLib.ComponentKind.ANY_COMPONENT)
kinds = [cal]
while comp is not None:
    kinds.append(comp)
    comp = cal.get_next_component(ICalGLib.ComponentKind.ANY_COMPONENT)
for c in kinds:
    prop = c.get_first_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
    while prop is not None:
        errors.append(prop.get_xlicerror())
        prop = c.get_next_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
if not ok and not errors:
    errors.append("restriction check failed")

times = {}
ev = cal.get_first_component(ICalGLib.ComponentKind.VEVENT_COMPONENT)
while ev is not None:
    out: list[str] = []
    for t in (ev.get_dtstart(), ev.get_dtend()):
        tzid = None
        prop = ev.get_first_property(
            ICalGLib.PropertyKind.DTSTART_PROPERTY if not out else ICalGLib.PropertyKind.DTEND_PROPERTY
        )
        param = prop.get_first_parameter(ICalGLib.ParameterKind.TZID_PARAMETER)
        if param is not None:
            tzid = param.get_tzid()
        zone = cal.get_timezone(tzid) if tzid else None
        if tzid and zone is None:
            raise SystemExit(f"VTIMEZONE {tzid} not found in the file")
        out.append(ICalGLib.Time.as_timet_with_zone(t, zone))
    times[ev.get_uid()] = out
    ev = cal.get_next_component(ICalGLib.ComponentKind.VEVENT_COMPONENT)
print(json.dumps({"times": times, "errors": errors}))
