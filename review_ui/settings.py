"""Settings of the web app: the batch store's settings plus sessions, lockout, double entry and 個人番号 access."""

from __future__ import annotations

from pydantic import Field, SecretStr

from yomitori.settings import Settings


class UISettings(Settings):
    """Read from YOMITORI_<NAME> like the rest (e.g. YOMITORI_SESSION_IDLE_MINUTES=15)."""

    session_secret: SecretStr | None = Field(
        None, description="key signing session cookies; default a random key kept in data_dir/session-secret "
                          "(set it when several web servers share the load)")
    session_idle_minutes: int = Field(30, ge=1, description="a session unused this long ends")
    session_max_hours: int = Field(10, ge=1, description="a session ends this long after login, used or not")
    secure_cookies: bool = Field(False, description="send cookies over HTTPS only (set behind a TLS proxy)")
    lockout_failures: int = Field(5, ge=1, description="failed logins in a row that lock an account")
    lockout_minutes: int = Field(15, ge=1, description="how long a locked account stays locked")
    claim_minutes: int = Field(20, ge=1, description="a reviewer's hold on a document lasts this long unless renewed")
    double_entry: list[str] = Field(
        ["my_number", "payment_amount"],
        description="critical fields a reviewer types blind, by field key or value type (JSON list); "
                    "a mismatch with the reading asks for a second entry")
    unmask_roles: list[str] = Field(["reviewer"], description="roles that may see 個人番号 unmasked (JSON list)")
    support_measure_roles: list[str] = Field(
        ["reviewer"], description="roles that may open the documents of a person under 支援措置 (JSON list); "
                                  "others get 403, and every view is audited")
    minutes_per_form_by_hand: float = Field(2.0, gt=0, description="manual keying time of one form, for savings")
