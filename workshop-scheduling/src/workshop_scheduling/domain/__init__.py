"""Workshop rules in plain Python, no database and no HTTP; each part is imported by
the code that needs it:

- ``workshop``: the settings (time zone, opening hours, closed dates, slot grid,
  booking horizon) and opening hours as real time in the workshop's own zone, right
  across daylight-saving changes;
- ``appointments``: when an appointment may be, overlaps, the lifecycle (check-in,
  completion, no-show, cancelling, rescheduling) and the job's description;
- ``planning``: availability, the free start times with the bays free at each;
- ``reminders``: "tomorrow" in the workshop's zone.
"""
