"""The package version, in a leaf module so that any module can import it without a cycle."""

__version__ = "0.1.0"

#: The project's home; pyproject.toml's [project.urls] says the same (a test holds them equal).
HOMEPAGE = "https://github.com/vitalyst/vitalyst-render"
#: docs/ as the forge shows it: help links (SARIF helpUri, render explain) point here.
DOCS_URL = f"{HOMEPAGE}/blob/main/docs"
