# `make run` and `make test` work on a fresh machine with only Python 3.11+ and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PO     := $(wildcard locales/*/LC_MESSAGES/messages.po)
MO     := $(PO:.po=.mo)

.PHONY: run chat sandbox test lint format translations translations-update bench clean

run: $(VENV)/.installed $(MO)
	$(BIN)/exchanger-bot run

chat: $(VENV)/.installed $(MO)
	$(BIN)/exchanger-bot chat

sandbox: $(VENV)/.installed
	$(BIN)/exchanger-bot sandbox

test: $(VENV)/.installed-dev $(MO)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(VENV)/.created:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	@touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.created
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# Compiled translations (.mo) are build output, not committed.
translations: $(MO)

# The bot compiles stale catalogues itself at start-up too; this is the same function.
locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/python -c "from bot.i18n import ensure_compiled; ensure_compiled()"

# After changing user-facing strings: re-extract and merge into every .po, then translate.
translations-update: $(VENV)/.installed
	$(BIN)/pybabel extract --no-location --sort-output -k _ -k __ -k N_ \
		-o locales/messages.pot bot handlers
	$(BIN)/pybabel update --no-fuzzy-matching -d locales -D messages -i locales/messages.pot

bench: $(VENV)/.installed-dev $(MO)
	@for script in bench/*.py; do $(BIN)/python "$$script" || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache locales/*/LC_MESSAGES/*.mo
