"""The app's routers, one per resource; `ALL` is what the app includes, in this order."""

from __future__ import annotations

from fastapi import APIRouter

from yomitori.review_ui.routers import (
    admin_bots,
    admin_layouts,
    admin_masters,
    admin_templates,
    admin_users,
    api_batches,
    api_documents,
    audit,
    batches,
    fieldwise,
    images,
    review,
    session,
    standard_files,
)

ALL: list[APIRouter] = [
    session.router,
    session.api_router,
    batches.router,
    review.router,
    fieldwise.router,
    images.router,
    admin_users.router,
    admin_templates.router,
    admin_layouts.router,  # the template editor, under /admin/layouts, Administrator only
    admin_bots.router,  # the bots' administrator pages, under /admin/bots, Administrator only
    admin_masters.router,  # the municipality's masters and the 送付先誤り list, Administrator only
    audit.router,
    api_batches.router,
    api_documents.router,
    standard_files.router,  # standard-layout downloads and the reconciliation lists of a batch
]
