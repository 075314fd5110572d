# The README's commands. Everything runs inside .venv, made on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?=

.PHONY: install demo serve test lint bench reliability

$(BIN)/flask: requirements.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

install: $(BIN)/flask

test: install
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

PORT ?= 5000

# A fresh SQLite database of demo data, gunicorn on 127.0.0.1:$(PORT), every
# route called once with a signed request; the server then stays up (Ctrl-C).
demo: install
	$(BIN)/python -m demo --port $(PORT)

# The service on 127.0.0.1:$(PORT) with the configuration in .env.
serve: install
	$(BIN)/flask --app app db migrate
	$(BIN)/gunicorn "app:create_app()" --config gunicorn.conf.py --bind 127.0.0.1:$(PORT)

# Chain-scale benchmarks on the local PostgreSQL (about 10 minutes), by hand.
bench: install
	$(BIN)/python -m bench

# The whole reliability run on the local PostgreSQL, by hand.
reliability: install
	$(BIN)/python -m reliability
