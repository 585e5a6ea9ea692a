"""The web pages: Jinja2 templates rendered as shells, filled in the browser by
``static/podium.js`` from the JSON API with the token kept in localStorage."""
