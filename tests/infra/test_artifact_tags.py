"""Artifacts carry the kind tag the bucket's lifecycle rules expire them by.

What the fakes can't show: that the tag the code writes (artifacts.s3.KIND_TAG, through
boto3 as moto accepts it) is the very tag key and values the Terraform lifecycle rules
filter on — the link between the retention settings and the objects they are meant for.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from artifacts.s3 import KIND_TAG, S3Store
from tests.infra.terraform_modules import TERRAFORM, load_module

ARTIFACTS = load_module(str(TERRAFORM / "modules/artifacts"))
RULE_KINDS = {kind for kinds in ARTIFACTS.locals["kinds_by_group"].values() for kind in kinds}


def test_terraform_filters_on_the_tag_the_store_writes() -> None:
    assert ARTIFACTS.locals["kind_tag"] == KIND_TAG


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("runs/r1/attempt-1/videos/checkout.webm", "video"),
        ("runs/r1/attempt-1/screenshots/step-3.png", "screenshot"),
        ("runs/r1/attempt-1/trace.zip", "trace"),
        ("runs/r1/attempt-1/cucumber.json", "cucumber_json"),
        ("runs/r1/attempt-1/junit.xml", "junit_xml"),
        ("runs/r1/attempt-1/report.pdf", "pdf"),
        ("runs/r1/attempt-1/runner.log", "log"),
    ],
)
@mock_aws
def test_uploads_are_tagged_with_a_kind_a_lifecycle_rule_knows(
    key: str, kind: str, tmp_path: Path
) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="artifacts")
    store = S3Store("artifacts", "proctor", client=client)
    source = tmp_path / "file"
    source.write_bytes(b"x" * 10)

    store.put_bytes(key, b"data")
    from_bytes = client.get_object_tagging(Bucket="artifacts", Key=f"proctor/{key}")
    store.put_file(key, source)
    from_file = client.get_object_tagging(Bucket="artifacts", Key=f"proctor/{key}")

    for tagging in (from_bytes, from_file):
        assert tagging["TagSet"] == [{"Key": KIND_TAG, "Value": kind}]
    assert kind in RULE_KINDS
