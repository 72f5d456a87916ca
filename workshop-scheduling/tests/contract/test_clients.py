"""The clients for vehicle-management and maintenance-job-management against the
contract-checked fakes: tolerant readers that read no more than they need, and one
exception (503 naming the service) for whatever goes wrong on the way."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from workshop_scheduling.clients.maintenance_jobs import Job, JobNotChangeable, MaintenanceJobs
from workshop_scheduling.clients.vehicle_management import Vehicle, VehicleManagement

from service_kit.http_client import ClientSettings, DependencyFailed, ServiceClient


def client(url: str, name: str) -> ServiceClient:
    settings = ClientSettings(base_url=url, retries=0, read_timeout=0.3, breaker_failures=100)
    return ServiceClient(name, settings, token=lambda: "service-token")


def test_reads_a_vehicle_and_its_owner(fake_vehicles):
    owner = uuid.uuid4()
    vehicle_id = fake_vehicles.add(owner_id=owner, plate="AB-123-C", make="Volvo", model="V60")
    directory = VehicleManagement(client(fake_vehicles.url, "vehicle-management"))
    assert directory.get_vehicle(vehicle_id) == Vehicle(
        vehicle_id, owner, "AB-123-C", "Volvo", "V60", "active"
    )
    assert directory.get_vehicle(uuid.uuid4()) is None
    [call, _] = fake_vehicles.requests
    assert call.headers["Authorization"] == "Bearer service-token"


def test_a_vehicle_with_extra_or_missing_optional_fields_is_read(fake_vehicles, monkeypatch):
    vehicle_id = fake_vehicles.add()
    body = fake_vehicles.resources[str(vehicle_id)]
    body["loyalty"] = "gold"
    del body["status"]
    monkeypatch.setattr(fake_vehicles, "check", lambda *args: None)  # deliberately beyond the contract
    assert (
        VehicleManagement(client(fake_vehicles.url, "vehicle-management")).get_vehicle(vehicle_id).status
        == "active"
    )


def test_an_unreadable_vehicle_is_a_dependency_failure(fake_vehicles, monkeypatch):
    vehicle_id = fake_vehicles.add()
    fake_vehicles.resources[str(vehicle_id)] = {"id": "x"}
    monkeypatch.setattr(fake_vehicles, "check", lambda *args: None)
    with pytest.raises(DependencyFailed) as caught:
        VehicleManagement(client(fake_vehicles.url, "vehicle-management")).get_vehicle(vehicle_id)
    assert caught.value.dependency == "vehicle-management"


def test_finds_the_active_vehicles_with_a_plate(fake_vehicles, monkeypatch):
    owner = uuid.uuid4()
    vehicle_id = fake_vehicles.add(owner_id=owner, plate="XD-123-Z")
    fake_vehicles.add(plate="XD-123-Z", status="deregistered")
    directory = VehicleManagement(client(fake_vehicles.url, "vehicle-management"))
    assert directory.find_by_plate("XD123Z") == [Vehicle(vehicle_id, owner, "XD-123-Z", "Volkswagen", "Golf")]
    assert directory.find_by_plate("AB123C") == []
    monkeypatch.setattr(fake_vehicles, "check", lambda *args: None)  # deliberately beyond the contract
    monkeypatch.setattr(fake_vehicles, "handle", lambda request: (200, {"vehicles": []}, "/api/v1/vehicles"))
    with pytest.raises(DependencyFailed) as caught:
        directory.find_by_plate("XD123Z")
    assert caught.value.dependency == "vehicle-management"


def test_the_job_calls(fake_jobs):
    jobs = MaintenanceJobs(client(fake_jobs.url, "maintenance-job-management"))
    appointment, start = uuid.uuid4(), datetime(2030, 1, 7, 9, tzinfo=UTC)
    fields = {
        "appointment_id": appointment,
        "vehicle_id": uuid.uuid4(),
        "customer_id": uuid.uuid4(),
        "planned_start": start,
        "planned_end": start + timedelta(hours=1),
        "description": "annual service",
    }
    job = jobs.create_job(**fields)
    assert job.status == "scheduled"
    assert jobs.create_job(**fields) == job, "the same appointment, the same job"
    assert jobs.find_job(appointment) == job
    assert jobs.find_job(uuid.uuid4()) is None
    moved = jobs.reschedule_job(
        job.id, planned_start=start + timedelta(hours=2), planned_end=start + timedelta(hours=3)
    )
    assert moved == Job(job.id, "scheduled", 2)
    fake_jobs.set_status(str(job.id), "in_progress")
    with pytest.raises(JobNotChangeable) as caught:
        jobs.cancel_job(job.id, reason="x")
    assert caught.value.current_status == "in_progress"
    assert jobs.get_job(uuid.uuid4()) is None


def test_job_service_failures_are_one_exception(fake_jobs):
    jobs = MaintenanceJobs(client(fake_jobs.url, "maintenance-job-management"))
    fake_jobs.failing = 503
    with pytest.raises(DependencyFailed) as caught:
        jobs.get_job(uuid.uuid4())
    assert caught.value.to_dict()["dependency"] == "maintenance-job-management"
    fake_jobs.failing = None
    fake_jobs.delay = 0.5
    with pytest.raises(DependencyFailed, match="in time"):
        jobs.find_job(uuid.uuid4())


def test_the_commands(app, workshop, fake_jobs):
    """`send-reminders` and `check-jobs --once` as the CronJobs run them."""
    runner = app.test_cli_runner()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    result = runner.invoke(args=["send-reminders", "--date", tomorrow.isoformat()])
    assert result.exit_code == 0, result.output
    assert f"0 reminders for {tomorrow.isoformat()}" in result.output
    result = runner.invoke(args=["check-jobs", "--once"])
    assert result.exit_code == 0, result.output
    assert "settled 0, to retry 0" in result.output
