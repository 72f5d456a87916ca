def test_registers_and_reads_back_a_customer(client, auth_headers):
    headers = auth_headers("advisor")
    created = client.post(
        "/api/v1/customers",
        json={"kind": "person", "name": "Ann de Vries", "email": "ann@example.com"},
        headers=headers,
    )
    assert created.status_code == 201
    fetched = client.get(created.headers["Location"], headers=headers)
    assert fetched.status_code == 200
    assert fetched.get_json()["email"] == "ann@example.com"
