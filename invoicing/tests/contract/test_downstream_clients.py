"""invoicing's clients against the committed contracts of the services they call:
what they call exists and allows the `service` role, what they read is there, they
read no more than they need, and every failure is one exception naming the service."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
import requests
import responses
from invoicing.clients.customer_management import CustomerManagement
from invoicing.clients.maintenance_jobs import MaintenanceJobs
from invoicing.clients.vehicle_management import VehicleManagement

from service_kit.contract_testing import ContractFake, find_contract
from service_kit.contracts import load_contract
from service_kit.http_client import ClientSettings, DependencyFailed, ServiceClient

BASE = "http://downstream.test"
CALLS = [
    ("maintenance-job-management", "/api/v1/maintenance-jobs/{job_id}", "Job",
     {"status", "customer_id", "vehicle_id", "currency", "description", "odometer_in", "odometer_unit",
      "completed_at", "lines"}),
    ("customer-management", "/api/v1/customers/{customer_id}", "Customer",
     {"id", "status", "kind", "name", "vat_number", "contact_person", "email", "phone", "address",
      "preferred_channel", "preferred_language"}),
    ("vehicle-management", "/api/v1/vehicles/{vehicle_id}", "Vehicle", {"id", "plate", "make", "model"}),
]  # fmt: skip
LINE_FIELDS = {
    "id",
    "kind",
    "description",
    "part_number",
    "quantity",
    "unit_price",
    "vat_rate",
    "approved",
}


def http(name: str) -> ServiceClient:
    settings = ClientSettings(base_url=BASE, retries=0, breaker_failures=100, read_timeout=0.2)
    return ServiceClient(name, settings, token=lambda: "service-token")


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.mark.parametrize(("service", "path", "schema", "fields"), CALLS, ids=[c[0] for c in CALLS])
def test_each_call_is_in_the_contract_open_to_services_and_answers_what_is_read(
    service, path, schema, fields
):
    contract = load_contract(find_contract(service))
    operation = contract["paths"][path]["get"]
    assert "service" in operation["x-roles"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.rsplit("/", 1)[-1] == schema
    assert fields <= set(contract["components"]["schemas"][schema]["required"])
    if service == "customer-management":
        # Read when given; without it (an older customer-management) PAYMENT_TERMS_DAYS applies.
        assert (
            contract["components"]["schemas"][schema]["properties"]["payment_terms_days"]["type"] == "integer"
        )
    if service == "maintenance-job-management":
        line = contract["components"]["schemas"]["Line"]
        assert set(line["required"]) >= LINE_FIELDS
        assert "completed" in contract["components"]["schemas"]["Job"]["properties"]["status"]["enum"]


def test_reads_a_job_from_an_answer_the_contract_allows(mock, fake_jobs):
    """The canned job is the loopback fake's, validated against the job contract."""
    customer_id, vehicle_id = str(uuid.uuid4()), str(uuid.uuid4())
    body = fake_jobs.add(
        customer_id=customer_id,
        vehicle_id=vehicle_id,
        lines=[
            {"kind": "labour", "description": "l", "part_number": None, "quantity_hundredths": 150,
             "unit_price": 6000, "vat_rate": "21.00"},
            {"kind": "part", "description": "p", "part_number": "X1", "quantity_hundredths": 250,
             "unit_price": 999, "vat_rate": "9.00", "approved": False},
        ],
    )  # fmt: skip
    fake = ContractFake(mock, find_contract("maintenance-job-management"), BASE)
    fake.add("GET", "/api/v1/maintenance-jobs/{job_id}", 200, body, job_id=body["id"])
    job = MaintenanceJobs(http("maintenance-job-management")).get_job(uuid.UUID(body["id"]))
    assert job is not None
    assert (job.status, str(job.customer_id), str(job.vehicle_id), job.currency) == (
        "completed",
        customer_id,
        vehicle_id,
        "EUR",
    )
    assert (job.odometer_in, job.odometer_unit, job.completed_at.isoformat()) == (
        123456,
        "km",
        "2026-03-02T09:50:00+00:00",
    )
    labour_line, part_line = job.lines
    assert (labour_line.kind, labour_line.quantity_hundredths, labour_line.unit_price) == (
        "labour",
        150,
        6000,
    )
    assert labour_line.vat_rate == Decimal("21.00") and labour_line.approved
    assert (part_line.part_number, part_line.approved, part_line.vat_rate) == ("X1", False, Decimal("9.00"))
    [call] = mock.calls
    assert call.request.headers["Authorization"] == "Bearer service-token"


def test_reads_a_customer_and_a_vehicle(mock, fake_customers, fake_vehicles):
    customer = fake_customers.add(
        name="Zaak BV", kind="business", vat_number="NL1", preferred_channel="sms", payment_terms_days=45
    )
    vehicle = fake_vehicles.add(customer["id"], plate="12-ABC-3", make="Opel", model="Astra")
    ContractFake(mock, find_contract("customer-management"), BASE).add(
        "GET", "/api/v1/customers/{customer_id}", 200, customer, customer_id=customer["id"]
    )
    ContractFake(mock, find_contract("vehicle-management"), BASE).add(
        "GET", "/api/v1/vehicles/{vehicle_id}", 200, vehicle, vehicle_id=vehicle["id"]
    )
    read = CustomerManagement(http("customer-management")).get_customer(uuid.UUID(customer["id"]))
    assert (read.name, read.kind, read.vat_number, read.city, read.preferred_channel) == (
        "Zaak BV",
        "business",
        "NL1",
        "Utrecht",
        "sms",
    )
    assert read.payment_terms_days == 45
    car = VehicleManagement(http("vehicle-management")).get_vehicle(uuid.UUID(vehicle["id"]))
    assert (car.plate, car.description) == ("12-ABC-3", "Opel Astra")


def test_a_tolerant_reader_ignores_what_it_does_not_need(mock):
    customer_id = uuid.uuid4()
    body = {"id": str(customer_id), "status": "active", "name": "Ann", "loyalty_tier": "gold"}
    mock.add("GET", f"{BASE}/api/v1/customers/{customer_id}", json=body)
    customer = CustomerManagement(http("customer-management")).get_customer(customer_id)
    assert (customer.name, customer.kind, customer.preferred_language) == ("Ann", "person", "en")
    # An older customer-management knows no payment terms: invoicing's default applies.
    assert customer.payment_terms_days is None


@pytest.mark.parametrize("terms", ["30", -1, 366, True, 1.5])
def test_payment_terms_that_are_no_days_are_a_dependency_failure(mock, terms):
    customer_id = uuid.uuid4()
    body = {"id": str(customer_id), "status": "active", "name": "Ann", "payment_terms_days": terms}
    mock.add("GET", f"{BASE}/api/v1/customers/{customer_id}", json=body)
    with pytest.raises(DependencyFailed):
        CustomerManagement(http("customer-management")).get_customer(customer_id)


@pytest.mark.parametrize(
    ("client", "path"),
    [
        (lambda: MaintenanceJobs(http("maintenance-job-management")).get_job, "/api/v1/maintenance-jobs/"),
        (lambda: CustomerManagement(http("customer-management")).get_customer, "/api/v1/customers/"),
        (lambda: VehicleManagement(http("vehicle-management")).get_vehicle, "/api/v1/vehicles/"),
    ],
    ids=["jobs", "customers", "vehicles"],
)
def test_unknown_is_none_and_every_failure_is_one_exception_naming_the_service(mock, client, path):
    get = client()
    name = get.__self__.NAME
    unknown = uuid.uuid4()
    problem = {"type": "about:blank", "title": "Not Found", "status": 404}
    mock.add("GET", f"{BASE}{path}{unknown}", json=problem, status=404)
    assert get(unknown) is None
    for failure in (
        {"body": requests.ConnectionError("refused")},
        {"body": requests.ReadTimeout("slow")},
        {"json": {"type": "about:blank", "title": "Internal Server Error", "status": 500}, "status": 500},
        {"json": {"type": "about:blank", "title": "Forbidden", "status": 403}, "status": 403},
        {"json": {"id": "not-a-uuid"}},
    ):
        failing = uuid.uuid4()
        mock.add("GET", f"{BASE}{path}{failing}", **failure)
        with pytest.raises(DependencyFailed) as caught:
            get(failing)
        assert caught.value.to_dict()["status"] == 503
        assert caught.value.dependency == name
