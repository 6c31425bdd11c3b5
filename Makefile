# Quick start: `make demo` runs the dashboard against the bundled sandbox; `make test` runs every test.

VENV := .venv
PYTHON := $(VENV)/bin/python
# Python 3.12 or newer: the first interpreter on this list that runs and is new enough.
PYTHON_CANDIDATES := python3.13 python3.12 python3 \
	$(wildcard /root/.pyenv/versions/3.1[2-9]*/bin/python3 $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3) \
	/usr/bin/python3.13 /usr/bin/python3.12 /usr/local/bin/python3.13 /usr/local/bin/python3.12
DEMO_ENV := DJANGO_DEBUG=true DATABASE_URL=sqlite:///var/demo.sqlite3 CACHE_SHARED=true

.PHONY: demo test lint browser clean soak bench

# Soak test: moderators, injected faults and votes against gunicorn. Writes benchmarks/SOAK.md.
SOAK_SECONDS ?= 180

demo: $(VENV)/.installed
	@mkdir -p var
	$(DEMO_ENV) $(PYTHON) manage.py demo

test: $(VENV)/.installed browser
	$(PYTHON) -m pytest

soak: $(VENV)/.installed
	$(PYTHON) -m pip install --quiet -r benchmarks/requirements.txt
	$(PYTHON) benchmarks/soak.py --seconds $(SOAK_SECONDS) $(SOAK_ARGS)

# Benchmark against the performance targets, about 5 minutes. Writes benchmarks/RESULTS.md.
bench: $(VENV)/.installed browser
	$(PYTHON) -m pip install --quiet -r benchmarks/requirements.txt
	$(PYTHON) benchmarks/bench.py $(BENCH_ARGS)

lint: $(VENV)/.installed
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

$(VENV)/.installed: pyproject.toml
	@python=""; \
	for candidate in $(PYTHON_CANDIDATES); do \
		if "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
			python="$$candidate"; break; \
		fi; \
	done; \
	if [ -z "$$python" ]; then \
		echo "No Python 3.12 or newer found. Looked for: $(PYTHON_CANDIDATES)" >&2; \
		echo "Install one (for example Debian's python3.12 package) and run make again." >&2; \
		exit 1; \
	fi; \
	if [ ! -x $(PYTHON) ] || ! $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then \
		echo "Creating $(VENV) with $$python"; \
		rm -rf $(VENV); "$$python" -m venv $(VENV) || exit 1; \
	fi
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet '.[test]'
	@touch $@

# The browser tests drive Debian's Chromium; Playwright's own browser download cannot work offline.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium package for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	}

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
