"""Maintenance job use cases, one module per part of the service. Each use case takes
its dependencies as keyword arguments, flushes but never commits (the HTTP layer makes
one request one transaction), and knows no HTTP. Requests to other services go into
the outbox in the same transaction, next to the change that causes them.

Parts:
- ``jobs``: make the job of an appointment once, get and list jobs, change their
  details and planned times, and their status changes (start, hold, resume, complete,
  cancel) with what they tell invoicing, the customer and the appointment
  (``status_changed``), and the appointment's status workshop-scheduling reports
  back; also the row lock every change to a job takes first (``lock_job``) and its
  new version (``touch``).
- ``lines``: a job's labour and parts lines — add, change or mark done, remove, get —
  and the declined work of a vehicle or customer, to offer at the next visit.
- ``approvals``: estimates that put lines before the customer, the customer's
  decision on each line with its audit trail, and the approval rule that holds a job
  whose work grows past what was approved.
- ``time_clock``: technicians clocking in and out of a job, and its time sheet.
- ``documents``: what an estimate's PDF and a job's work order are drawn from.
- ``prices``: the garage's labour rates, default and per kind of work.
- ``catalogue``: canned jobs, priced once, added to a job's lines in one call.
- ``feedback``: the hand-over of a completed job's vehicle, which asks the customer
  how the visit went (``feedback_request`` with a link), the rating they give, and
  staff's list and summary of ratings per technician or month.
- ``portal``: what a customer's link reaches through the customer portal — the one
  estimate (see it, decide it through ``approvals``) or visit (see it, rate it) it
  names, for that link's customer only.
- ``follow_ups``: the work customers declined (the recommendations), followed up
  ``DECLINED_WORK_FOLLOW_UP_DAYS`` after the visit with a ``declined_work`` booking
  invitation through workshop-scheduling, once per job.

Imports go one way: ``lines`` → ``approvals`` → ``jobs``, ``time_clock`` → ``jobs``,
``documents`` → ``approvals``, ``jobs``, ``lines`` → ``prices``, ``catalogue`` →
``lines``, ``prices``, ``feedback`` → ``jobs``, and ``portal`` → ``approvals``,
``feedback``, ``jobs``, ``follow_ups`` → ``jobs``.
"""
