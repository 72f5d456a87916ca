"""A technician linked to their identity account (issue 16, point 4): the account id is
the id their clock and jobs carry in maintenance-job-management; only an admin links
it, one technician an account, and a signed-in technician finds themselves by it."""

from __future__ import annotations

from service_kit.testing import assert_problem

TECHNICIANS = "/api/v1/workshop/technicians"


def test_an_admin_links_a_technician_to_their_account(workshop, client):
    created = client.post(
        TECHNICIANS, json={"name": "Anna", "account_subject": "acc-anna"}, headers=workshop.admin
    )
    assert created.status_code == 201, created.get_json()
    anna = created.get_json()
    assert anna["account_subject"] == "acc-anna"
    bob = workshop.technician_("Bob")
    assert bob["account_subject"] is None
    linked = client.patch(
        f"{TECHNICIANS}/{bob['id']}",
        json={"account_subject": "acc-bob"},
        headers={**workshop.admin, "If-Match": '"1"'},
    )
    assert linked.status_code == 200, linked.get_json()
    # The signed-in technician finds themselves, and their day, by their token's subject.
    mine = client.get(TECHNICIANS, query_string={"account_subject": "acc-bob"}, headers=workshop.technician)
    assert [t["name"] for t in mine.get_json()["items"]] == ["Bob"]
    workshop.bay()
    booked = workshop.booked(technician_id=bob["id"])
    day = client.get(f"/api/v1/workshop/planning/days/{workshop.day}", headers=workshop.technician).get_json()
    (planned,) = day["days"][0]["appointments"]
    assert (planned["id"], planned["technician"]["account_subject"]) == (booked["id"], "acc-bob")
    unlinked = client.patch(
        f"{TECHNICIANS}/{bob['id']}",
        json={"account_subject": None},
        headers={**workshop.admin, "If-Match": '"2"'},
    )
    assert unlinked.get_json()["account_subject"] is None


def test_only_an_admin_links_an_account(workshop, client):
    assert_problem(
        client.post(TECHNICIANS, json={"name": "Anna", "account_subject": "acc-x"}, headers=workshop.advisor),
        403,
    )
    anna = workshop.technician_("Anna")
    refused = client.patch(
        f"{TECHNICIANS}/{anna['id']}",
        json={"account_subject": "acc-advisor"},
        headers={**workshop.advisor, "If-Match": '"1"'},
    )
    assert_problem(refused, 403)
    # Everything else about a technician stays the front desk's.
    renamed = client.patch(
        f"{TECHNICIANS}/{anna['id']}",
        json={"name": "Anna B."},
        headers={**workshop.advisor, "If-Match": '"1"'},
    )
    assert renamed.status_code == 200 and renamed.get_json()["account_subject"] is None


def test_one_technician_an_account(workshop, client):
    client.post(TECHNICIANS, json={"name": "Anna", "account_subject": "acc-anna"}, headers=workshop.admin)
    twice = client.post(
        TECHNICIANS, json={"name": "Bob", "account_subject": "acc-anna"}, headers=workshop.admin
    )
    assert "already linked" in assert_problem(twice, 409)["detail"]
    bob = workshop.technician_("Bob")
    assert_problem(
        client.patch(
            f"{TECHNICIANS}/{bob['id']}",
            json={"account_subject": "acc-anna"},
            headers={**workshop.admin, "If-Match": '"1"'},
        ),
        409,
    )
    for bad in ("", "x" * 201, "acc\nanna"):
        assert_problem(
            client.post(TECHNICIANS, json={"name": "Cas", "account_subject": bad}, headers=workshop.admin),
            422,
        )
