"""Audit review: browse the audit log, half-year review reports, and signals of misuse.

Signals are stored in their own table and closed with a note; the audit rows are never touched.
"""
