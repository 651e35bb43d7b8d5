// Read an .ics with ical.js, registering the file's own VTIMEZONEs (not a built-in
// zone database), and print {UID: [start, end]} as Unix seconds.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const text = readFileSync(process.argv[2], "utf8");
const root = new ICAL.Component(ICAL.parse(text));
for (const vtz of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(vtz);
}
const out = {};
for (const vevent of root.getAllSubcomponents("vevent")) {
  const ev = new ICAL.Event(vevent);
  if (ev.startDate.zone && ev.startDate.zone.tzid !== "UTC" && !ICAL.TimezoneService.has(ev.startDate.zone.tzid)) {
    throw new Error(`zone ${ev.startDate.zone.tzid} not registered`);
  }
  out[ev.uid] = [ev.startDate.toUnixTime(), ev.endDate.toUnixTime()];
}
process.stdout.write(JSON.stringify(out));
