"""The ECS launcher's requests, as a moto server on loopback accepts them.

What fakes can't show: that real botocore serialisation of our RunTask / DescribeTasks /
ListTasks / StopTask requests is accepted by an ECS implementation (parameter names,
awsvpc network configuration, capacity provider strategy, tags, clientToken). moto cannot
play AWS's failure modes; the fake ECS (test_controller_ecs_scale.py) and the unit tests
script those.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from controller.ecs import ATTEMPT_TAG, RUN_ID_TAG, EcsConfig, EcsLauncher, RateBudget
from controller.launcher import LaunchSpec, TaskState
from tests.conftest import free_port

REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def client(service: str, url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def ecs_config(moto_url: str) -> EcsConfig:
    """What Terraform would own: a VPC with DNS hostnames, a cluster, the task definition."""
    ec2 = client("ec2", moto_url)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="runners", Description="runners", VpcId=vpc)
    ecs = client("ecs", moto_url)
    ecs.create_cluster(clusterName="proctor", capacityProviders=["FARGATE", "FARGATE_SPOT"])
    ecs.register_task_definition(
        family="proctor-runner",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="1024",
        memory="2048",
        containerDefinitions=[
            {
                "name": "runner",
                "image": "proctor-runner:test",
                "essential": True,
                "cpu": 1024,
                "memory": 2048,
            }
        ],
    )
    return EcsConfig(
        cluster="proctor",
        task_definition="proctor-runner",
        container="runner",
        subnets=(subnet,),
        security_groups=(group["GroupId"],),
        capacity_provider="FARGATE_SPOT",
    )


def spec(run_id: str, attempt: int = 1) -> LaunchSpec:
    return LaunchSpec(
        run_id,
        attempt,
        0,
        {
            "PROCTOR_API_URL": "http://api:8000",
            "PROCTOR_RUNNER_TOKEN": "r1.x.1.sig",
            "TRACEPARENT": "00-" + "a" * 32 + "-" + "b" * 16 + "-01",
        },
    )


@pytest.mark.parametrize("capacity_provider", ["FARGATE_SPOT", "FARGATE", ""])
def test_moto_accepts_run_task_and_the_task_carries_our_tags_and_overrides(
    moto_url: str, ecs_config: EcsConfig, capacity_provider: str
) -> None:
    config = EcsConfig(**{**ecs_config.__dict__, "capacity_provider": capacity_provider})
    launcher = EcsLauncher(config, client("ecs", moto_url), RateBudget(100, 100))
    run_id = f"6f1c2d9e-0000-4000-8000-{len(capacity_provider):012d}"
    result = launcher.launch(spec(run_id))
    assert result.ref.startswith("arn:aws:ecs:")

    raw = client("ecs", moto_url).describe_tasks(
        cluster="proctor", tasks=[result.ref], include=["TAGS"]
    )["tasks"][0]
    tags = {t["key"]: t["value"] for t in raw["tags"]}
    assert tags[RUN_ID_TAG] == run_id and tags[ATTEMPT_TAG] == "1"
    assert raw["startedBy"] == run_id
    override = raw["overrides"]["containerOverrides"][0]
    assert override["name"] == "runner" and override["command"] == ["--run-id", run_id]
    env = {e["name"]: e["value"] for e in override["environment"]}
    assert env["PROCTOR_API_URL"] == "http://api:8000" and "TRACEPARENT" in env

    view = launcher.describe([result.ref])[result.ref]
    assert view.state in (TaskState.PENDING, TaskState.RUNNING)
    assert launcher.find(run_id, 1) == result.ref  # adoption by ListTasks(startedBy)
    assert launcher.find(run_id, 2) is None
    assert any(t.ref == result.ref and t.run_id == run_id for t in launcher.list_owned())

    launcher.stop(result.ref, "cancel requested")
    stopped = launcher.describe([result.ref])[result.ref]
    assert stopped.state is TaskState.STOPPED


def test_resume_adopts_the_existing_task_instead_of_starting_another(
    moto_url: str, ecs_config: EcsConfig
) -> None:
    launcher = EcsLauncher(ecs_config, client("ecs", moto_url), RateBudget(100, 100))
    run_id = "6f1c2d9e-1111-4000-8000-000000000001"
    first = launcher.launch(spec(run_id))
    again = launcher.launch(LaunchSpec(run_id, 1, 0, {}, resume=True))
    assert again.adopted and again.ref == first.ref
    arns = client("ecs", moto_url).list_tasks(cluster="proctor", startedBy=run_id)["taskArns"]
    assert arns == [first.ref]
