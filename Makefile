# `make run` and `make test` work on a fresh machine with only Python 3.11+ and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PO     := $(wildcard locales/*/LC_MESSAGES/messages.po)
MO     := $(PO:.po=.mo)

.PHONY: run chat sandbox test lint format translations translations-update bench lock clean

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

# Exact versions from the lock files (what CI and the Docker image install too), then the project itself.
$(VENV)/.installed: pyproject.toml requirements.lock $(VENV)/.created
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml requirements-dev.lock $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	@touch $@

# After changing dependencies in pyproject.toml: resolve them afresh and pin the result.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check .
	echo '# Exact versions the bot runs with (Makefile, Docker image); regenerate with `make lock`.' > requirements.lock
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^exchanger-bot' >> requirements.lock
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check '.[dev]'
	echo '# Exact versions for `make test` and CI (runtime + dev tools); regenerate with `make lock`.' > requirements-dev.lock
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^exchanger-bot' >> requirements-dev.lock
	rm -rf .lock-venv

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
