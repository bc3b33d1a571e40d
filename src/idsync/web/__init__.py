"""The administrators' web UI served by ``idsync serve``: server-rendered pages (Jinja2, with
htmx vendored in ``static/``) over the same administration operations the command line calls.
``app.install_ui`` adds it to the service's Starlette application."""
