"""The REST API (FastAPI): parse, authenticate, authorize, call core_app.service_layer, map
errors. `create_api(app)` builds it; `dentops api` serves it on 127.0.0.1."""
