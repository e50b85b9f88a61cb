"""The web app: dashboard, partner pages, partner portal and REST API over computed runs.

``create_app(workspace)`` builds the FastAPI application; ``partnerscope serve`` runs it with
uvicorn. Pages and their JSON twins under ``/api/v1`` are built from the same service
functions, read a finished run (never the warehouse while it is being loaded) and never
compute a metric per request.
"""

from partnerscope.web.app import create_app

__all__ = ["create_app"]
