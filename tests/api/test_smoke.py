from tests.api.world import World


def test_me_and_a_booking(world: World) -> None:
    c = world.client
    r = c.get("/v1/auth/me", headers=world.headers("front_desk@a"))
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "front_desk"
    ids = world.clinics["a"]
    start = world.slot("a", "future")
    r = c.post(
        "/v1/appointments",
        headers=world.headers("scheduler@a") | {"Idempotency-Key": "smoke-key-1"},
        json={
            "patient_id": ids.patient_ids[0],
            "provider_id": ids.dentist_id,
            "chair_id": ids.chair_ids[1],
            "start_at": start.isoformat(),
            "procedure_codes": ["D0120"],
        },
    )
    assert r.status_code == 201, r.text
    assert "x-request-id" in r.headers
    print(r.json())
