"""The municipality's own master data: residents (宛名), employers (特別徴収義務者) and their 特別徴収 roll.

Imported per tenant from CSV (`import_csv`, column mappings as YAML in `mappings/`), held in the store
(`yomitori.store.models.Master*`), and used on every document: each record is matched to its person and employer
(`matching`), a value equal to the master's may pass the gate on that evidence and a different one is offered as
the master's candidate (`gate`), and the checks (送付先誤り, the roll, unknown 指定番号) raise findings (`checks`).
個人番号 is kept only as a keyed HMAC (`keys`).
"""
