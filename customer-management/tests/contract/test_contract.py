"""The code, the committed contract and the migrations agree; the API holds its contract
under generated input (schemathesis, in-process): the kit's standard contract tests."""

from customer_management.models import db

from service_kit.contract_testing import find_contract
from service_kit.provider_testing import ServiceContractTests


class TestContract(ServiceContractTests):
    """A schema-valid body can still break a rule the schema cannot express (a real phone
    number, an unused email, a cursor this API gave out): 422 is the documented answer."""

    package = "customer_management"
    contract = find_contract("customer-management")
    database = db
    operations_at_least = 7
    max_examples = 40
