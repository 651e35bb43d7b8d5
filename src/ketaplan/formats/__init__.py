"""Files in and out: .ics export and import, VTIMEZONE, batch files, JSON, printable plans."""
