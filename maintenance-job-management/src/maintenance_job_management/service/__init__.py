"""Maintenance job use cases, one module per part of the service. Each use case takes
its dependencies as keyword arguments, flushes but never commits (the HTTP layer makes
one request one transaction), and knows no HTTP.

Parts:
- ``jobs``: every use case for now; the next change splits it by part.
"""
