"""The ingress routes, the NetworkPolicy graph, the compose file and the Kubernetes
configuration agree with each other and with what the services say themselves: the
peers their settings name (``*_URL``), the ports those defaults use, the paths of their
contracts; and with ARCHITECTURE.md's table of services and calls."""

from __future__ import annotations

import base64
import importlib
import os
import re
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
import services
import yaml
from deploy_files import facts as deploy
from deploy_testing import OVERLAYS, ROOT, kind

ARCHITECTURE = ROOT.parent / "shared" / "design" / "ARCHITECTURE.md"
SHORT_NAMES = {
    "customer": "customer-management",
    "vehicle": "vehicle-management",
    "scheduling": "workshop-scheduling",
    "jobs": "maintenance-job-management",
    "invoicing": "invoicing",
    "notifications": "notification-management",
}
# Components ARCHITECTURE.md plans beside the six; their calls are checked once built.
COMPONENTS = {"identity": "identity", "console": "staff-console", "portal": "customer-portal"}
# Calls the services' code makes that ARCHITECTURE.md's table does not draw, each with
# where the code makes it. The deployment must allow them or the call fails in a cluster.
BEYOND_ARCHITECTURE: dict[tuple[str, str], str] = {
    ("maintenance-job-management", "workshop-scheduling"): "maintenance_job_management/clients/"
    "workshop_scheduling.py: the job's status for its appointment, through the outbox (docs/visits.md)",
    ("identity", "notification-management"): "identity/outbox.py: the password reset email, through "
    "identity's outbox (docs/identity.md)",
    ("vehicle-management", "maintenance-job-management"): "vehicle_management/clients/: a vehicle's "
    "last service job, for its service due date (docs/due-dates.md)",
    ("vehicle-management", "workshop-scheduling"): "vehicle_management's outbox: the booking invitation "
    "of a due reminder (docs/due-dates.md)",
}
# A made-up key of the shape identity's IDENTITY_KEY_ENCRYPTION_KEY must have (Fernet).
FERNET_KEY = base64.urlsafe_b64encode(b"made-up key for the settings tst").decode()
NOT_PEERS = {
    "DATABASE_URL",
    # The customer portal's public address (through the ingress): the portal's own, and the
    # one the services that issue its links put in their messages.
    "PORTAL_URL",
    "MOLLIE_API_URL",  # the payment provider's API (outside; overridable for tests)
    "SMS_INBOUND_URL",  # the public address the SMS provider signs its reply webhooks for
    "JWT_JWKS_URL",
    "SMS_PROVIDER_URL",
    "RATE_LIMIT_STORAGE_URL",
    "SERVICE_TOKEN_URL",
    # The console: its own public address and identity's (every component reaches identity
    # through settings of its own, not a <SERVICE>_URL of the calls), checked below.
    "CONSOLE_URL",
    "IDENTITY_INTERNAL_URL",
    "OIDC_PROVIDER_INTERNAL_URL",
    "IDENTITY_URL",
}


def catalog_calls() -> set[tuple[str, str]]:
    return {(s.name, peer) for s in services.SERVICES for peer in services.talks_to(s)}


def deployed_calls(deployed: list[services.Service]) -> set[tuple[str, str]]:
    names = {s.name for s in deployed}
    return {(a, b) for a, b in catalog_calls() if a in names and b in names}


def by_url_var(name: str) -> services.Service:
    return next(s for s in services.SERVICES if s.url_var == name)


# --------------------------------------------------------------------------- the documents


@pytest.fixture(scope="module")
def architecture() -> str:
    if not ARCHITECTURE.exists():
        pytest.skip(f"{ARCHITECTURE} is not here (the design folder lies beside the repository)")
    return ARCHITECTURE.read_text()


def test_service_list_has_architectures_ports_and_schemas(architecture: str) -> None:
    # The first table is the six services; the second, the components built after them
    # (identity, console, portal): each is in the service list once its folder exists.
    services_table, components_table = architecture.split("## The services")[1].split("Beside the six")
    rows = re.findall(r"^\| `([a-z-]+)/` \| `([a-z_]+)` \| (\d+) \| `([a-z_]+)` \|", services_table, re.M)
    assert len(rows) == 6
    built = [
        row for row in re.findall(r"^\| `([a-z-]+)/` \|", components_table, re.M) if (ROOT / row).is_dir()
    ]
    assert {row[0] for row in rows} | set(built) == set(services.BY_NAME)
    for folder, package, port, schema in rows:
        s = services.BY_NAME[folder]
        assert (s.package, s.port, s.schema) == (package, int(port), schema)


def test_calls_are_architectures_calls(architecture: str) -> None:
    drawn: set[tuple[str, str]] = set()
    table = architecture.split("### Every call between services")[1].split("The main flow")[0]
    senders = {SHORT_NAMES[name] for name in re.findall(r"\((scheduling|jobs|invoicing)\)", table)}
    for cell in re.findall(r"^\| ([a-z ,→()]+?) \|", table, re.MULTILINE):
        # "portal → jobs, scheduling, invoicing": a built component calling several of the six.
        caller, _, receivers = (part.strip() for part in cell.partition("→"))
        several = [name.strip() for name in receivers.split(",")]
        if caller in COMPONENTS and len(several) > 1 and set(several) <= set(SHORT_NAMES):
            if (ROOT / COMPONENTS[caller]).is_dir():
                drawn |= {(COMPONENTS[caller], SHORT_NAMES[name]) for name in several}
            continue
        shared_receiver: list[str] = []  # "a, b → c": a has c for receiver too
        for pair in cell.replace("(outbox)", "").split(","):
            if "→" not in pair:
                shared_receiver.append(pair.strip())
                continue
            caller, receiver = (part.strip() for part in pair.split("→"))
            named, shared_receiver = {*shared_receiver, caller}, []
            if caller == "caller":  # the header
                continue
            if "every service" in named and receiver in COMPONENTS and (ROOT / COMPONENTS[receiver]).is_dir():
                assert services.BY_NAME[COMPONENTS[receiver]].called_by_all, f"{pair}: every service calls it"
                drawn |= {(sender, COMPONENTS[receiver]) for sender in SHORT_NAMES.values()}
                # ... and the components named beside them that are built (the console).
                drawn |= {
                    (COMPONENTS[name], COMPONENTS[receiver])
                    for name in named
                    if name in COMPONENTS and (ROOT / COMPONENTS[name]).is_dir()
                }
                continue
            if caller in COMPONENTS and receiver == "all six" and (ROOT / COMPONENTS[caller]).is_dir():
                drawn |= {(COMPONENTS[caller], six) for six in SHORT_NAMES.values()}
                continue
            if not named | {receiver} <= {*SHORT_NAMES, "any"}:  # a component not built yet
                assert not (ROOT / COMPONENTS.get(receiver, receiver)).is_dir(), f"{pair} is not checked"
                continue
            for name in named:
                callers = senders if name == "any" else {SHORT_NAMES[name]}
                drawn |= {(sender, SHORT_NAMES[receiver]) for sender in callers}
    assert drawn - catalog_calls() == set(), "ARCHITECTURE.md draws calls tools/services.py lacks"
    assert catalog_calls() - drawn == set(BEYOND_ARCHITECTURE)


def test_readme_services_table_agrees() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| ([a-z-]+) \| (\d+) \| `([a-z_]+)` \| (.+?) \|", readme, re.MULTILINE)
    assert {row[0] for row in rows} == set(services.BY_NAME)
    for name, port, schema, prefixes in rows:
        s = services.BY_NAME[name]
        assert (s.port, s.schema) == (int(port), schema), name
        assert set(re.findall(r"`(/api/v1/[a-z-]+)`", prefixes)) == set(s.prefixes), name


def test_tools_run_uses_the_service_list() -> None:
    source = (ROOT / "tools" / "run.py").read_text()
    assert "from services import PORTS" in source
    assert not re.search(r"^PORTS\s*=", source, re.MULTILINE)


# --------------------------------------------------------------------------- the services themselves


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in list(os.environ):
        if key.endswith("_URL") or key.startswith(("GARAGE_", "JWT_", "SMTP_", "SMS_", "DB_")):
            monkeypatch.delenv(key)
    yield


def service_config(s: services.Service) -> Any:
    """The service's own config module (installed, or from its src/ folder)."""
    try:
        return importlib.import_module(f"{s.package}.config")
    except ModuleNotFoundError:
        sys.path.insert(0, str(s.folder / "src"))
        try:
            return importlib.import_module(f"{s.package}.config")
        except ImportError as exc:
            pytest.skip(f"{s.name} does not import here ({exc}); add it to the Makefile's SERVICES")


def configured_urls(s: services.Service) -> dict[str, str]:
    config = service_config(s).load_config()
    return {
        key: value
        for key, value in config.items()
        if key.endswith("_URL")
        and key not in NOT_PEERS
        and isinstance(value, str)
        and value.startswith("http")
    }


@pytest.mark.usefixtures("clean_environment")
@pytest.mark.parametrize("name", [s.name for s in services.SERVICES])
def test_service_settings_name_exactly_its_peers_at_their_ports(
    name: str, deployed: list[services.Service]
) -> None:
    s = services.BY_NAME[name]
    if s not in deployed:
        pytest.skip(f"{name} is not deployed")
    urls = configured_urls(s)
    assert set(urls) == set(deploy.peer_urls(s)), f"{name}: its settings vs tools/services.py calls"
    for variable, default in urls.items():
        assert urlparse(default).port == by_url_var(variable).port, f"{name}: {variable}={default}"


# The operations only the customer portal calls (role portal, with a link): reached inside
# the deployment, never through the ingress (docs/customer-portal.md).
INTERNAL_PORTAL_PREFIX = "/api/v1/portal/"


def test_contract_paths_are_routed_to_their_service(deployed: list[services.Service]) -> None:
    prefixes = {prefix: s.name for s in services.SERVICES for prefix in s.prefixes}
    for s in deployed:
        contract = ROOT / "contracts" / f"{s.name}.yaml"
        if not contract.exists():
            continue
        for path in yaml.safe_load(contract.read_text())["paths"]:
            if path.startswith(INTERNAL_PORTAL_PREFIX):
                continue
            owners = {
                owner for prefix, owner in prefixes.items() if path == prefix or path.startswith(prefix + "/")
            }
            assert owners == {s.name}, f"{s.name} serves {path}, routed to {owners or 'nobody'}"


# What the kit serves on every service, for the cluster's probes and the developers, not
# through the ingress.
KIT_PATHS = ("/healthz", "/readyz", "/metrics", "/docs", "/openapi.json", "/static/")


@pytest.mark.usefixtures("clean_environment")
def test_what_a_service_serves_outside_the_api_is_routed_to_it(deployed: list[services.Service]) -> None:
    public = {path: s.name for s in services.SERVICES for path in s.public_paths}
    for s in deployed:
        app = importlib.import_module(s.package).create_app()
        for rule in app.url_map.iter_rules():
            path = s.mounted_at + rule.rule  # the portal is served under /portal (URL_PREFIX)
            if rule.rule.startswith("/api/v1/") or any(rule.rule.startswith(kit) for kit in KIT_PATHS):
                continue
            assert routed_to(path, public) == s.name, f"{s.name} serves {path}, routed elsewhere"
    assert {path for path, owner in public.items() if owner == "identity"} == {"/oauth", "/.well-known"}
    # The console's pages are every other path; the APIs and identity's stay where they are.
    assert {path for path, owner in public.items() if owner == "staff-console"} == {"/"}


def routed_to(path: str, public: dict[str, str]) -> str | None:
    """Whom the ingress sends a path outside /api/v1 to: the longest public path it is under
    (as nginx's and the Ingress's Prefix matching do); "/" takes what no other takes."""
    matches = [p for p in public if p == "/" or path == p or path.startswith(p + "/")]
    return public[max(matches, key=len)] if matches else None


# --------------------------------------------------------------------------- compose


def compose_url_hosts(environment: dict[str, str], compose: dict[str, Any]) -> None:
    for variable, value in environment.items():
        if variable.endswith("_URL") and variable != "DATABASE_URL":
            url = urlparse(value)
            peer = compose["services"].get(url.hostname)
            if peer is not None:
                assert peer["environment"]["PORT"] == str(url.port), f"{variable}={value}"


def test_compose_agrees_with_the_services(
    compose_file: dict[str, Any], deployed: list[services.Service]
) -> None:
    entries = compose_file["services"]
    for s in deployed:
        web, migrate = entries[s.name], entries[f"{s.name}-migrate"]
        environment = web["environment"]
        assert environment["PORT"] == str(s.port)
        assert {k: v for k, v in environment.items() if k.endswith("_URL") and k not in NOT_PEERS} == (
            deploy.peer_urls(s)
        )
        compose_url_hosts(environment, compose_file)
        database = urlparse(environment["DATABASE_URL"])
        assert (database.username, database.hostname, database.path) == (s.role, "postgres", "/garage")
        assert web["command"] == list(s.gunicorn)
        assert migrate["command"] == list(s.flask("migrate"))
        assert web["depends_on"] == {f"{s.name}-migrate": {"condition": "service_completed_successfully"}}
        assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
        assert entries["ingress"]["depends_on"][s.name] == {"condition": "service_healthy"}
        for process in s.processes:
            worker = entries[f"{s.name}-{process.name}"]
            assert worker["command"] == list(s.flask(*process.command))
            assert worker["environment"] == environment
        assert f"{s.env_prefix}_DB_PASSWORD" in entries["postgres"]["environment"]


def test_compose_services_trust_identity_and_are_its_clients(
    compose_file: dict[str, Any], deployed: list[services.Service]
) -> None:
    """Each of the six verifies tokens with identity's key set (fetched on compose's network)
    and its issuer (the ingress address identity names in its tokens), and asks identity for
    its own by client credentials with the secret identity knows it by."""
    identity = services.BY_NAME["identity"]
    if identity not in deployed:
        pytest.skip("identity is not deployed")
    entries = compose_file["services"]
    told = entries["identity"]["environment"]
    clients = [s for s in deployed if s.client]
    assert told["IDENTITY_SERVICE_CLIENTS"].split(",") == [s.name for s in services.service_clients(deployed)]
    for s in clients:
        environment = entries[s.name]["environment"]
        assert {k: environment[k] for k in ("JWT_ISSUER", "JWT_JWKS_URL", "JWT_ALGORITHMS")} == {
            "JWT_ISSUER": told["IDENTITY_ISSUER"],
            "JWT_JWKS_URL": "http://identity:8007/.well-known/jwks.json",
            "JWT_ALGORITHMS": "ES256",
        }
        assert environment["SERVICE_TOKEN_URL"] == "http://identity:8007/oauth/token"
        assert environment["SERVICE_CLIENT_ID"] == s.name
        assert environment["SERVICE_CLIENT_SECRET"] == told[s.client_secret_var]
        assert environment["SERVICE_CLIENT_SECRET"].startswith(f"${{{s.client_secret_var}:-")


def test_compose_ingress_routes_every_prefix_to_its_owner(deployed: list[services.Service]) -> None:
    conf = (ROOT / "deploy" / "nginx" / "garage.conf").read_text()
    routes = {}
    for base, alternatives, upstream in re.findall(
        r"location ~ \^(/api/v1)?/\(([^)]*)\)\(/\|\$\) \{\s*set \$upstream ([a-z-]+:\d+);", conf
    ):
        for resource in alternatives.split("|"):
            routes[f"{base}/{resource.replace(chr(92), '')}"] = upstream
    for upstream in re.findall(r"location / \{\s*set \$upstream ([a-z-]+:\d+);", conf):
        routes["/"] = upstream
    assert routes == {
        prefix: f"{s.name}:{s.port}" for s in deployed for prefix in (*s.prefixes, *s.public_paths)
    }


def test_compose_tells_a_service_the_ingress_address_browsers_reach_it_at(
    compose_file: dict[str, Any], deployed: list[services.Service]
) -> None:
    for s in deployed:
        environment = compose_file["services"][s.name]["environment"]
        if s.ingress_url_var:
            assert environment[s.ingress_url_var] == (
                f"http://localhost:${{GARAGE_PORT:-{deploy.INGRESS_PORT}}}{s.mounted_at}"
            )
        if s.issues_links:  # its messages' links open the portal through the ingress
            portal = compose_file["services"]["customer-portal"]["environment"]
            assert environment["PORTAL_URL"] == portal["PORTAL_URL"]
    assert services.BY_NAME["identity"].ingress_url_var == "IDENTITY_ISSUER"


def test_database_init_makes_one_role_and_schema_per_service(deployed: list[services.Service]) -> None:
    script = (ROOT / "deploy" / "postgres" / "init-garage.sh").read_text()
    made = re.findall(r"^service_role (\w+) (\w+) ", script, re.MULTILINE)
    assert made == [(s.role, s.schema) for s in deployed]
    for extension in {e for s in deployed for e in s.extensions}:
        assert f"CREATE EXTENSION IF NOT EXISTS {extension} WITH SCHEMA public;" in script


# --------------------------------------------------------------------------- Kubernetes


def config_maps_of(documents: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, str]:
    """The environment a container gets from its ConfigMaps, in envFrom order."""
    maps = kind(documents, "ConfigMap")
    environment: dict[str, str] = {}
    for source in container["envFrom"]:
        if "configMapRef" in source:
            environment.update(maps[source["configMapRef"]["name"]]["data"])
    return environment


def policy_graph(documents: list[dict[str, Any]], names: set[str]) -> tuple[set, set]:
    """(caller, callee) pairs that the NetworkPolicies let in, and those they let out."""
    ingress, egress = set(), set()
    for policy in kind(documents, "NetworkPolicy").values():
        selected = policy["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name")
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                name = peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
                if name in names and selected in names:
                    ingress.add((name, selected))
        for rule in policy["spec"].get("egress", []):
            for peer in rule.get("to", []):
                name = peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
                if name in names and selected in names:
                    port = {p["port"] for p in rule["ports"]}
                    assert port == {services.BY_NAME[name].port}, policy["metadata"]["name"]
                    egress.add((selected, name))
    return ingress, egress


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_agrees_with_the_services(
    rendered: dict[str, list[dict[str, Any]]],
    compose_file: dict[str, Any],
    deployed: list[services.Service],
    overlay: str,
) -> None:
    documents = rendered[overlay]
    deployments, k8s_services = kind(documents, "Deployment"), kind(documents, "Service")
    for s in deployed:
        assert k8s_services[s.name]["spec"]["ports"] == [
            {"name": "http", "port": s.port, "targetPort": "http", "protocol": "TCP"}
        ]
        web = deployments[s.name]["spec"]["template"]["spec"]["containers"][0]
        assert web["ports"] == [{"name": "http", "containerPort": s.port, "protocol": "TCP"}]
        environment = config_maps_of(documents, web)
        assert environment["PORT"] == str(s.port)
        assert environment["DB_USER"] == s.role
        assert {k: v for k, v in environment.items() if k.endswith("_URL") and k not in NOT_PEERS} == (
            deploy.peer_urls(s)
        )
        # The same commands as compose runs, which the image test runs for real.
        assert web["command"] == compose_file["services"][s.name]["command"]
        for process in s.processes:
            container = deployments[f"{s.name}-{process.name}"]["spec"]["template"]["spec"]["containers"][0]
            assert container["command"] == compose_file["services"][f"{s.name}-{process.name}"]["command"]
        job = kind(documents, "Job")[f"{s.name}-migrate"]["spec"]["template"]["spec"]["containers"][0]
        assert job["command"] == compose_file["services"][f"{s.name}-migrate"]["command"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_routes_every_prefix_to_its_owner(
    rendered: dict[str, list[dict[str, Any]]], deployed: list[services.Service], overlay: str
) -> None:
    (ingress,) = kind(rendered[overlay], "Ingress").values()
    routes = {
        path["path"]: (path["backend"]["service"]["name"], path["backend"]["service"]["port"]["name"])
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
        if path["pathType"] == "Prefix"
    }
    assert routes == {prefix: (s.name, "http") for s in deployed for prefix in (*s.prefixes, *s.public_paths)}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_allow_exactly_the_drawn_calls(
    rendered: dict[str, list[dict[str, Any]]], deployed: list[services.Service], overlay: str
) -> None:
    documents = rendered[overlay]
    names = {s.name for s in deployed}
    allowed_in, allowed_out = policy_graph(documents, names)
    assert allowed_in == deployed_calls(deployed)
    assert allowed_out == deployed_calls(deployed)
    policies = kind(documents, "NetworkPolicy")
    assert policies["default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert policies["allow-dns"]["spec"]["egress"][0]["ports"] == [
        {"protocol": "UDP", "port": 53},
        {"protocol": "TCP", "port": 53},
    ]
    for s in deployed:
        web = policies[f"{s.name}-web"]["spec"]
        from_ingress = [rule for rule in web["ingress"] if "namespaceSelector" in rule["from"][0]]
        assert from_ingress == [
            {
                "from": [
                    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
                ],
                "ports": [{"protocol": "TCP", "port": s.port}],
            }
        ]
        egress = policies[f"{s.name}-egress"]["spec"]["egress"]
        assert [rule for rule in egress if "to" not in rule] == [
            {"ports": [{"protocol": "TCP", "port": 5432}]},  # the database
            {"ports": [{"protocol": "TCP", "port": 443}]},  # the identity provider
        ]
        external = {
            name: policy
            for name, policy in policies.items()
            if name.startswith(f"{s.name}-") and "external" in name
        }
        expected = {(rule.component, port) for rule in s.egress for port in rule.ports}
        found = {
            (policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"], p["port"])
            for policy in external.values()
            for rule in policy["spec"]["egress"]
            for p in rule["ports"]
        }
        assert found == expected, s.name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_services_trust_identity_and_are_its_clients(
    rendered: dict[str, list[dict[str, Any]]], deployed: list[services.Service], overlay: str
) -> None:
    """The six verify tokens with identity's key set fetched in the cluster and the issuer
    identity names (the public address: one value, set twice); each asks identity for its
    own under its name, with the secret of its <service>-client Secret, which identity reads."""
    identity = services.BY_NAME["identity"]
    if identity not in deployed:
        pytest.skip("identity is not deployed")
    documents = rendered[overlay]
    deployments = kind(documents, "Deployment")
    shared = kind(documents, "ConfigMap")
    (garage_config,) = [m["data"] for name, m in shared.items() if name.startswith("garage-config")]
    assert garage_config["JWT_ISSUER"] == garage_config["IDENTITY_ISSUER"]
    assert garage_config["JWT_JWKS_URL"] == "http://identity:8007/.well-known/jwks.json"
    assert garage_config["SERVICE_TOKEN_URL"] == "http://identity:8007/oauth/token"
    assert garage_config["JWT_ALGORITHMS"] == "ES256"
    if overlay == "prod":
        assert garage_config["IDENTITY_ISSUER"].startswith("https://")
    clients = [s for s in deployed if s.client]
    told = deployments["identity"]["spec"]["template"]["spec"]["containers"][0]
    assert config_maps_of(documents, told)["IDENTITY_SERVICE_CLIENTS"].split(",") == [
        s.name for s in services.service_clients(deployed)
    ]
    read_by_identity = {
        variable["name"]: variable["valueFrom"]["secretKeyRef"]
        for variable in told["env"]
        if "valueFrom" in variable
    }
    assert read_by_identity == {
        s.client_secret_var: {"name": f"{s.name}-client", "key": s.client_secret_key}
        for s in deployed
        if s.identity_client
    }
    for s in clients:
        names = [s.name, *(f"{s.name}-{process.name}" for process in s.processes)]
        for name in names:
            container = deployments[name]["spec"]["template"]["spec"]["containers"][0]
            assert {"secretRef": {"name": f"{s.name}-client"}} in container["envFrom"], name
            assert config_maps_of(documents, container)["SERVICE_CLIENT_ID"] == s.name


# --------------------------------------------------------------------------- settings are complete


def environment_of(
    documents: list[dict[str, Any]], s: services.Service, secrets: dict[str, str]
) -> dict[str, str]:
    """What the web container's environment would be, with made-up Secret values."""
    web = kind(documents, "Deployment")[s.name]["spec"]["template"]["spec"]["containers"][0]
    environment = {**config_maps_of(documents, web), **secrets}
    for variable in web["env"]:
        if "valueFrom" in variable:  # a key of a Secret
            environment[variable["name"]] = secrets["from-a-secret"]
            continue
        environment[variable["name"]] = re.sub(
            r"\$\((\w+)\)", lambda m: environment[m.group(1)], variable["value"]
        )
    return environment


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_starts_with_the_overlays_settings(
    rendered: dict[str, list[dict[str, Any]]],
    deployed: list[services.Service],
    overlay: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With GARAGE_ENV=production a service refuses to start without its required settings:
    the prod overlay's settings.env and the documented Secrets must give it all of them."""
    for s in deployed:
        # Shaped like the strictest key it stands for (32+ characters, a Mollie test key's form).
        placeholder = "test_" + "madeup" * 6  # pragma: allowlist secret
        secrets = {
            "DB_PASSWORD": placeholder,
            **{key: placeholder for key in s.secrets},
            **({s.client_secret_key: placeholder} if s.identity_client else {}),
            **(
                {"IDENTITY_KEY_ENCRYPTION_KEY": FERNET_KEY}
                if "IDENTITY_KEY_ENCRYPTION_KEY" in s.secrets
                else {}
            ),
            "from-a-secret": placeholder,
        }
        environment = environment_of(rendered[overlay], s, secrets)
        assert environment["GARAGE_ENV"] == ("production" if overlay == "prod" else "development")
        for key in list(os.environ):
            monkeypatch.delenv(key)
        for key, value in environment.items():
            monkeypatch.setenv(key, value)
        service_config(s).load_config()  # raises ConfigError naming what is missing


def test_each_service_starts_with_the_compose_settings(
    compose_file: dict[str, Any], deployed: list[services.Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    for s in deployed:
        for key in list(os.environ):
            monkeypatch.delenv(key)
        for key, value in compose_file["services"][s.name]["environment"].items():
            monkeypatch.setenv(key, re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value)))
        service_config(s).load_config()


# --------------------------------------------------------------------------- the staff console


def apps_signing_people_in(deployed: list[services.Service]) -> list[services.Service]:
    apps = [s for s in deployed if s.signs_in_people]
    if not apps or services.BY_NAME["identity"] not in deployed:
        pytest.skip("no app people sign in to through identity is deployed")
    return apps


def test_compose_console_signs_people_in_at_identity_and_comes_back_to_its_address(
    compose_file: dict[str, Any], deployed: list[services.Service]
) -> None:
    """People sign in at identity's public issuer (the ingress), the console's server reaches
    identity on compose's network, identity sends people back only to the console's callback
    at the ingress, and both know the console by the same secret."""
    entries = compose_file["services"]
    identity = entries["identity"]["environment"]
    for s in apps_signing_people_in(deployed):
        console = entries[s.name]["environment"]
        assert console["IDENTITY_ISSUER"] == identity["IDENTITY_ISSUER"]
        assert console["IDENTITY_INTERNAL_URL"] == "http://identity:8007"
        assert identity["CONSOLE_REDIRECT_URIS"] == console[s.ingress_url_var] + services.CALLBACK_PATH
        assert console[s.client_secret_var] == identity[s.client_secret_var]
        assert console[s.client_secret_var].startswith(f"${{{s.client_secret_var}:-")
        assert "SERVICE_CLIENT_ID" not in console and s.name not in identity["IDENTITY_SERVICE_CLIENTS"]
        assert console.get("SESSION_COOKIE_SECURE", "false") == "false", "compose serves plain HTTP"
        for key in s.secrets:
            assert console[key] == f"${{{key}:-}}", (
                "from .env (make compose-env), else the development default"
            )


def test_dockerignore_lets_the_browser_files_into_the_build(deployed: list[services.Service]) -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    for s in deployed:
        for path in s.assets:
            assert f"!{s.name}/node_modules/{path}" in ignore, f"{s.name}: {path} is not sent to the build"
            assert f"{s.name}/node_modules/{path}" in (s.folder / "Dockerfile").read_text()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_console_signs_people_in_at_identity_and_comes_back_to_its_address(
    rendered: dict[str, list[dict[str, Any]]], deployed: list[services.Service], overlay: str
) -> None:
    """The console at / of the Ingress; identity's public issuer for people, its Service for the
    console's server; identity allows the callback at the console's public address only; the
    client secret in the console's <service>-client Secret, read by both; secure cookies in prod."""
    documents = rendered[overlay]
    deployments = kind(documents, "Deployment")
    (garage_config,) = [
        m["data"] for name, m in kind(documents, "ConfigMap").items() if name.startswith("garage-config")
    ]
    identity = deployments["identity"]["spec"]["template"]["spec"]["containers"][0]
    identity_env = {v["name"]: v for v in identity["env"]}
    (ingress,) = kind(documents, "Ingress").values()
    for s in apps_signing_people_in(deployed):
        web = deployments[s.name]["spec"]["template"]["spec"]["containers"][0]
        settings = config_maps_of(documents, web)
        assert settings["IDENTITY_ISSUER"] == garage_config["IDENTITY_ISSUER"]
        assert settings["IDENTITY_INTERNAL_URL"] == "http://identity:8007"
        assert settings[s.ingress_url_var] == garage_config[s.ingress_url_var]
        assert identity_env["CONSOLE_REDIRECT_URIS"] == {
            "name": "CONSOLE_REDIRECT_URIS",
            "value": f"$({s.ingress_url_var}){services.CALLBACK_PATH}",
        }
        assert {"secretRef": {"name": f"{s.name}-client"}} in web["envFrom"]
        assert identity_env[s.client_secret_var]["valueFrom"]["secretKeyRef"] == {
            "name": f"{s.name}-client",
            "key": s.client_secret_var,
        }
        assert "SERVICE_CLIENT_ID" not in settings
        paths = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
        assert {
            "path": "/",
            "pathType": "Prefix",
            "backend": {"service": {"name": s.name, "port": {"name": "http"}}},
        } in paths
        if overlay == "prod":
            assert settings[s.ingress_url_var].startswith("https://")
            assert settings["SESSION_COOKIE_SECURE"] == "true"
        else:
            assert settings.get("SESSION_COOKIE_SECURE", "false") == "false"
    script = (ROOT / "deploy" / "k8s-dev-secrets.sh").read_text()
    for s in apps_signing_people_in(deployed):
        assert f'secret {s.name}-client --from-literal={s.client_secret_var}="$(password)"' in script
        for key in s.secrets:
            assert f'--from-literal={key}="$(password)"' in script


def test_the_compose_ingress_logs_no_customer_link_token() -> None:
    """A link's token is in its path (/portal/<page>/<token>): the access log's URI has it
    replaced, for every page a link opens, and nothing else is rewritten."""
    conf = (ROOT / "deploy" / "nginx" / "garage.conf").read_text()
    assert "access_log /var/log/nginx/access.log garage;" in conf
    assert "$garage_logged_uri" in conf.split("log_format garage", 1)[1].split(";", 1)[0]
    (pattern,) = re.findall(r"^\s+~(\S+) \$kept<token>\$rest;$", conf, re.MULTILINE)
    rewrite = re.compile(pattern.replace("(?<", "(?P<"))  # nginx's PCRE names, Python's spelling

    def logged(uri: str) -> str:
        found = rewrite.match(uri)
        return f"{found['kept']}<token>{found['rest']}" if found else uri

    from service_kit.links import PURPOSES

    for page in PURPOSES.values():
        assert logged(f"/portal/{page}/eyJ.secret.sig/pay?lang=nl") == f"/portal/{page}/<token>/pay?lang=nl"
    assert logged("/portal/webhooks/mollie") == "/portal/webhooks/mollie"
    assert logged("/api/v1/customers?q=jansen") == "/api/v1/customers?q=jansen"
