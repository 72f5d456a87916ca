"""The demo garage that `make demo` loads (tools/demo.py), by what it makes.

api (calling the services), staff (who calls, with which token), workshop (opening
hours, bays, technicians), work_catalogue (the work a garage sells), customers and
vehicles, appointments (the week booked), jobs (the work done) and invoices (what the
customers were charged and paid).
"""
