# Developer shortcuts.  CI runs .ci/run (the README's test command).
PY ?= python3

.PHONY: build debug test bench annotate lint stubs clean

build:            ## compile the extensions in place
	$(PY) setup.py build_ext --inplace

debug:            ## bounds checks + C invariant checks + annotated HTML
	RTMCORE_DEBUG=1 $(PY) setup.py build_ext --inplace --force

test: build       ## the test suite against the in-place build
	$(PY) -m pytest

bench: build      ## the pytest-benchmark suites (not part of the tests)
	$(PY) -m pytest benchmarks --benchmark-only --benchmark-autosave

annotate:         ## cython -a: yellow lines in inner loops mean Python interaction
	cython -3 -a rtmcore/_core.pyx rtmcore/_io.pyx

lint:
	ruff check rtmcore tests benchmarks

clean:
	rm -rf build *.egg-info rtmcore/*.c rtmcore/*.so rtmcore/*.html .venv
