"""A demo 個人住民税 (給与支払報告) entry system for developing and testing keying bots; not part of the product."""
