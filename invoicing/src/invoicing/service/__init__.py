"""Invoicing use cases, one module per part of the service. Each use case takes its
dependencies as keyword arguments, flushes but never commits (the HTTP layer makes one
request one transaction), and knows no HTTP.

Parts:
- ``invoices``: issue the invoice of a completed job with a gap-free number (the
  numbering, which credit notes use too), get and list invoices, and the receivables.
- ``credit_notes``: take back all or part of an invoice in the credit notes' own
  number series; get and list them.
- ``payments``: record a payment or a refund against an invoice's balance; list them.
- ``sending``: send an invoice to the customer, with its PDF, through
  notification-management's outbox — on issue and again on request.
- ``reminders``: remind the customers of overdue invoices, the same way (a daily
  CronJob).

What the parts share:
- ``settings``: the use cases' settings (payment terms, the garage's day, PDF links,
  the reminders' rhythm).
- ``invoice_changes``: what every change to an issued invoice does — lock its row
  first, settle its stored status after.
- ``read_models``: invoices and credit notes as the API shows them (the status as of
  today, the overdue flag, the PDF link), so the schemas only dump.
"""
