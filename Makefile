# Funnel: `make run` to try it, `make test` to check it.
# DATABASE_URL / REDIS_URL switch the embedded SQLite + filesystem broker to PostgreSQL + Redis.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format install migrate demo web worker bench clean check-deploy

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q --upgrade pip
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

install: $(VENV)/.installed

var:
	mkdir -p var

migrate: install var
	$(BIN)/python manage.py migrate --no-input -v0

demo: migrate
	$(BIN)/python manage.py seed_demo

# Web server, Celery worker and beat together; Ctrl-C stops all of them.
run: demo
	@echo "Funnel at http://$(HOST):$(PORT)/  (Ctrl-C stops web, worker and beat)"
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/celery -A funnelapp worker --beat --loglevel=INFO --concurrency=2 \
	    --schedule=var/celerybeat-schedule & \
	$(BIN)/python manage.py runserver $(HOST):$(PORT) & \
	wait

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run -v0
	$(BIN)/pytest -m "not browser"
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/pytest -m browser tests/browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-deploy: install
	DEBUG=0 SECRET_KEY=$$(head -c 48 /dev/urandom | base64) DATABASE_URL=$${DATABASE_URL:-sqlite:///var/deploy-check.sqlite3} \
	    ALLOWED_HOSTS=funnel.example.com $(BIN)/python manage.py check --deploy --fail-level WARNING

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var staticfiles
