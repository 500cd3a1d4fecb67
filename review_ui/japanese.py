"""What the pages show in Japanese instead of the store's codes: form and layout names, audit actions, times in JST,
dates in 和暦 and ticked checkboxes. Registered as Jinja filters (`install`); plain functions for the routers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates

from yomitori.forms_templates.contract import ERROR_FORM, UNKNOWN_FORM, contract_forms
from yomitori.review_ui import fields as F
from yomitori.wareki import WarekiError, format_wareki

JST = ZoneInfo("Asia/Tokyo")  # one time zone on every page, whatever the server's TZ

LAYOUTS = {"national": "全国統一様式", "payroll_print": "給与ソフト印字様式"}
OTHER_FORMS = {UNKNOWN_FORM: "帳票ではない・不明", ERROR_FORM: "読取エラー"}

# Audit actions: the object, then what was done to it.
OBJECTS = {"field": "項目", "document": "書類", "batch": "バッチ", "user": "ユーザー", "auth": "ログイン",
           "bot": "入力ボット", "page": "ページ", "tenant": "自治体", "layout": "様式", "master": "台帳",
           "support_measure": "支援措置", "audit": "監査ログ", "session": "セッション"}
ACTIONS = {
    "auth.login": "ログイン", "auth.login_failed": "ログイン失敗", "auth.login_refused": "ログイン拒否（ロック中）",
    "auth.locked": "アカウントをロック", "auth.logout": "ログアウト",
    "field.correct": "項目を修正", "field.approve": "項目を確認（読み取りどおり）", "field.unmask": "個人番号を表示",
    "field.view_image": "個人番号の画像を表示",
    "document.approve": "書類を承認", "document.return": "書類を差戻し", "document.unmask": "個人番号を表示",
    "document.view_image": "帳票画像を表示（個人番号あり）", "document.keyed": "基幹システムへ入力済",
    "document.keying_failed": "基幹システムへの入力に失敗", "document.keying_sent_back": "入力できず審査へ戻す",
    "document.keying_skipped": "入力を省略",
    "page.view_image": "スキャン画像を表示（個人番号あり）",
    "batch.submit": "バッチを取り込み", "batch.create": "バッチを作成", "batch.done": "バッチの処理完了",
    "batch.export": "バッチを出力", "batch.export_refused": "バッチの出力を拒否", "batch.purge": "画像を削除",
    "batch.report": "確認票を作成",
    "user.create": "ユーザーを作成", "user.unlock": "ロックを解除", "user.deactivate": "ユーザーを無効化",
    "user.activate": "ユーザーを有効化", "user.role": "役割を変更", "user.password": "パスワードを再設定",
    "tenant.create": "自治体を作成", "layout.save": "様式を保存", "layout.draft": "様式の下書きを作成",
    "master.import": "台帳を取り込み", "master.misdirected_list": "送付先誤りリストを出力",
    "bot.run": "入力ボットを実行", "bot.test_run": "入力ボットを試行", "bot.scenario_save": "シナリオを保存",
    "bot.scenario_export": "シナリオを出力", "bot.artifact_view": "ボットの記録を表示",
    "support_measure.view": "支援措置対象を閲覧", "support_measure.refused": "支援措置対象の閲覧を拒否",
    "support_measure.approve_keying": "支援措置対象の入力を承認",
    "audit.export": "監査ログを出力",
}


def jst(t: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time (UTC; naive means UTC) as Japan reads it."""
    if t is None:
        return "—"
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(JST).strftime(fmt)


def layout_name(layout: str | None) -> str:
    if not layout:
        return ""
    if layout in LAYOUTS:
        return LAYOUTS[layout]
    if m := re.fullmatch(r"municipal_([a-z0-9])", layout):
        return f"市区町村様式{m.group(1).upper()}"
    return f"独自様式（{layout}）"


def form_name(form: str | None, layout: str | None = None) -> str:
    """給与支払報告書（総括表）・全国統一様式, not `kyuyo_soukatsuhyo / national`."""
    if not form:
        return ""
    spec = contract_forms().get(form)
    name = spec.label if spec else OTHER_FORMS.get(form, form)
    return f"{name}・{layout_name(layout)}" if layout and spec else name


def action_name(action: str) -> str:
    if action in ACTIONS:
        return ACTIONS[action]
    obj, _, verb = action.partition(".")
    return f"{OBJECTS.get(obj, obj)}：{verb}" if verb else OBJECTS.get(obj, action)


def shown_value(form: str, key: str, value: Any, *, unmasked: bool = False) -> str:
    """A value in a list: dates in 和暦 (令和6年1月31日), a ticked checkbox ✓ (blank when not), the rest as
    `fields.display` has it (個人番号 masked unless `unmasked`)."""
    t = F.value_type(form, key)
    if t == "checkbox" and isinstance(value, bool):
        return "✓" if value else ""
    if t == "date" and isinstance(value, str):
        try:
            return format_wareki(date.fromisoformat(value))
        except (ValueError, WarekiError):
            pass
    return F.display(form, key, value, unmasked=unmasked)


def install(templates: Jinja2Templates) -> None:
    templates.env.filters.update(jst=jst, form_name=form_name, layout_name=layout_name, action_name=action_name)
