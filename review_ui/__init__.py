"""The review UI and HTTP API: one FastAPI app (`yomitori serve`) for reviewers, operators, administrators, auditors."""
