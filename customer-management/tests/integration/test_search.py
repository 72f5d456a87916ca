"""Search (`q`) against a real PostgreSQL: what it finds, in which order, page after
page, whether a fragment is common or rare (service/search.py)."""

from __future__ import annotations

import random

import pytest
from customer_management import domain
from customer_management.models import Customer, db
from customer_management.service import search
from sqlalchemy import event, insert, text

from service_kit.testing import assert_problem


@pytest.fixture
def find(client, advisor):
    """The ids `q` finds on its first page (limit 50)."""

    def ids(q: str, **params: object) -> list[str]:
        response = client.get("/api/v1/customers", query_string={"q": q, **params}, headers=advisor)
        assert response.status_code == 200, response.get_json()
        return [c["id"] for c in response.get_json()["items"]]

    return ids


@pytest.fixture
def pages(client, advisor):
    """The ids `q` finds, page by page of ``limit``, to the last page."""

    def ids(q: str, limit: int) -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            query = {"q": q, "limit": limit, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/customers", query_string=query, headers=advisor).get_json()
            assert len(page["items"]) <= limit
            seen += [c["id"] for c in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    return ids


@pytest.fixture
def statements(app):
    """The SQL the app sends while the test runs."""
    sent: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        sent.append(cursor.mogrify(statement, parameters).decode())

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    yield sent
    event.remove(engine, "before_cursor_execute", capture)


def test_exact_then_a_name_word_then_the_email_start_then_anywhere(find, register):
    anywhere_first = register(name="Piet Bakker", email="piet@devries-bouw.nl")["id"]
    company = register(kind="business", name="Vriesland Transport BV", email="info@vriesland.nl")["id"]
    ann = register(name="Ann de Vries", email="ann@example.com")["id"]
    email_start = register(name="Kees Jansen", email="vries.kees@example.com")["id"]
    anywhere_mid_word = register(name="Kees Devriese", email="kd@example.com")["id"]
    register(name="Piet Smit", email="piet@smit.nl")
    # Name words by the part that starts with q ("vries" < "vriesland transport bv"),
    # then emails that start with it, then the rest in registration order.
    assert find("vries") == [ann, company, email_start, anywhere_first, anywhere_mid_word]
    assert find("VRIES") == find("vries")


def test_name_words_in_the_order_of_the_part_that_starts_with_q(find, register):
    jansen = register(name="Piet Jansen")["id"]
    jantje = register(name="Jantje")["id"]
    company = register(kind="business", name="Jansen Bouw BV")["id"]
    jan = register(name="Jan Bakker")["id"]
    twice = register(name="Jan Jansen")["id"]  # found once, by its first word
    assert find("jan") == [jan, twice, jansen, company, jantje]
    assert find("jans") == [jansen, twice, company]  # one key, "jansen": registration order
    assert find("de v") == []


def test_a_name_word_is_lower_cased_beyond_ascii(find, register):
    elsewhere = register(name="Kees Bos", email="kees.sahin@example.com")["id"]
    ayse = register(name="Ayşe Şahin", email="ayse@example.com")["id"]
    oz = register(name="Öztürk Bouw BV", kind="business", email="info@ozturk.nl")["id"]
    assert find("şah") == [ayse]
    assert find("ŞAHIN") == find("şahin") == [ayse]
    assert find("özt") == [oz]
    assert find("sahin") == [elsewhere]


def test_a_name_word_starting_with_the_last_code_point_is_found(find, register):
    # "Starts with q" is an index range up to domain.after_prefix(q); q of only U+10FFFF
    # has no such bound, and is looked for with LIKE instead.
    word = "\U0010ffff" * 3
    last = register(name=f"Ann {word}")["id"]
    register(name="Ann Bos")
    assert find(word) == [last]
    assert find(f"ann {word}") == [last]


@pytest.mark.parametrize(
    ("q", "also_the_fragment"),
    [("06 1234 5678", True), ("06-12345678", True), ("+31 6 12345678", False), ("0031612345678", False)],
)
def test_a_whole_phone_number_in_any_spelling_comes_first(find, register, q, also_the_fragment):
    # Registered first, and holding the digits 612345678 (not the country code).
    fragment = register(name="Other", email="x612345678@example.com")["id"]
    ann = register(name="Ann de Vries", email="ann@example.com", phone="0612345678")["id"]
    assert find(q) == ([ann, fragment] if also_the_fragment else [ann])


def test_digits_with_leading_zeros_match_as_typed(find, register):
    """ "001622" is not "1622": the VAT number holding it is found, the phone number and
    the address holding only 1622 are not."""
    vat = register(kind="business", name="Garage Noord", vat_number="NL001622345B01")["id"]
    register(name="Ann de Vries", email="ann@example.com", phone="0201622345")
    register(name="Bo Smit", email="bo1622@example.com")
    assert find("001622") == [vat]
    assert len(find("1622")) == 3


def test_a_whole_email_address_comes_first_whatever_its_case(find, register):
    contains_it = register(name="Jo Ann", email="joann@example.com")["id"]
    ann = register(name="Ann de Vries", email="ann@example.com")["id"]
    assert find("ANN@Example.com") == [ann, contains_it]
    assert find("ann@exa") == [ann, contains_it]  # an email start, then anywhere


def test_a_whole_address_or_number_is_looked_up_by_a_part_and_matched_whole(find, register):
    # The index is asked for "bakker-bouw" and "2345678" (SearchTerms.looked_up); only
    # customers holding all of q are found.
    firm = register(kind="business", name="Bakker Bouw BV", email="info@bakker-bouw.nl")["id"]
    holds_it = register(name="Jo Bakker", email="xinfo@bakker-bouw.nl")["id"]
    register(name="Piet Bakker", email="piet@bakker-bouw.nl")  # the part, not all of q
    register(name="Kees Bakker", email="info@bakker-bouw.com")
    assert find("info@bakker-bouw.nl") == [firm, holds_it]
    number = register(name="Ann Smit", phone="+31 6 12345678")["id"]
    holds_the_digits = register(name="Jo Smit", email="x31612345678@example.com")["id"]
    register(name="Bo Smit", phone="+31 6 22345678")  # the last seven digits only
    assert find("+31 6 12345678") == [number, holds_the_digits]


@pytest.mark.parametrize("q", ["de vries", "vries", "ann@ex", "12345678", "06 1234", "nl123", "acme"])
def test_every_field_and_any_part_of_it_is_searched(find, register, q):
    ann = register(name="Ann de Vries", email="ann@example.com", phone="0612345678")["id"]
    acme = register(kind="business", name="Acme", contact_person="Ann de Vries", vat_number="NL123456789B01")[
        "id"
    ]
    found = find(q)
    assert found and set(found) <= {ann, acme}


def test_filters_and_status_narrow_a_search(client, advisor, find, register):
    person = register(name="Ann de Vries")["id"]
    company = register(kind="business", name="De Vries Transport BV")["id"]
    gone = register(name="Bram de Vries")["id"]
    client.delete(f"/api/v1/customers/{gone}", headers=advisor)
    assert find("vries", kind="business") == [company]
    assert find("vries") == [person, company]
    assert find("erased", status="erased") == [gone]  # an erased customer keeps only that name


def test_pages_of_a_search_list_every_match_once_in_rank_order(find, pages, register):
    register(name="Ann de Vries", email="vries@example.com")
    for n in range(5):
        register(name=f"Kees Devries{n}")
        register(name=f"Vries {n}", email=f"vries{n}@example.com")
        register(name=f"Piet Bos {n}", email=f"vries.piet{n}@example.com")
    register(name="Ann Devries", email="ann.devries@example.com")
    everything = find("vries")
    assert len(everything) == 17
    for limit in (1, 2, 3, 5):
        assert pages("vries", limit) == everything


def test_a_customer_registered_while_paging_takes_its_place(client, advisor, register):
    for n in range(4):
        register(name=f"Ann Vries {n}")
    first = client.get(
        "/api/v1/customers", query_string={"q": "vries", "limit": 2}, headers=advisor
    ).get_json()
    late = register(name="Ann Vries 9")["id"]
    second = client.get(
        "/api/v1/customers",
        query_string={"q": "vries", "limit": 50, "cursor": first["next_cursor"]},
        headers=advisor,
    ).get_json()
    shown = [c["id"] for c in first["items"] + second["items"]]
    assert len(shown) == len(set(shown)) == 5
    assert shown[-1] == late


@pytest.mark.parametrize("cursor", ["garbage", "WzAsIiIsMV0"])  # [0,"",1]: no id
def test_a_cursor_the_search_did_not_give_out_is_422(client, advisor, register, cursor):
    register(name="Ann de Vries")
    response = client.get("/api/v1/customers", query_string={"q": "vries", "cursor": cursor}, headers=advisor)
    assert_problem(response, 422)


def test_the_plain_lists_cursor_is_not_a_search_cursor(client, advisor, register):
    register(name="Ann de Vries")
    register(name="Bram de Vries")
    listed = client.get("/api/v1/customers?limit=1", headers=advisor).get_json()
    response = client.get(
        "/api/v1/customers", query_string={"q": "vries", "cursor": listed["next_cursor"]}, headers=advisor
    )
    assert_problem(response, 422)


def _customers(app, count: int, email: object) -> list[str]:
    """``count`` customers written straight to the table, in registration order."""
    rows = [
        {
            "kind": "person",
            "name": f"Customer {n}",
            "email": email(n),
            "preferred_channel": "email",
            "preferred_language": "nl",
            "consents": {channel: {"service": True, "marketing": False} for channel in ("email", "sms")},
            "payment_terms_days": 0,
            "status": "active",
        }
        for n in range(count)
    ]
    with app.app_context():
        inserted = insert(Customer).returning(Customer.id, sort_by_parameter_order=True)
        ids = [str(i) for i in db.session.scalars(inserted, rows)]
        db.session.commit()
    return ids


@pytest.mark.parametrize(("every", "rare"), [(2, False), (3, False), (37, True)])
def test_a_fragment_found_anywhere_pages_in_registration_order_common_or_rare(
    app, client, pages, statements, monkeypatch, every, rare
):
    # Windows of a few rows: the page fills from the rows read in registration order,
    # from more rows read at the density seen, or through the trigram index.
    monkeypatch.setattr(search, "FIRST_WINDOW", 8)
    monkeypatch.setattr(search, "LAST_WINDOW", 30)
    ids = _customers(app, 150, lambda n: f"c{n}{'xq7' if n % every == 0 else ''}z@example.com")
    holding = [i for n, i in enumerate(ids) if n % every == 0]
    statements.clear()
    assert pages("xq7", 4) == holding
    assert any("MATERIALIZED" in sql for sql in statements) == rare


def test_each_rank_reads_its_own_index(app, register, find, statements):
    # Enough rows for the planner to prefer an index where one fits; the plans at a
    # million customers are in docs/performance.md.
    _customers(app, 3000, lambda n: f"customer{n}@example.com")
    register(name="Ann de Vries", email="ann@example.com", phone="0612345678")
    register(name="Vries Transport BV", kind="business", email="vries@example.nl")
    with app.app_context(), db.engine.connect() as connection:
        # VACUUM also moves the trigram index's pending entries into the index proper.
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE customers.customers")
        )
        db.engine.dispose()  # new connections: the searches' PREPAREs are sent, and seen, again
    statements.clear()
    find("vries")
    find("ann@example.com")
    find("06 1234 5678")
    plans = []
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SET enable_seqscan = off")  # a few thousand rows: a scan would do
            cursor.execute("DEALLOCATE ALL")
            for sql in statements:
                if sql.startswith("PREPARE"):
                    cursor.execute(sql)  # its EXECUTE is explained: the generic plan, made once
                    continue
                cursor.execute("EXPLAIN " + sql)
                plans += [row[0] for row in cursor.fetchall()]
            connection.rollback()
        finally:
            connection.close()
    used = "\n".join(plans)
    for index in (
        "ix_customers_name_word_1",
        "ix_customers_name_word_2",
        "ix_customers_name_word_3",
        "ix_customers_name_word_4",
        "ix_customers_email_start",
        "ix_customers_search_text_trgm",  # the whole email address, and "vries" elsewhere
        "ix_customers_search_digits",  # the phone number's last seven digits
    ):
        assert index in used, f"no statement reads {index}:\n{used}"


def test_the_databases_digit_grams_are_the_domains(app):
    rng = random.Random(7)
    texts = ["", "12345", "1234", "+31612345678 nl123456789b01", "x470260@y.nl 99999 00000", "\u0663" * 6]
    texts += [
        "".join(rng.choice("0123456789 a+@.\u0663") for _ in range(rng.randint(0, 30))) for _ in range(300)
    ]
    with app.app_context(), db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT t, customers.digit_grams(t) FROM unnest(:texts) AS t"), {"texts": texts}
        )
        assert {t: grams for t, grams in rows} == {t: domain.digit_grams(t) for t in texts}


@pytest.mark.parametrize("q", ["470260", "n470260", "kosterbloemen470260", "info@kosterbloemen470260.nl"])
def test_digits_anywhere_are_found_through_their_grams_and_matched_whole(
    app, find, register, statements, monkeypatch, q
):
    # Rows enough that a fragment none of the first rows hold is looked up in an index.
    monkeypatch.setattr(search, "FIRST_WINDOW", 8)
    _customers(app, 20, lambda n: f"c{n}@example.com")
    holds_it = register(name="Bloemen Koster", email="info@kosterbloemen470260.nl")["id"]
    register(name="Piet Koster", email="info@kosterbloemen470261.nl")  # four of the five grams
    register(name="Jan Koster", email="jan@koster.nl", phone="06 4702 6199")  # 47026 only
    with app.app_context():
        db.engine.dispose()  # new connections: the PREPARE of a rare search is sent, and seen, again
    statements.clear()
    assert find(q) == [holds_it]
    assert any("digit_grams" in sql for sql in statements)


def test_words_anywhere_are_looked_up_one_by_one_and_matched_whole(
    app, find, register, statements, monkeypatch
):
    monkeypatch.setattr(search, "FIRST_WINDOW", 8)
    _customers(app, 20, lambda n: f"c{n}@example.com")
    firm = register(kind="business", name="Garage Noord", contact_person="Koen Bruins", email="a@noord.nl")[
        "id"
    ]
    register(kind="business", name="Bruins Koen BV", contact_person="Ann Smit", email="b@bruins.nl")
    register(name="Koen de Bruin", email="koen@example.com")
    statements.clear()
    assert find("koen bru") == [firm]
    assert any("'%koen%'" in sql and "'%bru%'" in sql for sql in statements)
