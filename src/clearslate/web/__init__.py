"""The office workspace (`clearslate serve`): a local web application in which analysts run
batches, attorneys review and sign them off, and administrators keep users, policies and the
audit log. See docs/workspace.md.

    app.py        routes (one function per page) and the role each page needs
    auth.py       passwords (Argon2), server-side sessions, CSRF, lock-out, idle timeout
    audit.py      the append-only, hash-chained audit log and its verification
    db.py         the tables (SQLAlchemy Core) and the Alembic migrations that create them
    errors.py     the log: an unexpected error by its kind and where, never its message
    jobs.py       batches and documents built in a background thread, with progress
    results.py    reading a finished run: determinations, one person's explanation
    policy_form.py the office's policy as a form, with validation errors per field

Starlette, SQLAlchemy, Alembic and argon2 are the optional `web` extra: nothing here is
imported unless `clearslate serve` runs.
"""
