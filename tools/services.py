"""The services of the garage and what deploying them needs to know: ONE entry per service.

Everything that runs or deploys the services reads this list: `make run`
(tools/run.py), the deployment generator (tools/deployment.py: Dockerfiles,
docker-compose.yml, deploy/, k8s/), the image builder (tools/images.py) and the
deployment tests (tests/deploy/). A service is deployed once its folder has a
``pyproject.toml``; a new service joins by adding its entry here and running
``make deploy-files``. The facts mirror ARCHITECTURE.md (ports, schemas, the calls
between services) and the services' own code (API prefixes, commands);
tests/deploy/test_consistency.py checks that they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Process:
    """A long-running process beside the web server (outbox relay, dispatcher)."""

    name: str  # Kubernetes/compose name suffix and component label
    command: tuple[str, ...]  # flask command after ``flask --app <package>``


@dataclass(frozen=True)
class Schedule:
    """A command run on a schedule (a Kubernetes CronJob)."""

    name: str
    command: tuple[str, ...]
    schedule: str  # cron syntax, in TIMEZONE
    timezone: str = "Europe/Amsterdam"


@dataclass(frozen=True)
class Egress:
    """Traffic a component sends outside the cluster besides the database (SMTP, SMS API)."""

    component: str
    ports: tuple[int, ...]
    why: str


@dataclass(frozen=True)
class Service:
    name: str  # folder, image and Kubernetes name
    port: int
    schema: str
    prefixes: tuple[str, ...]  # the /api/v1 path prefixes the ingress routes to this service
    calls: tuple[str, ...] = ()  # services this one calls (ARCHITECTURE.md, "Every call between services")
    processes: tuple[Process, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    extensions: tuple[str, ...] = ()  # PostgreSQL extensions its migrations expect in schema public
    egress: tuple[Egress, ...] = ()
    settings: dict[str, str] = field(default_factory=dict)  # development values for compose/k8s
    own_url: bool = False  # it is told its own address (<SERVICE>_URL), e.g. for links it hands out
    # Secret keys it needs in production besides DB_PASSWORD (and a client's
    # SERVICE_CLIENT_SECRET, which is in a Secret of its own: <service>-client).
    secrets: tuple[str, ...] = ()
    # Every other service may call it (identity: the JWKS and client credentials), so it
    # is in no one's `calls` and no one gets its URL: they reach it through JWT_JWKS_URL
    # and SERVICE_TOKEN_URL.
    called_by_all: bool = False
    # Paths outside /api/v1 the ingress routes to it as well (identity: the OpenID Connect
    # endpoints and the sign-in page under /oauth, discovery and the JWKS under /.well-known).
    public_paths: tuple[str, ...] = ()
    # The setting it reads the address browsers reach it at through the ingress from
    # (identity: IDENTITY_ISSUER). Compose sets it to the ingress; in Kubernetes the operator does.
    ingress_url_var: str = ""
    # gunicorn worker class, processes x threads, the same in make run, compose and
    # Kubernetes (docs/performance.md, "The choice"): more threads where a request waits on
    # another service inline; sync processes, one request each, where it only waits
    # briefly on PostgreSQL and burns CPU.
    worker_class: str = "gthread"
    workers: int = 2
    threads: int = 4
    # It is a client of identity's (client credentials): it gets its own tokens from identity
    # to call the others, as the client named after it, its secret SERVICE_CLIENT_SECRET
    # (identity reads it as <SERVICE>_CLIENT_SECRET). Each of the six; not identity itself.
    client: bool = True
    # It serves an /api/v1 contract (contracts/<name>.yaml, `make openapi`). An app with
    # pages (the staff console) has none: no prefixes, no contract; it is routed by its
    # public_paths and checked through its pages.
    contract: bool = True
    # People sign in to it through identity (authorization code + PKCE): identity knows it as
    # the console client, its secret <SERVICE>_CLIENT_SECRET (read by both, in Kubernetes from
    # the Secret <service>-client) and its callback, <its ingress_url_var>/auth/callback
    # (identity's CONSOLE_REDIRECT_URIS). It is told identity's public issuer (IDENTITY_ISSUER)
    # and identity's address inside the deployment (IDENTITY_INTERNAL_URL).
    signs_in_people: bool = False
    # Browser files from the npm registry (<name>/package.json, installed on the host by
    # `npm ci --prefix <name>`), relative to <name>/node_modules: its image carries them
    # under /app/assets (ASSETS_DIR). Nothing comes from a CDN.
    assets: tuple[str, ...] = ()
    # It issues the customer portal's links (service_kit.links, docs/customer-portal.md): it
    # is told the portal's public address (PORTAL_URL) and signs with a key of its own
    # (PORTAL_LINK_KEY, a Secret in production).
    issues_links: bool = False
    # identity knows it as a client of the kind ``portal`` (role portal), not ``service``.
    portal: bool = False
    # The path its whole app is served under behind the ingress (the portal: /portal); compose
    # and Kubernetes give it as URL_PREFIX (service_kit.web serves the app there and at /, where
    # the probes ask), and its public address ends in it.
    mounted_at: str = ""

    @property
    def worker_settings(self) -> dict[str, str]:
        return {
            "GUNICORN_WORKER_CLASS": self.worker_class,
            "GUNICORN_WORKERS": str(self.workers),
            "GUNICORN_THREADS": str(self.threads),
        }

    @property
    def deployed_settings(self) -> dict[str, str]:
        """Its settings in compose and Kubernetes: its own, and URL_PREFIX when mounted."""
        return {**self.settings, **({"URL_PREFIX": self.mounted_at} if self.mounted_at else {})}

    @property
    def package(self) -> str:
        return self.name.replace("-", "_")

    @property
    def role(self) -> str:
        """Its PostgreSQL login role."""
        return self.package

    @property
    def env_prefix(self) -> str:
        return self.name.upper().replace("-", "_")

    @property
    def client_secret_var(self) -> str:
        """The setting identity reads this service's client secret from."""
        return f"{self.env_prefix}_CLIENT_SECRET"

    @property
    def client_secret_key(self) -> str:
        """The key of its client secret in its <service>-client Secret: SERVICE_CLIENT_SECRET
        for a service (client credentials), the setting itself for an app people sign in to."""
        return "SERVICE_CLIENT_SECRET" if self.client else self.client_secret_var

    @property
    def identity_client(self) -> bool:
        """identity knows it as a client (and its secret)."""
        return self.client or self.signs_in_people

    @property
    def url_var(self) -> str:
        """The setting other services read its address from."""
        return f"{self.env_prefix}_URL"

    @property
    def folder(self) -> Path:
        return ROOT / self.name

    @property
    def exists(self) -> bool:
        return (self.folder / "pyproject.toml").is_file()

    def flask(self, *command: str) -> tuple[str, ...]:
        return ("flask", "--app", self.package, *command)

    @property
    def gunicorn(self) -> tuple[str, ...]:
        return ("gunicorn", f"{self.package}:create_app()")


RELAY = Process("relay", ("relay-outbox",))

SERVICES: tuple[Service, ...] = (
    Service(
        "customer-management",
        8001,
        "customers",
        ("/api/v1/customers",),
        extensions=("pg_trgm",),
    ),
    Service(
        "vehicle-management",
        8002,
        "vehicles",
        ("/api/v1/vehicles",),
        # maintenance-job-management: a vehicle's last service (docs/due-dates.md);
        # workshop-scheduling: the booking invitations of the due reminders (its outbox).
        calls=("customer-management", "maintenance-job-management", "workshop-scheduling"),
        processes=(RELAY,),
        # Service and inspection due within 30 days: the owner is invited to book, once per due date.
        schedules=(Schedule("due-reminders", ("send-due-reminders",), "0 9 * * *"),),
        threads=8,  # waits on other services inline
    ),
    Service(
        "workshop-scheduling",
        8003,
        "scheduling",
        ("/api/v1/workshop", "/api/v1/availability", "/api/v1/appointments", "/api/v1/booking-invitations"),
        calls=("vehicle-management", "maintenance-job-management", "notification-management"),
        # check-jobs puts right the jobs of bookings that did not finish.
        processes=(RELAY, Process("job-checker", ("check-jobs",))),
        # "The day before, the reminder command sends each customer a reminder."
        schedules=(Schedule("reminders", ("send-reminders",), "0 17 * * *"),),
        extensions=("btree_gist",),
        threads=8,  # waits on other services inline
        secrets=("PORTAL_LINK_KEY",),
        issues_links=True,
    ),
    Service(
        "maintenance-job-management",
        8004,
        "jobs",
        ("/api/v1/maintenance-jobs", "/api/v1/labour-rates", "/api/v1/canned-jobs", "/api/v1/feedback"),
        # workshop-scheduling: each change of a job's status, for its appointment (docs/visits.md).
        calls=("invoicing", "notification-management", "workshop-scheduling"),
        processes=(RELAY,),
        # The work customers declined, offered again 14 days after the visit (docs/feedback.md);
        # mid-morning, outside the SMS quiet hours.
        schedules=(Schedule("declined-work-follow-ups", ("send-declined-work-follow-ups",), "30 10 * * *"),),
        secrets=("PORTAL_LINK_KEY",),
        issues_links=True,
    ),
    Service(
        "invoicing",
        8005,
        "invoicing",
        ("/api/v1/invoices", "/api/v1/credit-notes", "/api/v1/payments"),
        # Vehicles too: the invoice names the vehicle (invoicing/config.py DOWNSTREAMS).
        calls=(
            "maintenance-job-management",
            "customer-management",
            "vehicle-management",
            "notification-management",
        ),
        processes=(RELAY,),
        schedules=(Schedule("payment-reminders", ("send-payment-reminders",), "0 9 * * *"),),
        # The PDF links it hands to notification-management start with its own address.
        own_url=True,
        threads=8,  # waits on other services inline
        secrets=("PORTAL_LINK_KEY",),
        issues_links=True,
    ),
    Service(
        "notification-management",
        8006,
        "notifications",
        ("/api/v1/notifications", "/api/v1/notification-templates", "/api/v1/conversations"),
        calls=("customer-management", "invoicing"),
        # The SMS provider's webhook for the customers' replies (STOP, START, conversations).
        public_paths=("/webhooks/twilio",),
        processes=(Process("dispatcher", ("dispatch",)),),
        egress=(
            Egress("dispatcher", (25, 465, 587), "SMTP: email delivery"),
            Egress("dispatcher", (443,), "the SMS provider's HTTPS API"),
        ),
        settings={"SMTP_HOST": "mailpit", "SMTP_PORT": "1025"},
        secrets=("SMS_PROVIDER_TOKEN", "SMTP_PASSWORD"),
    ),
    Service(
        "identity",
        8007,
        "identity",
        ("/api/v1/accounts", "/api/v1/audit-events"),
        # The password reset email, through its outbox (identity/outbox.py).
        calls=("notification-management",),
        processes=(RELAY,),
        # A new signing key each month, published ahead of signing (docs/identity.md).
        schedules=(Schedule("rotate-keys", ("rotate-keys",), "0 3 1 * *"),),
        called_by_all=True,
        client=False,
        public_paths=("/oauth", "/.well-known"),
        ingress_url_var="IDENTITY_ISSUER",
        # TLS ends at the ingress: browsers come through it (X-Forwarded-Proto), and the six
        # and the console reach the token endpoint at http://identity:8007 on the deployment's
        # own network. Authlib refuses OAuth over plain HTTP to any host but loopback unless
        # told (identity answered 500 to every token request in compose without it).
        settings={"AUTHLIB_INSECURE_TRANSPORT": "1"},
        # The CSRF key of the sign-in page and the key its signing keys are encrypted with at
        # rest (Fernet). A client's secret (a service's, the staff console's) it reads from
        # that client's <service>-client Secret.
        secrets=("IDENTITY_SECRET_KEY", "IDENTITY_KEY_ENCRYPTION_KEY"),
    ),
)
# The six business services: identity's clients (client credentials, role service).
THE_SIX = tuple(s.name for s in SERVICES if s.client)
PORTAL_PATH = "/portal"  # where the ingress serves the customer portal (its URL_PREFIX)
# The components people work in, on the six's APIs.
SERVICES += (
    Service(
        "staff-console",
        8008,
        "staff_console",  # its server-side sessions only
        (),  # pages, no /api/v1: it is served at / (public_paths)
        # The six with the signed-in person's token (ARCHITECTURE.md, "console -> all six");
        # identity (sign-in, token renewal, the staff accounts page) as every component does.
        calls=THE_SIX,
        # Sessions past their end are deleted, and their tokens with them (a daily schedule).
        schedules=(Schedule("forget-sessions", ("forget-expired-sessions",), "30 3 * * *"),),
        public_paths=("/",),
        ingress_url_var="CONSOLE_URL",
        client=False,
        contract=False,
        signs_in_people=True,
        # The key its sessions' CSRF tokens are signed with.
        secrets=("CONSOLE_SECRET_KEY",),
        assets=("htmx.org/dist/htmx.min.js",),
        threads=8,  # a page waits on several services inline
    ),
    Service(
        "customer-portal",
        8009,
        "customer_portal",  # its payments and their outbox; the links are the services'
        (),  # pages, no /api/v1: it is served under /portal (public_paths)
        # Only what a customer's link opens, as the role portal (docs/customer-portal.md).
        calls=("workshop-scheduling", "maintenance-job-management", "invoicing"),
        # Paid payments reach invoicing through its outbox (the payment provider's webhook).
        processes=(RELAY,),
        public_paths=(PORTAL_PATH,),
        mounted_at=PORTAL_PATH,
        ingress_url_var="PORTAL_URL",
        portal=True,
        contract=False,
        settings={"GARAGE_NAME": "Garage de Vries", "GARAGE_PHONE": "+31 20 123 4567"},
        # Its CSRF cookie key and the payment provider's API key (Mollie).
        secrets=("PORTAL_SECRET_KEY", "MOLLIE_API_KEY"),
        assets=(),
    ),
)

BY_NAME = {service.name: service for service in SERVICES}


def service_clients(chosen: list[Service]) -> list[Service]:
    """identity's clients of the kind ``service`` (IDENTITY_SERVICE_CLIENTS): the six."""
    return [s for s in chosen if s.client and not s.portal]


def trusting_identity(identity_url: str, issuer: str) -> dict[str, str]:
    """The settings that make a service trust identity's tokens (its key set and issuer,
    ES256) and ask it for its own by client credentials (SERVICE_CLIENT_ID/_SECRET beside
    them). ``identity_url`` is where the service reaches identity (in the cluster, on
    loopback); ``issuer`` the address identity names in its tokens (IDENTITY_ISSUER)."""
    base = identity_url.rstrip("/")
    return {
        "JWT_JWKS_URL": f"{base}/.well-known/jwks.json",
        "JWT_ISSUER": issuer,
        "JWT_ALGORITHMS": "ES256",
        "SERVICE_TOKEN_URL": f"{base}/oauth/token",
    }


PORTS = {service.name: service.port for service in SERVICES}


def existing() -> list[Service]:
    """The services whose folder has a pyproject.toml: the ones there are to deploy."""
    return [service for service in SERVICES if service.exists]


CALLBACK_PATH = "/auth/callback"  # where identity sends a person back to an app after sign-in


def talks_to(service: Service) -> tuple[str, ...]:
    """The services its pods may call: those in its `calls`, and those every service may call."""
    everyone = tuple(
        s.name for s in SERVICES if s.called_by_all and s.name not in (service.name, *service.calls)
    )
    return (*service.calls, *everyone)


def callers(name: str) -> list[Service]:
    return [service for service in SERVICES if name in talks_to(service)]
