"""Documents drafted from a case's public facts: press release, committee report, regulator
report, notice to individuals and prevention progress (pure builders, python-docx), and the
public-text guard every export passes through.

The workflow (drafts, review, approval, export) lives in this package's service and views;
the modules here import neither Flask nor the database session.
"""
