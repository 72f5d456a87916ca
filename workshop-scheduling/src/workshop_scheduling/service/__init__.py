"""Workshop use cases. Each takes its dependencies as keyword arguments, flushes but never
commits (the HTTP layer makes one request one transaction), and knows no HTTP.

The parts, each imported by the code that needs it:

- ``workshop``: the settings, bays and technicians;
- ``appointments``: book, show, list (by plate too), reschedule, cancel, no-show,
  check-in and complete, each change made to the appointment's job in
  maintenance-job-management too, and each new status told to it;
- ``visits``: what the job's status, reported back by maintenance-job-management,
  does to its appointment (a completed job completes it, a cancelled one cancels it);
- ``placement``: where an appointment goes: the bay and technician asked for, the
  conflicts, and the first free bay the database's exclusion constraints accept;
- ``planning``: availability and the day and week planning views;
- ``reminders``: the reminder the day before each appointment;
- ``job_checks``: the ``JobCheck`` rows that guard each change of a job, and
  ``check_jobs``, which puts right the jobs of changes that did not finish.
"""
