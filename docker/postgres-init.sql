-- Airflow's metadata lives in its own database next to the warehouse (same server, same owner):
-- `airflow db migrate` and the warehouse migrations never touch each other's tables.
CREATE DATABASE airflow;
