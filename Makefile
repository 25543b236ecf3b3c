# clearslate: the two commands of the quick start are `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := demo

.PHONY: install demo test lint format bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,web,illinois,spark]'
	touch $(STAMP)

install: $(STAMP)

# Generate a synthetic Los Angeles research file, decide it, and explain one person.
demo: $(STAMP)
	mkdir -p $(DEMO)
	$(BIN)/clearslate generate --county "LOS ANGELES" --rows 50000 --seed 2016 --output $(DEMO)/research_file.csv --force
	$(BIN)/clearslate run --input-doj $(DEMO)/research_file.csv --county "LOS ANGELES" \
		--compute-at 2020-07-01 --policy dismiss-all --outputs $(DEMO)/results --force
	$(BIN)/clearslate explain --input-doj $(DEMO)/research_file.csv --county "LOS ANGELES" \
		--compute-at 2020-07-01 --policy dismiss-all \
		--subject $$(sed -n 2p $(DEMO)/research_file.csv | cut -d, -f3)
	$(BIN)/clearslate generate-addresses $(DEMO)/results --output $(DEMO)/addresses.csv --seed 2016 --force
	$(BIN)/clearslate documents $(DEMO)/results --out $(DEMO)/documents \
		--addresses $(DEMO)/addresses.csv --office examples/office.yaml --date 2020-07-01 --force
	# Illinois: synthetic court and state-police exports, people linked, decided by Cook County's policy.
	$(BIN)/clearslate illinois generate --people 2000 --seed 2019 --out $(DEMO)/illinois
	$(BIN)/clearslate run --jurisdiction il --court-export $(DEMO)/illinois/court_export.csv \
		--isp-export $(DEMO)/illinois/isp_export.csv --policy cook-county --compute-at 2020-07-01 \
		--outputs $(DEMO)/illinois/results --force
	$(BIN)/clearslate documents $(DEMO)/illinois/results --out $(DEMO)/illinois/documents \
		--office examples/office_il.yaml --date 2020-07-01 --force
	@echo
	@echo "Impact report: $(DEMO)/results/report.html (and report.pdf)"
	@echo "Results:       $(DEMO)/results (determinations.csv, summary.json, gogen bundle, errors.csv)"
	@echo "Documents:     $(DEMO)/documents (motions, orders, exhibits, letters, mailing manifest)"
	@echo "Illinois:      $(DEMO)/illinois/results (determinations, batch plan, report; documents/)"

test: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard bench) $(wildcard fuzz)
	$(BIN)/ruff format --check src tests $(wildcard bench) $(wildcard fuzz)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard bench) $(wildcard fuzz)

format: $(STAMP)
	$(BIN)/ruff format src tests $(wildcard bench) $(wildcard fuzz)
	$(BIN)/ruff check --fix src tests $(wildcard bench) $(wildcard fuzz)

bench: $(STAMP)
	$(BIN)/python bench/run_bench.py

clean:
	rm -rf $(VENV) $(DEMO) build *.egg-info src/*.egg-info
