"""The demo tax system's web screens: login, menu, employer search, a three-screen record entry, record view."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re
import secrets
import threading
import time
import unicodedata
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from stdnum.jp import cn, in_

from .database import Database
from .settings import Settings

HERE = Path(__file__).parent
ERAS = {1: ("明治", date(1868, 1, 25)), 2: ("大正", date(1912, 7, 30)), 3: ("昭和", date(1926, 12, 25)),
        4: ("平成", date(1989, 1, 8)), 5: ("令和", date(2019, 5, 1))}
HAIGUSHA = {"": "", "1": "有", "2": "従有"}
FLAGS = {"minor": "未成年者", "otsu": "乙欄", "widow": "寡婦", "single_parent": "ひとり親", "student": "勤労学生"}
AMOUNTS = {"shiharai": "支払金額", "kyuyo_shotoku": "給与所得控除後の金額", "kojo_gokei": "所得控除の額の合計額",
           "gensen": "源泉徴収税額", "shakai_hoken": "社会保険料等の金額", "haigusha_kojo": "配偶者（特別）控除の額"}
COUNTS = {"fuyo_tokutei": "特定扶養親族の数", "fuyo_rojin": "老人扶養親族の数", "fuyo_sonota": "その他の扶養親族の数",
          "fuyo_16": "16歳未満扶養親族の数"}
HALF_KANA = re.compile(r"[ｦ-ﾟ ]+")
PUBLIC = ("/login", "/healthz", "/export.json", "/static")


def wareki(d: date) -> str:
    for code in sorted(ERAS, reverse=True):
        name, start = ERAS[code]
        if d >= start:
            y = d.year - start.year + 1
            return f"{name}{'元' if y == 1 else y}年{d.month}月{d.day}日"
    return d.isoformat()


def nenbun_label(year: int) -> str:
    code = 5 if year >= 2019 else 4
    y = year - ERAS[code][1].year + 1
    return f"{ERAS[code][0]}{'元' if y == 1 else y}年分"


def yen(v: int | None) -> str:
    return "" if v is None else f"{v:,}円"


class Sessions:
    """Server-side sessions: the entry draft lives here, so a timed-out session loses it (as real systems do)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._data: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def create(self, user: str) -> str:
        sid = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            self._data[sid] = {"user": user, "created": now, "last": now, "draft": None}
        return sid

    def get(self, sid: str | None) -> dict[str, Any] | None:
        if not sid:
            return None
        now = time.monotonic()
        with self._lock:
            s = self._data.get(sid)
            if s is None:
                return None
            if now - s["last"] > self.settings.idle_timeout or now - s["created"] > self.settings.session_lifetime:
                del self._data[sid]
                return None
            s["last"] = now
            return s

    def drop(self, sid: str | None) -> None:
        with self._lock:
            self._data.pop(sid or "", None)


def _digits(v: str) -> str:
    return unicodedata.normalize("NFKC", v).strip()


def _amount(errors: list[str], label: str, raw: str, *, required: bool = False) -> int | None:
    s = raw.strip()
    if not s:
        if required:
            errors.append(f"{label}を入力してください。")
        return None
    if "," in s or "，" in s:
        errors.append(f"{label}はカンマを付けずに半角数字で入力してください。")
        return None
    if not re.fullmatch(r"[0-9]{1,10}", s):
        errors.append(f"{label}は半角数字で入力してください。")
        return None
    return int(s)


def _count(errors: list[str], label: str, raw: str) -> int | None:
    s = raw.strip()
    if not s:
        return None
    if not re.fullmatch(r"[0-9]", s):
        errors.append(f"{label}は0から9の半角数字で入力してください。")
        return None
    return int(s)


def _my_number(errors: list[str], label: str, raw: str, *, required: bool = True) -> str:
    s = raw.strip()
    if not s and not required:
        return ""
    if not re.fullmatch(r"[0-9]{12}", s) or not in_.is_valid(s):
        errors.append(f"{label}が正しくありません（半角数字12桁）。")
    return s


def _page_form(form: Any) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


def create_app(settings: Settings) -> FastAPI:
    """The FastAPI app of the demo system over `settings.db`."""
    db = Database(settings.db)
    sessions = Sessions(settings)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(eras=ERAS, haigusha=HAIGUSHA, flags=FLAGS, amounts=AMOUNTS, counts=COUNTS,
                                 yen=yen, wareki=wareki, nenbun_label=nenbun_label)
    rng = random.Random(settings.seed)
    slow_saves_left = [settings.slow_saves]
    background: set[asyncio.Task[Any]] = set()
    app = FastAPI(title="住民税課税システム（デモ）", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def gate(request: Request, call_next: Any) -> Response:
        if settings.slow_rate and rng.random() < settings.slow_rate:
            await asyncio.sleep(rng.uniform(*settings.slow_seconds))
        path = request.url.path
        if not path.startswith(PUBLIC):
            session = sessions.get(request.cookies.get("sid"))
            if session is None:
                had_cookie = "sid" in request.cookies
                return RedirectResponse("/login?expired=1" if had_cookie else "/login", status_code=303)
            request.state.session = session
        return await call_next(request)

    def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        session = getattr(request.state, "session", None)
        return templates.TemplateResponse(request, name, {"user": session and session["user"], **ctx},
                                          status_code=status)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, expired: int = 0) -> HTMLResponse:
        message = "セッションの有効期限が切れました。再度ログインしてください。" if expired else ""
        return render(request, "login.html", message=message)

    @app.post("/login")
    def login(request: Request, user: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "") -> Response:
        ok = secrets.compare_digest(user, settings.username) & secrets.compare_digest(password, settings.password)
        if not ok:
            return render(request, "login.html", 401, message="利用者IDまたはパスワードが違います。")
        response = RedirectResponse("/menu", status_code=303)
        response.set_cookie("sid", sessions.create(user), httponly=True, samesite="strict")
        return response

    @app.get("/logout")
    def logout(request: Request) -> Response:
        sessions.drop(request.cookies.get("sid"))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie("sid")
        return response

    @app.get("/", response_class=HTMLResponse)
    @app.get("/menu", response_class=HTMLResponse)
    def menu(request: Request) -> HTMLResponse:
        return render(request, "menu.html")

    @app.get("/employers/search", response_class=HTMLResponse)
    def employer_search_page(request: Request) -> HTMLResponse:
        return render(request, "employer_search.html", form={})

    @app.post("/employers/search", response_class=HTMLResponse)
    async def employer_search(request: Request) -> Response:
        form = _page_form(await request.form())
        shitei, houjin = _digits(form.get("shitei_no", "")), _digits(form.get("houjin_no", ""))
        if not shitei and not houjin:
            return render(request, "employer_search.html", 422, form=form,
                          errors=["指定番号または法人番号・個人番号を入力してください。"])
        found = db.find_employers(shitei_no=shitei, houjin_no=houjin)
        if len(found) == 1:
            return RedirectResponse(f"/employers/{found[0]['id']}", status_code=303)
        return render(request, "employer_search.html", form=form, not_found=not found, many=found if found else [])

    @app.get("/employers/new", response_class=HTMLResponse)
    def employer_new_page(request: Request) -> HTMLResponse:
        return render(request, "employer_new.html", form={})

    @app.post("/employers/new", response_class=HTMLResponse)
    async def employer_new(request: Request) -> Response:
        form = _page_form(await request.form())
        errors: list[str] = []
        houjin = _digits(form.get("houjin_no", ""))
        if not ((len(houjin) == 13 and cn.is_valid(houjin)) or (len(houjin) == 12 and in_.is_valid(houjin))):
            errors.append("法人番号・個人番号が正しくありません（半角数字13桁または12桁）。")
        if not form.get("name", "").strip():
            errors.append("名称を入力してください。")
        if errors:
            return render(request, "employer_new.html", 422, form=form, errors=errors)
        eid = db.add_employer(houjin, form["name"].strip(), form.get("address", "").strip(),
                              form.get("phone", "").strip())
        return RedirectResponse(f"/employers/{eid}?created=1", status_code=303)

    @app.get("/employers/{eid}", response_class=HTMLResponse)
    def employer_page(request: Request, eid: int, created: int = 0) -> Response:
        employer = db.employer(eid)
        if employer is None:
            return render(request, "menu.html", 404, errors=["特別徴収義務者が見つかりません。"])
        return render(request, "employer.html", employer=employer, created=created, form={})

    @app.post("/employers/{eid}", response_class=HTMLResponse)
    async def employee_search(request: Request, eid: int) -> Response:
        employer = db.employer(eid)
        if employer is None:
            return render(request, "menu.html", 404, errors=["特別徴収義務者が見つかりません。"])
        form = _page_form(await request.form())
        errors: list[str] = []
        nenbun = _nenbun(errors, form)
        my_number = _my_number(errors, "個人番号", form.get("my_number", ""))
        if errors:
            return render(request, "employer.html", 422, employer=employer, form=form, errors=errors)
        hits = db.find_records(eid, nenbun or 0, my_number)
        return render(request, "employer.html", employer=employer, form=form, hits=hits, searched=True)

    @app.get("/employers/{eid}/entry")
    def entry_start(request: Request, eid: int) -> Response:
        if db.employer(eid) is None:
            return RedirectResponse("/menu", status_code=303)
        request.state.session["draft"] = {"employer_id": eid, "screen": 1, "values": {}, "form": {}}
        return RedirectResponse("/entry/1", status_code=303)

    @app.get("/entry/{screen}", response_class=HTMLResponse)
    def entry_page(request: Request, screen: int) -> Response:
        draft = request.state.session.get("draft")
        if not draft or screen > draft["screen"] or screen not in (1, 2, 3):
            return render(request, "menu.html", 409, errors=["入力中のデータがありません。最初から入力してください。"])
        return render(request, f"entry{screen}.html", form=draft["form"], employer=db.employer(draft["employer_id"]))

    @app.post("/entry/{screen}", response_class=HTMLResponse)
    async def entry_submit(request: Request, screen: int) -> Response:
        draft = request.state.session.get("draft")
        if not draft or screen > draft["screen"] or screen not in (1, 2, 3):
            return render(request, "menu.html", 409, errors=["入力中のデータがありません。最初から入力してください。"])
        form = _page_form(await request.form())
        errors: list[str] = []
        values = (_screen1, _screen2, _screen3)[screen - 1](errors, form)
        draft["form"].update(form)
        employer = db.employer(draft["employer_id"])
        if errors:
            return render(request, f"entry{screen}.html", 422, form=draft["form"], employer=employer, errors=errors)
        draft["values"].update(values)
        if screen < 3:
            draft["screen"] = max(draft["screen"], screen + 1)
            return RedirectResponse(f"/entry/{screen + 1}", status_code=303)
        rule_errors = _business_rules(draft["values"], settings)
        if rule_errors:
            return render(request, "entry3.html", 422, form=draft["form"], employer=employer, errors=rule_errors)
        row = {"employer_id": draft["employer_id"], **draft["values"]}
        if slow_saves_left[0] > 0:
            slow_saves_left[0] -= 1

            async def slow_save() -> int:
                await asyncio.sleep(settings.slow_save_seconds)
                return db.add_record(row)[0]

            # Shielded: a client that gives up and goes away does not stop the row being stored.
            task = asyncio.create_task(slow_save())
            background.add(task)
            task.add_done_callback(background.discard)
            rid = await asyncio.shield(task)
        else:
            rid, _receipt = db.add_record(row)
        request.state.session["draft"] = None
        return RedirectResponse(f"/records/{rid}?saved=1", status_code=303)

    @app.get("/records/{rid}", response_class=HTMLResponse)
    def record_page(request: Request, rid: int, saved: int = 0) -> Response:
        record = db.record(rid)
        if record is None:
            return render(request, "menu.html", 404, errors=["該当するデータがありません。"])
        return render(request, "record.html", r=record, employer=db.employer(record["employer_id"]), saved=saved,
                      rflags=json.loads(record["flags"]), deps=json.loads(record["dependents"]),
                      birth=date.fromisoformat(record["birth_date"]))

    @app.get("/export.json")
    def export(request: Request) -> Response:
        expected = base64.b64encode(f"{settings.username}:{settings.password}".encode()).decode()
        if not secrets.compare_digest(request.headers.get("authorization", ""), f"Basic {expected}"):
            return JSONResponse({"detail": "unauthorized"}, status_code=401,
                                headers={"WWW-Authenticate": "Basic"})
        return JSONResponse(db.export())

    return app


def _nenbun(errors: list[str], form: dict[str, str]) -> int | None:
    era, year = form.get("nenbun_era", ""), form.get("nenbun_year", "").strip()
    if era not in ("4", "5") or not re.fullmatch(r"[0-9]{1,2}", year) or int(year) < 1:
        errors.append("年分を正しく入力してください（元号と年）。")
        return None
    return ERAS[int(era)][1].year + int(year) - 1


def _screen1(errors: list[str], form: dict[str, str]) -> dict[str, object]:
    nenbun = _nenbun(errors, form)
    parts = [form.get(f"mn{i}", "").strip() for i in (1, 2, 3)]
    if not all(re.fullmatch(r"[0-9]{4}", p) for p in parts):
        errors.append("個人番号は4桁ずつ半角数字で入力してください。")
    my_number = _my_number(errors, "個人番号", "".join(parts)) if not errors or len("".join(parts)) == 12 else ""
    name = form.get("name", "").strip()
    if not name:
        errors.append("氏名を入力してください。")
    kana = form.get("kana", "").strip()
    if not kana or not HALF_KANA.fullmatch(kana):
        errors.append("フリガナは半角カナで入力してください。")
    address = form.get("address", "").strip()
    if not address:
        errors.append("住所を入力してください。")
    birth = ""
    era, y, m, d = (form.get(k, "").strip() for k in ("birth_era", "birth_y", "birth_m", "birth_d"))
    if era not in ("1", "2", "3", "4", "5") or not all(re.fullmatch(r"[0-9]{2}", p) for p in (y, m, d)):
        errors.append("生年月日は元号を選び、年・月・日を半角数字2桁で入力してください。")
    else:
        start = ERAS[int(era)][1]
        try:
            day = date(start.year + int(y) - 1, int(m), int(d))
        except ValueError:
            day = None
        end = ERAS[int(era) + 1][1] if int(era) < 5 else date.max
        if day is None or not start <= day < end:
            errors.append("生年月日が暦にない日付です。")
        else:
            birth = day.isoformat()
    return {"nenbun": nenbun, "my_number": my_number, "name": name, "kana": kana, "address": address,
            "birth_date": birth, "juyosha_no": form.get("juyosha_no", "").strip()}


def _screen2(errors: list[str], form: dict[str, str]) -> dict[str, object]:
    values: dict[str, object] = {"shubetsu": form.get("shubetsu", "").strip()}
    for key, label in AMOUNTS.items():
        values[key] = _amount(errors, label, form.get(key, ""), required=key == "shiharai")
    for key, label in COUNTS.items():
        values[key] = _count(errors, label, form.get(key, ""))
    haigusha = form.get("haigusha", "")
    if haigusha not in HAIGUSHA:
        errors.append("控除対象配偶者の有無を選択してください。")
    values["haigusha"] = haigusha
    values["flags"] = {key: form.get(f"f_{key}") == "on" for key in FLAGS}
    return values


def _screen3(errors: list[str], form: dict[str, str]) -> dict[str, object]:
    spouse_name = form.get("spouse_name", "").strip()
    spouse_number = _my_number(errors, "配偶者の個人番号", form.get("spouse_my_number", ""), required=False)
    dependents = []
    for kind, label, slots in (("dep", "扶養親族", 4), ("u16", "16歳未満の扶養親族", 4)):
        for i in range(1, slots + 1):
            name = form.get(f"{kind}{i}_name", "").strip()
            kana = form.get(f"{kind}{i}_kana", "").strip()
            number = form.get(f"{kind}{i}_my_number", "").strip()
            if not (name or kana or number):
                continue
            if not name:
                errors.append(f"{label}{i}の氏名を入力してください。")
            if kana and not HALF_KANA.fullmatch(kana):
                errors.append(f"{label}{i}のフリガナは半角カナで入力してください。")
            number = _my_number(errors, f"{label}{i}の個人番号", number, required=False)
            dependents.append({"kind": kind, "slot": i, "name": name, "kana": kana, "my_number": number})
    return {"spouse_name": spouse_name, "spouse_my_number": spouse_number, "dependents": dependents}


def _business_rules(values: dict[str, Any], settings: Settings) -> list[str]:
    """Checks run only at save, as the real systems do: these come back as a business-rule message."""
    errors = []
    pay, income = values.get("shiharai"), values.get("kyuyo_shotoku")
    if pay is not None and income is not None and income > pay:
        errors.append("E2001 給与所得控除後の金額が支払金額を超えています。")
    suffix = settings.reject_amount_suffix
    if suffix and pay is not None and str(pay).endswith(suffix):
        errors.append("E2013 支払金額が前年度の異動届出の金額と一致しません。届出内容を確認してください。")
    return errors
