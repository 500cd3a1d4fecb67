"""Batch jobs: the stage functions (ingest, extract, validate), how they are dispatched (in-process or rq), workers."""
