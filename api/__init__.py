"""The ops REST API under ``/api/v1`` on the web app's Flask server (docs/api.md): typed request
and response models (pydantic) generate its OpenAPI document (spectree)."""
