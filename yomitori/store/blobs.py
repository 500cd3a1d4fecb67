"""Content-addressed blob store (sha256) for originals, page images and field crops: a local directory or S3.

Keys are namespaced by tenant (`<tenant>/<ab>/<sha256>`), so one municipality's files can be listed, purged or
moved without touching another's.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from yomitori.errors import YomitoriError
from yomitori.settings import Settings


class BlobMissing(YomitoriError):
    """A blob the store refers to is not in the blob store (purged, or the storage settings point elsewhere)."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_key(tenant: str, sha: str) -> str:
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ValueError(f"not a sha256 hex digest: {sha!r}")
    if not tenant or "/" in tenant or tenant.startswith("."):
        raise ValueError(f"not a tenant code: {tenant!r}")
    return f"{tenant}/{sha[:2]}/{sha}"


class BlobStore(Protocol):
    def put(self, tenant: str, data: bytes) -> str:
        """Store bytes; returns their sha256 (storing the same bytes twice is a no-op)."""
        ...

    def get(self, tenant: str, sha: str) -> bytes: ...

    def exists(self, tenant: str, sha: str) -> bool: ...

    def delete(self, tenant: str, sha: str) -> None:
        """Remove a blob; removing a missing blob is not an error."""
        ...


class LocalBlobStore:
    """Files under a directory; written to a temporary name and renamed, so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, tenant: str, sha: str) -> Path:
        return self.root / blob_key(tenant, sha)

    def put(self, tenant: str, data: bytes) -> str:
        sha = sha256_hex(data)
        path = self._path(tenant, sha)
        if path.exists():
            return sha
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fp:
                fp.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha

    def get(self, tenant: str, sha: str) -> bytes:
        try:
            return self._path(tenant, sha).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(f"blob {sha[:12]}… of tenant {tenant} is not in {self.root}") from None

    def exists(self, tenant: str, sha: str) -> bool:
        return self._path(tenant, sha).exists()

    def delete(self, tenant: str, sha: str) -> None:
        self._path(tenant, sha).unlink(missing_ok=True)


class S3BlobStore:
    """An S3-compatible bucket (MinIO, Ceph RGW, AWS); objects are immutable, so a put of an existing key is skipped."""

    def __init__(self, *, bucket: str, endpoint_url: str | None = None, prefix: str = "", region: str = "us-east-1",
                 access_key_id: str | None = None, secret_access_key: str | None = None) -> None:
        import boto3

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region,
                                   aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key)

    def _key(self, tenant: str, sha: str) -> str:
        key = blob_key(tenant, sha)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, tenant: str, data: bytes) -> str:
        sha = sha256_hex(data)
        if not self.exists(tenant, sha):
            self.client.put_object(Bucket=self.bucket, Key=self._key(tenant, sha), Body=data)
        return sha

    def get(self, tenant: str, sha: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(tenant, sha))["Body"].read()
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise BlobMissing(f"blob {sha[:12]}… of tenant {tenant} is not in bucket {self.bucket}") from None
            raise

    def exists(self, tenant: str, sha: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(tenant, sha))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True

    def delete(self, tenant: str, sha: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(tenant, sha))


def blob_store(settings: Settings) -> BlobStore:
    if settings.storage == "s3":
        if not settings.s3_bucket:
            raise YomitoriError("YOMITORI_STORAGE=s3 needs YOMITORI_S3_BUCKET (and usually YOMITORI_S3_ENDPOINT_URL)")
        secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
        return S3BlobStore(bucket=settings.s3_bucket, endpoint_url=settings.s3_endpoint_url, prefix=settings.s3_prefix,
                           region=settings.s3_region, access_key_id=settings.s3_access_key_id,
                           secret_access_key=secret)
    return LocalBlobStore(settings.local_blob_dir)
