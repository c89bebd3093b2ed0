# Plaint: `make run` serves the app, `make test` runs every test. Both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := static/vendor/.copied
STUDIO := static/vendor/studio/studio.js
STUDIO_SOURCES := $(wildcard static/js/studio/*.js static/js/studio/*.json)
CATALOGS := $(patsubst %.po,%.mo,$(wildcard server/translations/*/LC_MESSAGES/messages.po))
export FLASK_APP := server

.PHONY: setup run test bench soak lint clean translations

setup: $(STAMP) $(VENDOR) $(STUDIO) $(CATALOGS)
	@$(BIN)/flask init-db --demo

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(VENDOR): static/package.json static/package-lock.json
	cd static && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor/bootstrap
	cp static/node_modules/bootstrap/dist/css/bootstrap.min.css \
	   static/node_modules/bootstrap/dist/css/bootstrap.rtl.min.css \
	   static/node_modules/bootstrap/dist/js/bootstrap.bundle.min.js static/vendor/bootstrap/
	mkdir -p static/vendor/htmx
	cp static/node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx/
	mkdir -p static/vendor/chartjs
	cp static/node_modules/chart.js/dist/chart.umd.min.js static/vendor/chartjs/
	mkdir -p static/vendor/swagger-ui
	cp static/node_modules/swagger-ui-dist/swagger-ui-bundle.js \
	   static/node_modules/swagger-ui-dist/swagger-ui.css static/vendor/swagger-ui/
	touch $@

# The process editor: our ES modules bundled with bpmn-js, dmn-js and the properties panel,
# plus their style sheets and fonts. Rebuilt when a source or the npm packages change.
$(STUDIO): $(VENDOR) $(STUDIO_SOURCES)
	mkdir -p static/vendor/studio/bpmn-js static/vendor/studio/dmn-js static/vendor/studio/properties-panel
	cp -R static/node_modules/bpmn-js/dist/assets/. static/vendor/studio/bpmn-js/
	cp -R static/node_modules/dmn-js/dist/assets/. static/vendor/studio/dmn-js/
	cp static/node_modules/@bpmn-io/properties-panel/dist/assets/properties-panel.css \
	   static/vendor/studio/properties-panel/
	cd static && node_modules/.bin/esbuild js/studio/main.js --bundle --format=iife --minify \
	   --sourcemap --target=es2020 --log-level=warning --outfile=vendor/studio/studio.js

# The translations, compiled from the catalogs people edit (the .mo files are not committed).
%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

# After changing user-facing strings: collect them and add the new ones to each catalog.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	   --project=Plaint -o server/translations/messages.pot .
	$(BIN)/pybabel update -i server/translations/messages.pot -d server/translations \
	   --no-fuzzy-matching --ignore-obsolete

run: setup
	@echo "Plaint is at http://127.0.0.1:5000 - sign in with an account printed above"
	@echo "(first run only; 'flask --app server reset-password handler' sets a new one)."
	PLAINT_SCHEDULER=$${PLAINT_SCHEDULER:-in-app} $(BIN)/flask run --host 127.0.0.1 --port 5000

test: setup
	TZ=UTC $(BIN)/python -m pytest --flow-coverage-min=100 $(PYTEST_ARGS)

bench: $(STAMP)
	TZ=UTC $(BIN)/python -m tests.bench

# The production recipe (PostgreSQL, gunicorn, schedulers, deliverer) worked while its
# processes are killed; PLAINT_SOAK_SECONDS long (default 180). Needs PostgreSQL binaries.
soak: $(STAMP)
	TZ=UTC $(BIN)/python -m tests.support.soak

lint: $(STAMP)
	$(BIN)/ruff check server tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) static/vendor static/node_modules instance .pytest_cache
	rm -f server/translations/*/LC_MESSAGES/*.mo
