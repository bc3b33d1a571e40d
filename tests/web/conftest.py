from tests.harness.browser import browser, ui_factory
from tests.harness.commands import serve_factory, small_workspace

__all__ = ["browser", "serve_factory", "small_workspace", "ui_factory"]
