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

# Only for models.py and schemas.py, until they import the parts themselves (they were
# being edited elsewhere when domain.py was split); everything else imports the parts.
from workshop_scheduling.domain.appointments import BOOKED, STATUSES, Booking
from workshop_scheduling.domain.workshop import SLOT_CHOICES, SLUG, WEEKDAYS, Workshop, workshop_from_settings

__all__ = [
    "BOOKED",
    "SLOT_CHOICES",
    "SLUG",
    "STATUSES",
    "WEEKDAYS",
    "Booking",
    "Workshop",
    "workshop_from_settings",
]
