"""The OpenAPI schema documents what the API answers, and its pages work offline."""

from __future__ import annotations

ERRORS = ("404", "409", "413", "422", "429", "503")
ERROR_REF = "#/components/schemas/ErrorBody"


def _v1_operations(schema):
    for path, methods in schema["paths"].items():
        if path.startswith("/v1"):
            for method, operation in methods.items():
                yield f"{method.upper()} {path}", operation


def test_every_v1_route_documents_its_errors_with_the_one_error_body(client):
    schema = client.get("/openapi.json").json()
    for label, operation in _v1_operations(schema):
        for status in ERRORS:
            answer = operation["responses"].get(status)
            assert answer is not None, f"{label} does not document {status}"
            assert answer["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (label, status)
    assert set(schema["components"]["schemas"]["ErrorBody"]["properties"]) == {"message", "field", "detail"}


def test_bearer_scheme_and_401_only_where_keys_are_configured(client, keyed_client):
    open_schema = client.get("/openapi.json").json()
    assert "securitySchemes" not in open_schema.get("components", {})
    assert all("401" not in operation["responses"] for _, operation in _v1_operations(open_schema))
    keyed = keyed_client.get("/openapi.json").json()
    assert keyed["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": keyed["components"]["securitySchemes"]["HTTPBearer"]["description"],
    }
    for label, operation in _v1_operations(keyed):
        assert operation.get("security") == [{"HTTPBearer": []}], label
        assert operation["responses"]["401"]["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, label


def test_typed_answers_for_jobs_analyses_and_probes(client):
    paths = client.get("/openapi.json").json()["paths"]

    def ref(path: str, method: str, status: str) -> str:
        return paths[path][method]["responses"][status]["content"]["application/json"]["schema"].get("$ref", "")

    assert ref("/v1/experiments/{job_id}", "get", "200").endswith("/ExperimentPublic")
    assert ref("/v1/simulations/{job_id}", "get", "200").endswith("/SimulationPublic")
    assert ref("/v1/experiments/{job_id}/analysis", "get", "200").endswith("/ExperimentAnalysis")
    assert ref("/v1/sweeps/{sweep_id}/analysis", "get", "200").endswith("/SweepAnalysis")
    assert ref("/healthz", "get", "200").endswith("/Health")
    assert ref("/readyz", "get", "503").endswith("/Readiness")


def test_every_error_answer_has_the_one_shape(client, sent):
    answers = [
        client.get("/v1/experiments/0123456789abcdef"),  # a domain 404
        client.get("/v1/no-such-route"),  # Starlette's 404
        client.put("/v1/experiments"),  # Starlette's 405
        client.post("/v1/experiments", json={"training": {"iterations": 0}}),  # validation 422
        client.post("/v1/experiments", content=b"\x80", headers={"Content-Type": "application/json"}),  # 400
    ]
    for answer in answers:
        assert set(answer.json()) == {"message", "field", "detail"}, answer.text
    assert answers[2].status_code == 405 and "allow" in answers[2].headers
    assert answers[3].json()["field"] == "training.iterations"


def test_docs_pages_load_their_assets_from_the_gateway_not_a_cdn(client):
    for page, assets in (("/docs", ("swagger-ui-bundle.js", "swagger-ui.css")), ("/redoc", ("redoc.standalone.js",))):
        html = client.get(page).text
        assert "cdn" not in html.lower() and "fonts.googleapis" not in html, page
        for asset in assets:
            assert f"/docs-assets/{asset}" in html
            answer = client.get(f"/docs-assets/{asset}")
            assert answer.status_code == 200 and len(answer.content) > 100_000, asset


def test_every_request_body_has_an_example_and_every_field_a_description(client):
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]

    def has_example(media: dict) -> bool:
        if "example" in media or "examples" in media:
            return True
        body = media.get("schema", {})
        refs = [body.get("$ref", "")] + [
            option.get("$ref", "") for option in body.get("anyOf", [])
        ]  # an optional body: anyOf [model, null]
        return any("examples" in components.get(ref.rsplit("/", 1)[-1], {}) for ref in refs if ref)

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for media_type, media in (operation.get("requestBody") or {}).get("content", {}).items():
                assert has_example(media), f"{method.upper()} {path} ({media_type}) has no example"
    undescribed = [
        f"{name}.{field}"
        for name, component in components.items()
        for field, prop in (component.get("properties") or {}).items()
        if "description" not in prop
    ]
    assert undescribed == []
