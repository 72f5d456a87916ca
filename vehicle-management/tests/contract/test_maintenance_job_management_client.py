"""vehicle-management's client for maintenance-job-management, against its committed
contract: the calls it makes exist and allow the `service` role, the fields it reads
are required there, and an answer it cannot read is a dependency failure, not a 500."""

import uuid

import pytest
from vehicle_management.clients.maintenance_job_management import (
    LIST_CANNED_JOBS_PATH,
    LIST_JOBS_PATH,
    MaintenanceJobManagement,
)

from service_kit.contracts import load_contract
from service_kit.http_client import ClientSettings, DependencyFailed, ServiceClient

from ..fakes import MAINTENANCE_JOB_MANAGEMENT_URL, FakeMaintenanceJobs


@pytest.fixture
def history() -> MaintenanceJobManagement:
    settings = ClientSettings(base_url=MAINTENANCE_JOB_MANAGEMENT_URL, retries=0, breaker_failures=100)
    return MaintenanceJobManagement(
        ServiceClient("maintenance-job-management", settings, token=lambda: "service-token")
    )


def _schema(contract, ref):
    return load_contract(contract)["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_the_calls_it_makes_are_in_the_contract_and_open_to_services():
    contract = FakeMaintenanceJobs.contract
    paths = load_contract(contract)["paths"]
    jobs = paths[LIST_JOBS_PATH]["get"]
    assert "service" in jobs["x-roles"]
    assert {"vehicle_id", "status", "limit", "cursor"} <= {p["name"] for p in jobs["parameters"]}
    canned = paths[LIST_CANNED_JOBS_PATH]["get"]
    assert "service" in canned["x-roles"]
    job = _schema(contract, "Job")
    assert {"id", "completed_at", "actual_end", "odometer_in", "odometer_unit", "lines"} <= set(
        job["required"]
    )
    line = _schema(contract, "Line")
    assert {"canned_job_id", "approved"} <= set(line["required"])
    assert {"id", "code"} <= set(_schema(contract, "CannedJob")["required"])


def test_reads_the_services_of_a_vehicle(history, jobs):
    vehicle_id = uuid.uuid4()
    small = jobs.canned_job("small-service")
    jobs.completed(
        vehicle_id,
        completed_at="2026-01-10T15:00:00+01:00",
        odometer_in=10_000,
        unit="mi",
        canned_job_ids=(small,),
    )
    codes = history.canned_job_codes()
    assert codes == {uuid.UUID(small): "small-service"}
    [visit] = history.service_visits(vehicle_id, codes)
    assert visit.completed_on.isoformat() == "2026-01-10"
    assert visit.km == pytest.approx(16_093.44)
    assert visit.canned_job_codes == {"small-service"}
    call = jobs.mock.calls[-1].request
    assert call.headers["Authorization"] == "Bearer service-token"
    assert "status=completed" in call.url and f"vehicle_id={vehicle_id}" in call.url


def test_it_follows_the_pages(history, customers):
    vehicle_id = uuid.uuid4()
    url = MAINTENANCE_JOB_MANAGEMENT_URL + LIST_JOBS_PATH
    customers.mock.add("GET", url, json={"items": [], "next_cursor": "page-2"})
    customers.mock.add("GET", url, json={"items": [], "next_cursor": None})
    assert history.service_visits(vehicle_id, {}) == []
    assert len(customers.mock.calls) == 2
    assert "cursor=page-2" in customers.mock.calls[1].request.url


@pytest.mark.parametrize(
    "body",
    [
        {"items": [{"id": "x", "completed_at": "2026-01-10T15:00:00+00:00"}], "next_cursor": None},
        {"items": [{"id": str(uuid.uuid4()), "completed_at": "not a time"}], "next_cursor": None},
        {"nothing": True},
        ["a", "list"],
    ],
)
def test_an_answer_it_cannot_read_is_a_dependency_failure(history, customers, body):
    customers.mock.add("GET", MAINTENANCE_JOB_MANAGEMENT_URL + LIST_JOBS_PATH, json=body)
    with pytest.raises(DependencyFailed) as caught:
        history.service_visits(uuid.uuid4(), {})
    assert caught.value.to_dict()["dependency"] == "maintenance-job-management"
