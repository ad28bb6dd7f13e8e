"""gunicorn settings for the dashboard: `gunicorn -c python:dashboard.gunicorn_conf dashboard.wsgi:server`."""


def post_worker_init(worker: object) -> None:
    from dashboard import warmup

    warmup.start()
