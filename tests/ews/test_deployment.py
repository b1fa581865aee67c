"""docker-compose.yml and the Dockerfile, checked as far as they can be without a Docker engine."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ews.cli import build_parser
from ews.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_api_worker_postgresql_and_a_mail_catcher():
    services = compose()["services"]
    assert {"db", "api", "worker", "mail", "migrate"} <= set(services)
    assert services["db"]["image"].startswith("postgres:15")
    assert services["worker"]["command"] == ["ews", "worker"]
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_compose_environment_uses_the_settings_names():
    known = {f"EWS_{name.upper()}" for name in Settings.model_fields}
    for name, service in compose()["services"].items():
        for variable in service.get("environment") or {}:
            if variable.startswith("EWS_"):
                assert variable in known, (name, variable)
    assert compose()["services"]["api"]["environment"]["EWS_DATABASE_URL"].startswith("postgresql+psycopg://")


def test_every_command_in_compose_and_the_dockerfile_exists():
    parser = build_parser()
    commands = []
    for service in compose()["services"].values():
        command = service.get("command")
        if isinstance(command, list) and command[:1] == ["ews"]:
            commands.append(command[1:])
        elif isinstance(command, list) and command[:2] == ["sh", "-c"]:
            commands += [part.split()[1:] for part in command[2].split("&&")]
    dockerfile = (ROOT / "Dockerfile").read_text()
    commands.append(re.search(r'CMD \["ews", (.*)\]', dockerfile).group(1).replace('"', "").split(", "))
    for command in commands:
        parser.parse_args(command)  # exits with code 2 on an unknown command or flag


def test_the_image_gets_every_package_and_the_migrations():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for folder in ("chem", "alerts", "ews", "migrations"):
        assert re.search(rf"^COPY {folder} {folder}$", dockerfile, re.M), folder
    assert "pip install" in dockerfile and "USER ews" in dockerfile
