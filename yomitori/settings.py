"""One settings object for the CLI, the workers and the API: environment variables YOMITORI_*."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Input limits, shared by the upload guard (yomitori/uploads.py) and ingestion (yomitori/ingest.py).
MAX_PAGES = 2000  # pages in one PDF or TIFF
MAX_PIXELS = 60_000_000  # one page image (A3 at 600 dpi is 70 M: such a scan is refused, A4 at 600 dpi is 35 M)
MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # one file


class Settings(BaseSettings):
    """Every field is read from YOMITORI_<NAME> (e.g. YOMITORI_DATABASE_URL); defaults give an embedded setup."""

    model_config = SettingsConfigDict(env_prefix="YOMITORI_", extra="ignore")

    data_dir: Path = Field(Path("yomitori-data"), description="where the embedded database and blobs live")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db; default SQLite in data_dir")

    storage: Literal["local", "s3"] = Field("local", description="where page images and originals are kept")
    blob_dir: Path | None = Field(None, description="local blob directory; default data_dir/blobs")
    s3_endpoint_url: str | None = Field(None, description="S3-compatible endpoint (MinIO, Ceph, ...)")
    s3_bucket: str | None = None
    s3_prefix: str = Field("", description="key prefix inside the bucket")
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None

    redis_url: str | None = Field(None, description="redis://host:6379/0; absent = batches run in-process")
    queue_name: str = "yomitori"
    redis_retry_seconds: int = Field(300, ge=0, description="how long a job retries queueing its follow-up work "
                                                          "while Redis is away (a worker waits as long as it takes)")

    tenant: str = Field("default", description="tenant (municipality) code the CLI acts for")
    retention_days: int = Field(90, ge=0, description="a batch's originals may be purged this many days after")
    ocr_engine: str = "ppocr"
    ocr_threads: int = Field(0, ge=0, description="recognizer threads per worker; 0 = as many as cores")
    pages_per_job: int = Field(4, ge=1, description="pages one extraction job reads together (OCR batches them)")
    lease_seconds: int = Field(300, ge=1, description="after this, a page claimed by a silent worker is retried")
    reconcile_seconds: int = Field(30, ge=1, description="how often a worker looks for lost work")
    max_upload_bytes: int = Field(MAX_UPLOAD_BYTES, ge=1, description="largest file a batch or the API accepts")
    max_pages: int = Field(MAX_PAGES, ge=1, description="most pages in one PDF or TIFF")
    max_pixels: int = Field(MAX_PIXELS, ge=1, description="most pixels in one page image (decompression bombs)")
    # One process per core by default: two single-threaded readers keep two cores busy, where one reader with
    # two threads does not (its small recognition batches leave a core idle; 0.72 vs 0.88 pages/s on 2 cores).
    embedded_processes: int = Field(0, ge=0, description="processes reading pages when a batch runs in-process "
                                                          "(no Redis): 1 = this process, 0 = one per core (at most 8)")

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'yomitori.db').resolve()}"

    @property
    def embedded_db(self) -> bool:
        """SQLite: migrated automatically on first use (a shared database is migrated with `yomitori db upgrade`)."""
        return self.db_url.startswith("sqlite")

    @property
    def local_blob_dir(self) -> Path:
        return self.blob_dir or self.data_dir / "blobs"
