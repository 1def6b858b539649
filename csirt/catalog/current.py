"""The app's catalog: built once in ``create_app`` from ``CSIRT_PLAYBOOKS_PATH``.

The loaders in this package are pure; this module is the one place that binds a catalog to a
Flask app, so views and jobs reach the same catalog that the services are given.
"""

from __future__ import annotations

from flask import Flask, current_app

from csirt.catalog.catalog import Catalog, load_catalog

EXTENSION = "csirt.catalog"


def init_app(app: Flask) -> Catalog:
    """Load the configured playbooks folder (PlaybookError stops the app) and keep it."""
    catalog = load_catalog(app.config["CSIRT"].playbooks_path)
    app.extensions[EXTENSION] = catalog
    return catalog


def current_catalog(app: Flask | None = None) -> Catalog:
    """The catalog of ``app`` (default: the current app)."""
    catalog: Catalog = (app or current_app).extensions[EXTENSION]
    return catalog
