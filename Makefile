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
