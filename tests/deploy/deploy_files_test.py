#!/usr/bin/python3
"""The deploy files, checked without an AWS account.

    /usr/bin/python3 tests/deploy/deploy_files_test.py --fairlead build/proxy/fairlead --source .

- Every ECS task definition in deploy/ecs/ is a valid RegisterTaskDefinition request: Debian's
  awscli checks a request against the ECS service model before it looks for credentials, so a valid
  one ends at "Unable to locate credentials" and an invalid one at "Parameter validation failed".
  A copy with an unknown key must be refused, or the check proves nothing.
- `fairlead --check` accepts the config each fairlead container runs (the one the Dockerfile copies
  into its image), with that container's environment and secrets.
- Each fairlead container's stopTimeout covers its config's drain.budget.
- The CloudFormation template's task definition is deploy/ecs/sidecar.json's, and deploy/buildspec.yml
  writes imagedefinitions.json for its containers.
(The template's own lint, cfn-lint, is deploy/check: not a Debian package.)
"""

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import yaml

FAIRLEAD: Path
SOURCE: Path
AWS = "/usr/bin/aws"  # Debian's awscli, whatever else is on PATH


def aws_env(home: str) -> dict[str, str]:
    """No credentials, profile or instance metadata from this machine: only the model check runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=home, AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    return env


def register(task: dict, work: Path) -> str:
    path = work / "task.json"
    path.write_text(json.dumps(task))
    result = subprocess.run([AWS, "ecs", "register-task-definition", "--cli-input-json", f"file://{path}"],
                            env=aws_env(str(work)), capture_output=True, text=True, timeout=120)
    return result.stdout + result.stderr


def task_definitions() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted((SOURCE / "deploy" / "ecs").glob("*.json"))}


def image_configs() -> dict[str, str]:
    """Dockerfile target -> the config file it copies to /etc/fairlead/fairlead.yaml."""
    configs, stage = {}, None
    for line in (SOURCE / "Dockerfile").read_text().splitlines():
        if m := re.match(r"FROM \S+ AS (\S+)", line):
            stage = m.group(1)
        elif m := re.match(r"COPY (config/\S+\.yaml) /etc/fairlead/fairlead\.yaml", line):
            configs[stage] = m.group(1)
    return configs


def fairlead_containers():
    """(task file, container, Dockerfile target) for every container that runs a fairlead image."""
    configs = image_configs()
    for name, task in task_definitions().items():
        for container in task["containerDefinitions"]:
            target = container["image"].rsplit(":", 1)[1]
            if target in configs:
                yield name, container, target


class TaskDefinitionsAgainstTheEcsModel(unittest.TestCase):
    def test_every_task_definition_is_valid(self):
        tasks = task_definitions()
        self.assertGreaterEqual(set(tasks), {"sidecar.json", "single.json"})
        with tempfile.TemporaryDirectory() as work:
            for name, task in tasks.items():
                with self.subTest(task=name):
                    out = register(task, Path(work))
                    self.assertIn("Unable to locate credentials", out)
                    self.assertNotIn("Parameter validation failed", out)
                    print(f"{name}: valid (awscli: {out.strip().splitlines()[0]})", file=sys.stderr)

    def test_the_check_refuses_what_ecs_would(self):
        task = task_definitions()["sidecar.json"]
        with tempfile.TemporaryDirectory() as work:
            unknown_key = copy.deepcopy(task)
            unknown_key["containerDefinitions"][1]["stopTimeOut"] = 30
            self.assertIn('Unknown parameter in containerDefinitions[1]: "stopTimeOut"', register(unknown_key, Path(work)))
            wrong_type = copy.deepcopy(task)
            wrong_type["containerDefinitions"][0]["essential"] = "yes"
            self.assertIn("Parameter validation failed", register(wrong_type, Path(work)))


class ConfigsTheImagesRun(unittest.TestCase):
    def test_every_fairlead_container_config_passes_check(self):
        containers = list(fairlead_containers())
        self.assertEqual({target for _, _, target in containers}, {"sidecar", "single"})
        for name, container, target in containers:
            with self.subTest(task=name, container=container["name"]):
                env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRLEAD_")}
                env.update({e["name"]: e["value"] for e in container.get("environment", [])})
                env.update({s["name"]: "a-secret-from-secrets-manager" for s in container.get("secrets", [])})
                config = SOURCE / image_configs()[target]
                result = subprocess.run([str(FAIRLEAD), "-c", str(config), "--check"], env=env,
                                        capture_output=True, text=True, timeout=30)
                self.assertEqual(result.returncode, 0, result.stderr)
                # Without the token the admin address these tasks set must be refused: the secret matters.
                env.pop("FAIRLEAD_ADMIN_TOKEN")
                refused = subprocess.run([str(FAIRLEAD), "-c", str(config), "--check"], env=env,
                                         capture_output=True, text=True, timeout=30)
                self.assertEqual(refused.returncode, 1)
                self.assertIn("set admin.token", refused.stderr)

    def test_stop_timeout_covers_the_drain_budget(self):
        for name, container, target in fairlead_containers():
            with self.subTest(task=name):
                config = yaml.safe_load((SOURCE / image_configs()[target]).read_text())
                budget_s = int(config["drain"]["budget"].removesuffix("s"))
                self.assertGreaterEqual(container["stopTimeout"], budget_s)
                self.assertEqual(container["healthCheck"]["command"][1:3], ["fairlead", "healthcheck"])
                self.assertEqual({p["containerPort"] for p in container["portMappings"]}, {8080, 9901})

    def test_the_sidecar_starts_after_its_app_and_stops_before_it(self):
        task = task_definitions()["sidecar.json"]
        fairlead = next(c for c in task["containerDefinitions"] if c["name"] == "fairlead")
        self.assertEqual(fairlead["dependsOn"], [{"containerName": "app", "condition": "HEALTHY"}])


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !Sub, ...) kept as {"!Tag": value}."""


def _tagged(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {f"!{suffix}": value}


CfnLoader.add_multi_constructor("!", _tagged)


def lower_keys(value):
    """CloudFormation's PascalCase property names as the ECS API's camelCase."""
    if isinstance(value, dict):
        return {(k[0].lower() + k[1:] if not k.startswith("!") and not k.startswith("awslogs") else k): lower_keys(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [lower_keys(v) for v in value]
    return value


class TemplateAgreesWithTheTaskDefinition(unittest.TestCase):
    def test_template_task_definition_is_sidecar_json(self):
        template = yaml.load((SOURCE / "deploy" / "cloudformation" / "fairlead.yaml").read_text(), Loader=CfnLoader)
        in_template = lower_keys(template["Resources"]["TaskDefinition"]["Properties"])
        in_json = task_definitions()["sidecar.json"]
        # What differs on purpose: ARNs, image URIs, the log group and region are the stack's own.
        stack_own = {"image", "secrets", "logConfiguration"}
        for ours, theirs in zip(in_template["containerDefinitions"], in_json["containerDefinitions"], strict=True):
            with self.subTest(container=theirs["name"]):
                self.assertEqual({k: v for k, v in ours.items() if k not in stack_own},
                                 {k: v for k, v in theirs.items() if k not in stack_own})
                self.assertEqual([s["name"] for s in ours.get("secrets", [])],
                                 [s["name"] for s in theirs.get("secrets", [])])
        for key in ("networkMode", "requiresCompatibilities", "cpu", "memory", "runtimePlatform"):
            self.assertEqual(in_template[key], in_json[key], key)

    def test_buildspec_deploys_every_container(self):
        task = task_definitions()["sidecar.json"]
        buildspec = (SOURCE / "deploy" / "buildspec.yml").read_text()
        line = next(line for line in buildspec.splitlines() if "imagedefinitions.json" in line and "printf" in line)
        self.assertEqual(re.findall(r'"name":"([^"]+)"', line), [c["name"] for c in task["containerDefinitions"]])


def main() -> None:
    global FAIRLEAD, SOURCE
    parser = argparse.ArgumentParser()
    parser.add_argument("--fairlead", required=True, type=Path)
    parser.add_argument("--source", required=True, type=Path)
    args, rest = parser.parse_known_args()
    FAIRLEAD, SOURCE = args.fairlead.resolve(), args.source.resolve()
    unittest.main(argv=[sys.argv[0], *rest])


if __name__ == "__main__":
    main()
