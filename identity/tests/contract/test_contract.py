"""The code, the committed contract and the migrations agree; the admin API holds its
contract under generated input (schemathesis, in-process): the kit's standard tests."""

from identity.models import db

from service_kit.contract_testing import find_contract
from service_kit.provider_testing import ServiceContractTests


class TestContract(ServiceContractTests):
    """A schema-valid body can still break a rule the schema cannot express (a real email
    address, an unused one, a long enough password): 422 is the documented answer."""

    package = "identity"
    contract = find_contract("identity")
    database = db
    operations_at_least = 10
    max_examples = 30
