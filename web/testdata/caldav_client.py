"""Drives Python's caldav library (python3-caldav) against Schulhof, the
way a calendar app does: discovery from the server root, list the
calendars, create, edit, query a date range, delete. Prints one JSON
object with what it saw; the Go test (web/caldav_client_test.go) checks it
and the store's history."""
import datetime
import json
import sys

import caldav

base, user, password, calname = sys.argv[1:5]
# A sixth argument "insecure": the server's self-signed test certificate.
verify = not (len(sys.argv) > 5 and sys.argv[5] == "insecure")
UTC = datetime.timezone.utc


def event(uid, summary, start, end):
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//caldav-client//DE\r\n"
        "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20261201T120000Z\r\n"
        "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:%s\r\n"
        "ATTENDEE:mailto:someone@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        % (uid, start, end, summary)
    )


out = {}
client = caldav.DAVClient(url=base + "/", username=user, password=password, ssl_verify_cert=verify)
principal = client.principal()
out["principal"] = str(principal.url)
cals = principal.calendars()
out["calendars"] = sorted(c.name for c in cals)
cal = [c for c in cals if c.name == calname][0]
out["calendar_url"] = str(cal.url)

cal.save_event(event("elternabend-1", "Elternabend", "20261210T170000Z", "20261210T183000Z"))
cal.save_event(event("wandertag-1", "Wandertag", "20270120T070000Z", "20270120T150000Z"))

ev = cal.event_by_uid("elternabend-1")
out["attendee_kept"] = "ATTENDEE" in ev.data
ev.vobject_instance.vevent.summary.value = "Elternabend (Raum 12)"
ev.save()

found = cal.date_search(
    datetime.datetime(2026, 12, 1, tzinfo=UTC), datetime.datetime(2027, 1, 1, tzinfo=UTC)
)
out["december"] = sorted(str(e.vobject_instance.vevent.summary.value) for e in found)

cal.event_by_uid("wandertag-1").delete()
out["after_delete"] = sorted(str(e.vobject_instance.vevent.summary.value) for e in cal.events())
print(json.dumps(out))
