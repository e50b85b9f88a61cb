"""Each module has ``pages`` (HTML, left out of the OpenAPI document) and ``api`` (JSON under
``/api/v1``); a page and its JSON twin call the same service function."""
