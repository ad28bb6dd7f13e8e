"""Extract, validate, transform and load. The same functions run from the CLI and from Airflow."""
