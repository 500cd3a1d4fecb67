"""Administrators: the bundled layouts (templates) and which fields are typed blind."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from yomitori.forms_templates import templates as layouts
from yomitori.forms_templates.contract import contract_forms
from yomitori.review_ui.deps import Administrator, State, render

router = APIRouter(include_in_schema=False)


@router.get("/admin/templates")
def template_list(request: Request, state: State, admin: Administrator) -> Response:
    forms = contract_forms()
    rows = [{"id": t.id, "form": forms[t.form].label if t.form in forms else t.form, "title": t.title,
             "fields": len(t.fields), "page": f"{t.page.width_mm:g}×{t.page.height_mm:g} mm"}
            for t in layouts().values()]
    return render(state, request, "admin_templates.html", {"title": "帳票テンプレート", "rows": rows,
                                                           "double_entry": state.settings.double_entry,
                                                           "unmask_roles": state.settings.unmask_roles})
