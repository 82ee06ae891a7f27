# Two commands for a newcomer: `make demo` and `make test`. Both bootstrap everything first.
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: bootstrap test demo lint bench clean-venv

bootstrap:
	@bash scripts/bootstrap.sh

test: bootstrap
	$(PY) -m ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

demo: bootstrap
	$(PY) -m edge.simulate

lint:
	$(PY) -m ruff check .

bench: bootstrap
	$(PY) -m bench all

clean-venv:
	rm -rf .venv
