"""Keying bots: scenarios that type approved records into a tax system's web screens, each exactly once.

The narrow seams for the batch store: a `sources.RecordSource` yields the approved records, a `receipts.ReceiptLog`
keeps the per-record states, and an `outcomes.OutcomeSink` receives what became of each record.
"""
