# Thin: every target calls a script in infra/. See README.md.
.PHONY: dev test lint bench bootstrap clean

dev:
	@infra/dev.sh

test:
	@infra/test.sh

lint:
	@infra/lint.sh

bench:
	@infra/bench.sh

bootstrap:
	@infra/bootstrap.sh

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache
