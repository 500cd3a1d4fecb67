"""Keying scenarios kept in the store per tenant: every save a new version, restore, and zip packages to share."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime

import sqlalchemy as sa

from yomitori.errors import YomitoriError
from yomitori.store.db import StoreError
from yomitori.store.models import BotScenario
from yomitori.store.repo import TenantRepo

from .scenario import Scenario, ScenarioError, parse_scenario

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
PACKAGE_FORMAT = "yomitori-scenario/1"
MAX_PACKAGE_BYTES = 1_000_000  # a scenario is a few kB; anything near this is not one


class PackageError(YomitoriError):
    """A scenario package (zip) that cannot be imported; the message is Japanese, for the administrator."""


def check_name(name: str) -> str:
    if not NAME.match(name or ""):
        raise PackageError("名前は英数字・-・_ で100文字以内にしてください（例: zeimu-kyuyo）")
    return name


def problems(e: ScenarioError) -> list[tuple[int | None, str]]:
    """(line, what) of each problem `bots/scenario.py` found, without the file name it carries."""
    out: list[tuple[int | None, str]] = []
    for p in e.problems:
        m = re.match(r"^.*?\.yaml:(\d+): (.*)$", p, re.S)
        out.append((int(m[1]), m[2]) if m else (None, p.split(": ", 1)[-1]))
    return out


def parse(name: str, text: str) -> Scenario:
    """Validate the YAML as `yomitori bot check` does; problems name the line (ScenarioError)."""
    return parse_scenario(text, f"{name}.yaml")


def latest(repo: TenantRepo) -> list[BotScenario]:
    """The newest version of every scenario, by name."""
    newest = sa.select(BotScenario.name, sa.func.max(BotScenario.version).label("v")).group_by(
        BotScenario.name).subquery()
    return list(repo.session.scalars(sa.select(BotScenario).join(
        newest, sa.and_(BotScenario.name == newest.c.name, BotScenario.version == newest.c.v))
        .order_by(BotScenario.name)))


def versions(repo: TenantRepo, name: str) -> list[BotScenario]:
    return list(repo.session.scalars(sa.select(BotScenario).where(BotScenario.name == name)
                                     .order_by(BotScenario.version.desc())))


def get(repo: TenantRepo, name: str, version: int | None = None) -> BotScenario:
    q = sa.select(BotScenario).where(BotScenario.name == name)
    q = q.where(BotScenario.version == version) if version is not None else q.order_by(BotScenario.version.desc())
    row = repo.session.scalars(q.limit(1)).first()
    if row is None:
        raise StoreError(f"no bot scenario {name!r}" + (f" version {version}" if version is not None else "")
                         + f" in tenant {repo.code}")
    return row


def load(repo: TenantRepo, name: str, version: int | None = None) -> tuple[Scenario, BotScenario]:
    """A stored scenario, validated again (the contract may have changed since it was saved)."""
    row = get(repo, name, version)
    return parse(name, row.yaml), row


def save(repo: TenantRepo, name: str, text: str, *, actor: str, target_system: str = "",
         comment: str = "") -> BotScenario:
    """Validate and keep as the next version; an invalid scenario raises ScenarioError and nothing is saved."""
    check_name(name)
    scenario = parse(name, text)
    current = repo.session.scalar(sa.select(sa.func.max(BotScenario.version)).where(BotScenario.name == name)) or 0
    row = BotScenario(name=name, version=current + 1, form=scenario.form, target_system=target_system[:200],
                      yaml=text, comment=comment, created_by=actor)
    repo.session.add(row)
    repo.session.flush()
    repo.audit(actor, "bot.scenario_save", row, name=name, version=row.version, form=scenario.form)
    return row


def restore(repo: TenantRepo, name: str, version: int, *, actor: str) -> BotScenario:
    """An old version saved again as the newest (history is never rewritten)."""
    old = get(repo, name, version)
    return save(repo, name, old.yaml, actor=actor, target_system=old.target_system,
                comment=f"版{version}から復元")


def export_package(row: BotScenario) -> bytes:
    """A zip with scenario.yaml and manifest.json (version, form, target system) for another municipality."""
    manifest = {"format": PACKAGE_FORMAT, "name": row.name, "version": row.version, "form": row.form,
                "target_system": row.target_system, "comment": row.comment,
                "exported_at": datetime.now(UTC).isoformat(timespec="seconds")}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        z.writestr("scenario.yaml", row.yaml)
    return buf.getvalue()


def read_package(data: bytes) -> tuple[dict[str, object], str]:
    """(manifest, YAML) of a package, or PackageError saying what is wrong with it."""
    if len(data) > MAX_PACKAGE_BYTES:
        raise PackageError("ファイルが大きすぎます（シナリオのパッケージではありません）")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            if not {"manifest.json", "scenario.yaml"} <= names:
                raise PackageError("manifest.json と scenario.yaml を含む zip ファイルではありません")
            if sum(i.file_size for i in z.infolist()) > MAX_PACKAGE_BYTES:
                raise PackageError("展開後の大きさが大きすぎます")
            manifest = json.loads(z.read("manifest.json").decode("utf-8"))
            text = z.read("scenario.yaml").decode("utf-8")
    except (zipfile.BadZipFile, UnicodeDecodeError, json.JSONDecodeError):
        raise PackageError("シナリオのパッケージ（zip）として読めません") from None
    if not isinstance(manifest, dict) or manifest.get("format") != PACKAGE_FORMAT:
        raise PackageError(f"manifest.json の format が {PACKAGE_FORMAT} ではありません")
    return manifest, text


def import_package(repo: TenantRepo, data: bytes, *, actor: str, name: str | None = None) -> BotScenario:
    """Validate the package and its scenario, then save it as the next version of `name` (default: the manifest's)."""
    manifest, text = read_package(data)
    name = check_name(name or str(manifest.get("name") or ""))
    scenario = parse(name, text)  # ScenarioError with lines, nothing saved
    if manifest.get("form") != scenario.form:
        raise PackageError(f"manifest.json の帳票（{manifest.get('form')}）とシナリオの form（{scenario.form}）が"
                           "一致しません")
    source = f"{manifest.get('name')} 版{manifest.get('version')}"
    return save(repo, name, text, actor=actor, target_system=str(manifest.get("target_system") or ""),
                comment=f"取り込み: {source}")
