"""Content-addressed blobs in a local directory and in an S3-compatible server (moto, started by the test)."""

from __future__ import annotations

import hashlib

import pytest
from _servers import s3_server

from yomitori.settings import Settings
from yomitori.store.blobs import BlobMissing, LocalBlobStore, S3BlobStore, blob_store


@pytest.fixture(scope="module")
def s3_endpoint():
    with s3_server() as url:
        yield url


@pytest.fixture(params=["local", "s3"])
def blobs(request, tmp_path):
    if request.param == "local":
        return blob_store(Settings(data_dir=tmp_path))
    endpoint = request.getfixturevalue("s3_endpoint")
    settings = Settings(storage="s3", s3_endpoint_url=endpoint, s3_bucket="scans", s3_prefix="yomitori",
                        s3_access_key_id="test", s3_secret_access_key="test")
    store = blob_store(settings)
    assert isinstance(store, S3BlobStore)
    store.client.create_bucket(Bucket="scans")
    return store


def test_blobs_are_addressed_by_content_and_kept_per_tenant(blobs):
    data = b"%PDF-1.7 scanned page"
    sha = blobs.put("yokohama", data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert blobs.put("yokohama", data) == sha  # the same bytes twice: one blob
    assert blobs.get("yokohama", sha) == data
    assert blobs.exists("yokohama", sha) and not blobs.exists("kawasaki", sha)
    with pytest.raises(BlobMissing):
        blobs.get("kawasaki", sha)
    blobs.delete("yokohama", sha)
    blobs.delete("yokohama", sha)  # deleting twice is fine
    assert not blobs.exists("yokohama", sha)
    with pytest.raises(BlobMissing):
        blobs.get("yokohama", sha)


def test_keys_cannot_leave_the_tenants_folder(tmp_path):
    store = LocalBlobStore(tmp_path)
    sha = store.put("yokohama", b"x")
    assert (tmp_path / "yokohama" / sha[:2] / sha).read_bytes() == b"x"
    for tenant, key in (("../etc", sha), ("yokohama", "../../passwd"), ("", sha)):
        with pytest.raises(ValueError):
            store.get(tenant, key)


def test_s3_objects_live_under_the_prefix(s3_endpoint):
    store = S3BlobStore(bucket="prefixed", endpoint_url=s3_endpoint, prefix="site-a/", access_key_id="test",
                        secret_access_key="test")
    store.client.create_bucket(Bucket="prefixed")
    sha = store.put("yokohama", b"page")
    keys = [o["Key"] for o in store.client.list_objects_v2(Bucket="prefixed")["Contents"]]
    assert keys == [f"site-a/yokohama/{sha[:2]}/{sha}"]
