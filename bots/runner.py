"""Runs a keying scenario in headless Chromium: each record looked up, keyed, saved and read back exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Locator, Page, async_playwright
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from yomitori.errors import MissingDependency, YomitoriError
from yomitori.forms_templates.contract import contract_forms
from yomitori.values import NormalizationError, normalize

from . import transforms
from .keys import idempotency_key, redact, values_digest
from .outcomes import Outcome, OutcomeKind, OutcomeSink
from .receipts import SAVE_SENT, TERMINAL, ReceiptLog, State
from .scenario import (
    CheckStep,
    ClickStep,
    Condition,
    ExpectTextStep,
    FillStep,
    GotoStep,
    IfStep,
    ReadStep,
    RepeatStep,
    Scenario,
    SelectStep,
    SendBackStep,
    Target,
    WaitForStep,
    action_of,
)
from .sources import RecordSource, SourceRecord

CHROMIUM = os.environ.get("YOMITORI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


@dataclass
class RunOptions:
    parallel: int = 1
    dry_run: bool = False
    artifacts: Path = Path("bot-artifacts")
    base_url: str | None = None
    max_consecutive_failures: int = 3  # a broken scenario stops the run instead of failing every record
    # A test run's step-by-step screenshots go here (personal data: a private folder); login steps are not shot.
    step_screenshots: Path | None = None
    lease_wait: float = 0.0  # seconds to wait for another run on the same journal to end, then refuse


@dataclass(frozen=True)
class StepShot:
    """One step of a test run: where in the scenario, and the page right after it."""

    section: str
    where: str
    screenshot: Path | None


@dataclass
class RunSummary:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        [*(k.value for k in OutcomeKind), "already_done", "unconfirmed"], 0))
    seconds: float = 0.0
    logins: int = 0  # more than --parallel means sessions ended and were resumed
    aborted: str = ""
    steps: list[StepShot] = field(default_factory=list)  # with RunOptions.step_screenshots

    @property
    def per_minute(self) -> float:
        done = self.counts["keyed"] + self.counts["skipped"] + self.counts["sent_back"]
        return 60.0 * done / self.seconds if self.seconds else 0.0


class SentBack(Exception):
    """The target refused the record, or the read-back differed: back to review with the target's words."""


class SessionExpired(Exception):
    """The target ended the session; log in again and start the record over (from the lookup)."""


MAY_HAVE_BEEN_SAVED = "保存済みの可能性: 確認してください (may have been saved: check)"


class Unconfirmed(Exception):
    """The save was sent, no answer came, and the lookups did not find the record: a person must check."""


class StepFailure(Exception):
    """A step could not be done. `transient` failures (timeouts of a slow page, 5xx, lost connection) are retried."""

    def __init__(self, where: str, detail: str, *, transient: bool) -> None:
        self.where, self.detail, self.transient = where, redact(detail), transient
        super().__init__(f"{where}: {self.detail}")


@dataclass
class _Ctx:
    """What the steps of one record attempt can see."""

    record: SourceRecord
    section: str
    secrets: dict[str, str]
    dry_run: bool = False
    committed: bool = False  # the commit step was started: the target may hold the record from here on
    on_sent: Callable[[], None] | None = None  # called once the browser has sent the commit step's request
    mismatches: list[str] = field(default_factory=list)


class _StopAtCommit(Exception):
    """--dry-run reached a step that would write to the target."""


def locator(page: Page, t: Target, i: str | None) -> Locator:
    """The Playwright locator for a scenario target; `{i}` is the current repeat group."""
    def sub(s: str) -> str:
        return s.replace("{i}", i) if i is not None else s

    if t.label:
        return page.get_by_label(sub(t.label), exact=t.exact)
    if t.role:
        return page.get_by_role(t.role, name=sub(t.name) if t.name else None, exact=t.exact)  # type: ignore[arg-type]
    if t.test_id:
        return page.get_by_test_id(sub(t.test_id))
    if t.css:
        return page.locator(sub(t.css))
    if t.text:
        return page.get_by_text(sub(t.text), exact=t.exact)
    return page.get_by_placeholder(sub(t.placeholder or ""), exact=t.exact)


class Worker:
    """One browser context (one login session at the target) keying records one after another."""

    def __init__(self, n: int, runner: Runner, context: BrowserContext) -> None:
        self.n, self.runner, self.context = n, runner, context
        self.s = runner.scenario
        self.page: Page | None = None
        self.logged_in = False
        self.tracing = False  # a trace chunk of the current record attempt is open

    # -- steps -------------------------------------------------------------------------------------
    def _where(self, ctx: _Ctx, step: Any, i: str | None) -> str:
        label = step.name or action_of(step)
        spec = getattr(step, action_of(step).replace("if", "if_"), None)
        target = f" [{spec.describe(i)}]" if isinstance(spec, Target) else ""
        group = f" (group {i})" if i is not None else ""
        return f"{ctx.section} step '{label}'{target}{group} at {Path(self.s.path).name}:{step.line}"

    def _value(self, spec: Any, ctx: _Ctx, i: str | None) -> object:
        if spec.secret is not None:
            return ctx.secrets[spec.secret]
        if spec.field is not None:
            key = spec.field.replace("{i}", i) if i is not None else spec.field
            return transforms.apply(ctx.record.values.get(key), spec.transform)
        v = spec.value
        return v.replace("{i}", i) if isinstance(v, str) and i is not None else v

    async def _check(self, cond: Condition, i: str | None) -> bool:
        assert self.page is not None
        loc = locator(self.page, cond.visible, i) if cond.visible else self.page.get_by_text(cond.text or "")
        if not cond.wait:
            return await loc.first.is_visible()
        try:
            await loc.first.wait_for(state="visible", timeout=cond.wait * 1000)
            return True
        except PlaywrightTimeout:
            return False

    async def _navigated(self, response: Any, where: str) -> None:
        if response is not None and response.status >= 500:
            raise StepFailure(where, f"the target answered HTTP {response.status}", transient=True)
        # Seen at once after each page load, rather than by the next step timing out on the login page.
        if self.s.session_expired is not None and await self._check(self.s.session_expired, None):
            self.logged_in = False
            raise SessionExpired(where)

    async def run_steps(self, steps: Iterable[Any], ctx: _Ctx, i: str | None = None) -> None:
        for step in steps:
            if step.when:
                key = step.when.replace("{i}", i) if i is not None else step.when
                if not ctx.record.values.get(key):
                    continue
            if step.commit and ctx.dry_run:
                raise _StopAtCommit(f"{ctx.section} at {Path(self.s.path).name}:{step.line}")
            where = self._where(ctx, step, i)
            if step.commit and not isinstance(step, ClickStep):  # a click says so itself, just before clicking
                ctx.committed = True
            try:
                await self._do(step, ctx, i, where)
            except (SentBack, _StopAtCommit, StepFailure, SessionExpired):
                raise
            except PlaywrightTimeout as e:
                await self._classify(e, where, ctx, navigation=False)
            except PlaywrightError as e:
                await self._classify(e, where, ctx, navigation=True)
            except (ValueError, TypeError, KeyError) as e:  # a transform that does not fit the approved value
                raise StepFailure(where, f"the value cannot be prepared: {e}", transient=False) from None
            if self.runner.options.step_screenshots is not None and ctx.section != "login" and not isinstance(
                    step, IfStep | RepeatStep):
                await self._shoot(ctx, where)

    async def _shoot(self, ctx: _Ctx, where: str) -> None:
        """A test run's picture of the page after a step (a page that cannot be shot is listed without one)."""
        folder = self.runner.options.step_screenshots
        assert folder is not None and self.page is not None
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        shot: Path | None = folder / f"step-{len(self.runner.summary.steps) + 1:03d}.png"
        try:
            await self.page.screenshot(path=str(shot), full_page=True, timeout=10_000)
        except PlaywrightError:
            shot = None
        self.runner.summary.steps.append(StepShot(ctx.section, where, shot))

    async def _classify(self, e: Exception, where: str, ctx: _Ctx, *, navigation: bool) -> None:
        """Turn a Playwright error into session expiry, a transient failure or a step failure."""
        if self.s.session_expired is not None and self.page is not None:
            with contextlib.suppress(PlaywrightError):
                if await self._check(self.s.session_expired, None):
                    self.logged_in = False
                    raise SessionExpired(where) from None
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        transient = bool(re.search(r"net::ERR_|Navigation|navigation|Target page, context or browser has been closed",
                                   str(e)))
        raise StepFailure(where, message, transient=transient) from None

    async def _do(self, step: Any, ctx: _Ctx, i: str | None, where: str) -> None:
        page = self.page
        assert page is not None
        s = self.s
        timeout = (step.timeout or s.timeouts.step) * 1000
        nav_timeout = max(timeout, s.timeouts.navigation * 1000)
        if isinstance(step, GotoStep):
            url = step.goto if re.match(r"https?://", step.goto) else self.runner.base_url + step.goto
            try:
                response = await page.goto(url, timeout=nav_timeout)
            except PlaywrightError as e:
                raise StepFailure(where, str(e).splitlines()[0], transient=True) from None
            await self._navigated(response, where)
        elif isinstance(step, FillStep):
            await locator(page, step.fill, i).fill(transforms.as_text(self._value(step.fill, ctx, i)), timeout=timeout)
        elif isinstance(step, SelectStep):
            value = transforms.as_text(self._value(step.select, ctx, i))
            loc = locator(page, step.select, i)
            if step.select.by == "label":
                await loc.select_option(label=value, timeout=timeout)
            else:
                await loc.select_option(value=value, timeout=timeout)
        elif isinstance(step, CheckStep):
            await locator(page, step.check, i).set_checked(bool(self._value(step.check, ctx, i)), timeout=timeout)
        elif isinstance(step, ClickStep):
            await self._click(step, ctx, i, where, timeout, nav_timeout)
        elif isinstance(step, WaitForStep):
            await locator(page, step.wait_for, i).first.wait_for(state=step.wait_for.state, timeout=timeout)
        elif isinstance(step, ExpectTextStep):
            try:
                await page.get_by_text(step.expect_text).first.wait_for(timeout=timeout)
            except PlaywrightTimeout:
                await self._classify(PlaywrightTimeout(f"expected text {step.expect_text!r} is not on the page"),
                                     where, ctx, navigation=False)
        elif isinstance(step, IfStep):
            branch = step.then if await self._check(step.if_, i) else step.else_
            await self.run_steps(branch, ctx, i)
        elif isinstance(step, RepeatStep):
            for group in step.repeat.over:
                await self.run_steps(step.repeat.steps, ctx, str(group))
        elif isinstance(step, SendBackStep):
            spec = step.send_back
            if spec.message_from is not None:
                text = await locator(page, spec.message_from, i).first.inner_text(timeout=timeout)
            else:
                text = spec.message or ""
            raise SentBack(redact(" ".join(text.split())))
        elif isinstance(step, ReadStep):
            await self._read(step, ctx, i, timeout)

    async def _click(self, step: ClickStep, ctx: _Ctx, i: str | None, where: str, timeout: float,
                     nav_timeout: float) -> None:
        page = self.page
        assert page is not None
        if not (step.commit and ctx.on_sent):
            await self._click_now(step, ctx, i, where, timeout, nav_timeout)
            return
        on_sent, sent = ctx.on_sent, False

        def on_request(request: Any) -> None:  # the save's own request: a form post or a script's POST/PUT
            nonlocal sent
            if not sent and (request.is_navigation_request() or request.method not in ("GET", "HEAD")):
                sent = True
                on_sent()  # the journal says "sent" durably: a resume after a crash looks it up, never keys it

        page.on("request", on_request)
        try:
            await self._click_now(step, ctx, i, where, timeout, nav_timeout)
        finally:
            page.remove_listener("request", on_request)

    async def _click_now(self, step: ClickStep, ctx: _Ctx, i: str | None, where: str, timeout: float,
                         nav_timeout: float) -> None:
        page = self.page
        assert page is not None
        spec = step.click
        if spec.dialog:
            answer = spec.dialog

            async def on_dialog(dialog: Any) -> None:
                await (dialog.accept() if answer == "accept" else dialog.dismiss())

            page.once("dialog", on_dialog)
        loc = locator(page, spec, i)
        if not spec.navigates:
            ctx.committed = ctx.committed or step.commit
            await loc.click(timeout=timeout)
            return
        # Find the element first, so a missing one is a step failure and not a navigation timeout.
        await loc.wait_for(state="visible", timeout=timeout)
        # Committed from the click on, not from its answer: a save that answers late may still be stored.
        ctx.committed = ctx.committed or step.commit
        try:
            async with page.expect_navigation(timeout=nav_timeout) as nav:
                await loc.click(timeout=timeout)
            response = await nav.value
        except PlaywrightTimeout as e:
            raise StepFailure(where, f"the page did not load after the click ({str(e).splitlines()[0]})",
                              transient=True) from None
        await self._navigated(response, where)

    async def _read(self, step: ReadStep, ctx: _Ctx, i: str | None, timeout: float) -> None:
        """Read a saved value back and compare it with the approved one, both in the contract's normal form."""
        assert self.page is not None
        spec = step.read
        key = spec.field.replace("{i}", i) if i is not None else spec.field
        text = (await locator(self.page, spec, i).first.inner_text(timeout=timeout)).strip()
        contract_field = contract_forms()[ctx.record.form].fields[key]
        expected = ctx.record.values.get(key)
        label = f"{contract_field.label}（{key}）"
        if spec.map:
            if text not in spec.map:
                ctx.mismatches.append(f"{label}: 画面の表示を読めません")
                return
            got: object = spec.map[text]
        else:
            try:
                got = normalize(contract_field.type, text, choices=contract_field.choices)
            except NormalizationError:
                ctx.mismatches.append(f"{label}: 画面の表示を読めません")
                return
        if contract_field.type == "checkbox":
            expected = bool(expected)
        if got != expected:
            if contract_field.type == "my_number":  # 特定個人情報: say that it differs, never what it is
                ctx.mismatches.append(f"{label}: 登録内容が承認値と一致しません")
            else:
                ctx.mismatches.append(f"{label}: 登録内容「{got if got is not None else '（空欄）'}」"
                                      f"承認値「{expected if expected is not None else '（空欄）'}」")

    # -- one record --------------------------------------------------------------------------------
    async def ensure_login(self, ctx: _Ctx) -> None:
        if self.logged_in:
            return
        if self.page is None or self.page.is_closed():
            self.page = await self.context.new_page()
        await self.run_steps(self.s.login, _Ctx(ctx.record, "login", ctx.secrets))
        self.logged_in = True
        self.runner.summary.logins += 1

    async def lookup(self, ctx: _Ctx) -> bool:
        """Search the target for the record: True present, False positively absent; anything else is a failure."""
        await self.run_steps(self.s.lookup.steps, _Ctx(ctx.record, "lookup", ctx.secrets, dry_run=ctx.dry_run))
        lookup_where = f"lookup at {Path(self.s.path).name}"
        deadline = time.monotonic() + self.s.timeouts.step
        while True:
            try:
                if await self._check(self.s.lookup.present_if, None):
                    return True
                if await self._check(self.s.lookup.absent_if, None):
                    return False
            except PlaywrightError as e:
                await self._classify(e, lookup_where, ctx, navigation=True)
            if time.monotonic() > deadline:
                await self._classify(PlaywrightTimeout("the page shows neither present_if nor absent_if"),
                                     lookup_where, ctx, navigation=False)
            await asyncio.sleep(0.1)

    async def verify(self, ctx: _Ctx) -> list[str]:
        vctx = _Ctx(ctx.record, "verify", ctx.secrets)
        await self.run_steps(self.s.verify, vctx)
        return vctx.mismatches

    async def process(self, rec: SourceRecord) -> None:
        r = self.runner
        log = r.receipts
        key = idempotency_key(log.secret(), rec.form, rec.values, self.s.idempotency_key)
        digest = values_digest(log.secret(), rec.values)
        if rec.form != self.s.form:
            r.emit(Outcome(OutcomeKind.failed, rec.record_id, key,
                           f"the record is a {rec.form}; this scenario keys {self.s.form}"))
            return
        prior = log.get(key)
        # A record sent back comes round again only once review has changed it.
        if prior is not None and prior.state in TERMINAL and (
                prior.state != State.sent_back or prior.values_digest == digest):
            r.summary.counts["already_done"] += 1
            if prior.record_id != rec.record_id and not r.options.dry_run:
                r.emit(Outcome(OutcomeKind.skipped, rec.record_id, key,
                               f"same employer, person and year as record {prior.record_id} ({prior.state})"))
            return
        ours = prior is not None and prior.state not in TERMINAL  # we may have saved it before a crash
        attempts = self.s.retry.attempts
        for attempt in range(1, attempts + 1):
            ctx = _Ctx(rec, "lookup", r.secrets, dry_run=r.options.dry_run)
            self.tracing = False
            try:
                await self.ensure_login(ctx)  # before the trace starts: no password in an artifact
                await self.context.tracing.start_chunk(title=f"{rec.record_id} attempt {attempt}")
                self.tracing = True
                outcome = await self._attempt(rec, key, digest, ctx, ours)
                await self._end_trace()
                r.emit(outcome)
                return
            except Unconfirmed as e:
                r.summary.counts["unconfirmed"] += 1
                await self._fail(rec, key, digest, ctx, e, State.unconfirmed)
                return
            except SentBack as e:
                await self._end_trace()
                if not ctx.dry_run:
                    log.mark(key, rec.record_id, State.sent_back, values_digest=digest, message=str(e))
                r.emit(Outcome(OutcomeKind.sent_back, rec.record_id, key, str(e)))
                return
            except (SessionExpired, StepFailure) as e:
                ours = ours or (not ctx.dry_run and log.get(key) is not None)
                transient = isinstance(e, SessionExpired) or e.transient
                if transient and attempt < attempts:
                    await self._end_trace()
                    self.logged_in = False  # a fresh session is the surest start after a lost page
                    if not isinstance(e, SessionExpired):  # an ended session needs a login, not a pause
                        await asyncio.sleep(self.s.retry.backoff[min(attempt - 1, len(self.s.retry.backoff) - 1)])
                    continue
                await self._fail(rec, key, digest, ctx, e)
                return

    async def _end_trace(self) -> None:
        """Drop the record's trace chunk: only failures keep theirs."""
        if self.tracing:
            await self.context.tracing.stop_chunk()
            self.tracing = False

    async def _attempt(self, rec: SourceRecord, key: str, digest: str, ctx: _Ctx, ours: bool) -> Outcome:
        log = self.runner.receipts
        receipt = log.get(key)
        prior_state = receipt.state if receipt else None
        try:
            present = await self.lookup(ctx)
        except _StopAtCommit as e:  # e.g. the employer would have to be registered first
            return Outcome(OutcomeKind.dry_run, rec.record_id, key, f"stopped before a step that writes ({e})")
        if present and ctx.dry_run:
            return Outcome(OutcomeKind.dry_run, rec.record_id, key, "already in the target; would skip")
        if not present and prior_state in SAVE_SENT and not ctx.dry_run:  # an earlier run sent the save
            return await self._settle(rec, key, digest, ctx, f"an earlier run sent the save ({prior_state})")
        if present and not ours:
            note = "already in the target"
            if prior_state == State.sent_back:  # its read-back differed: the bot does not edit saved records
                note += " (sent back earlier after a differing read-back: correct it in the target)"
            log.mark(key, rec.record_id, State.skipped, values_digest=digest, message=note)
            return Outcome(OutcomeKind.skipped, rec.record_id, key, note)
        if not present:
            if not ctx.dry_run:
                log.mark(key, rec.record_id, State.started, values_digest=digest)
            kctx = _Ctx(rec, "key_in", ctx.secrets, dry_run=ctx.dry_run, on_sent=None if ctx.dry_run else (
                lambda: log.mark(key, rec.record_id, State.sent, values_digest=digest)))
            try:
                await self.run_steps(self.s.key_in, kctx)
            except _StopAtCommit:
                return Outcome(OutcomeKind.dry_run, rec.record_id, key, "walked the scenario up to the save")
            except (StepFailure, SessionExpired) as e:
                if not kctx.committed:
                    raise
                # The save went out and its answer did not come (a slow save, a lost page): the target may be
                # storing it right now. Looking again is the only safe answer; keying again would make two rows.
                return await self._settle(rec, key, digest, ctx, str(e))
            finally:
                ctx.committed = kctx.committed
            log.mark(key, rec.record_id, State.saved, values_digest=digest)
            if not await self.lookup(ctx):
                raise StepFailure("lookup after save", "the saved record is not found by the lookup", transient=False)
        return await self._read_back(rec, key, digest, ctx, "keyed and read back" if not present else
                                     "found saved after an interruption, and read back")

    async def _settle(self, rec: SourceRecord, key: str, digest: str, ctx: _Ctx, cause: str) -> Outcome:
        """Resolve a save of unknown outcome by waiting and looking up (bounded); raise Unconfirmed if still absent."""
        lookups, pause = self.s.retry.unknown_save_lookups, self.s.timeouts.unknown_save
        last = ""
        for _ in range(lookups):
            await asyncio.sleep(pause)
            try:
                self.logged_in = False  # the old page may still wait for the save's answer: start a fresh session
                await self.ensure_login(ctx)
                found = await self.lookup(ctx)
            except (StepFailure, SessionExpired) as e:  # a lookup that cannot be done is no answer: look again
                last = f"; the last lookup failed: {e}"
                continue
            if found:
                self.runner.receipts.mark(key, rec.record_id, State.saved, values_digest=digest)
                return await self._read_back(rec, key, digest, ctx, "the save answered late: found by the lookup "
                                                                    "and read back")
            last = ""
        raise Unconfirmed(f"{MAY_HAVE_BEEN_SAVED} — the save was sent but its answer did not come ({cause}); "
                          f"{lookups} lookups over {lookups * pause:.0f} s did not find the record{last}. "
                          "Look for it in the target: if it is there, run again (the bot finds it and reads it "
                          "back); if it is not, release it (yomitori bot release) and run again")

    async def _read_back(self, rec: SourceRecord, key: str, digest: str, ctx: _Ctx, note: str) -> Outcome:
        log = self.runner.receipts
        mismatches = await self.verify(ctx)
        if mismatches:
            message = redact("読み戻し不一致: " + "; ".join(mismatches))
            log.mark(key, rec.record_id, State.sent_back, values_digest=digest, message=message)
            return Outcome(OutcomeKind.sent_back, rec.record_id, key, message)
        log.mark(key, rec.record_id, State.verified, values_digest=digest, message=note)
        return Outcome(OutcomeKind.keyed, rec.record_id, key, note)

    async def _fail(self, rec: SourceRecord, key: str, digest: str, ctx: _Ctx, e: Exception,
                    state: State = State.failed) -> None:
        r = self.runner
        stem = f"{re.sub(r'[^0-9A-Za-z_.-]+', '_', rec.record_id)}-{key[:8]}-{datetime.now():%Y%m%d-%H%M%S-%f}"
        r.options.artifacts.mkdir(parents=True, exist_ok=True, mode=0o700)
        shot, trace = r.options.artifacts / f"{stem}.png", r.options.artifacts / f"{stem}.trace.zip"
        try:
            assert self.page is not None
            await self.page.screenshot(path=str(shot), full_page=True, timeout=10_000)
        except (PlaywrightError, AssertionError):
            shot = None  # type: ignore[assignment]
        if self.tracing:
            try:
                await self.context.tracing.stop_chunk(path=str(trace))
            except PlaywrightError:
                trace = None  # type: ignore[assignment]
            self.tracing = False
        else:
            trace = None  # type: ignore[assignment]  # the login itself failed: it is never traced
        message = str(e) if isinstance(e, StepFailure | Unconfirmed) else (
            f"the target's session ended repeatedly ({e})")
        if isinstance(e, Unconfirmed):
            pass  # says itself what was sent and what a person does
        elif ctx.committed:
            message += "; the save step had run: the next run looks the record up before keying anything"
        else:
            message += "; nothing was saved (the save step was not reached)"
        message = redact(message)
        if not ctx.dry_run:
            r.receipts.mark(key, rec.record_id, state, values_digest=digest, message=message,
                            artifacts=tuple(str(p) for p in (shot, trace) if p))
        self.logged_in = False
        r.emit(Outcome(OutcomeKind.failed, rec.record_id, key, message, shot, trace))


class Runner:
    """Keys the records of a source with a scenario; outcomes go to `sink`, states to the receipt log."""

    def __init__(self, scenario: Scenario, receipts: ReceiptLog, sink: OutcomeSink, options: RunOptions) -> None:
        self.scenario, self.receipts, self.sink, self.options = scenario, receipts, sink, options
        self.base_url = scenario.url(options.base_url)
        self.secrets = {name: ref.resolve(name) for name, ref in scenario.credentials.items()}
        self.summary = RunSummary()
        self._consecutive_failures = 0

    def stop(self, reason: str) -> None:
        """No new records (those in hand finish): e.g. the journal's lease was lost."""
        if not self.summary.aborted:
            self.summary.aborted = reason

    def emit(self, outcome: Outcome) -> None:
        self.summary.counts[outcome.kind.value] += 1
        if outcome.kind == OutcomeKind.failed:
            self._consecutive_failures += 1
            if self._consecutive_failures >= self.options.max_consecutive_failures and not self.summary.aborted:
                self.summary.aborted = (f"stopped after {self._consecutive_failures} failures in a row: "
                                        "the scenario or the target needs a look")
        else:
            self._consecutive_failures = 0
        self.sink(outcome)

    async def run(self, source: RecordSource) -> RunSummary:
        if not Path(CHROMIUM).exists():
            raise MissingDependency(f"Chromium not found at {CHROMIUM}: install Debian's chromium package "
                                    "(apt-get install chromium) or set YOMITORI_CHROMIUM")
        started = time.monotonic()
        queue: asyncio.Queue[SourceRecord | None] = asyncio.Queue(maxsize=self.options.parallel * 2)
        inflight: dict[str, asyncio.Lock] = {}
        exclusive: dict[str, asyncio.Lock] = {}
        async with async_playwright() as pw:
            browser: Browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                workers = []
                for n in range(self.options.parallel):
                    context = await browser.new_context(locale="ja-JP")
                    context.set_default_timeout(self.scenario.timeouts.step * 1000)
                    context.set_default_navigation_timeout(self.scenario.timeouts.navigation * 1000)
                    # DOM snapshots only: a screencast adds ~20 % per record; a failure gets a full-page screenshot.
                    await context.tracing.start(screenshots=False, snapshots=True)
                    workers.append(Worker(n, self, context))

                async def work(w: Worker) -> None:
                    while (rec := await queue.get()) is not None:
                        if self.summary.aborted:
                            continue
                        # Two records with the same key never run at once: the second would not see the first.
                        key = idempotency_key(self.receipts.secret(), rec.form, rec.values,
                                              self.scenario.idempotency_key)
                        group = "|".join(str(rec.values.get(f)) for f in self.scenario.exclusive_by) or key
                        same_key, same_group = inflight.setdefault(key, asyncio.Lock()), exclusive.setdefault(
                            group, asyncio.Lock())
                        async with same_key, same_group:
                            try:
                                await w.process(rec)
                            except Exception as e:  # one record's surprise must not end the others' run
                                self.emit(Outcome(OutcomeKind.failed, rec.record_id, key,
                                                  redact(f"unexpected error: {type(e).__name__}: {e}")))

                tasks = [asyncio.create_task(work(w)) for w in workers]
                # The source is read in a thread: a slow query must not stall the browsers.
                records = iter(source)
                while not self.summary.aborted and (rec := await asyncio.to_thread(next, records, None)) is not None:
                    await queue.put(rec)
                for _ in tasks:
                    await queue.put(None)
                await asyncio.gather(*tasks)
            finally:
                await browser.close()
        self.summary.seconds = time.monotonic() - started
        return self.summary


def run_scenario(scenario: Scenario, source: RecordSource, receipts: ReceiptLog, sink: OutcomeSink,
                 options: RunOptions | None = None) -> RunSummary:
    """Synchronous entry point for the CLI and the batch jobs."""
    options = options or RunOptions()
    if options.parallel < 1:
        raise YomitoriError("--parallel must be 1 or more")
    runner = Runner(scenario, receipts, sink, options)
    # One run per journal: a second one (a resume started while the first lives) would key every record again.
    # A dry run writes nothing to the target, so it may walk beside a real run.
    lease = contextlib.nullcontext() if options.dry_run else receipts.lease(wait=options.lease_wait,
                                                                            on_lost=runner.stop)
    with lease:
        return asyncio.run(runner.run(source))
