# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
PYTHON  ?= python3
DEBS    := socat iperf3 iproute2 procps iputils-ping tinyproxy dante-server openssl
STAMP   := $(VENV)/.installed

.PHONY: all demo test test-fast bench peer-suite clean debs

all: test

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml setup.py pysocat/transfer/_pump.c
	$(PIP) install -q --upgrade pip >/dev/null 2>&1 || true
	$(PIP) install -q -e '.[test]' --config-settings editable_mode=compat
	touch $(STAMP)

# As root, install the Debian packages the tests and benchmarks compare against. The proxy
# servers (tinyproxy, dante) are only run by the tests, on loopback: policy-rc.d keeps the
# packages from starting their system services while they are installed.
debs:
	@if [ "$$(id -u)" = 0 ]; then \
	  missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then \
	    echo "installing Debian packages:$$missing"; \
	    guard=; if [ ! -e /usr/sbin/policy-rc.d ]; then guard=1; printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; \
	      chmod +x /usr/sbin/policy-rc.d; fi; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null \
	      || echo "warning: could not install$$missing; tests that need them will skip"; \
	    [ -z "$$guard" ] || rm -f /usr/sbin/policy-rc.d; \
	    if [ -d /run/systemd/system ]; then systemctl disable --now tinyproxy danted >/dev/null 2>&1 || true; fi; \
	  fi; \
	else echo "not root: not installing Debian packages ($(DEBS)); tests that need them will skip"; fi

test: $(STAMP) debs
	$(PY) -m pytest -q -p no:cacheprovider tests

demo: $(STAMP) debs
	$(PY) bench/demo.py

bench: $(STAMP) debs
	@for b in bench/[a-z]*.py; do [ "$$b" = bench/demo.py ] && continue; echo "== $$b"; $(PY) $$b || exit 1; done

# socat's own test suite against pysocat, inside a fresh network namespace (root only; about
# 30 minutes). Debian's test.sh is socat 1.7.4.4's, so pysocat runs with PYSOCAT_COMPAT=1.7
# (its -h, -V and behaviour as 1.7.4.4's); the log goes to compat/peer-suite.log, and
# `python -m compat.scorecard compat/peer-suite.log` summarises it for compat/SCORECARD.md.
peer-suite: $(STAMP) debs
	PYSOCAT_COMPAT=1.7 PATH=$(CURDIR)/$(VENV)/bin:$$PATH ../shared/tools/peer-suite | tee compat/peer-suite.log

clean:
	rm -rf $(VENV) build *.egg-info
