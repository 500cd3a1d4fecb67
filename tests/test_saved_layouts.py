"""Layouts kept per tenant: validation as template files get it, a new version on every save, drafts never read
with, tenants apart, and a saved layout's pages registered and read as a bundled layout's are."""

from __future__ import annotations

import pytest

from yomitori import saved_layouts as S
from yomitori.forms_templates import templates
from yomitori.settings import Settings
from yomitori.store.repo import Store

BUNDLED = templates()["kyuyo_shiharai_hokokusho/national"]


def _as(layout: str, t=BUNDLED, **changes) -> str:
    return S.dump(t.model_copy(update={"layout": layout, **changes}))


@pytest.fixture
def store(tmp_path):
    s = Store(Settings(data_dir=tmp_path))
    for code in ("yokohama", "kawasaki"):
        with s.tenant(code, create=True):
            pass
    yield s
    s.close()


def test_every_save_is_a_new_version_and_only_saved_versions_are_read_with(store):
    with store.tenant("yokohama") as repo:
        draft = S.save(repo, _as("vendor-a"), actor="system", active=False, page_id=None, image_sha256="ab" * 32)
        assert (draft.version, draft.active) == (1, False)
        assert S.active_layouts(repo) == []  # a draft is not read with until an administrator saves it
        moved = BUNDLED.fields[0].model_copy(update={"box": (30.0, 40.0, 50.0, 8.0)})
        v2 = S.save(repo, _as("vendor-a", fields=[moved, *BUNDLED.fields[1:]]), actor="admin1", comment="moved")
        assert (v2.version, v2.active, v2.image_sha256) == (2, True, "ab" * 32)  # keeps the scan it is edited on
        [t] = S.active_layouts(repo)
        assert t.id == "kyuyo_shiharai_hokokusho/vendor-a" and t.fields[0].box == (30.0, 40.0, 50.0, 8.0)
        S.save(repo, _as("vendor-a"), actor="admin1")
        assert [r.version for r in S.versions(repo, BUNDLED.form, "vendor-a")] == [3, 2, 1]
        assert S.get(repo, BUNDLED.form, "vendor-a", 2).comment == "moved"
        assert [r.version for r in S.latest(repo)] == [3]
        assert S.active_layouts(repo)[0].fields[0].box == BUNDLED.fields[0].box
        assert S.active_layouts(repo)[0] is S.active_layouts(repo)[0]  # one object per text: blank forms cached
        actions = [a.action for a in repo.audit_log()]
        assert actions[:3] == ["layout.save", "layout.save", "layout.draft"]
    with store.tenant("kawasaki") as repo:  # another tenant's layouts are not this one's
        assert S.latest(repo) == [] and S.active_layouts(repo) == []


@pytest.mark.parametrize(("change", "problem"), [
    ({"layout": "national"}, "is a bundled layout"),
    ({"layout": "../etc"}, "layout name"),
    ({"form": "juminhyo"}, "form 'juminhyo' is not in the contract"),
])
def test_a_layout_that_does_not_validate_is_not_saved(store, change, problem):
    name = change.get("layout", "x")
    text = S.dump(BUNDLED.model_copy(update={"layout": "x"})).replace("layout: x", f"layout: {name}")
    if "form" in change:
        text = text.replace(f"form: {BUNDLED.form}", f"form: {change['form']}")
    with store.tenant("yokohama") as repo:
        with pytest.raises(S.LayoutError) as e:
            S.save(repo, text, actor="admin1")
        assert problem in str(e.value)
        assert S.latest(repo) == []


def test_field_problems_are_named_as_the_template_loader_names_them(store):
    f0 = BUNDLED.fields[0]
    wrong_type = f0.model_copy(update={"type": "amount" if f0.type != "amount" else "text"})
    twice = [*BUNDLED.fields, BUNDLED.fields[1]]
    off_page = f0.model_copy(update={"box": (200.0, 280.0, 40.0, 30.0)})
    for fields, problem in ((twice, f"field '{BUNDLED.fields[1].key}' appears twice"),
                            ([wrong_type, *BUNDLED.fields[1:]], f"field '{f0.key}': type"),
                            ([off_page, *BUNDLED.fields[1:]], "is not on the 297×210 mm page")):
        with pytest.raises(S.LayoutError) as e:
            S.parse(_as("x", fields=fields))
        assert problem in str(e.value)
    unknown = S.dump(BUNDLED.model_copy(update={"layout": "x"})).replace(f"key: {f0.key}", "key: favourite_colour", 1)
    with pytest.raises(S.LayoutError, match="'favourite_colour' is not in the contract"):
        S.parse(unknown)
    with pytest.raises(S.LayoutError, match="YAML"):
        S.parse("form: [")
