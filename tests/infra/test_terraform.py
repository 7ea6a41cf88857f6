"""Every .tf file parses, and the modules hang together as `terraform validate` would see.

What the fakes can't show: nothing here runs Terraform (no binary, no providers offline);
the checks are on the parsed files — layout, typed and described variables, pinned
providers, references that resolve, module calls that match the modules they call.
"""

from __future__ import annotations

import pytest

from tests.infra.terraform_modules import (
    MODULE_META_ARGUMENTS,
    TERRAFORM,
    Module,
    all_modules,
    hcl_text,
    load_module,
    module_dirs,
)

MODULES = all_modules()
IDS = [module.name for module in MODULES]


def test_the_expected_modules_and_examples_exist() -> None:
    names = {module.name for module in MODULES}
    assert {
        "modules/artifacts",
        "modules/ui_bucket",
        "modules/database",
        "modules/ecs",
        "modules/lambda_api",
        "examples/fargate",
        "examples/hybrid",
    } <= names


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_standard_layout(module: Module) -> None:
    for required in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (module.path / required).is_file(), f"{module.name} lacks {required}"


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_every_variable_is_typed_and_described(module: Module) -> None:
    assert module.variables, f"{module.name} declares no variables"
    for name, body in module.variables.items():
        assert body.get("type"), f"{module.name}: variable {name} has no type"
        assert str(body.get("description", "")).strip(), f"{module.name}: {name} undescribed"


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_every_output_is_described(module: Module) -> None:
    for name, body in module.outputs.items():
        assert str(body.get("description", "")).strip(), f"{module.name}: output {name}"


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_terraform_and_provider_versions_are_pinned(module: Module) -> None:
    settings = [block for block in module.files["versions.tf"].get("terraform", [])]
    assert len(settings) == 1, f"{module.name}: one terraform block in versions.tf"
    block = settings[0]
    assert "<" in block["required_version"], "required_version needs an upper bound"
    providers = {
        name: spec for entry in block["required_providers"] for name, spec in entry.items()
    }
    assert providers, f"{module.name}: no required_providers"
    for name, spec in providers.items():
        version = spec.get("version", "")
        assert "~>" in version or "<" in version, f"{module.name}: {name} {version!r} is open"
    # Every provider the resources use is declared (aws_* → aws).
    used = {type_name.split("_", 1)[0] for type_name, _ in module.resources} | {
        type_name.split("_", 1)[0] for type_name, _ in module.data
    }
    assert used <= set(providers), f"{module.name}: undeclared providers {used - set(providers)}"


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_var_references_resolve(module: Module) -> None:
    unknown = {name for (name,) in module.references("var")} - set(module.variables)
    assert not unknown, f"{module.name}: var.{sorted(unknown)} not declared"


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_every_variable_is_used(module: Module) -> None:
    unused = set(module.variables) - {name for (name,) in module.references("var")}
    assert not unused, f"{module.name}: variables never read: {sorted(unused)}"


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_local_references_resolve_and_every_local_is_used(module: Module) -> None:
    referenced = {name for (name,) in module.references("local")}
    assert not referenced - set(module.locals), f"{module.name}: {referenced - set(module.locals)}"
    assert not set(module.locals) - referenced, f"{module.name}: unused locals"


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_resource_and_data_references_resolve(module: Module) -> None:
    resources = module.references("resource")
    assert not resources - set(module.resources), (
        f"{module.name}: unknown resources {sorted(resources - set(module.resources))}"
    )
    data = module.references("data")
    assert not data - set(module.data), (
        f"{module.name}: unknown data {sorted(data - set(module.data))}"
    )


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_module_references_name_a_call_and_an_output_it_has(module: Module) -> None:
    for reference in module.references("module"):
        call = reference[0]
        assert call in module.calls, f"{module.name}: module.{call} is not called"
        if len(reference) == 2:
            outputs = module.called_module(call).outputs
            assert reference[1] in outputs, f"{module.name}: module.{call}.{reference[1]}"


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_module_calls_pass_declared_variables_and_every_required_one(module: Module) -> None:
    for call, arguments in module.calls.items():
        called = module.called_module(call)
        assert called.path.is_relative_to(TERRAFORM / "modules"), f"{call}: {called.path}"
        passed = set(arguments) - MODULE_META_ARGUMENTS
        declared = set(called.variables)
        assert passed <= declared, f"{module.name} → {call}: unknown {sorted(passed - declared)}"
        required = {name for name, body in called.variables.items() if "default" not in body}
        assert required <= passed, f"{module.name} → {call}: missing {sorted(required - passed)}"


def test_examples_call_every_module_they_need() -> None:
    fargate = load_module(str(TERRAFORM / "examples/fargate"))
    hybrid = load_module(str(TERRAFORM / "examples/hybrid"))
    assert set(fargate.calls) == {"artifacts", "ui_bucket", "database", "ecs"}
    assert set(hybrid.calls) == {"artifacts", "ui_bucket", "database", "ecs", "lambda_api"}
    assert fargate.calls["ecs"]["serve_api"] is True
    assert hybrid.calls["ecs"]["serve_api"] is False


def test_database_admits_the_services_but_never_the_runners() -> None:
    for example in ("fargate", "hybrid"):
        module = load_module(str(TERRAFORM / "examples" / example))
        clients = str(module.calls["database"]["client_security_group_ids"])
        assert "module.ecs.service_security_group_id" in clients
        assert "runner" not in clients
    ecs = load_module(str(TERRAFORM / "modules/ecs"))
    runner_rules = [
        body
        for (kind, name), body in ecs.resources.items()
        if kind.startswith("aws_vpc_security_group_") and name.startswith("runner")
    ]
    assert runner_rules
    assert all("database" not in str(body) for body in runner_rules)
    assert not any(
        kind == "aws_vpc_security_group_ingress_rule" and name.startswith("runner")
        for kind, name in ecs.resources
    ), "runner tasks accept no connections"


def test_runner_task_definition_as_the_issue_asks() -> None:
    ecs = load_module(str(TERRAFORM / "modules/ecs"))
    runner = ecs.resources[("aws_ecs_task_definition", "runner")]
    definitions = hcl_text(runner["container_definitions"])
    assert "stopTimeout = 120" in definitions
    assert 'logDriver = "awslogs"' in definitions
    assert runner["task_role_arn"] != runner["execution_role_arn"]
    policy = ecs.data[("aws_iam_policy_document", "runner_task")]
    statements = policy["statement"]
    resources = [resource for statement in statements for resource in statement["resources"]]
    assert resources == ["${var.artifacts_bucket_arn}/${local.artifacts_key_prefix}runs/*"]


def test_service_task_role_is_limited_to_the_runner_family_and_roles() -> None:
    ecs = load_module(str(TERRAFORM / "modules/ecs"))
    statements = ecs.data[("aws_iam_policy_document", "service_task")]["statement"]
    by_action = {action: statement for statement in statements for action in statement["actions"]}
    assert by_action["ecs:RunTask"]["resources"] == ["${local.runner_family_arn}"]
    assert set(by_action["iam:PassRole"]["resources"]) == {
        "${aws_iam_role.runner_execution.arn}",
        "${aws_iam_role.runner_task.arn}",
    }
    for action in ("ecs:DescribeTasks", "ecs:StopTask"):
        assert by_action[action]["resources"] == ["${local.cluster_tasks_arn}"], action
    # Only ListTasks names no resource; its cluster condition scopes it instead.
    for statement in statements:
        if "*" in statement["resources"]:
            assert statement["actions"] == ["ecs:ListTasks"], statement
            condition = statement["condition"][0]
            assert (condition["variable"], condition["values"]) == (
                "ecs:cluster",
                ["${local.cluster_arn}"],
            )


def test_alb_drops_invalid_headers_and_listens_on_http_for_the_proxy() -> None:
    ecs = load_module(str(TERRAFORM / "modules/ecs"))
    alb = ecs.resources[("aws_lb", "this")]
    assert alb["drop_invalid_header_fields"] is True
    assert alb["internal"] is True
    listener = ecs.resources[("aws_lb_listener", "http")]
    assert (listener["port"], listener["protocol"]) == (80, "HTTP")
    target_group = ecs.resources[("aws_lb_target_group", "api")]
    assert target_group["health_check"][0]["path"] == "${var.health_check_path}"


def test_artifact_retention_comes_from_variables_per_kind() -> None:
    artifacts = load_module(str(TERRAFORM / "modules/artifacts"))
    retention = artifacts.variables["retention_days"]
    assert set(retention["default"]) == {"videos", "screenshots", "traces", "reports", "logs"}
    kinds = artifacts.locals["kinds_by_group"]
    # Every kind artifacts.store.kind_for() gives (but "other") has a retention group.
    from artifacts.store import kind_for

    produced = {
        kind_for(key)
        for key in (
            "runs/r/attempt-1/cucumber.json",
            "runs/r/attempt-1/junit.xml",
            "runs/r/attempt-1/report.pdf",
            "runs/r/attempt-1/trace.zip",
            "runs/r/attempt-1/runner.log",
            "runs/r/attempt-1/screenshots/a.png",
            "runs/r/attempt-1/videos/a.webm",
        )
    }
    assert produced == {kind for group in kinds.values() for kind in group}


def test_every_folder_is_a_module_or_an_example() -> None:
    for path in module_dirs():
        assert path.parent in (TERRAFORM / "modules", TERRAFORM / "examples"), path


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_readme_documents_every_input_and_output(module: Module) -> None:
    readme = (module.path / "README.md").read_text()
    missing = [name for name in [*module.variables, *module.outputs] if f"`{name}`" not in readme]
    assert not missing, f"{module.name}/README.md does not mention {missing}"
