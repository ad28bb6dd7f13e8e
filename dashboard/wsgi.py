"""WSGI entry point for gunicorn: `gunicorn -c python:dashboard.gunicorn_conf dashboard.wsgi:server`."""

from dashboard.app import create_app

server = create_app().server
