# The two commands of the README, plus a few conveniences.
.PHONY: demo test setup up down lint format bench

demo: setup        ## set up, bring up Kafka + Redis, start the worker, replay real appeals, report
	.venv/bin/hotline demo

test:              ## lint + unit and integration tests against the real Kafka and Redis
	scripts/test

setup:
	scripts/setup

up: setup
	.venv/bin/hotline stack up

down:
	.venv/bin/hotline stack down

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

bench: setup
	.venv/bin/python bench/intake_throughput.py
