# Atrium operator commands. `make` (or `make help`) lists them. Each is a thin line over a script in
# infra/scripts/, which install what they need on a fresh machine.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
.DEFAULT_GOAL := help
SCRIPTS := infra/scripts
UV := uv run --frozen --quiet
MANAGE := cd backend && $(UV) python manage.py
WITH_SERVICES := source $(SCRIPTS)/env.sh &&

ORG ?= demo
FILE ?=
CONFIRM ?=
EMAIL ?=
ROLE ?=
NAME ?=

ARGS ?=
# `make image GRAPHS=path/to/langgraph.json` (and `make up GRAPHS=...`): the image serves that project.
GRAPHS ?=
ifneq ($(GRAPHS),)
export ATRIUM_PROJECT_DIR := $(abspath $(dir $(GRAPHS)))
export ATRIUM_PROJECT_GRAPHS := /app/project/$(notdir $(GRAPHS))
endif
# web/worker/beat run in backend/: a relative path to the project's langgraph.json is made absolute here.
ifdef ATRIUM_GRAPHS
override ATRIUM_GRAPHS := $(abspath $(ATRIUM_GRAPHS))
export ATRIUM_GRAPHS
endif

.PHONY: help install dev test bench bench-compare bench-scale bench-inflight lint fmt typecheck migrate superuser apikey worker beat web services \
        services-stop services-status frontend up down logs ps backup restore rotate-keys image test-sandbox-image

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: ## Install Python and npm dependencies (uv, Debian packages when missing)
	@bash $(SCRIPTS)/install.sh

dev: ## Run the whole platform (web, worker, beat, Postgres, Redis) until Ctrl-C
	@bash $(SCRIPTS)/dev.sh

test: ## Run every check and test suite against throwaway Postgres and Redis
	@bash $(SCRIPTS)/test.sh

bench: ## Benchmark the hot paths through the official SDK; prints one JSON line (ARGS=--quick)
	@bash $(SCRIPTS)/bench.sh $(ARGS)

bench-compare: ## The same benchmark against langgraph dev, with our/their ratios
	@bash $(SCRIPTS)/bench-compare.sh $(ARGS)

bench-scale: ## Runs/s with 1, 2, 4 worker processes and streams across web processes (ARGS=--quick)
	@bash $(SCRIPTS)/bench-scale.sh $(ARGS)

bench-inflight: ## I/O-bound runs held at once, 16-1024 clients, vs langgraph dev (ARGS=--quick | "--long 2000")
	@bash $(SCRIPTS)/bench-inflight.sh $(ARGS)

lint: install ## ruff, eslint
	@$(UV) ruff check backend agents && $(UV) ruff format --check backend agents
	@cd frontend && npm run --silent lint

fmt: install ## Format Python (ruff) and fix what ruff can
	@$(UV) ruff format backend agents && $(UV) ruff check --fix backend agents

typecheck: install ## mypy (backend, agents) and tsc (frontend)
	@$(UV) mypy backend && $(UV) mypy --config-file agents/pyproject.toml agents/src
	@cd frontend && npm run --silent typecheck

migrate: install ## Apply database migrations
	@$(WITH_SERVICES) $(MANAGE) migrate

superuser: install ## Create a Django superuser (interactive)
	@$(WITH_SERVICES) $(MANAGE) createsuperuser

apikey: install ## Print a new API key: make apikey ORG=demo EMAIL=alice@demo.local ROLE=builder
	@test -n "$(EMAIL)" || { echo "usage: make apikey ORG=demo EMAIL=alice@demo.local [ROLE=builder] [NAME=label]" >&2; exit 2; }
	@$(WITH_SERVICES) $(MANAGE) create_api_key --org "$(ORG)" --email "$(EMAIL)" $(if $(ROLE),--role "$(ROLE)") $(if $(NAME),--name "$(NAME)")

rotate-keys: install ## Re-wrap every stored secret under the first ATRIUM_VAULT_KEYS key (ARGS=--dry-run)
	@$(WITH_SERVICES) $(MANAGE) rotate_vault_keys $(ARGS)

web: install ## Run only the ASGI server
	@$(WITH_SERVICES) cd backend && $(UV) uvicorn config.asgi:application --host 127.0.0.1 --port $${ATRIUM_PORT:-8000} --timeout-graceful-shutdown 5

worker: install ## Run only a Celery worker (run it several times to scale out: each gets its own name)
	@$(WITH_SERVICES) cd backend && $(UV) celery -A config worker -l INFO -Q $${ATRIUM_WORKER_QUEUES:-default,runs,webhooks} --pool threads --concurrency $${ATRIUM_WORKER_CONCURRENCY:-8} -n "worker-$$$$@%h"

beat: install ## Run only Celery beat
	@$(WITH_SERVICES) cd backend && $(UV) celery -A config beat -l INFO -s ../.data/celerybeat-schedule

services: ## Start the local Postgres and Redis (in .data/)
	@bash $(SCRIPTS)/services.sh start >/dev/null && bash $(SCRIPTS)/services.sh status

services-stop: ## Stop the local Postgres and Redis
	@bash $(SCRIPTS)/services.sh stop

services-status: ## Show whether the local Postgres and Redis run
	@bash $(SCRIPTS)/services.sh status

frontend: install ## Build the web app into frontend/dist
	@bash $(SCRIPTS)/frontend-build.sh

backup: ## Dump Postgres (DATABASE_URL or the local stack) to backups/ (or FILE=path)
	@bash $(SCRIPTS)/backup.sh backup $(FILE)

restore: ## Replace the database's data with a backup: make restore FILE=backups/x.dump [CONFIRM=yes]
	@ATRIUM_RESTORE_CONFIRM=$(CONFIRM) bash $(SCRIPTS)/backup.sh restore "$(FILE)"

image: ## Build the backend image (IMAGE=atrium-backend:local); GRAPHS=path/to/langgraph.json bakes that project in
	@docker build -f infra/docker/backend.Dockerfile -t "$(or $(IMAGE),atrium-backend:local)" \
	  --build-context project="$(or $(ATRIUM_PROJECT_DIR),infra/docker/no-project)" \
	  --build-arg ATRIUM_GRAPHS="$(or $(ATRIUM_PROJECT_GRAPHS),/app/agents/langgraph.json)" .

test-sandbox-image: ## The sandbox suite inside the backend image, started like compose's worker (needs a Docker engine)
	@ATRIUM_TEST_SANDBOX_IMAGE=1 $(UV) pytest -q -rs -p no:cacheprovider infra/tests/test_sandbox_in_image.py

up: ## Build and start the Docker Compose stack, wait until healthy (writes .env with random secrets once)
	@bash $(SCRIPTS)/compose.sh up $(ARGS)

down: ## Stop the Compose stack (data volumes stay; ARGS=-v deletes them)
	@bash $(SCRIPTS)/compose.sh down $(ARGS)

logs: ## Follow the Compose logs (ARGS=web for one service)
	@bash $(SCRIPTS)/compose.sh logs $(ARGS)

ps: ## List the Compose services and their health
	@bash $(SCRIPTS)/compose.sh ps $(ARGS)
