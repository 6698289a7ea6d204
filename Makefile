# credflow: `make run` sets up and serves the demo; `make test` sets up and runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# System packages: CJK fonts and HarfBuzz subsetting for the PDFs, poppler for checking them.
RUN_PACKAGES  = fonts-noto-cjk libharfbuzz-subset0
# Chromium (Debian's) runs the browser tests through Playwright; no browser is downloaded.
# faketime moves the clock for .ci/run's second pass over the `date_sensitive` tests.
TEST_PACKAGES = $(RUN_PACKAGES) poppler-utils chromium faketime
HOST ?= 127.0.0.1
PORT ?= 5000
# the address printed on documents and in their QR codes: the demo's own, unless one is set
CREDFLOW_PUBLIC_URL ?= http://$(HOST):$(PORT)

.PHONY: run test setup setup-test system-packages system-packages-test db clean

# One line per step (set-up when it runs, database, processes, demo logins, the address served);
# INFO logs (Alembic, WeasyPrint, fontTools, each request) go to credflow.log in the instance folder.
run: setup system-packages db
	@CREDFLOW_PUBLIC_URL=$(CREDFLOW_PUBLIC_URL) $(BIN)/credflow demo
	@CREDFLOW_PUBLIC_URL=$(CREDFLOW_PUBLIC_URL) $(BIN)/credflow serve --host $(HOST) --port $(PORT)

test: setup-test system-packages-test
	$(BIN)/pytest -q

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test

$(VENV)/.installed: pyproject.toml $(wildcard webapp/translations/*/LC_MESSAGES/messages.po)
	@echo "setting up: $(VENV) with credflow and its Python packages"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q -e .
	@test ! -d webapp/translations || $(BIN)/pybabel -q compile -d webapp/translations
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

system-packages:
	@sh scripts/system-packages.sh $(RUN_PACKAGES)

system-packages-test:
	@sh scripts/system-packages.sh $(TEST_PACKAGES)

db: setup
	@$(BIN)/credflow init-db
	@$(BIN)/credflow deploy

clean:
	rm -rf $(VENV) instance *.egg-info
