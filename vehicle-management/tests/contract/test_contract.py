"""The code, the committed contract and the migrations agree; the API holds its contract
under generated input (schemathesis, in-process): the kit's standard contract tests,
and what scheduling relies on."""

from vehicle_management.models import db

from service_kit.contract_testing import find_contract
from service_kit.contracts import load_contract
from service_kit.provider_testing import ServiceContractTests


class TestContract(ServiceContractTests):
    """A schema-valid body can still break a rule the schema cannot express (a real plate,
    a VIN's check digit, a cursor this API gave out): 422 is the documented answer."""

    package = "vehicle_management"
    contract = find_contract("vehicle-management")
    database = db
    operations_at_least = 8
    max_examples = 40

    def test_api_never_fails_and_keeps_its_contract(self, app, auth_headers, customers):
        """customer-management (faked, its answer checked against its contract) knows every id."""
        customers.everyone()
        super().test_api_never_fails_and_keeps_its_contract(app, auth_headers)


def test_what_scheduling_relies_on_is_in_the_contract():
    """ARCHITECTURE.md: scheduling reads id, owner_id, plate, make and model."""
    vehicle = load_contract(TestContract.contract)["components"]["schemas"]["Vehicle"]
    assert {"id", "owner_id", "plate", "make", "model"} <= set(vehicle["required"])
